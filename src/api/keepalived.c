/*
 * keepalived over REST (docs/ha.md#keepalived-over-rest): GET /api/v1/ha/keepalived shows the
 * VRRP role the notify hook wrote, which virtual IPs this host holds and the include file as a
 * model; PUT /api/v1/ha/keepalived/include asks ipfixd-keepalived-apply, the root helper, to
 * replace that file. ipfixd writes none of keepalived's files: it checks the model (so that a
 * client hears of a mistake at once, with the field), sends the model (never a file) to the
 * helper's socket and answers with what the helper did; the helper checks it again against
 * root's policy, tests, installs and reloads (ha/apply/apply.h). A write runs on a thread of
 * its own (server.c), one at a time under the server's apply lock; reads go on meanwhile.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "api/internal.h"
#include "core/log.h"
#include "core/parse.h"
#include "ha/keepalived_model.h"
#include "ha/keepalived_wire.h"

/* The include file as the model PUT takes, with warnings about what it does not cover. */
static json_t *
include_model(const struct ixd_config_keepalived *ka)
{
    char *text = NULL;
    size_t len = 0;
    json_t *model;

    if (ixd_read_file(ka->include, IXD_KA_TEXT_MAX, &text, &len) == -1) {
        model = json_pack("{s:[], s:[], s:[]}", "instances", "virtual_servers", "warnings");
        json_array_append_new(
            json_object_get(model, "warnings"),
            json_sprintf("cannot read %s: %s", ka->include, ixd_read_error(errno)));
        return model;
    }
    model = ixd_ka_parse(text, len);
    free(text);
    /* the line of a warning is the include's */
    for (size_t i = 0; i < json_array_size(json_object_get(model, "warnings")); i++) {
        json_t *w = json_array_get(json_object_get(model, "warnings"), i);
        if (strncmp(json_string_value(w), "line ", 5) == 0 ||
            strncmp(json_string_value(w), "a block", 7) == 0) {
            json_array_set_new(json_object_get(model, "warnings"), i,
                               json_sprintf("%s: %s", ka->include, json_string_value(w)));
        }
    }
    return model;
}

/* ---- state: the role the notify hook wrote and the virtual IPs held ---- */

/* "role=MASTER since=1700000000 host=a" (deploy/keepalived/ipfixd-notify.sh). */
static void
add_role(const struct ixd_config_keepalived *ka, json_t *out)
{
    char *text = NULL, role[32] = "", host[256] = "";
    long long since = 0;
    size_t len = 0;
    const char *p;

    json_object_set_new(out, "role", json_null());
    json_object_set_new(out, "since", json_null());
    if (ka->state_file[0] == '\0' || ixd_read_file(ka->state_file, 4096, &text, &len) == -1) {
        return;
    }
    if ((p = strstr(text, "role=")) != NULL) {
        sscanf(p, "role=%31[A-Z]", role);
    }
    if ((p = strstr(text, "since=")) != NULL) {
        sscanf(p, "since=%lld", &since);
    }
    if ((p = strstr(text, "host=")) != NULL) {
        sscanf(p, "host=%255s", host);
    }
    free(text);
    if (role[0] != '\0') {
        json_object_set_new(out, "role", json_string(role));
    }
    if (since > 0) {
        json_object_set_new(out, "since", api_time((int64_t)since * 1000000));
    }
    if (host[0] != '\0') {
        json_object_set_new(out, "host", json_string(host));
    }
}

/* The interface holding address (no prefix), or NULL. */
static const char *
holder(const struct ifaddrs *ifs, const char *address)
{
    unsigned char want[16];
    char a[INET6_ADDRSTRLEN + 8];
    const struct ifaddrs *i;
    int v6 = strchr(address, ':') != NULL;

    snprintf(a, sizeof(a), "%s", address);
    a[strcspn(a, "/")] = '\0';
    if (inet_pton(v6 ? AF_INET6 : AF_INET, a, want) != 1) {
        return NULL;
    }
    for (i = ifs; i != NULL; i = i->ifa_next) {
        const struct sockaddr *sa = i->ifa_addr;
        if (sa == NULL || sa->sa_family != (v6 ? AF_INET6 : AF_INET)) {
            continue;
        }
        if (!v6 &&
            memcmp(&((const struct sockaddr_in *)(const void *)sa)->sin_addr, want, 4) == 0) {
            return i->ifa_name;
        }
        if (v6 &&
            memcmp(&((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr, want, 16) == 0) {
            return i->ifa_name;
        }
    }
    return NULL;
}

/*
 * Each configured virtual IP and whether an interface of this host holds it. getifaddrs needs
 * a netlink socket: where that is refused (RestrictAddressFamilies without AF_NETLINK), held is
 * null and a warning says why, rather than a false "not held".
 */
static json_t *
vips_held(const json_t *model, json_t *warnings)
{
    json_t *out = json_array(), *in, *vip;
    struct ifaddrs *ifs = NULL;
    int known = 1;
    size_t i, k;

    if (getifaddrs(&ifs) == -1) {
        json_array_append_new(warnings, json_sprintf("cannot list this host's addresses (%s): "
                                                     "the unit needs AF_NETLINK in "
                                                     "RestrictAddressFamilies (docs/ha.md)",
                                                     strerror(errno)));
        ifs = NULL;
        known = 0;
    }
    json_array_foreach(json_object_get(model, "instances"), i, in)
    {
        json_array_foreach(json_object_get(in, "virtual_ipaddress"), k, vip)
        {
            const char *address = json_string_value(json_object_get(vip, "address"));
            const char *on = address != NULL ? holder(ifs, address) : NULL;
            json_array_append_new(
                out, json_pack("{s:O, s:s, s:o, s:s*}", "instance", json_object_get(in, "name"),
                               "address", address ? address : "", "held",
                               known ? json_boolean(on != NULL) : json_null(), "interface", on));
        }
    }
    if (ifs != NULL) {
        freeifaddrs(ifs);
    }
    return out;
}

/* One JSON line per change asked for, whatever came of it. */
static void
audit(const struct api_ctx *ctx, int fd, const json_t *summary, int status, const char *result,
      const char *detail, const char *backup_path)
{
    json_t *line =
        json_pack("{s:o, s:s, s:s, s:s, s:s, s:s, s:s, s:O*, s:i, s:s, s:s*, s:s*}", "time",
                  api_time(ctx->now_usec), "subject", ctx->who != NULL ? ctx->who->name : "",
                  "credential", ctx->who != NULL && ctx->who->kind != NULL ? ctx->who->kind : "",
                  "role", ctx->who != NULL ? ixd_config_api_role_name(ctx->who->role) : "none",
                  "client", ctx->client != NULL ? ctx->client : "?", "method", ctx->method, "path",
                  ctx->path, "change", summary, "status", status, "result", result, "detail",
                  detail != NULL && detail[0] != '\0' ? detail : NULL, "backup",
                  backup_path != NULL && backup_path[0] != '\0' ? backup_path : NULL);
    char *text = line != NULL ? json_dumps(line, JSON_COMPACT) : NULL;

    if (text == NULL || dprintf(fd, "%s\n", text) < 0) {
        log_warn("api: cannot write the keepalived audit log %s", ctx->keepalived->audit_log);
    }
    free(text);
    json_decref(line);
}

/* What a change is about, for the audit log: instances with priority and VIPs, servers. */
static json_t *
summary_of(const json_t *model)
{
    json_t *out = json_pack("{s:[], s:[]}", "instances", "virtual_servers"), *v, *vip;
    size_t i, k;

    json_array_foreach(json_object_get(model, "instances"), i, v)
    {
        json_t *vips = json_array();
        json_array_foreach(json_object_get(v, "virtual_ipaddress"), k, vip)
        {
            json_array_append(vips, json_object_get(vip, "address"));
        }
        json_array_append_new(json_object_get(out, "instances"),
                              json_pack("{s:O?, s:O?, s:o}", "name", json_object_get(v, "name"),
                                        "priority", json_object_get(v, "priority"),
                                        "virtual_ipaddress", vips));
    }
    json_array_foreach(json_object_get(model, "virtual_servers"), i, v)
    {
        json_array_append_new(json_object_get(out, "virtual_servers"),
                              json_pack("{s:O?, s:O?}", "address", json_object_get(v, "address"),
                                        "port", json_object_get(v, "port")));
    }
    return out;
}

/* The request to the helper: the checked model, normalised, and who asked (a claim it logs). */
static json_t *
helper_request(const struct api_ctx *ctx, const struct ixd_ka_model *m)
{
    json_t *model = ixd_ka_to_json(m);

    if (model == NULL) {
        return NULL;
    }
    return json_pack("{s:i, s:o, s:{s:s, s:s, s:s}}", "version", IXD_KA_WIRE_VERSION, "model",
                     model, "requester", "subject", ctx->who != NULL ? ctx->who->name : "",
                     "credential", ctx->who != NULL && ctx->who->kind != NULL ? ctx->who->kind : "",
                     "client", ctx->client != NULL ? ctx->client : "?");
}

/* The helper's answer as the API's: the new model, or a problem with the helper's words. */
static void
helper_answer(const struct api_ctx *ctx, struct api_reply *r, const json_t *ans)
{
    const struct ixd_config_keepalived *ka = ctx->keepalived;
    json_int_t status = json_integer_value(json_object_get(ans, "status"));
    const char *detail = json_string_value(json_object_get(ans, "detail"));
    const char *field = json_string_value(json_object_get(ans, "field"));
    const char *backup = json_string_value(json_object_get(ans, "backup"));
    const char *include = json_string_value(json_object_get(ans, "include"));
    json_t *body;

    if (status < 200 || status > 599) {
        api_problem(ctx, r, 502, "the helper's answer has no status: what it did is in its log");
        return;
    }
    if (status != 200) {
        api_problem(ctx, r, (int)status, "%s", detail != NULL ? detail : "the helper said no more");
        if (status == 422) {
            json_object_set_new(r->json, "field", json_string(field != NULL ? field : ""));
        }
        return;
    }
    body = include_model(ka);
    if (include != NULL && strcmp(include, ka->include) != 0) {
        /* ipfixd reads one file and the helper writes another: GET would not show the change */
        json_array_append_new(json_object_get(body, "warnings"),
                              json_sprintf("the helper wrote %s, but ha.keepalived.include is %s",
                                           include, ka->include));
    }
    json_object_set_new(body, "result", json_string("applied"));
    json_object_set_new(body, "backup", backup != NULL ? json_string(backup) : json_null());
    json_object_set_new(body, "_links",
                        json_pack("{s:o, s:o}", "self",
                                  api_link(API_PREFIX "/ha/keepalived/include"), "keepalived",
                                  api_link(API_PREFIX "/ha/keepalived")));
    api_hal(r, body);
    log_info("api: %s '%s' changed %s through the helper (backup %s)",
             ctx->who ? ctx->who->kind : "?", ctx->who ? ctx->who->name : "?",
             include != NULL ? include : ka->include, backup != NULL ? backup : "none");
}

/* Checks the model and has the helper apply it; r is the answer in every case. */
static void
apply_model(const struct api_ctx *ctx, struct api_reply *r, const json_t *body)
{
    const struct ixd_config_keepalived *ka = ctx->keepalived;
    struct ixd_ka_model m;
    struct ixd_ka_error e;
    json_t *request, *ans;
    char why[512];

    if (ixd_ka_check(body, &m, &e) == -1) {
        api_problem(ctx, r, 422, "%s%s%s", e.field, e.field[0] != '\0' ? ": " : "", e.why);
        json_object_set_new(r->json, "field", json_string(e.field));
        return;
    }
    request = helper_request(ctx, &m);
    ixd_ka_model_release(&m);
    if (request == NULL) {
        api_problem(ctx, r, 500, "out of memory; nothing changed");
        return;
    }
    ans = ixd_ka_wire_call(ka->helper, request, ka->helper_timeout, why, sizeof(why));
    json_decref(request);
    if (ans == NULL) {
        /* the helper may have applied it if the answer alone was lost: its log says */
        api_problem(ctx, r, 503, "no answer from the helper at %s: %s", ka->helper, why);
        return;
    }
    helper_answer(ctx, r, ans);
    json_decref(ans);
}

static int
put_include(const struct api_ctx *ctx, struct api_reply *r)
{
    const struct ixd_config_keepalived *ka = ctx->keepalived;
    json_error_t jerr;
    json_t *model, *summary;
    int fd;

    if (!ka->manage) {
        return api_problem(ctx, r, 409,
                           "ha.keepalived.manage is false: keepalived's config is read-only "
                           "through the API (docs/ha.md#keepalived-over-rest)");
    }
    /* no audit trail, no change */
    fd = open(ka->audit_log, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
    if (fd == -1) {
        return api_problem(ctx, r, 500, "cannot open the audit log %s: %s; nothing changed",
                           ka->audit_log, strerror(errno));
    }
    model = json_loadb(ctx->body, ctx->body_len, JSON_REJECT_DUPLICATES, &jerr);
    if (model == NULL) {
        api_problem(ctx, r, 400, "the body is not JSON: %s (line %d)", jerr.text, jerr.line);
        audit(ctx, fd, NULL, 400, "refused", json_string_value(json_object_get(r->json, "detail")),
              NULL);
        close(fd);
        return 0;
    }
    summary = summary_of(model);
    apply_model(ctx, r, model);
    json_decref(model);
    audit(ctx, fd, summary, r->status,
          r->status == 200                       ? "applied"
          : r->status == 422 || r->status == 400 ? "refused"
                                                 : "failed",
          r->status == 200 ? NULL : json_string_value(json_object_get(r->json, "detail")),
          r->status == 200 ? json_string_value(json_object_get(r->json, "backup")) : NULL);
    json_decref(summary);
    close(fd);
    return 0;
}

int
api_keepalived(const struct api_ctx *ctx, struct api_reply *r)
{
    const struct ixd_config_keepalived *ka = ctx->keepalived;
    int include = strcmp(ctx->path, API_PREFIX "/ha/keepalived/include") == 0;
    json_t *model, *links;

    if (ka == NULL || !ka->enabled) {
        return api_problem(ctx, r, 404,
                           "keepalived is not configured here (ha.keepalived, docs/ha.md)");
    }
    if (strcmp(ctx->method, "PUT") == 0) {
        return put_include(ctx, r);
    }
    model = include_model(ka);
    links = json_pack("{s:o, s:o}", "self", api_link("%s", ctx->path), "root",
                      api_link(API_PREFIX "/"));
    if (include) {
        json_object_set_new(links, "keepalived", api_link(API_PREFIX "/ha/keepalived"));
        json_object_set_new(model, "manage", json_boolean(ka->manage));
        json_object_set_new(model, "_links", links);
        api_hal(r, model);
        return 0;
    }
    json_object_set_new(links, "include", api_link(API_PREFIX "/ha/keepalived/include"));
    {
        json_t *body = json_object();
        add_role(ka, body);
        json_object_set_new(body, "virtual_ipaddresses",
                            vips_held(model, json_object_get(model, "warnings")));
        json_object_set_new(body, "manage", json_boolean(ka->manage));
        json_object_set_new(body, "config", json_string(ka->config));
        json_object_set_new(body, "include", json_string(ka->include));
        json_object_set_new(body, "instances", json_incref(json_object_get(model, "instances")));
        json_object_set_new(body, "virtual_servers",
                            json_incref(json_object_get(model, "virtual_servers")));
        json_object_set_new(body, "warnings", json_incref(json_object_get(model, "warnings")));
        json_object_set_new(body, "_links", links);
        json_decref(model);
        api_hal(r, body);
    }
    return 0;
}
