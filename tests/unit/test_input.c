/* Unit tests of src/input/ as the registry checks collectors: each input type reads its keys
 * (listen, allow, sampling, forward, the intake's), refuses what it cannot use at its position,
 * and says what a reload may keep; and of the listen-address parser (core/address.c). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include <limits.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/config.h"
#include "core/keys.h"
#include "core/keys_net.h"
#include "crypto/tls.h"
#include "input/intake.h"
#include "registry/registry.h"

static char err[1024];
static char certs[128]; /* tests/tls/make_certs.sh made them here */
static struct ixd_ie_registry *reg;
static struct ixd_config *cfg;
static struct ixd_instances *in;

static int
setup(void **state)
{
    char cmd[512];

    snprintf(certs, sizeof(certs), "/tmp/ixd-test-input-XXXXXX");
    if (mkdtemp(certs) == NULL) {
        return -1;
    }
    snprintf(cmd, sizeof(cmd), "sh %s %s", IXD_TLS_CERTS_SCRIPT, certs);
    if (system(cmd) != 0) {
        return -1;
    }
    reg = ixd_ie_registry_new(NULL, 0, err, sizeof(err));
    return reg == NULL ? -1 : 0;
}

static int
teardown(void **state)
{
    char cmd[256];

    ixd_ie_registry_free(reg);
    snprintf(cmd, sizeof(cmd), "rm -rf %s", certs);
    return system(cmd) == 0 ? 0 : -1;
}

static void
release(void)
{
    ixd_instances_free(in);
    ixd_config_free(cfg);
    in = NULL;
    cfg = NULL;
}

/* The collectors of text as their types read them (in, cfg; release() frees them). */
static void
conf_ok(const char *text)
{
    release();
    cfg = ixd_config_parse("t.yaml", text, strlen(text), err, sizeof(err));
    if (cfg == NULL) {
        fail_msg("config rejected: %s", err);
    }
    in = ixd_instances_conf(cfg, reg, 2, IXD_CONFIG_DEFAULT, err, sizeof(err));
    if (in == NULL) {
        fail_msg("collectors refused: %s", err);
    }
}

/* The config parses and its collectors are refused with an error starting with want. */
static void
refused(const char *text, const char *want)
{
    release();
    cfg = ixd_config_parse("t.yaml", text, strlen(text), err, sizeof(err));
    if (cfg == NULL) {
        fail_msg("config rejected: %s", err);
    }
    in = ixd_instances_conf(cfg, reg, 2, IXD_CONFIG_DEFAULT, err, sizeof(err));
    if (in != NULL) {
        release();
        fail_msg("accepted, expected \"%s\"", want);
    }
    if (strncmp(err, want, strlen(want)) != 0) {
        fail_msg("error is \"%s\", expected it to start with \"%s\"", err, want);
    }
    release();
}

/* The value of collector i's key, found through its type's table as the parser found it. */
static const void *
setting(size_t i, const char *key)
{
    size_t off = 0;
    const struct ixd_key *k = ixd_keys_find(in->inputs[i].type->m.keys, key, &off);

    if (k == NULL) {
        fail_msg("collector %zu has no key %s", i, key);
    }
    return (const char *)in->inputs[i].settings + off + k->offset;
}

static uint16_t
port_of(const struct ixd_listen_addr *l)
{
    if (l->addr.ss_family == AF_INET) {
        return ntohs(((const struct sockaddr_in *)&l->addr)->sin_port);
    }
    return ntohs(((const struct sockaddr_in6 *)&l->addr)->sin6_port);
}

static void
udp_and_tcp_collectors(void **state)
{
    const struct ixd_listen_addr *u, *t;

    conf_ok("collectors:\n"
            "  - name: edge-udp\n"
            "    transport: udp\n"
            "    listen: \"0.0.0.0:2055\"\n"
            "    receive-buffer: 8M\n"
            "    template-lifetime: 30m\n"
            "  - name: core_tcp\n"
            "    transport: tcp\n"
            "    listen: \"[::1]:4739\"\n"
            "    idle-timeout: 2h\n");
    assert_string_equal(in->inputs[0].type->m.name, "udp");
    assert_string_equal(in->inputs[1].type->m.name, "tcp");
    u = setting(0, "listen");
    assert_string_equal(u->text, "0.0.0.0:2055");
    assert_int_equal(u->addr.ss_family, AF_INET);
    assert_int_equal(u->addrlen, sizeof(struct sockaddr_in));
    assert_int_equal(((const struct sockaddr_in *)&u->addr)->sin_addr.s_addr, htonl(INADDR_ANY));
    assert_int_equal(port_of(u), 2055);
    assert_int_equal(u->any, 0);
    assert_int_equal(*(const size_t *)setting(0, "receive-buffer"), 8u << 20);
    assert_int_equal(*(const uint32_t *)setting(0, "template-lifetime"), 1800);
    t = setting(1, "listen");
    assert_int_equal(t->addr.ss_family, AF_INET6);
    assert_true(IN6_IS_ADDR_LOOPBACK(&((const struct sockaddr_in6 *)&t->addr)->sin6_addr));
    assert_int_equal(port_of(t), 4739);
    assert_int_equal(*(const size_t *)setting(1, "receive-buffer"), 0);
    assert_int_equal(*(const uint32_t *)setting(1, "template-lifetime"), 1800); /* default */
    assert_int_equal(*(const uint32_t *)setting(1, "idle-timeout"), 7200);
    assert_int_equal(*(const int *)setting(1, "hold-unknown"), 1);
    assert_int_equal(*(const uint32_t *)setting(1, "netflow9-enterprise"), 9);
    /* the intake as the worker reads it for the sessions */
    assert_int_equal(in->inputs[1].type->intake(in->inputs[1].settings)->template_lifetime, 1800);
    release();
}

/* The built-in config's collectors: UDP and TCP on the dual-stack wildcard. */
static void
builtin_collectors(void **state)
{
    release();
    cfg = ixd_config_builtin();
    in = ixd_instances_conf(cfg, reg, 2, IXD_CONFIG_DEFAULT, err, sizeof(err));
    if (in == NULL) {
        fail_msg("%s", err);
    }
    for (size_t i = 0; i < 2; i++) {
        const struct ixd_listen_addr *l = setting(i, "listen");
        assert_int_equal(l->any, 1);
        assert_int_equal(l->addr.ss_family, AF_INET6);
        assert_true(IN6_IS_ADDR_UNSPECIFIED(&((const struct sockaddr_in6 *)&l->addr)->sin6_addr));
        assert_int_equal(port_of(l), 4739);
    }
    release();
}

static void
unknown_keys_and_transports(void **state)
{
    refused("collectors:\n"
            "  - name: a\n"
            "    listen: \"*:4739\"\n"
            "    lisen: x\n",
            "t.yaml:4:5: unknown key 'lisen' in collector 'a' of transport udp (known: "
            "template-lifetime, hold-unknown, netflow9-enterprise, sampling, listen");
    refused("collectors:\n"
            "  - {name: a,   colour: red, listen: \"*:4739\"}\n",
            "t.yaml:2:17: unknown key 'colour' in collector 'a'");
    refused("collectors:\n"
            "  - name: a\n"
            "    transport: sctp\n"
            "    listen: \"*:4739\"\n",
            "t.yaml:3:16: transport must be udp, tcp, tls, dtls, file or pcap, not 'sctp'");
    refused("collectors:\n  - {name: t, transport: tcp, listen: \"*:1\", forward: "
            "[\"127.0.0.1:9\"]}\n",
            "t.yaml:2:46: 'forward' applies only to collectors of transport udp");
    refused("collectors:\n  - {name: f, transport: file, path: /x, listen: \"*:1\"}\n",
            "t.yaml:2:42: 'listen' applies only to collectors of transport udp, tcp, tls and "
            "dtls");
    refused("collectors:\n  - {name: a, path: /x, listen: \"*:1\"}\n",
            "t.yaml:2:15: 'path' applies only to collectors of transport file");
}

static void
bad_listen(void **state)
{
    refused("collectors:\n  - name: a\n    listen: 1.2.3.4\n",
            "t.yaml:3:13: listen must be ADDRESS:PORT");
    refused("collectors:\n  - name: a\n    listen: \"[::1]4739\"\n",
            "t.yaml:3:13: listen must look like [ADDRESS]:PORT");
    refused("collectors:\n  - name: a\n    listen: \"*:0\"\n",
            "t.yaml:3:13: port must be 1 to 65535, not '0'");
    refused("collectors:\n  - name: a\n    listen: \"*:70000\"\n",
            "t.yaml:3:13: port must be 1 to 65535, not '70000'");
    refused("collectors:\n  - name: a\n    listen: \"host:1\"\n",
            "t.yaml:3:13: 'host' is not an IPv4 address (names are not resolved)");
    refused("collectors:\n  - name: a\n", "t.yaml:2:5: collector 'a' needs a listen address");
    refused("collectors:\n  - {name: f, transport: file}\n",
            "t.yaml:2:5: collector 'f' reads a file: it needs a path");
}

static void
sampling_rules(void **state)
{
    const struct ixd_sampling_list *l;
    struct in6_addr inside, outside;

    conf_ok("collectors:\n"
            "  - name: a\n"
            "    listen: \"*:4739\"\n"
            "    sampling:\n"
            "      - exporter: 192.0.2.0/24\n"
            "        rate: 100\n"
            "      - {exporter: \"2001:db8::1\", rate: 2}\n");
    l = setting(0, "sampling");
    assert_int_equal(l->n, 2);
    assert_int_equal(l->rules[0].rate, 100);
    assert_int_equal(l->rules[1].rate, 2);
    assert_int_equal(inet_pton(AF_INET6, "::ffff:192.0.2.77", &inside), 1);
    assert_int_equal(inet_pton(AF_INET6, "::ffff:192.0.3.1", &outside), 1);
    assert_true(ixd_prefix_contains(&l->rules[0].prefix, &inside));
    assert_false(ixd_prefix_contains(&l->rules[0].prefix, &outside));
    release();
}

static void
bad_sampling_rules(void **state)
{
    const char *head = "collectors:\n  - name: a\n    listen: \"*:4739\"\n    sampling:\n";
    char text[512];

    snprintf(text, sizeof(text), "%s      - rate: 10\n", head);
    refused(text, "t.yaml:5:9: a sampling entry needs an exporter address or prefix");
    snprintf(text, sizeof(text), "%s      - exporter: 10.0.0.0/8\n", head);
    refused(text, "t.yaml:5:9: a sampling entry needs a rate (1 in N packets)");
    snprintf(text, sizeof(text), "%s      - {exporter: 10.0.0.0/8, rate: 0}\n", head);
    refused(text, "t.yaml:5:38: rate must be an integer from 1");
    snprintf(text, sizeof(text), "%s      - {exporter: 10.0.0.0/33, rate: 5}\n", head);
    refused(text, "t.yaml:5:20: prefix length of '10.0.0.0/33' must be 0 to 32");
    snprintf(text, sizeof(text), "%s      - {exporter: 10.0.0.1, rates: 5}\n", head);
    refused(text, "t.yaml:5:30: unknown key 'rates' in a sampling entry (known: exporter, rate)");
}

static void
bad_numbers(void **state)
{
    refused("collectors:\n  - {name: a, listen: \"*:1\", receive-buffer: 3G}\n",
            "t.yaml:2:46: receive-buffer must be");
    refused("collectors:\n  - {name: a, listen: \"*:1\", template-lifetime: 0}\n",
            "t.yaml:2:49: template-lifetime must be from 1");
}

/* Sockets of one transport that would receive the same packets: SO_REUSEPORT would split an
 * exporter's traffic between the two collectors silently. */
static void
overlapping_listeners(void **state)
{
    refused("collectors:\n"
            "  - name: a\n"
            "    listen: \"10.0.0.1:4739\"\n"
            "  - name: b\n"
            "    listen: \"10.0.0.1:4739\"\n",
            "t.yaml:4:5: collectors 'a' and 'b' both listen on udp 10.0.0.1:4739");
    /* "*:4739" and ":4739" are the same socket address */
    refused("collectors:\n"
            "  - name: a\n"
            "    listen: \"*:4739\"\n"
            "  - name: b\n"
            "    listen: \":4739\"\n",
            "t.yaml:4:5: collectors 'a' and 'b' both listen on udp");
    /* the dual-stack "*" socket also receives what is sent to 0.0.0.0 */
    refused("collectors:\n"
            "  - name: a\n"
            "    listen: \"*:4739\"\n"
            "  - name: b\n"
            "    listen: \"0.0.0.0:4739\"\n",
            "t.yaml:4:5: collectors 'a' and 'b'");
    refused("collectors:\n"
            "  - {name: a, listen: \"10.0.0.1:4739\"}\n"
            "  - {name: b, listen: \"[::]:4739\"}\n",
            "t.yaml:3:5: collectors 'a' and 'b' both listen on udp [::]:4739");
    conf_ok("collectors:\n"
            "  - {name: a, transport: udp, listen: \"*:4739\"}\n"
            "  - {name: b, transport: tcp, listen: \"*:4739\"}\n"
            "  - {name: c, listen: \"10.0.0.1:4740\"}\n"
            "  - {name: d, listen: \"10.0.0.2:4740\"}\n"
            "  - {name: e, listen: \"[::1]:4740\"}\n"
            "  - {name: f, listen: \"10.0.0.1:2055\"}\n");
    assert_int_equal(in->n_inputs, 6);
    release();
}

/* listen.c hands receive_buffer to setsockopt() as an int */
static void
receive_buffer_fits_an_int(void **state)
{
    conf_ok("collectors:\n  - {name: a, listen: \"*:1\", receive-buffer: 2047M}\n");
    assert_int_equal(*(const size_t *)setting(0, "receive-buffer"), 2047u << 20);
    release();
    refused("collectors:\n  - {name: a, listen: \"*:1\", receive-buffer: 2G}\n",
            "t.yaml:2:46: receive-buffer must be from 0 to 2147483647");
}

/* What a reload keeps: the sockets and state of a collector whose rebuild keys are the same;
 * the allow-list, sampling, holding and forwarding apply in place. */
static void
reload_classes(void **state)
{
    static const char *const kept[] = {
        "listen: \"*:4739\", allow: [10.0.0.0/8]",
        "listen: \"*:4739\", hold-unknown: false",
        "listen: \"*:4739\", sampling: [{exporter: 10.0.0.1, rate: 5}]",
        "listen: \"*:4739\", forward: \"127.0.0.1:9\"",
        "listen: \"*:4739\", netflow9-enterprise: 35632",
    };
    static const char *const rebuilt[] = {
        "listen: \"*:4740\"",
        "listen: \"*:4739\", receive-buffer: 1M",
        "listen: \"*:4739\", template-lifetime: 60",
        "transport: tcp, listen: \"*:4739\"",
    };
    struct ixd_config *base_cfg;
    struct ixd_instances *base;
    char text[256];

    conf_ok("collectors:\n  - {name: a, listen: \"*:4739\"}\n");
    base = in;
    base_cfg = cfg;
    in = NULL;
    cfg = NULL;
    for (size_t i = 0; i < sizeof(kept) / sizeof(kept[0]); i++) {
        snprintf(text, sizeof(text), "collectors:\n  - {name: a, %s}\n", kept[i]);
        conf_ok(text);
        if (!ixd_input_same(&base->inputs[0], "a", &in->inputs[0], "a")) {
            fail_msg("%s: rebuilt", kept[i]);
        }
    }
    for (size_t i = 0; i < sizeof(rebuilt) / sizeof(rebuilt[0]); i++) {
        snprintf(text, sizeof(text), "collectors:\n  - {name: a, %s}\n", rebuilt[i]);
        conf_ok(text);
        if (ixd_input_same(&base->inputs[0], "a", &in->inputs[0], "a")) {
            fail_msg("%s: kept", rebuilt[i]);
        }
    }
    assert_false(ixd_input_same(&base->inputs[0], "a", &base->inputs[0], "b"));
    release();
    ixd_instances_free(base);
    ixd_config_free(base_cfg);
}

/* ---- TLS and DTLS collectors ---- */

/* "collectors:\n  - {name: a, transport: T, listen: L, certificate: ..., key: ..., EXTRA}" with
 * the test certificates; extra names files in their directory as @. */
static const char *
tls_collector(const char *transport, const char *listen, const char *extra)
{
    static char text[2048];
    char more[1024];
    size_t o = 0;

    for (const char *p = extra; *p != '\0' && o + sizeof(certs) + 1 < sizeof(more); p++) {
        if (*p == '@') {
            o += (size_t)snprintf(more + o, sizeof(more) - o, "%s", certs);
        } else {
            more[o++] = *p;
        }
    }
    more[o] = '\0';
    snprintf(text, sizeof(text),
             "collectors:\n  - {name: a, transport: %s, listen: \"%s\", certificate: "
             "\"%s/collector.pem\", key: \"%s/collector.key\"%s%s}\n",
             transport, listen, certs, certs, more[0] != '\0' ? ", " : "", more);
    return text;
}

static void
tls_collectors(void **state)
{
    char text[4096];

    conf_ok(tls_collector("tls", "*:4739", "ca: \"@/ca.pem\""));
    assert_string_equal(in->inputs[0].type->m.name, "tls");
    assert_int_equal(*(const uint32_t *)setting(0, "handshake-timeout"), 10);
    assert_int_equal(*(const uint32_t *)setting(0, "pending-handshakes"), 256);
    assert_int_equal(*(const uint32_t *)setting(0, "pending-handshakes-per-address"), 16);
    assert_int_equal(*(const int *)setting(0, "client-certificate"), 0); /* required */
    conf_ok(tls_collector("dtls", "*:4740",
                          "pins: [\"SHA256:00:11:22:33:44:55:66:77:88:99:00:11:22:33:44:55:66:77:"
                          "88:99:00:11:22:33:44:55:66:77:88:99:AA:bb\"], idle-timeout: 5m"));
    assert_int_equal(((const struct ixd_tls_pins *)setting(0, "pins"))->n, 1);
    assert_int_equal(((const struct ixd_tls_pins *)setting(0, "pins"))->sha256[0][31], 0xbb);
    assert_int_equal(*(const uint32_t *)setting(0, "idle-timeout"), 300);
    release();
    snprintf(text, sizeof(text), "%s", tls_collector("tls", "*:4739", "ca: \"@/ca.pem\""));
    /* no certificate, nothing to verify exporters with, a key of another certificate */
    refused("collectors:\n  - {name: a, transport: tls, listen: \"*:1\"}\n",
            "t.yaml:2:5: a TLS collector needs certificate and key");
    refused(tls_collector("tls", "*:1", ""), "t.yaml:2:5: exporters' certificates need");
    snprintf(text, sizeof(text),
             "collectors:\n  - name: a\n    transport: tls\n    listen: \"*:1\"\n"
             "    ca: \"%s/ca.pem\"\n    certificate: \"%s/collector.pem\"\n"
             "    key: \"%s/exporter.key\"\n",
             certs, certs, certs);
    refused(text, "t.yaml:7:10: key: ");
    assert_non_null(strstr(err, "exporter.key is not the key of certificate"));
    release();
    refused(tls_collector("tls", "*:1", "ca: \"@/nothing.pem\""), "t.yaml:2:156: ca: cannot read");
    refused(tls_collector("tls", "*:1", "ca: \"@/ca.pem\", min-version: \"1.1\""), "t.yaml:2:");
    assert_non_null(strstr(err, "TLS 1.0 and 1.1 are refused (RFC 8996"));
    release();
    refused(tls_collector("dtls", "*:1", "ca: \"@/ca.pem\", min-version: \"1.3\""), "t.yaml:2:");
    assert_non_null(strstr(err, "DTLS 1.3 is not available"));
    release();
    refused(tls_collector("tls", "*:1", "pins: [\"AB:CD\"]"), "t.yaml:2:");
    assert_non_null(strstr(err, "not a SHA-256 fingerprint"));
    release();
    refused("collectors:\n  - {name: a, listen: \"*:1\", ca: /x}\n",
            "t.yaml:2:30: 'ca' applies only to collectors of transport tls and dtls");
    /* the key file is a secret: others must not read it */
    snprintf(text, sizeof(text), "chmod 644 %s/collector.key", certs);
    assert_int_equal(system(text), 0);
    refused(tls_collector("tls", "*:1", "ca: \"@/ca.pem\""), "t.yaml:2:");
    assert_non_null(strstr(err, "key"));
    snprintf(text, sizeof(text), "chmod 600 %s/collector.key", certs);
    assert_int_equal(system(text), 0);
    release();
}

/* tcp and tls both take TCP connections, udp and dtls datagrams: on one port SO_REUSEPORT
 * would split the exporters between them. */
static void
tls_listeners_overlap(void **state)
{
    char text[4096];

    snprintf(text, sizeof(text), "%s  - {name: b, transport: tcp, listen: \"*:4739\"}\n",
             tls_collector("tls", "*:4739", "ca: \"@/ca.pem\""));
    refused(text, "t.yaml:3:5: collectors 'a' and 'b' both listen on tcp *:4739");
    snprintf(text, sizeof(text), "%s  - {name: b, transport: udp, listen: \"*:4739\"}\n",
             tls_collector("dtls", "*:4739", "ca: \"@/ca.pem\""));
    refused(text, "t.yaml:3:5: collectors 'a' and 'b' both listen on udp *:4739");
    /* a TLS collector and a UDP one share a port number, as TCP and UDP do */
    snprintf(text, sizeof(text), "%s  - {name: b, transport: udp, listen: \"*:4739\"}\n",
             tls_collector("tls", "*:4739", "ca: \"@/ca.pem\""));
    conf_ok(text);
    release();
}

/* New certificates, keys, CAs and rules apply to new handshakes: the collector keeps its
 * sockets and its established sessions. */
static void
tls_reload_classes(void **state)
{
    static const char *const kept[] = {
        "ca: \"@/ca.pem\", pins: "
        "[\"0011223344556677889900112233445566778899001122334455667788990011\"]",
        "ca: \"@/ca.pem\", subjects: [exporter1]",
        "ca: \"@/ca.pem\", crl: \"@/crl.pem\"",
        "ca: \"@/other-ca.pem\"",
        "ca: \"@/ca.pem\", min-version: \"1.3\"",
        "ca: \"@/ca.pem\", handshake-timeout: 3s",
        "ca: \"@/ca.pem\", client-certificate: optional",
        "ca: \"@/ca.pem\", pending-handshakes: 10",
    };
    struct ixd_config *base_cfg;
    struct ixd_instances *base;

    conf_ok(tls_collector("tls", "*:4739", "ca: \"@/ca.pem\""));
    base = in;
    base_cfg = cfg;
    in = NULL;
    cfg = NULL;
    for (size_t i = 0; i < sizeof(kept) / sizeof(kept[0]); i++) {
        conf_ok(tls_collector("tls", "*:4739", kept[i]));
        if (!ixd_input_same(&base->inputs[0], "a", &in->inputs[0], "a")) {
            fail_msg("%s: rebuilt", kept[i]);
        }
    }
    conf_ok(tls_collector("tls", "*:4740", "ca: \"@/ca.pem\""));
    assert_false(ixd_input_same(&base->inputs[0], "a", &in->inputs[0], "a"));
    conf_ok(tls_collector("dtls", "*:4739", "ca: \"@/ca.pem\""));
    assert_false(ixd_input_same(&base->inputs[0], "a", &in->inputs[0], "a"));
    release();
    ixd_instances_free(base);
    ixd_config_free(base_cfg);
}

/* ---- the listen-address parser ---- */

static void
listen_any_forms(void **state)
{
    static const char *const forms[] = {"*:4739", ":4739"};

    for (size_t i = 0; i < 2; i++) {
        struct ixd_listen_addr l;
        const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)&l.addr;

        memset(&l, 0, sizeof(l));
        assert_int_equal(ixd_listen_addr_parse(forms[i], &l, err, sizeof(err)), 0);
        assert_int_equal(l.any, 1);
        assert_int_equal(l.addr.ss_family, AF_INET6);
        assert_true(IN6_IS_ADDR_UNSPECIFIED(&sin6->sin6_addr));
        assert_int_equal(port_of(&l), 4739);
        assert_string_equal(l.text, forms[i]);
    }
}

static void
listen_ipv4_and_ipv6(void **state)
{
    struct ixd_listen_addr l;
    const struct sockaddr_in *sin = (const struct sockaddr_in *)&l.addr;
    const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)&l.addr;

    memset(&l, 0, sizeof(l));
    l.any = 1;
    assert_int_equal(ixd_listen_addr_parse("0.0.0.0:2055", &l, err, sizeof(err)), 0);
    assert_int_equal(l.any, 0);
    assert_int_equal(l.addr.ss_family, AF_INET);
    assert_int_equal(l.addrlen, sizeof(struct sockaddr_in));
    assert_int_equal(sin->sin_addr.s_addr, htonl(INADDR_ANY));
    assert_int_equal(port_of(&l), 2055);
    assert_int_equal(ixd_listen_addr_parse("192.0.2.7:65535", &l, err, sizeof(err)), 0);
    assert_int_equal(sin->sin_addr.s_addr, htonl(0xc0000207));
    assert_int_equal(port_of(&l), 65535);
    assert_int_equal(ixd_listen_addr_parse("[::1]:4739", &l, err, sizeof(err)), 0);
    assert_int_equal(l.any, 0);
    assert_int_equal(l.addr.ss_family, AF_INET6);
    assert_int_equal(l.addrlen, sizeof(struct sockaddr_in6));
    assert_true(IN6_IS_ADDR_LOOPBACK(&sin6->sin6_addr));
    assert_int_equal(port_of(&l), 4739);
}

static void
listen_rejects_malformed(void **state)
{
    static const char *const bad[] = {
        "1.2.3.4", "[::1]4739", "[::1",     "*:0",          "*:70000",     "*:", "*:-1",
        "*:47a",   "host:1",    "::1:4739", "[nonsense]:1", "1.2.3.256:1", "",
    };

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct ixd_listen_addr l;

        memset(&l, 0, sizeof(l));
        err[0] = '\0';
        if (ixd_listen_addr_parse(bad[i], &l, err, sizeof(err)) != -1) {
            fail_msg("listen \"%s\" accepted", bad[i]);
        }
        assert_true(err[0] != '\0');
    }
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(udp_and_tcp_collectors),
        cmocka_unit_test(builtin_collectors),
        cmocka_unit_test(unknown_keys_and_transports),
        cmocka_unit_test(bad_listen),
        cmocka_unit_test(sampling_rules),
        cmocka_unit_test(bad_sampling_rules),
        cmocka_unit_test(bad_numbers),
        cmocka_unit_test(overlapping_listeners),
        cmocka_unit_test(receive_buffer_fits_an_int),
        cmocka_unit_test(reload_classes),
        cmocka_unit_test(tls_collectors),
        cmocka_unit_test(tls_listeners_overlap),
        cmocka_unit_test(tls_reload_classes),
        cmocka_unit_test(listen_any_forms),
        cmocka_unit_test(listen_ipv4_and_ipv6),
        cmocka_unit_test(listen_rejects_malformed),
    };

    return cmocka_run_group_tests(tests, setup, teardown);
}
