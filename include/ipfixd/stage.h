/**
 * @file stage.h
 * A pipeline stage, as the rest of the daemon sees it (docs/internals/stages.md).
 *
 * A stage type is a table of functions. The control thread checks a stage's settings once per
 * config (conf) — also for `ipfixd -t` — and each worker builds its own state from them (start),
 * so process() runs without locks or shared mutable state. Built-in types live in a static
 * table (src/pipeline/pipeline.c); a Lua stage is one more entry.
 */
#ifndef IPFIXD_STAGE_H
#define IPFIXD_STAGE_H

#include <stddef.h>
#include <stdint.h>

#include "ipfixd/record.h"

struct ixd_cnode;
struct ixd_ie_registry;

/** What conf() may use besides its settings. */
struct ixd_stage_env {
    const char *file;                       /**< config file, for messages (NULL: built-in) */
    const struct ixd_ie_registry *registry; /**< element names and types */
    unsigned workers;
    int syntax_only; /**< 1: check the settings' text only, open no file they name (the
                          config is checked away from its machine: ipfixd -t --syntax-only) */
};

/** A stage type. Every function but conf and conf_free runs on one worker thread. */
struct ixd_stage_type {
    const char *name; /**< the key that selects it in a pipeline's stages */
    /** Checks settings; NULL with "file:line:col: message" in err when they are wrong. */
    void *(*conf)(const struct ixd_cnode *settings, const struct ixd_stage_env *env, char *err,
                  size_t errlen);
    void (*conf_free)(void *conf);
    /** Per-worker state (NULL only when out of memory). */
    void *(*start)(const void *conf, unsigned worker);
    /**
     * One batch in, changed in place: a stage may drop records (compacting batch->records and
     * lowering batch->count), give records other bytes or a derived template, or point
     * batch->source at its own copy. Record bytes may be shared with other pipelines: a stage
     * that changes them copies them first, into memory it owns until its next process() call.
     */
    void (*process)(void *state, struct ixd_batch *batch);
    /** Every 100 ms (NULL: none). */
    void (*tick)(void *state, double now);
    void (*stop)(void *state);
    /** Records this state dropped without meaning to (no memory, a cipher failure): the
     * stats count them apart from what a filter decides. NULL: never. Any thread (relaxed). */
    uint64_t (*failed)(const void *state);
};

#endif
