#include "ipfix/clock_offset.h"

#include <stddef.h>

int
ixd_clock_offset_get(const struct ixd_clock_offset *o, int64_t now_usec, int64_t *offset_usec)
{
    int64_t now = now_usec / IXD_CLOCK_BUCKET_USEC, best = 0;
    int found = 0;
    size_t i;

    for (i = 0; i < IXD_CLOCK_BUCKETS; i++) {
        /* a bucket from after now is left from before our own clock was stepped back */
        if (o->bucket[i] == 0 || o->bucket[i] > now || o->bucket[i] <= now - IXD_CLOCK_BUCKETS) {
            continue;
        }
        if (!found || o->most[i] > best) {
            best = o->most[i];
            found = 1;
        }
    }
    if (!found) {
        return -1;
    }
    *offset_usec = best;
    return 0;
}

void
ixd_clock_offset_add(struct ixd_clock_offset *o, uint32_t export_time, int64_t received_usec)
{
    int64_t b, v;
    size_t slot;

    if (export_time == 0 || received_usec <= 0) {
        return;
    }
    b = received_usec / IXD_CLOCK_BUCKET_USEC;
    v = (int64_t)export_time * 1000000 - received_usec;
    slot = (size_t)(b % IXD_CLOCK_BUCKETS);
    if (o->bucket[slot] != b) {
        o->bucket[slot] = b;
        o->most[slot] = v;
    } else if (v > o->most[slot]) {
        o->most[slot] = v;
    }
    o->samples++;
    o->known = ixd_clock_offset_get(o, received_usec, &o->offset_usec) == 0;
}
