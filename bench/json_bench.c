/*
 * Nanoseconds (of the thread's CPU time) per record of JSON formatting, in-process: the records
 * ipfixd-send sends (the 15-element IPv4 or IPv6 template, record k derived from k), decoded by
 * ipfixd's own decoder into batches, then formatted line after line into a 1 MiB buffer as the JSON
 * output does (prefix per batch, room reserved per record). Alongside: copying the same bytes
 * (memcpy of the finished lines), the least any formatter writing them can cost. Not part of ctest
 * (timings belong here). Built with the tree: build/bench/ixd-json-bench [-6] [-c] [rounds] (-c:
 * the compiled templates alone, for a profiler);
 * bench/json_bench_callgrind.sh counts its instructions per record, which load does not move.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <arpa/inet.h>

#include "ipfix/decode.h"
#include "ipfix/ie.h"
#include "ipfix/wire.h"
#include "output/json_format.h"
#include "../src/tools/send_synth.h"

#define MESSAGES 200
#define RECORDS_MAX (MESSAGES * 32)
#define OUT_SIZE (1u << 20)
#define RECEIVED_USEC 1700000000123456LL

struct corpus {
    struct ixd_record records[RECORDS_MAX];
    size_t batch_of[RECORDS_MAX]; /* first record of the record's batch */
    size_t n;
    struct ixd_source src;
};

static struct corpus corpus;
static uint8_t msgs[MESSAGES][1500];

static void
keep(void *arg, const struct ixd_batch *b)
{
    size_t i, first = corpus.n;

    (void)arg;
    corpus.src = *b->source;
    for (i = 0; i < b->count && corpus.n < RECORDS_MAX; i++) {
        corpus.batch_of[corpus.n] = first;
        corpus.records[corpus.n++] = b->records[i];
    }
}

/* The thread's CPU time, not the wall clock: on a shared machine the time the thread waits
 * for a core is not formatting. */
static double
now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static size_t
header(uint8_t *m, size_t len, uint32_t seq)
{
    ixd_put16(m, IXD_IPFIX_VERSION);
    ixd_put16(m + 2, (uint16_t)len);
    ixd_put32(m + 4, 1700000000u);
    ixd_put32(m + 8, seq);
    ixd_put32(m + 12, 1);
    return len;
}

/* The template message of ipfixd-send's 15-element template. */
static size_t
template_msg(uint8_t *m, int ipv6)
{
    static const uint16_t v4[15] = {8, 12, 7, 11, 4, 6, 5, 10, 14, 2, 1, 152, 153, 15, 16};
    static const uint16_t v6[15] = {27, 28, 7, 11, 4, 6, 5, 10, 14, 2, 1, 152, 153, 62, 16};
    static const uint16_t len4[15] = {4, 4, 2, 2, 1, 2, 1, 4, 4, 8, 8, 8, 8, 4, 4};
    static const uint16_t len6[15] = {16, 16, 2, 2, 1, 2, 1, 4, 4, 8, 8, 8, 8, 16, 4};
    uint8_t *p = m + IXD_HEADER_LEN;
    int i;

    ixd_put16(p, 2);
    ixd_put16(p + 2, 8 + 15 * 4);
    ixd_put16(p + 4, SYNTH_TEMPLATE_ID);
    ixd_put16(p + 6, 15);
    for (i = 0; i < 15; i++) {
        ixd_put16(p + 8 + 4 * i, ipv6 ? v6[i] : v4[i]);
        ixd_put16(p + 10 + 4 * i, ipv6 ? len6[i] : len4[i]);
    }
    return header(m, IXD_HEADER_LEN + 8 + 15 * 4, 0);
}

static size_t
data_msg(uint8_t *m, int ipv6, uint64_t k0, unsigned n, uint32_t seq)
{
    unsigned rlen = synth_record_len(ipv6), i;
    uint8_t *p = m + IXD_HEADER_LEN;

    ixd_put16(p, SYNTH_TEMPLATE_ID);
    ixd_put16(p + 2, (uint16_t)(4 + n * rlen));
    for (i = 0; i < n; i++) {
        synth_encode_record(p + 4 + (size_t)i * rlen, k0 + i, ipv6);
    }
    return header(m, IXD_HEADER_LEN + 4 + n * rlen, seq);
}

/* Formats every record of the corpus, rounds times, through the compiled templates of cache
 * (as the JSON output does) or field by field (cache NULL); returns ns per record, *bytes per
 * record. */
__attribute__((noinline, noipa)) static double
format_all(struct ixd_json_cache *cache, char *out, int rounds, double *bytes)
{
    static char prefix[512];
    size_t i, used = 0, plen = 0, total = 0;
    double t0 = now_ns();
    int k;

    for (k = 0; k < rounds; k++) {
        for (i = 0; i < corpus.n; i++) {
            const struct ixd_record *r = &corpus.records[i];
            size_t need, n;

            if (corpus.batch_of[i] == i) {
                plen = ixd_json_prefix(&corpus.src, prefix, sizeof(prefix));
            }
            need = plen + ixd_json_bound(r);
            if (used + need > OUT_SIZE) {
                used = 0;
            }
            n = cache != NULL
                    ? ixd_json_cache_record(cache, r, &corpus.src, 1, prefix, plen, out + used)
                    : ixd_json_record_scaled(r, &corpus.src, 1, prefix, plen, out + used);
            used += n;
            total += n;
        }
    }
    *bytes = (double)total / ((double)rounds * (double)corpus.n);
    return (now_ns() - t0) / ((double)rounds * (double)corpus.n);
}

/* The two formatters apart, so that callgrind counts each (bench/json_bench_callgrind.sh). */
__attribute__((noinline, noipa)) static double
format_compiled(struct ixd_json_cache *cache, char *out, int rounds, double *bytes)
{
    double ns = format_all(cache, out, rounds, bytes);

    __asm__ volatile("" ::: "memory"); /* no tail call: callgrind sees this function's calls */
    return ns;
}

__attribute__((noinline, noipa)) static double
format_fields(char *out, int rounds, double *bytes)
{
    double ns = format_all(NULL, out, rounds, bytes);

    __asm__ volatile("" ::: "memory");
    return ns;
}

/* The same bytes copied line by line from a formatted copy: what writing them costs at least. */
static double
copy_all(char *out, const char *lines, const size_t *lens, int rounds)
{
    size_t i, used = 0, at;
    double t0 = now_ns();
    int k;

    for (k = 0; k < rounds; k++) {
        for (i = 0, at = 0; i < corpus.n; i++) {
            if (used + lens[i] > OUT_SIZE) {
                used = 0;
            }
            memcpy(out + used, lines + at, lens[i]);
            __asm__ volatile("" ::"r"(out + used) : "memory");
            used += lens[i];
            at += lens[i];
        }
    }
    return (now_ns() - t0) / ((double)rounds * (double)corpus.n);
}

static int
load(int ipv6, struct ixd_sessions *ss, struct ixd_decoder *dec)
{
    static struct ixd_template_rules rules;
    struct ixd_session_limits limits;
    struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons(4739)};
    struct ixd_session *s;
    char err[256];
    unsigned per = ipv6 ? SYNTH_DEFAULT_RPM_V6 : SYNTH_DEFAULT_RPM_V4, j;
    uint32_t seq = 0;

    rules.registry = ixd_ie_registry_new(NULL, 0, err, sizeof(err));
    rules.max_fields = 512;
    if (rules.registry == NULL) {
        fprintf(stderr, "json-bench: %s\n", err);
        return -1;
    }
    ixd_session_limits_default(&limits);
    ixd_sessions_init(ss, "bench", 0, &rules, &limits);
    sin.sin_addr.s_addr = htonl(0xc0000201);
    s = ixd_session_udp(ss, (const struct sockaddr *)&sin, 1.0);
    ixd_decoder_init(dec, keep, NULL);
    if (s == NULL || ixd_message_process(dec, s, msgs[0], template_msg(msgs[0], ipv6), 1.0,
                                         RECEIVED_USEC) != 0) {
        fprintf(stderr, "json-bench: cannot set up the session\n");
        return -1;
    }
    for (j = 0; j < MESSAGES; j++) {
        size_t len = data_msg(msgs[j], ipv6, (uint64_t)j * per * 7919, per, seq);
        if (ixd_message_process(dec, s, msgs[j], len, 1.0, RECEIVED_USEC) != (int)per) {
            fprintf(stderr, "json-bench: message %u not decoded\n", j);
            return -1;
        }
        seq += per;
    }
    return 0;
}

int
main(int argc, char **argv)
{
    static struct ixd_sessions ss;
    static struct ixd_decoder dec;
    int ipv6 = 0, compiled_only = 0, arg, rounds;
    char *out = malloc(OUT_SIZE), *lines = malloc((size_t)RECORDS_MAX * 2048);
    size_t *lens = calloc(RECORDS_MAX, sizeof(*lens));
    struct ixd_json_cache *cache = ixd_json_cache_new();
    double bytes, fmt, by_field, copy;
    size_t i, at = 0, plen = 0;
    char prefix[512];

    for (arg = 1; arg < argc && argv[arg][0] == '-'; arg++) {
        if (strcmp(argv[arg], "-6") == 0) {
            ipv6 = 1;
        } else if (strcmp(argv[arg], "-c") == 0) {
            compiled_only = 1; /* for perf record: the compiled templates' samples alone */
        } else {
            fprintf(stderr, "usage: ixd-json-bench [-6] [-c] [rounds]\n");
            return 2;
        }
    }
    rounds = arg < argc ? (int)strtol(argv[arg], NULL, 10) : 500;
    if (out == NULL || lines == NULL || lens == NULL || cache == NULL ||
        load(ipv6, &ss, &dec) == -1) {
        return 1;
    }
    memset(out, 0, OUT_SIZE); /* touched once: no page faults in the timed loops */
    for (i = 0; i < corpus.n; i++) {
        if (corpus.batch_of[i] == i) {
            plen = ixd_json_prefix(&corpus.src, prefix, sizeof(prefix));
        }
        lens[i] =
            ixd_json_record_scaled(&corpus.records[i], &corpus.src, 1, prefix, plen, lines + at);
        at += lens[i];
    }
    format_all(cache, out, rounds / 10 + 1, &bytes); /* warm-up */
    fmt = format_compiled(cache, out, rounds, &bytes);
    by_field = compiled_only ? 0 : format_fields(out, rounds, &bytes);
    copy = compiled_only ? 0 : copy_all(out, lines, lens, rounds);
    printf("%s template, %zu records in batches of %u, %d rounds: %zu records per formatter\n",
           ipv6 ? "IPv6" : "IPv4", corpus.n, ipv6 ? SYNTH_DEFAULT_RPM_V6 : SYNTH_DEFAULT_RPM_V4,
           rounds, corpus.n * (size_t)rounds);
    printf("format (compiled template, as the JSON output): %.1f ns/record (%.1f bytes/record)\n",
           fmt, bytes);
    if (!compiled_only) {
        printf("format field by field: %.1f ns/record\n", by_field);
        printf("copy of the same lines: %.1f ns/record\n", copy);
    }
    fwrite(lines, 1, lens[0], stdout);
    ixd_json_cache_free(cache);
    ixd_sessions_release(&ss);
    free(out);
    free(lines);
    free(lens);
    return 0;
}
