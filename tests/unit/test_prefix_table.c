/* The longest-prefix table (core/prefix_table.c) against a plain search over the prefixes it
 * was given: random nested IPv4 and IPv6 prefixes, random and boundary addresses. */
#include <arpa/inet.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/prefix_table.h"

struct ref {
    uint8_t addr[16];
    unsigned bits; /* of the 128 */
    char value[16];
};

static uint64_t rng = 88172645463325252ull;

static uint64_t
next(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

static int
holds(const struct ref *r, const uint8_t *a)
{
    unsigned full = r->bits / 8, rest = r->bits % 8;

    if (memcmp(r->addr, a, full) != 0) {
        return 0;
    }
    return rest == 0 || ((r->addr[full] ^ a[full]) >> (8 - rest)) == 0;
}

/* The value of the longest prefix holding a; the later of equal ones. */
static const char *
brute(const struct ref *refs, size_t n, const uint8_t *a)
{
    const struct ref *best = NULL;
    size_t i;

    for (i = 0; i < n; i++) {
        if (holds(&refs[i], a) && (best == NULL || refs[i].bits >= best->bits)) {
            best = &refs[i];
        }
    }
    return best != NULL ? best->value : NULL;
}

static void
text_of(const struct ref *r, char *out, size_t len)
{
    static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    char a[64];

    if (r->bits >= 96 && memcmp(r->addr, mapped, 12) == 0) {
        inet_ntop(AF_INET, r->addr + 12, a, sizeof(a));
        snprintf(out, len, "%s/%u", a, r->bits - 96);
    } else {
        inet_ntop(AF_INET6, r->addr, a, sizeof(a));
        snprintf(out, len, "%s/%u", a, r->bits);
    }
}

/* A random address near the prefixes: one of them with its host bits random. */
static void
near(const struct ref *refs, size_t n, uint8_t *a)
{
    const struct ref *r = &refs[next() % n];
    unsigned i;

    memcpy(a, r->addr, 16);
    for (i = r->bits; i < 128; i++) {
        if (next() & 1) {
            a[i / 8] ^= (uint8_t)(1u << (7 - i % 8));
        }
    }
}

static void
random_tables(void **state)
{
    enum { N = 3000 };
    struct ref *refs = calloc(N, sizeof(*refs));
    char err[256], text[80];
    size_t round, i, k;

    for (round = 0; round < 6; round++) {
        struct ixd_prefix_table *t = ixd_prefix_table_new();
        size_t n = round == 0 ? 1 : N / (6 - round);
        for (i = 0; i < n; i++) {
            struct ref *r = &refs[i];
            memset(r->addr, 0, 16);
            if (i > 0 && next() % 3 == 0) { /* nested in (or equal to) an earlier one */
                const struct ref *o = &refs[next() % i];
                memcpy(r->addr, o->addr, 16);
                r->bits = o->bits + (unsigned)(next() % (129 - o->bits));
                for (k = o->bits; k < 128; k++) {
                    if (next() & 1) {
                        r->addr[k / 8] ^= (uint8_t)(1u << (7 - k % 8));
                    }
                }
            } else if (next() % 2 == 0) { /* IPv4 */
                r->addr[10] = r->addr[11] = 0xff;
                r->addr[12] = (uint8_t)(next() % 4 == 0 ? 10 : next());
                r->addr[13] = (uint8_t)next();
                r->addr[14] = (uint8_t)next();
                r->addr[15] = (uint8_t)next();
                r->bits = 96 + (unsigned)(next() % 33);
            } else {
                uint64_t h = next(), l = next();
                memcpy(r->addr, &h, 8);
                memcpy(r->addr + 8, &l, 8);
                r->addr[0] = (uint8_t)(0x20 | (r->addr[0] & 0x0f));
                r->bits = (unsigned)(next() % 129);
            }
            for (k = r->bits; k < 128; k++) { /* brute() compares the prefix bits only */
                r->addr[k / 8] &= (uint8_t) ~(1u << (7 - k % 8));
            }
            snprintf(r->value, sizeof(r->value), "v%zu", i % 97);
            text_of(r, text, sizeof(text));
            assert_int_equal(ixd_prefix_table_add(t, text, r->value, err, sizeof(err)), 0);
        }
        assert_int_equal(ixd_prefix_table_build(t, err, sizeof(err)), 0);
        assert_true(ixd_prefix_table_values(t) <= 97);
        for (i = 0; i < 20000; i++) {
            uint8_t a[16];
            const char *want, *got;
            if (i % 2 == 0) {
                near(refs, n, a);
            } else {
                uint64_t h = next(), l = next();
                memcpy(a, &h, 8);
                memcpy(a + 8, &l, 8);
                if (i % 4 == 1) {
                    memset(a, 0, 10);
                    a[10] = a[11] = 0xff;
                }
            }
            want = brute(refs, n, a);
            got = ixd_prefix_table_lookup(t, (const struct in6_addr *)(void *)a);
            if (want == NULL) {
                assert_null(got);
            } else {
                assert_non_null(got);
                assert_string_equal(got, want);
            }
        }
        ixd_prefix_table_free(t);
    }
    free(refs);
}

static void
edges(void **state)
{
    struct ixd_prefix_table *t = ixd_prefix_table_new();
    static const char text[] = "# comment\n\n0.0.0.0/0,any4\n255.255.255.255/32,last\n"
                               "10.1.2.3/8,ten\n10.0.0.0/8,TEN\n::/0,all\n"
                               "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff,top\n"
                               "192.0.2.0/24,AS64500,\"Example, Inc.\",FR,Paris\n";
    char err[256];

    assert_int_equal(ixd_prefix_table_parse(t, "x", text, strlen(text), err, sizeof(err)), 0);
    assert_string_equal(ixd_prefix_table_lookup_text(t, "255.255.255.255"), "last");
    assert_string_equal(ixd_prefix_table_lookup_text(t, "255.255.255.254"), "any4");
    assert_string_equal(ixd_prefix_table_lookup_text(t, "0.0.0.0"), "any4");
    /* host bits are ignored; the later of equal prefixes wins */
    assert_string_equal(ixd_prefix_table_lookup_text(t, "10.200.0.1"), "TEN");
    assert_string_equal(ixd_prefix_table_lookup_text(t, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"),
                        "top");
    assert_string_equal(ixd_prefix_table_lookup_text(t, "::"), "all");
    /* the value is the rest of the line */
    assert_string_equal(ixd_prefix_table_lookup_text(t, "192.0.2.7"),
                        "AS64500,\"Example, Inc.\",FR,Paris");
    assert_int_equal(ixd_prefix_table_count(t), 6); /* the two tens are one prefix */
    assert_int_equal(ixd_prefix_table_add(t, "1.0.0.0/8", "x", err, sizeof(err)), -1);
    ixd_prefix_table_free(t);

    t = ixd_prefix_table_new();
    assert_int_equal(ixd_prefix_table_parse(t, "e", "", 0, err, sizeof(err)), 0);
    assert_null(ixd_prefix_table_lookup_text(t, "10.0.0.1"));
    assert_null(ixd_prefix_table_lookup_text(t, "2001:db8::1"));
    ixd_prefix_table_free(t);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(random_tables),
        cmocka_unit_test(edges),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
