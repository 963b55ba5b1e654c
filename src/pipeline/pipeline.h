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
#include "ipfixd/output.h"
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

/* A pipeline running on one worker: its stages' states and its lanes of the pipeline's
 * outputs, where what comes out of the last stage goes (records a stage emitted included). */
struct ixd_pipeline_run;

/* Starts the stages of pc for worker `worker`; lanes (n_lanes, copied) are the worker's lanes of
 * the pipeline's outputs. NULL when out of memory. Worker thread (or before it runs). */
struct ixd_pipeline_run *ixd_pipeline_start(const struct ixd_pipeline_conf *pc, unsigned worker,
                                            struct ixd_lane *const *lanes, size_t n_lanes);
/* Runs the stages over a copy of in's record array and writes what is left to the outputs. */
void ixd_pipeline_process(struct ixd_pipeline_run *run, const struct ixd_batch *in);
void ixd_pipeline_tick(struct ixd_pipeline_run *run, double now);
/* Tells the stages that asked (on_template) of a template that arrived from an exporter. */
void ixd_pipeline_template(struct ixd_pipeline_run *run, const struct ixd_template *tmpl,
                           const struct ixd_source *source);
/* Hands on what the run's lanes hold (every 100 ms, and before a reload or a stop). */
void ixd_pipeline_flush(struct ixd_pipeline_run *run);

/* What a run has seen: records in from its collectors, records its stages emitted (refused
 * ones included), records out to its outputs, and records lost without meaning to (its stages'
 * failures and refused emits); the rest of in + emitted - out was dropped on purpose, by a
 * filter or select. Any thread. */
struct ixd_pipeline_counters {
    uint64_t in, out, failed, emitted;
};
void ixd_pipeline_counters(const struct ixd_pipeline_run *run, struct ixd_pipeline_counters *sum);
/* Stage i's state in the run, for its type's stats(). */
const void *ixd_pipeline_state(const struct ixd_pipeline_run *run, size_t i);
/* Reports stage i's counters (nothing when its type has no stats). Any thread. */
void ixd_pipeline_stage_stats(const struct ixd_pipeline_run *run, size_t i, ixd_counter_fn fn,
                              void *arg);
/* Stops the stages (refusing what they emit meanwhile) and frees the run; its lanes are the
 * outputs': the caller flushes them first. */
void ixd_pipeline_stop(struct ixd_pipeline_run *run);

#endif
