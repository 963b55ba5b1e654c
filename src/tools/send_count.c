/* Data record counting for replayed IPFIX streams.
 *
 * Only the summary line needs this, so it is deliberately lenient: anything malformed simply
 * stops the walk of that message or set. Templates are keyed by (observation domain, template
 * ID) for the whole run, since a replay sends every file down the same transport sessions. */
#include "send_count.h"
#include "send_common.h"

#include <stdlib.h>
#include <string.h>

#define VARLEN 0xFFFFu

struct tmpl {
    uint64_t key;    /* odid << 16 | template id */
    uint8_t used;    /* slot holds this key (slots are never freed: no tombstones needed) */
    uint8_t valid;   /* template currently defined (withdrawals clear it) */
    uint8_t kind;    /* 2 = template, 3 = options template */
    uint8_t has_var; /* at least one variable-length field: records must be walked */
    uint16_t nfields;
    uint32_t fixed_len; /* record length when !has_var */
    uint16_t *lens;     /* field lengths, only kept when has_var */
};

struct rec_counter {
    struct tmpl *t;
    size_t cap; /* power of two */
    size_t used;
};

struct rec_counter *
rec_counter_new(void)
{
    struct rec_counter *rc = calloc(1, sizeof(*rc));
    if (!rc)
        return NULL;
    rc->cap = 64;
    rc->t = calloc(rc->cap, sizeof(*rc->t));
    if (!rc->t) {
        free(rc);
        return NULL;
    }
    return rc;
}

void
rec_counter_free(struct rec_counter *rc)
{
    if (!rc)
        return;
    for (size_t i = 0; i < rc->cap; i++)
        free(rc->t[i].lens);
    free(rc->t);
    free(rc);
}

static size_t
slot_of(const struct rec_counter *rc, uint64_t key)
{
    uint64_t h = key * 0x9E3779B97F4A7C15ull;
    size_t i = (size_t)(h >> 32) & (rc->cap - 1);
    while (rc->t[i].used && rc->t[i].key != key)
        i = (i + 1) & (rc->cap - 1);
    return i;
}

static int
grow(struct rec_counter *rc)
{
    struct rec_counter bigger = {.cap = rc->cap * 2};
    bigger.t = calloc(bigger.cap, sizeof(*bigger.t));
    if (!bigger.t)
        return -1;
    for (size_t i = 0; i < rc->cap; i++)
        if (rc->t[i].used)
            bigger.t[slot_of(&bigger, rc->t[i].key)] = rc->t[i];
    free(rc->t);
    rc->t = bigger.t;
    rc->cap = bigger.cap;
    return 0;
}

/* Find or create the slot for key; NULL only when out of memory. */
static struct tmpl *
lookup(struct rec_counter *rc, uint64_t key, int create)
{
    if (create && (rc->used + 1) * 2 > rc->cap && grow(rc) < 0)
        return NULL;
    struct tmpl *t = &rc->t[slot_of(rc, key)];
    if (!t->used) {
        if (!create)
            return NULL;
        t->used = 1;
        t->key = key;
        rc->used++;
    }
    return t;
}

static void
withdraw_all(struct rec_counter *rc, uint32_t odid, int kind)
{
    for (size_t i = 0; i < rc->cap; i++)
        if (rc->t[i].used && (uint32_t)(rc->t[i].key >> 16) == odid && rc->t[i].kind == kind)
            rc->t[i].valid = 0;
}

/* Store a parsed template; lens is taken over when needed, freed otherwise. */
static void
store(struct rec_counter *rc, uint64_t key, int kind, uint16_t *lens, uint16_t n)
{
    struct tmpl *t = lookup(rc, key, 1);
    if (!t) {
        free(lens);
        return;
    }
    free(t->lens);
    t->lens = NULL;
    t->valid = 1;
    t->kind = (uint8_t)kind;
    t->nfields = n;
    t->has_var = 0;
    t->fixed_len = 0;
    for (uint16_t i = 0; i < n; i++) {
        if (lens[i] == VARLEN)
            t->has_var = 1;
        else
            t->fixed_len += lens[i];
    }
    if (t->has_var)
        t->lens = lens;
    else
        free(lens);
}

/* Parse one (options) template record; returns its length, or 0 to stop the set walk. */
static size_t
parse_template(struct rec_counter *rc, uint32_t odid, int kind, const uint8_t *p, size_t avail)
{
    if (avail < 4)
        return 0;
    uint16_t tid = ixd_get16(p), n = ixd_get16(p + 2);
    if (n == 0) { /* withdrawal; template ID 2/3 withdraws all of that kind */
        if (tid == kind) {
            withdraw_all(rc, odid, kind);
            return 4;
        }
        struct tmpl *t = tid >= 256 ? lookup(rc, (uint64_t)odid << 16 | tid, 0) : NULL;
        if (t)
            t->valid = 0;
        return tid >= 256 ? 4 : 0;
    }
    size_t pos = kind == 3 ? 6 : 4;
    if (tid < 256 || avail < pos)
        return 0;
    uint16_t *lens = malloc((size_t)n * sizeof(*lens));
    if (!lens)
        return 0;
    for (uint16_t i = 0; i < n; i++) {
        if (avail - pos < 4)
            goto bad;
        uint16_t id = ixd_get16(p + pos);
        lens[i] = ixd_get16(p + pos + 2);
        pos += 4;
        if (id & 0x8000) { /* enterprise number follows */
            if (avail - pos < 4)
                goto bad;
            pos += 4;
        }
    }
    store(rc, (uint64_t)odid << 16 | tid, kind, lens, n);
    return pos;
bad:
    free(lens);
    return 0;
}

/* Length of the record at p (at most avail bytes), or 0 if it does not fit. */
static size_t
var_record_len(const struct tmpl *t, const uint8_t *p, size_t avail)
{
    size_t q = 0;
    for (uint16_t f = 0; f < t->nfields; f++) {
        size_t l = t->lens[f];
        if (l == VARLEN) {
            if (q >= avail)
                return 0;
            l = p[q++];
            if (l == 255) {
                if (avail - q < 2)
                    return 0;
                l = ixd_get16(p + q);
                q += 2;
            }
        }
        if (l > avail - q)
            return 0;
        q += l;
    }
    return q;
}

static uint64_t
count_data(const struct tmpl *t, const uint8_t *p, size_t len)
{
    if (!t->has_var)
        return t->fixed_len ? len / t->fixed_len : 0; /* the remainder is padding */
    uint64_t n = 0;
    size_t pos = 0;
    while (pos < len) {
        size_t l = var_record_len(t, p + pos, len - pos);
        if (l == 0)
            break;
        pos += l;
        n++;
    }
    return n;
}

uint64_t
rec_counter_message(struct rec_counter *rc, const uint8_t *msg, size_t len)
{
    if (len < IXD_HEADER_LEN || ixd_get16(msg) != IXD_IPFIX_VERSION)
        return 0;
    size_t mlen = ixd_get16(msg + 2);
    if (mlen < IXD_HEADER_LEN || mlen > len)
        return 0;
    uint32_t odid = ixd_get32(msg + 12);
    uint64_t total = 0;

    for (size_t pos = IXD_HEADER_LEN; mlen - pos >= 4;) {
        uint16_t sid = ixd_get16(msg + pos), slen = ixd_get16(msg + pos + 2);
        if (slen < 4 || slen > mlen - pos)
            break;
        const uint8_t *body = msg + pos + 4;
        size_t blen = slen - 4u;
        if (sid == 2 || sid == 3) {
            size_t off = 0, used;
            while (off < blen && (used = parse_template(rc, odid, sid, body + off, blen - off)))
                off += used;
        } else if (sid >= 256) {
            const struct tmpl *t = lookup(rc, (uint64_t)odid << 16 | sid, 0);
            if (t && t->valid)
                total += count_data(t, body, blen);
        }
        pos += slen;
    }
    return total;
}
