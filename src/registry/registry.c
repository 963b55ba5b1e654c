/* The built-in module types: one line each. */
#include "registry/registry.h"

#include <string.h>

#include "output/output.h"

const struct ixd_output_type *const ixd_output_types[] = {
    &ixd_output_json,
    &ixd_output_ipfix,
    &ixd_output_ipfix_file,
    NULL,
};

const struct ixd_stage_type *const ixd_stage_types[] = {
    &ixd_stage_filter,
    &ixd_stage_anonymise,
    &ixd_stage_observation_domain,
    &ixd_stage_select,
    &ixd_stage_drop,
    &ixd_stage_set,
    NULL,
};

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

const struct ixd_output_type *
ixd_output_type_named(const char *name)
{
    for (size_t i = 0; ixd_output_types[i] != NULL; i++) {
        if (strcmp(ixd_output_types[i]->name, name) == 0) {
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
