/* The config as written, as the API's writes change it (config_tree.h). */
#include "core/config_tree.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "core/config_internal.h"

const char *const ixd_config_tree_sections[3] = {"collectors", "outputs", "pipelines"};

int
ixd_config_tree_section(const char *section)
{
    for (size_t i = 0; i < 3; i++) {
        if (strcmp(section, ixd_config_tree_sections[i]) == 0) {
            return 1;
        }
    }
    return 0;
}

const char *
ixd_config_tree_one(const char *section)
{
    return strcmp(section, "collectors") == 0  ? "collector"
           : strcmp(section, "outputs") == 0   ? "output"
           : strcmp(section, "pipelines") == 0 ? "pipeline"
                                               : section;
}

/* ---- trees as YAML documents ---- */

/* Adds n to doc with its position as its marks: the id of its node, or 0 when out of memory. */
static int
add_node(yaml_document_t *doc, const struct ixd_cnode *n)
{
    yaml_node_t *node;
    size_t i;
    int id;

    if (n->kind == IXD_CNODE_SCALAR) {
        id = yaml_document_add_scalar(doc, NULL, (const yaml_char_t *)n->text, (int)strlen(n->text),
                                      n->quoted ? YAML_DOUBLE_QUOTED_SCALAR_STYLE
                                                : YAML_PLAIN_SCALAR_STYLE);
    } else if (n->kind == IXD_CNODE_SEQUENCE) {
        id = yaml_document_add_sequence(doc, NULL, YAML_BLOCK_SEQUENCE_STYLE);
        for (i = 0; id != 0 && i < n->n; i++) {
            int item = add_node(doc, &n->items[i]);
            if (item == 0 || !yaml_document_append_sequence_item(doc, id, item)) {
                return 0;
            }
        }
    } else {
        id = yaml_document_add_mapping(doc, NULL, YAML_BLOCK_MAPPING_STYLE);
        for (i = 0; id != 0 && i < n->n; i++) {
            int k = add_node(doc, &n->items[2 * i]);
            int v = k != 0 ? add_node(doc, &n->items[2 * i + 1]) : 0;
            if (v == 0 || !yaml_document_append_mapping_pair(doc, id, k, v)) {
                return 0;
            }
        }
    }
    if (id == 0) {
        return 0;
    }
    /* the node array may have moved while the items were added: look it up by id */
    node = yaml_document_get_node(doc, id);
    node->start_mark.line = n->line > 0 ? n->line - 1 : 0;
    node->start_mark.column = n->column > 0 ? n->column - 1 : 0;
    node->end_mark = node->start_mark;
    return id;
}

/* doc made of root (initialised here; the caller deletes it): 0, or -1 out of memory. */
static int
document_of(const struct ixd_cnode *root, yaml_document_t *doc)
{
    if (!yaml_document_initialize(doc, NULL, NULL, NULL, 1, 1)) {
        return -1;
    }
    if (add_node(doc, root) == 0) {
        yaml_document_delete(doc);
        return -1;
    }
    return 0;
}

struct ixd_config *
ixd_config_from_tree(const struct ixd_cnode *root, const char *name, unsigned flags, char *err,
                     size_t errlen)
{
    struct walk w;

    memset(&w, 0, sizeof(w));
    w.flags = flags;
    w.name = name;
    w.err = err;
    w.errlen = errlen;
    if (document_of(root, &w.doc) == -1) {
        snprintf(err, errlen, "%s: out of memory", name);
        return NULL;
    }
    w.cfg = ixd_cfg_new(name, err, errlen);
    if (w.cfg == NULL || ixd_cfg_walk_document(&w) == -1) {
        ixd_config_free(w.cfg);
        yaml_document_delete(&w.doc);
        return NULL;
    }
    yaml_document_delete(&w.doc);
    return w.cfg;
}

int
ixd_config_tree_parse(const char *name, const char *text, size_t len, struct ixd_cnode *out,
                      char *err, size_t errlen)
{
    yaml_parser_t parser;
    struct walk w;
    yaml_node_t *root;
    int ok = -1;

    memset(&w, 0, sizeof(w));
    memset(out, 0, sizeof(*out));
    w.name = name;
    w.err = err;
    w.errlen = errlen;
    yaml_parser_initialize(&parser);
    yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
    if (!yaml_parser_load(&parser, &w.doc)) {
        snprintf(err, errlen, "%s:%zu:%zu: %s", name, parser.problem_mark.line + 1,
                 parser.problem_mark.column + 1, parser.problem ? parser.problem : "syntax error");
        yaml_parser_delete(&parser);
        return -1;
    }
    root = yaml_document_get_root_node(&w.doc);
    if (root == NULL) {
        snprintf(err, errlen, "%s:1:1: the document is empty", name);
    } else if (root->type != YAML_MAPPING_NODE) {
        ixd_cfg_fail(&w, root, "the document must be a mapping");
    } else {
        ok = ixd_cfg_copy_document(&w, root, out);
    }
    yaml_document_delete(&w.doc);
    yaml_parser_delete(&parser);
    if (ok == -1) {
        ixd_cnode_release(out);
    }
    return ok;
}

struct yaml_text {
    char *buf;
    size_t len, cap;
    int failed;
};

static int
text_append(void *arg, unsigned char *data, size_t size)
{
    struct yaml_text *t = arg;

    if (t->len + size + 1 > t->cap) {
        size_t cap = (t->len + size + 1) * 2;
        char *grown = realloc(t->buf, cap);
        if (grown == NULL) {
            t->failed = 1;
            return 0;
        }
        t->buf = grown;
        t->cap = cap;
    }
    memcpy(t->buf + t->len, data, size);
    t->len += size;
    t->buf[t->len] = '\0';
    return 1;
}

char *
ixd_config_tree_yaml(const struct ixd_cnode *root, size_t *len)
{
    struct yaml_text t = {NULL, 0, 0, 0};
    yaml_emitter_t emitter;
    yaml_document_t doc;
    int ok;

    if (document_of(root, &doc) == -1) {
        return NULL;
    }
    yaml_emitter_initialize(&emitter);
    yaml_emitter_set_output(&emitter, text_append, &t);
    yaml_emitter_set_unicode(&emitter, 1);
    yaml_emitter_set_width(&emitter, -1); /* long values stay on one line */
    ok = yaml_emitter_open(&emitter);
    if (!ok) {
        yaml_document_delete(&doc);
    } else {
        /* dump deletes doc, also when it fails */
        ok = yaml_emitter_dump(&emitter, &doc) && yaml_emitter_close(&emitter) &&
             yaml_emitter_flush(&emitter);
    }
    yaml_emitter_delete(&emitter);
    if (!ok || t.failed || t.buf == NULL) {
        free(t.buf);
        return NULL;
    }
    *len = t.len;
    return t.buf;
}

/* ---- items by name ---- */

void
ixd_config_tree_etag(const struct ixd_cnode *item, char out[IXD_ETAG_LEN])
{
    snprintf(out, IXD_ETAG_LEN, "\"%016llx\"", (unsigned long long)ixd_cnode_digest(item));
}

const char *
ixd_config_tree_name(const struct ixd_cnode *item)
{
    const struct ixd_cnode *name = ixd_cnode_get(item, "name");

    return name != NULL && name->kind == IXD_CNODE_SCALAR ? name->text : NULL;
}

/* The value of key in mapping root, writable, or NULL. */
static struct ixd_cnode *
member(struct ixd_cnode *root, const char *key)
{
    return (struct ixd_cnode *)ixd_cnode_get(root, key);
}

const struct ixd_cnode *
ixd_config_tree_item(const struct ixd_cnode *root, const char *section, const char *name,
                     size_t *index)
{
    const struct ixd_cnode *seq = ixd_cnode_get(root, section);
    size_t i;

    for (i = 0; seq != NULL && seq->kind == IXD_CNODE_SEQUENCE && i < seq->n; i++) {
        const char *n = ixd_config_tree_name(&seq->items[i]);
        if (n != NULL && strcmp(n, name) == 0) {
            if (index != NULL) {
                *index = i;
            }
            return &seq->items[i];
        }
    }
    return NULL;
}

/* Grows mapping or sequence n by one slot pair (mapping) or slot (sequence), zeroed. */
static int
grow(struct ixd_cnode *n)
{
    size_t slots = n->kind == IXD_CNODE_MAPPING ? 2 * (n->n + 1) : n->n + 1;
    struct ixd_cnode *items = realloc(n->items, (slots + 1) * sizeof(*items));

    if (items == NULL) {
        return -1;
    }
    n->items = items;
    memset(&items[n->kind == IXD_CNODE_MAPPING ? 2 * n->n : n->n], 0,
           (n->kind == IXD_CNODE_MAPPING ? 3 : 2) * sizeof(*items));
    return 0;
}

/* The sequence of section in root, added (empty) when absent. NULL when out of memory or the
 * section is there but not a sequence. */
static struct ixd_cnode *
section_of(struct ixd_cnode *root, const char *section)
{
    struct ixd_cnode *seq = member(root, section);
    struct ixd_cnode *key;

    if (seq != NULL) {
        return seq->kind == IXD_CNODE_SEQUENCE ? seq : NULL;
    }
    if (grow(root) == -1) {
        return NULL;
    }
    key = &root->items[2 * root->n];
    key->kind = IXD_CNODE_SCALAR;
    key->text = strdup(section);
    if (key->text == NULL) {
        return NULL;
    }
    key->line = key->column = 0;
    seq = key + 1;
    seq->kind = IXD_CNODE_SEQUENCE;
    root->n++;
    return seq;
}

int
ixd_config_tree_put(struct ixd_cnode *root, const char *section, const char *name,
                    struct ixd_cnode *item)
{
    struct ixd_cnode *seq;
    size_t i;

    if (root->kind != IXD_CNODE_MAPPING || (seq = section_of(root, section)) == NULL) {
        goto fail;
    }
    if (ixd_config_tree_item(root, section, name, &i) != NULL) {
        ixd_cnode_release(&seq->items[i]);
        if (item != NULL) {
            seq->items[i] = *item;
        } else {
            memmove(&seq->items[i], &seq->items[i + 1], (seq->n - i - 1) * sizeof(*seq->items));
            seq->n--;
        }
    } else if (item != NULL) {
        if (grow(seq) == -1) {
            goto fail;
        }
        seq->items[seq->n++] = *item;
    }
    if (item != NULL) {
        memset(item, 0, sizeof(*item)); /* now root's */
    }
    return 0;
fail:
    if (item != NULL) {
        ixd_cnode_release(item);
    }
    return -1;
}

/* ---- where an error points ---- */

int
ixd_config_error_split(const char *err, const char *name, unsigned *line, unsigned *column,
                       const char **message)
{
    size_t n = strlen(name);
    unsigned long l, c;
    char *end;

    if (strncmp(err, name, n) != 0 || err[n] != ':') {
        return -1;
    }
    l = strtoul(err + n + 1, &end, 10);
    if (*end != ':') {
        return -1;
    }
    c = strtoul(end + 1, &end, 10);
    if (end[0] != ':' || end[1] != ' ') {
        return -1;
    }
    *line = (unsigned)l;
    *column = (unsigned)c;
    *message = end + 2;
    return 0;
}

int
ixd_config_tree_locate(const struct ixd_cnode *root, const char *name, const char *err,
                       char *pointer, size_t pointerlen, const char **message)
{
    unsigned line, column;

    if (pointerlen > 0) {
        pointer[0] = '\0';
    }
    if (ixd_config_error_split(err, name, &line, &column, message) == -1) {
        *message = err;
        return -1;
    }
    return ixd_cnode_pointer_at(root, line, column, pointer, pointerlen);
}
