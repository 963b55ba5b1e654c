/*
 * Pipelines with stages: checked once per config on the control thread, run per worker over
 * each batch a collector delivers. Pipelines without stages do not come here: their outputs
 * are fed the decoder's batches directly (src/daemon/runtime.c routes).
 */
#ifndef IXD_PIPELINE_PIPELINE_H
#define IXD_PIPELINE_PIPELINE_H

#include <stddef.h>

#include "core/config.h"
#include "ipfix/ie.h"
#include "ipfixd/record.h"
#include "ipfixd/stage.h"

/* A pipeline's stages, their settings checked. */
struct ixd_pipeline_conf {
    size_t n;
    const struct ixd_stage_type **types;
    void **confs;
};

/* The stages of config pipelines are checked by their types in src/registry/instances.c. */
void ixd_pipeline_confs_free(struct ixd_pipeline_conf *pcs, size_t n);

/* A pipeline running on one worker. */
struct ixd_pipeline_run;

struct ixd_pipeline_run *ixd_pipeline_start(const struct ixd_pipeline_conf *pc, unsigned worker);
/* Runs the stages over a copy of in; the result is valid until the next call. */
const struct ixd_batch *ixd_pipeline_process(struct ixd_pipeline_run *run,
                                             const struct ixd_batch *in);
void ixd_pipeline_tick(struct ixd_pipeline_run *run, double now);

/* What a run has seen: records in, records out, and records its stages failed to carry
 * (the rest of in - out was dropped on purpose, by a filter or select). Any thread. */
struct ixd_pipeline_counters {
    uint64_t in, out, failed;
};
void ixd_pipeline_counters(const struct ixd_pipeline_run *run, struct ixd_pipeline_counters *sum);
void ixd_pipeline_stop(struct ixd_pipeline_run *run);

#endif
