/*
 * Private to the config parser: the walk over the YAML document and the helpers
 * (config_walk.c) that config.c (the entry points, the top-level keys, log, limits, free),
 * config_elements.c, config_modules.c (the envelopes of collectors and outputs: their settings are
 * their types', src/registry/), config_pipelines.c, config_api.c and
 * config_ha.c share. Every error is reported by ixd_cfg_fail at the node it concerns.
 */
#ifndef IXD_CORE_CONFIG_INTERNAL_H
#define IXD_CORE_CONFIG_INTERNAL_H

#include <stddef.h>
#include <stdint.h>
#include <yaml.h>

#include "core/config.h"

struct walk {
    yaml_document_t doc;
    const char *name;
    char *err;
    size_t errlen;
    struct ixd_config *cfg;
    int elements_done;            /* the elements section was parsed (else its defaults apply) */
    unsigned flags;               /* enum ixd_config_flags */
    yaml_node_t *user, *group;    /* the top-level keys' values, resolved once all is parsed */
    yaml_node_t *state_directory; /* its value, where the check of the directory reports */
};

/* ---- the walk's helpers (config.c) ---- */

int ixd_cfg_fail(struct walk *w, const yaml_node_t *node, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
yaml_node_t *ixd_cfg_node(struct walk *w, int index);
const char *ixd_cfg_scalar(const yaml_node_t *n);
int ixd_cfg_want_scalar(struct walk *w, const yaml_node_t *n, const char *what, const char **out);
int ixd_cfg_want_mapping(struct walk *w, const yaml_node_t *n, const char *what);
int ixd_cfg_want_sequence(struct walk *w, const yaml_node_t *n, const char *what);
int ixd_cfg_copy_name(struct walk *w, const yaml_node_t *n, const char *what, char *dst,
                      size_t dstlen);
int ixd_cfg_get_u32(struct walk *w, const yaml_node_t *n, const char *what, uint64_t min,
                    uint64_t max, uint32_t *out);
int ixd_cfg_get_duration(struct walk *w, const yaml_node_t *n, const char *what, uint32_t *out);
int ixd_cfg_get_size(struct walk *w, const yaml_node_t *n, const char *what, size_t *out);
int ixd_cfg_get_bool(struct walk *w, const yaml_node_t *n, const char *what, int *out);

/* Notes a file or directory the config names at node n, for ixd_config_check_files. */
int ixd_cfg_note_file(struct walk *w, const yaml_node_t *n, enum ixd_config_file_use use,
                      const char *key, const char *path);
/* The same for a key file of min..max bytes (max 0: any size). */
int ixd_cfg_note_secret(struct walk *w, const yaml_node_t *n, const char *key, const char *path,
                        size_t min, size_t max);

/* Copies a YAML subtree as written, for a module that checks it later (stages, outputs). */
int ixd_cfg_copy_tree(struct walk *w, yaml_node_t *y, struct ixd_cnode *out, unsigned depth);

/* Copies the whole document as written (cfg->tree). */
int ixd_cfg_copy_document(struct walk *w, yaml_node_t *root, struct ixd_cnode *out);

/* Copies mapping m without the keys a and b (a module's envelope): what its type reads. */
int ixd_cfg_copy_except(struct walk *w, yaml_node_t *m, const char *a, const char *b,
                        struct ixd_cnode *out);

/* Iterates a mapping: calls fn for each key with its value node. */
typedef int (*ixd_cfg_key_fn)(struct walk *w, const char *key, yaml_node_t *k, yaml_node_t *v,
                              void *ctx);

int ixd_cfg_each_key(struct walk *w, yaml_node_t *map, ixd_cfg_key_fn fn, void *ctx);

/* A config with every default, named name for messages (config.c); NULL with err. */
struct ixd_config *ixd_cfg_new(const char *name, char *err, size_t errlen);
/* Walks w->doc into w->cfg, and keeps the document as written in cfg->tree: 0 or -1 (w->err). */
int ixd_cfg_walk_document(struct walk *w);

/* ---- the sections, each parsed by its own file ---- */

/* config_elements.c: the elements section, and the shipped element files when it is absent */
int ixd_cfg_parse_elements(struct walk *w, yaml_node_t *map);
int ixd_cfg_default_elements(struct walk *w, const yaml_node_t *at);

/* config_modules.c: the envelopes of collectors and outputs */
struct ixd_cfg_modules {
    const char *section;      /* "collectors" */
    const char *one;          /* "a collector", in messages */
    const char *name_what;    /* "collector name" */
    const char *selector;     /* the key that names the type: "transport" */
    const char *type_what;    /* "transport", in messages */
    const char *default_type; /* "udp" */
};
extern const struct ixd_cfg_modules ixd_cfg_collectors;
extern const struct ixd_cfg_modules ixd_cfg_outputs;
int ixd_cfg_parse_modules(struct walk *w, yaml_node_t *seq, const struct ixd_cfg_modules *what,
                          struct ixd_config_module **out, size_t *n_out);

/* config_pipelines.c */
int ixd_cfg_parse_pipelines(struct walk *w, yaml_node_t *seq);

/* config_api.c */
void ixd_cfg_api_defaults(struct ixd_config_api *api);
int ixd_cfg_parse_api(struct walk *w, yaml_node_t *v);

/* config_ha.c */
int ixd_cfg_parse_ha(struct walk *w, yaml_node_t *v);

#endif
