/*
 * Bounded state: data held before its template, template and session limits with
 * least-recently-used eviction, the domain limit. Each case drives ixd_message_process with
 * crafted messages from one or more exporters and checks records and counters.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include "ipfix/decode.h"
#include "ipfix/ie.h"
#include "ipfix/wire.h"
#include "ipfix_build.h"

#define T0 1000.0

static struct ixd_ie_registry *registry;
static struct ixd_sessions ss;
static struct ixd_decoder *dec;
static struct ixd_session_limits limits;
static struct ib m;
static unsigned delivered, delivered_late;
static uint64_t last_octets;

static void
deliver(void *arg, const struct ixd_batch *b)
{
    size_t i;

    for (i = 0; i < b->count; i++) {
        uint16_t len;
        const uint8_t *p = ixd_record_field(&b->records[i], 2, &len);
        last_octets = ixd_get_uint(p, len);
        delivered++;
        delivered_late += b->source->late;
    }
}

static int
setup(void **state)
{
    char err[256];

    registry = ixd_ie_registry_new(NULL, 0, err, sizeof(err));
    dec = calloc(1, sizeof(*dec));
    ixd_session_limits_default(&limits);
    delivered = delivered_late = 0;
    return registry != NULL && dec != NULL ? 0 : -1;
}

static int
teardown(void **state)
{
    ixd_sessions_release(&ss);
    ixd_ie_registry_free(registry);
    free(dec);
    return 0;
}

static void
begin(void)
{
    struct ixd_template_rules rules = {registry, 512, 0};

    ixd_sessions_init(&ss, "c", 0, &rules, &limits);
    ixd_decoder_init(dec, deliver, NULL);
}

static struct ixd_session *
exporter(uint32_t addr, uint16_t port)
{
    struct sockaddr_in sin;

    memset(&sin, 0, sizeof(sin));
    sin.sin_family = AF_INET;
    sin.sin_port = htons(port);
    sin.sin_addr.s_addr = htonl(addr);
    return ixd_session_udp(&ss, (const struct sockaddr *)&sin, T0);
}

/* Template tid: sourceIPv4Address, destinationIPv4Address, octetDeltaCount (16 bytes). */
static void
put_template(uint16_t tid)
{
    size_t s = ib_set_begin(&m, IXD_SET_TEMPLATE);

    ib_template(&m, tid, 3);
    ib_field(&m, 8, 4);
    ib_field(&m, 12, 4);
    ib_field(&m, 1, 8);
    ib_set_end(&m, s);
}

static void
put_data(uint16_t tid, unsigned n, uint64_t octets)
{
    size_t s = ib_set_begin(&m, tid);
    unsigned i;

    for (i = 0; i < n; i++) {
        ib_u32(&m, 0x0a000001u);
        ib_u32(&m, 0xc0a80001u);
        ib_u64(&m, octets + i);
    }
    ib_set_end(&m, s);
}

static int
send_template(struct ixd_session *s, uint32_t odid, uint16_t tid, double now)
{
    ib_msg_begin(&m, 1700000000u, 0, odid);
    put_template(tid);
    ib_msg_end(&m);
    return ixd_message_process(dec, s, m.buf, m.len, now, 0);
}

static int
send_data(struct ixd_session *s, uint32_t odid, uint16_t tid, unsigned n, uint64_t octets,
          double now)
{
    ib_msg_begin(&m, 1700000000u, 0, odid);
    put_data(tid, n, octets);
    ib_msg_end(&m);
    return ixd_message_process(dec, s, m.buf, m.len, now, 0);
}

/* RFC 7011 8: data may precede its template; held, it decodes when the template comes */
static void
held_data_decodes_when_template_arrives(void **state)
{
    struct ixd_session *s;

    begin();
    s = exporter(0xc0000201, 5000);
    assert_int_equal(send_data(s, 1, 300, 3, 70, T0), 0);
    assert_int_equal(delivered, 0);
    assert_int_equal(ss.counters.held_sets, 1);
    assert_int_equal(ss.counters.errors[IXD_ERR_NO_TEMPLATE], 0);
    send_template(s, 1, 300, T0 + 1);
    assert_int_equal(delivered, 3);
    assert_int_equal(delivered_late, 3);
    assert_int_equal(last_octets, 72);
    assert_int_equal(ss.counters.late_records, 3);
    assert_int_equal(ss.counters.records, 3);
    /* afterwards records are not late */
    send_data(s, 1, 300, 1, 99, T0 + 2);
    assert_int_equal(delivered, 4);
    assert_int_equal(delivered_late, 3);
}

static void
held_data_of_another_domain_waits_for_its_own_template(void **state)
{
    struct ixd_session *s;

    begin();
    s = exporter(0xc0000201, 5000);
    send_data(s, 2, 300, 2, 10, T0);
    send_template(s, 1, 300, T0); /* the same ID in domain 1 does not release domain 2's */
    assert_int_equal(delivered, 0);
    send_template(s, 2, 300, T0);
    assert_int_equal(delivered, 2);
}

static void
held_data_ages_out_and_is_counted(void **state)
{
    struct ixd_session *s;

    limits.hold_time = 5;
    begin();
    s = exporter(0xc0000201, 5000);
    send_data(s, 1, 300, 2, 1, T0);
    ixd_sessions_expire(&ss, T0 + 3);
    assert_int_equal(ss.counters.held_dropped, 0);
    ixd_sessions_expire(&ss, T0 + 6);
    assert_int_equal(ss.counters.held_dropped, 1);
    assert_int_equal(ss.counters.errors[IXD_ERR_NO_TEMPLATE], 1);
    send_template(s, 1, 300, T0 + 7);
    assert_int_equal(delivered, 0);
}

static void
holding_is_bounded_per_session(void **state)
{
    struct ixd_session *s;
    unsigned i;

    limits.held_sets_per_session = 4;
    begin();
    s = exporter(0xc0000201, 5000);
    for (i = 0; i < 10; i++) {
        send_data(s, 1, 300, 1, i, T0);
    }
    assert_int_equal(ss.counters.held_sets, 4);
    assert_int_equal(ss.counters.held_dropped, 6);
    assert_int_equal(ss.counters.errors[IXD_ERR_NO_TEMPLATE], 6);
    send_template(s, 1, 300, T0);
    assert_int_equal(delivered, 4);
}

static void
holding_off_counts_at_once(void **state)
{
    struct ixd_session *s;

    limits.hold = 0;
    begin();
    s = exporter(0xc0000201, 5000);
    send_data(s, 1, 300, 1, 1, T0);
    assert_int_equal(ss.counters.held_sets, 0);
    assert_int_equal(ss.counters.errors[IXD_ERR_NO_TEMPLATE], 1);
    send_template(s, 1, 300, T0);
    assert_int_equal(delivered, 0);
}

/* A source flooding templates over ports and domains evicts its own, never another's. */
static void
template_flood_evicts_only_the_flooder(void **state)
{
    struct ixd_session *good, *bad;
    unsigned i;

    limits.templates_per_exporter = 100;
    limits.templates_total = 150;
    begin();
    good = exporter(0xc0000201, 5000);
    send_template(good, 1, 256, T0);
    for (i = 0; i < 5000; i++) {
        bad = exporter(0xc0000266, (uint16_t)(10000 + i % 50));
        send_template(bad, i % 7, (uint16_t)(256 + i % 3000), T0);
        if (i % 100 == 0) {
            assert_int_equal(send_data(good, 1, 256, 1, i, T0), 1);
        }
    }
    assert_int_equal(send_data(good, 1, 256, 1, 7, T0), 1);
    assert_true(ss.templates <= 150);
    assert_true(ss.counters.templates_evicted > 4000);
    assert_int_equal(ss.counters.errors[IXD_ERR_NO_TEMPLATE], 0);
}

static void
template_total_evicts_least_recently_used(void **state)
{
    struct ixd_session *a, *b, *c;

    limits.templates_total = 2;
    begin();
    a = exporter(0xc0000201, 1);
    b = exporter(0xc0000202, 1);
    c = exporter(0xc0000203, 1);
    send_template(a, 1, 256, T0);
    send_template(b, 1, 256, T0);
    send_data(a, 1, 256, 1, 1, T0); /* a's is now the more recently used */
    send_template(c, 1, 256, T0);   /* evicts b's */
    assert_int_equal(ss.counters.templates_evicted, 1);
    assert_int_equal(send_data(a, 1, 256, 1, 1, T0), 1);
    assert_int_equal(send_data(c, 1, 256, 1, 1, T0), 1);
    limits.hold = 0;
    ss.limits.hold = 0;
    assert_int_equal(send_data(b, 1, 256, 1, 1, T0), 0);
}

static void
template_memory_is_bounded(void **state)
{
    struct ixd_session *a;
    unsigned i;

    limits.template_memory = 4096;
    begin();
    a = exporter(0xc0000201, 1);
    for (i = 0; i < 200; i++) {
        send_template(a, 1, (uint16_t)(256 + i), T0);
    }
    assert_true(ss.template_bytes <= 4096);
    assert_true(ss.counters.templates_evicted > 150);
}

static void
sessions_per_exporter_evict_the_oldest_port(void **state)
{
    struct ixd_session *other;
    unsigned i;

    limits.sessions_per_exporter = 8;
    begin();
    other = exporter(0xc0000201, 1);
    send_template(other, 1, 256, T0);
    for (i = 0; i < 100; i++) {
        struct ixd_session *s = exporter(0xc0000266, (uint16_t)(2000 + i));
        send_template(s, 1, 256, T0);
    }
    assert_int_equal(ss.counters.sessions_evicted, 92);
    assert_int_equal(g_hash_table_size(ss.udp), 9);
    assert_int_equal(send_data(other, 1, 256, 1, 1, T0), 1);
}

static void
sessions_total_evict_least_recently_used(void **state)
{
    unsigned i;

    limits.sessions_total = 10;
    begin();
    for (i = 0; i < 30; i++) {
        exporter(0xc0000200 + i, 1);
    }
    assert_int_equal(g_hash_table_size(ss.udp), 10);
    assert_int_equal(ss.counters.sessions_evicted, 20);
}

/* a spoofed-source flood: exporters without sessions are kept for their counters, but bounded */
static void
exporters_without_sessions_are_bounded(void **state)
{
    unsigned i;

    limits.sessions_total = 10;
    begin();
    for (i = 0; i < 1000; i++) {
        exporter(0x0a000000u + i, 1);
    }
    assert_int_equal(g_hash_table_size(ss.udp), 10);
    assert_true(g_hash_table_size(ss.exporters) <= 20);
    assert_int_equal(ss.n_retired, 10);
}

static void
odids_beyond_the_limit_share_one_bucket(void **state)
{
    struct ixd_session *s;
    unsigned i;

    limits.domains_per_session = 4;
    begin();
    for (i = 0; i < 40; i++) {
        /* a new port each time: new sessions, same exporter, ever new odids */
        s = exporter(0xc0000201, (uint16_t)(1000 + i));
        send_template(s, i, 256, T0);
    }
    assert_int_equal(g_hash_table_size(s->exporter->domains), 4);
    assert_non_null(s->exporter->other_domains);
    assert_int_equal(s->exporter->other_domains->c.templates, 36);
    assert_int_equal(s->exporter->counters.templates, 40);
}

static void
domains_per_session_are_refused_beyond_the_limit(void **state)
{
    struct ixd_session *s;
    unsigned i;

    limits.domains_per_session = 3;
    begin();
    s = exporter(0xc0000201, 1);
    for (i = 0; i < 5; i++) {
        send_template(s, i, 256, T0);
    }
    assert_int_equal(ss.counters.errors[IXD_ERR_DOMAIN_LIMIT], 2);
    assert_int_equal(send_data(s, 0, 256, 1, 1, T0), 1);
}

static void
bytes_per_template_refuses_long_records(void **state)
{
    struct ixd_template_rules rules = {NULL, 512, 8};
    struct ixd_session *s;

    ixd_sessions_init(&ss, "c", 0, &rules, &limits);
    ixd_decoder_init(dec, deliver, NULL);
    s = exporter(0xc0000201, 1);
    send_template(s, 1, 256, T0); /* 16-byte records */
    assert_int_equal(ss.counters.errors[IXD_ERR_TEMPLATE_LIMIT], 1);
    assert_int_equal(ss.templates, 0);
}

static int
send_data_seq(struct ixd_session *s, uint32_t seq, unsigned n)
{
    ib_msg_begin(&m, 1700000000u, seq, 1);
    put_data(256, n, 0);
    ib_msg_end(&m);
    return ixd_message_process(dec, s, m.buf, m.len, T0, 0);
}

/* RFC 7011 3.1: a late message fills its gap; a duplicate fills none and takes nothing back */
static void
duplicates_do_not_hide_loss(void **state)
{
    struct ixd_session *s;

    begin();
    s = exporter(0xc0000201, 1);
    send_template(s, 1, 256, T0);
    send_data_seq(s, 0, 5);
    send_data_seq(s, 10, 5);  /* 5..9 lost */
    assert_int_equal(ss.counters.seq_lost, 5);
    send_data_seq(s, 0, 5);   /* a duplicate of the first */
    assert_int_equal(ss.counters.seq_reordered, 1);
    assert_int_equal(ss.counters.seq_lost, 5);
    send_data_seq(s, 5, 3);   /* part of the gap arrives late */
    assert_int_equal(ss.counters.seq_lost, 2);
    send_data_seq(s, 8, 2);   /* the rest */
    assert_int_equal(ss.counters.seq_lost, 0);
    send_data_seq(s, 8, 2);   /* and once more: a duplicate */
    assert_int_equal(ss.counters.seq_lost, 0);
}

/* the templates counter counts stored templates; a refused one is a template_limit */
static void
refused_templates_are_not_counted_as_templates(void **state)
{
    struct ixd_session *s;

    limits.templates_per_session = 1;
    begin();
    s = exporter(0xc0000201, 1);
    send_template(s, 1, 256, T0);
    send_template(s, 1, 257, T0);
    assert_int_equal(ss.counters.templates, 1);
    assert_int_equal(ss.counters.errors[IXD_ERR_TEMPLATE_LIMIT], 1);
}

/* RFC 7011 6.2: reduced-size encoding shortens numbers; a longer one (up to 8 bytes) is still
 * read as a number, and counted */
static void
numbers_longer_than_their_type_are_counted(void **state)
{
    struct ixd_session *s;
    size_t set;

    begin();
    s = exporter(0xc0000201, 1);
    ib_msg_begin(&m, 1700000000u, 0, 1);
    set = ib_set_begin(&m, IXD_SET_TEMPLATE);
    ib_template(&m, 256, 3);
    ib_field(&m, 5, 2);   /* ipClassOfService is unsigned8 */
    ib_field(&m, 10, 8);  /* ingressInterface is unsigned32 */
    ib_field(&m, 1, 4);   /* octetDeltaCount unsigned64 in 4 bytes: fine */
    ib_set_end(&m, set);
    ib_msg_end(&m);
    ixd_message_process(dec, s, m.buf, m.len, T0, 0);
    {
        const struct ixd_template *t = ixd_domain_template(s, ixd_session_domain(s, 1), 256, T0);
        assert_non_null(t);
        assert_int_equal(t->fields[0].type, IXD_TYPE_UNSIGNED);
        assert_int_equal(t->fields[1].type, IXD_TYPE_UNSIGNED);
        assert_int_equal(t->fields[2].type, IXD_TYPE_UNSIGNED);
        assert_int_equal(t->bad_lengths, 2);
    }
    assert_int_equal(ss.counters.errors[IXD_ERR_FIELD_LENGTH], 1);
}

/* RFC 7011 8.1: after a withdrawal, data for the ID is an error until it is defined again */
static void
data_after_withdrawal_is_not_held(void **state)
{
    struct ixd_template_rules rules = {registry, 512, 0};
    struct sockaddr_in sin;
    struct ixd_session *s;
    size_t set;

    ixd_sessions_init(&ss, "c", 1, &rules, &limits);
    ixd_decoder_init(dec, deliver, NULL);
    memset(&sin, 0, sizeof(sin));
    sin.sin_family = AF_INET;
    sin.sin_addr.s_addr = htonl(0xc0000201);
    s = ixd_session_tcp(&ss, (const struct sockaddr *)&sin, T0);
    send_template(s, 1, 256, T0);
    ib_msg_begin(&m, 1700000000u, 0, 1);
    set = ib_set_begin(&m, IXD_SET_TEMPLATE);
    ib_u16(&m, 256);
    ib_u16(&m, 0); /* withdrawal */
    ib_set_end(&m, set);
    ib_msg_end(&m);
    ixd_message_process(dec, s, m.buf, m.len, T0, 0);
    assert_int_equal(ss.counters.templates_withdrawn, 1);
    send_data(s, 1, 256, 1, 5, T0);
    assert_int_equal(ss.counters.held_sets, 0);
    assert_int_equal(ss.counters.errors[IXD_ERR_NO_TEMPLATE], 1);
    send_template(s, 1, 256, T0); /* defined again: nothing stale decodes */
    assert_int_equal(delivered, 0);
    send_data(s, 1, 256, 1, 5, T0);
    assert_int_equal(delivered, 1);
    ixd_session_free(s);
}

int
main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(held_data_decodes_when_template_arrives),
        T(held_data_of_another_domain_waits_for_its_own_template),
        T(held_data_ages_out_and_is_counted),
        T(holding_is_bounded_per_session),
        T(holding_off_counts_at_once),
        T(template_flood_evicts_only_the_flooder),
        T(template_total_evicts_least_recently_used),
        T(template_memory_is_bounded),
        T(sessions_per_exporter_evict_the_oldest_port),
        T(sessions_total_evict_least_recently_used),
        T(exporters_without_sessions_are_bounded),
        T(odids_beyond_the_limit_share_one_bucket),
        T(domains_per_session_are_refused_beyond_the_limit),
        T(bytes_per_template_refuses_long_records),
        T(duplicates_do_not_hide_loss),
        T(refused_templates_are_not_counted_as_templates),
        T(numbers_longer_than_their_type_are_counted),
        T(data_after_withdrawal_is_not_held),
    };
#undef T
    return cmocka_run_group_tests(tests, NULL, NULL);
}
