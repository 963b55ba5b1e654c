/*
 * /api/v1/top{?by,exporter,window,limit,dimension,name}: the heaviest talkers that top-talkers
 * stages counted, merged over every worker's window (pipeline/top.h, docs/api.md#top-talkers).
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/internal.h"
#include "core/board.h"
#include "core/parse.h"
#include "pipeline/top.h"

#define LIMIT_DEFAULT 10
#define LIMIT_MAX 1000

int
api_top_available(void)
{
    struct ixd_board_item *it = ixd_board_get(IXD_TOP_TOPIC, NULL);

    ixd_board_put(it);
    return it != NULL;
}

struct windows {
    const char *name; /* NULL: the first stage's name found */
    char first[IXD_NAME_MAX];
    int several; /* stages of more than one name */
    size_t n;
    struct ixd_board_item *items[256];
};

static void
collect(void *arg, const char *name, struct ixd_board_item *it)
{
    struct windows *w = arg;

    if (w->first[0] == '\0') {
        snprintf(w->first, sizeof(w->first), "%s", name);
    }
    w->several |= strcmp(w->first, name) != 0;
    if ((w->name == NULL || strcmp(w->name, name) == 0) &&
        w->n < sizeof(w->items) / sizeof(w->items[0])) {
        w->items[w->n++] = ixd_board_item_ref(it);
    }
}

static void
windows_put(struct windows *w)
{
    for (size_t i = 0; i < w->n; i++) {
        ixd_board_put(w->items[i]);
    }
}

/* ?exporter: an exporter id (from /exporters: its collector and address) or an address. */
static int
parse_exporter(const struct api_ctx *ctx, struct api_reply *r, const char *text,
               struct in6_addr *addr, char *collector, size_t collen)
{
    char decoded[256], address[128];
    const char *slash;
    struct in_addr v4;

    collector[0] = '\0';
    snprintf(address, sizeof(address), "%s", text);
    if (ixd_base64url_decode(text, decoded, sizeof(decoded)) == 0 &&
        (slash = strchr(decoded, '/')) != NULL) {
        snprintf(collector, collen, "%.*s", (int)(slash - decoded), decoded);
        snprintf(address, sizeof(address), "%s", slash + 1);
    }
    if (inet_pton(AF_INET, address, &v4) == 1) {
        memset(addr, 0, sizeof(*addr));
        addr->s6_addr[10] = addr->s6_addr[11] = 0xff;
        memcpy(&addr->s6_addr[12], &v4, 4);
        return 0;
    }
    if (inet_pton(AF_INET6, address, addr) == 1) {
        return 0;
    }
    api_problem(ctx, r, 400,
                "exporter '%s' is neither an exporter id (from " API_PREFIX
                "/exporters) nor an address",
                text);
    return -1;
}

struct params {
    struct ixd_top_query q;
    struct in6_addr addr;
    char collector[IXD_NAME_MAX];
    int one_dim; /* -1: every dimension the stage counts */
    uint64_t window;
};

static int
parse_params(const struct api_ctx *ctx, struct api_reply *r, struct params *p)
{
    const char *by = ctx->query(ctx->query_arg, "by");
    const char *exporter = ctx->query(ctx->query_arg, "exporter");
    const char *window = ctx->query(ctx->query_arg, "window");
    const char *limit = ctx->query(ctx->query_arg, "limit");
    const char *dim = ctx->query(ctx->query_arg, "dimension");
    uint64_t n = LIMIT_DEFAULT;

    memset(p, 0, sizeof(*p));
    p->one_dim = -1;
    if (by != NULL && strcmp(by, "octets") != 0 && strcmp(by, "packets") != 0) {
        api_problem(ctx, r, 400, "by must be octets or packets, not '%s'", by);
        return -1;
    }
    p->q.metric = by != NULL && strcmp(by, "packets") == 0 ? IXD_TOP_PACKETS : IXD_TOP_OCTETS;
    if (limit != NULL && (ixd_parse_u64(limit, &n) == -1 || n < 1 || n > LIMIT_MAX)) {
        api_problem(ctx, r, 400, "limit must be an integer from 1 to %d, not '%s'", LIMIT_MAX,
                    limit);
        return -1;
    }
    p->q.limit = (size_t)n;
    if (window != NULL && (ixd_parse_duration(window, &p->window) == -1 || p->window == 0)) {
        api_problem(ctx, r, 400, "window must be a duration (300, 5m, 1h), not '%s'", window);
        return -1;
    }
    if (dim != NULL && (p->one_dim = ixd_top_dim_parse(dim)) < 0) {
        api_problem(ctx, r, 400,
                    "dimension must be source-address, destination-address, "
                    "source-port, destination-port, protocol, source-as or "
                    "destination-as, not '%s'",
                    dim);
        return -1;
    }
    if (exporter != NULL) {
        if (parse_exporter(ctx, r, exporter, &p->addr, p->collector, sizeof(p->collector)) == -1) {
            return -1;
        }
        p->q.addr = &p->addr;
        p->q.collector = p->collector[0] != '\0' ? p->collector : NULL;
    }
    return 0;
}

/* The answer of one dimension: [{"key", by, "error", "share"}...] */
static json_t *
ranked(const struct ixd_top_answer *a, enum ixd_top_dim d, const char *by)
{
    json_t *arr = json_array();
    char text[64];

    for (size_t i = 0; i < a->n; i++) {
        const struct ixd_top_item *it = &a->items[i];
        ixd_top_key_text(d, it->key, text, sizeof(text));
        json_array_append_new(
            arr, json_pack("{s:s, s:I, s:I, s:f}", "key", text, by, (json_int_t)it->upper, "error",
                           (json_int_t)(it->upper - it->lower), "share",
                           a->total > 0 ? (double)it->upper / (double)a->total : 0.0));
    }
    return arr;
}

int
api_top(const struct api_ctx *ctx, struct api_reply *r)
{
    struct windows w;
    struct params p;
    const struct ixd_top_window *wins[256];
    json_t *dims, *body;
    const char *by;
    uint32_t longest = 0;
    int64_t from = 0, to = 0;

    if (parse_params(ctx, r, &p) == -1) {
        return 0;
    }
    memset(&w, 0, sizeof(w));
    w.name = ctx->query(ctx->query_arg, "name");
    ixd_board_each(IXD_TOP_TOPIC, collect, &w);
    if (w.name == NULL && w.several) {
        windows_put(&w);
        return api_problem(ctx, r, 400,
                           "several top-talkers stages have names of their own: pick one with "
                           "?name=");
    }
    if (w.n == 0) {
        windows_put(&w);
        return api_problem(ctx, r, 404,
                           w.name != NULL ? "no top-talkers stage is named '%s'"
                                          : "no pipeline has a top-talkers stage%s",
                           w.name != NULL ? w.name : "");
    }
    for (size_t i = 0; i < w.n; i++) {
        wins[i] = ixd_board_item_obj(w.items[i]);
        longest = wins[i]->window_seconds > longest ? wins[i]->window_seconds : longest;
    }
    p.q.seconds = p.window > 0 && p.window < longest ? (uint32_t)p.window : longest;
    by = p.q.metric == IXD_TOP_PACKETS ? "packets" : "octets";
    dims = json_object();
    for (int d = 0; d < IXD_TOP_DIMS; d++) {
        struct ixd_top_answer a;
        if (p.one_dim >= 0 && d != p.one_dim) {
            continue;
        }
        p.q.dim = (enum ixd_top_dim)d;
        if (ixd_top_merge(wins, w.n, &p.q, &a) == -1) {
            json_decref(dims);
            windows_put(&w);
            return api_problem(ctx, r, 500, "out of memory");
        }
        if (a.to > 0) {
            from = a.from;
            to = a.to;
            json_object_set_new(dims, ixd_top_dim_name((enum ixd_top_dim)d),
                                json_pack("{s:I, s:I, s:o}", "total", (json_int_t)a.total,
                                          "error_bound", (json_int_t)a.error, "items",
                                          ranked(&a, (enum ixd_top_dim)d, by)));
        }
        ixd_top_answer_release(&a);
    }
    windows_put(&w);
    body =
        json_pack("{s:s, s:s, s:I, s:o, s:o, s:I, s:o}", "name", w.name != NULL ? w.name : w.first,
                  "by", by, "window", (json_int_t)p.q.seconds, "from", api_time(from * 1000000),
                  "to", api_time(to * 1000000), "limit", (json_int_t)p.q.limit, "top", dims);
    json_object_set_new(body, "exporter",
                        p.q.addr != NULL ? json_string(ctx->query(ctx->query_arg, "exporter"))
                                         : json_null());
    json_object_set_new(body, "_links",
                        json_pack("{s:o, s:o}", "self", api_link("%s", ctx->path), "root",
                                  api_link(API_PREFIX "/")));
    api_hal(r, body);
    return 0;
}
