/*
 * The TLS settings of collectors and IPFIX exports (tls.h): their keys, the custom parsers
 * (pins, subjects, the CA file or directory, the protocol version) and the check that builds the
 * context, so that `ipfixd -t` and a reload find a certificate that does not load.
 */
#include "crypto/tls_internal.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "core/parse.h"

#define LIST_MAX 1024          /* pins or subjects */
#define CA_READ_MAX (4u << 20) /* bytes of one CA file a digest reads */

/* A mistake at v, as "file:line:col: message" in err; -1. */
#define fail(v, env, err, errlen, ...) ixd_cnode_fail(v, (env)->file, err, errlen, __VA_ARGS__)

/* ---- pins: SHA-256 fingerprints, as `openssl x509 -noout -fingerprint -sha256` prints them ----
 */

static int
hexval(int c)
{
    return isdigit(c) ? c - '0' : tolower(c) - 'a' + 10;
}

/* "AB:CD:..." or "abcd...", optionally after "sha256:" or "SHA256 Fingerprint=": 0 or -1. */
static int
parse_fingerprint(const char *text, uint8_t out[32])
{
    const char *eq = strchr(text, '=');
    size_t n = 0;

    if (eq != NULL) {
        text = eq + 1;
    } else if (strncasecmp(text, "sha256:", 7) == 0) {
        text += 7;
    }
    for (const char *p = text; *p != '\0'; p++) {
        if (*p == ':') {
            continue;
        }
        if (!isxdigit((unsigned char)p[0]) || !isxdigit((unsigned char)p[1]) || n == 32) {
            return -1;
        }
        out[n++] = (uint8_t)(hexval((unsigned char)p[0]) << 4 | hexval((unsigned char)p[1]));
        p++;
    }
    return n == 32 ? 0 : -1;
}

static int
parse_pins(const struct ixd_key *k, const struct ixd_cnode *v, void *field,
           const struct ixd_key_env *env, char *err, size_t errlen)
{
    struct ixd_tls_pins *p = field;
    const struct ixd_cnode *items = v->kind == IXD_CNODE_SEQUENCE ? v->items : v;
    size_t n = v->kind == IXD_CNODE_SEQUENCE ? v->n : 1;

    if (v->kind == IXD_CNODE_MAPPING || n > LIST_MAX) {
        return fail(v, env, err, errlen, "%s must be a list of at most 1024 SHA-256 fingerprints",
                    k->name);
    }
    p->sha256 = calloc(n + 1, sizeof(*p->sha256));
    if (p->sha256 == NULL) {
        return fail(v, env, err, errlen, "%s: out of memory", k->name);
    }
    for (size_t i = 0; i < n; i++) {
        if (items[i].kind != IXD_CNODE_SCALAR ||
            parse_fingerprint(items[i].text, p->sha256[i]) == -1) {
            return fail(&items[i], env, err, errlen,
                        "%s: not a SHA-256 fingerprint (64 hex digits, colons allowed, as "
                        "openssl x509 -noout -fingerprint -sha256 prints it)",
                        k->name);
        }
        p->n = i + 1;
    }
    return 0;
}

static int
same_pins(const void *a, const void *b)
{
    const struct ixd_tls_pins *x = a, *y = b;

    return x->n == y->n && (x->n == 0 || memcmp(x->sha256, y->sha256, x->n * 32) == 0);
}

static void
release_pins(void *field)
{
    struct ixd_tls_pins *p = field;

    free(p->sha256);
    p->sha256 = NULL;
    p->n = 0;
}

/* ---- subjects ---- */

static int
parse_names(const struct ixd_key *k, const struct ixd_cnode *v, void *field,
            const struct ixd_key_env *env, char *err, size_t errlen)
{
    struct ixd_tls_names *s = field;
    const struct ixd_cnode *items = v->kind == IXD_CNODE_SEQUENCE ? v->items : v;
    size_t n = v->kind == IXD_CNODE_SEQUENCE ? v->n : 1;

    if (v->kind == IXD_CNODE_MAPPING || n > LIST_MAX) {
        return fail(v, env, err, errlen, "%s must be a list of at most 1024 names", k->name);
    }
    s->names = calloc(n + 1, sizeof(*s->names));
    if (s->names == NULL) {
        return fail(v, env, err, errlen, "%s: out of memory", k->name);
    }
    for (size_t i = 0; i < n; i++) {
        size_t len = items[i].kind == IXD_CNODE_SCALAR ? strlen(items[i].text) : 0;
        if (len == 0 || len >= IXD_TLS_SUBJECT_MAX) {
            return fail(&items[i], env, err, errlen,
                        "%s: a name of 1 to 255 characters (a common or DNS name, or a whole "
                        "subject such as CN=yaf1,O=Example)",
                        k->name);
        }
        s->names[i] = strdup(items[i].text);
        if (s->names[i] == NULL) {
            return fail(v, env, err, errlen, "%s: out of memory", k->name);
        }
        s->n = i + 1;
    }
    return 0;
}

static int
same_names(const void *a, const void *b)
{
    const struct ixd_tls_names *x = a, *y = b;

    if (x->n != y->n) {
        return 0;
    }
    for (size_t i = 0; i < x->n; i++) {
        if (strcmp(x->names[i], y->names[i]) != 0) {
            return 0;
        }
    }
    return 1;
}

static void
release_names(void *field)
{
    struct ixd_tls_names *s = field;

    for (size_t i = 0; i < s->n; i++) {
        free(s->names[i]);
    }
    free(s->names);
    s->names = NULL;
    s->n = 0;
}

/* ---- ca: a file or a directory, with a digest of what it holds ---- */

static uint64_t
fnv(uint64_t h, const void *data, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        h = (h ^ ((const uint8_t *)data)[i]) * 1099511628211ULL;
    }
    return h;
}

static int
digest_file(const char *path, uint64_t *h)
{
    char *text = NULL;
    size_t len = 0;

    if (ixd_read_file(path, CA_READ_MAX, &text, &len) == -1) {
        return -1;
    }
    *h = fnv(*h, text, len);
    free(text);
    return 0;
}

int
ixd_tls_ca_dir_each(const char *dir, int (*fn)(void *arg, const char *path, const char *name),
                    void *arg)
{
    struct dirent **list;
    int n = scandir(dir, &list, NULL, alphasort), rc = 0;

    if (n < 0) {
        return -1;
    }
    for (int i = 0; i < n; i++) {
        char path[IXD_PATH_MAX + 256];
        struct stat sb;
        snprintf(path, sizeof(path), "%s/%s", dir, list[i]->d_name);
        if (rc == 0 && list[i]->d_name[0] != '.' && stat(path, &sb) == 0 && S_ISREG(sb.st_mode)) {
            rc = fn(arg, path, list[i]->d_name);
        }
        free(list[i]);
    }
    free(list);
    return rc;
}

static int
digest_entry(void *arg, const char *path, const char *name)
{
    uint64_t *h = arg;

    *h = fnv(*h, name, strlen(name) + 1);
    return digest_file(path, h);
}

/* The names and contents of the directory's files, in name order. */
static int
digest_dir(const char *dir, uint64_t *h)
{
    return ixd_tls_ca_dir_each(dir, digest_entry, h);
}

static int
parse_ca(const struct ixd_key *k, const struct ixd_cnode *v, void *field,
         const struct ixd_key_env *env, char *err, size_t errlen)
{
    struct ixd_tls_ca *ca = field;
    struct stat sb;

    if (v->kind != IXD_CNODE_SCALAR || v->text[0] == '\0' || strlen(v->text) >= sizeof(ca->path)) {
        return fail(v, env, err, errlen, "%s must be a file or directory name", k->name);
    }
    memcpy(ca->path, v->text, strlen(v->text) + 1);
    if (env->flags & IXD_CONFIG_SYNTAX_ONLY) {
        return 0;
    }
    ca->digest = 1469598103934665603ULL;
    if (stat(ca->path, &sb) == -1 ||
        (S_ISDIR(sb.st_mode) ? digest_dir(ca->path, &ca->digest)
                             : digest_file(ca->path, &ca->digest)) == -1) {
        return fail(v, env, err, errlen, "%s: cannot read %s: %s", k->name, ca->path,
                    ixd_read_error(errno));
    }
    return 0;
}

static int
same_ca(const void *a, const void *b)
{
    const struct ixd_tls_ca *x = a, *y = b;

    return strcmp(x->path, y->path) == 0 && x->digest == y->digest;
}

/* ---- min-version ---- */

static int
parse_version(const struct ixd_key *k, const struct ixd_cnode *v, void *field,
              const struct ixd_key_env *env, char *err, size_t errlen)
{
    if (v->kind == IXD_CNODE_SCALAR && strcmp(v->text, "1.2") == 0) {
        *(int *)field = IXD_TLS_V1_2;
        return 0;
    }
    if (v->kind == IXD_CNODE_SCALAR && strcmp(v->text, "1.3") == 0) {
        *(int *)field = IXD_TLS_V1_3;
        return 0;
    }
    if (v->kind == IXD_CNODE_SCALAR &&
        (strcmp(v->text, "1.0") == 0 || strcmp(v->text, "1.1") == 0)) {
        return fail(v, env, err, errlen,
                    "%s: TLS 1.0 and 1.1 are refused (RFC 8996 deprecates them: SHA-1 and "
                    "MD5 in the handshake, no AEAD suites); use 1.2 or 1.3",
                    k->name);
    }
    return fail(v, env, err, errlen, "%s must be 1.2 or 1.3", k->name);
}

/* ---- the tables ---- */

static const char *const client_choices[] = {"required", "optional", "none", NULL};

/* The keys both sides have; reload is how a change of a file's content counts. */
#define TLS_COMMON_KEYS(reload_class)                                                              \
    {.name = "certificate",                                                                        \
     .kind = IXD_KEY_FILE,                                                                         \
     IXD_KEY_AT(struct ixd_tls_settings, certificate),                                             \
     .reload = reload_class,                                                                       \
     .file_use = 1 + IXD_FILE_READ,                                                                \
     .help = "this side's certificate chain (PEM): the leaf first"},                               \
        {.name = "key",                                                                            \
         .kind = IXD_KEY_FILE,                                                                     \
         IXD_KEY_AT(struct ixd_tls_settings, key),                                                 \
         .reload = reload_class,                                                                   \
         .file_use = 1 + IXD_FILE_SECRET,                                                          \
         .help = "the certificate's private key (PEM, no passphrase, mode 0600 or 0640)"},         \
        {.name = "ca",                                                                             \
         .kind = IXD_KEY_CUSTOM,                                                                   \
         IXD_KEY_AT(struct ixd_tls_settings, ca),                                                  \
         .reload = reload_class,                                                                   \
         .parse = parse_ca,                                                                        \
         .same = same_ca,                                                                          \
         .help = "CA certificates the peer's chain must verify against: a PEM file or a "          \
                 "directory of them"},                                                             \
        {.name = "crl",                                                                            \
         .kind = IXD_KEY_FILE,                                                                     \
         IXD_KEY_AT(struct ixd_tls_settings, crl),                                                 \
         .reload = reload_class,                                                                   \
         .file_use = 1 + IXD_FILE_READ,                                                            \
         .help = "certificate revocation lists (PEM) the peer's certificate is checked in"},       \
        {.name = "pins",                                                                           \
         .kind = IXD_KEY_CUSTOM,                                                                   \
         IXD_KEY_AT(struct ixd_tls_settings, pins),                                                \
         .reload = reload_class,                                                                   \
         .parse = parse_pins,                                                                      \
         .same = same_pins,                                                                        \
         .release = release_pins,                                                                  \
         .help = "SHA-256 fingerprints of the peer certificates allowed"},                         \
    {                                                                                              \
        .name = "min-version", .kind = IXD_KEY_CUSTOM,                                             \
        IXD_KEY_AT(struct ixd_tls_settings, min_version), .reload = reload_class, .def = "1.2",    \
        .parse = parse_version,                                                                    \
        .help = "the oldest protocol version allowed: 1.2 or 1.3 (DTLS: 1.2)"                      \
    }

const struct ixd_key ixd_tls_server_keys[] = {
    TLS_COMMON_KEYS(IXD_RELOAD_HOT),
    {.name = "subjects",
     .kind = IXD_KEY_CUSTOM,
     IXD_KEY_AT(struct ixd_tls_settings, subjects),
     .reload = IXD_RELOAD_HOT,
     .parse = parse_names,
     .same = same_names,
     .release = release_names,
     .help = "names an exporter's certificate must hold (CN or DNS), or whole subjects"},
    {.name = "client-certificate",
     .kind = IXD_KEY_ENUM,
     IXD_KEY_AT(struct ixd_tls_settings, client_certificate),
     .reload = IXD_RELOAD_HOT,
     .choices = client_choices,
     .def = "required",
     .help = "required, optional (verified when presented) or none"},
    {NULL},
};

const struct ixd_key ixd_tls_client_keys[] = {
    TLS_COMMON_KEYS(IXD_RELOAD_CONTENT),
    {.name = "server-name",
     .kind = IXD_KEY_STRING,
     IXD_KEY_AT(struct ixd_tls_settings, server_name),
     .help = "the name the collector's certificate must hold (default: its address)"},
    {NULL},
};

const struct ixd_cnode *
ixd_tls_key_written(const struct ixd_key *keys, const struct ixd_cnode *at)
{
    for (const struct ixd_key *k = keys; k->name != NULL; k++) {
        const struct ixd_cnode *v = ixd_cnode_get(at, k->name);
        if (v != NULL) {
            return v - 1; /* mappings hold key, value pairs: the key */
        }
    }
    return NULL;
}

/* ---- the check ---- */

/* The node of the key a message from ixd_tls_ctx_build names ("key: ..."), else where. */
static const struct ixd_cnode *
node_of_message(const struct ixd_cnode *where, const char *msg)
{
    static const char *const keys[] = {"certificate", "key", "ca", "crl", NULL};

    for (int i = 0; keys[i] != NULL; i++) {
        size_t n = strlen(keys[i]);
        const struct ixd_cnode *v = ixd_cnode_get(where, keys[i]);
        if (strncmp(msg, keys[i], n) == 0 && msg[n] == ':' && v != NULL) {
            return v;
        }
    }
    return where;
}

static int
check_rules(const struct ixd_tls_settings *s, int server, int datagram,
            const struct ixd_cnode *where, const char *file, char *err, size_t errlen)
{
    int verifies = s->ca.path[0] != '\0' || s->pins.n > 0;
    const struct ixd_cnode *v;

    if ((s->certificate.path[0] != '\0') != (s->key.path[0] != '\0') ||
        (server && s->certificate.path[0] == '\0')) {
        return ixd_cnode_fail(where, file, err, errlen,
                              server ? "a TLS collector needs certificate and key"
                                     : "certificate and key go together (a client certificate)");
    }
    if (datagram && s->min_version == IXD_TLS_V1_3) {
        v = ixd_cnode_get(where, "min-version");
        return ixd_cnode_fail(v != NULL ? v : where, file, err, errlen,
                              "min-version: DTLS 1.3 is not available; dtls runs DTLS 1.2");
    }
    if (server && s->client_certificate == IXD_TLS_CLIENT_NONE) {
        if (verifies || s->subjects.n > 0 || s->crl.path[0] != '\0') {
            return ixd_cnode_fail(where, file, err, errlen,
                                  "ca, crl, pins and subjects check exporters' certificates: "
                                  "they need client-certificate required or optional");
        }
        return 0;
    }
    if (!verifies) {
        return ixd_cnode_fail(
            where, file, err, errlen, "%s",
            server ? "exporters' certificates need something to verify them: ca or pins "
                     "(or client-certificate: none)"
                   : "a TLS export must verify its collector: ca (with server-name, or the "
                     "destination's address in the certificate) or pins");
    }
    if (!server && s->server_name[0] != '\0' && s->ca.path[0] == '\0') {
        v = ixd_cnode_get(where, "server-name");
        return ixd_cnode_fail(v != NULL ? v : where, file, err, errlen,
                              "server-name is checked along the chain of ca: set ca too (pins "
                              "alone name the certificate already)");
    }
    return 0;
}

int
ixd_tls_settings_check(struct ixd_tls_settings *s, int server, int datagram,
                       const struct ixd_cnode *where, const char *file, unsigned flags, char *err,
                       size_t errlen)
{
    char msg[512];

    if (check_rules(s, server, datagram, where, file, err, errlen) == -1) {
        return -1;
    }
    if (flags & IXD_CONFIG_SYNTAX_ONLY) {
        return 0;
    }
    s->ctx = ixd_tls_ctx_build(s, server, datagram, msg, sizeof(msg));
    if (s->ctx == NULL) {
        return ixd_cnode_fail(node_of_message(where, msg), file, err, errlen, "%s", msg);
    }
    return 0;
}

void
ixd_tls_settings_release(struct ixd_tls_settings *s)
{
    ixd_tls_ctx_free(s->ctx);
    s->ctx = NULL;
}
