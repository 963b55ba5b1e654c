#include "pipeline/pipeline.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/relaxed_counter.h"
#include "ipfix/decode.h"

/* One stage's place in its run (include/ipfixd/stage.h). */
struct ixd_stage_ctx {
    struct ixd_pipeline_run *run;
    size_t index;               /* what it emits goes on from stage index + 1 */
    int busy;                   /* inside its own emit */
    struct ixd_record *records; /* the copy its emitted records travel in, made on first use */
};

struct ixd_pipeline_run {
    const struct ixd_pipeline_conf *conf;
    void **states;
    struct ixd_stage_ctx *ctxs;
    struct ixd_lane **lanes; /* the worker's lanes of the pipeline's outputs */
    size_t n_lanes;
    int live;       /* every stage started and none stopping: emits are taken */
    unsigned depth; /* emits in progress, one inside the other */
    /* written by the worker, read by the stats (relaxed) */
    uint64_t in, out, emitted, refused;
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
ixd_pipeline_start(const struct ixd_pipeline_conf *pc, unsigned worker,
                   struct ixd_lane *const *lanes, size_t n_lanes)
{
    struct ixd_pipeline_run *run = calloc(1, sizeof(*run));
    size_t i;

    if (run == NULL) {
        return NULL;
    }
    run->conf = pc;
    run->states = calloc(pc->n + 1, sizeof(void *));
    run->ctxs = calloc(pc->n + 1, sizeof(*run->ctxs));
    run->lanes = calloc(n_lanes + 1, sizeof(*run->lanes));
    if (run->states == NULL || run->ctxs == NULL || run->lanes == NULL) {
        ixd_pipeline_stop(run);
        return NULL;
    }
    if (n_lanes > 0) {
        memcpy(run->lanes, lanes, n_lanes * sizeof(*lanes));
    }
    run->n_lanes = n_lanes;
    for (i = 0; i < pc->n; i++) {
        run->ctxs[i].run = run;
        run->ctxs[i].index = i;
        run->states[i] = pc->types[i]->start(pc->confs[i], worker, &run->ctxs[i]);
        if (run->states[i] == NULL) {
            ixd_pipeline_stop(run);
            return NULL;
        }
    }
    run->live = 1;
    return run;
}

/* Runs stages first.. over b, then writes what is left of it to the outputs. */
static void
run_from(struct ixd_pipeline_run *run, size_t first, struct ixd_batch *b)
{
    size_t i;

    for (i = first; i < run->conf->n && b->count > 0; i++) {
        run->conf->types[i]->process(run->states[i], b);
    }
    IXD_CNT_ADD(run->out, b->count);
    for (i = 0; b->count > 0 && i < run->n_lanes; i++) {
        run->lanes[i]->output->type->write(run->lanes[i], b);
    }
}

void
ixd_pipeline_process(struct ixd_pipeline_run *run, const struct ixd_batch *in)
{
    /* the decoder's batch goes on to other pipelines: stages work on a copy of its records */
    memcpy(run->records, in->records, in->count * sizeof(*in->records));
    run->batch.source = in->source;
    run->batch.count = in->count;
    run->batch.records = run->records;
    IXD_CNT_ADD(run->in, in->count);
    run_from(run, 0, &run->batch);
}

int
ixd_stage_emit(struct ixd_stage_ctx *ctx, const struct ixd_batch *batch)
{
    struct ixd_pipeline_run *run = ctx->run;
    size_t done, n;

    if (batch->count == 0) {
        return 0;
    }
    IXD_CNT_ADD(run->emitted, batch->count);
    /* a stage never sees its own records again, so nesting is bounded by the stages; the
     * depth bounds it for pipelines of many emitting stages as well */
    if (!run->live || ctx->busy || run->depth >= IXD_STAGE_EMIT_DEPTH) {
        IXD_CNT_ADD(run->refused, batch->count);
        return -1;
    }
    if (ctx->records == NULL) {
        ctx->records = malloc(IXD_BATCH_MAX * sizeof(*ctx->records));
        if (ctx->records == NULL) {
            IXD_CNT_ADD(run->refused, batch->count);
            return -1;
        }
    }
    ctx->busy = 1;
    run->depth++;
    /* the stages after it change the record array in place: they get a copy of the caller's */
    for (done = 0; done < batch->count; done += n) {
        struct ixd_batch b;
        n = batch->count - done < IXD_BATCH_MAX ? batch->count - done : IXD_BATCH_MAX;
        memcpy(ctx->records, batch->records + done, n * sizeof(*ctx->records));
        b.source = batch->source;
        b.count = n;
        b.records = ctx->records;
        run_from(run, ctx->index + 1, &b);
    }
    run->depth--;
    ctx->busy = 0;
    return 0;
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
ixd_pipeline_template(struct ixd_pipeline_run *run, const struct ixd_template *tmpl,
                      const struct ixd_source *source)
{
    size_t i;

    for (i = 0; i < run->conf->n; i++) {
        if (run->conf->types[i]->on_template != NULL) {
            run->conf->types[i]->on_template(run->states[i], tmpl, source);
        }
    }
}

void
ixd_pipeline_flush(struct ixd_pipeline_run *run)
{
    size_t i;

    for (i = 0; i < run->n_lanes; i++) {
        run->lanes[i]->output->type->flush(run->lanes[i]);
    }
}

void
ixd_pipeline_counters(const struct ixd_pipeline_run *run, struct ixd_pipeline_counters *sum)
{
    size_t i;

    /* what left first: a record is counted in (or emitted) before it is counted out or
     * failed, so a reader racing the worker sees no more leave than came */
    sum->out += IXD_CNT_GET(run->out);
    sum->failed += IXD_CNT_GET(run->refused);
    for (i = 0; i < run->conf->n; i++) {
        if (run->conf->types[i]->failed != NULL) {
            sum->failed += run->conf->types[i]->failed(run->states[i]);
        }
    }
    sum->in += IXD_CNT_GET(run->in);
    sum->emitted += IXD_CNT_GET(run->emitted);
}

const void *
ixd_pipeline_state(const struct ixd_pipeline_run *run, size_t i)
{
    return i < run->conf->n ? run->states[i] : NULL;
}

void
ixd_pipeline_stage_stats(const struct ixd_pipeline_run *run, size_t i, ixd_counter_fn fn, void *arg)
{
    if (i < run->conf->n && run->conf->types[i]->stats != NULL) {
        run->conf->types[i]->stats(run->states[i], fn, arg);
    }
}

void
ixd_pipeline_stop(struct ixd_pipeline_run *run)
{
    size_t i;

    if (run == NULL) {
        return;
    }
    run->live = 0;
    for (i = 0; run->states != NULL && i < run->conf->n; i++) {
        if (run->states[i] != NULL) {
            run->conf->types[i]->stop(run->states[i]);
        }
    }
    for (i = 0; run->ctxs != NULL && i < run->conf->n; i++) {
        free(run->ctxs[i].records);
    }
    free(run->ctxs);
    free(run->lanes);
    free(run->states);
    free(run);
}
