/* Unit tests of src/ha/keepalived_policy.c (what root's policy lets a model hold) and of the
 * helper's policy file (src/ha/apply/policy_file.c): ranges, router ids, every refusal with its
 * field, the file's required keys and the directories it insists are the helper's alone. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ha/apply/apply.h"
#include "ha/keepalived_policy.h"

static char dir[64];

static int
make_dir(void **state)
{
    snprintf(dir, sizeof(dir), "/tmp/ixd-kapol-XXXXXX");
    if (mkdtemp(dir) == NULL) {
        return -1;
    }
    return chmod(dir, 0755);
}

static int
remove_dir(void **state)
{
    char cmd[128];

    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    return system(cmd) == 0 ? 0 : -1;
}

static void
ranges(void **state)
{
    struct ixd_ka_range r;
    char why[256];

    assert_int_equal(ixd_ka_range_parse("10.77.0.0/24", &r, why, sizeof(why)), 0);
    assert_int_equal(r.prefix, 24);
    assert_int_equal(ixd_ka_range_parse("10.77.0.1", &r, why, sizeof(why)), 0);
    assert_int_equal(r.prefix, 32);
    assert_int_equal(ixd_ka_range_parse("2001:db8::/32", &r, why, sizeof(why)), 0);
    assert_int_equal(ixd_ka_range_parse("0.0.0.0/0", &r, why, sizeof(why)), 0);
    assert_int_equal(ixd_ka_range_parse("10.77.0.1/24", &r, why, sizeof(why)), -1);
    assert_non_null(strstr(why, "bits set past its prefix"));
    assert_int_equal(ixd_ka_range_parse("10.77.0.0/33", &r, why, sizeof(why)), -1);
    assert_int_equal(ixd_ka_range_parse("10.77.0.0/", &r, why, sizeof(why)), -1);
    assert_int_equal(ixd_ka_range_parse("10.77.0.0/ 8", &r, why, sizeof(why)), -1);
    assert_int_equal(ixd_ka_range_parse("eth0", &r, why, sizeof(why)), -1);
}

static void
vrids(void **state)
{
    char why[256];
    int lo, hi;

    assert_int_equal(ixd_ka_vrids_parse("51", &lo, &hi, why, sizeof(why)), 0);
    assert_true(lo == 51 && hi == 51);
    assert_int_equal(ixd_ka_vrids_parse("50-59", &lo, &hi, why, sizeof(why)), 0);
    assert_true(lo == 50 && hi == 59);
    for (const char *const *s = (const char *const[]){"0", "256", "59-50", "50-", "-5", "5--6", "a",
                                                      "", "1-2-3", " 5", NULL};
         *s != NULL; s++) {
        if (ixd_ka_vrids_parse(*s, &lo, &hi, why, sizeof(why)) != -1) {
            fail_msg("'%s' taken as %d-%d", *s, lo, hi);
        }
    }
}

/* The policy of the tests: eth0, ids 77 and 80-89, 10.77.0.0/24, scripts by path. */
static void
policy_init(struct ixd_ka_policy *p)
{
    char why[128];

    memset(p, 0, sizeof(*p));
    snprintf(p->interfaces[p->n_interfaces++], IF_NAMESIZE, "eth0");
    ixd_ka_vrids_parse("77", &p->vrids[0].lo, &p->vrids[0].hi, why, sizeof(why));
    ixd_ka_vrids_parse("80-89", &p->vrids[1].lo, &p->vrids[1].hi, why, sizeof(why));
    p->n_vrids = 2;
    ixd_ka_range_parse("10.77.0.0/24", &p->addresses[p->n_addresses++], why, sizeof(why));
    ixd_ka_range_parse("2001:db8:77::/48", &p->addresses[p->n_addresses++], why, sizeof(why));
    ixd_ka_range_parse("10.77.0.0/24", &p->peers[p->n_peers++], why, sizeof(why));
    ixd_ka_range_parse("10.88.0.0/16", &p->reals[p->n_reals++], why, sizeof(why));
    snprintf(p->tracks[p->n_tracks++], IXD_KA_NAME_MAX + 1, "chk_ipfixd");
    ixd_ka_script_parse("/etc/keepalived/notify.sh root root", p->scripts[0].path,
                        sizeof(p->scripts[0].path), p->scripts[0].as, sizeof(p->scripts[0].as), why,
                        sizeof(why));
    ixd_ka_script_parse("/etc/keepalived/other.sh", p->scripts[1].path, sizeof(p->scripts[1].path),
                        p->scripts[1].as, sizeof(p->scripts[1].as), why, sizeof(why));
    p->n_scripts = 2;
}

/* The model of json against the test policy: 0, or -1 with field. */
static int
verdict(const char *json, char *field, size_t fieldlen)
{
    struct ixd_ka_policy p;
    struct ixd_ka_model m;
    struct ixd_ka_error e;
    json_error_t jerr;
    json_t *j = json_loads(json, 0, &jerr);
    int rc;

    if (j == NULL) {
        fail_msg("test JSON: %s", jerr.text);
    }
    policy_init(&p);
    if (ixd_ka_check(j, &m, &e) == -1) {
        fail_msg("the model itself is refused: %s: %s", e.field, e.why);
    }
    rc = ixd_ka_policy_check(&p, &m, &e);
    snprintf(field, fieldlen, "%s", rc == -1 ? e.field : "");
    if (rc == -1 && strstr(e.why, "helper's policy") == NULL) {
        fail_msg("why: %s", e.why);
    }
    ixd_ka_model_release(&m);
    json_decref(j);
    return rc;
}

#define INST(iface, vrid, vip, extra)                                                              \
    "{\"instances\": [{\"name\": \"V\", \"interface\": \"" iface                                   \
    "\", \"virtual_router_id\": " vrid                                                             \
    ", \"priority\": 100, \"virtual_ipaddress\": [{\"address\": \"" vip "\"" extra "}]"
#define END "}]}"

static void
policy_refusals(void **state)
{
    static const struct {
        const char *json, *field;
    } cases[] = {
        {INST("eth0", "77", "10.77.0.100/24", "") END, ""},
        {INST("eth0", "85", "10.77.0.100", "") END, ""},
        {INST("eth0", "77", "2001:db8:77::1/64", "") END, ""},
        {INST("eth0", "77", "10.77.0.100/24", "") ", \"unicast_src_ip\": \"10.77.0.1\", "
                                                  "\"unicast_peer\": [\"10.77.0.2\"], "
                                                  "\"track_script\": [\"chk_ipfixd\"], "
                                                  "\"notify_master\": "
                                                  "\"/etc/keepalived/notify.sh MASTER\"" END,
         ""},
        {INST("eth1", "77", "10.77.0.100/24", "") END, "instances[0].interface"},
        {INST("eth0", "78", "10.77.0.100/24", "") END, "instances[0].virtual_router_id"},
        {INST("eth0", "90", "10.77.0.100/24", "") END, "instances[0].virtual_router_id"},
        {INST("eth0", "77", "10.78.0.100", "") END, "instances[0].virtual_ipaddress[0].address"},
        /* an address of the range whose prefix claims more than the range: a route the policy
         * does not give */
        {INST("eth0", "77", "10.77.0.100/16", "") END, "instances[0].virtual_ipaddress[0].address"},
        {INST("eth0", "77", "10.77.0.100/0", "") END, "instances[0].virtual_ipaddress[0].address"},
        {INST("eth0", "77", "2001:db8::1", "") END, "instances[0].virtual_ipaddress[0].address"},
        {INST("eth0", "77", "10.77.0.100", ", \"dev\": \"lo\"") END,
         "instances[0].virtual_ipaddress[0].dev"},
        {INST("eth0", "77", "10.77.0.100", "") ", \"unicast_src_ip\": \"10.1.0.1\"" END,
         "instances[0].unicast_src_ip"},
        {INST("eth0", "77", "10.77.0.100", "") ", \"unicast_peer\": [\"10.77.0.2\", "
                                               "\"192.0.2.1\"]" END,
         "instances[0].unicast_peer[1]"},
        {INST("eth0", "77", "10.77.0.100", "") ", \"track_script\": [\"chk_other\"]" END,
         "instances[0].track_script[0]"},
        {INST("eth0", "77", "10.77.0.100", "") ", \"notify_master\": \"/tmp/x.sh MASTER\"" END,
         "instances[0].notify_master"},
        {INST("eth0", "77", "10.77.0.100",
              "") ", \"notify\": \"/etc/keepalived/notify.sh.bak\"" END,
         "instances[0].notify"},
        {"{\"instances\": [], \"virtual_servers\": [{\"address\": \"10.77.0.100\", \"port\": 22, "
         "\"real_servers\": [{\"address\": \"10.88.1.1\", \"port\": 22}]}]}",
         ""},
        {"{\"instances\": [], \"virtual_servers\": [{\"address\": \"192.0.2.1\", \"port\": 22}]}",
         "virtual_servers[0].address"},
        {"{\"instances\": [], \"virtual_servers\": [{\"address\": \"10.77.0.100\", \"port\": 22, "
         "\"real_servers\": [{\"address\": \"10.88.1.1\", \"port\": 22}, "
         "{\"address\": \"10.99.1.1\", \"port\": 22}]}]}",
         "virtual_servers[0].real_servers[1].address"},
    };
    char field[160];

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        int rc = verdict(cases[i].json, field, sizeof(field));
        if (strcmp(field, cases[i].field) != 0 || (rc == 0) != (cases[i].field[0] == '\0')) {
            fail_msg("%s\n  gave '%s', expected '%s'", cases[i].json, field, cases[i].field);
        }
    }
}

/* A scripts entry: the path, then whom keepalived runs it as; nothing else. */
static void
script_entries(void **state)
{
    char path[IXD_KA_SCRIPT_MAX + 1], as[2 * IXD_KA_USER_MAX + 2], why[256];
    static const char *const bad[] = {
        "notify.sh",         "/etc/n.sh root root x", "/etc/n.sh r$ g",    "/etc/n\".sh",
        "/etc/n.sh root;id", "/etc/n.sh\troot",       "/etc/n.sh root g\n"};

    assert_int_equal(
        ixd_ka_script_parse("/etc/n.sh", path, sizeof(path), as, sizeof(as), why, sizeof(why)), 0);
    assert_string_equal(path, "/etc/n.sh");
    assert_string_equal(as, "");
    assert_int_equal(
        ixd_ka_script_parse("/etc/n.sh root", path, sizeof(path), as, sizeof(as), why, sizeof(why)),
        0);
    assert_string_equal(as, "root");
    assert_int_equal(ixd_ka_script_parse("/etc/n.sh keepalived_script nogroup", path, sizeof(path),
                                         as, sizeof(as), why, sizeof(why)),
                     0);
    assert_string_equal(as, "keepalived_script nogroup");
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        if (ixd_ka_script_parse(bad[i], path, sizeof(path), as, sizeof(as), why, sizeof(why)) !=
            -1) {
            fail_msg("'%s' taken as %s as '%s'", bad[i], path, as);
        }
    }
}

/* The user a script runs as comes from the policy, never from the model, and is written. */
static void
scripts_run_as_the_policy_says(void **state)
{
    struct ixd_ka_policy p;
    struct ixd_ka_model m;
    struct ixd_ka_error e;
    json_t *j = json_loads(INST("eth0", "77", "10.77.0.100",
                                "") ", \"notify_master\": \"/etc/keepalived/notify.sh MASTER\", "
                                    "\"notify\": \"/etc/keepalived/other.sh\"" END,
                           0, NULL);
    char *text;

    policy_init(&p);
    assert_int_equal(ixd_ka_check(j, &m, &e), 0);
    assert_string_equal(m.instances[0].notify_as[IXD_KA_NOTIFY_MASTER], "");
    assert_int_equal(ixd_ka_policy_check(&p, &m, &e), 0);
    assert_string_equal(m.instances[0].notify_as[IXD_KA_NOTIFY_MASTER], "root root");
    text = ixd_ka_render(&m, NULL);
    assert_non_null(strstr(text, "\n    notify_master \"/etc/keepalived/notify.sh MASTER\" root "
                                 "root\n"));
    assert_non_null(strstr(text, "\n    notify \"/etc/keepalived/other.sh\"\n"));
    free(text);
    ixd_ka_model_release(&m);
    json_decref(j);
}

/* An empty policy allows no instance at all. */
static void
empty_policy_allows_nothing(void **state)
{
    struct ixd_ka_policy p;
    struct ixd_ka_model m;
    struct ixd_ka_error e;
    json_t *j = json_loads(INST("eth0", "77", "10.77.0.100", "") END, 0, NULL);

    memset(&p, 0, sizeof(p));
    assert_int_equal(ixd_ka_check(j, &m, &e), 0);
    assert_int_equal(ixd_ka_policy_check(&p, &m, &e), -1);
    assert_string_equal(e.field, "instances[0].interface");
    ixd_ka_model_release(&m);
    json_decref(j);
}

static void
write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");

    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

/* A policy file in dir with extra (and without the lines of drop): loads or not. */
static int
load_policy(const char *extra, const char *drop, struct ka_settings *s, char *err, size_t errlen)
{
    char path[128], text[2048], *p;
    const char *lines[] = {"callers: [ipfixd, 0]\n",
                           "config: DIR/keepalived.conf\n",
                           "include: DIR/inc/ipfixd.conf\n",
                           "backup-dir: DIR/backup\n",
                           "reload: /usr/bin/systemctl reload keepalived\n",
                           "interfaces: [eth0]\n",
                           "virtual-router-ids: [77, 80-89]\n",
                           "virtual-addresses: [10.77.0.0/24]\n",
                           "scripts: [/etc/keepalived/notify.sh]\n",
                           NULL};

    text[0] = '\0';
    for (int i = 0; lines[i] != NULL; i++) {
        if (drop != NULL && strncmp(lines[i], drop, strlen(drop)) == 0) {
            continue;
        }
        strncat(text, lines[i], sizeof(text) - strlen(text) - 1);
    }
    strncat(text, extra, sizeof(text) - strlen(text) - 1);
    while ((p = strstr(text, "DIR")) != NULL) {
        char rest[2048];
        snprintf(rest, sizeof(rest), "%s%s", dir, p + 3);
        snprintf(p, sizeof(text) - (size_t)(p - text), "%s", rest);
    }
    snprintf(path, sizeof(path), "%s/policy.yaml", dir);
    write_file(path, text);
    return ka_settings_load(path, s, err, errlen);
}

static void
policy_file(void **state)
{
    static struct ka_settings s;
    char path[128], err[1024];
    struct ka_caller root = {1, 0, 0}, other = {1, 4242, 4242};

    snprintf(path, sizeof(path), "%s/keepalived.conf", dir);
    write_file(path, "include x\n");
    snprintf(path, sizeof(path), "%s/inc", dir);
    assert_int_equal(mkdir(path, 0755), 0);
    snprintf(path, sizeof(path), "%s/backup", dir);
    assert_int_equal(mkdir(path, 0700), 0);

    if (load_policy("", NULL, &s, err, sizeof(err)) == -1) {
        fail_msg("%s", err);
    }
    assert_int_equal(s.check_timeout, 10);
    assert_true(s.pid_namespace);
    assert_string_equal(s.keepalived_bin, "/usr/sbin/keepalived");
    assert_int_equal(s.allow.n_vrids, 2);
    assert_string_equal(s.allow.scripts[0].path, "/etc/keepalived/notify.sh");
    assert_string_equal(s.allow.scripts[0].as, "");
    /* callers: by number here ("0"), and never anyone else */
    assert_true(geteuid() != 0 || ka_caller_allowed(&s, &root));
    assert_false(ka_caller_allowed(&s, &other));

    assert_int_equal(load_policy("bogus: 1\n", NULL, &s, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "policy.yaml:10:1: unknown key 'bogus' in the policy"));
    assert_int_equal(load_policy("interfaces: [eth1]\n", NULL, &s, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "duplicate key 'interfaces'"));
    assert_int_equal(load_policy("peers: [10.0.0.1/8]\n", NULL, &s, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "peers: '10.0.0.1/8' has bits set past its prefix"));
    assert_int_equal(load_policy("real-servers: 10.0.0.0/8\n", NULL, &s, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "real-servers must be a list"));
    assert_int_equal(load_policy("", "backup-dir", &s, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "needs config, include and backup-dir"));
    assert_int_equal(load_policy("", "reload", &s, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "needs one of reload"));
    assert_int_equal(load_policy("reload-pid-file: /run/k.pid\n", NULL, &s, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "needs one of reload"));
    assert_int_equal(load_policy("", "callers", &s, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "names no callers"));
    assert_int_equal(load_policy("keepalived-bin: keepalived\n", NULL, &s, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "keepalived-bin must be an absolute path"));
    assert_int_equal(
        load_policy("keepalived-bin: /usr/sbin/keepalived; id\n", NULL, &s, err, sizeof(err)), -1);
    assert_int_equal(load_policy("check-timeout: 301s\n", NULL, &s, err, sizeof(err)), -1);
    assert_int_equal(load_policy("scripts: [notify.sh]\n", "scripts", &s, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "does not start with an absolute path"));
    snprintf(path, sizeof(path), "%s/inc/ipfixd.conf", dir);
    write_file(path, "");
    assert_int_equal(load_policy("config: DIR/inc/ipfixd.conf\n", "config", &s, err, sizeof(err)),
                     -1);
    assert_non_null(strstr(err, "include must be its own file"));
}

/* The include's directory and the backup directory must be the helper's alone: a directory
 * ipfixd's user (or anyone but the helper's user) may write is refused. */
static void
directories_must_be_the_helpers(void **state)
{
    static struct ka_settings s;
    char path[128], err[1024];

    snprintf(path, sizeof(path), "%s/keepalived.conf", dir);
    write_file(path, "include x\n");
    snprintf(path, sizeof(path), "%s/inc", dir);
    assert_int_equal(mkdir(path, 0775), 0);
    assert_int_equal(chmod(path, 0775), 0);
    snprintf(path, sizeof(path), "%s/backup", dir);
    assert_int_equal(mkdir(path, 0700), 0);
    assert_int_equal(load_policy("", NULL, &s, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "include: directory"));
    assert_non_null(strstr(err, "must be the helper's alone"));
    snprintf(path, sizeof(path), "%s/inc", dir);
    assert_int_equal(chmod(path, 01777), 0); /* /tmp-like: still others may write */
    assert_int_equal(load_policy("", NULL, &s, err, sizeof(err)), -1);
    assert_int_equal(chmod(path, 0755), 0);
    snprintf(path, sizeof(path), "%s/backup", dir);
    assert_int_equal(chmod(path, 0770), 0);
    assert_int_equal(load_policy("", NULL, &s, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "backup-dir: directory"));
    assert_int_equal(chmod(path, 0750), 0);
    if (load_policy("", NULL, &s, err, sizeof(err)) == -1) {
        fail_msg("%s", err);
    }
    /* the policy file itself, and its directory: the helper's user's alone */
    snprintf(path, sizeof(path), "%s/policy.yaml", dir);
    assert_int_equal(chmod(path, 0664), 0);
    assert_int_equal(ka_settings_load(path, &s, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "policy.yaml must be a file of uid"));
    assert_int_equal(chmod(path, 0600), 0);
    assert_int_equal(chmod(dir, 0777), 0);
    assert_int_equal(ka_settings_load(path, &s, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "the policy's: directory"));
    assert_int_equal(chmod(dir, 0755), 0);
    if (ka_settings_load(path, &s, err, sizeof(err)) == -1) {
        fail_msg("%s", err);
    }
    if (geteuid() == 0) {
        assert_int_equal(chown(path, 65534, 65534), 0);
        assert_int_equal(ka_settings_load(path, &s, err, sizeof(err)), -1);
        assert_non_null(strstr(err, "not uid 65534"));
        assert_int_equal(chown(path, 0, 0), 0);
        /* owned by another user, even 0755: refused */
        snprintf(path, sizeof(path), "%s/inc", dir);
        assert_int_equal(chown(path, 65534, 65534), 0);
        assert_int_equal(load_policy("", NULL, &s, err, sizeof(err)), -1);
        assert_non_null(strstr(err, "not uid 65534"));
    }
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(ranges),
        cmocka_unit_test(vrids),
        cmocka_unit_test(policy_refusals),
        cmocka_unit_test(empty_policy_allows_nothing),
        cmocka_unit_test(script_entries),
        cmocka_unit_test(scripts_run_as_the_policy_says),
        cmocka_unit_test_setup_teardown(policy_file, make_dir, remove_dir),
        cmocka_unit_test_setup_teardown(directories_must_be_the_helpers, make_dir, remove_dir),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
