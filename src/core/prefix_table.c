/*
 * Building: prefixes are kept as (start, length, value) and sorted by start, shorter first; a
 * sweep with a stack of the prefixes that hold the current address turns them into disjoint
 * ranges covering the whole address space, each with the value of the innermost prefix (or
 * none), neighbours of equal value merged. IPv4 (::ffff:0:0/96) ranges are kept apart as 32-bit
 * starts: 8 bytes a range, so a table of n prefixes (at most 2n + 1 ranges) costs at most
 * 16 bytes a prefix plus its values; IPv6 ranges take 20 bytes.
 *
 * Lookup: the first bits of the address pick a bucket of an index (about one bucket per range,
 * at most 2^20 buckets), which bounds a binary search over the ranges that bucket overlaps: a
 * few steps in one or two cache lines for IPv4 tables of any size. The index of IPv6 ranges
 * is taken on the bits after those all valued ranges share (2000::/3 for a global table).
 */
#include "core/prefix_table.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/address.h"
#include "core/huge.h"

#define NO_VALUE UINT32_MAX

typedef unsigned __int128 u128;

struct pending {
    u128 start;
    uint32_t value;
    uint32_t order; /* of addition: the later of two equal prefixes wins */
    uint8_t bits;
};

struct range {
    u128 start;
    uint32_t value;
};

/* A range's start and value side by side: a lookup's last step reads one cache line. */
struct range4 {
    uint32_t start, value;
};

struct range6 {
    uint64_t hi, lo;
    uint32_t value;
};

struct ixd_prefix_table {
    /* values, each stored once: offsets into an arena of NUL-terminated strings */
    char *arena;
    size_t arena_len, arena_cap;
    uint32_t *offsets;
    size_t n_values, cap_values;
    uint32_t *intern; /* open addressing: 1 + value index, 0 empty */
    size_t intern_mask;
    /* before the build */
    struct pending *pending;
    size_t n_pending, cap_pending;
    size_t count;
    int built;
    /* IPv4: ranges over the 32-bit space */
    struct range4 *v4;
    size_t n_v4;
    uint32_t *v4_index; /* 2^v4_bits + 1 entries: the range holding the bucket's first address */
    unsigned v4_bits;
    /* IPv6: the IPv4-mapped part is one range, never searched (IPv4 lookups go above) */
    struct range6 *v6;
    size_t n_v6;
    uint32_t *v6_index;
    unsigned v6_bits, v6_common; /* index bits, taken after v6_common bits equal to v6_prefix */
    u128 v6_prefix;
};

static int
grow(void **p, size_t *cap, size_t need, size_t size)
{
    size_t n = *cap == 0 ? 64 : *cap;
    void *q;

    while (n < need) {
        n *= 2;
    }
    if (n == *cap) {
        return 0;
    }
    q = realloc(*p, n * size);
    if (q == NULL) {
        return -1;
    }
    *p = q;
    *cap = n;
    return 0;
}

struct ixd_prefix_table *
ixd_prefix_table_new(void)
{
    return calloc(1, sizeof(struct ixd_prefix_table));
}

void
ixd_prefix_table_free(struct ixd_prefix_table *t)
{
    if (t == NULL) {
        return;
    }
    free(t->arena);
    free(t->offsets);
    free(t->intern);
    free(t->pending);
    free(t->v4);
    free(t->v4_index);
    free(t->v6);
    free(t->v6_index);
    free(t);
}

static uint64_t
string_hash(const char *s)
{
    uint64_t h = 1469598103934665603ull;

    for (; *s != '\0'; s++) {
        h = (h ^ (unsigned char)*s) * 1099511628211ull;
    }
    return h;
}

static int
intern_grow(struct ixd_prefix_table *t)
{
    size_t cap = t->intern_mask == 0 ? 256 : 2 * (t->intern_mask + 1), i;
    uint32_t *slots = calloc(cap, sizeof(*slots));

    if (slots == NULL) {
        return -1;
    }
    for (i = 0; i < t->n_values; i++) {
        size_t h = string_hash(t->arena + t->offsets[i]) & (cap - 1);
        while (slots[h] != 0) {
            h = (h + 1) & (cap - 1);
        }
        slots[h] = (uint32_t)i + 1;
    }
    free(t->intern);
    t->intern = slots;
    t->intern_mask = cap - 1;
    return 0;
}

/* The index of value, added when new; NO_VALUE when out of memory. */
static uint32_t
intern(struct ixd_prefix_table *t, const char *value)
{
    size_t len = strlen(value), h;

    if (2 * (t->n_values + 1) > t->intern_mask && intern_grow(t) == -1) {
        return NO_VALUE;
    }
    for (h = string_hash(value) & t->intern_mask; t->intern[h] != 0; h = (h + 1) & t->intern_mask) {
        if (strcmp(t->arena + t->offsets[t->intern[h] - 1], value) == 0) {
            return t->intern[h] - 1;
        }
    }
    if (grow((void **)&t->arena, &t->arena_cap, t->arena_len + len + 1, 1) == -1 ||
        grow((void **)&t->offsets, &t->cap_values, t->n_values + 1, sizeof(uint32_t)) == -1) {
        return NO_VALUE;
    }
    memcpy(t->arena + t->arena_len, value, len + 1);
    t->offsets[t->n_values] = (uint32_t)t->arena_len;
    t->arena_len += len + 1;
    t->intern[h] = (uint32_t)++t->n_values;
    return (uint32_t)(t->n_values - 1);
}

static u128
to_u128(const struct in6_addr *a)
{
    u128 v = 0;
    int i;

    for (i = 0; i < 16; i++) {
        v = (v << 8) | a->s6_addr[i];
    }
    return v;
}

static u128
prefix_mask(unsigned bits)
{
    return bits == 0 ? 0 : ~(u128)0 << (128 - bits);
}

int
ixd_prefix_table_add(struct ixd_prefix_table *t, const char *prefix, const char *value, char *err,
                     size_t errlen)
{
    struct ixd_prefix p;
    struct pending *e;
    uint32_t v;

    if (t->built) {
        snprintf(err, errlen, "the table is built already");
        return -1;
    }
    if (ixd_prefix_parse(prefix, &p, err, errlen) == -1) {
        return -1;
    }
    if (strlen(value) > IXD_PREFIX_VALUE_MAX) {
        snprintf(err, errlen, "a value has at most %d bytes", IXD_PREFIX_VALUE_MAX);
        return -1;
    }
    if (t->n_pending >= IXD_PREFIX_TABLE_MAX) {
        snprintf(err, errlen, "more than %u prefixes", IXD_PREFIX_TABLE_MAX);
        return -1;
    }
    v = intern(t, value);
    if (v == NO_VALUE ||
        grow((void **)&t->pending, &t->cap_pending, t->n_pending + 1, sizeof(*t->pending)) == -1) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    e = &t->pending[t->n_pending];
    e->bits = p.bits;
    e->start = to_u128(&p.addr) & prefix_mask(p.bits);
    e->value = v;
    e->order = (uint32_t)t->n_pending++;
    return 0;
}

static int
by_start(const void *a, const void *b)
{
    const struct pending *x = a, *y = b;

    if (x->start != y->start) {
        return x->start < y->start ? -1 : 1;
    }
    if (x->bits != y->bits) {
        return x->bits < y->bits ? -1 : 1;
    }
    return x->order < y->order ? -1 : x->order > y->order;
}

static u128
prefix_end(const struct pending *p)
{
    return p->start | ~prefix_mask(p->bits);
}

struct sweep {
    struct range *out;
    size_t n;
};

static void
emit(struct sweep *s, u128 start, uint32_t value)
{
    if (s->n > 0 && s->out[s->n - 1].value == value) {
        return; /* the range before goes on */
    }
    if (s->n > 0 && s->out[s->n - 1].start == start) {
        s->n--; /* an empty range: replaced */
        if (s->n > 0 && s->out[s->n - 1].value == value) {
            return;
        }
    }
    s->out[s->n].start = start;
    s->out[s->n++].value = value;
}

/* The disjoint ranges of the sorted prefixes p[0..n) (equal prefixes removed but the last),
 * into s (room for 2n + 1); stack has room for n + 1 (nesting is at most 129 deep). */
static void
flatten(const struct pending *p, size_t n, struct sweep *s, const struct pending **stack)
{
    size_t i, depth = 0;
    u128 cur = 0;
    int done = 0; /* cur wrapped past the last address */

    for (i = 0; i < n; i++) {
        while (depth > 0 && prefix_end(stack[depth - 1]) < p[i].start) {
            const struct pending *top = stack[--depth];
            if (!done && cur <= prefix_end(top)) {
                emit(s, cur, top->value);
                cur = prefix_end(top) + 1;
                done = cur == 0;
            }
        }
        if (cur < p[i].start) {
            emit(s, cur, depth > 0 ? stack[depth - 1]->value : NO_VALUE);
            cur = p[i].start;
        }
        stack[depth++] = &p[i];
    }
    while (depth > 0) {
        const struct pending *top = stack[--depth];
        if (!done && cur <= prefix_end(top)) {
            emit(s, cur, top->value);
            cur = prefix_end(top) + 1;
            done = cur == 0;
        }
    }
    if (!done) {
        emit(s, cur, NO_VALUE);
    }
}

static unsigned
index_bits(size_t ranges)
{
    unsigned b = 4;

    while (b < 20 && ((size_t)1 << b) < ranges) {
        b++;
    }
    return b;
}

static const u128 V4_BASE = (u128)0xffff << 32;

/* The IPv4 part of the ranges: those that overlap ::ffff:0:0/96, as 32-bit starts. */
static int
build_v4(struct ixd_prefix_table *t, const struct range *r, size_t n)
{
    size_t i, first = 0, k;
    uint64_t b, buckets;

    while (first + 1 < n && r[first + 1].start <= V4_BASE) {
        first++;
    }
    for (i = first; i < n && r[i].start <= V4_BASE + 0xffffffffu; i++) {
    }
    t->n_v4 = i - first;
    t->v4_bits = index_bits(t->n_v4);
    buckets = (uint64_t)1 << t->v4_bits;
    t->v4 = ixd_huge_calloc(t->n_v4 * sizeof(*t->v4));
    t->v4_index = ixd_huge_calloc((buckets + 1) * sizeof(uint32_t));
    if (t->v4 == NULL || t->v4_index == NULL) {
        return -1;
    }
    for (k = 0; k < t->n_v4; k++) {
        const struct range *x = &r[first + k];
        t->v4[k].start = x->start <= V4_BASE ? 0 : (uint32_t)(x->start - V4_BASE);
        t->v4[k].value = x->value;
    }
    for (b = 0, k = 0; b < buckets; b++) {
        uint64_t addr = b << (32 - t->v4_bits);
        while (k + 1 < t->n_v4 && t->v4[k + 1].start <= addr) {
            k++;
        }
        t->v4_index[b] = (uint32_t)k;
    }
    t->v4_index[buckets] = (uint32_t)(t->n_v4 - 1);
    return 0;
}

static unsigned
common_bits(u128 a, u128 b)
{
    unsigned n = 0;

    while (n < 128 && ((a ^ b) >> (127 - n) & 1) == 0) {
        n++;
    }
    return n;
}

static int
in_v4(u128 a)
{
    return a >= V4_BASE && a < V4_BASE + ((u128)1 << 32);
}

static void
put6(struct ixd_prefix_table *t, u128 start, uint32_t value)
{
    struct range6 *x = &t->v6[t->n_v6++];

    x->hi = (uint64_t)(start >> 64);
    x->lo = (uint64_t)start;
    x->value = value;
}

/* The index of IPv6 ranges over the bits after those every valued range shares. */
static int
index_v6(struct ixd_prefix_table *t, u128 lo, u128 hi, int any)
{
    uint64_t b, buckets;
    size_t k;

    t->v6_common = any ? common_bits(lo, hi) : 0;
    if (t->v6_common > 108) {
        t->v6_common = 108;
    }
    t->v6_prefix = lo & prefix_mask(t->v6_common);
    t->v6_bits = index_bits(t->n_v6);
    buckets = (uint64_t)1 << t->v6_bits;
    t->v6_index = ixd_huge_calloc((buckets + 1) * sizeof(uint32_t));
    if (t->v6_index == NULL) {
        return -1;
    }
    for (b = 0, k = 0; b < buckets; b++) {
        u128 addr = t->v6_prefix | ((u128)b << (128 - t->v6_common - t->v6_bits));
        while (k + 1 < t->n_v6 && (((u128)t->v6[k + 1].hi << 64) | t->v6[k + 1].lo) <= addr) {
            k++;
        }
        t->v6_index[b] = (uint32_t)k;
    }
    t->v6_index[buckets] = (uint32_t)(t->n_v6 - 1);
    return 0;
}

/* The IPv6 ranges: the IPv4-mapped ones become one (IPv4 lookups never come here). */
static int
build_v6(struct ixd_prefix_table *t, const struct range *r, size_t n)
{
    size_t i;
    u128 lo = 0, hi = 0;
    int any = 0;
    uint32_t after_v4 = NO_VALUE; /* the value at the first address past the IPv4 space */

    t->v6 = ixd_huge_calloc((n + 2) * sizeof(*t->v6));
    if (t->v6 == NULL) {
        return -1;
    }
    for (i = 0; i < n; i++) {
        if (r[i].start <= V4_BASE + ((u128)1 << 32)) {
            after_v4 = r[i].value;
        }
        if (in_v4(r[i].start) && r[i].start != V4_BASE) {
            continue;
        }
        if (r[i].start > V4_BASE + ((u128)1 << 32) &&
            (t->n_v6 == 0 || in_v4(((u128)t->v6[t->n_v6 - 1].hi << 64) | t->v6[t->n_v6 - 1].lo))) {
            put6(t, V4_BASE + ((u128)1 << 32), after_v4);
        }
        put6(t, r[i].start, in_v4(r[i].start) ? NO_VALUE : r[i].value);
        if (r[i].value != NO_VALUE && !in_v4(r[i].start)) {
            hi = i + 1 < n ? r[i + 1].start - 1 : ~(u128)0;
            if (!any) {
                lo = r[i].start;
                any = 1;
            }
        }
    }
    if (t->n_v6 > 0 && in_v4(((u128)t->v6[t->n_v6 - 1].hi << 64) | t->v6[t->n_v6 - 1].lo)) {
        put6(t, V4_BASE + ((u128)1 << 32), after_v4);
    }
    return index_v6(t, lo, hi, any);
}

int
ixd_prefix_table_build(struct ixd_prefix_table *t, char *err, size_t errlen)
{
    const struct pending **stack = NULL;
    struct sweep s = {NULL, 0};
    size_t i, kept = 0;
    int rc = -1;

    if (t->built) {
        return 0;
    }
    if (t->n_pending > 0) { /* qsort wants an array, an empty table has none */
        qsort(t->pending, t->n_pending, sizeof(*t->pending), by_start);
    }
    for (i = 0; i < t->n_pending; i++) { /* equal prefixes: the one added last */
        if (kept > 0 && t->pending[kept - 1].start == t->pending[i].start &&
            t->pending[kept - 1].bits == t->pending[i].bits) {
            kept--;
        }
        t->pending[kept++] = t->pending[i];
    }
    t->count = kept;
    s.out = malloc((2 * kept + 2) * sizeof(*s.out));
    stack = malloc((kept + 1) * sizeof(*stack));
    if (s.out == NULL || stack == NULL) {
        goto fail;
    }
    flatten(t->pending, kept, &s, stack);
    if (build_v4(t, s.out, s.n) == -1 || build_v6(t, s.out, s.n) == -1) {
        goto fail;
    }
    free(t->pending);
    t->pending = NULL;
    t->n_pending = t->cap_pending = 0;
    free(t->intern); /* no more values come */
    t->intern = NULL;
    t->built = 1;
    rc = 0;
fail:
    if (rc == -1) {
        snprintf(err, errlen, "out of memory");
    }
    free(s.out);
    free(stack);
    return rc;
}

/* Trims spaces and tabs at both ends of s in place; returns the new start. */
static char *
trim(char *s)
{
    size_t n;

    while (*s == ' ' || *s == '\t') {
        s++;
    }
    n = strlen(s);
    while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r')) {
        s[--n] = '\0';
    }
    return s;
}

int
ixd_prefix_table_parse(struct ixd_prefix_table *t, const char *name, const char *text, size_t len,
                       char *err, size_t errlen)
{
    char line[IXD_PREFIX_VALUE_MAX + 130], why[256];
    size_t at = 0;
    unsigned lineno = 0;

    while (at < len) {
        const char *nl = memchr(text + at, '\n', len - at);
        size_t n = (nl != NULL ? (size_t)(nl - text) : len) - at;
        char *s, *comma;

        lineno++;
        if (n >= sizeof(line)) {
            snprintf(err, errlen, "%s:%u: line longer than %zu bytes", name, lineno,
                     sizeof(line) - 1);
            return -1;
        }
        memcpy(line, text + at, n);
        line[n] = '\0';
        at += n + 1;
        s = trim(line);
        if (s[0] == '\0' || s[0] == '#') {
            continue;
        }
        comma = strchr(s, ',');
        if (comma != NULL) {
            *comma = '\0';
        }
        if (ixd_prefix_table_add(t, trim(s), comma != NULL ? trim(comma + 1) : "", why,
                                 sizeof(why)) == -1) {
            snprintf(err, errlen, "%s:%u: %s", name, lineno, why);
            return -1;
        }
    }
    if (ixd_prefix_table_build(t, why, sizeof(why)) == -1) {
        snprintf(err, errlen, "%s: %s", name, why);
        return -1;
    }
    return 0;
}

int32_t
ixd_prefix_table_lookup_index(const struct ixd_prefix_table *t, const struct in6_addr *addr)
{
    static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    size_t lo, hi;
    uint32_t v;

    if (!t->built) {
        return -1;
    }
    if (memcmp(addr->s6_addr, mapped, 12) == 0) {
        uint32_t x = (uint32_t)addr->s6_addr[12] << 24 | (uint32_t)addr->s6_addr[13] << 16 |
                     (uint32_t)addr->s6_addr[14] << 8 | addr->s6_addr[15];
        uint32_t b = x >> (32 - t->v4_bits);
        /* the last range of the bucket's that starts at or before x */
        lo = t->v4_index[b];
        hi = t->v4_index[b + 1];
        while (lo < hi) {
            size_t mid = lo + (hi - lo + 1) / 2;
            if (t->v4[mid].start <= x) {
                lo = mid;
            } else {
                hi = mid - 1;
            }
        }
        v = t->v4[lo].value;
    } else {
        u128 a = to_u128(addr);
        uint64_t ahi = (uint64_t)(a >> 64), alo = (uint64_t)a;
        lo = 0;
        hi = t->n_v6 - 1;
        if ((a & prefix_mask(t->v6_common)) == t->v6_prefix) {
            uint64_t b = (uint64_t)((a << t->v6_common) >> (128 - t->v6_bits));
            lo = t->v6_index[b];
            hi = t->v6_index[b + 1];
        }
        while (lo < hi) {
            size_t mid = lo + (hi - lo + 1) / 2;
            if (t->v6[mid].hi < ahi || (t->v6[mid].hi == ahi && t->v6[mid].lo <= alo)) {
                lo = mid;
            } else {
                hi = mid - 1;
            }
        }
        v = t->v6[lo].value;
    }
    return v == NO_VALUE ? -1 : (int32_t)v;
}

const char *
ixd_prefix_table_lookup(const struct ixd_prefix_table *t, const struct in6_addr *addr)
{
    int32_t i = ixd_prefix_table_lookup_index(t, addr);

    return i < 0 ? NULL : t->arena + t->offsets[i];
}

size_t
ixd_prefix_table_values(const struct ixd_prefix_table *t)
{
    return t->n_values;
}

const char *
ixd_prefix_table_value(const struct ixd_prefix_table *t, uint32_t i)
{
    return i < t->n_values ? t->arena + t->offsets[i] : NULL;
}

const char *
ixd_prefix_table_lookup_text(const struct ixd_prefix_table *t, const char *text)
{
    struct in6_addr a;
    struct in_addr a4;

    if (inet_pton(AF_INET, text, &a4) == 1) {
        memset(&a, 0, sizeof(a));
        a.s6_addr[10] = a.s6_addr[11] = 0xff;
        memcpy(&a.s6_addr[12], &a4, 4);
    } else if (inet_pton(AF_INET6, text, &a) != 1) {
        return NULL;
    }
    return ixd_prefix_table_lookup(t, &a);
}

size_t
ixd_prefix_table_count(const struct ixd_prefix_table *t)
{
    return t->built ? t->count : t->n_pending;
}

size_t
ixd_prefix_table_bytes(const struct ixd_prefix_table *t)
{
    return t->arena_cap + t->cap_values * sizeof(uint32_t) +
           t->cap_pending * sizeof(struct pending) + t->n_v4 * sizeof(struct range4) +
           (((size_t)1 << t->v4_bits) + 1) * sizeof(uint32_t) + t->n_v6 * sizeof(struct range6) +
           (((size_t)1 << t->v6_bits) + 1) * sizeof(uint32_t);
}
