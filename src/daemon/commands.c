#include "daemon/commands.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "core/config.h"
#include "ipfix/ie.h"
#include "output/clickhouse.h"
#include "registry/registry.h"

#define SCHEMA_USAGE                                                                               \
    "usage: ipfixd clickhouse-schema -c FILE [--output NAME] [--server-version VERSION]\n"

/* One output's statements: the types follow the server's version, asked for unless given. */
static void
print_schema(const struct ixd_output_conf *oc, const char *name, const char *version)
{
    char asked[64], why[256];

    if (version == NULL) {
        if (ixd_clickhouse_version(oc->settings, asked, sizeof(asked), why, sizeof(why)) == 0) {
            version = asked;
            printf("-- output %s: ClickHouse %s\n", name, version);
        } else {
            printf("-- output %s: the server did not tell its version (%s): types that "
                   "ClickHouse 18.16 and later have\n",
                   name, why);
        }
    } else {
        printf("-- output %s: ClickHouse %s\n", name, version);
    }
    ixd_clickhouse_schema(oc->settings, version, stdout);
}

int
ixd_cmd_clickhouse_schema(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"config", required_argument, NULL, 'c'},
        {"output", required_argument, NULL, 'o'},
        {"server-version", required_argument, NULL, 'v'},
        {NULL, 0, NULL, 0},
    };
    const char *path = NULL, *only = NULL, *version = NULL;
    struct ixd_ie_registry *reg = NULL;
    struct ixd_instances *in = NULL;
    struct ixd_config *cfg = NULL;
    char err[1024];
    int opt, found = 0, status = 1;

    while ((opt = getopt_long(argc, argv, "c:o:v:", longopts, NULL)) != -1) {
        if (opt == 'c') {
            path = optarg;
        } else if (opt == 'o') {
            only = optarg;
        } else if (opt == 'v') {
            version = optarg;
        } else {
            fprintf(stderr, SCHEMA_USAGE);
            return 2;
        }
    }
    if (path == NULL || optind < argc) {
        fprintf(stderr, SCHEMA_USAGE);
        return 2;
    }
    cfg = ixd_config_load(path, err, sizeof(err));
    reg = cfg != NULL ? ixd_ie_registry_new(NULL, 0, err, sizeof(err)) : NULL;
    in = reg != NULL ? ixd_instances_conf(cfg, reg, 1, IXD_CONFIG_DEFAULT, err, sizeof(err)) : NULL;
    if (in == NULL) {
        fprintf(stderr, "ipfixd clickhouse-schema: %s\n", err);
        goto done;
    }
    for (size_t i = 0; i < in->n_outputs; i++) {
        const char *name = cfg->outputs[i].name;
        if (in->outputs[i].type != &ixd_output_clickhouse ||
            (only != NULL && strcmp(only, name) != 0)) {
            continue;
        }
        printf("%s", found++ > 0 ? "\n" : "");
        print_schema(&in->outputs[i], name, version);
    }
    if (found == 0) {
        fprintf(stderr, "ipfixd clickhouse-schema: %s has no clickhouse output%s%s\n", path,
                only != NULL ? " named " : "", only != NULL ? only : "");
        goto done;
    }
    status = 0;
done:
    ixd_instances_free(in);
    ixd_ie_registry_free(reg);
    ixd_config_free(cfg);
    return status;
}
