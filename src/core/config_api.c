/* --- api: the REST API server (src/api/, docs/api.md) --- */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <yaml.h>

#include "core/config.h"
#include "core/config_internal.h"
#include "core/parse.h"

#define API_DEFAULT_LISTEN "127.0.0.1:8080"

void
ixd_cfg_api_defaults(struct ixd_config_api *api)
{
    struct ixd_listen_addr tmp;
    char msg[256];

    memset(api, 0, sizeof(*api));
    api->enabled = 1;
    api->connections = 256;
    api->connections_per_ip = 16;
    api->timeout = 10;
    api->request_timeout = 10;
    api->body_limit = 64 * 1024;
    api->pipeline_role = IXD_API_ROLE_ADMIN;
    memset(&tmp, 0, sizeof(tmp));
    if (ixd_listen_addr_parse(API_DEFAULT_LISTEN, &tmp, msg, sizeof(msg)) == 0) {
        snprintf(api->listen, sizeof(api->listen), "%s", API_DEFAULT_LISTEN);
        api->addr = tmp.addr;
        api->addrlen = tmp.addrlen;
        api->loopback = 1;
    }
}

/* 127.0.0.0/8, ::1 and IPv4-mapped 127.0.0.0/8; a wildcard is not loopback. */
static int
is_loopback(const struct sockaddr_storage *ss, int any_address)
{
    if (any_address) {
        return 0;
    }
    if (ss->ss_family == AF_INET) {
        const struct sockaddr_in *sin = (const struct sockaddr_in *)ss;
        return (ntohl(sin->sin_addr.s_addr) >> 24) == 127;
    }
    if (ss->ss_family == AF_INET6) {
        const struct in6_addr *a = &((const struct sockaddr_in6 *)ss)->sin6_addr;
        return IN6_IS_ADDR_LOOPBACK(a) || (IN6_IS_ADDR_V4MAPPED(a) && a->s6_addr[12] == 127);
    }
    return 0;
}

static int
api_path(struct walk *w, yaml_node_t *v, const char *what, char *dst, size_t dstlen)
{
    const char *s;

    if (ixd_cfg_want_scalar(w, v, what, &s) == -1) {
        return -1;
    }
    if (s[0] == '\0' || strlen(s) >= dstlen) {
        return ixd_cfg_fail(w, v, "%s must be a file name of 1 to %zu characters", what,
                            dstlen - 1);
    }
    memcpy(dst, s, strlen(s) + 1);
    return 0;
}

/* --- api.auth: static bearer tokens and JWTs (docs/api.md#auth) --- */

static const char *const role_names[] = {"none", "reader", "operator", "admin"};

const char *
ixd_config_api_role_name(enum ixd_api_role role)
{
    return (unsigned)role < sizeof(role_names) / sizeof(role_names[0]) ? role_names[role] : "?";
}

static int
get_role(struct walk *w, const yaml_node_t *v, const char *what, int allow_none,
         enum ixd_api_role *out)
{
    const char *s;
    unsigned i;

    if (ixd_cfg_want_scalar(w, v, what, &s) == -1) {
        return -1;
    }
    for (i = allow_none ? 0 : 1; i < sizeof(role_names) / sizeof(role_names[0]); i++) {
        if (strcmp(s, role_names[i]) == 0) {
            *out = (enum ixd_api_role)i;
            return 0;
        }
    }
    return ixd_cfg_fail(w, v, "%s must be reader, operator or admin%s, not '%s'", what,
                        allow_none ? " (or none)" : "", s);
}

static int
get_sha256(struct walk *w, const yaml_node_t *v, const char *what, uint8_t *out)
{
    const char *s;
    size_t i;

    if (ixd_cfg_want_scalar(w, v, what, &s) == -1) {
        return -1;
    }
    if (strlen(s) != 2 * IXD_API_TOKEN_HASH_LEN) {
        goto bad;
    }
    for (i = 0; i < IXD_API_TOKEN_HASH_LEN; i++) {
        int hi = ixd_hex_digit(s[2 * i]), lo = ixd_hex_digit(s[2 * i + 1]);
        if (hi < 0 || lo < 0) {
            goto bad;
        }
        out[i] = (uint8_t)(hi << 4 | lo);
    }
    return 0;
bad:
    return ixd_cfg_fail(w, v,
                        "%s must be the 64 hex digits of the token's SHA-256 (printf %%s TOKEN | "
                        "sha256sum), not the token itself",
                        what);
}

static int
token_key(struct walk *w, const char *key, yaml_node_t *k, yaml_node_t *v, void *ctx)
{
    struct ixd_config_api_token *t = ctx;

    if (strcmp(key, "name") == 0) {
        return ixd_cfg_copy_name(w, v, "api.auth.tokens name", t->name, sizeof(t->name));
    }
    if (strcmp(key, "role") == 0) {
        return get_role(w, v, "api.auth.tokens role", 0, &t->role);
    }
    if (strcmp(key, "sha256") == 0) {
        return get_sha256(w, v, "api.auth.tokens sha256", t->sha256);
    }
    return ixd_cfg_fail(w, k, "unknown key '%s' in an api.auth token (known: name, role, sha256)",
                        key);
}

static int
parse_tokens(struct walk *w, yaml_node_t *seq, struct ixd_config_api_auth *auth)
{
    yaml_node_item_t *it;
    size_t i;

    if (ixd_cfg_want_sequence(w, seq, "api.auth.tokens") == -1) {
        return -1;
    }
    for (it = seq->data.sequence.items.start; it < seq->data.sequence.items.top; it++) {
        yaml_node_t *m = ixd_cfg_node(w, *it);
        struct ixd_config_api_token *t = &auth->tokens[auth->n_tokens];

        if (auth->n_tokens == IXD_API_TOKENS_MAX) {
            return ixd_cfg_fail(w, m, "api.auth.tokens: at most %d tokens", IXD_API_TOKENS_MAX);
        }
        memset(t, 0, sizeof(*t));
        if (ixd_cfg_want_mapping(w, m, "an api.auth token") == -1 ||
            ixd_cfg_each_key(w, m, token_key, t) == -1) {
            return -1;
        }
        if (t->name[0] == '\0' || t->role == IXD_API_ROLE_NONE) {
            return ixd_cfg_fail(w, m, "an api.auth token needs a name, a role and a sha256");
        }
        for (i = 0; i < IXD_API_TOKEN_HASH_LEN && t->sha256[i] == 0; i++) {
        }
        if (i == IXD_API_TOKEN_HASH_LEN) {
            return ixd_cfg_fail(w, m, "an api.auth token needs a name, a role and a sha256");
        }
        for (i = 0; i < auth->n_tokens; i++) {
            if (strcmp(auth->tokens[i].name, t->name) == 0) {
                return ixd_cfg_fail(w, m, "api.auth token name '%s' is used twice", t->name);
            }
            if (memcmp(auth->tokens[i].sha256, t->sha256, sizeof(t->sha256)) == 0) {
                return ixd_cfg_fail(w, m, "api.auth tokens '%s' and '%s' are the same token",
                                    auth->tokens[i].name, t->name);
            }
        }
        auth->n_tokens++;
    }
    return 0;
}

/* Reads the JWKS now, so that -t and a reload find a missing file and a reload notices new keys
 * (its digest); the API parses it (ixd_api_check, src/api/auth.c), as the one that uses it. */
static int
jwks_file(struct walk *w, yaml_node_t *v, struct ixd_config_api_jwt *jwt)
{
    char *text = NULL;
    size_t len = 0, i;
    uint64_t h = 1469598103934665603ULL;

    if (api_path(w, v, "api.auth.jwt.jwks-file", jwt->jwks_file, sizeof(jwt->jwks_file)) == -1) {
        return -1;
    }
    jwt->jwks_line = (unsigned)v->start_mark.line + 1;
    jwt->jwks_column = (unsigned)v->start_mark.column + 1;
    if (w->flags & IXD_CONFIG_SYNTAX_ONLY) {
        return 0; /* the file is on the machine the config is for */
    }
    if (ixd_read_file(jwt->jwks_file, 1 << 20, &text, &len) == -1) {
        return ixd_cfg_fail(w, v, "cannot read api.auth.jwt.jwks-file %s: %s", jwt->jwks_file,
                            errno == EFBIG ? "larger than 1 MiB" : ixd_read_error(errno));
    }
    for (i = 0; i < len; i++) {
        h = (h ^ (unsigned char)text[i]) * 1099511628211ULL;
    }
    free(text);
    jwt->jwks_digest = h;
    return 0;
}

static int
jwt_string(struct walk *w, yaml_node_t *v, const char *what, char *dst, size_t dstlen)
{
    const char *s;

    if (ixd_cfg_want_scalar(w, v, what, &s) == -1) {
        return -1;
    }
    if (s[0] == '\0' || strlen(s) >= dstlen) {
        return ixd_cfg_fail(w, v, "%s must be 1 to %zu characters", what, dstlen - 1);
    }
    memcpy(dst, s, strlen(s) + 1);
    return 0;
}

static int
jwt_key(struct walk *w, const char *key, yaml_node_t *k, yaml_node_t *v, void *ctx)
{
    struct ixd_config_api_jwt *jwt = ctx;

    if (strcmp(key, "jwks-file") == 0) {
        return jwks_file(w, v, jwt);
    }
    if (strcmp(key, "issuer") == 0) {
        return jwt_string(w, v, "api.auth.jwt.issuer", jwt->issuer, sizeof(jwt->issuer));
    }
    if (strcmp(key, "audience") == 0) {
        return jwt_string(w, v, "api.auth.jwt.audience", jwt->audience, sizeof(jwt->audience));
    }
    if (strcmp(key, "role-claim") == 0) {
        return jwt_string(w, v, "api.auth.jwt.role-claim", jwt->role_claim,
                          sizeof(jwt->role_claim));
    }
    if (strcmp(key, "default-role") == 0) {
        return get_role(w, v, "api.auth.jwt.default-role", 1, &jwt->default_role);
    }
    if (strcmp(key, "leeway") == 0) {
        if (ixd_cfg_get_duration(w, v, "api.auth.jwt.leeway", &jwt->leeway) == -1) {
            return -1;
        }
        return jwt->leeway > 600 ? ixd_cfg_fail(w, v, "api.auth.jwt.leeway must be at most 10m")
                                 : 0;
    }
    return ixd_cfg_fail(w, k,
                        "unknown key '%s' in api.auth.jwt (known: jwks-file, issuer, audience, "
                        "role-claim, default-role, leeway)",
                        key);
}

static int
parse_jwt(struct walk *w, yaml_node_t *v, struct ixd_config_api_jwt *jwt)
{
    memset(jwt, 0, sizeof(*jwt));
    snprintf(jwt->role_claim, sizeof(jwt->role_claim), "%s", "ipfixd_role");
    jwt->leeway = 30;
    if (ixd_cfg_want_mapping(w, v, "api.auth.jwt") == -1 ||
        ixd_cfg_each_key(w, v, jwt_key, jwt) == -1) {
        return -1;
    }
    if (jwt->jwks_file[0] == '\0' || jwt->issuer[0] == '\0' || jwt->audience[0] == '\0') {
        return ixd_cfg_fail(w, v,
                            "api.auth.jwt needs jwks-file, issuer and audience (tokens are checked "
                            "against all three)");
    }
    jwt->enabled = 1;
    return 0;
}

static int
auth_key(struct walk *w, const char *key, yaml_node_t *k, yaml_node_t *v, void *ctx)
{
    struct ixd_config_api_auth *auth = ctx;

    if (strcmp(key, "tokens") == 0) {
        return parse_tokens(w, v, auth);
    }
    if (strcmp(key, "jwt") == 0) {
        return parse_jwt(w, v, &auth->jwt);
    }
    return ixd_cfg_fail(w, k, "unknown key '%s' in api.auth (known: tokens, jwt)", key);
}

static int
parse_auth(struct walk *w, yaml_node_t *v, struct ixd_config_api_auth *auth)
{
    memset(auth, 0, sizeof(*auth));
    if (ixd_cfg_want_mapping(w, v, "api.auth") == -1 ||
        ixd_cfg_each_key(w, v, auth_key, auth) == -1) {
        return -1;
    }
    if (auth->n_tokens == 0 && !auth->jwt.enabled) {
        return ixd_cfg_fail(
            w, v, "api.auth needs tokens or jwt (leave auth out for an API without auth)");
    }
    auth->enabled = 1;
    return 0;
}

/* api.writes: off, runtime or persist (docs/api.md#config). */
static int
parse_writes(struct walk *w, yaml_node_t *v, struct ixd_config_api *api)
{
    static const char *const modes[] = {"off", "runtime", "persist"};
    const char *s;

    if (ixd_cfg_want_scalar(w, v, "api.writes", &s) == -1) {
        return -1;
    }
    api->writes_line = (unsigned)v->start_mark.line + 1;
    api->writes_column = (unsigned)v->start_mark.column + 1;
    for (size_t i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
        if (strcmp(s, modes[i]) == 0) {
            api->writes = (enum ixd_api_writes)i;
            return 0;
        }
    }
    return ixd_cfg_fail(w, v, "api.writes must be off, runtime or persist, not '%s'", s);
}

/* The keys of the config's writes: writes, pipeline-writes, audit-log (docs/api.md#config). */
static int
writes_key(struct walk *w, const char *key, yaml_node_t *v, struct ixd_config_api *api)
{
    const char *s;

    if (strcmp(key, "writes") == 0) {
        return parse_writes(w, v, api);
    }
    if (strcmp(key, "pipeline-writes") == 0) {
        if (ixd_cfg_want_scalar(w, v, "api.pipeline-writes", &s) == -1) {
            return -1;
        }
        if (strcmp(s, "admin") != 0 && strcmp(s, "operator") != 0) {
            return ixd_cfg_fail(w, v, "api.pipeline-writes must be admin or operator, not '%s'", s);
        }
        api->pipeline_role = s[0] == 'a' ? IXD_API_ROLE_ADMIN : IXD_API_ROLE_OPERATOR;
        return 0;
    }
    return api_path(w, v, "api.audit-log", api->audit_log, sizeof(api->audit_log)) == -1
               ? -1
               : ixd_cfg_note_file(w, v, IXD_FILE_WRITE, "api.audit-log", api->audit_log);
}

static int
api_key(struct walk *w, const char *key, yaml_node_t *k, yaml_node_t *v, void *ctx)
{
    struct ixd_config_api *api = ctx;
    const char *s;

    if (strcmp(key, "enabled") == 0) {
        return ixd_cfg_get_bool(w, v, "api.enabled", &api->enabled);
    }
    if (strcmp(key, "listen") == 0) {
        struct ixd_listen_addr tmp;
        char msg[256];

        if (ixd_cfg_want_scalar(w, v, "api.listen", &s) == -1) {
            return -1;
        }
        memset(&tmp, 0, sizeof(tmp));
        if (ixd_listen_addr_parse(s, &tmp, msg, sizeof(msg)) == -1) {
            return ixd_cfg_fail(w, v, "api.listen: %s", msg);
        }
        snprintf(api->listen, sizeof(api->listen), "%s", s);
        api->addr = tmp.addr;
        api->addrlen = tmp.addrlen;
        api->loopback = is_loopback(&tmp.addr, tmp.any);
        return 0;
    }
    if (strcmp(key, "connections") == 0) {
        return ixd_cfg_get_u32(w, v, "api.connections", 1, 65536, &api->connections);
    }
    if (strcmp(key, "connections-per-ip") == 0) {
        return ixd_cfg_get_u32(w, v, "api.connections-per-ip", 1, 65536, &api->connections_per_ip);
    }
    if (strcmp(key, "timeout") == 0) {
        if (ixd_cfg_get_duration(w, v, "api.timeout", &api->timeout) == -1) {
            return -1;
        }
        return api->timeout == 0 ? ixd_cfg_fail(w, v, "api.timeout must be at least 1s") : 0;
    }
    if (strcmp(key, "request-timeout") == 0) {
        if (ixd_cfg_get_duration(w, v, "api.request-timeout", &api->request_timeout) == -1) {
            return -1;
        }
        return api->request_timeout == 0 || api->request_timeout > 3600
                   ? ixd_cfg_fail(w, v, "api.request-timeout must be 1s to 1h")
                   : 0;
    }
    if (strcmp(key, "body-limit") == 0) {
        return ixd_cfg_get_size(w, v, "api.body-limit", &api->body_limit);
    }
    if (strcmp(key, "certificate") == 0) {
        return api_path(w, v, "api.certificate", api->certificate, sizeof(api->certificate)) == -1
                   ? -1
                   : ixd_cfg_note_file(w, v, IXD_FILE_READ, "api.certificate", api->certificate);
    }
    if (strcmp(key, "key") == 0) {
        return api_path(w, v, "api.key", api->key, sizeof(api->key)) == -1
                   ? -1
                   : ixd_cfg_note_secret(w, v, "api.key", api->key, 0, 0);
    }
    if (strcmp(key, "auth") == 0) {
        return parse_auth(w, v, &api->auth);
    }
    if (strcmp(key, "writes") == 0 || strcmp(key, "pipeline-writes") == 0 ||
        strcmp(key, "audit-log") == 0) {
        return writes_key(w, key, v, api);
    }
    return ixd_cfg_fail(w, k,
                        "unknown key '%s' in api (known: enabled, listen, connections, "
                        "connections-per-ip, timeout, request-timeout, body-limit, certificate, "
                        "key, auth, writes, pipeline-writes, audit-log)",
                        key);
}

int
ixd_cfg_parse_api(struct walk *w, yaml_node_t *v)
{
    struct ixd_config_api *api = &w->cfg->api;
    const char *s = ixd_cfg_scalar(v);

    if (s != NULL && s[0] == '\0') {
        return 0; /* "api:" alone keeps the defaults */
    }
    if (ixd_cfg_want_mapping(w, v, "api") == -1 || ixd_cfg_each_key(w, v, api_key, api) == -1) {
        return -1;
    }
    if ((api->certificate[0] != '\0') != (api->key[0] != '\0')) {
        return ixd_cfg_fail(w, v, "api needs both certificate and key for HTTPS, or neither");
    }
    /* writes always need a token (docs/api.md#auth): without auth none could be made */
    if (api->writes != IXD_API_WRITES_OFF && !api->auth.enabled) {
        return ixd_cfg_fail(w, v,
                            "api.writes needs api.auth: a config write always needs a token "
                            "(tokens or jwt with the role admin, docs/api.md#auth)");
    }
    /* Without auth, whoever reaches the port reads everything: keep it on this host. */
    if (api->enabled && !api->loopback && !api->auth.enabled) {
        return ixd_cfg_fail(
            w, v,
            "api.listen %s is beyond loopback without auth: configure api.auth "
            "(tokens or jwt, docs/api.md#auth), listen on 127.0.0.1 or [::1], or set "
            "enabled: false",
            api->listen);
    }
    return 0;
}

static int
api_jwt_same(const struct ixd_config_api_jwt *a, const struct ixd_config_api_jwt *b)
{
    return a->enabled == b->enabled && strcmp(a->jwks_file, b->jwks_file) == 0 &&
           a->jwks_digest == b->jwks_digest && strcmp(a->issuer, b->issuer) == 0 &&
           strcmp(a->audience, b->audience) == 0 && strcmp(a->role_claim, b->role_claim) == 0 &&
           a->default_role == b->default_role && a->leeway == b->leeway;
}

static int
api_auth_same(const struct ixd_config_api_auth *a, const struct ixd_config_api_auth *b)
{
    size_t i;

    if (a->enabled != b->enabled || a->n_tokens != b->n_tokens || !api_jwt_same(&a->jwt, &b->jwt)) {
        return 0;
    }
    for (i = 0; i < a->n_tokens; i++) {
        if (strcmp(a->tokens[i].name, b->tokens[i].name) != 0 ||
            a->tokens[i].role != b->tokens[i].role ||
            memcmp(a->tokens[i].sha256, b->tokens[i].sha256, IXD_API_TOKEN_HASH_LEN) != 0) {
            return 0;
        }
    }
    return 1;
}

int
ixd_config_api_same(const struct ixd_config_api *a, const struct ixd_config_api *b)
{
    return a->enabled == b->enabled && strcmp(a->listen, b->listen) == 0 &&
           a->connections == b->connections && a->connections_per_ip == b->connections_per_ip &&
           a->timeout == b->timeout && a->request_timeout == b->request_timeout &&
           a->body_limit == b->body_limit && strcmp(a->certificate, b->certificate) == 0 &&
           strcmp(a->key, b->key) == 0 && api_auth_same(&a->auth, &b->auth) &&
           a->writes == b->writes && a->pipeline_role == b->pipeline_role &&
           strcmp(a->audit_log, b->audit_log) == 0 &&
           memcmp(&a->keepalived, &b->keepalived, sizeof(a->keepalived)) == 0;
}
