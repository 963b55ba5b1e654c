#include "core/keys.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/parse.h"

#define FILE_MAX (64u << 20) /* what an IXD_KEY_FILE's digest reads at most */

static void *
field_of(const struct ixd_key *k, void *settings)
{
    return (char *)settings + k->offset;
}

static const void *
cfield_of(const struct ixd_key *k, const void *settings)
{
    return (const char *)settings + k->offset;
}

const struct ixd_key *
ixd_keys_find(const struct ixd_key *keys, const char *name, size_t *offset)
{
    for (; keys->name != NULL; keys++) {
        if (keys->kind == IXD_KEY_INCLUDE) {
            size_t inner = 0;
            const struct ixd_key *k = ixd_keys_find(keys->include, name, &inner);
            if (k != NULL) {
                if (offset != NULL) {
                    *offset = keys->offset + inner;
                }
                return k;
            }
        } else if (strcmp(keys->name, name) == 0) {
            if (offset != NULL) {
                *offset = 0;
            }
            return keys;
        }
    }
    return NULL;
}

static size_t
names_into(const struct ixd_key *keys, char *out, size_t outlen, size_t used)
{
    for (; keys->name != NULL && used < outlen; keys++) {
        int n;
        if (keys->kind == IXD_KEY_INCLUDE) {
            used = names_into(keys->include, out, outlen, used);
            continue;
        }
        n = snprintf(out + used, outlen - used, "%s%s", used > 0 ? ", " : "", keys->name);
        if (n < 0) {
            break;
        }
        used += (size_t)n;
    }
    return used;
}

void
ixd_keys_names(const struct ixd_key *keys, char *out, size_t outlen)
{
    out[0] = '\0';
    names_into(keys, out, outlen, 0);
}

/* "file:line:col: message" at v, and -1 */
#define fail(v, env, err, errlen, ...) ixd_cnode_fail(v, (env)->file, err, errlen, __VA_ARGS__)

static int
is_name(const char *s)
{
    for (; *s != '\0'; s++) {
        char c = *s;
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_' || c == '.')) {
            return 0;
        }
    }
    return 1;
}

static int
parse_bool(const char *s, int *out)
{
    static const char *const yes[] = {"true", "yes", "on", NULL};
    static const char *const no[] = {"false", "no", "off", NULL};

    for (size_t i = 0; yes[i] != NULL; i++) {
        if (strcmp(s, yes[i]) == 0) {
            *out = 1;
            return 0;
        }
        if (strcmp(s, no[i]) == 0) {
            *out = 0;
            return 0;
        }
    }
    return -1;
}

/* Octal permissions: the owner must read and write what ipfixd creates for it. */
static int
parse_mode(const char *s, uint32_t *out)
{
    const char *p = s[0] == '0' && (s[1] == 'o' || s[1] == 'O') ? s + 2 : s;
    uint32_t mode = 0;

    if (p[0] == '\0' || strlen(p) > 4 || strspn(p, "01234567") != strlen(p)) {
        return -1;
    }
    for (; *p != '\0'; p++) {
        mode = mode * 8 + (uint32_t)(*p - '0');
    }
    if (mode > 0777 || (mode & 0600) != 0600) {
        return -1;
    }
    *out = mode;
    return 0;
}

/* FNV-1a over the file's bytes: what a reload compares to see that a key file changed. */
static int
file_digest(const char *path, uint64_t *out)
{
    uint64_t h = 1469598103934665603ULL;
    char *text = NULL;
    size_t len = 0;

    if (ixd_read_file(path, FILE_MAX, &text, &len) == -1) {
        return -1;
    }
    for (size_t i = 0; i < len; i++) {
        h = (h ^ (unsigned char)text[i]) * 1099511628211ULL;
    }
    free(text);
    *out = h;
    return 0;
}

/* A path key: stored, then checked as ipfixd will use it (not with syntax only). */
static int
parse_path(const struct ixd_key *k, const struct ixd_cnode *v, char *dst,
           const struct ixd_key_env *env, char *err, size_t errlen)
{
    struct ixd_config_file f;
    char why[IXD_PATH_MAX + 256];

    if (v->text[0] == '\0' ||
        strlen(v->text) >= (k->kind == IXD_KEY_FILE ? IXD_PATH_MAX : k->size)) {
        return fail(v, env, err, errlen, "%s must be a file name of 1 to %zu characters", k->name,
                    (k->kind == IXD_KEY_FILE ? IXD_PATH_MAX : k->size) - 1);
    }
    memcpy(dst, v->text, strlen(v->text) + 1);
    if (k->file_use == 0 || (env->flags & IXD_CONFIG_SYNTAX_ONLY)) {
        return 0;
    }
    memset(&f, 0, sizeof(f));
    f.use = (enum ixd_config_file_use)(k->file_use - 1);
    f.path = dst;
    if (ixd_config_file_check(&f, why, sizeof(why)) == -1) {
        return fail(v, env, err, errlen, "%s: %s", k->name, why);
    }
    return 0;
}

static int
parse_number(const struct ixd_key *k, const struct ixd_cnode *v, void *field,
             const struct ixd_key_env *env, char *err, size_t errlen)
{
    uint64_t n, max = k->max != 0 ? k->max : (k->kind == IXD_KEY_SIZE ? INT_MAX : UINT32_MAX);
    const char *form = k->kind == IXD_KEY_DURATION ? "a duration such as 30, 90s, 30m or 2h"
                       : k->kind == IXD_KEY_SIZE   ? "a size such as 4096, 512K or 8M"
                                                   : "a number";
    int r = k->kind == IXD_KEY_DURATION ? ixd_parse_duration(v->text, &n)
            : k->kind == IXD_KEY_SIZE   ? ixd_parse_size(v->text, &n)
                                        : ixd_parse_u64(v->text, &n);

    if (r == -1) {
        return fail(v, env, err, errlen, "%s must be %s, not '%s'", k->name, form, v->text);
    }
    if (n < k->min || n > max) {
        return fail(v, env, err, errlen, "%s must be from %llu to %llu, not '%s'", k->name,
                    (unsigned long long)k->min, (unsigned long long)max, v->text);
    }
    if (k->kind == IXD_KEY_SIZE) {
        *(size_t *)field = (size_t)n;
    } else {
        *(uint32_t *)field = (uint32_t)n;
    }
    return 0;
}

static int
parse_enum(const struct ixd_key *k, const struct ixd_cnode *v, int *field,
           const struct ixd_key_env *env, char *err, size_t errlen)
{
    char known[256];
    size_t used = 0;

    for (int i = 0; k->choices[i] != NULL; i++) {
        if (strcmp(k->choices[i], v->text) == 0) {
            *field = i;
            return 0;
        }
        used += (size_t)snprintf(known + used, used < sizeof(known) ? sizeof(known) - used : 0,
                                 "%s%s", i > 0 ? (k->choices[i + 1] == NULL ? " or " : ", ") : "",
                                 k->choices[i]);
        if (used >= sizeof(known)) {
            used = sizeof(known) - 1;
        }
    }
    return fail(v, env, err, errlen, "%s must be %s, not '%s'", k->name, known, v->text);
}

/* Reads one value into its field. */
static int
parse_value(const struct ixd_key *k, const struct ixd_cnode *v, void *settings,
            const struct ixd_key_env *env, char *err, size_t errlen)
{
    void *field = field_of(k, settings);

    if (k->kind == IXD_KEY_CUSTOM) {
        return k->parse(k, v, field, env, err, errlen);
    }
    if (v->kind != IXD_CNODE_SCALAR) {
        return fail(v, env, err, errlen, "%s must be a single value", k->name);
    }
    switch (k->kind) {
    case IXD_KEY_STRING:
    case IXD_KEY_NAME:
        if (v->text[0] == '\0' || strlen(v->text) >= k->size) {
            return fail(v, env, err, errlen, "%s must be 1 to %zu characters", k->name,
                        k->size - 1);
        }
        if (k->kind == IXD_KEY_NAME && !is_name(v->text)) {
            return fail(v, env, err, errlen,
                        "%s '%s' may hold only letters, digits, '-', '_' and '.'", k->name,
                        v->text);
        }
        memcpy(field, v->text, strlen(v->text) + 1);
        return 0;
    case IXD_KEY_PATH:
        return parse_path(k, v, field, env, err, errlen);
    case IXD_KEY_FILE: {
        struct ixd_key_file *f = field;
        if (parse_path(k, v, f->path, env, err, errlen) == -1) {
            return -1;
        }
        if (!(env->flags & IXD_CONFIG_SYNTAX_ONLY) && file_digest(f->path, &f->digest) == -1) {
            return fail(v, env, err, errlen, "%s: cannot read %s: %s", k->name, f->path,
                        ixd_read_error(errno));
        }
        return 0;
    }
    case IXD_KEY_BOOL:
        if (parse_bool(v->text, field) == -1) {
            return fail(v, env, err, errlen, "%s must be true or false, not '%s'", k->name,
                        v->text);
        }
        return 0;
    case IXD_KEY_U32:
    case IXD_KEY_DURATION:
    case IXD_KEY_SIZE:
        return parse_number(k, v, field, env, err, errlen);
    case IXD_KEY_ENUM:
        return parse_enum(k, v, field, env, err, errlen);
    case IXD_KEY_MODE:
        if (parse_mode(v->text, field) == -1) {
            return fail(v, env, err, errlen,
                        "%s must be octal permissions from 0600 to 0777 such as 0640 (the owner "
                        "reads and writes), not '%s'",
                        k->name, v->text);
        }
        return 0;
    case IXD_KEY_CUSTOM:
    case IXD_KEY_INCLUDE:
        break;
    }
    return 0;
}

/* The defaults, as if written: one place says what a key's default is, in the config's form. */
static int
apply_defaults(const struct ixd_key *keys, void *settings, const struct ixd_cnode *at,
               const struct ixd_key_env *env, char *err, size_t errlen)
{
    for (const struct ixd_key *k = keys; k->name != NULL; k++) {
        struct ixd_cnode v = {.kind = IXD_CNODE_SCALAR,
                              .line = at->line,
                              .column = at->column,
                              .text = (char *)k->def};
        struct ixd_key_env quiet = *env;

        if (k->kind == IXD_KEY_INCLUDE) {
            if (apply_defaults(k->include, (char *)settings + k->offset, at, env, err, errlen) ==
                -1) {
                return -1;
            }
            continue;
        }
        if (k->def == NULL) {
            continue;
        }
        quiet.flags |= IXD_CONFIG_SYNTAX_ONLY; /* a default names no file to check */
        if (parse_value(k, &v, settings, &quiet, err, errlen) == -1) {
            return -1;
        }
    }
    return 0;
}

int
ixd_keys_parse(const struct ixd_key *keys, const struct ixd_cnode *map, void *settings,
               const struct ixd_key_env *env, char *err, size_t errlen)
{
    if (apply_defaults(keys, settings, map, env, err, errlen) == -1) {
        return -1;
    }
    if (map->kind != IXD_CNODE_MAPPING) {
        return fail(map, env, err, errlen, "%s must be a mapping of settings", env->what);
    }
    for (size_t i = 0; i < map->n; i++) {
        const struct ixd_cnode *key = &map->items[2 * i], *v = &map->items[2 * i + 1];
        size_t base = 0;
        const struct ixd_key *k = ixd_keys_find(keys, key->text, &base);
        void *at = (char *)settings + base;

        if (k == NULL) {
            char known[512];
            ixd_keys_names(keys, known, sizeof(known));
            return fail(key, env, err, errlen, "unknown key '%s' in %s (known: %s)", key->text,
                        env->what, known[0] != '\0' ? known : "none");
        }
        for (size_t j = 0; j < i; j++) {
            if (strcmp(map->items[2 * j].text, key->text) == 0) {
                return fail(key, env, err, errlen, "duplicate key '%s' in %s", key->text,
                            env->what);
            }
        }
        if (k->kind == IXD_KEY_CUSTOM && k->release != NULL) {
            k->release(field_of(k, at)); /* a default made by parse */
        }
        if (parse_value(k, v, at, env, err, errlen) == -1) {
            return -1;
        }
    }
    return 0;
}

void
ixd_keys_release(const struct ixd_key *keys, void *settings)
{
    for (const struct ixd_key *k = keys; settings != NULL && k->name != NULL; k++) {
        if (k->kind == IXD_KEY_INCLUDE) {
            ixd_keys_release(k->include, field_of(k, settings));
        } else if (k->kind == IXD_KEY_CUSTOM && k->release != NULL) {
            k->release(field_of(k, settings));
        }
    }
}

static int
value_same(const struct ixd_key *k, const void *a, const void *b)
{
    const void *fa = cfield_of(k, a), *fb = cfield_of(k, b);

    switch (k->kind) {
    case IXD_KEY_STRING:
    case IXD_KEY_NAME:
    case IXD_KEY_PATH:
        return strcmp(fa, fb) == 0;
    case IXD_KEY_FILE: {
        const struct ixd_key_file *x = fa, *y = fb;
        return strcmp(x->path, y->path) == 0 &&
               (k->reload != IXD_RELOAD_CONTENT || x->digest == y->digest);
    }
    case IXD_KEY_CUSTOM:
        if (k->same != NULL) {
            return k->same(fa, fb);
        }
        break;
    default:
        break;
    }
    return memcmp(fa, fb, k->size) == 0;
}

int
ixd_keys_same(const struct ixd_key *keys, const void *a, const void *b, unsigned classes)
{
    for (const struct ixd_key *k = keys; k->name != NULL; k++) {
        if (k->kind == IXD_KEY_INCLUDE) {
            if (!ixd_keys_same(k->include, cfield_of(k, a), cfield_of(k, b), classes)) {
                return 0;
            }
        } else if ((classes & (1u << k->reload)) != 0 && !value_same(k, a, b)) {
            return 0;
        }
    }
    return 1;
}
