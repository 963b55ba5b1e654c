#include "core/address.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/parse.h"

void
ixd_address_mapped(const struct sockaddr *sa, struct in6_addr *addr, uint16_t *port)
{
    memset(addr, 0, sizeof(*addr));
    if (sa->sa_family == AF_INET) {
        const struct sockaddr_in *sin = (const struct sockaddr_in *)(const void *)sa;
        addr->s6_addr[10] = 0xff;
        addr->s6_addr[11] = 0xff;
        memcpy(&addr->s6_addr[12], &sin->sin_addr, 4);
        if (port != NULL) {
            *port = ntohs(sin->sin_port);
        }
    } else {
        const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)(const void *)sa;
        *addr = sin6->sin6_addr;
        if (port != NULL) {
            *port = ntohs(sin6->sin6_port);
        }
    }
}

/* The address as IPv6 (IPv4 mapped), so that 10.0.0.1 and [::ffff:10.0.0.1] compare equal. */
static void
mapped_address(const struct ixd_listen_addr *c, struct in6_addr *out)
{
    memset(out, 0, sizeof(*out));
    if (c->addr.ss_family == AF_INET) {
        out->s6_addr[10] = 0xff;
        out->s6_addr[11] = 0xff;
        memcpy(&out->s6_addr[12], &((const struct sockaddr_in *)&c->addr)->sin_addr, 4);
    } else {
        *out = ((const struct sockaddr_in6 *)&c->addr)->sin6_addr;
    }
}

static int
wildcard(const struct ixd_listen_addr *c)
{
    if (c->any) {
        return 1;
    }
    if (c->addr.ss_family == AF_INET) {
        return ((const struct sockaddr_in *)&c->addr)->sin_addr.s_addr == htonl(INADDR_ANY);
    }
    return IN6_IS_ADDR_UNSPECIFIED(&((const struct sockaddr_in6 *)&c->addr)->sin6_addr);
}

static uint16_t
port_of(const struct ixd_listen_addr *c)
{
    return c->addr.ss_family == AF_INET ? ((const struct sockaddr_in *)&c->addr)->sin_port
                                        : ((const struct sockaddr_in6 *)&c->addr)->sin6_port;
}

/*
 * Two collectors whose sockets would receive the same packets. With SO_REUSEPORT the kernel
 * would split an exporter's traffic between them instead of refusing the second bind.
 */
int
ixd_listen_addr_overlaps(const struct ixd_listen_addr *a, const struct ixd_listen_addr *b)
{
    if (port_of(a) != port_of(b)) {
        return 0;
    }
    if (wildcard(a) || wildcard(b)) {
        return 1;
    }
    {
        struct in6_addr x, y;
        mapped_address(a, &x);
        mapped_address(b, &y);
        return memcmp(&x, &y, sizeof(x)) == 0;
    }
}

int
ixd_listen_addr_parse(const char *text, struct ixd_listen_addr *c, char *err, size_t errlen)
{
    char host[128];
    const char *colon, *port_text;
    size_t hostlen;
    uint64_t port;

    if (strlen(text) >= sizeof(c->text)) {
        snprintf(err, errlen, "listen address is too long");
        return -1;
    }
    if (text[0] == '[') {
        const char *end = strchr(text, ']');
        if (end == NULL || end[1] != ':') {
            snprintf(err, errlen, "listen must look like [ADDRESS]:PORT, not '%s'", text);
            return -1;
        }
        hostlen = (size_t)(end - text - 1);
        memcpy(host, text + 1, hostlen);
        host[hostlen] = '\0';
        port_text = end + 2;
    } else {
        colon = strrchr(text, ':');
        if (colon == NULL || strchr(text, ':') != colon) {
            snprintf(err, errlen, "listen must be ADDRESS:PORT, [IPV6]:PORT or *:PORT, not '%s'",
                     text);
            return -1;
        }
        hostlen = (size_t)(colon - text);
        memcpy(host, text, hostlen);
        host[hostlen] = '\0';
        port_text = colon + 1;
    }
    if (ixd_parse_u64(port_text, &port) == -1 || port == 0 || port > 65535) {
        snprintf(err, errlen, "port must be 1 to 65535, not '%s'", port_text);
        return -1;
    }
    memset(&c->addr, 0, sizeof(c->addr));
    c->any = 0;
    if (hostlen == 0 || strcmp(host, "*") == 0) {
        struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&c->addr;
        c->any = 1;
        sin6->sin6_family = AF_INET6;
        sin6->sin6_addr = in6addr_any;
        sin6->sin6_port = htons((uint16_t)port);
        c->addrlen = sizeof(*sin6);
    } else if (strchr(host, ':') != NULL) {
        struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&c->addr;
        if (inet_pton(AF_INET6, host, &sin6->sin6_addr) != 1) {
            snprintf(err, errlen, "'%s' is not an IPv6 address", host);
            return -1;
        }
        sin6->sin6_family = AF_INET6;
        sin6->sin6_port = htons((uint16_t)port);
        c->addrlen = sizeof(*sin6);
    } else {
        struct sockaddr_in *sin = (struct sockaddr_in *)&c->addr;
        if (inet_pton(AF_INET, host, &sin->sin_addr) != 1) {
            snprintf(err, errlen, "'%s' is not an IPv4 address (names are not resolved)", host);
            return -1;
        }
        sin->sin_family = AF_INET;
        sin->sin_port = htons((uint16_t)port);
        c->addrlen = sizeof(*sin);
    }
    snprintf(c->text, sizeof(c->text), "%s", text);
    return 0;
}

int
ixd_prefix_parse(const char *text, struct ixd_prefix *p, char *err, size_t errlen)
{
    char host[64];
    const char *slash = strchr(text, '/');
    size_t hostlen = slash != NULL ? (size_t)(slash - text) : strlen(text);
    uint64_t bits;
    int v4;

    if (hostlen == 0 || hostlen >= sizeof(host)) {
        snprintf(err, errlen, "'%s' is not an address or prefix", text);
        return -1;
    }
    memcpy(host, text, hostlen);
    host[hostlen] = '\0';
    memset(p, 0, sizeof(*p));
    v4 = strchr(host, ':') == NULL;
    if (v4) {
        p->addr.s6_addr[10] = 0xff;
        p->addr.s6_addr[11] = 0xff;
        if (inet_pton(AF_INET, host, &p->addr.s6_addr[12]) != 1) {
            snprintf(err, errlen, "'%s' is not an IPv4 address", host);
            return -1;
        }
    } else if (inet_pton(AF_INET6, host, &p->addr) != 1) {
        snprintf(err, errlen, "'%s' is not an IPv6 address", host);
        return -1;
    }
    bits = v4 ? 32 : 128;
    if (slash != NULL && (ixd_parse_u64(slash + 1, &bits) == -1 || bits > (v4 ? 32u : 128u))) {
        snprintf(err, errlen, "prefix length of '%s' must be 0 to %d", text, v4 ? 32 : 128);
        return -1;
    }
    p->bits = (uint8_t)(v4 ? bits + 96 : bits);
    return 0;
}

int
ixd_prefix_match(const struct ixd_prefix *list, size_t n, const struct sockaddr *sa)
{
    struct in6_addr a;
    size_t i;

    ixd_address_mapped(sa, &a, NULL);
    for (i = 0; i < n; i++) {
        if (ixd_prefix_contains(&list[i], &a)) {
            return 1;
        }
    }
    return 0;
}

int
ixd_prefix_contains(const struct ixd_prefix *p, const struct in6_addr *a)
{
    unsigned full = p->bits / 8, rest = p->bits % 8;

    if (memcmp(a, &p->addr, full) != 0) {
        return 0;
    }
    return rest == 0 || ((a->s6_addr[full] ^ p->addr.s6_addr[full]) >> (8 - rest)) == 0;
}
