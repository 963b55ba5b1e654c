/* What a config makes of the module types: each output and stage checked by its type. */
#include "registry/registry.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/keys.h"

static void
settings_free(const struct ixd_output_type *t, void *settings)
{
    if (settings != NULL) {
        ixd_keys_release(t->keys, settings);
        free(settings);
    }
}

/* The types, other than t, that know key: "'mtu' applies only to outputs of type ipfix". */
static int
key_of_other_types(const struct ixd_output_type *t, const char *key, char *types, size_t len)
{
    size_t used = 0;
    int found = 0;

    types[0] = '\0';
    for (size_t i = 0; ixd_output_types[i] != NULL; i++) {
        const struct ixd_output_type *o = ixd_output_types[i];
        if (o != t && ixd_keys_find(o->keys, key) != NULL && used < len) {
            used +=
                (size_t)snprintf(types + used, len - used, "%s%s", found ? " and " : "", o->name);
            found = 1;
        }
    }
    return found;
}

static void
known_types(char *out, size_t len)
{
    size_t used = 0;

    out[0] = '\0';
    for (size_t i = 0; ixd_output_types[i] != NULL && used < len; i++) {
        used += (size_t)snprintf(out + used, len - used, "%s%s",
                                 i == 0                            ? ""
                                 : ixd_output_types[i + 1] == NULL ? " or "
                                                                   : ", ",
                                 ixd_output_types[i]->name);
    }
}

/* One output's settings: its type's keys, then its type's own checks. */
static int
output_conf(const struct ixd_config *cfg, const struct ixd_config_output *co, unsigned flags,
            struct ixd_output_conf *out, char *err, size_t errlen)
{
    const struct ixd_output_type *t = ixd_output_type_named(co->type);
    struct ixd_cnode at = {IXD_CNODE_SCALAR, co->type_line, co->type_column, NULL, 0, NULL};
    char what[IXD_NAME_MAX + 48], types[128];
    struct ixd_key_env env;
    struct ixd_output_env oenv;

    if (t == NULL) {
        known_types(types, sizeof(types));
        return ixd_cnode_fail(&at, cfg->source, err, errlen, "output type must be %s, not '%s'",
                              types, co->type);
    }
    for (size_t i = 0; i < co->settings.n; i++) {
        const struct ixd_cnode *k = &co->settings.items[2 * i];
        if (ixd_keys_find(t->keys, k->text) == NULL &&
            key_of_other_types(t, k->text, types, sizeof(types))) {
            return ixd_cnode_fail(k, cfg->source, err, errlen,
                                  "'%s' applies only to outputs of type %s", k->text, types);
        }
    }
    out->type = t;
    out->settings = calloc(1, t->settings_size);
    if (out->settings == NULL) {
        snprintf(err, errlen, "%s: out of memory", cfg->source);
        return -1;
    }
    snprintf(what, sizeof(what), "output '%s' of type %s", co->name, t->name);
    env = (struct ixd_key_env){cfg->source, flags, what};
    oenv = (struct ixd_output_env){cfg->source, co->name, flags, &co->settings};
    if (ixd_keys_parse(t->keys, &co->settings, out->settings, &env, err, errlen) == -1 ||
        (t->check != NULL && t->check(out->settings, &oenv, err, errlen) == -1)) {
        return -1;
    }
    return 0;
}

/* Two outputs of one type writing the same place are refused where the second is written. */
static int
output_conflicts(const struct ixd_config *cfg, const struct ixd_instances *in, size_t i, char *err,
                 size_t errlen)
{
    const struct ixd_output_conf *c = &in->outputs[i];
    struct ixd_cnode at = {
        IXD_CNODE_SCALAR, cfg->outputs[i].line, cfg->outputs[i].column, NULL, 0, NULL};
    char what[IXD_PATH_MAX + 64];

    for (size_t j = 0; j < i; j++) {
        if (in->outputs[j].type == c->type && c->type->conflicts != NULL &&
            c->type->conflicts(in->outputs[j].settings, c->settings, what, sizeof(what))) {
            return ixd_cnode_fail(&at, cfg->source, err, errlen,
                                  "outputs '%s' and '%s' both write to %s", cfg->outputs[j].name,
                                  cfg->outputs[i].name, what);
        }
    }
    return 0;
}

static void
known_stages(char *out, size_t len)
{
    size_t used = 0;

    out[0] = '\0';
    for (size_t i = 0; ixd_stage_types[i] != NULL && used < len; i++) {
        used += (size_t)snprintf(out + used, len - used, "%s%s", i == 0 ? "" : ", ",
                                 ixd_stage_types[i]->name);
    }
}

/* The stages of every pipeline, each checked by its type. */
static int
pipelines_conf(const struct ixd_config *cfg, const struct ixd_ie_registry *reg, unsigned workers,
               unsigned flags, struct ixd_instances *in, char *err, size_t errlen)
{
    struct ixd_stage_env env = {cfg->file, reg, workers, (flags & IXD_CONFIG_SYNTAX_ONLY) != 0};

    in->pipelines = calloc(cfg->n_pipelines + 1, sizeof(*in->pipelines));
    if (in->pipelines == NULL) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    in->n_pipelines = cfg->n_pipelines;
    for (size_t p = 0; p < cfg->n_pipelines; p++) {
        const struct ixd_config_pipeline *pl = &cfg->pipelines[p];
        struct ixd_pipeline_conf *pc = &in->pipelines[p];

        pc->types = calloc(pl->n_stages + 1, sizeof(*pc->types));
        pc->confs = calloc(pl->n_stages + 1, sizeof(*pc->confs));
        if (pc->types == NULL || pc->confs == NULL) {
            snprintf(err, errlen, "out of memory");
            return -1;
        }
        for (size_t i = 0; i < pl->n_stages; i++) {
            const struct ixd_config_stage *st = &pl->stages[i];
            const struct ixd_stage_type *t = ixd_stage_type_named(st->type);
            struct ixd_cnode at = {IXD_CNODE_SCALAR, st->line, st->column, NULL, 0, NULL};
            char known[256];

            if (t == NULL) {
                known_stages(known, sizeof(known));
                return ixd_cnode_fail(&at, cfg->file, err, errlen, "unknown stage '%s' (known: %s)",
                                      st->type, known);
            }
            pc->types[i] = t;
            pc->n = i + 1;
            pc->confs[i] = t->conf(&st->settings, &env, err, errlen);
            if (pc->confs[i] == NULL) {
                return -1;
            }
        }
    }
    return 0;
}

struct ixd_instances *
ixd_instances_conf(const struct ixd_config *cfg, const struct ixd_ie_registry *reg,
                   unsigned workers, unsigned flags, char *err, size_t errlen)
{
    struct ixd_instances *in = calloc(1, sizeof(*in));

    if (in == NULL || (in->outputs = calloc(cfg->n_outputs + 1, sizeof(*in->outputs))) == NULL) {
        free(in);
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    /* stages first: a filter refused is the likelier mistake, and the cheaper check */
    if (pipelines_conf(cfg, reg, workers, flags, in, err, errlen) == -1) {
        goto fail;
    }
    for (size_t i = 0; i < cfg->n_outputs; i++) {
        in->n_outputs = i + 1;
        if (output_conf(cfg, &cfg->outputs[i], flags, &in->outputs[i], err, errlen) == -1 ||
            output_conflicts(cfg, in, i, err, errlen) == -1) {
            goto fail;
        }
    }
    return in;
fail:
    ixd_instances_free(in);
    return NULL;
}

void
ixd_instances_free(struct ixd_instances *in)
{
    if (in == NULL) {
        return;
    }
    for (size_t i = 0; i < in->n_outputs; i++) {
        if (in->outputs[i].type != NULL) {
            settings_free(in->outputs[i].type, in->outputs[i].settings);
        }
    }
    free(in->outputs);
    ixd_pipeline_confs_free(in->pipelines, in->n_pipelines);
    free(in);
}

/* An open output with what it owns beside the type's own state: its name and settings. */
struct ixd_output *
ixd_output_open(struct ixd_output_conf *c, const char *name, unsigned workers, char *err,
                size_t errlen)
{
    char *copy = strdup(name);
    struct ixd_output *o;

    if (copy == NULL) {
        snprintf(err, errlen, "output %s: out of memory", name);
        return NULL;
    }
    o = c->type->open(c->settings, copy, workers, err, errlen);
    if (o == NULL) {
        free(copy);
        return NULL;
    }
    o->type = c->type;
    o->name = copy;
    o->settings = c->settings;
    c->settings = NULL;
    return o;
}

void
ixd_output_close(struct ixd_output *o)
{
    const struct ixd_output_type *t;
    void *settings;
    char *name;

    if (o == NULL) {
        return;
    }
    t = o->type;
    settings = (void *)o->settings;
    name = (char *)o->name;
    t->close(o);
    settings_free(t, settings);
    free(name);
}

int
ixd_output_same(const struct ixd_output *o, const struct ixd_output_conf *c, const char *name)
{
    return o->type == c->type && strcmp(o->name, name) == 0 && c->settings != NULL &&
           ixd_keys_same(c->type->keys, o->settings, c->settings, IXD_KEYS_ALL);
}
