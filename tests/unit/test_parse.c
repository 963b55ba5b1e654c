/* Unit tests of src/core/parse.c: strict number, size and duration parsers. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "core/parse.h"

#define SENTINEL 0xdeadbeefcafef00dULL

static void
expect_u64(const char *s, uint64_t want)
{
    uint64_t v = SENTINEL;

    if (ixd_parse_u64(s, &v) != 0) {
        fail_msg("ixd_parse_u64(\"%s\") rejected", s);
    }
    assert_int_equal(v, want);
}

static void
reject_u64(const char *s)
{
    uint64_t v = SENTINEL;

    if (ixd_parse_u64(s, &v) != -1) {
        fail_msg("ixd_parse_u64(\"%s\") accepted (%llu)", s ? s : "(null)", (unsigned long long)v);
    }
    assert_int_equal(v, SENTINEL); /* output untouched on failure */
}

static void
expect_size(const char *s, uint64_t want)
{
    uint64_t v = SENTINEL;

    if (ixd_parse_size(s, &v) != 0) {
        fail_msg("ixd_parse_size(\"%s\") rejected", s);
    }
    assert_int_equal(v, want);
}

static void
reject_size(const char *s)
{
    uint64_t v = SENTINEL;

    if (ixd_parse_size(s, &v) != -1) {
        fail_msg("ixd_parse_size(\"%s\") accepted (%llu)", s ? s : "(null)", (unsigned long long)v);
    }
}

static void
expect_duration(const char *s, uint64_t want)
{
    uint64_t v = SENTINEL;

    if (ixd_parse_duration(s, &v) != 0) {
        fail_msg("ixd_parse_duration(\"%s\") rejected", s);
    }
    assert_int_equal(v, want);
}

static void
reject_duration(const char *s)
{
    uint64_t v = SENTINEL;

    if (ixd_parse_duration(s, &v) != -1) {
        fail_msg("ixd_parse_duration(\"%s\") accepted (%llu)", s ? s : "(null)",
                 (unsigned long long)v);
    }
}

/* ---- ixd_parse_u64 ---- */

static void
u64_plain_numbers(void **state)
{
    expect_u64("0", 0);
    expect_u64("1", 1);
    expect_u64("4739", 4739);
    expect_u64("007", 7);
}

static void
u64_max_accepted(void **state)
{
    expect_u64("18446744073709551615", UINT64_MAX);
}

static void
u64_overflow_rejected(void **state)
{
    reject_u64("18446744073709551616");
    reject_u64("18446744073709551620");
    reject_u64("99999999999999999999");
    reject_u64("184467440737095516150");
}

static void
u64_signs_rejected(void **state)
{
    reject_u64("-1");
    reject_u64("+1");
    reject_u64("-0");
}

static void
u64_empty_and_null_rejected(void **state)
{
    reject_u64("");
    reject_u64(NULL);
}

static void
u64_trailing_or_leading_junk_rejected(void **state)
{
    reject_u64("12a");
    reject_u64("12 ");
    reject_u64(" 12");
    reject_u64("0x10");
    reject_u64("1.5");
    reject_u64("1e3");
}

/* ---- ixd_parse_size ---- */

static void
size_plain_bytes(void **state)
{
    expect_size("4096", 4096);
    expect_size("0", 0);
    expect_size("4096B", 4096);
}

static void
size_kilo(void **state)
{
    expect_size("512K", 512ULL * 1024);
    expect_size("512Ki", 512ULL * 1024);
    expect_size("512KB", 512ULL * 1024);
    expect_size("512KiB", 512ULL * 1024);
}

static void
size_mega(void **state)
{
    expect_size("8M", 8ULL << 20);
    expect_size("8Mi", 8ULL << 20);
    expect_size("8MB", 8ULL << 20);
    expect_size("8MiB", 8ULL << 20);
}

static void
size_giga(void **state)
{
    expect_size("1G", 1ULL << 30);
    expect_size("2GiB", 2ULL << 30);
}

static void
size_bad_units_rejected(void **state)
{
    reject_size("8T");
    reject_size("8X");
    reject_size("8MiBx");
    reject_size("8Mx");
    reject_size("8MiBB");
    reject_size("8 M");
    reject_size("M");
    reject_size("");
    reject_size(NULL);
    reject_size("-8M");
    reject_size("1.5M");
}

/* "B" is the unit itself: it takes no binary-prefix tail */
static void
size_tail_after_bytes_unit_rejected(void **state)
{
    reject_size("8BiB");
    reject_size("8BB");
    reject_size("8Bi");
    reject_size("8iB");
    reject_size("8KiBB");
    reject_size("8KBi");
}

static void
size_overflow_rejected(void **state)
{
    /* 2^34 G = 2^64 */
    reject_size("17179869184G");
    reject_size("18446744073709551616");
    expect_size("17179869183G", 17179869183ULL << 30);
}

/* ---- ixd_parse_duration ---- */

static void
duration_seconds(void **state)
{
    expect_duration("90", 90);
    expect_duration("90s", 90);
    expect_duration("0", 0);
}

static void
duration_minutes_hours_days(void **state)
{
    expect_duration("30m", 1800);
    expect_duration("2h", 7200);
    expect_duration("1d", 86400);
}

static void
duration_bad_rejected(void **state)
{
    reject_duration("");
    reject_duration(NULL);
    reject_duration("s");
    reject_duration("90x");
    reject_duration("90ss");
    reject_duration("90sec");
    reject_duration("1.5h");
    reject_duration("-5");
    reject_duration("+5");
    reject_duration("90 s");
    reject_duration(" 90");
    reject_duration("h2");
    reject_duration("1w");
    reject_duration("2hi");
}

static void
duration_overflow_rejected(void **state)
{
    /* UINT64_MAX / 86400 = 213503982334601 */
    expect_duration("213503982334601d", 213503982334601ULL * 86400);
    reject_duration("213503982334602d");
    reject_duration("18446744073709551616");
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(u64_plain_numbers),
        cmocka_unit_test(u64_max_accepted),
        cmocka_unit_test(u64_overflow_rejected),
        cmocka_unit_test(u64_signs_rejected),
        cmocka_unit_test(u64_empty_and_null_rejected),
        cmocka_unit_test(u64_trailing_or_leading_junk_rejected),
        cmocka_unit_test(size_plain_bytes),
        cmocka_unit_test(size_kilo),
        cmocka_unit_test(size_mega),
        cmocka_unit_test(size_giga),
        cmocka_unit_test(size_bad_units_rejected),
        cmocka_unit_test(size_tail_after_bytes_unit_rejected),
        cmocka_unit_test(size_overflow_rejected),
        cmocka_unit_test(duration_seconds),
        cmocka_unit_test(duration_minutes_hours_days),
        cmocka_unit_test(duration_bad_rejected),
        cmocka_unit_test(duration_overflow_rejected),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
