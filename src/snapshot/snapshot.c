/* Worker snapshots: built on the worker's thread, exchanged through one atomic slot. */
#include "snapshot/snapshot.h"

#include <glib.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "ipfix/decode.h"
#include "output/json_format.h"

#define CHUNK_SIZE (64 * 1024)

/* Snapshot memory: a list of chunks handed out in order and freed together. */
struct snap_chunk {
    struct snap_chunk *next;
    size_t used, size;
    max_align_t data[];
};

struct ixd_snapshot_publisher {
    _Atomic(struct ixd_worker_snapshot *) slot[IXD_SNAPSHOT_READERS];
    atomic_uint claimed; /* a bit per slot a reader registered */
    atomic_uint refs;    /* the worker's, each reader's, the board's */
    unsigned worker;
    /* while a snapshot is being built (worker thread) */
    struct ixd_worker_snapshot *cur;
    int failed;
    size_t cap_collectors;
    double now_mono;
    int64_t now_usec;
    const struct ixd_sessions *ss; /* of the collector being added */
    GPtrArray *tcp_sessions;
    /* remembered from one snapshot to the next, pruned to what the last one held */
    GHashTable *first_seen, *next_first_seen; /* "collector/address" -> int64 usec */
    GHashTable *received, *next_received;     /* template serial -> int64 usec */
    struct ixd_counter_list counters;         /* an output's, gathered before the copy */
};

static void *
snap_alloc(struct ixd_snapshot_publisher *p, size_t n)
{
    struct ixd_worker_snapshot *s = p->cur;
    struct snap_chunk *c = s->memory;
    void *out;

    n = (n + sizeof(max_align_t) - 1) / sizeof(max_align_t) * sizeof(max_align_t);
    if (n == 0) {
        n = sizeof(max_align_t);
    }
    if (c == NULL || c->size - c->used < n) {
        size_t size = n > CHUNK_SIZE ? n : CHUNK_SIZE;
        c = malloc(sizeof(*c) + size);
        if (c == NULL) {
            p->failed = 1;
            return NULL;
        }
        c->next = s->memory;
        c->used = 0;
        c->size = size;
        s->memory = c;
    }
    out = (char *)c->data + c->used;
    c->used += n;
    memset(out, 0, n);
    return out;
}

static const char *
snap_strdup(struct ixd_snapshot_publisher *p, const char *text)
{
    size_t len = strlen(text) + 1;
    char *out = snap_alloc(p, len);

    if (out != NULL) {
        memcpy(out, text, len);
    }
    return out != NULL ? out : "";
}

void
ixd_worker_snapshot_free(struct ixd_worker_snapshot *s)
{
    struct snap_chunk *c, *next;

    if (s == NULL || __atomic_sub_fetch(&s->refs, 1, __ATOMIC_ACQ_REL) != 0) {
        return;
    }
    for (c = s->memory; c != NULL; c = next) {
        next = c->next;
        free(c);
    }
    free(s);
}

static GHashTable *
usec_table(GHashFunc hash, GEqualFunc equal, GDestroyNotify free_key)
{
    return g_hash_table_new_full(hash, equal, free_key, g_free);
}

struct ixd_snapshot_publisher *
ixd_snapshot_publisher_new(unsigned worker)
{
    struct ixd_snapshot_publisher *p = calloc(1, sizeof(*p));

    if (p == NULL) {
        return NULL;
    }
    for (unsigned i = 0; i < IXD_SNAPSHOT_READERS; i++) {
        atomic_init(&p->slot[i], NULL);
    }
    atomic_init(&p->claimed, 0);
    atomic_init(&p->refs, 1);
    p->worker = worker;
    p->tcp_sessions = g_ptr_array_new();
    p->first_seen = usec_table(g_str_hash, g_str_equal, g_free);
    p->received = usec_table(g_int64_hash, g_int64_equal, g_free);
    return p;
}

struct ixd_snapshot_publisher *
ixd_snapshot_publisher_ref(struct ixd_snapshot_publisher *p)
{
    atomic_fetch_add_explicit(&p->refs, 1, memory_order_relaxed);
    return p;
}

void
ixd_snapshot_publisher_free(struct ixd_snapshot_publisher *p)
{
    if (p == NULL || atomic_fetch_sub_explicit(&p->refs, 1, memory_order_acq_rel) != 1) {
        return;
    }
    for (unsigned i = 0; i < IXD_SNAPSHOT_READERS; i++) {
        ixd_worker_snapshot_free(atomic_exchange(&p->slot[i], NULL));
    }
    ixd_worker_snapshot_free(p->cur);
    g_ptr_array_free(p->tcp_sessions, TRUE);
    ixd_counter_list_release(&p->counters);
    g_hash_table_destroy(p->first_seen);
    g_hash_table_destroy(p->received);
    if (p->next_first_seen != NULL) {
        g_hash_table_destroy(p->next_first_seen);
        g_hash_table_destroy(p->next_received);
    }
    free(p);
}

void
ixd_snapshot_begin(struct ixd_snapshot_publisher *p, size_t n_collectors, double now_mono,
                   int64_t now_usec)
{
    ixd_worker_snapshot_free(p->cur);
    p->failed = 0;
    p->ss = NULL;
    p->now_mono = now_mono;
    p->now_usec = now_usec;
    g_ptr_array_set_size(p->tcp_sessions, 0);
    if (p->next_first_seen == NULL) {
        p->next_first_seen = usec_table(g_str_hash, g_str_equal, g_free);
        p->next_received = usec_table(g_int64_hash, g_int64_equal, g_free);
    }
    p->cur = calloc(1, sizeof(*p->cur));
    if (p->cur == NULL) {
        p->failed = 1;
        return;
    }
    p->cur->refs = 1;
    p->cur->worker = p->worker;
    p->cur->built_mono = now_mono;
    p->cur->built_usec = now_usec;
    p->cap_collectors = n_collectors;
    p->cur->collectors = snap_alloc(p, (n_collectors + 1) * sizeof(*p->cur->collectors));
}

/* A monotonic time of this worker's clock as UNIX microseconds. */
static int64_t
wall_usec(const struct ixd_snapshot_publisher *p, double mono)
{
    return p->now_usec - (int64_t)((p->now_mono - mono) * 1e6);
}

/* The remembered time for key, or `fallback` the first time; kept for the next snapshot. */
static int64_t
remember(GHashTable *old, GHashTable *next, gpointer key, gpointer key_copy, int64_t fallback)
{
    const int64_t *seen = g_hash_table_lookup(old, key);
    int64_t *v = g_new(int64_t, 1);

    *v = seen != NULL ? *seen : fallback;
    g_hash_table_replace(next, key_copy, v);
    return *v;
}

static int
by_odid(const void *a, const void *b)
{
    const struct ixd_snap_domain *x = a, *y = b;

    return x->odid < y->odid ? -1 : x->odid > y->odid;
}

static void
fill_exporter(struct ixd_snapshot_publisher *p, const char *collector, const struct ixd_exporter *e,
              struct ixd_snap_exporter *x)
{
    GHashTableIter it;
    gpointer v;
    size_t n = g_hash_table_size(e->domains) + (e->other_domains != NULL);
    char *key = g_strdup_printf("%s/%s", collector, e->text);

    x->address = snap_strdup(p, e->text);
    x->last_seen_usec = wall_usec(p, e->last_seen);
    x->first_seen_usec =
        remember(p->first_seen, p->next_first_seen, key, g_strdup(key), x->last_seen_usec);
    g_free(key);
    x->templates = e->templates;
    x->counters = e->counters;
    x->clock_known = ixd_clock_offset_get(&e->clock, p->now_usec, &x->clock_offset_usec) == 0;
    x->clock_samples = e->clock.samples;
    x->domains = snap_alloc(p, (n + 1) * sizeof(*x->domains));
    x->sessions = snap_alloc(p, (e->sessions + 1) * sizeof(*x->sessions));
    if (x->domains == NULL || x->sessions == NULL) {
        return;
    }
    g_hash_table_iter_init(&it, e->domains);
    while (g_hash_table_iter_next(&it, NULL, &v)) {
        const struct ixd_domain_counters *dc = v;
        x->domains[x->n_domains].odid = dc->odid;
        x->domains[x->n_domains++].counters = dc->c;
    }
    if (e->other_domains != NULL) {
        x->domains[x->n_domains].odid = IXD_ODID_OTHER;
        x->domains[x->n_domains++].counters = e->other_domains->c;
    }
    qsort(x->domains, x->n_domains, sizeof(*x->domains), by_odid);
}

static struct ixd_snap_domain *
find_domain(struct ixd_snap_exporter *x, uint32_t odid)
{
    struct ixd_snap_domain key = {.odid = odid}, *d;

    d = bsearch(&key, x->domains, x->n_domains, sizeof(*x->domains), by_odid);
    if (d == NULL && x->n_domains > 0 && x->domains[x->n_domains - 1].odid == IXD_ODID_OTHER) {
        d = &x->domains[x->n_domains - 1]; /* a domain counted in the shared bucket */
    }
    return d;
}

/* The kept options record as a JSON object, formatted as the JSON output would write it. */
static const char *
options_json(struct ixd_snapshot_publisher *p, const struct ixd_session *s,
             const struct ixd_template_slot *slot)
{
    static const char prefix[] = "{\"@template\":";
    const struct ixd_template *t = slot->tmpl;
    struct ixd_record r = {t, slot->options_record, slot->options_length, NULL, NULL};
    uint16_t offs[256], lens[256];
    struct ixd_source src;
    const char *copy;
    char *out;
    size_t n;

    if (t->has_varlen) {
        if (t->field_count > 256 || ixd_record_walk(t, r.data, r.length, offs, lens) != r.length) {
            return NULL;
        }
        r.offsets = offs;
        r.lengths = lens;
    }
    out = malloc(sizeof(prefix) + ixd_json_bound(&r));
    if (out == NULL) {
        return NULL;
    }
    /* with its own domain's resolver, lists name their templates and elements */
    src = s->source;
    src.resolver = &slot->domain->resolver;
    n = ixd_json_record_from(&r, &src, prefix, sizeof(prefix) - 1, out);
    out[n - 1] = '\0'; /* the line's newline */
    copy = snap_strdup(p, out);
    free(out);
    return copy;
}

static void
fill_template(struct ixd_snapshot_publisher *p, const struct ixd_session *s,
              const struct ixd_template_slot *slot, struct ixd_snap_template *t)
{
    const struct ixd_template *tmpl = slot->tmpl;
    uint64_t serial = tmpl->serial;
    uint16_t i;

    t->id = tmpl->id;
    t->scope_count = tmpl->scope_count;
    t->field_count = tmpl->field_count;
    t->exporter_port = s->source.exporter_port;
    t->refreshed_usec = wall_usec(p, slot->last_seen);
    t->received_usec = remember(p->received, p->next_received, &serial,
                                g_memdup2(&serial, sizeof(serial)), t->refreshed_usec);
    t->fields = snap_alloc(p, ((size_t)tmpl->field_count + 1) * sizeof(*t->fields));
    for (i = 0; t->fields != NULL && i < tmpl->field_count; i++) {
        const struct ixd_field *f = &tmpl->fields[i];
        t->fields[i].pen = f->pen;
        t->fields[i].id = f->id;
        t->fields[i].length = f->length;
        t->fields[i].name = f->named ? snap_strdup(p, f->key) : NULL;
    }
    if (slot->options_record != NULL) {
        t->options_record = options_json(p, s, slot);
        t->options_usec = slot->options_usec;
    }
}

/* Pass 0 counts each domain's templates, pass 1 copies them. */
static void
session_templates(struct ixd_snapshot_publisher *p, const struct ixd_session *s,
                  struct ixd_snap_exporter *x, int pass)
{
    GHashTableIter it, tit;
    gpointer v, tv;

    g_hash_table_iter_init(&it, s->domains);
    while (g_hash_table_iter_next(&it, NULL, &v)) {
        const struct ixd_domain *d = v;
        struct ixd_snap_domain *sd = find_domain(x, d->odid);

        if (sd == NULL) {
            continue;
        }
        if (pass == 0) {
            sd->n_templates += g_hash_table_size(d->templates);
            continue;
        }
        g_hash_table_iter_init(&tit, d->templates);
        while (g_hash_table_iter_next(&tit, NULL, &tv)) {
            const struct ixd_template_slot *slot = tv;
            if (slot->tmpl != NULL && sd->templates != NULL) {
                fill_template(p, s, slot, &sd->templates[sd->n_templates++]);
            }
        }
    }
}

static void
add_session(struct ixd_snapshot_publisher *p, GHashTable *index, const struct ixd_session *s,
            int pass)
{
    struct ixd_snap_exporter *x = g_hash_table_lookup(index, s->exporter);

    if (x == NULL || x->sessions == NULL) {
        return;
    }
    if (pass == 1 && x->n_sessions < s->exporter->sessions) {
        struct ixd_snap_session *ses = &x->sessions[x->n_sessions++];
        ses->port = s->source.exporter_port;
        ses->last_seen_usec = wall_usec(p, s->last_seen);
        ses->templates = s->templates;
        if (s->tls_subject != NULL) {
            ses->tls_subject = snap_strdup(p, s->tls_subject);
            if (x->tls_subject == NULL || x->tls_subject_usec < ses->last_seen_usec) {
                x->tls_subject = ses->tls_subject;
                x->tls_subject_usec = ses->last_seen_usec;
            }
        }
    }
    session_templates(p, s, x, pass);
}

/* Fills the collector added last from its sessions table and TCP sessions. */
static void
finish_collector(struct ixd_snapshot_publisher *p)
{
    struct ixd_snap_collector *c;
    const struct ixd_sessions *ss = p->ss;
    GHashTable *index;
    GHashTableIter it;
    gpointer v;
    size_t i, j;
    int pass;

    if (ss == NULL || p->failed) {
        return;
    }
    c = &p->cur->collectors[p->cur->n_collectors - 1];
    c->counters = ss->counters;
    c->templates = ss->templates;
    c->exporters = snap_alloc(p, (g_hash_table_size(ss->exporters) + 1) * sizeof(*c->exporters));
    index = g_hash_table_new(g_direct_hash, g_direct_equal);
    g_hash_table_iter_init(&it, ss->exporters);
    while (c->exporters != NULL && g_hash_table_iter_next(&it, NULL, &v)) {
        struct ixd_snap_exporter *x = &c->exporters[c->n_exporters++];
        fill_exporter(p, c->name, v, x);
        g_hash_table_insert(index, v, x);
    }
    for (pass = 0; pass < 2 && !p->failed; pass++) {
        if (ss->udp != NULL) {
            g_hash_table_iter_init(&it, ss->udp);
            while (g_hash_table_iter_next(&it, NULL, &v)) {
                add_session(p, index, v, pass);
            }
        }
        for (i = 0; i < p->tcp_sessions->len; i++) {
            add_session(p, index, g_ptr_array_index(p->tcp_sessions, i), pass);
        }
        for (i = 0; pass == 0 && i < c->n_exporters; i++) {
            for (j = 0; j < c->exporters[i].n_domains; j++) {
                struct ixd_snap_domain *d = &c->exporters[i].domains[j];
                d->templates = snap_alloc(p, (d->n_templates + 1) * sizeof(*d->templates));
                d->n_templates = 0;
            }
        }
    }
    g_hash_table_destroy(index);
    g_ptr_array_set_size(p->tcp_sessions, 0);
    p->ss = NULL;
}

void
ixd_snapshot_add_collector(struct ixd_snapshot_publisher *p, const char *name,
                           const char *transport, const char *listen, const char *bound,
                           int listening, const struct ixd_sessions *ss, unsigned tcp_connections)
{
    struct ixd_snap_collector *c;

    finish_collector(p);
    if (p->failed || p->cur->n_collectors >= p->cap_collectors) {
        return;
    }
    c = &p->cur->collectors[p->cur->n_collectors++];
    c->name = snap_strdup(p, name);
    c->transport = snap_strdup(p, transport);
    c->listen = snap_strdup(p, listen);
    c->bound = snap_strdup(p, bound);
    c->listening = listening;
    c->tcp_connections = tcp_connections;
    c->sessions = ss->tcp ? tcp_connections : (ss->udp != NULL ? g_hash_table_size(ss->udp) : 0);
    p->ss = ss;
}

void
ixd_snapshot_add_session(struct ixd_snapshot_publisher *p, const struct ixd_session *s)
{
    if (p->ss != NULL) {
        g_ptr_array_add(p->tcp_sessions, (gpointer)s);
    }
}

void
ixd_snapshot_add_input_counters(struct ixd_snapshot_publisher *p,
                                void (*stats)(const void *shared, ixd_counter_fn fn, void *arg),
                                const void *shared)
{
    struct ixd_snap_collector *c;
    struct ixd_counter_item *items;

    if (p->failed || p->cur->n_collectors == 0) {
        return;
    }
    c = &p->cur->collectors[p->cur->n_collectors - 1];
    p->counters.n = 0;
    stats(shared, ixd_counter_list_add, &p->counters);
    items = snap_alloc(p, (p->counters.n + 1) * sizeof(*items));
    if (items != NULL && !p->counters.failed) {
        memcpy(items, p->counters.items, p->counters.n * sizeof(*items));
        c->input_counters = items;
        c->n_input_counters = p->counters.n;
        c->has_input_counters = 1;
    }
}

void
ixd_snapshot_add_outputs(struct ixd_snapshot_publisher *p, struct ixd_output *const *outputs,
                         size_t n)
{
    size_t i;

    finish_collector(p);
    if (p->failed) {
        return;
    }
    p->cur->outputs = snap_alloc(p, (n + 1) * sizeof(*p->cur->outputs));
    for (i = 0; p->cur->outputs != NULL && i < n; i++) {
        struct ixd_snap_output *o = &p->cur->outputs[i];
        struct ixd_counter_item *items;

        o->name = snap_strdup(p, outputs[i]->name);
        o->type = snap_strdup(p, outputs[i]->type->m.name);
        p->counters.n = 0;
        outputs[i]->type->stats(outputs[i], ixd_counter_list_add, &p->counters);
        items = snap_alloc(p, (p->counters.n + 1) * sizeof(*items));
        if (items != NULL && !p->counters.failed) {
            memcpy(items, p->counters.items, p->counters.n * sizeof(*items));
            o->counters = items;
            o->n_counters = p->counters.n;
        }
    }
    p->cur->n_outputs = p->cur->outputs != NULL ? n : 0;
    p->cur->has_outputs = p->cur->outputs != NULL;
}

void
ixd_snapshot_add_pipeline(struct ixd_snapshot_publisher *p, const char *name, uint64_t in,
                          uint64_t out, uint64_t failed, uint64_t emitted)
{
    struct ixd_snap_pipeline *grown;

    finish_collector(p);
    if (p->failed) {
        return;
    }
    /* a few per config: grown one at a time in the snapshot's own memory */
    grown = snap_alloc(p, (p->cur->n_pipelines + 1) * sizeof(*grown));
    if (grown == NULL) {
        return;
    }
    if (p->cur->n_pipelines > 0) {
        memcpy(grown, p->cur->pipelines, p->cur->n_pipelines * sizeof(*grown));
    }
    grown[p->cur->n_pipelines] =
        (struct ixd_snap_pipeline){snap_strdup(p, name), in, out, failed, emitted};
    p->cur->pipelines = grown;
    p->cur->n_pipelines++;
}

int
ixd_snapshot_wanted(const struct ixd_snapshot_publisher *p)
{
    return atomic_load_explicit(&p->claimed, memory_order_relaxed) != 0;
}

/* Hands s to every registered reader's slot (a reference each) and empties the others: a slot
 * given back while this ran is emptied on the next publish, or when the publisher goes. */
static void
hand_out(struct ixd_snapshot_publisher *p, struct ixd_worker_snapshot *s)
{
    unsigned claimed = atomic_load_explicit(&p->claimed, memory_order_acquire);

    for (unsigned i = 0; i < IXD_SNAPSHOT_READERS; i++) {
        struct ixd_worker_snapshot *put = NULL;
        if (claimed & (1u << i)) {
            __atomic_add_fetch(&s->refs, 1, __ATOMIC_RELAXED);
            put = s;
        }
        ixd_worker_snapshot_free(atomic_exchange(&p->slot[i], put));
    }
    ixd_worker_snapshot_free(s); /* the one it was built with */
}

void
ixd_snapshot_add_stages(struct ixd_snapshot_publisher *p, const struct ixd_snap_stage *stages,
                        const struct ixd_counter_list *l, size_t n)
{
    finish_collector(p);
    if (p->failed || n == 0) {
        return;
    }
    p->cur->stages = snap_alloc(p, n * sizeof(*p->cur->stages));
    for (size_t i = 0; p->cur->stages != NULL && i < n; i++) {
        struct ixd_snap_stage *s = &p->cur->stages[i];
        struct ixd_counter_item *items = snap_alloc(p, (l[i].n + 1) * sizeof(*items));

        *s = stages[i];
        s->pipeline = snap_strdup(p, stages[i].pipeline);
        s->type = snap_strdup(p, stages[i].type);
        s->counters = NULL;
        s->n_counters = 0;
        if (items != NULL && !l[i].failed) {
            memcpy(items, l[i].items, l[i].n * sizeof(*items));
            s->counters = items;
            s->n_counters = l[i].n;
        }
    }
    p->cur->n_stages = p->cur->stages != NULL ? n : 0;
}

void
ixd_snapshot_publish(struct ixd_snapshot_publisher *p)
{
    GHashTable *t;

    finish_collector(p);
    if (p->failed) {
        ixd_worker_snapshot_free(p->cur);
        p->cur = NULL;
        g_hash_table_remove_all(p->next_first_seen);
        g_hash_table_remove_all(p->next_received);
        return;
    }
    /* what this snapshot did not hold is forgotten: the tables stay as small as the state */
    t = p->first_seen;
    p->first_seen = p->next_first_seen;
    p->next_first_seen = t;
    g_hash_table_remove_all(t);
    t = p->received;
    p->received = p->next_received;
    p->next_received = t;
    g_hash_table_remove_all(t);
    hand_out(p, p->cur);
    p->cur = NULL;
}

struct ixd_worker_snapshot *
ixd_snapshot_take(struct ixd_snapshot_publisher *p, unsigned reader)
{
    return reader < IXD_SNAPSHOT_READERS ? atomic_exchange(&p->slot[reader], NULL) : NULL;
}

int
ixd_snapshot_claim(struct ixd_snapshot_publisher *p)
{
    unsigned cur = atomic_load(&p->claimed);

    for (;;) {
        int i = 0;
        while (i < IXD_SNAPSHOT_READERS && (cur & (1u << i))) {
            i++;
        }
        if (i == IXD_SNAPSHOT_READERS) {
            return -1;
        }
        if (atomic_compare_exchange_weak(&p->claimed, &cur, cur | (1u << i))) {
            /* what a reader before it left here is not this reader's */
            ixd_worker_snapshot_free(atomic_exchange(&p->slot[i], NULL));
            return i;
        }
    }
}

void
ixd_snapshot_unclaim(struct ixd_snapshot_publisher *p, int i)
{
    atomic_fetch_and(&p->claimed, ~(1u << i));
    ixd_worker_snapshot_free(atomic_exchange(&p->slot[i], NULL));
}

struct ixd_snapshot_set *
ixd_snapshot_set_new(struct ixd_snapshot_publisher *const *pubs, unsigned n)
{
    struct ixd_snapshot_set *set = calloc(1, sizeof(*set));

    if (set == NULL || (set->pubs = calloc(n + 1, sizeof(*set->pubs))) == NULL) {
        free(set);
        return NULL;
    }
    for (unsigned k = 0; k < n; k++) {
        set->pubs[k] = ixd_snapshot_publisher_ref(pubs[k]);
    }
    set->n = n;
    return set;
}

void
ixd_snapshot_set_free(void *arg)
{
    struct ixd_snapshot_set *set = arg;

    if (set == NULL) {
        return;
    }
    for (unsigned k = 0; k < set->n; k++) {
        ixd_snapshot_publisher_free(set->pubs[k]);
    }
    free(set->pubs);
    free(set);
}
