/*
 * /metrics in the Prometheus text format (0.0.4), written by hand: base units, `_total` on
 * counters, labels collector / exporter (its address) / odid / reason / output, never flow
 * addresses. Names are listed in docs/api.md.
 */
#include <glib.h>
#include <stdio.h>
#include <string.h>

#include "api/conns.h"
#include "api/internal.h"

/* One metric family: its samples are appended to body by the caller after the header. */
static void
family(GString *out, const char *name, const char *type, const char *help)
{
    g_string_append_printf(out, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* Label values are collector names (a restricted alphabet) and addresses: nothing to escape
 * but what the format requires anyway. */
static void
label_value(GString *out, const char *v)
{
    for (; *v != '\0'; v++) {
        if (*v == '\\' || *v == '"') {
            g_string_append_c(out, '\\');
        }
        if (*v == '\n') {
            g_string_append(out, "\\n");
            continue;
        }
        g_string_append_c(out, *v);
    }
}

struct labels {
    const char *collector;
    const char *exporter;
    int64_t odid; /* -1: none */
};

static void
sample(GString *out, const char *name, const struct labels *l, const char *reason,
       unsigned long long value)
{
    g_string_append_printf(out, "%s{collector=\"", name);
    label_value(out, l->collector);
    g_string_append_c(out, '"');
    if (l->exporter != NULL) {
        g_string_append(out, ",exporter=\"");
        label_value(out, l->exporter);
        g_string_append_c(out, '"');
    }
    if (l->odid >= 0) {
        g_string_append_printf(out, ",odid=\"%lld\"", (long long)l->odid);
    }
    if (reason != NULL) {
        g_string_append_printf(out, ",reason=\"%s\"", reason);
    }
    g_string_append_printf(out, "} %llu\n", value);
}

/* The counters every level (collector, exporter, domain) has, by offset into the struct. */
struct counter_metric {
    const char *suffix;
    const char *help;
    size_t offset;
};

static const struct counter_metric counter_metrics[] = {
    {"messages_total", "IPFIX, NetFlow v9 and v5 messages received (UDP: packets)",
     offsetof(struct ixd_counters, messages)},
    {"records_total", "data records decoded", offsetof(struct ixd_counters, records)},
    {"bytes_total", "message bytes received", offsetof(struct ixd_counters, bytes)},
    {"templates_received_total", "template and options template records received",
     offsetof(struct ixd_counters, templates)},
    {"sequence_lost_records_total", "records missing according to sequence numbers",
     offsetof(struct ixd_counters, seq_lost)},
    {"sequence_reordered_messages_total", "messages that arrived behind the expected sequence",
     offsetof(struct ixd_counters, seq_reordered)},
    {"sequence_resets_total", "sequence numbers jumped back far: exporter restarts",
     offsetof(struct ixd_counters, seq_resets)},
};

/* Per level: name prefix, and which of the samples to write. */
enum level { LEVEL_COLLECTOR, LEVEL_EXPORTER, LEVEL_DOMAIN };

static const char *const level_prefix[] = {"ipfixd_collector_", "ipfixd_exporter_",
                                           "ipfixd_domain_"};

static void
each_counters(GString *out, const struct ixd_view *v, enum level level,
              void (*emit)(GString *, const char *, const struct labels *,
                           const struct ixd_counters *, const void *),
              const char *name, const void *arg)
{
    size_t i, j;

    for (i = 0; level == LEVEL_COLLECTOR && i < v->n_collectors; i++) {
        struct labels l = {v->collectors[i].name, NULL, -1};
        emit(out, name, &l, &v->collectors[i].counters, arg);
    }
    for (i = 0; level != LEVEL_COLLECTOR && i < v->n_exporters; i++) {
        const struct ixd_view_exporter *e = &v->exporters[i];
        struct labels l = {e->collector, e->address, -1};
        if (level == LEVEL_EXPORTER) {
            emit(out, name, &l, &e->counters, arg);
            continue;
        }
        for (j = 0; j < e->n_domains; j++) {
            l.odid = e->domains[j].odid;
            emit(out, name, &l, &e->domains[j].counters, arg);
        }
    }
}

static void
emit_counter(GString *out, const char *name, const struct labels *l, const struct ixd_counters *c,
             const void *arg)
{
    const struct counter_metric *m = arg;

    sample(out, name, l, NULL, *(const uint64_t *)((const char *)c + m->offset));
}

static void
emit_errors(GString *out, const char *name, const struct labels *l, const struct ixd_counters *c,
            const void *arg)
{
    int i;

    for (i = 0; i < IXD_ERR__COUNT; i++) {
        if (c->errors[i] > 0 || l->exporter == NULL) {
            sample(out, name, l, ixd_error_name((enum ixd_error)i),
                   (unsigned long long)c->errors[i]);
        }
    }
}

static void
levels(GString *out, const struct ixd_view *v)
{
    char name[128], help[256];
    enum level level;
    size_t m;

    for (level = LEVEL_COLLECTOR; level <= LEVEL_DOMAIN; level++) {
        for (m = 0; m < sizeof(counter_metrics) / sizeof(counter_metrics[0]); m++) {
            snprintf(name, sizeof(name), "%s%s", level_prefix[level], counter_metrics[m].suffix);
            family(out, name, "counter", counter_metrics[m].help);
            each_counters(out, v, level, emit_counter, name, &counter_metrics[m]);
        }
        snprintf(name, sizeof(name), "%sdecode_errors_total", level_prefix[level]);
        snprintf(help, sizeof(help), "messages, sets or records not decoded, by reason");
        family(out, name, "counter", help);
        each_counters(out, v, level, emit_errors, name, NULL);
    }
}

static void
collectors(GString *out, const struct ixd_view *v)
{
    size_t i;

    family(out, "ipfixd_collector_socket_drops_total", "counter",
           "datagrams the kernel dropped before ipfixd read them (SO_RXQ_OVFL)");
    for (i = 0; i < v->n_collectors; i++) {
        struct labels l = {v->collectors[i].name, NULL, -1};
        sample(out, "ipfixd_collector_socket_drops_total", &l, NULL,
               v->collectors[i].counters.socket_drops);
    }
    family(out, "ipfixd_collector_sessions", "gauge", "transport sessions open now");
    for (i = 0; i < v->n_collectors; i++) {
        struct labels l = {v->collectors[i].name, NULL, -1};
        sample(out, "ipfixd_collector_sessions", &l, NULL, v->collectors[i].sessions);
    }
    family(out, "ipfixd_collector_templates", "gauge", "templates held now");
    for (i = 0; i < v->n_collectors; i++) {
        struct labels l = {v->collectors[i].name, NULL, -1};
        sample(out, "ipfixd_collector_templates", &l, NULL, v->collectors[i].templates);
    }
    family(out, "ipfixd_exporter_templates", "gauge", "templates held now per exporter");
    for (i = 0; i < v->n_exporters; i++) {
        struct labels l = {v->exporters[i].collector, v->exporters[i].address, -1};
        sample(out, "ipfixd_exporter_templates", &l, NULL, v->exporters[i].templates);
    }
    family(out, "ipfixd_domain_templates", "gauge", "templates held now per observation domain");
    for (i = 0; i < v->n_exporters; i++) {
        const struct ixd_view_exporter *e = &v->exporters[i];
        for (size_t j = 0; j < e->n_domains; j++) {
            struct labels l = {e->collector, e->address, e->domains[j].odid};
            sample(out, "ipfixd_domain_templates", &l, NULL, e->domains[j].n_templates);
        }
    }
}

/* The exporters' clocks: a gauge in seconds (it may be negative), only where measured. */
static void
clocks(GString *out, const struct ixd_view *v)
{
    size_t i;

    family(out, "ipfixd_exporter_clock_offset_seconds", "gauge",
           "how far the exporter's clock is ahead of ipfixd's (export time against receive time)");
    for (i = 0; i < v->n_exporters; i++) {
        const struct ixd_view_exporter *e = &v->exporters[i];
        if (!e->clock_known) {
            continue;
        }
        g_string_append(out, "ipfixd_exporter_clock_offset_seconds{collector=\"");
        label_value(out, e->collector);
        g_string_append(out, "\",exporter=\"");
        label_value(out, e->address);
        g_string_append_printf(out, "\"} %.6f\n", (double)e->clock_offset_usec / 1e6);
    }
    family(out, "ipfixd_exporter_clock_samples_total", "counter",
           "messages whose export time measured the exporter's clock");
    for (i = 0; i < v->n_exporters; i++) {
        struct labels l = {v->exporters[i].collector, v->exporters[i].address, -1};
        sample(out, "ipfixd_exporter_clock_samples_total", &l, NULL, v->exporters[i].clock_samples);
    }
}

static void
output_sample(GString *out, const char *output, const struct ixd_counter_item *it)
{
    g_string_append_printf(out, "%s{output=\"", it->def->metric);
    label_value(out, output);
    if (it->def->label != NULL) {
        g_string_append_printf(out, "\",%s=\"", it->def->label);
        label_value(out, it->label);
    }
    g_string_append_printf(out, "\"} %llu\n", (unsigned long long)it->value);
}

static void
input_sample(GString *out, const char *collector, const struct ixd_counter_item *it)
{
    g_string_append_printf(out, "%s{collector=\"", it->def->metric);
    label_value(out, collector);
    if (it->def->label != NULL) {
        g_string_append_printf(out, "\",%s=\"", it->def->label);
        label_value(out, it->label);
    }
    g_string_append_printf(out, "\"} %llu\n", (unsigned long long)it->value);
}

/* Whose counters a family's samples are: a collector's input, an output, a stage. */
struct counted {
    const char *name;
    const struct ixd_counter_item *items;
    size_t n;
};

typedef void (*sample_fn)(GString *out, const char *owner, const struct ixd_counter_item *it);

/* Counters by family: each family once (in the order first reported), with the samples of
 * every owner that reports it. */
static void
families(GString *out, const struct counted *owners, size_t n, sample_fn sample_of)
{
    GHashTable *done = g_hash_table_new(g_str_hash, g_str_equal);

    for (size_t i = 0; i < n; i++) {
        for (size_t c = 0; c < owners[i].n; c++) {
            const struct ixd_counter_def *def = owners[i].items[c].def;

            if (def->metric == NULL || g_hash_table_contains(done, def->metric)) {
                continue;
            }
            g_hash_table_add(done, (gpointer)def->metric);
            family(out, def->metric, def->kind == IXD_COUNTER_GAUGE ? "gauge" : "counter",
                   def->help);
            for (size_t j = i; j < n; j++) {
                for (size_t k = 0; k < owners[j].n; k++) {
                    const struct ixd_counter_item *it = &owners[j].items[k];
                    if (it->def->metric != NULL && strcmp(it->def->metric, def->metric) == 0) {
                        sample_of(out, owners[j].name, it);
                    }
                }
            }
        }
    }
    g_hash_table_destroy(done);
}

/* The input types' own counters (captures'), labelled collector; the outputs', labelled
 * output. */
static void
inputs_and_outputs(GString *out, const struct ixd_view *v)
{
    size_t n = v->n_collectors > v->n_outputs ? v->n_collectors : v->n_outputs;
    struct counted *owners = g_new0(struct counted, n + 1);

    for (size_t i = 0; i < v->n_collectors; i++) {
        owners[i] = (struct counted){v->collectors[i].name, v->collectors[i].input_counters,
                                     v->collectors[i].n_input_counters};
    }
    families(out, owners, v->n_collectors, input_sample);
    for (size_t i = 0; i < v->n_outputs; i++) {
        owners[i] =
            (struct counted){v->outputs[i].name, v->outputs[i].counters, v->outputs[i].n_counters};
    }
    families(out, owners, v->n_outputs, output_sample);
    g_free(owners);
}

/* A stage's sample: its labels (pipeline and place) are given already escaped. */
static void
stage_sample(GString *out, const char *labels, const struct ixd_counter_item *it)
{
    g_string_append_printf(out, "%s{%s", it->def->metric, labels);
    if (it->def->label != NULL) {
        g_string_append_printf(out, ",%s=\"", it->def->label);
        label_value(out, it->label);
        g_string_append(out, "\"");
    }
    g_string_append_printf(out, "} %llu\n", (unsigned long long)it->value);
}

/* The counters of stages that report them (a lua stage's), by family as outputs' are, labelled
 * with the pipeline and the stage's place in it. */
static void
stages(GString *out, const struct ixd_view *v)
{
    struct counted *owners = g_new0(struct counted, v->n_stages + 1);
    GString **labels = g_new0(GString *, v->n_stages + 1);

    for (size_t i = 0; i < v->n_stages; i++) {
        labels[i] = g_string_new("pipeline=\"");
        label_value(labels[i], v->stages[i].pipeline);
        g_string_append_printf(labels[i], "\",stage=\"%u\"", v->stages[i].index);
        owners[i] =
            (struct counted){labels[i]->str, v->stages[i].counters, v->stages[i].n_counters};
    }
    families(out, owners, v->n_stages, stage_sample);
    for (size_t i = 0; i < v->n_stages; i++) {
        g_string_free(labels[i], TRUE);
    }
    g_free(labels);
    g_free(owners);
}

/* The API's own connections (conns.h): how many, and those it closed or refused. */
static void
api_connections(GString *out, struct api_conns *conns)
{
    struct api_conns_stats st;

    api_conns_stats(conns, &st);
    family(out, "ipfixd_api_connections", "gauge", "connections the API holds open");
    g_string_append_printf(out, "ipfixd_api_connections %llu\n", (unsigned long long)st.open);
    family(out, "ipfixd_api_connections_closed_total", "counter",
           "API connections closed before their request was whole: request_timeout (it did not "
           "arrive in time) or evicted (to let a new connection in)");
    g_string_append_printf(out,
                           "ipfixd_api_connections_closed_total{reason=\"request_timeout\"} %llu\n"
                           "ipfixd_api_connections_closed_total{reason=\"evicted\"} %llu\n",
                           (unsigned long long)st.timed_out, (unsigned long long)st.evicted);
    family(out, "ipfixd_api_connections_refused_total", "counter",
           "API connections refused: the connections in the way were all being answered");
    g_string_append_printf(out, "ipfixd_api_connections_refused_total %llu\n",
                           (unsigned long long)st.refused);
}

int
api_metrics(const struct api_ctx *ctx, struct api_reply *r)
{
    const struct ixd_view *v = ctx->view;
    GString *out = g_string_sized_new(16384);
    size_t i;

    family(out, "ipfixd_build_info", "gauge", "always 1; the version is a label");
    g_string_append_printf(out, "ipfixd_build_info{version=\"%s\"} 1\n", IXD_VERSION);
    family(out, "ipfixd_start_time_seconds", "gauge", "when the daemon started, UNIX seconds");
    g_string_append_printf(out, "ipfixd_start_time_seconds %.3f\n",
                           (double)ctx->started_usec / 1e6);
    family(out, "ipfixd_worker_snapshot_age_seconds", "gauge",
           "time since a worker last published its state (/ready fails beyond 5)");
    for (i = 0; i < v->n_workers; i++) {
        if (v->workers[i].seen) {
            g_string_append_printf(out, "ipfixd_worker_snapshot_age_seconds{worker=\"%zu\"} %.3f\n",
                                   i, ctx->now_mono - v->workers[i].built_mono);
        }
    }
    api_metrics_alerts(out);
    if (ctx->conns != NULL) {
        api_connections(out, ctx->conns);
    }
    levels(out, v);
    collectors(out, v);
    clocks(out, v);
    inputs_and_outputs(out, v);
    stages(out, v);
    r->status = 200;
    r->content_type = "text/plain; version=0.0.4; charset=utf-8";
    r->text_len = out->len;
    r->text = g_string_free(out, FALSE);
    return 0;
}
