#include "net/framer.h"

#include <string.h>

#define HEADER 16
#define VERSION 10

void
ixd_framer_init(struct ixd_framer *f)
{
    f->start = 0;
    f->have = 0;
}

uint8_t *
ixd_framer_space(struct ixd_framer *f, size_t *room)
{
    if (f->start > 0) {
        memmove(f->buf, f->buf + f->start, f->have - f->start);
        f->have -= f->start;
        f->start = 0;
    }
    *room = sizeof(f->buf) - f->have;
    return f->buf + f->have;
}

void
ixd_framer_commit(struct ixd_framer *f, size_t n)
{
    f->have += n;
}

int
ixd_framer_next(struct ixd_framer *f, const uint8_t **msg, size_t *len)
{
    const uint8_t *p = f->buf + f->start;
    size_t avail = f->have - f->start, mlen;

    if (avail < 4) {
        /* the version is checkable from 2 bytes: fail early on a non-IPFIX stream */
        if (avail >= 2 && ((p[0] << 8) | p[1]) != VERSION) {
            return -1;
        }
        return 0;
    }
    mlen = (size_t)((p[2] << 8) | p[3]);
    if (((p[0] << 8) | p[1]) != VERSION || mlen < HEADER) {
        return -1;
    }
    if (avail < mlen) {
        return 0;
    }
    *msg = p;
    *len = mlen;
    f->start += mlen;
    return 1;
}

size_t
ixd_framer_pending(const struct ixd_framer *f)
{
    return f->have - f->start;
}
