/*
 * An IPFIX export destination's queue of finished messages (docs/internals/export.md): one
 * per destination and worker, bounded by the output's `queue` bytes, oldest first.
 */
#include "output/ipfix_export_dest.h"

#include <string.h>

#include "core/clock.h"
#include "core/log.h"
#include "core/relaxed_counter.h"
#include "ipfix/wire.h"

size_t
ixd_xqueue_cap(const struct xoutput *o)
{
    return o->cfg->queue;
}

void
ixd_xqueue_gauge(struct xdest *d)
{
    IXD_CNT_SET(d->queued, (uint64_t)(d->qtail - d->qhead + d->s.len));
}

void
ixd_xqueue_pop(struct xdest *d, int delivered)
{
    uint32_t len = ixd_get32(d->q + d->qhead), records = ixd_get32(d->q + d->qhead + 4);

    if (delivered) {
        IXD_CNT_ADD(d->messages, 1);
        IXD_CNT_ADD(d->sent, records);
        IXD_CNT_ADD(d->bytes, len);
    } else {
        IXD_CNT_ADD(d->dropped, records);
    }
    d->qhead += QPREFIX + len;
    d->qsent = 0;
    if (d->qhead == d->qtail) {
        d->qhead = d->qtail = 0;
    }
}

void
ixd_xqueue_compact(struct xdest *d)
{
    if (d->qhead > 0) {
        memmove(d->q, d->q + d->qhead, d->qtail - d->qhead);
        d->qtail -= d->qhead;
        d->qhead = 0;
    }
}

/*
 * The session's emit callback: appends a finished message. When the queue is full the newest
 * message is dropped (what is queued is older and already in order) and its records are
 * counted; the session then sends every template again before its next use if it defined any,
 * so later records stay decodable.
 */
int
ixd_xqueue_push(void *arg, const uint8_t *msg, size_t len, uint32_t records, uint32_t described,
                int templates)
{
    struct xdest *d = arg;
    struct xoutput *o = d->out;
    size_t cap = ixd_xqueue_cap(o);

    (void)templates;

    if (d->qtail + QPREFIX + len > cap) {
        ixd_xqueue_compact(d);
    }
    if (d->qtail + QPREFIX + len > cap) {
        IXD_CNT_ADD(d->dropped, records);
        ixd_log_limited(&d->errors, ixd_mono_now(), IXD_LOG_WARNING,
                        "output %s: queue for %s is full; dropping the newest messages",
                        o->base.name, d->cfg->text);
        return -1;
    }
    ixd_put32(d->q + d->qtail, (uint32_t)len);
    ixd_put32(d->q + d->qtail + 4, records);
    ixd_put32(d->q + d->qtail + 8, described);
    memcpy(d->q + d->qtail + QPREFIX, msg, len);
    d->qtail += QPREFIX + len;
    return 0;
}
