/* Frames between ipfixd and ipfixd-keepalived-apply (keepalived_wire.h). */
#include "ha/keepalived_wire.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "core/clock.h"

/* Waits for events on fd until deadline: 1 ready, 0 timed out, -1 error. */
static int
wait_for(int fd, short events, double deadline)
{
    for (;;) {
        struct pollfd pfd = {fd, events, 0};
        double left = deadline - ixd_mono_now();
        int rc;

        if (left <= 0) {
            return 0;
        }
        rc = poll(&pfd, 1, (int)(left * 1000) + 1);
        if (rc == -1 && errno == EINTR) {
            continue;
        }
        return rc > 0 ? 1 : rc;
    }
}

/* All of len bytes, by deadline: 0, or -1 with why. */
static int
send_all(int fd, const void *data, size_t len, double deadline, char *why, size_t whylen)
{
    const char *p = data;

    while (len > 0) {
        ssize_t n = send(fd, p, len, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n > 0) {
            p += n;
            len -= (size_t)n;
            continue;
        }
        if (n == -1 && errno == EINTR) {
            continue;
        }
        if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            int rc = wait_for(fd, POLLOUT, deadline);
            if (rc == 1) {
                continue;
            }
            snprintf(why, whylen, "%s", rc == 0 ? "timed out sending" : strerror(errno));
            return -1;
        }
        snprintf(why, whylen, "cannot send: %s", strerror(errno));
        return -1;
    }
    return 0;
}

/* Exactly len bytes, by deadline: 0, or -1 with why (a close before them is an error). */
static int
recv_all(int fd, void *data, size_t len, double deadline, char *why, size_t whylen)
{
    char *p = data;

    while (len > 0) {
        ssize_t n = recv(fd, p, len, MSG_DONTWAIT);
        if (n > 0) {
            p += n;
            len -= (size_t)n;
            continue;
        }
        if (n == 0) {
            snprintf(why, whylen, "the connection closed before a whole frame");
            return -1;
        }
        if (errno == EINTR) {
            continue;
        }
        if (errno == EAGAIN || errno == EWOULDBLOCK) {
            int rc = wait_for(fd, POLLIN, deadline);
            if (rc == 1) {
                continue;
            }
            snprintf(why, whylen, "%s", rc == 0 ? "timed out waiting" : strerror(errno));
            return -1;
        }
        snprintf(why, whylen, "cannot receive: %s", strerror(errno));
        return -1;
    }
    return 0;
}

int
ixd_ka_wire_send(int fd, const json_t *json, double deadline, char *why, size_t whylen)
{
    char *text = json_dumps(json, JSON_COMPACT);
    size_t len = text != NULL ? strlen(text) : 0;
    uint8_t head[4];
    int rc = -1;

    if (text == NULL || len > IXD_KA_WIRE_MAX) {
        snprintf(why, whylen, "%s", text == NULL ? "out of memory" : "the frame is too large");
        goto out;
    }
    head[0] = (uint8_t)(len >> 24);
    head[1] = (uint8_t)(len >> 16);
    head[2] = (uint8_t)(len >> 8);
    head[3] = (uint8_t)len;
    if (send_all(fd, head, sizeof(head), deadline, why, whylen) == 0 &&
        send_all(fd, text, len, deadline, why, whylen) == 0) {
        rc = 0;
    }
out:
    free(text);
    return rc;
}

json_t *
ixd_ka_wire_recv(int fd, size_t max, double deadline, char *why, size_t whylen)
{
    uint8_t head[4];
    json_error_t jerr;
    json_t *json;
    size_t len;
    char *buf;

    if (recv_all(fd, head, sizeof(head), deadline, why, whylen) == -1) {
        return NULL;
    }
    len = (size_t)head[0] << 24 | (size_t)head[1] << 16 | (size_t)head[2] << 8 | head[3];
    if (len > max || len == 0) {
        snprintf(why, whylen, "a frame of %zu bytes (1 to %zu taken)", len, max);
        return NULL;
    }
    buf = malloc(len);
    if (buf == NULL) {
        snprintf(why, whylen, "out of memory");
        return NULL;
    }
    if (recv_all(fd, buf, len, deadline, why, whylen) == -1) {
        free(buf);
        return NULL;
    }
    json = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &jerr);
    free(buf);
    if (json == NULL) {
        snprintf(why, whylen, "the frame is not JSON: %s", jerr.text);
    }
    return json;
}

json_t *
ixd_ka_wire_call(const char *path, const json_t *request, double timeout, char *why, size_t whylen)
{
    struct sockaddr_un sun;
    double deadline = ixd_mono_now() + timeout;
    json_t *answer = NULL;
    int fd;

    memset(&sun, 0, sizeof(sun));
    sun.sun_family = AF_UNIX;
    if (strlen(path) >= sizeof(sun.sun_path)) {
        snprintf(why, whylen, "the socket path %s is too long", path);
        return NULL;
    }
    memcpy(sun.sun_path, path, strlen(path));
    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd == -1) {
        snprintf(why, whylen, "socket: %s", strerror(errno));
        return NULL;
    }
    /* a Unix socket connects at once or not at all: EAGAIN is a full backlog */
    if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1) {
        snprintf(why, whylen, "cannot connect to %s: %s", path,
                 errno == EAGAIN ? "too many connections wait for the helper" : strerror(errno));
        goto out;
    }
    if (ixd_ka_wire_send(fd, request, deadline, why, whylen) == 0) {
        answer = ixd_ka_wire_recv(fd, IXD_KA_WIRE_MAX, deadline, why, whylen);
    }
out:
    close(fd);
    return answer;
}
