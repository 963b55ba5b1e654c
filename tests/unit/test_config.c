/* Unit tests of src/core/config.c: YAML config parsing, validation and the built-in default. */
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
#include <sys/stat.h>
#include <unistd.h>

#include "core/config.h"

static char err[1024];

static struct ixd_config *
parse(const char *text)
{
    err[0] = '\0';
    return ixd_config_parse("t.yaml", text, strlen(text), err, sizeof(err));
}

static struct ixd_config *
parse_ok(const char *text)
{
    struct ixd_config *cfg = parse(text);

    if (cfg == NULL) {
        fail_msg("config rejected: %s", err);
    }
    return cfg;
}

/* The config must be rejected with a message starting with want (file:line:col: text). */
static void
parse_fails(const char *text, const char *want)
{
    struct ixd_config *cfg = parse(text);

    if (cfg != NULL) {
        ixd_config_free(cfg);
        fail_msg("config accepted, expected \"%s\"", want);
    }
    if (strncmp(err, want, strlen(want)) != 0) {
        fail_msg("error is \"%s\", expected it to start with \"%s\"", err, want);
    }
}

static uint16_t
port_of(const struct ixd_config_collector *c)
{
    if (c->addr.ss_family == AF_INET) {
        return ntohs(((const struct sockaddr_in *)&c->addr)->sin_port);
    }
    return ntohs(((const struct sockaddr_in6 *)&c->addr)->sin6_port);
}

/* A minimal valid prefix that tests extend. */
#define ONE_UDP                                                                                    \
    "collectors:\n"                                                                                \
    "  - name: a\n"                                                                                \
    "    listen: \"*:4739\"\n"

static const char full_config[] = "workers: 4\n"
                                  "log:\n"
                                  "  level: debug\n"
                                  "  target: syslog\n"
                                  "limits:\n"
                                  "  fields-per-template: 100\n"
                                  "  templates-per-session: 200\n"
                                  "  tcp-connections: 300\n"
                                  "elements:\n"
                                  "  directories: []\n"
                                  "  files: []\n"
                                  "collectors:\n"
                                  "  - name: edge-udp\n"
                                  "    transport: udp\n"
                                  "    listen: \"0.0.0.0:2055\"\n"
                                  "    receive-buffer: 8M\n"
                                  "    template-lifetime: 30m\n"
                                  "  - name: core_tcp\n"
                                  "    transport: tcp\n"
                                  "    listen: \"[::1]:4739\"\n"
                                  "    idle-timeout: 2h\n"
                                  "outputs:\n"
                                  "  - name: all\n"
                                  "    type: json\n"
                                  "    path: /var/log/ipfixd/flows.json\n"
                                  "  - name: console\n"
                                  "    type: json\n"
                                  "    path: \"-\"\n"
                                  "pipelines:\n"
                                  "  - name: main\n"
                                  "    from: [edge-udp, core_tcp]\n"
                                  "    to: [all]\n"
                                  "  - name: debug\n"
                                  "    from: core_tcp\n"
                                  "    to:\n"
                                  "      - console\n"
                                  "      - all\n"
                                  "api: {}\n";

static void
full_config_top_level_values(void **state)
{
    struct ixd_config *cfg = parse_ok(full_config);

    assert_null(cfg->file);
    assert_int_equal(cfg->workers, 4);
    assert_int_equal(cfg->log_level, IXD_LOG_DEBUG);
    assert_int_equal(cfg->log_target, IXD_LOG_SYSLOG);
    assert_int_equal(cfg->limits.fields_per_template, 100);
    assert_int_equal(cfg->limits.templates_per_session, 200);
    assert_int_equal(cfg->limits.tcp_connections, 300);
    assert_int_equal(cfg->n_element_files, 0);
    ixd_config_free(cfg);
}

static void
full_config_collectors(void **state)
{
    struct ixd_config *cfg = parse_ok(full_config);
    const struct ixd_config_collector *u, *t;
    const struct sockaddr_in *sin;
    const struct sockaddr_in6 *sin6;

    assert_int_equal(cfg->n_collectors, 2);
    u = &cfg->collectors[0];
    t = &cfg->collectors[1];
    assert_string_equal(u->name, "edge-udp");
    assert_int_equal(u->transport, IXD_TRANSPORT_UDP);
    assert_string_equal(u->listen, "0.0.0.0:2055");
    assert_int_equal(u->addr.ss_family, AF_INET);
    assert_int_equal(u->addrlen, sizeof(struct sockaddr_in));
    sin = (const struct sockaddr_in *)&u->addr;
    assert_int_equal(sin->sin_addr.s_addr, htonl(INADDR_ANY));
    assert_int_equal(port_of(u), 2055);
    assert_int_equal(u->any_address, 0);
    assert_int_equal(u->receive_buffer, 8u << 20);
    assert_int_equal(u->template_lifetime, 1800);
    assert_int_equal(u->idle_timeout, 0);

    assert_string_equal(t->name, "core_tcp");
    assert_int_equal(t->transport, IXD_TRANSPORT_TCP);
    assert_int_equal(t->addr.ss_family, AF_INET6);
    assert_int_equal(t->addrlen, sizeof(struct sockaddr_in6));
    sin6 = (const struct sockaddr_in6 *)&t->addr;
    assert_true(IN6_IS_ADDR_LOOPBACK(&sin6->sin6_addr));
    assert_int_equal(port_of(t), 4739);
    assert_int_equal(t->receive_buffer, 0);
    assert_int_equal(t->template_lifetime, 1800); /* the default */
    assert_int_equal(t->idle_timeout, 7200);
    ixd_config_free(cfg);
}

static void
full_config_outputs_and_pipelines(void **state)
{
    struct ixd_config *cfg = parse_ok(full_config);
    const struct ixd_config_pipeline *m, *d;

    assert_int_equal(cfg->n_outputs, 2);
    assert_string_equal(cfg->outputs[0].name, "all");
    assert_string_equal(cfg->outputs[0].type, "json");
    /* the rest of an output is its type's to read (test_registry) */
    assert_string_equal(ixd_cnode_get(&cfg->outputs[0].settings, "path")->text,
                        "/var/log/ipfixd/flows.json");
    assert_null(ixd_cnode_get(&cfg->outputs[0].settings, "name"));
    assert_string_equal(cfg->outputs[1].name, "console");
    assert_string_equal(ixd_cnode_get(&cfg->outputs[1].settings, "path")->text, "-");

    assert_int_equal(cfg->n_pipelines, 2);
    m = &cfg->pipelines[0];
    d = &cfg->pipelines[1];
    assert_string_equal(m->name, "main");
    assert_int_equal(m->n_from, 2);
    assert_int_equal(m->from[0], 0);
    assert_int_equal(m->from[1], 1);
    assert_int_equal(m->n_to, 1);
    assert_int_equal(m->to[0], 0);
    assert_string_equal(d->name, "debug");
    assert_int_equal(d->n_from, 1); /* a single name instead of a list */
    assert_int_equal(d->from[0], 1);
    assert_int_equal(d->n_to, 2);
    assert_int_equal(d->to[0], 1);
    assert_int_equal(d->to[1], 0);
    ixd_config_free(cfg);
}

static void
defaults_when_sections_absent(void **state)
{
    struct ixd_config *cfg = parse_ok(ONE_UDP);

    assert_int_equal(cfg->workers, 0);
    assert_int_equal(cfg->log_level, IXD_LOG_INFO);
    assert_int_equal(cfg->log_target, IXD_LOG_STDERR);
    assert_int_equal(cfg->limits.fields_per_template, 512);
    assert_int_equal(cfg->limits.templates_per_session, 4096);
    assert_int_equal(cfg->limits.tcp_connections, 1024);
    assert_int_equal(cfg->collectors[0].transport, IXD_TRANSPORT_UDP);
    assert_int_equal(cfg->collectors[0].template_lifetime, 1800);
    ixd_config_free(cfg);
}

static void
builtin_config(void **state)
{
    struct ixd_config *cfg = ixd_config_builtin();
    const struct sockaddr_in6 *sin6;
    size_t i;

    assert_non_null(cfg);
    assert_int_equal(cfg->n_collectors, 2);
    assert_string_equal(cfg->collectors[0].name, "udp");
    assert_int_equal(cfg->collectors[0].transport, IXD_TRANSPORT_UDP);
    assert_string_equal(cfg->collectors[1].name, "tcp");
    assert_int_equal(cfg->collectors[1].transport, IXD_TRANSPORT_TCP);
    for (i = 0; i < 2; i++) {
        const struct ixd_config_collector *c = &cfg->collectors[i];
        assert_int_equal(c->any_address, 1);
        assert_int_equal(c->addr.ss_family, AF_INET6);
        sin6 = (const struct sockaddr_in6 *)&c->addr;
        assert_true(IN6_IS_ADDR_UNSPECIFIED(&sin6->sin6_addr));
        assert_int_equal(port_of(c), 4739);
    }
    assert_int_equal(cfg->n_outputs, 1);
    assert_string_equal(cfg->outputs[0].type, "json");
    assert_string_equal(ixd_cnode_get(&cfg->outputs[0].settings, "path")->text, "-");
    assert_int_equal(cfg->n_pipelines, 1);
    assert_int_equal(cfg->pipelines[0].n_from, 2);
    assert_int_equal(cfg->pipelines[0].from[0], 0);
    assert_int_equal(cfg->pipelines[0].from[1], 1);
    assert_int_equal(cfg->pipelines[0].n_to, 1);
    assert_int_equal(cfg->pipelines[0].to[0], 0);
    ixd_config_free(cfg);
}

static void
no_pipelines_gives_default_every_collector_to_every_output(void **state)
{
    struct ixd_config *cfg = parse_ok("collectors:\n"
                                      "  - {name: a, listen: \"*:1\"}\n"
                                      "  - {name: b, listen: \"*:2\"}\n"
                                      "  - {name: c, transport: tcp, listen: \"*:3\"}\n"
                                      "outputs:\n"
                                      "  - {name: x, path: /tmp/x}\n"
                                      "  - {name: y, path: \"-\"}\n");
    const struct ixd_config_pipeline *p;

    assert_int_equal(cfg->n_pipelines, 1);
    p = &cfg->pipelines[0];
    assert_string_equal(p->name, "default");
    assert_int_equal(p->n_from, 3);
    assert_int_equal(p->from[0], 0);
    assert_int_equal(p->from[1], 1);
    assert_int_equal(p->from[2], 2);
    assert_int_equal(p->n_to, 2);
    assert_int_equal(p->to[0], 0);
    assert_int_equal(p->to[1], 1);
    ixd_config_free(cfg);
}

/* ---- errors: "name:line:col: message" ---- */

static void
error_unknown_top_level_key(void **state)
{
    parse_fails(ONE_UDP "bogus: 1\n", "t.yaml:4:1: unknown top-level section 'bogus'");
}

static void
error_unknown_collector_key_points_at_key(void **state)
{
    parse_fails("collectors:\n"
                "  - name: a\n"
                "    listen: \"*:4739\"\n"
                "    lisen: x\n",
                "t.yaml:4:5: unknown key 'lisen' in a collector");
    parse_fails("collectors:\n"
                "  - {name: a,   colour: red, listen: \"*:4739\"}\n",
                "t.yaml:2:17: unknown key 'colour' in a collector");
}

static void
error_mapping_where_list_wanted(void **state)
{
    parse_fails("collectors: {name: a}\n", "t.yaml:1:13: collectors must be a list");
    parse_fails(ONE_UDP "outputs:\n  name: x\n", "t.yaml:5:3: outputs must be a list");
}

static void
error_bad_transport(void **state)
{
    parse_fails("collectors:\n"
                "  - name: a\n"
                "    transport: sctp\n"
                "    listen: \"*:4739\"\n",
                "t.yaml:3:16: transport must be udp, tcp or file, not 'sctp'");
}

static void
error_bad_listen(void **state)
{
    parse_fails("collectors:\n  - name: a\n    listen: 1.2.3.4\n",
                "t.yaml:3:13: listen must be ADDRESS:PORT");
    parse_fails("collectors:\n  - name: a\n    listen: \"[::1]4739\"\n",
                "t.yaml:3:13: listen must look like [ADDRESS]:PORT");
    parse_fails("collectors:\n  - name: a\n    listen: \"*:0\"\n",
                "t.yaml:3:13: port must be 1 to 65535, not '0'");
    parse_fails("collectors:\n  - name: a\n    listen: \"*:70000\"\n",
                "t.yaml:3:13: port must be 1 to 65535, not '70000'");
    parse_fails("collectors:\n  - name: a\n    listen: \"host:1\"\n",
                "t.yaml:3:13: 'host' is not an IPv4 address (names are not resolved)");
}

static void
sampling_rules_and_renormalise(void **state)
{
    struct ixd_config *cfg = parse_ok("collectors:\n"
                                      "  - name: a\n"
                                      "    listen: \"*:4739\"\n"
                                      "    sampling:\n"
                                      "      - exporter: 192.0.2.0/24\n"
                                      "        rate: 100\n"
                                      "      - {exporter: \"2001:db8::1\", rate: 2}\n"
                                      "outputs:\n"
                                      "  - {name: o, path: /tmp/x, renormalise: true}\n");
    struct in6_addr in, out;

    assert_int_equal(cfg->collectors[0].n_sampling, 2);
    assert_int_equal(cfg->collectors[0].sampling[0].rate, 100);
    assert_int_equal(cfg->collectors[0].sampling[1].rate, 2);
    assert_int_equal(inet_pton(AF_INET6, "::ffff:192.0.2.77", &in), 1);
    assert_int_equal(inet_pton(AF_INET6, "::ffff:192.0.3.1", &out), 1);
    assert_true(ixd_prefix_contains(&cfg->collectors[0].sampling[0].prefix, &in));
    assert_false(ixd_prefix_contains(&cfg->collectors[0].sampling[0].prefix, &out));
    ixd_config_free(cfg);
}

static void
error_bad_sampling_rules(void **state)
{
    const char *head = "collectors:\n  - name: a\n    listen: \"*:4739\"\n    sampling:\n";
    char text[512];

    snprintf(text, sizeof(text), "%s      - rate: 10\n", head);
    parse_fails(text, "t.yaml:5:9: a sampling entry needs an exporter address or prefix");
    snprintf(text, sizeof(text), "%s      - exporter: 10.0.0.0/8\n", head);
    parse_fails(text, "t.yaml:5:9: a sampling entry needs a rate (1 in N packets)");
    snprintf(text, sizeof(text), "%s      - {exporter: 10.0.0.0/8, rate: 0}\n", head);
    parse_fails(text, "t.yaml:5:38: rate must be an integer from 1");
    snprintf(text, sizeof(text), "%s      - {exporter: 10.0.0.0/33, rate: 5}\n", head);
    parse_fails(text, "t.yaml:5:20: prefix length of '10.0.0.0/33' must be 0 to 32");
    snprintf(text, sizeof(text), "%s      - {exporter: 10.0.0.1, rates: 5}\n", head);
    parse_fails(text,
                "t.yaml:5:30: unknown key 'rates' in a sampling entry (known: exporter, rate)");
}

static void
error_collector_without_listen(void **state)
{
    parse_fails("collectors:\n  - name: a\n", "t.yaml:2:5: collector 'a' needs a listen address");
}

static void
error_duplicate_collector_names(void **state)
{
    parse_fails("collectors:\n"
                "  - name: a\n"
                "    listen: \"*:1\"\n"
                "  - name: a\n"
                "    listen: \"*:2\"\n",
                "t.yaml:4:5: a collector named 'a' is defined twice");
}

static void
error_same_transport_and_listen(void **state)
{
    parse_fails("collectors:\n"
                "  - name: a\n"
                "    listen: \"10.0.0.1:4739\"\n"
                "  - name: b\n"
                "    listen: \"10.0.0.1:4739\"\n",
                "t.yaml:4:5: collectors 'a' and 'b' both listen on udp 10.0.0.1:4739");
}

static void
same_listen_on_other_transport_accepted(void **state)
{
    struct ixd_config *cfg = parse_ok("collectors:\n"
                                      "  - {name: a, transport: udp, listen: \"*:4739\"}\n"
                                      "  - {name: b, transport: tcp, listen: \"*:4739\"}\n");

    assert_int_equal(cfg->n_collectors, 2);
    ixd_config_free(cfg);
}

/* "*:4739" and ":4739" are the same socket address (config.h): SO_REUSEPORT would split
 * the traffic between the two collectors silently */
static void
error_same_address_written_differently(void **state)
{
    parse_fails("collectors:\n"
                "  - name: a\n"
                "    listen: \"*:4739\"\n"
                "  - name: b\n"
                "    listen: \":4739\"\n",
                "t.yaml:4:5: collectors 'a' and 'b' both listen on udp");
}

/* docs/configuration.md: "Two collectors may share a port only with different transports";
 * the dual-stack "*" socket also receives what is sent to 0.0.0.0 */
static void
error_same_port_any_address_overlap(void **state)
{
    parse_fails("collectors:\n"
                "  - name: a\n"
                "    listen: \"*:4739\"\n"
                "  - name: b\n"
                "    listen: \"0.0.0.0:4739\"\n",
                "t.yaml:4:5: collectors 'a' and 'b'");
}

static void
error_ipv6_wildcard_overlaps_specific_address(void **state)
{
    parse_fails("collectors:\n"
                "  - {name: a, listen: \"10.0.0.1:4739\"}\n"
                "  - {name: b, listen: \"[::]:4739\"}\n",
                "t.yaml:3:5: collectors 'a' and 'b' both listen on udp [::]:4739");
}

/* docs/configuration.md: the same port on different specific addresses, or another port */
static void
distinct_specific_addresses_and_ports_accepted(void **state)
{
    struct ixd_config *cfg = parse_ok("collectors:\n"
                                      "  - {name: a, listen: \"10.0.0.1:4739\"}\n"
                                      "  - {name: b, listen: \"10.0.0.2:4739\"}\n"
                                      "  - {name: c, listen: \"[::1]:4739\"}\n"
                                      "  - {name: d, listen: \"*:4740\"}\n"
                                      "  - {name: e, listen: \"10.0.0.1:2055\"}\n");

    assert_int_equal(cfg->n_collectors, 5);
    ixd_config_free(cfg);
}

/* listen.c hands receive_buffer to setsockopt() as an int */
static void
receive_buffer_fits_an_int(void **state)
{
    struct ixd_config *cfg = parse_ok("collectors:\n"
                                      "  - {name: a, listen: \"*:1\", receive-buffer: 2047M}\n");

    assert_int_equal(cfg->collectors[0].receive_buffer, 2047u << 20);
    ixd_config_free(cfg);
    cfg = parse("collectors:\n"
                "  - {name: a, listen: \"*:1\", receive-buffer: 2G}\n");
    if (cfg != NULL) {
        size_t rb = cfg->collectors[0].receive_buffer;
        ixd_config_free(cfg);
        if (rb > INT_MAX) {
            fail_msg("receive-buffer 2G accepted as %zu, which is not an int", rb);
        }
    }
}

static void
workers_auto_is_zero(void **state)
{
    struct ixd_config *cfg = parse_ok("workers: auto\n" ONE_UDP);

    assert_int_equal(cfg->workers, 0);
    ixd_config_free(cfg);
    cfg = parse_ok("workers: 256\n" ONE_UDP);
    assert_int_equal(cfg->workers, 256);
    ixd_config_free(cfg);
    parse_fails("workers: 257\n" ONE_UDP, "t.yaml:1:10: workers must be an integer from 1 to 256");
}

static void
error_pipeline_unknown_collector_or_output(void **state)
{
    parse_fails(ONE_UDP "outputs:\n  - {name: o, path: \"-\"}\n"
                        "pipelines:\n  - name: p\n    from: [a, zz]\n    to: o\n",
                "t.yaml:8:15: no collector named 'zz'");
    parse_fails(ONE_UDP "outputs:\n  - {name: o, path: \"-\"}\n"
                        "pipelines:\n  - name: p\n    from: a\n    to: [nowhere]\n",
                "t.yaml:9:10: no output named 'nowhere'");
}

static void
error_duplicate_keys(void **state)
{
    parse_fails("collectors:\n"
                "  - name: a\n"
                "    listen: \"*:1\"\n"
                "    name: b\n",
                "t.yaml:4:5: duplicate key 'name'");
    parse_fails(ONE_UDP "workers: 2\nworkers: 3\n", "t.yaml:5:1: duplicate key 'workers'");
}

static void
error_yaml_syntax_reports_position(void **state)
{
    /* an unterminated flow sequence: the problem is found at the end of the input */
    parse_fails("collectors: [a, b\n", "t.yaml:2:1: did not find expected ',' or ']'");
    /* a tab is not indentation */
    parse_fails("collectors:\n\t- name: a\n", "t.yaml:2:1: found character that cannot start");
}

static void
error_empty_document(void **state)
{
    parse_fails("", "t.yaml:1:1: the config is empty");
    parse_fails("# nothing here\n", "t.yaml:1:1: the config is empty");
}

static void
error_no_collectors(void **state)
{
    parse_fails("workers: 1\n", "t.yaml:1:1: the config needs a 'collectors' list");
    parse_fails("collectors: []\n", "t.yaml:1:13: the config needs at least one collector");
}

static void
error_bad_numbers(void **state)
{
    parse_fails(ONE_UDP "workers: 0\n", "t.yaml:4:10: workers must be an integer from 1 to 256");
    parse_fails(ONE_UDP "limits:\n  fields-per-template: 16384\n",
                "t.yaml:5:24: fields-per-template must be an integer from 1 to 16383");
    parse_fails("collectors:\n  - {name: a, listen: \"*:1\", receive-buffer: 3G}\n",
                "t.yaml:2:46: receive-buffer must be a size");
    parse_fails("collectors:\n  - {name: a, listen: \"*:1\", template-lifetime: 0}\n",
                "t.yaml:2:49: template-lifetime must be at least 1 second");
}

static void
reserved_section_empty_accepted_nonempty_rejected(void **state)
{
    struct ixd_config *cfg = parse_ok(ONE_UDP "api: {}\nha:\n");

    ixd_config_free(cfg);
    parse_fails(ONE_UDP "api: {x: 1}\n", "t.yaml:4:7: unknown key 'x' in api");
    parse_fails(ONE_UDP "ha: {x: 1}\n", "t.yaml:4:6: unknown key 'x' in ha");
}

static void
api_connection_limits(void **state)
{
    struct ixd_config *def = parse_ok(ONE_UDP "api: {}\n");
    struct ixd_config *cfg = parse_ok(ONE_UDP "api:\n  connections: 300\n"
                                              "  request-timeout: 3s\n  timeout: 20s\n");

    /* hundreds of connections by default, and a deadline for every request */
    assert_int_equal(def->api.connections, 256);
    assert_int_equal(def->api.connections_per_ip, 16);
    assert_int_equal(def->api.timeout, 10);
    assert_int_equal(def->api.request_timeout, 10);
    assert_int_equal(cfg->api.connections, 300);
    assert_int_equal(cfg->api.request_timeout, 3);
    assert_int_equal(cfg->api.timeout, 20);
    /* a new deadline restarts the server on reload */
    cfg->api.connections = def->api.connections;
    cfg->api.timeout = def->api.timeout;
    assert_false(ixd_config_api_same(&def->api, &cfg->api));
    cfg->api.request_timeout = def->api.request_timeout;
    assert_true(ixd_config_api_same(&def->api, &cfg->api));
    ixd_config_free(def);
    ixd_config_free(cfg);
    parse_fails(ONE_UDP "api:\n  request-timeout: 0\n",
                "t.yaml:5:20: api.request-timeout must be 1s to 1h");
    parse_fails(ONE_UDP "api:\n  request-timeout: 2h\n",
                "t.yaml:5:20: api.request-timeout must be 1s to 1h");
}

static void
ha_section(void **state)
{
    struct ixd_config *cfg = parse_ok(ONE_UDP "ha:\n  listen: \"10.77.0.1:4740\"\n"
                                              "  peer: \"10.77.0.2:4740\"\n"
                                              "  key-file: /etc/ipfixd/ha.key\n");

    assert_true(cfg->ha.enabled);
    assert_int_equal(cfg->ha.share_interval_ms, 100);
    assert_string_equal(cfg->ha.peer, "10.77.0.2:4740");
    assert_int_equal(cfg->ha.peer_addr.ss_family, AF_INET);
    ixd_config_free(cfg);
    cfg = parse_ok(ONE_UDP "ha: {listen: \"*:4740\", peer: \"[::1]:4740\", key-file: /k, "
                           "share-interval: 2s}\n");
    assert_int_equal(cfg->ha.share_interval_ms, 2000);
    ixd_config_free(cfg);
    parse_fails(ONE_UDP "ha: {listen: \"*:4740\", key-file: /k}\n",
                "t.yaml:4:5: ha needs listen, peer and key-file");
    parse_fails(ONE_UDP "ha: {listen: \"*:4740\", peer: \"*:1\", key-file: /k}\n",
                "t.yaml:4:30: ha.peer needs an address");
    parse_fails(ONE_UDP "ha: {listen: \"*:4740\", peer: \"h:1\", key-file: k}\n",
                "t.yaml:4:30: ha.peer must be IPV4:PORT");
    parse_fails(ONE_UDP "ha: {listen: \"*:4740\", peer: \"1.2.3.4:1\", key-file: k}\n",
                "t.yaml:4:53: ha.key-file must be an absolute path");
    parse_fails(ONE_UDP "ha: {listen: \"*:1\", peer: \"1.2.3.4:1\", key-file: /k, "
                        "share-interval: 5ms}\n",
                "t.yaml:4:70: ha.share-interval must be from 10ms to 60s");
}

/* ---- comparisons and the listen parser ---- */

static void
collector_same_and_output_same(void **state)
{
    struct ixd_config *cfg = parse_ok(full_config);
    struct ixd_config_collector c = cfg->collectors[0];

    assert_int_equal(ixd_config_collector_same(&c, &cfg->collectors[0]), 1);
    assert_int_equal(ixd_config_collector_same(&cfg->collectors[0], &cfg->collectors[1]), 0);
    c.receive_buffer = 1024;
    assert_int_equal(ixd_config_collector_same(&c, &cfg->collectors[0]), 0);
    c = cfg->collectors[0];
    c.template_lifetime = 60;
    assert_int_equal(ixd_config_collector_same(&c, &cfg->collectors[0]), 0);
    c = cfg->collectors[0];
    c.transport = IXD_TRANSPORT_TCP;
    assert_int_equal(ixd_config_collector_same(&c, &cfg->collectors[0]), 0);
    ixd_config_free(cfg);
}

static void
listen_any_forms(void **state)
{
    static const char *const forms[] = {"*:4739", ":4739"};
    size_t i;

    for (i = 0; i < 2; i++) {
        struct ixd_config_collector c;
        const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)&c.addr;

        memset(&c, 0, sizeof(c));
        assert_int_equal(ixd_config_parse_listen(forms[i], &c, err, sizeof(err)), 0);
        assert_int_equal(c.any_address, 1);
        assert_int_equal(c.addr.ss_family, AF_INET6);
        assert_true(IN6_IS_ADDR_UNSPECIFIED(&sin6->sin6_addr));
        assert_int_equal(port_of(&c), 4739);
        assert_string_equal(c.listen, forms[i]);
    }
}

static void
listen_ipv4(void **state)
{
    struct ixd_config_collector c;
    const struct sockaddr_in *sin = (const struct sockaddr_in *)&c.addr;

    memset(&c, 0, sizeof(c));
    c.any_address = 1;
    assert_int_equal(ixd_config_parse_listen("0.0.0.0:2055", &c, err, sizeof(err)), 0);
    assert_int_equal(c.any_address, 0);
    assert_int_equal(c.addr.ss_family, AF_INET);
    assert_int_equal(c.addrlen, sizeof(struct sockaddr_in));
    assert_int_equal(sin->sin_addr.s_addr, htonl(INADDR_ANY));
    assert_int_equal(port_of(&c), 2055);
    assert_string_equal(c.listen, "0.0.0.0:2055");
    assert_int_equal(ixd_config_parse_listen("192.0.2.7:65535", &c, err, sizeof(err)), 0);
    assert_int_equal(sin->sin_addr.s_addr, htonl(0xc0000207));
    assert_int_equal(port_of(&c), 65535);
}

static void
listen_ipv6(void **state)
{
    struct ixd_config_collector c;
    const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)&c.addr;

    memset(&c, 0, sizeof(c));
    assert_int_equal(ixd_config_parse_listen("[::1]:4739", &c, err, sizeof(err)), 0);
    assert_int_equal(c.any_address, 0);
    assert_int_equal(c.addr.ss_family, AF_INET6);
    assert_int_equal(c.addrlen, sizeof(struct sockaddr_in6));
    assert_true(IN6_IS_ADDR_LOOPBACK(&sin6->sin6_addr));
    assert_int_equal(port_of(&c), 4739);
}

static void
listen_rejects_malformed(void **state)
{
    static const char *const bad[] = {
        "1.2.3.4", "[::1]4739", "[::1",     "*:0",          "*:70000",     "*:", "*:-1",
        "*:47a",   "host:1",    "::1:4739", "[nonsense]:1", "1.2.3.256:1", "",
    };
    size_t i;

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct ixd_config_collector c;

        memset(&c, 0, sizeof(c));
        err[0] = '\0';
        if (ixd_config_parse_listen(bad[i], &c, err, sizeof(err)) != -1) {
            fail_msg("listen \"%s\" accepted", bad[i]);
        }
        assert_true(err[0] != '\0');
    }
}

/* elements.directories: every *.xml of each directory in name order, then elements.files */
static void
elements_directories_then_files(void **state)
{
    char dir[] = "/tmp/ixd-elements-XXXXXX", path[256], text[1024];
    const char *names[] = {"b.xml", "a.xml", ".hidden.xml", "notes.txt", "c.xml.orig"};
    struct ixd_config *cfg;
    size_t i;

    assert_non_null(mkdtemp(dir));
    for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        FILE *f;
        snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
        f = fopen(path, "w");
        assert_non_null(f);
        fclose(f);
    }
    snprintf(text, sizeof(text),
             "elements:\n  files: [/x/mine.xml]\n  directories: [\"%s\"]\n" ONE_UDP, dir);
    cfg = parse_ok(text);
    assert_int_equal(cfg->n_element_dirs, 1);
    assert_string_equal(cfg->element_dirs[0], dir);
    assert_int_equal(cfg->n_element_files, 3);
    snprintf(path, sizeof(path), "%s/a.xml", dir);
    assert_string_equal(cfg->element_files[0], path);
    snprintf(path, sizeof(path), "%s/b.xml", dir);
    assert_string_equal(cfg->element_files[1], path);
    assert_string_equal(cfg->element_files[2], "/x/mine.xml");
    ixd_config_free(cfg);
    for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
        unlink(path);
    }
    rmdir(dir);
}

/* Without elements.directories the shipped directory is used (when it exists, as in a build
 * tree); directories: [] turns it off. */
static void
elements_default_directory(void **state)
{
    struct ixd_config *cfg = parse_ok(ONE_UDP);
    struct stat st;

    if (stat(IXD_ELEMENTS_DIR, &st) != 0 &&
        (IXD_SOURCE_ELEMENTS_DIR[0] == '\0' || stat(IXD_SOURCE_ELEMENTS_DIR, &st) != 0)) {
        assert_int_equal(cfg->n_element_dirs, 0);
        ixd_config_free(cfg);
        skip();
    }
    assert_int_equal(cfg->n_element_dirs, 1);
    assert_true(cfg->n_element_files >= 5);
    assert_non_null(strstr(cfg->element_files[0], "/barracuda.xml"));
    ixd_config_free(cfg);
    cfg = parse_ok("elements:\n  files: [/x/mine.xml]\n" ONE_UDP);
    assert_int_equal(cfg->n_element_dirs, 1);
    assert_string_equal(cfg->element_files[cfg->n_element_files - 1], "/x/mine.xml");
    ixd_config_free(cfg);
    cfg = parse_ok("elements:\n  directories: []\n" ONE_UDP);
    assert_int_equal(cfg->n_element_dirs, 0);
    assert_int_equal(cfg->n_element_files, 0);
    ixd_config_free(cfg);
    cfg = ixd_config_builtin();
    assert_int_equal(cfg->n_element_dirs, 1);
    ixd_config_free(cfg);
}

static void
error_elements(void **state)
{
    parse_fails("elements:\n  directories: [/nonexistent/ipfixd-elements]\n" ONE_UDP,
                "t.yaml:2:17: cannot read the element directory '/nonexistent/ipfixd-elements'");
    parse_fails("elements:\n  directories: /etc\n" ONE_UDP,
                "t.yaml:2:16: elements.directories must be a list");
    parse_fails("elements:\n  directories: [\"\"]\n" ONE_UDP,
                "t.yaml:2:17: an element directory must not be empty");
    parse_fails("elements:\n  directories: [[a]]\n" ONE_UDP,
                "t.yaml:2:17: an element directory must be a scalar value");
    parse_fails("elements:\n  files: x.xml\n" ONE_UDP,
                "t.yaml:2:10: elements.files must be a list");
    parse_fails("elements:\n  directory: [/tmp]\n" ONE_UDP,
                "t.yaml:2:3: unknown key 'directory' in elements (known: directories, files)");
    parse_fails("elements: [a]\n" ONE_UDP, "t.yaml:1:11: elements must be a mapping");
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(full_config_top_level_values),
        cmocka_unit_test(full_config_collectors),
        cmocka_unit_test(full_config_outputs_and_pipelines),
        cmocka_unit_test(defaults_when_sections_absent),
        cmocka_unit_test(builtin_config),
        cmocka_unit_test(no_pipelines_gives_default_every_collector_to_every_output),
        cmocka_unit_test(error_unknown_top_level_key),
        cmocka_unit_test(error_unknown_collector_key_points_at_key),
        cmocka_unit_test(error_mapping_where_list_wanted),
        cmocka_unit_test(error_bad_transport),
        cmocka_unit_test(error_bad_listen),
        cmocka_unit_test(sampling_rules_and_renormalise),
        cmocka_unit_test(error_bad_sampling_rules),
        cmocka_unit_test(error_collector_without_listen),
        cmocka_unit_test(error_duplicate_collector_names),
        cmocka_unit_test(error_same_transport_and_listen),
        cmocka_unit_test(same_listen_on_other_transport_accepted),
        cmocka_unit_test(error_same_address_written_differently),
        cmocka_unit_test(error_same_port_any_address_overlap),
        cmocka_unit_test(error_ipv6_wildcard_overlaps_specific_address),
        cmocka_unit_test(distinct_specific_addresses_and_ports_accepted),
        cmocka_unit_test(receive_buffer_fits_an_int),
        cmocka_unit_test(workers_auto_is_zero),
        cmocka_unit_test(error_pipeline_unknown_collector_or_output),
        cmocka_unit_test(error_duplicate_keys),
        cmocka_unit_test(error_yaml_syntax_reports_position),
        cmocka_unit_test(error_empty_document),
        cmocka_unit_test(error_no_collectors),
        cmocka_unit_test(error_bad_numbers),
        cmocka_unit_test(reserved_section_empty_accepted_nonempty_rejected),
        cmocka_unit_test(api_connection_limits),
        cmocka_unit_test(ha_section),
        cmocka_unit_test(collector_same_and_output_same),
        cmocka_unit_test(listen_any_forms),
        cmocka_unit_test(listen_ipv4),
        cmocka_unit_test(listen_ipv6),
        cmocka_unit_test(listen_rejects_malformed),
        cmocka_unit_test(elements_directories_then_files),
        cmocka_unit_test(elements_default_directory),
        cmocka_unit_test(error_elements),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
