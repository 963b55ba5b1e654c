/* The reader's side of snapshots: the latest one per worker, merged into one view. */
#include <glib.h>
#include <stdlib.h>
#include <string.h>

#include "snapshot/snapshot.h"

struct ixd_snapshot_reader {
    struct ixd_snapshot_publisher **pubs; /* referenced */
    int *slots;                           /* this reader's slot in each publisher */
    unsigned n_workers;
    struct ixd_worker_snapshot **latest; /* per worker; the view points into these */
    struct ixd_view *view;
    unsigned generation;
};

static const char b64url[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

char *
ixd_base64url(const void *data, size_t len, char *out)
{
    const unsigned char *in = data;
    size_t i, o = 0;

    for (i = 0; i + 2 < len; i += 3) {
        uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];
        out[o++] = b64url[v >> 18];
        out[o++] = b64url[(v >> 12) & 63];
        out[o++] = b64url[(v >> 6) & 63];
        out[o++] = b64url[v & 63];
    }
    if (len - i == 1) {
        uint32_t v = (uint32_t)in[i] << 16;
        out[o++] = b64url[v >> 18];
        out[o++] = b64url[(v >> 12) & 63];
    } else if (len - i == 2) {
        uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8;
        out[o++] = b64url[v >> 18];
        out[o++] = b64url[(v >> 12) & 63];
        out[o++] = b64url[(v >> 6) & 63];
    }
    out[o] = '\0';
    return out;
}

int
ixd_base64url_decode(const char *text, char *out, size_t outlen)
{
    uint32_t acc = 0;
    size_t o = 0;
    int bits = 0;

    for (; *text != '\0'; text++) {
        const char *p = strchr(b64url, *text);
        if (p == NULL) {
            return -1;
        }
        acc = acc << 6 | (uint32_t)(p - b64url);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            if (o + 1 >= outlen) {
                return -1;
            }
            out[o++] = (char)((acc >> bits) & 0xFF);
        }
    }
    if (bits >= 6) {
        return -1; /* a lone trailing character carries no byte */
    }
    out[o] = '\0';
    return (int)strlen(out) == (int)o ? 0 : -1; /* no NUL inside */
}

struct ixd_snapshot_reader *
ixd_snapshot_reader_new(struct ixd_snapshot_publisher *const *pubs, unsigned n_workers)
{
    struct ixd_snapshot_reader *r = calloc(1, sizeof(*r));

    if (r == NULL) {
        return NULL;
    }
    r->pubs = calloc(n_workers + 1, sizeof(*r->pubs));
    r->slots = calloc(n_workers + 1, sizeof(*r->slots));
    r->latest = calloc(n_workers + 1, sizeof(*r->latest));
    if (r->pubs == NULL || r->slots == NULL || r->latest == NULL) {
        ixd_snapshot_reader_free(r);
        return NULL;
    }
    for (unsigned k = 0; k < n_workers; k++) {
        r->slots[k] = ixd_snapshot_claim(pubs[k]);
        if (r->slots[k] == -1) {
            ixd_snapshot_reader_free(r);
            return NULL;
        }
        r->pubs[k] = ixd_snapshot_publisher_ref(pubs[k]);
        r->n_workers = k + 1;
    }
    r->n_workers = n_workers;
    return r;
}

static void
view_free(struct ixd_view *v)
{
    size_t i;

    if (v == NULL) {
        return;
    }
    for (i = 0; i < v->n_exporters; i++) {
        struct ixd_view_exporter *e = &v->exporters[i];
        for (size_t d = 0; d < e->n_domains; d++) {
            free(e->domains[d].templates);
        }
        free(e->domains);
        free(e->sessions);
        free(e->key);
        free(e->id);
    }
    for (i = 0; i < v->n_stages; i++) {
        ixd_counter_list_release(&v->stage_lists[i]);
    }
    free(v->stage_lists);
    free(v->stages);
    free(v->exporters);
    free(v->collectors);
    free(v->pipelines);
    free(v->workers);
    free(v);
}

/* The stages' counters of every worker, summed per pipeline and stage. */
static int
merge_stages(struct ixd_view *v, struct ixd_snapshot_reader *r)
{
    size_t n = 0, i, j;

    for (unsigned k = 0; k < r->n_workers; k++) {
        n += r->latest[k] != NULL ? r->latest[k]->n_stages : 0;
    }
    v->stages = calloc(n + 1, sizeof(*v->stages));
    v->stage_lists = calloc(n + 1, sizeof(*v->stage_lists));
    if (v->stages == NULL || v->stage_lists == NULL) {
        return -1;
    }
    for (unsigned k = 0; k < r->n_workers; k++) {
        const struct ixd_worker_snapshot *s = r->latest[k];
        for (i = 0; s != NULL && i < s->n_stages; i++) {
            const struct ixd_snap_stage *st = &s->stages[i];
            for (j = 0; j < v->n_stages; j++) {
                if (v->stages[j].index == st->index &&
                    strcmp(v->stages[j].pipeline, st->pipeline) == 0) {
                    break;
                }
            }
            if (j == v->n_stages) {
                v->stages[j] = *st;
                v->n_stages++;
            }
            for (size_t c = 0; c < st->n_counters; c++) {
                ixd_counter_list_sum(&v->stage_lists[j], st->counters[c].def, st->counters[c].label,
                                     st->counters[c].value);
            }
            if (v->stage_lists[j].failed) {
                return -1;
            }
        }
    }
    for (j = 0; j < v->n_stages; j++) {
        v->stages[j].counters = v->stage_lists[j].items;
        v->stages[j].n_counters = v->stage_lists[j].n;
    }
    return 0;
}

void
ixd_snapshot_reader_free(struct ixd_snapshot_reader *r)
{
    unsigned k;

    if (r == NULL) {
        return;
    }
    view_free(r->view);
    for (k = 0; k < r->n_workers; k++) {
        ixd_worker_snapshot_free(r->latest[k]);
        if (r->pubs[k] != NULL) {
            ixd_snapshot_unclaim(r->pubs[k], r->slots[k]);
            ixd_snapshot_publisher_free(r->pubs[k]);
        }
    }
    free(r->latest);
    free(r->slots);
    free(r->pubs);
    free(r);
}

/* The collector of this name in the view, added in the order first seen. */
static struct ixd_view_collector *
view_collector(struct ixd_view *v, const struct ixd_snap_collector *c)
{
    size_t i;

    for (i = 0; i < v->n_collectors; i++) {
        if (strcmp(v->collectors[i].name, c->name) == 0) {
            return &v->collectors[i];
        }
    }
    v->collectors[v->n_collectors].name = c->name;
    v->collectors[v->n_collectors].transport = c->transport;
    v->collectors[v->n_collectors].listen = c->listen;
    v->collectors[v->n_collectors].bound = c->bound;
    return &v->collectors[v->n_collectors++];
}

static int
domain_by_odid(const void *a, const void *b)
{
    const struct ixd_view_domain *x = a, *y = b;

    return x->odid < y->odid ? -1 : x->odid > y->odid;
}

static int
template_order(const void *a, const void *b)
{
    const struct ixd_snap_template *x = *(const struct ixd_snap_template *const *)a;
    const struct ixd_snap_template *y = *(const struct ixd_snap_template *const *)b;

    if (x->id != y->id) {
        return x->id < y->id ? -1 : 1;
    }
    /* of one id defined by several sessions, the most recently refreshed first */
    return x->refreshed_usec > y->refreshed_usec ? -1 : x->refreshed_usec < y->refreshed_usec;
}

static int
merge_domain(struct ixd_view_exporter *e, const struct ixd_snap_domain *sd)
{
    struct ixd_view_domain *d = NULL, *grown;
    size_t i;

    for (i = 0; i < e->n_domains && d == NULL; i++) {
        if (e->domains[i].odid == sd->odid) {
            d = &e->domains[i];
        }
    }
    if (d == NULL) {
        grown = realloc(e->domains, (e->n_domains + 1) * sizeof(*e->domains));
        if (grown == NULL) {
            return -1;
        }
        e->domains = grown;
        d = &e->domains[e->n_domains++];
        memset(d, 0, sizeof(*d));
        d->odid = sd->odid;
    }
    ixd_counters_sum(&d->counters, &sd->counters);
    if (sd->n_templates > 0) {
        const struct ixd_snap_template **t =
            realloc(d->templates, (d->n_templates + sd->n_templates) * sizeof(*t));
        if (t == NULL) {
            return -1;
        }
        d->templates = t;
        for (i = 0; i < sd->n_templates; i++) {
            d->templates[d->n_templates++] = &sd->templates[i];
        }
    }
    return 0;
}

static int
merge_exporter(struct ixd_view_exporter *e, const struct ixd_snap_exporter *x, unsigned worker)
{
    struct ixd_view_session *s;
    size_t i;

    if (e->first_seen_usec == 0 || x->first_seen_usec < e->first_seen_usec) {
        e->first_seen_usec = x->first_seen_usec;
    }
    if (x->last_seen_usec > e->last_seen_usec) {
        e->last_seen_usec = x->last_seen_usec;
    }
    e->templates += x->templates;
    ixd_counters_sum(&e->counters, &x->counters);
    /* each worker's estimate is a lower bound of the offset (ipfix/clock_offset.h) */
    if (x->clock_known && (!e->clock_known || x->clock_offset_usec > e->clock_offset_usec)) {
        e->clock_offset_usec = x->clock_offset_usec;
        e->clock_known = 1;
    }
    e->clock_samples += x->clock_samples;
    s = realloc(e->sessions, (e->n_sessions + x->n_sessions + 1) * sizeof(*s));
    if (s == NULL) {
        return -1;
    }
    e->sessions = s;
    for (i = 0; i < x->n_sessions; i++) {
        s = &e->sessions[e->n_sessions++];
        s->port = x->sessions[i].port;
        s->worker = worker;
        s->last_seen_usec = x->sessions[i].last_seen_usec;
        s->templates = x->sessions[i].templates;
        s->tls_subject = x->sessions[i].tls_subject;
    }
    if (x->tls_subject != NULL &&
        (e->tls_subject == NULL || x->tls_subject_usec > e->tls_subject_usec)) {
        e->tls_subject = x->tls_subject;
        e->tls_subject_usec = x->tls_subject_usec;
    }
    for (i = 0; i < x->n_domains; i++) {
        if (merge_domain(e, &x->domains[i]) == -1) {
            return -1;
        }
    }
    return 0;
}

static int
exporter_by_key(const void *a, const void *b)
{
    return strcmp(((const struct ixd_view_exporter *)a)->key,
                  ((const struct ixd_view_exporter *)b)->key);
}

/* Sorts what merging appended and drops, per id, all but the latest template. */
static void
finish_exporter(struct ixd_view_exporter *e)
{
    size_t d, i, n;

    if (e->n_domains == 0) {
        return; /* no array to sort (qsort must not see NULL) */
    }
    qsort(e->domains, e->n_domains, sizeof(*e->domains), domain_by_odid);
    for (d = 0; d < e->n_domains; d++) {
        struct ixd_view_domain *vd = &e->domains[d];
        if (vd->n_templates == 0) {
            continue;
        }
        qsort(vd->templates, vd->n_templates, sizeof(*vd->templates), template_order);
        for (i = 0, n = 0; i < vd->n_templates; i++) {
            if (n == 0 || vd->templates[n - 1]->id != vd->templates[i]->id) {
                vd->templates[n++] = vd->templates[i];
            }
        }
        vd->n_templates = n;
    }
}

static int
merge_snapshot(struct ixd_view *v, GHashTable *by_key, const struct ixd_worker_snapshot *s)
{
    size_t i, j;

    for (i = 0; i < s->n_collectors; i++) {
        const struct ixd_snap_collector *c = &s->collectors[i];
        struct ixd_view_collector *vc = view_collector(v, c);

        vc->listening_workers += c->listening != 0;
        vc->sessions += c->sessions;
        vc->tcp_connections += c->tcp_connections;
        vc->templates += c->templates;
        if (c->has_input_counters) {
            vc->n_input_counters = c->n_input_counters;
            vc->input_counters = c->input_counters;
        }
        ixd_counters_sum(&vc->counters, &c->counters);
        ixd_counters_sum(&v->total, &c->counters);
        for (j = 0; j < c->n_exporters; j++) {
            char *key = g_strdup_printf("%s/%s", c->name, c->exporters[j].address);
            struct ixd_view_exporter *e = g_hash_table_lookup(by_key, key);

            if (e == NULL) {
                size_t len = strlen(key);
                e = &v->exporters[v->n_exporters++];
                e->key = strdup(key);
                e->id = malloc(4 * ((len + 2) / 3) + 1);
                if (e->key == NULL || e->id == NULL) {
                    g_free(key);
                    return -1;
                }
                ixd_base64url(key, len, e->id);
                e->collector = c->name;
                e->address = c->exporters[j].address;
                e->transport = c->transport;
                g_hash_table_insert(by_key, e->key, e);
                vc->exporters++;
            }
            g_free(key);
            if (merge_exporter(e, &c->exporters[j], s->worker) == -1) {
                return -1;
            }
        }
    }
    if (s->has_outputs) {
        v->n_outputs = s->n_outputs;
        v->outputs = s->outputs;
    }
    for (i = 0; i < s->n_pipelines; i++) {
        const struct ixd_snap_pipeline *sp = &s->pipelines[i];
        struct ixd_view_pipeline *vp = NULL;
        for (j = 0; j < v->n_pipelines && vp == NULL; j++) {
            vp = strcmp(v->pipelines[j].name, sp->name) == 0 ? &v->pipelines[j] : NULL;
        }
        if (vp == NULL) {
            vp = realloc(v->pipelines, (v->n_pipelines + 1) * sizeof(*vp));
            if (vp == NULL) {
                return -1;
            }
            v->pipelines = vp;
            vp = &v->pipelines[v->n_pipelines++];
            memset(vp, 0, sizeof(*vp));
            vp->name = sp->name;
        }
        vp->in += sp->in;
        vp->out += sp->out;
        vp->failed += sp->failed;
        vp->emitted += sp->emitted;
    }
    return 0;
}

static struct ixd_view *
view_build(struct ixd_snapshot_reader *r)
{
    struct ixd_view *v = calloc(1, sizeof(*v));
    size_t n_collectors = 0, n_exporters = 0, i, j;
    GHashTable *by_key;
    unsigned k;
    int ok = 1;

    for (k = 0; k < r->n_workers; k++) {
        const struct ixd_worker_snapshot *s = r->latest[k];
        for (i = 0; s != NULL && i < s->n_collectors; i++) {
            n_collectors++;
            n_exporters += s->collectors[i].n_exporters;
        }
    }
    if (v == NULL) {
        return NULL;
    }
    v->n_workers = r->n_workers;
    v->workers = calloc(r->n_workers + 1, sizeof(*v->workers));
    v->collectors = calloc(n_collectors + 1, sizeof(*v->collectors));
    v->exporters = calloc(n_exporters + 1, sizeof(*v->exporters));
    if (v->workers == NULL || v->collectors == NULL || v->exporters == NULL) {
        view_free(v);
        return NULL;
    }
    by_key = g_hash_table_new(g_str_hash, g_str_equal);
    for (k = 0; ok && k < r->n_workers; k++) {
        const struct ixd_worker_snapshot *s = r->latest[k];
        if (s != NULL) {
            v->workers[k].seen = 1;
            v->workers[k].built_mono = s->built_mono;
            ok = merge_snapshot(v, by_key, s) == 0;
        }
    }
    g_hash_table_destroy(by_key);
    if (!ok || merge_stages(v, r) == -1) {
        view_free(v);
        return NULL;
    }
    for (j = 0; j < v->n_exporters; j++) {
        finish_exporter(&v->exporters[j]);
    }
    qsort(v->exporters, v->n_exporters, sizeof(*v->exporters), exporter_by_key);
    return v;
}

const struct ixd_view *
ixd_snapshot_reader_view(struct ixd_snapshot_reader *r)
{
    int fresh = r->view == NULL;
    unsigned k;

    for (k = 0; k < r->n_workers; k++) {
        struct ixd_worker_snapshot *s = ixd_snapshot_take(r->pubs[k], (unsigned)r->slots[k]);
        if (s != NULL) {
            view_free(r->view); /* it may point into the snapshot replaced below */
            r->view = NULL;
            ixd_worker_snapshot_free(r->latest[k]);
            r->latest[k] = s;
            fresh = 1;
        }
    }
    if (fresh) {
        view_free(r->view);
        r->view = view_build(r);
        if (r->view != NULL) {
            r->view->generation = ++r->generation;
        }
    }
    return r->view;
}

const struct ixd_view_exporter *
ixd_view_exporter(const struct ixd_view *v, const char *id)
{
    struct ixd_view_exporter key;
    char text[256];

    if (ixd_base64url_decode(id, text, sizeof(text)) == -1) {
        return NULL;
    }
    key.key = text;
    return bsearch(&key, v->exporters, v->n_exporters, sizeof(*v->exporters), exporter_by_key);
}

const struct ixd_view_domain *
ixd_view_domain(const struct ixd_view_exporter *e, uint32_t odid)
{
    struct ixd_view_domain key = {.odid = odid};

    if (e->n_domains == 0) {
        return NULL;
    }
    return bsearch(&key, e->domains, e->n_domains, sizeof(*e->domains), domain_by_odid);
}

const struct ixd_snap_template *
ixd_view_template(const struct ixd_view_domain *d, uint16_t tid)
{
    size_t i;

    for (i = 0; i < d->n_templates; i++) {
        if (d->templates[i]->id == tid) {
            return d->templates[i];
        }
    }
    return NULL;
}
