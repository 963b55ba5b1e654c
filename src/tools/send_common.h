/* Shared helpers for ipfixd-send: big-endian accessors and a growable message list. */
#ifndef IXD_SEND_COMMON_H
#define IXD_SEND_COMMON_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/uio.h>

#define SEND_PROG "ipfixd-send"

/* Largest IPFIX message: the header's length field is 16 bits. */
#define IPFIX_MAX_MSG 65535u
#define IPFIX_HDR_LEN 16u
#define IPFIX_VERSION 10u

static inline void
put_be16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static inline void
put_be32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

static inline void
put_be64(uint8_t *p, uint64_t v)
{
    put_be32(p, (uint32_t)(v >> 32));
    put_be32(p + 4, (uint32_t)v);
}

static inline uint16_t
get_be16(const uint8_t *p)
{
    return (uint16_t)((p[0] << 8) | p[1]);
}

static inline uint32_t
get_be32(const uint8_t *p)
{
    return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}

/* Messages to replay, each pointing into a file buffer that outlives the list. */
struct msg_list {
    struct iovec *v;
    size_t n;
    size_t cap;
};

static inline int
msg_list_push(struct msg_list *l, const uint8_t *data, size_t len)
{
    if (l->n == l->cap) {
        size_t ncap = l->cap ? l->cap * 2 : 64;
        struct iovec *nv = realloc(l->v, ncap * sizeof(*nv));
        if (!nv)
            return -1;
        l->v = nv;
        l->cap = ncap;
    }
    /* iovec wants a non-const pointer; the data is only ever read. */
    l->v[l->n].iov_base = (void *)(uintptr_t)data;
    l->v[l->n].iov_len = len;
    l->n++;
    return 0;
}

#endif
