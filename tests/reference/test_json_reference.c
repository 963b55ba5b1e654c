/*
 * Differential test of the JSON formatter: every record of the corpus's flow exports (IPFIX and
 * NetFlow datagrams, IPFIX files, the UDP payloads of its pcaps), decoded by ipfixd's decoder
 * with a fixed receive time, is formatted by the reference (json_format_ref.c, the formatter
 * before templates were compiled) and by today's formatter, both as the JSON output runs it
 * (compiled templates, output/json_prog.c) and field by field (ixd_json_record_scaled); the lines
 * must be equal byte for byte. Each record is formatted as sent, renormalised by the sampling
 * rate that applies to it, and multiplied by a fixed rate; and once more with an exporter boot
 * time, so that uptimes are written as absolute times.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "ipfix/decode.h"
#include "ipfix/dispatch.h"
#include "ipfix/ie.h"
#include "ipfix/wire.h"
#include "json_format_ref.h"
#include "output/json_format.h"
#include "send_pcap.h"

#define RECEIVED_USEC 1700000000123456LL
#define BOOT_MS 1699990000000LL /* an exporter boot time for the uptime variant */
#define FIXED_RATE 1000
#define FILES_MAX 512

/* What the comparison saw, and where it stands (for the message of a difference). */
struct diff_state {
    const char *file;
    struct ixd_json_cache *cache;
    size_t records, lines, templates_seen, differences;
    uint64_t serials[4096]; /* templates seen, for the count */
};

static struct diff_state st;

static void
note_template(const struct ixd_template *t)
{
    size_t i;

    for (i = 0; i < st.templates_seen; i++) {
        if (st.serials[i] == t->serial) {
            return;
        }
    }
    if (st.templates_seen < sizeof(st.serials) / sizeof(st.serials[0])) {
        st.serials[st.templates_seen++] = t->serial;
    }
}

/* One line three ways; every buffer of exactly the size the JSON output reserves (ASan). */
static void
compare(const struct ixd_record *r, const struct ixd_source *src, uint32_t rate)
{
    char ref_prefix[512], prefix[512];
    size_t rplen = ref_json_prefix(src, ref_prefix, sizeof(ref_prefix));
    size_t plen = ixd_json_prefix(src, prefix, sizeof(prefix));
    size_t room = plen + ixd_json_bound(r), want_n, got_n, fields_n;
    char *want = malloc(rplen + ref_json_bound(r)), *got = malloc(room), *fields = malloc(room);

    assert_non_null(want);
    assert_non_null(got);
    assert_non_null(fields);
    assert_int_equal(plen, rplen);
    assert_memory_equal(prefix, ref_prefix, plen);
    want_n = ref_json_record_scaled(r, src, rate, ref_prefix, rplen, want);
    got_n = ixd_json_cache_record(st.cache, r, src, rate, prefix, plen, got);
    fields_n = ixd_json_record_scaled(r, src, rate, prefix, plen, fields);
    if (got_n != want_n || memcmp(got, want, want_n) != 0 || fields_n != want_n ||
        memcmp(fields, want, want_n) != 0) {
        if (st.differences++ < 5) {
            print_error("%s: template %u, rate %u:\nwant %.*s\ngot  %.*s\nfields %.*s\n", st.file,
                        r->tmpl->id, rate, (int)want_n, want, (int)got_n, got, (int)fields_n,
                        fields);
        }
    }
    st.lines++;
    free(want);
    free(got);
    free(fields);
}

static void
deliver(void *arg, const struct ixd_batch *b)
{
    const struct ixd_resolver *res = b->source->resolver;
    struct ixd_source booted = *b->source;
    size_t i;

    (void)arg;
    booted.system_init_ms = b->source->system_init_ms != 0 ? 0 : BOOT_MS;
    for (i = 0; i < b->count; i++) {
        const struct ixd_record *r = &b->records[i];
        note_template(r->tmpl);
        compare(r, b->source, 1);
        compare(r, b->source, res != NULL ? res->sampling_of(res, r) : 1);
        compare(r, b->source, FIXED_RATE);
        compare(r, &booted, 1);
        st.records++;
    }
}

static uint8_t *
slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    uint8_t *buf = NULL;
    long n;

    assert_non_null(f);
    if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0) {
        buf = malloc((size_t)n + 1);
        assert_non_null(buf);
        *len = fread(buf, 1, (size_t)n, f);
    }
    fclose(f);
    assert_non_null(buf);
    return buf;
}

static int
ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), k = strlen(suffix);

    return n >= k && strcmp(s + n - k, suffix) == 0;
}

/* The exporter a file stands for: its name up to "_tpl", "_opttpl" or "_data" (the corpus's
 * files of one exporter), or the whole name. */
static void
stem(const char *name, char *out, size_t size)
{
    const char *cut = NULL, *marks[] = {"_tpl", "_opttpl", "_data"};
    size_t i;

    for (i = 0; i < 3; i++) {
        const char *m = strstr(name, marks[i]);
        if (m != NULL && (cut == NULL || m < cut)) {
            cut = m;
        }
    }
    snprintf(out, size, "%.*s", (int)(cut != NULL ? (size_t)(cut - name) : strlen(name)), name);
}

/* Template files before data files of the same exporter, then by name. */
static int
by_exporter(const void *a, const void *b)
{
    const char *x = *(const char *const *)a, *y = *(const char *const *)b;
    char sx[256], sy[256];
    int c, dx, dy;

    stem(x, sx, sizeof(sx));
    stem(y, sy, sizeof(sy));
    c = strcmp(sx, sy);
    if (c != 0) {
        return c;
    }
    dx = strstr(x, "tpl") == NULL;
    dy = strstr(y, "tpl") == NULL;
    return dx != dy ? dx - dy : strcmp(x, y);
}

/* The session of an exporter: a source address of its own per stem (or per directory). */
static struct ixd_session *
session_for(struct ixd_sessions *ss, const char *key)
{
    struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons(4739)};
    uint32_t h = 2166136261u;

    for (; *key != '\0'; key++) {
        h = (h ^ (uint8_t)*key) * 16777619u;
    }
    sin.sin_addr.s_addr = htonl(0x0a000000u | (h & 0xffffff));
    return ixd_session_udp(ss, (const struct sockaddr *)&sin, 1.0);
}

/* An IPFIX file (RFC 5655): its messages one after another. */
static void
file_messages(struct ixd_decoder *dec, struct ixd_session *s, const uint8_t *p, size_t len)
{
    while (len >= IXD_HEADER_LEN) {
        size_t n = ixd_get16(p + 2);
        if (n < IXD_HEADER_LEN || n > len) {
            break;
        }
        ixd_message_process(dec, s, p, n, 1.0, RECEIVED_USEC);
        p += n;
        len -= n;
    }
}

static void
pcap_datagrams(struct ixd_decoder *dec, struct ixd_session *s, const char *path, const uint8_t *buf,
               size_t len)
{
    struct msg_list l = {0};
    struct pcap_stats ps = {0};
    size_t i;

    if (pcap_payloads(path, buf, len, -1, &l, &ps) == 0) {
        for (i = 0; i < l.n; i++) {
            ixd_datagram_process(dec, s, l.v[i].iov_base, l.v[i].iov_len, 1.0, RECEIVED_USEC);
        }
    }
    free(l.v);
}

/* Every flow export of one directory, exporter by exporter, through one collector's sessions;
 * then its subdirectories. */
static void
walk(const char *dir, const struct ixd_template_rules *rules, struct ixd_decoder *dec)
{
    struct ixd_session_limits limits;
    struct ixd_sessions ss;
    char *names[FILES_MAX], *subdirs[FILES_MAX];
    size_t n = 0, nd = 0, i;
    int has_tpl = 0;
    DIR *d = opendir(dir);
    struct dirent *e;

    assert_non_null(d);
    while ((e = readdir(d)) != NULL) {
        char path[4096];
        struct stat sb;
        if (e->d_name[0] == '.') {
            continue;
        }
        snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
        if (stat(path, &sb) == 0 && S_ISDIR(sb.st_mode) && nd < FILES_MAX) {
            subdirs[nd++] = strdup(path);
        } else if ((ends_with(e->d_name, ".dat") || ends_with(e->d_name, ".bin") ||
                    ends_with(e->d_name, ".ipfix") || ends_with(e->d_name, ".pcap")) &&
                   n < FILES_MAX) {
            names[n++] = strdup(e->d_name);
            has_tpl |= strstr(e->d_name, "tpl") != NULL;
        }
    }
    closedir(d);
    qsort(names, n, sizeof(names[0]), by_exporter);
    ixd_session_limits_default(&limits);
    ixd_sessions_init(&ss, "reference", 0, rules, &limits);
    for (i = 0; i < n; i++) {
        char path[4096], key[256];
        struct ixd_session *s;
        size_t len = 0;
        uint8_t *buf;

        snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
        stem(names[i], key, sizeof(key));
        /* without template files, a directory holds one exporter's messages in order */
        s = session_for(&ss, has_tpl ? key : dir);
        assert_non_null(s);
        buf = slurp(path, &len);
        st.file = path;
        if (ends_with(names[i], ".ipfix")) {
            file_messages(dec, s, buf, len);
        } else if (ends_with(names[i], ".pcap")) {
            pcap_datagrams(dec, s, path, buf, len);
        } else {
            ixd_datagram_process(dec, s, buf, len, 1.0, RECEIVED_USEC);
        }
        free(buf);
        free(names[i]);
    }
    ixd_sessions_release(&ss);
    qsort(subdirs, nd, sizeof(subdirs[0]), by_exporter);
    for (i = 0; i < nd; i++) {
        walk(subdirs[i], rules, dec);
        free(subdirs[i]);
    }
}

static void
corpus_lines_equal_reference(void **state)
{
    const char *corpus = getenv("IXD_CORPUS");
    struct ixd_template_rules rules = {0};
    struct ixd_decoder *dec = malloc(sizeof(*dec));
    char err[256], dir[4096];

    (void)state;
    assert_non_null(corpus);
    assert_non_null(dec);
    rules.registry = ixd_ie_registry_new(NULL, 0, err, sizeof(err));
    rules.max_fields = 512;
    assert_non_null(rules.registry);
    st.cache = ixd_json_cache_new();
    assert_non_null(st.cache);
    ixd_decoder_init(dec, deliver, NULL);
    snprintf(dir, sizeof(dir), "%s/flow-exports", corpus);
    walk(dir, &rules, dec);
    print_message("%zu records of %zu templates, %zu lines compared\n", st.records,
                  st.templates_seen, st.lines);
    assert_int_equal(st.differences, 0);
    /* the corpus as it is: thousands of records of well over a hundred templates */
    assert_true(st.records > 5000);
    assert_true(st.templates_seen > 100);
    ixd_json_cache_free(st.cache);
    ixd_ie_registry_free((struct ixd_ie_registry *)rules.registry);
    free(dec);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(corpus_lines_equal_reference),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
