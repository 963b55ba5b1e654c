/* Unit tests of src/net/framer.c: cutting IPFIX messages out of a byte stream (RFC 7011 10.4). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "ipfix_build.h"
#include "net/framer.h"

static struct ixd_framer framer;
static struct ib msg_a, msg_b, msg_c, big;

#define MAX_OUT 16

struct collected {
    size_t n;
    size_t len[MAX_OUT];
    uint8_t *data[MAX_OUT];
};

static void
collected_free(struct collected *c)
{
    size_t i;

    for (i = 0; i < c->n; i++) {
        free(c->data[i]);
    }
    c->n = 0;
}

/* A message of total length len with a recognisable body (sequence number = tag). */
static void
make_message(struct ib *b, size_t len, uint32_t tag)
{
    size_t i;

    ib_msg_begin(b, 1700000000u, tag, 1);
    for (i = 16; i < len; i++) {
        ib_u8(b, (uint8_t)(i * 7 + tag));
    }
    ib_msg_end(b);
}

static void
feed(struct ixd_framer *f, const uint8_t *p, size_t n)
{
    size_t room;
    uint8_t *dst = ixd_framer_space(f, &room);

    assert_true(room >= n);
    memcpy(dst, p, n);
    ixd_framer_commit(f, n);
}

/* Takes every complete message out (copied: they stay valid only until the next space()). */
static void
drain(struct ixd_framer *f, struct collected *c)
{
    const uint8_t *m;
    size_t len;
    int r;

    while ((r = ixd_framer_next(f, &m, &len)) == 1) {
        assert_true(c->n < MAX_OUT);
        c->data[c->n] = malloc(len);
        assert_non_null(c->data[c->n]);
        memcpy(c->data[c->n], m, len);
        c->len[c->n++] = len;
    }
    assert_int_equal(r, 0);
}

static void
assert_message(const struct collected *c, size_t i, const struct ib *want)
{
    assert_true(i < c->n);
    assert_int_equal(c->len[i], want->len);
    assert_memory_equal(c->data[i], want->buf, want->len);
}

static int
setup(void **state)
{
    ixd_framer_init(&framer);
    make_message(&msg_a, 16, 1); /* header only */
    make_message(&msg_b, 40, 2);
    make_message(&msg_c, 301, 3);
    return 0;
}

static void
empty_framer_needs_more(void **state)
{
    const uint8_t *m;
    size_t len;

    assert_int_equal(ixd_framer_next(&framer, &m, &len), 0);
    assert_int_equal(ixd_framer_pending(&framer), 0);
}

static void
one_byte_at_a_time_whole_and_in_order(void **state)
{
    struct ib all;
    struct collected c = {0};
    size_t i;

    ib_reset(&all);
    ib_bytes(&all, msg_a.buf, msg_a.len);
    ib_bytes(&all, msg_b.buf, msg_b.len);
    ib_bytes(&all, msg_c.buf, msg_c.len);
    for (i = 0; i < all.len; i++) {
        size_t before = c.n;
        feed(&framer, all.buf + i, 1);
        drain(&framer, &c);
        /* a message comes out exactly when its last byte arrives */
        if (i + 1 == msg_a.len || i + 1 == msg_a.len + msg_b.len || i + 1 == all.len) {
            assert_int_equal(c.n, before + 1);
        } else {
            assert_int_equal(c.n, before);
        }
    }
    assert_int_equal(c.n, 3);
    assert_message(&c, 0, &msg_a);
    assert_message(&c, 1, &msg_b);
    assert_message(&c, 2, &msg_c);
    assert_int_equal(ixd_framer_pending(&framer), 0);
    collected_free(&c);
}

static void
two_messages_in_one_read(void **state)
{
    struct ib all;
    struct collected c = {0};

    ib_reset(&all);
    ib_bytes(&all, msg_b.buf, msg_b.len);
    ib_bytes(&all, msg_c.buf, msg_c.len);
    feed(&framer, all.buf, all.len);
    drain(&framer, &c);
    assert_int_equal(c.n, 2);
    assert_message(&c, 0, &msg_b);
    assert_message(&c, 1, &msg_c);
    collected_free(&c);
}

static void
split_at_every_offset(void **state)
{
    struct ib all;
    size_t k;

    ib_reset(&all);
    ib_bytes(&all, msg_b.buf, msg_b.len);
    ib_bytes(&all, msg_c.buf, msg_c.len);
    for (k = 0; k <= all.len; k++) {
        struct collected c = {0};

        ixd_framer_init(&framer);
        feed(&framer, all.buf, k);
        drain(&framer, &c);
        {
            size_t whole = (k >= msg_b.len) + (k == all.len);
            size_t done = whole == 0 ? 0 : whole == 1 ? msg_b.len : all.len;
            assert_int_equal(c.n, whole);
            assert_int_equal(ixd_framer_pending(&framer), k - done);
        }
        feed(&framer, all.buf + k, all.len - k);
        drain(&framer, &c);
        assert_int_equal(c.n, 2);
        assert_message(&c, 0, &msg_b);
        assert_message(&c, 1, &msg_c);
        assert_int_equal(ixd_framer_pending(&framer), 0);
        collected_free(&c);
    }
}

static void
wrong_version_fails_with_two_bytes(void **state)
{
    static const uint8_t v9[] = {0x00, 0x09};
    const uint8_t *m;
    size_t len;

    feed(&framer, v9, 1);
    assert_int_equal(ixd_framer_next(&framer, &m, &len), 0); /* one byte says nothing yet */
    feed(&framer, v9 + 1, 1);
    assert_int_equal(ixd_framer_next(&framer, &m, &len), -1);
}

static void
wrong_version_fails_with_full_header(void **state)
{
    const uint8_t *m;
    size_t len;

    msg_b.buf[1] = 9; /* NetFlow v9 header */
    feed(&framer, msg_b.buf, msg_b.len);
    assert_int_equal(ixd_framer_next(&framer, &m, &len), -1);
}

static void
length_below_header_fails(void **state)
{
    const uint8_t *m;
    size_t len;
    uint16_t bad;

    for (bad = 0; bad < 16; bad++) {
        ixd_framer_init(&framer);
        ib_put16(&msg_b, 2, bad);
        feed(&framer, msg_b.buf, 4);
        assert_int_equal(ixd_framer_next(&framer, &m, &len), -1);
    }
}

static void
pending_reports_partial_message(void **state)
{
    struct collected c = {0};

    feed(&framer, msg_b.buf, 10);
    drain(&framer, &c);
    assert_int_equal(c.n, 0);
    assert_int_equal(ixd_framer_pending(&framer), 10);
    feed(&framer, msg_b.buf + 10, msg_b.len - 10);
    feed(&framer, msg_c.buf, 5);
    drain(&framer, &c);
    assert_int_equal(c.n, 1);
    assert_int_equal(ixd_framer_pending(&framer), 5);
    collected_free(&c);
}

static void
max_size_message_fits(void **state)
{
    struct collected c = {0};
    size_t room;

    make_message(&big, 65535, 9);
    assert_int_equal(big.len, 65535);
    ixd_framer_space(&framer, &room);
    assert_true(room >= 65535);
    feed(&framer, big.buf, big.len);
    drain(&framer, &c);
    assert_int_equal(c.n, 1);
    assert_message(&c, 0, &big);
    collected_free(&c);
}

static void
max_size_message_fits_after_compaction(void **state)
{
    struct collected c = {0};
    struct ib first;

    make_message(&big, 65535, 9);
    ib_reset(&first);
    ib_bytes(&first, msg_c.buf, msg_c.len);
    ib_bytes(&first, big.buf, 30000);
    feed(&framer, first.buf, first.len);
    drain(&framer, &c);
    assert_int_equal(c.n, 1);
    assert_int_equal(ixd_framer_pending(&framer), 30000);
    feed(&framer, big.buf + 30000, big.len - 30000);
    drain(&framer, &c);
    assert_int_equal(c.n, 2);
    assert_message(&c, 0, &msg_c);
    assert_message(&c, 1, &big);
    collected_free(&c);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(empty_framer_needs_more, setup),
        cmocka_unit_test_setup(one_byte_at_a_time_whole_and_in_order, setup),
        cmocka_unit_test_setup(two_messages_in_one_read, setup),
        cmocka_unit_test_setup(split_at_every_offset, setup),
        cmocka_unit_test_setup(wrong_version_fails_with_two_bytes, setup),
        cmocka_unit_test_setup(wrong_version_fails_with_full_header, setup),
        cmocka_unit_test_setup(length_below_header_fails, setup),
        cmocka_unit_test_setup(pending_reports_partial_message, setup),
        cmocka_unit_test_setup(max_size_message_fits, setup),
        cmocka_unit_test_setup(max_size_message_fits_after_compaction, setup),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
