"""IPFIX export over UDP: runs of messages go to the kernel in one send that it cuts into
datagrams (UDP_SEGMENT), and where it refuses, datagram by datagram.

Two network namespaces joined by a veth: the relay (ipfixd collecting from ipfixd-send on its
loopback and exporting every record over UDP) in one, a second ipfixd collecting the export in
the other.

- with a link MTU above the export's message size, the kernel segments: every record arrives,
  each message in a datagram of its own (no sequence loss, no decoding error), and the relay
  logs no refusal;
- with a link MTU below the message size, the kernel refuses to segment (a segment would not
  fit the route): the relay says so once, sends one datagram per message (which the IP layer
  fragments), and every record still arrives.

Needs root (namespaces); exits 77 (skipped) otherwise. Owns the names ixdseg-* and the
addresses 10.78.0.0/24 inside its namespaces.
"""
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

from ixdtest import BIN, SEND, SLOW, run

SKIP = 77
PREFIX = "ixdseg-%d" % os.getpid()
NS_RELAY, NS_PEER = PREFIX + "-r", PREFIX + "-p"
RELAY_ADDR, PEER_ADDR = "10.78.0.1", "10.78.0.2"
RECORDS = 200000
EXPORT_MTU = 1400


def ip(*args):
    r = subprocess.run(["ip"] + list(args), capture_output=True, text=True)
    if r.returncode != 0:
        raise AssertionError("ip %s: %s" % (" ".join(args), r.stderr.strip()))


def in_ns(name, cmd):
    """nsenter switches the network namespace only (`ip netns exec` also remounts /sys)."""
    return ["nsenter", "--net=/run/netns/" + name] + cmd


def make_link(mtu):
    for ns in (NS_RELAY, NS_PEER):
        ip("netns", "add", ns)
        ip("-n", ns, "link", "set", "lo", "up")
    ip("-n", NS_RELAY, "link", "add", "ixdseg0", "mtu", str(mtu), "type", "veth", "peer", "name",
       "ixdseg1", "netns", NS_PEER)
    ip("-n", NS_PEER, "link", "set", "ixdseg1", "mtu", str(mtu))
    ip("-n", NS_RELAY, "addr", "add", RELAY_ADDR + "/24", "dev", "ixdseg0")
    ip("-n", NS_PEER, "addr", "add", PEER_ADDR + "/24", "dev", "ixdseg1")
    ip("-n", NS_RELAY, "link", "set", "ixdseg0", "up")
    ip("-n", NS_PEER, "link", "set", "ixdseg1", "up")


def remove_link():
    for ns in (NS_RELAY, NS_PEER):
        subprocess.run(["ip", "netns", "del", ns], capture_output=True)


class Ipfixd:
    """ipfixd in a namespace; its log and final summary."""

    def __init__(self, ns, config):
        self.dir = tempfile.mkdtemp(prefix="ixdseg-")
        path = os.path.join(self.dir, "ipfixd.yaml")
        with open(path, "w") as f:
            f.write("state-directory: none\napi: {enabled: false}\nworkers: 1\n" + config)
        self.log_path = os.path.join(self.dir, "ipfixd.log")
        self.log_file = open(self.log_path, "wb")
        self.proc = subprocess.Popen(in_ns(ns, [BIN, "-c", path]), stdout=subprocess.DEVNULL,
                                     stderr=self.log_file)
        self.wait_log("listening on")

    def log(self):
        with open(self.log_path, errors="replace") as f:
            return f.read()

    def wait_log(self, pattern, timeout=20.0):
        deadline = time.time() + timeout * SLOW
        while time.time() < deadline:
            if re.search(pattern, self.log()):
                return
            if self.proc.poll() is not None:
                raise AssertionError("ipfixd exited:\n" + self.log())
            time.sleep(0.05)
        raise AssertionError("timed out waiting for %r:\n%s" % (pattern, self.log()))

    def stop(self):
        self.proc.terminate()
        rc = self.proc.wait(timeout=30 * SLOW)
        self.log_file.close()
        text = self.log()
        shutil.rmtree(self.dir, ignore_errors=True)
        if rc != 0:
            raise AssertionError("ipfixd exited with %d:\n%s" % (rc, text))
        for bad in ("AddressSanitizer", "runtime error:", "LeakSanitizer"):
            if bad in text:
                raise AssertionError("sanitizer report:\n" + text)
        return text


def counter(text, line, name):
    m = re.search(r"final %s[^\n]*? %s=(\d+)" % (re.escape(line), name), text)
    if m is None:
        raise AssertionError("no %s in the final %s line:\n%s" % (name, line, text))
    return int(m.group(1))


def relay_through(mtu):
    """Sends RECORDS through the relay over a link of this MTU; returns the relay's log."""
    make_link(mtu)
    try:
        peer = Ipfixd(NS_PEER, "collectors:\n  - {name: peer, transport: udp, listen: \"%s:4739\","
                               " receive-buffer: 16M}\n" % PEER_ADDR)
        relay = Ipfixd(NS_RELAY,
                       "collectors:\n  - {name: in, transport: udp, listen: \"127.0.0.1:4739\","
                       " receive-buffer: 16M}\n"
                       "outputs:\n  - {name: up, type: ipfix, transport: udp, mtu: %d,"
                       " destinations: [\"%s:4739\"]}\n"
                       "pipelines:\n  - {name: relay, from: in, to: up}\n" % (EXPORT_MTU, PEER_ADDR))
        r = subprocess.run(in_ns(NS_RELAY, [SEND, "-q", "-n", str(RECORDS), "-r", "100000",
                                            "127.0.0.1:4739"]), capture_output=True, text=True)
        assert r.returncode == 0, r.stderr
        time.sleep(1.0 * SLOW)
        relay_log = relay.stop()  # its last messages go out at the stop
        time.sleep(0.5 * SLOW)
        peer_log = peer.stop()
    finally:
        remove_link()
    assert counter(relay_log, "output up destination", "sent") == RECORDS, relay_log
    assert counter(relay_log, "output up destination", "dropped") == 0, relay_log
    assert counter(peer_log, "collector peer:", "records") == RECORDS, peer_log
    assert counter(peer_log, "collector peer:", "seq_lost") == 0, peer_log
    assert not re.search(r"errors=[1-9]", peer_log), peer_log
    return relay_log


def segments_arrive_as_messages():
    log = relay_through(1500)
    assert "does not segment UDP" not in log, log


def refused_segmentation_falls_back_to_datagrams():
    log = relay_through(1280)
    assert len(re.findall(r"does not segment UDP", log)) == 1, log


if __name__ == "__main__":
    if os.geteuid() != 0 or shutil.which("nsenter") is None:
        print("SKIP: needs root and nsenter (network namespaces)")
        sys.exit(SKIP)
    run([segments_arrive_as_messages, refused_segmentation_falls_back_to_datagrams])
