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

#include "ipfixd/counters.h"
#include "ipfixd/record.h"

struct ixd_cnode;
struct ixd_key;
struct ixd_output_type;

/** What a type's check() may use besides the settings. */
struct ixd_output_env {
    const char *file;           /**< config file, for messages */
    const char *name;           /**< the output's name */
    unsigned flags;             /**< enum ixd_config_flags: syntax only opens no file */
    const struct ixd_cnode *at; /**< the output's mapping, where a missing key is reported */
};

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
    const char *name;           /**< the value of `type:` that selects it */
    const struct ixd_key *keys; /**< its settings; NULL-named entry ends the table */
    size_t settings_size;       /**< the struct the keys fill (zeroed, then defaults) */
    /** Control thread: checks what one key alone cannot (a key another needs, files a key
     * names); 0, or -1 with "file:line:col: message" in err. NULL: nothing to check. */
    int (*check)(void *settings, const struct ixd_output_env *env, char *err, size_t errlen);
    /** Two outputs of this type that would write the same place: 1 with what into what (it
     * is refused). NULL: never. */
    int (*conflicts)(const void *a, const void *b, char *what, size_t whatlen);
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
