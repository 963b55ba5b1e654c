/* Top talkers: slots, windows and the merge of every worker's summaries (top.h). */
#include <arpa/inet.h>
#include <glib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/hash.h"
#include "pipeline/top.h"

static const char *const dim_names[IXD_TOP_DIMS] = {
    "source-address", "destination-address", "source-port",    "destination-port",
    "protocol",       "source-as",           "destination-as",
};

const char *
ixd_top_dim_name(enum ixd_top_dim d)
{
    return d < IXD_TOP_DIMS ? dim_names[d] : "?";
}

int
ixd_top_dim_parse(const char *name)
{
    for (int d = 0; d < IXD_TOP_DIMS; d++) {
        if (strcmp(name, dim_names[d]) == 0) {
            return d;
        }
    }
    return -1;
}

void
ixd_top_key_text(enum ixd_top_dim d, const uint8_t *key, char *out, size_t outlen)
{
    uint64_t v;

    if (d == IXD_TOP_SRC_ADDR || d == IXD_TOP_DST_ADDR) {
        const struct in6_addr *a = (const struct in6_addr *)key;
        if (IN6_IS_ADDR_V4MAPPED(a)) {
            inet_ntop(AF_INET, key + 12, out, (socklen_t)outlen);
        } else {
            inet_ntop(AF_INET6, key, out, (socklen_t)outlen);
        }
        return;
    }
    memcpy(&v, key, sizeof(v));
    snprintf(out, outlen, "%llu", (unsigned long long)v);
}

struct ixd_top_slot *
ixd_top_slot_ref(struct ixd_top_slot *s)
{
    __atomic_add_fetch(&s->refs, 1, __ATOMIC_RELAXED);
    return s;
}

void
ixd_top_slot_unref(struct ixd_top_slot *s)
{
    if (s == NULL || __atomic_sub_fetch(&s->refs, 1, __ATOMIC_ACQ_REL) != 0) {
        return;
    }
    for (size_t i = 0; i < s->n; i++) {
        for (int d = 0; d < IXD_TOP_DIMS; d++) {
            for (int m = 0; m < IXD_TOP_METRICS; m++) {
                ixd_topk_release(&s->exp[i].sum[d][m]);
            }
        }
    }
    free(s->exp);
    free(s);
}

void
ixd_top_window_free(void *arg)
{
    struct ixd_top_window *w = arg;

    if (w == NULL) {
        return;
    }
    for (size_t i = 0; i < w->n; i++) {
        ixd_top_slot_unref(w->slot[i]);
    }
    free(w);
}

/* One merged key: counts and lower bounds summed over the summaries it is in, and what the
 * others may hide of it (their smallest counts) subtracted from the total of those. */
struct merged {
    uint8_t key[IXD_TOPK_KEY];
    uint64_t count, lower, unseen_where_present;
};

static guint
key_hash(gconstpointer p)
{
    return ixd_fnv32(IXD_FNV32_INIT, p, IXD_TOPK_KEY);
}

static gboolean
key_equal(gconstpointer a, gconstpointer b)
{
    return memcmp(a, b, IXD_TOPK_KEY) == 0;
}

static int
by_upper(const void *a, const void *b)
{
    const struct ixd_top_item *x = a, *y = b;

    if (x->upper != y->upper) {
        return x->upper > y->upper ? -1 : 1;
    }
    return memcmp(x->key, y->key, IXD_TOPK_KEY);
}

static int
wanted(const struct ixd_top_exporter *e, const struct ixd_top_query *q)
{
    if (q->collector != NULL && (e->other || strcmp(e->collector, q->collector) != 0)) {
        return 0;
    }
    return q->addr == NULL || (!e->other && memcmp(&e->addr, q->addr, sizeof(e->addr)) == 0);
}

/* Adds summary t to the merge. */
static int
merge_one(GHashTable *m, const struct ixd_topk *t, struct ixd_top_answer *out)
{
    uint64_t unseen = ixd_topk_unseen(t);

    out->total += t->total;
    out->error += unseen;
    for (uint32_t i = 0; i < t->n; i++) {
        const struct ixd_topk_counter *c = &t->heap[i];
        struct merged *x = g_hash_table_lookup(m, c->key);
        if (x == NULL) {
            x = calloc(1, sizeof(*x));
            if (x == NULL) {
                return -1;
            }
            memcpy(x->key, c->key, IXD_TOPK_KEY);
            g_hash_table_insert(m, x->key, x);
        }
        x->count += c->count;
        x->lower += c->count - c->error;
        x->unseen_where_present += unseen;
    }
    return 0;
}

/* The latest end among the windows: the slots merged end within q->seconds of it. */
static int64_t
latest(const struct ixd_top_window *const *w, size_t n)
{
    int64_t end = 0;

    for (size_t i = 0; i < n; i++) {
        if (w[i]->n > 0 && w[i]->slot[w[i]->n - 1]->end > end) {
            end = w[i]->slot[w[i]->n - 1]->end;
        }
    }
    return end;
}

static int
merge_windows(GHashTable *m, const struct ixd_top_window *const *w, size_t n,
              const struct ixd_top_query *q, struct ixd_top_answer *out)
{
    int64_t end = latest(w, n);

    for (size_t i = 0; i < n; i++) {
        for (size_t k = 0; k < w[i]->n; k++) {
            const struct ixd_top_slot *s = w[i]->slot[k];
            if (s->end <= end - (int64_t)q->seconds || !(s->dims & (1u << q->dim))) {
                continue;
            }
            out->from = out->from == 0 || s->start < out->from ? s->start : out->from;
            out->to = s->end > out->to ? s->end : out->to;
            for (size_t e = 0; e < s->n; e++) {
                if (wanted(&s->exp[e], q) &&
                    merge_one(m, &s->exp[e].sum[q->dim][q->metric], out) == -1) {
                    return -1;
                }
            }
        }
    }
    return 0;
}

int
ixd_top_merge(const struct ixd_top_window *const *windows, size_t n, const struct ixd_top_query *q,
              struct ixd_top_answer *out)
{
    GHashTable *m = g_hash_table_new_full(key_hash, key_equal, NULL, free);
    GHashTableIter it;
    gpointer v;
    size_t all, i = 0;

    memset(out, 0, sizeof(*out));
    if (merge_windows(m, windows, n, q, out) == -1) {
        g_hash_table_destroy(m);
        return -1;
    }
    all = g_hash_table_size(m);
    out->items = calloc(all + 1, sizeof(*out->items));
    if (out->items == NULL) {
        g_hash_table_destroy(m);
        return -1;
    }
    g_hash_table_iter_init(&it, m);
    while (g_hash_table_iter_next(&it, NULL, &v)) {
        const struct merged *x = v;
        struct ixd_top_item *t = &out->items[i++];
        memcpy(t->key, x->key, IXD_TOPK_KEY);
        /* summaries without a counter for it may each hide up to their smallest count */
        t->upper = x->count + (out->error - x->unseen_where_present);
        t->lower = x->lower;
    }
    qsort(out->items, all, sizeof(*out->items), by_upper);
    out->n = all < q->limit ? all : q->limit;
    g_hash_table_destroy(m);
    return 0;
}

void
ixd_top_answer_release(struct ixd_top_answer *a)
{
    free(a->items);
    memset(a, 0, sizeof(*a));
}
