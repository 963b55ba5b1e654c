/* Unit tests of src/ha/keepalived_model.c and keepalived_text.c: keepalived's include as a model
 * (parse, check, render) on its own, no file, process or daemon. Round trips, every refused
 * construct with the field it names, text that is not UTF-8 or holds control bytes, prefixes
 * and notify script lines. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ha/keepalived_model.h"

/* A model that uses every key of the model. */
static const char *const full_json =
    "{\"instances\": [{\"name\": \"VI_IPFIX\", \"state\": \"MASTER\", \"interface\": \"eth0\","
    " \"virtual_router_id\": 77, \"priority\": 150, \"advert_int\": 0.2, \"nopreempt\": true,"
    " \"unicast_src_ip\": \"10.77.0.1\", \"unicast_peer\": [\"10.77.0.2\", \"2001:db8::2\"],"
    " \"virtual_ipaddress\": [{\"address\": \"10.77.0.100/24\", \"dev\": \"eth0\"},"
    "                         {\"address\": \"2001:db8::100/64\"}, {\"address\": \"10.77.0.101\"}],"
    " \"track_script\": [\"chk_ipfixd\"],"
    " \"notify_master\": \"/etc/keepalived/ipfixd-notify.sh MASTER\","
    " \"notify_backup\": \"/etc/keepalived/ipfixd-notify.sh BACKUP\","
    " \"notify_fault\": \"/etc/keepalived/ipfixd-notify.sh FAULT\","
    " \"notify_stop\": \"/etc/keepalived/ipfixd-notify.sh STOP\","
    " \"notify\": \"/etc/keepalived/ipfixd-notify.sh\"},"
    " {\"name\": \"VI_2\", \"interface\": \"eth1\", \"virtual_router_id\": 78, \"priority\": 100,"
    "  \"virtual_ipaddress\": [{\"address\": \"10.78.0.100/32\"}]}],"
    " \"virtual_servers\": [{\"address\": \"10.77.0.100\", \"port\": 4739, \"protocol\": \"TCP\","
    " \"lvs_sched\": \"wlc\", \"lb_kind\": \"NAT\", \"persistence_timeout\": 600,"
    " \"delay_loop\": 2, \"real_servers\": [{\"address\": \"10.77.0.1\", \"port\": 4739,"
    " \"weight\": 3, \"tcp_check\": {\"connect_timeout\": 3, \"connect_port\": 4739}},"
    " {\"address\": \"10.77.0.2\", \"port\": 4739, \"weight\": 0, \"tcp_check\": {}}]},"
    " {\"address\": \"2001:db8::100\", \"port\": 4739, \"real_servers\": []}]}";

static json_t *
load(const char *text)
{
    json_error_t jerr;
    json_t *j = json_loads(text, 0, &jerr);

    if (j == NULL) {
        fail_msg("test JSON does not load: %s", jerr.text);
    }
    return j;
}

static char *
dump(const json_t *j)
{
    return json_dumps(j, JSON_SORT_KEYS | JSON_COMPACT);
}

/* check, render, parse: the parse of the rendered text is the checked model, and checking that
 * again renders the very same text. */
static void
round_trip(const json_t *in)
{
    struct ixd_ka_model m, again;
    struct ixd_ka_error e;
    json_t *normal, *parsed, *warnings;
    char *text, *text2, *a, *b;
    size_t len, len2;

    assert_int_equal(ixd_ka_check(in, &m, &e), 0);
    normal = ixd_ka_to_json(&m);
    text = ixd_ka_render(&m, &len);
    assert_non_null(text);
    assert_int_equal(strlen(text), len);
    parsed = ixd_ka_parse(text, len);
    warnings = json_object_get(parsed, "warnings");
    assert_int_equal(json_array_size(warnings), 0);
    json_object_del(parsed, "warnings");
    a = dump(normal);
    b = dump(parsed);
    assert_string_equal(a, b);
    assert_int_equal(ixd_ka_check(parsed, &again, &e), 0);
    text2 = ixd_ka_render(&again, &len2);
    assert_string_equal(text, text2);
    free(a);
    free(b);
    free(text);
    free(text2);
    json_decref(normal);
    json_decref(parsed);
    ixd_ka_model_release(&m);
    ixd_ka_model_release(&again);
}

static void
round_trips(void **state)
{
    json_t *full = load(full_json);
    json_t *small = load("{\"instances\": [{\"name\": \"a\", \"interface\": \"lo\", "
                         "\"virtual_router_id\": 1, \"priority\": 1, \"virtual_ipaddress\": "
                         "[{\"address\": \"127.0.0.2\"}]}]}");
    json_t *empty = load("{\"instances\": []}");

    round_trip(full);
    round_trip(small);
    round_trip(empty);
    json_decref(full);
    json_decref(small);
    json_decref(empty);
}

/* What an operator wrote, read into the model, checked and written: the same model again. */
static void
operator_text_round_trip(void **state)
{
    static const char text[] = "! an operator's file\n"
                               "vrrp_instance VI_1 {   # comment\n"
                               "\tstate BACKUP\n"
                               "\tinterface eth0\r\n"
                               "\tvirtual_router_id 51\n"
                               "\tpriority 100\n"
                               "\tadvert_int 1\n"
                               "\tvirtual_ipaddress {\n"
                               "\t\t127.0.0.1/32 dev lo\n"
                               "\t}\n"
                               "\tnotify_master \"/etc/keepalived/n.sh MASTER\"\n"
                               "}\n"
                               "virtual_server 10.0.0.1 4739 { protocol UDP\n"
                               "  real_server 10.0.0.2 4739 { weight 2 }\n"
                               "}\n";
    json_t *model = ixd_ka_parse(text, sizeof(text) - 1), *inst;

    assert_non_null(model);
    assert_int_equal(json_array_size(json_object_get(model, "warnings")), 0);
    inst = json_array_get(json_object_get(model, "instances"), 0);
    assert_string_equal(json_string_value(json_object_get(inst, "interface")), "eth0");
    assert_int_equal(json_integer_value(json_object_get(inst, "priority")), 100);
    assert_string_equal(json_string_value(json_object_get(inst, "notify_master")),
                        "/etc/keepalived/n.sh MASTER");
    assert_int_equal(
        json_integer_value(json_object_get(
            json_array_get(
                json_object_get(json_array_get(json_object_get(model, "virtual_servers"), 0),
                                "real_servers"),
                0),
            "weight")),
        2);
    round_trip(model);
    json_decref(model);
}

/* What the model does not cover is a warning (a PUT drops it), never silently lost. */
static void
parse_warns(void **state)
{
    static const char text[] = "global_defs {\n router_id x\n}\n"
                               "vrrp_script chk { script \"/bin/true\" }\n"
                               "vrrp_instance V { interface eth0\n garp_master_delay 1\n}\n"
                               "virtual_server 10.0.0.1 80 { sorry_server 10.0.0.9 80 }\n";
    json_t *model = ixd_ka_parse(text, sizeof(text) - 1);
    json_t *w = json_object_get(model, "warnings");
    char *s = dump(w);

    assert_int_equal(json_array_size(w), 4);
    assert_non_null(strstr(s, "'global_defs' is not in ipfixd's model"));
    assert_non_null(strstr(s, "'vrrp_script' is not in ipfixd's model"));
    assert_non_null(strstr(s, "vrrp_instance V: 'garp_master_delay'"));
    assert_non_null(strstr(s, "virtual_server 10.0.0.1 80: 'sorry_server'"));
    free(s);
    json_decref(model);
}

static void
expect_parse_warning(const char *text, size_t len, const char *warning)
{
    json_t *model = ixd_ka_parse(text, len);
    json_t *w = json_object_get(model, "warnings");

    assert_int_equal(json_array_size(json_object_get(model, "instances")), 0);
    assert_int_equal(json_array_size(w), 1);
    if (strstr(json_string_value(json_array_get(w, 0)), warning) == NULL) {
        fail_msg("warning '%s', expected '%s'", json_string_value(json_array_get(w, 0)), warning);
    }
    json_decref(model);
}

/* A file that is not keepalived's syntax, or holds what a JSON string or a terminal should not
 * get: empty lists and one warning with the line. */
static void
parse_refuses(void **state)
{
    static const char latin1[] = "vrrp_instance V {\n priority 100\n caf\xe9\n}\n";
    static const char ctl[] = "vrrp_instance V {\n interface eth\x1b[31m0\n}\n";
    static const char del[] = "vrrp_instance V {\n\n\n interface \"a\x7f\"\n}\n";
    static const char nul[] = "vrrp_instance V {\n interface e\0th0\n}\n";
    char deep[64];

    expect_parse_warning(latin1, sizeof(latin1) - 1, "line 3: a word that is not UTF-8");
    expect_parse_warning(ctl, sizeof(ctl) - 1, "line 2: a word with a control character");
    expect_parse_warning(del, sizeof(del) - 1, "line 4: a word with a control character");
    expect_parse_warning(nul, sizeof(nul) - 1, "line 2: a word with a control character");
    expect_parse_warning("vrrp_instance V {\n", 18, "a block is not closed");
    expect_parse_warning("}\n", 2, "line 1: '}' closes no block");
    expect_parse_warning("\n{\n}\n", 5, "line 2: '{' without a statement");
    memset(deep, 0, sizeof(deep));
    for (int i = 0; i < 20; i++) {
        strcat(deep, "a{");
    }
    expect_parse_warning(deep, strlen(deep), "nested deeper than 15");
}

/* Each mutation of the full model is refused, naming field, with why containing contains. */
struct refusal {
    const char *json;
    const char *field;
    const char *contains;
};

static void
expect_refused(const struct refusal *r)
{
    struct ixd_ka_model m;
    struct ixd_ka_error e;
    json_t *j = load(r->json);

    if (ixd_ka_check(j, &m, &e) == 0) {
        fail_msg("accepted: %s", r->json);
    }
    if (strcmp(e.field, r->field) != 0 ||
        (r->contains != NULL && strstr(e.why, r->contains) == NULL)) {
        fail_msg("%s\n  refused as %s: %s\n  expected %s: %s", r->json, e.field, e.why, r->field,
                 r->contains != NULL ? r->contains : "");
    }
    assert_null(m.instances); /* nothing left to release */
    json_decref(j);
}

#define I0(extra)                                                                                  \
    "{\"instances\": [{\"name\": \"V\", \"interface\": \"eth0\", \"virtual_router_id\": 77, "      \
    "\"priority\": 100, \"virtual_ipaddress\": [{\"address\": \"10.0.0.1\"}]" extra "}]}"
#define VIP(addr)                                                                                  \
    "{\"instances\": [{\"name\": \"V\", \"interface\": \"eth0\", \"virtual_router_id\": 77, "      \
    "\"priority\": 100, \"virtual_ipaddress\": [{\"address\": \"" addr "\"}]}]}"
#define VS(extra)                                                                                  \
    "{\"instances\": [], \"virtual_servers\": [{\"address\": \"10.0.0.1\", \"port\": 80" extra "}" \
    "]"                                                                                            \
    "}"
#define SCRIPT "/etc/keepalived/n.sh"

static void
refused_constructs(void **state)
{
    static const struct refusal cases[] = {
        {"[]", "", "must be a JSON object"},
        {"{}", "instances", "must be a list"},
        {"{\"instances\": [], \"global_defs\": {}}", "global_defs", "stays in keepalived.conf"},
        {"{\"instances\": [], \"vrrp_script\": {}}", "vrrp_script", "stays in keepalived.conf"},
        {"{\"instances\": [], \"include\": \"/etc/x\"}", "include", "stays in keepalived.conf"},
        {"{\"instances\": [], \"raw\": \"x\"}", "raw", "not part of the model"},
        {"{\"instances\": [1]}", "instances[0]", "must be an object"},
        {I0(", \"script\": \"/bin/sh\""), "instances[0].script", "stays in keepalived.conf"},
        {"{\"instances\": [{\"name\": \"a b\"}]}", "instances[0].name", "A-Z a-z"},
        {"{\"instances\": [{\"name\": \"V\", \"interface\": \"eth0 {\"}]}",
         "instances[0].interface", "interface name"},
        {"{\"instances\": [{\"name\": \"V\", \"interface\": \"eth0\\n\"}]}",
         "instances[0].interface", "interface name"},
        {"{\"instances\": [{\"name\": \"V\", \"interface\": \"abcdefghijklmnop\"}]}",
         "instances[0].interface", "interface name"},
        {"{\"instances\": [{\"name\": \"V\", \"state\": \"LEADER\", \"interface\": \"e\"}]}",
         "instances[0].state", "MASTER or BACKUP"},
        {"{\"instances\": [{\"name\": \"V\", \"interface\": \"e\", \"virtual_router_id\": 0}]}",
         "instances[0].virtual_router_id", "from 1 to 255"},
        {"{\"instances\": [{\"name\": \"V\", \"interface\": \"e\", \"virtual_router_id\": 1, "
         "\"priority\": 255}]}",
         "instances[0].priority", "from 1 to 254"},
        {"{\"instances\": [{\"name\": \"V\", \"interface\": \"e\", \"virtual_router_id\": 1, "
         "\"priority\": \"high\"}]}",
         "instances[0].priority", "integer"},
        {I0(", \"advert_int\": 0"), "instances[0].advert_int", "0.01 to 255"},
        {I0(", \"advert_int\": 0.004"), "instances[0].advert_int", "in hundredths"},
        {I0(", \"advert_int\": 255.01"), "instances[0].advert_int", "0.01 to 255"},
        /* %g once wrote it as 0.123457: the file read back as another model */
        {I0(", \"advert_int\": 0.123456789"), "instances[0].advert_int", "in hundredths"},
        {I0(", \"advert_int\": \"1\""), "instances[0].advert_int", "0.01 to 255"},
        {I0(", \"nopreempt\": 1"), "instances[0].nopreempt", "true or false"},
        {I0(", \"unicast_src_ip\": \"10.0.0.1/24\""), "instances[0].unicast_src_ip", "IP address"},
        {I0(", \"unicast_peer\": [\"10.0.0.2\", \"x\"]"), "instances[0].unicast_peer[1]",
         "IP address"},
        {I0(", \"unicast_peer\": \"10.0.0.2\""), "instances[0].unicast_peer", "list"},
        {"{\"instances\": [{\"name\": \"V\", \"interface\": \"e\", \"virtual_router_id\": 1, "
         "\"priority\": 1, \"virtual_ipaddress\": []}]}",
         "instances[0].virtual_ipaddress", "1 to 64"},
        {"{\"instances\": [{\"name\": \"V\", \"interface\": \"e\", \"virtual_router_id\": 1, "
         "\"priority\": 1, \"virtual_ipaddress\": [\"10.0.0.1\"]}]}",
         "instances[0].virtual_ipaddress[0]", "must be an object"},
        {"{\"instances\": [{\"name\": \"V\", \"interface\": \"e\", \"virtual_router_id\": 1, "
         "\"priority\": 1, \"virtual_ipaddress\": [{\"address\": \"10.0.0.1\", \"label\": 1}]}]}",
         "instances[0].virtual_ipaddress[0].label", "not part of the model"},
        {"{\"instances\": [{\"name\": \"V\", \"interface\": \"e\", \"virtual_router_id\": 1, "
         "\"priority\": 1, \"virtual_ipaddress\": [{\"address\": \"10.0.0.1\", \"dev\": "
         "\"a;b\"}]}]}",
         "instances[0].virtual_ipaddress[0].dev", "interface name"},
        {I0(", \"track_script\": [\"chk; reboot\"]"), "instances[0].track_script[0]",
         "not define or run one"},
        {"{\"instances\": [" /* two instances of one name */
         "{\"name\": \"V\", \"interface\": \"e\", \"virtual_router_id\": 1, \"priority\": 1, "
         "\"virtual_ipaddress\": [{\"address\": \"10.0.0.1\"}]},"
         "{\"name\": \"V\", \"interface\": \"e\", \"virtual_router_id\": 2, \"priority\": 1, "
         "\"virtual_ipaddress\": [{\"address\": \"10.0.0.2\"}]}]}",
         "instances[1].name", "names two instances"},
        {VS(", \"lb_kind\": \"FOO\""), "virtual_servers[0].lb_kind", "must be one of DR"},
        {VS(", \"protocol\": \"ICMP\""), "virtual_servers[0].protocol", "must be one of UDP"},
        {VS(", \"lvs_sched\": \"ops\""), "virtual_servers[0].lvs_sched", "must be one of rr"},
        {VS(", \"persistence_timeout\": -1"), "virtual_servers[0].persistence_timeout", NULL},
        {VS(", \"sorry_server\": \"x\""), "virtual_servers[0].sorry_server", "not part"},
        {VS(", \"real_servers\": [{\"address\": \"10.0.0.2\", \"port\": 70000}]"),
         "virtual_servers[0].real_servers[0].port", "from 1 to 65535"},
        {VS(", \"real_servers\": [{\"address\": \"10.0.0.2/32\", \"port\": 80}]"),
         "virtual_servers[0].real_servers[0].address", "IP address"},
        {VS(", \"real_servers\": [{\"address\": \"10.0.0.2\", \"port\": 80, \"tcp_check\": "
            "{\"connect_timeout\": 0}}]"),
         "virtual_servers[0].real_servers[0].tcp_check.connect_timeout", NULL},
        {VS(", \"real_servers\": [{\"address\": \"10.0.0.2\", \"port\": 80, \"tcp_check\": "
            "{\"misc_path\": \"/bin/sh\"}}]"),
         "virtual_servers[0].real_servers[0].tcp_check.misc_path", "not part"},
        {"{\"instances\": [], \"virtual_servers\": [{\"address\": \"10.0.0.1/24\", \"port\": 80}]}",
         "virtual_servers[0].address", "IP address"},
    };

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        expect_refused(&cases[i]);
    }
}

/* Addresses and their prefixes: digits only, within the family's bits, no blank or sign. */
static void
prefixes(void **state)
{
    static const char *const good[] = {"10.0.0.1",     "10.0.0.1/0",        "10.0.0.1/32",
                                       "10.0.0.1/024", "2001:db8::1",       "2001:db8::1/128",
                                       "::1/0",        "::ffff:10.0.0.1/96"};
    static const char *const bad[] = {
        "10.0.0.300",        "10.0.0.1/33",     "10.0.0.1/\\n24", "10.0.0.1/ 24",  "10.0.0.1/+24",
        "10.0.0.1/-0",       "10.0.0.1/24 ",    "10.0.0.1/",      "10.0.0.1/0x18", "10.0.0.1/0024",
        "2001:db8::1/\\t64", "2001:db8::1/129", "fe80::1%eth0",   "10.0.0.1\\n}",  "10.0.0.1 dev x",
        " 10.0.0.1",         "10.0.0.1//24"};
    char json[512];

    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        struct ixd_ka_model m;
        struct ixd_ka_error e;
        json_t *j;
        snprintf(json, sizeof(json), VIP("%s"), good[i]);
        j = load(json);
        if (ixd_ka_check(j, &m, &e) == -1) {
            fail_msg("%s refused: %s", good[i], e.why);
        }
        assert_string_equal(m.instances[0].vips[0].addr.text, good[i]);
        round_trip(j);
        ixd_ka_model_release(&m);
        json_decref(j);
    }
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct refusal r = {json, "instances[0].virtual_ipaddress[0].address", "not an IP address"};
        snprintf(json, sizeof(json), VIP("%s"), bad[i]);
        expect_refused(&r);
    }
}

/* Notify scripts: an absolute path, then exactly the role its key implies; notify alone. */
static void
script_lines(void **state)
{
    static const struct {
        const char *key, *value, *contains;
    } bad[] = {
        {"notify_master", "/tmp/evil.sh", "one argument, MASTER"},
        {"notify_master", SCRIPT " MASTER /etc/cron.d/x", "one argument, MASTER"},
        {"notify_master", SCRIPT " BACKUP", "one argument, MASTER"},
        {"notify_master", SCRIPT "  MASTER", "one argument, MASTER"},
        {"notify_master", SCRIPT " MASTER ", "one argument, MASTER"},
        {"notify_master", SCRIPT " master", "one argument, MASTER"},
        {"notify_fault", SCRIPT, "one argument, FAULT"},
        {"notify_stop", SCRIPT "\\tSTOP", "not a script"},
        {"notify", SCRIPT " MASTER", "the script alone"},
        {"notify", SCRIPT "; rm -rf /", "not a script"},
        {"notify", "n.sh", "not a script"},
        {"notify", "/", "not a script"},
        {"notify", "/etc/keepalived/", "not a script"},
        {"notify", "/etc/keepalived/../../bin/sh", "not a script"},
        {"notify", "/etc//keepalived/n.sh", "not a script"},
        {"notify", "/etc/keepalived/n\\\".sh", "not a script"},
        {"notify", "/etc/keepalived/n.sh\\n}", "not a script"},
        {"notify", "", "must be a string"},
        {"notify_backup", "\"BACKUP\"", NULL}, /* not a string at all */
    };
    static const struct {
        const char *key, *value;
    } good[] = {
        {"notify_master", SCRIPT " MASTER"},
        {"notify_backup", SCRIPT " BACKUP"},
        {"notify_fault", SCRIPT " FAULT"},
        {"notify_stop", SCRIPT " STOP"},
        {"notify", SCRIPT},
    };
    char json[768], extra[512], field[64];

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct refusal r = {json, field, bad[i].contains};
        if (strcmp(bad[i].value, "\"BACKUP\"") == 0) {
            snprintf(extra, sizeof(extra), ", \"%s\": 7", bad[i].key);
        } else {
            snprintf(extra, sizeof(extra), ", \"%s\": \"%s\"", bad[i].key, bad[i].value);
        }
        snprintf(json, sizeof(json), I0("%s"), extra);
        snprintf(field, sizeof(field), "instances[0].%s", bad[i].key);
        expect_refused(&r);
    }
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        struct ixd_ka_model m;
        struct ixd_ka_error e;
        json_t *j;
        char *text;
        snprintf(extra, sizeof(extra), ", \"%s\": \"%s\"", good[i].key, good[i].value);
        snprintf(json, sizeof(json), I0("%s"), extra);
        j = load(json);
        assert_int_equal(ixd_ka_check(j, &m, &e), 0);
        assert_string_equal(m.instances[0].notify[i], SCRIPT);
        text = ixd_ka_render(&m, NULL);
        snprintf(extra, sizeof(extra), "\n    %s \"%s\"\n", good[i].key, good[i].value);
        assert_non_null(strstr(text, extra));
        round_trip(j);
        free(text);
        ixd_ka_model_release(&m);
        json_decref(j);
    }
}

/* Strings with control bytes or quotes never reach a rendered file, whatever key they are in. */
static void
control_bytes_in_json(void **state)
{
    /* "\\u0000" does not load at all (jansson refuses it without JSON_ALLOW_NUL) */
    static const char *const values[] = {"a\\nb",  "a\\rb", "a\\u001bb", "a\\u007fb",
                                         "a\\\"b", "a{b",   "a}b",       "a#b",
                                         "a!b",    "a b",   "\\u00e9"};
    static const char *const keys[] = {"name", "interface"};
    char json[512];

    for (size_t k = 0; k < 2; k++) {
        for (size_t i = 0; i < sizeof(values) / sizeof(values[0]); i++) {
            char field[64], extra[128];
            struct refusal r = {json, field, NULL};
            snprintf(extra, sizeof(extra), ", \"%s\": \"%s\"", keys[k], values[i]);
            /* the key written twice would not load: the instance is built whole here */
            snprintf(json, sizeof(json),
                     "{\"instances\": [{\"%s\": \"%s\", \"%s\": \"eth0\", \"virtual_router_id\": "
                     "1, \"priority\": 1, \"virtual_ipaddress\": [{\"address\": \"10.0.0.1\"}]}]}",
                     keys[k], values[i], k == 0 ? "interface" : "name");
            snprintf(field, sizeof(field), "instances[0].%s", keys[k]);
            expect_refused(&r);
        }
    }
}

/* Bounds: more instances, addresses or peers than the model takes are refused, not truncated. */
static void
bounds(void **state)
{
    json_t *j = load(I0("")), *inst = json_array_get(json_object_get(j, "instances"), 0);
    json_t *vips = json_object_get(inst, "virtual_ipaddress"), *peers = json_array();
    struct ixd_ka_model m;
    struct ixd_ka_error e;

    for (int i = 1; i < IXD_KA_VIPS_MAX; i++) {
        json_array_append_new(vips, json_pack("{s:s}", "address", "10.0.0.2"));
    }
    assert_int_equal(ixd_ka_check(j, &m, &e), 0);
    assert_int_equal(m.instances[0].n_vips, IXD_KA_VIPS_MAX);
    ixd_ka_model_release(&m);
    json_array_append_new(vips, json_pack("{s:s}", "address", "10.0.0.3"));
    assert_int_equal(ixd_ka_check(j, &m, &e), -1);
    assert_string_equal(e.field, "instances[0].virtual_ipaddress");
    json_array_remove(vips, 0);
    for (int i = 0; i <= IXD_KA_PEERS_MAX; i++) {
        json_array_append_new(peers, json_string("10.0.0.9"));
    }
    json_object_set_new(inst, "unicast_peer", peers);
    assert_int_equal(ixd_ka_check(j, &m, &e), -1);
    assert_string_equal(e.field, "instances[0].unicast_peer");
    json_decref(j);
    j = load("{\"instances\": []}");
    for (int i = 0; i <= IXD_KA_INSTANCES_MAX; i++) {
        json_array_append_new(json_object_get(j, "instances"), json_object());
    }
    assert_int_equal(ixd_ka_check(j, &m, &e), -1);
    assert_string_equal(e.field, "instances");
    json_decref(j);
}

/* The keys a GET answer adds may be sent back as they are. */
static void
get_answer_put_back(void **state)
{
    json_t *j = load("{\"instances\": [], \"virtual_servers\": [], \"warnings\": [\"x\"], "
                     "\"_links\": {\"self\": {\"href\": \"/x\"}}}");
    struct ixd_ka_model m;
    struct ixd_ka_error e;

    assert_int_equal(ixd_ka_check(j, &m, &e), 0);
    ixd_ka_model_release(&m);
    json_decref(j);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(round_trips),
        cmocka_unit_test(operator_text_round_trip),
        cmocka_unit_test(parse_warns),
        cmocka_unit_test(parse_refuses),
        cmocka_unit_test(refused_constructs),
        cmocka_unit_test(prefixes),
        cmocka_unit_test(script_lines),
        cmocka_unit_test(control_bytes_in_json),
        cmocka_unit_test(bounds),
        cmocka_unit_test(get_answer_put_back),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
