/*
 * The RRD store (store.h): series, their pending counts, files and rows. A traffic series
 * keeps the counts of up to PENDING steps from `next` on in a ring; a round writes every step
 * that has ended, zeros included, in one update per file, so that the file's rows follow the
 * clock exactly and librrd never sees a time that is not after its last.
 */
#include "rrd/store_internal.h"

#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/hash.h"
#include "core/relaxed_counter.h"
#include "snapshot/snapshot.h"

#define STEP IXD_RRD_STEP
#define RETRY_FIRST 10 /* seconds before a failed file is tried again, doubling */
#define RETRY_MAX 300

static guint
key_hash(gconstpointer p)
{
    return ixd_fnv32(IXD_FNV32_INIT, p, sizeof(struct ixd_rrd_key));
}

static gboolean
key_equal(gconstpointer a, gconstpointer b)
{
    return memcmp(a, b, sizeof(struct ixd_rrd_key)) == 0;
}

static void
series_free(gpointer p)
{
    struct series *s = p;

    free(s->path);
    free(s);
}

static struct series *
series_new(struct ixd_rrd_store *st, const struct ixd_rrd_key *k)
{
    struct series *s = calloc(1, sizeof(*s));
    const char *const *cols;

    if (s == NULL) {
        return NULL;
    }
    s->key = *k;
    if (ixd_rrd_key_id(k, s->id, sizeof(s->id)) == -1 ||
        (s->path = g_strdup_printf("%s/%s.rrd", st->directory, s->id)) == NULL) {
        free(s);
        return NULL;
    }
    s->traffic = (uint8_t)ixd_rrd_kind_traffic(k->kind);
    s->columns = (uint8_t)ixd_rrd_kind_columns(k->kind, &cols);
    s->file_last = -1;
    g_hash_table_insert(st->series, &s->key, s);
    IXD_CNT_SET(st->c.series, g_hash_table_size(st->series) - st->refused_kept);
    return s;
}

/* The files of earlier runs: each becomes a series known for its history, written again once
 * counts for it come. */
static int
scan(struct ixd_rrd_store *st, char *err, size_t errlen)
{
    DIR *d = opendir(st->directory);
    struct dirent *de;

    if (d == NULL) {
        snprintf(err, errlen, "output %s: cannot read %s: %s", st->output, st->directory,
                 strerror(errno));
        return -1;
    }
    while ((de = readdir(d)) != NULL) {
        size_t len = strlen(de->d_name);
        char id[IXD_RRD_ID_MAX], why[512];
        struct ixd_rrd_key k;
        struct series *s;
        int hw;

        if (len <= 4 || len - 4 >= sizeof(id) || strcmp(de->d_name + len - 4, ".rrd") != 0) {
            continue;
        }
        memcpy(id, de->d_name, len - 4);
        id[len - 4] = '\0';
        if (ixd_rrd_key_parse(id, &k) == -1 || (s = series_new(st, &k)) == NULL) {
            continue; /* not a name ipfixd gives: not its file */
        }
        hw = s->traffic ? ixd_rrd_has_hw(st->conn, s->path, why, sizeof(why)) : 0;
        if (hw == -1) {
            log_warn("output %s: %s: it is written again from scratch when its series comes",
                     st->output, why);
            s->state = S_NEW; /* made anew, its history lost */
        } else {
            s->hw = (uint8_t)hw;
            s->state = S_KNOWN;
        }
        st->files++;
        st->catalog_changed = 1;
    }
    closedir(d);
    return 0;
}

/* Makes the directory (and its parents) when missing; its absolute name into st. */
static int
make_directory(struct ixd_rrd_store *st, char *err, size_t errlen)
{
    char *abs;

    if (g_mkdir_with_parents(st->s->directory, 0750) == -1) {
        snprintf(err, errlen, "output %s: cannot make %s: %s", st->output, st->s->directory,
                 strerror(errno));
        return -1;
    }
    abs = realpath(st->s->directory, NULL);
    if (abs == NULL) {
        snprintf(err, errlen, "output %s: cannot use %s: %s", st->output, st->s->directory,
                 strerror(errno));
        return -1;
    }
    st->directory = abs;
    return 0;
}

struct ixd_rrd_store *
ixd_rrd_store_new(const struct ixd_rrd_settings *s, const char *output, int threaded, char *err,
                  size_t errlen)
{
    struct ixd_rrd_store *st = calloc(1, sizeof(*st));

    if (st == NULL || (st->output = strdup(output)) == NULL) {
        free(st);
        snprintf(err, errlen, "output %s: out of memory", output);
        return NULL;
    }
    st->s = s;
    st->series = g_hash_table_new_full(key_hash, key_equal, NULL, series_free);
    if (make_directory(st, err, errlen) == -1) {
        goto fail;
    }
    if (s->rrdcached[0] != '\0' && (st->conn = ixd_rrdc_new(s->rrdcached, err, errlen)) == NULL) {
        goto fail;
    }
    if (threaded &&
        (st->creator = ixd_rrd_creator_new(s->rrdcached, output, err, errlen)) == NULL) {
        goto fail;
    }
    st->alerts = ixd_rrd_alerts_new(s, output, err, errlen);
    st->slot = ixd_board_slot_new(IXD_RRD_SERIES_TOPIC, output);
    if (st->alerts == NULL || st->slot == NULL || scan(st, err, errlen) == -1) {
        if (st->slot == NULL) {
            snprintf(err, errlen, "output %s: out of memory", output);
        }
        goto fail;
    }
    st->catalog_changed = 1;
    ixd_rrd_store_post_catalog(st);
    ixd_rrd_alerts_commit(st->alerts);
    return st;
fail:
    ixd_rrd_store_free(st, 0);
    return NULL;
}

/* Counts of the steps that cannot be kept: lost, and said so. */
static void
lose(struct ixd_rrd_store *st, uint64_t records)
{
    IXD_CNT_ADD(st->c.lost, records);
}

/* Moves the ring's front by n steps (written or given up on). */
static void
advance(struct series *s, unsigned n)
{
    for (unsigned i = 0; i < n; i++) {
        memset(s->pend[s->head], 0, sizeof(s->pend[0]));
        s->head = (s->head + 1) % PENDING;
    }
    s->next += (int64_t)n * STEP;
}

/* Makes room for the step starting at t: steps that would fall off the front are lost. */
static void
make_room(struct ixd_rrd_store *st, struct series *s, int64_t t)
{
    while (t >= s->next + PENDING * STEP) {
        lose(st, s->pend[s->head][0]);
        advance(s, 1);
    }
}

/* The series of k, made when new; NULL when refused or out of memory. */
static struct series *
series_of(struct ixd_rrd_store *st, const struct ixd_rrd_key *k)
{
    struct series *s = g_hash_table_lookup(st->series, k);

    if (s != NULL) {
        return s->state == S_REFUSED ? NULL : s;
    }
    if (st->files >= st->s->max_files) {
        IXD_CNT_ADD(st->c.files_refused, 1);
        /* remembered so that it is counted once, up to a bound past which each try counts */
        if (st->refused_kept < 4 * (size_t)st->s->max_files && (s = series_new(st, k)) != NULL) {
            s->state = S_REFUSED;
            st->refused_kept++;
            IXD_CNT_SET(st->c.series, g_hash_table_size(st->series) - st->refused_kept);
            if (st->refused_kept == 1) {
                log_warn("output %s: max-files (%u) reached: series %s and later ones get no "
                         "file",
                         st->output, (unsigned)st->s->max_files, s->id);
            }
        }
        return NULL;
    }
    s = series_new(st, k);
    if (s != NULL) {
        s->state = S_NEW;
        s->hw = (uint8_t)(k->kind == IXD_RRD_EXPORTER && st->s->hw.on);
        st->files++;
    }
    return s;
}

void
ixd_rrd_store_add(struct ixd_rrd_store *st, const struct ixd_rrd_key *k, int64_t step_start,
                  const uint64_t v[3])
{
    struct series *s = series_of(st, k);
    unsigned slot;

    if (s == NULL) {
        if (g_hash_table_lookup(st->series, k) == NULL) {
            lose(st, v[0]); /* out of memory; refused series are counted as such */
        }
        return;
    }
    step_start -= step_start % STEP;
    if (s->next == 0) {
        s->next = step_start;
    }
    if (step_start < s->next) {
        IXD_CNT_ADD(st->c.late, v[0]);
        step_start = s->next; /* its step is written: the next one takes it */
    }
    make_room(st, s, step_start);
    slot = (s->head + (unsigned)((step_start - s->next) / STEP)) % PENDING;
    for (int j = 0; j < 3; j++) {
        s->pend[slot][j] += v[j];
    }
}

void
ixd_rrd_store_lost(struct ixd_rrd_store *st, uint64_t records)
{
    lose(st, records);
}

/* ---- files ---- */

static void
created(void *arg, void *tag, int ok, const char *err)
{
    struct ixd_rrd_store *st = arg;
    struct series *s = tag;

    if (ok) {
        s->state = S_READY;
        s->file_last = s->start;
        s->backoff = 0;
        IXD_CNT_ADD(st->c.files_created, 1);
        st->catalog_changed = 1;
        return;
    }
    IXD_CNT_ADD(st->c.create_errors, 1);
    ixd_log_limited(&st->log_create, ixd_mono_now(), IXD_LOG_ERROR, "output %s: %s", st->output,
                    err);
    s->backoff = s->backoff == 0 ? RETRY_FIRST : s->backoff * 2;
    if (s->backoff > RETRY_MAX) {
        s->backoff = RETRY_MAX;
    }
    s->state = S_FAILED;
    s->retry_at += s->backoff; /* from the round that asked */
}

/* Asks for s's file, starting where its first row goes. */
static void
ask(struct ixd_rrd_store *st, struct series *s, int64_t due)
{
    int64_t start = s->traffic ? s->next : due - STEP;
    struct ixd_rrd_hw hw = st->s->hw;
    char err[512];

    hw.on = s->hw; /* exporters' files only */
    s->start = start;
    s->retry_at = due; /* created() adds the backoff */
    s->state = S_CREATING;
    if (st->creator == NULL) {
        int ok = ixd_rrd_create(st->conn, s->path, (enum ixd_rrd_kind)s->key.kind, start, &hw, err,
                                sizeof(err)) == 0;
        created(st, s, ok, err);
        return;
    }
    if (ixd_rrd_creator_ask(st->creator, s->path, (enum ixd_rrd_kind)s->key.kind, start, &hw, s) ==
        -1) {
        created(st, s, 0, "out of memory");
    }
}

/* A file's state before its rows: 1 when it can be written now. */
static int
ready(struct ixd_rrd_store *st, struct series *s, int64_t due)
{
    char err[512];

    if (s->state == S_FAILED && due >= s->retry_at) {
        s->state = S_NEW;
    }
    if (s->state == S_NEW && (!s->traffic || s->next != 0)) {
        ask(st, s, due);
    }
    if (s->state == S_KNOWN && (s->next != 0 || !s->traffic)) {
        s->state = S_READY;
        st->catalog_changed = 1; /* written again */
    }
    if (s->state != S_READY) {
        return 0;
    }
    if (s->file_last == -1) {
        s->file_last = ixd_rrd_last(st->conn, s->path, err, sizeof(err));
        if (s->file_last == -1 && st->conn == NULL && access(s->path, F_OK) == -1) {
            /* gone (removed by hand): made again, its counts waiting meanwhile */
            log_warn("output %s: %s is gone: made again", st->output, s->path);
            s->state = S_NEW;
            return 0;
        }
        if (s->file_last == -1) {
            IXD_CNT_ADD(st->c.update_errors, 1);
            ixd_log_limited(&st->log_update, ixd_mono_now(), IXD_LOG_ERROR, "output %s: %s",
                            st->output, err);
            return 0;
        }
    }
    return 1;
}

/* ---- rows ---- */

/* Steps the file already has (a restart within a step, a clock set back): their counts go on
 * to the first step after the file's last row. */
static void
skip_written(struct ixd_rrd_store *st, struct series *s)
{
    while (s->next + STEP <= s->file_last) {
        unsigned to = (s->head + 1) % PENDING;
        IXD_CNT_ADD(st->c.late, s->pend[s->head][0]);
        for (int j = 0; j < 3; j++) {
            s->pend[to][j] += s->pend[s->head][j];
        }
        advance(s, 1);
    }
}

struct rows {
    size_t n;
    int64_t t[PENDING + 2];
    uint64_t v[(PENDING + 2) * 3];
    uint8_t known[(PENDING + 2) * 3];
};

static void
row(struct rows *r, int64_t t, const uint64_t *v, int known)
{
    r->t[r->n] = t;
    for (int j = 0; j < 3; j++) {
        r->v[r->n * 3 + j] = v != NULL ? v[j] : 0;
        r->known[r->n * 3 + j] = (uint8_t)known;
    }
    r->n++;
}

static void
update_failed(struct ixd_rrd_store *st, struct series *s, const char *err)
{
    IXD_CNT_ADD(st->c.update_errors, 1);
    ixd_log_limited(&st->log_update, ixd_mono_now(), IXD_LOG_ERROR, "output %s: %s", st->output,
                    err);
    s->file_last = -1; /* read again: the file may be ahead of what the store thinks */
}

/* Writes the steps of traffic series s that ended by due; returns the rows written. */
static size_t
write_traffic(struct ixd_rrd_store *st, struct series *s, int64_t due)
{
    struct rows r;
    struct hw_rows hr;
    double hwv[PENDING * HW_CFS * 3];
    size_t ring, first;
    char err[512];

    skip_written(st, s);
    if (s->next == 0 || due <= s->next) {
        return 0;
    }
    r.n = 0;
    if (s->file_last < s->next) {
        row(&r, s->next, NULL, 0); /* nothing is known of the gap before */
    }
    first = r.n;
    ring = (size_t)((due - s->next) / STEP);
    ring = ring > PENDING ? PENDING : ring;
    for (size_t i = 0; i < ring; i++) {
        row(&r, s->next + (int64_t)(i + 1) * STEP, s->pend[(s->head + i) % PENDING], 1);
    }
    if (s->next + (int64_t)ring * STEP < due) {
        row(&r, due, NULL, 0); /* a stall longer than the ring: unknown, not zero */
    }
    hr = (struct hw_rows){ring, r.t + first, hwv, 0};
    for (size_t i = 0; i < sizeof(hwv) / sizeof(hwv[0]); i++) {
        hwv[i] = NAN;
    }
    if (ixd_rrd_update(st->conn, s->path, 3, r.n, r.t, r.v, r.known,
                       s->hw && st->conn == NULL ? ixd_rrd_store_hw_row : NULL, &hr, err,
                       sizeof(err)) == -1) {
        update_failed(st, s, err);
        return 0;
    }
    for (size_t i = 0; i < ring; i++) {
        if (r.v[(first + i) * 3] > 0) {
            s->last_traffic = r.t[first + i];
        }
    }
    if (s->hw) {
        ixd_rrd_store_hw_rows(st, s, ring, r.t + first, r.v + first * 3, hr.seen, hwv);
    }
    advance(s, (unsigned)ring);
    s->next = due;
    s->file_last = due;
    IXD_CNT_ADD(st->c.rows, r.n);
    return r.n;
}

static size_t
write_health(struct ixd_rrd_store *st, struct series *s)
{
    char err[512];

    if (s->health_t == 0 || s->health_t <= s->file_last) {
        return 0;
    }
    if (ixd_rrd_update(st->conn, s->path, s->columns, 1, &s->health_t, s->health, NULL, NULL, NULL,
                       err, sizeof(err)) == -1) {
        update_failed(st, s, err);
        return 0;
    }
    s->file_last = s->health_t;
    s->health_t = 0;
    IXD_CNT_ADD(st->c.rows, 1);
    return 1;
}

size_t
ixd_rrd_store_round(struct ixd_rrd_store *st, int64_t due)
{
    double t0 = ixd_mono_now();
    GHashTableIter it;
    gpointer v;
    size_t rows = 0;
    uint64_t active, raised;

    if (st->creator != NULL) {
        ixd_rrd_creator_collect(st->creator, created, st);
    }
    g_hash_table_iter_init(&it, st->series);
    while (g_hash_table_iter_next(&it, NULL, &v)) {
        struct series *s = v;
        if (s->state == S_REFUSED || !ready(st, s, due)) {
            continue;
        }
        rows += s->traffic ? write_traffic(st, s, due) : write_health(st, s);
        if (s->key.kind == IXD_RRD_EXPORTER) {
            ixd_rrd_store_silent(st, s, due);
        }
    }
    ixd_rrd_alerts_commit(st->alerts);
    ixd_rrd_alerts_counts(st->alerts, &active, &raised);
    IXD_CNT_SET(st->c.alerts_active, active);
    IXD_CNT_SET(st->c.alerts_raised, raised);
    ixd_rrd_store_post_catalog(st);
    IXD_CNT_ADD(st->c.rounds, 1);
    IXD_CNT_SET(st->c.round_usec, (uint64_t)((ixd_mono_now() - t0) * 1e6));
    return rows;
}

void
ixd_rrd_store_settle(struct ixd_rrd_store *st)
{
    if (st->creator != NULL) {
        ixd_rrd_creator_settle(st->creator);
        ixd_rrd_creator_collect(st->creator, created, st);
    }
}

/* ---- health and sequence loss ---- */

static void
health(struct ixd_rrd_store *st, enum ixd_rrd_kind kind, const char *name, int64_t t,
       const uint64_t *v, unsigned n)
{
    struct ixd_rrd_key k;
    struct series *s;

    memset(&k, 0, sizeof(k));
    k.kind = (uint8_t)kind;
    snprintf(k.name, sizeof(k.name), "%s", name);
    s = series_of(st, &k);
    if (s != NULL) {
        memcpy(s->health, v, n * sizeof(*v));
        s->health_t = t;
    }
}

static uint64_t
output_counter(const struct ixd_snap_output *o, const char *key)
{
    for (size_t i = 0; i < o->n_counters; i++) {
        if (o->counters[i].def->label == NULL && strcmp(o->counters[i].def->key, key) == 0) {
            return o->counters[i].value;
        }
    }
    return 0;
}

static void
sample_health(struct ixd_rrd_store *st, const struct ixd_view *v, int64_t t)
{
    for (size_t i = 0; i < v->n_collectors; i++) {
        const struct ixd_counters *c = &v->collectors[i].counters;
        uint64_t x[4] = {c->records, c->seq_lost, ixd_counters_errors(c),
                         c->socket_drops + c->held_dropped};
        health(st, IXD_RRD_COLLECTOR, v->collectors[i].name, t, x, 4);
    }
    for (size_t i = 0; i < v->n_pipelines; i++) {
        const struct ixd_view_pipeline *p = &v->pipelines[i];
        uint64_t kept = p->out + p->failed, seen = p->in + p->emitted;
        uint64_t x[4] = {p->in, p->out, seen > kept ? seen - kept : 0, p->failed};
        health(st, IXD_RRD_PIPELINE, p->name, t, x, 4);
    }
    for (size_t i = 0; i < v->n_outputs; i++) {
        const struct ixd_snap_output *o = &v->outputs[i];
        uint64_t x[2] = {output_counter(o, "records"), output_counter(o, "dropped")};
        health(st, IXD_RRD_OUTPUT, o->name, t, x, 2);
    }
}

/* The exporter's loss since the last sample, against sequence-loss. */
static void
sample_loss(struct ixd_rrd_store *st, const struct ixd_view_exporter *e, int64_t t)
{
    struct ixd_rrd_key k;
    struct series *s;
    struct ixd_rrd_alert d;
    uint64_t lost, records;
    int on;

    memset(&k, 0, sizeof(k));
    k.kind = IXD_RRD_EXPORTER;
    snprintf(k.name, sizeof(k.name), "%s", e->collector);
    if (ixd_rrd_key_parse_address(e->address, &k.addr) == -1 ||
        (s = g_hash_table_lookup(st->series, &k)) == NULL || s->state == S_REFUSED) {
        return; /* not an exporter this output sees */
    }
    if (!s->seq_known || e->counters.seq_lost < s->seq_lost ||
        e->counters.records < s->seq_records) {
        s->seq_known = 1; /* a first sample, or counters that began again */
        s->seq_lost = e->counters.seq_lost;
        s->seq_records = e->counters.records;
        return;
    }
    lost = e->counters.seq_lost - s->seq_lost;
    records = e->counters.records - s->seq_records;
    s->seq_lost = e->counters.seq_lost;
    s->seq_records = e->counters.records;
    on = lost > 0 && (double)lost >= st->s->sequence_loss * (double)(lost + records);
    memset(&d, 0, sizeof(d));
    if (on) {
        d.lost = lost;
        d.records = records;
        snprintf(d.summary, sizeof(d.summary),
                 "%llu of %llu records lost (%.2f%%, sequence-loss %.2f%%) in the last %lld s",
                 (unsigned long long)lost, (unsigned long long)(lost + records),
                 100.0 * (double)lost / (double)(lost + records), 100.0 * st->s->sequence_loss,
                 (long long)(st->sampled_at > 0 ? t - st->sampled_at : STEP));
    }
    ixd_rrd_alerts_check(st->alerts, IXD_ALERT_SEQUENCE_LOSS, &k, t, on, &d);
}

void
ixd_rrd_store_sample(struct ixd_rrd_store *st, const struct ixd_view *v, int64_t now)
{
    int64_t t = now - now % STEP;

    if (v == NULL || t <= st->sampled_at) {
        return;
    }
    if (st->s->health) {
        sample_health(st, v, t);
    }
    if (st->s->sequence_loss > 0) {
        for (size_t i = 0; i < v->n_exporters; i++) {
            sample_loss(st, &v->exporters[i], t);
        }
    }
    st->sampled_at = t;
}

void
ixd_rrd_store_stats(const struct ixd_rrd_store *st, struct ixd_rrd_store_stats *out)
{
    const uint64_t *in = (const uint64_t *)&st->c;
    uint64_t *o = (uint64_t *)out;

    for (size_t i = 0; i < sizeof(*out) / sizeof(uint64_t); i++) {
        o[i] = IXD_CNT_GET(in[i]);
    }
}

void
ixd_rrd_store_webhook_stats(const struct ixd_rrd_store *st, struct ixd_webhook_stats *out)
{
    ixd_rrd_alerts_webhook_stats(st->alerts, out);
}

void
ixd_rrd_store_free(struct ixd_rrd_store *st, int64_t now)
{
    GHashTableIter it;
    gpointer v;

    if (st == NULL) {
        return;
    }
    if (now > 0 && st->series != NULL) {
        /* the step under way too: its counts so far are written as its row */
        ixd_rrd_store_round(st, now - now % STEP + (now % STEP != 0 ? STEP : 0));
        ixd_rrd_store_settle(st);
    }
    ixd_rrd_creator_free(st->creator);
    if (st->series != NULL) {
        g_hash_table_iter_init(&it, st->series);
        while (g_hash_table_iter_next(&it, NULL, &v)) {
            struct series *s = v;
            for (unsigned i = 0; s->traffic && s->next != 0 && i < PENDING; i++) {
                lose(st, s->pend[i][0]); /* a file that never came */
            }
        }
        g_hash_table_destroy(st->series);
    }
    ixd_rrd_alerts_free(st->alerts);
    ixd_board_slot_free(st->slot);
    ixd_rrdc_free(st->conn);
    free(st->directory);
    free(st->output);
    free(st);
}
