/* outputs: the envelope of each (name, type); the rest of its mapping is its type's to read
 * (src/registry/, include/ipfixd/output.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "core/config.h"
#include "core/config_internal.h"

static int
output_key(struct walk *w, const char *key, yaml_node_t *k, yaml_node_t *v, void *ctx)
{
    struct ixd_config_output *o = ctx;

    if (strcmp(key, "name") == 0) {
        return ixd_cfg_copy_name(w, v, "output name", o->name, sizeof(o->name));
    }
    if (strcmp(key, "type") == 0) {
        o->type_line = (unsigned)v->start_mark.line + 1;
        o->type_column = (unsigned)v->start_mark.column + 1;
        return ixd_cfg_copy_name(w, v, "output type", o->type, sizeof(o->type));
    }
    return 0; /* the type's, checked by it */
}

int
ixd_cfg_parse_outputs(struct walk *w, yaml_node_t *seq)
{
    struct ixd_config *cfg = w->cfg;
    yaml_node_item_t *it;
    size_t n, i;

    if (ixd_cfg_want_sequence(w, seq, "outputs") == -1) {
        return -1;
    }
    n = (size_t)(seq->data.sequence.items.top - seq->data.sequence.items.start);
    cfg->outputs = calloc(n ? n : 1, sizeof(*cfg->outputs));
    if (cfg->outputs == NULL) {
        return ixd_cfg_fail(w, seq, "out of memory");
    }
    for (it = seq->data.sequence.items.start; it < seq->data.sequence.items.top; it++) {
        yaml_node_t *m = ixd_cfg_node(w, *it);
        struct ixd_config_output *o = &cfg->outputs[cfg->n_outputs];

        if (ixd_cfg_want_mapping(w, m, "an output") == -1) {
            return -1;
        }
        o->line = o->type_line = (unsigned)m->start_mark.line + 1;
        o->column = o->type_column = (unsigned)m->start_mark.column + 1;
        snprintf(o->type, sizeof(o->type), "json");
        cfg->n_outputs++; /* counted first so that ixd_config_free releases its settings */
        if (ixd_cfg_each_key(w, m, output_key, o) == -1 ||
            ixd_cfg_copy_except(w, m, "name", "type", &o->settings) == -1) {
            return -1;
        }
        if (o->name[0] == '\0') {
            return ixd_cfg_fail(w, m, "an output needs a name");
        }
        for (i = 0; i + 1 < cfg->n_outputs; i++) {
            if (strcmp(cfg->outputs[i].name, o->name) == 0) {
                return ixd_cfg_fail(w, m, "an output named '%s' is defined twice", o->name);
            }
        }
    }
    return 0;
}
