#include "daemon/worker.h"
#include "core/clock.h"

#include <arpa/inet.h>
#include <errno.h>
#include <ev.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/address.h"
#include "core/log.h"
#include "snapshot/snapshot.h"
#include "ha/state.h"
#include "input/intake.h"
#include "ipfix/decode.h"
#include "net/udp.h"
#include "pipeline/pipeline.h"

#define FLUSH_INTERVAL 0.1 /* seconds a JSON line may wait in a worker's buffer */
#define EXPIRE_INTERVAL 10.0
#define SNAPSHOT_INTERVAL 1.0 /* seconds between snapshots for the API (snapshot.h) */
#define STAGES_REPORTED 64    /* stages with counters a snapshot holds at most */

enum command { CMD_NONE = 0, CMD_APPLY, CMD_STOP, CMD_HA_RESTORE };

/* A pipeline with stages, run by this worker for one collector (the run owns its lanes). */
struct wpipe {
    size_t index; /* in the config's pipelines */
    struct ixd_pipeline_run *run;
};

/* A collector on this worker: its input type's instance, its sessions, where its records go. */
struct wcollector {
    struct ixd_worker *w;
    const struct ixd_config_module *cfg;
    const struct ixd_input_conf *in; /* its type and settings, in the runtime it runs with */
    void *input;                     /* the type's instance on this worker */
    struct ixd_input_ctx ctx;        /* what the instance was given */
    struct ixd_sessions sessions;
    size_t n_lanes;
    struct ixd_lane **lanes; /* outputs fed as decoded (pipelines without stages) */
    size_t n_pipes;
    struct wpipe *pipes; /* pipelines with stages */
};

struct ixd_worker {
    unsigned index;
    pthread_t thread;
    int running;
    struct ev_loop *loop;
    ev_async wake;
    ev_timer tick;
    double last_expire;
    _Atomic double last_tick; /* monotonic; the watchdog reads it from the control thread */
    struct ixd_runtime *rt;
    size_t n_wcs;
    struct wcollector **wcs;
    struct ixd_decoder dec;
    struct ixd_udp_rx rx;
    atomic_int cmd;
    struct ixd_runtime *cmd_rt;
    sem_t done;
    struct ixd_snapshot_publisher *snap;
    double last_snapshot;
    struct ixd_ha_outbox ha_outbox;           /* HA: what this worker shares (ha/state.h) */
    double ha_shared_at;                      /* monotonic */
    const struct ixd_ha_peer_state *cmd_peer; /* CMD_HA_RESTORE: what the peer shared */
    struct ixd_ha_restored ha_restored;       /* CMD_HA_RESTORE: what this worker took */
};

static void
clock_now(double *mono, int64_t *wall_usec)
{
    *mono = ixd_mono_now();
    *wall_usec = ixd_wall_usec();
}

static void
deliver(void *arg, const struct ixd_batch *batch)
{
    struct wcollector *wc = arg;
    size_t i;

    for (i = 0; i < wc->n_lanes; i++) {
        wc->lanes[i]->output->type->write(wc->lanes[i], batch);
    }
    for (i = 0; i < wc->n_pipes; i++) {
        ixd_pipeline_process(wc->pipes[i].run, batch);
    }
}

/* The decoder's word that an exporter defined a template: for the stages that asked. */
static void
announce(void *arg, const struct ixd_template *tmpl, const struct ixd_source *source)
{
    struct wcollector *wc = arg;
    size_t i;

    for (i = 0; i < wc->n_pipes; i++) {
        ixd_pipeline_template(wc->pipes[i].run, tmpl, source);
    }
}

static void
flush_lanes(struct ixd_worker *w)
{
    size_t i, j;

    for (i = 0; i < w->n_wcs; i++) {
        struct wcollector *wc = w->wcs[i];
        for (j = 0; j < wc->n_lanes; j++) {
            struct ixd_lane *l = wc->lanes[j];
            l->output->type->flush(l);
        }
        for (size_t p = 0; p < wc->n_pipes; p++) {
            ixd_pipeline_flush(wc->pipes[p].run); /* a second flush of a lane hands on nothing */
        }
    }
}

static void
snapshot_connection(void *arg, const struct ixd_session *s)
{
    ixd_snapshot_add_session(arg, s);
}

/* Connections open now on this worker's instance of a collector. */
static unsigned
connections_of(const struct wcollector *wc)
{
    return wc->in->type->connections != NULL ? wc->in->type->connections(wc->input) : 0;
}

/* The counters of the stages that have them, per pipeline and stage, summed over this
 * worker's runs (one per collector a pipeline reads). */
static void
snapshot_stages(struct ixd_worker *w)
{
    const struct ixd_config *cfg = w->rt->cfg;
    struct ixd_snap_stage stages[STAGES_REPORTED] = {{0}};
    struct ixd_counter_list lists[STAGES_REPORTED];
    size_t n = 0;

    memset(lists, 0, sizeof(lists));
    for (size_t p = 0; p < cfg->n_pipelines; p++) {
        const struct ixd_pipeline_conf *pc = &w->rt->instances->pipelines[p];
        for (size_t i = 0; i < pc->n && n < STAGES_REPORTED; i++) {
            if (pc->types[i]->stats == NULL) {
                continue;
            }
            stages[n] = (struct ixd_snap_stage){cfg->pipelines[p].name, (unsigned)i,
                                                pc->types[i]->name, 0, NULL};
            ixd_worker_stage_counters(w, p, i, &lists[n]);
            n++;
        }
    }
    ixd_snapshot_add_stages(w->snap, stages, lists, n);
    for (size_t i = 0; i < n; i++) {
        ixd_counter_list_release(&lists[i]);
    }
}

/* Copies this worker's state for the API (snapshot.h); its age is also its liveness. */
static void
publish_snapshot(struct ixd_worker *w, double now, int64_t usec)
{
    size_t i;

    ixd_snapshot_begin(w->snap, w->n_wcs, now, usec);
    for (i = 0; i < w->n_wcs; i++) {
        struct wcollector *wc = w->wcs[i];
        const struct ixd_input_type *t = wc->in->type;

        ixd_snapshot_add_collector(w->snap, wc->cfg->name, t->m.name, t->address(wc->in->settings),
                                   w->rt->listeners[i].bound, t->up(wc->input), &wc->sessions,
                                   connections_of(wc));
        if (t->each_connection != NULL) {
            t->each_connection(wc->input, snapshot_connection, w->snap);
        }
        if (w->index == 0 && t->stats != NULL && w->rt->listeners[i].shared != NULL) {
            ixd_snapshot_add_input_counters(w->snap, t->stats, w->rt->listeners[i].shared);
        }
    }
    if (w->index == 0) {
        ixd_snapshot_add_outputs(w->snap, w->rt->outputs, w->rt->cfg->n_outputs);
    }
    for (i = 0; i < w->rt->cfg->n_pipelines; i++) {
        struct ixd_pipeline_counters c = {0, 0, 0, 0};
        if (w->rt->instances->pipelines[i].n == 0) {
            continue; /* its outputs are fed directly: nothing runs to count */
        }
        ixd_worker_pipeline_counters(w, i, &c);
        ixd_snapshot_add_pipeline(w->snap, w->rt->cfg->pipelines[i].name, c.in, c.out, c.failed,
                                  c.emitted);
    }
    snapshot_stages(w);
    ixd_snapshot_publish(w->snap);
}

/* Datagram sessions outlive connections: their templates are shared, saved and restored. */
static int
keeps_templates(const struct wcollector *wc)
{
    return (wc->in->type->flags & IXD_INPUT_DATAGRAMS) != 0;
}

/* HA: serializes what changed in this worker's UDP collectors for the peer (ha/state.h). */
static void
ha_share(struct ixd_worker *w, double now, int64_t usec)
{
    /* half a tick of slack, so that a 100 ms interval is every 100 ms tick */
    if (now - w->ha_shared_at < w->rt->cfg->ha.share_interval_ms / 1000.0 - FLUSH_INTERVAL / 2) {
        return;
    }
    w->ha_shared_at = now;
    ixd_ha_publish_begin(&w->ha_outbox);
    for (size_t i = 0; i < w->n_wcs; i++) {
        if (keeps_templates(w->wcs[i])) {
            ixd_ha_publish_add(&w->ha_outbox, &w->wcs[i]->sessions, w->index, now, usec / 1000);
        }
    }
    ixd_ha_publish_end(&w->ha_outbox);
}

/* HA: takes the peer's templates and sequence numbers into the collector of the same name. */
static void
ha_restore(struct ixd_worker *w, const struct ixd_ha_peer_state *st)
{
    int64_t usec;
    double now;

    clock_now(&now, &usec);
    memset(&w->ha_restored, 0, sizeof(w->ha_restored));
    for (size_t i = 0; i < w->n_wcs; i++) {
        if (keeps_templates(w->wcs[i]) && strcmp(w->wcs[i]->cfg->name, st->collector) == 0) {
            ixd_ha_restore(st, &w->wcs[i]->sessions, now, usec / 1000, &w->ha_restored);
        }
    }
}

static void
tick_cb(struct ev_loop *loop, ev_timer *t, int revents)
{
    struct ixd_worker *w = t->data;
    int64_t usec;
    double now;
    size_t i;

    clock_now(&now, &usec);
    atomic_store_explicit(&w->last_tick, now, memory_order_relaxed);
    /* before the flush: what stages emit on their tick goes out on this one */
    for (i = 0; i < w->n_wcs; i++) {
        for (size_t k = 0; k < w->wcs[i]->n_pipes; k++) {
            ixd_pipeline_tick(w->wcs[i]->pipes[k].run, now);
        }
    }
    flush_lanes(w);
    /* only while a reader is registered (the API, an RRD output): they cost a copy of every
     * template */
    if (ixd_snapshot_wanted(w->snap) && now - w->last_snapshot >= SNAPSHOT_INTERVAL) {
        w->last_snapshot = now;
        publish_snapshot(w, now, usec);
    }
    if (w->rt->cfg->ha.enabled) {
        ha_share(w, now, usec);
    }
    /* the inputs' ticks (TCP idle connections); the pipelines ticked before the flush above */
    for (i = 0; i < w->n_wcs; i++) {
        struct wcollector *wc = w->wcs[i];

        if (wc->in->type->tick != NULL) {
            wc->in->type->tick(wc->input, now);
        }
    }
    if (now - w->last_expire < EXPIRE_INTERVAL) {
        return;
    }
    w->last_expire = now;
    for (i = 0; i < w->n_wcs; i++) {
        ixd_sessions_expire(&w->wcs[i]->sessions, now);
    }
}

static void
stop_pipes(struct wcollector *wc)
{
    size_t i;

    for (i = 0; i < wc->n_pipes; i++) {
        ixd_pipeline_stop(wc->pipes[i].run);
    }
    free(wc->pipes);
    wc->pipes = NULL;
    wc->n_pipes = 0;
}

/* Starts this worker's instances of the pipelines with stages collector ci feeds in rt. */
static int
start_pipes(struct wcollector *wc, struct ixd_runtime *rt, size_t ci)
{
    size_t i, k;

    wc->pipes = calloc(rt->n_staged[ci] + 1, sizeof(*wc->pipes));
    if (wc->pipes == NULL) {
        return -1;
    }
    for (i = 0; i < rt->n_staged[ci]; i++) {
        size_t p = rt->staged[ci][i];
        const struct ixd_config_pipeline *pl = &rt->cfg->pipelines[p];
        struct wpipe *wp = &wc->pipes[wc->n_pipes];
        struct ixd_lane **lanes = calloc(pl->n_to + 1, sizeof(*lanes));

        if (lanes == NULL) {
            return -1;
        }
        for (k = 0; k < pl->n_to; k++) {
            struct ixd_output *o = rt->outputs[pl->to[k]];
            lanes[k] = o->type->lane(o, wc->w->index);
        }
        wp->index = p;
        wp->run = ixd_pipeline_start(&rt->instances->pipelines[p], wc->w->index, lanes, pl->n_to);
        free(lanes);
        if (wp->run == NULL) {
            return -1;
        }
        wc->n_pipes++;
    }
    return 0;
}

/* Points a collector at the lanes of the outputs its pipelines feed in rt, and starts its
 * pipelines with stages afresh (their state is per config: filters compile again). */
static int
set_lanes(struct wcollector *wc, struct ixd_runtime *rt, size_t ci)
{
    size_t i;

    stop_pipes(wc);
    if (start_pipes(wc, rt, ci) == -1) {
        return -1;
    }
    free(wc->lanes);
    wc->n_lanes = 0;
    wc->lanes = calloc(rt->n_routes[ci] + 1, sizeof(*wc->lanes));
    if (wc->lanes == NULL) {
        return -1;
    }
    for (i = 0; i < rt->n_routes[ci]; i++) {
        struct ixd_output *o = rt->routes[ci][i];
        wc->lanes[wc->n_lanes++] = o->type->lane(o, wc->w->index);
    }
    return 0;
}

/* A worker's share of a collector-wide total: totals are split evenly, rounded up. */
static uint64_t
share(uint64_t total, unsigned workers)
{
    return (total + workers - 1) / workers;
}

static uint32_t
clamp32(uint64_t v)
{
    return v > UINT32_MAX ? UINT32_MAX : (uint32_t)v;
}

/* The limits one worker applies to one collector's sessions. */
static void
session_limits(const struct ixd_runtime *rt, const struct ixd_input_conf *in,
               struct ixd_session_limits *sl, struct ixd_template_rules *rules)
{
    const struct ixd_config_limits *l = &rt->cfg->limits;
    const struct ixd_intake *intake = in->type->intake(in->settings);

    sl->template_lifetime = intake->template_lifetime;
    sl->templates_per_session = clamp32(l->templates_per_session);
    sl->templates_per_exporter = clamp32(l->templates_per_exporter);
    sl->templates_total = clamp32(share(l->templates_total, rt->workers));
    sl->template_memory = share(l->template_memory, rt->workers);
    sl->sessions_per_exporter = clamp32(l->sessions_per_exporter);
    sl->sessions_total = clamp32(share(l->sessions_total, rt->workers));
    sl->domains_per_session = clamp32(l->domains_per_session);
    sl->hold = intake->hold;
    sl->hold_time = clamp32(l->hold_time);
    sl->held_sets_per_session = clamp32(l->held_sets_per_session);
    sl->held_bytes_per_session = l->held_bytes_per_session;
    sl->held_bytes_total = share(l->held_bytes_total, rt->workers);
    sl->netflow9_pen = intake->netflow9_pen;
    sl->sampling = intake->sampling.rules;
    sl->n_sampling = intake->sampling.n;
    rules->registry = rt->registry;
    rules->max_fields = clamp32(l->fields_per_template);
    rules->max_record = clamp32(l->bytes_per_template);
}

/* Points a collector at collector ci of rt: its settings, limits, lanes and pipelines. */
static int
wc_point(struct wcollector *wc, struct ixd_runtime *rt, size_t ci)
{
    wc->cfg = &rt->cfg->collectors[ci];
    wc->in = &rt->instances->inputs[ci];
    wc->ctx.name = wc->cfg->name;
    wc->ctx.max_connections = clamp32(share(rt->cfg->limits.tcp_connections, rt->workers));
    session_limits(rt, wc->in, &wc->sessions.limits, &wc->sessions.rules);
    return set_lanes(wc, rt, ci);
}

static void
wc_free(struct wcollector *wc)
{
    if (wc->input != NULL) {
        wc->in->type->stop(wc->input);
    }
    ixd_sessions_release(&wc->sessions);
    stop_pipes(wc);
    free(wc->lanes);
    free(wc);
}

static struct wcollector *
wc_new(struct ixd_worker *w, struct ixd_runtime *rt, size_t ci)
{
    const struct ixd_input_conf *in = &rt->instances->inputs[ci];
    struct ixd_session_limits limits;
    struct ixd_template_rules rules;
    struct wcollector *wc = calloc(1, sizeof(*wc));

    if (wc == NULL) {
        return NULL;
    }
    wc->w = w;
    session_limits(rt, in, &limits, &rules);
    ixd_sessions_init(&wc->sessions, rt->cfg->collectors[ci].name,
                      (in->type->flags & IXD_INPUT_CONNECTIONS) != 0, &rules, &limits);
    ixd_sessions_deliver_to(&wc->sessions, deliver, announce, wc);
    if (rt->restore != NULL && rt->restore[ci] != NULL) {
        struct timespec mono, wall;
        clock_gettime(CLOCK_MONOTONIC, &mono);
        clock_gettime(CLOCK_REALTIME, &wall);
        ixd_templates_restore(rt->restore[ci], &wc->sessions,
                              (double)mono.tv_sec + (double)mono.tv_nsec / 1e9, wall.tv_sec);
    }
    wc->ctx = (struct ixd_input_ctx){w->loop,       w->index, rt->workers, NULL,
                                     &wc->sessions, &w->dec,  &w->rx,      0};
    if (wc_point(wc, rt, ci) == -1) {
        wc_free(wc);
        return NULL;
    }
    wc->input = in->type->start(rt->listeners[ci].shared, in->settings, &wc->ctx);
    if (wc->input == NULL) {
        wc_free(wc);
        return NULL;
    }
    return wc;
}

/* Runs in the worker (or before it starts): keeps unchanged collectors with their state. */
static void
apply(struct ixd_worker *w, struct ixd_runtime *rt)
{
    size_t n = rt->cfg->n_collectors, i, j;
    struct wcollector **next = calloc(n + 1, sizeof(*next));

    if (next == NULL) {
        ixd_fatal("worker %u: out of memory applying a config", w->index);
    }
    flush_lanes(w); /* outputs that go away get what is buffered for them */
    for (i = 0; i < n; i++) {
        for (j = 0; j < w->n_wcs && next[i] == NULL; j++) {
            struct wcollector *old = w->wcs[j];
            if (old != NULL && ixd_input_same(old->in, old->cfg->name, &rt->instances->inputs[i],
                                              rt->cfg->collectors[i].name)) {
                /* limits, holding, sampling and the allow-list apply from now on; state stays */
                if (wc_point(old, rt, i) == -1) {
                    ixd_fatal("worker %u: out of memory applying a config", w->index);
                }
                if (old->in->type->apply != NULL) {
                    old->in->type->apply(old->input, old->in->settings);
                }
                next[i] = old;
                w->wcs[j] = NULL;
            }
        }
        if (next[i] == NULL) {
            next[i] = wc_new(w, rt, i);
            if (next[i] == NULL) {
                ixd_fatal("worker %u: out of memory applying a config", w->index);
            }
        }
    }
    for (j = 0; j < w->n_wcs; j++) {
        if (w->wcs[j] != NULL) {
            wc_free(w->wcs[j]);
        }
    }
    free(w->wcs);
    w->wcs = next;
    w->n_wcs = n;
    w->rt = rt;
}

static void
stop(struct ixd_worker *w)
{
    /* what has already arrived is decoded before we go */
    for (size_t i = 0; i < w->n_wcs; i++) {
        struct wcollector *wc = w->wcs[i];
        if (wc->in->type->drain != NULL) {
            wc->in->type->drain(wc->input);
        }
    }
    flush_lanes(w);
    ev_timer_stop(w->loop, &w->tick);
    ev_break(w->loop, EVBREAK_ALL);
}

static void
wake_cb(struct ev_loop *loop, ev_async *a, int revents)
{
    struct ixd_worker *w = a->data;
    int cmd = atomic_exchange(&w->cmd, CMD_NONE);

    if (cmd == CMD_APPLY) {
        apply(w, w->cmd_rt);
    } else if (cmd == CMD_STOP) {
        stop(w);
    } else if (cmd == CMD_HA_RESTORE) {
        ha_restore(w, w->cmd_peer);
    } else {
        return;
    }
    sem_post(&w->done);
}

static void *
worker_main(void *arg)
{
    struct ixd_worker *w = arg;

    ev_run(w->loop, 0);
    return NULL;
}

struct ixd_worker *
ixd_worker_start(unsigned index, struct ixd_runtime *rt, char *err, size_t errlen)
{
    struct ixd_worker *w = calloc(1, sizeof(*w));

    if (w == NULL || ixd_udp_rx_init(&w->rx) == -1) {
        snprintf(err, errlen, "worker %u: out of memory", index);
        free(w);
        return NULL;
    }
    {
        int64_t usec;
        double now;
        clock_now(&now, &usec);
        atomic_store_explicit(&w->last_tick, now, memory_order_relaxed); /* alive from birth */
    }
    w->index = index;
    w->snap = ixd_snapshot_publisher_new(index);
    w->loop = ev_loop_new(EVFLAG_AUTO | EVFLAG_NOSIGMASK);
    if (w->loop == NULL || w->snap == NULL) {
        snprintf(err, errlen, "worker %u: cannot create an event loop", index);
        ixd_snapshot_publisher_free(w->snap);
        if (w->loop != NULL) {
            ev_loop_destroy(w->loop);
        }
        ixd_udp_rx_release(&w->rx);
        free(w);
        return NULL;
    }
    sem_init(&w->done, 0, 0);
    ixd_decoder_init(&w->dec, NULL, NULL); /* each collector's sessions say where records go */
    ev_async_init(&w->wake, wake_cb);
    w->wake.data = w;
    ev_async_start(w->loop, &w->wake);
    ev_timer_init(&w->tick, tick_cb, FLUSH_INTERVAL, FLUSH_INTERVAL);
    w->tick.data = w;
    ev_timer_start(w->loop, &w->tick);
    apply(w, rt); /* the thread does not exist yet: nothing else touches w */
    if (pthread_create(&w->thread, NULL, worker_main, w) != 0) {
        snprintf(err, errlen, "worker %u: cannot start a thread: %s", index, strerror(errno));
        ixd_worker_free(w);
        return NULL;
    }
    {
        char name[16]; /* top -H and the benchmarks tell the threads apart by it */
        snprintf(name, sizeof(name), "ixd-worker-%u", index);
        pthread_setname_np(w->thread, name);
    }
    w->running = 1;
    return w;
}

static void
command(struct ixd_worker *w, int cmd, struct ixd_runtime *rt)
{
    w->cmd_rt = rt;
    atomic_store(&w->cmd, cmd);
    ev_async_send(w->loop, &w->wake);
    while (sem_wait(&w->done) == -1 && errno == EINTR) {
    }
}

void
ixd_worker_apply(struct ixd_worker *w, struct ixd_runtime *rt)
{
    command(w, CMD_APPLY, rt);
}

void
ixd_worker_ha_restore(struct ixd_worker *w, const struct ixd_ha_peer_state *st,
                      struct ixd_ha_restored *got)
{
    w->cmd_peer = st;
    command(w, CMD_HA_RESTORE, NULL);
    got->templates += w->ha_restored.templates;
    got->sequences += w->ha_restored.sequences;
}

struct ixd_ha_outbox *
ixd_worker_ha_outbox(struct ixd_worker *w)
{
    return &w->ha_outbox;
}

void
ixd_worker_stop(struct ixd_worker *w)
{
    if (!w->running) {
        return;
    }
    command(w, CMD_STOP, NULL);
    pthread_join(w->thread, NULL);
    w->running = 0;
}

void
ixd_worker_free(struct ixd_worker *w)
{
    size_t i;

    if (w == NULL) {
        return;
    }
    ixd_worker_stop(w);
    for (i = 0; i < w->n_wcs; i++) {
        wc_free(w->wcs[i]);
    }
    free(w->wcs);
    ev_async_stop(w->loop, &w->wake);
    ev_timer_stop(w->loop, &w->tick);
    ev_loop_destroy(w->loop);
    ixd_udp_rx_release(&w->rx);
    sem_destroy(&w->done);
    ixd_snapshot_publisher_free(w->snap);
    ixd_ha_items_free(ixd_ha_outbox_take(&w->ha_outbox));
    free(w);
}

struct ixd_snapshot_publisher *
ixd_worker_snapshots(struct ixd_worker *w)
{
    return w->snap;
}

int
ixd_worker_collector_counters(struct ixd_worker *w, const char *name, struct ixd_counters *sum,
                              unsigned *tcp_connections, unsigned *sessions)
{
    size_t i;

    for (i = 0; i < w->n_wcs; i++) {
        struct wcollector *wc = w->wcs[i];
        if (strcmp(wc->cfg->name, name) == 0) {
            ixd_counters_sum(sum, &wc->sessions.counters);
            unsigned conns = connections_of(wc);
            *tcp_connections += conns;
            *sessions += wc->sessions.tcp ? conns : g_hash_table_size(wc->sessions.udp);
            return 0;
        }
    }
    return -1;
}

double
ixd_worker_last_tick(struct ixd_worker *w)
{
    return atomic_load_explicit(&w->last_tick, memory_order_relaxed);
}

void
ixd_worker_stage_counters(struct ixd_worker *w, size_t pipeline, size_t stage, void *list)
{
    for (size_t i = 0; i < w->n_wcs; i++) {
        for (size_t j = 0; j < w->wcs[i]->n_pipes; j++) {
            if (w->wcs[i]->pipes[j].index == pipeline) {
                ixd_pipeline_stage_stats(w->wcs[i]->pipes[j].run, stage, ixd_counter_list_sum,
                                         list);
            }
        }
    }
}

void
ixd_worker_pipeline_counters(struct ixd_worker *w, size_t pipeline,
                             struct ixd_pipeline_counters *sum)
{
    size_t i, j;

    for (i = 0; i < w->n_wcs; i++) {
        for (j = 0; j < w->wcs[i]->n_pipes; j++) {
            if (w->wcs[i]->pipes[j].index == pipeline) {
                ixd_pipeline_counters(w->wcs[i]->pipes[j].run, sum);
            }
        }
    }
}

struct ixd_sessions *
ixd_worker_sessions(struct ixd_worker *w, const char *collector)
{
    size_t i;

    for (i = 0; i < w->n_wcs; i++) {
        if (strcmp(w->wcs[i]->cfg->name, collector) == 0) {
            return &w->wcs[i]->sessions;
        }
    }
    return NULL;
}

void
ixd_worker_each_exporter(struct ixd_worker *w, ixd_exporter_fn fn, void *arg)
{
    GHashTableIter it;
    gpointer v;
    size_t i;

    for (i = 0; i < w->n_wcs; i++) {
        struct wcollector *wc = w->wcs[i];
        g_hash_table_iter_init(&it, wc->sessions.exporters);
        while (g_hash_table_iter_next(&it, NULL, &v)) {
            const struct ixd_exporter *e = v;
            GHashTableIter dit;
            gpointer dv;

            fn(arg, wc->cfg->name, e->text, -1, &e->counters);
            g_hash_table_iter_init(&dit, e->domains);
            while (g_hash_table_iter_next(&dit, NULL, &dv)) {
                const struct ixd_domain_counters *dc = dv;
                fn(arg, wc->cfg->name, e->text, dc->odid, &dc->c);
            }
        }
    }
}
