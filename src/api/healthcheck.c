/*
 * `ipfixd healthcheck`: GET /ready over plain HTTP/1.0 with a short timeout, for container
 * health checks and keepalived track scripts (slim images have no curl). HTTPS APIs are
 * checked with --url against a plain listener or with curl: no TLS client here.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "api/api.h"
#include "core/parse.h"

#define TIMEOUT_MS 3000

/* Parses "http://HOST:PORT[/PATH]" (HOST numeric, IPv6 in brackets) into addr and path. */
static int
parse_url(const char *url, struct sockaddr_storage *addr, socklen_t *addrlen, char *path,
          size_t pathlen, char *err, size_t errlen)
{
    struct ixd_listen_addr tmp;
    const char *rest, *slash;
    char hostport[160];
    size_t len;

    if (strncmp(url, "http://", 7) != 0) {
        snprintf(err, errlen, "--url must start with http:// (not '%s')", url);
        return -1;
    }
    rest = url + 7;
    slash = strchr(rest, '/');
    len = slash != NULL ? (size_t)(slash - rest) : strlen(rest);
    if (len == 0 || len >= sizeof(hostport)) {
        snprintf(err, errlen, "--url '%s' has no HOST:PORT", url);
        return -1;
    }
    memcpy(hostport, rest, len);
    hostport[len] = '\0';
    memset(&tmp, 0, sizeof(tmp));
    if (ixd_listen_addr_parse(hostport, &tmp, err, errlen) == -1) {
        return -1;
    }
    if (tmp.any) {
        snprintf(err, errlen, "--url needs an address to connect to, not '%s'", hostport);
        return -1;
    }
    *addr = tmp.addr;
    *addrlen = tmp.addrlen;
    snprintf(path, pathlen, "%s", slash != NULL ? slash : "/ready");
    return 0;
}

static int
wait_for(int fd, short events)
{
    struct pollfd p = {.fd = fd, .events = events};
    int r;

    do {
        r = poll(&p, 1, TIMEOUT_MS);
    } while (r == -1 && errno == EINTR);
    return r == 1 ? 0 : -1;
}

/* The HTTP status of GET path at addr, or -1 (err set). */
static int
get_status(const struct sockaddr_storage *addr, socklen_t addrlen, const char *path, char *err,
           size_t errlen)
{
    char req[512], resp[256];
    size_t got = 0;
    int fd, status = -1;

    fd = socket(addr->ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd == -1) {
        snprintf(err, errlen, "cannot open a socket: %s", strerror(errno));
        return -1;
    }
    if (connect(fd, (const struct sockaddr *)addr, addrlen) == -1 && errno != EINPROGRESS) {
        snprintf(err, errlen, "cannot connect: %s", strerror(errno));
        goto done;
    }
    if (wait_for(fd, POLLOUT) == -1) {
        snprintf(err, errlen, "cannot connect: timed out");
        goto done;
    }
    {
        int soerr = 0;
        socklen_t len = sizeof(soerr);
        if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &len) == -1 || soerr != 0) {
            snprintf(err, errlen, "cannot connect: %s", strerror(soerr != 0 ? soerr : errno));
            goto done;
        }
    }
    snprintf(req, sizeof(req), "GET %s HTTP/1.0\r\nHost: localhost\r\nUser-Agent: ipfixd\r\n\r\n",
             path);
    if (send(fd, req, strlen(req), MSG_NOSIGNAL) != (ssize_t)strlen(req)) {
        snprintf(err, errlen, "cannot send the request: %s", strerror(errno));
        goto done;
    }
    while (got < 12 && wait_for(fd, POLLIN) == 0) {
        ssize_t n = recv(fd, resp + got, sizeof(resp) - 1 - got, 0);
        if (n <= 0) {
            break;
        }
        got += (size_t)n;
    }
    resp[got] = '\0';
    if (got < 12 || strncmp(resp, "HTTP/1.", 7) != 0) {
        snprintf(err, errlen, "no HTTP answer");
        goto done;
    }
    {
        char *end;
        long v = strtol(resp + 9, &end, 10);
        status = end == resp + 12 && v >= 100 && v <= 599 ? (int)v : -1;
    }
    if (status == -1) {
        snprintf(err, errlen, "no HTTP status in the answer");
    }
done:
    close(fd);
    return status;
}

int
ixd_api_healthcheck(const struct ixd_config_api *cfg, const char *url, char *err, size_t errlen)
{
    struct sockaddr_storage addr;
    socklen_t addrlen;
    char path[256];
    int status;

    err[0] = '\0';
    if (url != NULL) {
        if (parse_url(url, &addr, &addrlen, path, sizeof(path), err, errlen) == -1) {
            return 1;
        }
    } else {
        if (!cfg->enabled) {
            snprintf(err, errlen, "the API is disabled in the config: nothing to ask");
            return 1;
        }
        if (cfg->certificate[0] != '\0') {
            snprintf(err, errlen, "the API speaks HTTPS: check it with --url or curl");
            return 1;
        }
        addr = cfg->addr;
        addrlen = cfg->addrlen;
        snprintf(path, sizeof(path), "/ready");
    }
    status = get_status(&addr, addrlen, path, err, errlen);
    if (status == 200) {
        return 0;
    }
    if (status > 0) {
        snprintf(err, errlen, "not ready: HTTP %d", status);
    }
    return 1;
}
