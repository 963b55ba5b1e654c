/* Unit tests of src/ipfix/sampling.c: the packet sampling rate that applies to each record, as
 * announced by options records and by the records' own fields, per exporter and observation
 * domain, else as configured; and the renormalisation an output applies with it
 * (ixd_json_record_scaled). Real messages go through the real decoder (decode_fixture.h); the
 * rate is asked of each delivered record's resolver, as the JSON output asks it. */
#include "decode_fixture.h"

#include "core/address.h"
#include "core/config.h"
#include "ipfix/sampling.h"
#include "output/json_format.h"

#define SEEN_MAX 64
#define JSON_MAX 2048

/* Each delivered record: its template, domain, the rate that applies, and its JSON line with
 * counts renormalised by that rate. */
struct seen {
    uint16_t tid;
    uint32_t odid, rate;
    char json[JSON_MAX];
};

static struct seen seen[SEEN_MAX];
static size_t n_seen;
static char line[70000];

static void
deliver_rates(void *arg, const struct ixd_batch *b)
{
    const struct ixd_resolver *res = b->source->resolver;
    char prefix[512];
    size_t i, plen = ixd_json_prefix(b->source, prefix, sizeof(prefix));

    assert_non_null(res);
    for (i = 0; i < b->count; i++) {
        const struct ixd_record *r = &b->records[i];
        struct seen *s = &seen[n_seen++];
        size_t n;

        assert_true(n_seen <= SEEN_MAX);
        assert_true(plen + ixd_json_bound(r) <= sizeof(line));
        s->tid = r->tmpl->id;
        s->odid = b->source->odid;
        s->rate = res->sampling_of(res, r);
        n = ixd_json_record_scaled(r, b->source, s->rate, prefix, plen, line);
        assert_true(n < JSON_MAX);
        memcpy(s->json, line, n);
        s->json[n] = '\0';
    }
}

static int
setup_sampling(void **state)
{
    start(0, 4096);
    ixd_decoder_init(dec, deliver_rates, NULL);
    n_seen = 0;
    return 0;
}

/* The rate of the only record the last message delivered. */
static uint32_t
last_rate(void)
{
    assert_true(n_seen > 0);
    return seen[n_seen - 1].rate;
}

static void
options_template(struct ib *b, uint16_t tid, uint16_t scope_id, uint16_t scope_len, uint16_t id1,
                 uint16_t len1, uint16_t id2, uint16_t len2)
{
    size_t s = ib_set_begin(b, IXD_SET_OPTIONS_TEMPLATE);

    ib_options_template(b, tid, id2 != 0 ? 3 : 2, 1);
    ib_field(b, scope_id, scope_len);
    ib_field(b, id1, len1);
    if (id2 != 0) {
        ib_field(b, id2, len2);
    }
    ib_set_end(b, s);
}

/* Data template 257: samplerId (sent in 1 byte), octetDeltaCount, packetDeltaCount. */
static void
template_257(struct ib *b)
{
    size_t s = ib_set_begin(b, IXD_SET_TEMPLATE);

    ib_template(b, 257, 3);
    ib_field(b, 48, 1);
    ib_field(b, 1, 8);
    ib_field(b, 2, 8);
    ib_set_end(b, s);
}

static void
data_257(struct ib *b, uint8_t sampler, uint64_t octets, uint64_t packets)
{
    size_t s = ib_set_begin(b, 257);

    ib_u8(b, sampler);
    ib_u64(b, octets);
    ib_u64(b, packets);
    ib_set_end(b, s);
}

/* One record of 257 from exporter session s in domain odid. */
static void
send_257(struct ixd_session *s, uint32_t odid, uint8_t sampler)
{
    ib_msg_begin(&m, 1700000000u, 0, odid);
    template_257(&m);
    data_257(&m, sampler, 1500, 3);
    ib_msg_end(&m);
    msg_lo = m.buf;
    msg_hi = m.buf + m.len;
    assert_int_equal(ixd_message_process(dec, s, m.buf, m.len, T0, 1700000000000000LL), 1);
}

/* An options record of template 300 announcing samplingInterval for the whole domain. */
static void
announce_domain(struct ixd_session *s, uint32_t odid, uint32_t interval)
{
    size_t set;

    ib_msg_begin(&m, 1700000000u, 0, odid);
    options_template(&m, 300, 149, 4, 34, 4, 35, 1); /* observationDomainId; interval, algo */
    set = ib_set_begin(&m, 300);
    ib_u32(&m, odid);
    ib_u32(&m, interval);
    ib_u8(&m, 1); /* deterministic */
    ib_set_end(&m, set);
    ib_msg_end(&m);
    msg_lo = m.buf;
    msg_hi = m.buf + m.len;
    assert_int_equal(ixd_message_process(dec, s, m.buf, m.len, T0, 1700000000000000LL), 1);
}

/* Options records of template 301 announcing samplerRandomInterval per samplerId (sent in 4
 * bytes, longer than registered). */
static void
announce_samplers(struct ixd_session *s, uint32_t odid, const uint32_t *ids,
                  const uint32_t *intervals, size_t n)
{
    size_t set, i;

    ib_msg_begin(&m, 1700000000u, 0, odid);
    options_template(&m, 301, 48, 4, 50, 4, 0, 0);
    set = ib_set_begin(&m, 301);
    for (i = 0; i < n; i++) {
        ib_u32(&m, ids[i]);
        ib_u32(&m, intervals[i]);
    }
    ib_set_end(&m, set);
    ib_msg_end(&m);
    msg_lo = m.buf;
    msg_hi = m.buf + m.len;
    assert_int_equal(ixd_message_process(dec, s, m.buf, m.len, T0, 1700000000000000LL), (int)n);
}

/* ---- tests ---- */

/* Nothing announced, nothing configured: 1, and counts are written as sent. */
static void
test_unsampled(void **state)
{
    send_257(sess, 1, 5);
    assert_int_equal(last_rate(), 1);
    assert_non_null(strstr(seen[0].json, "\"octetDeltaCount\":1500,"));
    assert_null(strstr(seen[0].json, "@sampling_rate"));
}

/* An options record without a sampler ID sets the rate of its domain, and of that domain only
 * (another domain, another exporter stay unsampled); a later one replaces it. */
static void
test_domain_rate_per_exporter_and_domain(void **state)
{
    struct sockaddr_in sin = exporter_addr();
    struct ixd_session *other;

    announce_domain(sess, 1, 100);
    assert_int_equal(seen[0].tid, 300);
    send_257(sess, 1, 5);
    assert_int_equal(last_rate(), 100);
    assert_non_null(strstr(seen[1].json, "\"octetDeltaCount\":150000,"));
    assert_non_null(strstr(seen[1].json, "\"packetDeltaCount\":300"));
    assert_non_null(strstr(seen[1].json, "\"@sampling_rate\":100"));
    /* the sampler ID is not a count: as sent */
    assert_non_null(strstr(seen[1].json, "\"samplerId\":5,"));

    send_257(sess, 2, 5);
    assert_int_equal(last_rate(), 1);
    sin.sin_addr.s_addr = htonl(0xc0000202); /* 192.0.2.2 */
    other = ixd_session_udp(&ss, (const struct sockaddr *)&sin, T0);
    assert_non_null(other);
    send_257(other, 1, 5);
    assert_int_equal(last_rate(), 1);

    announce_domain(sess, 1, 8);
    send_257(sess, 1, 5);
    assert_int_equal(last_rate(), 8);
}

/* Options records per samplerId: each record gets its sampler's rate; a sampler nobody
 * announced falls back to the domain's rate. */
static void
test_rate_per_sampler(void **state)
{
    static const uint32_t ids[] = {1, 2, 0x01020304u};
    static const uint32_t intervals[] = {10, 1000, 7};

    announce_samplers(sess, 1, ids, intervals, 3);
    send_257(sess, 1, 1);
    assert_int_equal(last_rate(), 10);
    send_257(sess, 1, 2);
    assert_int_equal(last_rate(), 1000);
    assert_non_null(strstr(seen[n_seen - 1].json, "\"octetDeltaCount\":1500000,"));
    send_257(sess, 1, 4); /* 4 is only the last byte of 0x01020304 */
    assert_int_equal(last_rate(), 1);
    announce_domain(sess, 1, 50);
    send_257(sess, 1, 4);
    assert_int_equal(last_rate(), 50);
    send_257(sess, 1, 2); /* the sampler's own still wins */
    assert_int_equal(last_rate(), 1000);
    send_257(sess, 2, 2); /* samplers are per domain */
    assert_int_equal(last_rate(), 1);
}

/* 16 samplers per domain: the 17th takes the oldest one's place; announcing a known sampler
 * again changes its rate without taking a place. */
static void
test_samplers_bounded(void **state)
{
    uint32_t ids[IXD_SAMPLERS_PER_DOMAIN + 1], intervals[IXD_SAMPLERS_PER_DOMAIN + 1];
    uint32_t again_id = 3, again = 333;
    size_t i;

    for (i = 0; i <= IXD_SAMPLERS_PER_DOMAIN; i++) {
        ids[i] = (uint32_t)i + 1;
        intervals[i] = 10 * ((uint32_t)i + 1);
    }
    announce_samplers(sess, 1, ids, intervals, IXD_SAMPLERS_PER_DOMAIN);
    announce_samplers(sess, 1, &again_id, &again, 1);
    for (i = 0; i < IXD_SAMPLERS_PER_DOMAIN; i++) {
        send_257(sess, 1, (uint8_t)(i + 1));
        assert_int_equal(last_rate(), i == 2 ? 333 : 10 * (i + 1));
    }
    announce_samplers(sess, 1, &ids[IXD_SAMPLERS_PER_DOMAIN], &intervals[IXD_SAMPLERS_PER_DOMAIN],
                      1);
    send_257(sess, 1, IXD_SAMPLERS_PER_DOMAIN + 1);
    assert_int_equal(last_rate(), 170);
    send_257(sess, 1, 1); /* the oldest, gone */
    assert_int_equal(last_rate(), 1);
    send_257(sess, 1, 2);
    assert_int_equal(last_rate(), 20);
    /* and the next oldest makes room for the one after */
    again_id = IXD_SAMPLERS_PER_DOMAIN + 2;
    again = 180;
    announce_samplers(sess, 1, &again_id, &again, 1);
    send_257(sess, 1, 2);
    assert_int_equal(last_rate(), 1);
    send_257(sess, 1, IXD_SAMPLERS_PER_DOMAIN + 1);
    assert_int_equal(last_rate(), 170);
    send_257(sess, 1, IXD_SAMPLERS_PER_DOMAIN + 2);
    assert_int_equal(last_rate(), 180);
}

/* RFC 5476 count-based sampling announced per selectorId: n selected out of every n + m. */
static void
test_selector_packet_interval_and_space(void **state)
{
    size_t set;

    ib_msg_begin(&m, 1700000000u, 0, 1);
    options_template(&m, 302, 302, 8, 305, 4, 306, 4);
    set = ib_set_begin(&m, 302);
    ib_u64(&m, 77);
    ib_u32(&m, 1);
    ib_u32(&m, 99); /* 1 in 100 */
    ib_u64(&m, 78);
    ib_u32(&m, 2);
    ib_u32(&m, 8); /* 2 in 10: 1 in 5 */
    ib_u64(&m, 79);
    ib_u32(&m, 0);
    ib_u32(&m, 8); /* nothing selected: not a rate */
    ib_set_end(&m, set);
    set = ib_set_begin(&m, IXD_SET_TEMPLATE);
    ib_template(&m, 258, 2);
    ib_field(&m, 302, 8); /* selectorId */
    ib_field(&m, 85, 8);  /* octetTotalCount */
    ib_set_end(&m, set);
    ib_msg_end(&m);
    assert_int_equal(process(), 3);
    ib_msg_begin(&m, 1700000000u, 0, 1);
    set = ib_set_begin(&m, 258);
    ib_u64(&m, 77);
    ib_u64(&m, 10);
    ib_u64(&m, 78);
    ib_u64(&m, 10);
    ib_u64(&m, 79);
    ib_u64(&m, 10);
    ib_set_end(&m, set);
    ib_msg_end(&m);
    assert_int_equal(process(), 3);
    assert_int_equal(seen[3].rate, 100);
    assert_non_null(strstr(seen[3].json, "\"octetTotalCount\":1000}"));
    assert_int_equal(seen[4].rate, 5);
    assert_int_equal(seen[5].rate, 1);
}

/* A record that carries its own interval is renormalised by it, before anything announced;
 * an interval of 0 is none. */
static void
test_record_own_interval(void **state)
{
    size_t set;

    announce_domain(sess, 1, 100);
    ib_msg_begin(&m, 1700000000u, 0, 1);
    set = ib_set_begin(&m, IXD_SET_TEMPLATE);
    ib_template(&m, 259, 2);
    ib_field(&m, 34, 4); /* samplingInterval */
    ib_field(&m, 2, 4);  /* packetDeltaCount, reduced to 4 bytes */
    ib_set_end(&m, set);
    set = ib_set_begin(&m, 259);
    ib_u32(&m, 64);
    ib_u32(&m, 2);
    ib_u32(&m, 0);
    ib_u32(&m, 2);
    ib_set_end(&m, set);
    ib_msg_end(&m);
    assert_int_equal(process(), 2);
    assert_int_equal(seen[1].rate, 64);
    assert_non_null(strstr(seen[1].json, "\"packetDeltaCount\":128"));
    assert_int_equal(seen[2].rate, 100);
}

/* An options template with a variable-length field (samplerName) is walked record by record:
 * the second record's sampler is found after the first one's string. */
static void
test_varlen_options_record(void **state)
{
    size_t set;

    ib_msg_begin(&m, 1700000000u, 0, 1);
    set = ib_set_begin(&m, IXD_SET_OPTIONS_TEMPLATE);
    ib_options_template(&m, 303, 3, 1);
    ib_field(&m, 48, 2);          /* samplerId, scope */
    ib_field(&m, 84, IXD_VARLEN); /* samplerName */
    ib_field(&m, 50, 4);          /* samplerRandomInterval */
    ib_set_end(&m, set);
    set = ib_set_begin(&m, 303);
    ib_u16(&m, 8);
    ib_varlen(&m, "edge-a", 6, 0);
    ib_u32(&m, 30);
    ib_u16(&m, 9);
    ib_varlen(&m, "edge-b, a longer name", 21, 1);
    ib_u32(&m, 40);
    ib_set_end(&m, set);
    ib_msg_end(&m);
    assert_int_equal(process(), 2);
    send_257(sess, 1, 8);
    assert_int_equal(last_rate(), 30);
    send_257(sess, 1, 9);
    assert_int_equal(last_rate(), 40);
}

/* What the collector is configured with applies to exporters that announce nothing: the first
 * rule whose prefix holds the exporter. */
static void
test_configured_rules(void **state)
{
    struct ixd_sampling_rule cfg[3];
    struct sockaddr_in sin = exporter_addr();
    struct ixd_session *s2, *s3;
    char err[128];

    assert_int_equal(ixd_prefix_parse("192.0.2.0/25", &cfg[0].prefix, err, sizeof(err)), 0);
    cfg[0].rate = 64;
    assert_int_equal(ixd_prefix_parse("192.0.2.0/24", &cfg[1].prefix, err, sizeof(err)), 0);
    cfg[1].rate = 32;
    assert_int_equal(ixd_prefix_parse("::/0", &cfg[2].prefix, err, sizeof(err)), 0);
    cfg[2].rate = 2;
    ss.limits.sampling = cfg;
    ss.limits.n_sampling = 2;

    send_257(sess, 1, 5); /* 192.0.2.1: the first rule */
    assert_int_equal(last_rate(), 64);
    sin.sin_addr.s_addr = htonl(0xc00002c8); /* 192.0.2.200: the second */
    s2 = ixd_session_udp(&ss, (const struct sockaddr *)&sin, T0);
    send_257(s2, 1, 5);
    assert_int_equal(last_rate(), 32);
    sin.sin_addr.s_addr = htonl(0xc6336401); /* 198.51.100.1: none */
    s3 = ixd_session_udp(&ss, (const struct sockaddr *)&sin, T0);
    send_257(s3, 1, 5);
    assert_int_equal(last_rate(), 1);
    ss.limits.n_sampling = 3; /* ::/0 holds every IPv4-mapped address too */
    send_257(s3, 1, 5);
    assert_int_equal(last_rate(), 2);

    announce_domain(sess, 1, 1000); /* what the exporter says wins */
    send_257(sess, 1, 5);
    assert_int_equal(last_rate(), 1000);
    ss.limits.n_sampling = 0;
    ss.limits.sampling = NULL;
}

/* Which fields renormalisation multiplies: packet and octet counts that are numbers, IANA or
 * their RFC 5103 reverse forms; the scaled value saturates. */
static void
test_scales_and_saturation(void **state)
{
    static const struct {
        uint32_t pen;
        uint16_t id;
        uint8_t type;
        int scales;
    } cases[] = {
        {0, 1, IXD_TYPE_UNSIGNED, 1},     {0, 2, IXD_TYPE_UNSIGNED, 1},
        {0, 85, IXD_TYPE_UNSIGNED, 1},    {0, 86, IXD_TYPE_UNSIGNED, 1},
        {0, 23, IXD_TYPE_UNSIGNED, 1},    {0, 24, IXD_TYPE_UNSIGNED, 1},
        {0, 19, IXD_TYPE_UNSIGNED, 1},    {0, 20, IXD_TYPE_UNSIGNED, 1},
        {0, 231, IXD_TYPE_UNSIGNED, 1},   {0, 232, IXD_TYPE_UNSIGNED, 1},
        {0, 298, IXD_TYPE_UNSIGNED, 1},   {0, 299, IXD_TYPE_UNSIGNED, 1},
        {29305, 1, IXD_TYPE_UNSIGNED, 1}, {29305, 2, IXD_TYPE_UNSIGNED, 1},
        {9, 1, IXD_TYPE_UNSIGNED, 0},     {0, 1, IXD_TYPE_OCTETS, 0},
        {0, 3, IXD_TYPE_UNSIGNED, 0},     {0, 34, IXD_TYPE_UNSIGNED, 0},
        {0, 48, IXD_TYPE_UNSIGNED, 0},    {0, 300, IXD_TYPE_UNSIGNED, 0},
    };
    struct ixd_source src;
    struct ixd_template *t = NULL;
    struct ixd_record r;
    enum ixd_error why;
    uint8_t data[8];
    size_t i, used, plen, n;
    uint16_t tid;
    char prefix[512];

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct ixd_field f;
        memset(&f, 0, sizeof(f));
        f.pen = cases[i].pen;
        f.id = cases[i].id;
        f.type = cases[i].type;
        assert_int_equal(ixd_sampling_scales(&f), cases[i].scales);
    }

    ib_reset(&m);
    ib_template(&m, 256, 1);
    ib_field(&m, 1, 8);
    assert_int_equal(ixd_template_parse(m.buf, m.len, 0, &rules, &t, &tid, &used, &why),
                     IXD_TPARSE_TEMPLATE);
    memset(&src, 0, sizeof(src));
    src.collector = "c1";
    plen = ixd_json_prefix(&src, prefix, sizeof(prefix));
    ixd_put32(data, 0x40000000u); /* 2^62 */
    ixd_put32(data + 4, 0);
    r = (struct ixd_record){t, data, 8, NULL, NULL};
    n = ixd_json_record_scaled(&r, &src, 4, prefix, plen, line);
    line[n] = '\0';
    assert_non_null(strstr(line, "\"octetDeltaCount\":18446744073709551615"));
    n = ixd_json_record_scaled(&r, &src, 3, prefix, plen, line);
    line[n] = '\0';
    assert_non_null(strstr(line, "\"octetDeltaCount\":13835058055282163712"));
    assert_non_null(strstr(line, "\"@sampling_rate\":3"));
    ixd_template_free(t);
}

/* Options records describe the exporter (its samplers, its interface counters), they are not
 * sampled traffic: written as sent, their counts not multiplied, whatever rate their domain
 * has. */
static void
test_options_records_written_as_sent(void **state)
{
    size_t set;

    announce_domain(sess, 1, 100);
    ib_msg_begin(&m, 1700000000u, 0, 1);
    set = ib_set_begin(&m, IXD_SET_OPTIONS_TEMPLATE);
    ib_options_template(&m, 310, 2, 1);
    ib_field(&m, 10, 4); /* ingressInterface, scope */
    ib_field(&m, 86, 8); /* packetTotalCount of the interface */
    ib_set_end(&m, set);
    set = ib_set_begin(&m, 310);
    ib_u32(&m, 3);
    ib_u64(&m, 123456);
    ib_set_end(&m, set);
    ib_msg_end(&m);
    assert_int_equal(process(), 1);
    assert_int_equal(seen[1].tid, 310);
    assert_int_equal(seen[1].rate, 1);
    assert_non_null(strstr(seen[1].json, "\"packetTotalCount\":123456}"));
    assert_null(strstr(seen[1].json, "@sampling_rate"));
    /* the announcement itself too, and it still applies to the domain's data records */
    assert_int_equal(seen[0].rate, 1);
    assert_null(strstr(seen[0].json, "@sampling_rate"));
    send_257(sess, 1, 5);
    assert_int_equal(last_rate(), 100);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_unsampled, setup_sampling, teardown),
        cmocka_unit_test_setup_teardown(test_domain_rate_per_exporter_and_domain, setup_sampling,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_rate_per_sampler, setup_sampling, teardown),
        cmocka_unit_test_setup_teardown(test_samplers_bounded, setup_sampling, teardown),
        cmocka_unit_test_setup_teardown(test_selector_packet_interval_and_space, setup_sampling,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_record_own_interval, setup_sampling, teardown),
        cmocka_unit_test_setup_teardown(test_varlen_options_record, setup_sampling, teardown),
        cmocka_unit_test_setup_teardown(test_configured_rules, setup_sampling, teardown),
        cmocka_unit_test_setup_teardown(test_scales_and_saturation, setup_sampling, teardown),
        cmocka_unit_test_setup_teardown(test_options_records_written_as_sent, setup_sampling,
                                        teardown),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
