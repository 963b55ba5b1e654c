/*
 * transport: pcap. The flow meter (src/meter/) as an input: packets from an interface or a
 * pcap/pcapng file become biflow records that go to the collector's pipelines and outputs
 * like collected ones, under a source of the meter's own (@collector the collector's name,
 * @exporter the interface or the file). Interfaces are opened on the control thread, where
 * CAP_NET_RAW is still held, one capture socket per `workers` in a PACKET_FANOUT group; worker
 * w reads socket w. A file is read by worker 0 in bounded steps, its flows timed by the
 * packets' own timestamps and all ended (forced) at its end. docs/meter.md.
 */
#include <ev.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/log.h"
#include "core/relaxed_counter.h"
#include "input/input.h"
#include "input/intake.h"
#include "ipfix/session.h"
#include "meter/capture.h"
#include "meter/meter.h"

struct pcap_settings {
    char interface[64];
    char path[IXD_PATH_MAX];
    char filter[1024];
    uint32_t snaplen;
    int promiscuous;
    size_t buffer;
    uint32_t timeout_ms;
    uint32_t workers;
    uint32_t odid;
    uint32_t idle, active, linger; /* seconds */
    uint32_t max_flows;
    int dpi;
    uint32_t dpi_packets;
    int tunnel_addresses;
};

static const struct ixd_key pcap_keys[] = {
    {.name = "interface",
     .kind = IXD_KEY_NAME,
     IXD_KEY_AT(struct pcap_settings, interface),
     .help = "capture on this interface"},
    {.name = "path",
     .kind = IXD_KEY_PATH,
     IXD_KEY_AT(struct pcap_settings, path),
     .file_use = 1 + IXD_FILE_READ,
     .help = "read this pcap or pcapng file once"},
    {.name = "filter",
     .kind = IXD_KEY_STRING,
     IXD_KEY_AT(struct pcap_settings, filter),
     .help = "a BPF filter (tcpdump's syntax)"},
    {.name = "snaplen",
     .kind = IXD_KEY_U32,
     IXD_KEY_AT(struct pcap_settings, snaplen),
     .min = 64,
     .max = 262144,
     .def = "65535",
     .help = "bytes captured of each packet"},
    {.name = "promiscuous",
     .kind = IXD_KEY_BOOL,
     IXD_KEY_AT(struct pcap_settings, promiscuous),
     .def = "true",
     .help = "capture what is not addressed to this host too"},
    {.name = "buffer-size",
     .kind = IXD_KEY_SIZE,
     IXD_KEY_AT(struct pcap_settings, buffer),
     .min = 1 << 16,
     .max = 1u << 31,
     .def = "32M",
     .help = "the kernel ring per capture socket (TPACKET_V3)"},
    {.name = "timeout",
     .kind = IXD_KEY_U32,
     IXD_KEY_AT(struct pcap_settings, timeout_ms),
     .min = 1,
     .max = 10000,
     .def = "100",
     .help = "milliseconds before a ring block is handed over partly filled"},
    {.name = "workers",
     .kind = IXD_KEY_U32,
     IXD_KEY_AT(struct pcap_settings, workers),
     .min = 1,
     .max = 256,
     .def = "1",
     .help = "capture sockets in one PACKET_FANOUT group, one per worker"},
    {.name = "observation-domain",
     .kind = IXD_KEY_U32,
     IXD_KEY_AT(struct pcap_settings, odid),
     .max = UINT32_MAX,
     .def = "0",
     .help = "the records' observation domain"},
    {.name = "idle-timeout",
     .kind = IXD_KEY_DURATION,
     IXD_KEY_AT(struct pcap_settings, idle),
     .min = 1,
     .max = 86400,
     .def = "60s",
     .help = "a flow without packets this long ends"},
    {.name = "active-timeout",
     .kind = IXD_KEY_DURATION,
     IXD_KEY_AT(struct pcap_settings, active),
     .min = 1,
     .max = 86400 * 7,
     .def = "5m",
     .help = "a flow is reported (and starts again) after this long"},
    {.name = "tcp-end-timeout",
     .kind = IXD_KEY_DURATION,
     IXD_KEY_AT(struct pcap_settings, linger),
     .min = 0,
     .max = 3600,
     .def = "2s",
     .help = "after FIN both ways or RST, the wait for the last packets of a connection"},
    {.name = "max-flows",
     .kind = IXD_KEY_U32,
     IXD_KEY_AT(struct pcap_settings, max_flows),
     .min = 16,
     .max = 1u << 28,
     .def = "262144",
     .help = "flows per capture socket; beyond, the least recently seen ends (counted)"},
    {.name = "dpi",
     .kind = IXD_KEY_BOOL,
     IXD_KEY_AT(struct pcap_settings, dpi),
     .def = "false",
     .help = "name each flow's application with nDPI"},
    {.name = "dpi-packets",
     .kind = IXD_KEY_U32,
     IXD_KEY_AT(struct pcap_settings, dpi_packets),
     .min = 1,
     .max = 255,
     .def = "16",
     .help = "packets of a flow inspected at most"},
    {.name = "tunnel-addresses",
     .kind = IXD_KEY_BOOL,
     IXD_KEY_AT(struct pcap_settings, tunnel_addresses),
     .def = "false",
     .help = "export the outer addresses of tunnelled flows"},
    {NULL},
};

/* What open() made: the capture sockets (live) and the counters of every worker's meter. */
struct pcap_shared {
    unsigned workers;
    size_t n_caps;
    struct ixd_capture **caps;
    struct ixd_meter_stats *stats; /* per worker */
};

/* A worker's instance */
struct pcap_in {
    struct ev_loop *loop;
    const struct pcap_settings *s;
    struct ixd_capture *cap; /* borrowed from the shared (live) or its own (a file) */
    int own_cap;
    struct ixd_meter *meter;
    struct ixd_meter_stats *stats;
    const char *collector;
    int link;
    int reading;
    int failed; /* the capture could not be opened, or ended in an error */
    ev_io io;     /* live */
    ev_idle idle; /* a file: a step per loop turn */
};

static void
meter_settings(const struct pcap_settings *s, struct ixd_meter_settings *m)
{
    *m = (struct ixd_meter_settings){
        .odid = s->odid,
        .max_flows = s->max_flows,
        .idle_ms = s->idle * 1000,
        .active_ms = s->active * 1000,
        .linger_ms = s->linger * 1000,
        .dpi = s->dpi,
        .dpi_packets = s->dpi_packets,
        .tunnel_addresses = s->tunnel_addresses,
    };
}

static void
frame_cb(void *arg, const uint8_t *frame, uint32_t caplen, int64_t usec)
{
    struct pcap_in *in = arg;

    ixd_meter_packet(in->meter, in->link, frame, caplen, usec);
}

/* At most this many frames per callback, so that other collectors keep their turn */
#define STEP_FRAMES 4096

static void
live_cb(struct ev_loop *loop, ev_io *w, int revents)
{
    struct pcap_in *in = w->data;
    char err[256];
    int n;

    n = ixd_capture_read(in->cap, STEP_FRAMES, frame_cb, in, err, sizeof(err));
    if (n == IXD_CAPTURE_ERROR) {
        log_err("collector %s: capture on %s: %s", in->collector, in->s->interface, err);
        IXD_CNT_ADD(in->stats->m.read_errors, 1);
        ev_io_stop(loop, &in->io);
        in->reading = 0;
        in->failed = 1;
    }
}

static void
file_done(struct pcap_in *in, const char *why)
{
    ev_idle_stop(in->loop, &in->idle);
    ixd_meter_flush(in->meter); /* the end of the file ends every flow (forced) */
    ixd_capture_close(in->cap);
    in->cap = NULL;
    in->reading = 0;
    if (why != NULL) {
        in->failed = 1;
        IXD_CNT_ADD(in->stats->m.read_errors, 1);
        log_err("collector %s: read %s: %s; %llu frames read, their flows reported", in->collector,
                in->s->path, why, (unsigned long long)in->stats->m.frames);
    } else {
        log_info("collector %s: read %s: %llu frames, %llu flow records", in->collector,
                 in->s->path, (unsigned long long)in->stats->m.frames,
                 (unsigned long long)in->stats->m.records);
    }
}

static void
file_cb(struct ev_loop *loop, ev_idle *w, int revents)
{
    struct pcap_in *in = w->data;
    char err[256];
    int n = ixd_capture_read(in->cap, STEP_FRAMES, frame_cb, in, err, sizeof(err));

    if (n == IXD_CAPTURE_EOF) {
        file_done(in, NULL);
    } else if (n == IXD_CAPTURE_ERROR) {
        file_done(in, err);
    } else {
        ixd_meter_deliver(in->meter); /* what ended in this step goes on now */
    }
}

static int
start_meter(struct pcap_in *in, const struct ixd_input_ctx *ctx, const char *exporter)
{
    struct ixd_meter_settings ms;
    char err[256];

    meter_settings(in->s, &ms);
    in->meter = ixd_meter_new(&ms, in->stats, ctx->name, exporter, ctx->sessions->rules.registry,
                              ctx->sessions->deliver, ctx->sessions->on_template,
                              ctx->sessions->deliver_arg, err, sizeof(err));
    if (in->meter == NULL) {
        log_err("collector %s: %s", ctx->name, err);
        return -1;
    }
    return 0;
}

static int
start_file(struct pcap_in *in, const struct ixd_input_ctx *ctx)
{
    char err[IXD_PATH_MAX + 256];

    in->cap = ixd_capture_open_file(in->s->path, in->s->filter, err, sizeof(err));
    if (in->cap == NULL) {
        IXD_CNT_ADD(in->stats->m.read_errors, 1);
        log_err("collector %s: %s", ctx->name, err);
        in->failed = 1;
        return 0; /* the collector is there, reading nothing: up() says so */
    }
    in->link = ixd_capture_link(in->cap);
    if (!ixd_pkt_link_supported(in->link)) {
        log_err("collector %s: %s: link type %d is not one ipfixd decodes", ctx->name, in->s->path,
                in->link);
        ixd_capture_close(in->cap);
        in->cap = NULL;
        in->failed = 1;
        return 0;
    }
    if (start_meter(in, ctx, in->s->path) == -1) {
        return -1;
    }
    in->own_cap = 1;
    in->reading = 1;
    ev_idle_init(&in->idle, file_cb);
    in->idle.data = in;
    ev_idle_start(ctx->loop, &in->idle);
    return 0;
}

static void pcap_stop(void *state);

static void *
pcap_start(void *shared, const void *settings, const struct ixd_input_ctx *ctx)
{
    struct pcap_shared *sh = shared;
    struct pcap_in *in = calloc(1, sizeof(*in));

    if (in == NULL) {
        return NULL;
    }
    in->loop = ctx->loop;
    in->s = settings;
    in->collector = ctx->name;
    in->stats = &sh->stats[ctx->worker < sh->workers ? ctx->worker : 0];
    if (in->s->path[0] != '\0') {
        if (ctx->worker == 0 && start_file(in, ctx) == -1) {
            goto fail;
        }
        return in;
    }
    if (ctx->worker >= sh->n_caps) {
        return in; /* more workers than capture sockets */
    }
    in->cap = sh->caps[ctx->worker];
    in->link = ixd_capture_link(in->cap);
    if (start_meter(in, ctx, in->s->interface) == -1) {
        goto fail;
    }
    in->reading = 1;
    ev_io_init(&in->io, live_cb, ixd_capture_fd(in->cap), EV_READ);
    in->io.data = in;
    ev_io_start(ctx->loop, &in->io);
    return in;
fail:
    pcap_stop(in);
    return NULL;
}

static void
pcap_tick(void *state, double now)
{
    struct pcap_in *in = state;
    uint64_t kernel, iface;

    if (in->meter == NULL || in->own_cap || in->cap == NULL) {
        return; /* a file's flows keep the file's time */
    }
    ixd_meter_tick(in->meter, ixd_wall_usec());
    if (ixd_capture_drops(in->cap, &kernel, &iface) == 0) {
        IXD_CNT_SET(in->stats->m.kernel_dropped, kernel);
        IXD_CNT_SET(in->stats->m.interface_dropped, iface);
    }
}

/* At stop: what the ring holds is read, and every flow ends (forced) so that none is lost. */
static void
pcap_drain(void *state)
{
    struct pcap_in *in = state;
    char err[256];
    int i;

    if (in->meter == NULL) {
        return;
    }
    if (in->reading && !in->own_cap) {
        for (i = 0;
             i < 64 && ixd_capture_read(in->cap, STEP_FRAMES, frame_cb, in, err, sizeof(err)) > 0;
             i++) {
        }
        ev_io_stop(in->loop, &in->io);
    } else if (in->reading) {
        ev_idle_stop(in->loop, &in->idle);
    }
    in->reading = 0;
    ixd_meter_flush(in->meter);
}

static void
pcap_stop(void *state)
{
    struct pcap_in *in = state;

    if (in->cap != NULL && !in->own_cap) {
        ev_io_stop(in->loop, &in->io);
    }
    if (in->own_cap && in->cap != NULL) {
        ev_idle_stop(in->loop, &in->idle);
        ixd_capture_close(in->cap);
    }
    ixd_meter_free(in->meter);
    free(in);
}

static void
pcap_close(void *shared, unsigned workers)
{
    struct pcap_shared *sh = shared;
    size_t i;

    for (i = 0; i < sh->n_caps; i++) {
        ixd_capture_close(sh->caps[i]);
    }
    free(sh->caps);
    free(sh->stats);
    free(sh);
}

/* A fanout group of its own per collector and process */
static uint16_t
fanout_group(const char *name)
{
    uint32_t h = (uint32_t)getpid() * 2654435761u;

    for (; *name != '\0'; name++) {
        h = (h ^ (uint8_t)*name) * 16777619u;
    }
    return (uint16_t)((h >> 16) ^ h) | 1;
}

static void *
pcap_open(const void *settings, const char *name, unsigned workers, char *bound, size_t boundlen,
          char *err, size_t errlen)
{
    const struct pcap_settings *s = settings;
    struct pcap_shared *sh = calloc(1, sizeof(*sh));
    struct ixd_capture_live o = {s->interface, s->snaplen,    s->filter, s->promiscuous,
                                 s->buffer,    s->timeout_ms, 0};
    size_t i;

    if (sh == NULL || (sh->stats = calloc(workers, sizeof(*sh->stats))) == NULL) {
        snprintf(err, errlen, "out of memory");
        free(sh);
        return NULL;
    }
    sh->workers = workers;
    snprintf(bound, boundlen, "%.79s", s->path[0] != '\0' ? s->path : s->interface);
    if (s->path[0] != '\0') {
        return sh;
    }
    if (s->workers > workers) {
        snprintf(err, errlen,
                 "collector %s: workers: %u capture sockets need as many workers "
                 "(the daemon runs %u)",
                 name, s->workers, workers);
        goto fail;
    }
    sh->caps = calloc(s->workers, sizeof(*sh->caps));
    if (sh->caps == NULL) {
        snprintf(err, errlen, "out of memory");
        goto fail;
    }
    o.fanout_group = s->workers > 1 ? fanout_group(name) : 0;
    for (i = 0; i < s->workers; i++) {
        sh->caps[i] = ixd_capture_open_live(&o, err, errlen);
        if (sh->caps[i] == NULL) {
            goto fail;
        }
        sh->n_caps++;
        if (!ixd_pkt_link_supported(ixd_capture_link(sh->caps[i]))) {
            snprintf(err, errlen, "%s: link type %d is not one ipfixd decodes", s->interface,
                     ixd_capture_link(sh->caps[i]));
            goto fail;
        }
    }
    return sh;
fail:
    pcap_close(sh, workers);
    return NULL;
}

static void
pcap_stats(const void *shared, ixd_counter_fn fn, void *arg)
{
    const struct pcap_shared *sh = shared;

    ixd_meter_report(sh->stats, sh->workers, fn, arg);
}

static int
pcap_check(void *settings, const struct ixd_module_env *env, char *err, size_t errlen)
{
    const struct pcap_settings *s = settings;

    if ((s->path[0] != '\0') == (s->interface[0] != '\0')) {
        return ixd_cnode_fail(env->at, env->file, err, errlen,
                              "collector '%s' captures packets: it needs either an interface "
                              "or a path",
                              env->name);
    }
    if (s->path[0] != '\0' && s->workers > 1) {
        return ixd_cnode_fail(env->at, env->file, err, errlen,
                              "collector '%s': a file is read by one worker (workers: 1)",
                              env->name);
    }
    return 0;
}

static const struct ixd_intake *
pcap_intake(const void *settings)
{
    static const struct ixd_intake none; /* no IPFIX arrives: nothing to hold or sample */

    return &none;
}

static const char *
pcap_address(const void *settings)
{
    const struct pcap_settings *s = settings;

    return s->path[0] != '\0' ? s->path : s->interface;
}

static void
pcap_apply(void *state, const void *settings)
{
    ((struct pcap_in *)state)->s = settings; /* every key restarts: only the pointer moves */
}

/* Up unless its capture failed: a file read to its end is done, not down (as transport:
 * file's), and workers beyond the capture sockets have nothing to read. */
static int
pcap_up(const void *state)
{
    return !((const struct pcap_in *)state)->failed;
}

const struct ixd_input_type ixd_input_pcap = {
    .m =
        {
            .name = "pcap",
            .keys = pcap_keys,
            .settings_size = sizeof(struct pcap_settings),
            .check = pcap_check,
        },
    .intake = pcap_intake,
    .address = pcap_address,
    .open = pcap_open,
    .close = pcap_close,
    .start = pcap_start,
    .apply = pcap_apply,
    .tick = pcap_tick,
    .drain = pcap_drain,
    .stop = pcap_stop,
    .up = pcap_up,
    .stats = pcap_stats,
};
