/*
 * Unit tests of src/output/writer.c: the writer lane, driven directly with a real writer thread
 * and a sink of the test's own that records what it is given, on which thread, in which order.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "output/writer.h"

#define BUF 64 /* small buffers: a few records each */
#define MAX_EVENTS 8192
#define MAX_BYTES (1u << 20)
#define DEADLINE_S 30 /* how long a wait may take before the test fails (not a timing) */

struct event {
    char kind; /* 'b' buffer, 'r' reopen, 't' tick */
    unsigned lane;
    size_t len;
    uint64_t records;
    uint64_t lost;
    char first; /* the buffer's first byte */
    pthread_t thread;
};

/* What the sink saw; shared between the writer thread and the test, under mu. */
struct sink {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int gate_closed;     /* consume() waits while set */
    int in_consume;      /* consume() calls entered */
    unsigned fail_every; /* every n-th buffer is lost (0: none) */
    int retry_until_stop;
    int saw_stopping;
    int broken; /* a check on the writer thread failed (cmocka asserts only on the test's) */
    uint64_t tick_lost; /* the next tick reports this many lost, once */
    struct ixd_writer *w;
    struct event ev[MAX_EVENTS];
    size_t n_ev;
    size_t n_bufs;
    char bytes[2][MAX_BYTES]; /* every lane's bytes, in the order consumed */
    size_t n_bytes[2];
};

static void
record(struct sink *s, struct event e)
{
    e.thread = pthread_self();
    if (s->n_ev == MAX_EVENTS) {
        s->broken = 1;
        return;
    }
    s->ev[s->n_ev++] = e;
    pthread_cond_broadcast(&s->cv);
}

static uint64_t
sink_consume(void *arg, const struct ixd_wbuf *b)
{
    struct sink *s = arg;
    struct event e = {.kind = 'b', .lane = b->lane, .len = b->len, .records = b->records};

    pthread_mutex_lock(&s->mu);
    s->in_consume++;
    pthread_cond_broadcast(&s->cv);
    while (s->gate_closed) {
        pthread_cond_wait(&s->cv, &s->mu);
    }
    while (s->retry_until_stop && !ixd_writer_stopping(s->w)) {
        struct timespec ts = {0, 1000000};
        pthread_mutex_unlock(&s->mu);
        nanosleep(&ts, NULL);
        pthread_mutex_lock(&s->mu);
    }
    if (s->retry_until_stop) {
        s->saw_stopping = 1;
        e.lost = b->records;
    }
    if (b->len > BUF || b->lane >= 2 || s->n_bytes[b->lane] + b->len > MAX_BYTES) {
        s->broken = 1;
        pthread_mutex_unlock(&s->mu);
        return 0;
    }
    memcpy(s->bytes[b->lane] + s->n_bytes[b->lane], b->data, b->len);
    s->n_bytes[b->lane] += b->len;
    e.first = b->len > 0 ? b->data[0] : 0;
    s->n_bufs++;
    if (s->fail_every != 0 && s->n_bufs % s->fail_every == 0) {
        e.lost = b->records;
    }
    record(s, e);
    pthread_mutex_unlock(&s->mu);
    return e.lost;
}

static void
sink_reopen(void *arg)
{
    struct sink *s = arg;

    pthread_mutex_lock(&s->mu);
    record(s, (struct event){.kind = 'r'});
    pthread_mutex_unlock(&s->mu);
}

static uint64_t
sink_tick(void *arg)
{
    struct sink *s = arg;
    uint64_t lost;

    pthread_mutex_lock(&s->mu);
    lost = s->tick_lost;
    s->tick_lost = 0;
    record(s, (struct event){.kind = 't', .lost = lost});
    pthread_mutex_unlock(&s->mu);
    return lost;
}

static struct sink *
sink_new(void)
{
    struct sink *s = calloc(1, sizeof(*s));

    assert_non_null(s);
    pthread_mutex_init(&s->mu, NULL);
    pthread_cond_init(&s->cv, NULL);
    return s;
}

static void
sink_free(struct sink *s)
{
    assert_int_equal(s->broken, 0);
    pthread_cond_destroy(&s->cv);
    pthread_mutex_destroy(&s->mu);
    free(s);
}

static struct ixd_writer *
start(struct sink *s, unsigned lanes, unsigned tick_ms)
{
    struct ixd_writer_conf c = {.name = "test",
                                .buf_size = BUF,
                                .bufs_per_lane = 4,
                                .consume = sink_consume,
                                .reopen = sink_reopen,
                                .tick = tick_ms > 0 ? sink_tick : NULL,
                                .tick_ms = tick_ms,
                                .arg = s};
    char err[256] = "";

    s->w = ixd_writer_new(&c, lanes, err, sizeof(err));
    assert_non_null(s->w);
    assert_string_equal(err, "");
    return s->w;
}

static void
set_gate(struct sink *s, int closed)
{
    pthread_mutex_lock(&s->mu);
    s->gate_closed = closed;
    pthread_cond_broadcast(&s->cv);
    pthread_mutex_unlock(&s->mu);
}

/* Waits (under mu, released while waiting) until *what >= n; fails the test after DEADLINE_S. */
static void
wait_for(struct sink *s, const size_t *what, size_t n)
{
    struct timespec until;

    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += DEADLINE_S;
    pthread_mutex_lock(&s->mu);
    while (*what < n) {
        assert_int_not_equal(pthread_cond_timedwait(&s->cv, &s->mu, &until), ETIMEDOUT);
    }
    pthread_mutex_unlock(&s->mu);
}

static void
wait_in_consume(struct sink *s, int n)
{
    struct timespec until;

    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += DEADLINE_S;
    pthread_mutex_lock(&s->mu);
    while (s->in_consume < n) {
        assert_int_not_equal(pthread_cond_timedwait(&s->cv, &s->mu, &until), ETIMEDOUT);
    }
    pthread_mutex_unlock(&s->mu);
}

/* One record of text, through the fast path. */
static void
put(struct ixd_writer_lane *l, const char *text)
{
    size_t n = strlen(text);
    char *at = ixd_writer_reserve(l, n);

    assert_non_null(at);
    memcpy(at, text, n);
    ixd_writer_commit(l, n, 1);
}

/* A buffer's worth: one record of BUF bytes of c, handed on. */
static void
put_full(struct ixd_writer_lane *l, char c)
{
    char *at = ixd_writer_reserve(l, BUF);

    assert_non_null(at);
    memset(at, c, BUF);
    ixd_writer_commit(l, BUF, 1);
    ixd_writer_lane_flush(l);
}

struct producer {
    struct ixd_writer_lane *lane;
    unsigned index;
    unsigned records;
    atomic_int done;
};

/* A worker: numbered lines on its own lane, a flush now and then as the 100 ms tick does. */
static void *
produce_lines(void *arg)
{
    struct producer *p = arg;
    char line[32];
    unsigned i;

    for (i = 0; i < p->records; i++) {
        snprintf(line, sizeof(line), "L%u:%05u\n", p->index, i);
        put(p->lane, line);
        if (i % 97 == 0) {
            ixd_writer_lane_flush(p->lane);
        }
    }
    ixd_writer_lane_flush(p->lane);
    atomic_store(&p->done, 1);
    return NULL;
}

static void
lane_order_kept_across_buffers(void **state)
{
    struct sink *s = sink_new();
    struct ixd_writer *w = start(s, 2, 0);
    struct producer p[2] = {{.index = 0, .records = 3000}, {.index = 1, .records = 2000}};
    pthread_t t[2];
    uint64_t records[2] = {0, 0};
    char line[32];
    unsigned i, k;
    size_t at;

    for (k = 0; k < 2; k++) {
        p[k].lane = ixd_writer_lane(w, k);
        assert_non_null(p[k].lane);
        assert_int_equal(pthread_create(&t[k], NULL, produce_lines, &p[k]), 0);
    }
    assert_null(ixd_writer_lane(w, 2));
    for (k = 0; k < 2; k++) {
        pthread_join(t[k], NULL);
    }
    ixd_writer_free(w);
    for (k = 0; k < 2; k++) {
        for (i = 0, at = 0; i < p[k].records; i++) {
            int n = snprintf(line, sizeof(line), "L%u:%05u\n", k, i);
            assert_true(at + (size_t)n <= s->n_bytes[k]);
            assert_memory_equal(s->bytes[k] + at, line, (size_t)n);
            at += (size_t)n;
        }
        assert_int_equal(at, s->n_bytes[k]);
    }
    for (i = 0; i < s->n_ev; i++) {
        const struct event *e = &s->ev[i];
        assert_int_equal(e->kind, 'b');
        /* whole lines only: a buffer starts a line and holds as many as it counts */
        assert_int_equal(e->first, 'L');
        assert_true(e->records > 0 && e->len > 0);
        records[e->lane] += e->records;
    }
    assert_int_equal(records[0], 3000);
    assert_int_equal(records[1], 2000);
    sink_free(s);
}

static void
record_longer_than_a_buffer_stays_whole(void **state)
{
    struct sink *s = sink_new();
    struct ixd_writer *w = start(s, 1, 0);
    struct ixd_writer_lane *l = ixd_writer_lane(w, 0);
    char big[3 * BUF + 10];
    char want[sizeof(big) + 4];

    memset(big, 'x', sizeof(big));
    big[sizeof(big) - 1] = '\n';
    put(l, "a\n");
    assert_null(ixd_writer_reserve(l, sizeof(big))); /* more than a buffer: append it */
    ixd_writer_lane_append(l, big, sizeof(big), 1);
    put(l, "b\n");
    ixd_writer_free(w);

    memcpy(want, "a\n", 2);
    memcpy(want + 2, big, sizeof(big));
    memcpy(want + 2 + sizeof(big), "b\n", 2);
    assert_int_equal(s->n_bytes[0], sizeof(want));
    assert_memory_equal(s->bytes[0], want, sizeof(want));
    /* 2 + 204 + 2 bytes over buffers of 64: the long record counts where it ends */
    assert_int_equal(s->n_ev, 4);
    assert_int_equal(s->ev[0].len, BUF);
    assert_int_equal(s->ev[0].records, 1);
    assert_int_equal(s->ev[1].records, 0);
    assert_int_equal(s->ev[2].records, 0);
    assert_int_equal(s->ev[3].len, sizeof(want) - 3 * BUF);
    assert_int_equal(s->ev[3].records, 2);
    sink_free(s);
}

struct filler {
    struct ixd_writer_lane *lane;
    unsigned buffers;
    atomic_int done;
};

static void *
fill_buffers(void *arg)
{
    struct filler *f = arg;
    unsigned i;

    for (i = 0; i < f->buffers; i++) {
        put_full(f->lane, (char)('A' + i));
    }
    atomic_store(&f->done, 1);
    return NULL;
}

static void
slow_consumer_makes_the_worker_wait(void **state)
{
    struct sink *s = sink_new();
    struct ixd_writer *w = start(s, 1, 0);
    struct filler f = {.lane = ixd_writer_lane(w, 0), .buffers = 10};
    struct ixd_writer_stats st;
    struct timespec ms = {0, 1000000};
    pthread_t t;
    unsigned i;
    int waited;

    set_gate(s, 1);
    assert_int_equal(pthread_create(&t, NULL, fill_buffers, &f), 0);
    /* the consumer holds the first buffer, the ring the next two: the fourth finds none empty */
    for (waited = 0; waited < DEADLINE_S * 1000; waited++) {
        ixd_writer_stats(w, &st);
        if (st.waits > 0) {
            break;
        }
        nanosleep(&ms, NULL);
    }
    assert_true(st.waits > 0);
    assert_int_equal(atomic_load(&f.done), 0);
    wait_in_consume(s, 1);
    pthread_mutex_lock(&s->mu);
    assert_int_equal(s->in_consume, 1);
    assert_int_equal(s->n_bufs, 0);
    pthread_mutex_unlock(&s->mu);
    set_gate(s, 0);
    pthread_join(t, NULL);
    ixd_writer_free(w);
    assert_int_equal(s->n_ev, 10);
    for (i = 0; i < 10; i++) {
        assert_int_equal(s->ev[i].first, 'A' + i);
        assert_int_equal(s->ev[i].len, BUF);
    }
    sink_free(s);
}

static void
reopen_runs_on_the_writer_between_buffers(void **state)
{
    struct sink *s = sink_new();
    struct ixd_writer *w = start(s, 1, 0);
    struct ixd_writer_lane *l = ixd_writer_lane(w, 0);

    set_gate(s, 1);
    put_full(l, 'A');
    wait_in_consume(s, 1); /* A is being consumed */
    put_full(l, 'B');      /* B waits on the ring */
    ixd_writer_reopen(w);
    set_gate(s, 0);
    wait_for(s, &s->n_ev, 3);
    put_full(l, 'C');
    ixd_writer_free(w);

    /* what was handed on before the request goes before the reopen, what came after after */
    assert_int_equal(s->n_ev, 4);
    assert_int_equal(s->ev[0].kind, 'b');
    assert_int_equal(s->ev[0].first, 'A');
    assert_int_equal(s->ev[1].kind, 'b');
    assert_int_equal(s->ev[1].first, 'B');
    assert_int_equal(s->ev[2].kind, 'r');
    assert_int_equal(s->ev[3].kind, 'b');
    assert_int_equal(s->ev[3].first, 'C');
    assert_true(pthread_equal(s->ev[2].thread, s->ev[0].thread));
    assert_false(pthread_equal(s->ev[2].thread, pthread_self()));
    sink_free(s);
}

static void *
open_gate_later(void *arg)
{
    struct timespec ts = {0, 50000000};

    nanosleep(&ts, NULL);
    set_gate(arg, 0);
    return NULL;
}

static void
close_drains_everything(void **state)
{
    struct sink *s = sink_new();
    struct ixd_writer *w = start(s, 2, 0);
    struct ixd_writer_lane *l0 = ixd_writer_lane(w, 0), *l1 = ixd_writer_lane(w, 1);
    uint64_t records = 0;
    pthread_t t;
    size_t i;

    set_gate(s, 1);
    /* this thread is both lanes' only producer, so it may fill both */
    put_full(l0, 'A');
    put_full(l0, 'B');
    put_full(l0, 'C');
    put(l0, "tail0\n"); /* never flushed */
    put_full(l1, 'D');
    put_full(l1, 'E');
    put(l1, "tail1\n");
    wait_in_consume(s, 1);
    assert_int_equal(pthread_create(&t, NULL, open_gate_later, s), 0);
    ixd_writer_free(w); /* returns once everything was consumed */
    pthread_join(t, NULL);

    assert_int_equal(s->n_bytes[0], 3 * BUF + 6);
    assert_memory_equal(s->bytes[0] + 3 * BUF, "tail0\n", 6);
    assert_int_equal(s->n_bytes[1], 2 * BUF + 6);
    assert_memory_equal(s->bytes[1] + 2 * BUF, "tail1\n", 6);
    for (i = 0; i < s->n_ev; i++) {
        records += s->ev[i].records;
    }
    assert_int_equal(records, 7);
    sink_free(s);
}

static void
failing_consumer_records_are_counted(void **state)
{
    struct sink *s = sink_new();
    struct ixd_writer *w = start(s, 1, 0);
    struct ixd_writer_lane *l = ixd_writer_lane(w, 0);
    struct ixd_writer_stats st;
    uint64_t lost = 0, written = 0;
    unsigned i, k;

    s->fail_every = 3;
    for (i = 0; i < 12; i++) {
        for (k = 0; k <= i % 5; k++) { /* 1 to 5 records a buffer */
            put(l, "r\n");
            written++;
        }
        ixd_writer_lane_flush(l);
    }
    ixd_writer_lane_drop(l, 2); /* two the worker could not format */
    ixd_writer_lane_flush(l);   /* nothing buffered: hands nothing on */
    wait_for(s, &s->n_bufs, 12);
    pthread_mutex_lock(&s->mu);
    for (i = 0; i < s->n_ev; i++) {
        lost += s->ev[i].lost;
    }
    pthread_mutex_unlock(&s->mu);
    /* buffers 3, 6, 9, 12 held 3, 1, 4, 2 records */
    assert_int_equal(lost, 10);
    ixd_writer_stats(w, &st);
    assert_int_equal(st.dropped, lost + 2);
    ixd_writer_free(w);
    assert_int_equal(s->n_ev, 12);
    assert_int_equal(s->n_bytes[0], 2 * written);
    sink_free(s);
}

static void
tick_runs_on_the_writer_while_idle(void **state)
{
    struct sink *s = sink_new();
    struct ixd_writer *w;
    struct ixd_writer_stats st;
    size_t i, ticks = 0;

    s->tick_lost = 3; /* as if delivery reports said so */
    w = start(s, 1, 10);
    wait_for(s, &s->n_ev, 3); /* no buffer was handed on: these are ticks */
    ixd_writer_stats(w, &st);
    assert_int_equal(st.dropped, 3);
    put_full(ixd_writer_lane(w, 0), 'A');
    ixd_writer_free(w);

    for (i = 0; i < s->n_ev; i++) {
        assert_false(pthread_equal(s->ev[i].thread, pthread_self()));
        ticks += s->ev[i].kind == 't';
    }
    assert_int_equal(ticks, s->n_ev - 1);
    assert_int_equal(s->ev[s->n_ev - 1].kind, 't'); /* a last tick after the last buffer */
    sink_free(s);
}

static void
stopping_ends_a_retrying_consumer(void **state)
{
    struct sink *s = sink_new();
    struct ixd_writer *w = start(s, 1, 0);

    s->retry_until_stop = 1;
    put_full(ixd_writer_lane(w, 0), 'A');
    wait_in_consume(s, 1);
    assert_int_equal(ixd_writer_stopping(w), 0);
    ixd_writer_free(w);
    assert_int_equal(s->saw_stopping, 1);
    assert_int_equal(s->n_ev, 1);
    assert_int_equal(s->ev[0].lost, 1);
    sink_free(s);
}

static void
bad_ring_size_is_refused(void **state)
{
    struct ixd_writer_conf c = {.name = "odd", .buf_size = BUF, .bufs_per_lane = 3};
    char err[256];

    c.consume = sink_consume;
    assert_null(ixd_writer_new(&c, 2, err, sizeof(err)));
    assert_non_null(strstr(err, "output odd: cannot set up"));
    ixd_writer_free(NULL);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(lane_order_kept_across_buffers),
        cmocka_unit_test(record_longer_than_a_buffer_stays_whole),
        cmocka_unit_test(slow_consumer_makes_the_worker_wait),
        cmocka_unit_test(reopen_runs_on_the_writer_between_buffers),
        cmocka_unit_test(close_drains_everything),
        cmocka_unit_test(failing_consumer_records_are_counted),
        cmocka_unit_test(tick_runs_on_the_writer_while_idle),
        cmocka_unit_test(stopping_ends_a_retrying_consumer),
        cmocka_unit_test(bad_ring_size_is_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
