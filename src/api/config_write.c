/*
 * The writes of /api/v1/config, on a write thread (config.h): what HTTP asks of a request is
 * checked here (the role, If-Match or If-None-Match, the media type, JSON), the change itself by
 * the control thread; the answer, whatever it is, goes to the audit log.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "api/config.h"
#include "api/config_json.h"
#include "core/config_tree.h"
#include "core/log.h"

/* The role a write of w needs: pipelines may be the operator's (api.pipeline-writes). */
static enum api_access
need_for(const struct api_config *c, const struct api_config_where *w)
{
    if (w->target == API_CFG_VALIDATION) {
        return API_OPERATOR;
    }
    if (strcmp(w->section, "pipelines") == 0 && c->pipeline_role == IXD_API_ROLE_OPERATOR) {
        return API_OPERATOR;
    }
    return API_ADMIN;
}

/* 1 when the media type of content_type (parameters aside) is one of want ("a|b"). */
static int
media_is(const char *content_type, const char *want)
{
    size_t len;

    if (content_type == NULL) {
        return 0;
    }
    len = strcspn(content_type, "; \t");
    while (*want != '\0') {
        size_t w = strcspn(want, "|");
        if (w == len && strncasecmp(content_type, want, len) == 0) {
            return 1;
        }
        want += w + (want[w] == '|');
    }
    return 0;
}

/* The precondition of a PUT, PATCH or DELETE from If-Match / If-None-Match into expect: 0, or
 * -1 with the problem in r (428 without either, 400 for what ipfixd does not take, 412 for a
 * weak tag, which never matches a strong comparison). */
static int
precondition(const struct api_ctx *ctx, struct api_reply *r, int creation_allowed, char *expect)
{
    const char *im = ctx->if_match, *inm = ctx->if_none_match;

    if (im != NULL && inm != NULL) {
        return api_problem(ctx, r, 400, "send If-Match or If-None-Match, not both"), -1;
    }
    if (inm != NULL) {
        if (!creation_allowed || strcmp(inm, "*") != 0) {
            return api_problem(ctx, r, 400,
                               "If-None-Match: * creates an item with PUT; nothing else is taken"),
                   -1;
        }
        expect[0] = '\0';
        return 0;
    }
    if (im == NULL) {
        return api_problem(ctx, r, 428,
                           "%s needs If-Match with the ETag of the item as last read (or "
                           "If-None-Match: * to create one), so that writes do not overwrite each "
                           "other",
                           ctx->method),
               -1;
    }
    if (strncmp(im, "W/", 2) == 0) {
        return api_problem(ctx, r, 412, "a weak ETag never matches: send the ETag as GET gave it"),
               -1;
    }
    if (strchr(im, ',') != NULL || strlen(im) >= IXD_ETAG_LEN) {
        return api_problem(ctx, r, 400, "If-Match takes one ETag (or *)"), -1;
    }
    snprintf(expect, IXD_ETAG_LEN, "%s", im);
    return 0;
}

/* The request body as JSON: NULL after a 400 or 415 in r. */
static json_t *
body_json(const struct api_ctx *ctx, struct api_reply *r, const char *media)
{
    json_error_t jerr;
    json_t *j;

    if (!media_is(ctx->content_type, media)) {
        api_problem(ctx, r, 415, "%s takes %s, not %s", ctx->method, media,
                    ctx->content_type != NULL ? ctx->content_type : "a body without a type");
        return NULL;
    }
    j = json_loadb(ctx->body, ctx->body_len, JSON_REJECT_DUPLICATES, &jerr);
    if (j == NULL) {
        api_problem(ctx, r, 400, "the body is not JSON: %s (line %d, column %d)", jerr.text,
                    jerr.line, jerr.column);
    } else if (!json_is_object(j)) {
        api_problem(ctx, r, 422, "the body must be a JSON object");
        json_decref(j);
        j = NULL;
    }
    return j;
}

/* A 422 for a body that cannot be an item, at pointer. */
static void
unprocessable(const struct api_ctx *ctx, struct api_reply *r, const char *pointer, const char *why)
{
    api_problem(ctx, r, 422, "%s", why);
    json_object_set_new(r->json, "pointer", json_string(pointer));
}

/* j as the item of req: the name it gives must be the one the URL names (it is added when it
 * gives none). 0, or -1 after a 422. */
static int
take_item(const struct api_ctx *ctx, struct api_reply *r, json_t *j, struct ixd_config_request *req)
{
    json_t *name = json_object_get(j, "name");
    char why[256], pointer[256];

    if (name == NULL) {
        json_object_set_new(j, "name", json_string(req->name));
    } else if (!json_is_string(name) || strcmp(json_string_value(name), req->name) != 0) {
        snprintf(why, sizeof(why),
                 "name must be '%s', as the URL says (a rename is a PUT of "
                 "the new name and a DELETE of the old)",
                 req->name);
        unprocessable(ctx, r, "/name", why);
        return -1;
    }
    if (api_config_from_json(j, &req->item, why, sizeof(why), pointer, sizeof(pointer)) == -1) {
        unprocessable(ctx, r, pointer, why);
        return -1;
    }
    return 0;
}

/* PATCH: the running item, the merge patch over it, and its ETag as what must still be there. */
static int
patched_item(const struct api_ctx *ctx, struct api_reply *r, struct ixd_config_request *req)
{
    struct ixd_cnode current;
    char etag[IXD_ETAG_LEN];
    json_t *patch, *target;
    int ok;

    if (api_config_snapshot(ctx->config, req->section, req->name, &current, NULL) == -1) {
        return api_problem(ctx, r, 404, "there is no %s '%s' to patch",
                           ixd_config_tree_one(req->section), req->name),
               -1;
    }
    ixd_config_tree_etag(&current, etag);
    target = api_config_to_json(&current);
    ixd_cnode_release(&current);
    if (strcmp(req->expect, "*") != 0 && strcmp(req->expect, etag) != 0) {
        json_decref(target);
        return api_problem(ctx, r, 412, "%s '%s' has changed: its ETag is %s now; read it again",
                           ixd_config_tree_one(req->section), req->name, etag),
               -1;
    }
    memcpy(req->expect, etag, sizeof(etag)); /* the control thread checks it again, atomically */
    patch = body_json(ctx, r, "application/merge-patch+json");
    if (patch == NULL) {
        json_decref(target);
        return -1;
    }
    target = api_merge_patch(target, patch);
    json_decref(patch);
    if (target == NULL) {
        return api_problem(ctx, r, 503, "out of memory"), -1;
    }
    ok = take_item(ctx, r, target, req);
    json_decref(target);
    return ok;
}

/* The request for a write of w, ready to submit: 0, or -1 with the answer in r. */
static int
prepare(const struct api_ctx *ctx, struct api_reply *r, const struct api_config_where *w,
        struct ixd_config_request *req)
{
    const char *m = ctx->method;
    json_t *j;
    int ok;

    snprintf(req->section, sizeof(req->section), "%s", w->section);
    snprintf(req->name, sizeof(req->name), "%s", w->name);
    req->stage = w->stage;
    if (w->target == API_CFG_STAGE) {
        req->op = IXD_CONFIG_RELOAD_STAGE;
        return 0;
    }
    if (w->target == API_CFG_ITEM && strcmp(m, "DELETE") == 0) {
        req->op = IXD_CONFIG_DELETE;
        return precondition(ctx, r, 0, req->expect);
    }
    if (w->target == API_CFG_ITEM && strcmp(m, "PATCH") == 0) {
        req->op = IXD_CONFIG_PUT;
        return precondition(ctx, r, 0, req->expect) == -1 ? -1 : patched_item(ctx, r, req);
    }
    if (w->target == API_CFG_ITEM && precondition(ctx, r, 1, req->expect) == -1) {
        return -1;
    }
    j = body_json(ctx, r, "application/json|application/hal+json");
    if (j == NULL) {
        return -1;
    }
    if (w->target == API_CFG_VALIDATION) {
        const char *item = ctx->query(ctx->query_arg, "item");
        struct api_config_where at;
        char why[256], pointer[256];

        if (item == NULL) {
            req->op = IXD_CONFIG_CHECK_CONFIG;
            ok = api_config_from_json(j, &req->item, why, sizeof(why), pointer, sizeof(pointer));
            if (ok == -1) {
                unprocessable(ctx, r, pointer, why);
            }
            json_decref(j);
            return ok;
        }
        /* ?item=outputs/NAME: the item checked in the running config, as a PUT would be */
        char path[256];
        snprintf(path, sizeof(path), API_PREFIX "/config/%s", item);
        if (api_config_path(path, &at) != API_CFG_ITEM) {
            json_decref(j);
            return api_problem(ctx, r, 400,
                               "item must name one: collectors/NAME, outputs/NAME "
                               "or pipelines/NAME"),
                   -1;
        }
        req->op = IXD_CONFIG_CHECK_ITEM;
        snprintf(req->section, sizeof(req->section), "%s", at.section);
        snprintf(req->name, sizeof(req->name), "%s", at.name);
    } else if (w->target == API_CFG_SECTION) {
        /* POST to the collection creates the item its body names */
        json_t *name = json_object_get(j, "name");
        if (!json_is_string(name) || json_string_length(name) == 0 ||
            json_string_length(name) >= sizeof(req->name)) {
            json_decref(j);
            unprocessable(ctx, r, "/name", "a new item needs a name (a string)");
            return -1;
        }
        snprintf(req->name, sizeof(req->name), "%s", json_string_value(name));
        req->op = IXD_CONFIG_PUT;
        req->expect[0] = '\0';
    } else {
        req->op = IXD_CONFIG_PUT;
    }
    ok = take_item(ctx, r, j, req);
    json_decref(j);
    return ok;
}

/* The answer of the control thread as the API's. */
static void
reply_of(const struct api_ctx *ctx, struct api_reply *r, const struct api_config_where *w,
         const struct ixd_config_request *req)
{
    struct ixd_cnode item;
    size_t plen = strlen(req->item_pointer);

    if (req->status >= 300) {
        /* a creation that found the name taken is a conflict of the collection's */
        int status = req->status == 412 && w->target == API_CFG_SECTION ? 409 : req->status;
        api_problem(ctx, r, status, "%s", req->detail);
        if (req->pointer[0] != '\0') {
            json_object_set_new(r->json, "config-pointer", json_string(req->pointer));
            if (req->op == IXD_CONFIG_CHECK_CONFIG) {
                json_object_set_new(r->json, "pointer", json_string(req->pointer));
            } else if (plen > 0 && strncmp(req->pointer, req->item_pointer, plen) == 0 &&
                       (req->pointer[plen] == '/' || req->pointer[plen] == '\0')) {
                json_object_set_new(r->json, "pointer", json_string(req->pointer + plen));
            }
        }
        return;
    }
    if (req->op == IXD_CONFIG_CHECK_CONFIG || req->op == IXD_CONFIG_CHECK_ITEM) {
        api_hal(r, json_pack("{s:b, s:s, s:{s:o}}", "valid", 1, "detail", req->detail, "_links",
                             "config", api_link(API_PREFIX "/config")));
        return;
    }
    if (req->op == IXD_CONFIG_RELOAD_STAGE) {
        api_hal(r, json_pack("{s:s, s:s, s:I, s:{s:o, s:o}}", "result", "reloaded", "pipeline",
                             req->name, "stage", (json_int_t)req->stage, "_links", "pipeline",
                             api_link(API_PREFIX "/config/pipelines/%s", req->name), "state",
                             api_link(API_PREFIX "/pipelines/%s", req->name)));
        return;
    }
    if (req->status == 204) {
        r->status = 204;
        return;
    }
    if (api_config_snapshot(ctx->config, req->section, req->name, &item, NULL) == -1) {
        api_problem(ctx, r, 500, "applied, but the running config does not show it");
        return;
    }
    api_hal(r, api_config_item_json(&item, req->section, req->name));
    r->status = req->status;
    ixd_config_tree_etag(&item, r->etag);
    ixd_cnode_release(&item);
    if (req->status == 201 &&
        asprintf(&r->location, API_PREFIX "/config/%s/%s", req->section, req->name) == -1) {
        r->location = NULL;
    }
}

/* One line per write, whatever came of it: in the log (escaped) and in api.audit-log. */
static void
audit(const struct api_ctx *ctx, int fd, const struct ixd_config_request *req,
      const struct api_reply *r)
{
    const char *detail = json_string_value(json_object_get(r->json, "detail"));
    const char *who = ctx->who != NULL ? ctx->who->name : "";
    const char *kind = ctx->who != NULL && ctx->who->kind != NULL ? ctx->who->kind : "";
    char path[512], subject[256];
    json_t *line;
    char *text;

    ixd_log_escape(ctx->path, path, sizeof(path));
    ixd_log_escape(who, subject, sizeof(subject));
    log_info("api: %s %s by %s '%s' from %s: %d, ETag %s -> %s", ctx->method, path, kind, subject,
             ctx->client != NULL ? ctx->client : "?", r->status,
             req->etag_before[0] != '\0' ? req->etag_before : "none",
             req->etag_after[0] != '\0' && r->status < 300 ? req->etag_after : "none");
    if (fd == -1) {
        return;
    }
    line = json_pack(
        "{s:o, s:s, s:s, s:s, s:s, s:s, s:s, s:i, s:s*, s:s*, s:s*, s:s*}", "time",
        api_time(ctx->now_usec), "subject", who, "credential", kind, "role",
        ctx->who != NULL ? ixd_config_api_role_name(ctx->who->role) : "none", "client",
        ctx->client != NULL ? ctx->client : "?", "method", ctx->method, "path", ctx->path, "status",
        r->status, "etag-before", req->etag_before[0] != '\0' ? req->etag_before : NULL,
        "etag-after", req->etag_after[0] != '\0' && r->status < 300 ? req->etag_after : NULL,
        "detail", r->status >= 300 ? detail : NULL, "pointer",
        r->status >= 300 ? json_string_value(json_object_get(r->json, "pointer")) : NULL);
    text = line != NULL ? json_dumps(line, JSON_COMPACT) : NULL;
    if (text == NULL || dprintf(fd, "%s\n", text) < 0) {
        log_warn("api: cannot write the audit log %s", ctx->config->audit_log);
    }
    free(text);
    json_decref(line);
}

/* Whether w takes ctx's method: 0, or -1 after a 405. */
static int
method_taken(const struct api_ctx *ctx, struct api_reply *r, const struct api_config_where *w)
{
    const char *m = ctx->method;
    int ok = w->target == API_CFG_ITEM
                 ? strcmp(m, "PUT") == 0 || strcmp(m, "PATCH") == 0 || strcmp(m, "DELETE") == 0
             : w->target == API_CFG_CONFIG ? 0
                                           : strcmp(m, "POST") == 0;

    if (!ok) {
        r->allow = api_config_allowed(w->target);
        api_problem(ctx, r, 405, "%s is not allowed on %s (%s)", m, ctx->path, r->allow);
        return -1;
    }
    return 0;
}

int
api_config_write(const struct api_ctx *ctx, struct api_reply *r)
{
    struct api_config *c = ctx->config;
    struct api_config_where w;
    struct ixd_config_request *req;
    int fd = -1, status;

    if (api_config_path(ctx->path, &w) == API_CFG_NONE) {
        return api_problem(ctx, r, 404, "no resource at %s (try " API_PREFIX "/config)", ctx->path);
    }
    if (method_taken(ctx, r, &w) == -1) {
        return 0;
    }
    status = api_authorize(need_for(c, &w), 1, ctx->who);
    if (status != 0) {
        return api_problem(ctx, r, status, "%s '%s' has the role %s; %s %s needs %s",
                           ctx->who->kind, ctx->who->name, ixd_config_api_role_name(ctx->who->role),
                           ctx->method, ctx->path, api_access_name(need_for(c, &w)));
    }
    if (w.target != API_CFG_VALIDATION && c->writes == IXD_API_WRITES_OFF) {
        r->allow = "GET, HEAD";
        return api_problem(ctx, r, 403,
                           "api.writes is off: the config changes only through its file (set "
                           "api.writes: runtime or persist, docs/api.md#config)");
    }
    if (!c->have_hooks) {
        return api_problem(ctx, r, 503, "this server takes no config writes");
    }
    /* no audit trail, no change (a check changes nothing and is not audited) */
    if (w.target != API_CFG_VALIDATION && c->audit_log[0] != '\0') {
        fd = open(c->audit_log, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
        if (fd == -1) {
            return api_problem(ctx, r, 500, "cannot open the audit log %s: %s; nothing changed",
                               c->audit_log, strerror(errno));
        }
    }
    req = calloc(1, sizeof(*req));
    if (req == NULL) {
        api_problem(ctx, r, 503, "out of memory");
    } else if (prepare(ctx, r, &w, req) == 0) {
        c->hooks.submit(c->hooks.arg, req);
        reply_of(ctx, r, &w, req);
    }
    ixd_cnode_release(req != NULL ? &req->item : NULL);
    if (req != NULL && w.target != API_CFG_VALIDATION) {
        audit(ctx, fd, req, r);
    }
    free(req);
    if (fd != -1) {
        close(fd);
    }
    return 0;
}
