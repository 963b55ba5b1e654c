/* Addresses written by people (listen addresses, allow-list prefixes) and their comparisons.
 * IPv4 is handled as IPv4-mapped IPv6 throughout, so one comparison serves both families. */
#ifndef IXD_CORE_ADDRESS_H
#define IXD_CORE_ADDRESS_H

#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>


/* An address prefix over IPv4-mapped IPv6 (an IPv4 /8 is stored as /104). */
struct ixd_prefix {
    struct in6_addr addr;
    uint8_t bits;
};

/* The address of sa as IPv6 (IPv4 mapped) and its port (port may be NULL). */
void ixd_address_mapped(const struct sockaddr *sa, struct in6_addr *addr, uint16_t *port);

/* "10.0.0.0/8", "2001:db8::/32", or a single address. 0, or -1 with a message. */
int ixd_prefix_parse(const char *text, struct ixd_prefix *p, char *err, size_t errlen);
/* 1 when sa falls in one of the n prefixes. */
int ixd_prefix_match(const struct ixd_prefix *list, size_t n, const struct sockaddr *sa);
/* 1 when a (IPv6, IPv4 mapped) lies in p. */
int ixd_prefix_contains(const struct ixd_prefix *p, const struct in6_addr *a);

/* An address to listen on, as written: "HOST:PORT", "[IPV6]:PORT", "*:PORT" or ":PORT". */
struct ixd_listen_addr {
    char text[128];               /* as written, for messages */
    struct sockaddr_storage addr; /* numeric: names are not resolved */
    socklen_t addrlen;
    int any; /* "*": IPv6 dual-stack, IPv4 if the host has no IPv6 */
};

/* Parses text into l. 0, or -1 with a message. */
int ixd_listen_addr_parse(const char *text, struct ixd_listen_addr *l, char *err, size_t errlen);
/* 1 when sockets of one transport on a and b would receive the same packets (same port, and
 * equal addresses or a wildcard on either side). */
int ixd_listen_addr_overlaps(const struct ixd_listen_addr *a, const struct ixd_listen_addr *b);

#endif
