/* ipfixd: command line, then the control thread takes over. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "convert/convert.h"
#include "core/config.h"
#include "daemon/commands.h"
#include "daemon/control.h"
#include "daemon/privileges.h"
#include "ipfix/ie.h"
#include "registry/registry.h"

static void
usage(FILE *out)
{
    fprintf(out,
            "usage: ipfixd [-c FILE] [-t [--syntax-only]] [-V] [-h]\n"
            "       ipfixd healthcheck [-c FILE] [--url URL]\n"
            "       ipfixd convert IN.pcap [-o FILE|-] [--format json|ipfix] [--to HOST:PORT]\n"
            "       ipfixd clickhouse-schema -c FILE [--output NAME] [--server-version V]\n"
            "  -c, --config FILE  run with this config (default: the built-in one:\n"
            "                     IPFIX on UDP and TCP port 4739, JSON lines to stdout)\n"
            "  -t, --test         check the config and every file it names, and exit\n"
            "                     (non-zero on errors)\n"
            "      --syntax-only  with -t: check the text only, open no file it names\n"
            "  -V, --version      print the version\n"
            "  -h, --help         print this help\n"
            "signals: HUP reloads the config and reopens output files, TERM/INT stop,\n"
            "         USR1 logs a summary per collector\n");
}

static void
print_warning(void *arg, const char *message)
{
    fprintf(stderr, "%s\n", message);
}

/*
 * -t: the config must parse and every file it names must be usable as ipfixd will use it (as
 * its user: privileges.h), its element files must load and its stages' settings check. With
 * --syntax-only, nothing outside the text is opened: a config checked away from its machine.
 */
static int
test_config(struct ixd_config *cfg, const char *name, unsigned flags)
{
    struct ixd_ie_registry *reg = NULL;
    struct ixd_instances *in;
    int syntax_only = (flags & IXD_CONFIG_SYNTAX_ONLY) != 0;
    char err[1024];

    /* as at start: the element files by whoever runs this, the rest as ipfixd's user */
    reg = ixd_ie_registry_new(syntax_only ? NULL : cfg->element_files,
                              syntax_only ? 0 : cfg->n_element_files, err, sizeof(err));
    if (reg != NULL && ixd_ie_registry_add_own(reg, cfg->own_enterprise) == -1) {
        ixd_ie_registry_free(reg);
        reg = NULL;
        snprintf(err, sizeof(err), "out of memory");
    }
    if (reg == NULL) {
        fprintf(stderr, "%s:0:0: %s\n", name, err);
        goto fail;
    }
    if (!syntax_only && (ixd_privileges_open_files_as_user(cfg, 0, err, sizeof(err)) == -1 ||
                         ixd_config_check_files(cfg, print_warning, NULL, err, sizeof(err)) == -1)) {
        fprintf(stderr, "%s\n", err);
        goto fail;
    }
    if (!syntax_only && ixd_api_check(&cfg->api, cfg->source, err, sizeof(err)) == -1) {
        fprintf(stderr, "%s\n", err);
        goto fail;
    }
    /* outputs and stages (filters, key files) are checked by their types, as at start */
    in = ixd_instances_conf(cfg, reg, 1, flags, err, sizeof(err));
    if (in == NULL) {
        fprintf(stderr, "%s\n", err);
        goto fail;
    }
    ixd_instances_free(in);
    ixd_config_free(cfg);
    ixd_ie_registry_free(reg);
    fprintf(stderr, "ipfixd: %s is valid%s\n", name, syntax_only ? " (syntax only)" : "");
    return 0;
fail:
    ixd_config_free(cfg);
    ixd_ie_registry_free(reg);
    return 1;
}

/*
 * `ipfixd healthcheck [-c FILE] [--url URL]`: 0 when the running daemon's API answers /ready
 * with 200, 1 otherwise (containers and keepalived track scripts call it).
 */
static int
healthcheck(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"config", required_argument, NULL, 'c'},
        {"url", required_argument, NULL, 'u'},
        {NULL, 0, NULL, 0},
    };
    const char *path = NULL, *url = NULL;
    struct ixd_config *cfg = NULL;
    char err[1024];
    int opt, status;

    while ((opt = getopt_long(argc, argv, "c:u:", longopts, NULL)) != -1) {
        if (opt == 'c') {
            path = optarg;
        } else if (opt == 'u') {
            url = optarg;
        } else {
            fprintf(stderr, "usage: ipfixd healthcheck [-c FILE] [--url URL]\n");
            return 1;
        }
    }
    if (url == NULL) {
        cfg = path != NULL ? ixd_config_load(path, err, sizeof(err)) : ixd_config_builtin();
        if (cfg == NULL) {
            fprintf(stderr, "ipfixd healthcheck: %s\n", err);
            return 1;
        }
    }
    status = ixd_api_healthcheck(cfg != NULL ? &cfg->api : NULL, url, err, sizeof(err));
    if (status != 0) {
        fprintf(stderr, "ipfixd healthcheck: %s\n", err);
    }
    ixd_config_free(cfg);
    return status;
}

int
main(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"config", required_argument, NULL, 'c'},
        {"test", no_argument, NULL, 't'},
        {"syntax-only", no_argument, NULL, 's'},
        {"version", no_argument, NULL, 'V'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *path = NULL;
    struct ixd_config *cfg;
    char err[1024];
    unsigned flags = IXD_CONFIG_DEFAULT;
    int test = 0, opt;

    if (argc >= 2 && strcmp(argv[1], "healthcheck") == 0) {
        return healthcheck(argc - 1, argv + 1);
    }
    if (argc >= 2 && strcmp(argv[1], "clickhouse-schema") == 0) {
        return ixd_cmd_clickhouse_schema(argc - 1, argv + 1);
    }
    if (argc >= 2 && strcmp(argv[1], "convert") == 0) {
        return ixd_convert_main(argc - 1, argv + 1);
    }

    while ((opt = getopt_long(argc, argv, "c:tVh", longopts, NULL)) != -1) {
        switch (opt) {
        case 'c':
            path = optarg;
            break;
        case 't':
            test = 1;
            break;
        case 's':
            flags |= IXD_CONFIG_SYNTAX_ONLY;
            break;
        case 'V':
            printf("ipfixd %s\n", IXD_VERSION);
            return 0;
        case 'h':
            usage(stdout);
            return 0;
        default:
            usage(stderr);
            return 2;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "ipfixd: unexpected argument '%s'\n", argv[optind]);
        usage(stderr);
        return 2;
    }
    if ((flags & IXD_CONFIG_SYNTAX_ONLY) && !test) {
        fprintf(stderr, "ipfixd: --syntax-only goes with -t\n");
        usage(stderr);
        return 2;
    }
    cfg = path != NULL ? ixd_config_load_flags(path, flags, err, sizeof(err)) : ixd_config_builtin();
    if (cfg == NULL) {
        fprintf(stderr, "%s\n", err);
        return 1;
    }
    if (test) {
        return test_config(cfg, path != NULL ? path : "the built-in config", flags);
    }
    return ixd_control_run(cfg, path);
}
