/*
 * `ipfixd convert IN.pcap`: the flow meter as a one-shot command. The capture is read to its
 * end, every flow ended, and the records written as JSON lines (the JSON output's format) or as
 * an IPFIX file (RFC 5655), or sent as IPFIX over UDP. A progress line on a terminal, none
 * otherwise. A truncated or unreadable capture ends with a message and status 1, the flows read
 * until then written all the same. docs/meter.md.
 */
#include "convert/convert.h"

#include <getopt.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "core/config.h"
#include "core/parse.h"
#include "ipfix/ie.h"
#include "meter/capture.h"
#include "meter/meter.h"
#include "output/export_session.h"
#include "output/json_format.h"

#define UDP_MTU 1400
#define FILE_MTU 65535
#define STEP 4096

struct conv {
    const char *in_path;
    const char *out_path;
    int ipfix;
    const char *to;
    const char *filter;
    int progress;
    int print_stats;
    uint64_t end_flows; /* flows open at the end of the file, and what they held */
    size_t end_bytes, end_dpi_bytes;
    struct ixd_meter_settings ms;
    FILE *out;
    int sock;
    int write_failed;
    int xs_ready;
    char *line; /* one JSON record */
    size_t line_cap;
    struct ixd_xsession xs;
    struct ixd_meter *meter;
    struct ixd_meter_stats stats;
    struct ixd_capture *cap;
    int link;
};

static void
usage(FILE *f)
{
    fprintf(f,
            "usage: ipfixd convert IN.pcap [-o FILE|-] [--format json|ipfix] [--to HOST:PORT]\n"
            "           [--filter BPF] [--dpi] [--idle-timeout S] [--active-timeout S]\n"
            "           [--max-flows N] [--observation-domain N] [--tunnel-addresses] [--stats]\n"
            "  -o, --output FILE   write here (default -: standard output)\n"
            "  -f, --format F      json (JSON lines, the default) or ipfix (an IPFIX file)\n"
            "      --to HOST:PORT  send IPFIX over UDP instead of writing\n"
            "      --stats         print the meter's counters on standard error at the end\n");
}

static void
write_json(struct conv *c, const struct ixd_batch *b)
{
    char prefix[600];
    size_t plen = ixd_json_prefix(b->source, prefix, sizeof(prefix)), i;

    for (i = 0; i < b->count; i++) {
        size_t need = ixd_json_bound(&b->records[i]) + plen, n;

        if (need > c->line_cap) {
            char *l = realloc(c->line, need);
            if (l == NULL) {
                c->write_failed = 1;
                return;
            }
            c->line = l;
            c->line_cap = need;
        }
        n = ixd_json_record(&b->records[i], prefix, plen, c->line);
        if (fwrite(c->line, 1, n, c->out) != n) {
            c->write_failed = 1;
        }
    }
}

static int
emit_ipfix(void *arg, const uint8_t *msg, size_t len, uint32_t records, uint32_t described,
           int templates)
{
    struct conv *c = arg;

    if (c->sock != -1) {
        if (send(c->sock, msg, len, 0) == -1) {
            c->write_failed = 1;
            return -1;
        }
        return 0;
    }
    if (fwrite(msg, 1, len, c->out) != len) {
        c->write_failed = 1;
        return -1;
    }
    return 0;
}

static void
deliver(void *arg, const struct ixd_batch *b)
{
    struct conv *c = arg;

    if (c->ipfix) {
        ixd_xsession_write(&c->xs, b, 0, b->source->export_time);
    } else {
        write_json(c, b);
    }
}

static int
connect_to(struct conv *c, char *err, size_t errlen)
{
    char host[256];
    const char *colon = strrchr(c->to, ':');
    struct addrinfo hints = {.ai_socktype = SOCK_DGRAM}, *res = NULL;
    size_t hl;
    int rc;

    if (colon == NULL || colon == c->to) {
        snprintf(err, errlen, "--to %s: HOST:PORT expected", c->to);
        return -1;
    }
    hl = (size_t)(colon - c->to);
    if (c->to[0] == '[' && hl >= 2 && c->to[hl - 1] == ']') {
        snprintf(host, sizeof(host), "%.*s", (int)(hl - 2), c->to + 1);
    } else {
        snprintf(host, sizeof(host), "%.*s", (int)hl, c->to);
    }
    rc = getaddrinfo(host, colon + 1, &hints, &res);
    if (rc != 0) {
        snprintf(err, errlen, "--to %s: %s", c->to, gai_strerror(rc));
        return -1;
    }
    c->sock = socket(res->ai_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (c->sock == -1 || connect(c->sock, res->ai_addr, res->ai_addrlen) == -1) {
        snprintf(err, errlen, "--to %s: cannot connect", c->to);
        freeaddrinfo(res);
        return -1;
    }
    freeaddrinfo(res);
    return 0;
}

static int
number(const char *opt, const char *v, uint64_t max, uint64_t *out)
{
    if (ixd_parse_u64(v, out) == -1 || *out > max) {
        fprintf(stderr, "ipfixd convert: %s: a number up to %llu expected, not '%s'\n", opt,
                (unsigned long long)max, v);
        return -1;
    }
    return 0;
}

static int
duration(const char *opt, const char *v, uint32_t *ms)
{
    uint64_t s;

    if (ixd_parse_duration(v, &s) == -1 || s == 0 || s > 86400 * 7) {
        fprintf(stderr, "ipfixd convert: %s: a duration (90, 90s, 5m) expected, not '%s'\n", opt,
                v);
        return -1;
    }
    *ms = (uint32_t)(s * 1000);
    return 0;
}

/* Reads the options into c. 0, or the exit status. */
static int
parse_args(struct conv *c, int argc, char **argv)
{
    static const struct option longopts[] = {
        {"output", required_argument, NULL, 'o'},
        {"format", required_argument, NULL, 'f'},
        {"to", required_argument, NULL, 'T'},
        {"filter", required_argument, NULL, 'F'},
        {"dpi", no_argument, NULL, 'd'},
        {"idle-timeout", required_argument, NULL, 'i'},
        {"active-timeout", required_argument, NULL, 'a'},
        {"max-flows", required_argument, NULL, 'm'},
        {"observation-domain", required_argument, NULL, 'O'},
        {"tunnel-addresses", no_argument, NULL, 't'},
        {"stats", no_argument, NULL, 's'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    uint64_t n;
    int opt, bad = 0;

    while ((opt = getopt_long(argc, argv, "o:f:h", longopts, NULL)) != -1 && !bad) {
        switch (opt) {
        case 'o':
            c->out_path = optarg;
            break;
        case 'f':
            bad = strcmp(optarg, "json") != 0 && strcmp(optarg, "ipfix") != 0;
            c->ipfix = strcmp(optarg, "ipfix") == 0;
            break;
        case 'T':
            c->to = optarg;
            c->ipfix = 1;
            break;
        case 'F':
            c->filter = optarg;
            break;
        case 'd':
            c->ms.dpi = 1;
            break;
        case 'i':
            bad = duration("--idle-timeout", optarg, &c->ms.idle_ms) == -1;
            break;
        case 'a':
            bad = duration("--active-timeout", optarg, &c->ms.active_ms) == -1;
            break;
        case 'm':
            bad = number("--max-flows", optarg, 1u << 28, &n) == -1 || n < 16;
            c->ms.max_flows = (uint32_t)n;
            break;
        case 'O':
            bad = number("--observation-domain", optarg, UINT32_MAX, &n) == -1;
            c->ms.odid = (uint32_t)n;
            break;
        case 't':
            c->ms.tunnel_addresses = 1;
            break;
        case 's':
            c->print_stats = 1;
            break;
        case 'h':
            usage(stdout);
            return -1;
        default:
            bad = 1;
        }
    }
    if (bad || optind != argc - 1 || (c->to != NULL && c->out_path != NULL)) {
        usage(stderr);
        return 2;
    }
    c->in_path = argv[optind];
    return 0;
}

static double
now_sec(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* The progress line: packets, flows, how much of the file, and the rate. */
static void
show_progress(const struct conv *c, double started, int last)
{
    double elapsed = now_sec() - started, frac = ixd_capture_progress(c->cap);

    fprintf(stderr, "\r%llu packets, %llu flows, %5.1f%%, %.0f packets/s%s",
            (unsigned long long)c->stats.m.frames, (unsigned long long)c->stats.f.created,
            last ? 100.0 : (frac < 0 ? 0 : frac * 100.0),
            elapsed > 0 ? (double)c->stats.m.frames / elapsed : 0.0, last ? "\n" : "   ");
}

static void
frame(void *arg, const uint8_t *p, uint32_t caplen, int64_t usec)
{
    struct conv *c = arg;

    ixd_meter_packet(c->meter, c->link, p, caplen, usec);
}

static void
print_counter(void *arg, const struct ixd_counter_def *def, const char *label, uint64_t v)
{
    if (label != NULL) {
        fprintf(stderr, "%s %s %s=%llu\n", def->label, label, def->key, (unsigned long long)v);
    } else {
        fprintf(stderr, "%s=%llu\n", def->key, (unsigned long long)v);
    }
}

/* Reads the capture to its end. 0, or -1 with err (what was read is kept). */
static int
run(struct conv *c, char *err, size_t errlen)
{
    double started = now_sec(), shown = started;
    int n;

    do {
        n = ixd_capture_read(c->cap, STEP, frame, c, err, errlen);
        ixd_meter_deliver(c->meter);
        if (c->progress && now_sec() - shown >= 0.25) {
            shown = now_sec();
            show_progress(c, started, 0);
        }
    } while (n >= 0 && !c->write_failed);
    c->end_flows = c->stats.f.active;
    c->end_bytes = ixd_meter_memory(c->meter, &c->end_dpi_bytes);
    ixd_meter_flush(c->meter);
    if (c->progress) {
        show_progress(c, started, 1);
    }
    return n == IXD_CAPTURE_ERROR ? -1 : 0;
}

static int
open_output(struct conv *c, char *err, size_t errlen)
{
    if (c->to != NULL) {
        if (connect_to(c, err, errlen) == -1) {
            return -1;
        }
    } else if (c->out_path == NULL || strcmp(c->out_path, "-") == 0) {
        c->out = stdout;
    } else {
        c->out = fopen(c->out_path, "we");
        if (c->out == NULL) {
            snprintf(err, errlen, "cannot write %s", c->out_path);
            return -1;
        }
    }
    if (c->ipfix && ixd_xsession_init(&c->xs, "convert", c->to != NULL ? UDP_MTU : FILE_MTU,
                                      IXD_XWITHDRAW_NONE, emit_ipfix, c) == -1) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    c->xs_ready = c->ipfix;
    return 0;
}

static int
close_output(struct conv *c)
{
    int failed = 0;

    if (c->xs_ready) {
        ixd_xsession_finish(&c->xs);
        ixd_xsession_release(&c->xs);
    }
    if (c->out != NULL && fflush(c->out) != 0) {
        failed = 1;
    }
    if (c->out != NULL && c->out != stdout && fclose(c->out) != 0) {
        failed = 1;
    }
    if (c->sock != -1) {
        close(c->sock);
    }
    free(c->line);
    return failed || c->write_failed ? -1 : 0;
}

int
ixd_convert_main(int argc, char **argv)
{
    struct conv c = {.sock = -1};
    struct ixd_ie_registry *reg = NULL;
    struct ixd_config *defaults;
    char err[1024];
    int status = 0, rc;

    c.ms = (struct ixd_meter_settings){.max_flows = 262144,
                                       .idle_ms = 60000,
                                       .active_ms = 300000,
                                       .linger_ms = 2000,
                                       .dpi_packets = 16};
    rc = parse_args(&c, argc, argv);
    if (rc != 0) {
        return rc < 0 ? 0 : rc;
    }
    c.progress = isatty(STDERR_FILENO);
    c.cap = ixd_capture_open_file(c.in_path, c.filter, err, sizeof(err));
    if (c.cap == NULL) {
        fprintf(stderr, "ipfixd convert: %s\n", err);
        return 1;
    }
    c.link = ixd_capture_link(c.cap);
    if (!ixd_pkt_link_supported(c.link)) {
        fprintf(stderr, "ipfixd convert: %s: link type %d is not one ipfixd decodes\n", c.in_path,
                c.link);
        ixd_capture_close(c.cap);
        return 1;
    }
    /* the elements the daemon names by default: the shipped vendor files (the meter's too) */
    defaults = ixd_config_builtin();
    reg = defaults != NULL ? ixd_ie_registry_new(defaults->element_files, defaults->n_element_files,
                                                 err, sizeof(err))
                           : NULL;
    ixd_config_free(defaults);
    if (defaults == NULL) {
        snprintf(err, sizeof(err), "out of memory");
    }
    if (reg != NULL && ixd_ie_registry_add_own(reg, IXD_OWN_ENTERPRISE_DEFAULT) == -1) {
        ixd_ie_registry_free(reg);
        reg = NULL;
        snprintf(err, sizeof(err), "out of memory");
    }
    if (reg == NULL || open_output(&c, err, sizeof(err)) == -1) {
        fprintf(stderr, "ipfixd convert: %s\n", err);
        status = 1;
        goto done;
    }
    c.meter = ixd_meter_new(&c.ms, &c.stats, "convert", c.in_path, reg, deliver, NULL, &c, err,
                            sizeof(err));
    if (c.meter == NULL) {
        fprintf(stderr, "ipfixd convert: %s\n", err);
        status = 1;
        goto done;
    }
    if (run(&c, err, sizeof(err)) == -1) {
        fprintf(stderr, "ipfixd convert: %s: %s (the %llu flows read before are written)\n",
                c.in_path, err, (unsigned long long)c.stats.m.records);
        status = 1;
    }
done:
    if (c.meter != NULL && c.print_stats) {
        ixd_meter_report(&c.stats, 1, print_counter, NULL);
        fprintf(stderr, "flows_at_end=%llu flow_table_bytes=%zu dpi_bytes=%zu\n",
                (unsigned long long)c.end_flows, c.end_bytes, c.end_dpi_bytes);
    }
    ixd_meter_free(c.meter);
    if (close_output(&c) == -1) {
        fprintf(stderr, "ipfixd convert: writing the records failed\n");
        status = 1;
    }
    ixd_capture_close(c.cap);
    ixd_ie_registry_free(reg);
    return status;
}
