#include "enrich/enrich_snmp.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/cnode.h"
#include "core/parse.h"

/* path as given, or relative to the directory of the config file. */
static int
resolve(const char *path, const char *file, char *out, size_t outlen)
{
    const char *slash = file != NULL ? strrchr(file, '/') : NULL;
    int n;

    if (path[0] == '/' || slash == NULL) {
        n = snprintf(out, outlen, "%s", path);
    } else {
        n = snprintf(out, outlen, "%.*s/%s", (int)(slash - file), file, path);
    }
    return n < 0 || (size_t)n >= outlen ? -1 : 0;
}

/* The community: the file's first line without surrounding blanks. */
static int
read_community(const struct ixd_cnode *n, const struct ixd_stage_env *env, char *community,
               size_t cap, char *err, size_t errlen)
{
    char path[4096], *text = NULL;
    size_t len = 0, a = 0, b;

    if (n == NULL || n->kind != IXD_CNODE_SCALAR || n->text[0] == '\0') {
        return ixd_cnode_fail(n, env->file, err, errlen, "snmp wants community-file: a file name");
    }
    if (resolve(n->text, env->file, path, sizeof(path)) == -1) {
        return ixd_cnode_fail(n, env->file, err, errlen, "the path is too long");
    }
    if (env->syntax_only) {
        snprintf(community, cap, "-");
        return 0;
    }
    if (ixd_read_file(path, 4096, &text, &len) == -1) {
        return ixd_cnode_fail(n, env->file, err, errlen, "cannot read %s: %s", path,
                              ixd_read_error(errno));
    }
    while (a < len && (text[a] == ' ' || text[a] == '\t')) {
        a++;
    }
    for (b = a; b < len && text[b] != '\n' && text[b] != '\r'; b++) {
    }
    while (b > a && (text[b - 1] == ' ' || text[b - 1] == '\t')) {
        b--;
    }
    if (b == a || b - a >= cap) {
        free(text);
        return ixd_cnode_fail(n, env->file, err, errlen,
                              "%s: the community is its first line, 1 to %zu bytes", path, cap - 1);
    }
    memcpy(community, text + a, b - a);
    community[b - a] = '\0';
    free(text);
    return 0;
}

/* One agent: {exporter: address, agent: "host:port"} (agent: the exporter at port 161). */
static int
agent_conf(const struct ixd_cnode *n, const struct ixd_stage_env *env, struct ixd_snmp_agent *a,
           char *err, size_t errlen)
{
    const struct ixd_cnode *e = ixd_cnode_get(n, "exporter"), *peer = ixd_cnode_get(n, "agent");
    struct in_addr v4;
    int k;

    if (n->kind != IXD_CNODE_MAPPING || e == NULL || e->kind != IXD_CNODE_SCALAR) {
        return ixd_cnode_fail(n, env->file, err, errlen,
                              "an agent is {exporter: address, agent: \"host:port\"}");
    }
    memset(&a->exporter, 0, sizeof(a->exporter));
    if (inet_pton(AF_INET, e->text, &v4) == 1) {
        a->exporter.s6_addr[10] = a->exporter.s6_addr[11] = 0xff;
        memcpy(a->exporter.s6_addr + 12, &v4, 4);
    } else if (inet_pton(AF_INET6, e->text, &a->exporter) != 1) {
        return ixd_cnode_fail(e, env->file, err, errlen, "'%s' is not an address", e->text);
    }
    if (peer != NULL && (peer->kind != IXD_CNODE_SCALAR || peer->text[0] == '\0')) {
        return ixd_cnode_fail(peer, env->file, err, errlen, "agent is \"host:port\"");
    }
    k = peer != NULL ? snprintf(a->peer, sizeof(a->peer), "udp:%s", peer->text)
        : strchr(e->text, ':') != NULL
            ? snprintf(a->peer, sizeof(a->peer), "udp6:[%s]:161", e->text)
            : snprintf(a->peer, sizeof(a->peer), "udp:%s:161", e->text);
    if (k < 0 || (size_t)k >= sizeof(a->peer)) {
        return ixd_cnode_fail(n, env->file, err, errlen, "the agent's address is too long");
    }
    return 0;
}

int
ixd_enrich_snmp_conf(const struct ixd_cnode *n, const struct ixd_stage_env *env,
                     struct ixd_enrich_snmp *out, char *err, size_t errlen)
{
    const struct ixd_cnode *agents, *interval;
    char community[sizeof(out->agents->community)];
    size_t i;

    if (n->kind != IXD_CNODE_MAPPING) {
        return ixd_cnode_fail(n, env->file, err, errlen,
                              "snmp wants {community-file: F, agents: [...], interval: S}");
    }
    for (i = 0; i < n->n; i++) {
        const char *k = n->items[2 * i].text;
        if (k == NULL || (strcmp(k, "community-file") != 0 && strcmp(k, "agents") != 0 &&
                          strcmp(k, "interval") != 0)) {
            return ixd_cnode_fail(&n->items[2 * i], env->file, err, errlen,
                                  "snmp knows community-file, agents and interval");
        }
    }
    out->interval = 300;
    interval = ixd_cnode_get(n, "interval");
    if (interval != NULL) {
        uint64_t s;
        if (interval->kind != IXD_CNODE_SCALAR || ixd_parse_u64(interval->text, &s) == -1 ||
            s < 1 || s > 86400) {
            return ixd_cnode_fail(interval, env->file, err, errlen,
                                  "interval is seconds, 1 to 86400");
        }
        out->interval = (double)s;
    }
    if (read_community(ixd_cnode_get(n, "community-file"), env, community, sizeof(community), err,
                       errlen) == -1) {
        return -1;
    }
    agents = ixd_cnode_get(n, "agents");
    if (agents == NULL || agents->kind != IXD_CNODE_SEQUENCE || agents->n == 0 ||
        agents->n > IXD_SNMP_AGENTS_MAX) {
        return ixd_cnode_fail(agents != NULL ? agents : n, env->file, err, errlen,
                              "agents wants a list of 1 to %d agents", IXD_SNMP_AGENTS_MAX);
    }
    out->agents = calloc(agents->n, sizeof(*out->agents));
    if (out->agents == NULL) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    out->n = agents->n;
    for (i = 0; i < agents->n; i++) {
        if (agent_conf(&agents->items[i], env, &out->agents[i], err, errlen) == -1) {
            return -1;
        }
        memcpy(out->agents[i].community, community, sizeof(community));
    }
    return 0;
}
