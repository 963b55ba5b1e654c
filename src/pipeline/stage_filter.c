/* The filter stage: keeps the records its expression matches (docs/filter.md). */
#include <glib.h>
#include <stdint.h>
#include <stdlib.h>

#include "core/cnode.h"
#include "pipeline/filter.h"
#include "pipeline/pipeline.h"

/* Programs kept per worker; past this many templates the cache starts over (a template flood
 * must not grow it without bound, and compiling again is cheap). */
#define PROGRAMS_MAX 4096

struct filter_state {
    const struct ixd_filter *filter;
    GHashTable *programs; /* template serial -> struct ixd_filter_prog */
};

static void *
filter_conf(const struct ixd_cnode *settings, const struct ixd_stage_env *env, char *err,
            size_t errlen)
{
    struct ixd_filter *f;
    char why[256];

    if (settings->kind != IXD_CNODE_SCALAR || settings->text[0] == '\0') {
        ixd_cnode_fail(settings, env->file, err, errlen,
                       "filter wants an expression, e.g. filter: \"proto tcp and dst port 443\"");
        return NULL;
    }
    f = ixd_filter_parse(settings->text, env->registry, why, sizeof(why));
    if (f == NULL) {
        ixd_cnode_fail(settings, env->file, err, errlen, "filter: %s", why);
    }
    return f;
}

static void
filter_conf_free(void *conf)
{
    ixd_filter_free(conf);
}

static void
prog_free(gpointer p)
{
    ixd_filter_prog_free(p);
}

static void *
filter_start(const void *conf, unsigned worker, struct ixd_stage_ctx *ctx)
{
    struct filter_state *st = calloc(1, sizeof(*st));

    (void)worker;
    (void)ctx;
    if (st == NULL) {
        return NULL;
    }
    st->filter = conf;
    st->programs = g_hash_table_new_full(g_direct_hash, g_direct_equal, NULL, prog_free);
    return st;
}

static const struct ixd_filter_prog *
program_for(struct filter_state *st, const struct ixd_template *t)
{
    gpointer key = (gpointer)(uintptr_t)t->serial;
    struct ixd_filter_prog *prog = g_hash_table_lookup(st->programs, key);

    if (prog == NULL) {
        if (g_hash_table_size(st->programs) >= PROGRAMS_MAX) {
            g_hash_table_remove_all(st->programs);
        }
        prog = ixd_filter_compile(st->filter, t);
        if (prog != NULL) {
            g_hash_table_insert(st->programs, key, prog);
        }
    }
    return prog;
}

static void
filter_process(void *state, struct ixd_batch *batch)
{
    struct filter_state *st = state;
    const struct ixd_template *last = NULL;
    const struct ixd_filter_prog *prog = NULL;
    size_t i, kept = 0;

    for (i = 0; i < batch->count; i++) {
        const struct ixd_record *r = &batch->records[i];
        if (r->tmpl != last) { /* records of one set share a template: one lookup per set */
            last = r->tmpl;
            prog = program_for(st, r->tmpl);
        }
        /* without a program (out of memory) nothing passes: a filter never lets through
         * what it was not able to check */
        if (prog != NULL && ixd_filter_match(prog, r)) {
            batch->records[kept++] = *r;
        }
    }
    batch->count = kept;
}

static void
filter_stop(void *state)
{
    struct filter_state *st = state;

    g_hash_table_destroy(st->programs);
    free(st);
}

const struct ixd_stage_type ixd_stage_filter = {
    .name = "filter",
    .conf = filter_conf,
    .conf_free = filter_conf_free,
    .start = filter_start,
    .process = filter_process,
    .tick = NULL,
    .stop = filter_stop,
};
