#include "ipfix/session.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"

/* UDP session key: exporter address (IPv4 mapped into IPv6) and port */
struct udp_key {
    struct in6_addr addr;
    uint16_t port;
};

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

static void
slot_free(gpointer p)
{
    struct ixd_template_slot *slot = p;

    ixd_template_free(slot->tmpl);
    free(slot);
}

static void
exporter_free(gpointer p)
{
    struct ixd_exporter *e = p;

    g_hash_table_destroy(e->domains);
    free(e);
}

static void
domain_free(gpointer p)
{
    struct ixd_domain *d = p;

    g_hash_table_destroy(d->templates);
    free(d);
}

/* Both the session's domain and its exporter and collector see every count. */
#define COUNT(s, d, field, n)                                                                      \
    do {                                                                                           \
        if ((d) != NULL) {                                                                         \
            IXD_CNT_ADD((d)->counters->field, (n));                                                \
        }                                                                                          \
        IXD_CNT_ADD((s)->exporter->counters.field, (n));                                           \
        IXD_CNT_ADD((s)->owner->counters.field, (n));                                              \
    } while (0)

void
ixd_count_error(struct ixd_session *s, struct ixd_domain *d, enum ixd_error e)
{
    COUNT(s, d, errors[e], 1);
}

void
ixd_sessions_init(struct ixd_sessions *ss, const char *collector, int tcp,
                  uint32_t template_lifetime, const struct ixd_template_rules *rules,
                  uint32_t templates_per_domain)
{
    memset(ss, 0, sizeof(*ss));
    snprintf(ss->collector, sizeof(ss->collector), "%s", collector);
    ss->tcp = tcp;
    ss->template_lifetime = template_lifetime;
    ss->templates_per_domain = templates_per_domain;
    ss->rules = *rules;
    ss->udp = g_hash_table_new_full(udp_key_hash, udp_key_equal, free, NULL);
    ss->exporters = g_hash_table_new_full(addr_hash, addr_equal, NULL, exporter_free);
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
        g_hash_table_iter_remove(&it); /* frees the key; the session is ours */
        ixd_session_free(v);
    }
    g_hash_table_destroy(ss->udp);
    g_hash_table_destroy(ss->exporters);
    ss->udp = NULL;
    ss->exporters = NULL;
}

/* Normalises an address to IPv4-mapped IPv6 and its port. */
static void
address_of(const struct sockaddr *sa, struct in6_addr *addr, uint16_t *port)
{
    memset(addr, 0, sizeof(*addr));
    if (sa->sa_family == AF_INET) {
        const struct sockaddr_in *sin = (const struct sockaddr_in *)(const void *)sa;
        addr->s6_addr[10] = 0xff;
        addr->s6_addr[11] = 0xff;
        memcpy(&addr->s6_addr[12], &sin->sin_addr, 4);
        *port = ntohs(sin->sin_port);
    } else {
        const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)(const void *)sa;
        *addr = sin6->sin6_addr;
        *port = ntohs(sin6->sin6_port);
    }
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
    e->last_seen = now;
    return e;
}

static struct ixd_session *
session_new(struct ixd_sessions *ss, const struct in6_addr *addr, uint16_t port, int tcp,
            double now)
{
    struct ixd_session *s;
    struct ixd_exporter *e = exporter_get(ss, addr, now);

    s = e != NULL ? calloc(1, sizeof(*s)) : NULL;
    if (s == NULL) {
        return NULL;
    }
    s->owner = ss;
    s->exporter = e;
    s->tcp = tcp;
    s->last_seen = now;
    s->domains = g_hash_table_new_full(g_direct_hash, g_direct_equal, NULL, domain_free);
    s->source.collector = ss->collector;
    s->source.exporter_port = port;
    memcpy(s->source.exporter_text, e->text, sizeof(s->source.exporter_text));
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
    e->sessions++;
    return s;
}

struct ixd_session *
ixd_session_udp(struct ixd_sessions *ss, const struct sockaddr *from, double now)
{
    struct udp_key key, *k;
    struct ixd_session *s;

    memset(&key, 0, sizeof(key));
    address_of(from, &key.addr, &key.port);
    s = g_hash_table_lookup(ss->udp, &key);
    if (s != NULL) {
        s->last_seen = now;
        s->exporter->last_seen = now;
        return s;
    }
    k = malloc(sizeof(*k));
    s = k != NULL ? session_new(ss, &key.addr, key.port, 0, now) : NULL;
    if (s == NULL) {
        free(k);
        return NULL;
    }
    *k = key;
    g_hash_table_insert(ss->udp, k, s);
    return s;
}

struct ixd_session *
ixd_session_tcp(struct ixd_sessions *ss, const struct sockaddr *from, double now)
{
    struct in6_addr addr;
    uint16_t port;

    address_of(from, &addr, &port);
    return session_new(ss, &addr, port, 1, now);
}

void
ixd_session_free(struct ixd_session *s)
{
    if (s == NULL) {
        return;
    }
    s->exporter->sessions--;
    g_hash_table_destroy(s->domains);
    free(s);
}

struct ixd_domain *
ixd_session_domain(struct ixd_session *s, uint32_t odid)
{
    struct ixd_domain *d = g_hash_table_lookup(s->domains, GUINT_TO_POINTER(odid));

    if (d == NULL) {
        struct ixd_domain_counters *dc =
            g_hash_table_lookup(s->exporter->domains, GUINT_TO_POINTER(odid));
        if (dc == NULL) {
            dc = calloc(1, sizeof(*dc));
            if (dc == NULL) {
                return NULL;
            }
            dc->odid = odid;
            g_hash_table_insert(s->exporter->domains, GUINT_TO_POINTER(odid), dc);
        }
        d = calloc(1, sizeof(*d));
        if (d == NULL) {
            return NULL;
        }
        d->counters = &dc->c;
        d->odid = odid;
        d->templates = g_hash_table_new_full(g_direct_hash, g_direct_equal, NULL, slot_free);
        g_hash_table_insert(s->domains, GUINT_TO_POINTER(odid), d);
    }
    return d;
}

const struct ixd_template *
ixd_domain_template(struct ixd_session *s, struct ixd_domain *d, uint16_t tid, double now)
{
    struct ixd_template_slot *slot = g_hash_table_lookup(d->templates, GUINT_TO_POINTER(tid));

    if (slot == NULL) {
        return NULL;
    }
    if (!s->tcp && now - slot->last_seen > (double)s->owner->template_lifetime) {
        COUNT(s, d, templates_expired, 1);
        g_hash_table_remove(d->templates, GUINT_TO_POINTER(tid));
        return NULL;
    }
    return slot->tmpl;
}

void
ixd_domain_set_template(struct ixd_session *s, struct ixd_domain *d, struct ixd_template *t,
                        double now)
{
    struct ixd_template_slot *slot = g_hash_table_lookup(d->templates, GUINT_TO_POINTER(t->id));

    COUNT(s, d, templates, 1);
    if (slot != NULL) {
        slot->last_seen = now;
        if (ixd_template_same(slot->tmpl, t)) {
            ixd_template_free(t); /* a refresh: keep the compiled one, no churn */
            return;
        }
        /* UDP and TCP alike: the newest definition wins (docs/internals/templates.md) */
        COUNT(s, d, templates_replaced, 1);
        ixd_template_free(slot->tmpl);
        slot->tmpl = t;
        return;
    }
    if (g_hash_table_size(d->templates) >= s->owner->templates_per_domain) {
        COUNT(s, d, errors[IXD_ERR_TEMPLATE_LIMIT], 1);
        ixd_template_free(t);
        return;
    }
    slot = malloc(sizeof(*slot));
    if (slot == NULL) {
        COUNT(s, d, errors[IXD_ERR_NO_MEMORY], 1);
        ixd_template_free(t);
        return;
    }
    slot->tmpl = t;
    slot->last_seen = now;
    g_hash_table_insert(d->templates, GUINT_TO_POINTER(t->id), slot);
}

void
ixd_domain_withdraw(struct ixd_session *s, struct ixd_domain *d, uint16_t tid)
{
    if (g_hash_table_remove(d->templates, GUINT_TO_POINTER(tid))) {
        COUNT(s, d, templates_withdrawn, 1);
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
            g_hash_table_iter_remove(&it);
            COUNT(s, d, templates_withdrawn, 1);
        }
    }
}

void
ixd_domain_sequence(struct ixd_session *s, struct ixd_domain *d, uint32_t seq, uint32_t records,
                    int complete)
{
    if (d->seq_valid) {
        int32_t diff = (int32_t)(seq - d->seq_next);

        if (diff > 0 && (uint32_t)diff <= IXD_SEQ_JUMP_MAX) {
            COUNT(s, d, seq_lost, (uint64_t)diff);
        } else if (diff < 0 && (uint32_t) - (int64_t)diff <= IXD_SEQ_REORDER_WINDOW) {
            /* a late message: its records were counted lost when the gap appeared */
            COUNT(s, d, seq_reordered, 1);
            if (d->counters->seq_lost >= records) {
                COUNT(s, d, seq_lost, -(uint64_t)records);
            }
            return;
        } else if (diff != 0) {
            COUNT(s, d, seq_resets, 1);
        }
    }
    d->seq_next = seq + records;
    d->seq_valid = complete;
}

unsigned
ixd_sessions_expire(struct ixd_sessions *ss, double now)
{
    GHashTableIter sit, dit, tit;
    gpointer sv, dv, tv;
    unsigned expired = 0;

    if (ss->tcp) {
        return 0;
    }
    g_hash_table_iter_init(&sit, ss->udp);
    while (g_hash_table_iter_next(&sit, NULL, &sv)) {
        struct ixd_session *s = sv;
        unsigned live = 0;

        g_hash_table_iter_init(&dit, s->domains);
        while (g_hash_table_iter_next(&dit, NULL, &dv)) {
            struct ixd_domain *d = dv;
            g_hash_table_iter_init(&tit, d->templates);
            while (g_hash_table_iter_next(&tit, NULL, &tv)) {
                const struct ixd_template_slot *slot = tv;
                if (now - slot->last_seen > (double)ss->template_lifetime) {
                    g_hash_table_iter_remove(&tit);
                    COUNT(s, d, templates_expired, 1);
                    expired++;
                }
            }
            live += g_hash_table_size(d->templates);
        }
        /* a source that never sent a valid message goes sooner than one that did */
        if (live == 0 && (now - s->last_seen > (double)ss->template_lifetime ||
                          (g_hash_table_size(s->domains) == 0 && now - s->last_seen > 60))) {
            g_hash_table_iter_remove(&sit);
            ixd_session_free(s);
        }
    }
    return expired;
}
