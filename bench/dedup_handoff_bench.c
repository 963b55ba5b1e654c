/*
 * The design the dedup stage did not take, measured beside it (docs/internals/dedup.md): each
 * of two worker threads owns half of the flow keys (a middle bit of the hash) and a table of its
 * own; a record whose key the other owns is copied (its 60 bytes and what the lookup needs) into a
 * hand-off block, and blocks of up to 256 go to the owner over a single-producer ring and come
 * back over another when the owner has looked them up. Records, passes and exporters are those
 * of bench/dedup_bench.c (4,096 flows a pass, 20 passes, each thread one exporter's copies, in
 * lockstep or 10 passes apart). The key hash here is a plain one over the 5-tuple: the stage's
 * plan and key reading are left out, so this is what the hand-off and the lookups cost at
 * least. Each owner's table keeps its lock (uncontended: about 15 ns of what is measured).
 * Beside it, the same harness without the hand-off: both threads look every record up in one
 * table of twice the size (the stage's design, without the stage's key reading either; an
 * empty block still goes round per batch of 256).
 *
 *   build/bench/ixd-dedup-handoff-bench [rounds]
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/spsc.h"
#include "dedup/dedup_table.h"
#include "ipfix/wire.h"

#include "dedup_flows.h"

#define BATCH 256
#define BLOCKS 64
#define SEC INT64_C(1000000)

struct handed {
    uint8_t data[RECORD_LEN]; /* the copy the owner would write out */
    struct ixd_dedup_flow f;
};

struct block {
    size_t n;
    struct handed r[BATCH];
};

struct worker {
    struct ixd_dedup_table *table; /* the keys it owns */
    struct ixd_spsc *to_peer, *from_peer, *back_to_peer, *returned;
    struct block *blocks; /* its own, BLOCKS of them */
    struct block *free_list[BLOCKS];
    size_t n_free;
    uint64_t exporter, first, kept, dropped;
    int64_t now;
    pthread_barrier_t *go;
    double cpu_ns;
};

static int shared_mode; /* 1: no hand-off, both threads look up every record in one table */
static atomic_int done;

static double
clock_ns(clockid_t id)
{
    struct timespec ts;

    clock_gettime(id, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static uint64_t
hash5(const uint8_t *r)
{
    uint64_t h = (ixd_get64(r) ^ 0x51ed27) * 0x9e3779b97f4a7c15ull;

    h = (h ^ (h >> 29) ^ ((uint64_t)ixd_get32(r + 8) << 8 | r[12])) * 0xbf58476d1ce4e5b9ull;
    return h ^ h >> 31;
}

static void
look_up(struct worker *w, const struct ixd_dedup_flow *f)
{
    if (ixd_dedup_table_check(w->table, f, w->now, 60 * SEC, 1000) == IXD_DEDUP_DUPLICATE) {
        w->dropped++;
    } else {
        w->kept++;
    }
}

/* Looks up what the peer handed over and hands the blocks back; takes back its own. */
static void
drain(struct worker *w)
{
    struct block *b;

    while ((b = ixd_spsc_pop(w->from_peer)) != NULL) {
        for (size_t i = 0; i < b->n; i++) {
            look_up(w, &b->r[i].f);
        }
        while (ixd_spsc_push(w->back_to_peer, b) == -1) {
        }
    }
    while ((b = ixd_spsc_pop(w->returned)) != NULL) {
        w->free_list[w->n_free++] = b;
    }
}

static struct block *
free_block(struct worker *w)
{
    while (w->n_free == 0) {
        drain(w);
    }
    return w->free_list[--w->n_free];
}

static void
batch(struct worker *w, uint8_t (*recs)[RECORD_LEN], int owner_bit)
{
    struct block *out = free_block(w);

    out->n = 0;
    for (size_t i = 0; i < BATCH; i++) {
        struct ixd_dedup_flow f = {hash5(recs[i]), (int64_t)ixd_get64(recs[i] + 25), w->exporter,
                                   0};
        if (shared_mode ||
            (int)(f.hash >> 32 & 1) == owner_bit) { /* bits the tables do not index by */
            look_up(w, &f);
        } else {
            memcpy(out->r[out->n].data, recs[i], RECORD_LEN);
            out->r[out->n++].f = f;
        }
    }
    while (ixd_spsc_push(w->to_peer, out) == -1) {
        drain(w);
    }
    drain(w);
}

static void *
run(void *p)
{
    struct worker *w = p;
    int bit = w->exporter == 2;
    double t0;

    pthread_barrier_wait(w->go);
    t0 = clock_ns(CLOCK_THREAD_CPUTIME_ID);
    for (size_t k = 0; k < PASSES; k++) {
        size_t pass = (w->first + k) % PASSES;
        for (size_t b = 0; b < RECORDS; b += BATCH) {
            batch(w, &data[pass][b], bit);
        }
    }
    /* what the peer still hands over, until both are done (the peer may wait for blocks) */
    atomic_fetch_add(&done, 1);
    while (atomic_load(&done) < 2) {
        drain(w);
    }
    drain(w);
    w->cpu_ns = clock_ns(CLOCK_THREAD_CPUTIME_ID) - t0;
    return NULL;
}

static int
by_value(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return x < y ? -1 : x > y;
}

int
main(int argc, char **argv)
{
    static struct ixd_spsc ring[4];        /* 0->1 work, 1->0 work, 0->1 returns, 1->0 returns */
    static double cpu[4][64], wall[4][64]; /* hand-off, shared; each in lockstep, apart */
    struct ixd_dedup_table *own[2], *shared = ixd_dedup_table_new(524288);
    int rounds = argc > 1 ? atoi(argv[1]) : 11;
    struct worker w[2];
    pthread_barrier_t go;

    if (rounds < 1 || rounds > 64) {
        fprintf(stderr, "dedup-handoff-bench: rounds 1 to 64\n");
        return 1;
    }
    dedup_flows_fill();
    for (int i = 0; i < 4; i++) {
        ixd_spsc_init(&ring[i], BLOCKS * 2);
    }
    memset(w, 0, sizeof(w));
    for (int i = 0; i < 2; i++) {
        own[i] = ixd_dedup_table_new(262144);
        w[i].blocks = calloc(BLOCKS, sizeof(struct block));
        w[i].exporter = (uint64_t)i + 1;
        w[i].go = &go;
        for (size_t b = 0; b < BLOCKS; b++) {
            w[i].free_list[w[i].n_free++] = &w[i].blocks[b];
        }
    }
    w[0].to_peer = w[1].from_peer = &ring[0];
    w[1].to_peer = w[0].from_peer = &ring[1];
    w[1].back_to_peer = w[0].returned = &ring[2];
    w[0].back_to_peer = w[1].returned = &ring[3];
    for (int r = 0; r < rounds; r++) {
        for (int c = 0; c < 4; c++) {
            int lag = c & 1;
            pthread_t th[2];
            double t0;
            shared_mode = c >> 1;
            w[0].table = shared_mode ? shared : own[0];
            w[1].table = shared_mode ? shared : own[1];
            pthread_barrier_init(&go, NULL, 2);
            w[0].first = 0;
            w[1].first = lag ? PASSES / 2 : 0;
            w[0].now = w[1].now = (4 * r + c + 1) * 120 * SEC;
            atomic_store(&done, 0);
            t0 = clock_ns(CLOCK_MONOTONIC);
            pthread_create(&th[0], NULL, run, &w[0]);
            pthread_create(&th[1], NULL, run, &w[1]);
            pthread_join(th[0], NULL);
            pthread_join(th[1], NULL);
            wall[c][r] = (clock_ns(CLOCK_MONOTONIC) - t0) / (2.0 * PASSES * RECORDS);
            cpu[c][r] = (w[0].cpu_ns + w[1].cpu_ns) / (2.0 * PASSES * RECORDS);
            pthread_barrier_destroy(&go);
        }
    }
    for (int c = 0; c < 4; c++) {
        qsort(cpu[c], (size_t)rounds, sizeof(double), by_value);
        qsort(wall[c], (size_t)rounds, sizeof(double), by_value);
        printf("%-13s 2 threads %-16s cpu ns/rec %7.1f  wall ns/rec %7.1f\n",
               c >> 1 ? "shared table" : "hand-off", c & 1 ? "10 passes apart" : "in lockstep",
               cpu[c][rounds / 2], wall[c][rounds / 2]);
    }
    printf("records kept %llu, dropped %llu (of %llu)\n",
           (unsigned long long)(w[0].kept + w[1].kept),
           (unsigned long long)(w[0].dropped + w[1].dropped),
           (unsigned long long)(4ull * rounds * 2 * PASSES * RECORDS));
    ixd_dedup_table_free(shared);
    for (int i = 0; i < 2; i++) {
        ixd_dedup_table_free(own[i]);
        free(w[i].blocks);
    }
    for (int i = 0; i < 4; i++) {
        ixd_spsc_release(&ring[i]);
    }
    return 0;
}
