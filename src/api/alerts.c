/*
 * /api/v1/alerts and the ipfixd_alert_active family of /metrics: the alerts RRD outputs posted
 * on the board (rrd/catalog.h), each with the numbers that raised it and links to its exporter
 * and series (docs/api.md#alerts).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/internal.h"
#include "core/board.h"
#include "core/parse.h"
#include "rrd/catalog.h"

struct lists {
    size_t n;
    struct ixd_board_item *items[32];
};

static void
collect(void *arg, const char *name, struct ixd_board_item *it)
{
    struct lists *l = arg;

    (void)name;
    if (l->n < sizeof(l->items) / sizeof(l->items[0])) {
        l->items[l->n++] = ixd_board_item_ref(it);
    }
}

static void
lists_get(struct lists *l)
{
    l->n = 0;
    ixd_board_each(IXD_RRD_ALERTS_TOPIC, collect, l);
}

static void
lists_put(struct lists *l)
{
    for (size_t i = 0; i < l->n; i++) {
        ixd_board_put(l->items[i]);
    }
}

static json_t *
seconds(int64_t t)
{
    return api_time(t * 1000000);
}

static json_t *
number(double v)
{
    return v == v ? json_real(v) : json_null(); /* NaN: unknown */
}

static json_t *
alert_json(const char *output, const struct ixd_rrd_alert *a)
{
    char key[160], id[256];
    json_t *out, *links;

    snprintf(key, sizeof(key), "%s/%s", a->exporter.name, a->address);
    ixd_base64url(key, strlen(key), id);
    links = json_pack("{s:o, s:o, s:o, s:o, s:o}", "self",
                      api_link(API_PREFIX "/alerts/%s-%llu", output, (unsigned long long)a->id),
                      "exporter", api_link(API_PREFIX "/exporters/%s", id), "series",
                      api_link(API_PREFIX "/timeseries/%s", a->series), "graph",
                      api_link(API_PREFIX "/timeseries/%s/graph.png?start=%lld&end=%lld", a->series,
                               (long long)(a->since - 3600),
                               (long long)(a->active ? a->last + 600 : a->until + 600)),
                      "collection", api_link(API_PREFIX "/alerts"));
    out = json_pack(
        "{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:o, s:o, s:o, s:s, s:o}", "id", "", "kind",
        ixd_rrd_alert_kind_name(a->kind), "state", a->active ? "firing" : "resolved", "output",
        output, "collector", a->exporter.name, "exporter", a->address, "series", a->series, "since",
        seconds(a->since), "last", seconds(a->last), "until",
        a->active ? json_null() : seconds(a->until), "summary", a->summary, "_links", links);
    snprintf(key, sizeof(key), "%s-%llu", output, (unsigned long long)a->id);
    json_object_set_new(out, "id", json_string(key));
    if (a->kind == IXD_ALERT_LOW_TRAFFIC || a->kind == IXD_ALERT_HIGH_TRAFFIC) {
        json_object_set_new(out, "rate",
                            json_pack("{s:s, s:o, s:o, s:o, s:o}", "column", a->column, "observed",
                                      number(a->observed), "expected", number(a->expected), "lower",
                                      number(a->lower), "upper", number(a->upper)));
    } else if (a->kind == IXD_ALERT_SEQUENCE_LOSS) {
        json_object_set_new(out, "loss",
                            json_pack("{s:I, s:I}", "lost", (json_int_t)a->lost, "records",
                                      (json_int_t)a->records));
    }
    return out;
}

static int
one(const struct api_ctx *ctx, struct api_reply *r, const char *id)
{
    struct lists ls;
    json_t *found = NULL;

    lists_get(&ls);
    for (size_t i = 0; i < ls.n && found == NULL; i++) {
        const struct ixd_rrd_alert_list *l = ixd_board_item_obj(ls.items[i]);
        size_t len = strlen(l->output);
        uint64_t n;
        if (strncmp(id, l->output, len) != 0 || id[len] != '-' ||
            ixd_parse_u64(id + len + 1, &n) == -1) {
            continue;
        }
        for (size_t k = 0; k < l->n && found == NULL; k++) {
            if (l->alerts[k].id == n) {
                found = alert_json(l->output, &l->alerts[k]);
            }
        }
    }
    lists_put(&ls);
    if (found == NULL) {
        return api_problem(
            ctx, r, 404,
            "no alert has the id '%s' (resolved ones are kept for a while: see " API_PREFIX
            "/alerts)",
            id);
    }
    api_hal(r, found);
    return 0;
}

int
api_alerts(const struct api_ctx *ctx, struct api_reply *r, char **seg, int n)
{
    const char *state = ctx->query(ctx->query_arg, "state");
    json_t *items;
    struct lists ls;
    size_t active = 0;

    if (n == 2) {
        return one(ctx, r, seg[1]);
    }
    if (n != 1) {
        return api_problem(ctx, r, 404, "no resource at %s", ctx->path);
    }
    if (state != NULL && strcmp(state, "firing") != 0 && strcmp(state, "resolved") != 0) {
        return api_problem(ctx, r, 400, "state must be firing or resolved, not '%s'", state);
    }
    items = json_array();
    lists_get(&ls);
    for (size_t i = 0; i < ls.n; i++) {
        const struct ixd_rrd_alert_list *l = ixd_board_item_obj(ls.items[i]);
        for (size_t k = 0; k < l->n; k++) {
            const struct ixd_rrd_alert *a = &l->alerts[k];
            active += a->active != 0;
            if (state == NULL || (strcmp(state, "firing") == 0) == (a->active != 0)) {
                json_array_append_new(items, alert_json(l->output, a));
            }
        }
    }
    lists_put(&ls);
    api_hal(r, json_pack("{s:I, s:I, s:{s:o, s:o, s:o}, s:{s:o}}", "count",
                         (json_int_t)json_array_size(items), "firing", (json_int_t)active, "_links",
                         "self", api_link("%s", ctx->path), "firing",
                         api_link(API_PREFIX "/alerts?state=firing"), "root",
                         api_link(API_PREFIX "/"), "_embedded", "alerts", items));
    return 0;
}

/* Label values are config names and addresses; the format's escapes are all they need. */
static void
label(GString *out, const char *name, const char *v, int last)
{
    g_string_append_printf(out, "%s=\"", name);
    for (; *v != '\0'; v++) {
        if (*v == '\\' || *v == '"') {
            g_string_append_c(out, '\\');
        }
        g_string_append_c(out, *v == '\n' ? ' ' : *v);
    }
    g_string_append(out, last ? "\"" : "\",");
}

void
api_metrics_alerts(GString *out)
{
    struct lists ls;

    lists_get(&ls);
    if (ls.n > 0) {
        g_string_append(out, "# HELP ipfixd_alert_active 1 while the alert is raised\n"
                             "# TYPE ipfixd_alert_active gauge\n");
    }
    for (size_t i = 0; i < ls.n; i++) {
        const struct ixd_rrd_alert_list *l = ixd_board_item_obj(ls.items[i]);
        for (size_t k = 0; k < l->n; k++) {
            const struct ixd_rrd_alert *a = &l->alerts[k];
            if (!a->active) {
                continue;
            }
            g_string_append(out, "ipfixd_alert_active{");
            label(out, "output", l->output, 0);
            label(out, "kind", ixd_rrd_alert_kind_name(a->kind), 0);
            label(out, "collector", a->exporter.name, 0);
            label(out, "exporter", a->address, 1);
            g_string_append(out, "} 1\n");
        }
    }
    lists_put(&ls);
}
