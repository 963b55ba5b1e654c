/* What the API's files share: the request context, replies and HAL helpers. */
#ifndef IXD_API_INTERNAL_H
#define IXD_API_INTERNAL_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "daemon/snapshot.h"

#define API_PREFIX "/api/v1"
#define API_PAGE_DEFAULT 100
#define API_PAGE_MAX 1000

/* One request, as the resources see it (no libmicrohttpd type leaks past server.c). */
struct api_ctx {
    const struct ixd_view *view;
    double now_mono;
    int64_t now_usec;
    int64_t started_usec;
    const char *path; /* the whole path, for "instance" and self links */
    const char *(*query)(void *arg, const char *key);
    void *query_arg;
};

/* What a resource answers: JSON (HAL or problem) or text. The server frees it. */
struct api_reply {
    int status;
    const char *content_type;
    json_t *json;
    char *text; /* set instead of json for text bodies */
    size_t text_len;
    int text_static;   /* text is not to be freed */
    char *link_header; /* RFC 8288 Link (next page), or NULL */
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

/* Routers: 0 when they set a reply. */
int api_resource(const struct api_ctx *ctx, struct api_reply *r);
int api_metrics(const struct api_ctx *ctx, struct api_reply *r);
int api_openapi(const struct api_ctx *ctx, struct api_reply *r);

/* The OpenAPI document embedded at build time (openapi.json). */
extern const char ixd_api_openapi_json[];
extern const size_t ixd_api_openapi_json_len;

#endif
