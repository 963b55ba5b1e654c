/* What the enrich stage knows of addresses (src/enrich/addresses.c, src/mmdb/): a MaxMind-format
 * database written by make_mmdb.pl and CSV prefix tables, alone and in order, their errors. */
#include <arpa/inet.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "enrich/addresses.h"

static char dir[] = "/tmp/ixd-addresses-XXXXXX";

/* dir/name with text in it; the path into out. */
static void
write_file(const char *name, const char *text, char *out, size_t outlen)
{
    FILE *f;

    snprintf(out, outlen, "%s/%s", dir, name);
    f = fopen(out, "w");
    assert_non_null(f);
    assert_int_equal(fputs(text, f) >= 0, 1);
    assert_int_equal(fclose(f), 0);
}

/* A database of the tab-separated lines in text (make_mmdb.pl's input) at dir/name. */
static void
write_mmdb(const char *name, const char *text, char *out, size_t outlen)
{
    char lines[256], cmd[1024];

    write_file("mmdb.txt", text, lines, sizeof(lines));
    snprintf(out, outlen, "%s/%s", dir, name);
    snprintf(cmd, sizeof(cmd), "perl '%s' '%s' < '%s'", IXD_MAKE_MMDB, out, lines);
    assert_int_equal(system(cmd), 0);
}

static void
look(const struct ixd_addresses *a, const char *text, struct ixd_addrinfo *info)
{
    struct in6_addr addr;
    struct in_addr v4;

    if (inet_pton(AF_INET, text, &v4) == 1) {
        memset(&addr, 0, sizeof(addr));
        addr.s6_addr[10] = addr.s6_addr[11] = 0xff;
        memcpy(addr.s6_addr + 12, &v4, 4);
    } else {
        assert_int_equal(inet_pton(AF_INET6, text, &addr), 1);
    }
    ixd_addresses_lookup(a, &addr, info);
}

/* s (len bytes) is want */
static void
same(const char *s, size_t len, const char *want)
{
    assert_int_equal(len, strlen(want));
    assert_memory_equal(s, want, len);
}

static const char db_lines[] = "10.0.0.0/8\t64500\tExample Net\tDE\tBerlin\t\n"
                               "10.1.0.0/16\t64501\t\tFR\t\t\n"
                               "2001:db8::/32\t64502\tSix\t\t\tNL\n";

/* The database alone: IPv4 (mapped) and IPv6, the more specific network, the registered
 * country where no country is given, nothing for an address it lacks. */
static void
mmdb_lookups(void **state)
{
    struct ixd_addresses *a = ixd_addresses_new();
    struct ixd_addrinfo i;
    char path[256], err[512];

    write_mmdb("t.mmdb", db_lines, path, sizeof(path));
    assert_int_equal(ixd_addresses_add_mmdb(a, path, err, sizeof(err)), 0);
    look(a, "10.200.3.4", &i);
    assert_int_equal(i.asn, 64500);
    same(i.as_name, i.as_name_len, "Example Net");
    same(i.country, i.country_len, "DE");
    same(i.city, i.city_len, "Berlin");
    look(a, "10.1.255.255", &i);
    assert_int_equal(i.asn, 64501);
    assert_int_equal(i.as_name_len, 0);
    same(i.country, i.country_len, "FR");
    assert_int_equal(i.city_len, 0);
    look(a, "2001:db8:1::9", &i);
    assert_int_equal(i.asn, 64502);
    same(i.country, i.country_len, "NL");
    look(a, "11.0.0.1", &i);
    assert_int_equal(i.asn, 0);
    assert_int_equal(i.as_name_len + i.country_len + i.city_len, 0);
    look(a, "2001:db9::1", &i);
    assert_int_equal(i.asn, 0);
    ixd_addresses_free(a);
}

/* A CSV table: quotes, AS64500, comments, left-out fields; longest prefix wins. */
static void
csv_lookups(void **state)
{
    struct ixd_addresses *a = ixd_addresses_new();
    struct ixd_addrinfo i;
    char path[256], err[512];

    write_file("t.csv",
               "# prefix,asn,as name,country,city\n"
               "192.0.2.0/24,AS64510,\"Quoted, Inc. \"\"Q\"\"\",US,New York\n"
               "192.0.2.128/25,64511\n"
               "2001:db8:ff::/48,,,,Zürich\n",
               path, sizeof(path));
    assert_int_equal(ixd_addresses_add_csv(a, path, err, sizeof(err)), 0);
    assert_int_equal(ixd_addresses_sources(a), 1);
    look(a, "192.0.2.1", &i);
    assert_int_equal(i.asn, 64510);
    same(i.as_name, i.as_name_len, "Quoted, Inc. \"Q\"");
    same(i.country, i.country_len, "US");
    same(i.city, i.city_len, "New York");
    look(a, "192.0.2.200", &i);
    assert_int_equal(i.asn, 64511);
    assert_int_equal(i.as_name_len + i.country_len + i.city_len, 0);
    look(a, "2001:db8:ff:1::1", &i);
    assert_int_equal(i.asn, 0);
    same(i.city, i.city_len, "Zürich");
    look(a, "192.0.3.1", &i);
    assert_int_equal(i.asn, 0);
    ixd_addresses_free(a);
}

/* Sources in order: each part of the answer from the first that has it. */
static void
sources_in_order(void **state)
{
    struct ixd_addresses *a = ixd_addresses_new();
    struct ixd_addrinfo i;
    char csv[256], db[256], err[512];

    write_file("o.csv", "10.1.0.0/16,,Own Name\n10.9.0.0/16,65000,,,Here\n", csv, sizeof(csv));
    write_mmdb("o.mmdb", db_lines, db, sizeof(db));
    assert_int_equal(ixd_addresses_add_csv(a, csv, err, sizeof(err)), 0);
    assert_int_equal(ixd_addresses_add_mmdb(a, db, err, sizeof(err)), 0);
    look(a, "10.1.0.1", &i);
    assert_int_equal(i.asn, 64501); /* the CSV has none */
    same(i.as_name, i.as_name_len, "Own Name");
    same(i.country, i.country_len, "FR");
    look(a, "10.9.0.1", &i);
    assert_int_equal(i.asn, 65000);
    same(i.as_name, i.as_name_len, "Example Net");
    same(i.country, i.country_len, "DE");
    same(i.city, i.city_len, "Here");
    ixd_addresses_free(a);
}

/* Strings longer than 255 bytes are cut before a UTF-8 character, not in one. */
static void
long_names_cut(void **state)
{
    struct ixd_addresses *a = ixd_addresses_new();
    struct ixd_addrinfo i;
    char line[1024], path[256], err[512];
    size_t n;

    /* 254 bytes of 'x', then "é" (2 bytes) straddles byte 255 */
    n = (size_t)snprintf(line, sizeof(line), "10.0.0.0/8\t1\t");
    memset(line + n, 'x', 254);
    n += 254;
    snprintf(line + n, sizeof(line) - n, "\xc3\xa9tail\t\t\t\n");
    write_mmdb("l.mmdb", line, path, sizeof(path));
    assert_int_equal(ixd_addresses_add_mmdb(a, path, err, sizeof(err)), 0);
    look(a, "10.0.0.1", &i);
    assert_int_equal(i.as_name_len, 254);
    ixd_addresses_free(a);
}

/* Bad files say which file and what. */
static void
errors(void **state)
{
    static const struct {
        const char *text, *want;
    } bad[] = {
        {"10.0.0.0/8,ASx\n", "'ASx' is not an AS number"},
        {"10.0.0.0/8,4294967296\n", "is not an AS number"},
        {"10.0.0.0/8,1,a,b,c,d\n", "more than prefix"},
        {"10.0.0.0/8,1,\"open\n", "quoted field does not end"},
        {"# ok\n10.0.0.0/33,1\n", "b.csv:2:"},
    };
    char path[256], err[512];
    size_t k;

    for (k = 0; k < sizeof(bad) / sizeof(bad[0]); k++) {
        struct ixd_addresses *a = ixd_addresses_new();
        write_file("b.csv", bad[k].text, path, sizeof(path));
        err[0] = '\0';
        assert_int_equal(ixd_addresses_add_csv(a, path, err, sizeof(err)), -1);
        if (strstr(err, bad[k].want) == NULL || strstr(err, "b.csv") == NULL) {
            fail_msg("'%s' gave '%s'", bad[k].text, err);
        }
        ixd_addresses_free(a);
    }
    {
        struct ixd_addresses *a = ixd_addresses_new();
        write_file("not.mmdb", "this is not a database\n", path, sizeof(path));
        assert_int_equal(ixd_addresses_add_mmdb(a, path, err, sizeof(err)), -1);
        assert_non_null(strstr(err, "not.mmdb: "));
        snprintf(path, sizeof(path), "%s/missing.mmdb", dir);
        assert_int_equal(ixd_addresses_add_mmdb(a, path, err, sizeof(err)), -1);
        assert_non_null(strstr(err, "missing.mmdb: cannot be read: No such file"));
        snprintf(path, sizeof(path), "%s/missing.csv", dir);
        assert_int_equal(ixd_addresses_add_csv(a, path, err, sizeof(err)), -1);
        assert_non_null(strstr(err, "missing.csv"));
        ixd_addresses_free(a);
    }
}

static int
setup(void **state)
{
    return mkdtemp(dir) == NULL ? -1 : 0;
}

static int
teardown(void **state)
{
    char cmd[128];

    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    return system(cmd) == 0 ? 0 : -1;
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(mmdb_lookups),     cmocka_unit_test(csv_lookups),
        cmocka_unit_test(sources_in_order), cmocka_unit_test(long_names_cut),
        cmocka_unit_test(errors),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
