#include "enrich/enrich_snmp.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/cnode.h"
#include "core/parse.h"

/* A secret (the community, a passphrase): the first line of the file that key of settings
 * names, without surrounding blanks, min to cap - 1 bytes. */
static int
read_secret(const struct ixd_cnode *settings, const char *key, size_t min,
            const struct ixd_stage_env *env, char *secret, size_t cap, char *err, size_t errlen)
{
    const struct ixd_cnode *n = ixd_cnode_get(settings, key);
    char path[4096], *text = NULL;
    size_t len = 0, a = 0, b;

    if (n == NULL || n->kind != IXD_CNODE_SCALAR || n->text[0] == '\0') {
        return ixd_cnode_fail(n != NULL ? n : settings, env->file, err, errlen,
                              "snmp wants %s: a file name", key);
    }
    if (ixd_cnode_path(n->text, env->file, path, sizeof(path)) == -1) {
        return ixd_cnode_fail(n, env->file, err, errlen, "the path is too long");
    }
    if (env->syntax_only) {
        snprintf(secret, cap, "syntax-only"); /* not read: ipfixd -t --syntax-only */
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
    if (b - a < min || b - a >= cap) {
        free(text);
        return ixd_cnode_fail(n, env->file, err, errlen,
                              "%s: the secret is its first line, %zu to %zu bytes", path, min,
                              cap - 1);
    }
    memcpy(secret, text + a, b - a);
    secret[b - a] = '\0';
    free(text);
    return 0;
}

/* version 2c: the community; version 3: the user and the passphrases (USM wants 8 bytes or
 * more). */
static int
credentials(const struct ixd_cnode *n, const struct ixd_stage_env *env, struct ixd_snmp_agent *a,
            char *err, size_t errlen)
{
    const struct ixd_cnode *v = ixd_cnode_get(n, "version"), *user = ixd_cnode_get(n, "user");

    memset(a, 0, sizeof(*a));
    if (v != NULL && (v->kind != IXD_CNODE_SCALAR ||
                      (strcmp(v->text, "2c") != 0 && strcmp(v->text, "3") != 0))) {
        return ixd_cnode_fail(v, env->file, err, errlen, "version is 2c or 3");
    }
    a->version = v != NULL && strcmp(v->text, "3") == 0 ? 3 : 2;
    if (a->version == 2) {
        return read_secret(n, "community-file", 1, env, a->community, sizeof(a->community), err,
                           errlen);
    }
    if (user == NULL || user->kind != IXD_CNODE_SCALAR || user->text[0] == '\0' ||
        strlen(user->text) >= sizeof(a->user)) {
        return ixd_cnode_fail(user != NULL ? user : n, env->file, err, errlen,
                              "version 3 wants user: a name of 1 to %zu bytes",
                              sizeof(a->user) - 1);
    }
    memcpy(a->user, user->text, strlen(user->text) + 1);
    if (read_secret(n, "auth-file", 8, env, a->auth, sizeof(a->auth), err, errlen) == -1) {
        return -1;
    }
    return ixd_cnode_get(n, "priv-file") == NULL
               ? 0
               : read_secret(n, "priv-file", 8, env, a->priv, sizeof(a->priv), err, errlen);
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

/* Whether k is a key of the snmp settings. */
static int
known_key(const char *k)
{
    static const char *const keys[] = {"version",   "community-file", "user",    "auth-file",
                                       "priv-file", "agents",         "interval"};
    size_t i;

    for (i = 0; k != NULL && i < sizeof(keys) / sizeof(keys[0]); i++) {
        if (strcmp(k, keys[i]) == 0) {
            return 1;
        }
    }
    return 0;
}

int
ixd_enrich_snmp_conf(const struct ixd_cnode *n, const struct ixd_stage_env *env,
                     struct ixd_enrich_snmp *out, char *err, size_t errlen)
{
    const struct ixd_cnode *agents, *interval;
    struct ixd_snmp_agent proto;
    size_t i;

    if (n->kind != IXD_CNODE_MAPPING) {
        return ixd_cnode_fail(n, env->file, err, errlen,
                              "snmp wants {community-file: F, agents: [...], interval: S}");
    }
    for (i = 0; i < n->n; i++) {
        if (!known_key(n->items[2 * i].text)) {
            return ixd_cnode_fail(&n->items[2 * i], env->file, err, errlen,
                                  "snmp knows version, community-file, user, auth-file, "
                                  "priv-file, agents and interval");
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
    if (credentials(n, env, &proto, err, errlen) == -1) {
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
        struct ixd_snmp_agent *a = &out->agents[i];
        *a = proto;
        if (agent_conf(&agents->items[i], env, a, err, errlen) == -1) {
            return -1;
        }
    }
    return 0;
}
