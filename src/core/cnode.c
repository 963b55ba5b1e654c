#include "core/cnode.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void
ixd_cnode_release(struct ixd_cnode *n)
{
    size_t i, count;

    if (n == NULL) {
        return;
    }
    count = n->kind == IXD_CNODE_MAPPING ? 2 * n->n : n->n;
    for (i = 0; n->items != NULL && i < count; i++) {
        ixd_cnode_release(&n->items[i]);
    }
    free(n->items);
    free(n->text);
    n->items = NULL;
    n->text = NULL;
    n->n = 0;
}

int
ixd_cnode_fail(const struct ixd_cnode *n, const char *file, char *err, size_t errlen,
               const char *fmt, ...)
{
    char msg[512];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    snprintf(err, errlen, "%s:%u:%u: %s", file != NULL ? file : "built-in config", n->line,
             n->column, msg);
    return -1;
}

int
ixd_cnode_path(const char *path, const char *file, char *out, size_t outlen)
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

const struct ixd_cnode *
ixd_cnode_get(const struct ixd_cnode *n, const char *key)
{
    size_t i;

    if (n == NULL || n->kind != IXD_CNODE_MAPPING) {
        return NULL;
    }
    for (i = 0; i < n->n; i++) {
        if (strcmp(n->items[2 * i].text, key) == 0) {
            return &n->items[2 * i + 1];
        }
    }
    return NULL;
}

static size_t
cnode_slots(const struct ixd_cnode *n)
{
    return n->kind == IXD_CNODE_MAPPING ? 2 * n->n : n->kind == IXD_CNODE_SEQUENCE ? n->n : 0;
}

int
ixd_cnode_copy(struct ixd_cnode *dst, const struct ixd_cnode *src)
{
    size_t i, slots = cnode_slots(src);

    *dst = *src;
    dst->text = NULL;
    dst->items = NULL;
    dst->n = 0;
    if (src->text != NULL && (dst->text = strdup(src->text)) == NULL) {
        return -1;
    }
    if (src->kind == IXD_CNODE_SCALAR) {
        return 0;
    }
    dst->items = calloc(slots + 1, sizeof(*dst->items));
    if (dst->items == NULL) {
        ixd_cnode_release(dst);
        return -1;
    }
    for (i = 0; i < slots; i++) {
        if (ixd_cnode_copy(&dst->items[i], &src->items[i]) == -1) {
            while (i-- > 0) { /* the failed one released itself */
                ixd_cnode_release(&dst->items[i]);
            }
            free(dst->items);
            free(dst->text);
            dst->items = NULL;
            dst->text = NULL;
            return -1;
        }
    }
    dst->n = src->n;
    return 0;
}

int
ixd_cnode_equal(const struct ixd_cnode *a, const struct ixd_cnode *b)
{
    size_t i;

    if (a->kind != b->kind || a->n != b->n) {
        return 0;
    }
    if (a->kind == IXD_CNODE_SCALAR) {
        return a->quoted == b->quoted && strcmp(a->text, b->text) == 0;
    }
    for (i = 0; i < cnode_slots(a); i++) {
        if (!ixd_cnode_equal(&a->items[i], &b->items[i])) {
            return 0;
        }
    }
    return 1;
}

/* FNV-1a over a tagged walk of the tree: the kind, then a scalar's quoting and bytes (their
 * length first, so that "ab","c" and "a","bc" differ) or a collection's size and items. */
static uint64_t
fnv(uint64_t h, const void *data, size_t len)
{
    const unsigned char *p = data;

    for (size_t i = 0; i < len; i++) {
        h ^= p[i];
        h *= 0x100000001b3ULL;
    }
    return h;
}

static uint64_t
digest_from(uint64_t h, const struct ixd_cnode *n)
{
    uint64_t tag[2] = {(uint64_t)n->kind | ((uint64_t)(n->quoted != 0) << 8), n->n};

    if (n->kind == IXD_CNODE_SCALAR) {
        tag[1] = strlen(n->text);
        h = fnv(h, tag, sizeof(tag));
        return fnv(h, n->text, tag[1]);
    }
    h = fnv(h, tag, sizeof(tag));
    for (size_t i = 0; i < cnode_slots(n); i++) {
        h = digest_from(h, &n->items[i]);
    }
    return h;
}

uint64_t
ixd_cnode_digest(const struct ixd_cnode *n)
{
    return digest_from(0xcbf29ce484222325ULL, n);
}

unsigned
ixd_cnode_number(struct ixd_cnode *n, unsigned line)
{
    n->line = line++;
    n->column = 1;
    for (size_t i = 0; i < cnode_slots(n); i++) {
        line = ixd_cnode_number(&n->items[i], line);
    }
    return line;
}

/* Appends "/token" to out (RFC 6901: ~ as ~0, / as ~1): 0, or -1 when it does not fit. */
static int
pointer_add(char *out, size_t outlen, const char *token)
{
    size_t len = strlen(out);

    if (len + 1 >= outlen) {
        return -1;
    }
    out[len++] = '/';
    for (; *token != '\0'; token++) {
        const char *esc = *token == '~' ? "~0" : *token == '/' ? "~1" : NULL;
        size_t need = esc != NULL ? 2 : 1;
        if (len + need >= outlen) {
            return -1;
        }
        if (esc != NULL) {
            memcpy(out + len, esc, 2);
        } else {
            out[len] = *token;
        }
        len += need;
    }
    out[len] = '\0';
    return 0;
}

static int
pointer_in(const struct ixd_cnode *n, unsigned line, unsigned column, char *out, size_t outlen)
{
    size_t len = strlen(out), i;
    char index[24];

    if (n->line == line && n->column == column) {
        return 0;
    }
    for (i = 0; i < n->n && n->kind != IXD_CNODE_SCALAR; i++) {
        const struct ixd_cnode *key = n->kind == IXD_CNODE_MAPPING ? &n->items[2 * i] : NULL;
        const struct ixd_cnode *value = key != NULL ? &n->items[2 * i + 1] : &n->items[i];

        snprintf(index, sizeof(index), "%zu", i);
        if (pointer_add(out, outlen, key != NULL ? key->text : index) == -1) {
            return -1;
        }
        if ((key != NULL && key->line == line && key->column == column) ||
            pointer_in(value, line, column, out, outlen) == 0) {
            return 0;
        }
        out[len] = '\0';
    }
    return -1;
}

/* The column of the node of n at line that starts last at or before column, in *best. */
static void
best_at(const struct ixd_cnode *n, unsigned line, unsigned column, unsigned *best)
{
    if (n->line == line && n->column <= column && n->column > *best) {
        *best = n->column;
    }
    for (size_t i = 0; i < cnode_slots(n); i++) {
        best_at(&n->items[i], line, column, best);
    }
}

int
ixd_cnode_pointer_at(const struct ixd_cnode *root, unsigned line, unsigned column, char *out,
                     size_t outlen)
{
    unsigned best = 0;

    if (outlen == 0) {
        return -1;
    }
    out[0] = '\0';
    /* a message may point inside a value (a filter's column): the node it starts in */
    best_at(root, line, column, &best);
    return best == 0 ? -1 : pointer_in(root, line, best, out, outlen);
}

/* ---- what a plain scalar reads as ---- */

static int
is_integer(const char *s)
{
    const char *p = s + (*s == '-');

    if (*p == '\0' || (p[0] == '0' && p[1] != '\0')) {
        return 0;
    }
    for (; *p != '\0'; p++) {
        if (*p < '0' || *p > '9') {
            return 0;
        }
    }
    return 1;
}

/* A decimal number with a fraction or an exponent, in JSON's syntax. */
static int
is_real(const char *s)
{
    const char *p = s + (*s == '-');
    int digits = 0, fraction = 0;

    while (*p >= '0' && *p <= '9') {
        p++, digits++;
    }
    if (digits == 0 || (digits > 1 && p[-digits] == '0')) {
        return 0;
    }
    if (*p == '.') {
        for (p++, digits = 0; *p >= '0' && *p <= '9'; p++, digits++) {
        }
        if (digits == 0) {
            return 0;
        }
        fraction = 1;
    }
    if (*p == 'e' || *p == 'E') {
        p += 1 + (p[1] == '+' || p[1] == '-');
        for (digits = 0; *p >= '0' && *p <= '9'; p++, digits++) {
        }
        if (digits == 0) {
            return 0;
        }
        fraction = 1;
    }
    return *p == '\0' && fraction;
}

enum ixd_scalar_type
ixd_scalar_type(const char *text)
{
    if (text[0] == '\0' || strcmp(text, "~") == 0 || strcmp(text, "null") == 0) {
        return IXD_SCALAR_NULL;
    }
    if (strcmp(text, "true") == 0 || strcmp(text, "false") == 0) {
        return IXD_SCALAR_BOOL;
    }
    if (is_integer(text)) {
        return IXD_SCALAR_INTEGER;
    }
    return is_real(text) ? IXD_SCALAR_REAL : IXD_SCALAR_STRING;
}
