/*
 * The harness of the lua stage's unit tests (test_lua.c, test_lua_examples.c): a pipeline of
 * one lua stage and a capture stage that keeps what it passes on as JSON lines, records of a
 * flow template fed in batches, and the stage's counters as its stats() reports them.
 */
#ifndef IXD_TEST_LUA_HARNESS_H
#define IXD_TEST_LUA_HARNESS_H

#include <arpa/inet.h>
#include <glib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/config.h"
#include "core/counter_list.h"
#include "ipfix/decode.h"
#include "ipfix/ie.h"
#include "ipfix/template.h"
#include "ipfix/wire.h"
#include "ipfix_build.h"
#include "output/json_format.h"
#include "pipeline/pipeline.h"
#include "registry/registry.h"

#define FLOW_TID 300
#define NAMED_TID 301
#define FLOW_LEN 33

static char err[4096];
static char dir[64]; /* the tests' own lua.directory, made at set-up */
__attribute__((unused)) static const char *lua_dir =
    dir; /* the lua.directory of the next start() */
static struct ixd_ie_registry *reg;
__attribute__((unused)) static struct ixd_template *flow, *named;
static GPtrArray *seen; /* JSON lines of what reached the stage after the lua stage */

/* ---- the capture stage: what the lua stage passed on, as JSON ---- */

static inline void *
capture_conf(const struct ixd_cnode *s, const struct ixd_stage_env *env, char *e, size_t n)
{
    return (void *)1;
}

static inline void
capture_conf_free(void *c)
{
}

static inline void *
capture_start(const void *conf, unsigned worker, struct ixd_stage_ctx *ctx)
{
    return (void *)1;
}

static inline void
capture_process(void *state, struct ixd_batch *b)
{
    char prefix[512];
    size_t plen = ixd_json_prefix(b->source, prefix, sizeof(prefix));

    for (size_t i = 0; i < b->count; i++) {
        char *line = malloc(ixd_json_bound(&b->records[i]));
        size_t n = ixd_json_record(&b->records[i], prefix, plen, line);
        line[n - 1] = '\0';
        g_ptr_array_add(seen, line);
    }
}

static inline void
capture_stop(void *state)
{
}

static const struct ixd_stage_type capture = {
    .name = "capture",
    .conf = capture_conf,
    .conf_free = capture_conf_free,
    .start = capture_start,
    .process = capture_process,
    .stop = capture_stop,
};

/* ---- set-up ---- */

static inline struct ixd_template *
make_template(uint16_t tid, const uint16_t (*spec)[2], size_t n)
{
    struct ixd_template_rules rules = {reg, 512, 0};
    struct ixd_template *t = NULL;
    enum ixd_error why;
    size_t used;
    uint16_t got;
    struct ib b;

    ib_reset(&b);
    ib_template(&b, tid, (uint16_t)n);
    for (size_t i = 0; i < n; i++) {
        ib_field(&b, spec[i][0], spec[i][1]);
    }
    assert_int_equal(ixd_template_parse(b.buf, b.len, 0, &rules, &t, &got, &used, &why),
                     IXD_TPARSE_TEMPLATE);
    return t;
}

static inline int
harness_setup(void **state)
{
    /* sourceIPv4Address, destinationIPv4Address, ports, protocol, octetDeltaCount (8),
     * packetDeltaCount (4), flowStartMilliseconds (8) */
    static const uint16_t flow_spec[][2] = {{8, 4}, {12, 4}, {7, 2}, {11, 2},
                                            {4, 1}, {1, 8},  {2, 4}, {152, 8}};
    /* interfaceName (string, variable length), then ingressInterface after it */
    static const uint16_t named_spec[][2] = {{82, 65535}, {10, 4}};

    snprintf(dir, sizeof(dir), "/tmp/ixd-lua-XXXXXX");
    reg = ixd_ie_registry_new(NULL, 0, err, sizeof(err));
    if (mkdtemp(dir) == NULL || reg == NULL || ixd_registry_add_stage_type(&capture) == -1) {
        return -1;
    }
    flow = make_template(FLOW_TID, flow_spec, 8);
    named = make_template(NAMED_TID, named_spec, 2);
    seen = g_ptr_array_new_with_free_func(free);
    return 0;
}

static inline int
harness_teardown(void **state)
{
    char cmd[128];

    ixd_template_free(flow);
    ixd_template_free(named);
    g_ptr_array_free(seen, TRUE);
    ixd_ie_registry_free(reg);
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    return system(cmd) == 0 ? 0 : -1;
}

static inline void
write_file(const char *name, const char *text, mode_t mode)
{
    char path[256];
    FILE *f;

    snprintf(path, sizeof(path), "%s/%s", dir, name);
    f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
    chmod(path, mode);
}

/* A pipeline of one lua stage (settings as YAML flow text) and the capture stage. */
struct run {
    struct ixd_config *cfg;
    struct ixd_instances *in;
    struct ixd_pipeline_conf *pc;
    struct ixd_pipeline_run *run;
};

static inline struct ixd_instances *
lua_instances(const char *settings, struct ixd_config **cfg)
{
    char text[4096];

    snprintf(text, sizeof(text),
             "lua: {directory: %s}\n"
             "collectors: [{name: a, listen: \"127.0.0.1:4739\"}]\n"
             "outputs: [{name: o, type: count}]\n"
             "pipelines:\n"
             "  - {name: p, from: a, to: o, stages: [{lua: %s}, {capture: x}]}\n",
             lua_dir, settings);
    *cfg = ixd_config_parse("t.yaml", text, strlen(text), err, sizeof(err));
    if (*cfg == NULL) {
        fail_msg("config rejected: %s", err);
    }
    return ixd_instances_conf(*cfg, reg, 1, IXD_CONFIG_DEFAULT, err, sizeof(err));
}

static inline void
start(struct run *r, const char *script, const char *settings)
{
    memset(r, 0, sizeof(*r));
    if (script != NULL) {
        write_file("s.lua", script, 0644);
    }
    r->in = lua_instances(settings != NULL ? settings : "{file: s.lua}", &r->cfg);
    if (r->in == NULL) {
        fail_msg("stage refused: %s", err);
    }
    r->pc = &r->in->pipelines[0];
    r->run = ixd_pipeline_start(r->pc, 0, NULL, 0);
    assert_non_null(r->run);
    g_ptr_array_set_size(seen, 0);
}

static inline void
stop(struct run *r)
{
    ixd_pipeline_stop(r->run);
    ixd_instances_free(r->in);
    ixd_config_free(r->cfg);
}

/* Refused at conf time (ipfixd -t) with want in the message. */
static inline void
refused(const char *script, const char *settings, const char *want)
{
    struct ixd_config *cfg;
    struct ixd_instances *in;

    write_file("s.lua", script, 0644);
    in = lua_instances(settings != NULL ? settings : "{file: s.lua}", &cfg);
    ixd_config_free(cfg);
    if (in != NULL) {
        ixd_instances_free(in);
        fail_msg("accepted, expected \"%s\"", want);
    }
    if (strstr(err, want) == NULL) {
        fail_msg("expected \"%s\" in \"%s\"", want, err);
    }
}

static struct ixd_source source = {
    .collector = "a", .exporter_text = "192.0.2.1", .odid = 5, .exporter_port = 4739};

/* Record i of a batch: 10.0.0.i -> 192.0.2.(i%7), ports 1000+i -> 443/80, protocol 6 or 17,
 * octets 1000*i (2^60 + 1 for i = 3), packets i, start 1.7e12 + i. */
static inline void
flow_record(uint8_t *p, unsigned i)
{
    ixd_put32(p, 0x0a000000u + i);
    ixd_put32(p + 4, 0xc0000200u + i % 7);
    ixd_put16(p + 8, (uint16_t)(1000 + i));
    ixd_put16(p + 10, i % 2 == 0 ? 443 : 80);
    p[12] = i % 3 == 0 ? 17 : 6;
    ixd_put32(p + 13, i == 3 ? 0x10000000u : 0);
    ixd_put32(p + 17, i == 3 ? 1 : 1000 * i);
    ixd_put32(p + 21, i);
    ixd_put32(p + 25, 0x18b);
    ixd_put32(p + 29, 0xcfe56800u + i);
}

__attribute__((unused)) static uint8_t bytes[256][FLOW_LEN];
__attribute__((unused)) static struct ixd_record records[256];

static inline void
feed(struct run *r, unsigned n)
{
    struct ixd_batch b = {&source, n, records};

    for (unsigned i = 0; i < n; i++) {
        flow_record(bytes[i], i);
        records[i] = (struct ixd_record){flow, bytes[i], FLOW_LEN, NULL, NULL};
    }
    ixd_pipeline_process(r->run, &b);
}

static inline uint64_t
counter(struct run *r, const char *key, const char *label)
{
    struct ixd_counter_list l = {0};
    uint64_t v = 0;

    assert_non_null(r->pc->types[0]->stats);
    r->pc->types[0]->stats(ixd_pipeline_state(r->run, 0), ixd_counter_list_add, &l);
    for (size_t i = 0; i < l.n; i++) {
        if (strcmp(l.items[i].def->key, key) == 0 &&
            (label == NULL ? l.items[i].label[0] == '\0' : strcmp(l.items[i].label, label) == 0)) {
            v = l.items[i].value;
        }
    }
    ixd_counter_list_release(&l);
    return v;
}

static inline const char *
line(unsigned i)
{
    assert_true(i < seen->len);
    return g_ptr_array_index(seen, i);
}

__attribute__((unused)) static const char *const modes[] = {"{file: s.lua}",
                                                            "{file: s.lua, trusted: true}"};

#endif
