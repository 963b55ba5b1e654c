/*
 * The API's changes to the config (api.writes, docs/api.md#config): items of collectors, outputs
 * and pipelines put or removed by name, kept apart from the operator's file and merged over it
 * on every build of the running config. With api.writes: persist they are kept in the state
 * directory (IXD_API_CONFIG_FILE) and merged again at start; the operator's file is never
 * written. Control thread only.
 */
#ifndef IXD_DAEMON_CONFIG_CHANGES_H
#define IXD_DAEMON_CONFIG_CHANGES_H

#include <stddef.h>

#include "core/cnode.h"
#include "core/config.h"

/*
 * The changes, as a mapping: each section a sequence of items put, and "removed" a mapping of
 * sections to the names removed from the file's items. A plain value: copied for a change that
 * may not apply, and kept only once it did.
 */
struct ixd_config_changes {
    struct ixd_cnode doc;
    unsigned next_line; /* the position the next item taken is numbered from */
};

void ixd_config_changes_init(struct ixd_config_changes *c);
void ixd_config_changes_release(struct ixd_config_changes *c);
int ixd_config_changes_copy(struct ixd_config_changes *dst, const struct ixd_config_changes *src);
/* 1 when there are none. */
int ixd_config_changes_empty(const struct ixd_config_changes *c);

/*
 * Records item (taken over, numbered from c->next_line; NULL: a removal) as the new state of
 * section/name. base is the operator's tree: a removal of an item it has is kept as one, the
 * removal of an item only the changes had just forgets it. 0, or -1 when out of memory.
 */
int ixd_config_changes_put(struct ixd_config_changes *c, const struct ixd_cnode *base,
                           const char *section, const char *name, struct ixd_cnode *item);

/*
 * Before the first pipeline written into a config without pipelines (where every collector feeds
 * every output): that implicit pipeline, "default", put as an item naming the collectors and
 * outputs of merged (base with c over it), so that what flowed still flows. 0 (also when merged
 * has pipelines), or -1 when out of memory.
 */
int ixd_config_changes_explicit_default(struct ixd_config_changes *c, const struct ixd_cnode *base,
                                        const struct ixd_cnode *merged);

/* base with c over it, in out (a new tree): 0, or -1 when out of memory. */
int ixd_config_changes_merge(const struct ixd_config_changes *c, const struct ixd_cnode *base,
                             struct ixd_cnode *out);

/*
 * The changes kept in path (api.writes: persist): 0 with c filled (empty when there is no file),
 * or -1 with why in err (a file that is not ipfixd's changes).
 */
int ixd_config_changes_load(struct ixd_config_changes *c, const char *path, char *err,
                            size_t errlen);
/* Writes c to path atomically (a new file renamed over it, mode 0600): 0, or -1 with err. */
int ixd_config_changes_save(const struct ixd_config_changes *c, const char *path, char *err,
                            size_t errlen);

/* "<state-directory>/api-config.yaml" of cfg, or "" without a state directory. */
void ixd_config_changes_path(const struct ixd_config *cfg, char *out, size_t outlen);

/*
 * A config error about tree (built from it under name) for a log line or a problem: as it is
 * when it points into a file, "<name> at <JSON pointer>: message" when it points at an item the
 * API wrote.
 */
void ixd_config_changes_describe(const struct ixd_cnode *tree, const char *name, const char *err,
                                 char *out, size_t outlen);

#endif
