/* What the files of /api/v1/config share (config.c reads, config_write.c writes,
 * config_forms.c the HAL-FORMS templates). */
#ifndef IXD_API_CONFIG_H
#define IXD_API_CONFIG_H

#include <jansson.h>
#include <pthread.h>

#include "api/internal.h"
#include "core/cnode.h"

struct api_config {
    pthread_mutex_t lock; /* tree, between the control thread and the server's */
    struct ixd_cnode tree;
    int have_tree;
    struct ixd_api_config_hooks hooks;
    int have_hooks;
    enum ixd_api_writes writes;
    enum ixd_api_role pipeline_role;
    char audit_log[IXD_PATH_MAX];
};

enum api_config_target {
    API_CFG_NONE,
    API_CFG_CONFIG,     /* /api/v1/config */
    API_CFG_VALIDATION, /* /api/v1/config/validation */
    API_CFG_SECTION,    /* /api/v1/config/outputs */
    API_CFG_ITEM,       /* /api/v1/config/outputs/NAME */
    API_CFG_STAGE,      /* /api/v1/config/pipelines/NAME/stages/N/reload */
};

struct api_config_where {
    enum api_config_target target;
    char section[16];
    char name[IXD_NAME_MAX];
    size_t stage;
};

/* What path names (under /api/v1/config), in *w; API_CFG_NONE when nothing. */
enum api_config_target api_config_path(const char *path, struct api_config_where *w);
/* The methods target takes, for Allow. */
const char *api_config_allowed(enum api_config_target t);

/* A copy of the running tree (section NULL), of a section's sequence (name NULL) or of an item
 * (its index in *index when not NULL): 0, or -1 when there is none. Any thread. */
int api_config_snapshot(struct api_config *c, const char *section, const char *name,
                        struct ixd_cnode *out, size_t *index);

/* An item as GET shows it: its config with _links and _templates. */
json_t *api_config_item_json(const struct ixd_cnode *item, const char *section, const char *name);

/* HAL-FORMS (config_forms.c): the writes an item takes, and a section's creation form. */
json_t *api_config_item_templates(const char *section, const struct ixd_cnode *item);
json_t *api_config_section_templates(const char *section);

#endif
