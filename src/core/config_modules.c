/*
 * collectors and outputs: the envelope of each (name, and the type: a collector's transport, an
 * output's type); the rest of its mapping is its type's to read (src/registry/).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "core/config.h"
#include "core/config_internal.h"

struct envelope {
    const struct ixd_cfg_modules *what;
    struct ixd_config_module *m;
};

static int
envelope_key(struct walk *w, const char *key, yaml_node_t *k, yaml_node_t *v, void *ctx)
{
    struct envelope *e = ctx;

    if (strcmp(key, "name") == 0) {
        return ixd_cfg_copy_name(w, v, e->what->name_what, e->m->name, sizeof(e->m->name));
    }
    if (strcmp(key, e->what->selector) == 0) {
        e->m->type_line = (unsigned)v->start_mark.line + 1;
        e->m->type_column = (unsigned)v->start_mark.column + 1;
        return ixd_cfg_copy_name(w, v, e->what->type_what, e->m->type, sizeof(e->m->type));
    }
    return 0; /* the type's, checked by it */
}

int
ixd_cfg_parse_modules(struct walk *w, yaml_node_t *seq, const struct ixd_cfg_modules *what,
                      struct ixd_config_module **out, size_t *n_out)
{
    yaml_node_item_t *it;
    size_t n, i;

    if (ixd_cfg_want_sequence(w, seq, what->section) == -1) {
        return -1;
    }
    n = (size_t)(seq->data.sequence.items.top - seq->data.sequence.items.start);
    *out = calloc(n ? n : 1, sizeof(**out));
    if (*out == NULL) {
        return ixd_cfg_fail(w, seq, "out of memory");
    }
    for (it = seq->data.sequence.items.start; it < seq->data.sequence.items.top; it++) {
        yaml_node_t *node = ixd_cfg_node(w, *it);
        struct ixd_config_module *m = &(*out)[*n_out];
        struct envelope e = {what, m};

        if (ixd_cfg_want_mapping(w, node, what->one) == -1) {
            return -1;
        }
        m->line = m->type_line = (unsigned)node->start_mark.line + 1;
        m->column = m->type_column = (unsigned)node->start_mark.column + 1;
        snprintf(m->type, sizeof(m->type), "%s", what->default_type);
        (*n_out)++; /* counted first so that ixd_config_free releases its settings */
        if (ixd_cfg_each_key(w, node, envelope_key, &e) == -1 ||
            ixd_cfg_copy_except(w, node, "name", what->selector, &m->settings) == -1) {
            return -1;
        }
        if (m->name[0] == '\0') {
            return ixd_cfg_fail(w, node, "%s needs a name", what->one);
        }
        for (i = 0; i + 1 < *n_out; i++) {
            if (strcmp((*out)[i].name, m->name) == 0) {
                return ixd_cfg_fail(w, node, "%s named '%s' is defined twice", what->one, m->name);
            }
        }
    }
    return 0;
}

const struct ixd_cfg_modules ixd_cfg_collectors = {"collectors", "a collector", "collector name",
                                                   "transport",  "transport",   "udp"};
const struct ixd_cfg_modules ixd_cfg_outputs = {"outputs", "an output",   "output name",
                                                "type",    "output type", "json"};
