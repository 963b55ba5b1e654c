#include "ipfix/session.h"
#include "ipfix/session_count.h"
#include "ipfix/sampling.h"

#include "core/address.h"

#include <arpa/inet.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* UDP session key: exporter address (IPv4 mapped into IPv6) and port */
struct udp_key {
    struct in6_addr addr;
    uint16_t port;
};

/* Memory a template is charged for: its allocation plus the table entry (see template.c). */
#define TEMPLATE_OVERHEAD 256 /* template header, slot, table node, allocator slack */
#define FIELD_BYTES 80        /* struct ixd_field 40, index <= 8, key 24, slack */

void
ixd_session_limits_default(struct ixd_session_limits *l)
{
    memset(l, 0, sizeof(*l));
    l->template_lifetime = 1800;
    l->templates_per_session = 4096;
    l->templates_per_exporter = 16384;
    l->templates_total = 65536;
    l->template_memory = 64u << 20;
    l->sessions_per_exporter = 256;
    l->sessions_total = 16384;
    l->domains_per_session = 256;
    l->hold = 1;
    l->hold_time = 30;
    l->held_sets_per_session = 256;
    l->held_bytes_per_session = 256u << 10;
    l->held_bytes_total = 16u << 20;
    l->netflow9_pen = 9;
}

/* ---- intrusive LRU lists: `off` is the offset of the struct ixd_lru_link in the element */

static struct ixd_lru_link *
link_of(void *e, size_t off)
{
    return (struct ixd_lru_link *)((char *)e + off);
}

static void
lru_append(struct ixd_lru *l, void *e, size_t off)
{
    struct ixd_lru_link *k = link_of(e, off);

    k->prev = l->tail;
    k->next = NULL;
    if (l->tail != NULL) {
        link_of(l->tail, off)->next = e;
    } else {
        l->head = e;
    }
    l->tail = e;
}

static void
lru_unlink(struct ixd_lru *l, void *e, size_t off)
{
    struct ixd_lru_link *k = link_of(e, off);

    if (k->prev != NULL) {
        link_of(k->prev, off)->next = k->next;
    } else {
        l->head = k->next;
    }
    if (k->next != NULL) {
        link_of(k->next, off)->prev = k->prev;
    } else {
        l->tail = k->prev;
    }
    k->prev = k->next = NULL;
}

static void
lru_touch(struct ixd_lru *l, void *e, size_t off)
{
    if (l->tail != e) {
        lru_unlink(l, e, off);
        lru_append(l, e, off);
    }
}

#define SLOT_ALL offsetof(struct ixd_template_slot, all)
#define SLOT_MINE offsetof(struct ixd_template_slot, mine)
#define SESSION_ALL offsetof(struct ixd_session, all)
#define SESSION_MINE offsetof(struct ixd_session, mine)
#define EXPORTER_RETIRED offsetof(struct ixd_exporter, retired_link)

/* ---- hashing */

static guint
udp_key_hash(gconstpointer p)
{
    const struct udp_key *k = p;
    const uint32_t *w = (const uint32_t *)(const void *)&k->addr;

    return (w[0] ^ w[1] ^ w[2] ^ w[3]) * 2654435761u ^ k->port;
}

static gboolean
udp_key_equal(gconstpointer a, gconstpointer b)
{
    const struct udp_key *x = a, *y = b;

    return x->port == y->port && memcmp(&x->addr, &y->addr, sizeof(x->addr)) == 0;
}

static guint
addr_hash(gconstpointer p)
{
    const uint32_t *w = p;

    return (w[0] ^ w[1] ^ w[2] ^ w[3]) * 2654435761u;
}

static gboolean
addr_equal(gconstpointer a, gconstpointer b)
{
    return memcmp(a, b, sizeof(struct in6_addr)) == 0;
}

void
ixd_count_error(struct ixd_session *s, struct ixd_domain *d, enum ixd_error e)
{
    COUNT(s, d, errors[e], 1);
}

/* ---- templates */

/* The table's destroy function: every way a template leaves goes through here. */
static void
slot_free(gpointer p)
{
    struct ixd_template_slot *slot = p;
    struct ixd_session *s = slot->session;
    struct ixd_sessions *ss = s->owner;

    ss->ha.changes++; /* withdrawn, expired, evicted, replaced or its session gone */
    if (slot->domain->last_slot == slot) {
        slot->domain->last_slot = NULL;
    }

    lru_unlink(&ss->template_lru, slot, SLOT_ALL);
    lru_unlink(&s->exporter->template_lru, slot, SLOT_MINE);
    ss->templates--;
    ss->template_bytes -= slot->bytes;
    free(slot->options_record);
    s->exporter->templates--;
    s->templates--;
    ixd_template_free(slot->tmpl);
    free(slot);
}

static void
evict_template(struct ixd_template_slot *slot)
{
    COUNT(slot->session, slot->domain, templates_evicted, 1);
    g_hash_table_remove(slot->domain->templates, GUINT_TO_POINTER(slot->tmpl->id));
}

/* Makes room for one more template of `bytes` for session s: 0, or -1 to refuse it. */
static int
template_room(struct ixd_session *s, struct ixd_domain *d, size_t bytes)
{
    struct ixd_sessions *ss = s->owner;
    const struct ixd_session_limits *l = &ss->limits;

    if (s->templates >= l->templates_per_session) {
        COUNT(s, d, errors[IXD_ERR_TEMPLATE_LIMIT], 1);
        return -1;
    }
    /* an exporter beyond its share loses its own oldest templates */
    while (s->exporter->templates >= l->templates_per_exporter &&
           s->exporter->template_lru.head != NULL) {
        evict_template(s->exporter->template_lru.head);
    }
    while (
        (ss->templates >= l->templates_total || ss->template_bytes + bytes > l->template_memory) &&
        ss->template_lru.head != NULL) {
        evict_template(ss->template_lru.head);
    }
    if (bytes > l->template_memory) {
        COUNT(s, d, errors[IXD_ERR_TEMPLATE_LIMIT], 1);
        return -1;
    }
    return 0;
}

const struct ixd_template *
ixd_domain_template(struct ixd_session *s, struct ixd_domain *d, uint16_t tid, double now)
{
    struct ixd_template_slot *slot = d->last_slot;

    if (slot == NULL || slot->tmpl->id != tid) {
        slot = g_hash_table_lookup(d->templates, GUINT_TO_POINTER(tid));
        if (slot == NULL) {
            return NULL;
        }
        d->last_slot = slot;
    }
    if (!s->tcp && now - slot->last_seen > (double)s->owner->limits.template_lifetime) {
        COUNT(s, d, templates_expired, 1);
        g_hash_table_remove(d->templates, GUINT_TO_POINTER(tid));
        return NULL;
    }
    lru_touch(&s->owner->template_lru, slot, SLOT_ALL);
    lru_touch(&s->exporter->template_lru, slot, SLOT_MINE);
    return slot->tmpl;
}

/* Where a template comes from: its exporter, a file saved before a restart, or the HA peer. */
enum origin { FROM_EXPORTER, FROM_FILE, FROM_PEER };

/* Peer refresh times travel in whole seconds: within this much of ours they are ours. */
#define PEER_CLOCK_SLACK 1.5

static int
store_template(struct ixd_session *s, struct ixd_domain *d, struct ixd_template *t, double now,
               enum origin origin)
{
    struct ixd_template_slot *slot = g_hash_table_lookup(d->templates, GUINT_TO_POINTER(t->id));
    size_t bytes = TEMPLATE_OVERHEAD + (size_t)t->field_count * FIELD_BYTES;

    if (slot != NULL) {
        int same = ixd_template_same(slot->tmpl, t);
        /* what this worker heard from the exporter more recently stays, as it is */
        if (origin == FROM_PEER &&
            (now <= slot->last_seen ||
             (!slot->from_peer && now <= slot->last_seen + PEER_CLOCK_SLACK))) {
            ixd_template_free(t);
            return 0;
        }
        slot->last_seen = now;
        slot->from_peer = origin == FROM_PEER;
        lru_touch(&s->owner->template_lru, slot, SLOT_ALL);
        lru_touch(&s->exporter->template_lru, slot, SLOT_MINE);
        if (same) {
            ixd_template_free(t); /* a refresh: keep the compiled one, no churn */
            s->owner->ha.refreshes += origin == FROM_EXPORTER;
            return 1;
        }
        s->owner->ha.changes += origin != FROM_PEER;
        /* UDP and TCP alike: the newest definition wins (docs/internals/templates.md) */
        COUNT(s, d, templates_replaced, 1);
        s->owner->template_bytes += bytes - slot->bytes;
        slot->bytes = bytes;
        ixd_template_free(slot->tmpl);
        slot->tmpl = t;
        /* a record of the old layout means nothing under the new one */
        free(slot->options_record);
        slot->options_record = NULL;
        slot->options_length = 0;
        return 1;
    }
    slot = template_room(s, d, bytes) == 0 ? calloc(1, sizeof(*slot)) : NULL;
    if (slot == NULL) {
        ixd_template_free(t);
        return 0;
    }
    slot->tmpl = t;
    slot->last_seen = now;
    slot->from_peer = origin == FROM_PEER;
    slot->bytes = bytes;
    slot->session = s;
    s->owner->ha.changes += origin != FROM_PEER;
    slot->domain = d;
    lru_append(&s->owner->template_lru, slot, SLOT_ALL);
    lru_append(&s->exporter->template_lru, slot, SLOT_MINE);
    s->owner->templates++;
    s->owner->template_bytes += bytes;
    s->exporter->templates++;
    s->templates++;
    g_hash_table_insert(d->templates, GUINT_TO_POINTER(t->id), slot);
    return 1;
}

int
ixd_domain_set_template(struct ixd_session *s, struct ixd_domain *d, struct ixd_template *t,
                        double now)
{
    uint16_t tid = t->id;

    if (store_template(s, d, t, now, FROM_EXPORTER) == 0) {
        return 0; /* refused by a limit: counted as template_limit, not as a template */
    }
    COUNT(s, d, templates, 1);
    if (d->withdrawn != NULL) {
        g_hash_table_remove(d->withdrawn, GUINT_TO_POINTER(tid));
    }
    return 1;
}

int
ixd_domain_withdrawn(const struct ixd_domain *d, uint16_t tid)
{
    return d->withdrawn != NULL && g_hash_table_contains(d->withdrawn, GUINT_TO_POINTER(tid));
}

int
ixd_domain_restore_template(struct ixd_session *s, struct ixd_domain *d, struct ixd_template *t,
                            double refreshed)
{
    return store_template(s, d, t, refreshed, FROM_FILE);
}

int
ixd_domain_peer_template(struct ixd_session *s, struct ixd_domain *d, struct ixd_template *t,
                         double refreshed)
{
    return store_template(s, d, t, refreshed, FROM_PEER);
}

void
ixd_domain_withdraw(struct ixd_session *s, struct ixd_domain *d, uint16_t tid)
{
    if (g_hash_table_remove(d->templates, GUINT_TO_POINTER(tid))) {
        COUNT(s, d, templates_withdrawn, 1);
        /* data for it until it is defined again is an exporter error: not held */
        if (d->withdrawn == NULL) {
            d->withdrawn = g_hash_table_new(g_direct_hash, g_direct_equal);
        }
        if (g_hash_table_size(d->withdrawn) < 65536) {
            g_hash_table_add(d->withdrawn, GUINT_TO_POINTER(tid));
        }
    }
}

void
ixd_domain_withdraw_all(struct ixd_session *s, struct ixd_domain *d, int options)
{
    GHashTableIter it;
    gpointer v;

    g_hash_table_iter_init(&it, d->templates);
    while (g_hash_table_iter_next(&it, NULL, &v)) {
        const struct ixd_template_slot *slot = v;
        if ((slot->tmpl->scope_count > 0) == (options != 0)) {
            uint16_t tid = slot->tmpl->id;
            g_hash_table_iter_remove(&it);
            COUNT(s, d, templates_withdrawn, 1);
            if (d->withdrawn == NULL) {
                d->withdrawn = g_hash_table_new(g_direct_hash, g_direct_equal);
            }
            g_hash_table_add(d->withdrawn, GUINT_TO_POINTER(tid));
        }
    }
}

/* ---- exporters, sessions, domains */

static void
exporter_free(gpointer p)
{
    struct ixd_exporter *e = p;

    g_hash_table_destroy(e->domains);
    free(e->other_domains);
    free(e);
}

/*
 * An exporter whose last session went keeps its counters, but the number of such exporters is
 * bounded like sessions: a spoofed-source flood must not grow the table without end.
 */
static void
exporter_retire(struct ixd_sessions *ss, struct ixd_exporter *e)
{
    e->retired = 1;
    lru_append(&ss->retired, e, EXPORTER_RETIRED);
    ss->n_retired++;
    while (ss->n_retired > ss->limits.sessions_total) {
        struct ixd_exporter *old = ss->retired.head;
        lru_unlink(&ss->retired, old, EXPORTER_RETIRED);
        ss->n_retired--;
        g_hash_table_remove(ss->exporters, &old->addr);
    }
}

static void
domain_free(gpointer p)
{
    struct ixd_domain *d = p;

    if (d->withdrawn != NULL) {
        g_hash_table_destroy(d->withdrawn);
    }
    g_hash_table_destroy(d->templates);
    free(d);
}

void
ixd_sessions_init(struct ixd_sessions *ss, const char *collector, int tcp,
                  const struct ixd_template_rules *rules, const struct ixd_session_limits *limits)
{
    memset(ss, 0, sizeof(*ss));
    snprintf(ss->collector, sizeof(ss->collector), "%s", collector);
    ss->tcp = tcp;
    ss->clock_offsets = 1;
    ss->limits = *limits;
    ss->rules = *rules;
    ss->udp = g_hash_table_new_full(udp_key_hash, udp_key_equal, free, NULL);
    ss->exporters = g_hash_table_new_full(addr_hash, addr_equal, NULL, exporter_free);
}

void
ixd_sessions_deliver_to(struct ixd_sessions *ss,
                        void (*deliver)(void *arg, const struct ixd_batch *batch),
                        void (*on_template)(void *arg, const struct ixd_template *tmpl,
                                            const struct ixd_source *source),
                        void *arg)
{
    ss->deliver = deliver;
    ss->on_template = on_template;
    ss->deliver_arg = arg;
}

void
ixd_sessions_release(struct ixd_sessions *ss)
{
    GHashTableIter it;
    gpointer v;

    if (ss->udp == NULL) {
        return;
    }
    g_hash_table_iter_init(&it, ss->udp);
    while (g_hash_table_iter_next(&it, NULL, &v)) {
        struct ixd_session *s = v;
        s->key = NULL;
        g_hash_table_iter_remove(&it); /* frees the key; the session is ours */
        ixd_session_free(s);
    }
    g_hash_table_destroy(ss->udp);
    g_hash_table_destroy(ss->exporters);
    ss->last_udp = NULL;
    ss->udp = NULL;
    ss->exporters = NULL;
}

static struct ixd_exporter *
exporter_get(struct ixd_sessions *ss, const struct in6_addr *addr, double now)
{
    struct ixd_exporter *e = g_hash_table_lookup(ss->exporters, addr);

    if (e == NULL) {
        e = calloc(1, sizeof(*e));
        if (e == NULL) {
            return NULL;
        }
        e->addr = *addr;
        e->domains = g_hash_table_new_full(g_direct_hash, g_direct_equal, NULL, free);
        if (IN6_IS_ADDR_V4MAPPED(addr)) {
            inet_ntop(AF_INET, &addr->s6_addr[12], e->text, sizeof(e->text));
        } else {
            inet_ntop(AF_INET6, addr, e->text, sizeof(e->text));
        }
        g_hash_table_insert(ss->exporters, &e->addr, e);
    }
    if (e->retired) {
        lru_unlink(&ss->retired, e, EXPORTER_RETIRED);
        ss->n_retired--;
        e->retired = 0;
    }
    e->last_seen = now;
    return e;
}

static void
fill_source(struct ixd_session *s, const struct in6_addr *addr, uint16_t port)
{
    s->source.collector = s->owner->collector;
    s->source.exporter_port = port;
    memcpy(s->source.exporter_text, s->exporter->text, sizeof(s->source.exporter_text));
    if (IN6_IS_ADDR_V4MAPPED(addr)) {
        struct sockaddr_in *sin = (struct sockaddr_in *)&s->source.exporter;
        sin->sin_family = AF_INET;
        memcpy(&sin->sin_addr, &addr->s6_addr[12], 4);
        sin->sin_port = htons(port);
    } else {
        struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&s->source.exporter;
        sin6->sin6_family = AF_INET6;
        sin6->sin6_addr = *addr;
        sin6->sin6_port = htons(port);
    }
}

static struct ixd_session *
session_new(struct ixd_sessions *ss, const struct in6_addr *addr, uint16_t port, int tcp,
            double now)
{
    struct ixd_exporter *e = exporter_get(ss, addr, now);
    struct ixd_session *s = e != NULL ? calloc(1, sizeof(*s)) : NULL;

    if (s == NULL) {
        return NULL;
    }
    s->owner = ss;
    s->exporter = e;
    s->tcp = tcp;
    s->last_seen = now;
    s->domains = g_hash_table_new_full(g_direct_hash, g_direct_equal, NULL, domain_free);
    fill_source(s, addr, port);
    e->sessions++;
    return s;
}

/* Removes a UDP session from the table and frees it; `why` is counted when set. */
static void
udp_session_drop(struct ixd_session *s, int evicted)
{
    if (evicted) {
        COUNT(s, NULL, sessions_evicted, 1);
    }
    g_hash_table_remove(s->owner->udp, s->key); /* frees the key */
    s->key = NULL;
    ixd_session_free(s);
}

struct ixd_session *
ixd_session_udp(struct ixd_sessions *ss, const struct sockaddr *from, double now)
{
    struct udp_key key, *k;
    struct ixd_session *s;
    struct ixd_exporter *e;

    memset(&key, 0, sizeof(key));
    ixd_address_mapped(from, &key.addr, &key.port);
    s = ss->last_udp;
    if (s == NULL || !udp_key_equal(&key, s->key)) {
        s = g_hash_table_lookup(ss->udp, &key);
    }
    if (s != NULL) {
        ss->last_udp = s;
        s->last_seen = now;
        s->exporter->last_seen = now;
        lru_touch(&ss->session_lru, s, SESSION_ALL);
        lru_touch(&s->exporter->session_lru, s, SESSION_MINE);
        return s;
    }
    /* a new port of a known address beyond its share pushes out that address's oldest */
    e = g_hash_table_lookup(ss->exporters, &key.addr);
    while (e != NULL && e->session_lru.head != NULL && g_hash_table_size(ss->udp) > 0 &&
           e->sessions >= ss->limits.sessions_per_exporter) {
        udp_session_drop(e->session_lru.head, 1);
    }
    while (g_hash_table_size(ss->udp) >= ss->limits.sessions_total && ss->session_lru.head) {
        udp_session_drop(ss->session_lru.head, 1);
    }
    k = malloc(sizeof(*k));
    s = k != NULL ? session_new(ss, &key.addr, key.port, 0, now) : NULL;
    if (s == NULL) {
        free(k);
        return NULL;
    }
    *k = key;
    s->key = k;
    lru_append(&ss->session_lru, s, SESSION_ALL);
    lru_append(&s->exporter->session_lru, s, SESSION_MINE);
    g_hash_table_insert(ss->udp, k, s);
    ss->last_udp = s;
    return s;
}

struct ixd_session *
ixd_session_tcp(struct ixd_sessions *ss, const struct sockaddr *from, double now)
{
    struct in6_addr addr;
    uint16_t port;

    ixd_address_mapped(from, &addr, &port);
    return session_new(ss, &addr, port, 1, now);
}

void
ixd_session_free(struct ixd_session *s)
{
    if (s == NULL) {
        return;
    }
    ixd_session_drop_held(s);
    if (s->owner->last_udp == s) {
        s->owner->last_udp = NULL;
    }
    if (!s->tcp) {
        lru_unlink(&s->owner->session_lru, s, SESSION_ALL);
        lru_unlink(&s->exporter->session_lru, s, SESSION_MINE);
    }
    g_hash_table_destroy(s->domains);
    if (--s->exporter->sessions == 0 && s->owner->exporters != NULL) {
        exporter_retire(s->owner, s->exporter);
    }
    free(s->tls_subject);
    free(s);
}

int
ixd_session_set_tls_subject(struct ixd_session *s, const char *subject)
{
    char *copy = NULL;

    if (subject != NULL && subject[0] == '\0') {
        subject = NULL;
    }
    if (subject == NULL ? s->tls_subject == NULL
                        : s->tls_subject != NULL && strcmp(subject, s->tls_subject) == 0) {
        return 0;
    }
    if (subject != NULL && (copy = strdup(subject)) == NULL) {
        return -1;
    }
    /* data held for its template leaves with the source it will be written with */
    for (struct ixd_held *h = s->held; h != NULL; h = h->next) {
        h->source.tls_subject = copy;
    }
    free(s->tls_subject);
    s->tls_subject = copy;
    s->source.tls_subject = copy;
    return 0;
}

static uint32_t
domain_sampling_of(const struct ixd_resolver *r, const struct ixd_record *rec)
{
    return ixd_sampling_rate(
        (const struct ixd_domain *)((const char *)r - offsetof(struct ixd_domain, resolver)), rec);
}

void
ixd_domain_keep_options(struct ixd_session *s, struct ixd_domain *d, uint16_t tid,
                        const uint8_t *rec, size_t len, int64_t usec)
{
    struct ixd_template_slot *slot = g_hash_table_lookup(d->templates, GUINT_TO_POINTER(tid));
    uint8_t *copy;

    if (slot == NULL || slot->tmpl->scope_count == 0 || len > IXD_OPTIONS_KEEP_MAX) {
        return;
    }
    if (len != slot->options_length) {
        copy = realloc(slot->options_record, len);
        if (copy == NULL) {
            return; /* the previous record stays */
        }
        s->owner->template_bytes += len - slot->options_length;
        slot->bytes += len - slot->options_length;
        slot->options_record = copy;
        slot->options_length = (uint16_t)len;
    }
    memcpy(slot->options_record, rec, len);
    slot->options_usec = usec;
}

/*
 * Structured data names templates of its own domain. The lookup neither refreshes nor counts:
 * formatting a record is not a use of the templates it refers to.
 */
static const struct ixd_template *
domain_template_of(const struct ixd_resolver *r, uint16_t tid)
{
    const struct ixd_domain *d =
        (const struct ixd_domain *)((const char *)r - offsetof(struct ixd_domain, resolver));
    struct ixd_template_slot *slot = g_hash_table_lookup(d->templates, GUINT_TO_POINTER(tid));

    return slot != NULL ? slot->tmpl : NULL;
}

static const struct ixd_ie *
domain_element_of(const struct ixd_resolver *r, uint32_t pen, uint16_t id)
{
    const struct ixd_domain *d =
        (const struct ixd_domain *)((const char *)r - offsetof(struct ixd_domain, resolver));
    const struct ixd_ie_registry *reg = d->session->owner->rules.registry;

    return reg != NULL ? ixd_ie_lookup(reg, pen, id) : NULL;
}

struct ixd_domain *
ixd_session_domain(struct ixd_session *s, uint32_t odid)
{
    struct ixd_domain *d = s->last_domain;
    struct ixd_domain_counters *dc;

    if (d != NULL && d->odid == odid) {
        return d;
    }
    d = g_hash_table_lookup(s->domains, GUINT_TO_POINTER(odid));
    if (d != NULL) {
        s->last_domain = d;
        return d;
    }
    if (g_hash_table_size(s->domains) >= s->owner->limits.domains_per_session) {
        COUNT(s, NULL, errors[IXD_ERR_DOMAIN_LIMIT], 1);
        return NULL;
    }
    dc = g_hash_table_lookup(s->exporter->domains, GUINT_TO_POINTER(odid));
    if (dc == NULL &&
        g_hash_table_size(s->exporter->domains) >= s->owner->limits.domains_per_session) {
        /* an exporter cycling through odids shares one "other" bucket past the limit */
        if (s->exporter->other_domains == NULL) {
            s->exporter->other_domains = calloc(1, sizeof(*dc));
            if (s->exporter->other_domains == NULL) {
                COUNT(s, NULL, errors[IXD_ERR_NO_MEMORY], 1);
                return NULL;
            }
            s->exporter->other_domains->odid = IXD_ODID_OTHER;
        }
        dc = s->exporter->other_domains;
    }
    if (dc == NULL) {
        dc = calloc(1, sizeof(*dc));
        if (dc == NULL) {
            COUNT(s, NULL, errors[IXD_ERR_NO_MEMORY], 1);
            return NULL;
        }
        dc->odid = odid;
        g_hash_table_insert(s->exporter->domains, GUINT_TO_POINTER(odid), dc);
    }
    d = calloc(1, sizeof(*d));
    if (d == NULL) {
        COUNT(s, NULL, errors[IXD_ERR_NO_MEMORY], 1);
        return NULL;
    }
    d->counters = &dc->c;
    d->odid = odid;
    d->session = s;
    d->resolver.template_of = domain_template_of;
    d->resolver.element_of = domain_element_of;
    d->resolver.sampling_of = domain_sampling_of;
    d->templates = g_hash_table_new_full(g_direct_hash, g_direct_equal, NULL, slot_free);
    g_hash_table_insert(s->domains, GUINT_TO_POINTER(odid), d);
    return d;
}

/*
 * A late message [seq, seq + records): the part of it inside a remembered gap was counted lost
 * when the gap appeared and is taken back; a duplicate, which fills no gap, takes nothing back.
 */
static uint32_t
fill_gap(struct ixd_domain *d, uint32_t seq, uint32_t records)
{
    unsigned i;

    for (i = 0; i < IXD_SEQ_GAPS; i++) {
        struct ixd_seq_gap *g = &d->gaps[i];
        uint32_t off = seq - g->start;

        if (g->length == 0 || off >= g->length || records > g->length - off) {
            continue;
        }
        if (off == 0) {
            g->start += records;
            g->length -= records;
        } else if (off + records == g->length) {
            g->length -= records;
        } else {
            /* the middle of a gap: keep its head here, its tail in the oldest slot */
            struct ixd_seq_gap *t = &d->gaps[d->gap_next];
            d->gap_next = (d->gap_next + 1) % IXD_SEQ_GAPS;
            if (t != g) {
                t->start = seq + records;
                t->length = g->length - off - records;
            }
            g->length = off;
        }
        return records;
    }
    return 0;
}

void
ixd_domain_sequence(struct ixd_session *s, struct ixd_domain *d, uint32_t seq, uint32_t records,
                    int complete)
{
    if (d->seq_valid) {
        int32_t diff = (int32_t)(seq - d->seq_next);

        if (diff > 0 && (uint32_t)diff <= IXD_SEQ_JUMP_MAX) {
            struct ixd_seq_gap *g = &d->gaps[d->gap_next];
            COUNT(s, d, seq_lost, (uint64_t)diff);
            g->start = d->seq_next;
            g->length = (uint32_t)diff;
            d->gap_next = (d->gap_next + 1) % IXD_SEQ_GAPS;
        } else if (diff < 0 && (uint32_t) - (int64_t)diff <= IXD_SEQ_REORDER_WINDOW) {
            uint32_t found = records > 0 ? fill_gap(d, seq, records) : 0;
            COUNT(s, d, seq_reordered, 1);
            if (found > 0) {
                COUNT(s, d, seq_lost, -(uint64_t)found);
            }
            return;
        } else if (diff != 0) {
            COUNT(s, d, seq_resets, 1);
        }
    }
    d->seq_next = seq + records;
    d->seq_valid = complete;
    d->seq_from_peer = 0;
    d->seq_time = s->last_seen; /* this message's arrival (ixd_session_udp) */
    s->owner->ha.sequences++;
}

int
ixd_domain_peer_sequence(struct ixd_domain *d, uint32_t next, double when)
{
    if (d->seq_valid && when <= d->seq_time) {
        return 0;
    }
    d->seq_next = next;
    d->seq_valid = 1;
    d->seq_from_peer = 1;
    d->seq_time = when;
    memset(d->gaps, 0, sizeof(d->gaps)); /* gaps of another host's count are not ours to fill */
    return 1;
}

static unsigned
expire_templates(struct ixd_session *s, double now)
{
    GHashTableIter dit, tit;
    gpointer dv, tv;
    unsigned expired = 0;

    g_hash_table_iter_init(&dit, s->domains);
    while (g_hash_table_iter_next(&dit, NULL, &dv)) {
        struct ixd_domain *d = dv;
        g_hash_table_iter_init(&tit, d->templates);
        while (g_hash_table_iter_next(&tit, NULL, &tv)) {
            const struct ixd_template_slot *slot = tv;
            if (now - slot->last_seen > (double)s->owner->limits.template_lifetime) {
                COUNT(s, d, templates_expired, 1);
                g_hash_table_iter_remove(&tit);
                expired++;
            }
        }
    }
    return expired;
}

unsigned
ixd_sessions_expire(struct ixd_sessions *ss, double now)
{
    struct ixd_session *s, *next;
    unsigned expired = 0;

    /* TCP sessions are not in this list: their templates never expire, and their worker
     * expires their held sets */
    for (s = ss->session_lru.head; s != NULL; s = next) {
        next = s->all.next;
        expired += expire_templates(s, now);
        ixd_session_expire_held(s, now);
        /* a source that never sent a valid message goes sooner than one that did */
        if (s->templates == 0 && s->held == NULL &&
            (now - s->last_seen > (double)ss->limits.template_lifetime ||
             (g_hash_table_size(s->domains) == 0 && now - s->last_seen > 60))) {
            udp_session_drop(s, 0);
        }
    }
    return expired;
}

struct ixd_domain *
ixd_sessions_saved_domain(struct ixd_sessions *ss, const struct in6_addr *addr, uint16_t port,
                          uint32_t odid, double now, struct ixd_session **s_out)
{
    struct sockaddr_in6 sin6;
    struct ixd_session *s;

    memset(&sin6, 0, sizeof(sin6));
    sin6.sin6_family = AF_INET6;
    sin6.sin6_addr = *addr;
    sin6.sin6_port = htons(port);
    s = ixd_session_udp(ss, (const struct sockaddr *)&sin6, now);
    if (s_out != NULL) {
        *s_out = s;
    }
    return s != NULL ? ixd_session_domain(s, odid) : NULL;
}
