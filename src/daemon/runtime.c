#include "daemon/runtime.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"

/* Moves the sockets of an unchanged collector from prev; 1 when it did. */
/* Whether one of the first n entries of from[] took over index j already */
static int
taken(const long *from, size_t n, size_t j)
{
    size_t k;

    for (k = 0; k < n; k++) {
        if (from[k] == (long)j) {
            return 1;
        }
    }
    return 0;
}

/*
 * Adopting leaves prev as it was: its workers still read its listeners and outputs (their
 * counters, for the API's snapshots) until they switch to the new runtime. What moved is
 * recorded in rt's listener_from/output_from, and prev lets go of it in ixd_runtime_replaced().
 */
static int
adopt_listener(struct ixd_runtime *rt, size_t i, struct ixd_runtime *prev)
{
    size_t j;

    if (prev == NULL) {
        return 0;
    }
    for (j = 0; j < prev->cfg->n_collectors; j++) {
        if (prev->listeners[j].shared != NULL && !taken(rt->listener_from, i, j) &&
            ixd_input_same(&prev->instances->inputs[j], prev->cfg->collectors[j].name,
                           &rt->instances->inputs[i], rt->cfg->collectors[i].name)) {
            rt->listeners[i] = prev->listeners[j];
            rt->listener_from[i] = (long)j;
            return 1;
        }
    }
    return 0;
}

/* Moves an unchanged output from prev: it keeps running, its files and queues with it. */
static int
adopt_output(struct ixd_runtime *rt, size_t i, struct ixd_runtime *prev)
{
    size_t j;

    if (prev == NULL) {
        return 0;
    }
    for (j = 0; j < prev->cfg->n_outputs; j++) {
        if (prev->outputs[j] != NULL && !taken(rt->output_from, i, j) &&
            ixd_output_same(prev->outputs[j], &rt->instances->outputs[i],
                            rt->cfg->outputs[i].name)) {
            rt->outputs[i] = prev->outputs[j];
            rt->output_from[i] = (long)j;
            return 1;
        }
    }
    return 0;
}

static int
build_routes(struct ixd_runtime *rt)
{
    const struct ixd_config *cfg = rt->cfg;
    size_t c, p, k, t;

    rt->n_routes = calloc(cfg->n_collectors + 1, sizeof(size_t));
    rt->routes = calloc(cfg->n_collectors + 1, sizeof(struct ixd_output **));
    rt->n_staged = calloc(cfg->n_collectors + 1, sizeof(size_t));
    rt->staged = calloc(cfg->n_collectors + 1, sizeof(size_t *));
    if (rt->n_routes == NULL || rt->routes == NULL || rt->n_staged == NULL || rt->staged == NULL) {
        return -1;
    }
    for (c = 0; c < cfg->n_collectors; c++) {
        rt->routes[c] = calloc(cfg->n_outputs + 1, sizeof(struct ixd_output *));
        rt->staged[c] = calloc(cfg->n_pipelines + 1, sizeof(size_t));
        if (rt->routes[c] == NULL || rt->staged[c] == NULL) {
            return -1;
        }
        for (p = 0; p < cfg->n_pipelines; p++) {
            const struct ixd_config_pipeline *pl = &cfg->pipelines[p];
            int feeds = 0;
            for (k = 0; k < pl->n_from; k++) {
                feeds |= pl->from[k] == (int)c;
            }
            if (feeds && pl->n_stages > 0) {
                /* records changed on the way: this pipeline writes its own result */
                rt->staged[c][rt->n_staged[c]++] = p;
                continue;
            }
            for (k = 0; feeds && k < pl->n_to; k++) {
                struct ixd_output *o = rt->outputs[pl->to[k]];
                int dup = 0;
                for (t = 0; t < rt->n_routes[c]; t++) {
                    dup |= rt->routes[c][t] == o;
                }
                if (!dup) {
                    rt->routes[c][rt->n_routes[c]++] = o;
                }
            }
        }
    }
    return 0;
}

/* A failed runtime lets go of what it adopted (prev still has it), so that freeing it closes
 * only what it opened. */
static void
give_back(struct ixd_runtime *rt)
{
    size_t i;

    for (i = 0; rt->listener_from != NULL && i < rt->cfg->n_collectors; i++) {
        if (rt->listener_from[i] >= 0) {
            rt->listeners[i].shared = NULL;
        }
    }
    for (i = 0; rt->output_from != NULL && i < rt->cfg->n_outputs; i++) {
        if (rt->output_from[i] >= 0) {
            rt->outputs[i] = NULL;
        }
    }
}

void
ixd_runtime_replaced(struct ixd_runtime *prev, const struct ixd_runtime *rt)
{
    size_t i;

    for (i = 0; i < rt->cfg->n_collectors; i++) {
        if (rt->listener_from[i] >= 0) {
            prev->listeners[rt->listener_from[i]].shared = NULL;
        }
    }
    for (i = 0; i < rt->cfg->n_outputs; i++) {
        if (rt->output_from[i] >= 0) {
            prev->outputs[rt->output_from[i]] = NULL;
        }
    }
}

static int
open_listener(struct ixd_runtime *rt, size_t i, unsigned workers, char *err, size_t errlen)
{
    const struct ixd_input_conf *in = &rt->instances->inputs[i];
    struct ixd_listener *l = &rt->listeners[i];

    l->type = in->type;
    l->shared = in->type->open(in->settings, rt->cfg->collectors[i].name, workers, l->bound,
                               sizeof(l->bound), err, errlen);
    return l->shared != NULL ? 0 : -1;
}

struct ixd_runtime *
ixd_runtime_new(struct ixd_config *cfg, unsigned workers, const struct ixd_ie_registry *registry,
                struct ixd_runtime *prev, char *err, size_t errlen)
{
    struct ixd_runtime *rt = calloc(1, sizeof(*rt));
    size_t i;

    if (rt == NULL) {
        snprintf(err, errlen, "out of memory");
        ixd_config_free(cfg);
        return NULL;
    }
    rt->cfg = cfg;
    rt->workers = workers;
    rt->registry = registry;
    rt->listeners = calloc(cfg->n_collectors, sizeof(*rt->listeners));
    rt->outputs = calloc(cfg->n_outputs + 1, sizeof(*rt->outputs));
    rt->listener_from = malloc((cfg->n_collectors + 1) * sizeof(long));
    rt->output_from = malloc((cfg->n_outputs + 1) * sizeof(long));
    if (rt->listeners == NULL || rt->outputs == NULL || rt->listener_from == NULL ||
        rt->output_from == NULL) {
        snprintf(err, errlen, "out of memory");
        goto fail;
    }
    for (i = 0; i < cfg->n_collectors; i++) {
        rt->listener_from[i] = -1;
    }
    for (i = 0; i < cfg->n_outputs; i++) {
        rt->output_from[i] = -1;
    }
    /* every module checks its settings first: a config they refuse opens nothing */
    rt->instances = ixd_instances_conf(cfg, registry, workers, IXD_CONFIG_DEFAULT, err, errlen);
    if (rt->instances == NULL) {
        goto fail;
    }
    for (i = 0; i < cfg->n_collectors; i++) {
        if (!adopt_listener(rt, i, prev) && open_listener(rt, i, workers, err, errlen) == -1) {
            goto fail;
        }
    }
    for (i = 0; i < cfg->n_outputs; i++) {
        if (adopt_output(rt, i, prev)) {
            continue;
        }
        rt->outputs[i] =
            ixd_output_open(&rt->instances->outputs[i], cfg->outputs[i].name, workers, err, errlen);
        if (rt->outputs[i] == NULL) {
            goto fail;
        }
    }
    if (build_routes(rt) == -1) {
        snprintf(err, errlen, "out of memory");
        goto fail;
    }
    return rt;
fail:
    give_back(rt);
    ixd_runtime_free(rt);
    return NULL;
}

void
ixd_runtime_free(struct ixd_runtime *rt)
{
    size_t i;

    if (rt == NULL) {
        return;
    }
    for (i = 0; rt->listeners != NULL && i < rt->cfg->n_collectors; i++) {
        if (rt->listeners[i].shared != NULL) {
            rt->listeners[i].type->close(rt->listeners[i].shared, rt->workers);
        }
    }
    for (i = 0; rt->outputs != NULL && i < rt->cfg->n_outputs; i++) {
        if (rt->outputs[i] != NULL) {
            ixd_output_close(rt->outputs[i]);
        }
    }
    for (i = 0; rt->routes != NULL && i < rt->cfg->n_collectors; i++) {
        free(rt->routes[i]);
    }
    for (i = 0; rt->staged != NULL && i < rt->cfg->n_collectors; i++) {
        free(rt->staged[i]);
    }
    free(rt->staged);
    free(rt->n_staged);
    ixd_instances_free(rt->instances);
    free(rt->listener_from);
    free(rt->output_from);
    for (i = 0; rt->restore != NULL && i < rt->cfg->n_collectors; i++) {
        ixd_saved_templates_free(rt->restore[i]);
    }
    free(rt->restore);
    free(rt->routes);
    free(rt->n_routes);
    free(rt->listeners);
    free(rt->outputs);
    ixd_config_free(rt->cfg);
    free(rt);
}
