/* Shared helpers for ipfixd-send: a growable message list (wire bytes: ipfix/wire.h). */
#ifndef IXD_SEND_COMMON_H
#define IXD_SEND_COMMON_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/uio.h>

#include "ipfix/wire.h"

#define SEND_PROG "ipfixd-send"

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
