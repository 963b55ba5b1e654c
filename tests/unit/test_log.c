/* Unit tests of src/core/log.c: escaping what is logged, and one line per message. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <string.h>
#include <unistd.h>

#include "core/log.h"

static void
expect_escape(const char *in, const char *want)
{
    char out[256];
    size_t n = ixd_log_escape(in, out, sizeof(out));

    assert_string_equal(out, want);
    assert_int_equal(n, strlen(want));
}

static void
printable_text_unchanged(void **state)
{
    (void)state;
    expect_escape("", "");
    expect_escape("api: 401 for 127.0.0.1: no key with kid 'r9'",
                  "api: 401 for 127.0.0.1: no key with kid 'r9'");
    /* valid UTF-8 of 2, 3 and 4 bytes stays as it is */
    expect_escape("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80",
                  "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80");
}

static void
controls_escaped(void **state)
{
    (void)state;
    /* a newline would end the line and let the rest pass for a line of its own */
    expect_escape("kid 'x\n2024-01-01T00:00:00.000Z ipfixd[1] error: forged'",
                  "kid 'x\\n2024-01-01T00:00:00.000Z ipfixd[1] error: forged'");
    expect_escape("a\rb\tc", "a\\rb\\tc");
    /* a backslash is doubled, so that an escape in the log is never one the sender typed */
    expect_escape("a\\nb", "a\\\\nb");
    expect_escape("\x1b[2J\x07\x01\x7f", "\\x1b[2J\\x07\\x01\\x7f");
    /* C1 controls, which some terminals obey, even as valid UTF-8 */
    expect_escape("\xc2\x9b"
                  "31m\xc2\x85",
                  "\\xc2\\x9b"
                  "31m\\xc2\\x85");
}

static void
invalid_utf8_escaped(void **state)
{
    (void)state;
    expect_escape("\xff\xfe", "\\xff\\xfe");
    expect_escape("\x80x", "\\x80x");          /* a continuation byte alone */
    expect_escape("\xe2\x82", "\\xe2\\x82");   /* cut short at the end */
    expect_escape("\xe2\x82x", "\\xe2\\x82x"); /* cut short before ASCII */
    expect_escape("\xc0\xaf", "\\xc0\\xaf");   /* overlong '/' */
    expect_escape("\xe0\x80\xaf", "\\xe0\\x80\\xaf");
    expect_escape("\xed\xa0\x80", "\\xed\\xa0\\x80");          /* a surrogate */
    expect_escape("\xf4\x90\x80\x80", "\\xf4\\x90\\x80\\x80"); /* past U+10FFFF */
}

static void
truncates_between_escapes(void **state)
{
    char out[8];

    (void)state;
    /* "ab\n" needs 4 bytes and a NUL: with 4 the escape is left out whole */
    assert_int_equal(ixd_log_escape("ab\ncd", out, 4), 2);
    assert_string_equal(out, "ab");
    assert_int_equal(ixd_log_escape("ab\ncd", out, 5), 4);
    assert_string_equal(out, "ab\\n");
    /* a UTF-8 sequence is not split either */
    assert_int_equal(ixd_log_escape("a\xe2\x82\xac", out, 4), 1);
    assert_string_equal(out, "a");
    assert_int_equal(ixd_log_escape("\x01", out, 4), 0);
    assert_string_equal(out, "");
    assert_int_equal(ixd_log_escape("abc", out, 0), 0);
}

/* What ixd_log writes to stderr for msg, read back through a pipe. */
static void
logged(const char *msg, char *out, size_t outlen)
{
    int fds[2], saved = dup(STDERR_FILENO);
    ssize_t n;

    assert_int_equal(pipe(fds), 0);
    assert_int_not_equal(dup2(fds[1], STDERR_FILENO), -1);
    ixd_log(IXD_LOG_WARNING, "api: 401 for %s: %s", "127.0.0.1", msg);
    assert_int_not_equal(dup2(saved, STDERR_FILENO), -1);
    close(saved);
    close(fds[1]);
    n = read(fds[0], out, outlen - 1);
    close(fds[0]);
    assert_true(n > 0);
    out[n] = '\0';
}

static void
one_line_per_message(void **state)
{
    char line[4096], big[3000];
    const char *nl;

    (void)state;
    ixd_log_setup(IXD_LOG_STDERR, IXD_LOG_INFO);
    logged("no key with kid 'x\nFAKE ipfixd[1] error: forged'", line, sizeof(line));
    nl = strchr(line, '\n');
    assert_non_null(nl);
    assert_int_equal(nl[1], '\0'); /* the one newline ends the line */
    assert_non_null(strstr(line, "warning: api: 401 for 127.0.0.1: no key with kid "
                                 "'x\\nFAKE ipfixd[1] error: forged'"));
    /* a message that fills the buffer with escapes still ends in one newline */
    memset(big, '\n', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    logged(big, line, sizeof(line));
    nl = strchr(line, '\n');
    assert_non_null(nl);
    assert_int_equal(nl[1], '\0');
    assert_non_null(strstr(line, "\\n\\n\\n"));
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(printable_text_unchanged), cmocka_unit_test(controls_escaped),
        cmocka_unit_test(invalid_utf8_escaped),     cmocka_unit_test(truncates_between_escapes),
        cmocka_unit_test(one_line_per_message),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
