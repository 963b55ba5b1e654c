/* Unit tests of src/registry/: outputs and stages of a config checked by their types, and what a
 * reload may keep. */
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

#include "core/config.h"
#include "core/keys.h"
#include "registry/registry.h"

#define ONE_UDP                                                                                    \
    "collectors:\n"                                                                                \
    "  - name: a\n"                                                                                \
    "    listen: \"*:4739\"\n"

static char err[2048];
static char dir[64];
static struct ixd_ie_registry *reg;

static int
setup(void **state)
{
    snprintf(dir, sizeof(dir), "/tmp/ixd-registry-XXXXXX");
    reg = ixd_ie_registry_new(NULL, 0, err, sizeof(err));
    return mkdtemp(dir) == NULL || reg == NULL ? -1 : 0;
}

static int
teardown(void **state)
{
    char cmd[128];

    ixd_ie_registry_free(reg);
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    return system(cmd) == 0 ? 0 : -1;
}

static struct ixd_config *
parse(const char *text)
{
    struct ixd_config *cfg = ixd_config_parse("t.yaml", text, strlen(text), err, sizeof(err));

    if (cfg == NULL) {
        fail_msg("config rejected: %s", err);
    }
    return cfg;
}

/* The instances of text, or NULL with err. */
static struct ixd_instances *
instances(const char *text, unsigned flags, struct ixd_config **cfg_out)
{
    struct ixd_config *cfg = parse(text);
    struct ixd_instances *in = ixd_instances_conf(cfg, reg, 2, flags, err, sizeof(err));

    if (cfg_out != NULL) {
        *cfg_out = cfg;
    } else {
        ixd_config_free(cfg);
    }
    return in;
}

static void
refused(const char *text, const char *want)
{
    struct ixd_instances *in = instances(text, IXD_CONFIG_DEFAULT, NULL);

    if (in != NULL) {
        ixd_instances_free(in);
        fail_msg("accepted, expected \"%s\"", want);
    }
    if (strstr(err, want) == NULL) {
        fail_msg("error is \"%s\", expected \"%s\" in it", err, want);
    }
}

/* A key of another type, an unknown key and an unknown type, each at its position. */
static void
keys_checked_by_their_type(void **state)
{
    refused(ONE_UDP "outputs:\n  - {name: o, path: \"-\", mtu: 1400}\n",
            "t.yaml:5:26: 'mtu' applies only to outputs of type ipfix");
    refused(ONE_UDP "outputs:\n  - {name: o, path: \"-\", original-exporter: true}\n",
            "t.yaml:5:26: 'original-exporter' applies only to outputs of type ipfix and "
            "ipfix-file");
    refused(ONE_UDP "outputs:\n  - {name: o, path: \"-\", colour: red}\n",
            "t.yaml:5:26: unknown key 'colour' in output 'o' of type json (known: path, "
            "renormalise, file-mode, tls-subject, rotate-interval, rotate-size, upload)");
    /* the known types are the registry's, whatever it lists */
    refused(ONE_UDP "outputs:\n  - {name: o, type: pigeon}\n",
            "t.yaml:5:21: output type must be json, ipfix, ");
    assert_non_null(strstr(err, " not 'pigeon'"));
    refused(ONE_UDP "outputs:\n  - {name: o, type: ipfix}\n", "t.yaml:5:5: output 'o' needs "
                                                              "destinations");
    refused(ONE_UDP "outputs:\n  - {name: o, type: ipfix, destinations: \"127.0.0.1:9\", "
                    "mtu: 65535}\n",
            "mtu must be at most 65507 on UDP");
    refused(ONE_UDP "outputs:\n  - {name: o, type: ipfix, destinations: [\"127.0.0.1:9\", "
                    "\"127.0.0.1:9\"]}\n",
            "destination 127.0.0.1:9 is listed twice");
    refused(ONE_UDP "outputs:\n  - {name: o}\n", "t.yaml:5:5: output 'o' needs a path");
    refused(ONE_UDP "outputs: [{name: o, path: \"-\"}]\n"
                    "pipelines: [{name: p, from: a, to: o, stages: [{frobnicate: 1}]}]\n",
            "unknown stage 'frobnicate' (known: filter, anonymise");
}

/* Defaults that follow other keys: the mtu from the transport, the prefix from the name. */
static void
defaults_from_other_keys(void **state)
{
    struct ixd_instances *in;
    char text[1024];

    snprintf(text, sizeof(text),
             ONE_UDP "outputs:\n"
                     "  - {name: u, type: ipfix, destinations: \"127.0.0.1:9\"}\n"
                     "  - {name: t, type: ipfix, destinations: \"127.0.0.1:9\", transport: tcp}\n"
                     "  - {name: arch, type: ipfix-file, directory: %s}\n",
             dir);
    in = instances(text, IXD_CONFIG_DEFAULT, NULL);
    if (in == NULL) {
        fail_msg("%s", err);
    }
    /* the settings structs are the types' own: seen here through what a reload compares */
    assert_false(ixd_keys_same(in->outputs[0].type->m.keys, in->outputs[0].settings,
                               in->outputs[1].settings, IXD_KEYS_ALL));
    ixd_instances_free(in);
}

/* The files outputs write are checked as ipfixd will use them, and not with syntax only. */
static void
output_files_checked(void **state)
{
    char text[1024];
    struct ixd_instances *in;

    snprintf(text, sizeof(text), ONE_UDP "outputs:\n  - {name: o, path: %s/no/such/out.json}\n",
             dir);
    refused(text, "t.yaml:5:21: path: cannot create ");
    in = instances(text, IXD_CONFIG_SYNTAX_ONLY, NULL);
    assert_non_null(in);
    ixd_instances_free(in);
    snprintf(text, sizeof(text), ONE_UDP "outputs:\n  - {name: o, path: %s}\n", dir);
    refused(text, "is a directory");
    snprintf(text, sizeof(text),
             ONE_UDP "outputs:\n  - {name: o, type: ipfix-file, directory: %s/none}\n", dir);
    refused(text, "t.yaml:5:44: directory: cannot use directory ");
    snprintf(text, sizeof(text),
             ONE_UDP "outputs:\n  - {name: o, path: %s/out.json, file-mode: 0444}\n", dir);
    refused(text, "file-mode must be octal permissions");
}

/* Two outputs writing the same place are refused; "-" may be shared. */
static void
conflicts(void **state)
{
    char text[1024];
    struct ixd_instances *in;

    snprintf(text, sizeof(text),
             ONE_UDP "outputs:\n  - {name: o, path: %s/x.json}\n  - {name: p, path: %s/x.json}\n",
             dir, dir);
    refused(text, "outputs 'o' and 'p' both write to");
    snprintf(text, sizeof(text),
             ONE_UDP "outputs:\n  - {name: o, type: ipfix-file, directory: %s, prefix: x}\n"
                     "  - {name: x, type: ipfix-file, directory: %s}\n",
             dir, dir);
    refused(text, "outputs 'o' and 'x' both write to");
    in = instances(ONE_UDP "outputs:\n  - {name: o, path: \"-\"}\n  - {name: p, path: \"-\"}\n",
                   IXD_CONFIG_DEFAULT, NULL);
    assert_non_null(in);
    ixd_instances_free(in);
}

/* A reload keeps an open output whose name, type and settings are the same. */
static void
reload_keeps_the_same(void **state)
{
    char a[512], b[512];
    struct ixd_instances *ia, *ib;
    struct ixd_output *o;

    snprintf(a, sizeof(a), ONE_UDP "outputs:\n  - {name: o, path: %s/a.json}\n", dir);
    snprintf(b, sizeof(b), ONE_UDP "outputs:\n  - {name: o, path: %s/b.json}\n", dir);
    ia = instances(a, IXD_CONFIG_DEFAULT, NULL);
    o = ixd_output_open(&ia->outputs[0], "o", 1, err, sizeof(err));
    if (o == NULL) {
        fail_msg("%s", err);
    }
    assert_null(ia->outputs[0].settings); /* the output took them */
    ixd_instances_free(ia);
    ia = instances(a, IXD_CONFIG_DEFAULT, NULL);
    ib = instances(b, IXD_CONFIG_DEFAULT, NULL);
    assert_true(ixd_output_same(o, &ia->outputs[0], "o"));
    assert_false(ixd_output_same(o, &ia->outputs[0], "renamed"));
    assert_false(ixd_output_same(o, &ib->outputs[0], "o"));
    ixd_output_close(o);
    ixd_instances_free(ia);
    ixd_instances_free(ib);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(keys_checked_by_their_type), cmocka_unit_test(defaults_from_other_keys),
        cmocka_unit_test(output_files_checked),       cmocka_unit_test(conflicts),
        cmocka_unit_test(reload_keeps_the_same),
    };

    return cmocka_run_group_tests(tests, setup, teardown);
}
