/* What a config makes of the module types: each collector, output and stage checked by its type. */
#include "registry/registry.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/keys.h"

/* One kind of module (inputs, outputs) as the checks below see it. */
struct kind {
    const char *what;     /* "collector", "output" */
    const char *selector; /* the key that names the type: "transport", "type" */
    const struct ixd_module_type *(*type_at)(size_t i); /* NULL past the last */
};

static const struct ixd_module_type *
input_at(size_t i)
{
    return ixd_input_types[i] != NULL ? &ixd_input_types[i]->m : NULL;
}

static const struct ixd_module_type *
output_at(size_t i)
{
    return ixd_output_types[i] != NULL ? &ixd_output_types[i]->m : NULL;
}

static const struct kind inputs = {"collector", "transport", input_at};
static const struct kind outputs = {"output", "type", output_at};

static void
settings_free(const struct ixd_module_type *t, void *settings)
{
    if (settings != NULL) {
        if (t->release != NULL) {
            t->release(settings);
        }
        ixd_keys_release(t->keys, settings);
        free(settings);
    }
}

static const struct ixd_module_type *
type_named(const struct kind *k, const char *name)
{
    const struct ixd_module_type *t;

    for (size_t i = 0; (t = k->type_at(i)) != NULL; i++) {
        if (strcmp(t->name, name) == 0) {
            return t;
        }
    }
    return NULL;
}

/* The types, other than t, that know key: "'mtu' applies only to outputs of type ipfix",
 * "... of transport udp, tcp, tls and dtls". */
static int
key_of_other_types(const struct kind *k, const struct ixd_module_type *t, const char *key,
                   char *types, size_t len)
{
    const struct ixd_module_type *o, *know[16];
    size_t used = 0, n = 0;

    types[0] = '\0';
    for (size_t i = 0; (o = k->type_at(i)) != NULL && n < 16; i++) {
        if (o != t && ixd_keys_find(o->keys, key, NULL) != NULL) {
            know[n++] = o;
        }
    }
    for (size_t i = 0; i < n && used < len; i++) {
        used += (size_t)snprintf(types + used, len - used, "%s%s",
                                 i == 0 ? "" : (i + 1 == n ? " and " : ", "), know[i]->name);
    }
    return n > 0;
}

/* "json, ipfix or ipfix-file" */
static void
known_types(const struct kind *k, char *out, size_t len)
{
    size_t used = 0;

    out[0] = '\0';
    for (size_t i = 0; k->type_at(i) != NULL && used < len; i++) {
        used += (size_t)snprintf(out + used, len - used, "%s%s",
                                 i == 0                      ? ""
                                 : k->type_at(i + 1) == NULL ? " or "
                                                             : ", ",
                                 k->type_at(i)->name);
    }
}

/*
 * One instance's settings: its type's keys, then its type's own checks. A key that only other
 * types know says which. *type and *settings are set as soon as they exist (freed by the caller).
 */
static int
instance_conf(const struct kind *k, const struct ixd_config *cfg,
              const struct ixd_config_module *wr, unsigned flags,
              const struct ixd_module_type **type, void **settings, char *err, size_t errlen)
{
    const struct ixd_module_type *t = type_named(k, wr->type);
    struct ixd_cnode at = {
        .kind = IXD_CNODE_SCALAR, .line = wr->type_line, .column = wr->type_column};
    char what[IXD_NAME_MAX + 64], types[128];
    struct ixd_key_env env;
    struct ixd_module_env menv;

    if (t == NULL) {
        known_types(k, types, sizeof(types));
        return ixd_cnode_fail(&at, cfg->source, err, errlen, "%s%s must be %s, not '%s'",
                              k == &outputs ? "output " : "", k->selector, types, wr->type);
    }
    for (size_t i = 0; i < wr->settings.n; i++) {
        const struct ixd_cnode *key = &wr->settings.items[2 * i];
        if (ixd_keys_find(t->keys, key->text, NULL) == NULL &&
            key_of_other_types(k, t, key->text, types, sizeof(types))) {
            return ixd_cnode_fail(key, cfg->source, err, errlen,
                                  "'%s' applies only to %ss of %s %s", key->text, k->what,
                                  k->selector, types);
        }
    }
    *type = t;
    *settings = calloc(1, t->settings_size);
    if (*settings == NULL) {
        snprintf(err, errlen, "%s: out of memory", cfg->source);
        return -1;
    }
    snprintf(what, sizeof(what), "%s '%s' of %s %s", k->what, wr->name, k->selector, t->name);
    env = (struct ixd_key_env){cfg->source, flags, what};
    menv = (struct ixd_module_env){cfg->source, wr->name, flags, &wr->settings};
    if (ixd_keys_parse(t->keys, &wr->settings, *settings, &env, err, errlen) == -1 ||
        (t->check != NULL && t->check(*settings, &menv, err, errlen) == -1)) {
        return -1;
    }
    return 0;
}

/* Instance i against the earlier ones of its type, or of a type whose places are of the same
 * kind (the same conflicts function: tcp and tls listening sockets): two that would use the
 * same place are refused where the second is written. */
static int
conflicts(const struct kind *k, const struct ixd_config *cfg, const struct ixd_config_module *wr,
          size_t i, const struct ixd_module_type *const *types, void *const *settings, char *err,
          size_t errlen)
{
    struct ixd_cnode at = {.kind = IXD_CNODE_SCALAR, .line = wr[i].line, .column = wr[i].column};
    char where[IXD_PATH_MAX + 64];

    for (size_t j = 0; j < i; j++) {
        if (types[i]->conflicts != NULL && types[j]->conflicts == types[i]->conflicts &&
            types[i]->conflicts(settings[j], settings[i], where, sizeof(where))) {
            /* an output's place is its own ("/var/log/flows.json"); an input's is its
             * transport's ("udp *:4739") */
            return ixd_cnode_fail(
                &at, cfg->source, err, errlen, "%ss '%s' and '%s' both %s %s%s%s", k->what,
                wr[j].name, wr[i].name, k == &outputs ? "write to" : "listen on",
                k == &outputs ? "" : types[i]->name, k == &outputs ? "" : " ", where);
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
    struct ixd_stage_env env = {.file = cfg->source,
                                .registry = reg,
                                .workers = workers,
                                .syntax_only = (flags & IXD_CONFIG_SYNTAX_ONLY) != 0,
                                .script_directory = cfg->lua_directory};

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
            struct ixd_cnode at = {
                .kind = IXD_CNODE_SCALAR, .line = st->line, .column = st->column};
            char known[256];

            if (t == NULL) {
                known_stages(known, sizeof(known));
                return ixd_cnode_fail(&at, cfg->source, err, errlen,
                                      "unknown stage '%s' (known: %s)", st->type, known);
            }
            pc->types[i] = t;
            pc->n = i + 1;
            env.pipeline = pl->name;
            env.index = (unsigned)i;
            pc->confs[i] = t->conf(&st->settings, &env, err, errlen);
            if (pc->confs[i] == NULL) {
                return -1;
            }
        }
    }
    return 0;
}

/*
 * Every instance of one kind, wr[n] as written: their types and settings in two arrays the
 * caller frees with their first *done entries (filled as it goes, so that what was made is
 * freed even on failure).
 */
static int
kind_conf(const struct kind *k, const struct ixd_config *cfg, const struct ixd_config_module *wr,
          size_t n, unsigned flags, const struct ixd_module_type ***types, void ***settings,
          size_t *done, char *err, size_t errlen)
{
    *types = calloc(n + 1, sizeof(**types));
    *settings = calloc(n + 1, sizeof(**settings));
    if (*types == NULL || *settings == NULL) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        *done = i + 1;
        if (instance_conf(k, cfg, &wr[i], flags, &(*types)[i], &(*settings)[i], err, errlen) ==
                -1 ||
            conflicts(k, cfg, wr, i, *types, *settings, err, errlen) == -1) {
            return -1;
        }
    }
    return 0;
}

/* Collectors and outputs checked by their types; the types found again by their kind. */
static int
modules_conf(const struct ixd_config *cfg, unsigned flags, struct ixd_instances *in, char *err,
             size_t errlen)
{
    const struct ixd_module_type **types = NULL;
    void **settings = NULL;
    size_t i;
    int rc;

    in->inputs = calloc(cfg->n_collectors + 1, sizeof(*in->inputs));
    in->outputs = calloc(cfg->n_outputs + 1, sizeof(*in->outputs));
    if (in->inputs == NULL || in->outputs == NULL) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    rc = kind_conf(&inputs, cfg, cfg->collectors, cfg->n_collectors, flags, &types, &settings,
                   &in->n_inputs, err, errlen);
    for (i = 0; types != NULL && settings != NULL && i < in->n_inputs; i++) {
        in->inputs[i].type = types[i] != NULL ? ixd_input_type_named(types[i]->name) : NULL;
        in->inputs[i].settings = settings[i];
    }
    free(types);
    free(settings);
    types = NULL;
    settings = NULL;
    if (rc == 0) {
        rc = kind_conf(&outputs, cfg, cfg->outputs, cfg->n_outputs, flags, &types, &settings,
                       &in->n_outputs, err, errlen);
    }
    for (i = 0; types != NULL && settings != NULL && i < in->n_outputs; i++) {
        in->outputs[i].type = types[i] != NULL ? ixd_output_type_named(types[i]->name) : NULL;
        in->outputs[i].settings = settings[i];
    }
    free(types);
    free(settings);
    return rc;
}

struct ixd_instances *
ixd_instances_conf(const struct ixd_config *cfg, const struct ixd_ie_registry *reg,
                   unsigned workers, unsigned flags, char *err, size_t errlen)
{
    struct ixd_instances *in = calloc(1, sizeof(*in));

    if (in == NULL) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    /* in the order of the file: collectors, outputs, then the pipelines' stages */
    if (modules_conf(cfg, flags, in, err, errlen) == -1 ||
        pipelines_conf(cfg, reg, workers, flags, in, err, errlen) == -1) {
        ixd_instances_free(in);
        return NULL;
    }
    return in;
}

void
ixd_instances_free(struct ixd_instances *in)
{
    if (in == NULL) {
        return;
    }
    for (size_t i = 0; in->inputs != NULL && i < in->n_inputs; i++) {
        if (in->inputs[i].type != NULL) {
            settings_free(&in->inputs[i].type->m, in->inputs[i].settings);
        }
    }
    for (size_t i = 0; in->outputs != NULL && i < in->n_outputs; i++) {
        if (in->outputs[i].type != NULL) {
            settings_free(&in->outputs[i].type->m, in->outputs[i].settings);
        }
    }
    free(in->inputs);
    free(in->outputs);
    ixd_pipeline_confs_free(in->pipelines, in->n_pipelines);
    free(in);
}

int
ixd_input_same(const struct ixd_input_conf *a, const char *a_name, const struct ixd_input_conf *b,
               const char *b_name)
{
    return a->type == b->type && strcmp(a_name, b_name) == 0 && a->settings != NULL &&
           b->settings != NULL &&
           ixd_keys_same(a->type->m.keys, a->settings, b->settings, IXD_KEYS_REBUILD);
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
    settings_free(&t->m, settings);
    free(name);
}

int
ixd_output_same(const struct ixd_output *o, const struct ixd_output_conf *c, const char *name)
{
    return o->type == c->type && strcmp(o->name, name) == 0 && c->settings != NULL &&
           ixd_keys_same(c->type->m.keys, o->settings, c->settings, IXD_KEYS_ALL);
}
