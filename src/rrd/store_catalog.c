/* The list of series an RRD output posts for the API (catalog.h). */
#include <stdlib.h>
#include <string.h>

#include "rrd/store_internal.h"

static int
by_id(const void *a, const void *b)
{
    return strcmp(((const struct ixd_rrd_entry *)a)->id, ((const struct ixd_rrd_entry *)b)->id);
}

const struct ixd_rrd_entry *
ixd_rrd_catalog_find(const struct ixd_rrd_catalog *c, const char *id)
{
    struct ixd_rrd_entry key;

    if (strlen(id) >= sizeof(key.id)) {
        return NULL;
    }
    memcpy(key.id, id, strlen(id) + 1);
    return bsearch(&key, c->entries, c->n, sizeof(*c->entries), by_id);
}

void
ixd_rrd_catalog_free(void *arg)
{
    struct ixd_rrd_catalog *c = arg;

    if (c == NULL) {
        return;
    }
    for (size_t i = 0; i < c->n; i++) {
        free(c->entries[i].path);
    }
    free(c->entries);
    free(c->output);
    free(c->directory);
    free(c->rrdcached);
    free(c);
}

static struct ixd_rrd_catalog *
build(struct ixd_rrd_store *st)
{
    struct ixd_rrd_catalog *c = calloc(1, sizeof(*c));
    GHashTableIter it;
    gpointer v;

    if (c == NULL) {
        return NULL;
    }
    c->deviations = st->s->hw.deviations;
    c->output = strdup(st->output);
    c->directory = strdup(st->directory);
    c->rrdcached = st->s->rrdcached[0] != '\0' ? strdup(st->s->rrdcached) : NULL;
    c->entries = calloc(g_hash_table_size(st->series) + 1, sizeof(*c->entries));
    if (c->output == NULL || c->directory == NULL || c->entries == NULL ||
        (st->s->rrdcached[0] != '\0' && c->rrdcached == NULL)) {
        ixd_rrd_catalog_free(c);
        return NULL;
    }
    g_hash_table_iter_init(&it, st->series);
    while (g_hash_table_iter_next(&it, NULL, &v)) {
        const struct series *s = v;
        struct ixd_rrd_entry *e = &c->entries[c->n];
        if (s->state != S_READY && s->state != S_KNOWN) {
            continue; /* no file (yet) */
        }
        memcpy(e->id, s->id, sizeof(e->id));
        e->key = s->key;
        e->hw = s->hw;
        e->written = s->state == S_READY;
        e->path = strdup(s->path);
        if (e->path == NULL) {
            ixd_rrd_catalog_free(c);
            return NULL;
        }
        c->n++;
    }
    qsort(c->entries, c->n, sizeof(*c->entries), by_id);
    return c;
}

void
ixd_rrd_store_post_catalog(struct ixd_rrd_store *st)
{
    struct ixd_rrd_catalog *c;

    if (!st->catalog_changed) {
        return;
    }
    c = build(st);
    if (c == NULL) {
        return; /* out of memory: tried again next round */
    }
    ixd_board_post(st->slot, ixd_board_item_new(c, ixd_rrd_catalog_free));
    st->catalog_changed = 0;
}
