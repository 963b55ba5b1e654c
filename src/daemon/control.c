#include "daemon/control.h"

#include <errno.h>
#include <ev.h>
#include <glib.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "api/api.h"
#include "core/board.h"
#include "core/clock.h"
#include "core/counter_list.h"
#include "core/log.h"
#include "daemon/config_changes.h"
#include "daemon/config_writes.h"
#include "daemon/notify.h"
#include "daemon/privileges.h"
#include "daemon/runtime.h"
#include "daemon/worker.h"
#include "ha/channel.h"
#include "ipfix/ie.h"
#include "ipfix/session.h"
#include "registry/registry.h"

struct control {
    struct ev_loop *loop;
    ev_signal sig_hup, sig_term, sig_int, sig_usr1;
    const char *config_path;
    struct ixd_ie_registry *registry;
    struct ixd_runtime *rt;
    unsigned n_workers;
    struct ixd_worker **workers;
    double started;
    struct ixd_api *api;                   /* NULL when off or it could not listen */
    struct ixd_snapshot_publisher **snaps; /* per worker: what the API reads */
    struct ixd_board_slot *snaps_posted;   /* the publishers, for outputs that sample them */
    int64_t started_usec;
    struct ixd_notify *notify; /* systemd notify protocol; NULL outside systemd */

    struct ixd_ha_channel *ha;          /* template sharing with the peer; NULL when off */
    struct ixd_ha_outbox **ha_outboxes; /* per worker */
    struct ixd_config_writes *writes;   /* the API's changes to the config */
};

static unsigned
worker_count(const struct ixd_config *cfg)
{
    long n;

    if (cfg->workers > 0) {
        return (unsigned)cfg->workers;
    }
    n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? (unsigned)n : 1;
}

/* Threads started while these are blocked leave signal handling to the control thread. */
static void
block_signals(sigset_t *old)
{
    sigset_t set;

    sigemptyset(&set);
    sigaddset(&set, SIGHUP);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGUSR1);
    pthread_sigmask(SIG_BLOCK, &set, old);
}

static struct ixd_runtime *
runtime_new(struct control *ctl, struct ixd_config *cfg, char *err, size_t errlen)
{
    struct ixd_runtime *rt;
    sigset_t old;

    block_signals(&old);
    rt = ixd_runtime_new(cfg, ctl->n_workers, ctl->registry, ctl->rt, err, errlen);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    return rt;
}

/* The watchdog pings only while every worker's loop still ticks: a worker stuck in a callback
 * (or deadlocked) stops the pings, and systemd restarts the service. */
#define WORKER_STALL_SECONDS 5.0

static int
workers_alive(void *arg)
{
    struct control *ctl = arg;
    double now = ixd_mono_now();
    unsigned i;

    for (i = 0; i < ctl->n_workers; i++) {
        if (now - ixd_worker_last_tick(ctl->workers[i]) > WORKER_STALL_SECONDS) {
            return 0;
        }
    }
    return 1;
}

static void
log_listeners(const struct ixd_runtime *rt)
{
    size_t i;

    for (i = 0; i < rt->cfg->n_collectors; i++) {
        log_info("collector %s: listening on %s %s", rt->cfg->collectors[i].name,
                 rt->listeners[i].type->m.name, rt->listeners[i].bound);
    }
}

static size_t
format_errors(const struct ixd_counters *c, char *out, size_t outlen)
{
    size_t o = 0;
    int i;

    out[0] = '\0';
    for (i = 0; i < IXD_ERR__COUNT && o < outlen; i++) {
        if (c->errors[i] > 0) {
            int n = snprintf(out + o, outlen - o, "%s%s=%llu", o == 0 ? " (" : " ",
                             ixd_error_name((enum ixd_error)i), (unsigned long long)c->errors[i]);
            o += n > 0 ? (size_t)n : 0;
        }
    }
    if (o > 0 && o + 2 < outlen) {
        out[o++] = ')';
        out[o] = '\0';
    }
    return o;
}

static void
log_line(void *arg, const char *text)
{
    log_info("%s", text);
}

/* "stats pipeline NAME stage 1 lua: calls=... " and a line per label value, for each stage whose
 * type reports counters, summed over the workers. */
static void
log_stage_lines(struct control *ctl, size_t p, const char *when)
{
    const struct ixd_pipeline_conf *pc = &ctl->rt->instances->pipelines[p];

    for (size_t s = 0; s < pc->n; s++) {
        struct ixd_counter_list l = {0};
        char what[2 * IXD_NAME_MAX + 64];

        if (pc->types[s]->stats == NULL) {
            continue;
        }
        for (unsigned k = 0; k < ctl->n_workers; k++) {
            ixd_worker_stage_counters(ctl->workers[k], p, s, &l);
        }
        snprintf(what, sizeof(what), "%s pipeline %s stage %zu %s", when,
                 ctl->rt->cfg->pipelines[p].name, s, pc->types[s]->name);
        ixd_counter_list_lines(l.items, l.n, what, log_line, NULL);
        ixd_counter_list_release(&l);
    }
}

/* The lines of a collector's input type's own counters (a capture's), if it has any. */
static void
log_input_counters(struct control *ctl, size_t i, const char *when)
{
    const struct ixd_listener *l = &ctl->rt->listeners[i];
    struct ixd_counter_list list = {0};
    char what[IXD_NAME_MAX + 32];

    if (l->type == NULL || l->type->stats == NULL || l->shared == NULL) {
        return;
    }
    l->type->stats(l->shared, ixd_counter_list_add, &list);
    snprintf(what, sizeof(what), "%s collector %s input", when, ctl->rt->cfg->collectors[i].name);
    ixd_counter_list_lines(list.items, list.n, what, log_line, NULL);
    ixd_counter_list_release(&list);
}

static void
log_summary(struct control *ctl, const char *when)
{
    const struct ixd_config *cfg = ctl->rt->cfg;
    size_t i, k;

    for (i = 0; i < cfg->n_collectors; i++) {
        struct ixd_counters sum;
        unsigned conns = 0, sessions = 0;
        char errs[512];

        memset(&sum, 0, sizeof(sum));
        for (k = 0; k < ctl->n_workers; k++) {
            ixd_worker_collector_counters(ctl->workers[k], cfg->collectors[i].name, &sum, &conns,
                                          &sessions);
        }
        format_errors(&sum, errs, sizeof(errs));
        log_info("%s collector %s: sessions=%u messages=%llu records=%llu bytes=%llu "
                 "templates=%llu templates_replaced=%llu templates_withdrawn=%llu "
                 "templates_expired=%llu options_records=%llu seq_lost=%llu seq_reordered=%llu "
                 "seq_resets=%llu socket_drops=%llu held_sets=%llu late_records=%llu "
                 "held_dropped=%llu templates_evicted=%llu sessions_evicted=%llu "
                 "forwarded=%llu forward_dropped=%llu tcp_connections=%u errors=%llu%s",
                 when, cfg->collectors[i].name, sessions, (unsigned long long)sum.messages,
                 (unsigned long long)sum.records, (unsigned long long)sum.bytes,
                 (unsigned long long)sum.templates, (unsigned long long)sum.templates_replaced,
                 (unsigned long long)sum.templates_withdrawn,
                 (unsigned long long)sum.templates_expired, (unsigned long long)sum.options_records,
                 (unsigned long long)sum.seq_lost, (unsigned long long)sum.seq_reordered,
                 (unsigned long long)sum.seq_resets, (unsigned long long)sum.socket_drops,
                 (unsigned long long)sum.held_sets, (unsigned long long)sum.late_records,
                 (unsigned long long)sum.held_dropped, (unsigned long long)sum.templates_evicted,
                 (unsigned long long)sum.sessions_evicted, (unsigned long long)sum.forwarded,
                 (unsigned long long)sum.forward_dropped, conns,
                 (unsigned long long)ixd_counters_errors(&sum), errs);
        log_input_counters(ctl, i, when);
    }
    for (i = 0; i < cfg->n_pipelines; i++) {
        struct ixd_pipeline_counters pc = {0, 0, 0, 0};
        uint64_t dropped;

        if (cfg->pipelines[i].n_stages == 0) {
            continue; /* a route: its records are the collector's */
        }
        for (k = 0; k < ctl->n_workers; k++) {
            ixd_worker_pipeline_counters(ctl->workers[k], i, &pc);
        }
        /* what came in or was emitted and did not go out was dropped or failed; read while
         * the workers run, a CPU that reorders their stores could show more leaving: 0 then */
        dropped = 0;
        if (pc.in + pc.emitted > pc.out + pc.failed) {
            dropped = pc.in + pc.emitted - pc.out - pc.failed;
        }
        log_info("%s pipeline %s: in=%llu out=%llu dropped=%llu failed=%llu emitted=%llu", when,
                 cfg->pipelines[i].name, (unsigned long long)pc.in, (unsigned long long)pc.out,
                 (unsigned long long)dropped, (unsigned long long)pc.failed,
                 (unsigned long long)pc.emitted);
        log_stage_lines(ctl, i, when);
    }
    for (i = 0; i < cfg->n_outputs; i++) {
        struct ixd_output *o = ctl->rt->outputs[i];
        struct ixd_counter_list l = {0};
        char what[IXD_NAME_MAX + 32];

        o->type->stats(o, ixd_counter_list_add, &l);
        snprintf(what, sizeof(what), "%s output %s", when, o->name);
        ixd_counter_list_lines(l.items, l.n, what, log_line, NULL);
        ixd_counter_list_release(&l);
    }
    if (ctl->ha != NULL) {
        ixd_ha_channel_log(ctl->ha, when);
    }
}

/* Per-exporter totals for the shutdown summary, merged over workers. */
struct exporter_sum {
    char key[128];
    struct ixd_counters c;
};

static void
add_exporter(void *arg, const char *collector, const char *exporter, int64_t odid,
             const struct ixd_counters *c)
{
    GHashTable *t = arg;
    char key[128];
    struct exporter_sum *e;

    if (odid < 0) {
        snprintf(key, sizeof(key), "collector %s exporter %s", collector, exporter);
    } else if (odid == IXD_ODID_OTHER) {
        snprintf(key, sizeof(key), "collector %s exporter %s odid other", collector, exporter);
    } else {
        snprintf(key, sizeof(key), "collector %s exporter %s odid %lld", collector, exporter,
                 (long long)odid);
    }
    e = g_hash_table_lookup(t, key);
    if (e == NULL) {
        e = calloc(1, sizeof(*e));
        if (e == NULL) {
            return;
        }
        memcpy(e->key, key, sizeof(key));
        g_hash_table_insert(t, e->key, e);
    }
    ixd_counters_sum(&e->c, c);
}

static void
log_exporters(struct control *ctl)
{
    GHashTable *t = g_hash_table_new_full(g_str_hash, g_str_equal, NULL, free);
    GList *keys, *k;
    unsigned i;

    for (i = 0; i < ctl->n_workers; i++) {
        ixd_worker_each_exporter(ctl->workers[i], add_exporter, t);
    }
    /* sorted, so that an exporter's domains follow it */
    keys = g_list_sort(g_hash_table_get_keys(t), (GCompareFunc)strcmp);
    for (k = keys; k != NULL; k = k->next) {
        const struct exporter_sum *e = g_hash_table_lookup(t, k->data);
        char errs[512];
        format_errors(&e->c, errs, sizeof(errs));
        log_info("final %s: messages=%llu records=%llu templates=%llu seq_lost=%llu "
                 "seq_reordered=%llu seq_resets=%llu errors=%llu%s",
                 e->key, (unsigned long long)e->c.messages, (unsigned long long)e->c.records,
                 (unsigned long long)e->c.templates, (unsigned long long)e->c.seq_lost,
                 (unsigned long long)e->c.seq_reordered, (unsigned long long)e->c.seq_resets,
                 (unsigned long long)ixd_counters_errors(&e->c), errs);
    }
    g_list_free(keys);
    g_hash_table_destroy(t);
}

/* Posts the workers' snapshot publishers on the board, for outputs that sample what they
 * publish (an RRD output's health series); a failure (no memory) leaves them without. */
static void
post_snapshots(struct control *ctl)
{
    struct ixd_snapshot_publisher **pubs = calloc(ctl->n_workers + 1, sizeof(*pubs));
    struct ixd_snapshot_set *set;

    for (unsigned k = 0; pubs != NULL && k < ctl->n_workers; k++) {
        pubs[k] = ixd_worker_snapshots(ctl->workers[k]);
    }
    set = pubs != NULL ? ixd_snapshot_set_new(pubs, ctl->n_workers) : NULL;
    free(pubs);
    ctl->snaps_posted = ixd_board_slot_new(IXD_SNAPSHOT_TOPIC, "workers");
    if (set == NULL || ctl->snaps_posted == NULL) {
        ixd_snapshot_set_free(set);
        log_warn("out of memory: outputs cannot sample the workers' counters");
        return;
    }
    ixd_board_post(ctl->snaps_posted, ixd_board_item_new(set, ixd_snapshot_set_free));
}

/* Starts the API of cfg (if enabled); a failure is logged, and collecting goes on without it. */
static void
api_start(struct control *ctl, const struct ixd_config *cfg)
{
    struct ixd_api_config_hooks hooks;
    char err[512];
    sigset_t old;
    unsigned k;

    if (!cfg->api.enabled) {
        return;
    }
    if (ctl->snaps == NULL) {
        ctl->snaps = calloc(ctl->n_workers, sizeof(*ctl->snaps));
        for (k = 0; ctl->snaps != NULL && k < ctl->n_workers; k++) {
            ctl->snaps[k] = ixd_worker_snapshots(ctl->workers[k]);
        }
    }
    hooks = ixd_config_writes_hooks(ctl->writes);
    block_signals(&old); /* the server thread leaves signals to this one */
    ctl->api = ctl->snaps != NULL ? ixd_api_start(&cfg->api, ctl->snaps, ctl->n_workers,
                                                  ctl->started_usec, &hooks, err, sizeof(err))
                                  : NULL;
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (ctl->api == NULL) {
        log_err("%s; ipfixd goes on collecting without its API", err);
    } else {
        ixd_api_set_config(ctl->api, &cfg->tree);
        log_info("api: serving on %s%s", cfg->api.listen,
                 cfg->api.certificate[0] != '\0' ? " (https)" : "");
    }
}

/* On reload the server restarts only when its settings changed (or it had failed). */
static void
api_reload(struct control *ctl, const struct ixd_config *cfg)
{
    if (ctl->api != NULL && ixd_config_api_same(ixd_api_config(ctl->api), &cfg->api)) {
        ixd_api_set_config(ctl->api, &cfg->tree);
        return;
    }
    /* its write threads may wait on this thread: they are answered before it waits on them */
    ixd_config_writes_pause(ctl->writes);
    ixd_api_stop(ctl->api);
    ixd_config_writes_resume(ctl->writes);
    ctl->api = NULL;
    api_start(ctl, cfg);
}

/* The HA channel hands what the peer shares to every worker (ha/channel.h). */
static void
ha_deliver(void *arg, const struct ixd_ha_peer_state *st, struct ixd_ha_restored *got)
{
    struct control *ctl = arg;

    for (unsigned k = 0; k < ctl->n_workers; k++) {
        ixd_worker_ha_restore(ctl->workers[k], st, got);
    }
}

/* Starts (or, when its settings changed, restarts) the HA channel: -1 when it cannot. */
static int
ha_apply(struct control *ctl, const struct ixd_config_ha *cfg)
{
    struct ixd_ha_channel *ch = NULL;
    char err[768];

    if (ctl->ha != NULL && ixd_config_ha_same(ixd_ha_channel_config(ctl->ha), cfg)) {
        return 0;
    }
    if (ctl->ha_outboxes == NULL) {
        ctl->ha_outboxes = calloc(ctl->n_workers, sizeof(*ctl->ha_outboxes));
        for (unsigned k = 0; ctl->ha_outboxes != NULL && k < ctl->n_workers; k++) {
            ctl->ha_outboxes[k] = ixd_worker_ha_outbox(ctl->workers[k]);
        }
    }
    ixd_ha_channel_free(ctl->ha); /* the listening port may be the same */
    ctl->ha = NULL;
    if (cfg->enabled && ctl->ha_outboxes != NULL) {
        ch = ixd_ha_channel_new(ctl->loop, cfg, ctl->ha_outboxes, ctl->n_workers, ha_deliver, ctl,
                                err, sizeof(err));
        if (ch == NULL) {
            log_err("%s", err);
            return -1;
        }
        log_info("ha: listening on %s, sharing templates with %s", cfg->listen, cfg->peer);
    }
    ctl->ha = ch;
    return 0;
}

/* Checks cfg as `ipfixd -t` checks a file: its files as ipfixd's user, the API's JWKS, and,
 * with modules, every module's settings. 0, or -1 with "file:line:col: message". */
static int
check_config(struct control *ctl, const struct ixd_config *cfg, int modules, char *err,
             size_t errlen)
{
    struct ixd_instances *in;

    if (ixd_config_check_files(cfg, NULL, NULL, err, errlen) == -1 ||
        ixd_api_check(&cfg->api, cfg->source, err, errlen) == -1) {
        return -1;
    }
    if (modules) {
        in = ixd_instances_conf(cfg, ctl->registry, 1, IXD_CONFIG_DEFAULT, err, errlen);
        if (in == NULL) {
            return -1;
        }
        ixd_instances_free(in);
    }
    return 0;
}

/*
 * Runs cfg (taken over): a runtime built from it, taking over what did not change, handed to
 * every worker. reopen: outputs reopen their files (a SIGHUP: logs rotated). 0, or -1 with err
 * and the running config as it was.
 */
static int
apply_config(struct control *ctl, struct ixd_config *cfg, int reopen, char *err, size_t errlen)
{
    struct ixd_runtime *rt, *old = ctl->rt;
    unsigned k;

    if (strcmp(cfg->user, ctl->rt->cfg->user) != 0 ||
        strcmp(cfg->group, ctl->rt->cfg->group) != 0) {
        log_warn("reload: user and group take effect at restart; keeping those ipfixd runs as");
    }
    if (worker_count(cfg) != ctl->n_workers) {
        log_warn("reload: a new worker count takes effect at restart; keeping %u", ctl->n_workers);
    }
    rt = runtime_new(ctl, cfg, err, errlen);
    if (rt == NULL) {
        return -1;
    }
    ixd_log_setup(cfg->log_target, cfg->log_level);
    for (k = 0; k < ctl->n_workers; k++) {
        ixd_worker_apply(ctl->workers[k], rt);
    }
    ctl->rt = rt;
    ixd_runtime_replaced(old, rt); /* workers have let go: close what did not carry over */
    ixd_runtime_free(old);
    api_reload(ctl, rt->cfg);
    ha_apply(ctl, &rt->cfg->ha); /* a failure is logged; collecting goes on without it */
    for (k = 0; reopen && k < rt->cfg->n_outputs; k++) {
        rt->outputs[k]->type->reopen(rt->outputs[k]);
    }
    log_listeners(rt);
    return 0;
}

static void
reload(struct control *ctl)
{
    struct ixd_config *file, *cfg;
    char err[1024];

    file = ctl->config_path != NULL
               ? ixd_config_load_flags(ctl->config_path, IXD_CONFIG_RELOAD, err, sizeof(err))
               : ixd_config_builtin_flags(IXD_CONFIG_RELOAD);
    if (file == NULL) {
        log_err("reload refused, the running config stays: %s", err);
        return;
    }
    cfg = ixd_config_writes_rebase(ctl->writes, file, IXD_CONFIG_RELOAD, err, sizeof(err));
    if (cfg != file) {
        ixd_config_free(file);
    }
    if (cfg == NULL) {
        log_err("reload refused, the running config stays: %s", err);
        return;
    }
    if (check_config(ctl, cfg, 0, err, sizeof(err)) == -1) {
        log_err("reload refused, the running config stays: %s", err);
        ixd_config_free(cfg);
        return;
    }
    if (apply_config(ctl, cfg, 1, err, sizeof(err)) == -1) {
        log_err("reload refused, the running config stays: %s", err);
        return;
    }
    ixd_config_writes_commit(ctl->writes);
    log_info("reloaded %s", ctl->config_path != NULL ? ctl->config_path : "the built-in config");
}

/* ---- what the config's writes ask of this thread (config_writes.h) ---- */

static const struct ixd_config *
writes_running(void *arg)
{
    struct control *ctl = arg;

    return ctl->rt->cfg;
}

static int
writes_check(void *arg, const struct ixd_config *cfg, char *err, size_t errlen)
{
    return check_config(arg, cfg, 1, err, errlen);
}

static int
writes_apply(void *arg, struct ixd_config *cfg, char *err, size_t errlen)
{
    struct control *ctl = arg;

    if (apply_config(ctl, cfg, 0, err, errlen) == -1) {
        return -1;
    }
    ixd_notify_ready(ctl->notify, "collecting: %u workers, %zu collectors, %zu outputs",
                     ctl->n_workers, ctl->rt->cfg->n_collectors, ctl->rt->cfg->n_outputs);
    return 0;
}

static const struct ixd_config_writes_ops writes_ops = {writes_running, writes_check, writes_apply};

static void
signal_cb(struct ev_loop *loop, ev_signal *w, int revents)
{
    struct control *ctl = w->data;

    switch (w->signum) {
    case SIGHUP:
        ixd_notify_reloading(ctl->notify);
        reload(ctl);
        ixd_notify_ready(ctl->notify, "collecting: %u workers, %zu collectors, %zu outputs",
                         ctl->n_workers, ctl->rt->cfg->n_collectors, ctl->rt->cfg->n_outputs);
        break;
    case SIGUSR1:
        log_summary(ctl, "stats");
        break;
    default:
        log_info("stopping on signal %d", w->signum);
        ixd_notify_stopping(ctl->notify);
        ev_break(loop, EVBREAK_ALL);
        break;
    }
}

static void
watch_signal(struct control *ctl, ev_signal *w, int signum)
{
    ev_signal_init(w, signal_cb, signum);
    w->data = ctl;
    ev_signal_start(ctl->loop, w);
}

/* The state directory, created if need be; NULL (with a warning) when it cannot be used. */
static const char *
state_directory(const struct ixd_config *cfg)
{
    const char *dir = cfg->state_directory;

    if (dir[0] == '\0') {
        return NULL;
    }
    if (g_mkdir_with_parents(dir, 0750) == -1 || access(dir, W_OK | X_OK) == -1) {
        log_warn("state directory %s is not usable (%s): templates will not survive a restart", dir,
                 strerror(errno));
        return NULL;
    }
    return dir;
}

/* Reads the templates saved for each UDP collector; the workers restore them as they start. */
static void
load_templates(struct control *ctl)
{
    const struct ixd_config *cfg = ctl->rt->cfg;
    const char *dir = state_directory(cfg);
    size_t i;

    if (dir == NULL) {
        return;
    }
    ctl->rt->restore = calloc(cfg->n_collectors, sizeof(*ctl->rt->restore));
    for (i = 0; ctl->rt->restore != NULL && i < cfg->n_collectors; i++) {
        char *path, err[256];

        if (!(ctl->rt->listeners[i].type->flags & IXD_INPUT_DATAGRAMS)) {
            continue; /* connections take their templates with them */
        }
        path = ixd_templates_path(dir, cfg->collectors[i].name);
        ctl->rt->restore[i] = ixd_templates_load(path, cfg->collectors[i].name, err, sizeof(err));
        if (ctl->rt->restore[i] != NULL) {
            log_info("collector %s: restoring up to %zu templates from %s", cfg->collectors[i].name,
                     ixd_saved_templates_count(ctl->rt->restore[i]), path);
        } else if (err[0] != '\0') {
            log_warn("collector %s: ignoring %s: %s", cfg->collectors[i].name, path, err);
        }
        g_free(path);
    }
}

/* Writes each UDP collector's templates (the workers have stopped). */
static void
save_templates(struct control *ctl)
{
    const struct ixd_config *cfg = ctl->rt->cfg;
    const char *dir = state_directory(cfg);
    struct ixd_sessions **tables;
    struct timespec mono, wall;
    size_t i, k;

    tables = calloc(ctl->n_workers, sizeof(*tables));
    if (dir == NULL || tables == NULL) {
        free(tables);
        return;
    }
    clock_gettime(CLOCK_MONOTONIC, &mono);
    clock_gettime(CLOCK_REALTIME, &wall);
    for (i = 0; i < cfg->n_collectors; i++) {
        char *path, err[256];
        size_t n = 0;
        long saved;

        if (!(ctl->rt->listeners[i].type->flags & IXD_INPUT_DATAGRAMS)) {
            continue;
        }
        for (k = 0; k < ctl->n_workers; k++) {
            struct ixd_sessions *ss = ixd_worker_sessions(ctl->workers[k], cfg->collectors[i].name);
            if (ss != NULL) {
                tables[n++] = ss;
            }
        }
        path = ixd_templates_path(dir, cfg->collectors[i].name);
        saved = ixd_templates_save(path, cfg->collectors[i].name, tables, n,
                                   (double)mono.tv_sec + (double)mono.tv_nsec / 1e9, wall.tv_sec,
                                   err, sizeof(err));
        if (saved < 0) {
            log_err("collector %s: cannot save templates: %s", cfg->collectors[i].name, err);
        } else {
            log_info("collector %s: saved %ld templates to %s", cfg->collectors[i].name, saved,
                     path);
        }
        g_free(path);
    }
    free(tables);
}

static int
start_workers(struct control *ctl)
{
    char err[512];
    sigset_t old;
    unsigned k;

    ctl->workers = calloc(ctl->n_workers, sizeof(*ctl->workers));
    if (ctl->workers == NULL) {
        log_err("out of memory");
        return -1;
    }
    block_signals(&old);
    for (k = 0; k < ctl->n_workers; k++) {
        ctl->workers[k] = ixd_worker_start(k, ctl->rt, err, sizeof(err));
        if (ctl->workers[k] == NULL) {
            pthread_sigmask(SIG_SETMASK, &old, NULL);
            log_err("%s", err);
            return -1;
        }
    }
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    return 0;
}

static void
shutdown_all(struct control *ctl)
{
    unsigned k;

    ixd_ha_channel_free(ctl->ha); /* it sends the workers commands: before they stop */
    ctl->ha = NULL;
    free(ctl->ha_outboxes);
    ixd_config_writes_pause(ctl->writes); /* no write thread waits on this one */
    ixd_api_stop(ctl->api); /* its thread reads what the workers publish: it goes first */
    ctl->api = NULL;
    free(ctl->snaps);
    /* a reader made from it keeps the publishers alive, not the workers */
    ixd_board_slot_free(ctl->snaps_posted);
    ctl->snaps_posted = NULL;
    for (k = 0; ctl->workers != NULL && k < ctl->n_workers; k++) {
        if (ctl->workers[k] != NULL) {
            ixd_worker_stop(ctl->workers[k]);
        }
    }
    if (ctl->workers != NULL && ctl->rt != NULL) {
        int all = 1;
        for (k = 0; k < ctl->n_workers; k++) {
            all &= ctl->workers[k] != NULL;
        }
        if (all) {
            log_summary(ctl, "final");
            log_exporters(ctl);
            save_templates(ctl);
        }
    }
    for (k = 0; ctl->workers != NULL && k < ctl->n_workers; k++) {
        ixd_worker_free(ctl->workers[k]);
    }
    free(ctl->workers);
    ixd_runtime_free(ctl->rt); /* outputs flush and close here */
    ixd_ie_registry_free(ctl->registry);
}

/* Everything up to collecting: the element registry, the files as ipfixd's user, the runtime
 * (sockets bound, outputs open), the drop of privileges, then the workers, the API and the HA
 * channel. 0, or -1 (logged) with what was started stopped again. */
/* The runtime of cfg (taken over) once its files check as ipfixd's user: NULL with err. */
static struct ixd_runtime *
first_runtime(struct control *ctl, struct ixd_config *cfg, char *err, size_t errlen)
{
    if (ixd_config_check_files(cfg, NULL, NULL, err, errlen) == -1) {
        ixd_config_free(cfg);
        return NULL;
    }
    return runtime_new(ctl, cfg, err, errlen);
}

/*
 * The first runtime: of the file with the API's changes over it (api.writes: persist), or of
 * the file alone when those do not apply any more (they are set aside, not lost). file is
 * taken over. NULL with err.
 */
static struct ixd_runtime *
start_runtime(struct control *ctl, struct ixd_config *file, char *err, size_t errlen)
{
    struct ixd_config *cfg;
    struct ixd_runtime *rt;
    struct ixd_cnode tree;
    char why[1024], described[1200];

    cfg = ixd_config_writes_rebase(ctl->writes, file, IXD_CONFIG_DEFAULT, why, sizeof(why));
    if (cfg == file) {
        ixd_config_writes_commit(ctl->writes);
        return first_runtime(ctl, file, err, errlen);
    }
    snprintf(described, sizeof(described), "%s", why);
    if (cfg != NULL && ixd_cnode_copy(&tree, &cfg->tree) == 0) {
        rt = first_runtime(ctl, cfg, why, sizeof(why));
        if (rt != NULL) {
            ixd_cnode_release(&tree);
            ixd_config_writes_commit(ctl->writes);
            ixd_config_free(file);
            return rt;
        }
        /* a message about an item the API wrote names it by its pointer */
        ixd_config_changes_describe(&tree, file->source, why, described, sizeof(described));
        ixd_cnode_release(&tree);
    } else if (cfg != NULL) {
        ixd_config_free(cfg);
        snprintf(described, sizeof(described), "out of memory");
    }
    ixd_config_writes_set_aside(ctl->writes, file, described);
    return first_runtime(ctl, file, err, errlen);
}

/* Everything up to collecting: the element registry, the files as ipfixd's user, the runtime
 * (sockets bound, outputs open), the drop of privileges, then the workers, the API and the HA
 * channel. 0, or -1 (logged) with what was started stopped again. */
static int
start(struct control *ctl, struct ixd_config *cfg)
{
    char err[1024];

    ixd_log_setup(cfg->log_target, cfg->log_level);
    /* element files are ipfixd's own or named by root's config, read once: as who started it */
    ctl->registry = ixd_ie_registry_new(cfg->element_files, cfg->n_element_files, err, sizeof(err));
    if (ctl->registry != NULL && ixd_ie_registry_add_own(ctl->registry, cfg->own_enterprise) == -1) {
        ixd_ie_registry_free(ctl->registry);
        ctl->registry = NULL;
        snprintf(err, sizeof(err), "out of memory");
    }
    if (ctl->registry == NULL ||
        ixd_privileges_open_files_as_user(cfg, 1, err, sizeof(err)) == -1) {
        log_err("%s", err);
        ixd_ie_registry_free(ctl->registry);
        ixd_config_free(cfg);
        return -1;
    }
    ctl->rt = start_runtime(ctl, cfg, err, sizeof(err));
    if (ctl->rt == NULL) {
        log_err("%s", err);
        ixd_ie_registry_free(ctl->registry);
        return -1;
    }
    ixd_log_setup(ctl->rt->cfg->log_target, ctl->rt->cfg->log_level);
    load_templates(ctl);
    /* sockets bound, files open: nothing that reads the network starts before this */
    if (ixd_privileges_drop(ctl->rt->cfg, err, sizeof(err)) == -1) {
        log_err("%s", err);
        shutdown_all(ctl);
        return -1;
    }
    if (start_workers(ctl) == -1) {
        shutdown_all(ctl);
        return -1;
    }
    post_snapshots(ctl);
    api_start(ctl, ctl->rt->cfg);
    if (ha_apply(ctl, &ctl->rt->cfg->ha) == -1) {
        shutdown_all(ctl);
        return -1;
    }
    return 0;
}

int
ixd_control_run(struct ixd_config *cfg, const char *config_path)
{
    struct control ctl;

    memset(&ctl, 0, sizeof(ctl));
    ctl.started_usec = g_get_real_time();
    ctl.config_path = config_path;
    /*
     * Not ev_default_loop: that one reaps every child of the process (waitpid(-1) on SIGCHLD),
     * which would race whoever started the child for its exit status (a keepalived -t refusal
     * was once read as success that way). ipfixd starts no process now (keepalived's commands
     * run in ipfixd-keepalived-apply); the loop stays one that reaps nothing behind anyone's
     * back. Signal watchers work in any loop; no child watcher is used.
     */
    ctl.loop = ev_loop_new(EVFLAG_AUTO);
    if (ctl.loop == NULL) {
        log_err("cannot create the control thread's event loop");
        ixd_config_free(cfg);
        return 1;
    }
    ctl.n_workers = worker_count(cfg);
    ctl.writes = ixd_config_writes_new(ctl.loop, &writes_ops, &ctl);
    if (ctl.writes == NULL) {
        log_err("out of memory");
        ixd_config_free(cfg);
        ev_loop_destroy(ctl.loop);
        return 1;
    }
    signal(SIGPIPE, SIG_IGN); /* a closed pipe is a write error, counted by its output */
    /* a file grown past RLIMIT_FSIZE (ulimit -f, systemd LimitFSIZE=) fails its write with
     * EFBIG, counted by its output, instead of killing the daemon */
    signal(SIGXFSZ, SIG_IGN);
    if (start(&ctl, cfg) == -1) {
        ixd_config_writes_free(ctl.writes);
        ev_loop_destroy(ctl.loop);
        return 1;
    }
    watch_signal(&ctl, &ctl.sig_hup, SIGHUP);
    watch_signal(&ctl, &ctl.sig_term, SIGTERM);
    watch_signal(&ctl, &ctl.sig_int, SIGINT);
    watch_signal(&ctl, &ctl.sig_usr1, SIGUSR1);
    log_info("ipfixd %s started with %u workers, %zu information elements", IXD_VERSION,
             ctl.n_workers, ixd_ie_count(ctl.registry));
    log_listeners(ctl.rt);
    ctl.notify = ixd_notify_new(ctl.loop); /* listeners bound, workers running: READY=1 */
    ixd_notify_set_alive(ctl.notify, workers_alive, &ctl);
    ixd_notify_ready(ctl.notify, "collecting: %u workers, %zu collectors, %zu outputs",
                     ctl.n_workers, ctl.rt->cfg->n_collectors, ctl.rt->cfg->n_outputs);
    ev_run(ctl.loop, 0);
    shutdown_all(&ctl);
    ixd_config_writes_free(ctl.writes);
    ixd_notify_free(ctl.notify);
    ev_loop_destroy(ctl.loop);
    log_info("stopped");
    return 0;
}
