/* The API's changes to the config, kept apart from the operator's file (config_changes.h). */
#include "daemon/config_changes.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/config_tree.h"
#include "core/file.h"
#include "core/parse.h"

#define REMOVED "removed"
#define CHANGES_MAX (4u << 20) /* bytes of a changes file, as of a config file */

void
ixd_config_changes_init(struct ixd_config_changes *c)
{
    memset(c, 0, sizeof(*c));
    c->doc.kind = IXD_CNODE_MAPPING;
    c->next_line = IXD_CONFIG_TREE_LINE;
}

void
ixd_config_changes_release(struct ixd_config_changes *c)
{
    ixd_cnode_release(&c->doc);
    ixd_config_changes_init(c);
}

int
ixd_config_changes_copy(struct ixd_config_changes *dst, const struct ixd_config_changes *src)
{
    dst->next_line = src->next_line;
    return ixd_cnode_copy(&dst->doc, &src->doc);
}

int
ixd_config_changes_empty(const struct ixd_config_changes *c)
{
    const struct ixd_cnode *removed = ixd_cnode_get(&c->doc, REMOVED);
    size_t i;

    for (i = 0; i < 3; i++) {
        const struct ixd_cnode *items = ixd_cnode_get(&c->doc, ixd_config_tree_sections[i]);
        const struct ixd_cnode *names = ixd_cnode_get(removed, ixd_config_tree_sections[i]);
        if ((items != NULL && items->n > 0) || (names != NULL && names->n > 0)) {
            return 0;
        }
    }
    return 1;
}

/* The index of name in sequence seq of scalars, or -1. */
static long
name_index(const struct ixd_cnode *seq, const char *name)
{
    for (size_t i = 0; seq != NULL && seq->kind == IXD_CNODE_SEQUENCE && i < seq->n; i++) {
        if (seq->items[i].kind == IXD_CNODE_SCALAR && strcmp(seq->items[i].text, name) == 0) {
            return (long)i;
        }
    }
    return -1;
}

/* The writable value of key in mapping m, added as an empty collection of kind when absent. */
static struct ixd_cnode *
member_of(struct ixd_cnode *m, const char *key, enum ixd_cnode_kind kind)
{
    struct ixd_cnode *v = (struct ixd_cnode *)ixd_cnode_get(m, key), *items;

    if (v != NULL) {
        return v->kind == kind ? v : NULL;
    }
    items = realloc(m->items, (2 * m->n + 3) * sizeof(*items));
    if (items == NULL) {
        return NULL;
    }
    m->items = items;
    memset(&items[2 * m->n], 0, 3 * sizeof(*items));
    items[2 * m->n].text = strdup(key);
    if (items[2 * m->n].text == NULL) {
        return NULL;
    }
    items[2 * m->n + 1].kind = kind;
    m->n++;
    return &items[2 * m->n - 1];
}

/* Appends a string scalar to sequence n. */
static int
add_scalar(struct ixd_cnode *n, const char *text)
{
    struct ixd_cnode *items = realloc(n->items, (n->n + 2) * sizeof(*items));

    if (items == NULL) {
        return -1;
    }
    n->items = items;
    memset(&items[n->n], 0, sizeof(*items));
    items[n->n].kind = IXD_CNODE_SCALAR;
    items[n->n].text = strdup(text);
    if (items[n->n].text == NULL) {
        return -1;
    }
    items[n->n].quoted = ixd_scalar_type(text) != IXD_SCALAR_STRING;
    n->n++;
    return 0;
}

/* Notes (or forgets) that name was removed from section of the operator's file. */
static int
note_removed(struct ixd_config_changes *c, const char *section, const char *name, int removed)
{
    struct ixd_cnode *all, *names;
    long at;

    if (!removed && ixd_cnode_get(ixd_cnode_get(&c->doc, REMOVED), section) == NULL) {
        return 0; /* nothing to forget: add no empty list */
    }
    all = member_of(&c->doc, REMOVED, IXD_CNODE_MAPPING);
    names = all != NULL ? member_of(all, section, IXD_CNODE_SEQUENCE) : NULL;
    if (names == NULL) {
        return -1;
    }
    at = name_index(names, name);
    if (!removed && at >= 0) {
        ixd_cnode_release(&names->items[at]);
        memmove(&names->items[at], &names->items[at + 1],
                (names->n - (size_t)at - 1) * sizeof(*names->items));
        names->n--;
    } else if (removed && at < 0) {
        if (add_scalar(names, name) == -1) {
            return -1;
        }
        c->next_line = ixd_cnode_number(&names->items[names->n - 1], c->next_line);
    }
    return 0;
}

int
ixd_config_changes_put(struct ixd_config_changes *c, const struct ixd_cnode *base,
                       const char *section, const char *name, struct ixd_cnode *item)
{
    if (item != NULL) {
        c->next_line = ixd_cnode_number(item, c->next_line);
        if (ixd_config_tree_put(&c->doc, section, name, item) == -1) {
            return -1;
        }
        return note_removed(c, section, name, 0);
    }
    if (ixd_config_tree_put(&c->doc, section, name, NULL) == -1) {
        return -1;
    }
    return note_removed(c, section, name, ixd_config_tree_item(base, section, name, NULL) != NULL);
}

/* The names of the items of section in tree, as a sequence added to mapping m under key. */
static int
add_names(struct ixd_cnode *m, const char *key, const struct ixd_cnode *tree, const char *section)
{
    const struct ixd_cnode *items = ixd_cnode_get(tree, section);
    struct ixd_cnode *seq = member_of(m, key, IXD_CNODE_SEQUENCE);

    if (seq == NULL) {
        return -1;
    }
    for (size_t i = 0; items != NULL && i < items->n; i++) {
        const char *name = ixd_config_tree_name(&items->items[i]);
        if (name != NULL && add_scalar(seq, name) == -1) {
            return -1;
        }
    }
    return 0;
}

int
ixd_config_changes_explicit_default(struct ixd_config_changes *c, const struct ixd_cnode *base,
                                    const struct ixd_cnode *merged)
{
    struct ixd_cnode item = {.kind = IXD_CNODE_MAPPING};
    struct ixd_cnode *name;

    if (ixd_cnode_get(merged, "pipelines") != NULL) {
        return 0;
    }
    name = member_of(&item, "name", IXD_CNODE_SCALAR);
    if (name == NULL || (name->text = strdup("default")) == NULL ||
        add_names(&item, "from", merged, "collectors") == -1 ||
        add_names(&item, "to", merged, "outputs") == -1) {
        ixd_cnode_release(&item);
        return -1;
    }
    /* mappings count pairs: member_of kept n right; sequences were filled in place */
    return ixd_config_changes_put(c, base, "pipelines", "default", &item);
}

int
ixd_config_changes_merge(const struct ixd_config_changes *c, const struct ixd_cnode *base,
                         struct ixd_cnode *out)
{
    const struct ixd_cnode *removed = ixd_cnode_get(&c->doc, REMOVED);
    size_t i, k;

    if (ixd_cnode_copy(out, base) == -1) {
        return -1;
    }
    for (i = 0; i < 3; i++) {
        const char *section = ixd_config_tree_sections[i];
        const struct ixd_cnode *names = ixd_cnode_get(removed, section);
        const struct ixd_cnode *items = ixd_cnode_get(&c->doc, section);

        for (k = 0; names != NULL && k < names->n; k++) {
            if (ixd_config_tree_put(out, section, names->items[k].text, NULL) == -1) {
                goto fail;
            }
        }
        for (k = 0; items != NULL && k < items->n; k++) {
            struct ixd_cnode copy;
            if (ixd_cnode_copy(&copy, &items->items[k]) == -1 ||
                ixd_config_tree_put(out, section, ixd_config_tree_name(&items->items[k]), &copy) ==
                    -1) {
                goto fail;
            }
        }
    }
    return 0;
fail:
    ixd_cnode_release(out);
    return -1;
}

/* What a changes file must look like: sections of named items, and names removed. */
static int
check_shape(const struct ixd_cnode *doc, const char *path, char *err, size_t errlen)
{
    for (size_t i = 0; i < doc->n; i++) {
        const struct ixd_cnode *k = &doc->items[2 * i], *v = &doc->items[2 * i + 1];
        if (strcmp(k->text, REMOVED) == 0) {
            if (v->kind != IXD_CNODE_MAPPING) {
                return ixd_cnode_fail(v, path, err, errlen, "removed must be a mapping");
            }
            for (size_t s = 0; s < v->n; s++) {
                const struct ixd_cnode *names = &v->items[2 * s + 1];
                if (!ixd_config_tree_section(v->items[2 * s].text) ||
                    names->kind != IXD_CNODE_SEQUENCE) {
                    return ixd_cnode_fail(&v->items[2 * s], path, err, errlen,
                                          "removed holds lists of collectors, outputs or "
                                          "pipelines");
                }
                for (size_t n = 0; n < names->n; n++) {
                    if (names->items[n].kind != IXD_CNODE_SCALAR) {
                        return ixd_cnode_fail(&names->items[n], path, err, errlen,
                                              "a removed item is named by a string");
                    }
                }
            }
            continue;
        }
        if (!ixd_config_tree_section(k->text) || v->kind != IXD_CNODE_SEQUENCE) {
            return ixd_cnode_fail(k, path, err, errlen,
                                  "'%s' is not one of collectors, outputs, pipelines, removed",
                                  k->text);
        }
        for (size_t n = 0; n < v->n; n++) {
            if (ixd_config_tree_name(&v->items[n]) == NULL) {
                return ixd_cnode_fail(&v->items[n], path, err, errlen, "an item needs a name");
            }
        }
    }
    return 0;
}

int
ixd_config_changes_load(struct ixd_config_changes *c, const char *path, char *err, size_t errlen)
{
    char *text = NULL;
    size_t len = 0;
    int ok;

    ixd_config_changes_init(c);
    if (ixd_read_file(path, CHANGES_MAX, &text, &len) == -1) {
        if (errno == ENOENT) {
            return 0; /* no change was ever kept */
        }
        snprintf(err, errlen, "%s: cannot read: %s", path, ixd_read_error(errno));
        return -1;
    }
    ok = ixd_config_tree_parse(path, text, len, &c->doc, err, errlen);
    free(text);
    if (ok == -1) {
        ixd_config_changes_init(c);
        return -1;
    }
    if (check_shape(&c->doc, path, err, errlen) == -1) {
        ixd_config_changes_release(c);
        return -1;
    }
    /* positions of no file, as the API's items have: a message about them names a pointer */
    c->next_line = ixd_cnode_number(&c->doc, IXD_CONFIG_TREE_LINE);
    return 0;
}

int
ixd_config_changes_save(const struct ixd_config_changes *c, const char *path, char *err,
                        size_t errlen)
{
    size_t len = 0;
    char *text = ixd_config_tree_yaml(&c->doc, &len);

    if (text == NULL) {
        snprintf(err, errlen, "%s: out of memory", path);
        return -1;
    }
    if (ixd_file_replace(path, text, len, 0600) == -1) {
        snprintf(err, errlen, "cannot write %s: %s", path, strerror(errno));
        free(text);
        return -1;
    }
    free(text);
    return 0;
}

void
ixd_config_changes_path(const struct ixd_config *cfg, char *out, size_t outlen)
{
    if (cfg->state_directory[0] == '\0') {
        out[0] = '\0';
        return;
    }
    snprintf(out, outlen, "%s/%s", cfg->state_directory, IXD_API_CONFIG_FILE);
}

void
ixd_config_changes_describe(const struct ixd_cnode *tree, const char *name, const char *err,
                            char *out, size_t outlen)
{
    char pointer[256];
    const char *message;
    unsigned line, column;

    if (ixd_config_error_split(err, name, &line, &column, &message) == 0 &&
        line >= IXD_CONFIG_TREE_LINE &&
        ixd_cnode_pointer_at(tree, line, column, pointer, sizeof(pointer)) == 0) {
        snprintf(out, outlen, "%s at %s (written through the API): %s", name, pointer, message);
        return;
    }
    snprintf(out, outlen, "%s", err);
}
