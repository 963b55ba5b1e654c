/*
 * type: rrd. Traffic per exporter, observation domain and (optionally) interface, and the
 * health of collectors, pipelines and outputs, in round-robin files; anomaly alerts from their
 * Holt-Winters archives (docs/configuration.md#rrd, docs/internals/rrd.md).
 *
 * Each worker adds its records' counts up per series and step in its lane (lane.c) and hands
 * the step's block to the writer thread through a ring once the step is over; the worker never
 * waits: a full ring (a writer held up by librrd for longer than RING_BLOCKS steps) costs the
 * block, counted as dropped. The writer thread merges the blocks (store.c), samples the
 * workers' snapshots for the health series, and once a step writes every series.
 */
#include <errno.h>
#include <math.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "core/board.h"
#include "core/clock.h"
#include "core/log.h"
#include "core/relaxed_counter.h"
#include "core/spsc.h"
#include "output/output.h"
#include "rrd/lane.h"
#include "rrd/store.h"
#include "rrd/webhook.h"
#include "snapshot/snapshot.h"

#define RING_BLOCKS 8 /* steps a lane's blocks may wait for the writer */
#define GRACE_MS                                                                                   \
    1000 /* after a step ends, for the lanes' last blocks (they flush every 100 ms)                \
          */

struct rrd_lane {
    struct ixd_lane base;
    struct ixd_rrd_lane agg;
    struct ixd_spsc ring; /* blocks -> writer */
    uint64_t records, dropped;
};

struct rrd_output {
    struct ixd_output base;
    const struct ixd_rrd_settings *cfg;
    struct ixd_rrd_store *store; /* the writer thread's from its start */
    unsigned n_lanes;
    struct rrd_lane *lanes;
    int kick; /* eventfd: a block was handed on */
    pthread_t thread;
    int started;
    atomic_int stop;
    struct ixd_snapshot_reader *reader; /* writer thread: the health series' source */
    int no_reader;                      /* the snapshots refused a reader: said once */
};

/* ---- settings ---- */

static int
parse_double(const struct ixd_cnode *v, const struct ixd_key_env *env, const char *name, double min,
             double max, int min_open, double *out, char *err, size_t errlen)
{
    char *end;
    double d;
    int percent;

    errno = 0;
    d = strtod(v->text, &end);
    percent = *end == '%';
    if (percent) {
        end++;
        d /= 100;
    }
    if (v->text[0] == '\0' || *end != '\0' || errno != 0 || isnan(d) || d > max ||
        (min_open ? d <= min : d < min)) {
        return ixd_cnode_fail(v, env->file, err, errlen,
                              "%s must be a number %s %g %s %g%s, not '%s'", name,
                              min_open ? "above" : "from", min, min_open ? "and at most" : "to",
                              max, max <= 1 ? " (a fraction, or a percentage)" : "", v->text);
    }
    *out = d;
    return 0;
}

/* alpha, beta, gamma: above 0, below 1 (librrd refuses the ends) */
static int
parse_smoothing(const struct ixd_key *k, const struct ixd_cnode *v, void *field,
                const struct ixd_key_env *env, char *err, size_t errlen)
{
    if (parse_double(v, env, k->name, 0, 1, 1, field, err, errlen) == -1) {
        return -1;
    }
    if (*(double *)field >= 1) {
        return ixd_cnode_fail(v, env->file, err, errlen, "%s must be below 1, not '%s'", k->name,
                              v->text);
    }
    return 0;
}

static int
parse_deviations(const struct ixd_key *k, const struct ixd_cnode *v, void *field,
                 const struct ixd_key_env *env, char *err, size_t errlen)
{
    return parse_double(v, env, k->name, 0, 100, 1, field, err, errlen);
}

static int
parse_share(const struct ixd_key *k, const struct ixd_cnode *v, void *field,
            const struct ixd_key_env *env, char *err, size_t errlen)
{
    return parse_double(v, env, k->name, 0, 1, 0, field, err, errlen);
}

#define AT(m) IXD_KEY_AT(struct ixd_rrd_settings, m)

static const struct ixd_key rrd_keys[] = {
    {.name = "directory",
     .kind = IXD_KEY_PATH,
     AT(directory),
     .def = "/var/lib/ipfixd/rrd",
     .file_use = 1 + IXD_FILE_STATE_DIR,
     .help = "where the files are (made with its parents when missing)"},
    {.name = "rrdcached",
     .kind = IXD_KEY_STRING,
     AT(rrdcached),
     .help = "rrdcached's address (unix:/run/rrdcached.sock); unset: write the files directly"},
    {.name = "max-files",
     .kind = IXD_KEY_U32,
     AT(max_files),
     .min = 1,
     .max = 1u << 24,
     .def = "10000",
     .help = "files at most; a series past it gets none, counted"},
    {.name = "domains",
     .kind = IXD_KEY_BOOL,
     AT(domains),
     .def = "true",
     .help = "a series per exporter and observation domain"},
    {.name = "interfaces",
     .kind = IXD_KEY_BOOL,
     AT(interfaces),
     .def = "false",
     .help = "a series per exporter, interface and direction (ingress/egress)"},
    {.name = "health",
     .kind = IXD_KEY_BOOL,
     AT(health),
     .def = "true",
     .help = "series of every collector, pipeline and output's counters"},
    {.name = "renormalise",
     .kind = IXD_KEY_BOOL,
     AT(renormalise),
     .def = "true",
     .help = "packets and octets times the sampling rate"},
    {.name = "anomaly",
     .kind = IXD_KEY_BOOL,
     AT(hw.on),
     .def = "true",
     .help = "Holt-Winters archives on the exporters' files, and alerts from them"},
    {.name = "season",
     .kind = IXD_KEY_DURATION,
     AT(hw.season),
     .min = 600,
     .max = 7 * 86400,
     .def = "1d",
     .help = "the period of the traffic's pattern"},
    {.name = "alpha",
     .kind = IXD_KEY_CUSTOM,
     AT(hw.alpha),
     .def = "0.005",
     .parse = parse_smoothing,
     .help = "how fast the baseline follows the rates"},
    {.name = "beta",
     .kind = IXD_KEY_CUSTOM,
     AT(hw.beta),
     .def = "0.0005",
     .parse = parse_smoothing,
     .help = "how fast the slope follows"},
    {.name = "gamma",
     .kind = IXD_KEY_CUSTOM,
     AT(hw.gamma),
     .def = "0.1",
     .parse = parse_smoothing,
     .help = "how fast the seasonal pattern and its deviation follow"},
    {.name = "deviations",
     .kind = IXD_KEY_CUSTOM,
     AT(hw.deviations),
     .def = "2",
     .parse = parse_deviations,
     .help = "the band: predicted rate +- this many deviations"},
    {.name = "failure-threshold",
     .kind = IXD_KEY_U32,
     AT(hw.threshold),
     .min = 1,
     .max = 28,
     .def = "14",
     .help = "steps out of the band in the window that make a failure"},
    {.name = "failure-window",
     .kind = IXD_KEY_U32,
     AT(hw.window),
     .min = 1,
     .max = 28,
     .def = "18",
     .help = "the window, in steps of 10 s"},
    {.name = "alert-on-high",
     .kind = IXD_KEY_BOOL,
     AT(alert_high),
     .def = "false",
     .help = "alert above the band too (high-traffic)"},
    {.name = "silent-after",
     .kind = IXD_KEY_DURATION,
     AT(silent_after),
     .max = 7 * 86400,
     .def = "5m",
     .help = "an exporter without records this long is silent (0: never)"},
    {.name = "sequence-loss",
     .kind = IXD_KEY_CUSTOM,
     AT(sequence_loss),
     .def = "1%",
     .parse = parse_share,
     .help = "the share of records lost in a step that alerts (0: never)"},
    {.name = "clear-after",
     .kind = IXD_KEY_DURATION,
     AT(clear_after),
     .max = 86400,
     .def = "5m",
     .help = "how long a condition must be gone before its alert is resolved"},
    {.name = "webhook",
     .kind = IXD_KEY_STRING,
     AT(webhook),
     .help = "http:// URL alerts are POSTed to, in Alertmanager's webhook format"},
    {.name = "webhook-timeout",
     .kind = IXD_KEY_DURATION,
     AT(webhook_timeout),
     .min = 1,
     .max = 60,
     .def = "5s",
     .help = "for each attempt"},
    {NULL},
};

static int
rrd_check(void *settings, const struct ixd_module_env *env, char *err, size_t errlen)
{
    struct ixd_rrd_settings *s = settings;
    char why[512];

    if (s->hw.threshold > s->hw.window) {
        return ixd_cnode_fail(env->at, env->file, err, errlen,
                              "failure-threshold (%u) must not be above failure-window (%u)",
                              (unsigned)s->hw.threshold, (unsigned)s->hw.window);
    }
    if (s->hw.season % IXD_RRD_STEP != 0) {
        return ixd_cnode_fail(env->at, env->file, err, errlen,
                              "season must be a whole number of steps of %d s", IXD_RRD_STEP);
    }
    if (s->webhook[0] != '\0' && ixd_webhook_check(s->webhook, why, sizeof(why)) == -1) {
        return ixd_cnode_fail(env->at, env->file, err, errlen, "%s", why);
    }
    return 0;
}

static int
rrd_conflicts(const void *a, const void *b, char *where, size_t wherelen)
{
    const struct ixd_rrd_settings *x = a, *y = b;

    if (strcmp(x->directory, y->directory) == 0) {
        snprintf(where, wherelen, "%s", x->directory);
        return 1;
    }
    if (x->rrdcached[0] != '\0' && y->rrdcached[0] != '\0' &&
        strcmp(x->rrdcached, y->rrdcached) != 0) {
        /* librrd holds one rrdcached connection for the process */
        snprintf(where, wherelen, "rrdcached (%s and %s: one address serves every rrd output)",
                 x->rrdcached, y->rrdcached);
        return 1;
    }
    return 0;
}

/* ---- the writer thread ---- */

/* The health series' source: the workers' snapshots, once the daemon has posted them. */
static const struct ixd_view *
view_of(struct rrd_output *o)
{
    struct ixd_board_item *it;

    if (!o->cfg->health && o->cfg->sequence_loss <= 0) {
        return NULL;
    }
    if (o->reader == NULL && !o->no_reader &&
        (it = ixd_board_get(IXD_SNAPSHOT_TOPIC, NULL)) != NULL) {
        const struct ixd_snapshot_set *set = ixd_board_item_obj(it);
        o->reader = ixd_snapshot_reader_new(set->pubs, set->n);
        ixd_board_put(it); /* the reader holds the publishers */
        if (o->reader == NULL) {
            o->no_reader = 1;
            log_err("output %s: cannot read the workers' snapshots (%d readers at most, or no "
                    "memory): no health series, no sequence-loss alerts",
                    o->base.name, IXD_SNAPSHOT_READERS);
        }
    }
    return o->reader != NULL ? ixd_snapshot_reader_view(o->reader) : NULL;
}

static void
drain(struct rrd_output *o)
{
    for (unsigned w = 0; w < o->n_lanes; w++) {
        struct ixd_rrd_block *b;
        while ((b = ixd_spsc_pop(&o->lanes[w].ring)) != NULL) {
            for (size_t i = 0; i < b->n; i++) {
                ixd_rrd_store_add(o->store, &b->e[i].key, b->step, b->e[i].v);
            }
            free(b);
        }
    }
}

/* Sleeps until kicked or until ms have passed. */
static void
wait_kick(struct rrd_output *o, long ms)
{
    struct pollfd pfd = {.fd = o->kick, .events = POLLIN};
    uint64_t v;

    if (poll(&pfd, 1, (int)(ms > 0 ? ms : 0)) == 1 && read(o->kick, &v, sizeof(v)) == -1) {
        /* EAGAIN: another reader took it; nothing else can fail here */
    }
}

static void *
writer_main(void *arg)
{
    struct rrd_output *o = arg;
    int64_t due = 0;

    for (;;) {
        int64_t now_ms = ixd_wall_usec() / 1000, now = now_ms / 1000;
        if (due == 0) {
            due = now - now % IXD_RRD_STEP + IXD_RRD_STEP; /* the first step to end */
        }
        drain(o);
        if (atomic_load(&o->stop)) {
            break;
        }
        if (now_ms >= due * 1000 + GRACE_MS) {
            ixd_rrd_store_sample(o->store, view_of(o), now);
            ixd_rrd_store_round(o->store, now - now % IXD_RRD_STEP);
            due = now - now % IXD_RRD_STEP + IXD_RRD_STEP;
            continue;
        }
        wait_kick(o, (long)(due * 1000 + GRACE_MS - now_ms));
    }
    return NULL;
}

/* ---- the type ---- */

static void
kick(struct rrd_output *o)
{
    uint64_t one = 1;

    if (write(o->kick, &one, sizeof(one)) == -1) {
        /* saturated: the writer is awake anyway */
    }
}

/* Hands b to the writer; a full ring loses it, counted. Worker. */
static void
hand_on(struct rrd_output *o, struct rrd_lane *l, struct ixd_rrd_block *b)
{
    if (b == NULL) {
        return;
    }
    if (ixd_spsc_push(&l->ring, b) == -1) {
        IXD_CNT_ADD(l->dropped, b->records);
        free(b);
        return;
    }
    kick(o);
}

static void
rrd_write(struct ixd_lane *lane, const struct ixd_batch *batch)
{
    struct rrd_lane *l = (struct rrd_lane *)lane;
    struct rrd_output *o = (struct rrd_output *)lane->output;
    struct ixd_rrd_block *done = NULL;
    uint64_t lost = 0;

    IXD_CNT_ADD(l->records, batch->count);
    if (ixd_rrd_lane_add(&l->agg, batch, &done, &lost) == -1) {
        IXD_CNT_ADD(l->dropped, lost);
    }
    hand_on(o, l, done);
}

static void
rrd_flush(struct ixd_lane *lane)
{
    struct rrd_lane *l = (struct rrd_lane *)lane;
    int64_t now = ixd_wall_usec() / 1000000;

    hand_on((struct rrd_output *)lane->output, l,
            ixd_rrd_lane_take(&l->agg, now - now % IXD_RRD_STEP));
}

static struct ixd_lane *
rrd_lane(struct ixd_output *out, unsigned w)
{
    struct rrd_output *o = (struct rrd_output *)out;

    return w < o->n_lanes ? &o->lanes[w].base : NULL;
}

static void
free_output(struct rrd_output *o)
{
    for (unsigned i = 0; o->lanes != NULL && i < o->n_lanes; i++) {
        struct ixd_rrd_block *b;
        while (o->lanes[i].ring.slots != NULL && (b = ixd_spsc_pop(&o->lanes[i].ring)) != NULL) {
            free(b);
        }
        ixd_spsc_release(&o->lanes[i].ring);
        ixd_rrd_lane_release(&o->lanes[i].agg);
    }
    free(o->lanes);
    ixd_snapshot_reader_free(o->reader);
    ixd_rrd_store_free(o->store, 0);
    if (o->kick != -1) {
        close(o->kick);
    }
    free(o);
}

static struct ixd_output *
rrd_open(const void *settings, const char *name, unsigned workers, char *err, size_t errlen)
{
    struct rrd_output *o = calloc(1, sizeof(*o));
    const struct ixd_rrd_settings *s = settings;
    int rc;

    if (o == NULL) {
        snprintf(err, errlen, "output %s: out of memory", name);
        return NULL;
    }
    o->kick = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    o->cfg = s;
    o->base.name = name;
    o->n_lanes = workers;
    o->lanes = calloc(workers + 1, sizeof(*o->lanes));
    if (o->kick == -1 || o->lanes == NULL) {
        snprintf(err, errlen, "output %s: cannot set up: %s", name, strerror(errno));
        goto fail;
    }
    for (unsigned i = 0; i < workers; i++) {
        o->lanes[i].base.output = &o->base;
        if (ixd_spsc_init(&o->lanes[i].ring, RING_BLOCKS) == -1 ||
            ixd_rrd_lane_init(&o->lanes[i].agg, s->domains, s->interfaces, s->renormalise) == -1) {
            snprintf(err, errlen, "output %s: out of memory", name);
            goto fail;
        }
    }
    o->store = ixd_rrd_store_new(s, name, 1, err, errlen);
    if (o->store == NULL) {
        goto fail;
    }
    rc = pthread_create(&o->thread, NULL, writer_main, o);
    if (rc != 0) {
        snprintf(err, errlen, "output %s: cannot start its writer: %s", name, strerror(rc));
        goto fail;
    }
    o->started = 1;
    return &o->base;
fail:
    free_output(o);
    return NULL;
}

static void
rrd_reopen(struct ixd_output *out)
{
    (void)out; /* files are opened for each update: nothing held open to rotate */
}

/* Every worker has let go: what the lanes hold goes to the writer, which writes the step under
 * way too before it ends. */
static void
rrd_close(struct ixd_output *out)
{
    struct rrd_output *o = (struct rrd_output *)out;
    int64_t now;

    for (unsigned i = 0; i < o->n_lanes; i++) {
        hand_on(o, &o->lanes[i], ixd_rrd_lane_take(&o->lanes[i].agg, INT64_MAX));
    }
    if (o->started) {
        atomic_store(&o->stop, 1);
        kick(o);
        pthread_join(o->thread, NULL);
    }
    drain(o); /* what came after the writer's last look */
    now = ixd_wall_usec() / 1000000;
    ixd_rrd_store_free(o->store, now);
    o->store = NULL;
    free_output(o);
}

static const struct ixd_counter_def rrd_defs[] = {
    {.key = "series",
     .metric = "ipfixd_output_rrd_series",
     .kind = IXD_COUNTER_GAUGE,
     .help = "series with a file or getting one"},
    {.key = "files_created",
     .metric = "ipfixd_output_rrd_files_created_total",
     .kind = IXD_COUNTER_TOTAL,
     .help = "RRD files created",
     .line_key = "created"},
    {.key = "files_refused",
     .metric = "ipfixd_output_rrd_files_refused_total",
     .kind = IXD_COUNTER_TOTAL,
     .help = "new series max-files refused a file",
     .line_key = "refused"},
    {.key = "create_errors",
     .metric = "ipfixd_output_rrd_create_errors_total",
     .kind = IXD_COUNTER_TOTAL,
     .help = "files that could not be created (tried again)"},
    {.key = "update_errors",
     .metric = "ipfixd_output_rrd_update_errors_total",
     .kind = IXD_COUNTER_TOTAL,
     .help = "updates librrd refused (their counts wait)"},
    {.key = "rows",
     .metric = "ipfixd_output_rrd_rows_total",
     .kind = IXD_COUNTER_TOTAL,
     .help = "rows written (a series' step)"},
    {.key = "late",
     .metric = "ipfixd_output_rrd_late_records_total",
     .kind = IXD_COUNTER_TOTAL,
     .help = "records counted in the step after theirs: theirs was written"},
    {.key = "rounds",
     .metric = "ipfixd_output_rrd_rounds_total",
     .kind = IXD_COUNTER_TOTAL,
     .help = "the writer's rounds (one a step)"},
    {.key = "round_usec",
     .metric = "ipfixd_output_rrd_round_microseconds",
     .kind = IXD_COUNTER_GAUGE,
     .help = "how long the last round took"},
    {.key = "alerts_active",
     .metric = "ipfixd_output_rrd_alerts_active",
     .kind = IXD_COUNTER_GAUGE,
     .help = "alerts raised and not resolved"},
    {.key = "alerts_raised",
     .metric = "ipfixd_output_rrd_alerts_raised_total",
     .kind = IXD_COUNTER_TOTAL,
     .help = "alerts raised"},
    {.key = "webhook_sent",
     .metric = "ipfixd_output_rrd_webhook_sent_total",
     .kind = IXD_COUNTER_TOTAL,
     .help = "alert notifications the webhook accepted"},
    {.key = "webhook_failed",
     .metric = "ipfixd_output_rrd_webhook_failed_total",
     .kind = IXD_COUNTER_TOTAL,
     .help = "notifications given up on after every attempt"},
    {.key = "webhook_dropped",
     .metric = "ipfixd_output_rrd_webhook_dropped_total",
     .kind = IXD_COUNTER_TOTAL,
     .help = "notifications let go: the queue was full"},
};

static void
rrd_stats(struct ixd_output *out, ixd_counter_fn fn, void *arg)
{
    struct rrd_output *o = (struct rrd_output *)out;
    struct ixd_output_counts c = {0, 0, 0, 0};
    struct ixd_rrd_store_stats st;
    struct ixd_webhook_stats wh;
    uint64_t v[sizeof(rrd_defs) / sizeof(rrd_defs[0])];

    for (unsigned i = 0; i < o->n_lanes; i++) {
        c.records += IXD_CNT_GET(o->lanes[i].records);
        c.dropped += IXD_CNT_GET(o->lanes[i].dropped);
    }
    ixd_rrd_store_stats(o->store, &st);
    ixd_rrd_store_webhook_stats(o->store, &wh);
    c.dropped += st.lost;
    ixd_output_report(fn, arg, &c);
    v[0] = st.series;
    v[1] = st.files_created;
    v[2] = st.files_refused;
    v[3] = st.create_errors;
    v[4] = st.update_errors;
    v[5] = st.rows;
    v[6] = st.late;
    v[7] = st.rounds;
    v[8] = st.round_usec;
    v[9] = st.alerts_active;
    v[10] = st.alerts_raised;
    v[11] = wh.sent;
    v[12] = wh.failed;
    v[13] = wh.dropped;
    for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
        fn(arg, &rrd_defs[i], NULL, v[i]);
    }
}

const struct ixd_output_type ixd_output_rrd = {
    .m =
        {
            .name = "rrd",
            .keys = rrd_keys,
            .settings_size = sizeof(struct ixd_rrd_settings),
            .check = rrd_check,
            .conflicts = rrd_conflicts,
        },
    .open = rrd_open,
    .reopen = rrd_reopen,
    .close = rrd_close,
    .stats = rrd_stats,
    .lane = rrd_lane,
    .write = rrd_write,
    .flush = rrd_flush,
};
