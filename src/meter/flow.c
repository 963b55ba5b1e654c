/*
 * The biflow table (flow.h). Flows live in chunks of up to CHUNK slots, addressed by index + 1 so
 * that 0 means none; an open-addressing hash table of (hash, index) slots, doubled to stay at
 * most half full; two
 * lists by last packet time (active flows, and TCP flows closing), so that the timeouts only
 * ever look at a list's head. Later IP fragments carry no ports: a small direct-mapped cache
 * remembers the ports of each first fragment by (addresses, protocol, identification).
 */
#include "meter/flow.h"

#include <stdlib.h>
#include <string.h>

#include "core/huge.h"
#include "core/relaxed_counter.h"

_Static_assert(sizeof(struct ixd_flow) == 128, "a flow stays 128 bytes");

/* 2 MiB of flows: a chunk is one huge page where the kernel gives them; a table of fewer flows
 * has chunks of its own size */
#define CHUNK_SHIFT 14
#define CHUNK (1u << CHUNK_SHIFT)
#define MIN_BUCKETS 1024
#define FRAG_SLOTS 4096
#define FRAG_TTL_MS 30000

#define TCP_FIN 0x01
#define TCP_SYN 0x02
#define TCP_RST 0x04
#define TCP_ACK 0x10

struct list {
    uint32_t head, tail;
};

/* A slot of the hash table: the flow's full hash beside its index, so that probing, deleting
 * and growing read the slots alone and touch a flow only when its hash matches. */
struct slot {
    uint32_t hash;
    uint32_t idx; /* index + 1; 0: empty */
};

struct frag {
    uint8_t src[16], dst[16];
    uint32_t id;
    uint16_t sport, dport;
    uint8_t proto, ipver, used;
    uint64_t ms;
};

struct ixd_flow_table {
    struct ixd_flow_limits l;
    ixd_flow_end_fn end;
    void *arg;
    struct ixd_flow **chunks;
    size_t n_chunks;
    unsigned shift;     /* flows per chunk: 1 << shift */
    uint32_t used;      /* slots ever handed out */
    uint32_t free;      /* free list head (index + 1) */
    struct slot *slots; /* open addressing, at most half full */
    uint32_t mask;
    struct list active, closing;
    struct frag *frags;
    struct ixd_flow_counters *c; /* the caller's */
};

static struct ixd_flow *
at(const struct ixd_flow_table *t, uint32_t i)
{
    return &t->chunks[(i - 1) >> t->shift][(i - 1) & ((1u << t->shift) - 1)];
}

static uint64_t
last_ms(const struct ixd_flow *f)
{
    return f->first_ms + f->last_off_ms;
}

static void
list_unlink(struct ixd_flow_table *t, struct list *l, uint32_t i)
{
    struct ixd_flow *f = at(t, i);

    if (f->prev != 0) {
        at(t, f->prev)->next = f->next;
    } else {
        l->head = f->next;
    }
    if (f->next != 0) {
        at(t, f->next)->prev = f->prev;
    } else {
        l->tail = f->prev;
    }
    f->prev = f->next = 0;
}

static void
list_append(struct ixd_flow_table *t, struct list *l, uint32_t i)
{
    struct ixd_flow *f = at(t, i);

    f->prev = l->tail;
    f->next = 0;
    if (l->tail != 0) {
        at(t, l->tail)->next = i;
    } else {
        l->head = i;
    }
    l->tail = i;
}

/*
 * ICMP: the key holds the type and code (in dport), a request and its reply being one biflow:
 * the reply's type counts as its request's, and it may only go the other way. Other types
 * (unreachables, neighbour discovery) are flows of one direction, one per type and code.
 */
enum { ICMP_OTHER, ICMP_REQUEST, ICMP_REPLY };

static int
icmp(uint8_t proto)
{
    return proto == 1 || proto == 58;
}

/* The request's type and code for tc, and whether tc is a request, a reply or neither. */
static uint16_t
icmp_norm(uint8_t proto, uint16_t tc, int *role)
{
    static const uint8_t v4[][2] = {{8, 0}, {13, 14}, {15, 16}, {17, 18}};
    static const uint8_t v6[][2] = {{128, 129}, {139, 140}};
    const uint8_t(*pairs)[2] = proto == 1 ? v4 : v6;
    size_t n = proto == 1 ? 4 : 2, i;
    uint8_t type = (uint8_t)(tc >> 8);

    for (i = 0; i < n; i++) {
        if (type == pairs[i][0]) {
            *role = ICMP_REQUEST;
            return tc;
        }
        if (type == pairs[i][1]) {
            *role = ICMP_REPLY;
            return (uint16_t)(pairs[i][0] << 8 | (tc & 0xff));
        }
    }
    *role = ICMP_OTHER;
    return tc;
}

static uint64_t
mix(uint64_t h)
{
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdull;
    h ^= h >> 33;
    h *= 0xc4ceb9fe1a85ec53ull;
    h ^= h >> 33;
    return h;
}

/* One endpoint's hash: the sum of both is the same in either direction. */
static uint64_t
endpoint(const uint8_t *a, uint16_t port)
{
    uint64_t w0, w1;

    memcpy(&w0, a, 8);
    memcpy(&w1, a + 8, 8);
    return mix(w0 ^ mix(w1 ^ ((uint64_t)port << 1 | 1)));
}

static uint32_t
hash_of(const uint8_t *src, const uint8_t *dst, uint16_t sport, uint16_t dport, uint8_t proto,
        uint16_t vlan)
{
    if (icmp(proto)) {
        int role;
        uint64_t k = icmp_norm(proto, dport, &role);
        return (uint32_t)mix(endpoint(src, 0) + endpoint(dst, 0) +
                             (k << 24 | (uint64_t)proto << 16 | vlan));
    }
    return (uint32_t)mix(endpoint(src, sport) + endpoint(dst, dport) +
                         ((uint64_t)proto << 16 | vlan));
}

/* 0: the packet goes forward in f; 1: reverse; -1: not f's */
static int
match(const struct ixd_flow *f, const uint8_t *src, const uint8_t *dst, uint16_t sport,
      uint16_t dport, uint8_t proto, uint16_t vlan)
{
    if (f->proto != proto || f->vlan != vlan) {
        return -1;
    }
    if (icmp(proto)) {
        int frole, prole;

        if (icmp_norm(proto, f->dport, &frole) != icmp_norm(proto, dport, &prole)) {
            return -1;
        }
        if (frole == prole && memcmp(f->src, src, 16) == 0 && memcmp(f->dst, dst, 16) == 0) {
            return 0;
        }
        return frole != prole && frole != ICMP_OTHER && prole != ICMP_OTHER &&
                       memcmp(f->src, dst, 16) == 0 && memcmp(f->dst, src, 16) == 0
                   ? 1
                   : -1;
    }
    if (f->sport == sport && f->dport == dport && memcmp(f->src, src, 16) == 0 &&
        memcmp(f->dst, dst, 16) == 0) {
        return 0;
    }
    if (f->sport == dport && f->dport == sport && memcmp(f->src, dst, 16) == 0 &&
        memcmp(f->dst, src, 16) == 0) {
        return 1;
    }
    return -1;
}

static uint32_t
hash_of_flow(const struct ixd_flow *f)
{
    return hash_of(f->src, f->dst, f->sport, f->dport, f->proto, f->vlan);
}

static void
slot_put(struct slot *slots, uint32_t mask, uint32_t hash, uint32_t idx)
{
    uint32_t i = hash & mask;

    while (slots[i].idx != 0) {
        i = (i + 1) & mask;
    }
    slots[i].hash = hash;
    slots[i].idx = idx;
}

/* Removes flow idx of hash from the table, moving back the entries after it that would no
 * longer be found (linear probing without tombstones). */
static void
slot_remove(struct ixd_flow_table *t, uint32_t hash, uint32_t idx)
{
    uint32_t i = hash & t->mask, j;

    while (t->slots[i].idx != idx) {
        i = (i + 1) & t->mask;
    }
    for (j = (i + 1) & t->mask; t->slots[j].idx != 0; j = (j + 1) & t->mask) {
        uint32_t home = t->slots[j].hash & t->mask;
        /* the entry at j stays when its home lies cyclically in (i, j] */
        if (i <= j ? (i < home && home <= j) : (i < home || home <= j)) {
            continue;
        }
        t->slots[i] = t->slots[j];
        i = j;
    }
    t->slots[i].idx = 0;
}

static int
grow_slots(struct ixd_flow_table *t, uint32_t n)
{
    struct slot *s = ixd_huge_calloc((size_t)n * sizeof(*s)), *old = t->slots;
    uint32_t old_n = old != NULL ? t->mask + 1 : 0, i;

    if (s == NULL) {
        return -1;
    }
    for (i = 0; i < old_n; i++) {
        if (old[i].idx != 0) {
            slot_put(s, n - 1, old[i].hash, old[i].idx);
        }
    }
    t->slots = s;
    t->mask = n - 1;
    free(old);
    return 0;
}

struct ixd_flow_table *
ixd_flows_new(const struct ixd_flow_limits *l, struct ixd_flow_counters *c, ixd_flow_end_fn end,
              void *arg)
{
    struct ixd_flow_table *t = calloc(1, sizeof(*t));

    if (t == NULL) {
        return NULL;
    }
    t->l = *l;
    if (t->l.max_flows == 0) {
        t->l.max_flows = 1;
    }
    t->c = c;
    while (t->shift < CHUNK_SHIFT && (1u << t->shift) < t->l.max_flows) {
        t->shift++;
    }
    t->end = end;
    t->arg = arg;
    t->frags = calloc(FRAG_SLOTS, sizeof(*t->frags));
    if (t->frags == NULL || grow_slots(t, MIN_BUCKETS) == -1) {
        free(t->frags);
        free(t);
        return NULL;
    }
    return t;
}

/* Removes flow i from its bucket chain and list, ends it and frees its slot. */
static void
end_flow(struct ixd_flow_table *t, uint32_t i, enum ixd_flow_end reason)
{
    struct ixd_flow *f = at(t, i);

    slot_remove(t, hash_of_flow(f), i);
    list_unlink(t, (f->state & IXD_FLOW_CLOSING) ? &t->closing : &t->active, i);
    t->end(t->arg, f, reason);
    f->aux = NULL;
    f->state = 0;
    f->hnext = t->free;
    t->free = i;
    IXD_CNT_ADD(t->c->expired[reason], 1);
    IXD_CNT_ADD(t->c->active, -1);
}

void
ixd_flows_expire(struct ixd_flow_table *t, uint64_t now_ms)
{
    while (t->active.head != 0 && last_ms(at(t, t->active.head)) + t->l.idle_ms <= now_ms) {
        end_flow(t, t->active.head, IXD_FLOW_END_IDLE);
    }
    while (t->closing.head != 0 && last_ms(at(t, t->closing.head)) + t->l.linger_ms <= now_ms) {
        end_flow(t, t->closing.head, IXD_FLOW_END_EOF);
    }
}

/* Every flow ends: in memory order, chunk by chunk (the lists would visit them at random),
 * and the table is emptied as a whole; its chunks stay for the flows to come. */
void
ixd_flows_flush(struct ixd_flow_table *t)
{
    uint32_t i;

    for (i = 1; i <= t->used; i++) {
        struct ixd_flow *f = at(t, i);
        if (f->state & IXD_FLOW_USED) {
            t->end(t->arg, f, IXD_FLOW_END_FORCED);
            f->aux = NULL;
            f->state = 0;
            IXD_CNT_ADD(t->c->expired[IXD_FLOW_END_FORCED], 1);
            IXD_CNT_ADD(t->c->active, -1);
        }
    }
    memset(t->slots, 0, ((size_t)t->mask + 1) * sizeof(*t->slots));
    t->active = t->closing = (struct list){0, 0};
    t->used = 0;
    t->free = 0;
}

void
ixd_flows_free(struct ixd_flow_table *t)
{
    size_t i;

    if (t == NULL) {
        return;
    }
    ixd_flows_flush(t);
    for (i = 0; i < t->n_chunks; i++) {
        free(t->chunks[i]);
    }
    free(t->chunks);
    free(t->slots);
    free(t->frags);
    free(t);
}

/* A free slot (index), a new chunk when none is left; 0 when out of memory. */
static uint32_t
take_slot(struct ixd_flow_table *t)
{
    uint32_t i = t->free;

    if (i != 0) {
        t->free = at(t, i)->hnext;
        return i;
    }
    if ((t->used >> t->shift) >= t->n_chunks) {
        struct ixd_flow **c = realloc(t->chunks, (t->n_chunks + 1) * sizeof(*c));
        if (c == NULL) {
            return 0;
        }
        t->chunks = c;
        c[t->n_chunks] = ixd_huge_calloc(((size_t)1 << t->shift) * sizeof(struct ixd_flow));
        if (c[t->n_chunks] == NULL) {
            return 0;
        }
        t->n_chunks++;
    }
    return ++t->used;
}

static uint32_t
new_flow(struct ixd_flow_table *t, const struct ixd_pkt *p, uint16_t sport, uint16_t dport,
         uint64_t ms)
{
    uint32_t i, h;
    struct ixd_flow *f;

    if (t->c->active >= t->l.max_flows) {
        /* the least recently seen goes: a closing flow first, it has ended already */
        end_flow(t, t->closing.head != 0 ? t->closing.head : t->active.head,
                 IXD_FLOW_END_RESOURCES);
    }
    if (t->c->active + 1 > (uint64_t)(t->mask + 1) / 2) {
        if (t->mask >= (1u << 30) || grow_slots(t, (t->mask + 1) * 2) == -1) {
            return 0; /* never fuller than half: probing stays short */
        }
    }
    i = take_slot(t);
    if (i == 0) {
        return 0;
    }
    f = at(t, i);
    memset(f, 0, sizeof(*f));
    memcpy(f->src, p->src, 16);
    memcpy(f->dst, p->dst, 16);
    f->sport = sport;
    f->dport = dport;
    f->proto = p->proto;
    f->ipver = p->ipver;
    f->vlan = p->vlan;
    f->first_ms = ms;
    f->tos = p->tos;
    f->tunnel = p->tunnel;
    f->state = IXD_FLOW_USED;
    if (p->has_mac) {
        f->state |= IXD_FLOW_MAC;
        memcpy(f->smac, p->smac, 6);
        memcpy(f->dmac, p->dmac, 6);
    }
    if (p->has_vlan) {
        f->state |= IXD_FLOW_VLAN;
    }
    h = hash_of(f->src, f->dst, sport, dport, f->proto, f->vlan);
    slot_put(t->slots, t->mask, h, i);
    list_append(t, &t->active, i);
    IXD_CNT_ADD(t->c->created, 1);
    IXD_CNT_ADD(t->c->active, 1);
    return i;
}

static uint32_t
frag_slot(const struct ixd_pkt *p)
{
    uint64_t w0, w1;

    memcpy(&w0, p->src, 8);
    memcpy(&w1, p->dst, 8);
    return (uint32_t)mix(w0 ^ mix(w1 ^ p->frag_id ^ ((uint64_t)p->proto << 32))) % FRAG_SLOTS;
}

/* The ports of a packet: its own, or for a later fragment those of its first fragment. */
static void
ports_of(struct ixd_flow_table *t, const struct ixd_pkt *p, uint64_t ms, uint16_t *sport,
         uint16_t *dport)
{
    struct frag *s;

    *sport = p->sport;
    *dport = p->dport;
    if (p->fragment == 0) {
        return;
    }
    s = &t->frags[frag_slot(p)];
    if (p->fragment == 1) {
        memcpy(s->src, p->src, 16);
        memcpy(s->dst, p->dst, 16);
        s->id = p->frag_id;
        s->proto = p->proto;
        s->ipver = p->ipver;
        s->sport = p->sport;
        s->dport = p->dport;
        s->ms = ms;
        s->used = 1;
        return;
    }
    if (s->used && s->id == p->frag_id && s->proto == p->proto && s->ipver == p->ipver &&
        memcmp(s->src, p->src, 16) == 0 && memcmp(s->dst, p->dst, 16) == 0 &&
        ms < s->ms + FRAG_TTL_MS) {
        *sport = s->sport;
        *dport = s->dport;
        return;
    }
    IXD_CNT_ADD(t->c->fragments_unmatched, 1); /* metered with ports 0 */
}

static uint32_t
lookup(struct ixd_flow_table *t, const struct ixd_pkt *p, uint16_t sport, uint16_t dport,
       uint32_t h, int *dir)
{
    uint32_t i;

    for (i = h & t->mask; t->slots[i].idx != 0; i = (i + 1) & t->mask) {
        if (t->slots[i].hash != h) {
            continue;
        }
        *dir = match(at(t, t->slots[i].idx), p->src, p->dst, sport, dport, p->proto, p->vlan);
        if (*dir != -1) {
            return t->slots[i].idx;
        }
    }
    return 0;
}

/* Moves flow i to the end of its list; into the closing list once the TCP connection ended. */
static void
touch(struct ixd_flow_table *t, uint32_t i, const struct ixd_pkt *p, int dir)
{
    struct ixd_flow *f = at(t, i);
    uint8_t was = f->state & IXD_FLOW_CLOSING;

    if (f->proto == 6) {
        if (p->tcp_flags & TCP_FIN) {
            f->state |= dir == 0 ? IXD_FLOW_FIN_FWD : IXD_FLOW_FIN_REV;
        }
        if ((p->tcp_flags & TCP_RST) || (f->state & (IXD_FLOW_FIN_FWD | IXD_FLOW_FIN_REV)) ==
                                            (IXD_FLOW_FIN_FWD | IXD_FLOW_FIN_REV)) {
            f->state |= IXD_FLOW_CLOSING;
        }
    }
    list_unlink(t, was ? &t->closing : &t->active, i);
    list_append(t, (f->state & IXD_FLOW_CLOSING) ? &t->closing : &t->active, i);
}

static void
account(struct ixd_flow *f, const struct ixd_pkt *p, uint64_t ms, int dir)
{
    if (ms > last_ms(f)) {
        uint64_t off = ms - f->first_ms;
        f->last_off_ms = off > UINT32_MAX ? UINT32_MAX : (uint32_t)off;
    }
    if (f->packets[dir] == 0) {
        f->ttl_first[dir] = p->ttl;
        f->ttl_min[dir] = p->ttl;
    }
    f->ttl_min[dir] = p->ttl < f->ttl_min[dir] ? p->ttl : f->ttl_min[dir];
    f->ttl_max[dir] = p->ttl > f->ttl_max[dir] ? p->ttl : f->ttl_max[dir];
    f->packets[dir]++;
    f->octets[dir] += p->ip_bytes;
    f->tcp_flags[dir] |= p->tcp_flags;
}

/* ixd_flows_packet() once the packet's ports and hash are known */
static struct ixd_flow *
packet_hashed(struct ixd_flow_table *t, const struct ixd_pkt *p, uint64_t ms, uint16_t sport,
              uint16_t dport, uint32_t h, int *dir)
{
    uint32_t i;

    ixd_flows_expire(t, ms);
    i = lookup(t, p, sport, dport, h, dir);
    if (i != 0) {
        struct ixd_flow *f = at(t, i);
        int syn = p->proto == 6 && (p->tcp_flags & (TCP_SYN | TCP_ACK)) == TCP_SYN;
        /* a new connection on the ports of one that ended, or a flow past its active
         * timeout: the old one ends here and the packet starts the next */
        if ((syn && (f->state & IXD_FLOW_CLOSING)) || ms >= f->first_ms + t->l.active_ms) {
            end_flow(t, i,
                     syn && (f->state & IXD_FLOW_CLOSING) ? IXD_FLOW_END_EOF : IXD_FLOW_END_ACTIVE);
            i = 0;
        }
    }
    if (i == 0) {
        i = new_flow(t, p, sport, dport, ms);
        *dir = 0;
        if (i == 0) {
            IXD_CNT_ADD(t->c->no_memory, 1);
            return NULL;
        }
    }
    account(at(t, i), p, ms, *dir);
    touch(t, i, p, *dir);
    return at(t, i);
}

struct ixd_flow *
ixd_flows_packet(struct ixd_flow_table *t, const struct ixd_pkt *p, uint64_t ms, int *dir)
{
    uint16_t sport, dport;

    ports_of(t, p, ms, &sport, &dport);
    return packet_hashed(t, p, ms, sport, dport,
                         hash_of(p->src, p->dst, sport, dport, p->proto, p->vlan), dir);
}

/* The index of the first flow in the table whose hash is h, or 0 (a hint: not compared). */
static uint32_t
first_candidate(const struct ixd_flow_table *t, uint32_t h)
{
    uint32_t i;

    for (i = h & t->mask; t->slots[i].idx != 0; i = (i + 1) & t->mask) {
        if (t->slots[i].hash == h) {
            return t->slots[i].idx;
        }
    }
    return 0;
}

/*
 * The same for a batch, in order, with the memory each packet will touch asked for ahead: a
 * pass computes every hash and prefetches its slot, the next prefetches the flows the slots
 * name, the next the flows beside them in their list, and only then are the packets
 * accounted. With hundreds of thousands of flows open the table is far larger than the
 * caches: one packet at a time, each of those reads is a wait on memory.
 */
void
ixd_flows_batch(struct ixd_flow_table *t, struct ixd_flow_job *jobs, size_t n, ixd_flow_job_fn fn,
                void *arg)
{
    size_t k;

    for (k = 0; k < n; k++) {
        const struct ixd_pkt *p = jobs[k].p;
        ports_of(t, p, jobs[k].ms, &jobs[k].sport, &jobs[k].dport);
        jobs[k].hash = hash_of(p->src, p->dst, jobs[k].sport, jobs[k].dport, p->proto, p->vlan);
        __builtin_prefetch(&t->slots[jobs[k].hash & t->mask]);
    }
    for (k = 0; k < n; k++) {
        uint32_t i = first_candidate(t, jobs[k].hash);
        if (i != 0) {
            /* both of its cache lines: the key is in the first, the counts and times that
             * every packet reads and writes in the second */
            __builtin_prefetch(at(t, i), 1);
            __builtin_prefetch((const char *)at(t, i) + 64, 1);
        }
    }
    for (k = 0; k < n; k++) {
        uint32_t i = first_candidate(t, jobs[k].hash);
        if (i != 0) {
            const struct ixd_flow *f = at(t, i);
            if (f->prev != 0) {
                __builtin_prefetch(at(t, f->prev));
            }
            if (f->next != 0) {
                __builtin_prefetch(at(t, f->next));
            }
        }
    }
    for (k = 0; k < n; k++) {
        int dir = 0;
        struct ixd_flow *f = packet_hashed(t, jobs[k].p, jobs[k].ms, jobs[k].sport, jobs[k].dport,
                                           jobs[k].hash, &dir);
        fn(arg, k, f, dir);
    }
}

size_t
ixd_flows_memory(const struct ixd_flow_table *t)
{
    return sizeof(*t) +
           t->n_chunks * (((size_t)1 << t->shift) * sizeof(struct ixd_flow) + sizeof(void *)) +
           (size_t)(t->mask + 1) * sizeof(struct slot) + FRAG_SLOTS * sizeof(struct frag);
}
