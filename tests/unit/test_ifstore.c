/* The interface store of the enrich stage (src/enrich/ifstore.c): what writers put is what
 * readers find once published, at most ten snapshots a second, unchanged tables shared, the
 * bounds counted, and readers on other threads while a writer changes names. */
#include <arpa/inet.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "enrich/ifstore.h"

static struct in6_addr
addr(const char *text)
{
    struct in6_addr a;

    assert_int_equal(inet_pton(AF_INET6, text, &a), 1);
    return a;
}

static void
put(struct ixd_ifstore *s, const struct in6_addr *e, uint32_t odid, uint32_t ifindex,
    const char *name, const char *d, uint64_t speed, double now)
{
    ixd_ifstore_lock(s);
    ixd_ifstore_put_locked(s, e, odid, IXD_IFSOURCE_OPTIONS, ifindex, name, strlen(name), d,
                           strlen(d), speed);
    ixd_ifstore_unlock(s, now);
}

struct count {
    const char *key;
    uint64_t value;
};

static void
one_counter(void *arg, const struct ixd_counter_def *def, const char *label, uint64_t value)
{
    struct count *c = arg;

    if (strcmp(def->key, c->key) == 0) {
        c->value = value;
    }
}

static uint64_t
counter(struct ixd_ifstore *s, const char *key)
{
    struct count c = {key, UINT64_MAX};

    ixd_ifstore_stats(s, one_counter, &c);
    assert_true(c.value != UINT64_MAX);
    return c.value;
}

/* Interfaces put are found by exporter, domain, source and ifIndex; nothing else is. */
static void
learn_and_find(void **state)
{
    struct ixd_ifstore *s = ixd_ifstore_acquire();
    struct in6_addr a = addr("::ffff:192.0.2.1"), b = addr("2001:db8::1");
    struct ixd_ifsnap *snap;
    const struct ixd_iftable *t;
    const struct ixd_ifinfo *i;
    uint64_t v;

    assert_non_null(s);
    snap = ixd_ifstore_snapshot(s, &v);
    assert_null(ixd_ifsnap_table(snap, &a, 1, IXD_IFSOURCE_OPTIONS));
    ixd_ifsnap_release(s, snap);
    put(s, &a, 1, 3, "ge-0/0/3", "uplink to transit", 10000000000ull, 0);
    put(s, &a, 1, 4, "ge-0/0/4", "", 0, 0.5);
    put(s, &b, 7, 3, "eth3", "six", 1000000000ull, 1.0);
    snap = ixd_ifstore_snapshot(s, &v);
    assert_int_equal(v, ixd_ifstore_version(s));
    t = ixd_ifsnap_table(snap, &a, 1, IXD_IFSOURCE_OPTIONS);
    assert_non_null(t);
    i = ixd_iftable_find(t, 3);
    assert_non_null(i);
    assert_string_equal(i->name, "ge-0/0/3");
    assert_int_equal(i->name_len, 8);
    assert_string_equal(i->description, "uplink to transit");
    assert_int_equal(i->speed, 10000000000ull);
    i = ixd_iftable_find(t, 4);
    assert_non_null(i);
    assert_int_equal(i->description_len, 0);
    assert_int_equal(i->speed, 0);
    assert_null(ixd_iftable_find(t, 5));
    assert_null(ixd_ifsnap_table(snap, &a, 2, IXD_IFSOURCE_OPTIONS));
    assert_null(ixd_ifsnap_table(snap, &a, 1, IXD_IFSOURCE_SNMP));
    t = ixd_ifsnap_table(snap, &b, 7, IXD_IFSOURCE_OPTIONS);
    assert_non_null(t);
    assert_string_equal(ixd_iftable_find(t, 3)->name, "eth3");
    assert_int_equal(counter(s, "interfaces"), 3);
    assert_int_equal(counter(s, "interface_tables"), 2);
    ixd_ifsnap_release(s, snap);
    ixd_ifstore_release(s);
}

/* Names padded with zeros end at the first; long ones are cut before a UTF-8 character;
 * speed 0 keeps the speed known. */
static void
strings_and_speed(void **state)
{
    struct ixd_ifstore *s = ixd_ifstore_acquire();
    struct in6_addr a = addr("::ffff:192.0.2.2");
    char longname[300];
    struct ixd_ifsnap *snap;
    const struct ixd_ifinfo *i;
    uint64_t v;

    memset(longname, 'x', sizeof(longname));
    longname[254] = (char)0xc3; /* "é" at bytes 254 and 255 */
    longname[255] = (char)0xa9;
    ixd_ifstore_lock(s);
    ixd_ifstore_put_locked(s, &a, 0, IXD_IFSOURCE_SNMP, 1, "eth0\0\0\0\0", 8, longname,
                           sizeof(longname), 100);
    ixd_ifstore_put_locked(s, &a, 0, IXD_IFSOURCE_SNMP, 1, "eth0", 4, longname, sizeof(longname),
                           0);
    ixd_ifstore_unlock(s, 0);
    snap = ixd_ifstore_snapshot(s, &v);
    i = ixd_iftable_find(ixd_ifsnap_table(snap, &a, 0, IXD_IFSOURCE_SNMP), 1);
    assert_non_null(i);
    assert_int_equal(i->name_len, 4);
    assert_string_equal(i->name, "eth0");
    assert_int_equal(i->description_len, 254);
    assert_int_equal(strlen(i->description), 254);
    assert_int_equal(i->speed, 100);
    ixd_ifsnap_release(s, snap);
    ixd_ifstore_release(s);
}

/* Changes within 100 ms of a snapshot wait for a tick; a repeat of what is known changes
 * nothing; a table that did not change is the same memory in the next snapshot. */
static void
publishing(void **state)
{
    struct ixd_ifstore *s = ixd_ifstore_acquire();
    struct in6_addr a = addr("::ffff:192.0.2.3"), b = addr("::ffff:192.0.2.4");
    struct ixd_ifsnap *s1, *s2;
    uint64_t v1, v2;

    put(s, &a, 0, 1, "a1", "", 0, 10.0);
    put(s, &b, 0, 1, "b1", "", 0, 10.0); /* within 100 ms: not yet */
    s1 = ixd_ifstore_snapshot(s, &v1);
    assert_null(ixd_ifsnap_table(s1, &b, 0, IXD_IFSOURCE_OPTIONS));
    ixd_ifstore_tick(s, 10.05);
    assert_int_equal(ixd_ifstore_version(s), v1);
    ixd_ifstore_tick(s, 10.2);
    assert_int_equal(ixd_ifstore_version(s), v1 + 1);
    ixd_ifsnap_release(s, s1);
    s1 = ixd_ifstore_snapshot(s, &v1);
    assert_non_null(ixd_ifsnap_table(s1, &b, 0, IXD_IFSOURCE_OPTIONS));
    put(s, &a, 0, 1, "a1", "", 0, 11.0); /* the same again */
    ixd_ifstore_tick(s, 12.0);
    assert_int_equal(ixd_ifstore_version(s), v1);
    put(s, &a, 0, 1, "a1 renamed", "", 0, 13.0);
    s2 = ixd_ifstore_snapshot(s, &v2);
    assert_int_equal(v2, v1 + 1);
    assert_ptr_equal(ixd_ifsnap_table(s1, &b, 0, IXD_IFSOURCE_OPTIONS),
                     ixd_ifsnap_table(s2, &b, 0, IXD_IFSOURCE_OPTIONS));
    assert_string_equal(
        ixd_iftable_find(ixd_ifsnap_table(s1, &a, 0, IXD_IFSOURCE_OPTIONS), 1)->name, "a1");
    assert_string_equal(
        ixd_iftable_find(ixd_ifsnap_table(s2, &a, 0, IXD_IFSOURCE_OPTIONS), 1)->name, "a1 renamed");
    ixd_ifstore_lock(s);
    ixd_ifstore_clear_locked(s, &a, 0, IXD_IFSOURCE_OPTIONS);
    ixd_ifstore_unlock(s, 14.0);
    ixd_ifsnap_release(s, s2);
    s2 = ixd_ifstore_snapshot(s, &v2);
    assert_null(ixd_ifsnap_table(s2, &a, 0, IXD_IFSOURCE_OPTIONS));
    assert_non_null(ixd_ifsnap_table(s2, &b, 0, IXD_IFSOURCE_OPTIONS));
    ixd_ifsnap_release(s, s1);
    ixd_ifsnap_release(s, s2);
    ixd_ifstore_release(s);
}

/* A table holds IXD_IFSTORE_PER_TABLE interfaces (more are dropped); the store holds
 * IXD_IFSTORE_TOTAL, and a new table beyond evicts the least recently changed one. */
static void
bounds(void **state)
{
    struct ixd_ifstore *s = ixd_ifstore_acquire();
    struct in6_addr e[5];
    struct ixd_ifsnap *snap;
    uint32_t k, i;
    uint64_t v;

    assert_int_equal(IXD_IFSTORE_TOTAL, 4 * IXD_IFSTORE_PER_TABLE);
    ixd_ifstore_lock(s);
    for (k = 0; k < 5; k++) {
        char text[64];
        snprintf(text, sizeof(text), "2001:db8::%u", k + 1);
        e[k] = addr(text);
    }
    for (k = 0; k < 4; k++) {
        for (i = 0; i < IXD_IFSTORE_PER_TABLE + (k == 0); i++) {
            ixd_ifstore_put_locked(s, &e[k], 0, IXD_IFSOURCE_OPTIONS, i, "x", 1, "", 0, 0);
        }
    }
    assert_int_equal(counter(s, "interfaces_dropped"), 1);
    ixd_ifstore_put_locked(s, &e[4], 0, IXD_IFSOURCE_OPTIONS, 1, "new", 3, "", 0, 0);
    ixd_ifstore_unlock(s, 0);
    assert_int_equal(counter(s, "interfaces_evicted"), IXD_IFSTORE_PER_TABLE);
    assert_int_equal(counter(s, "interfaces"), 3 * IXD_IFSTORE_PER_TABLE + 1);
    snap = ixd_ifstore_snapshot(s, &v);
    assert_null(ixd_ifsnap_table(snap, &e[0], 0, IXD_IFSOURCE_OPTIONS));
    assert_non_null(ixd_iftable_find(ixd_ifsnap_table(snap, &e[1], 0, IXD_IFSOURCE_OPTIONS),
                                     IXD_IFSTORE_PER_TABLE - 1));
    assert_string_equal(
        ixd_iftable_find(ixd_ifsnap_table(snap, &e[4], 0, IXD_IFSOURCE_OPTIONS), 1)->name, "new");
    ixd_ifsnap_release(s, snap);
    ixd_ifstore_release(s);
}

struct reader {
    struct ixd_ifstore *s;
    struct in6_addr a;
    volatile int *stop;
    unsigned changes, bad;
};

/* Follows the store as a worker does: a new snapshot when the version moved; every interface
 * found has its name and description from the same write. */
static void *
read_loop(void *arg)
{
    struct reader *r = arg;
    uint64_t v, last = 0;
    struct ixd_ifsnap *snap = ixd_ifstore_snapshot(r->s, &last);

    while (!*r->stop) {
        const struct ixd_iftable *t;
        if (ixd_ifstore_version(r->s) != last) {
            ixd_ifsnap_release(r->s, snap);
            snap = ixd_ifstore_snapshot(r->s, &v);
            last = v;
            __atomic_store_n(&r->changes, r->changes + 1, __ATOMIC_RELAXED);
        }
        t = ixd_ifsnap_table(snap, &r->a, 0, IXD_IFSOURCE_OPTIONS);
        for (uint32_t i = 0; t != NULL && i < 8; i++) {
            const struct ixd_ifinfo *f = ixd_iftable_find(t, i);
            if (f != NULL && strcmp(f->name + 1, f->description + 1) != 0) {
                r->bad++;
            }
        }
    }
    ixd_ifsnap_release(r->s, snap);
    return NULL;
}

static void
readers_while_writing(void **state)
{
    struct ixd_ifstore *s = ixd_ifstore_acquire();
    volatile int stop = 0;
    struct reader r[2];
    pthread_t th[2];
    unsigned k, i;

    for (k = 0; k < 2; k++) {
        r[k] = (struct reader){.s = s, .a = addr("::ffff:198.51.100.1"), .stop = &stop};
        assert_int_equal(pthread_create(&th[k], NULL, read_loop, &r[k]), 0);
    }
    /* until both readers have followed some changes (they may start late on a busy machine) */
    for (k = 0; k < 1000000 && (__atomic_load_n(&r[0].changes, __ATOMIC_RELAXED) < 20 ||
                                __atomic_load_n(&r[1].changes, __ATOMIC_RELAXED) < 20);
         k++) {
        char n[32], d[32];
        snprintf(n, sizeof(n), "n%u", k);
        snprintf(d, sizeof(d), "d%u", k);
        put(s, &r[0].a, 0, k % 8, n, d, 0, (double)k); /* each change published at once */
    }
    stop = 1;
    for (i = 0; i < 2; i++) {
        assert_int_equal(pthread_join(th[i], NULL), 0);
        assert_int_equal(r[i].bad, 0);
        assert_true(r[i].changes >= 20);
    }
    assert_int_equal(counter(s, "interface_snapshots"), k);
    ixd_ifstore_release(s);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(learn_and_find),
        cmocka_unit_test(strings_and_speed),
        cmocka_unit_test(publishing),
        cmocka_unit_test(bounds),
        cmocka_unit_test(readers_while_writing),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
