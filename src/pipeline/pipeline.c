#include "pipeline/pipeline.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/counter.h"
#include "ipfix/decode.h"

struct ixd_pipeline_run {
    const struct ixd_pipeline_conf *conf;
    void **states;
    uint64_t in, out; /* written by the worker, read by the stats (relaxed) */
    struct ixd_batch batch;
    struct ixd_record records[IXD_BATCH_MAX];
};

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
