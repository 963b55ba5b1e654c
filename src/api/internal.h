/* What the API's files share: the request context, replies and HAL helpers. */
#ifndef IXD_API_INTERNAL_H
#define IXD_API_INTERNAL_H

#include <glib.h>
#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "api/api.h"
#include "core/config.h"
#include "snapshot/snapshot.h"

#define API_PREFIX "/api/v1"
#define API_DASHBOARD_PREFIX "/ui" /* the dashboard's files (dashboard.c) */
#define API_PAGE_DEFAULT 100
#define API_PAGE_MAX 1000

struct api_conns;
struct api_config;

/* One request, as the resources see it (no libmicrohttpd type leaks past server.c). */
struct api_ctx {
    const struct ixd_view *view;
    double now_mono;
    int64_t now_usec;
    int64_t started_usec;
    const char *path; /* the whole path, for "instance" and self links */
    const char *(*query)(void *arg, const char *key);
    void *query_arg;
    const char *method;
    const char *body; /* the request body of a write (not NUL-terminated), or NULL */
    size_t body_len;
    const struct api_identity *who; /* who wrote (writes only: auth is always on for them) */
    const char *client;             /* the client's address, for audit logs */
    const struct ixd_config_keepalived *keepalived;
    struct api_conns *conns;   /* the server's connection table, for /metrics */
    struct api_config *config; /* the running config as written, and its writes (config.c) */
    /* of a write, taken on the server's thread (NULL when absent) */
    const char *if_match;
    const char *if_none_match;
    const char *content_type;
};

/* What a resource answers: JSON (HAL or problem) or text. The server frees it. */
struct api_reply {
    int status;
    const char *content_type;
    json_t *json;
    char *text; /* set instead of json for text bodies */
    size_t text_len;
    int text_static;              /* text is not to be freed */
    char *link_header;            /* RFC 8288 Link (next page), or NULL */
    const char *www_authenticate; /* RFC 6750 challenge of a 401 or 403 (static), or NULL */
    const char *allow;            /* Allow of a 405 (static); NULL: GET, HEAD */
    const char *retry_after;      /* Retry-After of a 429 or 503 (static), or NULL */
    char etag[IXD_ETAG_LEN];      /* the resource's own ETag (a config item's); "": the body's */
    char *location;               /* Location of a 201, or NULL */
    const char *csp;              /* Content-Security-Policy (static); NULL: nothing may load */
    /* set instead of an answer: the GET is answered on the job thread (jobs.h), which fills
     * the reply; the server takes the job over */
    struct api_job *job;
};

/* Sets an RFC 9457 problem; always returns 0 so handlers can `return api_problem(...)`. */
int api_problem(const struct api_ctx *ctx, struct api_reply *r, int status, const char *detail_fmt,
                ...) __attribute__((format(printf, 4, 5)));
void api_hal(struct api_reply *r, json_t *body);

json_t *api_link(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
json_t *api_time(int64_t usec); /* RFC 3339 UTC, or null when 0 */
json_t *api_counters(const struct ixd_counters *c);

/*
 * Pagination over n items sorted by keys (strcmp order): reads ?limit and ?cursor, sets
 * *first and *count of the page, and adds self/next links to links (base: the collection's
 * path with its filter query, e.g. "/api/v1/exporters?collector=u"). -1 after a 400 problem.
 */
int api_page(const struct api_ctx *ctx, struct api_reply *r, const char *const *keys, size_t n,
             const char *base, json_t *links, size_t *first, size_t *count);

/*
 * Routes and roles (auth.c). Every route declares the access it needs in the table of auth.c;
 * a route that declares none (API_DENY, the zero value) is refused to everyone, and a path that
 * is in no route is not served at all: default deny.
 */
enum api_access {
    API_DENY = 0,
    API_PUBLIC,   /* no auth even when auth is on: /health, /ready */
    API_READER,   /* the role reader or above */
    API_OPERATOR, /* operator or admin (reserved for write routes) */
    API_ADMIN,
};

enum api_handler {
    API_H_HEALTH = 1,
    API_H_READY,
    API_H_METRICS,
    API_H_INDEX,      /* "/": links for someone who only knows the port */
    API_H_RESOURCES,  /* the HAL resources under /api/v1 (resources.c routes inside) */
    API_H_KEEPALIVED, /* /api/v1/ha/keepalived and its include (keepalived.c) */
    API_H_CONFIG,     /* /api/v1/config and what is under it (config.c) */
    API_H_DASHBOARD,  /* the dashboard's page and files (dashboard.c) */
};

#define API_METHOD_GET 0x1u /* and HEAD */
#define API_METHOD_POST 0x2u
#define API_METHOD_PUT 0x4u
#define API_METHOD_PATCH 0x8u
#define API_METHOD_DELETE 0x10u

struct api_route {
    const char *path;
    int subtree; /* path and everything under path + "/" */
    unsigned methods;
    enum api_access access; /* of GET and HEAD */
    enum api_handler handler;
    /* of PUT, POST, PATCH and DELETE: a route that names none takes no writes. Writes always need
     * a token, even on loopback without api.auth (server.c). */
    enum api_access write_access;
};

/* The route of path in table (api_routes when NULL), or NULL. Any thread. */
const struct api_route *api_route_find(const struct api_route *table, size_t n, const char *path);
extern const struct api_route api_routes[];
extern const size_t api_n_routes;
/* API_METHOD_* of an HTTP method, 0 for any other. */
unsigned api_method_bit(const char *method);

struct api_identity;
/* GET and PUT of the keepalived resources (keepalived.c). */
int api_keepalived(const struct api_ctx *ctx, struct api_reply *r);

/* Who sent a request, once a token checked out. */
struct api_identity {
    int authenticated;
    enum ixd_api_role role;
    char name[128];   /* token name, or the JWT's sub (for logs) */
    const char *kind; /* "token" or "jwt" */
};

struct api_auth;

/* Auth of cfg (enabled): loads the JWKS file. NULL with err. Control thread. */
struct api_auth *api_auth_new(const struct ixd_config_api_auth *cfg, char *err, size_t errlen);
void api_auth_free(struct api_auth *a);
/*
 * Checks an Authorization header value (NULL when absent) at now (UNIX seconds): 0 and *who,
 * or -1 with why in detail (for a 401). The server thread.
 */
int api_auth_identify(const struct api_auth *a, const char *authorization, int64_t now,
                      struct api_identity *who, char *detail, size_t detaillen);
/*
 * Whether who (NULL or unauthenticated when no token was checked) may use a route that needs
 * need: 0 when it may, 401 when it must authenticate first, 403 when it may not. auth_on: api.auth
 * is configured (else everyone may use every declared route).
 */
int api_authorize(enum api_access need, int auth_on, const struct api_identity *who);
/* The role a route needs, as a name ("public", "reader", ...). */
const char *api_access_name(enum api_access need);

/* ---- the config as written, and its writes (config.c) ---- */

/* Made by the server at start with the hooks writes go through (NULL: none); freed at stop. */
struct api_config *api_config_new(const struct ixd_config_api *cfg,
                                  const struct ixd_api_config_hooks *hooks);
void api_config_free(struct api_config *c);
/* The running config's tree, copied in (control thread). */
void api_config_set(struct api_config *c, const struct ixd_cnode *tree);
/* GET under /api/v1/config (the server's thread). */
int api_config_read(const struct api_ctx *ctx, struct api_reply *r);
/* PUT, PATCH, DELETE and POST under /api/v1/config (a write thread). */
int api_config_write(const struct api_ctx *ctx, struct api_reply *r);
/* 1 when api.writes lets the API change the config (runtime or persist), else 0. Any thread. */
int api_config_writable(const struct api_config *c);

/* ---- the dashboard (dashboard.c) ---- */

/* Whether a GET of "/" with this Accept header (NULL: none) is a browser's, which gets the page. */
int api_dashboard_wanted(const char *accept);
/* The page ("/" or API_DASHBOARD_PREFIX "/") and its files; 404 for any other path. */
int api_dashboard(const struct api_ctx *ctx, struct api_reply *r);
extern const char api_dashboard_csp[];

/* Routers: 0 when they set a reply. */
int api_resource(const struct api_ctx *ctx, struct api_reply *r);
/* /api/v1/timeseries[/{series}[/graph.png]] with seg[0] = "timeseries" (timeseries.c). */
int api_timeseries(const struct api_ctx *ctx, struct api_reply *r, char **seg, int n);
/* /api/v1/alerts[/{id}] (alerts.c). */
int api_alerts(const struct api_ctx *ctx, struct api_reply *r, char **seg, int n);
/* /api/v1/top (top.c), and whether a top-talkers stage runs (the links to it). */
int api_top(const struct api_ctx *ctx, struct api_reply *r);
int api_top_available(void);
/* Whether any RRD output has posted its series (the root links /timeseries and /alerts only
 * then). */
int api_timeseries_available(void);
/* The links of a resource's time series (exporter, collector, output): query is the filter
 * ("exporter=ID"); added to links only when an RRD output keeps series. */
void api_timeseries_link(json_t *links, const char *query_fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* /metrics: the ipfixd_alert_active family (alerts.c). */
void api_metrics_alerts(GString *out);
int api_metrics(const struct api_ctx *ctx, struct api_reply *r);
int api_openapi(const struct api_ctx *ctx, struct api_reply *r);

/* The OpenAPI document embedded at build time (openapi.json). */
extern const char ixd_api_openapi_json[];
extern const size_t ixd_api_openapi_json_len;

#endif
