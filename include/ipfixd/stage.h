/**
 * @file stage.h
 * A pipeline stage, as the rest of the daemon sees it (docs/internals/stages.md).
 *
 * A stage type is a table of functions. The control thread checks a stage's settings once per
 * config (conf) — also for `ipfixd -t` — and each worker builds its own state from them (start),
 * so process() runs without locks or shared mutable state. Built-in types live in a static
 * table (src/registry/registry.c); a Lua stage is one more entry.
 *
 * A stage may also emit records of its own (ixd_stage_emit): they go through the stages after
 * it, then to the pipeline's outputs, before the call returns.
 */
#ifndef IPFIXD_STAGE_H
#define IPFIXD_STAGE_H

#include <stddef.h>
#include <stdint.h>

#include "ipfixd/counters.h"
#include "ipfixd/record.h"

struct ixd_cnode;
struct ixd_ie_registry;

/** A stage's place in the pipeline run it belongs to: what ixd_stage_emit() takes. Owned by
 * the run; valid from start() until stop() returns, on the worker that called start(). */
struct ixd_stage_ctx;

/** What conf() may use besides its settings. */
struct ixd_stage_env {
    const char *file;                       /**< config file, for messages (NULL: built-in) */
    const struct ixd_ie_registry *registry; /**< element names and types */
    unsigned workers;
    int syntax_only; /**< 1: check the settings' text only, open no file they name (the
                          config is checked away from its machine: ipfixd -t --syntax-only) */
    const char *pipeline;         /**< the pipeline's name */
    unsigned index;               /**< the stage's place in it, from 0 */
    const char *script_directory; /**< lua.directory ("" when not set) */
};

/** A stage type. Every function but conf and conf_free runs on one worker thread. */
struct ixd_stage_type {
    const char *name; /**< the key that selects it in a pipeline's stages */
    /** Checks settings; NULL with "file:line:col: message" in err when they are wrong. */
    void *(*conf)(const struct ixd_cnode *settings, const struct ixd_stage_env *env, char *err,
                  size_t errlen);
    void (*conf_free)(void *conf);
    /** Per-worker state (NULL only when out of memory). A stage that emits keeps ctx. */
    void *(*start)(const void *conf, unsigned worker, struct ixd_stage_ctx *ctx);
    /**
     * One batch in, changed in place: a stage may drop records (compacting batch->records and
     * lowering batch->count), give records other bytes or a derived template, or point
     * batch->source at its own copy. Record bytes may be shared with other pipelines: a stage
     * that changes them copies them first, into memory it owns until its next process() call.
     * It may emit other records before it returns.
     */
    void (*process)(void *state, struct ixd_batch *batch);
    /** Every 100 ms (NULL: none). May emit: what a stage holds (aggregates) goes on here. */
    void (*tick)(void *state, double now);
    /** Frees the state. Emitting here is refused: the outputs may be gone. */
    void (*stop)(void *state);
    /** Records this state dropped without meaning to (no memory, a cipher failure): the
     * stats count them apart from what a filter decides. NULL: never. Any thread (relaxed). */
    uint64_t (*failed)(const void *state);
    /**
     * NULL, or called with each template an exporter defines for a collector the pipeline
     * reads, when it is new or changed (a refresh of the same layout keeps the template it
     * refreshes and is not announced), before any record of it; source is the message's.
     * Templates restored at start (state file, HA peer) are not announced: a stage sees them
     * with their first record. Both pointers are valid for the call only; key what is kept on
     * tmpl->serial. May emit.
     */
    void (*on_template)(void *state, const struct ixd_template *tmpl,
                        const struct ixd_source *source);
    /**
     * NULL, or reports the state's counters (include/ipfixd/counters.h), as outputs do: the
     * SIGUSR1 summary, /metrics and the API's pipeline resource show them per pipeline and
     * stage, summed over the workers. Any thread, while the worker runs (relaxed loads).
     */
    void (*stats)(const void *state, ixd_counter_fn fn, void *arg);
};

/**
 * Hands records of the stage's own to the rest of its pipeline run: a copy of batch->records
 * (any count; split into batches of at most 256) goes through every stage after this one, then
 * to the pipeline's outputs, synchronously, before this returns. Worker thread, from process(),
 * tick() or on_template() only.
 *
 * Lifetimes: the records' bytes, templates and batch->source need to stay valid for the call
 * only; nothing downstream keeps a pointer to them after it. What is kept per template is keyed
 * on tmpl->serial (stages' caches, an IPFIX output's export templates), so a template a stage
 * builds comes from ixd_template_parse(), which gives it a serial of its own, and is kept and
 * used again for as long as the stage emits that layout: every new serial is one more
 * template to every output (an IPFIX output sends its template record and gives it a
 * template ID). A stage's source fills every field outputs write (collector name, exporter
 * address and text, observation domain, times); resolver NULL leaves structured data raw.
 *
 * Returns 0; or -1 when the records were refused and counted as failed: emitted from start()
 * or stop(), from inside the same stage's emit, or nested deeper than IXD_STAGE_EMIT_DEPTH
 * emits (stages emitting from records other stages emitted), or no memory for the copy.
 */
int ixd_stage_emit(struct ixd_stage_ctx *ctx, const struct ixd_batch *batch);

/** Emits nested deeper than this (a stage emitting while processing what another emitted) are
 * refused. */
#define IXD_STAGE_EMIT_DEPTH 16

#endif
