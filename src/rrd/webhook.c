#include "rrd/webhook.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/log.h"
#include "core/relaxed_counter.h"

#define BACKOFF_FIRST 1.0
#define BACKOFF_MAX 300.0
#define HEAD_MAX 4096 /* of the receiver's answer, read to find its status */

struct url {
    char host[256];
    char port[8];
    char path[1024];
};

struct ixd_webhook {
    struct url url;
    char name[64];
    uint32_t timeout;
    pthread_t thread;
    int started;
    pthread_mutex_t lock;
    pthread_cond_t wake; /* on CLOCK_MONOTONIC */
    int stop;
    char *queue[IXD_WEBHOOK_QUEUE]; /* a ring of bodies, under lock */
    unsigned head, count;
    struct ixd_ratelimit log_limit; /* the thread's */
    uint64_t sent, retries, failed, dropped;
};

static int
parse_url(const char *text, struct url *u, char *err, size_t errlen)
{
    const char *p, *host_end, *path;
    size_t hl;

    memset(u, 0, sizeof(*u));
    if (strncmp(text, "http://", 7) != 0) {
        snprintf(err, errlen, "webhook '%s' is not an http:// URL", text);
        return -1;
    }
    p = text + 7;
    path = strchr(p, '/');
    if (path == NULL) {
        path = p + strlen(p);
    }
    if (*p == '[') { /* [IPv6]:port */
        host_end = memchr(p, ']', (size_t)(path - p));
        if (host_end == NULL) {
            snprintf(err, errlen, "webhook '%s': no ] after an IPv6 address", text);
            return -1;
        }
        hl = (size_t)(host_end - p - 1);
        p++;
        host_end++;
    } else {
        host_end = memchr(p, ':', (size_t)(path - p));
        host_end = host_end != NULL ? host_end : path;
        hl = (size_t)(host_end - p);
    }
    if (hl == 0 || hl >= sizeof(u->host) || strlen(path) >= sizeof(u->path) - 1) {
        snprintf(err, errlen, "webhook '%s': no host, or a host or path too long", text);
        return -1;
    }
    memcpy(u->host, p, hl);
    snprintf(u->port, sizeof(u->port), "80");
    if (*host_end == ':') {
        long port;
        char *end;
        port = strtol(host_end + 1, &end, 10);
        if (end != path || end == host_end + 1 || port < 1 || port > 65535) {
            snprintf(err, errlen, "webhook '%s': the port is not from 1 to 65535", text);
            return -1;
        }
        snprintf(u->port, sizeof(u->port), "%ld", port);
    } else if (host_end != path) {
        snprintf(err, errlen, "webhook '%s': unexpected text after the host", text);
        return -1;
    }
    snprintf(u->path, sizeof(u->path), "%s", *path != '\0' ? path : "/");
    for (const char *c = u->path; *c != '\0'; c++) {
        if ((unsigned char)*c <= ' ' || *c == 0x7f) {
            snprintf(err, errlen, "webhook '%s': blanks or control characters in the path", text);
            return -1;
        }
    }
    return 0;
}

int
ixd_webhook_check(const char *url, char *err, size_t errlen)
{
    struct url u;

    return parse_url(url, &u, err, errlen);
}

/* Waits for events on fd until the monotonic deadline: >0 ready, 0 timed out, -1 error. */
static int
wait_fd(int fd, short events, double deadline)
{
    for (;;) {
        struct pollfd pfd = {.fd = fd, .events = events};
        double left = deadline - ixd_mono_now();
        int n;
        if (left <= 0) {
            return 0;
        }
        n = poll(&pfd, 1, (int)(left * 1000) + 1);
        if (n == -1 && errno == EINTR) {
            continue;
        }
        return n;
    }
}

static int
connect_to(const struct url *u, double deadline, char *why, size_t whylen)
{
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *res = NULL, *ai;
    int fd = -1, rc = getaddrinfo(u->host, u->port, &hints, &res);

    if (rc != 0) {
        snprintf(why, whylen, "cannot resolve %s: %s", u->host, gai_strerror(rc));
        return -1;
    }
    snprintf(why, whylen, "cannot connect to %s:%s", u->host, u->port);
    for (ai = res; ai != NULL && fd == -1; ai = ai->ai_next) {
        int soerr = 0;
        socklen_t sl = sizeof(soerr);
        fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (fd == -1) {
            continue;
        }
        if (connect(fd, ai->ai_addr, ai->ai_addrlen) == -1 &&
            (errno != EINPROGRESS || wait_fd(fd, POLLOUT, deadline) <= 0 ||
             getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) == -1 || soerr != 0)) {
            snprintf(why, whylen, "cannot connect to %s:%s: %s", u->host, u->port,
                     soerr != 0 ? strerror(soerr) : "timed out");
            close(fd);
            fd = -1;
        }
    }
    freeaddrinfo(res);
    return fd;
}

static int
send_all(int fd, const char *data, size_t len, double deadline)
{
    size_t at = 0;

    while (at < len) {
        ssize_t n = send(fd, data + at, len - at, MSG_NOSIGNAL);
        if (n == -1 && (errno == EAGAIN || errno == EINTR)) {
            if (wait_fd(fd, POLLOUT, deadline) <= 0) {
                return -1;
            }
            continue;
        }
        if (n <= 0) {
            return -1;
        }
        at += (size_t)n;
    }
    return 0;
}

/* The status of the receiver's answer ("HTTP/1.1 200 OK"), or -1. */
static int
read_status(int fd, double deadline)
{
    char head[HEAD_MAX + 1];
    size_t len = 0;
    int status;

    while (len < HEAD_MAX && memchr(head, '\n', len) == NULL) {
        ssize_t n = recv(fd, head + len, HEAD_MAX - len, 0);
        if (n == -1 && (errno == EAGAIN || errno == EINTR)) {
            if (wait_fd(fd, POLLIN, deadline) <= 0) {
                return -1;
            }
            continue;
        }
        if (n <= 0) {
            break;
        }
        len += (size_t)n;
    }
    head[len] = '\0';
    if (sscanf(head, "HTTP/1.%*1[01] %3d", &status) != 1) {
        return -1;
    }
    return status;
}

/* One POST: 0 when answered 2xx, -1 with why. */
static int
post(struct ixd_webhook *w, const char *body, char *why, size_t whylen)
{
    double deadline = ixd_mono_now() + w->timeout;
    char head[2048];
    int fd, status, n;

    fd = connect_to(&w->url, deadline, why, whylen);
    if (fd == -1) {
        return -1;
    }
    n = snprintf(head, sizeof(head),
                 "POST %s HTTP/1.1\r\nHost: %s:%s\r\nUser-Agent: ipfixd/" IXD_VERSION
                 "\r\nContent-Type: application/json\r\nContent-Length: %zu\r\n"
                 "Connection: close\r\n\r\n",
                 w->url.path, w->url.host, w->url.port, strlen(body));
    if (send_all(fd, head, (size_t)n, deadline) == -1 ||
        send_all(fd, body, strlen(body), deadline) == -1) {
        snprintf(why, whylen, "cannot send to %s:%s", w->url.host, w->url.port);
        close(fd);
        return -1;
    }
    status = read_status(fd, deadline);
    close(fd);
    if (status < 200 || status > 299) {
        if (status == -1) {
            snprintf(why, whylen, "no answer from %s:%s within %u s", w->url.host, w->url.port,
                     (unsigned)w->timeout);
        } else {
            snprintf(why, whylen, "%s:%s answered %d", w->url.host, w->url.port, status);
        }
        return -1;
    }
    return 0;
}

/* Sleeps until deadline (monotonic) or stop; returns stop. Called with the lock held. */
static int
sleep_until(struct ixd_webhook *w, double deadline)
{
    while (!w->stop) {
        double left = deadline - ixd_mono_now();
        struct timespec ts;
        if (left <= 0) {
            break;
        }
        clock_gettime(CLOCK_MONOTONIC, &ts);
        ts.tv_sec += (time_t)left;
        ts.tv_nsec += (long)((left - (double)(time_t)left) * 1e9);
        if (ts.tv_nsec >= 1000000000) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000;
        }
        pthread_cond_timedwait(&w->wake, &w->lock, &ts);
    }
    return w->stop;
}

/* Delivers one body with retries; called without the lock. */
static void
deliver(struct ixd_webhook *w, const char *body)
{
    double backoff = BACKOFF_FIRST;
    char why[512];

    for (int attempt = 1; attempt <= IXD_WEBHOOK_ATTEMPTS; attempt++) {
        int stop;
        if (post(w, body, why, sizeof(why)) == 0) {
            IXD_CNT_ADD(w->sent, 1);
            return;
        }
        ixd_log_limited(&w->log_limit, ixd_mono_now(), IXD_LOG_WARNING,
                        "output %s: webhook attempt %d of %d failed: %s", w->name, attempt,
                        IXD_WEBHOOK_ATTEMPTS, why);
        if (attempt == IXD_WEBHOOK_ATTEMPTS) {
            break;
        }
        pthread_mutex_lock(&w->lock);
        stop = sleep_until(w, ixd_mono_now() + backoff);
        pthread_mutex_unlock(&w->lock);
        if (stop) {
            break;
        }
        IXD_CNT_ADD(w->retries, 1);
        backoff = backoff * 2 > BACKOFF_MAX ? BACKOFF_MAX : backoff * 2;
    }
    IXD_CNT_ADD(w->failed, 1);
    log_err("output %s: webhook gave up on an alert notification: %s", w->name, why);
}

static void *
run(void *arg)
{
    struct ixd_webhook *w = arg;

    pthread_mutex_lock(&w->lock);
    for (;;) {
        char *body;
        while (w->count == 0 && !w->stop) {
            pthread_cond_wait(&w->wake, &w->lock);
        }
        if (w->stop) {
            break;
        }
        body = w->queue[w->head];
        w->head = (w->head + 1) % IXD_WEBHOOK_QUEUE;
        w->count--;
        pthread_mutex_unlock(&w->lock);
        deliver(w, body);
        free(body);
        pthread_mutex_lock(&w->lock);
    }
    pthread_mutex_unlock(&w->lock);
    return NULL;
}

struct ixd_webhook *
ixd_webhook_new(const char *url, uint32_t timeout, const char *name, char *err, size_t errlen)
{
    struct ixd_webhook *w = calloc(1, sizeof(*w));
    pthread_condattr_t ca;
    int rc;

    if (w == NULL) {
        snprintf(err, errlen, "output %s: out of memory", name);
        return NULL;
    }
    if (parse_url(url, &w->url, err, errlen) == -1) {
        free(w);
        return NULL;
    }
    snprintf(w->name, sizeof(w->name), "%s", name);
    w->timeout = timeout > 0 ? timeout : 1;
    pthread_mutex_init(&w->lock, NULL);
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&w->wake, &ca);
    pthread_condattr_destroy(&ca);
    rc = pthread_create(&w->thread, NULL, run, w);
    if (rc != 0) {
        snprintf(err, errlen, "output %s: cannot start the webhook thread: %s", name, strerror(rc));
        ixd_webhook_free(w);
        return NULL;
    }
    w->started = 1;
    return w;
}

void
ixd_webhook_free(struct ixd_webhook *w)
{
    if (w == NULL) {
        return;
    }
    pthread_mutex_lock(&w->lock);
    w->stop = 1;
    pthread_cond_broadcast(&w->wake);
    pthread_mutex_unlock(&w->lock);
    if (w->started) {
        pthread_join(w->thread, NULL);
    }
    while (w->count > 0) {
        free(w->queue[w->head]);
        w->head = (w->head + 1) % IXD_WEBHOOK_QUEUE;
        w->count--;
        w->failed++;
    }
    if (w->failed > 0) {
        log_warn("output %s: %llu alert notifications were not delivered", w->name,
                 (unsigned long long)w->failed);
    }
    pthread_mutex_destroy(&w->lock);
    pthread_cond_destroy(&w->wake);
    free(w);
}

void
ixd_webhook_send(struct ixd_webhook *w, const char *body)
{
    char *copy = strdup(body);

    pthread_mutex_lock(&w->lock);
    if (w->count == IXD_WEBHOOK_QUEUE) {
        /* the receiver is far behind: the oldest news goes first */
        free(w->queue[w->head]);
        w->head = (w->head + 1) % IXD_WEBHOOK_QUEUE;
        w->count--;
        IXD_CNT_ADD(w->dropped, 1);
    }
    if (copy == NULL) {
        IXD_CNT_ADD(w->dropped, 1);
    } else {
        w->queue[(w->head + w->count) % IXD_WEBHOOK_QUEUE] = copy;
        w->count++;
        pthread_cond_signal(&w->wake);
    }
    pthread_mutex_unlock(&w->lock);
}

void
ixd_webhook_stats(const struct ixd_webhook *w, struct ixd_webhook_stats *out)
{
    out->sent = IXD_CNT_GET(w->sent);
    out->retries = IXD_CNT_GET(w->retries);
    out->failed = IXD_CNT_GET(w->failed);
    out->dropped = IXD_CNT_GET(w->dropped);
}
