/*
 * /api/v1/config (docs/api.md#config): the running config as written, its collectors, outputs
 * and pipelines as resources that GET shows exactly as PUT takes them, and the writes. A read
 * is answered on the server's thread from the copy the control thread last set; a write runs on
 * a write thread, is checked here for what HTTP asks (role, preconditions, media type, JSON),
 * and is made by the control thread (api.h: struct ixd_config_request), which checks it as
 * `ipfixd -t` checks a file and applies it as a reload does. Every write is audited.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "api/config.h"
#include "api/config_json.h"
#include "api/internal.h"
#include "core/config_tree.h"
#include "core/log.h"

struct api_config *
api_config_new(const struct ixd_config_api *cfg, const struct ixd_api_config_hooks *hooks)
{
    struct api_config *c = calloc(1, sizeof(*c));

    if (c == NULL) {
        return NULL;
    }
    pthread_mutex_init(&c->lock, NULL);
    if (hooks != NULL && hooks->submit != NULL) {
        c->hooks = *hooks;
        c->have_hooks = 1;
    }
    c->writes = cfg->writes;
    c->pipeline_role = cfg->pipeline_role;
    snprintf(c->audit_log, sizeof(c->audit_log), "%s", cfg->audit_log);
    return c;
}

void
api_config_free(struct api_config *c)
{
    if (c == NULL) {
        return;
    }
    ixd_cnode_release(&c->tree);
    pthread_mutex_destroy(&c->lock);
    free(c);
}

void
api_config_set(struct api_config *c, const struct ixd_cnode *tree)
{
    struct ixd_cnode copy;

    if (ixd_cnode_copy(&copy, tree) == -1) {
        log_err("api: out of memory copying the config: /api/v1/config shows the one before");
        return;
    }
    pthread_mutex_lock(&c->lock);
    ixd_cnode_release(&c->tree);
    c->tree = copy;
    c->have_tree = 1;
    pthread_mutex_unlock(&c->lock);
}

int
api_config_writable(const struct api_config *c)
{
    /* fixed for the server's life: a change of the api section restarts it */
    return c != NULL && c->writes != IXD_API_WRITES_OFF;
}

/* A copy of what is under the lock: the whole tree, or the item section/name (NULL: whole).
 * 0, or -1 when there is no such item (or no tree yet, or no memory). */
int
api_config_snapshot(struct api_config *c, const char *section, const char *name,
                    struct ixd_cnode *out, size_t *index)
{
    const struct ixd_cnode *n;
    int ok = -1;

    pthread_mutex_lock(&c->lock);
    n = !c->have_tree     ? NULL
        : section == NULL ? &c->tree
        : name == NULL    ? ixd_cnode_get(&c->tree, section)
                          : ixd_config_tree_item(&c->tree, section, name, index);
    if (n != NULL) {
        ok = ixd_cnode_copy(out, n);
    }
    pthread_mutex_unlock(&c->lock);
    return ok;
}

/* ---- paths ---- */

enum api_config_target
api_config_path(const char *path, struct api_config_where *w)
{
    const char *p = path + strlen(API_PREFIX "/config");
    const char *slash;
    char *end;
    size_t len;

    memset(w, 0, sizeof(*w));
    if (*p == '\0' || strcmp(p, "/") == 0) {
        return w->target = API_CFG_CONFIG;
    }
    if (strcmp(p, "/validation") == 0) {
        return w->target = API_CFG_VALIDATION;
    }
    p++;
    slash = strchr(p, '/');
    len = slash != NULL ? (size_t)(slash - p) : strlen(p);
    if (len >= sizeof(w->section)) {
        return API_CFG_NONE;
    }
    memcpy(w->section, p, len);
    if (!ixd_config_tree_section(w->section)) {
        return API_CFG_NONE;
    }
    if (slash == NULL || slash[1] == '\0') {
        return w->target = API_CFG_SECTION;
    }
    p = slash + 1;
    slash = strchr(p, '/');
    len = slash != NULL ? (size_t)(slash - p) : strlen(p);
    if (len == 0 || len >= sizeof(w->name)) {
        return API_CFG_NONE;
    }
    memcpy(w->name, p, len);
    if (slash == NULL) {
        return w->target = API_CFG_ITEM;
    }
    if (strcmp(w->section, "pipelines") != 0 || strncmp(slash, "/stages/", 8) != 0) {
        return API_CFG_NONE;
    }
    errno = 0;
    w->stage = strtoul(slash + 8, &end, 10);
    if (errno != 0 || end == slash + 8 || strcmp(end, "/reload") != 0) {
        return API_CFG_NONE;
    }
    return w->target = API_CFG_STAGE;
}

/* ---- reads ---- */

const char *
api_config_allowed(enum api_config_target t)
{
    switch (t) {
    case API_CFG_CONFIG:
        return "GET, HEAD";
    case API_CFG_SECTION:
        return "GET, HEAD, POST";
    case API_CFG_ITEM:
        return "GET, HEAD, PUT, PATCH, DELETE";
    default:
        return "POST";
    }
}

/* The state resource an item's config is of: /api/v1/collectors/NAME and so on. */
static json_t *
item_links(const char *section, const char *name)
{
    return json_pack("{s:o, s:o, s:o}", "self", api_link(API_PREFIX "/config/%s/%s", section, name),
                     "collection", api_link(API_PREFIX "/config/%s", section), "state",
                     api_link(API_PREFIX "/%s/%s", section, name));
}

/* An item as GET shows it: its config, its links and the writes it takes. */
json_t *
api_config_item_json(const struct ixd_cnode *item, const char *section, const char *name)
{
    json_t *j = api_config_to_json(item);

    if (j == NULL) {
        return NULL;
    }
    json_object_set_new(j, "_links", item_links(section, name));
    json_object_set_new(j, "_templates", api_config_item_templates(section, item));
    return j;
}

static int
read_item(const struct api_ctx *ctx, struct api_reply *r, const struct api_config_where *w)
{
    struct ixd_cnode item;

    if (api_config_snapshot(ctx->config, w->section, w->name, &item, NULL) == -1) {
        if (strcmp(w->section, "pipelines") == 0 && strcmp(w->name, "default") == 0) {
            return api_problem(ctx, r, 404,
                               "the config has no pipelines: every collector feeds every output "
                               "(the first pipeline written makes this one explicit)");
        }
        return api_problem(ctx, r, 404, "there is no %s '%s' in the running config",
                           ixd_config_tree_one(w->section), w->name);
    }
    api_hal(r, api_config_item_json(&item, w->section, w->name));
    ixd_config_tree_etag(&item, r->etag);
    ixd_cnode_release(&item);
    return 0;
}

static int
read_section(const struct api_ctx *ctx, struct api_reply *r, const struct api_config_where *w)
{
    json_t *items = json_array(), *links = json_array();
    struct ixd_cnode seq = {0};
    char etag[IXD_ETAG_LEN];
    size_t i;

    if (api_config_snapshot(ctx->config, w->section, NULL, &seq, NULL) == 0 &&
        seq.kind == IXD_CNODE_SEQUENCE) {
        for (i = 0; i < seq.n; i++) {
            const char *name = ixd_config_tree_name(&seq.items[i]);
            json_t *j = name != NULL ? api_config_item_json(&seq.items[i], w->section, name) : NULL;
            if (j != NULL) {
                ixd_config_tree_etag(&seq.items[i], etag);
                json_object_set_new(j, "etag", json_string(etag));
                json_array_append_new(items, j);
                json_array_append_new(links,
                                      api_link(API_PREFIX "/config/%s/%s", w->section, name));
            }
        }
    }
    ixd_cnode_release(&seq);
    api_hal(r, json_pack("{s:I, s:{s:o, s:o, s:o}, s:{s:o}, s:o}", "count",
                         (json_int_t)json_array_size(items), "_links", "self",
                         api_link(API_PREFIX "/config/%s", w->section), "config",
                         api_link(API_PREFIX "/config"), "item", links, "_embedded", "items", items,
                         "_templates", api_config_section_templates(w->section)));
    return 0;
}

static int
read_config(const struct api_ctx *ctx, struct api_reply *r)
{
    struct ixd_cnode tree;
    json_t *j;

    if (api_config_snapshot(ctx->config, NULL, NULL, &tree, NULL) == -1) {
        return api_problem(ctx, r, 503, "the running config is not published yet");
    }
    j = api_config_to_json(&tree);
    ixd_config_tree_etag(&tree, r->etag);
    ixd_cnode_release(&tree);
    if (j == NULL) {
        return api_problem(ctx, r, 503, "out of memory");
    }
    json_object_set_new(j, "_links",
                        json_pack("{s:o, s:o, s:o, s:o, s:o}", "self",
                                  api_link(API_PREFIX "/config"), "collectors",
                                  api_link(API_PREFIX "/config/collectors"), "outputs",
                                  api_link(API_PREFIX "/config/outputs"), "pipelines",
                                  api_link(API_PREFIX "/config/pipelines"), "validation",
                                  api_link(API_PREFIX "/config/validation")));
    api_hal(r, j);
    return 0;
}

int
api_config_read(const struct api_ctx *ctx, struct api_reply *r)
{
    struct api_config_where w;

    switch (api_config_path(ctx->path, &w)) {
    case API_CFG_CONFIG:
        return read_config(ctx, r);
    case API_CFG_SECTION:
        return read_section(ctx, r, &w);
    case API_CFG_ITEM:
        return read_item(ctx, r, &w);
    case API_CFG_NONE:
        return api_problem(ctx, r, 404, "no resource at %s (try " API_PREFIX "/config)", ctx->path);
    default:
        r->allow = api_config_allowed(w.target);
        return api_problem(ctx, r, 405, "%s takes POST only", ctx->path);
    }
}
