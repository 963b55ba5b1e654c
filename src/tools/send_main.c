/* ipfixd-send: IPFIX load generator for ipfixd's tests and benchmarks (CLI and summary).
 * See docs/ipfixd-send.md for the options and the exact synthetic record values. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* sigaction, getopt_long */
#endif
#include "send_common.h"
#include "send_pace.h"
#include "send_replay.h"
#include "send_synth.h"

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef IXD_VERSION
#define IXD_VERSION "unknown"
#endif

#define EXIT_USAGE 2
#define MAX_RATE 1000000000ull /* keeps the pacing arithmetic within 64 bits */
#define MAX_EXPORTERS 4096u
#define MAX_CHUNK (1u << 30)
#define MAX_TMPL_INTERVAL 86400u

enum {
    OPT_TMPL_INTERVAL = 256,
    OPT_START,
    OPT_RAW,
    OPT_PCAP_PORT,
    OPT_REPEAT,
};

struct opts {
    int tcp;
    int ipv6;
    int raw;
    int quiet;
    int pcap_port;
    unsigned rpm; /* 0 = default for the template */
    unsigned exporters;
    unsigned tmpl_interval;
    unsigned repeat;
    uint32_t odid;
    uint64_t count;
    uint64_t rate;
    uint64_t start;
    size_t chunk;
    const char *synth_only; /* first synthetic-only option given, for the replay check */
    const char *replay_only;
    struct replay_src *srcs;
    size_t nsrc;
    const char *dest;
};

static const struct option long_opts[] = {
    {"udp", no_argument, NULL, 'u'},
    {"tcp", no_argument, NULL, 'T'},
    {"count", required_argument, NULL, 'n'},
    {"rate", required_argument, NULL, 'r'},
    {"ipv6", no_argument, NULL, '6'},
    {"records-per-message", required_argument, NULL, 'R'},
    {"exporters", required_argument, NULL, 'e'},
    {"odid", required_argument, NULL, 'o'},
    {"template-interval", required_argument, NULL, OPT_TMPL_INTERVAL},
    {"start", required_argument, NULL, OPT_START},
    {"file", required_argument, NULL, 'f'},
    {"raw", no_argument, NULL, OPT_RAW},
    {"pcap", required_argument, NULL, 'p'},
    {"pcap-port", required_argument, NULL, OPT_PCAP_PORT},
    {"chunk", required_argument, NULL, 'c'},
    {"repeat", required_argument, NULL, OPT_REPEAT},
    {"quiet", no_argument, NULL, 'q'},
    {"help", no_argument, NULL, 'h'},
    {"version", no_argument, NULL, 'V'},
    {NULL, 0, NULL, 0},
};

static void
usage(FILE *f)
{
    fputs("Usage: " SEND_PROG " [options] HOST:PORT   (HOST: IPv4, [IPv6] or a name)\n"
          "Send synthetic IPFIX records, or replay IPFIX files / pcap captures.\n"
          "  -u, --udp                 UDP (default)\n"
          "  -T, --tcp                 TCP\n"
          "  -n, --count N             records to send (synthetic; default 1000000)\n"
          "  -r, --rate N              data records/s (a message without countable records\n"
          "                            counts as one); 0 = max\n"
          "  -6, --ipv6                use the IPv6 template\n"
          "  -R, --records-per-message N   default 21 (IPv4) / 13 (IPv6)\n"
          "  -e, --exporters N         simulated exporters: sockets/connections (default 1)\n"
          "  -o, --odid N              observation domain ID (default 1)\n"
          "      --template-interval S UDP: resend the template every S s (default 5; 0 = once)\n"
          "      --start K             index of the first record (default 0)\n"
          "  -f, --file FILE           replay a file of IPFIX messages (repeatable)\n"
          "      --raw                 send each -f file whole as one datagram\n"
          "  -p, --pcap FILE           replay the UDP payloads of a pcap file (repeatable)\n"
          "      --pcap-port P         only packets to UDP destination port P\n"
          "  -c, --chunk N             TCP: write the stream in pieces of at most N bytes\n"
          "      --repeat N            replay everything N times (default 1)\n"
          "  -q, --quiet               no summary\n"
          "  -h, --help                this help\n"
          "  -V, --version             print the version\n",
          f);
}

static int
usage_error(void)
{
    fputs("Try '" SEND_PROG " --help' for more information.\n", stderr);
    return EXIT_USAGE;
}

/* Decimal in [min, max]; prints "cannot parse WHAT 'ARG'" or a range error. */
static int
parse_num(const char *arg, const char *what, uint64_t min, uint64_t max, uint64_t *out)
{
    char *end;
    /* strtoull would accept "-1" (wrapping it) and leading blanks: insist on a digit. */
    if (arg[0] < '0' || arg[0] > '9') {
        fprintf(stderr, SEND_PROG ": cannot parse %s '%s'\n", what, arg);
        return -1;
    }
    errno = 0;
    unsigned long long v = strtoull(arg, &end, 10);
    if (*end != '\0') {
        fprintf(stderr, SEND_PROG ": cannot parse %s '%s'\n", what, arg);
        return -1;
    }
    if (errno == ERANGE || v < min || v > max) {
        fprintf(stderr, SEND_PROG ": %s '%s' out of range (%llu-%llu)\n", what, arg,
                (unsigned long long)min, (unsigned long long)max);
        return -1;
    }
    *out = v;
    return 0;
}

static int
add_source(struct opts *o, const char *path, int pcap)
{
    struct replay_src *n = realloc(o->srcs, (o->nsrc + 1) * sizeof(*n));
    if (!n) {
        fprintf(stderr, SEND_PROG ": out of memory\n");
        return -1;
    }
    o->srcs = n;
    o->srcs[o->nsrc].path = path;
    o->srcs[o->nsrc].pcap = pcap;
    o->nsrc++;
    return 0;
}

/* Apply one option with a numeric argument. */
static int
numeric_opt(struct opts *o, int c, const char *arg)
{
    uint64_t v;
    switch (c) {
    case 'n':
        o->synth_only = "-n/--count";
        return parse_num(arg, "count", 0, UINT64_MAX, &o->count);
    case 'r':
        return parse_num(arg, "rate", 0, MAX_RATE, &o->rate);
    case 'R':
        o->synth_only = "-R/--records-per-message";
        if (parse_num(arg, "records per message", 1, IXD_MAX_MESSAGE, &v) < 0)
            return -1;
        o->rpm = (unsigned)v;
        return 0;
    case 'e':
        if (parse_num(arg, "exporter count", 1, MAX_EXPORTERS, &v) < 0)
            return -1;
        o->exporters = (unsigned)v;
        return 0;
    case 'o':
        o->synth_only = "-o/--odid";
        if (parse_num(arg, "observation domain ID", 0, UINT32_MAX, &v) < 0)
            return -1;
        o->odid = (uint32_t)v;
        return 0;
    case OPT_TMPL_INTERVAL:
        o->synth_only = "--template-interval";
        if (parse_num(arg, "template interval", 0, MAX_TMPL_INTERVAL, &v) < 0)
            return -1;
        o->tmpl_interval = (unsigned)v;
        return 0;
    case OPT_START:
        o->synth_only = "--start";
        return parse_num(arg, "start index", 0, UINT64_MAX, &o->start);
    case OPT_PCAP_PORT:
        o->replay_only = "--pcap-port";
        if (parse_num(arg, "pcap port", 1, 65535, &v) < 0)
            return -1;
        o->pcap_port = (int)v;
        return 0;
    case 'c':
        if (parse_num(arg, "chunk size", 1, MAX_CHUNK, &v) < 0)
            return -1;
        o->chunk = (size_t)v;
        return 0;
    case OPT_REPEAT:
        o->replay_only = "--repeat";
        if (parse_num(arg, "repeat count", 1, UINT32_MAX, &v) < 0)
            return -1;
        o->repeat = (unsigned)v;
        return 0;
    default:
        return -1;
    }
}

/* Options that cannot be combined, checked once everything is parsed. */
static int
check_opts(const struct opts *o)
{
    if (o->nsrc && o->synth_only) {
        fprintf(stderr, SEND_PROG ": %s only applies to synthetic records, not to -f/-p replay\n",
                o->synth_only);
        return -1;
    }
    if (!o->nsrc && (o->replay_only || o->raw)) {
        fprintf(stderr, SEND_PROG ": %s needs -f or -p\n", o->raw ? "--raw" : o->replay_only);
        return -1;
    }
    if (o->chunk && !o->tcp) {
        fprintf(stderr, SEND_PROG ": --chunk needs --tcp\n");
        return -1;
    }
    return 0;
}

/* Returns 0 to go on, or an exit status (0 after --help/--version, 2 on usage errors). */
static int
parse_args(int argc, char **argv, struct opts *o, int *done)
{
    int c;
    *done = 0;
    while ((c = getopt_long(argc, argv, "uTn:r:6R:e:o:f:p:c:qhV", long_opts, NULL)) != -1) {
        switch (c) {
        case 'u':
            o->tcp = 0;
            break;
        case 'T':
            o->tcp = 1;
            break;
        case '6':
            o->ipv6 = 1;
            o->synth_only = "-6/--ipv6";
            break;
        case 'f':
        case 'p':
            if (add_source(o, optarg, c == 'p') < 0)
                return 1;
            break;
        case OPT_RAW:
            o->raw = 1;
            break;
        case 'q':
            o->quiet = 1;
            break;
        case 'h':
            usage(stdout);
            *done = 1;
            return 0;
        case 'V':
            printf(SEND_PROG " (ipfixd) %s\n", IXD_VERSION);
            *done = 1;
            return 0;
        case '?':
            return usage_error();
        default:
            if (numeric_opt(o, c, optarg) < 0)
                return usage_error();
        }
    }
    if (optind != argc - 1) {
        fprintf(stderr, SEND_PROG ": %s\n",
                optind == argc ? "missing destination HOST:PORT" : "more than one destination");
        return usage_error();
    }
    o->dest = argv[optind];
    return check_opts(o) < 0 || tx_check_dest(o->dest) < 0 ? usage_error() : 0;
}

static void
on_signal(int sig)
{
    (void)sig;
    send_stop = 1;
}

static void
install_signals(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    /* One-shot: a second Ctrl-C kills a sender stuck in a blocking call. No SA_RESTART, so
     * sleeps and sends return early. */
    sa.sa_flags = (int)SA_RESETHAND;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
}

static int
run_synth(const struct opts *o, struct tx *tx, uint64_t *records)
{
    struct synth_cfg cfg = {
        .count = o->count,
        .start = o->start,
        .rate = o->rate,
        .rec_per_msg = o->rpm    ? o->rpm
                       : o->ipv6 ? SYNTH_DEFAULT_RPM_V6
                                 : SYNTH_DEFAULT_RPM_V4,
        .exporters = o->exporters,
        .template_interval = o->tmpl_interval,
        .odid = o->odid,
        .ipv6 = o->ipv6,
        .tcp = o->tcp,
    };
    unsigned cap = synth_max_records(o->ipv6, tx_max_message(tx));
    if (cfg.rec_per_msg > cap) {
        fprintf(stderr, SEND_PROG ": warning: records per message capped at %u (%zu-byte limit)\n",
                cap, tx_max_message(tx));
        cfg.rec_per_msg = cap;
    }
    return synth_run(&cfg, tx, records);
}

static void
print_summary(const struct tx *tx, uint64_t records, uint64_t ns)
{
    uint64_t messages, bytes;
    double secs = (double)ns / 1e9;
    tx_counters(tx, &messages, &bytes);
    fprintf(stderr,
            SEND_PROG ": sent records=%llu messages=%llu bytes=%llu seconds=%.3f rate=%.0f "
                      "records/s\n",
            (unsigned long long)records, (unsigned long long)messages, (unsigned long long)bytes,
            secs, secs > 0 ? (double)records / secs : 0.0);
}

static int
run(const struct opts *o)
{
    struct replay_cfg rcfg = {
        .srcs = o->srcs,
        .nsrc = o->nsrc,
        .raw = o->raw,
        .pcap_port = o->pcap_port,
        .repeat = o->repeat,
        .rate = o->rate,
        .exporters = o->exporters,
        .tcp = o->tcp,
        .quiet = o->quiet,
    };
    struct replay_plan plan = {0};
    struct tx *tx = NULL;
    uint64_t records = 0, t0, elapsed;
    int rc = -1;

    /* Load and check the files before connecting: a bad file sends nothing at all. */
    if (o->nsrc && replay_prepare(&rcfg, &plan) < 0)
        goto out;
    tx = tx_open(o->dest, o->tcp, o->exporters, o->chunk);
    if (!tx)
        goto out;
    t0 = mono_ns();
    rc = o->nsrc ? replay_run(&rcfg, &plan, tx, &records) : run_synth(o, tx, &records);
    elapsed = mono_ns() - t0;
    if (!o->quiet)
        print_summary(tx, records, elapsed);
    if (send_stop) {
        fprintf(stderr, SEND_PROG ": interrupted\n");
        rc = -1;
    }
    if (tx_close(tx) < 0)
        rc = -1;
out:
    replay_free(&plan);
    return rc;
}

int
main(int argc, char **argv)
{
    struct opts o = {
        .count = 1000000,
        .exporters = 1,
        .odid = 1,
        .tmpl_interval = 5,
        .repeat = 1,
        .pcap_port = -1,
    };
    int done, st = parse_args(argc, argv, &o, &done);
    if (st != 0 || done) {
        free(o.srcs);
        return st;
    }
    install_signals();
    st = run(&o) < 0 ? EXIT_FAILURE : EXIT_SUCCESS;
    free(o.srcs);
    return st;
}
