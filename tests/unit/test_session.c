/*
 * Unit tests of src/ipfix/session.c through ixd_message_process: template withdrawal (TCP)
 * and lifetime (UDP), session expiry, and sequence accounting per observation domain.
 */
#include "decode_fixture.h"

/* Withdrawal of one template on TCP (RFC 7011 8.1) */
static void
tcp_withdraw_one(void **state)
{
    msg_both_256(0, 1, 1);
    assert_int_equal(process(), 1);
    ib_msg_begin(&m, 0, 1, 1);
    {
        size_t s = ib_set_begin(&m, IXD_SET_TEMPLATE);
        ib_template(&m, 256, 0);
        ib_set_end(&m, s);
    }
    ib_msg_end(&m);
    assert_int_equal(process(), 0);
    assert_int_equal(ss.counters.templates_withdrawn, 1);
    msg_data_256(1, 1, 1, 0);
    assert_int_equal(process(), 0);
    assert_int_equal(ss.counters.errors[IXD_ERR_NO_TEMPLATE], 1);
    assert_int_equal(cap->n, 1);
}

/* RFC 7011 8.1: template ID 2 in a template set withdraws all templates; 3 all options */
static void
tcp_withdraw_all(void **state)
{
    struct ixd_domain *d;
    size_t s;

    ib_msg_begin(&m, 0, 0, 1);
    s = ib_set_begin(&m, IXD_SET_TEMPLATE);
    ib_template(&m, 256, 1);
    ib_field(&m, 8, 4);
    ib_template(&m, 257, 1);
    ib_field(&m, 12, 4);
    ib_set_end(&m, s);
    s = ib_set_begin(&m, IXD_SET_OPTIONS_TEMPLATE);
    ib_options_template(&m, 258, 1, 1);
    ib_field(&m, 149, 4);
    ib_set_end(&m, s);
    s = ib_set_begin(&m, IXD_SET_TEMPLATE);
    ib_template(&m, 2, 0);
    ib_set_end(&m, s);
    ib_msg_end(&m);
    assert_int_equal(process(), 0);
    d = ixd_session_domain(sess, 1);
    assert_null(ixd_domain_template(sess, d, 256, T0));
    assert_null(ixd_domain_template(sess, d, 257, T0));
    assert_non_null(ixd_domain_template(sess, d, 258, T0));
    assert_int_equal(ss.counters.templates_withdrawn, 2);

    ib_msg_begin(&m, 0, 0, 1);
    s = ib_set_begin(&m, IXD_SET_OPTIONS_TEMPLATE);
    ib_template(&m, 3, 0);
    ib_set_end(&m, s);
    ib_msg_end(&m);
    assert_int_equal(process(), 0);
    assert_null(ixd_domain_template(sess, d, 258, T0));
    assert_int_equal(ss.counters.templates_withdrawn, 3);
}

/* RFC 7011 8.4: withdrawals have no meaning on UDP */
static void
udp_withdrawal_ignored(void **state)
{
    size_t s;

    msg_both_256(0, 1, 1);
    assert_int_equal(process(), 1);
    ib_msg_begin(&m, 0, 1, 1);
    s = ib_set_begin(&m, IXD_SET_TEMPLATE);
    ib_template(&m, 256, 0);
    ib_set_end(&m, s);
    set_data_256(&m, 2, 0);
    ib_msg_end(&m);
    assert_int_equal(process(), 2);
    assert_int_equal(ss.counters.templates_withdrawn, 0);
    assert_int_equal(cap->n, 3);
}

/* RFC 7011 8.4: on UDP a template not refreshed within its lifetime expires */
static void
udp_template_lifetime(void **state)
{
    msg_template_256(0, 1);
    assert_int_equal(process_at(T0), 0);
    msg_data_256(0, 1, 1, 0);
    assert_int_equal(process_at(T0 + LIFETIME), 1);
    msg_data_256(1, 1, 1, 0);
    assert_int_equal(process_at(T0 + LIFETIME + 1), 0);
    assert_int_equal(ss.counters.templates_expired, 1);
    assert_int_equal(ss.counters.errors[IXD_ERR_NO_TEMPLATE], 1);
    assert_int_equal(cap->n, 1);
}

static void
tcp_templates_do_not_expire(void **state)
{
    msg_template_256(0, 1);
    assert_int_equal(process_at(T0), 0);
    msg_data_256(0, 1, 1, 0);
    assert_int_equal(process_at(T0 + 10 * LIFETIME), 1);
    assert_int_equal(ss.counters.templates_expired, 0);
}

static void
sessions_expire_frees_templates(void **state)
{
    struct sockaddr_in sin = exporter_addr();
    struct ixd_exporter *e = sess->exporter; /* outlives the session */

    msg_template_256(0, 1);
    assert_int_equal(process_at(T0), 0);
    assert_int_equal(ixd_sessions_expire(&ss, T0 + 10), 0);
    assert_int_equal(ss.counters.templates_expired, 0);
    assert_int_equal(ixd_sessions_expire(&ss, T0 + LIFETIME + 1), 1);
    assert_int_equal(ss.counters.templates_expired, 1);
    assert_int_equal(e->counters.templates_expired, 1);
    /* the idle session went with its templates; a new one knows no template */
    assert_int_equal(g_hash_table_size(ss.udp), 0);
    sess = ixd_session_udp(&ss, (const struct sockaddr *)&sin, T0 + LIFETIME + 2);
    assert_non_null(sess);
    msg_data_256(1, 1, 1, 0);
    assert_int_equal(process_at(T0 + LIFETIME + 2), 0);
    assert_int_equal(ss.counters.errors[IXD_ERR_NO_TEMPLATE], 1);
}

/* ---- sequence accounting (RFC 7011 3.1: sequence counts data records) ---- */

static const struct ixd_counters *
domain_counters(uint32_t odid)
{
    return ixd_session_domain(sess, odid)->counters;
}

static void
sequence_in_order_no_loss(void **state)
{
    uint32_t seq;

    for (seq = 0; seq < 30; seq += 3) {
        msg_both_256(seq, 1, 3);
        assert_int_equal(process(), 3);
    }
    assert_int_equal(domain_counters(1)->seq_lost, 0);
    assert_int_equal(domain_counters(1)->seq_reordered, 0);
    assert_int_equal(domain_counters(1)->seq_resets, 0);
}

static void
sequence_gap_counts_lost_records(void **state)
{
    msg_both_256(0, 1, 3);
    process();
    msg_both_256(8, 1, 3); /* 3..7 missing */
    process();
    assert_int_equal(domain_counters(1)->seq_lost, 5);
    assert_int_equal(ss.counters.seq_lost, 5);
    msg_both_256(11, 1, 3);
    process();
    assert_int_equal(domain_counters(1)->seq_lost, 5);
}

static void
sequence_late_message_corrects_loss(void **state)
{
    msg_both_256(0, 1, 3);
    process();
    msg_both_256(6, 1, 3);
    process();
    assert_int_equal(domain_counters(1)->seq_lost, 3);
    msg_both_256(3, 1, 3); /* the late one */
    process();
    assert_int_equal(domain_counters(1)->seq_reordered, 1);
    assert_int_equal(domain_counters(1)->seq_lost, 0);
    msg_both_256(9, 1, 3);
    process();
    assert_int_equal(domain_counters(1)->seq_lost, 0);
    assert_int_equal(domain_counters(1)->seq_resets, 0);
}

static void
sequence_wraps_at_2_32(void **state)
{
    msg_both_256(0xFFFFFFF0u, 1, 16);
    assert_int_equal(process(), 16);
    msg_both_256(0, 1, 2);
    assert_int_equal(process(), 2);
    msg_both_256(2, 1, 2);
    process();
    assert_int_equal(domain_counters(1)->seq_lost, 0);
    assert_int_equal(domain_counters(1)->seq_resets, 0);
    assert_int_equal(domain_counters(1)->seq_reordered, 0);
}

static void
sequence_big_backward_jump_is_reset(void **state)
{
    msg_both_256(1000000, 1, 3);
    process();
    msg_both_256(5, 1, 3);
    process();
    assert_int_equal(domain_counters(1)->seq_resets, 1);
    assert_int_equal(domain_counters(1)->seq_lost, 0);
    assert_int_equal(domain_counters(1)->seq_reordered, 0);
    msg_both_256(8, 1, 3);
    process();
    assert_int_equal(domain_counters(1)->seq_lost, 0);
    assert_int_equal(domain_counters(1)->seq_resets, 1);
}

static void
sequence_domains_independent(void **state)
{
    msg_both_256(0, 1, 3);
    process();
    msg_both_256(100, 2, 3);
    process();
    msg_both_256(3, 1, 3);
    process();
    msg_both_256(103, 2, 3);
    process();
    assert_int_equal(domain_counters(1)->seq_lost, 0);
    assert_int_equal(domain_counters(2)->seq_lost, 0);
    msg_both_256(110, 2, 3); /* 106..109 lost in domain 2 only */
    process();
    msg_both_256(6, 1, 3);
    process();
    assert_int_equal(domain_counters(1)->seq_lost, 0);
    assert_int_equal(domain_counters(2)->seq_lost, 4);
    assert_int_equal(ss.counters.seq_lost, 4);
}

/* RFC 7011 8.4: a template sent again restarts its lifetime */
static void
udp_template_refresh_restarts_lifetime(void **state)
{
    msg_template_256(0, 1);
    assert_int_equal(process_at(T0), 0);
    msg_template_256(0, 1);
    assert_int_equal(process_at(T0 + 1000), 0);
    msg_data_256(0, 1, 1, 0);
    assert_int_equal(process_at(T0 + LIFETIME + 500), 1);
    assert_int_equal(ixd_sessions_expire(&ss, T0 + LIFETIME + 500), 0);
    assert_int_equal(ss.counters.templates_expired, 0);
}

/* RFC 7011 8: templates belong to their transport session */
static void
tcp_sessions_have_separate_templates(void **state)
{
    struct sockaddr_in sin = exporter_addr();
    struct ixd_session *second;

    msg_template_256(0, 1);
    assert_int_equal(process(), 0);
    second = ixd_session_tcp(&ss, (const struct sockaddr *)&sin, T0);
    assert_non_null(second);
    assert_ptr_equal(second->exporter, sess->exporter);
    assert_int_equal(sess->exporter->sessions, 2);
    sess = second;
    msg_data_256(0, 1, 1, 0);
    assert_int_equal(process(), 0);
    assert_int_equal(ss.counters.errors[IXD_ERR_NO_TEMPLATE], 1);
    ixd_session_free(second);
    sess = tcp_sess;
    assert_int_equal(sess->exporter->sessions, 1);
    msg_data_256(0, 1, 1, 0);
    assert_int_equal(process(), 1);
}

/* docs/internals/templates.md: IPv4 through a dual-stack socket appears as IPv4 */
static void
ipv4_mapped_address_is_the_ipv4_session(void **state)
{
    struct sockaddr_in6 sin6;
    struct ixd_session *s;

    memset(&sin6, 0, sizeof(sin6));
    sin6.sin6_family = AF_INET6;
    sin6.sin6_port = htons(5000);
    inet_pton(AF_INET6, "::ffff:192.0.2.1", &sin6.sin6_addr);
    s = ixd_session_udp(&ss, (const struct sockaddr *)&sin6, T0);
    assert_ptr_equal(s, sess);
    assert_string_equal(s->source.exporter_text, "192.0.2.1");
    assert_int_equal(s->source.exporter.ss_family, AF_INET);
    assert_int_equal(s->source.exporter_port, 5000);
}

/* an exporter is (collector, address): its sessions from other ports share it */
static void
exporter_shared_across_ports(void **state)
{
    struct sockaddr_in sin = exporter_addr();
    struct sockaddr_in6 sin6;
    struct ixd_session *other, *v6;

    sin.sin_port = htons(5001);
    other = ixd_session_udp(&ss, (const struct sockaddr *)&sin, T0);
    assert_non_null(other);
    assert_ptr_not_equal(other, sess);
    assert_ptr_equal(other->exporter, sess->exporter);
    assert_int_equal(sess->exporter->sessions, 2);
    memset(&sin6, 0, sizeof(sin6));
    sin6.sin6_family = AF_INET6;
    sin6.sin6_port = htons(5000);
    inet_pton(AF_INET6, "2001:db8::7", &sin6.sin6_addr);
    v6 = ixd_session_udp(&ss, (const struct sockaddr *)&sin6, T0);
    assert_ptr_not_equal(v6->exporter, sess->exporter);
    assert_string_equal(v6->source.exporter_text, "2001:db8::7");
    msg_both_256(0, 1, 2);
    assert_int_equal(process(), 2);
    sess = other;
    msg_both_256(0, 1, 3);
    assert_int_equal(process(), 3);
    assert_int_equal(other->exporter->counters.records, 5);
    assert_int_equal(v6->exporter->counters.records, 0);
}

/* The session of the last datagram, the domain of the last message and the template of the last
 * set are remembered: another domain, a template redefined or a session pushed out is never
 * taken for the one remembered. */
static void
remembered_lookups_follow_changes(void **state)
{
    struct sockaddr_in sin = exporter_addr();
    size_t s;

    msg_both_256(0, 1, 1);
    assert_int_equal(process(), 1);
    msg_both_256(0, 2, 2);
    assert_int_equal(process(), 2);
    msg_data_256(1, 1, 3, 0); /* odid 1 again after odid 2 */
    assert_int_equal(process(), 3);
    assert_int_equal(domain_counters(1)->records, 4);
    assert_int_equal(domain_counters(2)->records, 2);
    /* 256 redefined: 4-byte records from now on */
    ib_msg_begin(&m, 0, 4, 1);
    s = ib_set_begin(&m, IXD_SET_TEMPLATE);
    ib_template(&m, 256, 1);
    ib_field(&m, 8, 4);
    ib_set_end(&m, s);
    s = ib_set_begin(&m, 256);
    ib_u32(&m, 1);
    ib_u32(&m, 2);
    ib_u32(&m, 3);
    ib_set_end(&m, s);
    ib_msg_end(&m);
    cap->n = 0;
    assert_int_equal(process(), 3);
    assert_int_equal(cap->r[2].len, 4);
    /* one session per exporter address: another port pushes this one out, and a datagram
     * from this port again finds a new session, without templates */
    ss.limits.sessions_per_exporter = 1;
    sin.sin_port = htons(5001);
    assert_non_null(ixd_session_udp(&ss, (const struct sockaddr *)&sin, T0));
    assert_int_equal(ss.counters.sessions_evicted, 1);
    sin.sin_port = htons(5000);
    sess = ixd_session_udp(&ss, (const struct sockaddr *)&sin, T0);
    assert_non_null(sess);
    assert_int_equal(g_hash_table_size(ss.udp), 1);
    msg_data_256(7, 1, 1, 0);
    assert_int_equal(process(), 0);
    assert_int_equal(ss.counters.errors[IXD_ERR_NO_TEMPLATE], 1);
}

/* templates.md: a message with an undecodable set re-synchronises the sequence */
static void
sequence_incomplete_message_resynchronises(void **state)
{
    size_t s;

    msg_both_256(0, 1, 3);
    process();
    ib_msg_begin(&m, 0, 3, 1);
    set_template_256(&m);
    set_data_256(&m, 3, 0);
    s = ib_set_begin(&m, 999); /* 2 records of an unknown template */
    ib_u64(&m, 1);
    ib_u64(&m, 2);
    ib_set_end(&m, s);
    ib_msg_end(&m);
    assert_int_equal(process(), 3);
    msg_both_256(8, 1, 3);
    process();
    assert_int_equal(domain_counters(1)->seq_lost, 0);
    assert_int_equal(domain_counters(1)->seq_resets, 0);
    msg_both_256(12, 1, 3); /* 11 is missing: counted again once in sync */
    process();
    assert_int_equal(domain_counters(1)->seq_lost, 1);
}

#define U(f) cmocka_unit_test_setup_teardown(f, setup_udp, teardown)
#define TCP(f) cmocka_unit_test_setup_teardown(f, setup_tcp, teardown)

int
main(void)
{
    const struct CMUnitTest tests[] = {
        TCP(tcp_withdraw_one),
        TCP(tcp_withdraw_all),
        U(udp_withdrawal_ignored),
        U(udp_template_lifetime),
        TCP(tcp_templates_do_not_expire),
        U(sessions_expire_frees_templates),
        U(sequence_in_order_no_loss),
        U(sequence_gap_counts_lost_records),
        U(sequence_late_message_corrects_loss),
        U(sequence_wraps_at_2_32),
        U(sequence_big_backward_jump_is_reset),
        U(sequence_domains_independent),
        U(sequence_incomplete_message_resynchronises),
        U(udp_template_refresh_restarts_lifetime),
        TCP(tcp_sessions_have_separate_templates),
        U(ipv4_mapped_address_is_the_ipv4_session),
        U(exporter_shared_across_ports),
        U(remembered_lookups_follow_changes),
    };

    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
