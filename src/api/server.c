/*
 * The HTTP server: libmicrohttpd with one internal thread (epoll where available). Every read
 * is answered on that thread from the merged snapshot view, so reads need no lock; the control
 * thread only starts and stops the server. A write (PUT of the keepalived include) waits for
 * the root helper to run `keepalived -t` and a reload, seconds at worst: it runs on a thread of
 * its own while its connection is suspended, so reads go on being answered meanwhile; writes
 * are applied one after the other, in the order their bodies completed. Which connections get
 * in, and how long a request may take to arrive, is the connection table's business (conns.h):
 * libmicrohttpd's own timeout only counts silence, which a client sending a byte now and then
 * never shows.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <glib.h>
#include <microhttpd.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/clock.h"
#include "api/api.h"
#include "api/conns.h"
#include "api/internal.h"
#include "api/jobs.h"
#include "core/log.h"
#include "core/parse.h"

#define READY_MAX_AGE 5.0 /* seconds: a worker whose last snapshot is older is not ticking */
#define CONNECTION_MEMORY (64 * 1024)
#define JOBS_QUEUE 16 /* GETs answered on the job thread that may wait (jobs.h): past it, 429 */

struct ixd_api {
    struct MHD_Daemon *mhd;
    struct ixd_config_api cfg;
    struct ixd_snapshot_reader *reader;
    struct api_conns *conns; /* every connection, its phase and deadline */
    struct api_auth *auth;   /* NULL: no auth (an API on loopback) */
    struct api_jobs *jobs;   /* GETs answered on a thread of their own (time series) */
    struct ixd_ratelimit auth_log;
    /* libmicrohttpd's messages, from whichever thread called into it, rate-limited: it logs
     * every connection closed mid-request, as many lines as a flood of clients wants */
    pthread_mutex_t mhd_log_lock;
    struct ixd_ratelimit mhd_log;
    int64_t started_usec;
    char *cert_pem, *key_pem;
    /* writes on their own threads; stop waits for them */
    pthread_mutex_t writes_lock;
    pthread_cond_t writes_done;
    unsigned writes;
    pthread_mutex_t apply_lock; /* one write applied at a time */
    int writes_ready;           /* the locks and the condition are initialised */
    struct api_config *config;  /* the running config as written, and its writes */
};

static void
clock_now(double *mono, int64_t *usec)
{
    *mono = ixd_mono_now();
    *usec = ixd_wall_usec();
}

static const char *
query(void *arg, const char *key)
{
    return MHD_lookup_connection_value(arg, MHD_GET_ARGUMENT_KIND, key);
}

/* FNV-1a over the body: equal bodies, equal tags; cheap next to building the body. */
static void
etag_of(const char *body, size_t len, char *out, size_t outlen)
{
    uint64_t h = 1469598103934665603ULL;
    size_t i;

    for (i = 0; i < len; i++) {
        h = (h ^ (unsigned char)body[i]) * 1099511628211ULL;
    }
    snprintf(out, outlen, "\"%016llx\"", (unsigned long long)h);
}

/* If-None-Match holds tag (or "*"): a list of tags, each maybe weak (W/). */
static int
not_modified(struct MHD_Connection *conn, const char *tag)
{
    const char *inm = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "If-None-Match");

    if (inm == NULL) {
        return 0;
    }
    if (strcmp(inm, "*") == 0) {
        return 1;
    }
    return strstr(inm, tag) != NULL;
}

/* /ready: every worker published within READY_MAX_AGE and every collector is listening. */
static void
ready(const struct api_ctx *ctx, struct api_reply *r)
{
    const struct ixd_view *v = ctx->view;
    size_t i;

    for (i = 0; i < v->n_workers; i++) {
        if (!v->workers[i].seen) {
            api_problem(ctx, r, 503, "worker %zu has not published its state yet", i);
            return;
        }
        if (ctx->now_mono - v->workers[i].built_mono > READY_MAX_AGE) {
            api_problem(ctx, r, 503, "worker %zu has not ticked for %.1f s", i,
                        ctx->now_mono - v->workers[i].built_mono);
            return;
        }
    }
    for (i = 0; i < v->n_collectors; i++) {
        if (v->collectors[i].listening_workers < v->n_workers) {
            api_problem(ctx, r, 503, "collector %s is not listening on every worker",
                        v->collectors[i].name);
            return;
        }
    }
    r->status = 200;
    r->content_type = "application/json";
    r->json = json_pack("{s:s}", "status", "ready");
}

/* Answers a GET of a route whose access was checked. */
static void
dispatch(const struct api_ctx *ctx, const struct api_route *rt, struct api_reply *r)
{
    if (rt->handler == API_H_HEALTH) {
        r->status = 200;
        r->content_type = "application/json";
        r->json = json_pack("{s:s}", "status", "up");
    } else if (ctx->view == NULL) {
        api_problem(ctx, r, 503, "out of memory building the view of the workers' state");
    } else if (rt->handler == API_H_READY) {
        ready(ctx, r);
    } else if (rt->handler == API_H_METRICS) {
        api_metrics(ctx, r);
    } else if (rt->handler == API_H_RESOURCES) {
        api_resource(ctx, r);
    } else if (rt->handler == API_H_KEEPALIVED) {
        api_keepalived(ctx, r);
    } else if (rt->handler == API_H_CONFIG) {
        api_config_read(ctx, r);
    } else if (rt->handler == API_H_DASHBOARD) {
        api_dashboard(ctx, r);
    } else if (rt->handler == API_H_INDEX) {
        /* the way in for someone who only knows the port */
        r->status = 200;
        r->content_type = "application/hal+json";
        r->json = json_pack("{s:{s:o, s:o, s:o, s:o}}", "_links", "api", api_link(API_PREFIX "/"),
                            "metrics", api_link("/metrics"), "health", api_link("/health"), "ready",
                            api_link("/ready"));
    } else {
        api_problem(ctx, r, 500, "route %s has no handler", rt->path);
    }
}

static void
client_address(struct MHD_Connection *conn, char *out, size_t outlen)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);

    api_addr_text(ci != NULL ? ci->client_addr : NULL, out, outlen);
}

/* conn's entry in the connection table (NULL when it has none). */
static struct api_conn *
entry_of(struct MHD_Connection *conn)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);

    return ci != NULL ? ci->socket_context : NULL;
}

/*
 * Auth of a request for rt (NULL: a path no route serves, which still needs a reader, so that
 * nobody learns without a token which paths exist). 0 when it may go on; otherwise the 401 or
 * 403 problem is in r.
 */
static int
check_access(struct ixd_api *api, struct MHD_Connection *conn, const struct api_ctx *ctx,
             const struct api_route *rt, int write, struct api_identity *whop, struct api_reply *r)
{
    enum api_access need = rt == NULL ? API_READER : write ? rt->write_access : rt->access;
    struct api_identity local, *whoq = whop != NULL ? whop : &local;
    struct api_identity who;
    const char *authorization = NULL;
    char detail[384], client[64];
    int status;

    memset(&who, 0, sizeof(who));
    detail[0] = '\0';
    /*
     * A write changes more than ipfixd (keepalived's config, for one), so "whoever reaches
     * loopback" is not enough: without api.auth there is nobody to hold the role a write needs.
     */
    if (write && need != API_DENY && api->auth == NULL) {
        api_problem(ctx, r, 403,
                    "%s %s needs a token with the role %s, even on loopback: configure api.auth "
                    "(docs/api.md#auth); without it the API only reads",
                    ctx->method, ctx->path, api_access_name(need));
        return -1;
    }
    if (api->auth != NULL && need != API_PUBLIC && need != API_DENY) {
        authorization = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Authorization");
        if (api_auth_identify(api->auth, authorization, ctx->now_usec / 1000000, &who, detail,
                              sizeof(detail)) == -1) {
            client_address(conn, client, sizeof(client));
            ixd_log_limited(&api->auth_log, ctx->now_mono, IXD_LOG_WARNING, "api: 401 for %s: %s",
                            client, detail);
        }
    }
    status = api_authorize(need, api->auth != NULL, &who);
    if (status == 401) {
        /* RFC 6750 section 3: no error code when no credentials came */
        r->www_authenticate = authorization != NULL
                                  ? "Bearer realm=\"ipfixd\", error=\"invalid_token\""
                                  : "Bearer realm=\"ipfixd\"";
        api_problem(ctx, r, 401, "%s", detail);
        return -1;
    }
    if (status == 403 && need == API_DENY) {
        api_problem(ctx, r, 403, "%s declares no role: nobody may use it", rt->path);
        return -1;
    }
    if (status == 403) {
        r->www_authenticate = "Bearer realm=\"ipfixd\", error=\"insufficient_scope\"";
        api_problem(ctx, r, 403, "%s '%s' has the role %s; %s%s%s needs %s", who.kind, who.name,
                    ixd_config_api_role_name(who.role), write ? ctx->method : "", write ? " " : "",
                    ctx->path, api_access_name(need));
        return -1;
    }
    *whoq = who;
    return 0;
}

static enum MHD_Result
send_reply(struct MHD_Connection *conn, struct api_reply *r, int cacheable, int vary_accept)
{
    struct MHD_Response *resp;
    enum MHD_Result ret;
    char *body = r->text;
    size_t len = r->text_len;
    char tag[IXD_ETAG_LEN];
    int status = r->status;

    if (r->json != NULL) {
        /* 15 significant digits: a value rounded to milliseconds prints as such (at 17, the
         * default, 1.007 prints as the double nearest to it, 1.0069999999999999) */
        body = json_dumps(r->json, JSON_COMPACT | JSON_REAL_PRECISION(15));
        len = body != NULL ? strlen(body) : 0;
    }
    if (status == MHD_HTTP_NO_CONTENT) {
        body = "";
        len = 0;
    }
    if (body == NULL) {
        return MHD_NO;
    }
    /* a resource with its own validator (a config item's) gives it; others their body's */
    if (r->etag[0] != '\0') {
        snprintf(tag, sizeof(tag), "%s", r->etag);
    } else {
        etag_of(body, len, tag, sizeof(tag));
    }
    if (status == MHD_HTTP_NO_CONTENT) {
        resp = MHD_create_response_from_buffer(0, "", MHD_RESPMEM_PERSISTENT);
    } else if (cacheable && status == 200 && not_modified(conn, tag)) {
        status = MHD_HTTP_NOT_MODIFIED;
        resp = MHD_create_response_from_buffer(0, "", MHD_RESPMEM_PERSISTENT);
    } else {
        resp = MHD_create_response_from_buffer(len, body, MHD_RESPMEM_MUST_COPY);
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, r->content_type);
    }
    if (body != r->text && r->json != NULL) {
        free(body);
    }
    if (resp == NULL) {
        return MHD_NO;
    }
    if ((cacheable && r->status == 200) || (r->etag[0] != '\0' && r->status < 300)) {
        MHD_add_response_header(resp, MHD_HTTP_HEADER_ETAG, tag);
    }
    if (r->location != NULL) {
        MHD_add_response_header(resp, MHD_HTTP_HEADER_LOCATION, r->location);
    }
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-cache");
    /* no answer is to be sniffed into another type, framed, or run as a document: only the
     * dashboard's files may load what they need */
    MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
    MHD_add_response_header(resp, "X-Frame-Options", "DENY");
    MHD_add_response_header(resp, "Referrer-Policy", "no-referrer");
    MHD_add_response_header(resp, "Content-Security-Policy",
                            r->csp != NULL ? r->csp : "default-src 'none'; frame-ancestors 'none'");
    if (vary_accept) {
        MHD_add_response_header(resp, "Vary", "Accept");
    }
    if (r->link_header != NULL) {
        MHD_add_response_header(resp, "Link", r->link_header);
    }
    if (r->www_authenticate != NULL) {
        MHD_add_response_header(resp, MHD_HTTP_HEADER_WWW_AUTHENTICATE, r->www_authenticate);
    }
    if (r->retry_after != NULL) {
        MHD_add_response_header(resp, MHD_HTTP_HEADER_RETRY_AFTER, r->retry_after);
    }
    if (status == MHD_HTTP_METHOD_NOT_ALLOWED) {
        MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW,
                                r->allow != NULL ? r->allow : "GET, HEAD");
    }
    ret = MHD_queue_response(conn, (unsigned)status, resp);
    MHD_destroy_response(resp);
    return ret;
}

static void
reply_release(struct api_reply *r)
{
    if (r->job != NULL) {
        r->job->free(r->job);
    }
    json_decref(r->json);
    if (!r->text_static) {
        g_free(r->text);
    }
    free(r->link_header);
    free(r->location);
}

/* What a request's state points at between libmicrohttpd's calls, besides &seen_headers. */
enum req_kind { REQ_UPLOAD = 1, REQ_DEFERRED };

/* The state of a write between its calls: the body so far and who sent it; then, while it is
 * applied on its own thread, its context and the answer that thread leaves. */
struct upload {
    enum req_kind kind;
    char *buf;
    size_t len;
    int too_big;
    struct api_identity who;
    struct ixd_api *api;
    struct MHD_Connection *conn;
    struct api_ctx ctx;
    char client[64];
    struct api_reply reply;
    int applying;
    /* the headers a write's handler reads, copied on the server's thread */
    char if_match[128], if_none_match[128], content_type[128];
    int has_if_match, has_if_none_match, has_content_type;
};

static int seen_headers; /* the state of a GET once its headers are in */

/* A GET answered on the job thread: the connection is suspended until the job's answer is in
 * reply (jobs.h). */
struct deferred {
    enum req_kind kind;
    struct MHD_Connection *conn;
    struct api_reply reply;
};

static void
request_completed(void *cls, struct MHD_Connection *conn, void **state,
                  enum MHD_RequestTerminationCode toe)
{
    struct ixd_api *api = cls;
    struct upload *up = *state;

    if (toe == MHD_REQUEST_TERMINATED_COMPLETED_OK) {
        api_conns_answered(api->conns, entry_of(conn)); /* kept alive: the next request */
    }
    if (up != NULL && *state != (void *)&seen_headers && up->kind == REQ_DEFERRED) {
        /* resumed only once its job was done: the answer went out, or the client left */
        reply_release(&((struct deferred *)*state)->reply);
        free(*state);
    } else if (up != NULL && *state != (void *)&seen_headers) {
        if (up->applying) {
            reply_release(&up->reply); /* the client went away before its answer */
        }
        free(up->buf);
        free(up);
    }
    *state = NULL;
}

static void
ctx_init(struct ixd_api *api, struct MHD_Connection *conn, const char *url, const char *method,
         struct api_ctx *ctx, char *client, size_t clientlen)
{
    memset(ctx, 0, sizeof(*ctx));
    clock_now(&ctx->now_mono, &ctx->now_usec);
    ctx->started_usec = api->started_usec;
    ctx->path = url;
    ctx->method = method;
    ctx->query = query;
    ctx->query_arg = conn;
    client_address(conn, client, clientlen);
    ctx->client = client;
    ctx->keepalived = &api->cfg.keepalived;
    ctx->conns = api->conns;
    ctx->config = api->config;
}

/* Copies header name of conn into buf: 1, or 0 when it is absent (or too long to be valid). */
static int
copy_header(struct MHD_Connection *conn, const char *name, char *buf, size_t len)
{
    const char *v = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, name);

    if (v == NULL || strlen(v) >= len) {
        return 0;
    }
    memcpy(buf, v, strlen(v) + 1);
    return 1;
}

/* Adds a piece of a write's body; past the API's body limit only notes that it was too big. */
static void
upload_add(struct upload *up, const char *data, size_t n, size_t limit)
{
    char *grown;

    if (up->too_big || up->len + n > limit) {
        up->too_big = 1;
        return;
    }
    grown = realloc(up->buf, up->len + n + 1);
    if (grown == NULL) {
        up->too_big = 1;
        return;
    }
    memcpy(grown + up->len, data, n);
    up->buf = grown;
    up->len += n;
    up->buf[up->len] = '\0';
}

/* Applies a write on its own thread; the MHD thread answers once the connection is resumed. The
 * handler touches only the upload (its body, context, identity and reply), its audit log and
 * its connection to the helper. */
static void *
apply_write(void *arg)
{
    struct upload *up = arg;
    struct ixd_api *api = up->api;

    /* writes route only to handlers that take them (the route table says which) */
    const struct api_route *rt = api_route_find(NULL, 0, up->ctx.path);

    pthread_mutex_lock(&api->apply_lock);
    clock_now(&up->ctx.now_mono, &up->ctx.now_usec); /* its turn may have come later */
    if (rt != NULL && rt->handler == API_H_CONFIG) {
        api_config_write(&up->ctx, &up->reply);
    } else {
        api_keepalived(&up->ctx, &up->reply);
    }
    pthread_mutex_unlock(&api->apply_lock);
    MHD_resume_connection(up->conn); /* up belongs to the MHD thread again from here */
    pthread_mutex_lock(&api->writes_lock);
    api->writes--;
    pthread_cond_broadcast(&api->writes_done);
    pthread_mutex_unlock(&api->writes_lock);
    return NULL;
}

/* Starts applying a write whose body is complete: 0, or -1 with r set (no thread). */
static int
start_write(struct ixd_api *api, struct MHD_Connection *conn, struct upload *up, const char *url,
            const char *method, struct api_reply *r)
{
    pthread_attr_t attr;
    pthread_t thread;
    int rc;

    ctx_init(api, conn, url, method, &up->ctx, up->client, sizeof(up->client));
    pthread_mutex_lock(&api->writes_lock);
    api->writes++;
    pthread_mutex_unlock(&api->writes_lock);
    up->ctx.body = up->buf != NULL ? up->buf : "";
    up->ctx.body_len = up->len;
    up->ctx.who = &up->who;
    up->ctx.if_match = up->has_if_match ? up->if_match : NULL;
    up->ctx.if_none_match = up->has_if_none_match ? up->if_none_match : NULL;
    up->ctx.content_type = up->has_content_type ? up->content_type : NULL;
    up->api = api;
    up->conn = conn;
    up->applying = 1;
    /* suspended before the thread can resume it */
    MHD_suspend_connection(conn);
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    rc = pthread_create(&thread, &attr, apply_write, up);
    pthread_attr_destroy(&attr);
    if (rc != 0) {
        MHD_resume_connection(conn);
        up->applying = 0;
        pthread_mutex_lock(&api->writes_lock);
        api->writes--;
        pthread_mutex_unlock(&api->writes_lock);
        api_problem(&up->ctx, r, 503, "cannot start applying the change: %s", strerror(rc));
        return -1;
    }
    return 0;
}

/* The job thread: the answer is in; libmicrohttpd calls on_request again for the connection. */
static void
resume(void *arg)
{
    MHD_resume_connection(((struct deferred *)arg)->conn);
}

/* Hands r's job to the job thread and suspends the connection until it is done; a full queue
 * is a 429, sent when on_request is called again. */
static enum MHD_Result
defer(struct ixd_api *api, struct MHD_Connection *conn, void **state, const struct api_ctx *ctx,
      struct api_reply *r)
{
    struct deferred *d = calloc(1, sizeof(*d));
    struct api_job *job = r->job;

    r->job = NULL;
    if (d == NULL) {
        job->free(job);
        api_problem(ctx, r, 503, "out of memory");
        return MHD_NO;
    }
    d->kind = REQ_DEFERRED;
    d->conn = conn;
    *state = d;
    api_conns_answering(api->conns, entry_of(conn));
    MHD_suspend_connection(conn);
    if (api_jobs_submit(api->jobs, job, &d->reply, resume, d) == -1) {
        api_problem(ctx, &d->reply, 429,
                    "%d requests for time series are being answered or wait: try again shortly",
                    JOBS_QUEUE + 1);
        d->reply.retry_after = "1";
        MHD_resume_connection(conn);
    }
    return MHD_YES;
}

/* The body of a write whose access was checked, then its answer (from the write thread once
 * it resumes the connection). */
static enum MHD_Result
write_continues(struct ixd_api *api, struct MHD_Connection *conn, struct upload *up,
                const char *url, const char *method, const char *upload_data,
                size_t *upload_data_size)
{
    struct api_reply r;
    struct api_ctx ctx;
    enum MHD_Result ret;
    char client[64];

    if (*upload_data_size > 0) {
        upload_add(up, upload_data, *upload_data_size, api->cfg.body_limit);
        *upload_data_size = 0;
        return MHD_YES;
    }
    if (up->applying) {
        /* resumed: the thread has left its answer */
        ret = send_reply(conn, &up->reply, 0, 0);
        reply_release(&up->reply);
        up->applying = 0;
        return ret;
    }
    memset(&r, 0, sizeof(r));
    api_conns_answering(api->conns, entry_of(conn)); /* the body is whole */
    if (up->too_big) {
        ctx_init(api, conn, url, method, &ctx, client, sizeof(client));
        api_problem(&ctx, &r, 413, "request bodies are limited to %zu bytes", api->cfg.body_limit);
    } else if (start_write(api, conn, up, url, method, &r) == 0) {
        return MHD_YES;
    }
    ret = send_reply(conn, &r, 0, 0);
    reply_release(&r);
    return ret;
}

/* A body announced larger than the API takes: 413 (0), or 0 when it fits. */
static int
body_too_big(struct ixd_api *api, struct MHD_Connection *conn, struct api_ctx *ctx,
             struct api_reply *r)
{
    const char *length = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Content-Length");
    uint64_t n = 0;

    if (length != NULL && (ixd_parse_u64(length, &n) == -1 || n > api->cfg.body_limit)) {
        api_problem(ctx, r, 413, "request bodies are limited to %zu bytes", api->cfg.body_limit);
        return 1;
    }
    return 0;
}

/* A write to a route that takes it: the role first, the body only after it. 1 when the upload
 * starts (its state in *state), 0 when r holds the answer. */
static int
write_begins(struct ixd_api *api, struct MHD_Connection *conn, struct api_ctx *ctx,
             const struct api_route *rt, void **state, struct api_reply *r)
{
    struct api_identity who;
    struct upload *up;

    if (check_access(api, conn, ctx, rt, 1, &who, r) == -1 || body_too_big(api, conn, ctx, r)) {
        return 0; /* answered: 401 or 403 before the body is read, or 413 */
    }
    up = calloc(1, sizeof(*up));
    if (up == NULL) {
        api_problem(ctx, r, 503, "out of memory");
        return 0;
    }
    up->kind = REQ_UPLOAD;
    up->who = who;
    up->has_if_match = copy_header(conn, "If-Match", up->if_match, sizeof(up->if_match));
    up->has_if_none_match =
        copy_header(conn, "If-None-Match", up->if_none_match, sizeof(up->if_none_match));
    up->has_content_type =
        copy_header(conn, "Content-Type", up->content_type, sizeof(up->content_type));
    *state = up;
    return 1;
}

/* A write this resource does not take, refused before its body is read (the connection closes
 * after the answer). */
static void
write_refused(struct ixd_api *api, struct MHD_Connection *conn, struct api_ctx *ctx,
              const struct api_route *rt, const char *method, struct api_reply *r)
{
    if (body_too_big(api, conn, ctx, r)) {
        return;
    }
    if (rt != NULL && (rt->methods & API_METHOD_PUT)) {
        r->allow = "GET, HEAD, PUT";
        api_problem(ctx, r, 405, "%s is not allowed here (GET, HEAD, PUT)", method);
    } else {
        api_problem(ctx, r, 405, "%s is not allowed here: this resource only reads (GET, HEAD)",
                    method);
    }
}

static enum MHD_Result
on_request(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
           const char *version, const char *upload_data, size_t *upload_data_size, void **state)
{
    struct ixd_api *api = cls;
    const struct api_route *rt;
    struct api_reply r;
    struct api_ctx ctx;
    enum MHD_Result ret;
    char client[64];
    int readonly = strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0;
    unsigned bit = api_method_bit(method);

    (void)version;
    if (*state == NULL && readonly) {
        /* answering on the first call makes libmicrohttpd close a kept-alive connection after
         * the answer (it has not read the body yet): answer on the next one */
        *state = &seen_headers;
        return MHD_YES;
    }
    if (readonly && *state != &seen_headers) {
        /* resumed: the job thread left its answer */
        struct deferred *d = *state;
        ret = send_reply(conn, &d->reply, 1, 0);
        reply_release(&d->reply);
        memset(&d->reply, 0, sizeof(d->reply));
        return ret;
    }
    if (*state != NULL && !readonly) {
        return write_continues(api, conn, *state, url, method, upload_data, upload_data_size);
    }
    memset(&r, 0, sizeof(r));
    ctx_init(api, conn, url, method, &ctx, client, sizeof(client));
    rt = api_route_find(NULL, 0, url);
    if (readonly && rt != NULL && rt->handler == API_H_INDEX &&
        api_dashboard_wanted(MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Accept"))) {
        rt = api_route_find(NULL, 0, API_DASHBOARD_PREFIX "/"); /* a browser: the page */
    }
    if (!readonly && rt != NULL && rt->write_access != API_DENY && (rt->methods & bit) &&
        bit != API_METHOD_GET) {
        if (write_begins(api, conn, &ctx, rt, state, &r)) {
            return MHD_YES;
        }
    } else if (check_access(api, conn, &ctx, rt, 0, NULL, &r) == -1) {
        /* answered: 401 or 403 */
    } else if (!readonly) {
        write_refused(api, conn, &ctx, rt, method, &r);
    } else if (rt == NULL || !(rt->methods & API_METHOD_GET)) {
        api_problem(&ctx, &r, 404, "no resource at %s (try " API_PREFIX "/)", url);
    } else {
        ctx.view = ixd_snapshot_reader_view(api->reader);
        dispatch(&ctx, rt, &r);
        if (r.job != NULL) {
            return defer(api, conn, state, &ctx, &r);
        }
    }
    /* whole, or refused before its body (which libmicrohttpd then does not read) */
    api_conns_answering(api->conns, entry_of(conn));
    ret = send_reply(conn, &r, readonly, strcmp(url, "/") == 0);
    reply_release(&r);
    return ret;
}

/* Whether a new connection comes in (conns.h): the server's own limits are above the table's,
 * so that it asks here before refusing. */
static enum MHD_Result
accept_policy(void *cls, const struct sockaddr *addr, socklen_t addrlen)
{
    struct ixd_api *api = cls;

    return api_conns_admit(api->conns, addr, addrlen) ? MHD_YES : MHD_NO;
}

/* A connection opens or closes; libmicrohttpd calls the close before it closes the socket. */
static void
connection_event(void *cls, struct MHD_Connection *conn, void **socket_context,
                 enum MHD_ConnectionNotificationCode what)
{
    struct ixd_api *api = cls;
    const union MHD_ConnectionInfo *fd, *addr;

    if (what == MHD_CONNECTION_NOTIFY_CLOSED) {
        api_conns_closed(api->conns, *socket_context);
        *socket_context = NULL;
        return;
    }
    fd = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
    addr = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    if (fd == NULL) {
        *socket_context = NULL;
        return;
    }
    *socket_context = api_conns_opened(
        api->conns, fd->connect_fd, addr != NULL ? addr->client_addr : NULL,
        addr != NULL && addr->client_addr != NULL && addr->client_addr->sa_family == AF_INET6
            ? sizeof(struct sockaddr_in6)
            : sizeof(struct sockaddr_in));
}

/* A request line came (libmicrohttpd's URI logger, called before the headers are read): on a
 * kept-alive connection the next request's timeout starts here. NULL: no request state yet. */
static void *
request_line(void *cls, const char *uri, struct MHD_Connection *conn)
{
    struct ixd_api *api = cls;

    (void)uri;
    api_conns_request_line(api->conns, entry_of(conn));
    return NULL;
}

static void
mhd_log(void *cls, const char *fmt, va_list ap)
{
    struct ixd_api *api = cls;
    char msg[512];
    size_t len;

    vsnprintf(msg, sizeof(msg), fmt, ap);
    len = strlen(msg);
    while (len > 0 && (msg[len - 1] == '\n' || msg[len - 1] == '\r')) {
        msg[--len] = '\0';
    }
    pthread_mutex_lock(&api->mhd_log_lock);
    ixd_log_limited(&api->mhd_log, ixd_mono_now(), IXD_LOG_WARNING, "api: %s", msg);
    pthread_mutex_unlock(&api->mhd_log_lock);
}

static char *
read_pem(const char *path, char *err, size_t errlen)
{
    char *text = NULL;
    size_t len = 0;

    if (ixd_read_file(path, 1 << 20, &text, &len) == -1) {
        snprintf(err, errlen, "api: cannot read %s: %s", path, strerror(errno));
        return NULL;
    }
    return text;
}

/* What the server holds besides libmicrohttpd: its locks, snapshot reader, connection table,
 * config document and job thread. 0, or -1 with err (ixd_api_stop frees what there is). */
static int
api_init(struct ixd_api *api, const struct ixd_config_api *cfg,
         struct ixd_snapshot_publisher *const *pubs, unsigned n_workers,
         const struct ixd_api_config_hooks *hooks, char *err, size_t errlen)
{
    struct api_conns_limits lim = {cfg->connections, cfg->connections_per_ip, cfg->request_timeout,
                                   cfg->timeout};

    api->cfg = *cfg;
    pthread_mutex_init(&api->writes_lock, NULL);
    pthread_cond_init(&api->writes_done, NULL);
    pthread_mutex_init(&api->apply_lock, NULL);
    pthread_mutex_init(&api->mhd_log_lock, NULL);
    api->writes_ready = 1;
    api->reader = ixd_snapshot_reader_new(pubs, n_workers);
    api->config = api_config_new(cfg, hooks);
    if (api->reader == NULL || api->config == NULL) {
        snprintf(err, errlen, "api: out of memory");
        return -1;
    }
    api->conns = api_conns_new(&lim, err, errlen);
    if (api->conns == NULL) {
        return -1;
    }
    api->jobs = api_jobs_new(JOBS_QUEUE, err, errlen);
    return api->jobs == NULL ? -1 : 0;
}

struct ixd_api *
ixd_api_start(const struct ixd_config_api *cfg, struct ixd_snapshot_publisher *const *pubs,
              unsigned n_workers, int64_t started_usec, const struct ixd_api_config_hooks *hooks,
              char *err, size_t errlen)
{
    struct ixd_api *api = calloc(1, sizeof(*api));
    struct MHD_OptionItem opts[16];
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_AUTO | MHD_USE_ERROR_LOG |
                     MHD_ALLOW_SUSPEND_RESUME;
    int n = 0;

    if (api == NULL) {
        snprintf(err, errlen, "api: out of memory");
        return NULL;
    }
    if (api_init(api, cfg, pubs, n_workers, hooks, err, errlen) == -1) {
        goto fail;
    }
    api->started_usec = started_usec;
    if (cfg->addr.ss_family == AF_INET6) {
        flags |= MHD_USE_IPv6;
    }
    /* the logger first, so that MHD reports even problems with the options after it */
    opts[n++] = (struct MHD_OptionItem){MHD_OPTION_EXTERNAL_LOGGER, (intptr_t)mhd_log, api};
    opts[n++] = (struct MHD_OptionItem){MHD_OPTION_SOCK_ADDR, 0, (void *)&api->cfg.addr};
    /* the table's limits, per address too, are enforced by accept_policy, which makes room */
    opts[n++] = (struct MHD_OptionItem){MHD_OPTION_CONNECTION_LIMIT,
                                        (intptr_t)cfg->connections + API_CONNS_SLACK, NULL};
    opts[n++] = (struct MHD_OptionItem){MHD_OPTION_CONNECTION_TIMEOUT, cfg->timeout, NULL};
    opts[n++] =
        (struct MHD_OptionItem){MHD_OPTION_NOTIFY_CONNECTION, (intptr_t)connection_event, api};
    opts[n++] = (struct MHD_OptionItem){MHD_OPTION_URI_LOG_CALLBACK, (intptr_t)request_line, api};
    /* frees a write's body when its connection ends early; a kept-alive connection waits */
    opts[n++] =
        (struct MHD_OptionItem){MHD_OPTION_NOTIFY_COMPLETED, (intptr_t)request_completed, api};
    opts[n++] =
        (struct MHD_OptionItem){MHD_OPTION_CONNECTION_MEMORY_LIMIT, CONNECTION_MEMORY, NULL};
    if (cfg->certificate[0] != '\0') {
        api->cert_pem = read_pem(cfg->certificate, err, errlen);
        api->key_pem = api->cert_pem != NULL ? read_pem(cfg->key, err, errlen) : NULL;
        if (api->key_pem == NULL) {
            goto fail;
        }
        flags |= MHD_USE_TLS;
        opts[n++] = (struct MHD_OptionItem){MHD_OPTION_HTTPS_MEM_CERT, 0, api->cert_pem};
        opts[n++] = (struct MHD_OptionItem){MHD_OPTION_HTTPS_MEM_KEY, 0, api->key_pem};
    }
    if (api->cfg.auth.enabled) {
        /* built on the server's copy of the config, which lives as long as the server */
        api->auth = api_auth_new(&api->cfg.auth, err, errlen);
        if (api->auth == NULL) {
            goto fail;
        }
    }
    opts[n++] = (struct MHD_OptionItem){MHD_OPTION_END, 0, NULL};
    errno = 0;
    api->mhd = MHD_start_daemon(flags, 0, accept_policy, api, on_request, api, MHD_OPTION_ARRAY,
                                opts, MHD_OPTION_END);
    if (api->mhd == NULL) {
        snprintf(err, errlen, "api: cannot listen on %s%s%s", cfg->listen, errno ? ": " : "",
                 errno ? strerror(errno) : "");
        goto fail;
    }
    return api;
fail:
    ixd_api_stop(api);
    return NULL;
}

void
ixd_api_stop(struct ixd_api *api)
{
    if (api == NULL) {
        return;
    }
    if (api->writes_ready) {
        /* a write being applied resumes its connection, which MHD needs before it stops (the
         * commands it runs are bounded by check-timeout) */
        pthread_mutex_lock(&api->writes_lock);
        while (api->writes > 0) {
            pthread_cond_wait(&api->writes_done, &api->writes_lock);
        }
        pthread_mutex_unlock(&api->writes_lock);
    }
    /* every connection a job suspended is resumed (answered 503 when its job had not run) */
    api_jobs_free(api->jobs);
    if (api->mhd != NULL) {
        MHD_stop_daemon(api->mhd); /* joins the server thread: no reader is left after this */
    }
    api_conns_free(api->conns); /* every connection is closed: only the watchdog is left */
    if (api->writes_ready) {
        pthread_mutex_destroy(&api->writes_lock);
        pthread_cond_destroy(&api->writes_done);
        pthread_mutex_destroy(&api->apply_lock);
        pthread_mutex_destroy(&api->mhd_log_lock);
    }
    ixd_snapshot_reader_free(api->reader);
    api_config_free(api->config);
    api_auth_free(api->auth);
    free(api->cert_pem);
    free(api->key_pem);
    free(api);
}

void
ixd_api_set_config(struct ixd_api *api, const struct ixd_cnode *tree)
{
    if (api != NULL) {
        api_config_set(api->config, tree);
    }
}

const struct ixd_config_api *
ixd_api_config(const struct ixd_api *api)
{
    return &api->cfg;
}
