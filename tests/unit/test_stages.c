/* Unit tests of the built-in stages that change records: anonymise (src/pipeline/
 * stage_anonymise.c), select/drop/set (stage_fields.c) and observation-domain
 * (stage_domain.c), each driven through its struct ixd_stage_type: conf on settings built here,
 * start, process on batches of records decoded from real messages (decode_fixture.h), stop. */
#include "decode_fixture.h"

#include <stdarg.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/cnode.h"
#include "ipfix/template.h"
#include "ipfixd/stage.h"

extern const struct ixd_stage_type ixd_stage_anonymise;
extern const struct ixd_stage_type ixd_stage_select;
extern const struct ixd_stage_type ixd_stage_drop;
extern const struct ixd_stage_type ixd_stage_set;
extern const struct ixd_stage_type ixd_stage_observation_domain;

#define FILE_NAME "stages.yaml"
#define OUT_FIELDS 16
#define OUT_MAX 64

/* ---- settings, as the config parser would keep them ---- */

static unsigned node_line;

/* A scalar; each node is on a line of its own, column 3, so errors say where. */
static struct ixd_cnode
sc(const char *text)
{
    struct ixd_cnode n;

    memset(&n, 0, sizeof(n));
    n.kind = IXD_CNODE_SCALAR;
    n.line = ++node_line;
    n.column = 3;
    n.text = strdup(text);
    assert_non_null(n.text);
    return n;
}

/* A sequence of scalars. */
static struct ixd_cnode
sq(size_t count, ...)
{
    struct ixd_cnode n;
    va_list ap;
    size_t i;

    memset(&n, 0, sizeof(n));
    n.kind = IXD_CNODE_SEQUENCE;
    n.line = ++node_line;
    n.column = 3;
    n.n = count;
    n.items = calloc(count + 1, sizeof(*n.items));
    assert_non_null(n.items);
    va_start(ap, count);
    for (i = 0; i < count; i++) {
        n.items[i] = sc(va_arg(ap, const char *));
    }
    va_end(ap);
    return n;
}

/* A mapping of count pairs: a key (const char *) then its value (struct ixd_cnode *, taken
 * over). */
static struct ixd_cnode
mp(size_t count, ...)
{
    struct ixd_cnode n;
    va_list ap;
    size_t i;

    memset(&n, 0, sizeof(n));
    n.kind = IXD_CNODE_MAPPING;
    n.line = ++node_line;
    n.column = 3;
    n.n = count;
    n.items = calloc(2 * count + 1, sizeof(*n.items));
    assert_non_null(n.items);
    va_start(ap, count);
    for (i = 0; i < count; i++) {
        n.items[2 * i] = sc(va_arg(ap, const char *));
        n.items[2 * i + 1] = *va_arg(ap, struct ixd_cnode *);
    }
    va_end(ap);
    return n;
}

/* A mapping of scalar values: key, value, key, value... */
static struct ixd_cnode
mps(size_t count, ...)
{
    struct ixd_cnode n;
    va_list ap;
    size_t i;

    memset(&n, 0, sizeof(n));
    n.kind = IXD_CNODE_MAPPING;
    n.line = ++node_line;
    n.column = 3;
    n.n = count;
    n.items = calloc(2 * count + 1, sizeof(*n.items));
    assert_non_null(n.items);
    va_start(ap, count);
    for (i = 0; i < count; i++) {
        n.items[2 * i] = sc(va_arg(ap, const char *));
        n.items[2 * i + 1] = sc(va_arg(ap, const char *));
    }
    va_end(ap);
    return n;
}

static struct ixd_stage_env env;
static char err[512];

/* conf() of type t on settings (released here); NULL with err when refused. */
static void *
conf_of(const struct ixd_stage_type *t, struct ixd_cnode settings)
{
    void *c;

    err[0] = '\0';
    c = t->conf(&settings, &env, err, sizeof(err));
    ixd_cnode_release(&settings);
    return c;
}

/* conf() must refuse settings with a message at the given line that contains what. */
static void
refused(const struct ixd_stage_type *t, struct ixd_cnode settings, unsigned line, const char *what)
{
    char where[64];

    assert_null(conf_of(t, settings));
    snprintf(where, sizeof(where), FILE_NAME ":%u:3: ", line);
    if (strncmp(err, where, strlen(where)) != 0 || strstr(err, what) == NULL) {
        fail_msg("want '%s...%s', got '%s'", where, what, err);
    }
}

/* ---- the stage run over decoded batches ---- */

/* A record as the stage left it. */
struct out_rec {
    const struct ixd_template *tmpl;
    uint64_t serial;
    uint16_t tid, nf, scope;
    uint32_t pen[OUT_FIELDS];
    uint16_t id[OUT_FIELDS], flen[OUT_FIELDS];
    uint8_t value[OUT_FIELDS][64]; /* the first 64 bytes of each value */
    uint32_t length;
    uint8_t raw[512];    /* the record's first 512 bytes */
    const uint8_t *data; /* where its bytes were (valid during the call only) */
    int in_message;      /* its bytes lie in the message that was decoded */
};

static struct {
    const struct ixd_stage_type *type;
    void *state;
    size_t n, batches;
    uint32_t odid;                   /* of the batch's source after the stage */
    const struct ixd_source *source; /* the batch's source after the stage */
    struct ixd_source original;      /* the decoder's, copied before the stage ran */
    const struct ixd_source *original_at;
    struct out_rec r[OUT_MAX];
} run;

static void
run_stage(void *arg, const struct ixd_batch *in)
{
    struct ixd_record recs[IXD_BATCH_MAX];
    struct ixd_batch b = *in;
    size_t i;
    uint16_t k;

    memcpy(recs, in->records, in->count * sizeof(*recs));
    b.records = recs;
    run.original = *in->source;
    run.original_at = in->source;
    run.type->process(run.state, &b);
    run.batches++;
    run.source = b.source;
    run.odid = b.source->odid;
    /* the decoder's source is not the stage's to change */
    assert_memory_equal(in->source, &run.original, sizeof(run.original));
    for (i = 0; i < b.count; i++) {
        const struct ixd_record *r = &b.records[i];
        struct out_rec *o = &run.r[run.n++];

        assert_true(run.n <= OUT_MAX);
        o->tmpl = r->tmpl;
        o->serial = r->tmpl->serial;
        o->tid = r->tmpl->id;
        o->scope = r->tmpl->scope_count;
        o->nf = r->tmpl->field_count;
        o->data = r->data;
        o->length = r->length;
        memcpy(o->raw, r->data, r->length < sizeof(o->raw) ? r->length : sizeof(o->raw));
        o->in_message = r->data >= msg_lo && r->data < msg_hi;
        assert_true(o->nf <= OUT_FIELDS);
        for (k = 0; k < o->nf; k++) {
            uint16_t len;
            const uint8_t *p = ixd_record_field(r, k, &len);
            assert_true(p >= r->data && p + len <= r->data + r->length);
            o->pen[k] = r->tmpl->fields[k].pen;
            o->id[k] = r->tmpl->fields[k].id;
            o->flen[k] = len;
            memcpy(o->value[k], p, len < sizeof(o->value[k]) ? len : sizeof(o->value[k]));
        }
    }
}

static uint8_t message_copy[IB_SIZE];

/* Decodes m with the stage running on its batches; the message's bytes must come out as they
 * went in (records may be shared with other pipelines). Returns the records decoded. */
static int
decode(void)
{
    int n;

    memcpy(message_copy, m.buf, m.len);
    n = process();
    assert_memory_equal(m.buf, message_copy, m.len);
    return n;
}

static void *stage_conf;

static void
stage_start(const struct ixd_stage_type *t, void *c)
{
    assert_non_null(c);
    stage_conf = c;
    run.type = t;
    run.state = t->start(c, 0, NULL);
    assert_non_null(run.state);
    run.n = run.batches = 0;
}

static void
stage_stop(void)
{
    if (run.state != NULL) {
        if (run.type->failed != NULL) {
            assert_int_equal(run.type->failed(run.state), 0);
        }
        run.type->stop(run.state);
        run.type->conf_free(stage_conf);
    }
    run.state = NULL;
    stage_conf = NULL;
}

static int
setup_stage(void **state)
{
    start(0, 4096);
    ixd_decoder_init(dec, run_stage, NULL);
    node_line = 0;
    return 0;
}

static int
teardown_stage(void **state)
{
    stage_stop();
    return teardown(state);
}

static char key_path[64];
static char key_dir[] = "/tmp/ixd-test-stages-XXXXXX";

/* The sample key of the Crypto-PAn reference implementation, as a key file (64 hex digits). */
static int
stages_group_setup(void **state)
{
    static const uint8_t sample_key[32] = {21,  34, 23,  141, 51, 164, 207, 128, 19,  10,  91,
                                           22,  73, 144, 125, 16, 216, 152, 143, 131, 121, 121,
                                           101, 39, 98,  87,  76, 45,  42,  132, 34,  2};
    FILE *f;
    size_t i;

    if (mkdtemp(key_dir) == NULL) {
        return -1;
    }
    snprintf(key_path, sizeof(key_path), "%s/key", key_dir);
    f = fopen(key_path, "w");
    if (f == NULL) {
        return -1;
    }
    for (i = 0; i < sizeof(sample_key); i++) {
        fprintf(f, "%02x", sample_key[i]);
    }
    fputc('\n', f);
    if (fclose(f) != 0 || chmod(key_path, 0600) != 0) {
        return -1;
    }
    if (group_setup(state) != 0) {
        return -1;
    }
    env.file = FILE_NAME;
    env.registry = registry;
    env.workers = 1;
    env.syntax_only = 0;
    return 0;
}

static int
stages_group_teardown(void **state)
{
    unlink(key_path);
    rmdir(key_dir);
    return group_teardown(state);
}

static uint32_t
v4(const char *text)
{
    struct in_addr a;

    assert_int_equal(inet_pton(AF_INET, text, &a), 1);
    return ntohl(a.s_addr);
}

static void
put_v6(struct ib *b, const char *text)
{
    uint8_t a[16];

    assert_int_equal(inet_pton(AF_INET6, text, a), 1);
    ib_bytes(b, a, 16);
}

static void
expect_v6(const uint8_t *value, const char *text)
{
    uint8_t a[16];

    assert_int_equal(inet_pton(AF_INET6, text, a), 1);
    assert_memory_equal(value, a, 16);
}

/* Template 260: sourceIPv4Address, destinationIPv4Address, octetDeltaCount,
 * sourceIPv6Address, sourceTransportPort (34 bytes); and template 261 without any address
 * (protocolIdentifier, packetDeltaCount). One record of each per pair given. */
static void
msg_addresses(const char *const *src4, const char *const *dst4, const char *const *src6, size_t n)
{
    size_t s, i;

    ib_msg_begin(&m, 1700000000u, 0, 5);
    s = ib_set_begin(&m, IXD_SET_TEMPLATE);
    ib_template(&m, 260, 5);
    ib_field(&m, 8, 4);
    ib_field(&m, 12, 4);
    ib_field(&m, 1, 8);
    ib_field(&m, 27, 16);
    ib_field(&m, 7, 2);
    ib_template(&m, 261, 2);
    ib_field(&m, 4, 1);
    ib_field(&m, 2, 8);
    ib_set_end(&m, s);
    s = ib_set_begin(&m, 260);
    for (i = 0; i < n; i++) {
        ib_u32(&m, v4(src4[i]));
        ib_u32(&m, v4(dst4[i]));
        ib_u64(&m, 1000 + i);
        put_v6(&m, src6[i]);
        ib_u16(&m, (uint16_t)(443 + i));
    }
    ib_set_end(&m, s);
    s = ib_set_begin(&m, 261);
    ib_u8(&m, 6);
    ib_u64(&m, 77);
    ib_set_end(&m, s);
    ib_msg_end(&m);
}

/* ---- anonymise ---- */

/* Crypto-PAn with the reference key gives the reference implementation's published images;
 * every address element changes, nothing else does, and the record without addresses keeps
 * its bytes where they were. */
static void
test_anonymise_cryptopan(void **state)
{
    static const char *const src4[] = {"128.11.68.132", "24.0.250.221"};
    static const char *const dst4[] = {"129.118.74.4", "24.13.62.231"};
    static const char *const src6[] = {"2001:db8::1", "::1"};
    struct ixd_cnode v[2] = {sc("cryptopan"), sc(key_path)};

    stage_start(&ixd_stage_anonymise,
                conf_of(&ixd_stage_anonymise, mp(2, "method", &v[0], "key-file", &v[1])));
    msg_addresses(src4, dst4, src6, 2);
    assert_int_equal(decode(), 3);
    assert_int_equal(run.n, 3);
    assert_int_equal(ixd_get32(run.r[0].value[0]), v4("135.242.180.132"));
    assert_int_equal(ixd_get32(run.r[0].value[1]), v4("134.136.186.123"));
    assert_int_equal(ixd_get64(run.r[0].value[2]), 1000);
    expect_v6(run.r[0].value[3], "4401:2bc:603f:d91d:27f:ff8e:e6f1:dc1e");
    assert_int_equal(ixd_get16(run.r[0].value[4]), 443);
    assert_int_equal(ixd_get32(run.r[1].value[0]), v4("100.15.198.226"));
    assert_int_equal(ixd_get32(run.r[1].value[1]), v4("100.2.192.247"));
    expect_v6(run.r[1].value[3], "78ff:f001:9fc0:20df:8380:b1f1:704:ed");
    assert_int_equal(ixd_get16(run.r[1].value[4]), 444);
    /* the template stays; changed records are copies, the other one is the message's */
    assert_int_equal(run.r[0].tid, 260);
    assert_int_equal(run.r[0].nf, 5);
    assert_false(run.r[0].in_message);
    assert_int_equal(run.r[2].tid, 261);
    assert_true(run.r[2].in_message);
    assert_int_equal(ixd_get64(run.r[2].value[1]), 77);
}

/* ipv4-prefix keeps the first bits in clear and takes the rest from the full image; elements
 * limits the change to the elements named. */
static void
test_anonymise_prefix_and_elements(void **state)
{
    static const char *const src4[] = {"128.11.68.132"};
    static const char *const dst4[] = {"129.118.74.4"};
    static const char *const src6[] = {"2001:db8::2"};
    struct ixd_cnode v[4] = {sc("cryptopan"), sc(key_path), sc("16"), sq(1, "sourceIPv4Address")};

    stage_start(&ixd_stage_anonymise,
                conf_of(&ixd_stage_anonymise, mp(4, "method", &v[0], "key-file", &v[1],
                                                 "ipv4-prefix", &v[2], "elements", &v[3])));
    msg_addresses(src4, dst4, src6, 1);
    assert_int_equal(decode(), 2);
    assert_int_equal(ixd_get32(run.r[0].value[0]), v4("128.11.180.132"));
    assert_int_equal(ixd_get32(run.r[0].value[1]), v4("129.118.74.4"));
    expect_v6(run.r[0].value[3], "2001:db8::2");
}

/* Truncation keeps the prefix and zeroes the rest; a family without a prefix is zeroed. */
static void
test_anonymise_truncate(void **state)
{
    static const char *const src4[] = {"192.0.2.77", "198.51.100.255"};
    static const char *const dst4[] = {"203.0.113.9", "10.1.2.3"};
    static const char *const src6[] = {"2001:db8:f123:2::99", "fe80::1"};
    struct ixd_cnode v[2] = {sc("truncate"), sc("24")};

    stage_start(&ixd_stage_anonymise,
                conf_of(&ixd_stage_anonymise, mp(2, "method", &v[0], "ipv4-prefix", &v[1])));
    msg_addresses(src4, dst4, src6, 2);
    assert_int_equal(decode(), 3);
    assert_int_equal(ixd_get32(run.r[0].value[0]), v4("192.0.2.0"));
    assert_int_equal(ixd_get32(run.r[0].value[1]), v4("203.0.113.0"));
    expect_v6(run.r[0].value[3], "::");
    assert_int_equal(ixd_get32(run.r[1].value[0]), v4("198.51.100.0"));
    assert_int_equal(ixd_get32(run.r[1].value[1]), v4("10.1.2.0"));
    assert_int_equal(ixd_get64(run.r[1].value[2]), 1001);
    stage_stop();

    /* an IPv6 prefix of 36 bits ends inside the third group; IPv4 kept whole */
    {
        struct ixd_cnode w[3] = {sc("truncate"), sc("36"), sc("32")};
        stage_start(&ixd_stage_anonymise,
                    conf_of(&ixd_stage_anonymise,
                            mp(3, "method", &w[0], "ipv6-prefix", &w[1], "ipv4-prefix", &w[2])));
    }
    msg_addresses(src4, dst4, src6, 2);
    assert_int_equal(decode(), 3);
    expect_v6(run.r[0].value[3], "2001:db8:f000::");
    assert_int_equal(ixd_get32(run.r[0].value[0]), v4("192.0.2.77"));
}

/* Settings refused with where: the node's line (value or mapping) and what is wrong. */
static void
test_anonymise_settings_refused(void **state)
{
    struct ixd_cnode v, w, x;

    v = sc("hash");
    x = mp(1, "method", &v);
    refused(&ixd_stage_anonymise, x, x.items[1].line, "method must be cryptopan or truncate");
    v = sc("cryptopan");
    x = mp(1, "method", &v);
    refused(&ixd_stage_anonymise, x, x.line, "method cryptopan needs a key-file");
    v = sc("truncate");
    x = mp(1, "method", &v);
    refused(&ixd_stage_anonymise, x, x.line, "needs ipv4-prefix and/or ipv6-prefix");
    v = sc("truncate");
    w = sc("33");
    x = mp(2, "method", &v, "ipv4-prefix", &w);
    refused(&ixd_stage_anonymise, x, x.items[3].line, "a prefix length from 0 to 32");
    v = sc("truncate");
    w = sc("129");
    x = mp(2, "method", &v, "ipv6-prefix", &w);
    refused(&ixd_stage_anonymise, x, x.items[3].line, "a prefix length from 0 to 128");
    v = sc("truncate");
    w = sq(2, "sourceIPv4Address", "octetDeltaCount");
    x = mp(2, "method", &v, "elements", &w);
    refused(&ixd_stage_anonymise, x, x.items[3].items[1].line,
            "'octetDeltaCount' is not an IPv4 or IPv6 address element");
    v = sc("/nonexistent/key");
    x = mp(1, "key-file", &v);
    refused(&ixd_stage_anonymise, x, x.items[1].line, "/nonexistent/key");
    v = sc("x");
    x = mp(1, "salt", &v);
    refused(&ixd_stage_anonymise, x, x.items[0].line, "unknown key 'salt'");
    x = sc("cryptopan");
    refused(&ixd_stage_anonymise, x, x.line, "anonymise wants settings");
}

/* ---- select, drop, set ---- */

/* Template 256 of decode_fixture.h: source, destination, octets; n records from base. */
static void
msg_256(unsigned n, unsigned base)
{
    ib_msg_begin(&m, 1700000000u, 0, 5);
    set_template_256(&m);
    set_data_256(&m, n, base);
    ib_msg_end(&m);
}

/* select keeps the elements named, in the template's order, in a derived template compiled
 * once per source template and kept: the next batch's records point at the same one. */
static void
test_select_derived_template_cached(void **state)
{
    const struct ixd_template *first;
    uint64_t serial;

    stage_start(&ixd_stage_select,
                conf_of(&ixd_stage_select, sq(2, "octetDeltaCount", "sourceIPv4Address")));
    msg_256(2, 3);
    assert_int_equal(decode(), 2);
    assert_int_equal(run.n, 2);
    first = run.r[0].tmpl;
    serial = run.r[0].serial;
    assert_int_equal(run.r[0].tid, 256);
    assert_int_equal(run.r[0].nf, 2);
    assert_int_equal(run.r[0].id[0], 8);
    assert_int_equal(run.r[0].id[1], 1);
    assert_int_equal(first->fixed_length, 12);
    assert_int_equal(ixd_get32(run.r[1].value[0]), 0x0a000004u);
    assert_int_equal(ixd_get64(run.r[1].value[1]), 4000);
    assert_false(run.r[0].in_message);
    msg_256(1, 9);
    assert_int_equal(decode(), 1);
    assert_ptr_equal(run.r[2].tmpl, first);
    assert_int_equal(run.r[2].serial, serial);
    assert_int_equal(ixd_get64(run.r[2].value[1]), 9000);

    /* another layout under the same ID is another source template: derived again */
    ib_msg_begin(&m, 1700000000u, 0, 5);
    {
        size_t s = ib_set_begin(&m, IXD_SET_TEMPLATE);
        ib_template(&m, 256, 2);
        ib_field(&m, 1, 4);
        ib_field(&m, 8, 4);
        ib_set_end(&m, s);
        s = ib_set_begin(&m, 256);
        ib_u32(&m, 55);
        ib_u32(&m, 0x0a0000ffu);
        ib_set_end(&m, s);
    }
    ib_msg_end(&m);
    assert_int_equal(decode(), 1);
    assert_int_not_equal(run.r[3].serial, serial);
    assert_int_equal(run.r[3].id[0], 1);
    assert_int_equal(run.r[3].flen[0], 4);
    assert_int_equal(ixd_get32(run.r[3].value[0]), 55);
    assert_int_equal(ixd_get32(run.r[3].value[1]), 0x0a0000ffu);
}

/* drop removes the elements named; a select that leaves nothing drops the record on purpose
 * (not counted as failed); options records pass as they came. */
static void
test_drop_and_nothing_left(void **state)
{
    size_t s;

    stage_start(&ixd_stage_drop, conf_of(&ixd_stage_drop, sq(1, "destinationIPv4Address")));
    msg_256(1, 2);
    assert_int_equal(decode(), 1);
    assert_int_equal(run.r[0].nf, 2);
    assert_int_equal(run.r[0].id[0], 8);
    assert_int_equal(run.r[0].id[1], 1);
    assert_int_equal(ixd_get32(run.r[0].value[0]), 0x0a000002u);
    stage_stop();

    stage_start(&ixd_stage_select, conf_of(&ixd_stage_select, sq(1, "sourceIPv6Address")));
    ib_msg_begin(&m, 1700000000u, 0, 5);
    set_template_256(&m);
    s = ib_set_begin(&m, IXD_SET_OPTIONS_TEMPLATE);
    ib_options_template(&m, 300, 2, 1);
    ib_field(&m, 149, 4);
    ib_field(&m, 34, 4);
    ib_set_end(&m, s);
    set_data_256(&m, 2, 0);
    s = ib_set_begin(&m, 300);
    ib_u32(&m, 5);
    ib_u32(&m, 100);
    ib_set_end(&m, s);
    ib_msg_end(&m);
    assert_int_equal(decode(), 3);
    assert_int_equal(run.n, 1);
    assert_int_equal(run.r[0].tid, 300);
    assert_int_equal(run.r[0].scope, 1);
    assert_true(run.r[0].in_message);
    assert_int_equal(ixd_get32(run.r[0].value[1]), 100);
}

/* set replaces an element where it is (in its registered encoding) and appends those the
 * record lacks: unsigned, address, string (variable length) and boolean values. */
static void
test_set_values_encoded(void **state)
{
    size_t s;
    static const char name[] = "a name long enough to need the three-byte length prefix of RFC "
                               "7011 section 7, which is what this field comes with: it is "
                               "more than two hundred and fifty-four bytes long, so the "
                               "exporter had no choice, and select must keep it as it is, "
                               "prefix and all, byte for byte";

    stage_start(
        &ixd_stage_set,
        conf_of(&ixd_stage_set, mps(5, "octetDeltaCount", "0x10000", "ingressInterface", "7",
                                    "destinationIPv4Address", "192.0.2.99", "interfaceName",
                                    "uplink-1", "dataRecordsReliability", "false")));
    ib_msg_begin(&m, 1700000000u, 0, 5);
    s = ib_set_begin(&m, IXD_SET_TEMPLATE);
    ib_template(&m, 270, 4);
    ib_field(&m, 1, 4); /* octetDeltaCount, reduced to 4 bytes */
    ib_field(&m, 8, 4);
    ib_field(&m, 83, IXD_VARLEN); /* interfaceDescription */
    ib_field(&m, 12, 4);
    ib_set_end(&m, s);
    s = ib_set_begin(&m, 270);
    ib_u32(&m, 12);
    ib_u32(&m, 0x0a000001u);
    ib_varlen(&m, name, strlen(name), 1);
    ib_u32(&m, 0x0a000002u);
    ib_set_end(&m, s);
    ib_msg_end(&m);
    assert_true(strlen(name) > 255);
    assert_int_equal(decode(), 1);
    assert_int_equal(run.r[0].nf, 7);
    /* replaced where they were, in 8 and 4 bytes */
    assert_int_equal(run.r[0].id[0], 1);
    assert_int_equal(run.r[0].flen[0], 8);
    assert_int_equal(ixd_get64(run.r[0].value[0]), 0x10000);
    assert_int_equal(ixd_get32(run.r[0].value[1]), 0x0a000001u);
    assert_int_equal(run.r[0].id[2], 83);
    assert_int_equal(run.r[0].flen[2], strlen(name));
    /* kept with its three-byte length prefix, after the 8 + 4 bytes before it */
    assert_int_equal(run.r[0].raw[12], 255);
    assert_int_equal(ixd_get16(run.r[0].raw + 13), strlen(name));
    assert_memory_equal(run.r[0].raw + 15, name, strlen(name));
    assert_int_equal(run.r[0].id[3], 12);
    assert_int_equal(ixd_get32(run.r[0].value[3]), v4("192.0.2.99"));
    /* appended in the settings' order */
    assert_int_equal(run.r[0].id[4], 10);
    assert_int_equal(run.r[0].flen[4], 4);
    assert_int_equal(ixd_get32(run.r[0].value[4]), 7);
    assert_int_equal(run.r[0].id[5], 82);
    assert_int_equal(run.r[0].flen[5], 8);
    assert_memory_equal(run.r[0].value[5], "uplink-1", 8);
    assert_int_equal(run.r[0].id[6], 276);
    assert_int_equal(run.r[0].flen[6], 1);
    assert_int_equal(run.r[0].value[6][0], 2);
}

/* A string of 255 bytes takes the three-byte length prefix (255 alone announces it). */
static void
test_set_string_of_255_bytes(void **state)
{
    char value[256];

    memset(value, 'x', 255);
    value[255] = '\0';
    stage_start(&ixd_stage_set, conf_of(&ixd_stage_set, mps(1, "interfaceName", value)));
    msg_256(1, 0);
    assert_int_equal(decode(), 1);
    assert_int_equal(run.r[0].nf, 4);
    assert_int_equal(run.r[0].flen[3], 255);
    assert_int_equal(run.r[0].length, 16 + 3 + 255);
    assert_int_equal(run.r[0].raw[16], 255);
    assert_int_equal(ixd_get16(run.r[0].raw + 17), 255);
    assert_memory_equal(run.r[0].raw + 19, value, 255);
    stage_stop();

    /* one more is refused */
    {
        char longer[257];
        struct ixd_cnode x;
        memset(longer, 'x', 256);
        longer[256] = '\0';
        x = mps(1, "interfaceName", longer);
        refused(&ixd_stage_set, x, x.items[1].line, "at most 255 bytes");
    }
}

static void
test_set_select_settings_refused(void **state)
{
    static const struct {
        const char *name, *value, *why;
    } bad[] = {
        {"sourceTransportPort", "70000", "sourceTransportPort is unsigned16: '70000' is not"},
        {"octetDeltaCount", "-1", "octetDeltaCount is unsigned64: '-1'"},
        {"octetDeltaCount", "12abc", "'12abc' is not a value it can hold"},
        {"sourceIPv4Address", "192.0.2", "'192.0.2' is not an IPv4 address"},
        {"sourceIPv6Address", "192.0.2.1", "'192.0.2.1' is not an IPv6 address"},
        {"dataRecordsReliability", "yes", "dataRecordsReliability is true or false"},
        {"flowStartMilliseconds", "0", "flowStartMilliseconds is none of them"},
    };
    struct ixd_cnode x;
    size_t i;

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        x = mps(1, bad[i].name, bad[i].value);
        refused(&ixd_stage_set, x, x.items[1].line, bad[i].why);
    }
    x = mps(1, "noSuchElement", "1");
    refused(&ixd_stage_set, x, x.items[0].line, "no information element named 'noSuchElement'");
    x = sq(1, "octetDeltaCount");
    refused(&ixd_stage_set, x, x.line, "set wants element: value pairs");
    x = mps(1, "octetDeltaCount", "1");
    refused(&ixd_stage_select, x, x.line, "wants a list of 1 to 64");
    x = sq(2, "octetDeltaCount", "octetsDelta");
    refused(&ixd_stage_drop, x, x.items[1].line, "no information element named 'octetsDelta'");
}

/* Derived templates are cached per source template, up to a bound past which the cache is
 * emptied: a batch whose records are rebuilt under a cached template and then a new one must
 * still hold valid templates when the stage returns (outputs read them after). */
static void
test_select_cache_bound_keeps_the_batch(void **state)
{
    enum { DERIVED = 4096 }; /* stage_fields.c */
    static struct ixd_template *t[DERIVED + 1];
    static uint8_t data[DERIVED + 1][2];
    struct ixd_source src;
    struct ixd_record recs[2];
    struct ixd_batch b;
    size_t k;

    stage_start(&ixd_stage_select, conf_of(&ixd_stage_select, sq(1, "sourceTransportPort")));
    memset(&src, 0, sizeof(src));
    src.collector = "c1";
    for (k = 0; k <= DERIVED; k++) {
        struct ib tb;
        enum ixd_error why;
        size_t used;
        uint16_t id;
        ib_reset(&tb);
        ib_template(&tb, (uint16_t)(256 + k), 2);
        ib_field(&tb, 7, 2);
        ib_field(&tb, 210, 1); /* paddingOctets: dropped by the select */
        assert_int_equal(ixd_template_parse(tb.buf, tb.len, 0, &rules, &t[k], &id, &used, &why),
                         IXD_TPARSE_TEMPLATE);
        ixd_put16(data[k], (uint16_t)k);
    }
    /* one batch per template until the cache is full */
    for (k = 0; k < DERIVED; k++) {
        recs[0] = (struct ixd_record){t[k], data[k], 3, NULL, NULL};
        b = (struct ixd_batch){&src, 1, recs};
        ixd_stage_select.process(run.state, &b);
        assert_int_equal(b.count, 1);
        assert_int_equal(recs[0].tmpl->field_count, 1);
    }
    /* a cached template, then a new one */
    recs[0] = (struct ixd_record){t[5], data[5], 3, NULL, NULL};
    recs[1] = (struct ixd_record){t[DERIVED], data[DERIVED], 3, NULL, NULL};
    b = (struct ixd_batch){&src, 2, recs};
    ixd_stage_select.process(run.state, &b);
    assert_int_equal(b.count, 2);
    for (k = 0; k < 2; k++) {
        uint16_t len;
        const uint8_t *p = ixd_record_field(&recs[k], 0, &len);
        assert_int_equal(recs[k].tmpl->id, k == 0 ? 261 : 256 + DERIVED);
        assert_int_equal(recs[k].tmpl->field_count, 1);
        assert_int_equal(recs[k].tmpl->fields[0].id, 7);
        assert_int_equal(len, 2);
        assert_int_equal(ixd_get16(p), k == 0 ? 5 : DERIVED);
    }
    for (k = 0; k <= DERIVED; k++) {
        ixd_template_free(t[k]);
    }
}

/* ---- observation-domain ---- */

/* Records leave with the domain asked for; everything else of their source is as it was, and
 * the decoder's source is not touched (other pipelines read it). */
static void
test_observation_domain(void **state)
{
    stage_start(&ixd_stage_observation_domain,
                conf_of(&ixd_stage_observation_domain, sc("4294967295")));
    msg_256(3, 0);
    assert_int_equal(decode(), 3);
    assert_int_equal(run.n, 3);
    assert_int_equal(run.odid, 4294967295u);
    assert_int_equal(run.original.odid, 5);
    assert_ptr_not_equal(run.source, run.original_at);
    assert_string_equal(run.source->exporter_text, "192.0.2.1");
    assert_int_equal(run.source->exporter_port, 5000);
    assert_string_equal(run.source->collector, "c1");
    assert_int_equal(run.source->received_usec, run.original.received_usec);
    assert_ptr_equal(run.source->resolver, run.original.resolver);
    assert_true(run.r[0].in_message); /* records are not copied */
    assert_int_equal(ixd_get64(run.r[2].value[2]), 2000);
    stage_stop();

    stage_start(&ixd_stage_observation_domain, conf_of(&ixd_stage_observation_domain, sc("0")));
    msg_256(1, 0);
    assert_int_equal(decode(), 1);
    assert_int_equal(run.odid, 0);
}

static void
test_observation_domain_refused(void **state)
{
    static const char *const bad[] = {"4294967296", "-1", "7x", "", "0x10", "99999999999999999999"};
    struct ixd_cnode x;
    size_t i;

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        x = sc(bad[i]);
        refused(&ixd_stage_observation_domain, x, x.line, "wants an ID from 0 to 4294967295");
    }
    x = sq(1, "7");
    refused(&ixd_stage_observation_domain, x, x.line, "wants an ID from 0 to 4294967295");
}

int
main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(test_##name, setup_stage, teardown_stage)
    const struct CMUnitTest tests[] = {
        T(anonymise_cryptopan),
        T(anonymise_prefix_and_elements),
        T(anonymise_truncate),
        T(anonymise_settings_refused),
        T(select_derived_template_cached),
        T(drop_and_nothing_left),
        T(set_values_encoded),
        T(set_string_of_255_bytes),
        T(set_select_settings_refused),
        T(select_cache_bound_keeps_the_batch),
        T(observation_domain),
        T(observation_domain_refused),
    };
#undef T
    return cmocka_run_group_tests(tests, stages_group_setup, stages_group_teardown);
}
