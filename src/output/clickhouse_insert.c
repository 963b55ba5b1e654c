#include "output/clickhouse_insert.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/clock.h"
#include "core/log.h"
#include "core/relaxed_counter.h"
#include "curl/http.h"

#define BACKOFF_MIN 0.5
#define BACKOFF_MAX 30.0
#define SPOOL_GZIP 1u
#define SPOOL_WAIT 10.0 /* seconds a batch waits for the spool the replaced output holds */

/* How an insert ended. */
enum result {
    CH_OK = 0,
    CH_RETRY,     /* not now: unreachable, a server error worth retrying */
    CH_AMBIGUOUS, /* as CH_RETRY, but the server may have inserted it */
    CH_DATA,      /* ClickHouse refuses the data: never retried */
};

struct qbatch {
    struct qbatch *next;
    uint64_t rows;
    size_t len;
    int gzip;
    void *body;
};

struct ixd_ch_inserter {
    struct ixd_ch_inserter_conf conf;
    struct ixd_spool *spool; /* the thread's, once it could lock it */
    struct ixd_http *http;
    pthread_t thread;
    int started;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int stop;                   /* mu */
    struct qbatch *head, *tail; /* mu */
    size_t qbytes;              /* mu */
    double retry_at, backoff;   /* the thread's */
    struct ixd_ratelimit errors;
    struct ixd_ch_insert_counts c;
};

/* ClickHouse's error codes worth retrying: the server is busy, short of something, or not set
 * up yet (a table or user an operator is about to create): not the data's fault. */
static int
code_transient(long code)
{
    static const long codes[] = {
        60,  81,  159, 164, 192, 193, 194, 202, 203, 209, 210, 236,
        241, 242, 252, 279, 285, 319, 394, 425, 497, 516, 999,
    };

    for (size_t i = 0; i < sizeof(codes) / sizeof(codes[0]); i++) {
        if (codes[i] == code) {
            return 1;
        }
    }
    return 0;
}

/* What ClickHouse said, printable and short, for a log line. */
static void
message_of(const char *body, char *out, size_t outlen)
{
    size_t o = 0;

    for (; body != NULL && *body != '\0' && o + 1 < outlen; body++) {
        unsigned char c = (unsigned char)*body;
        if (c == '\n' && strncmp(body, "\n, e.what()", 11) == 0) {
            break;
        }
        out[o++] = c >= 0x20 && c < 0x7f ? (char)c : ' ';
    }
    out[o] = '\0';
}

/* Sorts an answer: ClickHouse says what went wrong with "Code: N" (18.16 with status 500 even
 * for bad data), so the code decides, not the status. */
static enum result
classify(struct ixd_ch_inserter *ins, const struct ixd_http_response *rs, uint64_t rows)
{
    char msg[320];
    long code = -1;

    if (rs->outcome == IXD_HTTP_UNREACHABLE) {
        return CH_RETRY;
    }
    if (rs->outcome == IXD_HTTP_AMBIGUOUS) {
        return CH_AMBIGUOUS;
    }
    if (rs->status == 200) {
        return CH_OK;
    }
    if (rs->body != NULL && strncmp(rs->body, "Code: ", 6) == 0) {
        code = strtol(rs->body + 6, NULL, 10);
    }
    message_of(rs->body, msg, sizeof(msg));
    if (code < 0 || code_transient(code)) {
        ixd_log_limited(&ins->errors, ixd_mono_now(), IXD_LOG_WARNING,
                        "output %s: insert of %llu rows failed, will retry: HTTP %ld: %s",
                        ins->conf.name, (unsigned long long)rows, rs->status, msg);
        return CH_RETRY;
    }
    ixd_log_limited(&ins->errors, ixd_mono_now(), IXD_LOG_ERROR,
                    "output %s: ClickHouse refuses a batch of %llu rows, dropped: %s",
                    ins->conf.name, (unsigned long long)rows, msg);
    return CH_DATA;
}

static enum result
insert_once(struct ixd_ch_inserter *ins, const void *body, size_t len, uint64_t rows, int gzip)
{
    const char *headers[] = {gzip ? "Content-Encoding: gzip" : NULL, NULL};
    struct ixd_http_request rq = {.method = "POST",
                                  .url = ins->conf.url,
                                  .headers = headers,
                                  .body = body,
                                  .len = len,
                                  .user = ins->conf.user,
                                  .password = ins->conf.password,
                                  .timeout_ms = ins->conf.timeout_ms,
                                  .connect_timeout_ms = 2000};
    struct ixd_http_response rs;
    enum result r;

    ixd_http_do(ins->http, &rq, &rs);
    if (rs.outcome != IXD_HTTP_ANSWERED) {
        ixd_log_limited(&ins->errors, ixd_mono_now(), IXD_LOG_WARNING,
                        "output %s: insert of %llu rows failed, will retry: %s", ins->conf.name,
                        (unsigned long long)rows, rs.error);
    }
    r = classify(ins, &rs, rows);
    free(rs.body);
    if (r == CH_OK) {
        IXD_CNT_ADD(ins->c.inserted, rows);
        IXD_CNT_ADD(ins->c.batches, 1);
        IXD_CNT_ADD(ins->c.bytes, len);
    } else if (r == CH_DATA) {
        IXD_CNT_ADD(ins->c.rejected, rows);
    } else if (r == CH_AMBIGUOUS) {
        /* a retry may insert it twice into a table that does not deduplicate */
        IXD_CNT_ADD(ins->c.ambiguous, 1);
        IXD_CNT_ADD(ins->c.ambiguous_rows, rows);
    }
    return r;
}

/* Inserts with up to `retries` quick retries (100 ms, 200 ms, ...); the last result. */
static enum result
insert(struct ixd_ch_inserter *ins, const void *body, size_t len, uint64_t rows, int gzip)
{
    enum result r = insert_once(ins, body, len, rows, gzip);

    for (unsigned i = 0; i < ins->conf.retries && (r == CH_RETRY || r == CH_AMBIGUOUS); i++) {
        long ms = 100L << (i < 5 ? i : 5);
        struct timespec ts = {ms / 1000, (ms % 1000) * 1000000};
        nanosleep(&ts, NULL);
        IXD_CNT_ADD(ins->c.retries, 1);
        r = insert_once(ins, body, len, rows, gzip);
    }
    return r;
}

static void
backoff(struct ixd_ch_inserter *ins)
{
    ins->backoff = ins->backoff < BACKOFF_MIN ? BACKOFF_MIN : ins->backoff * 2;
    if (ins->backoff > BACKOFF_MAX) {
        ins->backoff = BACKOFF_MAX;
    }
    ins->retry_at = ixd_mono_now() + ins->backoff;
}

/*
 * The spool, opened on first need: at a reload the output this one replaces holds its lock
 * until it has closed, a moment later. wait: keep trying for a while (a batch to keep);
 * otherwise try once (replay). NULL while it cannot be had.
 */
static struct ixd_spool *
spool_of(struct ixd_ch_inserter *ins, int wait)
{
    double give_up = ixd_mono_now() + (wait ? SPOOL_WAIT : 0);
    char why[512];

    while (ins->spool == NULL && ins->conf.spool_dir != NULL) {
        struct ixd_spool *opened =
            ixd_spool_open(ins->conf.spool_dir, ins->conf.spool_size, why, sizeof(why));
        __atomic_store_n(&ins->spool, opened, __ATOMIC_RELEASE); /* stats() reads it */
        if (ins->spool != NULL) {
            if (ixd_spool_batches(ins->spool) > 0) {
                log_info("output %s: %llu spooled rows to insert first", ins->conf.name,
                         (unsigned long long)ixd_spool_rows(ins->spool));
            }
            break;
        }
        if (errno != EWOULDBLOCK || ixd_mono_now() >= give_up) {
            if (errno != EWOULDBLOCK) {
                ixd_log_limited(&ins->errors, ixd_mono_now(), IXD_LOG_ERROR, "output %s: spool: %s",
                                ins->conf.name, why);
            }
            break;
        }
        struct timespec ts = {0, 50000000};
        nanosleep(&ts, NULL);
    }
    return ins->spool;
}

/* A batch that cannot go now: into the spool, or dropped and counted. */
static void
keep(struct ixd_ch_inserter *ins, const struct qbatch *b)
{
    struct ixd_spool *s = spool_of(ins, 1);
    const char *why;

    if (s != NULL && ixd_spool_push(s, b->body, b->len, b->rows, b->gzip ? SPOOL_GZIP : 0) == 0) {
        return;
    }
    why = ins->conf.spool_dir == NULL ? "no spool-directory to keep them in"
          : s == NULL                 ? "the spool cannot be opened"
          : errno == ENOSPC           ? "the spool is full (spool-size)"
                                      : strerror(errno);
    ixd_log_limited(&ins->errors, ixd_mono_now(), IXD_LOG_ERROR, "output %s: %llu rows dropped: %s",
                    ins->conf.name, (unsigned long long)b->rows, why);
    IXD_CNT_ADD(ins->c.spool_dropped, b->rows);
}

/* Spooled batches, oldest first, while ClickHouse takes them (or until new batches arrive:
 * replaying goes on once they are behind the spool). */
static void
replay(struct ixd_ch_inserter *ins)
{
    struct ixd_spool *s = spool_of(ins, 0);
    struct ixd_spool_batch b;

    while (s != NULL && ixd_mono_now() >= ins->retry_at) {
        int got = ixd_spool_peek(s, &b);
        if (got == 0) {
            return;
        }
        if (got == -1) {
            log_err("output %s: a spooled batch cannot be read: %llu rows dropped", ins->conf.name,
                    (unsigned long long)b.rows);
            IXD_CNT_ADD(ins->c.spool_dropped, b.rows);
            continue;
        }
        enum result r = insert_once(ins, b.body, b.len, b.rows, (b.flags & SPOOL_GZIP) != 0);
        free(b.body);
        if (r == CH_RETRY || r == CH_AMBIGUOUS) {
            backoff(ins);
            return;
        }
        ins->backoff = 0;
        ixd_spool_pop(s);
        pthread_mutex_lock(&ins->mu);
        int waiting = ins->head != NULL;
        pthread_mutex_unlock(&ins->mu);
        if (waiting) {
            return; /* new batches go behind the spool first, then replaying goes on */
        }
    }
}

/* One batch from the queue: in order behind the spool, or inserted now. */
static void
handle(struct ixd_ch_inserter *ins, const struct qbatch *b)
{
    struct ixd_spool *s = spool_of(ins, 0);

    if (s != NULL && (ixd_spool_batches(s) > 0 || ixd_mono_now() < ins->retry_at)) {
        keep(ins, b);
        return;
    }
    enum result r = insert(ins, b->body, b->len, b->rows, b->gzip);
    if (r == CH_RETRY || r == CH_AMBIGUOUS) {
        backoff(ins);
        keep(ins, b);
    } else {
        ins->backoff = 0;
    }
}

static struct qbatch *
pop_locked(struct ixd_ch_inserter *ins)
{
    struct qbatch *b = ins->head;

    if (b != NULL) {
        ins->head = b->next;
        if (ins->head == NULL) {
            ins->tail = NULL;
        }
        ins->qbytes -= b->len;
        IXD_CNT_SET(ins->c.queued_bytes, (uint64_t)ins->qbytes);
    }
    return b;
}

static void *
inserter_main(void *arg)
{
    struct ixd_ch_inserter *ins = arg;

    spool_of(ins, 0); /* what an earlier run left is replayed first */
    pthread_mutex_lock(&ins->mu);
    for (;;) {
        struct qbatch *b = pop_locked(ins);
        if (b == NULL && ins->stop) {
            break;
        }
        if (b == NULL) {
            struct timespec ts;
            clock_gettime(CLOCK_REALTIME, &ts);
            ts.tv_nsec += 100000000;
            if (ts.tv_nsec >= 1000000000) {
                ts.tv_sec++;
                ts.tv_nsec -= 1000000000;
            }
            pthread_cond_timedwait(&ins->cv, &ins->mu, &ts);
        }
        pthread_mutex_unlock(&ins->mu);
        if (b != NULL) {
            handle(ins, b);
            free(b->body);
            free(b);
        } else {
            replay(ins);
        }
        pthread_mutex_lock(&ins->mu);
    }
    pthread_mutex_unlock(&ins->mu);
    return NULL;
}

int
ixd_ch_inserter_push(struct ixd_ch_inserter *ins, void *body, size_t len, uint64_t rows, int gzip)
{
    struct qbatch *b = malloc(sizeof(*b));

    pthread_mutex_lock(&ins->mu);
    if (b == NULL || ins->qbytes + len > ins->conf.queue_max) {
        size_t waiting = ins->qbytes;
        pthread_mutex_unlock(&ins->mu);
        /* the writer's own limiter: this thread logs nothing else */
        static _Thread_local struct ixd_ratelimit full;
        ixd_log_limited(&full, ixd_mono_now(), IXD_LOG_ERROR,
                        "output %s: %llu rows dropped: the inserts are behind (%zu bytes wait)",
                        ins->conf.name, (unsigned long long)rows, waiting);
        IXD_CNT_ADD(ins->c.queue_dropped, rows);
        free(body);
        free(b);
        return -1;
    }
    *b = (struct qbatch){NULL, rows, len, gzip, body};
    if (ins->tail != NULL) {
        ins->tail->next = b;
    } else {
        ins->head = b;
    }
    ins->tail = b;
    ins->qbytes += len;
    IXD_CNT_SET(ins->c.queued_bytes, (uint64_t)ins->qbytes);
    pthread_cond_signal(&ins->cv);
    pthread_mutex_unlock(&ins->mu);
    return 0;
}

struct ixd_ch_inserter *
ixd_ch_inserter_new(const struct ixd_ch_inserter_conf *conf, char *err, size_t errlen)
{
    struct ixd_ch_inserter *ins = calloc(1, sizeof(*ins));
    int rc;

    if (ins == NULL) {
        snprintf(err, errlen, "output %s: out of memory", conf->name);
        return NULL;
    }
    ins->conf = *conf;
    pthread_mutex_init(&ins->mu, NULL);
    pthread_cond_init(&ins->cv, NULL);
    ins->http = ixd_http_new();
    if (ins->http == NULL) {
        snprintf(err, errlen, "output %s: cannot set up HTTP", conf->name);
        ixd_ch_inserter_free(ins);
        return NULL;
    }
    rc = pthread_create(&ins->thread, NULL, inserter_main, ins);
    if (rc != 0) {
        snprintf(err, errlen, "output %s: cannot start: %s", conf->name, strerror(rc));
        ixd_ch_inserter_free(ins);
        return NULL;
    }
    ins->started = 1;
    {
        char tname[16];
        snprintf(tname, sizeof(tname), "ixd-ins-%s", conf->name);
        pthread_setname_np(ins->thread, tname);
    }
    return ins;
}

void
ixd_ch_inserter_free(struct ixd_ch_inserter *ins)
{
    struct qbatch *b;

    if (ins == NULL) {
        return;
    }
    if (ins->started) {
        pthread_mutex_lock(&ins->mu);
        ins->stop = 1;
        pthread_cond_signal(&ins->cv);
        pthread_mutex_unlock(&ins->mu);
        pthread_join(ins->thread, NULL);
    }
    while ((b = pop_locked(ins)) != NULL) {
        free(b->body);
        free(b);
    }
    ixd_spool_close(ins->spool);
    ixd_http_free(ins->http);
    pthread_cond_destroy(&ins->cv);
    pthread_mutex_destroy(&ins->mu);
    free(ins);
}

const struct ixd_ch_insert_counts *
ixd_ch_inserter_counts(const struct ixd_ch_inserter *ins)
{
    return &ins->c;
}

uint64_t
ixd_ch_inserter_spooled(const struct ixd_ch_inserter *ins, uint64_t *bytes)
{
    struct ixd_spool *s = __atomic_load_n(&ins->spool, __ATOMIC_ACQUIRE);

    *bytes = s != NULL ? ixd_spool_bytes(s) : 0;
    return s != NULL ? ixd_spool_rows(s) : 0;
}
