/* The HA protocol (framing, authentication, state frames), the shared state's encodings, the
 * no-echo and newer-wins rules of restoring a peer's state, and the key file checks. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "crypto/hmac.h"
#include "ha/protocol.h"
#include "ha/state.h"
#include "ipfix/persist.h"

static const uint8_t KEY[32] = "0123456789abcdef0123456789abcdef";
static const uint8_t OTHER_KEY[32] = "fedcba9876543210fedcba9876543210";
static const uint8_t ID_SERVER[IXD_HA_ID_LEN] = "server-id-000000";
static const uint8_t ID_CLIENT[IXD_HA_ID_LEN] = "client-id-000000";

/* Moves one frame from `from` into a frame view over `hold` (a copy the caller releases). */
static int
next_frame(struct ixd_ha_buf *from, struct ixd_ha_buf *hold, struct ixd_ha_frame *f)
{
    int r = ixd_ha_frame_peek(from, IXD_HA_FRAME_MAX, f);

    if (r == 1) {
        ixd_ha_buf_release(hold);
        assert_int_equal(ixd_ha_buf_append(hold, from->data + from->off, f->size), 0);
        ixd_ha_buf_consume(from, f->size);
        assert_int_equal(ixd_ha_frame_peek(hold, IXD_HA_FRAME_MAX, f), 1);
    }
    return r;
}

/* Runs the handshake between a client with ckey and a server with skey; the result of the last
 * step that failed, or IXD_HA_DONE on both sides. */
static enum ixd_ha_result
handshake(struct ixd_ha_auth *c, struct ixd_ha_auth *s, const uint8_t *ckey, const uint8_t *skey,
          const uint8_t *client_id)
{
    struct ixd_ha_buf to_client = {0}, to_server = {0}, hold = {0};
    struct ixd_ha_frame f;
    enum ixd_ha_result r;

    assert_int_equal(ixd_ha_auth_init(c, 1, ckey, 32, client_id), 0);
    assert_int_equal(ixd_ha_auth_init(s, 0, skey, 32, ID_SERVER), 0);
    assert_int_equal(ixd_ha_auth_hello(s, &to_client), 0);
    assert_int_equal(next_frame(&to_client, &hold, &f), 1);
    assert_int_equal(f.type, IXD_HA_HELLO);
    r = ixd_ha_auth_step(c, &f, &to_server);
    if (r < 0) {
        goto out;
    }
    assert_int_equal(next_frame(&to_server, &hold, &f), 1);
    r = ixd_ha_auth_step(s, &f, &to_client);
    if (r < 0) {
        goto out;
    }
    assert_int_equal(r, IXD_HA_DONE);
    assert_int_equal(next_frame(&to_client, &hold, &f), 1);
    r = ixd_ha_auth_step(c, &f, &to_server);
out:
    ixd_ha_buf_release(&to_client);
    ixd_ha_buf_release(&to_server);
    ixd_ha_buf_release(&hold);
    return r;
}

static void
test_auth_and_state_round_trip(void **state)
{
    struct ixd_ha_auth c, s;
    struct ixd_ha_buf wire = {0}, hold = {0};
    struct ixd_ha_frame f;
    struct ixd_ha_state_view v;
    const uint8_t data[] = "templates";

    assert_int_equal(handshake(&c, &s, KEY, KEY, ID_CLIENT), IXD_HA_DONE);
    assert_true(c.done && s.done);
    assert_memory_equal(c.session, s.session, IXD_HMAC_LEN);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(
            ixd_ha_state_append(&c, &wire, "udp", IXD_HA_KIND_TEMPLATES, 1, 7, data, sizeof(data)),
            0);
        assert_int_equal(wire.len, (size_t)(i + 1) * ixd_ha_state_size("udp", sizeof(data)));
    }
    for (int i = 0; i < 3; i++) {
        assert_int_equal(next_frame(&wire, &hold, &f), 1);
        assert_int_equal(ixd_ha_state_open(&s, &f, &v), IXD_HA_OK);
        assert_string_equal(v.collector, "udp");
        assert_int_equal(v.kind, IXD_HA_KIND_TEMPLATES);
        assert_int_equal(v.worker, 1);
        assert_int_equal(v.entries, 7);
        assert_int_equal(v.len, sizeof(data));
        assert_memory_equal(v.data, data, sizeof(data));
    }
    /* a frame played again has the wrong number: refused */
    assert_int_equal(ixd_ha_state_append(&c, &wire, "udp", 1, 0, 0, data, sizeof(data)), 0);
    assert_int_equal(next_frame(&wire, &hold, &f), 1);
    assert_int_equal(ixd_ha_state_open(&s, &f, &v), IXD_HA_OK);
    assert_int_equal(ixd_ha_state_open(&s, &f, &v), IXD_HA_EAUTH);
    /* a byte changed on the way: refused */
    assert_int_equal(ixd_ha_state_append(&c, &wire, "udp", 1, 0, 0, data, sizeof(data)), 0);
    wire.data[wire.off + 12] ^= 1;
    assert_int_equal(next_frame(&wire, &hold, &f), 1);
    assert_int_equal(ixd_ha_state_open(&s, &f, &v), IXD_HA_EAUTH);
    /* the receiving side never sends state, and nothing comes after the handshake */
    assert_int_equal(ixd_ha_state_append(&s, &wire, "udp", 1, 0, 0, data, 1), -1);
    assert_int_equal(ixd_ha_auth_step(&s, &f, &wire), IXD_HA_EPROTOCOL);
    ixd_ha_buf_release(&wire);
    ixd_ha_buf_release(&hold);
}

static void
test_wrong_key_fails(void **state)
{
    struct ixd_ha_auth c, s;

    assert_int_equal(handshake(&c, &s, OTHER_KEY, KEY, ID_CLIENT), IXD_HA_EAUTH);
    assert_false(s.done);
    assert_false(c.done);
}

static void
test_reflection_fails(void **state)
{
    struct ixd_ha_auth c, s;

    /* a process that meets its own challenge (its peer address is itself, or an attacker
     * relays it back) refuses */
    assert_int_equal(handshake(&c, &s, KEY, KEY, ID_SERVER), IXD_HA_EAUTH);
}

static void
test_out_of_order_frames(void **state)
{
    struct ixd_ha_auth c, s;
    struct ixd_ha_buf out = {0};
    struct ixd_ha_frame f = {IXD_HA_AUTH_OK, KEY, 32, 0};

    assert_int_equal(ixd_ha_auth_init(&c, 1, KEY, 32, ID_CLIENT), 0);
    assert_int_equal(ixd_ha_auth_init(&s, 0, KEY, 32, ID_SERVER), 0);
    /* AUTH_OK before HELLO, HELLO to a server, STATE before authentication */
    assert_int_equal(ixd_ha_auth_step(&c, &f, &out), IXD_HA_EPROTOCOL);
    f.type = IXD_HA_HELLO;
    assert_int_equal(ixd_ha_auth_step(&s, &f, &out), IXD_HA_EPROTOCOL);
    f.type = IXD_HA_STATE;
    assert_int_equal(ixd_ha_auth_step(&s, &f, &out), IXD_HA_EPROTOCOL);
    /* a HELLO of another length or version */
    f.type = IXD_HA_HELLO;
    assert_int_equal(ixd_ha_auth_step(&c, &f, &out), IXD_HA_EPROTOCOL);
    assert_int_equal(out.len, 0);
}

static void
test_framing_truncated_and_oversized(void **state)
{
    struct ixd_ha_buf b = {0};
    struct ixd_ha_frame f;
    const uint8_t head[] = {0, 0, 0, 5, IXD_HA_STATE, 1, 2};

    assert_int_equal(ixd_ha_frame_peek(&b, IXD_HA_FRAME_MAX, &f), 0);
    for (size_t n = 1; n <= sizeof(head); n++) {
        assert_int_equal(ixd_ha_buf_append(&b, head + n - 1, 1), 0);
        assert_int_equal(ixd_ha_frame_peek(&b, IXD_HA_FRAME_MAX, &f), 0); /* cut short */
    }
    assert_int_equal(ixd_ha_buf_append(&b, "\3\4", 2), 0);
    assert_int_equal(ixd_ha_frame_peek(&b, IXD_HA_FRAME_MAX, &f), 1);
    assert_int_equal(f.type, IXD_HA_STATE);
    assert_int_equal(f.len, 4);
    assert_int_equal(f.size, 9);
    ixd_ha_buf_consume(&b, f.size);
    /* a length over the cap is refused from its header alone, as is an empty body */
    assert_int_equal(ixd_ha_buf_append(&b, "\x01\x00\x00\x01", 4), 0);
    assert_int_equal(ixd_ha_frame_peek(&b, IXD_HA_FRAME_MAX, &f), -1);
    ixd_ha_buf_consume(&b, 4);
    assert_int_equal(ixd_ha_buf_append(&b, "\0\0\0\0", 4), 0);
    assert_int_equal(ixd_ha_frame_peek(&b, IXD_HA_FRAME_MAX, &f), -1);
    ixd_ha_buf_release(&b);
}

static void
test_frame_cap_follows_authentication(void **state)
{
    struct ixd_ha_auth c, s;
    struct ixd_ha_buf b = {0}, to_client = {0}, to_server = {0};
    struct ixd_ha_frame f;
    uint8_t head[IXD_HA_HEADER_LEN + 1] = {0, 0, 0, IXD_HA_HANDSHAKE_FRAME_MAX + 1, IXD_HA_AUTH};

    /* before authentication: the largest handshake frame, and the real ones fit */
    assert_int_equal(ixd_ha_auth_init(&c, 1, KEY, 32, ID_CLIENT), 0);
    assert_int_equal(ixd_ha_auth_init(&s, 0, KEY, 32, ID_SERVER), 0);
    assert_int_equal(ixd_ha_frame_max(&c), IXD_HA_HANDSHAKE_FRAME_MAX);
    assert_int_equal(ixd_ha_frame_max(&s), IXD_HA_HANDSHAKE_FRAME_MAX);
    assert_int_equal(ixd_ha_auth_hello(&s, &to_client), 0);
    assert_int_equal(ixd_ha_frame_peek(&to_client, ixd_ha_frame_max(&c), &f), 1);
    assert_int_equal(ixd_ha_auth_step(&c, &f, &to_server), IXD_HA_OK);
    ixd_ha_buf_consume(&to_client, f.size);
    assert_int_equal(ixd_ha_frame_peek(&to_server, ixd_ha_frame_max(&s), &f), 1);
    assert_int_equal(f.len + 1, IXD_HA_HANDSHAKE_FRAME_MAX);
    /* one byte more is refused from the header alone, long before a 16 MiB frame could be */
    assert_int_equal(ixd_ha_buf_append(&b, head, sizeof(head)), 0);
    assert_int_equal(ixd_ha_frame_peek(&b, ixd_ha_frame_max(&s), &f), -1);
    assert_int_equal(ixd_ha_frame_peek(&b, IXD_HA_FRAME_MAX, &f), 0);
    /* authenticated: the server takes STATE frames up to the full size, the client nothing
     * larger than before */
    assert_int_equal(ixd_ha_auth_step(&s, &f, &to_client), IXD_HA_DONE);
    assert_int_equal(ixd_ha_frame_max(&s), IXD_HA_FRAME_MAX);
    assert_int_equal(ixd_ha_frame_peek(&to_client, ixd_ha_frame_max(&c), &f), 1);
    assert_int_equal(ixd_ha_auth_step(&c, &f, &to_server), IXD_HA_DONE);
    assert_int_equal(ixd_ha_frame_max(&c), IXD_HA_HANDSHAKE_FRAME_MAX);
    ixd_ha_buf_release(&b);
    ixd_ha_buf_release(&to_client);
    ixd_ha_buf_release(&to_server);
}

static void
test_state_frame_too_short(void **state)
{
    struct ixd_ha_auth c, s;
    struct ixd_ha_state_view v;
    uint8_t payload[IXD_HMAC_LEN + 8] = {0};
    struct ixd_ha_frame f = {IXD_HA_STATE, payload, sizeof(payload), 0};

    assert_int_equal(handshake(&c, &s, KEY, KEY, ID_CLIENT), IXD_HA_DONE);
    /* shorter than a name length, kind, worker, count and MAC: refused before the MAC */
    assert_int_equal(ixd_ha_state_open(&s, &f, &v), IXD_HA_EPROTOCOL);
    f.len = 3;
    assert_int_equal(ixd_ha_state_open(&s, &f, &v), IXD_HA_EPROTOCOL);
}

/* ---- shared state */

#define MONO 1000.0
#define WALL_MS 1700000000000LL

static void
sessions(struct ixd_sessions *ss)
{
    struct ixd_session_limits limits;
    struct ixd_template_rules rules = {0};

    ixd_session_limits_default(&limits);
    rules.max_fields = 512;
    ixd_sessions_init(ss, "u", 0, &rules, &limits);
}

static struct ixd_session *
exporter(struct ixd_sessions *ss, double now)
{
    struct sockaddr_in sin;

    memset(&sin, 0, sizeof(sin));
    sin.sin_family = AF_INET;
    sin.sin_port = htons(5000);
    sin.sin_addr.s_addr = htonl(0xc0000201);
    return ixd_session_udp(ss, (const struct sockaddr *)&sin, now);
}

static struct ixd_template *
template_256(uint16_t second_len)
{
    uint8_t rec[] = {1, 0, 0, 2, 0, 8, 0, 4, 0, 1, 0, (uint8_t)second_len};
    struct ixd_template_rules rules = {0};
    struct ixd_template *t;
    enum ixd_error why;
    size_t used;
    uint16_t tid;

    rules.max_fields = 512;
    assert_int_equal(ixd_template_parse(rec, sizeof(rec), 0, &rules, &t, &tid, &used, &why),
                     IXD_TPARSE_TEMPLATE);
    return t;
}

/* Decodes what `from` shares (templates and sequences) and restores it into `to`. */
static struct ixd_ha_restored
share(struct ixd_sessions *from, struct ixd_sessions *to, double now, long *templates_shared)
{
    struct ixd_ha_outbox ob = {0};
    struct ixd_ha_restored got = {0, 0};
    struct ixd_ha_item *items, *it;

    from->ha.shared_changes = from->ha.changes - 1; /* everything is due */
    from->ha.shared_sequences = from->ha.sequences - 1;
    ixd_ha_publish_begin(&ob);
    ixd_ha_publish_add(&ob, from, 0, now, WALL_MS);
    ixd_ha_publish_end(&ob);
    items = ixd_ha_outbox_take(&ob);
    assert_non_null(items);
    for (it = items; it != NULL; it = it->next) {
        struct ixd_ha_peer_state ps;
        char err[256];
        assert_int_equal(ixd_ha_peer_state_decode(it->collector, it->kind, it->data, it->len, &ps,
                                                  err, sizeof(err)),
                         0);
        if (it->kind == IXD_HA_KIND_TEMPLATES) {
            *templates_shared = it->count;
        }
        ixd_ha_restore(&ps, to, now, WALL_MS, &got);
        ixd_ha_peer_state_release(&ps);
    }
    ixd_ha_items_free(items);
    return got;
}

static void
test_share_restore_no_echo(void **state)
{
    struct ixd_sessions a, b;
    struct ixd_session *s;
    struct ixd_domain *d;
    struct ixd_ha_restored got;
    long shared = -1;

    sessions(&a);
    sessions(&b);
    s = exporter(&a, MONO);
    d = ixd_session_domain(s, 1);
    assert_int_equal(ixd_domain_set_template(s, d, template_256(8), MONO - 5), 1);
    s->last_seen = MONO - 1;
    ixd_domain_sequence(s, d, 100, 10, 1); /* next: 110 */

    got = share(&a, &b, MONO, &shared);
    assert_int_equal(shared, 1);
    assert_int_equal(got.templates, 1);
    assert_int_equal(got.sequences, 1);
    s = exporter(&b, MONO);
    d = ixd_session_domain(s, 1);
    assert_non_null(ixd_domain_template(s, d, 256, MONO));
    assert_int_equal(d->seq_next, 110);
    assert_true(d->seq_valid && d->seq_from_peer);

    /* B shares nothing of A's back: neither templates nor sequence numbers */
    got = share(&b, &a, MONO, &shared);
    assert_int_equal(shared, 0);
    assert_int_equal(got.templates, 0);
    assert_int_equal(got.sequences, 0);

    /* after a failover, the first message's gap is loss */
    ixd_domain_sequence(s, d, 117, 3, 1);
    assert_int_equal(d->counters->seq_lost, 7);
    assert_false(d->seq_from_peer);
    ixd_sessions_release(&a);
    ixd_sessions_release(&b);
}

static void
test_local_newer_wins(void **state)
{
    struct ixd_sessions a, b;
    struct ixd_session *sa, *sb;
    struct ixd_domain *da, *db;
    struct ixd_ha_restored got;
    long shared;

    sessions(&a);
    sessions(&b);
    sa = exporter(&a, MONO);
    da = ixd_session_domain(sa, 1);
    assert_int_equal(ixd_domain_set_template(sa, da, template_256(8), MONO - 60), 1);
    sa->last_seen = MONO - 60;
    ixd_domain_sequence(sa, da, 100, 10, 1);
    /* B heard from the exporter itself since, with another definition */
    sb = exporter(&b, MONO);
    db = ixd_session_domain(sb, 1);
    assert_int_equal(ixd_domain_set_template(sb, db, template_256(4), MONO - 2), 1);
    sb->last_seen = MONO - 2;
    ixd_domain_sequence(sb, db, 500, 10, 1);

    got = share(&a, &b, MONO, &shared);
    assert_int_equal(got.templates, 0);
    assert_int_equal(got.sequences, 0);
    assert_int_equal(ixd_domain_template(sb, db, 256, MONO)->fixed_length, 8);
    assert_int_equal(db->seq_next, 510);
    /* the other way round, B's newer template replaces A's */
    got = share(&b, &a, MONO, &shared);
    assert_int_equal(got.templates, 1);
    assert_int_equal(got.sequences, 1);
    assert_int_equal(ixd_domain_template(sa, da, 256, MONO)->fixed_length, 8);
    assert_int_equal(da->seq_next, 510);
    ixd_sessions_release(&a);
    ixd_sessions_release(&b);
}

static void
test_decode_refuses_bad_items(void **state)
{
    struct ixd_ha_peer_state ps;
    char err[256];
    uint8_t seq[8 + 2 + 1 + 4 + 34] = "IXDSEQ01";

    seq[9] = 1;
    seq[10] = 'u';
    seq[14] = 2; /* 2 entries, room for 1 */
    assert_int_equal(ixd_ha_peer_state_decode("u", IXD_HA_KIND_SEQUENCES, seq, sizeof(seq), &ps,
                                              err, sizeof(err)),
                     -1);
    seq[14] = 1;
    assert_int_equal(ixd_ha_peer_state_decode("u", IXD_HA_KIND_SEQUENCES, seq, sizeof(seq), &ps,
                                              err, sizeof(err)),
                     0);
    assert_int_equal(ps.n_seqs, 1);
    ixd_ha_peer_state_release(&ps);
    assert_int_equal(ixd_ha_peer_state_decode("v", IXD_HA_KIND_SEQUENCES, seq, sizeof(seq), &ps,
                                              err, sizeof(err)),
                     -1);
    assert_int_equal(ixd_ha_peer_state_decode("u", IXD_HA_KIND_TEMPLATES, seq, sizeof(seq), &ps,
                                              err, sizeof(err)),
                     -1);
    assert_int_equal(ixd_ha_peer_state_decode("u", 9, seq, sizeof(seq), &ps, err, sizeof(err)), -1);
}

static void
test_key_file(void **state)
{
    char path[] = "/tmp/ixd-ha-key-XXXXXX", err[256];
    uint8_t buf[IXD_HA_KEY_MAX + 1];
    size_t len = 0;
    int fd = mkstemp(path);

    assert_true(fd >= 0);
    assert_int_equal(write(fd, KEY, 31), 31);
    assert_int_equal(
        ixd_key_file_read(path, buf, IXD_HA_KEY_MIN, IXD_HA_KEY_MAX, &len, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "31 bytes"));
    assert_int_equal(write(fd, KEY, 1), 1);
    assert_int_equal(
        ixd_key_file_read(path, buf, IXD_HA_KEY_MIN, IXD_HA_KEY_MAX, &len, err, sizeof(err)), 0);
    assert_int_equal(len, 32);
    assert_int_equal(chmod(path, 0604), 0);
    assert_int_equal(
        ixd_key_file_read(path, buf, IXD_HA_KEY_MIN, IXD_HA_KEY_MAX, &len, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "must not be readable by others"));
    close(fd);
    unlink(path);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_auth_and_state_round_trip),
        cmocka_unit_test(test_wrong_key_fails),
        cmocka_unit_test(test_reflection_fails),
        cmocka_unit_test(test_out_of_order_frames),
        cmocka_unit_test(test_framing_truncated_and_oversized),
        cmocka_unit_test(test_frame_cap_follows_authentication),
        cmocka_unit_test(test_state_frame_too_short),
        cmocka_unit_test(test_share_restore_no_echo),
        cmocka_unit_test(test_local_newer_wins),
        cmocka_unit_test(test_decode_refuses_bad_items),
        cmocka_unit_test(test_key_file),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
