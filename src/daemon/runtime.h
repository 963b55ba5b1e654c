/*
 * The running shape of a config: its listening sockets and open outputs. Built by the control
 * thread (at start and on reload, reusing unchanged sockets and outputs from the previous
 * runtime), handed to the workers, and freed by the control thread once no worker uses it.
 */
#ifndef IXD_DAEMON_RUNTIME_H
#define IXD_DAEMON_RUNTIME_H

#include "core/config.h"
#include "ipfix/ie.h"
#include "ipfix/persist.h"
#include "output/output.h"
#include "pipeline/pipeline.h"
#include "registry/registry.h"

/* What a collector's input type opened for it (its sockets), kept across reloads while the
 * collector's settings do not change. */
struct ixd_listener {
    const struct ixd_input_type *type;
    void *shared;   /* from type->open; NULL: not open */
    char bound[80]; /* address actually bound (or the file read), as text */
};

struct ixd_runtime {
    struct ixd_config *cfg;
    unsigned workers;
    const struct ixd_ie_registry *registry;
    struct ixd_listener *listeners; /* per collector */
    struct ixd_output **outputs;    /* per output */
    /* for collector i: templates saved before a restart, restored by each worker (start only) */
    struct ixd_saved_templates **restore;
    /* for collector i: the outputs its pipelines without stages feed (each output once) */
    size_t *n_routes;
    struct ixd_output ***routes;
    /* the config's outputs and stages, checked by their types (src/registry/); its pipelines
     * (n = 0 when a pipeline has no stages) */
    struct ixd_instances *instances;
    /* what this runtime took over from the one before it (index there, or -1): a runtime that
     * fails gives exactly that back */
    long *listener_from;
    long *output_from;
    /* for collector i: the pipelines with stages it feeds (indices into cfg->pipelines) */
    size_t *n_staged;
    size_t **staged;
};

/*
 * Builds a runtime for cfg (which it takes over). Sockets and outputs of prev whose settings
 * are unchanged move over instead of being reopened; prev is not written (its workers go on
 * reading it) until ixd_runtime_replaced(). NULL with err on failure (cfg freed, prev
 * untouched).
 */
struct ixd_runtime *ixd_runtime_new(struct ixd_config *cfg, unsigned workers,
                                    const struct ixd_ie_registry *registry,
                                    struct ixd_runtime *prev, char *err, size_t errlen);
/* Once no worker reads prev any more: what rt took over from it is rt's alone, so that freeing
 * prev closes only the rest. Control thread. */
void ixd_runtime_replaced(struct ixd_runtime *prev, const struct ixd_runtime *rt);
/* Closes what did not move to a newer runtime and frees it. Control thread, workers done. */
void ixd_runtime_free(struct ixd_runtime *rt);

#endif
