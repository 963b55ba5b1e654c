#include "rrd/alerts.h"

#include <glib.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/board.h"
#include "core/hash.h"
#include "core/log.h"
#include "core/relaxed_counter.h"

struct alert_key {
    uint32_t kind;
    struct ixd_rrd_key exporter;
};

struct state {
    struct alert_key key;
    struct ixd_rrd_alert a;
    int64_t gone_since; /* the first step the condition no longer held; 0 while it holds */
};

struct ixd_rrd_alerts {
    const struct ixd_rrd_settings *s;
    char *output;
    GHashTable *active;                               /* struct alert_key -> struct state */
    struct ixd_rrd_alert history[IXD_ALERTS_HISTORY]; /* resolved: a ring, latest at next - 1 */
    unsigned history_next, history_n;
    uint64_t next_id;
    int changed;
    struct ixd_board_slot *slot;
    struct ixd_webhook *webhook;
    uint64_t n_active, raised; /* the writer's; any thread reads */
};

static const char *const kind_names[IXD_ALERT_KINDS] = {"low-traffic", "high-traffic", "silent",
                                                        "sequence-loss"};
static const char *const alert_names[IXD_ALERT_KINDS] = {
    "IpfixdLowTraffic", "IpfixdHighTraffic", "IpfixdExporterSilent", "IpfixdSequenceLoss"};

const char *
ixd_rrd_alert_kind_name(enum ixd_rrd_alert_kind kind)
{
    return kind < IXD_ALERT_KINDS ? kind_names[kind] : "?";
}

static guint
key_hash(gconstpointer p)
{
    return ixd_fnv32(IXD_FNV32_INIT, p, sizeof(struct alert_key));
}

static gboolean
key_equal(gconstpointer a, gconstpointer b)
{
    return memcmp(a, b, sizeof(struct alert_key)) == 0;
}

struct ixd_rrd_alerts *
ixd_rrd_alerts_new(const struct ixd_rrd_settings *s, const char *output, char *err, size_t errlen)
{
    struct ixd_rrd_alerts *a = calloc(1, sizeof(*a));

    if (a == NULL || (a->output = strdup(output)) == NULL) {
        free(a);
        snprintf(err, errlen, "output %s: out of memory", output);
        return NULL;
    }
    a->s = s;
    a->active = g_hash_table_new_full(key_hash, key_equal, NULL, free);
    a->slot = ixd_board_slot_new(IXD_RRD_ALERTS_TOPIC, output);
    if (a->slot == NULL) {
        snprintf(err, errlen, "output %s: out of memory", output);
        ixd_rrd_alerts_free(a);
        return NULL;
    }
    if (s->webhook[0] != '\0') {
        a->webhook = ixd_webhook_new(s->webhook, s->webhook_timeout, output, err, errlen);
        if (a->webhook == NULL) {
            ixd_rrd_alerts_free(a);
            return NULL;
        }
    }
    a->changed = 1; /* an empty list, so that the API knows the output alerts */
    return a;
}

void
ixd_rrd_alerts_free(struct ixd_rrd_alerts *a)
{
    if (a == NULL) {
        return;
    }
    ixd_webhook_free(a->webhook);
    ixd_board_slot_free(a->slot);
    g_hash_table_destroy(a->active);
    free(a->output);
    free(a);
}

static json_t *
rfc3339(int64_t t)
{
    char buf[32];
    struct tm tm;
    time_t tt = (time_t)t;

    if (t == 0) {
        return json_string("0001-01-01T00:00:00Z"); /* Alertmanager's "not ended" */
    }
    gmtime_r(&tt, &tm);
    strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
    return json_string(buf);
}

char *
ixd_rrd_alert_webhook_body(const struct ixd_rrd_alert *al, const char *output)
{
    const char *status = al->active ? "firing" : "resolved";
    json_t *labels, *annotations, *alert, *body;
    char fp[24], group[512], *text;
    uint64_t h = 1469598103934665603ULL;
    char *dump;

    labels = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}", "alertname", alert_names[al->kind], "kind",
                       kind_names[al->kind], "exporter", al->address, "collector",
                       al->exporter.name, "output", output, "severity", "warning");
    annotations = json_pack("{s:s, s:s}", "summary", al->summary, "series", al->series);
    if (labels == NULL || annotations == NULL) {
        json_decref(labels);
        json_decref(annotations);
        return NULL;
    }
    /* the fingerprint and group key identify the alert's labels, as Alertmanager's do */
    dump = json_dumps(labels, JSON_SORT_KEYS | JSON_COMPACT);
    for (const char *p = dump != NULL ? dump : ""; *p != '\0'; p++) {
        h = (h ^ (unsigned char)*p) * 1099511628211ULL;
    }
    free(dump);
    snprintf(fp, sizeof(fp), "%016llx", (unsigned long long)h);
    snprintf(group, sizeof(group), "{}:{alertname=\"%s\", exporter=\"%s\", output=\"%s\"}",
             alert_names[al->kind], al->address, output);
    alert = json_pack("{s:s, s:O, s:O, s:o, s:o, s:s, s:s}", "status", status, "labels", labels,
                      "annotations", annotations, "startsAt", rfc3339(al->since), "endsAt",
                      rfc3339(al->active ? 0 : al->until), "generatorURL", "", "fingerprint", fp);
    body = json_pack("{s:s, s:s, s:i, s:s, s:s, s:{s:s}, s:O, s:O, s:s, s:[o]}", "version", "4",
                     "groupKey", group, "truncatedAlerts", 0, "status", status, "receiver",
                     "ipfixd", "groupLabels", "alertname", alert_names[al->kind], "commonLabels",
                     labels, "commonAnnotations", annotations, "externalURL", "", "alerts", alert);
    json_decref(labels);
    json_decref(annotations);
    text = body != NULL ? json_dumps(body, JSON_COMPACT) : NULL;
    json_decref(body);
    return text;
}

/* A change: the log line, the webhook, the list. */
static void
announce(struct ixd_rrd_alerts *a, const struct ixd_rrd_alert *al)
{
    char *body;

    if (al->active) {
        log_warn("output %s: alert %s for exporter %s (collector %s): %s", a->output,
                 kind_names[al->kind], al->address, al->exporter.name, al->summary);
    } else {
        log_info("output %s: alert %s for exporter %s (collector %s) resolved after %lld s",
                 a->output, kind_names[al->kind], al->address, al->exporter.name,
                 (long long)(al->until - al->since));
    }
    a->changed = 1;
    if (a->webhook == NULL) {
        return;
    }
    body = ixd_rrd_alert_webhook_body(al, a->output);
    if (body != NULL) {
        ixd_webhook_send(a->webhook, body);
        free(body);
    }
}

static void
raise_alert(struct ixd_rrd_alerts *a, const struct alert_key *key, int64_t t,
            const struct ixd_rrd_alert *detail)
{
    struct state *st = calloc(1, sizeof(*st));

    if (st == NULL) {
        log_err("output %s: out of memory: alert %s for %s not raised", a->output,
                kind_names[key->kind], detail->address);
        return;
    }
    st->key = *key;
    st->a = *detail;
    st->a.id = ++a->next_id;
    st->a.kind = (enum ixd_rrd_alert_kind)key->kind;
    st->a.exporter = key->exporter;
    st->a.active = 1;
    st->a.since = t;
    st->a.last = t;
    st->a.until = 0;
    ixd_rrd_key_address(&key->exporter, st->a.address, sizeof(st->a.address));
    ixd_rrd_key_id(&key->exporter, st->a.series, sizeof(st->a.series));
    g_hash_table_insert(a->active, &st->key, st);
    IXD_CNT_ADD(a->raised, 1);
    IXD_CNT_SET(a->n_active, g_hash_table_size(a->active));
    announce(a, &st->a);
}

static void
resolve(struct ixd_rrd_alerts *a, struct state *st, int64_t t)
{
    st->a.active = 0;
    st->a.until = t;
    a->history[a->history_next] = st->a;
    a->history_next = (a->history_next + 1) % IXD_ALERTS_HISTORY;
    if (a->history_n < IXD_ALERTS_HISTORY) {
        a->history_n++;
    }
    announce(a, &st->a);
    g_hash_table_remove(a->active, &st->key);
    IXD_CNT_SET(a->n_active, g_hash_table_size(a->active));
}

void
ixd_rrd_alerts_check(struct ixd_rrd_alerts *a, enum ixd_rrd_alert_kind kind,
                     const struct ixd_rrd_key *exporter, int64_t t, int on,
                     const struct ixd_rrd_alert *detail)
{
    struct alert_key key;
    struct state *st;

    memset(&key, 0, sizeof(key));
    key.kind = kind;
    key.exporter = *exporter;
    st = g_hash_table_lookup(a->active, &key);
    if (on && st == NULL) {
        raise_alert(a, &key, t, detail);
    } else if (on) {
        /* the numbers stay those it was raised with: what explains it */
        st->a.last = t;
        st->gone_since = 0;
        a->changed = 1;
    } else if (st != NULL) {
        if (st->gone_since == 0) {
            st->gone_since = t;
        }
        if (t - st->gone_since >= (int64_t)a->s->clear_after) {
            resolve(a, st, t);
        }
    }
}

static int
by_since(const void *x, const void *y)
{
    const struct ixd_rrd_alert *p = x, *q = y;

    if (p->since != q->since) {
        return p->since < q->since ? -1 : 1;
    }
    return p->id < q->id ? -1 : p->id > q->id;
}

void
ixd_rrd_alerts_commit(struct ixd_rrd_alerts *a)
{
    struct ixd_rrd_alert_list *l;
    GHashTableIter it;
    gpointer v;
    size_t n = 0;

    if (!a->changed) {
        return;
    }
    l = calloc(1, sizeof(*l));
    if (l == NULL || (l->output = strdup(a->output)) == NULL ||
        (l->alerts = calloc(g_hash_table_size(a->active) + a->history_n + 1, sizeof(*l->alerts))) ==
            NULL) {
        ixd_rrd_alert_list_free(l);
        return; /* tried again on the next round: changed stays */
    }
    g_hash_table_iter_init(&it, a->active);
    while (g_hash_table_iter_next(&it, NULL, &v)) {
        l->alerts[n++] = ((struct state *)v)->a;
    }
    qsort(l->alerts, n, sizeof(*l->alerts), by_since);
    for (unsigned i = 0; i < a->history_n; i++) {
        unsigned k = (a->history_next + IXD_ALERTS_HISTORY - 1 - i) % IXD_ALERTS_HISTORY;
        l->alerts[n++] = a->history[k];
    }
    l->n = n;
    ixd_board_post(a->slot, ixd_board_item_new(l, ixd_rrd_alert_list_free));
    a->changed = 0;
}

void
ixd_rrd_alert_list_free(void *arg)
{
    struct ixd_rrd_alert_list *l = arg;

    if (l != NULL) {
        free(l->output);
        free(l->alerts);
        free(l);
    }
}

void
ixd_rrd_alerts_counts(const struct ixd_rrd_alerts *a, uint64_t *active, uint64_t *raised)
{
    *active = IXD_CNT_GET(a->n_active);
    *raised = IXD_CNT_GET(a->raised);
}

void
ixd_rrd_alerts_webhook_stats(const struct ixd_rrd_alerts *a, struct ixd_webhook_stats *out)
{
    memset(out, 0, sizeof(*out));
    if (a->webhook != NULL) {
        ixd_webhook_stats(a->webhook, out);
    }
}
