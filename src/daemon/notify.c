#include "daemon/notify.h"

#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "core/log.h"

struct ixd_notify {
    int fd;
    struct sockaddr_un addr;
    socklen_t addrlen;
    struct ev_loop *loop;
    ev_timer watchdog;
    unsigned long long watchdog_usec; /* 0: systemd set no watchdog for this process */
    ixd_notify_alive_fn alive;
    void *alive_arg;
    int watchdog_missed; /* the alive check said no: logged once per run of misses */
};

/* A decimal environment value in [1, max], or 0 when unset or malformed. */
static unsigned long long
env_number(const char *name, unsigned long long max)
{
    const char *s = getenv(name);
    unsigned long long v;
    char *end;

    if (s == NULL || s[0] < '0' || s[0] > '9') {
        return 0;
    }
    errno = 0;
    v = strtoull(s, &end, 10);
    if (errno != 0 || *end != '\0' || v > max) {
        return 0;
    }
    return v;
}

/* "/path" or "@abstract" into a sockaddr_un; -1 when it does not fit or is not a socket name. */
static int
socket_address(const char *name, struct sockaddr_un *sun, socklen_t *len)
{
    size_t n = strlen(name);

    if (n < 2 || (name[0] != '/' && name[0] != '@') || n > sizeof(sun->sun_path) - 1) {
        return -1;
    }
    memset(sun, 0, sizeof(*sun));
    sun->sun_family = AF_UNIX;
    memcpy(sun->sun_path, name, n);
    if (name[0] == '@') {
        sun->sun_path[0] = '\0'; /* abstract: the name is the bytes after the NUL, no terminator */
        *len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n);
    } else {
        *len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n + 1);
    }
    return 0;
}

/* One datagram; a failure is logged at debug level only: systemd may simply not listen. */
static void
send_text(struct ixd_notify *n, const char *text)
{
    if (n == NULL) {
        return;
    }
    if (sendto(n->fd, text, strlen(text), MSG_NOSIGNAL, (const struct sockaddr *)&n->addr,
               n->addrlen) == -1) {
        log_debug("notify: cannot send to $NOTIFY_SOCKET: %s", strerror(errno));
    }
}

static void
watchdog_cb(struct ev_loop *loop, ev_timer *t, int revents)
{
    struct ixd_notify *n = t->data;

    if (n->alive != NULL && !n->alive(n->alive_arg)) {
        if (!n->watchdog_missed) {
            log_warn("notify: a worker is not ticking: withholding the watchdog ping");
        }
        n->watchdog_missed = 1;
        return;
    }
    n->watchdog_missed = 0;
    send_text(n, "WATCHDOG=1");
}

struct ixd_notify *
ixd_notify_new(struct ev_loop *loop)
{
    const char *name = getenv("NOTIFY_SOCKET");
    struct ixd_notify *n;
    unsigned long long pid;

    if (name == NULL || name[0] == '\0') {
        return NULL;
    }
    n = calloc(1, sizeof(*n));
    if (n == NULL) {
        log_err("notify: out of memory");
        return NULL;
    }
    if (socket_address(name, &n->addr, &n->addrlen) == -1) {
        log_err("notify: ignoring NOTIFY_SOCKET=%s: not a unix socket name", name);
        goto fail;
    }
    n->fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (n->fd == -1) {
        log_err("notify: cannot create a unix datagram socket: %s", strerror(errno));
        goto fail;
    }
    n->loop = loop;
    /* WATCHDOG_PID names the process the watchdog is meant for (absent: this one) */
    pid = env_number("WATCHDOG_PID", 0x7fffffff);
    if (getenv("WATCHDOG_PID") == NULL || pid == (unsigned long long)getpid()) {
        n->watchdog_usec = env_number("WATCHDOG_USEC", 1000ULL * 1000 * 1000 * 3600 * 24);
    }
    ev_timer_init(&n->watchdog, watchdog_cb, 0., 0.);
    n->watchdog.data = n;
    if (n->watchdog_usec > 0) {
        log_info("notify: watchdog every %.3f s", (double)n->watchdog_usec / 2e6);
    }
    return n;
fail:
    free(n);
    return NULL;
}

void
ixd_notify_free(struct ixd_notify *n)
{
    if (n == NULL) {
        return;
    }
    ev_timer_stop(n->loop, &n->watchdog);
    close(n->fd);
    free(n);
}

void
ixd_notify_set_alive(struct ixd_notify *n, ixd_notify_alive_fn fn, void *arg)
{
    if (n != NULL) {
        n->alive = fn;
        n->alive_arg = arg;
    }
}

/* STATUS= is one line: a newline in it would start another assignment. */
static void
append_status(char *buf, size_t len, const char *status)
{
    size_t o = strlen(buf), i;

    if (status == NULL || o + sizeof("\nSTATUS=") >= len) {
        return;
    }
    o += (size_t)snprintf(buf + o, len - o, "\nSTATUS=");
    for (i = 0; status[i] != '\0' && o + 1 < len; i++) {
        buf[o++] = status[i] == '\n' ? ' ' : status[i];
    }
    buf[o] = '\0';
}

void
ixd_notify_ready(struct ixd_notify *n, const char *fmt, ...)
{
    char buf[512] = "READY=1", status[256];
    va_list ap;

    if (n == NULL) {
        return;
    }
    va_start(ap, fmt);
    vsnprintf(status, sizeof(status), fmt, ap);
    va_end(ap);
    append_status(buf, sizeof(buf), status);
    send_text(n, buf);
    if (n->watchdog_usec > 0 && !ev_is_active(&n->watchdog)) {
        double half = (double)n->watchdog_usec / 2e6;
        ev_timer_set(&n->watchdog, half, half);
        ev_timer_start(n->loop, &n->watchdog);
        send_text(n, "WATCHDOG=1"); /* the first interval starts now, not at the first tick */
    }
}

void
ixd_notify_reloading(struct ixd_notify *n)
{
    struct timespec ts;
    char buf[128];

    if (n == NULL) {
        return;
    }
    clock_gettime(CLOCK_MONOTONIC, &ts);
    snprintf(buf, sizeof(buf), "RELOADING=1\nMONOTONIC_USEC=%llu\nSTATUS=reloading",
             (unsigned long long)ts.tv_sec * 1000000ULL + (unsigned long long)ts.tv_nsec / 1000);
    send_text(n, buf);
}

void
ixd_notify_stopping(struct ixd_notify *n)
{
    if (n == NULL) {
        return;
    }
    ev_timer_stop(n->loop, &n->watchdog);
    send_text(n, "STOPPING=1\nSTATUS=stopping");
}

void
ixd_notify_status(struct ixd_notify *n, const char *status)
{
    char buf[512] = "";

    if (n == NULL) {
        return;
    }
    append_status(buf, sizeof(buf), status);
    send_text(n, buf + 1); /* without the leading newline */
}

unsigned long long
ixd_notify_watchdog_usec(const struct ixd_notify *n)
{
    return n != NULL ? n->watchdog_usec : 0;
}
