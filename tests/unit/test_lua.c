/* Unit tests of src/lua/: the lua stage run over real batches, its records read back as the
 * JSON output writes them, its counters as the API gets them; the sandbox and the budgets. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <fcntl.h>
#include <pthread.h>

#include "core/prefix_table.h"
#include "lua_harness.h"

/* ---- tests ---- */

/* A script that drops TCP keeps exactly the UDP records, byte for byte, JIT on and off. */
static void
drop_tcp(void **state)
{
    for (size_t m = 0; m < 2; m++) {
        struct run r;
        start(&r, "function on_record(r) return r.protocolIdentifier ~= 6 end\n", modes[m]);
        feed(&r, 30);
        assert_int_equal(seen->len, 10);
        for (unsigned i = 0; i < 10; i++) {
            char want[64];
            snprintf(want, sizeof(want), "\"sourceIPv4Address\":\"10.0.0.%u\"", 3 * i);
            assert_non_null(strstr(line(i), want));
            assert_non_null(strstr(line(i), "\"protocolIdentifier\":17"));
        }
        assert_int_equal(counter(&r, "dropped", NULL), 20);
        assert_int_equal(counter(&r, "records", NULL), 30);
        assert_int_equal(counter(&r, "errors", NULL), 0);
        stop(&r);
    }
}

/* Values by name: addresses as text, numbers, 64-bit counters exactly, times in ms,
 * metadata as the JSON output names it. */
static void
values(void **state)
{
    static const char script[] =
        "local function check(what, got, want)\n"
        "  if got ~= want then error(what .. ': ' .. tostring(got) .. ' ~= ' .. tostring(want)) "
        "end\n"
        "end\n"
        "function on_record(r)\n"
        "  if r.packetDeltaCount ~= 3 then return end\n"
        "  check('src', r.sourceIPv4Address, '10.0.0.3')\n"
        "  check('dst', r['destinationIPv4Address'], '192.0.2.3')\n"
        "  check('port', r.sourceTransportPort, 1003)\n"
        "  check('octets', tostring(r.octetDeltaCount), '1152921504606846977ULL')\n"
        "  check('start', r.flowStartMilliseconds, 1700000000003)\n"
        "  check('by number', r['id7'], 1003)\n"
        "  check('absent', r.sourceIPv6Address, nil)\n"
        "  check('exporter', r['@exporter'], '192.0.2.1')\n"
        "  check('odid', r['@odid'], 5)\n"
        "  check('template', r['@template'], 300)\n"
        "  check('collector', r['@collector'], 'a')\n"
        "  check('rate', r:sampling_rate(), 1)\n"
        "  check('fields', #r:fields(), 8)\n"
        "  check('tostring', tostring(r), 'record')\n"
        "  ipfixd.counter('checked'):inc()\n"
        "end\n";

    for (size_t m = 0; m < 2; m++) {
        struct run r;
        start(&r, script, modes[m]);
        feed(&r, 8);
        assert_int_equal(counter(&r, "errors", NULL), 0);
        assert_int_equal(counter(&r, "value", "checked"), 1);
        assert_int_equal(seen->len, 8);
        stop(&r);
    }
}

/* Assignments change the stage's copy, never the shared bytes; new elements and removals
 * give a derived template. */
static void
assignments(void **state)
{
    static const char script[] =
        "function on_record(r)\n"
        "  r.packetDeltaCount = r.packetDeltaCount * 10\n"
        "  r.destinationTransportPort = 8443\n"
        "  if r.sourceTransportPort == 1001 then r.applicationName = 'web' end\n"
        "  if r.sourceTransportPort == 1002 then r:remove('octetDeltaCount') end\n"
        "  if r.sourceTransportPort == 1004 then r.sourceIPv4Address = '198.51.100.7' end\n"
        "  if r.sourceTransportPort == 1003 then\n"
        "    r.packetDeltaCount = 4294967295 r.flowStartMilliseconds = 2^53 - 1\n"
        "    if r.packetDeltaCount ~= 4294967295 then error('u32') end\n"
        "    if r.flowStartMilliseconds ~= 2^53 - 1 then error('u64') end\n"
        "  end\n"
        "end\n";

    for (size_t m = 0; m < 2; m++) {
        struct run r;
        uint8_t before[FLOW_LEN];
        start(&r, script, modes[m]);
        flow_record(before, 1);
        feed(&r, 5);
        assert_int_equal(counter(&r, "errors", NULL), 0);
        assert_int_equal(seen->len, 5);
        assert_memory_equal(bytes[1], before, FLOW_LEN); /* the message's bytes as they were */
        assert_non_null(strstr(line(1), "\"packetDeltaCount\":10,"));
        assert_non_null(strstr(line(1), "\"destinationTransportPort\":8443"));
        assert_non_null(strstr(line(1), "\"applicationName\":\"web\""));
        assert_null(strstr(line(0), "applicationName"));
        assert_null(strstr(line(2), "octetDeltaCount"));
        assert_non_null(strstr(line(3), "octetDeltaCount"));
        assert_non_null(strstr(line(3), "\"packetDeltaCount\":4294967295,"));
        assert_non_null(strstr(line(4), "\"sourceIPv4Address\":\"198.51.100.7\""));
        assert_non_null(strstr(line(4), "\"packetDeltaCount\":40,"));
        stop(&r);
    }
}

/* on_batch sees a bounds-checked proxy: b[0] and b[#b + 1] are nil, b:drop(i) drops. */
static void
batches(void **state)
{
    static const char script[] =
        "function on_batch(b)\n"
        "  if b[0] ~= nil or b[#b + 1] ~= nil or b[-1] ~= nil or b[1.5] ~= nil then\n"
        "    error('out of bounds')\n"
        "  end\n"
        "  for i = 1, #b, 2 do b:drop(i) end\n"
        "end\n"
        "function on_record(r) r.packetDeltaCount = 7 end\n";

    for (size_t m = 0; m < 2; m++) {
        struct run r;
        start(&r, script, modes[m]);
        feed(&r, 10);
        assert_int_equal(counter(&r, "errors", NULL), 0);
        assert_int_equal(seen->len, 5);
        assert_non_null(strstr(line(0), "\"sourceIPv4Address\":\"10.0.0.1\""));
        assert_non_null(strstr(line(0), "\"packetDeltaCount\":7,"));
        stop(&r);
    }
}

/* emit{} from on_tick and on_record; the emitted records reach the stages after. */
static void
emits(void **state)
{
    static const char script[] =
        "local bytes = 0\n"
        "function on_record(r)\n"
        "  bytes = bytes + r.packetDeltaCount\n"
        "  if r.packetDeltaCount == 2 then\n"
        "    emit{sourceIPv4Address = r.sourceIPv4Address, applicationName = 'alert'}\n"
        "  end\n"
        "end\n"
        "function on_tick(now)\n"
        "  if bytes > 0 then\n"
        "    emit{octetDeltaCount = bytes, ['@exporter'] = '198.51.100.1', ['@odid'] = 9}\n"
        "    bytes = 0\n"
        "  end\n"
        "end\n";

    for (size_t m = 0; m < 2; m++) {
        struct run r;
        start(&r, script, modes[m]);
        feed(&r, 4);
        assert_int_equal(seen->len, 5); /* the alert, then the batch */
        assert_non_null(strstr(line(0), "\"applicationName\":\"alert\""));
        assert_non_null(strstr(line(0), "\"sourceIPv4Address\":\"10.0.0.2\""));
        assert_non_null(strstr(line(0), "\"@exporter\":\"192.0.2.1\""));
        ixd_pipeline_tick(r.run, 1.0);
        assert_int_equal(seen->len, 6);
        assert_non_null(strstr(line(5), "\"octetDeltaCount\":6}"));
        assert_non_null(strstr(line(5), "\"@exporter\":\"198.51.100.1\""));
        assert_non_null(strstr(line(5), "\"@odid\":9,"));
        assert_int_equal(counter(&r, "emitted", NULL), 2);
        stop(&r);
    }
}

/* Each attempt to leave the sandbox fails with a counted error; the batch passes. */
static void
sandbox_escapes(void **state)
{
    static const char *const escapes[] = {
        "require('ffi')",
        "local ffi = ffi.C",
        "debug.getinfo(1)",
        "jit.off()",
        "io.open('/etc/passwd')",
        "os.execute('true')",
        "os.exit(1)",
        "package.loaded.ffi.C.abort()",
        "string.dump(on_record)",
        "('').dump(on_record)",
        "load('\\27LJ\\2')",
        "loadstring('return 1')",
        "dofile('/etc/passwd')",
        "getmetatable('').__index.dump(on_record)",
        "getmetatable('').x = 1",
        "local x = r + 1",
        "local x = r._ + r",
        "getmetatable(r).__index = nil",
        "getfenv(0)",
        "setfenv(1, {})",
        "coroutine.wrap(function() end)()",
        "r._ = 7",
        "r[1] = 2",
        "collectgarbage('stop')",
        "newproxy(true)",
        "string.rep('x', 2^30)",
        "ipfixd.table_from_csv('../../etc/passwd')",
        "ipfixd.table_from_csv('/etc/passwd')",
        "ipfixd.prefix_table('secret.key')",
        "error(setmetatable({}, {__tostring = function() while true do end end}))",
        "ipfixd.counter('c').add({_ = -100000}, 1)",
        "ipfixd.counter('c').inc(r)",
        "local x = ipfixd.counter('c').value({_ = 1e9})",
        "r.remove({_ = 300}, 'octetDeltaCount')",
        "r.sampling_rate(ipfixd.counter('c'))",
    };
    char script[512];

    write_file("secret.key", "0123456789abcdef0123456789abcdef\n", 0600);
    for (size_t i = 0; i < sizeof(escapes) / sizeof(escapes[0]); i++) {
        struct run r;
        snprintf(script, sizeof(script), "function on_record(r) %s end\n", escapes[i]);
        start(&r, script, NULL);
        feed(&r, 3);
        if (counter(&r, "errors", NULL) != 1 || seen->len != 3) {
            fail_msg("'%s' was not stopped: errors=%llu passed=%u", escapes[i],
                     (unsigned long long)counter(&r, "errors", NULL), seen->len);
        }
        stop(&r);
    }
}

/* A runaway loop is stopped within the budget, even inside pcall; the next batch runs. */
static void
runaway_loops(void **state)
{
    static const char *const loops[] = {
        "while true do end",
        "while true do pcall(function() while true do end end) end",
        "local function f() return f() end f()",
        "for i = 1, 1e12 do local s = tostring(i) end",
    };
    char script[512];

    for (size_t i = 0; i < sizeof(loops) / sizeof(loops[0]); i++) {
        struct run r;
        struct timespec t0, t1;
        snprintf(script, sizeof(script),
                 "local first = true\n"
                 "function on_record(r)\n"
                 "  if first then first = false %s end\n"
                 "  r.packetDeltaCount = 99\n"
                 "end\n",
                 loops[i]);
        start(&r, script, "{file: s.lua, budget-ms: 20}");
        clock_gettime(CLOCK_MONOTONIC, &t0);
        feed(&r, 2);
        clock_gettime(CLOCK_MONOTONIC, &t1);
        assert_true((t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000 < 2000);
        assert_int_equal(counter(&r, "errors", NULL), 1);
        assert_int_equal(seen->len, 2);
        assert_null(strstr(line(0), "\"packetDeltaCount\":99"));
        feed(&r, 2);
        assert_int_equal(seen->len, 4);
        assert_non_null(strstr(line(2), "\"packetDeltaCount\":99"));
        assert_int_equal(counter(&r, "errors", NULL), 1);
        stop(&r);
    }
}

static void *
open_fifo_later(void *path)
{
    struct timespec pause = {0, 150 * 1000 * 1000};
    int fd;

    nanosleep(&pause, NULL);
    /* opening is what the reader waits for; writing could meet a reader gone (SIGPIPE) */
    fd = open(path, O_WRONLY);
    if (fd != -1) {
        close(fd);
    }
    return NULL;
}

/* The sandbox's budget is the thread's CPU time: a call that waits (here on a FIFO a thread
 * opens 150 ms later; a busy machine that deschedules the worker does the same) is not
 * stopped at its wall-clock deadline. */
static void
budget_is_cpu_time(void **state)
{
    static const char script[] = "local done = false\n"
                                 "function on_record(r)\n"
                                 "  if not done then done = true pcall(ipfixd.table_from_csv, "
                                 "'slow.csv') end\n"
                                 "  for i = 1, 20000 do local x = i * 2 end\n"
                                 "  r.packetDeltaCount = 7\n"
                                 "end\n";
    char path[128];
    pthread_t t;
    struct run r;

    snprintf(path, sizeof(path), "%s/slow.csv", dir);
    unlink(path);
    assert_int_equal(mkfifo(path, 0644), 0);
    start(&r, script, "{file: s.lua, budget-ms: 50}");
    assert_int_equal(pthread_create(&t, NULL, open_fifo_later, path), 0);
    feed(&r, 2);
    pthread_join(t, NULL);
    assert_int_equal(counter(&r, "errors", NULL), 0);
    assert_int_equal(counter(&r, "overruns", NULL), 0);
    assert_non_null(strstr(line(1), "\"packetDeltaCount\":7,"));
    stop(&r);
    unlink(path);
}

/* A memory bomb gets LUA_ERRMEM; the state stays usable. */
static void
memory_bomb(void **state)
{
    static const char script[] = "local first = true\n"
                                 "function on_record(r)\n"
                                 "  if first then\n"
                                 "    first = false\n"
                                 "    local t = {}\n"
                                 "    for i = 1, 1e9 do t[i] = string.rep('x', 4096) .. i end\n"
                                 "  end\n"
                                 "  r.packetDeltaCount = 99\n"
                                 "end\n";
    struct run r;

    start(&r, script, "{file: s.lua, memory: 8M, budget-ms: 5000}");
    feed(&r, 2);
    assert_int_equal(counter(&r, "memory_errors", NULL), 1);
    assert_int_equal(counter(&r, "errors", NULL), 1);
    assert_true(counter(&r, "memory_bytes", NULL) <= 8u << 20);
    feed(&r, 2);
    assert_int_equal(seen->len, 4);
    assert_non_null(strstr(line(2), "\"packetDeltaCount\":99"));
    stop(&r);
}

/* Calls over budget in a row disable the script: records then pass, or drop (on-error). */
static void
disabled_after_overruns(void **state)
{
    static const char script[] = "function on_record(r) while true do end end\n";
    struct run r;

    start(&r, script, "{file: s.lua, budget-ms: 5, overruns: 2}");
    feed(&r, 3);
    feed(&r, 3);
    assert_int_equal(counter(&r, "disabled", NULL), 1);
    assert_int_equal(counter(&r, "overruns", NULL), 2);
    feed(&r, 3);
    assert_int_equal(counter(&r, "calls", NULL), 2); /* not called any more */
    assert_int_equal(seen->len, 9);
    stop(&r);

    start(&r, script, "{file: s.lua, budget-ms: 5, overruns: 2, on-error: drop}");
    feed(&r, 3);
    feed(&r, 3);
    feed(&r, 3);
    assert_int_equal(seen->len, 0);
    assert_int_equal(counter(&r, "failed", NULL), 9);
    stop(&r);
}

/* With the JIT, a call over budget is counted once it returns, and its records are kept. */
static void
trusted_overruns(void **state)
{
    static const char script[] = "function on_record(r)\n"
                                 "  local t = os.clock() + 0.02\n"
                                 "  while os.clock() < t do end\n"
                                 "  r.packetDeltaCount = 5\n"
                                 "end\n";
    struct run r;

    start(&r, script, "{file: s.lua, trusted: true, budget-ms: 5, overruns: 2}");
    feed(&r, 1);
    assert_int_equal(counter(&r, "overruns", NULL), 1);
    assert_int_equal(counter(&r, "errors", NULL), 0);
    assert_non_null(strstr(line(0), "\"packetDeltaCount\":5,"));
    feed(&r, 1);
    assert_int_equal(counter(&r, "disabled", NULL), 1);
    feed(&r, 1);
    assert_int_equal(seen->len, 3);
    assert_null(strstr(line(2), "\"packetDeltaCount\":5,")); /* disabled: as it came */
    stop(&r);
}

/* on_template sees each template before its records, with its elements. */
static void
templates(void **state)
{
    static const char script[] =
        "local n = {}\n"
        "function on_template(t)\n"
        "  n[t.id] = #t.fields\n"
        "  if t['@exporter'] ~= '192.0.2.1' or t.options then error('bad') end\n"
        "end\n"
        "function on_record(r) r.observationPointId = n[r['@template']] end\n";

    for (size_t m = 0; m < 2; m++) {
        struct run r;
        start(&r, script, modes[m]);
        ixd_pipeline_template(r.run, flow, &source);
        feed(&r, 2);
        assert_int_equal(counter(&r, "errors", NULL), 0);
        assert_non_null(strstr(line(1), "\"observationPointId\":8"));
        stop(&r);
    }
}

/* A record kept past its call raises an error when read; nothing crashes. */
static void
kept_records(void **state)
{
    static const char script[] =
        "local kept\n"
        "function on_record(r)\n"
        "  if kept then local x = kept.sourceIPv4Address end\n"
        "  kept = r\n"
        "end\n"
        "function on_tick() if kept then local x = kept.packetDeltaCount end end\n";

    for (size_t m = 0; m < 2; m++) {
        struct run r;
        start(&r, script, modes[m]);
        feed(&r, 1);
        assert_int_equal(counter(&r, "errors", NULL), 0);
        ixd_pipeline_tick(r.run, 1.0);
        assert_int_equal(counter(&r, "errors", NULL), 1);
        stop(&r);
    }
}

/* ipfixd.state survives a reload of the same script; init gets the settings. */
static void
state_across_reloads(void **state)
{
    static const char script[] = "local step\n"
                                 "function init(s) step = s.step end\n"
                                 "ipfixd.state.n = ipfixd.state.n or 0\n"
                                 "function on_record(r)\n"
                                 "  ipfixd.state.n = ipfixd.state.n + step\n"
                                 "  r.packetDeltaCount = ipfixd.state.n\n"
                                 "end\n";
    struct run r;

    start(&r, script, "{file: s.lua, settings: {step: 5}}");
    feed(&r, 2);
    stop(&r);
    start(&r, script, "{file: s.lua, settings: {step: 5}}");
    feed(&r, 1);
    assert_non_null(strstr(line(0), "\"packetDeltaCount\":15,"));
    stop(&r);
}

/* A script that fails to start in a worker (here: on what it kept from before a reload) leaves
 * a state that passes records (on-error: pass) and says why. */
static void
failed_start(void **state)
{
    static const char script[] = "ipfixd.state.n = (ipfixd.state.n or 0) + 1\n"
                                 "if ipfixd.state.n > 1 then error('second start') end\n"
                                 "function on_record(r) r.packetDeltaCount = 1 end\n";
    struct run r;

    /* a file of its own: what other tests kept under s.lua stays theirs */
    write_file("twice.lua", script, 0644);
    start(&r, NULL, "{file: twice.lua}");
    stop(&r);
    start(&r, NULL, "{file: twice.lua}"); /* the trial state passes (nothing kept), the
                                             worker's fails */
    feed(&r, 2);
    assert_int_equal(seen->len, 2);
    assert_null(strstr(line(0), "\"packetDeltaCount\":1,"));
    assert_int_equal(counter(&r, "errors", NULL), 1);
    assert_int_equal(counter(&r, "disabled", NULL), 1);
    assert_int_equal(counter(&r, "states", "twice.lua:2: second start"), 1);
    stop(&r);
}

/* Lookups in a prefix table and a CSV table inside lua.directory. */
static void
tables(void **state)
{
    static const char script[] =
        "local nets = ipfixd.prefix_table('nets.csv')\n"
        "local names = ipfixd.table_from_csv('names.csv')\n"
        "function on_record(r)\n"
        "  r.applicationName = (nets:lookup(r.sourceIPv4Address) or '-') .. '/' ..\n"
        "    (names[tostring(r.destinationTransportPort)] or '?')\n"
        "end\n";
    struct run r;

    write_file("nets.csv", "# net,tag\n10.0.0.0/8,internal\n10.0.0.2/31,pair\n", 0644);
    write_file("names.csv", "443,https\n80,http\n", 0644);
    start(&r, script, NULL);
    feed(&r, 4);
    assert_int_equal(counter(&r, "errors", NULL), 0);
    assert_non_null(strstr(line(0), "\"applicationName\":\"internal/https\""));
    assert_non_null(strstr(line(2), "\"applicationName\":\"pair/https\""));
    assert_non_null(strstr(line(3), "\"applicationName\":\"pair/http\""));
    stop(&r);
}

/* What ipfixd -t reports: the script's own errors with file:line, at the stage's position. */
static void
refused_scripts(void **state)
{
    refused("function on_record(r\n", NULL, "s.lua:2:");
    refused("function init() error('no good') end\n", NULL, "s.lua:1: no good");
    refused("x = nil + 1\n", NULL, "s.lua:1:");
    refused("function init() while true do end end\n", "{file: s.lua, trusted: true}",
            "time budget");
    refused("\x1bLJ", NULL, "bytecode");
    refused("", "{file: nothere.lua}", "nothere.lua");
    refused("", "{file: /etc/hostname}", "relative to lua.directory");
    {
        char link[128];
        snprintf(link, sizeof(link), "%s/link.lua", dir);
        assert_int_equal(symlink("/etc/hostname", link), 0);
        refused("", "{file: link.lua}", "outside lua.directory");
    }
    refused("", "{file: s.lua, budget-ms: 0}", "budget-ms");
    refused("", "{file: s.lua, color: red}", "color");
    refused("require('ffi')\n", NULL, "s.lua:1:");
    refused("emit{octetDeltaCount = 1}\n", NULL, "cannot be emitted from init or the top level");
    refused("function init() emit{octetDeltaCount = 1} end\n", NULL, "cannot be emitted");
}

/* More layouts than the cap of FFI types: records still read right. */
static void
layout_flood(void **state)
{
    struct run r;
    struct ixd_template *ts[1100];
    uint8_t data[8];

    start(&r, "function on_record(r) if r.sourceTransportPort ~= 1234 then error('bad') end end\n",
          "{file: s.lua, trusted: true}");
    for (unsigned i = 0; i < 1100; i++) {
        /* sourceTransportPort, then an element that varies, so that each is a layout */
        uint16_t spec[][2] = {{7, 2}, {(uint16_t)(300 + i % 1000), (uint16_t)(1 + i / 1000)}};
        struct ixd_record rec;
        struct ixd_batch b = {&source, 1, &rec};
        ts[i] = make_template((uint16_t)(256 + i), spec, 2);
        memset(data, 0, sizeof(data));
        ixd_put16(data, 1234);
        rec = (struct ixd_record){ts[i], data, ts[i]->fixed_length, NULL, NULL};
        ixd_pipeline_process(r.run, &b);
    }
    assert_int_equal(counter(&r, "errors", NULL), 0);
    assert_int_equal(seen->len, 1100);
    stop(&r);
    for (unsigned i = 0; i < 1100; i++) {
        ixd_template_free(ts[i]);
    }
}

/* Fields after a variable-length one, read and written. */
static void
variable_length(void **state)
{
    static const char script[] = "function on_record(r)\n"
                                 "  if r.ingressInterface ~= 7 then error('bad') end\n"
                                 "  r.interfaceName = r.interfaceName .. '-x'\n"
                                 "  r.ingressInterface = 8\n"
                                 "end\n";

    for (size_t m = 0; m < 2; m++) {
        struct run r;
        uint8_t data[16] = {4, 'e', 't', 'h', '0', 0, 0, 0, 7};
        struct ixd_record rec = {named, data, 9, NULL, NULL};
        uint16_t offs[2], lens[2];
        struct ixd_batch b = {&source, 1, &rec};
        assert_int_equal(ixd_record_walk(named, data, 9, offs, lens), 9);
        rec.offsets = offs;
        rec.lengths = lens;
        start(&r, script, modes[m]);
        ixd_pipeline_process(r.run, &b);
        assert_int_equal(counter(&r, "errors", NULL), 0);
        assert_non_null(strstr(line(0), "\"interfaceName\":\"eth0-x\""));
        assert_non_null(strstr(line(0), "\"ingressInterface\":8"));
        stop(&r);
    }
}

/* The prefix table on its own: longest match, IPv4 and IPv6, replacements. */
static void
prefix_table(void **state)
{
    struct ixd_prefix_table *t = ixd_prefix_table_new();
    static const char text[] = "0.0.0.0/0,any4\n10.0.0.0/8,ten\n10.1.0.0/16 , ten-one\n"
                               "2001:db8::/32,doc\n::/0,any6\n10.1.2.3,host\n";

    assert_int_equal(ixd_prefix_table_parse(t, "x", text, strlen(text), err, sizeof(err)), 0);
    assert_string_equal(ixd_prefix_table_lookup_text(t, "10.1.2.3"), "host");
    assert_string_equal(ixd_prefix_table_lookup_text(t, "10.1.2.4"), "ten-one");
    assert_string_equal(ixd_prefix_table_lookup_text(t, "10.2.0.1"), "ten");
    assert_string_equal(ixd_prefix_table_lookup_text(t, "192.0.2.1"), "any4");
    assert_string_equal(ixd_prefix_table_lookup_text(t, "2001:db8::1"), "doc");
    assert_string_equal(ixd_prefix_table_lookup_text(t, "2001:db9::1"), "any6");
    assert_null(ixd_prefix_table_lookup_text(t, "nonsense"));
    assert_int_equal(ixd_prefix_table_count(t), 6);
    assert_int_equal(ixd_prefix_table_parse(t, "x", "10.0.0.0/33,x\n", 14, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "x:1:"));
    ixd_prefix_table_free(t);
    t = ixd_prefix_table_new();
    assert_int_equal(ixd_prefix_table_add(t, "10.0.0.0/8", "a", err, sizeof(err)), 0);
    assert_int_equal(ixd_prefix_table_build(t, err, sizeof(err)), 0);
    assert_null(ixd_prefix_table_lookup_text(t, "11.0.0.1"));
    assert_string_equal(ixd_prefix_table_lookup_text(t, "10.0.0.1"), "a");
    assert_null(ixd_prefix_table_lookup_text(t, "::1"));
    ixd_prefix_table_free(t);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(drop_tcp),
        cmocka_unit_test(values),
        cmocka_unit_test(assignments),
        cmocka_unit_test(batches),
        cmocka_unit_test(emits),
        cmocka_unit_test(sandbox_escapes),
        cmocka_unit_test(runaway_loops),
        cmocka_unit_test(budget_is_cpu_time),
        cmocka_unit_test(memory_bomb),
        cmocka_unit_test(disabled_after_overruns),
        cmocka_unit_test(trusted_overruns),
        cmocka_unit_test(templates),
        cmocka_unit_test(kept_records),
        cmocka_unit_test(state_across_reloads),
        cmocka_unit_test(failed_start),
        cmocka_unit_test(tables),
        cmocka_unit_test(refused_scripts),
        cmocka_unit_test(layout_flood),
        cmocka_unit_test(variable_length),
        cmocka_unit_test(prefix_table),
    };

    return cmocka_run_group_tests(tests, harness_setup, harness_teardown);
}
