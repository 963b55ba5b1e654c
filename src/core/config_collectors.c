/* collectors: the envelope of each (name, transport); the rest of its mapping is its input
 * type's to read (src/registry/, include/ipfixd/input.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "core/config.h"
#include "core/config_internal.h"

static int
collector_key(struct walk *w, const char *key, yaml_node_t *k, yaml_node_t *v, void *ctx)
{
    struct ixd_config_collector *c = ctx;

    if (strcmp(key, "name") == 0) {
        return ixd_cfg_copy_name(w, v, "collector name", c->name, sizeof(c->name));
    }
    if (strcmp(key, "transport") == 0) {
        c->transport_line = (unsigned)v->start_mark.line + 1;
        c->transport_column = (unsigned)v->start_mark.column + 1;
        return ixd_cfg_copy_name(w, v, "transport", c->transport, sizeof(c->transport));
    }
    return 0; /* the input type's, checked by it */
}

int
ixd_cfg_parse_collectors(struct walk *w, yaml_node_t *seq)
{
    struct ixd_config *cfg = w->cfg;
    yaml_node_item_t *it;
    size_t n, i;

    if (ixd_cfg_want_sequence(w, seq, "collectors") == -1) {
        return -1;
    }
    n = (size_t)(seq->data.sequence.items.top - seq->data.sequence.items.start);
    cfg->collectors = calloc(n ? n : 1, sizeof(*cfg->collectors));
    if (cfg->collectors == NULL) {
        return ixd_cfg_fail(w, seq, "out of memory");
    }
    for (it = seq->data.sequence.items.start; it < seq->data.sequence.items.top; it++) {
        yaml_node_t *m = ixd_cfg_node(w, *it);
        struct ixd_config_collector *c = &cfg->collectors[cfg->n_collectors];

        if (ixd_cfg_want_mapping(w, m, "a collector") == -1) {
            return -1;
        }
        c->line = c->transport_line = (unsigned)m->start_mark.line + 1;
        c->column = c->transport_column = (unsigned)m->start_mark.column + 1;
        snprintf(c->transport, sizeof(c->transport), "udp");
        cfg->n_collectors++; /* counted first so that ixd_config_free releases its settings */
        if (ixd_cfg_each_key(w, m, collector_key, c) == -1 ||
            ixd_cfg_copy_except(w, m, "name", "transport", &c->settings) == -1) {
            return -1;
        }
        if (c->name[0] == '\0') {
            return ixd_cfg_fail(w, m, "a collector needs a name");
        }
        for (i = 0; i + 1 < cfg->n_collectors; i++) {
            if (strcmp(cfg->collectors[i].name, c->name) == 0) {
                return ixd_cfg_fail(w, m, "a collector named '%s' is defined twice", c->name);
            }
        }
    }
    return 0;
}
