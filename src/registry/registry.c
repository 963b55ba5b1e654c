/*
 * The built-in module types, one line each. A type named NAME is the object ixd_input_NAME,
 * ixd_stage_NAME or ixd_output_NAME of its own source file; adding one is that file, its line
 * in src/CMakeLists.txt and its line here (docs/internals/modules.md).
 */
#include "registry/registry.h"

#include <string.h>

/* each line ends in a backslash, so that a new type is one new line */
#define INPUTS(X)                                                                                  \
    X(udp)                                                                                         \
    X(tcp)                                                                                         \
    X(tls)                                                                                         \
    X(dtls)                                                                                        \
    X(file)                                                                                        \
    X(pcap)                                                                                        \
    /* end of the inputs */

#define STAGES(X)                                                                                  \
    X(filter)                                                                                      \
    X(anonymise)                                                                                   \
    X(observation_domain)                                                                          \
    X(select)                                                                                      \
    X(drop)                                                                                        \
    X(set)                                                                                         \
    X(top_talkers)                                                                                 \
    X(lua)                                                                                         \
    X(enrich)                                                                                      \
    X(dedup)                                                                                       \
    X(clock)                                                                                       \
    /* end of the stages */

#define OUTPUTS(X)                                                                                 \
    X(json)                                                                                        \
    X(ipfix)                                                                                       \
    X(ipfix_file)                                                                                  \
    X(count)                                                                                       \
    X(rrd)                                                                                         \
    X(kafka)                                                                                       \
    X(clickhouse)                                                                                  \
    /* end of the outputs */

#define DECLARE_INPUT(name) extern const struct ixd_input_type ixd_input_##name;
#define DECLARE_STAGE(name) extern const struct ixd_stage_type ixd_stage_##name;
#define DECLARE_OUTPUT(name) extern const struct ixd_output_type ixd_output_##name;
#define INPUT(name) &ixd_input_##name,
#define STAGE(name) &ixd_stage_##name,
#define OUTPUT(name) &ixd_output_##name,

INPUTS(DECLARE_INPUT)
STAGES(DECLARE_STAGE)
OUTPUTS(DECLARE_OUTPUT)

const struct ixd_input_type *const ixd_input_types[] = {INPUTS(INPUT) NULL};
const struct ixd_stage_type *const ixd_stage_types[] = {STAGES(STAGE) NULL};
const struct ixd_output_type *const ixd_output_types[] = {OUTPUTS(OUTPUT) NULL};

/* Types added at start-up by ixd_registry_add_stage_type (tests' own stages). */
#define MAX_ADDED_TYPES 8
static const struct ixd_stage_type *added_stages[MAX_ADDED_TYPES + 1];
static size_t n_added_stages;

int
ixd_registry_add_stage_type(const struct ixd_stage_type *type)
{
    if (n_added_stages == MAX_ADDED_TYPES) {
        return -1;
    }
    added_stages[n_added_stages++] = type;
    return 0;
}

const struct ixd_input_type *
ixd_input_type_named(const char *name)
{
    for (size_t i = 0; ixd_input_types[i] != NULL; i++) {
        if (strcmp(ixd_input_types[i]->m.name, name) == 0) {
            return ixd_input_types[i];
        }
    }
    return NULL;
}

const struct ixd_output_type *
ixd_output_type_named(const char *name)
{
    for (size_t i = 0; ixd_output_types[i] != NULL; i++) {
        if (strcmp(ixd_output_types[i]->m.name, name) == 0) {
            return ixd_output_types[i];
        }
    }
    return NULL;
}

const struct ixd_stage_type *
ixd_stage_type_named(const char *name)
{
    for (size_t i = 0; ixd_stage_types[i] != NULL; i++) {
        if (strcmp(ixd_stage_types[i]->name, name) == 0) {
            return ixd_stage_types[i];
        }
    }
    for (size_t i = 0; i < n_added_stages; i++) {
        if (strcmp(added_stages[i]->name, name) == 0) {
            return added_stages[i];
        }
    }
    return NULL;
}
