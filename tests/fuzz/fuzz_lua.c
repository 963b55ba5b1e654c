/*
 * The lua stage with random scripts over random records (docs/testing.md): input
 *   [flags][u16 script length][script][u8 fields][fields x (u16 id, u16 length)][records...]
 * flags bit 0: records get the per-layout FFI types of JIT states (the driver's getters and
 * setters), run interpreted within the budget (in the sandbox all the same); bit 1: on-error
 * drop. The records are cut from the rest by the
 * template's own walk (variable-length fields included) and handed over in batches, with a
 * tick and a template announcement between them. Checks: nothing crashes (ASan, UBSan), every
 * record the stage passes on lies in memory the record or the stage owns and walks as its
 * template says, and the counters add up.
 */
#include <stdlib.h>
#include <string.h>

#include "core/cnode.h"
#include "core/counter_list.h"
#include "fuzz.h"
#include "ipfix/decode.h"
#include "ipfix/ie.h"
#include "ipfix/template.h"
#include "ipfix/wire.h"
#include "lua/lua_internal.h"
#include "pipeline/pipeline.h"

#define FIELDS_MAX 32
#define BATCHES_MAX 4

extern const struct ixd_stage_type ixd_stage_lua;

static struct ixd_ie_registry *reg;
static struct ixd_lua_files *files;

static size_t checked;

/* What the lua stage passes on: each record must be readable whole, and walk as its template
 * says (offsets and lengths inside the record). */
static void
check_process(void *state, struct ixd_batch *b)
{
    (void)state;
    for (size_t i = 0; i < b->count; i++) {
        const struct ixd_record *r = &b->records[i];
        volatile uint8_t sum = 0;
        FUZZ_CHECK(r->tmpl != NULL && r->data != NULL);
        for (uint32_t k = 0; k < r->length; k++) {
            sum ^= r->data[k]; /* ASan sees a record that is not in live memory */
        }
        for (uint16_t f = 0; f < r->tmpl->field_count; f++) {
            uint16_t len;
            const uint8_t *p = ixd_record_field(r, f, &len);
            FUZZ_CHECK(p >= r->data && p + len <= r->data + r->length);
        }
        if (r->tmpl->has_varlen) {
            FUZZ_CHECK(r->offsets != NULL && r->lengths != NULL);
        }
        checked++;
    }
}

static void *
check_conf(const struct ixd_cnode *s, const struct ixd_stage_env *env, char *e, size_t n)
{
    return (void *)1;
}

static void *
check_start(const void *conf, unsigned worker, struct ixd_stage_ctx *ctx)
{
    return (void *)1;
}

static void
check_nothing(void *p)
{
}

static const struct ixd_stage_type check_stage = {
    .name = "check",
    .conf = check_conf,
    .conf_free = check_nothing,
    .start = check_start,
    .process = check_process,
    .stop = check_nothing,
};

static struct ixd_template *
template_of(const uint8_t **p, const uint8_t *end)
{
    struct ixd_template_rules rules = {reg, FIELDS_MAX, 0};
    uint8_t rec[4 + 4 * FIELDS_MAX];
    struct ixd_template *t = NULL;
    enum ixd_error why;
    size_t used;
    uint16_t tid;
    unsigned n;

    if (*p >= end) {
        return NULL;
    }
    n = **p % FIELDS_MAX + 1;
    (*p)++;
    if ((size_t)(end - *p) < 4u * n) {
        return NULL;
    }
    ixd_put16(rec, 256);
    ixd_put16(rec + 2, (uint16_t)n);
    for (unsigned i = 0; i < n; i++) {
        /* IANA elements only: enterprise bits off, so every specifier is 4 bytes */
        ixd_put16(rec + 4 + 4 * i, ixd_get16(*p + 4 * i) & 0x7fff);
        ixd_put16(rec + 6 + 4 * i, ixd_get16(*p + 4 * i + 2));
    }
    *p += 4u * n;
    if (ixd_template_parse(rec, 4 + 4u * n, 0, &rules, &t, &tid, &used, &why) !=
        IXD_TPARSE_TEMPLATE) {
        return NULL;
    }
    return t;
}

/* Feeds the records at p..end in batches of up to 64, ticking in between. */
static void
feed(struct ixd_pipeline_run *run, const struct ixd_template *t, const uint8_t *p,
     const uint8_t *end, const struct ixd_source *src)
{
    static uint16_t offs[IXD_BATCH_MAX][FIELDS_MAX], lens[IXD_BATCH_MAX][FIELDS_MAX];
    struct ixd_record recs[IXD_BATCH_MAX];

    for (int b = 0; b < BATCHES_MAX && p < end; b++) {
        size_t n = 0;
        while (n < 64 && p < end) {
            size_t len = t->has_varlen ? ixd_record_walk(t, p, (size_t)(end - p), offs[n], lens[n])
                                       : (t->fixed_length <= (size_t)(end - p) ? t->fixed_length
                                                                              : 0);
            if (len == 0) {
                p = end;
                break;
            }
            recs[n] = (struct ixd_record){t, p, (uint32_t)len, t->has_varlen ? offs[n] : NULL,
                                          t->has_varlen ? lens[n] : NULL};
            n++;
            p += len;
        }
        if (n > 0) {
            struct ixd_batch batch = {src, n, recs};
            ixd_pipeline_process(run, &batch);
        }
        ixd_pipeline_tick(run, 1.0 + b);
    }
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct ixd_source src = {.collector = "fuzz", .exporter_text = "192.0.2.1", .odid = 1};
    static char nowhere[] = "/nonexistent"; /* scripts open no file here */
    uint8_t *kept;
    size_t kept_len;
    struct ixd_lua_conf conf;
    const struct ixd_stage_type *types[2] = {&ixd_stage_lua, &check_stage};
    void *confs[2] = {&conf, (void *)1};
    struct ixd_pipeline_conf pc = {2, types, confs};
    struct ixd_pipeline_counters pcs = {0, 0, 0, 0};
    struct ixd_pipeline_run *run;
    struct ixd_template *t;
    const uint8_t *p = data + 3, *end = data + size;
    size_t len;
    char err[256];

    if (reg == NULL) {
        reg = ixd_ie_registry_new(NULL, 0, err, sizeof(err));
        files = ixd_lua_files_new();
        FUZZ_CHECK(reg != NULL && files != NULL);
    }
    if (size < 3) {
        return 0;
    }
    len = ixd_get16(data + 1);
    if (len > size - 3) {
        len = size - 3;
    }
    memset(&conf, 0, sizeof(conf));
    snprintf(conf.name, sizeof(conf.name), "fuzz.lua");
    snprintf(conf.chunk, sizeof(conf.chunk), "@fuzz.lua");
    snprintf(conf.key, sizeof(conf.key), "fuzz");
    conf.text = malloc(len + 1);
    FUZZ_CHECK(conf.text != NULL);
    memcpy(conf.text, p, len);
    conf.len = len;
    conf.directory = nowhere;
    /* the JIT's record types, interpreted: compiled code runs past any budget, and a trusted
     * script that never returns is documented to stall its worker */
    conf.jit = (data[0] & 1) ? 2 : 0;
    conf.on_error_drop = (data[0] >> 1) & 1;
    conf.memory = 8u << 20;
    conf.budget = 0.02;
    conf.overruns = 2;
    conf.registry = reg;
    conf.files = files;
    p += len;
    /* every input starts afresh: no ipfixd.state from the one before */
    if (ixd_lua_state_take(conf.key, 0, &kept, &kept_len) == 0) {
        g_free(kept);
    }
    run = ixd_pipeline_start(&pc, 0, NULL, 0);
    FUZZ_CHECK(run != NULL);
    t = template_of(&p, end);
    if (t != NULL) {
        ixd_pipeline_template(run, t, &src);
        feed(run, t, p, end, &src);
    }
    ixd_pipeline_counters(run, &pcs);
    /* what came in or was emitted left, was dropped, or failed: never more out than in */
    FUZZ_CHECK(pcs.out + pcs.failed <= pcs.in + pcs.emitted);
    ixd_pipeline_stop(run);
    ixd_template_free(t);
    free(conf.text);
    return 0;
}
