/*
 * The config as written (struct ixd_config.tree), as the API's writes change it: items of the
 * sections collectors, outputs and pipelines found, replaced and removed by name, a config built
 * from a tree exactly as from a file (the same checks, the same messages), and trees read from
 * and written to YAML text. docs/api.md#config, docs/internals/config-writes.md.
 */
#ifndef IXD_CORE_CONFIG_TREE_H
#define IXD_CORE_CONFIG_TREE_H

#include <stddef.h>
#include <stdint.h>

#include "core/cnode.h"
#include "core/config.h"

/* Nodes numbered from this line on (ixd_cnode_number) came from no file: the API's items. A
 * message at such a line is located by its JSON pointer instead (ixd_config_tree_locate). */
#define IXD_CONFIG_TREE_LINE 1000000000u

/* The sections whose items the API writes, by name. */
extern const char *const ixd_config_tree_sections[3];
/* One item of section, in messages: "collector", "output", "pipeline". */
const char *ixd_config_tree_one(const char *section);
/* 1 when section is one of them. */
int ixd_config_tree_section(const char *section);

/*
 * Builds and checks the config root describes, as ixd_config_parse_flags does for text: NULL
 * with "name:line:col: message" in err, the position a node of root has.
 */
struct ixd_config *ixd_config_from_tree(const struct ixd_cnode *root, const char *name,
                                        unsigned flags, char *err, size_t errlen);

/* The item of section named name in root (its index in *index when not NULL), or NULL. */
const struct ixd_cnode *ixd_config_tree_item(const struct ixd_cnode *root, const char *section,
                                             const char *name, size_t *index);

/*
 * Puts item (taken over: root owns it after, whatever the result) in section of root, in
 * place of the item of the same name or after the last; item NULL removes the item named
 * name. A section left empty stays, empty. 0, or -1 when out of memory or root is not a
 * mapping.
 */
int ixd_config_tree_put(struct ixd_cnode *root, const char *section, const char *name,
                        struct ixd_cnode *item);

/* An item's ETag: its digest quoted, "\"" + 16 hex digits + "\"" (RFC 9110, strong). */
#define IXD_ETAG_LEN 24
void ixd_config_tree_etag(const struct ixd_cnode *item, char out[IXD_ETAG_LEN]);

/* An item's "name", or NULL when it has none (not a mapping, or no scalar name). */
const char *ixd_config_tree_name(const struct ixd_cnode *item);

/* Parses YAML text into a tree, nothing checked but the syntax: 0, or -1 with err. */
int ixd_config_tree_parse(const char *name, const char *text, size_t len, struct ixd_cnode *out,
                          char *err, size_t errlen);

/* root as YAML text (malloc'd, NUL-terminated; *len without it), or NULL when out of memory. */
char *ixd_config_tree_yaml(const struct ixd_cnode *root, size_t *len);

/*
 * Splits an error of a config named name ("name:line:col: message"): 0 with the position and
 * the message, or -1 when err is not of that form.
 */
int ixd_config_error_split(const char *err, const char *name, unsigned *line, unsigned *column,
                           const char **message);

/*
 * Where in root an error of a config built from it points: the JSON pointer of its node in
 * pointer ("" for the whole document) and its message in *message. 0, or -1 when the error
 * names no node of root (the pointer is then "").
 */
int ixd_config_tree_locate(const struct ixd_cnode *root, const char *name, const char *err,
                           char *pointer, size_t pointerlen, const char **message);

#endif
