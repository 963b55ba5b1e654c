/* Unit tests of src/core/spsc.h/.c: the bounded single-producer/single-consumer ring. */
#include <pthread.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "core/spsc.h"

#define ITEM(i) ((void *)(uintptr_t)(i))

static void
init_rejects_non_power_of_two(void **state)
{
    struct ixd_spsc q;

    assert_int_equal(ixd_spsc_init(&q, 0), -1);
    assert_int_equal(ixd_spsc_init(&q, 3), -1);
    assert_int_equal(ixd_spsc_init(&q, 12), -1);
    assert_int_equal(ixd_spsc_init(&q, 16), 0);
    ixd_spsc_release(&q);
    assert_null(q.slots);
}

static void
empty_pop_returns_null(void **state)
{
    struct ixd_spsc q;

    assert_int_equal(ixd_spsc_init(&q, 4), 0);
    assert_null(ixd_spsc_pop(&q));
    assert_int_equal(ixd_spsc_push(&q, ITEM(1)), 0);
    assert_ptr_equal(ixd_spsc_pop(&q), ITEM(1));
    assert_null(ixd_spsc_pop(&q));
    ixd_spsc_release(&q);
}

static void
push_pop_keeps_fifo_order(void **state)
{
    struct ixd_spsc q;
    uintptr_t i;

    assert_int_equal(ixd_spsc_init(&q, 8), 0);
    for (i = 1; i <= 5; i++) {
        assert_int_equal(ixd_spsc_push(&q, ITEM(i)), 0);
    }
    for (i = 1; i <= 5; i++) {
        assert_ptr_equal(ixd_spsc_pop(&q), ITEM(i));
    }
    assert_null(ixd_spsc_pop(&q));
    ixd_spsc_release(&q);
}

static void
full_at_capacity(void **state)
{
    struct ixd_spsc q;
    uintptr_t i;

    assert_int_equal(ixd_spsc_init(&q, 4), 0);
    for (i = 1; i <= 4; i++) {
        assert_int_equal(ixd_spsc_push(&q, ITEM(i)), 0);
    }
    assert_int_equal(ixd_spsc_push(&q, ITEM(99)), -1);
    /* one pop makes room for exactly one more */
    assert_ptr_equal(ixd_spsc_pop(&q), ITEM(1));
    assert_int_equal(ixd_spsc_push(&q, ITEM(5)), 0);
    assert_int_equal(ixd_spsc_push(&q, ITEM(99)), -1);
    for (i = 2; i <= 5; i++) {
        assert_ptr_equal(ixd_spsc_pop(&q), ITEM(i));
    }
    assert_null(ixd_spsc_pop(&q));
    ixd_spsc_release(&q);
}

static void
capacity_one_alternates(void **state)
{
    struct ixd_spsc q;
    uintptr_t i;

    assert_int_equal(ixd_spsc_init(&q, 1), 0);
    for (i = 1; i <= 10; i++) {
        assert_int_equal(ixd_spsc_push(&q, ITEM(i)), 0);
        assert_int_equal(ixd_spsc_push(&q, ITEM(0)), -1);
        assert_ptr_equal(ixd_spsc_pop(&q), ITEM(i));
        assert_null(ixd_spsc_pop(&q));
    }
    ixd_spsc_release(&q);
}

static void
wraps_around_many_times(void **state)
{
    struct ixd_spsc q;
    uintptr_t next_in = 1, next_out = 1;
    int round;

    assert_int_equal(ixd_spsc_init(&q, 8), 0);
    for (round = 0; round < 1000; round++) {
        int k, n = 1 + round % 8;
        for (k = 0; k < n; k++) {
            assert_int_equal(ixd_spsc_push(&q, ITEM(next_in)), 0);
            next_in++;
        }
        for (k = 0; k < n; k++) {
            assert_ptr_equal(ixd_spsc_pop(&q), ITEM(next_out));
            next_out++;
        }
    }
    assert_null(ixd_spsc_pop(&q));
    ixd_spsc_release(&q);
}

#define MOVE_COUNT 1000000u

static void *
producer(void *arg)
{
    struct ixd_spsc *q = arg;
    uintptr_t i;

    for (i = 1; i <= MOVE_COUNT; i++) {
        while (ixd_spsc_push(q, ITEM(i)) == -1) {
            sched_yield();
        }
    }
    return NULL;
}

static void
two_threads_move_a_million_in_order(void **state)
{
    struct ixd_spsc q;
    pthread_t t;
    uintptr_t want = 1;
    uintptr_t bad_got = 0, bad_want = 0;

    assert_int_equal(ixd_spsc_init(&q, 1024), 0);
    assert_int_equal(pthread_create(&t, NULL, producer, &q), 0);
    while (want <= MOVE_COUNT) {
        void *p = ixd_spsc_pop(&q);
        if (p == NULL) {
            sched_yield();
            continue;
        }
        if ((uintptr_t)p != want && bad_want == 0) {
            bad_got = (uintptr_t)p;
            bad_want = want;
        }
        want++;
    }
    assert_int_equal(pthread_join(t, NULL), 0);
    if (bad_want != 0) {
        fail_msg("item %lu arrived where %lu was expected", (unsigned long)bad_got,
                 (unsigned long)bad_want);
    }
    assert_null(ixd_spsc_pop(&q));
    ixd_spsc_release(&q);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(init_rejects_non_power_of_two),
        cmocka_unit_test(empty_pop_returns_null),
        cmocka_unit_test(push_pop_keeps_fifo_order),
        cmocka_unit_test(full_at_capacity),
        cmocka_unit_test(capacity_one_alternates),
        cmocka_unit_test(wraps_around_many_times),
        cmocka_unit_test(two_threads_move_a_million_in_order),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
