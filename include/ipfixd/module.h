/**
 * @file module.h
 * What the three kinds of module type (inputs, stages, outputs) share: the environment their
 * settings are checked in, and named, labelled counters (counters.h).
 */
#ifndef IPFIXD_MODULE_H
#define IPFIXD_MODULE_H

#include <stddef.h>

#include "ipfixd/counters.h"

struct ixd_cnode;

/** What a type's check() may use besides its settings. */
struct ixd_module_env {
    const char *file;           /**< config file, for messages */
    const char *name;           /**< the instance's name (collector or output) */
    unsigned flags;             /**< enum ixd_config_flags: syntax only opens no file */
    const struct ixd_cnode *at; /**< its settings, where a missing key is reported */
};

struct ixd_key;

/**
 * What every input and output type starts with (its first member, `m`): its name, its settings
 * declared once as a table of keys (src/core/keys.h), and the checks a table cannot express.
 */
struct ixd_module_type {
    const char *name;           /**< the value that selects it (`type:`, `transport:`) */
    const struct ixd_key *keys; /**< its settings; a NULL-named entry ends the table */
    size_t settings_size;       /**< the struct the keys fill (zeroed, then defaults) */
    /** Control thread: checks what one key alone cannot (a key another needs, a default that
     * follows another key); 0, or -1 with "file:line:col: message" in err. NULL: none. */
    int (*check)(void *settings, const struct ixd_module_env *env, char *err, size_t errlen);
    /** Two instances of this type that would use the same place (a file, an address): 1 with
     * where (refused). NULL: never. */
    int (*conflicts)(const void *a, const void *b, char *where, size_t wherelen);
    /** Frees what check() added to the settings beyond its keys' values (a TLS context), when
     * the settings go. NULL: nothing. */
    void (*release)(void *settings);
};

#endif
