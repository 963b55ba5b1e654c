/* The walk over the YAML document: typed reads of its nodes, errors at their position, copies
 * of subtrees for the modules that read them later, and the files the config names. */
#include "core/config.h"

#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "core/config_internal.h"
#include "core/parse.h"

int
ixd_cfg_fail(struct walk *w, const yaml_node_t *node, const char *fmt, ...)
{
    char msg[512];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    snprintf(w->err, w->errlen, "%s:%zu:%zu: %s", w->name, node->start_mark.line + 1,
             node->start_mark.column + 1, msg);
    return -1;
}

yaml_node_t *
ixd_cfg_node(struct walk *w, int index)
{
    return yaml_document_get_node(&w->doc, index);
}

const char *
ixd_cfg_scalar(const yaml_node_t *n)
{
    return n->type == YAML_SCALAR_NODE ? (const char *)n->data.scalar.value : NULL;
}

int
ixd_cfg_want_scalar(struct walk *w, const yaml_node_t *n, const char *what, const char **out)
{
    *out = ixd_cfg_scalar(n);
    if (*out == NULL) {
        return ixd_cfg_fail(w, n, "%s must be a scalar value", what);
    }
    return 0;
}

int
ixd_cfg_want_mapping(struct walk *w, const yaml_node_t *n, const char *what)
{
    if (n->type != YAML_MAPPING_NODE) {
        return ixd_cfg_fail(w, n, "%s must be a mapping", what);
    }
    return 0;
}

int
ixd_cfg_want_sequence(struct walk *w, const yaml_node_t *n, const char *what)
{
    if (n->type != YAML_SEQUENCE_NODE) {
        return ixd_cfg_fail(w, n, "%s must be a list", what);
    }
    return 0;
}

int
ixd_cfg_copy_name(struct walk *w, const yaml_node_t *n, const char *what, char *dst, size_t dstlen)
{
    const char *s;
    size_t i, len;

    if (ixd_cfg_want_scalar(w, n, what, &s) == -1) {
        return -1;
    }
    len = strlen(s);
    if (len == 0 || len >= dstlen) {
        return ixd_cfg_fail(w, n, "%s must be 1 to %zu characters", what, dstlen - 1);
    }
    for (i = 0; i < len; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_' || c == '.')) {
            return ixd_cfg_fail(w, n, "%s '%s' may hold only letters, digits, '-', '_' and '.'",
                                what, s);
        }
    }
    memcpy(dst, s, len + 1);
    return 0;
}

int
ixd_cfg_get_u32(struct walk *w, const yaml_node_t *n, const char *what, uint64_t min, uint64_t max,
                uint32_t *out)
{
    const char *s;
    uint64_t v;

    if (ixd_cfg_want_scalar(w, n, what, &s) == -1) {
        return -1;
    }
    if (ixd_parse_u64(s, &v) == -1 || v < min || v > max) {
        return ixd_cfg_fail(w, n, "%s must be an integer from %llu to %llu, not '%s'", what,
                            (unsigned long long)min, (unsigned long long)max, s);
    }
    *out = (uint32_t)v;
    return 0;
}

int
ixd_cfg_get_duration(struct walk *w, const yaml_node_t *n, const char *what, uint32_t *out)
{
    const char *s;
    uint64_t v;

    if (ixd_cfg_want_scalar(w, n, what, &s) == -1) {
        return -1;
    }
    if (ixd_parse_duration(s, &v) == -1 || v > UINT32_MAX) {
        return ixd_cfg_fail(w, n, "%s must be a duration such as 30, 90s, 30m or 2h, not '%s'",
                            what, s);
    }
    *out = (uint32_t)v;
    return 0;
}

int
ixd_cfg_get_size(struct walk *w, const yaml_node_t *n, const char *what, size_t *out)
{
    const char *s;
    uint64_t v;

    if (ixd_cfg_want_scalar(w, n, what, &s) == -1) {
        return -1;
    }
    /* SO_RCVBUF takes an int */
    if (ixd_parse_size(s, &v) == -1 || v > INT_MAX) {
        return ixd_cfg_fail(
            w, n, "%s must be a size such as 4194304, 512K or 8M (below 2G), not '%s'", what, s);
    }
    *out = (size_t)v;
    return 0;
}

/* Settings nest at most this deep below their module; the whole document two levels more. */
#define SETTINGS_DEPTH_MAX 16

static int
copy_tree(struct walk *w, yaml_node_t *y, struct ixd_cnode *out, unsigned depth, unsigned max)
{
    size_t i, n;

    out->line = (unsigned)y->start_mark.line + 1;
    out->column = (unsigned)y->start_mark.column + 1;
    if (depth > max) {
        return ixd_cfg_fail(w, y, "settings nested too deep");
    }
    if (y->type == YAML_SCALAR_NODE) {
        out->kind = IXD_CNODE_SCALAR;
        out->text = strndup((const char *)y->data.scalar.value, y->data.scalar.length);
        if (out->text == NULL) {
            return ixd_cfg_fail(w, y, "out of memory");
        }
        /* quoting matters only where the text would read as a number, a boolean or null */
        out->quoted = y->data.scalar.style != YAML_PLAIN_SCALAR_STYLE &&
                      ixd_scalar_type(out->text) != IXD_SCALAR_STRING;
        return 0;
    }
    if (y->type == YAML_SEQUENCE_NODE) {
        out->kind = IXD_CNODE_SEQUENCE;
        n = (size_t)(y->data.sequence.items.top - y->data.sequence.items.start);
        out->items = calloc(n ? n : 1, sizeof(*out->items));
        if (out->items == NULL) {
            return ixd_cfg_fail(w, y, "out of memory");
        }
        for (i = 0; i < n; i++) {
            out->n++;
            if (copy_tree(w, ixd_cfg_node(w, y->data.sequence.items.start[i]), &out->items[i],
                          depth + 1, max) == -1) {
                return -1;
            }
        }
        return 0;
    }
    out->kind = IXD_CNODE_MAPPING;
    n = (size_t)(y->data.mapping.pairs.top - y->data.mapping.pairs.start);
    out->items = calloc(2 * n + 1, sizeof(*out->items));
    if (out->items == NULL) {
        return ixd_cfg_fail(w, y, "out of memory");
    }
    for (i = 0; i < n; i++) {
        yaml_node_pair_t *pair = &y->data.mapping.pairs.start[i];
        yaml_node_t *k = ixd_cfg_node(w, pair->key);
        out->n++;
        if (k->type != YAML_SCALAR_NODE) {
            return ixd_cfg_fail(w, k, "keys must be plain words");
        }
        if (copy_tree(w, k, &out->items[2 * i], depth + 1, max) == -1 ||
            copy_tree(w, ixd_cfg_node(w, pair->value), &out->items[2 * i + 1], depth + 1, max) ==
                -1) {
            return -1;
        }
    }
    return 0;
}

int
ixd_cfg_copy_tree(struct walk *w, yaml_node_t *y, struct ixd_cnode *out, unsigned depth)
{
    return copy_tree(w, y, out, depth, SETTINGS_DEPTH_MAX);
}

int
ixd_cfg_copy_document(struct walk *w, yaml_node_t *root, struct ixd_cnode *out)
{
    return copy_tree(w, root, out, 0, SETTINGS_DEPTH_MAX + 3);
}

/* Copies mapping m without the keys a and b (a module's envelope): what its type reads. */
int
ixd_cfg_copy_except(struct walk *w, yaml_node_t *m, const char *a, const char *b,
                    struct ixd_cnode *out)
{
    yaml_node_pair_t *p;
    size_t n = 0;

    out->kind = IXD_CNODE_MAPPING;
    out->line = (unsigned)m->start_mark.line + 1;
    out->column = (unsigned)m->start_mark.column + 1;
    out->items = calloc(2 * (size_t)(m->data.mapping.pairs.top - m->data.mapping.pairs.start) + 1,
                        sizeof(*out->items));
    if (out->items == NULL) {
        return ixd_cfg_fail(w, m, "out of memory");
    }
    for (p = m->data.mapping.pairs.start; p < m->data.mapping.pairs.top; p++) {
        yaml_node_t *k = ixd_cfg_node(w, p->key);
        const char *key = ixd_cfg_scalar(k);

        if (key == NULL) {
            return ixd_cfg_fail(w, k, "keys must be plain words");
        }
        if (strcmp(key, a) == 0 || strcmp(key, b) == 0) {
            continue;
        }
        out->n = ++n;
        if (ixd_cfg_copy_tree(w, k, &out->items[2 * (n - 1)], 1) == -1 ||
            ixd_cfg_copy_tree(w, ixd_cfg_node(w, p->value), &out->items[2 * n - 1], 1) == -1) {
            return -1;
        }
    }
    return 0;
}

int
ixd_cfg_each_key(struct walk *w, yaml_node_t *map, ixd_cfg_key_fn fn, void *ctx)
{
    yaml_node_pair_t *p;

    for (p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top; p++) {
        yaml_node_t *k = ixd_cfg_node(w, p->key);
        yaml_node_t *v = ixd_cfg_node(w, p->value);
        const char *key = ixd_cfg_scalar(k);
        yaml_node_pair_t *q;

        if (key == NULL) {
            return ixd_cfg_fail(w, k, "keys must be scalars");
        }
        for (q = map->data.mapping.pairs.start; q < p; q++) {
            const char *prev = ixd_cfg_scalar(ixd_cfg_node(w, q->key));
            if (prev != NULL && strcmp(prev, key) == 0) {
                return ixd_cfg_fail(w, k, "duplicate key '%s'", key);
            }
        }
        if (fn(w, key, k, v, ctx) == -1) {
            return -1;
        }
    }
    return 0;
}

int
ixd_cfg_get_bool(struct walk *w, const yaml_node_t *n, const char *what, int *out)
{
    const char *s;

    if (ixd_cfg_want_scalar(w, n, what, &s) == -1) {
        return -1;
    }
    if (strcmp(s, "true") == 0 || strcmp(s, "yes") == 0 || strcmp(s, "on") == 0) {
        *out = 1;
    } else if (strcmp(s, "false") == 0 || strcmp(s, "no") == 0 || strcmp(s, "off") == 0) {
        *out = 0;
    } else {
        return ixd_cfg_fail(w, n, "%s must be true or false, not '%s'", what, s);
    }
    return 0;
}

int
ixd_cfg_note_secret(struct walk *w, const yaml_node_t *n, const char *key, const char *path,
                    size_t min, size_t max)
{
    struct ixd_config *cfg = w->cfg;
    struct ixd_config_file *grown, *f;

    grown = realloc(cfg->files, (cfg->n_files + 1) * sizeof(*cfg->files));
    if (grown == NULL) {
        return ixd_cfg_fail(w, n, "out of memory");
    }
    cfg->files = grown;
    f = &cfg->files[cfg->n_files];
    memset(f, 0, sizeof(*f));
    f->use = IXD_FILE_SECRET;
    snprintf(f->key, sizeof(f->key), "%s", key);
    f->line = (unsigned)n->start_mark.line + 1;
    f->column = (unsigned)n->start_mark.column + 1;
    f->min = min;
    f->max = max;
    f->path = strdup(path);
    if (f->path == NULL) {
        return ixd_cfg_fail(w, n, "out of memory");
    }
    cfg->n_files++;
    return 0;
}

int
ixd_cfg_note_file(struct walk *w, const yaml_node_t *n, enum ixd_config_file_use use,
                  const char *key, const char *path)
{
    if (ixd_cfg_note_secret(w, n, key, path, 0, 0) == -1) {
        return -1;
    }
    w->cfg->files[w->cfg->n_files - 1].use = use;
    return 0;
}
