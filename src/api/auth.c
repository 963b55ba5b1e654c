/*
 * Auth of the API (docs/api.md#auth): the routes and the role each needs, static bearer tokens
 * (kept as SHA-256 hashes) and JWTs checked against a JWKS. Cryptography goes through
 * src/crypto/jwt.h; nothing here calls OpenSSL. Requests are checked on the server thread only;
 * an api_auth is immutable once made.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "api/api.h"
#include "api/internal.h"
#include "core/parse.h"
#include "crypto/jwt.h"

#define JWKS_MAX_BYTES (1 << 20)

/*
 * Every route and what it needs. A new route goes here with its access and methods; one that
 * forgets its access gets API_DENY and answers 403 to everyone; the last field is the role of
 * writes (PUT and such), API_DENY for a route that takes none.
 */
const struct api_route api_routes[] = {
    {"/health", 0, API_METHOD_GET, API_PUBLIC, API_H_HEALTH, API_DENY},
    {"/ready", 0, API_METHOD_GET, API_PUBLIC, API_H_READY, API_DENY},
    {"/metrics", 0, API_METHOD_GET, API_READER, API_H_METRICS, API_DENY},
    {"/", 0, API_METHOD_GET, API_READER, API_H_INDEX, API_DENY},
    /* the dashboard's static files: its data comes from the API, with the user's token */
    {API_DASHBOARD_PREFIX, 1, API_METHOD_GET, API_PUBLIC, API_H_DASHBOARD, API_DENY},
    /* before the subtree of API_PREFIX, which would match them first */
    {API_PREFIX "/ha/keepalived", 0, API_METHOD_GET, API_READER, API_H_KEEPALIVED, API_DENY},
    {API_PREFIX "/ha/keepalived/include", 0, API_METHOD_GET | API_METHOD_PUT, API_READER,
     API_H_KEEPALIVED, API_ADMIN},
    /* the config may hold credentials (a sink's password): the operator reads it; writes
     * need the role config.c asks for each (admin, or operator for pipelines) */
    {API_PREFIX "/config", 1,
     API_METHOD_GET | API_METHOD_POST | API_METHOD_PUT | API_METHOD_PATCH | API_METHOD_DELETE,
     API_OPERATOR, API_H_CONFIG, API_OPERATOR},
    {API_PREFIX, 1, API_METHOD_GET, API_READER, API_H_RESOURCES, API_DENY},
};
const size_t api_n_routes = sizeof(api_routes) / sizeof(api_routes[0]);

struct api_auth {
    const struct ixd_config_api_auth *cfg; /* the server's own copy: outlives this */
    struct ixd_jwks *jwks;                 /* NULL without jwt */
};

const struct api_route *
api_route_find(const struct api_route *table, size_t n, const char *path)
{
    size_t i;

    if (table == NULL) {
        table = api_routes;
        n = api_n_routes;
    }
    for (i = 0; i < n; i++) {
        size_t len = strlen(table[i].path);
        if (strcmp(path, table[i].path) == 0 ||
            (table[i].subtree && strncmp(path, table[i].path, len) == 0 && path[len] == '/')) {
            return &table[i];
        }
    }
    return NULL;
}

unsigned
api_method_bit(const char *method)
{
    static const struct {
        const char *name;
        unsigned bit;
    } methods[] = {
        {"GET", API_METHOD_GET}, {"HEAD", API_METHOD_GET},    {"POST", API_METHOD_POST},
        {"PUT", API_METHOD_PUT}, {"PATCH", API_METHOD_PATCH}, {"DELETE", API_METHOD_DELETE},
    };
    size_t i;

    for (i = 0; i < sizeof(methods) / sizeof(methods[0]); i++) {
        if (strcmp(method, methods[i].name) == 0) {
            return methods[i].bit;
        }
    }
    return 0;
}

const char *
api_access_name(enum api_access need)
{
    switch (need) {
    case API_PUBLIC:
        return "public";
    case API_READER:
        return "reader";
    case API_OPERATOR:
        return "operator";
    case API_ADMIN:
        return "admin";
    default:
        return "deny";
    }
}

static enum ixd_api_role
role_needed(enum api_access need)
{
    switch (need) {
    case API_READER:
        return IXD_API_ROLE_READER;
    case API_OPERATOR:
        return IXD_API_ROLE_OPERATOR;
    default:
        return IXD_API_ROLE_ADMIN;
    }
}

int
api_authorize(enum api_access need, int auth_on, const struct api_identity *who)
{
    if (need == API_DENY) {
        return 403;
    }
    if (need == API_PUBLIC || !auth_on) {
        return 0;
    }
    if (who == NULL || !who->authenticated) {
        return 401;
    }
    return who->role >= role_needed(need) ? 0 : 403;
}

struct api_auth *
api_auth_new(const struct ixd_config_api_auth *cfg, char *err, size_t errlen)
{
    struct api_auth *a = calloc(1, sizeof(*a));
    char msg[384];
    char *text = NULL;
    size_t len = 0;

    if (a == NULL) {
        snprintf(err, errlen, "api: out of memory");
        return NULL;
    }
    a->cfg = cfg;
    if (!cfg->jwt.enabled) {
        return a;
    }
    if (ixd_read_file(cfg->jwt.jwks_file, JWKS_MAX_BYTES, &text, &len) == -1) {
        snprintf(err, errlen, "api: cannot read the JWKS %s", cfg->jwt.jwks_file);
        goto fail;
    }
    a->jwks = ixd_jwks_parse(text, len, msg, sizeof(msg));
    free(text);
    if (a->jwks == NULL) {
        snprintf(err, errlen, "api: JWKS %s: %s", cfg->jwt.jwks_file, msg);
        goto fail;
    }
    return a;
fail:
    api_auth_free(a);
    return NULL;
}

void
api_auth_free(struct api_auth *a)
{
    if (a == NULL) {
        return;
    }
    ixd_jwks_free(a->jwks);
    free(a);
}

/* RFC 7235 token68: what a bearer token may be made of. */
static int
is_token68(const char *s, size_t len)
{
    size_t i = 0;

    while (i < len &&
           (strchr("-._~+/", s[i]) != NULL || (s[i] >= 'a' && s[i] <= 'z') ||
            (s[i] >= 'A' && s[i] <= 'Z') || (s[i] >= '0' && s[i] <= '9')) &&
           s[i] != '\0') {
        i++;
    }
    if (i == 0) {
        return 0;
    }
    while (i < len && s[i] == '=') {
        i++;
    }
    return i == len;
}

/* A static token: every hash is compared (in constant time), so timing tells nothing. */
static const struct ixd_config_api_token *
find_token(const struct ixd_config_api_auth *cfg, const char *token, size_t len)
{
    const struct ixd_config_api_token *found = NULL;
    uint8_t h[IXD_TOKEN_HASH_LEN];
    size_t i;

    if (cfg->n_tokens == 0 || ixd_token_sha256(token, len, h) == -1) {
        return NULL;
    }
    for (i = 0; i < cfg->n_tokens; i++) {
        if (ixd_token_hash_equal(h, cfg->tokens[i].sha256)) {
            found = &cfg->tokens[i];
        }
    }
    return found;
}

static enum ixd_api_role
role_of(const char *s)
{
    int r;

    for (r = IXD_API_ROLE_READER; r <= IXD_API_ROLE_ADMIN; r++) {
        if (strcmp(s, ixd_config_api_role_name((enum ixd_api_role)r)) == 0) {
            return (enum ixd_api_role)r;
        }
    }
    return IXD_API_ROLE_NONE;
}

/*
 * The role a JWT's claims give: the claim at path (dots go into nested objects, as Hydra puts
 * its extra claims under "ext"), a role name or an array of them (the highest counts); the
 * default role when the claim is absent.
 */
static enum ixd_api_role
claims_role(const json_t *claims, const struct ixd_config_api_jwt *jwt)
{
    const json_t *v = claims;
    enum ixd_api_role best = IXD_API_ROLE_NONE;
    const char *p = jwt->role_claim;
    char part[sizeof(jwt->role_claim)];
    size_t i;

    while (v != NULL && *p != '\0') {
        const char *dot = strchr(p, '.');
        size_t len = dot != NULL ? (size_t)(dot - p) : strlen(p);
        memcpy(part, p, len);
        part[len] = '\0';
        v = json_object_get(v, part);
        p += len + (dot != NULL);
    }
    if (v == NULL) {
        return jwt->default_role;
    }
    if (json_is_string(v)) {
        return role_of(json_string_value(v));
    }
    for (i = 0; json_is_array(v) && i < json_array_size(v); i++) {
        const char *s = json_string_value(json_array_get(v, i));
        enum ixd_api_role r = s != NULL ? role_of(s) : IXD_API_ROLE_NONE;
        if (r > best) {
            best = r;
        }
    }
    return best;
}

static int
identify_jwt(const struct api_auth *a, const char *token, size_t len, int64_t now,
             struct api_identity *who, char *detail, size_t detaillen)
{
    const struct ixd_config_api_jwt *jwt = &a->cfg->jwt;
    struct ixd_jwt_policy policy = {jwt->issuer, jwt->audience, (int64_t)jwt->leeway};
    char why[256];
    json_t *claims = NULL;
    const char *sub;

    if (ixd_jwt_verify(a->jwks, &policy, token, len, now, &claims, why, sizeof(why)) == -1) {
        snprintf(detail, detaillen, "invalid bearer token: %s", why);
        return -1;
    }
    sub = json_string_value(json_object_get(claims, "sub"));
    who->authenticated = 1;
    who->kind = "jwt";
    who->role = claims_role(claims, jwt);
    snprintf(who->name, sizeof(who->name), "%s", sub != NULL ? sub : "(no sub)");
    json_decref(claims);
    return 0;
}

int
api_auth_identify(const struct api_auth *a, const char *authorization, int64_t now,
                  struct api_identity *who, char *detail, size_t detaillen)
{
    const struct ixd_config_api_token *t;
    const char *token;
    size_t len, dots = 0, i;

    memset(who, 0, sizeof(*who));
    if (authorization == NULL) {
        snprintf(detail, detaillen,
                 "this API needs a bearer token: send 'Authorization: Bearer TOKEN'");
        return -1;
    }
    if (strncasecmp(authorization, "Bearer ", 7) != 0) {
        snprintf(detail, detaillen, "only the Bearer scheme is accepted in Authorization");
        return -1;
    }
    token = authorization + 7;
    while (*token == ' ') {
        token++;
    }
    len = strlen(token);
    while (len > 0 && (token[len - 1] == ' ' || token[len - 1] == '\t')) {
        len--;
    }
    if (len == 0 || len > IXD_JWT_MAX_LEN || !is_token68(token, len)) {
        snprintf(detail, detaillen, "the bearer token is empty, too long or not a token68");
        return -1;
    }
    t = find_token(a->cfg, token, len);
    if (t != NULL) {
        who->authenticated = 1;
        who->kind = "token";
        who->role = t->role;
        snprintf(who->name, sizeof(who->name), "%s", t->name);
        return 0;
    }
    for (i = 0; i < len; i++) {
        dots += token[i] == '.';
    }
    if (a->jwks != NULL && dots == 2) {
        return identify_jwt(a, token, len, now, who, detail, detaillen);
    }
    snprintf(detail, detaillen, "invalid bearer token: it is none of the configured tokens%s",
             a->jwks != NULL ? " and not a JWT" : "");
    return -1;
}

int
ixd_api_check(const struct ixd_config_api *cfg, const char *file, char *err, size_t errlen)
{
    struct api_auth *a;
    char why[512];

    if (!cfg->enabled || !cfg->auth.jwt.enabled) {
        return 0;
    }
    a = api_auth_new(&cfg->auth, why, sizeof(why));
    if (a == NULL) {
        /* why: "api: JWKS PATH: what is wrong", said at the key */
        snprintf(err, errlen, "%s:%u:%u: api.auth.jwt.jwks-file: %s", file, cfg->auth.jwt.jwks_line,
                 cfg->auth.jwt.jwks_column, strncmp(why, "api: ", 5) == 0 ? why + 5 : why);
        return -1;
    }
    api_auth_free(a);
    return 0;
}
