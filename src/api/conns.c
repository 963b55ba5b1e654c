/*
 * The API's connection table (conns.h, docs/internals/api-connections.md). One lock guards it
 * all: the server thread takes it for each connection event, the watchdog once per deadline.
 * Slots are allocated once, for the server's whole limit, so nothing is allocated per
 * connection; a scan of every slot is cheap next to what a connection costs the server.
 */
#include "api/conns.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/clock.h"
#include "core/log.h"

enum conn_phase {
    CONN_RECEIVING, /* its request is arriving (on a new connection: from its opening) */
    CONN_ANSWERING, /* its request is whole and being answered */
    CONN_IDLE,      /* kept alive, waiting for its next request */
};

struct api_conn {
    int fd; /* -1: a free slot */
    enum conn_phase phase;
    double since; /* monotonic seconds: when the phase began */
    int shut;     /* shut down here; the server has yet to notice and close it */
    struct sockaddr_storage addr;
    socklen_t addrlen;
    struct api_conn *next_free;
};

struct api_conns {
    pthread_mutex_t lock;
    pthread_cond_t wake;
    pthread_t watchdog;
    int stopping;
    double wake_at; /* when the watchdog looks next; 0: only when signalled */
    struct api_conns_limits lim;
    struct api_conn *slots;
    size_t n_slots;
    struct api_conn *free_slots;
    size_t live; /* in the table and not shut down */
    struct api_conns_stats stats;
    struct ixd_ratelimit rl_timeout; /* the watchdog's */
    struct ixd_ratelimit rl_full;    /* the server thread's */
};

void
api_addr_text(const struct sockaddr *addr, char *out, size_t outlen)
{
    snprintf(out, outlen, "?");
    if (addr != NULL && addr->sa_family == AF_INET) {
        inet_ntop(AF_INET, &((const struct sockaddr_in *)(const void *)addr)->sin_addr, out,
                  (socklen_t)outlen);
    } else if (addr != NULL && addr->sa_family == AF_INET6) {
        inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)(const void *)addr)->sin6_addr, out,
                  (socklen_t)outlen);
    }
}

/* The same client address (the port aside). */
static int
same_host(const struct api_conn *k, const struct sockaddr *addr)
{
    const struct sockaddr *mine = (const struct sockaddr *)&k->addr;

    if (addr == NULL || mine->sa_family != addr->sa_family) {
        return 0;
    }
    if (addr->sa_family == AF_INET) {
        return ((const struct sockaddr_in *)(const void *)mine)->sin_addr.s_addr ==
               ((const struct sockaddr_in *)(const void *)addr)->sin_addr.s_addr;
    }
    if (addr->sa_family == AF_INET6) {
        return memcmp(&((const struct sockaddr_in6 *)(const void *)mine)->sin6_addr,
                      &((const struct sockaddr_in6 *)(const void *)addr)->sin6_addr,
                      sizeof(struct in6_addr)) == 0;
    }
    return 0;
}

static int
watched(const struct api_conn *k)
{
    return k->fd != -1 && !k->shut;
}

/* When k must have moved on, 0 when it has no deadline (being answered). A kept-alive
 * connection gets the idle timeout to begin its next request and the request timeout to
 * finish it: the server's idle timeout closes the silent ones first, so only one that trickles
 * its request line is closed here. */
static double
deadline_of(const struct api_conns *c, const struct api_conn *k)
{
    if (k->phase == CONN_RECEIVING) {
        return k->since + c->lim.request_timeout;
    }
    if (k->phase == CONN_IDLE) {
        return k->since + c->lim.idle_timeout + c->lim.request_timeout;
    }
    return 0;
}

/* Tells the watchdog about a deadline earlier than the one it waits for. Under the lock. */
static void
schedule(struct api_conns *c, double due)
{
    if (c->wake_at == 0 || due < c->wake_at) {
        c->wake_at = due;
        pthread_cond_signal(&c->wake);
    }
}

/* Under the lock: the server sees the end of the stream and closes the connection itself. */
static void
shut(struct api_conns *c, struct api_conn *k)
{
    if (shutdown(k->fd, SHUT_RDWR) == -1) {
        /* the peer reset it already: the server closes it all the same */
    }
    k->shut = 1;
    c->live--;
}

static void *
watchdog(void *arg)
{
    struct api_conns *c = arg;
    char who[64];

    pthread_mutex_lock(&c->lock);
    while (!c->stopping) {
        double now = ixd_mono_now(), next = 0;
        size_t i;

        for (i = 0; i < c->n_slots; i++) {
            struct api_conn *k = &c->slots[i];
            double due = watched(k) ? deadline_of(c, k) : 0;
            if (due == 0) {
                continue;
            }
            if (due > now) {
                next = next == 0 || due < next ? due : next;
                continue;
            }
            api_addr_text((const struct sockaddr *)&k->addr, who, sizeof(who));
            ixd_log_limited(&c->rl_timeout, now, IXD_LOG_WARNING,
                            "api: closed a connection from %s: its request did not arrive whole "
                            "within request-timeout (%u s)",
                            who, c->lim.request_timeout);
            shut(c, k);
            c->stats.timed_out++;
        }
        c->wake_at = next;
        if (next == 0) {
            pthread_cond_wait(&c->wake, &c->lock);
        } else {
            struct timespec ts;
            ts.tv_sec = (time_t)next;
            ts.tv_nsec = (long)((next - (double)ts.tv_sec) * 1e9);
            pthread_cond_timedwait(&c->wake, &c->lock, &ts);
        }
    }
    pthread_mutex_unlock(&c->lock);
    return NULL;
}

struct api_conns *
api_conns_new(const struct api_conns_limits *lim, char *err, size_t errlen)
{
    struct api_conns *c = calloc(1, sizeof(*c));
    pthread_condattr_t attr;
    size_t i;
    int rc;

    if (c == NULL) {
        snprintf(err, errlen, "api: out of memory");
        return NULL;
    }
    c->lim = *lim;
    c->n_slots = (size_t)lim->connections + API_CONNS_SLACK;
    c->slots = calloc(c->n_slots, sizeof(*c->slots));
    if (c->slots == NULL) {
        snprintf(err, errlen, "api: out of memory for %zu connections", c->n_slots);
        free(c);
        return NULL;
    }
    for (i = c->n_slots; i > 0; i--) {
        c->slots[i - 1].fd = -1;
        c->slots[i - 1].next_free = c->free_slots;
        c->free_slots = &c->slots[i - 1];
    }
    pthread_mutex_init(&c->lock, NULL);
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC); /* the clock of ixd_mono_now */
    pthread_cond_init(&c->wake, &attr);
    pthread_condattr_destroy(&attr);
    rc = pthread_create(&c->watchdog, NULL, watchdog, c);
    if (rc != 0) {
        snprintf(err, errlen, "api: cannot start the connection watchdog: %s", strerror(rc));
        pthread_cond_destroy(&c->wake);
        pthread_mutex_destroy(&c->lock);
        free(c->slots);
        free(c);
        return NULL;
    }
    return c;
}

void
api_conns_free(struct api_conns *c)
{
    if (c == NULL) {
        return;
    }
    pthread_mutex_lock(&c->lock);
    c->stopping = 1;
    pthread_cond_signal(&c->wake);
    pthread_mutex_unlock(&c->lock);
    pthread_join(c->watchdog, NULL);
    pthread_cond_destroy(&c->wake);
    pthread_mutex_destroy(&c->lock);
    free(c->slots);
    free(c);
}

/* The connection to close for a new one: the oldest whose request is arriving, else the one
 * kept alive the longest; from addr only when addr is not NULL. NULL: all are being answered. */
static struct api_conn *
victim(struct api_conns *c, const struct sockaddr *addr)
{
    struct api_conn *receiving = NULL, *idle = NULL;
    size_t i;

    for (i = 0; i < c->n_slots; i++) {
        struct api_conn *k = &c->slots[i];
        if (!watched(k) || (addr != NULL && !same_host(k, addr))) {
            continue;
        }
        if (k->phase == CONN_RECEIVING && (receiving == NULL || k->since < receiving->since)) {
            receiving = k;
        } else if (k->phase == CONN_IDLE && (idle == NULL || k->since < idle->since)) {
            idle = k;
        }
    }
    return receiving != NULL ? receiving : idle;
}

/* Under the lock: closes a connection in the way of one from addr (of the table when whole is
 * set, else of addr's share); 0, or -1 when there is none to close. */
static int
make_room(struct api_conns *c, const struct sockaddr *addr, int whole)
{
    struct api_conn *k = victim(c, whole ? NULL : addr);
    double now = ixd_mono_now();
    char who[64], old[64];

    api_addr_text(addr, who, sizeof(who));
    if (k == NULL) {
        c->stats.refused++;
        if (whole) {
            ixd_log_limited(&c->rl_full, now, IXD_LOG_WARNING,
                            "api: all %u connections are open and being answered; refusing one "
                            "from %s",
                            c->lim.connections, who);
        } else {
            ixd_log_limited(&c->rl_full, now, IXD_LOG_WARNING,
                            "api: %u connections from %s are open and being answered; refusing "
                            "another",
                            c->lim.per_ip, who);
        }
        return -1;
    }
    api_addr_text((const struct sockaddr *)&k->addr, old, sizeof(old));
    if (whole) {
        ixd_log_limited(&c->rl_full, now, IXD_LOG_WARNING,
                        "api: all %u connections are open; closed the oldest unfinished one "
                        "(from %s) to let one from %s in",
                        c->lim.connections, old, who);
    } else {
        ixd_log_limited(&c->rl_full, now, IXD_LOG_WARNING,
                        "api: %u connections from %s are open; closed its oldest unfinished one "
                        "to let another in",
                        c->lim.per_ip, who);
    }
    shut(c, k);
    c->stats.evicted++;
    return 0;
}

int
api_conns_admit(struct api_conns *c, const struct sockaddr *addr, socklen_t addrlen)
{
    size_t i, mine = 0;
    int ok = 1;

    (void)addrlen;
    pthread_mutex_lock(&c->lock);
    for (i = 0; i < c->n_slots; i++) {
        mine += watched(&c->slots[i]) && same_host(&c->slots[i], addr);
    }
    if (mine >= c->lim.per_ip && make_room(c, addr, 0) == -1) {
        ok = 0;
    } else if (c->live >= c->lim.connections && make_room(c, addr, 1) == -1) {
        ok = 0;
    }
    pthread_mutex_unlock(&c->lock);
    return ok;
}

struct api_conn *
api_conns_opened(struct api_conns *c, int fd, const struct sockaddr *addr, socklen_t addrlen)
{
    struct api_conn *k;
    double now = ixd_mono_now();

    pthread_mutex_lock(&c->lock);
    k = c->free_slots;
    if (k == NULL) {
        /* the server's limit is the number of slots: only a broken invariant gets here */
        c->stats.refused++;
        pthread_mutex_unlock(&c->lock);
        if (shutdown(fd, SHUT_RDWR) == -1) {
            /* gone already */
        }
        return NULL;
    }
    c->free_slots = k->next_free;
    k->fd = fd;
    k->phase = CONN_RECEIVING;
    k->since = now;
    k->shut = 0;
    memset(&k->addr, 0, sizeof(k->addr));
    k->addrlen = addrlen <= sizeof(k->addr) ? addrlen : sizeof(k->addr);
    if (addr != NULL) {
        memcpy(&k->addr, addr, k->addrlen);
    }
    c->live++;
    schedule(c, deadline_of(c, k));
    pthread_mutex_unlock(&c->lock);
    return k;
}

void
api_conns_closed(struct api_conns *c, struct api_conn *k)
{
    if (k == NULL) {
        return;
    }
    pthread_mutex_lock(&c->lock);
    if (!k->shut) {
        c->live--;
    }
    k->fd = -1;
    k->next_free = c->free_slots;
    c->free_slots = k;
    pthread_mutex_unlock(&c->lock);
}

/* Moves k to phase from now on. */
static void
enter(struct api_conns *c, struct api_conn *k, enum conn_phase phase)
{
    if (k == NULL) {
        return;
    }
    pthread_mutex_lock(&c->lock);
    k->phase = phase;
    k->since = ixd_mono_now();
    if (watched(k) && phase != CONN_ANSWERING) {
        schedule(c, deadline_of(c, k));
    }
    pthread_mutex_unlock(&c->lock);
}

void
api_conns_request_line(struct api_conns *c, struct api_conn *k)
{
    /* only the server thread changes a phase, so the one read here stays true */
    if (k != NULL && k->phase == CONN_IDLE) {
        enter(c, k, CONN_RECEIVING);
    }
}

void
api_conns_answering(struct api_conns *c, struct api_conn *k)
{
    enter(c, k, CONN_ANSWERING);
}

void
api_conns_answered(struct api_conns *c, struct api_conn *k)
{
    enter(c, k, CONN_IDLE);
}

void
api_conns_stats(struct api_conns *c, struct api_conns_stats *out)
{
    pthread_mutex_lock(&c->lock);
    *out = c->stats;
    out->open = c->live;
    pthread_mutex_unlock(&c->lock);
}
