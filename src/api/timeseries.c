/*
 * /api/v1/timeseries: the series RRD outputs keep (docs/api.md#time-series). The list comes
 * from what each RRD output posted on the board (rrd/catalog.h); a series' points and its graph
 * are read on the job thread (jobs.h), never on the server's.
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api/internal.h"
#include "api/jobs.h"
#include "core/board.h"
#include "core/parse.h"
#include "rrd/catalog.h"

#define MAX_POINTS 2000
#define DEFAULT_SPAN 86400
#define GRAPH_WIDTH 800
#define GRAPH_HEIGHT 250

/* Every RRD output's catalogue, referenced, in the order the outputs were opened. */
struct catalogs {
    size_t n;
    struct ixd_board_item *items[32];
};

static void
collect(void *arg, const char *name, struct ixd_board_item *it)
{
    struct catalogs *c = arg;

    (void)name;
    if (c->n < sizeof(c->items) / sizeof(c->items[0])) {
        c->items[c->n++] = ixd_board_item_ref(it);
    }
}

static void
catalogs_get(struct catalogs *c)
{
    c->n = 0;
    ixd_board_each(IXD_RRD_SERIES_TOPIC, collect, c);
}

static void
catalogs_put(struct catalogs *c)
{
    for (size_t i = 0; i < c->n; i++) {
        ixd_board_put(c->items[i]);
    }
    c->n = 0;
}

static const struct ixd_rrd_catalog *
catalog_at(const struct catalogs *c, size_t i)
{
    return ixd_board_item_obj(c->items[i]);
}

int
api_timeseries_available(void)
{
    struct ixd_board_item *it = ixd_board_get(IXD_RRD_SERIES_TOPIC, NULL);

    ixd_board_put(it);
    return it != NULL;
}

void
api_timeseries_link(json_t *links, const char *query_fmt, ...)
{
    char query[512];
    va_list ap;

    if (!api_timeseries_available()) {
        return;
    }
    va_start(ap, query_fmt);
    vsnprintf(query, sizeof(query), query_fmt, ap);
    va_end(ap);
    json_object_set_new(links, "timeseries", api_link(API_PREFIX "/timeseries?%s", query));
}

/* ---- times: RFC 3339, UNIX seconds, or rrdtool-style relative ("-1d", "now-2h", "now") ---- */

static int
unit_seconds(const char *u, int64_t *out)
{
    static const struct {
        const char *name;
        int64_t s;
    } units[] = {{"s", 1},        {"sec", 1},        {"m", 60},        {"min", 60},
                 {"h", 3600},     {"hour", 3600},    {"d", 86400},     {"day", 86400},
                 {"w", 604800},   {"week", 604800},  {"mon", 2592000}, {"month", 2592000},
                 {"y", 31536000}, {"year", 31536000}};

    for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
        if (strcmp(u, units[i].name) == 0 ||
            (strlen(u) == strlen(units[i].name) + 1 && u[strlen(u) - 1] == 's' &&
             strncmp(u, units[i].name, strlen(units[i].name)) == 0)) {
            *out = units[i].s;
            return 0;
        }
    }
    return -1;
}

/* "-1d", "-90min", "+1h" after "now" (or alone): now plus or minus that. */
static int
relative(const char *text, int64_t now, int64_t *out)
{
    const char *p = text;
    int64_t sign, n = 0, unit;
    int digits = 0;

    if (strncmp(p, "now", 3) == 0) {
        p += 3;
        if (*p == '\0') {
            *out = now;
            return 0;
        }
    }
    if (*p != '-' && *p != '+') {
        return -1;
    }
    sign = *p++ == '-' ? -1 : 1;
    while (*p >= '0' && *p <= '9' && digits < 10) {
        n = n * 10 + (*p++ - '0');
        digits++;
    }
    if (digits == 0 || digits == 10 || unit_seconds(p, &unit) == -1) {
        return -1;
    }
    *out = now + sign * n * unit;
    return 0;
}

/* "2026-12-06T12:00:00Z", "2026-12-06T12:00:00.5+01:00" */
static int
rfc3339(const char *text, int64_t *out)
{
    struct tm tm;
    const char *p;
    int64_t offset = 0;

    memset(&tm, 0, sizeof(tm));
    p = strptime(text, "%Y-%m-%dT%H:%M:%S", &tm);
    if (p == NULL) {
        return -1;
    }
    if (*p == '.') {
        p++;
        while (*p >= '0' && *p <= '9') {
            p++;
        }
    }
    if ((*p == '+' || *p == '-') && strlen(p) == 6 && p[3] == ':') {
        int h = (p[1] - '0') * 10 + (p[2] - '0'), m = (p[4] - '0') * 10 + (p[5] - '0');
        offset = (int64_t)(*p == '-' ? -1 : 1) * (h * 3600 + m * 60);
    } else if (strcmp(p, "Z") != 0 && strcmp(p, "z") != 0) {
        return -1;
    }
    *out = (int64_t)timegm(&tm) - offset;
    return 0;
}

/* A time as ?start and ?end take it; -1 with a 400 in r. */
static int
parse_time(const struct api_ctx *ctx, struct api_reply *r, const char *key, int64_t def,
           int64_t now, int64_t *out)
{
    const char *text = ctx->query(ctx->query_arg, key);
    uint64_t v;

    if (text == NULL || text[0] == '\0') {
        *out = def;
        return 0;
    }
    if ((ixd_parse_u64(text, &v) == 0 && v < (1ULL << 40) && (*out = (int64_t)v, 1)) ||
        relative(text, now, out) == 0 || rfc3339(text, out) == 0) {
        return 0;
    }
    api_problem(ctx, r, 400,
                "%s '%s' is not a time: RFC 3339 (2026-12-06T12:00:00Z), UNIX seconds, or "
                "relative to now as rrdtool writes it (now, -1d, now-2h, -30min)",
                key, text);
    return -1;
}

/* ?start and ?end, start before end. */
static int
parse_range(const struct api_ctx *ctx, struct api_reply *r, int64_t *start, int64_t *end)
{
    int64_t now = ctx->now_usec / 1000000;

    if (parse_time(ctx, r, "end", now, now, end) == -1 ||
        parse_time(ctx, r, "start", *end - DEFAULT_SPAN, now, start) == -1) {
        return -1;
    }
    if (*start >= *end) {
        api_problem(ctx, r, 400, "start must be before end");
        return -1;
    }
    return 0;
}

/* ---- the list ---- */

static json_t *
entry_json(const struct ixd_rrd_catalog *c, const struct ixd_rrd_entry *e)
{
    const char *const *cols;
    unsigned n = ixd_rrd_kind_columns((enum ixd_rrd_kind)e->key.kind, &cols);
    json_t *columns = json_array(), *links = json_object(), *out;
    char addr[48], key[160], id[256];

    for (unsigned j = 0; j < n; j++) {
        json_array_append_new(columns, json_string(cols[j]));
    }
    out =
        json_pack("{s:s, s:s, s:s, s:o, s:s, s:b, s:b}", "id", e->id, "kind",
                  ixd_rrd_kind_name((enum ixd_rrd_kind)e->key.kind), "output", c->output, "columns",
                  columns, "unit", "per second", "anomaly", e->hw, "written", e->written);
    json_object_set_new(links, "self", api_link(API_PREFIX "/timeseries/%s", e->id));
    json_object_set_new(links, "graph", api_link(API_PREFIX "/timeseries/%s/graph.png", e->id));
    if (ixd_rrd_kind_traffic((enum ixd_rrd_kind)e->key.kind)) {
        ixd_rrd_key_address(&e->key, addr, sizeof(addr));
        snprintf(key, sizeof(key), "%s/%s", e->key.name, addr);
        ixd_base64url(key, strlen(key), id);
        json_object_set_new(out, "collector", json_string(e->key.name));
        json_object_set_new(out, "exporter", json_string(addr));
        json_object_set_new(links, "exporter", api_link(API_PREFIX "/exporters/%s", id));
        json_object_set_new(links, "collector", api_link(API_PREFIX "/collectors/%s", e->key.name));
        if (e->key.kind == IXD_RRD_DOMAIN) {
            json_object_set_new(out, "odid", json_integer(e->key.num));
        } else if (e->key.kind == IXD_RRD_INTERFACE) {
            json_object_set_new(out, "interface", json_integer(e->key.num));
            json_object_set_new(out, "direction", json_string(e->key.dir ? "egress" : "ingress"));
        }
    } else {
        json_object_set_new(out, "name", json_string(e->key.name));
        if (e->key.kind != IXD_RRD_PIPELINE) {
            json_object_set_new(links, e->key.kind == IXD_RRD_COLLECTOR ? "collector" : "output",
                                api_link(API_PREFIX "/%ss/%s",
                                         ixd_rrd_kind_name((enum ixd_rrd_kind)e->key.kind),
                                         e->key.name));
        }
    }
    json_object_set_new(out, "_links", links);
    return out;
}

/* The list's filters: which series a query keeps. */
struct filter {
    int kind; /* -1: any */
    const char *collector, *output, *pipeline;
    const char *rrd;        /* the RRD output that keeps them */
    char exporter_key[256]; /* "collector/address" of ?exporter, "" for any */
};

static int
keeps(const struct filter *f, const struct ixd_rrd_entry *e)
{
    int traffic = ixd_rrd_kind_traffic((enum ixd_rrd_kind)e->key.kind);
    char addr[48], key[160];

    if (f->kind >= 0 && e->key.kind != f->kind) {
        return 0;
    }
    if (f->collector != NULL &&
        ((!traffic && e->key.kind != IXD_RRD_COLLECTOR) || strcmp(e->key.name, f->collector))) {
        return 0;
    }
    if (f->output != NULL && (e->key.kind != IXD_RRD_OUTPUT || strcmp(e->key.name, f->output))) {
        return 0;
    }
    if (f->pipeline != NULL &&
        (e->key.kind != IXD_RRD_PIPELINE || strcmp(e->key.name, f->pipeline))) {
        return 0;
    }
    if (f->exporter_key[0] != '\0') {
        if (!traffic) {
            return 0;
        }
        ixd_rrd_key_address(&e->key, addr, sizeof(addr));
        snprintf(key, sizeof(key), "%s/%s", e->key.name, addr);
        return strcmp(key, f->exporter_key) == 0;
    }
    return 1;
}

static int
parse_filter(const struct api_ctx *ctx, struct api_reply *r, struct filter *f, char *base,
             size_t baselen)
{
    const char *kind = ctx->query(ctx->query_arg, "kind");
    const char *exporter = ctx->query(ctx->query_arg, "exporter");
    size_t used;

    memset(f, 0, sizeof(*f));
    f->kind = -1;
    f->collector = ctx->query(ctx->query_arg, "collector");
    f->output = ctx->query(ctx->query_arg, "output");
    f->pipeline = ctx->query(ctx->query_arg, "pipeline");
    for (int k = 0; kind != NULL && k < IXD_RRD_KINDS && f->kind < 0; k++) {
        f->kind = strcmp(kind, ixd_rrd_kind_name((enum ixd_rrd_kind)k)) == 0 ? k : -1;
    }
    f->rrd = ctx->query(ctx->query_arg, "rrd");
    if (kind != NULL && f->kind < 0) {
        api_problem(ctx, r, 400,
                    "kind must be exporter, domain, interface, collector, pipeline or output, "
                    "not '%s'",
                    kind);
        return -1;
    }
    if (exporter != NULL &&
        ixd_base64url_decode(exporter, f->exporter_key, sizeof(f->exporter_key)) == -1) {
        api_problem(ctx, r, 400,
                    "exporter '%s' is not an exporter id (from " API_PREFIX "/exporters)",
                    exporter);
        return -1;
    }
    used = (size_t)snprintf(base, baselen, API_PREFIX "/timeseries");
    /* the filters go on in the pages' links */
    static const char *const keys[] = {"kind",   "exporter", "collector",
                                       "output", "pipeline", "rrd"};
    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]) && used < baselen; i++) {
        const char *v = ctx->query(ctx->query_arg, keys[i]);
        if (v != NULL) {
            used += (size_t)snprintf(base + used, baselen - used, "%s%s=%s",
                                     strchr(base, '?') ? "&" : "?", keys[i], v);
        }
    }
    return 0;
}

struct listed {
    char key[IXD_RRD_ID_MAX + IXD_NAME_MAX + 2]; /* id, then the output: the order and cursor */
    const struct ixd_rrd_catalog *c;
    const struct ixd_rrd_entry *e;
};

static int
listed_order(const void *a, const void *b)
{
    return strcmp(((const struct listed *)a)->key, ((const struct listed *)b)->key);
}

static int
list(const struct api_ctx *ctx, struct api_reply *r)
{
    struct catalogs cs;
    struct filter f;
    struct listed *l = NULL;
    const char **keys = NULL;
    json_t *links, *items;
    size_t total = 0, n = 0, first, count;
    char base[1024];

    if (parse_filter(ctx, r, &f, base, sizeof(base)) == -1) {
        return 0;
    }
    catalogs_get(&cs);
    for (size_t i = 0; i < cs.n; i++) {
        total += catalog_at(&cs, i)->n;
    }
    l = calloc(total + 1, sizeof(*l));
    keys = calloc(total + 1, sizeof(*keys));
    if (l == NULL || keys == NULL) {
        api_problem(ctx, r, 500, "out of memory");
        goto done;
    }
    for (size_t i = 0; i < cs.n; i++) {
        const struct ixd_rrd_catalog *c = catalog_at(&cs, i);
        for (size_t k = 0; k < c->n; k++) {
            if ((f.rrd == NULL || strcmp(f.rrd, c->output) == 0) && keeps(&f, &c->entries[k])) {
                snprintf(l[n].key, sizeof(l[n].key), "%s@%s", c->entries[k].id, c->output);
                l[n].c = c;
                l[n++].e = &c->entries[k];
            }
        }
    }
    qsort(l, n, sizeof(*l), listed_order);
    for (size_t i = 0; i < n; i++) {
        keys[i] = l[i].key;
    }
    links = json_object();
    items = json_array();
    if (api_page(ctx, r, keys, n, base, links, &first, &count) == 0) {
        json_object_set_new(links, "series",
                            json_pack("{s:s, s:b}", "href",
                                      API_PREFIX "/timeseries/{series}{?start,end,step,cf}",
                                      "templated", 1));
        json_object_set_new(links, "root", api_link(API_PREFIX "/"));
        for (size_t i = first; i < first + count; i++) {
            json_array_append_new(items, entry_json(l[i].c, l[i].e));
        }
        api_hal(r, json_pack("{s:I, s:O, s:{s:O}}", "count", (json_int_t)n, "_links", links,
                             "_embedded", "timeseries", items));
    }
    json_decref(links);
    json_decref(items);
done:
    free(l);
    free(keys);
    catalogs_put(&cs);
    return 0;
}

/* ---- one series: its points, its graph (on the job thread) ---- */

struct series_job {
    struct api_job base;
    struct ixd_board_item *item; /* the catalogue e is in */
    const struct ixd_rrd_entry *e;
    int graph;
    char cf[16];
    int64_t start, end;
    unsigned long step;
    unsigned width, height;
};

static void
series_job_free(struct api_job *job)
{
    struct series_job *j = (struct series_job *)job;

    ixd_board_put(j->item);
    free(j);
}

static json_t *
seconds_time(int64_t t)
{
    return api_time(t * 1000000);
}

static void
points(struct series_job *j, struct api_reply *r)
{
    const struct ixd_rrd_catalog *c = ixd_board_item_obj(j->item);
    struct api_ctx ctx = {.path = j->base.path};
    struct ixd_rrd_fetched f;
    json_t *pts, *cols, *links;
    char err[768];
    size_t rows;

    if (ixd_rrd_query_fetch(c, j->e, j->cf, j->start, j->end, j->step, MAX_POINTS, &f, err,
                            sizeof(err)) == -1) {
        api_problem(&ctx, r, 500, "%s", err);
        return;
    }
    rows = ixd_rrd_fetched_rows(&f);
    pts = json_array();
    cols = json_array();
    for (unsigned long k = 0; k < f.columns; k++) {
        json_array_append_new(cols, json_string(f.names[k]));
    }
    for (size_t i = 0; i < rows; i++) {
        json_t *row = json_array();
        json_array_append_new(row, json_integer(f.start + (json_int_t)((i + 1) * f.step)));
        for (unsigned long k = 0; k < f.columns; k++) {
            double v = f.data[i * f.columns + k];
            json_array_append_new(row, isnan(v) ? json_null() : json_real(v));
        }
        json_array_append_new(pts, row);
    }
    links = json_pack("{s:o, s:o, s:o}", "self", api_link("%s", j->base.path), "graph",
                      api_link(API_PREFIX "/timeseries/%s/graph.png?start=%lld&end=%lld", j->e->id,
                               (long long)j->start, (long long)j->end),
                      "collection", api_link(API_PREFIX "/timeseries"));
    api_hal(r, json_pack("{s:s, s:s, s:s, s:I, s:o, s:o, s:o, s:o, s:o}", "series", j->e->id,
                         "output", c->output, "cf", j->cf, "step", (json_int_t)f.step, "start",
                         seconds_time(f.start), "end", seconds_time(f.end), "columns", cols,
                         "points", pts, "_links", links));
    ixd_rrd_fetched_release(&f);
}

static void
graph(struct series_job *j, struct api_reply *r)
{
    const struct ixd_rrd_catalog *c = ixd_board_item_obj(j->item);
    struct api_ctx ctx = {.path = j->base.path};
    void *png;
    size_t len;
    char err[768];

    if (ixd_rrd_query_graph(c, j->e, j->start, j->end, j->width, j->height, &png, &len, err,
                            sizeof(err)) == -1) {
        api_problem(&ctx, r, 500, "%s", err);
        return;
    }
    r->status = 200;
    r->content_type = "image/png";
    r->text = g_memdup2(png, len);
    r->text_len = len;
    free(png);
}

static void
series_job_run(struct api_job *job, struct api_reply *r)
{
    struct series_job *j = (struct series_job *)job;

    if (j->graph) {
        graph(j, r);
    } else {
        points(j, r);
    }
}

/* A number query parameter within min..max (def when absent); -1 with a 400. */
static int
query_number(const struct api_ctx *ctx, struct api_reply *r, const char *key, uint64_t def,
             uint64_t min, uint64_t max, int duration, uint64_t *out)
{
    const char *text = ctx->query(ctx->query_arg, key);

    *out = def;
    if (text == NULL) {
        return 0;
    }
    if ((duration ? ixd_parse_duration(text, out) : ixd_parse_u64(text, out)) == -1 || *out < min ||
        *out > max) {
        api_problem(ctx, r, 400, "%s must be %s from %llu to %llu, not '%s'", key,
                    duration ? "a number of seconds (or 1m, 1h)" : "an integer",
                    (unsigned long long)min, (unsigned long long)max, text);
        return -1;
    }
    return 0;
}

static int
one(const struct api_ctx *ctx, struct api_reply *r, const char *id, int want_graph)
{
    const char *cf = ctx->query(ctx->query_arg, "cf");
    const char *rrd = ctx->query(ctx->query_arg, "rrd");
    struct series_job *j;
    struct catalogs cs;
    uint64_t step, width, height;
    size_t i;

    j = calloc(1, sizeof(*j));
    if (j == NULL) {
        return api_problem(ctx, r, 500, "out of memory");
    }
    catalogs_get(&cs);
    for (i = 0; i < cs.n && j->e == NULL; i++) {
        const struct ixd_rrd_catalog *c = catalog_at(&cs, i);
        if (rrd == NULL || strcmp(rrd, c->output) == 0) {
            j->e = ixd_rrd_catalog_find(c, id);
            j->item = j->e != NULL ? ixd_board_item_ref(cs.items[i]) : NULL;
        }
    }
    catalogs_put(&cs);
    j->base.run = series_job_run;
    j->base.free = series_job_free;
    snprintf(j->base.path, sizeof(j->base.path), "%s", ctx->path);
    if (j->e == NULL) {
        series_job_free(&j->base);
        return api_problem(
            ctx, r, 404, "no series is named '%s' (the list is at " API_PREFIX "/timeseries)", id);
    }
    if (cf != NULL && strcmp(cf, "AVERAGE") != 0 && strcmp(cf, "MAX") != 0) {
        series_job_free(&j->base);
        return api_problem(ctx, r, 400, "cf must be AVERAGE or MAX, not '%s'", cf);
    }
    snprintf(j->cf, sizeof(j->cf), "%s", cf != NULL ? cf : "AVERAGE");
    j->graph = want_graph;
    if (parse_range(ctx, r, &j->start, &j->end) == -1 ||
        query_number(ctx, r, "step", 10, 10, 86400 * 366, 1, &step) == -1 ||
        query_number(ctx, r, "width", GRAPH_WIDTH, 100, 4000, 0, &width) == -1 ||
        query_number(ctx, r, "height", GRAPH_HEIGHT, 50, 2000, 0, &height) == -1) {
        series_job_free(&j->base);
        return 0;
    }
    j->step = (unsigned long)step;
    j->width = (unsigned)width;
    j->height = (unsigned)height;
    r->job = &j->base;
    return 0;
}

int
api_timeseries(const struct api_ctx *ctx, struct api_reply *r, char **seg, int n)
{
    if (n == 1) {
        return list(ctx, r);
    }
    if (n == 2) {
        return one(ctx, r, seg[1], 0);
    }
    if (n == 3 && strcmp(seg[2], "graph.png") == 0) {
        return one(ctx, r, seg[1], 1);
    }
    return api_problem(ctx, r, 404, "no resource at %s", ctx->path);
}
