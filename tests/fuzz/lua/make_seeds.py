#!/usr/bin/env python3
"""Writes the hand-made seeds of fuzz_lua (docs/testing.md): scripts that use every part of the
record API, the sandbox's edges and the budgets, each with a template and a few records.

    tests/fuzz/lua/make_seeds.py
"""
import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))

FLOW = [(8, 4), (12, 4), (7, 2), (11, 2), (4, 1), (1, 8), (2, 4), (152, 8)]
NAMED = [(82, 65535), (10, 4), (1, 8)]


def flow_records(n):
    out = b""
    for i in range(n):
        out += struct.pack(">IIHHBQIQ", 0x0a000000 + i, 0xc0000201, 1000 + i, 443, 6 if i % 2 else 17,
                           1000 * i, i, 1700000000000 + i)
    return out


def named_records(n):
    out = b""
    for i in range(n):
        name = b"eth%d" % i
        out += bytes([len(name)]) + name + struct.pack(">IQ", i, i * 7)
    return out


def seed(name, script, fields, records, flags=0):
    s = script.encode()
    spec = b"".join(struct.pack(">HH", i, l) for i, l in fields)
    data = bytes([flags]) + struct.pack(">H", len(s)) + s + bytes([len(fields) - 1]) + spec + records
    with open(os.path.join(HERE, "seeds", "crafted-" + name), "wb") as f:
        f.write(data)


SCRIPTS = {
    "filter": "function on_record(r) return r.protocolIdentifier == 6 and r.destinationTransportPort == 443 end",
    "rewrite": "function on_record(r) r.packetDeltaCount = r.packetDeltaCount * 2 r.octetDeltaCount = 2^60 end",
    "add-remove": "function on_record(r) r.applicationName = 'x' .. r.sourceTransportPort r:remove('flowStartMilliseconds') r.sourceIPv6Address = '2001:db8::1' end",
    "batch": "function on_batch(b) for i = 1, #b, 3 do b:drop(i) end local x = b[0] end function on_record(r) return r['@odid'] == 1 end",
    "emit": "local n = 0 function on_record(r) n = n + 1 emit{octetDeltaCount = n, sourceIPv4Address = r.sourceIPv4Address} end function on_tick(t) emit{packetDeltaCount = n, ['@exporter'] = '::1'} end",
    "template": "local seen = {} function on_template(t) seen[t.id] = #t.fields end function on_record(r) for _, k in ipairs(r:fields()) do local v = r[k] end end",
    "kept": "local k function on_record(r) if k then local x = k.sourceIPv4Address end k = r end function on_tick() if k then k.octetDeltaCount = 1 end end",
    "state": "ipfixd.state.t = ipfixd.state.t or {} function on_record(r) ipfixd.state.t[#ipfixd.state.t % 10 + 1] = {r.sourceIPv4Address, r.octetDeltaCount, true} end",
    "loop": "function on_record(r) while true do end end",
    "pcall-loop": "function on_record(r) while true do pcall(function() while true do end end) end end",
    "memory": "function on_record(r) local t = {} for i = 1, 1e8 do t[i] = string.rep('y', 100) .. i end end",
    "escape": "function on_record(r) local a = pcall(require, 'ffi') local b = pcall(function() return r + 1 end) local c = getmetatable('') return load end",
    "errors": "local i = 0 function on_record(r) i = i + 1 if i % 3 == 0 then error({}) elseif i % 3 == 1 then error('x') end r.nope = 1 end",
    "counters": "local c = ipfixd.counter('x') function on_record(r) c:add(r.packetDeltaCount) ipfixd.log('info', tostring(r)) print(r:sampling_rate()) end",
    "values": "function on_record(r) local t = {r.sourceIPv4Address, r['en0:id7'], r.id8, r['@exporter'], r['@template'], r['@received'], r['@options'], r['@late'], r['@collector']} r.destinationTransportPort = '80' end",
}

for name, script in SCRIPTS.items():
    seed(name, script, FLOW, flow_records(20), flags=0)
    seed(name + "-jit", script, FLOW, flow_records(20), flags=1)
seed("varlen", "function on_record(r) r.interfaceName = r.interfaceName .. '!' r.ingressInterface = 3 r:remove('octetDeltaCount') end",
     NAMED, named_records(10), flags=1)
seed("varlen-drop", "function on_record(r) return #r.interfaceName > 3 end", NAMED, named_records(10), flags=2)
