"""Collector restarts (docs/configuration.md state-directory) seen from RFC 7011 section 8.4:
a UDP exporter does not know that the collector restarted and keeps sending data under the
templates it sent before; ipfixd saves its UDP templates at a clean stop and restores those
still within their lifetime.
"""
import os
import tempfile
import time

import ipfix
from conf import (PROBE, Exporter, Ixd, _daemons, mark, plus, small_set, tmpl, tmpl_set, main)

SMALL = ipfix.SMALL_FIELDS


def daemon(state, port=None, lifetime="30m"):
    x = Ixd(workers=2, state=state, port=port, u_opts={"template-lifetime": lifetime})
    _daemons.append(x)
    return x


def restart_case(lifetime, pause):
    state = tempfile.mkdtemp(prefix="ixdconf-state-")
    x = daemon(state, lifetime=lifetime)
    e = Exporter(x)
    k1, k2 = mark(), mark()
    e.send(tmpl_set(tmpl(256, SMALL)), small_set(256, [k1]), records=1)
    x.wait_records(lambda r: r.get("octetDeltaCount") == k1)
    x.stop()
    assert "saved" in x.d.log(), x.d.log()
    time.sleep(pause)
    y = daemon(state, port=x.port, lifetime=lifetime)
    e.x, e.port = y, y.port
    before = y.stats()
    e.send(small_set(256, [k2]), records=1)
    return y, e, before, k2


def test_8_4_udp_templates_survive_a_collector_restart():
    """RFC 7011 8.4 / state-directory: after a clean restart of ipfixd, an exporter's data
    under a template it sent before the restart decodes without the template being resent
    (same exporter address and port), not marked late."""
    y, e, before, k2 = restart_case("30m", 0)
    rec = y.wait_records(lambda r: r.get("octetDeltaCount") == k2)[0]
    assert rec.get("@template") == 256 and "@late" not in rec, rec
    e.probe()
    y.expect(before, "u", **plus(PROBE, messages=1, records=1))


def test_8_4_saved_templates_beyond_their_lifetime_are_not_restored():
    """RFC 7011 8.4: a saved template older than template-lifetime (2 s; ipfixd was down 3 s)
    is not restored: the data is held until the exporter sends the template again."""
    y, e, before, k2 = restart_case(2, 3)
    e.probe()
    y.assert_none(k2)
    e.send(tmpl_set(tmpl(256, SMALL)))
    rec = y.wait_records(lambda r: r.get("octetDeltaCount") == k2)[0]
    assert rec.get("@late") is True, rec
    y.expect(before, "u", **plus(PROBE, messages=2, templates=1, records=1, held_sets=1,
                                 late_records=1))


def test_corrupt_state_file_is_ignored():
    """RFC 7011 8.4 (state-directory): a corrupt templates file is ignored with a log line;
    ipfixd serves, and no template comes from it (data for template 256 is held, not
    decoded)."""
    state = tempfile.mkdtemp(prefix="ixdconf-state-")
    with open(os.path.join(state, "templates-u.ipfixd"), "wb") as f:
        f.write(b"IXDTPL01" + b"\x00\x01u" + b"\xff" * 300)
    y = daemon(state)
    assert "ignoring" in y.d.log(), y.d.log()
    e = Exporter(y)
    k = mark()
    before = y.stats()
    e.send(small_set(256, [k]), records=1)
    e.probe()
    y.assert_none(k)
    y.expect(before, "u", **plus(PROBE, messages=1, held_sets=1))


if __name__ == "__main__":
    main([test_8_4_udp_templates_survive_a_collector_restart,
          test_8_4_saved_templates_beyond_their_lifetime_are_not_restored,
          test_corrupt_state_file_is_ignored])
