#include "output/writer.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "core/log.h"
#include "core/relaxed_counter.h"

struct ixd_writer {
    struct ixd_writer_conf conf;
    int kick; /* eventfd: wakes the writer thread */
    pthread_t thread;
    int started;
    atomic_int stop;
    atomic_int reopen;
    unsigned n_lanes;
    struct ixd_writer_lane *lanes;
    uint64_t dropped;    /* written by the writer thread only */
    struct timespec due; /* the next tick; writer thread */
};

static void
kick(struct ixd_writer *w)
{
    uint64_t one = 1;

    if (write(w->kick, &one, sizeof(one)) == -1) {
        /* the counter is saturated: the writer is awake anyway */
    }
}

/* Consumes every buffer queued in every lane once; returns how many. Writer thread. */
static unsigned
drain(struct ixd_writer *w)
{
    unsigned i, n = 0;

    for (i = 0; i < w->n_lanes; i++) {
        struct ixd_writer_lane *l = &w->lanes[i];
        struct ixd_wbuf *b;
        while ((b = ixd_spsc_pop(&l->full)) != NULL) {
            uint64_t lost = w->conf.consume(w->conf.arg, b);
            if (lost > 0) {
                IXD_CNT_ADD(w->dropped, lost);
            }
            b->len = 0;
            b->records = 0;
            ixd_spsc_push(&l->empty, b); /* cannot fail: the ring holds every buffer */
            n++;
        }
    }
    return n;
}

static long
ms_until(const struct timespec *due)
{
    struct timespec now;
    long ms;

    clock_gettime(CLOCK_MONOTONIC, &now);
    ms = (long)(due->tv_sec - now.tv_sec) * 1000 + (due->tv_nsec - now.tv_nsec) / 1000000;
    return ms > 0 ? ms : 0;
}

static void
run_tick(struct ixd_writer *w)
{
    uint64_t lost;

    if (w->conf.tick == NULL || ms_until(&w->due) > 0) {
        return;
    }
    lost = w->conf.tick(w->conf.arg);
    if (lost > 0) {
        IXD_CNT_ADD(w->dropped, lost);
    }
    clock_gettime(CLOCK_MONOTONIC, &w->due);
    w->due.tv_sec += w->conf.tick_ms / 1000;
    w->due.tv_nsec += (long)(w->conf.tick_ms % 1000) * 1000000;
    if (w->due.tv_nsec >= 1000000000) {
        w->due.tv_sec++;
        w->due.tv_nsec -= 1000000000;
    }
}

/* Sleeps until kicked, or until the next tick when there is one. 0, or -1 with errno. */
static int
wait_for_work(struct ixd_writer *w)
{
    uint64_t v;

    if (w->conf.tick != NULL) {
        struct pollfd pfd = {.fd = w->kick, .events = POLLIN};
        int n = poll(&pfd, 1, (int)ms_until(&w->due));
        if (n == -1 && errno != EINTR) {
            return -1;
        }
        if (n <= 0) {
            return 0;
        }
    }
    if (read(w->kick, &v, sizeof(v)) == -1 && errno != EINTR && errno != EAGAIN) {
        return -1;
    }
    return 0;
}

static void *
writer_main(void *arg)
{
    struct ixd_writer *w = arg;

    clock_gettime(CLOCK_MONOTONIC, &w->due);
    for (;;) {
        if (wait_for_work(w) == -1) {
            log_err("output %s: writer cannot wait: %s", w->conf.name, strerror(errno));
            break;
        }
        if (atomic_exchange(&w->reopen, 0)) {
            drain(w);
            if (w->conf.reopen != NULL) {
                w->conf.reopen(w->conf.arg);
            }
        }
        drain(w);
        if (atomic_load(&w->stop)) {
            while (drain(w) > 0) {
            }
            if (w->conf.tick != NULL) {
                w->due = (struct timespec){0, 0}; /* the last one, whenever the previous was */
                run_tick(w);
            }
            break;
        }
        run_tick(w);
    }
    return NULL;
}

/* Hands the current buffer to the writer and takes an empty one, waiting if need be. Worker. */
static void
hand_off(struct ixd_writer_lane *l)
{
    struct ixd_wbuf *b;

    if (l->cur->len == 0 && l->cur->records == 0) {
        return;
    }
    ixd_spsc_push(&l->full, l->cur); /* cannot fail: the ring holds every buffer */
    kick(l->writer);
    while ((b = ixd_spsc_pop(&l->empty)) == NULL) {
        /* every buffer is with the writer: back-pressure toward the sockets, counted */
        struct timespec ts = {0, 100000};
        IXD_CNT_ADD(l->waits, 1);
        nanosleep(&ts, NULL);
    }
    l->cur = b;
}

void
ixd_writer_lane_flush(struct ixd_writer_lane *l)
{
    hand_off(l);
}

char *
ixd_writer_lane_make_room(struct ixd_writer_lane *l, size_t need)
{
    if (need > l->size) {
        return NULL;
    }
    hand_off(l);
    return l->cur->data + l->cur->len;
}

/*
 * The writer consumes a lane's buffers in the order they were handed on, so bytes spread over
 * several buffers arrive in one piece.
 */
void
ixd_writer_lane_append(struct ixd_writer_lane *l, const void *data, size_t len, uint64_t records)
{
    const char *p = data;
    size_t at = 0;

    while (at < len) {
        size_t n = l->size - l->cur->len;
        if (n > len - at) {
            n = len - at;
        }
        memcpy(l->cur->data + l->cur->len, p + at, n);
        l->cur->len += n;
        at += n;
        if (at < len) {
            hand_off(l);
        }
    }
    l->cur->records += records;
}

void
ixd_writer_lane_drop(struct ixd_writer_lane *l, uint64_t records)
{
    IXD_CNT_ADD(l->dropped, records);
}

struct ixd_writer_lane *
ixd_writer_lane(struct ixd_writer *w, unsigned index)
{
    return index < w->n_lanes ? &w->lanes[index] : NULL;
}

static void
release_lane(struct ixd_writer_lane *l)
{
    void *b;

    if (l->full.slots != NULL) {
        while ((b = ixd_spsc_pop(&l->full)) != NULL) {
            free(b);
        }
        ixd_spsc_release(&l->full);
    }
    if (l->empty.slots != NULL) {
        while ((b = ixd_spsc_pop(&l->empty)) != NULL) {
            free(b);
        }
        ixd_spsc_release(&l->empty);
    }
    free(l->cur);
    l->cur = NULL;
}

static struct ixd_wbuf *
new_buf(size_t size, unsigned lane)
{
    struct ixd_wbuf *b = calloc(1, sizeof(*b) + size);

    if (b != NULL) {
        b->lane = lane;
    }
    return b;
}

/* The current buffer, and the others on the empty ring. 0, or -1 with errno. */
static int
init_lane(struct ixd_writer *w, unsigned index)
{
    struct ixd_writer_lane *l = &w->lanes[index];
    unsigned i;

    l->writer = w;
    l->size = w->conf.buf_size;
    if (ixd_spsc_init(&l->full, w->conf.bufs_per_lane) == -1 ||
        ixd_spsc_init(&l->empty, w->conf.bufs_per_lane) == -1) {
        errno = ENOMEM; /* the capacity was checked */
        return -1;
    }
    l->cur = new_buf(l->size, index);
    if (l->cur == NULL) {
        return -1;
    }
    for (i = 1; i < w->conf.bufs_per_lane; i++) {
        struct ixd_wbuf *b = new_buf(l->size, index);
        if (b == NULL) {
            return -1;
        }
        ixd_spsc_push(&l->empty, b);
    }
    return 0;
}

struct ixd_writer *
ixd_writer_new(const struct ixd_writer_conf *conf, unsigned lanes, char *err, size_t errlen)
{
    struct ixd_writer *w = calloc(1, sizeof(*w));
    void *mem;
    unsigned i;
    int rc;

    if (w == NULL) {
        snprintf(err, errlen, "output %s: out of memory", conf->name);
        return NULL;
    }
    w->conf = *conf;
    if (conf->buf_size == 0 || conf->bufs_per_lane < 2 ||
        (conf->bufs_per_lane & (conf->bufs_per_lane - 1)) != 0) {
        rc = EINVAL; /* the ring's capacity is the number of buffers, a power of two */
        w->kick = -1;
        goto fail;
    }
    w->kick = eventfd(0, EFD_CLOEXEC);
    if (w->kick == -1) {
        rc = errno;
        goto fail;
    }
    /* the rings' indices sit on cache lines of their own, which malloc does not promise */
    rc = posix_memalign(&mem, 64, (lanes > 0 ? lanes : 1) * sizeof(*w->lanes));
    if (rc != 0) {
        goto fail;
    }
    w->lanes = memset(mem, 0, (lanes > 0 ? lanes : 1) * sizeof(*w->lanes));
    w->n_lanes = lanes;
    for (i = 0; i < lanes; i++) {
        if (init_lane(w, i) == -1) {
            rc = errno;
            goto fail;
        }
    }
    rc = pthread_create(&w->thread, NULL, writer_main, w);
    if (rc != 0) {
        goto fail;
    }
    w->started = 1;
    {
        char tname[16]; /* "ixd-w-" and the output's name, cut to the kernel's 15 bytes */
        snprintf(tname, sizeof(tname), "ixd-w-%s", conf->name);
        pthread_setname_np(w->thread, tname);
    }
    return w;
fail:
    snprintf(err, errlen, "output %s: cannot set up: %s", conf->name, strerror(rc));
    ixd_writer_free(w);
    return NULL;
}

void
ixd_writer_free(struct ixd_writer *w)
{
    unsigned i;

    if (w == NULL) {
        return;
    }
    if (w->started) {
        /* every worker has let go: this thread is the lanes' producer now */
        for (i = 0; i < w->n_lanes; i++) {
            struct ixd_writer_lane *l = &w->lanes[i];
            if (l->cur->len > 0 || l->cur->records > 0) {
                ixd_spsc_push(&l->full, l->cur);
                l->cur = NULL;
            }
        }
        atomic_store(&w->stop, 1);
        kick(w);
        pthread_join(w->thread, NULL);
    }
    for (i = 0; i < w->n_lanes; i++) {
        release_lane(&w->lanes[i]);
    }
    free(w->lanes);
    if (w->kick != -1) {
        close(w->kick);
    }
    free(w);
}

void
ixd_writer_reopen(struct ixd_writer *w)
{
    atomic_store(&w->reopen, 1);
    kick(w);
}

int
ixd_writer_stopping(const struct ixd_writer *w)
{
    return atomic_load(&w->stop);
}

void
ixd_writer_stats(const struct ixd_writer *w, struct ixd_writer_stats *st)
{
    unsigned i;

    st->waits = 0;
    st->dropped = IXD_CNT_GET(w->dropped);
    for (i = 0; i < w->n_lanes; i++) {
        st->waits += IXD_CNT_GET(w->lanes[i].waits);
        st->dropped += IXD_CNT_GET(w->lanes[i].dropped);
    }
}
