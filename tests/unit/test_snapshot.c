/* Unit tests of src/daemon/snapshot.c and snapshot_view.c: workers' snapshots of their real
 * session tables (filled by decoding real messages), published and merged into the one view
 * the API reads: counters summed, an exporter seen by two workers once, templates, outputs
 * from worker 0, first-seen and received times kept from one snapshot to the next. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "snapshot/snapshot.h"
#include "ipfix/decode.h"
#include "ipfix/ie.h"
#include "ipfix_build.h"

#define WORKERS 2
#define MONO0 1000.0             /* monotonic seconds of the first message */
#define USEC0 1700000000000000LL /* the wall clock at MONO0 */
#define WALL(mono) (USEC0 + (int64_t)(((mono)-MONO0) * 1e6))

static struct ixd_ie_registry *registry;
static struct ixd_template_rules rules;
static struct ixd_decoder *dec;
static struct ib m;

/* What each worker owns: collector c1 (UDP) and c2 (TCP), their sessions. */
static struct ixd_sessions c1[WORKERS], c2[WORKERS];
static struct ixd_session *tcp_session;
static struct ixd_snapshot_publisher *pubs[WORKERS];
static struct ixd_snapshot_reader *reader;

static void
ignore(void *arg, const struct ixd_batch *b)
{
}

static struct ixd_session *
udp_from(struct ixd_sessions *ss, uint32_t addr, uint16_t port, double now)
{
    struct sockaddr_in sin;
    struct ixd_session *s;

    memset(&sin, 0, sizeof(sin));
    sin.sin_family = AF_INET;
    sin.sin_port = htons(port);
    sin.sin_addr.s_addr = htonl(addr);
    s = ixd_session_udp(ss, (const struct sockaddr *)&sin, now);
    assert_non_null(s);
    return s;
}

/* A message of domain odid: template 256 (source, destination, octets) and n records. */
static void
msg_256(uint32_t odid, unsigned n)
{
    size_t s;
    unsigned i;

    ib_msg_begin(&m, 1700000000u, 0, odid);
    s = ib_set_begin(&m, IXD_SET_TEMPLATE);
    ib_template(&m, 256, 3);
    ib_field(&m, 8, 4);
    ib_field(&m, 12, 4);
    ib_field(&m, 1, 8);
    ib_set_end(&m, s);
    s = ib_set_begin(&m, 256);
    for (i = 0; i < n; i++) {
        ib_u32(&m, 0x0a000000u + i);
        ib_u32(&m, 0xc0a80001u);
        ib_u64(&m, 1000u * (i + 1));
    }
    ib_set_end(&m, s);
    ib_msg_end(&m);
}

/* An options template 300 (scope observationDomainId, samplingInterval) and its record. */
static void
msg_options(uint32_t odid)
{
    size_t s;

    ib_msg_begin(&m, 1700000000u, 1, odid);
    s = ib_set_begin(&m, IXD_SET_OPTIONS_TEMPLATE);
    ib_options_template(&m, 300, 2, 1);
    ib_field(&m, 149, 4);
    ib_field(&m, 34, 4);
    ib_set_end(&m, s);
    s = ib_set_begin(&m, 300);
    ib_u32(&m, odid);
    ib_u32(&m, 64);
    ib_set_end(&m, s);
    ib_msg_end(&m);
}

static void
feed(struct ixd_session *s, double now, int records)
{
    assert_int_equal(ixd_message_process(dec, s, m.buf, m.len, now, WALL(now)), records);
}

/* ---- an output of the test's own: what it counts is what the view must show ---- */

static const struct ixd_counter_def def_records = {"records", NULL, IXD_COUNTER_TOTAL,
                                                   "records", NULL, NULL};
static const struct ixd_counter_def def_sent = {"sent", NULL,          IXD_COUNTER_TOTAL,
                                                "sent", "destination", NULL};

static void
count_stats(struct ixd_output *o, ixd_counter_fn fn, void *arg)
{
    fn(arg, &def_records, NULL, strcmp(o->name, "first") == 0 ? 11 : 22);
    fn(arg, &def_sent, "127.0.0.1:4739", 5);
    fn(arg, &def_sent, "[::1]:4739", 6);
}

static const struct ixd_output_type count_type = {.m = {.name = "counting"}, .stats = count_stats};
static struct ixd_output out_first = {&count_type, "first", NULL};
static struct ixd_output out_second = {&count_type, "second", NULL};

/* Worker w's snapshot at now: its collectors (c2 with its TCP session), outputs on worker 0. */
static void
publish(unsigned w, double now, int with_c1)
{
    struct ixd_output *outputs[] = {&out_first, &out_second};

    ixd_snapshot_begin(pubs[w], 2, now, WALL(now));
    if (with_c1) {
        ixd_snapshot_add_collector(pubs[w], "c1", "udp", "*:4739", "[::]:4739", 1, &c1[w], 0);
    }
    ixd_snapshot_add_collector(pubs[w], "c2", "tcp", "127.0.0.1:4740", "127.0.0.1:4740", w == 1,
                               &c2[w], w == 1 ? 1 : 0);
    if (w == 1) {
        ixd_snapshot_add_session(pubs[w], tcp_session);
    }
    if (w == 0) {
        ixd_snapshot_add_outputs(pubs[w], outputs, 2);
    }
    ixd_snapshot_publish(pubs[w]);
}

/*
 * Worker 0: 192.0.2.1 port 5000, domain 7, 3 records (at MONO0).
 * Worker 1: 192.0.2.2 port 6000, domain 7, 1 record (MONO0 + 1); 192.0.2.1 port 5001,
 * domain 7, 2 records (MONO0 + 2) and an options record in domain 9 (MONO0 + 3); on c2 (TCP)
 * 192.0.2.3 port 7000, domain 1, 4 records (MONO0 + 4).
 */
static int
setup(void **state)
{
    struct ixd_session_limits limits;
    struct sockaddr_in sin;
    unsigned w;

    ixd_session_limits_default(&limits);
    for (w = 0; w < WORKERS; w++) {
        ixd_sessions_init(&c1[w], "c1", 0, &rules, &limits);
        ixd_sessions_init(&c2[w], "c2", 1, &rules, &limits);
        pubs[w] = ixd_snapshot_publisher_new(w);
        assert_non_null(pubs[w]);
    }
    reader = ixd_snapshot_reader_new(pubs, WORKERS);
    assert_non_null(reader);
    ixd_decoder_init(dec, ignore, NULL);

    msg_256(7, 3);
    feed(udp_from(&c1[0], 0xc0000201, 5000, MONO0), MONO0, 3);
    msg_256(7, 1);
    feed(udp_from(&c1[1], 0xc0000202, 6000, MONO0 + 1), MONO0 + 1, 1);
    msg_256(7, 2);
    feed(udp_from(&c1[1], 0xc0000201, 5001, MONO0 + 2), MONO0 + 2, 2);
    msg_options(9);
    feed(udp_from(&c1[1], 0xc0000201, 5001, MONO0 + 3), MONO0 + 3, 1);
    memset(&sin, 0, sizeof(sin));
    sin.sin_family = AF_INET;
    sin.sin_port = htons(7000);
    sin.sin_addr.s_addr = htonl(0xc0000203);
    tcp_session = ixd_session_tcp(&c2[1], (const struct sockaddr *)&sin, MONO0 + 4);
    assert_non_null(tcp_session);
    msg_256(1, 4);
    feed(tcp_session, MONO0 + 4, 4);
    return 0;
}

static int
teardown(void **state)
{
    unsigned w;

    ixd_snapshot_reader_free(reader);
    ixd_session_free(tcp_session);
    for (w = 0; w < WORKERS; w++) {
        ixd_snapshot_publisher_free(pubs[w]);
        ixd_sessions_release(&c1[w]);
        ixd_sessions_release(&c2[w]);
    }
    return 0;
}

static int
group_setup(void **state)
{
    char err[256];

    registry = ixd_ie_registry_new(NULL, 0, err, sizeof(err));
    dec = malloc(sizeof(*dec));
    rules.registry = registry;
    rules.max_fields = 512;
    return registry != NULL && dec != NULL ? 0 : -1;
}

static int
group_teardown(void **state)
{
    ixd_ie_registry_free(registry);
    free(dec);
    return 0;
}

static const struct ixd_view_exporter *
exporter_keyed(const struct ixd_view *v, const char *key)
{
    char id[256];

    return ixd_view_exporter(v, ixd_base64url(key, strlen(key), id));
}

/* ---- tests ---- */

/* Nothing published yet: an empty view, no worker seen; a snapshot taken is gone. */
static void
test_empty_until_published(void **state)
{
    const struct ixd_view *v = ixd_snapshot_reader_view(reader);

    assert_non_null(v);
    assert_int_equal(v->n_workers, WORKERS);
    assert_false(v->workers[0].seen);
    assert_int_equal(v->n_collectors, 0);
    assert_int_equal(v->n_exporters, 0);
    assert_int_equal(v->n_outputs, 0);
    assert_null(ixd_snapshot_take(pubs[0], 0));
    publish(0, MONO0 + 10, 1);
    {
        struct ixd_worker_snapshot *taken = ixd_snapshot_take(pubs[0], 0);
        assert_non_null(taken); /* the caller owns it now */
        assert_int_equal(taken->n_collectors, 2);
        assert_true(taken->has_outputs);
        ixd_worker_snapshot_free(taken);
    }
    assert_null(ixd_snapshot_take(pubs[0], 0));
}

/* Both workers publish; the view merges their latest snapshots. */
static const struct ixd_view *
merged(void)
{
    const struct ixd_view *v;

    publish(0, MONO0 + 10, 1);
    publish(1, MONO0 + 11, 1);
    v = ixd_snapshot_reader_view(reader);
    assert_non_null(v);
    assert_true(v->workers[0].seen && v->workers[1].seen);
    assert_true(v->workers[1].built_mono == MONO0 + 11);
    return v;
}

/* Collectors in config order, their counters summed over the workers. */
static void
test_collectors_summed(void **state)
{
    const struct ixd_view *v = merged();
    const struct ixd_view_collector *vc;

    assert_int_equal(v->n_collectors, 2);
    vc = &v->collectors[0];
    assert_string_equal(vc->name, "c1");
    assert_string_equal(vc->transport, "udp");
    assert_string_equal(vc->bound, "[::]:4739");
    assert_int_equal(vc->listening_workers, 2);
    assert_int_equal(vc->sessions, 3);
    assert_int_equal(vc->templates, 4);
    assert_int_equal(vc->exporters, 2);
    assert_int_equal(vc->counters.records, 3 + 1 + 2 + 1);
    assert_int_equal(vc->counters.messages, 4);
    assert_int_equal(vc->counters.options_records, 1);
    vc = &v->collectors[1];
    assert_string_equal(vc->name, "c2");
    assert_int_equal(vc->listening_workers, 1);
    assert_int_equal(vc->tcp_connections, 1);
    assert_int_equal(vc->sessions, 1);
    assert_int_equal(vc->counters.records, 4);
    assert_int_equal(v->total.records, 11);
    assert_int_equal(v->total.messages, 5);
    assert_int_equal(v->total.bytes, c1[0].counters.bytes + c1[1].counters.bytes +
                                         c2[0].counters.bytes + c2[1].counters.bytes);
}

/* One exporter per collector and address, sorted by key and found by its opaque ID: the one
 * both workers saw once, its sessions on each, its counters summed. */
static void
test_exporter_seen_by_two_workers(void **state)
{
    const struct ixd_view *v = merged();
    const struct ixd_view_exporter *e;
    size_t i;

    assert_int_equal(v->n_exporters, 3);
    assert_string_equal(v->exporters[0].key, "c1/192.0.2.1");
    assert_string_equal(v->exporters[1].key, "c1/192.0.2.2");
    assert_string_equal(v->exporters[2].key, "c2/192.0.2.3");
    for (i = 0; i < v->n_exporters; i++) {
        assert_ptr_equal(ixd_view_exporter(v, v->exporters[i].id), &v->exporters[i]);
    }
    e = exporter_keyed(v, "c1/192.0.2.1");
    assert_ptr_equal(e, &v->exporters[0]);
    assert_string_equal(e->collector, "c1");
    assert_string_equal(e->address, "192.0.2.1");
    assert_string_equal(e->transport, "udp");
    assert_int_equal(e->counters.records, 3 + 2 + 1);
    assert_int_equal(e->templates, 1 + 2);
    assert_true(e->first_seen_usec == WALL(MONO0));
    assert_true(e->last_seen_usec == WALL(MONO0 + 3));
    assert_int_equal(e->n_sessions, 2);
    for (i = 0; i < 2; i++) {
        const struct ixd_view_session *s = &e->sessions[i];
        assert_int_equal(s->port, s->worker == 0 ? 5000 : 5001);
        assert_true(s->last_seen_usec == WALL(s->worker == 0 ? MONO0 : MONO0 + 3));
        assert_int_equal(s->templates, s->worker == 0 ? 1 : 2);
    }
    assert_int_not_equal(e->sessions[0].worker, e->sessions[1].worker);
    assert_int_equal(e->n_domains, 2);
    assert_int_equal(e->domains[0].odid, 7);
    assert_int_equal(e->domains[1].odid, 9);
    assert_int_equal(ixd_view_domain(e, 7)->counters.records, 5);
    assert_int_equal(ixd_view_domain(e, 9)->counters.options_records, 1);
    assert_null(ixd_view_domain(e, 8));
    /* its clock: every message exported at 1700000000; the largest export - receive of the
     * workers' is worker 0's (received first), though worker 1 is merged after it */
    assert_true(e->clock_known);
    assert_true(e->clock_offset_usec == 1700000000LL * 1000000 - WALL(MONO0));
    assert_int_equal(e->clock_samples, 3);

    e = exporter_keyed(v, "c1/192.0.2.2");
    assert_int_equal(e->n_sessions, 1);
    assert_int_equal(e->sessions[0].worker, 1);
    assert_int_equal(e->sessions[0].port, 6000);
    assert_int_equal(e->counters.records, 1);
    e = exporter_keyed(v, "c2/192.0.2.3");
    assert_string_equal(e->transport, "tcp");
    assert_int_equal(e->n_sessions, 1);
    assert_int_equal(e->sessions[0].port, 7000);
    assert_int_equal(ixd_view_domain(e, 1)->n_templates, 1);
    assert_null(exporter_keyed(v, "c2/192.0.2.1"));
    assert_null(ixd_view_exporter(v, "not base64!"));
}

/* Of template 256 defined by both sessions of 192.0.2.1, the one refreshed last (worker 1's,
 * port 5001); the options template with its latest record as the JSON output writes it; the
 * outputs as worker 0's types reported them. */
static void
test_templates_and_outputs(void **state)
{
    const struct ixd_view *v = merged();
    const struct ixd_view_exporter *e = exporter_keyed(v, "c1/192.0.2.1");
    const struct ixd_view_domain *d = ixd_view_domain(e, 7);
    const struct ixd_snap_template *t;

    assert_ptr_equal(d, &e->domains[0]);
    assert_int_equal(d->n_templates, 1);
    t = ixd_view_template(d, 256);
    assert_non_null(t);
    assert_int_equal(t->exporter_port, 5001);
    assert_true(t->refreshed_usec == WALL(MONO0 + 2));
    assert_true(t->received_usec == WALL(MONO0 + 2));
    assert_int_equal(t->field_count, 3);
    assert_int_equal(t->scope_count, 0);
    assert_int_equal(t->fields[0].id, 8);
    assert_string_equal(t->fields[0].name, "sourceIPv4Address");
    assert_int_equal(t->fields[2].length, 8);
    assert_null(t->options_record);
    assert_null(ixd_view_template(d, 257));

    t = ixd_view_template(ixd_view_domain(e, 9), 300);
    assert_non_null(t);
    assert_int_equal(t->scope_count, 1);
    assert_non_null(t->options_record);
    assert_non_null(strstr(t->options_record, "\"@template\":300"));
    assert_non_null(strstr(t->options_record, "\"samplingInterval\":64"));
    assert_non_null(strstr(t->options_record, "\"observationDomainId\":9"));
    assert_int_equal(t->options_record[strlen(t->options_record) - 1], '}');
    assert_true(t->options_usec == WALL(MONO0 + 3));

    assert_int_equal(v->n_outputs, 2);
    assert_string_equal(v->outputs[0].name, "first");
    assert_string_equal(v->outputs[0].type, "counting");
    assert_int_equal(v->outputs[0].n_counters, 3);
    assert_ptr_equal(v->outputs[0].counters[0].def, &def_records);
    assert_int_equal(v->outputs[0].counters[0].value, 11);
    assert_string_equal(v->outputs[0].counters[2].label, "[::1]:4739");
    assert_int_equal(v->outputs[0].counters[2].value, 6);
    assert_int_equal(v->outputs[1].counters[0].value, 22);
}

/* A view is rebuilt only when a worker published; times are kept from one snapshot to the
 * next (an exporter's first sighting, a template's arrival), and forgotten with what a
 * snapshot no longer holds. */
static void
test_generations_and_ages(void **state)
{
    const struct ixd_view *v, *again;
    const struct ixd_view_exporter *e;
    const struct ixd_snap_template *t;
    unsigned gen;

    publish(0, MONO0 + 10, 1);
    publish(1, MONO0 + 11, 1);
    v = ixd_snapshot_reader_view(reader);
    gen = v->generation;
    again = ixd_snapshot_reader_view(reader);
    assert_ptr_equal(again, v);
    assert_int_equal(again->generation, gen);

    /* worker 1 sees 192.0.2.1 again: its template is refreshed, not received again */
    msg_256(7, 1);
    feed(udp_from(&c1[1], 0xc0000201, 5001, MONO0 + 15), MONO0 + 15, 1);
    publish(1, MONO0 + 20, 1);
    v = ixd_snapshot_reader_view(reader);
    assert_int_equal(v->generation, gen + 1);
    e = exporter_keyed(v, "c1/192.0.2.1");
    assert_int_equal(e->counters.records, 7);
    assert_true(e->first_seen_usec == WALL(MONO0));
    assert_true(e->last_seen_usec == WALL(MONO0 + 15));
    t = ixd_view_template(ixd_view_domain(e, 7), 256);
    assert_int_equal(t->exporter_port, 5001);
    assert_true(t->refreshed_usec == WALL(MONO0 + 15));
    assert_true(t->received_usec == WALL(MONO0 + 2));

    /* worker 1 publishes without c1, then with it: what it held of c1 is new to it again */
    publish(1, MONO0 + 30, 0);
    v = ixd_snapshot_reader_view(reader);
    assert_int_equal(v->generation, gen + 2);
    assert_int_equal(v->collectors[0].listening_workers, 1);
    assert_int_equal(exporter_keyed(v, "c1/192.0.2.1")->n_sessions, 1);
    assert_null(exporter_keyed(v, "c1/192.0.2.2"));
    msg_256(7, 1);
    feed(udp_from(&c1[1], 0xc0000202, 6000, MONO0 + 35), MONO0 + 35, 1);
    publish(1, MONO0 + 40, 1);
    v = ixd_snapshot_reader_view(reader);
    assert_int_equal(v->generation, gen + 3);
    e = exporter_keyed(v, "c1/192.0.2.2");
    assert_true(e->first_seen_usec == WALL(MONO0 + 35));
    t = ixd_view_template(ixd_view_domain(e, 7), 256);
    assert_true(t->received_usec == WALL(MONO0 + 35));
    /* 192.0.2.1: worker 0 still remembers the first sighting, the earliest wins */
    e = exporter_keyed(v, "c1/192.0.2.1");
    assert_true(e->first_seen_usec == WALL(MONO0));
    /* outputs come from worker 0 whichever published last */
    assert_int_equal(v->n_outputs, 2);
}

/* Domains past the exporter's limit are counted together under IXD_ODID_OTHER, and the
 * templates of such a domain are listed there. */
static void
test_other_domains(void **state)
{
    struct ixd_session_limits limits;
    const struct ixd_view *v;
    const struct ixd_view_exporter *e;
    const struct ixd_view_domain *d;

    ixd_sessions_release(&c1[0]);
    ixd_session_limits_default(&limits);
    limits.domains_per_session = 1;
    ixd_sessions_init(&c1[0], "c1", 0, &rules, &limits);
    msg_256(1, 1);
    feed(udp_from(&c1[0], 0xc0000209, 5000, MONO0), MONO0, 1);
    msg_256(2, 2); /* another session of the same exporter, another domain */
    feed(udp_from(&c1[0], 0xc0000209, 5002, MONO0), MONO0, 2);
    publish(0, MONO0 + 10, 1);
    v = ixd_snapshot_reader_view(reader);
    e = exporter_keyed(v, "c1/192.0.2.9");
    assert_non_null(e);
    assert_int_equal(e->n_domains, 2);
    assert_int_equal(e->domains[0].odid, 1);
    d = ixd_view_domain(e, IXD_ODID_OTHER);
    assert_non_null(d);
    assert_int_equal(d->counters.records, 2);
    assert_int_equal(d->n_templates, 1);
    assert_int_equal(ixd_view_domain(e, 1)->counters.records, 1);
}

/* The opaque exporter IDs: base64url without padding, and decoding that refuses what is not
 * one. */
/*
 * A second reader (an RRD output's) gets every snapshot too, and its own pipelines' counters
 * summed; it keeps the publishers alive after the worker lets go of them; only while a reader
 * is registered does a worker need to build snapshots at all.
 */
static void
test_second_reader_outlives_the_worker(void **state)
{
    struct ixd_snapshot_publisher *solo = ixd_snapshot_publisher_new(0);
    struct ixd_snapshot_reader *first, *second;
    const struct ixd_view *v;

    assert_false(ixd_snapshot_wanted(solo));
    first = ixd_snapshot_reader_new(&solo, 1);
    second = ixd_snapshot_reader_new(&solo, 1);
    assert_non_null(first);
    assert_non_null(second);
    assert_true(ixd_snapshot_wanted(solo));
    ixd_snapshot_begin(solo, 1, MONO0, WALL(MONO0));
    ixd_snapshot_add_collector(solo, "c1", "udp", "*:4739", "[::]:4739", 1, &c1[0], 0);
    ixd_snapshot_add_pipeline(solo, "p", 10, 7, 1, 2);
    ixd_snapshot_add_pipeline(solo, "q", 5, 5, 0, 0);
    ixd_snapshot_publish(solo);
    v = ixd_snapshot_reader_view(first);
    assert_int_equal(v->n_collectors, 1);
    assert_int_equal(v->n_pipelines, 2);
    assert_string_equal(v->pipelines[0].name, "p");
    assert_true(v->pipelines[0].in == 10 && v->pipelines[0].out == 7);
    assert_true(v->pipelines[0].failed == 1 && v->pipelines[0].emitted == 2);
    ixd_snapshot_reader_free(first);
    assert_true(ixd_snapshot_wanted(solo)); /* the second is still there */
    ixd_snapshot_publisher_free(solo);      /* the worker is gone */
    v = ixd_snapshot_reader_view(second);
    assert_non_null(v);
    assert_int_equal(v->n_collectors, 1);
    assert_int_equal(v->collectors[0].counters.records, c1[0].counters.records);
    assert_int_equal(v->n_pipelines, 2);
    assert_true(v->pipelines[1].in == 5);
    ixd_snapshot_reader_free(second); /* frees the publisher (ASan: nothing leaks) */
}

static void
test_base64url(void **state)
{
    static const struct {
        const char *in, *out;
    } cases[] = {{"", ""},           {"f", "Zg"},        {"fo", "Zm8"},
                 {"foo", "Zm9v"},    {"foob", "Zm9vYg"}, {"c1/2001:db8::1", "YzEvMjAwMTpkYjg6OjE"},
                 {"\xfb\xff", "-_8"}};
    char enc[64], dec_text[64];
    size_t i;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        assert_string_equal(ixd_base64url(cases[i].in, strlen(cases[i].in), enc), cases[i].out);
        assert_int_equal(ixd_base64url_decode(cases[i].out, dec_text, sizeof(dec_text)), 0);
        assert_string_equal(dec_text, cases[i].in);
    }
    assert_int_equal(ixd_base64url_decode("Zm9v+", dec_text, sizeof(dec_text)), -1);
    assert_int_equal(ixd_base64url_decode("Zm9vY", dec_text, sizeof(dec_text)), -1);
    assert_int_equal(ixd_base64url_decode("AA", dec_text, sizeof(dec_text)), -1); /* a NUL */
    assert_int_equal(ixd_base64url_decode("Zm9v", dec_text, 3), -1);
    assert_int_equal(ixd_base64url_decode("Zm9v", dec_text, 4), 0);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_empty_until_published, setup, teardown),
        cmocka_unit_test_setup_teardown(test_collectors_summed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_exporter_seen_by_two_workers, setup, teardown),
        cmocka_unit_test_setup_teardown(test_templates_and_outputs, setup, teardown),
        cmocka_unit_test_setup_teardown(test_generations_and_ages, setup, teardown),
        cmocka_unit_test_setup_teardown(test_other_domains, setup, teardown),
        cmocka_unit_test_setup_teardown(test_second_reader_outlives_the_worker, setup, teardown),
        cmocka_unit_test(test_base64url),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
