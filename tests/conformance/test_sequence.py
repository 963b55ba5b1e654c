"""RFC 7011 section 3.1 (Sequence Number) and 10.3.2/10.4: sequence numbers count the data
records sent before a message, per transport session and observation domain, modulo 2^32.

Each case uses its own observation domains; the last case stops ipfixd and checks the
per-domain lines of its shutdown summary.
"""
import ipfix
from conf import (PROBE, Exporter, Ixd, mark, opt_set, plus, shared, small_set, tmpl, tmpl_set,
                  test_clean_shutdown, main)

IXD = shared(lambda: Ixd(workers=2))
TID = 256
# what each case expects in the shutdown lines: odid -> {counter: value}
PER_DOMAIN = {}


def run_case(sends, collector="u", n_records=None, **expect):
    """sends: list of (odid, seq, number of records); the first message of each domain also
    carries the template. Returns the exporter (still open)."""
    x = IXD()
    e = Exporter(x, collector)
    before = x.stats()
    seen, ks = set(), []
    for odid, seq, n in sends:
        sets = []
        if odid not in seen:
            sets.append(tmpl_set(tmpl(TID, ipfix.SMALL_FIELDS)))
            seen.add(odid)
        batch = [mark() for _ in range(n)]
        ks += batch
        if n:
            sets.append(small_set(TID, batch))
        e.send(*sets, seq=seq, odid=odid, records=n)
    x.wait_records(lambda r: r.get("octetDeltaCount") in set(ks), n=len(ks))
    e.probe()
    e.finish()
    x.expect(before, collector, **plus(PROBE, messages=len(sends), templates=len(seen),
                                       records=len(ks), **expect))
    return e


def test_3_1_sequence_gap_counts_lost_records():
    """RFC 7011 3.1: seq 0 (5 records), 5 (5), 15 (5): 5 records were lost."""
    run_case([(21, 0, 5), (21, 5, 5), (21, 15, 5)], seq_lost=5)
    PER_DOMAIN[21] = {"seq_lost": 5, "records": 15}


def test_3_1_sequence_wraps_at_2_pow_32():
    """RFC 7011 3.1: the sequence number is modulo 2^32: 2^32-3 (5 records) is followed by 2,
    which is not a loss nor a reset."""
    run_case([(22, 2**32 - 3, 5), (22, 2, 5), (22, 7, 1)])
    PER_DOMAIN[22] = {"seq_lost": 0, "seq_resets": 0, "seq_reordered": 0, "records": 11}


def test_3_1_reordered_message_corrects_the_loss():
    """RFC 7011 3.1/10.3: on UDP a message may arrive late: 0, 10 (5 lost so far), then 5 late:
    counted as reordered and the loss is taken back, then 15 in order."""
    x = IXD()
    e = Exporter(x)
    ks = [mark() for _ in range(4)]
    before = x.stats()
    e.send(tmpl_set(tmpl(TID, ipfix.SMALL_FIELDS)), small_set(TID, [ks[0]] * 5), seq=0, odid=23)
    e.send(small_set(TID, [ks[1]] * 5), seq=10, odid=23)
    e.probe()
    mid = x.expect(before, "u", **plus(PROBE, messages=2, templates=1, records=10, seq_lost=5))
    e.send(small_set(TID, [ks[2]] * 5), seq=5, odid=23)
    e.send(small_set(TID, [ks[3]] * 5), seq=15, odid=23)
    e.probe()
    x.wait_records(lambda r: r.get("octetDeltaCount") in ks, n=20)
    x.expect(mid, "u", **plus(PROBE, messages=2, records=10, seq_lost=-5,
                              seq_reordered=1))
    PER_DOMAIN[23] = {"seq_lost": 0, "seq_reordered": 1, "records": 20}


def test_3_1_backward_jump_is_an_exporter_restart():
    """RFC 7011 3.1/10.3.2: the sequence jumps back far (1000000 -> 0): the exporter restarted;
    counted as a reset, not as 2^32 lost records nor a reordering."""
    run_case([(24, 1000000, 5), (24, 0, 5), (24, 5, 5)], seq_resets=1)
    PER_DOMAIN[24] = {"seq_lost": 0, "seq_resets": 1, "seq_reordered": 0, "records": 15}


def test_3_1_huge_forward_jump_is_a_reset_not_a_loss():
    """RFC 7011 3.1: a jump ahead by 10^8 (beyond any plausible loss) is a reset, not loss."""
    run_case([(25, 0, 5), (25, 100000000, 5)], seq_resets=1)
    PER_DOMAIN[25] = {"seq_lost": 0, "seq_resets": 1, "records": 10}


def test_3_1_interleaved_domains_are_independent():
    """RFC 7011 3.1: sequence numbers are per observation domain: two domains interleaved on
    one session, each in order, lose nothing; a gap in one is counted in that one only."""
    run_case([(26, 0, 3), (27, 1000, 2), (26, 3, 3), (27, 1002, 2), (26, 6, 1), (27, 1007, 1)],
             seq_lost=3)
    PER_DOMAIN[26] = {"seq_lost": 0, "records": 7}
    PER_DOMAIN[27] = {"seq_lost": 3, "records": 5}


def test_10_3_sequence_per_session():
    """RFC 7011 10.3.2/3.1: two exporters (two UDP sessions) using the same domain ID have
    their own sequences: no loss, no reset, no reordering between them."""
    x = IXD()
    a, b = Exporter(x), Exporter(x)
    ks = [mark() for _ in range(4)]
    before = x.stats()
    t = tmpl_set(tmpl(TID, ipfix.SMALL_FIELDS))
    a.send(t, small_set(TID, [ks[0]] * 4), seq=0, odid=28, records=4)
    b.send(t, small_set(TID, [ks[1]] * 4), seq=500000, odid=28, records=4)
    a.send(small_set(TID, [ks[2]] * 4), odid=28, records=4)
    b.send(small_set(TID, [ks[3]] * 4), odid=28, records=4)
    x.wait_records(lambda r: r.get("octetDeltaCount") in ks, n=16)
    a.probe()
    b.probe()
    x.expect(before, "u", **plus(PROBE, PROBE, messages=4, templates=2, records=16))
    PER_DOMAIN[28] = {"seq_lost": 0, "seq_resets": 0, "seq_reordered": 0, "records": 16}


def test_3_1_templates_and_empty_messages_do_not_advance_the_sequence():
    """RFC 7011 3.1: only data records count: a template-only message and a header-only
    message carry the sequence number of the next data record."""
    x = IXD()
    e = Exporter(x)
    k = mark()
    before = x.stats()
    e.send(tmpl_set(tmpl(TID, ipfix.SMALL_FIELDS)), seq=0, odid=29)
    e.send(small_set(TID, [k] * 3), seq=0, odid=29)
    e.send(seq=3, odid=29)
    e.send(tmpl_set(tmpl(TID, ipfix.SMALL_FIELDS)), seq=3, odid=29)
    e.send(small_set(TID, [k] * 2), seq=3, odid=29)
    x.wait_records(lambda r: r.get("octetDeltaCount") == k, n=5)
    e.probe()
    x.expect(before, "u", **plus(PROBE, messages=5, templates=2, records=5))
    PER_DOMAIN[29] = {"seq_lost": 0, "seq_reordered": 0, "records": 5}


def test_3_1_options_records_count_in_the_sequence():
    """RFC 7011 3.1: options records are data records too: a message with 1 options record
    and 2 data records advances the sequence by 3."""
    x = IXD()
    e = Exporter(x)
    k = mark()
    before = x.stats()
    ot = ipfix.options_template_record(257, 1, [(149, 4), (1, 8)])
    import struct
    e.send(tmpl_set(tmpl(TID, ipfix.SMALL_FIELDS)), opt_set(ot),
           ipfix.set_(257, struct.pack(">IQ", 30, k)), small_set(TID, [k, k]), seq=0, odid=30)
    e.send(small_set(TID, [k]), seq=3, odid=30)
    x.wait_records(lambda r: r.get("octetDeltaCount") == k, n=4)
    e.probe()
    x.expect(before, "u", **plus(PROBE, messages=2, templates=2, records=4,
                                 options_records=1))
    PER_DOMAIN[30] = {"seq_lost": 0, "seq_reordered": 0, "records": 4}


def test_3_1_held_set_resynchronises_without_false_loss():
    """RFC 7011 3.1 with data before its template: the records of a held set are not known
    when the message arrives, so the next message re-synchronises (no false gap)."""
    x = IXD()
    e = Exporter(x)
    k = mark()
    before = x.stats()
    e.send(small_set(TID, [k] * 5), seq=0, odid=31)
    e.send(tmpl_set(tmpl(TID, ipfix.SMALL_FIELDS)), seq=5, odid=31)
    e.send(small_set(TID, [k] * 2), seq=5, odid=31)
    x.wait_records(lambda r: r.get("octetDeltaCount") == k, n=7)
    e.probe()
    x.expect(before, "u", **plus(PROBE, messages=3, templates=1, records=7,
                                 held_sets=1, late_records=5))
    PER_DOMAIN[31] = {"seq_lost": 0, "seq_reordered": 0, "seq_resets": 0, "records": 7}


def test_10_4_sequence_gap_on_tcp():
    """RFC 7011 10.4/3.1: on TCP nothing is reordered, but an exporter's own losses still show
    as gaps: 0 (4 records), 11 (4): 7 lost."""
    run_case([(32, 0, 4), (32, 11, 4)], collector="t", seq_lost=7)
    PER_DOMAIN[32] = {"seq_lost": 7, "records": 8}


def test_3_1_per_domain_counters_at_shutdown():
    """RFC 7011 3.1: at shutdown every domain's line carries its own sequence counters."""
    x = IXD()
    test_clean_shutdown()
    lines = x.final_lines()
    bad = []
    for odid, want in PER_DOMAIN.items():
        coll = "t" if odid == 32 else "u"
        got = lines.get("collector %s exporter 127.0.0.1 odid %d" % (coll, odid))
        if got is None:
            bad.append("no shutdown line for odid %d" % odid)
            continue
        for k, v in want.items():
            if got.get(k) != v:
                bad.append("odid %d: %s=%s, expected %d" % (odid, k, got.get(k), v))
    assert not bad, "; ".join(bad)


if __name__ == "__main__":
    main([test_3_1_sequence_gap_counts_lost_records, test_3_1_sequence_wraps_at_2_pow_32,
          test_3_1_reordered_message_corrects_the_loss,
          test_3_1_backward_jump_is_an_exporter_restart,
          test_3_1_huge_forward_jump_is_a_reset_not_a_loss,
          test_3_1_interleaved_domains_are_independent, test_10_3_sequence_per_session,
          test_3_1_templates_and_empty_messages_do_not_advance_the_sequence,
          test_3_1_options_records_count_in_the_sequence,
          test_3_1_held_set_resynchronises_without_false_loss, test_10_4_sequence_gap_on_tcp,
          test_3_1_per_domain_counters_at_shutdown])
