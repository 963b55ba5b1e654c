/**
 * @file output.h
 * An output type, as the rest of the daemon sees it (docs/internals/modules.md).
 *
 * A type declares its settings once, as a table of keys (src/core/keys.h): the config's
 * `outputs:` entry (`name`, `type` and the type's keys) is parsed from it, unknown keys are
 * refused, and a reload keeps a running output whose settings are the same. The control thread
 * opens an output with its settings; every worker then writes to its own lane, without sharing
 * anything with the other workers. Counters are reported through a callback (counters.h).
 * Built-in types are listed in src/registry/registry.c.
 */
#ifndef IPFIXD_OUTPUT_H
#define IPFIXD_OUTPUT_H

#include <stddef.h>

#include "ipfixd/module.h"
#include "ipfixd/record.h"

struct ixd_output_type;

/** Every output embeds this as its first member. */
struct ixd_output {
    const struct ixd_output_type *type;
    const char *name;     /**< set by the caller of open() */
    const void *settings; /**< owned by the output from open() on: a reload compares them */
};

/** A worker's handle on an output. */
struct ixd_lane {
    struct ixd_output *output;
};

struct ixd_output_type {
    struct ixd_module_type m; /**< name, keys, settings_size, check, conflicts */
    /** Control thread: opens the output for `workers` lanes; NULL with err on failure. */
    struct ixd_output *(*open)(const void *settings, const char *name, unsigned workers, char *err,
                               size_t errlen);
    void (*reopen)(struct ixd_output *o); /**< SIGHUP: e.g. reopen files after rotation */
    void (*close)(struct ixd_output *o);  /**< flushes everything, then frees the output */
    /** Any thread (the control thread and worker 0 at once): reads counters, relaxed. */
    void (*stats)(struct ixd_output *o, ixd_counter_fn fn, void *arg);
    /** Worker thread `w` only. */
    struct ixd_lane *(*lane)(struct ixd_output *o, unsigned w);
    void (*write)(struct ixd_lane *lane, const struct ixd_batch *batch);
    void (*flush)(struct ixd_lane *lane); /**< hands buffered data on (every 100 ms, stop) */
};

#endif
