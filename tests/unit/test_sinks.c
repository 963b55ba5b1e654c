/* Unit tests of the sinks' pure parts: name patterns (output/name_pattern.c), the spool
 * (output/spool.c) and ClickHouse rows and schemas (output/clickhouse_columns.c). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>

#include "ipfix/ie.h"
#include "ipfix/template.h"
#include "output/clickhouse_columns.h"
#include "output/name_pattern.h"
#include "output/spool.h"

/* ---- name patterns ---- */

static void
pattern_expands_and_replaces(void **state)
{
    struct ixd_pattern_vars v = {.collector = "edge",
                                 .exporter = "2001:db8::1",
                                 .odid = 7,
                                 .host = "h1",
                                 .output = "arch",
                                 .file = "f-1.ipfix"};
    char out[256], err[256];

    assert_int_equal(ixd_pattern_check("flows-{collector}-{exporter}-{odid}", 7, IXD_PATTERN_TOPIC,
                                       err, sizeof(err)),
                     0);
    assert_int_equal(ixd_pattern_expand("flows-{collector}-{exporter}-{odid}", &v, 0,
                                        IXD_PATTERN_TOPIC, out, sizeof(out)),
                     strlen("flows-edge-2001_db8__1-7"));
    assert_string_equal(out, "flows-edge-2001_db8__1-7");
    /* 2024-02-29T13:05:09Z */
    ixd_pattern_expand("{host}/{output}/%Y/%m/%d/%H%M%S/{file}", &v, 1709211909,
                       IXD_PATTERN_OBJECT_KEY, out, sizeof(out));
    assert_string_equal(out, "h1/arch/2024/02/29/130509/f-1.ipfix");
    /* a '/' in a value makes no level of its own */
    v.file = "a/b";
    ixd_pattern_expand("x/{file}", &v, 0, IXD_PATTERN_OBJECT_KEY, out, sizeof(out));
    assert_string_equal(out, "x/a_b");
    /* too long: nothing */
    assert_int_equal(ixd_pattern_expand("{collector}{collector}", &v, 0, IXD_PATTERN_TOPIC, out, 8),
                     0);
    assert_int_equal(ixd_pattern_uses("a{odid}b{exporter}"),
                     IXD_PATTERN_ODID | IXD_PATTERN_EXPORTER);
}

static void
pattern_refuses(void **state)
{
    char err[256];

    assert_int_equal(
        ixd_pattern_check("a/{file}", IXD_PATTERN_FILE, IXD_PATTERN_TOPIC, err, sizeof(err)), -1);
    assert_string_equal(err, "'/' cannot appear in this name");
    assert_int_equal(
        ixd_pattern_check("{file}", IXD_PATTERN_HOST, IXD_PATTERN_OBJECT_KEY, err, sizeof(err)),
        -1);
    assert_string_equal(err, "'{file}' is not a placeholder this name may use");
    assert_int_equal(ixd_pattern_check("x-%j", 0, IXD_PATTERN_TOPIC, err, sizeof(err)), -1);
    assert_int_equal(
        ixd_pattern_check("x-{odid", IXD_PATTERN_ODID, IXD_PATTERN_TOPIC, err, sizeof(err)), -1);
    assert_int_equal(ixd_pattern_check("", 0, IXD_PATTERN_TOPIC, err, sizeof(err)), -1);
}

/* ---- the spool ---- */

static char spool_dir[64];

static int
spool_setup(void **state)
{
    snprintf(spool_dir, sizeof(spool_dir), "/tmp/ixd-spool-XXXXXX");
    return mkdtemp(spool_dir) == NULL ? -1 : 0;
}

static int
spool_teardown(void **state)
{
    char cmd[128];

    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", spool_dir);
    return system(cmd) == 0 ? 0 : -1;
}

static void
spool_keeps_order_across_a_restart(void **state)
{
    char err[256], body[64];
    struct ixd_spool_batch b;
    struct ixd_spool *s = ixd_spool_open(spool_dir, 1 << 20, err, sizeof(err));

    assert_non_null(s);
    for (int i = 0; i < 20; i++) {
        int n = snprintf(body, sizeof(body), "batch %d", i);
        assert_int_equal(ixd_spool_push(s, body, (size_t)n, (uint64_t)i + 1, (uint32_t)i & 1), 0);
    }
    assert_int_equal(ixd_spool_batches(s), 20);
    assert_int_equal(ixd_spool_rows(s), 210);
    /* a second owner is refused while the first holds it */
    assert_null(ixd_spool_open(spool_dir, 1 << 20, err, sizeof(err)));
    assert_int_equal(errno, EWOULDBLOCK);
    for (int i = 0; i < 5; i++) {
        assert_int_equal(ixd_spool_peek(s, &b), 1);
        free(b.body);
        ixd_spool_pop(s);
    }
    ixd_spool_close(s);
    s = ixd_spool_open(spool_dir, 1 << 20, err, sizeof(err));
    assert_non_null(s);
    assert_int_equal(ixd_spool_batches(s), 15);
    for (int i = 5; i < 20; i++) {
        int n = snprintf(body, sizeof(body), "batch %d", i);
        assert_int_equal(ixd_spool_peek(s, &b), 1);
        assert_int_equal(b.len, (size_t)n);
        assert_memory_equal(b.body, body, (size_t)n);
        assert_int_equal(b.rows, (uint64_t)i + 1);
        assert_int_equal(b.flags, (uint32_t)i & 1);
        free(b.body);
        ixd_spool_pop(s);
        if (i == 10) {
            /* pushed after a restart: behind what an earlier run left */
            assert_int_equal(ixd_spool_push(s, "late", 4, 1, 0), 0);
        }
    }
    assert_int_equal(ixd_spool_peek(s, &b), 1);
    assert_memory_equal(b.body, "late", 4);
    free(b.body);
    ixd_spool_pop(s);
    assert_int_equal(ixd_spool_peek(s, &b), 0);
    assert_int_equal(ixd_spool_bytes(s), 0);
    ixd_spool_close(s);
}

static void
spool_bound_refuses(void **state)
{
    char err[256];
    static char big[400000];
    struct ixd_spool *s = ixd_spool_open(spool_dir, 1 << 20, err, sizeof(err));

    assert_non_null(s);
    assert_int_equal(ixd_spool_push(s, big, sizeof(big), 1, 0), 0);
    assert_int_equal(ixd_spool_push(s, big, sizeof(big), 1, 0), 0);
    assert_int_equal(ixd_spool_push(s, big, sizeof(big), 1, 0), -1);
    assert_int_equal(errno, ENOSPC);
    assert_int_equal(ixd_spool_batches(s), 2);
    ixd_spool_close(s);
}

/* ---- ClickHouse rows ---- */

static struct ixd_ie_registry *reg;

/* A template of (id, length) pairs, parsed as the collector parses one. */
static struct ixd_template *
make_template(const uint16_t (*f)[2], unsigned n)
{
    uint8_t rec[256];
    struct ixd_template_rules rules = {.registry = reg, .max_fields = 64};
    struct ixd_template *t = NULL;
    uint16_t tid;
    size_t consumed, len = 4 + 4 * n;
    enum ixd_error why;

    rec[0] = 1;
    rec[1] = 0; /* ID 256 */
    rec[2] = 0;
    rec[3] = (uint8_t)n;
    for (unsigned i = 0; i < n; i++) {
        rec[4 + 4 * i] = (uint8_t)(f[i][0] >> 8);
        rec[5 + 4 * i] = (uint8_t)f[i][0];
        rec[6 + 4 * i] = (uint8_t)(f[i][1] >> 8);
        rec[7 + 4 * i] = (uint8_t)f[i][1];
    }
    assert_int_equal(ixd_template_parse(rec, len, 0, &rules, &t, &tid, &consumed, &why),
                     IXD_TPARSE_TEMPLATE);
    t->serial = 42;
    return t;
}

static void
clickhouse_row_binary_and_json(void **state)
{
    static const uint16_t fields[][2] = {{8, 4}, {12, 4}, {7, 2},   {11, 2}, {4, 1},
                                         {1, 4}, {2, 8},  {152, 8}, {95, 4}};
    uint8_t data[] = {10, 0, 0,    1,    192,  0,    2,    9,  0x30, 0x39, 0,   53, 17,
                      0,  0, 1,    0,    0,    0,    0,    0,  0,    0,    0,   3,  0,
                      0,  1, 0x8b, 0xcf, 0xe5, 0x68, 0x00, 13, 0x00, 0x01, 0xc8};
    struct ixd_template *t = make_template(fields, 9);
    struct ixd_record r = {.tmpl = t, .data = data, .length = sizeof(data)};
    struct ixd_source src = {.collector = "c",
                             .exporter_text = "192.0.2.1",
                             .odid = 3,
                             .received_usec = 1700000123456789};
    struct sockaddr_in *sin = (struct sockaddr_in *)&src.exporter;
    static struct ixd_ch_plans plans;
    struct ixd_ch_columns cols;
    char out[1024];
    size_t n;

    sin->sin_family = AF_INET;
    inet_pton(AF_INET, "192.0.2.1", &sin->sin_addr);
    ixd_ch_columns_default(&cols);
    assert_int_equal(cols.n, 16);
    n = ixd_ch_row(&cols, IXD_CH_ROWBINARY, &plans, &r, &src, 10, out);
    assert_true(n <= ixd_ch_row_bound(&cols, IXD_CH_ROWBINARY));
    /* time_received, flow_start (1700000000.000 ms), flow_end (none: received) */
    assert_memory_equal(out, "\x7b\xf1\x53\x65", 4);
    assert_memory_equal(out + 4, "\x00\xf1\x53\x65", 4);
    assert_memory_equal(out + 8, "\x7b\xf1\x53\x65", 4);
    /* exporter, src and dst as IPv4-mapped IPv6 */
    assert_memory_equal(out + 12, "\0\0\0\0\0\0\0\0\0\0\xff\xff\xc0\x00\x02\x01", 16);
    assert_memory_equal(out + 28, "\0\0\0\0\0\0\0\0\0\0\xff\xff\x0a\x00\x00\x01", 16);
    assert_memory_equal(out + 44, "\0\0\0\0\0\0\0\0\0\0\xff\xff\xc0\x00\x02\x09", 16);
    assert_memory_equal(out + 60, "\x39\x30\x35\x00\x11", 5); /* ports 12345, 53, UDP */
    /* bytes 256 x 10, packets 3 x 10 */
    assert_memory_equal(out + 65, "\x00\x0a\x00\x00\x00\x00\x00\x00", 8);
    assert_memory_equal(out + 73, "\x1e\x00\x00\x00\x00\x00\x00\x00", 8);
    /* in_if, out_if, src_as, dst_as absent: zeros; application 13:456 */
    assert_memory_equal(out + 81, "\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0", 16);
    assert_memory_equal(out + 97,
                        "\x06"
                        "13:456",
                        7);
    assert_int_equal(n, 104);

    n = ixd_ch_row(&cols, IXD_CH_JSON_EACH_ROW, &plans, &r, &src, 1, out);
    out[n] = '\0';
    assert_string_equal(out, "{\"time_received\":1700000123,\"flow_start\":1700000000,"
                             "\"flow_end\":1700000123,\"exporter\":\"192.0.2.1\","
                             "\"src_addr\":\"10.0.0.1\",\"dst_addr\":\"192.0.2.9\","
                             "\"src_port\":12345,\"dst_port\":53,\"protocol\":17,"
                             "\"bytes\":256,\"packets\":3,\"in_if\":0,\"out_if\":0,"
                             "\"src_as\":0,\"dst_as\":0,\"application\":\"13:456\"}\n");
    ixd_template_free(t);
}

static void
clickhouse_schema_types(void **state)
{
    struct ixd_ch_columns cols;
    struct ixd_ch_schema s = {.database = "db", .table = "t"};
    char *text = NULL;
    size_t len = 0;
    FILE *f;

    ixd_ch_columns_default(&cols);
    f = open_memstream(&text, &len);
    ixd_ch_schema_write(&cols, IXD_CH_ROWBINARY, &s, f);
    fclose(f);
    assert_non_null(strstr(text, "CREATE TABLE IF NOT EXISTS db.t\n"));
    assert_non_null(strstr(text, "    src_addr FixedString(16),\n"));
    assert_non_null(strstr(text, "PARTITION BY toYYYYMMDD(time_received)"));
    assert_null(strstr(text, "Distributed"));
    free(text);
    s.new_types = 1;
    s.cluster = "c";
    s.local_table = "t_local";
    s.sharding_key = "cityHash64(exporter)";
    f = open_memstream(&text, &len);
    ixd_ch_schema_write(&cols, IXD_CH_JSON_EACH_ROW, &s, f);
    fclose(f);
    assert_non_null(strstr(text, "    src_addr IPv6,\n"));
    assert_non_null(strstr(text, "CREATE TABLE IF NOT EXISTS db.t_local\n"));
    assert_non_null(strstr(text, "ENGINE = Distributed(c, db, t_local, cityHash64(exporter))"));
    free(text);
    assert_int_equal(ixd_ch_version_has_ip_types("18.16.1"), 0);
    assert_int_equal(ixd_ch_version_has_ip_types("19.3.4"), 1);
    assert_int_equal(ixd_ch_version_has_ip_types("23.8.2.7"), 1);
    assert_int_equal(ixd_ch_version_has_ip_types("junk"), 0);
}

int
main(void)
{
    char err[256];
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(pattern_expands_and_replaces),
        cmocka_unit_test(pattern_refuses),
        cmocka_unit_test_setup_teardown(spool_keeps_order_across_a_restart, spool_setup,
                                        spool_teardown),
        cmocka_unit_test_setup_teardown(spool_bound_refuses, spool_setup, spool_teardown),
        cmocka_unit_test(clickhouse_row_binary_and_json),
        cmocka_unit_test(clickhouse_schema_types),
    };
    int rc;

    reg = ixd_ie_registry_new(NULL, 0, err, sizeof(err));
    rc = cmocka_run_group_tests(tests, NULL, NULL);
    ixd_ie_registry_free(reg);
    return rc;
}
