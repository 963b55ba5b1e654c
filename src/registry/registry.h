/*
 * The module types ipfixd knows (registry.c lists the built-in ones) and the instances a config
 * makes of them (instances.c): each configured output and pipeline stage is checked by its type
 * here, for `ipfixd -t`, at start and at every reload (docs/internals/modules.md).
 */
#ifndef IXD_REGISTRY_REGISTRY_H
#define IXD_REGISTRY_REGISTRY_H

#include <stddef.h>

#include "core/config.h"
#include "ipfix/ie.h"
#include "ipfixd/input.h"
#include "ipfixd/output.h"
#include "ipfixd/stage.h"
#include "pipeline/pipeline.h"

/* The built-in types, NULL-terminated (registry.c). */
extern const struct ixd_input_type *const ixd_input_types[];
extern const struct ixd_output_type *const ixd_output_types[];
extern const struct ixd_stage_type *const ixd_stage_types[];

const struct ixd_input_type *ixd_input_type_named(const char *name);
const struct ixd_output_type *ixd_output_type_named(const char *name);
const struct ixd_stage_type *ixd_stage_type_named(const char *name);
/* Adds a stage type beside the built-in ones before any config is checked (control thread, at
 * start; a test's own stage). 0, or -1 when the table of added types is full. */
int ixd_registry_add_stage_type(const struct ixd_stage_type *type);

/* One configured output, its settings parsed and checked by its type. */
struct ixd_output_conf {
    const struct ixd_output_type *type;
    void *settings;
};

/* One configured collector, its settings parsed and checked by its input type. */
struct ixd_input_conf {
    const struct ixd_input_type *type;
    void *settings;
};

/* What a config makes of the module types. */
struct ixd_instances {
    size_t n_inputs;
    struct ixd_input_conf *inputs; /* per config collector */
    size_t n_outputs;
    struct ixd_output_conf *outputs;     /* per config output */
    struct ixd_pipeline_conf *pipelines; /* per config pipeline (n = 0: no stages) */
    size_t n_pipelines;
};

/*
 * Checks every collector, output and stage of cfg with its type (flags: enum ixd_config_flags). NULL with
 * "file:line:col: message" in err; else freed with ixd_instances_free.
 */
struct ixd_instances *ixd_instances_conf(const struct ixd_config *cfg,
                                         const struct ixd_ie_registry *reg, unsigned workers,
                                         unsigned flags, char *err, size_t errlen);
void ixd_instances_free(struct ixd_instances *in);

/*
 * Opens output i of cfg from its checked settings, which the output takes over (c->settings is
 * NULL afterwards). NULL with err on failure.
 */
struct ixd_output *ixd_output_open(struct ixd_output_conf *c, const char *name, unsigned workers,
                                   char *err, size_t errlen);
/* 1 when a reload may keep what collector a (settings, type) runs with for b: every key whose
 * change needs a rebuild is the same (the rest apply in place). */
int ixd_input_same(const struct ixd_input_conf *a, const char *a_name,
                   const struct ixd_input_conf *b, const char *b_name);

/* Closes an output (flushing it) and frees its settings. */
void ixd_output_close(struct ixd_output *o);
/* 1 when a reload may keep running output o for configured output c named name. */
int ixd_output_same(const struct ixd_output *o, const struct ixd_output_conf *c, const char *name);

#endif
