/*
 * RFC 5610 type records in the export (src/output/type_records.c, export_session.c): ipfixd's
 * own elements are described to the collector before the first template that uses them, once
 * per element and transport session, in messages the walker of export_fixture.h checks
 * (framing, sequence numbers, templates defined before their data).
 */
#include "export_fixture.h"

#include "output/type_records.h"

#define OWN_PEN 32473
#define OTHER_PEN 99999

/* What one type record said. */
struct described {
    uint32_t pen;
    uint16_t id;
    uint8_t type, semantics;
    uint16_t units;
    char name[64];
};

#define DESCRIBED_MAX 64

/* The type records of the messages [from, n_out): records of data sets whose template's first
 * scope field is privateEnterpriseNumber, after the walker has checked every message. Returns
 * how many; *template_at: the index of the
 * first message that defines the type records' options template, or SIZE_MAX. */
static size_t
type_records(size_t from, struct described *d, size_t *template_at)
{
    size_t n = 0, i;

    walk_new(xs.mtu); /* checks the messages, and defines their templates in tdefs */
    *template_at = SIZE_MAX;
    for (i = from; i < n_out; i++) {
        const uint8_t *p = out[i].buf;
        size_t at = IXD_HEADER_LEN;
        while (at < out[i].len) {
            uint16_t id = ixd_get16(p + at), slen = ixd_get16(p + at + 2);
            const struct tdef *t = &tdefs[id];
            if (id == IXD_SET_OPTIONS_TEMPLATE && ixd_get16(p + at + 10) == 346 &&
                *template_at == SIZE_MAX) {
                *template_at = i;
            }
            if (id >= IXD_MIN_DATA_SET && t->n == 9 && t->scope == 2 && t->id[0] == 346) {
                size_t r = at + 4;
                while (r < at + slen) {
                    size_t len = p[r + 26];
                    assert_true(n < DESCRIBED_MAX);
                    d[n].pen = ixd_get32(p + r);
                    d[n].id = ixd_get16(p + r + 4);
                    d[n].type = p[r + 6];
                    d[n].semantics = p[r + 7];
                    d[n].units = ixd_get16(p + r + 8);
                    assert_true(len < sizeof(d[n].name));
                    memcpy(d[n].name, p + r + 27, len);
                    d[n].name[len] = '\0';
                    r += record_length(t, p + r, at + slen - r);
                    n++;
                }
            }
            at += slen;
        }
    }
    return n;
}

/* The IDs of the sets of message o, in order; returns how many (at most max). */
static size_t
set_ids(const struct out_msg *o, uint16_t *ids, size_t max)
{
    size_t at = IXD_HEADER_LEN, n = 0;

    while (at < o->len && n < max) {
        ids[n++] = ixd_get16(o->buf + at);
        at += ixd_get16(o->buf + at + 2);
    }
    return n;
}

/* Template tid: sourceTransportPort, then the given (enterprise, element) fields at their
 * registered lengths (strings variable-length). */
static struct ixd_template *
own_template(uint16_t tid, uint32_t pen, const uint16_t *ids, size_t n)
{
    struct ixd_template *t = NULL;
    enum ixd_error why;
    size_t used, k;
    uint16_t id;
    struct ib b;

    ib_reset(&b);
    ib_template(&b, tid, (uint16_t)(1 + n));
    ib_field(&b, 7, 2);
    for (k = 0; k < n; k++) {
        ib_field_en(&b, ids[k], ixd_own_elements[ids[k] - 1].length, pen);
    }
    assert_int_equal(ixd_template_parse(b.buf, b.len, 0, &rules, &t, &id, &used, &why),
                     IXD_TPARSE_TEMPLATE);
    return t;
}

/* One record of t in a batch of its own: the port, then an empty string or zeros per field. */
static void
write_record(const struct ixd_template *t, uint32_t odid)
{
    struct ixd_source src;
    struct sockaddr_in sin = exporter_addr();
    uint8_t data[256] = {0};
    size_t len = 2, k;
    struct ixd_record r;
    struct ixd_batch b = {&src, 1, &r};

    memset(&src, 0, sizeof(src));
    src.collector = "in";
    memcpy(&src.exporter, &sin, sizeof(sin));
    src.odid = odid;
    src.export_time = SOURCE_TIME;
    for (k = 1; k < t->field_count; k++) {
        len += t->fields[k].length == IXD_VARLEN ? 1 : t->fields[k].length;
    }
    r = (struct ixd_record){t, data, (uint16_t)len, NULL, NULL};
    assert_int_equal(ixd_xsession_write(&xs, &b, 0, EXPORT_NOW), 0);
}

/* Writes one record of t in domain odid and finishes the message: the type records that came
 * out go into d, and must have come with their options template, in the first new message. */
static size_t
described_anew(const struct ixd_template *t, uint32_t odid, struct described *d)
{
    size_t before = n_out, tpl_at, n;

    write_record(t, odid);
    ixd_xsession_finish(&xs);
    n = type_records(before, d, &tpl_at);
    assert_int_equal(tpl_at, before);
    return n;
}

static int
setup_own(void **state)
{
    /* the registry takes 32473 for ipfixd's own elements, as elements.enterprise says */
    assert_int_equal(ixd_ie_registry_add_own(registry, OWN_PEN), 0);
    return setup_udp1400(state);
}

/* The records and options template, field by field, for every own element; and every record
 * fits an empty message of the smallest mtu an export accepts, behind the template. */
static void
test_record_layout(void **state)
{
    uint8_t rec[IXD_TYPEREC_MAX];
    size_t i;

    (void)state;
    assert_true(ixd_n_own_elements <= 64); /* one bit each in a session's masks */
    assert_int_equal(ixd_typerec_template(rec, 300), IXD_TYPEREC_TEMPLATE_LEN);
    assert_int_equal(ixd_get16(rec), 300);
    assert_int_equal(ixd_get16(rec + 2), 9);
    assert_int_equal(ixd_get16(rec + 4), 2);
    for (i = 0; i < ixd_n_own_elements; i++) {
        const struct ixd_own_element *e = &ixd_own_elements[i];
        size_t n = ixd_typerec_length(e);
        assert_true(n <= IXD_TYPEREC_MAX);
        assert_true(IXD_HEADER_LEN + 2 * IXD_SET_HEADER_LEN + IXD_TYPEREC_TEMPLATE_LEN + n <= 256);
        assert_int_equal(ixd_typerec_write(rec, OWN_PEN, e), n);
        assert_int_equal(ixd_get32(rec), OWN_PEN);
        assert_int_equal(ixd_get16(rec + 4), e->id);
        assert_int_equal(rec[26], strlen(e->name));
        assert_memory_equal(rec + 27, e->name, strlen(e->name));
        assert_int_equal(rec[27 + strlen(e->name)], strlen(e->description));
    }
}

/* Described before the first template that uses them, in its message when they fit, each
 * element once per epoch, another enterprise's elements of the same ids never; described again
 * in a new transport session. */
static void
test_described_before_use(void **state)
{
    static const uint16_t names_speed[] = {1, 5}, names_egress[] = {1, 2}, tunnel[] = {17};
    struct ixd_template *plain = own_template(256, OWN_PEN, NULL, 0);
    struct ixd_template *a = own_template(300, OWN_PEN, names_speed, 2);
    struct ixd_template *b = own_template(301, OWN_PEN, names_egress, 2);
    struct ixd_template *other = own_template(302, OTHER_PEN, names_speed, 2);
    struct ixd_template *v6 = own_template(303, OWN_PEN, tunnel, 1);
    struct described d[DESCRIBED_MAX];
    size_t before, tpl_at;
    uint16_t sets[8];

    (void)state;
    write_record(plain, 1);
    write_record(other, 1);
    ixd_xsession_finish(&xs);
    assert_int_equal(type_records(0, d, &tpl_at), 0);
    assert_int_equal(tpl_at, SIZE_MAX);

    before = n_out;
    write_record(a, 1);
    write_record(a, 1);
    ixd_xsession_finish(&xs);
    assert_int_equal(type_records(before, d, &tpl_at), 2);
    /* one message: the type template, the type records, the template, the records */
    assert_int_equal(n_out, before + 1);
    assert_int_equal(tpl_at, before);
    assert_int_equal(out[before].records, 2);
    assert_int_equal(out[before].described, 2);
    assert_int_equal(set_ids(&out[before], sets, 8), 4);
    assert_int_equal(sets[0], IXD_SET_OPTIONS_TEMPLATE);
    assert_true(sets[1] >= IXD_MIN_DATA_SET && sets[1] != 300);
    assert_int_equal(sets[2], IXD_SET_TEMPLATE);
    assert_int_equal(sets[3], 300);
    assert_int_equal(d[0].pen, OWN_PEN);
    assert_int_equal(d[0].id, 1);
    assert_int_equal(d[0].type, 13); /* string */
    assert_string_equal(d[0].name, "ingressInterfaceName");
    assert_int_equal(d[1].id, 5);
    assert_int_equal(d[1].type, 4); /* unsigned64 */
    assert_int_equal(d[1].semantics, 1);
    assert_string_equal(d[1].name, "ingressInterfaceSpeed");

    /* only the element not described yet, under the template sent already */
    before = n_out;
    write_record(b, 1);
    write_record(v6, 1);
    ixd_xsession_finish(&xs);
    assert_int_equal(type_records(before, d, &tpl_at), 2);
    assert_int_equal(tpl_at, SIZE_MAX);
    assert_string_equal(d[0].name, "egressInterfaceName");
    assert_int_equal(d[1].type, 19); /* ipv6Address */

    /* another domain has its own */
    assert_int_equal(described_anew(a, 2, d), 2);

    /* the sequence numbers count type records; every template is defined before its data;
     * the collector takes every message: no error, no sequence gap */
    walk_new(1400);
    collect(0);
    assert_int_equal(ixd_counters_errors(&ss.counters), 0);
    assert_int_equal(ss.counters.seq_lost, 0);

    /* a new transport session (connection, file): described again */
    ixd_xsession_restart(&xs);
    seq_restart();
    assert_int_equal(described_anew(b, 1, d), 2);
    walk_new(1400);
    ixd_template_free(plain);
    ixd_template_free(a);
    ixd_template_free(b);
    ixd_template_free(other);
    ixd_template_free(v6);
}

/* A message holding type records that its emitter refused describes them again before the
 * next use: it counts as a message that defined templates. */
static void
test_refused_descriptions_go_again(void **state)
{
    static const uint16_t names[] = {1, 2};
    struct ixd_template *a = own_template(300, OWN_PEN, names, 2);
    struct described d[DESCRIBED_MAX];

    (void)state;
    refuse_next = 1;
    assert_int_equal(described_anew(a, 1, d), 2);
    assert_true(out[0].refused);
    assert_int_equal(out[0].templates, 1);
    assert_int_equal(described_anew(a, 1, d), 2);
    ixd_template_free(a);
}

/* The enrich stage's twelve elements in one template, at the smallest mtu: the descriptions do
 * not fit with the record, so they go first, in as many messages as they need, each within the
 * mtu. */
static void
test_descriptions_split_at_mtu(void **state)
{
    uint16_t ids[12];
    struct ixd_template *all;
    struct described d[DESCRIBED_MAX];
    size_t k, tpl_at;

    (void)state;
    ixd_xsession_release(&xs);
    assert_int_equal(ixd_xsession_init(&xs, "x", 256, IXD_XWITHDRAW_NONE, emit, NULL), 0);
    for (k = 0; k < 12; k++) {
        ids[k] = (uint16_t)(k + 1);
    }
    all = own_template(300, OWN_PEN, ids, 12);
    write_record(all, 1);
    ixd_xsession_finish(&xs);
    assert_int_equal(type_records(0, d, &tpl_at), 12);
    assert_true(n_out > 3);
    assert_int_equal(out[n_out - 1].described, 0);
    assert_int_equal(out[n_out - 1].records, 1);
    for (k = 0; k < 12; k++) {
        assert_int_equal(d[k].id, k + 1);
    }
    walk_new(256);
    ixd_template_free(all);
}

/* What a new TCP connection starts with: each domain's type template and the records it has
 * described, then its templates. */
struct prelude_seen {
    uint16_t set_id[32];
    size_t n;
};

static void
prelude_record(void *arg, uint32_t odid, uint16_t set_id, const uint8_t *rec, size_t len)
{
    struct prelude_seen *p = arg;

    (void)rec;
    (void)len;
    assert_int_equal(odid, 1);
    assert_true(p->n < 32);
    p->set_id[p->n++] = set_id;
}

static void
test_prelude_carries_descriptions(void **state)
{
    static const uint16_t names[] = {1, 2};
    struct ixd_template *a = own_template(300, OWN_PEN, names, 2);
    struct prelude_seen p = {{0}, 0};
    uint16_t type_tid;

    (void)state;
    write_record(a, 1);
    ixd_xsession_finish(&xs);
    type_tid = ixd_get16(out[0].buf + IXD_HEADER_LEN + 4);
    ixd_xsession_restart(&xs);
    ixd_xsession_each_template(&xs, prelude_record, &p);
    assert_int_equal(p.n, 4);
    assert_int_equal(p.set_id[0], IXD_SET_OPTIONS_TEMPLATE);
    assert_int_equal(p.set_id[1], type_tid);
    assert_int_equal(p.set_id[2], type_tid);
    assert_int_equal(p.set_id[3], IXD_SET_TEMPLATE);
    /* counted as sent in this session: the next record needs nothing in front */
    write_record(a, 1);
    ixd_xsession_finish(&xs);
    assert_int_equal(n_out, 2);
    assert_int_equal(ixd_get16(out[1].buf + IXD_HEADER_LEN), 300);
    ixd_template_free(a);
}

int
main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(test_##name, setup_own, teardown_export)
    const struct CMUnitTest tests[] = {
        T(record_layout),
        T(described_before_use),
        T(refused_descriptions_go_again),
        T(descriptions_split_at_mtu),
        T(prelude_carries_descriptions),
    };
#undef T
    return cmocka_run_group_tests(tests, export_group_setup, export_group_teardown);
}
