#include "ha/state.h"

#include <arpa/inet.h>
#include <glib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ipfix/wire.h"

/*
 * Sequences layout, big-endian:
 *   "IXDSEQ01"  u16 name length, name  u32 entries, then per entry:
 *     addr[16] (IPv4 mapped)  u16 port  u32 odid  u32 next expected  s64 set at (UNIX ms)
 * No digest: the frame that carries it is authenticated (src/ha/protocol.h).
 */
#define SEQ_MAGIC "IXDSEQ01"
#define SEQ_ENTRY 34

void
ixd_ha_items_free(struct ixd_ha_item *items)
{
    while (items != NULL) {
        struct ixd_ha_item *next = items->next;
        free(items);
        items = next;
    }
}

/* A copy of data in an item (NULL when out of memory: the next change shares again). */
static struct ixd_ha_item *
item_new(const char *collector, uint8_t kind, unsigned worker, uint32_t count, uint8_t *data,
         size_t len)
{
    struct ixd_ha_item *it = malloc(sizeof(*it) + len);

    if (it != NULL) {
        memset(it, 0, sizeof(*it));
        snprintf(it->collector, sizeof(it->collector), "%s", collector);
        it->kind = kind;
        it->worker = (uint16_t)worker;
        it->count = count;
        it->len = len;
        memcpy(it->data, data, len);
    }
    return it;
}

static void
put_be(uint8_t *p, uint64_t v, unsigned bytes)
{
    while (bytes-- > 0) {
        p[bytes] = (uint8_t)v;
        v >>= 8;
    }
}

uint8_t *
ixd_ha_sequences_encode(struct ixd_sessions *ss, double now_mono, int64_t now_wall_ms, size_t *len,
                        uint32_t *count)
{
    size_t namelen = strlen(ss->collector), cap = 8 + 2 + namelen + 4, used;
    struct ixd_session *s;
    uint32_t n = 0;
    uint8_t *buf;

    for (s = ss->session_lru.head; s != NULL; s = s->all.next) {
        cap += (size_t)g_hash_table_size(s->domains) * SEQ_ENTRY;
    }
    buf = malloc(cap);
    if (buf == NULL) {
        return NULL;
    }
    memcpy(buf, SEQ_MAGIC, 8);
    put_be(buf + 8, namelen, 2);
    memcpy(buf + 10, ss->collector, namelen);
    used = 10 + namelen + 4;
    for (s = ss->session_lru.head; s != NULL; s = s->all.next) {
        GHashTableIter it;
        gpointer v;

        g_hash_table_iter_init(&it, s->domains);
        while (g_hash_table_iter_next(&it, NULL, &v)) {
            const struct ixd_domain *d = v;
            uint8_t *e = buf + used;

            /* the peer's own numbers go back to it never (no echo) */
            if (!d->seq_valid || d->seq_from_peer) {
                continue;
            }
            memcpy(e, &s->exporter->addr, 16);
            put_be(e + 16, s->source.exporter_port, 2);
            put_be(e + 18, d->odid, 4);
            put_be(e + 22, d->seq_next, 4);
            put_be(e + 26, (uint64_t)(now_wall_ms - (int64_t)((now_mono - d->seq_time) * 1000)), 8);
            used += SEQ_ENTRY;
            n++;
        }
    }
    put_be(buf + 10 + namelen, n, 4);
    *len = used;
    *count = n;
    return buf;
}

void
ixd_ha_publish_begin(struct ixd_ha_outbox *ob)
{
    struct ixd_ha_item *old = atomic_exchange(&ob->slot, NULL);

    /* not taken (the control thread is slow or has no channel): everything again */
    if (old != NULL) {
        ixd_ha_items_free(old);
        ob->force = 1;
    }
    ob->building = NULL;
}

static void
push(struct ixd_ha_outbox *ob, struct ixd_ha_item *it)
{
    if (it != NULL) {
        it->next = ob->building;
        ob->building = it;
    }
}

void
ixd_ha_publish_add(struct ixd_ha_outbox *ob, struct ixd_sessions *ss, unsigned worker,
                   double now_mono, int64_t now_wall_ms)
{
    struct ixd_ha_marks *m = &ss->ha;
    int templates = ob->force || m->changes != m->shared_changes ||
                    (m->refreshes != m->shared_refreshes &&
                     now_mono - m->templates_shared_at >= IXD_HA_REFRESH_SHARE);
    int sequences = ob->force || m->sequences != m->shared_sequences;
    uint8_t *data;
    size_t len;

    if (templates) {
        long count = 0;
        struct ixd_sessions *tables[1] = {ss};

        data = ixd_templates_encode(ss->collector, tables, 1, now_mono, now_wall_ms / 1000, 1, &len,
                                    &count);
        push(ob,
             item_new(ss->collector, IXD_HA_KIND_TEMPLATES, worker, (uint32_t)count, data, len));
        g_free(data);
        m->shared_changes = m->changes;
        m->shared_refreshes = m->refreshes;
        m->templates_shared_at = now_mono;
    }
    if (sequences) {
        uint32_t count = 0;

        data = ixd_ha_sequences_encode(ss, now_mono, now_wall_ms, &len, &count);
        if (data != NULL) {
            push(ob, item_new(ss->collector, IXD_HA_KIND_SEQUENCES, worker, count, data, len));
            free(data);
        }
        m->shared_sequences = m->sequences;
    }
}

void
ixd_ha_publish_end(struct ixd_ha_outbox *ob)
{
    if (ob->building != NULL) {
        /* the slot is empty since begin: only this thread fills it */
        atomic_store(&ob->slot, ob->building);
        ob->building = NULL;
    }
    ob->force = 0;
}

struct ixd_ha_item *
ixd_ha_outbox_take(struct ixd_ha_outbox *ob)
{
    return atomic_exchange(&ob->slot, NULL);
}

static int
decode_sequences(const char *collector, const uint8_t *p, size_t len, struct ixd_ha_peer_state *st,
                 char *err, size_t errlen)
{
    size_t namelen, i, n;

    if (len < 14 || memcmp(p, SEQ_MAGIC, 8) != 0) {
        snprintf(err, errlen, "not a sequence list");
        return -1;
    }
    namelen = ixd_get16(p + 8);
    if (10 + namelen + 4 > len || namelen != strlen(collector) ||
        memcmp(p + 10, collector, namelen) != 0) {
        snprintf(err, errlen, "sequence list of another collector");
        return -1;
    }
    n = ixd_get32(p + 10 + namelen);
    p += 14 + namelen;
    len -= 14 + namelen;
    if (n != len / SEQ_ENTRY || len % SEQ_ENTRY != 0) {
        snprintf(err, errlen, "%zu sequence entries do not fill %zu bytes", n, len);
        return -1;
    }
    st->seqs = calloc(n ? n : 1, sizeof(*st->seqs));
    if (st->seqs == NULL) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    for (i = 0; i < n; i++, p += SEQ_ENTRY) {
        struct ixd_ha_seq *q = &st->seqs[i];
        memcpy(&q->addr, p, 16);
        q->port = ixd_get16(p + 16);
        q->odid = ixd_get32(p + 18);
        q->next = ixd_get32(p + 22);
        q->time_ms = (int64_t)ixd_get64(p + 26);
    }
    st->n_seqs = n;
    return 0;
}

int
ixd_ha_peer_state_decode(const char *collector, uint8_t kind, const uint8_t *data, size_t len,
                         struct ixd_ha_peer_state *st, char *err, size_t errlen)
{
    memset(st, 0, sizeof(*st));
    if (strlen(collector) >= sizeof(st->collector)) {
        snprintf(err, errlen, "collector name too long");
        return -1;
    }
    snprintf(st->collector, sizeof(st->collector), "%s", collector);
    if (kind == IXD_HA_KIND_TEMPLATES) {
        st->templates = ixd_templates_decode(data, len, collector, err, errlen);
        return st->templates != NULL ? 0 : -1;
    }
    if (kind == IXD_HA_KIND_SEQUENCES) {
        return decode_sequences(collector, data, len, st, err, errlen);
    }
    snprintf(err, errlen, "unknown item kind %u", kind);
    return -1;
}

void
ixd_ha_peer_state_release(struct ixd_ha_peer_state *st)
{
    ixd_saved_templates_free(st->templates);
    free(st->seqs);
    memset(st, 0, sizeof(*st));
}

size_t
ixd_ha_peer_state_count(const struct ixd_ha_peer_state *st)
{
    return st->templates != NULL ? ixd_saved_templates_count(st->templates) : st->n_seqs;
}

void
ixd_ha_restore(const struct ixd_ha_peer_state *st, struct ixd_sessions *ss, double now_mono,
               int64_t now_wall_ms, struct ixd_ha_restored *got)
{
    size_t i;

    if (st->templates != NULL) {
        got->templates +=
            ixd_templates_restore_peer(st->templates, ss, now_mono, now_wall_ms / 1000);
    }
    for (i = 0; i < st->n_seqs; i++) {
        const struct ixd_ha_seq *q = &st->seqs[i];
        struct ixd_domain *d;

        /* a time in the future or older than a template's life tells nothing useful */
        if (q->time_ms > now_wall_ms + 1000 ||
            q->time_ms < now_wall_ms - (int64_t)ss->limits.template_lifetime * 1000) {
            continue;
        }
        d = ixd_sessions_saved_domain(ss, &q->addr, q->port, q->odid, now_mono, NULL);
        if (d != NULL) {
            got->sequences += (size_t)ixd_domain_peer_sequence(
                d, q->next, now_mono - (double)(now_wall_ms - q->time_ms) / 1000.0);
        }
    }
}
