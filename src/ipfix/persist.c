#include "ipfix/persist.h"

#include <errno.h>
#include <fcntl.h>
#include <glib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/file.h"
#include "core/parse.h"
#include "ipfix/wire.h"

/*
 * File layout, big-endian:
 *   "IXDTPL01"  u16 name length, name
 *   u32 entries, then per entry:
 *     addr[16] (IPv4 mapped)  u16 port  u32 odid  s64 refreshed (UNIX seconds)
 *     u16 record length, the template record (an options template when the scope count is set)
 *     u8 options
 *   SHA-256 of everything before it (32 bytes)
 */
#define MAGIC "IXDTPL01"
#define DIGEST 32
#define MAX_FILE (256u << 20)

struct saved_entry {
    struct in6_addr addr;
    uint16_t port;
    uint32_t odid;
    int64_t refreshed;
    int options;
    uint16_t len;
    const uint8_t *record; /* into the file buffer */
};

struct ixd_saved_templates {
    uint8_t *buf;
    size_t n;
    struct saved_entry *entries;
};

char *
ixd_templates_path(const char *dir, const char *collector)
{
    return g_strdup_printf("%s/templates-%s.ipfixd", dir, collector);
}

static void
put(GByteArray *b, const void *p, size_t n)
{
    g_byte_array_append(b, p, (guint)n);
}

static void
put_u16(GByteArray *b, uint16_t v)
{
    uint8_t x[2] = {(uint8_t)(v >> 8), (uint8_t)v};
    put(b, x, 2);
}

static void
put_u32(GByteArray *b, uint32_t v)
{
    put_u16(b, (uint16_t)(v >> 16));
    put_u16(b, (uint16_t)v);
}

static void
put_session(GByteArray *b, const struct ixd_session *s, double now_mono, int64_t now_wall,
            int skip_from_peer, uint32_t *count)
{
    GHashTableIter dit, tit;
    gpointer dv, tv;
    uint8_t rec[IXD_MAX_MESSAGE];

    g_hash_table_iter_init(&dit, s->domains);
    while (g_hash_table_iter_next(&dit, NULL, &dv)) {
        const struct ixd_domain *d = dv;
        g_hash_table_iter_init(&tit, d->templates);
        while (g_hash_table_iter_next(&tit, NULL, &tv)) {
            const struct ixd_template_slot *slot = tv;
            size_t len = ixd_template_encode(slot->tmpl, rec, sizeof(rec));
            int64_t refreshed = now_wall - (int64_t)(now_mono - slot->last_seen);

            if (len == 0 || (skip_from_peer && slot->from_peer)) {
                continue;
            }
            put(b, &s->exporter->addr, 16);
            put_u16(b, s->source.exporter_port);
            put_u32(b, d->odid);
            put_u32(b, (uint32_t)((uint64_t)refreshed >> 32));
            put_u32(b, (uint32_t)refreshed);
            put_u16(b, (uint16_t)len);
            put(b, rec, len);
            put(b, (const uint8_t[]){slot->tmpl->scope_count > 0}, 1);
            (*count)++;
        }
    }
}

uint8_t *
ixd_templates_encode(const char *collector, struct ixd_sessions *const *tables, size_t n,
                     double now_mono, int64_t now_wall, int skip_from_peer, size_t *len,
                     long *count)
{
    GByteArray *b = g_byte_array_new();
    uint8_t digest[DIGEST];
    gsize dlen = sizeof(digest);
    GChecksum *sum;
    uint32_t entries = 0;
    size_t i, count_at;

    put(b, MAGIC, 8);
    put_u16(b, (uint16_t)strlen(collector));
    put(b, collector, strlen(collector));
    count_at = b->len;
    put_u32(b, 0);
    for (i = 0; i < n; i++) {
        struct ixd_session *s;
        for (s = tables[i]->session_lru.head; s != NULL; s = s->all.next) {
            put_session(b, s, now_mono, now_wall, skip_from_peer, &entries);
        }
    }
    b->data[count_at] = (uint8_t)(entries >> 24);
    b->data[count_at + 1] = (uint8_t)(entries >> 16);
    b->data[count_at + 2] = (uint8_t)(entries >> 8);
    b->data[count_at + 3] = (uint8_t)entries;
    sum = g_checksum_new(G_CHECKSUM_SHA256);
    g_checksum_update(sum, b->data, b->len);
    g_checksum_get_digest(sum, digest, &dlen);
    g_checksum_free(sum);
    put(b, digest, sizeof(digest));
    *len = b->len;
    *count = (long)entries;
    return g_byte_array_free(b, FALSE);
}

long
ixd_templates_save(const char *path, const char *collector, struct ixd_sessions *const *tables,
                   size_t n, double now_mono, int64_t now_wall, char *err, size_t errlen)
{
    size_t len;
    long count;
    uint8_t *buf = ixd_templates_encode(collector, tables, n, now_mono, now_wall, 0, &len, &count);
    /* a temporary file of a random name, renamed over path: core/file.c says why */
    int rc = ixd_file_replace(path, buf, len, 0640);

    if (rc == -1) {
        snprintf(err, errlen, "cannot write %s: %s", path, strerror(errno));
    }
    g_free(buf);
    return rc == 0 ? count : -1;
}

/* Checks the digest and the header; sets *p past the header and *count. */
static int
check_file(const uint8_t *buf, size_t len, const char *collector, const uint8_t **p,
           uint32_t *count, char *err, size_t errlen)
{
    uint8_t digest[DIGEST];
    gsize dlen = sizeof(digest);
    GChecksum *sum;
    size_t namelen;

    if (len < 8 + 2 + 4 + DIGEST || memcmp(buf, MAGIC, 8) != 0) {
        snprintf(err, errlen, "not an ipfixd template file");
        return -1;
    }
    sum = g_checksum_new(G_CHECKSUM_SHA256);
    g_checksum_update(sum, buf, len - DIGEST);
    g_checksum_get_digest(sum, digest, &dlen);
    g_checksum_free(sum);
    if (memcmp(digest, buf + len - DIGEST, DIGEST) != 0) {
        snprintf(err, errlen, "checksum mismatch (corrupt or cut short)");
        return -1;
    }
    namelen = ixd_get16(buf + 8);
    if (10 + namelen + 4 > len - DIGEST || namelen != strlen(collector) ||
        memcmp(buf + 10, collector, namelen) != 0) {
        snprintf(err, errlen, "written for another collector");
        return -1;
    }
    *p = buf + 10 + namelen + 4;
    *count = ixd_get32(buf + 10 + namelen);
    return 0;
}

static int
parse_entries(struct ixd_saved_templates *st, const uint8_t *p, const uint8_t *end,
              uint32_t count, char *err, size_t errlen)
{
    uint32_t i;

    /* the count is input too: no allocation beyond what the file can hold (33 bytes each) */
    if (count > (size_t)(end - p) / 33) {
        snprintf(err, errlen, "%u entries cannot fit in %zu bytes", count, (size_t)(end - p));
        return -1;
    }
    st->entries = calloc(count ? count : 1, sizeof(*st->entries));
    if (st->entries == NULL) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    for (i = 0; i < count; i++) {
        struct saved_entry *e = &st->entries[i];
        if ((size_t)(end - p) < 16 + 2 + 4 + 8 + 2) {
            snprintf(err, errlen, "entry %u is cut short", i);
            return -1;
        }
        memcpy(&e->addr, p, 16);
        e->port = ixd_get16(p + 16);
        e->odid = ixd_get32(p + 18);
        e->refreshed = (int64_t)ixd_get64(p + 22);
        e->len = ixd_get16(p + 30);
        p += 32;
        if ((size_t)(end - p) < (size_t)e->len + 1) {
            snprintf(err, errlen, "entry %u is cut short", i);
            return -1;
        }
        e->record = p;
        e->options = p[e->len] != 0;
        p += e->len + 1;
        st->n++;
    }
    if (p != end) {
        snprintf(err, errlen, "%zu bytes after the last entry", (size_t)(end - p));
        return -1;
    }
    return 0;
}

/* Takes over buf (malloc'd) whatever happens. */
static struct ixd_saved_templates *
decode_owned(uint8_t *buf, size_t len, const char *collector, char *err, size_t errlen)
{
    struct ixd_saved_templates *st = calloc(1, sizeof(*st));
    const uint8_t *p;
    uint32_t count;

    if (st == NULL) {
        free(buf);
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    st->buf = buf;
    if (check_file(st->buf, len, collector, &p, &count, err, errlen) == -1 ||
        parse_entries(st, p, st->buf + len - DIGEST, count, err, errlen) == -1) {
        ixd_saved_templates_free(st);
        return NULL;
    }
    return st;
}

struct ixd_saved_templates *
ixd_templates_decode(const uint8_t *data, size_t len, const char *collector, char *err,
                     size_t errlen)
{
    uint8_t *copy = malloc(len > 0 ? len : 1);

    err[0] = '\0';
    if (copy == NULL) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    if (len > 0) {
        memcpy(copy, data, len);
    }
    return decode_owned(copy, len, collector, err, errlen);
}

struct ixd_saved_templates *
ixd_templates_load(const char *path, const char *collector, char *err, size_t errlen)
{
    char *buf;
    size_t len;

    err[0] = '\0';
    if (ixd_read_file(path, MAX_FILE, &buf, &len) == -1) {
        if (errno != ENOENT) {
            snprintf(err, errlen, "cannot read: %s", ixd_read_error(errno));
        }
        return NULL;
    }
    return decode_owned((uint8_t *)buf, len, collector, err, errlen);
}

/*
 * from_peer: the templates come from the HA peer (ixd_domain_peer_template: never over a
 * template this worker refreshed more recently, and marked so that they are not shared back).
 */
static size_t
restore(const struct ixd_saved_templates *st, struct ixd_sessions *ss, double now_mono,
        int64_t now_wall, int from_peer)
{
    size_t i, restored = 0;

    for (i = 0; i < st->n; i++) {
        const struct saved_entry *e = &st->entries[i];
        int64_t age;
        struct ixd_session *s;
        struct ixd_domain *d;
        struct ixd_template *t;
        enum ixd_error why;
        size_t used;
        uint16_t tid;

        /* a file is input: compare without subtracting arbitrary numbers */
        if (e->refreshed > now_wall ||
            e->refreshed <= now_wall - (int64_t)ss->limits.template_lifetime) {
            continue;
        }
        age = now_wall - e->refreshed;
        d = ixd_sessions_saved_domain(ss, &e->addr, e->port, e->odid, now_mono, &s);
        /* the same checks as on the wire: a file is input too */
        if (d == NULL || ixd_template_parse(e->record, e->len, e->options, &ss->rules, &t, &tid,
                                            &used, &why) != IXD_TPARSE_TEMPLATE) {
            continue;
        }
        if (from_peer) {
            restored += ixd_domain_peer_template(s, d, t, now_mono - (double)age) == 1;
        } else {
            restored += ixd_domain_restore_template(s, d, t, now_mono - (double)age) == 1;
        }
    }
    return restored;
}

size_t
ixd_templates_restore(const struct ixd_saved_templates *st, struct ixd_sessions *ss,
                      double now_mono, int64_t now_wall)
{
    return restore(st, ss, now_mono, now_wall, 0);
}

size_t
ixd_templates_restore_peer(const struct ixd_saved_templates *st, struct ixd_sessions *ss,
                           double now_mono, int64_t now_wall)
{
    return restore(st, ss, now_mono, now_wall, 1);
}

size_t
ixd_saved_templates_count(const struct ixd_saved_templates *st)
{
    return st->n;
}

void
ixd_saved_templates_free(struct ixd_saved_templates *st)
{
    if (st == NULL) {
        return;
    }
    free(st->entries);
    free(st->buf);
    free(st);
}
