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
    assert_int_equal(cfg->own_enterprise, 32473);
    assert_string_equal(cfg->collectors[0].type, "udp");
    ixd_config_free(cfg);
    cfg = parse_ok("elements:\n  enterprise: 64512\n" ONE_UDP);
    assert_int_equal(cfg->own_enterprise, 64512);
    ixd_config_free(cfg);
}

static void
builtin_config(void **state)
{
    struct ixd_config *cfg = ixd_config_builtin();
    size_t i;

    assert_non_null(cfg);
    assert_int_equal(cfg->n_collectors, 2);
    assert_string_equal(cfg->collectors[0].name, "udp");
    assert_string_equal(cfg->collectors[0].type, "udp");
    assert_string_equal(cfg->collectors[1].name, "tcp");
    assert_string_equal(cfg->collectors[1].type, "tcp");
    for (i = 0; i < 2; i++) {
        /* what the input types read of it: test_input */
        assert_string_equal(ixd_cnode_get(&cfg->collectors[i].settings, "listen")->text,
                            "*:4739");
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
error_mapping_where_list_wanted(void **state)
{
    parse_fails("collectors: {name: a}\n", "t.yaml:1:13: collectors must be a list");
    parse_fails(ONE_UDP "outputs:\n  name: x\n", "t.yaml:5:3: outputs must be a list");
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

/* api.writes, api.pipeline-writes and api.audit-log (docs/api.md#config). */
static void
api_writes(void **state)
{
    struct ixd_config *def = parse_ok(ONE_UDP "api: {}\n");
    struct ixd_config *cfg;
    size_t i;
    int audit = 0;

    (void)state;
    assert_int_equal(def->api.writes, IXD_API_WRITES_OFF);
    assert_int_equal(def->api.pipeline_role, IXD_API_ROLE_ADMIN);
    cfg = parse_ok(ONE_UDP "state-directory: /var/lib/x\napi:\n  writes: persist\n"
                           "  pipeline-writes: operator\n  audit-log: /var/log/ipfixd/api.log\n"
                           "  auth: {tokens: [{name: a, role: admin, sha256: "
                           "abababababababababababababababababababababababababababababababab}]}\n");
    assert_int_equal(cfg->api.writes, IXD_API_WRITES_PERSIST);
    assert_int_equal(cfg->api.pipeline_role, IXD_API_ROLE_OPERATOR);
    assert_string_equal(cfg->api.audit_log, "/var/log/ipfixd/api.log");
    for (i = 0; i < cfg->n_files; i++) {
        audit |= cfg->files[i].use == IXD_FILE_WRITE &&
                 strcmp(cfg->files[i].path, "/var/log/ipfixd/api.log") == 0;
    }
    assert_true(audit); /* -t checks that ipfixd may append to it */
    /* a change of the writes restarts the server */
    assert_false(ixd_config_api_same(&def->api, &cfg->api));
    ixd_config_free(def);
    ixd_config_free(cfg);
    parse_fails(ONE_UDP "api:\n  writes: always\n",
                "t.yaml:5:11: api.writes must be off, runtime or persist, not 'always'");
    parse_fails(ONE_UDP "api:\n  writes: runtime\n", "t.yaml:5:3: api.writes needs api.auth");
    parse_fails(ONE_UDP "api:\n  pipeline-writes: reader\n",
                "t.yaml:5:20: api.pipeline-writes must be admin or operator, not 'reader'");
    parse_fails(ONE_UDP "state-directory: none\napi:\n  writes: persist\n"
                        "  auth: {tokens: [{name: a, role: admin, sha256: "
                        "abababababababababababababababababababababababababababababababab}]}\n",
                "t.yaml:6:11: api.writes: persist keeps the API's changes in the state directory");
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
                "t.yaml:2:3: unknown key 'directory' in elements (known: directories, files, "
                "enterprise)");
    parse_fails("elements:\n  enterprise: 0\n" ONE_UDP,
                "t.yaml:2:15: elements.enterprise must be an integer from 1 to 4294967295, not '0'");
    parse_fails("elements:\n  enterprise: 5\n  enterprise: 6\n" ONE_UDP,
                "t.yaml:3:3: duplicate key 'enterprise' in elements");
    parse_fails("elements: [a]\n" ONE_UDP, "t.yaml:1:11: elements must be a mapping");
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(full_config_top_level_values),
        cmocka_unit_test(full_config_outputs_and_pipelines),
        cmocka_unit_test(defaults_when_sections_absent),
        cmocka_unit_test(builtin_config),
        cmocka_unit_test(no_pipelines_gives_default_every_collector_to_every_output),
        cmocka_unit_test(error_unknown_top_level_key),
        cmocka_unit_test(error_mapping_where_list_wanted),
        cmocka_unit_test(error_duplicate_collector_names),
        cmocka_unit_test(workers_auto_is_zero),
        cmocka_unit_test(error_pipeline_unknown_collector_or_output),
        cmocka_unit_test(error_duplicate_keys),
        cmocka_unit_test(error_yaml_syntax_reports_position),
        cmocka_unit_test(error_empty_document),
        cmocka_unit_test(error_no_collectors),
        cmocka_unit_test(error_bad_numbers),
        cmocka_unit_test(reserved_section_empty_accepted_nonempty_rejected),
        cmocka_unit_test(api_connection_limits),
        cmocka_unit_test(api_writes),
        cmocka_unit_test(ha_section),
        cmocka_unit_test(elements_directories_then_files),
        cmocka_unit_test(elements_default_directory),
        cmocka_unit_test(error_elements),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
