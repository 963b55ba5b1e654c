/* Unit tests of src/pipeline/pipeline.c: stages that emit records of their own and see
 * templates as they arrive, run by a real worker on a real runtime, their records read back
 * from a real JSON output. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "core/config.h"
#include "daemon/runtime.h"
#include "daemon/worker.h"
#include "ipfix/ie.h"
#include "ipfix/template.h"
#include "ipfix/wire.h"
#include "ipfix_build.h"
#include "pipeline/pipeline.h"
#include "registry/registry.h"

#include "worker_fixture.h"

#define TICKER_TID 400
#define ANNOUNCED_BASE 1000000 /* flowId of a record the ticker emits for an announced template */

/* What the test's stages saw, read by the test thread after the worker stopped. */
static atomic_int ticker_emitted;     /* tick records emitted */
static atomic_int start_refused;      /* emits from start() that returned -1 */
static atomic_int announced;          /* templates announced to the ticker */
static atomic_int unannounced;        /* records whose template was not announced first */
static atomic_int relay_refused;      /* relay emits that returned -1 */
static atomic_uint_fast64_t last_256; /* serial of the last template 256 announced */

/* ---- ticker: one record of a template it built per tick, one per announced template ---- */

struct ticker {
    struct ixd_stage_ctx *ctx;
    struct ixd_template *tmpl; /* built at start, kept until stop: one serial for them all */
    struct ixd_source source;
    uint8_t data[10];
    uint64_t ticks;
};

static void *
keep_registry(const struct ixd_cnode *settings, const struct ixd_stage_env *env, char *err,
              size_t errlen)
{
    return (void *)env->registry;
}

static void
no_conf_free(void *conf)
{
}

/* destinationTransportPort (2 bytes) and flowId (8 bytes), compiled like a template from the
 * wire so that it has a serial of its own. */
static struct ixd_template *
build_template(const struct ixd_ie_registry *reg)
{
    struct ixd_template_rules rules = {reg, 512, 0};
    struct ixd_template *t = NULL;
    enum ixd_error why;
    size_t used;
    uint16_t tid;
    struct ib b;

    ib_reset(&b);
    ib_template(&b, TICKER_TID, 2);
    ib_field(&b, 11, 2);
    ib_field(&b, 148, 8);
    if (ixd_template_parse(b.buf, b.len, 0, &rules, &t, &tid, &used, &why) != IXD_TPARSE_TEMPLATE) {
        return NULL;
    }
    return t;
}

/* Emits one record of the ticker's template: destination port, flowId. */
static void
ticker_emit(struct ticker *st, uint16_t port, uint64_t flow_id)
{
    struct ixd_record r = {st->tmpl, st->data, sizeof(st->data), NULL, NULL};
    struct ixd_batch b = {&st->source, 1, &r};
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    st->source.received_usec = (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
    ixd_put16(st->data, port);
    ixd_put32(st->data + 2, (uint32_t)(flow_id >> 32));
    ixd_put32(st->data + 6, (uint32_t)flow_id);
    assert_int_equal(ixd_stage_emit(st->ctx, &b), 0);
}

static void *
ticker_start(const void *conf, unsigned worker, struct ixd_stage_ctx *ctx)
{
    struct ticker *st = calloc(1, sizeof(*st));
    struct sockaddr_in *sin;
    struct ixd_record r;
    struct ixd_batch b = {NULL, 1, &r};

    if (st == NULL || (st->tmpl = build_template(conf)) == NULL) {
        free(st);
        return NULL;
    }
    st->ctx = ctx;
    st->source.collector = "ticker";
    sin = (struct sockaddr_in *)&st->source.exporter;
    sin->sin_family = AF_INET;
    sin->sin_addr.s_addr = htonl(0xC0000201); /* 192.0.2.1 */
    snprintf(st->source.exporter_text, sizeof(st->source.exporter_text), "192.0.2.1");
    st->source.odid = 7;
    /* the run is not running yet: refused, and counted */
    r = (struct ixd_record){st->tmpl, st->data, sizeof(st->data), NULL, NULL};
    b.source = &st->source;
    if (ixd_stage_emit(ctx, &b) == -1) {
        atomic_fetch_add(&start_refused, 1);
    }
    return st;
}

static void
ticker_process(void *state, struct ixd_batch *batch)
{
    for (size_t i = 0; i < batch->count; i++) {
        const struct ixd_template *t = batch->records[i].tmpl;
        if (t->id == 256 && t->serial != atomic_load(&last_256)) {
            atomic_fetch_add(&unannounced, 1);
        }
    }
}

/* Even ticks on port 80, odd ones on port 9 (which the filter after dup drops). */
static void
ticker_tick(void *state, double now)
{
    struct ticker *st = state;

    ticker_emit(st, st->ticks % 2 == 0 ? 80 : 9, st->ticks);
    st->ticks++;
    atomic_fetch_add(&ticker_emitted, 1);
}

static void
ticker_template(void *state, const struct ixd_template *tmpl, const struct ixd_source *source)
{
    struct ticker *st = state;

    atomic_fetch_add(&announced, 1);
    if (tmpl->id == 256) {
        atomic_store(&last_256, tmpl->serial);
    }
    ticker_emit(st, 80, ANNOUNCED_BASE + tmpl->id * 10u + tmpl->field_count);
}

static void
ticker_stop(void *state)
{
    struct ticker *st = state;

    ixd_template_free(st->tmpl);
    free(st);
}

static const struct ixd_stage_type ticker_stage = {
    .name = "ticker",
    .conf = keep_registry,
    .conf_free = no_conf_free,
    .start = ticker_start,
    .process = ticker_process,
    .tick = ticker_tick,
    .stop = ticker_stop,
    .on_template = ticker_template,
};

/* ---- dup: every record twice (its copy emitted first), relay: every record emitted on ---- */

static void *
ctx_start(const void *conf, unsigned worker, struct ixd_stage_ctx *ctx)
{
    return ctx;
}

static void
ctx_stop(void *state)
{
}

static void
dup_process(void *state, struct ixd_batch *batch)
{
    assert_int_equal(ixd_stage_emit(state, batch), 0);
}

static const struct ixd_stage_type dup_stage = {
    .name = "dup",
    .conf = keep_registry,
    .conf_free = no_conf_free,
    .start = ctx_start,
    .process = dup_process,
    .stop = ctx_stop,
};

static void
relay_process(void *state, struct ixd_batch *batch)
{
    if (ixd_stage_emit(state, batch) == -1) {
        atomic_fetch_add(&relay_refused, 1);
    }
    batch->count = 0; /* what it passed on went as its own */
}

static const struct ixd_stage_type relay_stage = {
    .name = "relay",
    .conf = keep_registry,
    .conf_free = no_conf_free,
    .start = ctx_start,
    .process = relay_process,
    .stop = ctx_stop,
};

/* ---- the worker ---- */

struct rig {
    char dir[64];
    unsigned port;
    int fd; /* the exporter's socket */
    struct ixd_ie_registry *reg;
    struct ixd_runtime *rt;
    struct ixd_worker *w;
};


/* Starts one worker on a config of a UDP collector, two JSON outputs (a.json and b.json in a
 * directory of its own) and the pipelines given. */
static void
rig_start(struct rig *r, const char *pipelines)
{
    char text[4096], err[512] = "";
    struct ixd_config *cfg;

    snprintf(r->dir, sizeof(r->dir), "/tmp/ixd-test-pipeline-XXXXXX");
    assert_non_null(mkdtemp(r->dir));
    r->port = free_udp_port();
    r->fd = socket(AF_INET, SOCK_DGRAM, 0);
    assert_true(r->fd >= 0);
    snprintf(text, sizeof(text),
             "workers: 1\n"
             "collectors:\n"
             "  - {name: u, transport: udp, listen: \"127.0.0.1:%u\"}\n"
             "outputs:\n"
             "  - {name: a, type: json, path: \"%s/a.json\"}\n"
             "  - {name: b, type: json, path: \"%s/b.json\"}\n"
             "pipelines:\n%s",
             r->port, r->dir, r->dir, pipelines);
    cfg = ixd_config_parse("t.yaml", text, strlen(text), err, sizeof(err));
    if (cfg == NULL) {
        fail_msg("config: %s", err);
    }
    r->reg = ixd_ie_registry_new(NULL, 0, err, sizeof(err));
    assert_non_null(r->reg);
    r->rt = ixd_runtime_new(cfg, 1, r->reg, NULL, err, sizeof(err));
    if (r->rt == NULL) {
        fail_msg("runtime: %s", err);
    }
    r->w = ixd_worker_start(0, r->rt, err, sizeof(err));
    if (r->w == NULL) {
        fail_msg("worker: %s", err);
    }
}

/* The counters of config pipeline p, once the worker has stopped. */
static void
rig_counters(struct rig *r, size_t p, struct ixd_pipeline_counters *pc)
{
    memset(pc, 0, sizeof(*pc));
    ixd_worker_pipeline_counters(r->w, p, pc);
}

/* Frees the stopped worker and closes the outputs (which writes out what they hold). */
static void
rig_free(struct rig *r)
{
    ixd_worker_free(r->w);
    ixd_runtime_free(r->rt);
    ixd_ie_registry_free(r->reg);
    close(r->fd);
}

/* The output file `name` of the rig, read whole (NUL-terminated; freed by the caller). */
static char *
rig_read(const struct rig *r, const char *name)
{
    char path[128];
    FILE *f;
    char *text = calloc(1, 1 << 20);
    size_t n;

    snprintf(path, sizeof(path), "%s/%s", r->dir, name);
    f = fopen(path, "r");
    assert_non_null(f);
    assert_non_null(text);
    n = fread(text, 1, (1 << 20) - 1, f);
    text[n] = '\0';
    fclose(f);
    unlink(path);
    return text;
}

static void
rig_clean(const struct rig *r)
{
    rmdir(r->dir);
}

/* Sends b to the rig's collector from the rig's one socket: one exporter, one session. */
static void
send_message(const struct rig *r, const struct ib *b)
{
    struct sockaddr_in to = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};

    to.sin_port = htons((uint16_t)r->port);
    assert_int_equal(sendto(r->fd, b->buf, b->len, 0, (struct sockaddr *)&to, sizeof(to)),
                     (ssize_t)b->len);
}

/* Template 256 (destinationTransportPort, octetDeltaCount, and sourceTransportPort when
 * third), then `n` records: octets first + i, ports 80 and 9 in turn. */
static void
build_message(struct ib *b, uint32_t seq, int third, unsigned n, uint64_t first)
{
    size_t set;

    ib_msg_begin(b, 1700000000, seq, 1);
    set = ib_set_begin(b, IXD_SET_TEMPLATE);
    ib_template(b, 256, third ? 3 : 2);
    ib_field(b, 11, 2);
    ib_field(b, 1, 8);
    if (third) {
        ib_field(b, 7, 2);
    }
    ib_set_end(b, set);
    if (n > 0) {
        set = ib_set_begin(b, 256);
        for (unsigned i = 0; i < n; i++) {
            ib_u16(b, i % 2 == 0 ? 80 : 9);
            ib_u64(b, first + i);
            if (third) {
                ib_u16(b, 5000);
            }
        }
        ib_set_end(b, set);
    }
    ib_msg_end(b);
}

/* Lines of text that contain every one of the NULL-terminated needles. */
static int
lines_with(const char *text, ...)
{
    int count = 0;

    for (const char *line = text; *line != '\0';) {
        const char *end = strchr(line, '\n');
        size_t len = end != NULL ? (size_t)(end - line) : strlen(line);
        char buf[2048];
        int all = 1;
        va_list ap;

        snprintf(buf, sizeof(buf), "%.*s", (int)(len < sizeof(buf) ? len : sizeof(buf) - 1), line);
        va_start(ap, text);
        for (const char *needle = va_arg(ap, const char *); needle != NULL;
             needle = va_arg(ap, const char *)) {
            all &= strstr(buf, needle) != NULL;
        }
        va_end(ap);
        count += all;
        line += len + (end != NULL);
    }
    return count;
}

/*
 * ticker -> dup -> filter: records the ticker emits on its ticks (with a template it built)
 * and for each template announced to it, and each record dup emits again, go through the
 * stages after their stage and out of the JSON output; the filter drops port 9 wherever a
 * record came from. A refresh is not announced, a changed template is, before its records.
 */
static void
test_pipeline_stages_emit(void **unused)
{
    struct rig r;
    struct ixd_pipeline_counters pc;
    struct ib b;
    char *text;
    int ticks;

    rig_start(&r, "  - {name: p, from: [u], to: [a],\n"
                  "     stages: [ticker: {}, dup: {}, filter: \"not dst port 9\"]}\n");
    build_message(&b, 0, 0, 10, 100); /* a new template 256 and 10 records */
    send_message(&r, &b);
    build_message(&b, 10, 0, 0, 0); /* the same template again: a refresh */
    send_message(&r, &b);
    build_message(&b, 10, 1, 2, 200); /* template 256 changed, and 2 records of it */
    send_message(&r, &b);
    sleep_ms(1000);
    ixd_worker_stop(r.w);
    rig_counters(&r, 0, &pc);
    rig_free(&r);
    text = rig_read(&r, "a.json");
    rig_clean(&r);
    ticks = atomic_load(&ticker_emitted);

    assert_int_equal(atomic_load(&start_refused), 1);
    assert_int_equal(atomic_load(&announced), 2);
    assert_int_equal(atomic_load(&unannounced), 0);
    assert_in_range(ticks, 2, 11); /* ten 100 ms ticks in a second, some late */
    /* the collector's records: port 80 twice each (dup), port 9 never */
    for (unsigned i = 0; i < 10; i++) {
        char octets[64];
        snprintf(octets, sizeof(octets), "\"octetDeltaCount\":%u", 100 + i);
        assert_int_equal(lines_with(text, "\"@collector\":\"u\"", octets, NULL),
                         i % 2 == 0 ? 2 : 0);
    }
    assert_int_equal(lines_with(text, "\"@collector\":\"u\"", "\"octetDeltaCount\":200",
                                "\"sourceTransportPort\":5000", NULL),
                     2);
    assert_int_equal(lines_with(text, "\"octetDeltaCount\":201", NULL), 0);
    /* the ticker's: its source and template, port 80 twice each */
    for (int k = 0; k < ticks; k++) {
        char flow[64];
        snprintf(flow, sizeof(flow), "\"flowId\":%d}", k);
        assert_int_equal(lines_with(text, "\"@collector\":\"ticker\"",
                                    "\"@exporter\":\"192.0.2.1\"", "\"@odid\":7",
                                    "\"@template\":400", flow, NULL),
                         k % 2 == 0 ? 2 : 0);
    }
    assert_int_equal(lines_with(text, "\"flowId\":1002562}", NULL), 2);
    assert_int_equal(lines_with(text, "\"flowId\":1002563}", NULL), 2);
    assert_int_equal(lines_with(text, "\"@template\":", NULL), 12 + 2 * ((ticks + 1) / 2) + 4);
    free(text);

    /* in + emitted = out + dropped + failed: the refused emit is the one failure */
    assert_int_equal(pc.in, 12);
    assert_int_equal(pc.emitted, (ticks + 2 + 1) + (12 + ticks + 2));
    assert_int_equal(pc.out, 12 + 2 * ((ticks + 1) / 2) + 4);
    assert_int_equal(pc.failed, 1);
}

/* A record handed on by emits nested IXD_STAGE_EMIT_DEPTH deep arrives; one deeper is refused
 * and counted as failed. */
static void
test_pipeline_emit_depth_bound(void **unused)
{
    char pipelines[1024];
    size_t n = 0;
    struct rig r;
    struct ixd_pipeline_counters deep, deeper;
    struct ib b;
    char *text;

    n += (size_t)snprintf(pipelines + n, sizeof(pipelines) - n,
                          "  - {name: deep, from: [u], to: [a], stages: [");
    for (int i = 0; i < IXD_STAGE_EMIT_DEPTH; i++) {
        n += (size_t)snprintf(pipelines + n, sizeof(pipelines) - n, "%srelay: {}", i ? ", " : "");
    }
    n += (size_t)snprintf(pipelines + n, sizeof(pipelines) - n,
                          "]}\n  - {name: deeper, from: [u], to: [b], stages: [");
    for (int i = 0; i <= IXD_STAGE_EMIT_DEPTH; i++) {
        n += (size_t)snprintf(pipelines + n, sizeof(pipelines) - n, "%srelay: {}", i ? ", " : "");
    }
    snprintf(pipelines + n, sizeof(pipelines) - n, "]}\n");
    rig_start(&r, pipelines);
    build_message(&b, 0, 0, 1, 300);
    send_message(&r, &b);
    sleep_ms(300);
    ixd_worker_stop(r.w);
    rig_counters(&r, 0, &deep);
    rig_counters(&r, 1, &deeper);
    rig_free(&r);

    assert_int_equal(deep.in, 1);
    assert_int_equal(deep.emitted, IXD_STAGE_EMIT_DEPTH);
    assert_int_equal(deep.out, 1);
    assert_int_equal(deep.failed, 0);
    assert_int_equal(deeper.in, 1);
    assert_int_equal(deeper.emitted, IXD_STAGE_EMIT_DEPTH + 1);
    assert_int_equal(deeper.out, 0);
    assert_int_equal(deeper.failed, 1);
    assert_int_equal(atomic_load(&relay_refused), 1);

    text = rig_read(&r, "a.json");
    assert_int_equal(lines_with(text, "\"octetDeltaCount\":300", NULL), 1);
    free(text);
    text = rig_read(&r, "b.json");
    assert_string_equal(text, "");
    free(text);
    rig_clean(&r);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pipeline_stages_emit),
        cmocka_unit_test(test_pipeline_emit_depth_bound),
    };

    if (ixd_registry_add_stage_type(&ticker_stage) != 0 ||
        ixd_registry_add_stage_type(&dup_stage) != 0 ||
        ixd_registry_add_stage_type(&relay_stage) != 0) {
        return 1;
    }
    return cmocka_run_group_tests(tests, NULL, NULL);
}
