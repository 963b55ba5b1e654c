#include "rrd/lane.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/address.h"
#include "ipfix/template.h"
#include "ipfix/wire.h"
#include "rrd/rrdlib.h"

#define FIRST_CAP 64

/* Information elements the interface series come from (the counts: ixd_template_find_counts). */
enum {
    IE_INGRESS_INTERFACE = 10,
    IE_EGRESS_INTERFACE = 14,
};

static uint64_t
key_hash(const struct ixd_rrd_key *k)
{
    const uint64_t *w = (const uint64_t *)k;
    uint64_t h = 0x9e3779b97f4a7c15ULL;

    for (size_t i = 0; i < sizeof(*k) / sizeof(uint64_t); i++) {
        h = (h ^ w[i]) * 0xff51afd7ed558ccdULL;
        h ^= h >> 29;
    }
    return h;
}
_Static_assert(sizeof(struct ixd_rrd_key) % sizeof(uint64_t) == 0, "keys hash by words");

static struct ixd_rrd_block *
block_new(int64_t step, size_t cap)
{
    struct ixd_rrd_block *b = malloc(sizeof(*b) + cap * sizeof(b->e[0]));

    if (b != NULL) {
        b->step = step;
        b->n = 0;
        b->cap = cap;
        b->records = 0;
    }
    return b;
}

int
ixd_rrd_lane_init(struct ixd_rrd_lane *l, int domains, int interfaces, int renormalise)
{
    memset(l, 0, sizeof(*l));
    l->domains = domains;
    l->interfaces = interfaces;
    l->renormalise = renormalise;
    l->index_mask = 2 * FIRST_CAP - 1;
    l->index = calloc(l->index_mask + 1, sizeof(*l->index));
    l->ecache = aligned_alloc(64, IXD_RRD_ECACHE * sizeof(*l->ecache));
    if (l->ecache != NULL) {
        memset(l->ecache, 0, IXD_RRD_ECACHE * sizeof(*l->ecache));
    }
    l->icache = calloc(2, sizeof(*l->icache));
    l->gen = 1; /* the caches' zeroed entries belong to no block */
    return l->index != NULL && l->ecache != NULL && l->icache != NULL ? 0 : -1;
}

void
ixd_rrd_lane_release(struct ixd_rrd_lane *l)
{
    free(l->cur);
    free(l->index);
    free(l->ecache);
    free(l->icache);
    l->cur = NULL;
    l->index = NULL;
    l->ecache = NULL;
    l->icache = NULL;
}

/* The index rebuilt for cur's capacity (twice as many slots as entries). */
static int
reindex(struct ixd_rrd_lane *l)
{
    size_t size = 2 * l->cur->cap;
    uint32_t *ix = calloc(size, sizeof(*ix));

    if (ix == NULL) {
        return -1;
    }
    free(l->index);
    l->index = ix;
    l->index_mask = size - 1;
    for (size_t i = 0; i < l->cur->n; i++) {
        size_t at = (size_t)key_hash(&l->cur->e[i].key) & l->index_mask;
        while (ix[at] != 0) {
            at = (at + 1) & l->index_mask;
        }
        ix[at] = (uint32_t)(i + 1);
    }
    return 0;
}

/* The entry of k in cur, made when new; SIZE_MAX when out of memory. */
static size_t
entry_of(struct ixd_rrd_lane *l, const struct ixd_rrd_key *k)
{
    size_t at = (size_t)key_hash(k) & l->index_mask;
    struct ixd_rrd_block *b = l->cur;

    while (l->index[at] != 0) {
        size_t i = l->index[at] - 1;
        if (memcmp(&b->e[i].key, k, sizeof(*k)) == 0) {
            return i;
        }
        at = (at + 1) & l->index_mask;
    }
    if (b->n == b->cap) {
        struct ixd_rrd_block *grown = realloc(b, sizeof(*b) + 2 * b->cap * sizeof(b->e[0]));
        if (grown == NULL) {
            return SIZE_MAX;
        }
        grown->cap *= 2;
        l->cur = b = grown;
        if (reindex(l) == -1) {
            return SIZE_MAX;
        }
        return entry_of(l, k);
    }
    b->e[b->n].key = *k;
    memset(b->e[b->n].v, 0, sizeof(b->e[b->n].v));
    l->index[at] = (uint32_t)(++b->n);
    return b->n - 1;
}

/* Adds what a cache entry counted to its block entries. */
static void
settle(struct ixd_rrd_lane *l, struct ixd_rrd_ecache *ec)
{
    for (int j = 0; j < 3; j++) {
        l->cur->e[ec->exp].v[j] += ec->v[j];
        if (ec->dom != UINT32_MAX) {
            l->cur->e[ec->dom].v[j] += ec->v[j];
        }
        ec->v[j] = 0;
    }
}

struct ixd_rrd_block *
ixd_rrd_lane_take(struct ixd_rrd_lane *l, int64_t step)
{
    struct ixd_rrd_block *b = l->cur;

    if (b == NULL || b->step >= step) {
        return NULL;
    }
    for (size_t i = 0; i < IXD_RRD_ECACHE; i++) {
        if (l->ecache[i].gen == l->gen) {
            settle(l, &l->ecache[i]);
        }
    }
    l->cur = NULL;
    l->gen++; /* the caches' entries pointed into b */
    return b;
}

/* A new block for step, the index emptied; -1 when out of memory. */
static int
begin(struct ixd_rrd_lane *l, int64_t step, size_t cap)
{
    l->cur = block_new(step, cap);
    if (l->cur == NULL) {
        return -1;
    }
    if (l->index_mask + 1 != 2 * cap) {
        return reindex(l);
    }
    memset(l->index, 0, (l->index_mask + 1) * sizeof(*l->index));
    return 0;
}

static int16_t
find(const struct ixd_template *t, uint16_t id)
{
    return (int16_t)ixd_template_find(t, 0, id);
}

/* Where the counts are in a fixed-length record (c->fixed), when they are plain fields. */
static void
fixed_layout(struct ixd_rrd_tcache *c, const struct ixd_template *t)
{
    const int16_t f[4] = {c->packets[0], c->octets[0], c->in_if, c->out_if};

    c->fixed = !t->has_varlen && c->packets[1] < 0 && c->octets[1] < 0 && c->packets[2] < 0 &&
               c->octets[2] < 0;
    for (int i = 0; i < 4 && c->fixed; i++) {
        const struct ixd_field *fl = f[i] >= 0 ? &t->fields[f[i]] : NULL;
        c->len[i] = fl != NULL && fl->length >= 1 && fl->length <= 8 ? (uint8_t)fl->length : 0;
        c->off[i] = fl != NULL ? fl->offset : 0;
    }
}

static const struct ixd_rrd_tcache *
tcache_of(struct ixd_rrd_lane *l, const struct ixd_template *t)
{
    struct ixd_rrd_tcache *c = &l->tc[t->serial % IXD_RRD_TCACHE];

    if (c->serial == t->serial) {
        return c;
    }
    c->serial = t->serial;
    c->options = t->scope_count > 0;
    ixd_template_find_counts(t, c->octets, c->packets);
    c->in_if = find(t, IE_INGRESS_INTERFACE);
    c->out_if = find(t, IE_EGRESS_INTERFACE);
    c->per_record = t->sampling_field >= 0 || t->sampler_field >= 0;
    fixed_layout(c, t);
    return c;
}

/* Field i of the fixed layout (0 when the template has none). */
static inline uint64_t
fixed(const struct ixd_record *r, const struct ixd_rrd_tcache *c, int i)
{
    return c->len[i] != 0 ? ixd_get_uint(r->data + c->off[i], c->len[i]) : 0;
}

/* The entry of interface ifindex (dir 0 ingress, 1 egress) of exporter entry exp. */
static size_t
interface_of(struct ixd_rrd_lane *l, uint32_t exp, uint8_t dir, uint32_t ifindex)
{
    struct ixd_rrd_icache *ic = &l->icache[dir][(exp * 2654435761u ^ ifindex) % IXD_RRD_ICACHE];
    struct ixd_rrd_key k;
    size_t i;

    if (ic->gen == l->gen && ic->exp == exp && ic->ifindex == ifindex) {
        return ic->entry;
    }
    k = l->cur->e[exp].key;
    k.kind = IXD_RRD_INTERFACE;
    k.dir = dir;
    k.num = ifindex;
    i = entry_of(l, &k);
    if (i != SIZE_MAX) {
        *ic = (struct ixd_rrd_icache){l->gen, exp, ifindex, (uint32_t)i};
    }
    return i;
}

/* Adds one record's counts to its interfaces' entries. -1 when out of memory. */
static int
add_interfaces(struct ixd_rrd_lane *l, uint32_t exp, const struct ixd_record *r,
               const struct ixd_rrd_tcache *c, const uint64_t *v)
{
    const int16_t fields[2] = {c->in_if, c->out_if};

    for (uint8_t dir = 0; dir < 2; dir++) {
        size_t i;
        if (fields[dir] < 0) {
            continue;
        }
        i = interface_of(
            l, exp, dir,
            (uint32_t)(c->fixed ? fixed(r, c, 2 + dir) : ixd_record_uint(r, fields[dir])));
        if (i == SIZE_MAX) {
            return -1;
        }
        for (int j = 0; j < 3; j++) {
            l->cur->e[i].v[j] += v[j];
        }
    }
    return 0;
}

/* The cache line of an exporter and domain. The product's top bits depend on every bit of the
 * address; its low bits only on the address's low bits, which a byte order that puts the
 * first octet there makes the same for every exporter of a /16 (all of them in one line). */
static size_t
ecache_slot(const struct in6_addr *addr, uint32_t odid)
{
    const uint32_t *w = (const uint32_t *)addr;
    uint32_t x = w[0] ^ w[1] ^ w[2] ^ w[3] ^ odid * 0x9e3779b9u;

    return (x * 2654435761u) >> (32 - IXD_RRD_ECACHE_BITS);
}

/* The entries of the batch's exporter and domain, from the cache or found and cached. */
static struct ixd_rrd_ecache *
entries_of(struct ixd_rrd_lane *l, const struct ixd_source *src)
{
    struct in6_addr addr;
    struct ixd_rrd_ecache *ec;
    struct ixd_rrd_key k;
    size_t exp, dom = UINT32_MAX, len;

    ixd_address_mapped((const struct sockaddr *)&src->exporter, &addr, NULL);
    ec = &l->ecache[ecache_slot(&addr, src->odid)];
    if (ec->gen == l->gen && ec->collector == src->collector && ec->odid == src->odid &&
        memcmp(&ec->addr, &addr, sizeof(addr)) == 0) {
        return ec;
    }
    if (ec->gen == l->gen) {
        settle(l, ec); /* another exporter's: its counts go where they belong first */
    }
    l->ecache_misses++;
    memset(&k, 0, sizeof(k));
    k.kind = IXD_RRD_EXPORTER;
    len = strnlen(src->collector, sizeof(k.name) - 1);
    memcpy(k.name, src->collector, len);
    k.addr = addr;
    exp = entry_of(l, &k);
    if (exp != SIZE_MAX && l->domains) {
        k.kind = IXD_RRD_DOMAIN;
        k.num = src->odid;
        dom = entry_of(l, &k);
    }
    if (exp == SIZE_MAX || dom == SIZE_MAX) {
        return NULL;
    }
    *ec = (struct ixd_rrd_ecache){src->collector, addr,          src->odid, l->gen,
                                  (uint32_t)exp,  (uint32_t)dom, {0, 0, 0}};
    return ec;
}

/* The step's block for the batch: the current one, or a new one after handing it out. */
static int
block_for(struct ixd_rrd_lane *l, int64_t step, struct ixd_rrd_block **done)
{
    size_t cap = FIRST_CAP;

    if (l->cur != NULL && step <= l->cur->step) {
        return 0; /* its step, or a record held from an earlier one: counted now */
    }
    if (l->cur != NULL) {
        cap = l->cur->n > FIRST_CAP / 2 ? l->cur->cap : FIRST_CAP;
        *done = ixd_rrd_lane_take(l, step);
    }
    return begin(l, step, cap);
}

int
ixd_rrd_lane_add(struct ixd_rrd_lane *l, const struct ixd_batch *batch, struct ixd_rrd_block **done,
                 uint64_t *lost)
{
    const struct ixd_source *src = batch->source;
    const struct ixd_resolver *res = l->renormalise ? src->resolver : NULL;
    int64_t step = src->received_usec / 1000000;
    const struct ixd_template *tmpl = NULL;
    const struct ixd_rrd_tcache *c = NULL;
    struct ixd_rrd_ecache *ec;
    uint64_t flows = 0, packets = 0, octets = 0, rate = 1;
    uint32_t exp;

    step -= step % IXD_RRD_STEP;
    *done = NULL;
    if (block_for(l, step, done) == -1 || (ec = entries_of(l, src)) == NULL) {
        *lost = batch->count;
        return -1;
    }
    exp = ec->exp;
    for (size_t i = 0; i < batch->count; i++) {
        const struct ixd_record *r = &batch->records[i];
        uint64_t v[3];
        if (r->tmpl != tmpl) {
            tmpl = r->tmpl;
            c = tcache_of(l, tmpl);
            rate = res != NULL && !c->per_record ? res->sampling_of(res, r) : 1;
        }
        if (c->options) {
            continue; /* options records describe the exporter, not traffic */
        }
        if (res != NULL && c->per_record) {
            rate = res->sampling_of(res, r);
        }
        v[0] = 1;
        v[1] = (c->fixed ? fixed(r, c, 0) : ixd_record_count(r, c->packets)) * rate;
        v[2] = (c->fixed ? fixed(r, c, 1) : ixd_record_count(r, c->octets)) * rate;
        flows++;
        packets += v[1];
        octets += v[2];
        if (l->interfaces && (c->in_if >= 0 || c->out_if >= 0) &&
            add_interfaces(l, exp, r, c, v) == -1) {
            *lost = batch->count - i;
            return -1;
        }
    }
    ec->v[0] += flows; /* interfaces never take an exporter's cache entry */
    ec->v[1] += packets;
    ec->v[2] += octets;
    l->cur->records += flows;
    return 0;
}
