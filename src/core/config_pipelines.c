/* pipelines: from, to and the stages, whose settings are copied as written. */
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "core/cnode.h"
#include "core/config.h"
#include "core/config_internal.h"

/* Resolves a list of names (or one name) against collectors or outputs. */
static int
name_list(struct walk *w, yaml_node_t *v, const char *what, int want_collectors, int **out,
          size_t *n_out)
{
    struct ixd_config *cfg = w->cfg;
    yaml_node_item_t *it;
    yaml_node_t *single = v;
    size_t count, i, j;

    count = v->type == YAML_SEQUENCE_NODE
                ? (size_t)(v->data.sequence.items.top - v->data.sequence.items.start)
                : 1;
    if (count == 0) {
        return ixd_cfg_fail(w, v, "%s must name at least one %s", what,
                            want_collectors ? "collector" : "output");
    }
    *out = calloc(count, sizeof(int));
    if (*out == NULL) {
        return ixd_cfg_fail(w, v, "out of memory");
    }
    for (i = 0; i < count; i++) {
        yaml_node_t *item = single;
        const char *s;
        int found = -1;

        if (v->type == YAML_SEQUENCE_NODE) {
            it = v->data.sequence.items.start + i;
            item = ixd_cfg_node(w, *it);
        }
        if (ixd_cfg_want_scalar(w, item, what, &s) == -1) {
            return -1;
        }
        if (want_collectors) {
            for (j = 0; j < cfg->n_collectors; j++) {
                if (strcmp(cfg->collectors[j].name, s) == 0) {
                    found = (int)j;
                }
            }
        } else {
            for (j = 0; j < cfg->n_outputs; j++) {
                if (strcmp(cfg->outputs[j].name, s) == 0) {
                    found = (int)j;
                }
            }
        }
        if (found < 0) {
            return ixd_cfg_fail(w, item, "no %s named '%s'",
                                want_collectors ? "collector" : "output", s);
        }
        for (j = 0; j < *n_out; j++) {
            if ((*out)[j] == found) {
                return ixd_cfg_fail(w, item, "'%s' is listed twice", s);
            }
        }
        (*out)[(*n_out)++] = found;
    }
    return 0;
}

/* stages: a list of one-key mappings, `- filter: "..."`; the key names the stage type. */
static int
parse_stages(struct walk *w, yaml_node_t *v, struct ixd_config_pipeline *p)
{
    yaml_node_item_t *it;
    size_t n;

    if (ixd_cfg_want_sequence(w, v, "stages") == -1) {
        return -1;
    }
    n = (size_t)(v->data.sequence.items.top - v->data.sequence.items.start);
    p->stages = calloc(n ? n : 1, sizeof(*p->stages));
    if (p->stages == NULL) {
        return ixd_cfg_fail(w, v, "out of memory");
    }
    for (it = v->data.sequence.items.start; it < v->data.sequence.items.top; it++) {
        yaml_node_t *m = ixd_cfg_node(w, *it), *k;
        struct ixd_config_stage *st = &p->stages[p->n_stages];
        size_t len;

        if (m->type != YAML_MAPPING_NODE ||
            m->data.mapping.pairs.top - m->data.mapping.pairs.start != 1) {
            return ixd_cfg_fail(
                w, m, "a stage is one key naming its type, e.g. '- filter: \"proto tcp\"'");
        }
        k = ixd_cfg_node(w, m->data.mapping.pairs.start[0].key);
        if (k->type != YAML_SCALAR_NODE || (len = k->data.scalar.length) >= sizeof(st->type)) {
            return ixd_cfg_fail(w, k, "a stage type is a word such as filter or anonymise");
        }
        memcpy(st->type, k->data.scalar.value, len);
        st->line = (unsigned)k->start_mark.line + 1;
        st->column = (unsigned)k->start_mark.column + 1;
        p->n_stages++; /* counted first so that ixd_config_free releases its settings */
        if (ixd_cfg_copy_tree(w, ixd_cfg_node(w, m->data.mapping.pairs.start[0].value),
                              &st->settings, 0) == -1) {
            return -1;
        }
    }
    return 0;
}

static int
pipeline_key(struct walk *w, const char *key, yaml_node_t *k, yaml_node_t *v, void *ctx)
{
    struct ixd_config_pipeline *p = ctx;

    if (strcmp(key, "name") == 0) {
        return ixd_cfg_copy_name(w, v, "pipeline name", p->name, sizeof(p->name));
    }
    if (strcmp(key, "from") == 0) {
        return name_list(w, v, "from", 1, &p->from, &p->n_from);
    }
    if (strcmp(key, "to") == 0) {
        return name_list(w, v, "to", 0, &p->to, &p->n_to);
    }
    if (strcmp(key, "stages") == 0) {
        return parse_stages(w, v, p);
    }
    return ixd_cfg_fail(w, k, "unknown key '%s' in a pipeline (known: name, from, to, stages)",
                        key);
}

int
ixd_cfg_parse_pipelines(struct walk *w, yaml_node_t *seq)
{
    struct ixd_config *cfg = w->cfg;
    yaml_node_item_t *it;
    size_t n, i;

    if (ixd_cfg_want_sequence(w, seq, "pipelines") == -1) {
        return -1;
    }
    n = (size_t)(seq->data.sequence.items.top - seq->data.sequence.items.start);
    cfg->pipelines = calloc(n ? n : 1, sizeof(*cfg->pipelines));
    if (cfg->pipelines == NULL) {
        return ixd_cfg_fail(w, seq, "out of memory");
    }
    for (it = seq->data.sequence.items.start; it < seq->data.sequence.items.top; it++) {
        yaml_node_t *m = ixd_cfg_node(w, *it);
        struct ixd_config_pipeline *p = &cfg->pipelines[cfg->n_pipelines];

        if (ixd_cfg_want_mapping(w, m, "a pipeline") == -1) {
            return -1;
        }
        cfg->n_pipelines++; /* counted first so that ixd_config_free releases its lists */
        if (ixd_cfg_each_key(w, m, pipeline_key, p) == -1) {
            return -1;
        }
        if (p->name[0] == '\0') {
            return ixd_cfg_fail(w, m, "a pipeline needs a name");
        }
        if (p->n_from == 0 || p->n_to == 0) {
            return ixd_cfg_fail(w, m, "pipeline '%s' needs 'from' (collectors) and 'to' (outputs)",
                                p->name);
        }
        for (i = 0; i + 1 < cfg->n_pipelines; i++) {
            if (strcmp(cfg->pipelines[i].name, p->name) == 0) {
                return ixd_cfg_fail(w, m, "a pipeline named '%s' is defined twice", p->name);
            }
        }
    }
    return 0;
}
