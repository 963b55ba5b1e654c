/*
 * Data sets that arrive before their template (RFC 7011 section 8: a collector may hold
 * them): copies kept per session, oldest first, bounded per session and in all, and decoded
 * when the template comes (docs/internals/templates.md).
 */
#include "ipfix/session.h"

#include <stdlib.h>
#include <string.h>

#include "ipfix/session_count.h"

void
ixd_session_drop_held(struct ixd_session *s)
{
    while (s->held != NULL) {
        struct ixd_held *h = s->held;
        s->held = h->next;
        COUNT(s, h->domain, held_dropped, 1);
        COUNT(s, h->domain, errors[IXD_ERR_NO_TEMPLATE], 1);
        s->owner->held_bytes -= h->len;
        free(h);
    }
    s->held_last = NULL;
    s->held_count = 0;
    s->held_bytes = 0;
}

int
ixd_session_hold(struct ixd_session *s, struct ixd_domain *d, uint16_t tid, const uint8_t *set,
                 size_t len, double now)
{
    struct ixd_sessions *ss = s->owner;
    const struct ixd_session_limits *l = &ss->limits;
    struct ixd_held *h;

    if (!l->hold || s->held_count >= l->held_sets_per_session ||
        s->held_bytes + len > l->held_bytes_per_session ||
        ss->held_bytes + len > l->held_bytes_total) {
        return -1;
    }
    h = malloc(sizeof(*h) + len);
    if (h == NULL) {
        return -1;
    }
    h->next = NULL;
    h->domain = d;
    h->tid = tid;
    h->since = now;
    h->source = s->source;
    h->source.late = 1;
    h->source.resolver = &d->resolver;
    h->len = len;
    memcpy(h->data, set, len);
    if (s->held_last != NULL) {
        s->held_last->next = h;
    } else {
        s->held = h;
    }
    s->held_last = h;
    s->held_count++;
    s->held_bytes += len;
    ss->held_bytes += len;
    COUNT(s, d, held_sets, 1);
    return 0;
}

struct ixd_held *
ixd_session_take_held(struct ixd_session *s, struct ixd_domain *d, uint16_t tid)
{
    struct ixd_held *out = NULL, **tail = &out, **p = &s->held, *prev = NULL;

    while (*p != NULL) {
        struct ixd_held *h = *p;
        if (h->domain == d && h->tid == tid) {
            *p = h->next;
            h->next = NULL;
            *tail = h;
            tail = &h->next;
            s->held_count--;
            s->held_bytes -= h->len;
            s->owner->held_bytes -= h->len;
        } else {
            prev = h;
            p = &h->next;
        }
    }
    s->held_last = prev;
    return out;
}

void
ixd_sessions_drop_held(struct ixd_sessions *ss)
{
    struct ixd_session *s;

    for (s = ss->session_lru.head; s != NULL; s = s->all.next) {
        ixd_session_drop_held(s);
    }
}

/* Held sets are in arrival order: the oldest are at the head. */
void
ixd_session_expire_held(struct ixd_session *s, double now)
{
    while (s->held != NULL && now - s->held->since > (double)s->owner->limits.hold_time) {
        struct ixd_held *h = s->held;
        s->held = h->next;
        s->held_count--;
        s->held_bytes -= h->len;
        s->owner->held_bytes -= h->len;
        COUNT(s, h->domain, held_dropped, 1);
        COUNT(s, h->domain, errors[IXD_ERR_NO_TEMPLATE], 1);
        free(h);
    }
    if (s->held == NULL) {
        s->held_last = NULL;
    }
}
