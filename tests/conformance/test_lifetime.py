"""RFC 7011 section 8.4 (UDP template lifetime) and section 8 (data held for a template that
does not come): time-driven cases. ipfixd expires state in a sweep that each worker runs every
10 s, so the held-set case is started when ipfixd starts and checked last, and the others run
meanwhile.

Collectors: "ul" (UDP, template-lifetime 1) for the lifetime case, "t" (TCP, template-lifetime
1, which TCP ignores), and "h"/"ht" (UDP/TCP) for held sets that age out (hold-time: 1s).
"""
import time

import ipfix
from conf import (PROBE, Exporter, Ixd, mark, plus, shared, small_set, tmpl, tmpl_set, main)

SMALL = ipfix.SMALL_FIELDS
AGING = {}


def start():
    x = Ixd(workers=1, limits={"hold-time": "1s"}, t_opts={"template-lifetime": 1},
            extra=[("ul", "udp", {"template-lifetime": 1}), ("h", "udp", {}), ("ht", "tcp", {})])
    # data sets for template 600, which does not come within hold-time: started now, checked
    # by the last case, after the sweep that runs ~10 s after ipfixd started
    AGING["before"] = x.stats()
    AGING["k"] = mark()
    AGING["u"], AGING["t"] = Exporter(x, "h"), Exporter(x, "ht")
    for e in (AGING["u"], AGING["t"]):
        e.send(small_set(600, [AGING["k"]]), records=1)
    return x


IXD = shared(start)


def test_8_4_udp_template_refresh_and_expiry():
    """RFC 7011 8.4: on UDP a template lives template-lifetime (1 s) after its last refresh:
    refreshed every 0.5 s it keeps decoding; after 1.6 s of silence it has expired, the data
    that follows is not decoded with it (held), and decodes once the template is sent again."""
    x = IXD()
    e = Exporter(x, "ul")
    ks = [mark() for _ in range(5)]
    before = x.stats()
    t = tmpl_set(tmpl(601, SMALL))
    for k in ks[:3]:
        e.send(t, small_set(601, [k]), records=1)
        time.sleep(0.5)
    e.send(small_set(601, [ks[3]]), records=1)       # 0.5 s after the last refresh
    x.wait_records(lambda r: r.get("octetDeltaCount") in ks[:4], n=4)
    time.sleep(1.6)
    e.send(small_set(601, [ks[4]]), records=1)       # 2.1 s after it: expired
    e.probe()
    x.assert_none(ks[4])
    e.send(t)
    rec = x.wait_records(lambda r: r.get("octetDeltaCount") == ks[4])[0]
    assert rec.get("@late") is True, rec
    x.expect(before, "ul", **plus(PROBE, messages=6, templates=4, records=5,
                                  held_sets=1, late_records=1, templates_expired=1))


def test_8_tcp_templates_do_not_expire():
    """RFC 7011 8: on TCP templates live as long as the connection; template-lifetime does not
    apply (here 1 s, and the data comes 2.5 s later)."""
    x = IXD()
    e = Exporter(x, "t")
    k1, k2 = mark(), mark()
    before = x.stats()
    e.send(tmpl_set(tmpl(602, SMALL)), small_set(602, [k1]), records=1)
    time.sleep(2.5)
    e.send(small_set(602, [k2]), records=1)
    x.wait_records(lambda r: r.get("octetDeltaCount") in (k1, k2), n=2)
    e.probe()
    e.finish()
    x.expect(before, "t", **plus(PROBE, messages=2, templates=1, records=2))


def test_8_held_data_ages_out():
    """RFC 7011 8 / hold-unknown: a data set held for a template that does not come within
    hold-time (1 s) is dropped by the next expiry sweep and counted (held_dropped and
    no_template), on UDP and TCP; the template arriving afterwards decodes nothing late."""
    x = IXD()
    k = AGING["k"]
    st = x.wait_stats(lambda c: c["held_dropped"] > 0, "h", timeout=25)
    st = x.wait_stats(lambda c: c["held_dropped"] > 0, "ht", timeout=5)
    for e in (AGING["u"], AGING["t"]):
        e.send(tmpl_set(tmpl(600, SMALL)))
        k2 = mark()
        e.send(small_set(600, [k2]), records=1)
        x.wait_records(lambda r: r.get("octetDeltaCount") == k2)
        e.probe()
        e.finish()
    for c in ("h", "ht"):
        x.expect(AGING["before"], c, **plus(PROBE, messages=3, templates=1, records=1,
                                            held_sets=1, held_dropped=1, no_template=1))
    x.assert_none(k)


if __name__ == "__main__":
    main([test_8_4_udp_template_refresh_and_expiry, test_8_tcp_templates_do_not_expire,
          test_8_held_data_ages_out])
