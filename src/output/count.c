/*
 * type: count. Counts the records it receives per exporter address, and does nothing else: the
 * cheapest output there is (a benchmark receiver), a way to see who sends how much through a
 * pipeline, and the worked example of docs/internals/modules.md.
 *
 * Each worker's lane keeps its own table of exporters: the worker fills a slot (address and its
 * text first, then the slot count with a release store) and adds to the slot's counter with
 * relaxed atomics; stats() reads the slot count with an acquire load and sums the lanes. Past
 * `exporters` addresses a lane counts the rest under "other".
 */
#include <glib.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/address.h"
#include "core/relaxed_counter.h"
#include "output/output.h"

struct count_settings {
    uint32_t exporters; /* addresses counted one by one per worker */
};

static const struct ixd_key count_keys[] = {
    {.name = "exporters",
     .kind = IXD_KEY_U32,
     IXD_KEY_AT(struct count_settings, exporters),
     .min = 1,
     .max = 1u << 20,
     .def = "4096",
     .help = "exporter addresses counted one by one per worker; the rest as other"},
    {NULL},
};

struct slot {
    struct in6_addr addr; /* IPv4 mapped */
    char text[48];
    uint64_t records; /* relaxed: the lane's worker adds, stats() reads */
};

struct count_lane {
    struct ixd_lane base;
    uint64_t records, other;
    atomic_size_t used; /* slots published */
    struct slot *slots;
    GHashTable *index; /* address -> slot number + 1: the worker's alone */
    struct slot *last; /* the last batch's: an exporter's batches tend to come in a row */
};

struct count_output {
    struct ixd_output base;
    const struct count_settings *cfg;
    unsigned n_lanes;
    struct count_lane *lanes;
};

static guint
addr_hash(gconstpointer p)
{
    const uint32_t *w = p;
    return w[0] ^ w[1] ^ w[2] ^ w[3];
}

static gboolean
addr_equal(gconstpointer a, gconstpointer b)
{
    return memcmp(a, b, sizeof(struct in6_addr)) == 0;
}

/* The slot of exporter a, made if there is room; NULL when the table is full. */
static struct slot *
slot_of(struct count_output *o, struct count_lane *l, const struct in6_addr *a,
        const struct ixd_source *src)
{
    size_t used = atomic_load_explicit(&l->used, memory_order_relaxed);
    struct slot *s;
    gpointer found;

    found = g_hash_table_lookup(l->index, a);
    if (found != NULL) {
        return &l->slots[GPOINTER_TO_SIZE(found) - 1];
    }
    if (used == o->cfg->exporters) {
        return NULL;
    }
    s = &l->slots[used];
    s->addr = *a;
    snprintf(s->text, sizeof(s->text), "%s", src->exporter_text);
    g_hash_table_insert(l->index, &s->addr, GSIZE_TO_POINTER(used + 1));
    atomic_store_explicit(&l->used, used + 1, memory_order_release);
    return s;
}

static void
count_write(struct ixd_lane *lane, const struct ixd_batch *batch)
{
    struct count_lane *l = (struct count_lane *)lane;
    struct count_output *o = (struct count_output *)lane->output;
    struct in6_addr a;

    /* every record of a batch has the batch's source, and so one exporter */
    ixd_address_mapped((const struct sockaddr *)&batch->source->exporter, &a, NULL);
    if (l->last == NULL || memcmp(&l->last->addr, &a, sizeof(a)) != 0) {
        l->last = slot_of(o, l, &a, batch->source);
    }
    IXD_CNT_ADD(l->records, batch->count);
    if (l->last != NULL) {
        IXD_CNT_ADD(l->last->records, batch->count);
    } else {
        IXD_CNT_ADD(l->other, batch->count);
    }
}

static void
count_flush(struct ixd_lane *lane)
{
    (void)lane; /* nothing is buffered */
}

static struct ixd_lane *
count_lane(struct ixd_output *out, unsigned w)
{
    struct count_output *o = (struct count_output *)out;

    return w < o->n_lanes ? &o->lanes[w].base : NULL;
}

static void
free_output(struct count_output *o)
{
    for (unsigned i = 0; o->lanes != NULL && i < o->n_lanes; i++) {
        free(o->lanes[i].slots);
        if (o->lanes[i].index != NULL) {
            g_hash_table_destroy(o->lanes[i].index);
        }
    }
    free(o->lanes);
    free(o);
}

static struct ixd_output *
count_open(const void *settings, const char *name, unsigned workers, char *err, size_t errlen)
{
    struct count_output *o = calloc(1, sizeof(*o));

    if (o == NULL || (o->lanes = calloc(workers, sizeof(*o->lanes))) == NULL) {
        free(o);
        snprintf(err, errlen, "output %s: out of memory", name);
        return NULL;
    }
    o->base.name = name;
    o->cfg = settings;
    o->n_lanes = workers;
    for (unsigned i = 0; i < workers; i++) {
        struct count_lane *l = &o->lanes[i];
        l->base.output = &o->base;
        l->slots = calloc(o->cfg->exporters, sizeof(*l->slots));
        l->index = g_hash_table_new(addr_hash, addr_equal);
        if (l->slots == NULL) {
            snprintf(err, errlen, "output %s: out of memory for %u exporters", name,
                     o->cfg->exporters);
            free_output(o);
            return NULL;
        }
    }
    return &o->base;
}

static void
count_reopen(struct ixd_output *out)
{
    (void)out; /* nothing to reopen */
}

static void
count_close(struct ixd_output *out)
{
    free_output((struct count_output *)out);
}

static const struct ixd_counter_def count_defs[] = {
    {.key = "other",
     .metric = "ipfixd_output_other_exporters_records_total",
     .kind = IXD_COUNTER_TOTAL,
     .help = "records of exporters beyond the table of one worker's lane"},
    {.key = "records",
     .metric = "ipfixd_output_exporter_records_total",
     .kind = IXD_COUNTER_TOTAL,
     .help = "records per exporter address",
     .label = "exporter"},
};

/* Per exporter, summed over the lanes, in the order the exporters were first seen. */
static void
count_stats(struct ixd_output *out, ixd_counter_fn fn, void *arg)
{
    struct count_output *o = (struct count_output *)out;
    GHashTable *sum = g_hash_table_new(addr_hash, addr_equal);
    GPtrArray *order = g_ptr_array_new();
    uint64_t records = 0, other = 0, *v;

    for (unsigned i = 0; i < o->n_lanes; i++) {
        struct count_lane *l = &o->lanes[i];
        size_t used = atomic_load_explicit(&l->used, memory_order_acquire);

        records += IXD_CNT_GET(l->records);
        other += IXD_CNT_GET(l->other);
        for (size_t k = 0; k < used; k++) {
            struct slot *s = &l->slots[k];
            v = g_hash_table_lookup(sum, &s->addr);
            if (v == NULL) {
                v = g_new0(uint64_t, 1);
                g_hash_table_insert(sum, &s->addr, v);
                g_ptr_array_add(order, s);
            }
            *v += IXD_CNT_GET(s->records);
        }
    }
    fn(arg, ixd_output_records_def, NULL, records);
    fn(arg, &count_defs[0], NULL, other);
    for (guint k = 0; k < order->len; k++) {
        struct slot *s = g_ptr_array_index(order, k);
        v = g_hash_table_lookup(sum, &s->addr);
        fn(arg, &count_defs[1], s->text, *v);
        g_free(v);
    }
    g_ptr_array_free(order, TRUE);
    g_hash_table_destroy(sum);
}

const struct ixd_output_type ixd_output_count = {
    .m =
        {
            .name = "count",
            .keys = count_keys,
            .settings_size = sizeof(struct count_settings),
        },
    .open = count_open,
    .reopen = count_reopen,
    .close = count_close,
    .stats = count_stats,
    .lane = count_lane,
    .write = count_write,
    .flush = count_flush,
};
