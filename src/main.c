/* ipfixd: command line, then the control thread takes over. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/config.h"
#include "daemon/control.h"
#include "ipfix/ie.h"
#include "pipeline/pipeline.h"

static void
usage(FILE *out)
{
    fprintf(out, "usage: ipfixd [-c FILE] [-t] [-V] [-h]\n"
                 "  -c, --config FILE  run with this config (default: the built-in one:\n"
                 "                     IPFIX on UDP and TCP port 4739, JSON lines to stdout)\n"
                 "  -t, --test         check the config and exit (non-zero on errors)\n"
                 "  -V, --version      print the version\n"
                 "  -h, --help         print this help\n"
                 "signals: HUP reloads the config and reopens output files, TERM/INT stop,\n"
                 "         USR1 logs a summary per collector\n");
}

/* -t: the config, and the information-element files it names, must load. */
static int
test_config(struct ixd_config *cfg, const char *name)
{
    struct ixd_ie_registry *reg;
    char err[1024];

    reg = ixd_ie_registry_new(cfg->element_files, cfg->n_element_files, err, sizeof(err));
    if (reg == NULL) {
        ixd_config_free(cfg);
        fprintf(stderr, "%s:0:0: %s\n", name, err);
        return 1;
    }
    /* stage settings (filters, key files) are checked as the daemon would check them */
    if (ixd_pipelines_check(cfg, reg, 1, NULL, err, sizeof(err)) == -1) {
        ixd_config_free(cfg);
        ixd_ie_registry_free(reg);
        fprintf(stderr, "%s\n", err);
        return 1;
    }
    ixd_config_free(cfg);
    ixd_ie_registry_free(reg);
    fprintf(stderr, "ipfixd: %s is valid\n", name);
    return 0;
}

int
main(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"config", required_argument, NULL, 'c'},
        {"test", no_argument, NULL, 't'},
        {"version", no_argument, NULL, 'V'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *path = NULL;
    struct ixd_config *cfg;
    char err[1024];
    int test = 0, opt;

    while ((opt = getopt_long(argc, argv, "c:tVh", longopts, NULL)) != -1) {
        switch (opt) {
        case 'c':
            path = optarg;
            break;
        case 't':
            test = 1;
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
    cfg = path != NULL ? ixd_config_load(path, err, sizeof(err)) : ixd_config_builtin();
    if (cfg == NULL) {
        fprintf(stderr, "%s\n", err);
        return 1;
    }
    if (test) {
        return test_config(cfg, path != NULL ? path : "the built-in config");
    }
    return ixd_control_run(cfg, path);
}
