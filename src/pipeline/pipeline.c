#include "pipeline/pipeline.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/counter.h"
#include "ipfix/decode.h"

static const struct ixd_stage_type *const stage_types[] = {
    &ixd_stage_filter, &ixd_stage_anonymise, &ixd_stage_observation_domain,
    &ixd_stage_select, &ixd_stage_drop,      &ixd_stage_set,
};

#define N_TYPES (sizeof(stage_types) / sizeof(stage_types[0]))

/* Types added at start-up by ixd_pipeline_add_stage_type (tests' own stages). */
#define MAX_ADDED_TYPES 8
static const struct ixd_stage_type *added_types[MAX_ADDED_TYPES];
static size_t n_added_types;

int
ixd_pipeline_add_stage_type(const struct ixd_stage_type *type)
{
    if (n_added_types == MAX_ADDED_TYPES) {
        return -1;
    }
    added_types[n_added_types++] = type;
    return 0;
}

struct ixd_pipeline_run {
    const struct ixd_pipeline_conf *conf;
    void **states;
    uint64_t in, out; /* written by the worker, read by the stats (relaxed) */
    struct ixd_batch batch;
    struct ixd_record records[IXD_BATCH_MAX];
};

static const struct ixd_stage_type *
type_named(const char *name)
{
    size_t i;

    for (i = 0; i < N_TYPES; i++) {
        if (strcmp(stage_types[i]->name, name) == 0) {
            return stage_types[i];
        }
    }
    for (i = 0; i < n_added_types; i++) {
        if (strcmp(added_types[i]->name, name) == 0) {
            return added_types[i];
        }
    }
    return NULL;
}

static void
conf_release(struct ixd_pipeline_conf *pc)
{
    size_t i;

    for (i = 0; i < pc->n; i++) {
        if (pc->confs[i] != NULL) {
            pc->types[i]->conf_free(pc->confs[i]);
        }
    }
    free(pc->types);
    free(pc->confs);
}

void
ixd_pipeline_confs_free(struct ixd_pipeline_conf *pcs, size_t n)
{
    size_t i;

    for (i = 0; pcs != NULL && i < n; i++) {
        conf_release(&pcs[i]);
    }
    free(pcs);
}

int
ixd_pipelines_check(const struct ixd_config *cfg, const struct ixd_ie_registry *reg,
                    unsigned workers, struct ixd_pipeline_conf **out, char *err, size_t errlen)
{
    return ixd_pipelines_check_flags(cfg, reg, workers, IXD_CONFIG_DEFAULT, out, err, errlen);
}

int
ixd_pipelines_check_flags(const struct ixd_config *cfg, const struct ixd_ie_registry *reg,
                          unsigned workers, unsigned flags, struct ixd_pipeline_conf **out,
                          char *err, size_t errlen)
{
    struct ixd_stage_env env = {cfg->file, reg, workers, (flags & IXD_CONFIG_SYNTAX_ONLY) != 0};
    struct ixd_pipeline_conf *pcs = calloc(cfg->n_pipelines + 1, sizeof(*pcs));
    size_t p, i;

    if (pcs == NULL) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    for (p = 0; p < cfg->n_pipelines; p++) {
        const struct ixd_config_pipeline *pl = &cfg->pipelines[p];
        struct ixd_pipeline_conf *pc = &pcs[p];

        pc->types = calloc(pl->n_stages + 1, sizeof(*pc->types));
        pc->confs = calloc(pl->n_stages + 1, sizeof(*pc->confs));
        if (pc->types == NULL || pc->confs == NULL) {
            snprintf(err, errlen, "out of memory");
            ixd_pipeline_confs_free(pcs, cfg->n_pipelines);
            return -1;
        }
        for (i = 0; i < pl->n_stages; i++) {
            const struct ixd_config_stage *st = &pl->stages[i];
            const struct ixd_stage_type *t = type_named(st->type);
            struct ixd_cnode at = {IXD_CNODE_SCALAR, st->line, st->column, NULL, 0, NULL};

            if (t == NULL) {
                ixd_cnode_fail(&at, cfg->file, err, errlen,
                               "unknown stage '%s' (known: filter, anonymise, "
                               "observation-domain, select, drop, set)",
                               st->type);
                ixd_pipeline_confs_free(pcs, cfg->n_pipelines);
                return -1;
            }
            pc->types[i] = t;
            pc->n = i + 1;
            pc->confs[i] = t->conf(&st->settings, &env, err, errlen);
            if (pc->confs[i] == NULL) {
                ixd_pipeline_confs_free(pcs, cfg->n_pipelines);
                return -1;
            }
        }
    }
    if (out != NULL) {
        *out = pcs;
    } else {
        ixd_pipeline_confs_free(pcs, cfg->n_pipelines);
    }
    return 0;
}

struct ixd_pipeline_run *
ixd_pipeline_start(const struct ixd_pipeline_conf *pc, unsigned worker)
{
    struct ixd_pipeline_run *run = calloc(1, sizeof(*run));
    size_t i;

    if (run == NULL || (run->states = calloc(pc->n + 1, sizeof(void *))) == NULL) {
        free(run);
        return NULL;
    }
    run->conf = pc;
    for (i = 0; i < pc->n; i++) {
        run->states[i] = pc->types[i]->start(pc->confs[i], worker);
        if (run->states[i] == NULL) {
            ixd_pipeline_stop(run);
            return NULL;
        }
    }
    return run;
}

const struct ixd_batch *
ixd_pipeline_process(struct ixd_pipeline_run *run, const struct ixd_batch *in)
{
    size_t i;

    /* the decoder's batch goes on to other pipelines: stages work on a copy of its records */
    memcpy(run->records, in->records, in->count * sizeof(*in->records));
    run->batch.source = in->source;
    run->batch.count = in->count;
    run->batch.records = run->records;
    for (i = 0; i < run->conf->n && run->batch.count > 0; i++) {
        run->conf->types[i]->process(run->states[i], &run->batch);
    }
    IXD_CNT_ADD(run->in, in->count);
    IXD_CNT_ADD(run->out, run->batch.count);
    return &run->batch;
}

void
ixd_pipeline_tick(struct ixd_pipeline_run *run, double now)
{
    size_t i;

    for (i = 0; i < run->conf->n; i++) {
        if (run->conf->types[i]->tick != NULL) {
            run->conf->types[i]->tick(run->states[i], now);
        }
    }
}

void
ixd_pipeline_counters(const struct ixd_pipeline_run *run, struct ixd_pipeline_counters *sum)
{
    size_t i;

    sum->in += IXD_CNT_GET(run->in);
    sum->out += IXD_CNT_GET(run->out);
    for (i = 0; i < run->conf->n; i++) {
        if (run->conf->types[i]->failed != NULL) {
            sum->failed += run->conf->types[i]->failed(run->states[i]);
        }
    }
}

void
ixd_pipeline_stop(struct ixd_pipeline_run *run)
{
    size_t i;

    if (run == NULL) {
        return;
    }
    for (i = 0; i < run->conf->n; i++) {
        if (run->states[i] != NULL) {
            run->conf->types[i]->stop(run->states[i]);
        }
    }
    free(run->states);
    free(run);
}
