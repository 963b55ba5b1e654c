/* outputs: the envelope of each (name, type); the rest of its mapping is its type's to read
 * (src/registry/, include/ipfixd/output.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "core/config.h"
#include "core/config_internal.h"

/* "HOST:PORT" or "[V6]:PORT" with a numeric address: names are not resolved on a worker. */
int
ixd_cfg_get_destination(struct walk *w, yaml_node_t *n, struct ixd_export_dest *d)
{
    struct ixd_config_collector tmp;
    const char *s;
    char msg[256];

    if (ixd_cfg_want_scalar(w, n, "a destination", &s) == -1) {
        return -1;
    }
    memset(&tmp, 0, sizeof(tmp));
    if (ixd_config_parse_listen(s, &tmp, msg, sizeof(msg)) == -1) {
        return ixd_cfg_fail(w, n, "a destination must be IPV4:PORT or [IPV6]:PORT, not '%s'", s);
    }
    if (tmp.any_address) {
        return ixd_cfg_fail(w, n, "a destination needs an address, not '%s'", s);
    }
    snprintf(d->text, sizeof(d->text), "%s", s);
    d->addr = tmp.addr;
    d->addrlen = tmp.addrlen;
    return 0;
}

/* Copies the output's mapping without name and type: what its type reads. */
static int
copy_settings(struct walk *w, yaml_node_t *m, struct ixd_config_output *o)
{
    yaml_node_pair_t *p;
    size_t n = 0;

    o->settings.kind = IXD_CNODE_MAPPING;
    o->settings.line = o->line;
    o->settings.column = o->column;
    o->settings.items =
        calloc(2 * (size_t)(m->data.mapping.pairs.top - m->data.mapping.pairs.start) + 1,
               sizeof(*o->settings.items));
    if (o->settings.items == NULL) {
        return ixd_cfg_fail(w, m, "out of memory");
    }
    for (p = m->data.mapping.pairs.start; p < m->data.mapping.pairs.top; p++) {
        yaml_node_t *k = ixd_cfg_node(w, p->key);
        const char *key = ixd_cfg_scalar(k);

        if (key == NULL) {
            return ixd_cfg_fail(w, k, "keys must be plain words");
        }
        if (strcmp(key, "name") == 0 || strcmp(key, "type") == 0) {
            continue;
        }
        o->settings.n = ++n;
        if (ixd_cfg_copy_tree(w, k, &o->settings.items[2 * (n - 1)], 1) == -1 ||
            ixd_cfg_copy_tree(w, ixd_cfg_node(w, p->value), &o->settings.items[2 * n - 1], 1) ==
                -1) {
            return -1;
        }
    }
    return 0;
}

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
        if (ixd_cfg_each_key(w, m, output_key, o) == -1 || copy_settings(w, m, o) == -1) {
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
