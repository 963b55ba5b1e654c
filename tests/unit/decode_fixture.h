/*
 * Shared fixture of test_decode.c and test_session.c: a registry, one collector's sessions,
 * a decoder whose deliver callback copies every record it is handed, and message builders.
 */
#ifndef IXD_TEST_DECODE_FIXTURE_H
#define IXD_TEST_DECODE_FIXTURE_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ipfix/decode.h"
#include "ipfix/ie.h"
#include "ipfix/wire.h"
#include "ipfix_build.h"

#define LIFETIME 1800
#define T0 1000.0
#define CAP_MAX 1024
#define CAP_FIELDS 8
#define CAP_DATA 512

struct cap_rec {
    uint16_t tid;
    uint32_t len;
    uint16_t nf;
    uint16_t off[CAP_FIELDS];
    uint16_t flen[CAP_FIELDS];
    uint8_t data[CAP_DATA];
};

/* What the deliver callback saw, copied (records are valid only during the call). */
struct cap {
    size_t n, calls, bad_pointers;
    size_t batch_sizes[16];
    struct ixd_source src;
    struct cap_rec r[CAP_MAX];
};

static struct ixd_ie_registry *registry;
static struct ixd_template_rules rules;
static struct ixd_sessions ss;
static struct ixd_session *sess, *tcp_sess;
static struct ixd_decoder *dec;
static struct cap *cap;
static struct ib m;
static const uint8_t *msg_lo, *msg_hi;

static inline void
deliver(void *arg, const struct ixd_batch *b)
{
    size_t i;

    if (cap->calls < 16) {
        cap->batch_sizes[cap->calls] = b->count;
    }
    cap->calls++;
    cap->src = *b->source;
    for (i = 0; i < b->count && cap->n < CAP_MAX; i++) {
        const struct ixd_record *r = &b->records[i];
        struct cap_rec *c = &cap->r[cap->n++];
        unsigned f;

        if (r->data < msg_lo || r->data + r->length > msg_hi) {
            cap->bad_pointers++;
            continue;
        }
        c->tid = r->tmpl->id;
        c->len = r->length;
        c->nf = r->tmpl->field_count < CAP_FIELDS ? r->tmpl->field_count : CAP_FIELDS;
        for (f = 0; f < c->nf; f++) {
            uint16_t len;
            const uint8_t *p = ixd_record_field(r, f, &len);
            c->off[f] = (uint16_t)(p - r->data);
            c->flen[f] = len;
            if (p < r->data || p + len > r->data + r->length) {
                cap->bad_pointers++;
            }
        }
        memcpy(c->data, r->data, r->length < CAP_DATA ? r->length : CAP_DATA);
    }
}

static inline uint64_t
cap_uint(size_t i, unsigned f)
{
    return ixd_get_uint(cap->r[i].data + cap->r[i].off[f], cap->r[i].flen[f]);
}

static inline int
group_setup(void **state)
{
    char err[256];

    registry = ixd_ie_registry_new(NULL, 0, err, sizeof(err));
    dec = malloc(sizeof(*dec));
    cap = malloc(sizeof(*cap));
    return registry != NULL && dec != NULL && cap != NULL ? 0 : -1;
}

static inline int
group_teardown(void **state)
{
    ixd_ie_registry_free(registry);
    free(dec);
    free(cap);
    return 0;
}

static inline struct sockaddr_in
exporter_addr(void)
{
    struct sockaddr_in sin;

    memset(&sin, 0, sizeof(sin));
    sin.sin_family = AF_INET;
    sin.sin_port = htons(5000);
    sin.sin_addr.s_addr = htonl(0xc0000201); /* 192.0.2.1 */
    return sin;
}

/* Sessions with the default limits but templates_per_session, and holding as asked. */
static inline void
start_with(int tcp, uint32_t templates_per_session, int hold)
{
    struct sockaddr_in sin = exporter_addr();
    struct ixd_session_limits limits;

    ixd_session_limits_default(&limits);
    limits.template_lifetime = LIFETIME;
    limits.templates_per_session = templates_per_session;
    limits.hold = hold;
    rules.registry = registry;
    rules.max_fields = 512;
    rules.max_record = 0;
    ixd_sessions_init(&ss, "c1", tcp, &rules, &limits);
    if (tcp) {
        tcp_sess = sess = ixd_session_tcp(&ss, (const struct sockaddr *)&sin, T0);
    } else {
        sess = ixd_session_udp(&ss, (const struct sockaddr *)&sin, T0);
    }
    assert_non_null(sess);
    ixd_decoder_init(dec, deliver, NULL);
    memset(cap, 0, sizeof(*cap));
}

/* Without holding: data before its template is counted as no_template at once. */
static inline void
start(int tcp, uint32_t templates_per_session)
{
    start_with(tcp, templates_per_session, 0);
}

static inline int
setup_udp(void **state)
{
    start(0, 4096);
    return 0;
}

static inline int
setup_tcp(void **state)
{
    start(1, 4096);
    return 0;
}

static inline int
teardown(void **state)
{
    ixd_session_free(tcp_sess);
    tcp_sess = NULL;
    ixd_sessions_release(&ss);
    return 0;
}

static inline int
process_at(double now)
{
    msg_lo = m.buf;
    msg_hi = m.buf + m.len;
    return ixd_message_process(dec, sess, m.buf, m.len, now, 1700000000123456LL);
}

static inline int
process(void)
{
    return process_at(T0);
}

/* Template 256: sourceIPv4Address, destinationIPv4Address, octetDeltaCount (16 bytes). */
static inline void
set_template_256(struct ib *b)
{
    size_t s = ib_set_begin(b, IXD_SET_TEMPLATE);

    ib_template(b, 256, 3);
    ib_field(b, 8, 4);
    ib_field(b, 12, 4);
    ib_field(b, 1, 8);
    ib_set_end(b, s);
}

/* n records of template 256; record i has source 10.0.0.(base+i) and octets 1000*(base+i). */
static inline void
set_data_256(struct ib *b, unsigned n, unsigned base)
{
    size_t s = ib_set_begin(b, 256);
    unsigned i;

    for (i = 0; i < n; i++) {
        ib_u32(b, 0x0a000000u + base + i);
        ib_u32(b, 0xc0a80001u);
        ib_u64(b, 1000u * (base + i));
    }
    ib_set_end(b, s);
}

static inline void
msg_template_256(uint32_t seq, uint32_t odid)
{
    ib_msg_begin(&m, 1700000000u, seq, odid);
    set_template_256(&m);
    ib_msg_end(&m);
}

static inline void
msg_data_256(uint32_t seq, uint32_t odid, unsigned n, unsigned base)
{
    ib_msg_begin(&m, 1700000000u, seq, odid);
    set_data_256(&m, n, base);
    ib_msg_end(&m);
}

static inline void
msg_both_256(uint32_t seq, uint32_t odid, unsigned n)
{
    ib_msg_begin(&m, 1700000000u, seq, odid);
    set_template_256(&m);
    set_data_256(&m, n, 0);
    ib_msg_end(&m);
}

#endif
