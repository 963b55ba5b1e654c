/* The HAL resources under /api/v1: root, collectors, exporters, templates, outputs, stats. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/config.h"
#include "api/internal.h"
#include "core/parse.h"

#define SEGMENTS_MAX 8

/* A duration (seconds, not negative) rounded to the millisecond: ages need no more. */
static double
seconds_ms(double s)
{
    return (double)(int64_t)(s * 1e3 + 0.5) / 1e3;
}

static json_t *
root(const struct api_ctx *ctx)
{
    json_t *links = json_object();

    json_object_set_new(links, "self", api_link(API_PREFIX "/"));
    json_object_set_new(links, "collectors", api_link(API_PREFIX "/collectors"));
    json_object_set_new(links, "exporters", api_link(API_PREFIX "/exporters"));
    json_object_set_new(
        links, "exporters-by-collector",
        json_pack("{s:s, s:b}", "href", API_PREFIX "/exporters{?collector}", "templated", 1));
    json_object_set_new(links, "outputs", api_link(API_PREFIX "/outputs"));
    json_object_set_new(links, "pipelines", api_link(API_PREFIX "/pipelines"));
    json_object_set_new(links, "stats", api_link(API_PREFIX "/stats"));
    /* the operator's: a reader's token gets 403 there */
    json_object_set_new(links, "config", api_link(API_PREFIX "/config"));
    if (ctx->keepalived != NULL && ctx->keepalived->enabled) {
        /* only where it answers: the root links to nothing that is a 404 */
        json_object_set_new(links, "keepalived", api_link(API_PREFIX "/ha/keepalived"));
    }
    if (api_timeseries_available()) {
        json_object_set_new(links, "timeseries", api_link(API_PREFIX "/timeseries"));
        json_object_set_new(links, "alerts", api_link(API_PREFIX "/alerts"));
    }
    if (api_top_available()) {
        json_object_set_new(links, "top",
                            json_pack("{s:s, s:b}", "href",
                                      API_PREFIX "/top{?by,exporter,window,limit}", "templated",
                                      1));
    }
    json_object_set_new(
        links, "service-desc",
        json_pack("{s:s, s:s}", "href", API_PREFIX "/openapi.json", "type", "application/json"));
    json_object_set_new(links, "metrics", api_link("/metrics"));
    json_object_set_new(links, "health", api_link("/health"));
    json_object_set_new(links, "ready", api_link("/ready"));
    /* whole milliseconds, printed as such (send_reply's precision) */
    return json_pack("{s:s, s:s, s:o, s:f, s:o}", "name", "ipfixd", "version", IXD_VERSION,
                     "started", api_time(ctx->started_usec), "uptime_seconds",
                     (double)((ctx->now_usec - ctx->started_usec) / 1000) / 1e3, "_links", links);
}

/* ---- collectors ---- */

static const struct ixd_view_collector *
find_collector(const struct ixd_view *v, const char *name)
{
    size_t i;

    for (i = 0; i < v->n_collectors; i++) {
        if (strcmp(v->collectors[i].name, name) == 0) {
            return &v->collectors[i];
        }
    }
    return NULL;
}

static void module_counters(json_t *obj, const struct ixd_counter_item *items, size_t n);

static json_t *
collector_json(const struct ixd_view *v, const struct ixd_view_collector *c)
{
    json_t *links = json_object(), *obj;

    json_object_set_new(links, "self", api_link(API_PREFIX "/collectors/%s", c->name));
    json_object_set_new(links, "exporters",
                        api_link(API_PREFIX "/exporters?collector=%s", c->name));
    json_object_set_new(links, "collection", api_link(API_PREFIX "/collectors"));
    json_object_set_new(links, "config", api_link(API_PREFIX "/config/collectors/%s", c->name));
    api_timeseries_link(links, "collector=%s", c->name);
    obj = json_pack("{s:s, s:s, s:s, s:s, s:s, s:I, s:I, s:I, s:I, s:o, s:o}", "name", c->name,
                    "transport", c->transport, "listen", c->listen, "bound", c->bound, "state",
                    c->listening_workers == v->n_workers ? "listening" : "down", "sessions",
                    (json_int_t)c->sessions, "tcp_connections", (json_int_t)c->tcp_connections,
                    "templates", (json_int_t)c->templates, "exporters", (json_int_t)c->exporters,
                    "counters", api_counters(&c->counters), "_links", links);
    if (c->input_counters != NULL) {
        /* the input type's own counters (a capture's), rendered as an output's are */
        json_t *input = json_object();
        module_counters(input, c->input_counters, c->n_input_counters);
        json_object_set_new(obj, "input", input);
    }
    return obj;
}

static int
name_order(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Pages through items named by names (any order): sorts a copy of the names. */
static int
named_collection(const struct api_ctx *ctx, struct api_reply *r, const char *rel,
                 const char **names, size_t n,
                 json_t *(*item)(const struct api_ctx *, const char *))
{
    json_t *links = json_object(), *items = json_array();
    size_t first, count, i;
    char base[128];

    qsort(names, n, sizeof(*names), name_order);
    snprintf(base, sizeof(base), API_PREFIX "/%s", rel);
    if (api_page(ctx, r, names, n, base, links, &first, &count) == -1) {
        json_decref(links);
        json_decref(items);
        return 0;
    }
    for (i = first; i < first + count; i++) {
        json_array_append_new(items, item(ctx, names[i]));
    }
    api_hal(r, json_pack("{s:I, s:o, s:{s:o}}", "count", (json_int_t)n, "_links", links,
                         "_embedded", rel, items));
    return 0;
}

static json_t *
collector_item(const struct api_ctx *ctx, const char *name)
{
    return collector_json(ctx->view, find_collector(ctx->view, name));
}

static int
collectors(const struct api_ctx *ctx, struct api_reply *r, const char *name)
{
    const struct ixd_view *v = ctx->view;
    const char **names;
    size_t i;

    if (name != NULL) {
        const struct ixd_view_collector *c = find_collector(v, name);
        if (c == NULL) {
            return api_problem(ctx, r, 404, "no collector is named '%s'", name);
        }
        api_hal(r, collector_json(v, c));
        return 0;
    }
    names = calloc(v->n_collectors + 1, sizeof(*names));
    if (names == NULL) {
        return api_problem(ctx, r, 500, "out of memory");
    }
    for (i = 0; i < v->n_collectors; i++) {
        names[i] = v->collectors[i].name;
    }
    named_collection(ctx, r, "collectors", names, v->n_collectors, collector_item);
    free(names);
    return 0;
}

/* ---- outputs ---- */

static const struct ixd_snap_output *
find_output(const struct ixd_view *v, const char *name)
{
    size_t i;

    for (i = 0; i < v->n_outputs; i++) {
        if (strcmp(v->outputs[i].name, name) == 0) {
            return &v->outputs[i];
        }
    }
    return NULL;
}

/* The array of labelled counters of one label ("destination" -> "destinations"): one object per
 * label value, {"name": value, key: count, ...}. */
static json_t *
labelled_json(const struct ixd_counter_item *items, size_t n, const char *label)
{
    json_t *arr = json_array();

    for (size_t i = 0; i < n; i++) {
        const struct ixd_counter_item *it = &items[i];
        json_t *obj = NULL;
        size_t k;

        if (it->def->label == NULL || strcmp(it->def->label, label) != 0) {
            continue;
        }
        for (k = 0; k < json_array_size(arr); k++) {
            json_t *e = json_array_get(arr, k);
            if (strcmp(json_string_value(json_object_get(e, "name")), it->label) == 0) {
                obj = e;
            }
        }
        if (obj == NULL) {
            obj = json_pack("{s:s}", "name", it->label);
            json_array_append_new(arr, obj);
        }
        json_object_set_new(obj, it->def->key, json_integer((json_int_t)it->value));
    }
    return arr;
}

/* A module's counters into obj: the unlabelled ones under "counters", each label's under its
 * plural. */
static void
module_counters(json_t *obj, const struct ixd_counter_item *items, size_t n)
{
    json_t *counters = json_object();

    for (size_t i = 0; i < n; i++) {
        const struct ixd_counter_item *it = &items[i];
        char plural[64];

        if (it->def->label == NULL) {
            json_object_set_new(counters, it->def->key, json_integer((json_int_t)it->value));
            continue;
        }
        snprintf(plural, sizeof(plural), "%ss", it->def->label);
        if (json_object_get(obj, plural) == NULL) {
            json_object_set_new(obj, plural, labelled_json(items, n, it->def->label));
        }
    }
    json_object_set_new(obj, "counters", counters);
}

/* An output: its unlabelled counters under "counters", each label's under its plural. */
static json_t *
output_json(const struct ixd_snap_output *o)
{
    json_t *obj =
        json_pack("{s:s, s:s, s:s}", "name", o->name, "type", o->type, "state", "running");

    module_counters(obj, o->counters, o->n_counters);
    /* every output has the list, empty for those with one destination */
    if (json_object_get(obj, "destinations") == NULL) {
        json_object_set_new(obj, "destinations", json_array());
    }
    json_object_set_new(obj, "_links",
                        json_pack("{s:o, s:o, s:o}", "self",
                                  api_link(API_PREFIX "/outputs/%s", o->name), "collection",
                                  api_link(API_PREFIX "/outputs"), "config",
                                  api_link(API_PREFIX "/config/outputs/%s", o->name)));
    api_timeseries_link(json_object_get(obj, "_links"), "output=%s", o->name);
    return obj;
}

static json_t *
output_item(const struct api_ctx *ctx, const char *name)
{
    return output_json(find_output(ctx->view, name));
}

static int
outputs(const struct api_ctx *ctx, struct api_reply *r, const char *name)
{
    const struct ixd_view *v = ctx->view;
    const char **names;
    size_t i;

    if (name != NULL) {
        const struct ixd_snap_output *o = find_output(v, name);
        if (o == NULL) {
            return api_problem(ctx, r, 404, "no output is named '%s'", name);
        }
        api_hal(r, output_json(o));
        return 0;
    }
    names = calloc(v->n_outputs + 1, sizeof(*names));
    if (names == NULL) {
        return api_problem(ctx, r, 500, "out of memory");
    }
    for (i = 0; i < v->n_outputs; i++) {
        names[i] = v->outputs[i].name;
    }
    named_collection(ctx, r, "outputs", names, v->n_outputs, output_item);
    free(names);
    return 0;
}

/* ---- exporters, domains, templates ---- */

static json_t *
domain_json(const struct ixd_view_exporter *e, const struct ixd_view_domain *d)
{
    return json_pack(
        "{s:I, s:b, s:I, s:o, s:{s:o}}", "odid", (json_int_t)d->odid, "other",
        d->odid == IXD_ODID_OTHER, "templates", (json_int_t)d->n_templates, "counters",
        api_counters(&d->counters), "_links", "templates",
        api_link(API_PREFIX "/exporters/%s/domains/%lu/templates", e->id, (unsigned long)d->odid));
}

/* The exporter's clock offset (ipfix/clock_offset.h): seconds its clock is ahead of ours, null
 * when no message measured it within the window. */
static json_t *
clock_json(const struct ixd_view_exporter *e)
{
    json_t *offset = e->clock_known ? json_real((double)e->clock_offset_usec / 1e6) : json_null();

    return json_pack("{s:o, s:I}", "offset", offset, "samples", (json_int_t)e->clock_samples);
}

static json_t *
exporter_json(const struct ixd_view_exporter *e, int full)
{
    json_t *links = json_object(), *out;
    size_t i;

    json_object_set_new(links, "self", api_link(API_PREFIX "/exporters/%s", e->id));
    json_object_set_new(links, "collector", api_link(API_PREFIX "/collectors/%s", e->collector));
    api_timeseries_link(links, "exporter=%s", e->id);
    if (api_top_available()) {
        json_object_set_new(links, "top", api_link(API_PREFIX "/top?exporter=%s", e->id));
    }
    out = json_pack(
        "{s:s, s:s, s:s, s:s, s:o, s:o, s:I, s:I, s:{s:I, s:I, s:I}}", "id", e->id, "address",
        e->address, "collector", e->collector, "transport", e->transport, "first_seen",
        api_time(e->first_seen_usec), "last_seen", api_time(e->last_seen_usec), "sessions",
        (json_int_t)e->n_sessions, "templates", (json_int_t)e->templates, "sequence_loss",
        "lost_records", (json_int_t)e->counters.seq_lost, "reordered",
        (json_int_t)e->counters.seq_reordered, "resets", (json_int_t)e->counters.seq_resets);
    json_object_set_new(out, "counters", api_counters(&e->counters));
    json_object_set_new(out, "clock", clock_json(e));
    if (e->tls_subject != NULL) {
        json_object_set_new(out, "tls_subject", json_string(e->tls_subject));
    }
    if (full) {
        json_t *sessions = json_array(), *domains = json_array();
        for (i = 0; i < e->n_sessions; i++) {
            const struct ixd_view_session *s = &e->sessions[i];
            json_t *js = json_pack("{s:i, s:I, s:o, s:I}", "port", (int)s->port, "worker",
                                   (json_int_t)s->worker, "last_seen", api_time(s->last_seen_usec),
                                   "templates", (json_int_t)s->templates);
            if (s->tls_subject != NULL) {
                json_object_set_new(js, "tls_subject", json_string(s->tls_subject));
            }
            json_array_append_new(sessions, js);
        }
        for (i = 0; i < e->n_domains; i++) {
            json_array_append_new(domains, domain_json(e, &e->domains[i]));
        }
        json_object_set_new(out, "transport_sessions", sessions);
        json_object_set_new(out, "_embedded", json_pack("{s:o}", "domains", domains));
        json_object_set_new(links, "collection", api_link(API_PREFIX "/exporters"));
    }
    json_object_set_new(out, "_links", links);
    return out;
}

static int
exporters(const struct api_ctx *ctx, struct api_reply *r)
{
    const struct ixd_view *v = ctx->view;
    const char *collector = ctx->query(ctx->query_arg, "collector");
    const char **keys = calloc(v->n_exporters + 1, sizeof(*keys));
    const struct ixd_view_exporter **picked = calloc(v->n_exporters + 1, sizeof(*picked));
    json_t *links = json_object(), *items = json_array();
    size_t n = 0, i, first, count;
    char base[256];

    if (keys == NULL || picked == NULL) {
        free(keys);
        free(picked);
        json_decref(links);
        json_decref(items);
        return api_problem(ctx, r, 500, "out of memory");
    }
    if (collector != NULL && find_collector(v, collector) == NULL) {
        api_problem(ctx, r, 400, "no collector is named '%s' (see " API_PREFIX "/collectors)",
                    collector);
        goto done;
    }
    for (i = 0; i < v->n_exporters; i++) {
        if (collector == NULL || strcmp(v->exporters[i].collector, collector) == 0) {
            keys[n] = v->exporters[i].key;
            picked[n++] = &v->exporters[i];
        }
    }
    if (collector != NULL) {
        snprintf(base, sizeof(base), API_PREFIX "/exporters?collector=%s", collector);
    } else {
        snprintf(base, sizeof(base), API_PREFIX "/exporters");
    }
    if (api_page(ctx, r, keys, n, base, links, &first, &count) == -1) {
        goto done;
    }
    for (i = first; i < first + count; i++) {
        json_array_append_new(items, exporter_json(picked[i], 0));
    }
    api_hal(r, json_pack("{s:I, s:O, s:{s:O}}", "count", (json_int_t)n, "_links", links,
                         "_embedded", "exporters", items));
done:
    json_decref(links);
    json_decref(items);
    free(keys);
    free(picked);
    return 0;
}

static json_t *
template_json(const struct ixd_view_exporter *e, const struct ixd_view_domain *d,
              const struct ixd_snap_template *t, int full)
{
    json_t *out = json_pack("{s:i, s:b, s:i, s:i, s:i, s:o, s:o, s:{s:o, s:o}}", "id", (int)t->id,
                            "options", t->scope_count > 0, "scope_count", (int)t->scope_count,
                            "field_count", (int)t->field_count, "exporter_port",
                            (int)t->exporter_port, "received", api_time(t->received_usec),
                            "last_refreshed", api_time(t->refreshed_usec), "_links", "self",
                            api_link(API_PREFIX "/exporters/%s/domains/%lu/templates/%u", e->id,
                                     (unsigned long)d->odid, (unsigned)t->id),
                            "exporter", api_link(API_PREFIX "/exporters/%s", e->id));
    uint16_t i;

    if (t->options_record != NULL) {
        /* the latest options record, as the JSON output writes records */
        json_t *rec = json_loads(t->options_record, 0, NULL);
        if (rec != NULL) {
            json_object_set_new(out, "last_options_record", rec);
            json_object_set_new(out, "last_options_received", api_time(t->options_usec));
        }
    }
    if (full) {
        json_t *fields = json_array();
        for (i = 0; i < t->field_count; i++) {
            const struct ixd_snap_field *f = &t->fields[i];
            json_array_append_new(
                fields,
                json_pack("{s:i, s:o, s:i, s:I, s:i, s:b, s:b}", "index", (int)i, "name",
                          f->name != NULL ? json_string(f->name) : json_null(), "id", (int)f->id,
                          "enterprise", (json_int_t)f->pen, "length", (int)f->length,
                          "variable_length", f->length == 65535, "scope", i < t->scope_count));
        }
        json_object_set_new(out, "fields", fields);
        json_object_set_new(json_object_get(out, "_links"), "collection",
                            api_link(API_PREFIX "/exporters/%s/domains/%lu/templates", e->id,
                                     (unsigned long)d->odid));
    }
    return out;
}

static int
templates(const struct api_ctx *ctx, struct api_reply *r, const struct ixd_view_exporter *e,
          const char *odid_text, const char *tid_text)
{
    const struct ixd_view_domain *d;
    uint64_t odid, tid;
    char base[512], (*keys)[8];
    const char **key_ptrs;
    json_t *links, *items;
    size_t i, first, count;

    if (ixd_parse_u64(odid_text, &odid) == -1 || odid > UINT32_MAX) {
        return api_problem(ctx, r, 400, "observation domain '%s' is not an integer from 0 to %u",
                           odid_text, UINT32_MAX);
    }
    d = ixd_view_domain(e, (uint32_t)odid);
    if (d == NULL) {
        return api_problem(ctx, r, 404, "exporter %s has no observation domain %s", e->address,
                           odid_text);
    }
    if (tid_text != NULL) {
        const struct ixd_snap_template *t;
        if (ixd_parse_u64(tid_text, &tid) == -1 || tid < 256 || tid > 65535) {
            return api_problem(ctx, r, 400, "template id '%s' is not an integer from 256 to 65535",
                               tid_text);
        }
        t = ixd_view_template(d, (uint16_t)tid);
        if (t == NULL) {
            return api_problem(ctx, r, 404, "domain %s of exporter %s has no template %s",
                               odid_text, e->address, tid_text);
        }
        api_hal(r, template_json(e, d, t, 1));
        return 0;
    }
    keys = calloc(d->n_templates + 1, sizeof(*keys));
    key_ptrs = calloc(d->n_templates + 1, sizeof(*key_ptrs));
    if (keys == NULL || key_ptrs == NULL) {
        free(keys);
        free(key_ptrs);
        return api_problem(ctx, r, 500, "out of memory");
    }
    for (i = 0; i < d->n_templates; i++) {
        snprintf(keys[i], sizeof(keys[i]), "%05u", (unsigned)d->templates[i]->id);
        key_ptrs[i] = keys[i];
    }
    snprintf(base, sizeof(base), API_PREFIX "/exporters/%s/domains/%lu/templates", e->id,
             (unsigned long)d->odid);
    links = json_object();
    items = json_array();
    if (api_page(ctx, r, key_ptrs, d->n_templates, base, links, &first, &count) == 0) {
        json_object_set_new(links, "exporter", api_link(API_PREFIX "/exporters/%s", e->id));
        for (i = first; i < first + count; i++) {
            json_array_append_new(items, template_json(e, d, d->templates[i], 0));
        }
        api_hal(r, json_pack("{s:I, s:I, s:O, s:{s:O}}", "odid", (json_int_t)d->odid, "count",
                             (json_int_t)d->n_templates, "_links", links, "_embedded", "templates",
                             items));
    }
    json_decref(links);
    json_decref(items);
    free(keys);
    free(key_ptrs);
    return 0;
}

/* /exporters/{id}[/domains/{odid}/templates[/{tid}]] with seg[0] = "exporters". */
static int
exporter_routes(const struct api_ctx *ctx, struct api_reply *r, char **seg, int n)
{
    const struct ixd_view_exporter *e;

    if (n == 1) {
        return exporters(ctx, r);
    }
    e = ixd_view_exporter(ctx->view, seg[1]);
    if (e == NULL) {
        return api_problem(ctx, r, 404,
                           "no exporter has the id '%s' (ids come from " API_PREFIX
                           "/exporters; an exporter not heard from for a while may be gone)",
                           seg[1]);
    }
    if (n == 2) {
        api_hal(r, exporter_json(e, 1));
        return 0;
    }
    if ((n == 5 || n == 6) && strcmp(seg[2], "domains") == 0 && strcmp(seg[4], "templates") == 0) {
        return templates(ctx, r, e, seg[3], n == 6 ? seg[5] : NULL);
    }
    return api_problem(ctx, r, 404, "no resource at %s", ctx->path);
}

/* ---- pipelines: the counters of their stages that report them ---- */

/* Adds name to names[] (n) unless it is there. */
static size_t
add_name(const char **names, size_t n, const char *name)
{
    for (size_t j = 0; j < n; j++) {
        if (strcmp(names[j], name) == 0) {
            return n;
        }
    }
    names[n] = name;
    return n + 1;
}

/* The pipelines of the running config (seq, a copy of its pipelines), so that every one its
 * config links to is here, then those whose stages report counters that the config does not
 * name yet (the workers' view may be a moment behind it): names[] (n), pointing into seq and
 * the view. */
static size_t
pipeline_names(const struct ixd_view *v, const struct ixd_cnode *seq, const char **names)
{
    size_t n = 0;

    for (size_t i = 0; seq->kind == IXD_CNODE_SEQUENCE && i < seq->n; i++) {
        const struct ixd_cnode *name = ixd_cnode_get(&seq->items[i], "name");
        if (name != NULL && name->kind == IXD_CNODE_SCALAR && name->text != NULL) {
            n = add_name(names, n, name->text);
        }
    }
    for (size_t i = 0; i < v->n_stages; i++) {
        n = add_name(names, n, v->stages[i].pipeline);
    }
    return n;
}

/* A pipeline's stages with counters; with api.writes on, a link to its config, where it is
 * changed and its stages reloaded. */
static json_t *
pipeline_json(const struct api_ctx *ctx, const char *name)
{
    const struct ixd_view *v = ctx->view;
    json_t *stages = json_array(), *links;

    for (size_t i = 0; i < v->n_stages; i++) {
        const struct ixd_snap_stage *s = &v->stages[i];
        json_t *obj;
        if (strcmp(s->pipeline, name) != 0) {
            continue;
        }
        obj = json_pack("{s:I, s:s}", "index", (json_int_t)s->index, "type", s->type);
        module_counters(obj, s->counters, s->n_counters);
        json_array_append_new(stages, obj);
    }
    links = json_pack("{s:o, s:o}", "self", api_link(API_PREFIX "/pipelines/%s", name),
                      "collection", api_link(API_PREFIX "/pipelines"));
    if (api_config_writable(ctx->config)) {
        json_object_set_new(links, "config", api_link(API_PREFIX "/config/pipelines/%s", name));
    }
    api_timeseries_link(links, "pipeline=%s", name);
    return json_pack("{s:s, s:o, s:o}", "name", name, "stages", stages, "_links", links);
}

static json_t *
pipeline_item(const struct api_ctx *ctx, const char *name)
{
    return pipeline_json(ctx, name);
}

static int
pipelines(const struct api_ctx *ctx, struct api_reply *r, const char *name)
{
    const struct ixd_view *v = ctx->view;
    struct ixd_cnode seq = {0};
    const char **names;
    size_t n, i;

    if (ctx->config != NULL) {
        (void)api_config_snapshot(ctx->config, "pipelines", NULL, &seq, NULL); /* none: empty */
    }
    names = calloc(v->n_stages + seq.n + 1, sizeof(*names));
    if (names == NULL) {
        ixd_cnode_release(&seq);
        return api_problem(ctx, r, 500, "out of memory");
    }
    n = pipeline_names(v, &seq, names);
    if (name != NULL) {
        for (i = 0; i < n && strcmp(names[i], name) != 0; i++) {
        }
        if (i == n) {
            api_problem(ctx, r, 404, "there is no pipeline '%s'", name);
        } else {
            api_hal(r, pipeline_json(ctx, name));
        }
    } else {
        named_collection(ctx, r, "pipelines", names, n, pipeline_item);
    }
    free(names);
    ixd_cnode_release(&seq);
    return 0;
}

static json_t *
stats(const struct api_ctx *ctx)
{
    const struct ixd_view *v = ctx->view;
    json_t *workers = json_array();
    uint64_t records = 0, dropped = 0;
    unsigned sessions = 0, templates_live = 0;
    size_t i;

    for (i = 0; i < v->n_collectors; i++) {
        sessions += v->collectors[i].sessions;
        templates_live += v->collectors[i].templates;
    }
    for (i = 0; i < v->n_outputs; i++) {
        for (size_t c = 0; c < v->outputs[i].n_counters; c++) {
            const struct ixd_counter_item *it = &v->outputs[i].counters[c];
            if (it->def->label == NULL && strcmp(it->def->key, "records") == 0) {
                records += it->value;
            } else if (it->def->label == NULL && strcmp(it->def->key, "dropped") == 0) {
                dropped += it->value;
            }
        }
    }
    for (i = 0; i < v->n_workers; i++) {
        json_array_append_new(
            workers, json_pack("{s:I, s:o}", "index", (json_int_t)i, "snapshot_age_seconds",
                               v->workers[i].seen
                                   ? json_real(seconds_ms(ctx->now_mono - v->workers[i].built_mono))
                                   : json_null()));
    }
    return json_pack("{s:I, s:I, s:I, s:I, s:o, s:{s:I, s:I}, s:o, s:{s:o, s:o}}", "collectors",
                     (json_int_t)v->n_collectors, "exporters", (json_int_t)v->n_exporters,
                     "sessions", (json_int_t)sessions, "templates", (json_int_t)templates_live,
                     "counters", api_counters(&v->total), "outputs", "records", (json_int_t)records,
                     "dropped", (json_int_t)dropped, "workers", workers, "_links", "self",
                     api_link(API_PREFIX "/stats"), "root", api_link(API_PREFIX "/"));
}

/* Splits path (after the prefix) into segments in buf; the count, or -1 when too many. */
static int
split(const char *path, char *buf, size_t buflen, char **seg)
{
    int n = 0;
    char *p;

    snprintf(buf, buflen, "%s", path);
    for (p = buf; *p != '\0';) {
        while (*p == '/') {
            *p++ = '\0';
        }
        if (*p == '\0') {
            break;
        }
        if (n == SEGMENTS_MAX) {
            return -1;
        }
        seg[n++] = p;
        while (*p != '\0' && *p != '/') {
            p++;
        }
    }
    return n;
}

int
api_resource(const struct api_ctx *ctx, struct api_reply *r)
{
    const char *rest = ctx->path + strlen(API_PREFIX);
    char buf[1024], *seg[SEGMENTS_MAX];
    int n = split(rest, buf, sizeof(buf), seg);

    if (n == 0) {
        api_hal(r, root(ctx));
        return 0;
    }
    if (n > 0 && strcmp(seg[0], "collectors") == 0 && n <= 2) {
        return collectors(ctx, r, n == 2 ? seg[1] : NULL);
    }
    if (n > 0 && strcmp(seg[0], "outputs") == 0 && n <= 2) {
        return outputs(ctx, r, n == 2 ? seg[1] : NULL);
    }
    if (n > 0 && strcmp(seg[0], "pipelines") == 0 && n <= 2) {
        return pipelines(ctx, r, n == 2 ? seg[1] : NULL);
    }
    if (n > 0 && strcmp(seg[0], "exporters") == 0) {
        return exporter_routes(ctx, r, seg, n);
    }
    if (n == 1 && strcmp(seg[0], "stats") == 0) {
        api_hal(r, stats(ctx));
        return 0;
    }
    if (n == 1 && strcmp(seg[0], "openapi.json") == 0) {
        return api_openapi(ctx, r);
    }
    if (strcmp(seg[0], "timeseries") == 0) {
        return api_timeseries(ctx, r, seg, n);
    }
    if (strcmp(seg[0], "alerts") == 0) {
        return api_alerts(ctx, r, seg, n);
    }
    if (n == 1 && strcmp(seg[0], "top") == 0) {
        return api_top(ctx, r);
    }
    return api_problem(ctx, r, 404, "no resource at %s (the root " API_PREFIX "/ links to all)",
                       ctx->path);
}
