/* HAL and problem+json building blocks, pagination by cursor. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api/internal.h"
#include "core/parse.h"

static const char *
status_title(int status)
{
    switch (status) {
    case 400:
        return "Bad Request";
    case 401:
        return "Unauthorized";
    case 403:
        return "Forbidden";
    case 404:
        return "Not Found";
    case 405:
        return "Method Not Allowed";
    case 409:
        return "Conflict";
    case 412:
        return "Precondition Failed";
    case 413:
        return "Content Too Large";
    case 415:
        return "Unsupported Media Type";
    case 422:
        return "Unprocessable Content";
    case 428:
        return "Precondition Required";
    case 429:
        return "Too Many Requests";
    case 502:
        return "Bad Gateway";
    case 503:
        return "Service Unavailable";
    default:
        return "Internal Server Error";
    }
}

int
api_problem(const struct api_ctx *ctx, struct api_reply *r, int status, const char *detail_fmt, ...)
{
    char detail[1024];
    va_list ap;

    va_start(ap, detail_fmt);
    vsnprintf(detail, sizeof(detail), detail_fmt, ap);
    va_end(ap);
    json_decref(r->json);
    r->status = status;
    r->content_type = "application/problem+json";
    /* about:blank: the status says what kind of problem it is (RFC 9457 section 4.2.1) */
    r->json =
        json_pack("{s:s, s:s, s:i, s:s, s:s}", "type", "about:blank", "title", status_title(status),
                  "status", status, "detail", detail, "instance", ctx->path);
    return 0;
}

void
api_hal(struct api_reply *r, json_t *body)
{
    r->status = 200;
    r->content_type = "application/hal+json";
    r->json = body;
}

json_t *
api_link(const char *fmt, ...)
{
    char href[1024];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(href, sizeof(href), fmt, ap);
    va_end(ap);
    return json_pack("{s:s}", "href", href);
}

json_t *
api_time(int64_t usec)
{
    char text[40];
    struct tm tm;
    time_t sec = (time_t)(usec / 1000000);

    if (usec <= 0) {
        return json_null();
    }
    gmtime_r(&sec, &tm);
    strftime(text, sizeof(text), "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(text + strlen(text), sizeof(text) - strlen(text), ".%03dZ",
             (int)((usec / 1000) % 1000));
    return json_string(text);
}

json_t *
api_counters(const struct ixd_counters *c)
{
    json_t *errors = json_object();
    int i;

    for (i = 0; i < IXD_ERR__COUNT; i++) {
        json_object_set_new(errors, ixd_error_name((enum ixd_error)i),
                            json_integer((json_int_t)c->errors[i]));
    }
    return json_pack(
        "{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, "
        "s:I, s:I, s:I, s:o}",
        "messages", (json_int_t)c->messages, "records", (json_int_t)c->records, "bytes",
        (json_int_t)c->bytes, "templates", (json_int_t)c->templates, "templates_replaced",
        (json_int_t)c->templates_replaced, "templates_withdrawn",
        (json_int_t)c->templates_withdrawn, "templates_expired", (json_int_t)c->templates_expired,
        "templates_evicted", (json_int_t)c->templates_evicted, "options_records",
        (json_int_t)c->options_records, "sequence_lost_records", (json_int_t)c->seq_lost,
        "sequence_reordered", (json_int_t)c->seq_reordered, "sequence_resets",
        (json_int_t)c->seq_resets, "socket_drops", (json_int_t)c->socket_drops, "sessions_evicted",
        (json_int_t)c->sessions_evicted, "held_sets", (json_int_t)c->held_sets, "held_dropped",
        (json_int_t)c->held_dropped, "late_records", (json_int_t)c->late_records, "forwarded",
        (json_int_t)c->forwarded, "forward_dropped", (json_int_t)c->forward_dropped, "errors_total",
        (json_int_t)ixd_counters_errors(c), "errors", errors);
}

/* The first index whose key sorts after cursor. */
static size_t
after(const char *const *keys, size_t n, const char *cursor)
{
    size_t lo = 0, hi = n;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (strcmp(keys[mid], cursor) <= 0) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    return lo;
}

int
api_page(const struct api_ctx *ctx, struct api_reply *r, const char *const *keys, size_t n,
         const char *base, json_t *links, size_t *first, size_t *count)
{
    const char *limit_text = ctx->query(ctx->query_arg, "limit");
    const char *cursor = ctx->query(ctx->query_arg, "cursor");
    const char *sep = strchr(base, '?') != NULL ? "&" : "?";
    uint64_t limit = API_PAGE_DEFAULT;
    char decoded[512];

    if (limit_text != NULL &&
        (ixd_parse_u64(limit_text, &limit) == -1 || limit < 1 || limit > API_PAGE_MAX)) {
        api_problem(ctx, r, 400, "limit must be an integer from 1 to %d, not '%s'", API_PAGE_MAX,
                    limit_text);
        return -1;
    }
    *first = 0;
    if (cursor != NULL) {
        if (ixd_base64url_decode(cursor, decoded, sizeof(decoded)) == -1) {
            api_problem(ctx, r, 400,
                        "cursor '%s' is not one this server gave out: take it from _links.next",
                        cursor);
            return -1;
        }
        *first = after(keys, n, decoded);
    }
    *count = n - *first < limit ? n - *first : (size_t)limit;
    json_object_set_new(links, "self", api_link("%s", ctx->path));
    json_object_set_new(links, "first",
                        api_link("%s%slimit=%llu", base, sep, (unsigned long long)limit));
    if (*first + *count<n && * count> 0) {
        const char *last = keys[*first + *count - 1];
        size_t len = strlen(last);
        char *enc = malloc(4 * ((len + 2) / 3) + 1);
        char href[1024];

        if (enc != NULL) {
            ixd_base64url(last, len, enc);
            snprintf(href, sizeof(href), "%s%slimit=%llu&cursor=%s", base, sep,
                     (unsigned long long)limit, enc);
            json_object_set_new(links, "next", json_pack("{s:s}", "href", href));
            free(r->link_header);
            r->link_header = malloc(strlen(href) + 16);
            if (r->link_header != NULL) {
                snprintf(r->link_header, strlen(href) + 16, "<%s>; rel=\"next\"", href);
            }
            free(enc);
        }
    }
    return 0;
}
