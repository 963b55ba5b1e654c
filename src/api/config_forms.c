/*
 * HAL-FORMS templates of /api/v1/config (docs/api.md#config): the writes a resource takes, and
 * for an item the properties its type reads, from the type's own table of keys (core/keys.h),
 * so that a form never lists a key the config would refuse nor misses one it takes.
 */
#include <stdio.h>
#include <string.h>

#include "api/config.h"
#include "core/config_tree.h"
#include "core/keys.h"
#include "registry/registry.h"

/* The HTML input type a key is written with. */
static const char *
input_type(enum ixd_key_kind kind)
{
    switch (kind) {
    case IXD_KEY_BOOL:
        return "checkbox";
    case IXD_KEY_U32:
        return "number";
    default:
        return "text";
    }
}

static json_t *
property(const char *name, const char *prompt, int required)
{
    return json_pack("{s:s, s:s, s:b}", "name", name, "prompt", prompt, "required", required);
}

/* The properties of a table of keys, an included table's keys in line (they sit beside). */
static void
key_properties(const struct ixd_key *keys, json_t *out)
{
    for (const struct ixd_key *k = keys; k != NULL && k->name != NULL; k++) {
        json_t *p;

        if (k->kind == IXD_KEY_INCLUDE) {
            key_properties(k->include, out);
            continue;
        }
        p = property(k->name, k->help != NULL ? k->help : k->name, 0);
        json_object_set_new(p, "type", json_string(input_type(k->kind)));
        if (k->def != NULL) {
            json_object_set_new(p, "value", json_string(k->def));
        }
        if (k->kind == IXD_KEY_U32 && k->max > 0) {
            json_object_set_new(p, "min", json_integer((json_int_t)k->min));
            json_object_set_new(p, "max", json_integer((json_int_t)k->max));
        }
        if (k->kind == IXD_KEY_ENUM && k->choices != NULL) {
            json_t *inline_ = json_array();
            for (const char *const *c = k->choices; *c != NULL; c++) {
                json_array_append_new(inline_, json_string(*c));
            }
            json_object_set_new(p, "options", json_pack("{s:o}", "inline", inline_));
        }
        json_array_append_new(out, p);
    }
}

/* The names of the types a section's items may have, as HAL-FORMS inline options. */
static json_t *
type_options(const char *section)
{
    json_t *names = json_array();
    size_t i;

    if (strcmp(section, "collectors") == 0) {
        for (i = 0; ixd_input_types[i] != NULL; i++) {
            json_array_append_new(names, json_string(ixd_input_types[i]->m.name));
        }
    } else {
        for (i = 0; ixd_output_types[i] != NULL; i++) {
            json_array_append_new(names, json_string(ixd_output_types[i]->m.name));
        }
    }
    return json_pack("{s:o}", "inline", names);
}

/* The key that names an item's type: collectors' transport, outputs' type. */
static const char *
selector(const char *section)
{
    return strcmp(section, "collectors") == 0 ? "transport" : "type";
}

/* The properties of an item of section whose type is type (NULL: not known yet). */
static json_t *
item_properties(const char *section, const char *type, int name_read_only)
{
    json_t *props = json_array(), *p;
    const struct ixd_key *keys = NULL;

    p = property("name", "its name, as pipelines and the API name it", 1);
    if (name_read_only) {
        json_object_set_new(p, "readOnly", json_true());
    }
    json_array_append_new(props, p);
    if (strcmp(section, "pipelines") == 0) {
        json_array_append_new(props, property("from", "the collectors it reads", 1));
        json_array_append_new(props, property("to", "the outputs it feeds", 1));
        json_array_append_new(props, property("stages", "its stages, in order", 0));
        return props;
    }
    p = property(selector(section), "its type", strcmp(section, "outputs") == 0);
    json_object_set_new(p, "options", type_options(section));
    if (type != NULL) {
        json_object_set_new(p, "value", json_string(type));
    }
    json_array_append_new(props, p);
    if (type != NULL && strcmp(section, "collectors") == 0 && ixd_input_type_named(type)) {
        keys = ixd_input_type_named(type)->m.keys;
    } else if (type != NULL && strcmp(section, "outputs") == 0 && ixd_output_type_named(type)) {
        keys = ixd_output_type_named(type)->m.keys;
    }
    key_properties(keys, props);
    return props;
}

json_t *
api_config_item_templates(const char *section, const struct ixd_cnode *item)
{
    const struct ixd_cnode *t = ixd_cnode_get(item, selector(section));
    const char *type = t != NULL && t->kind == IXD_CNODE_SCALAR ? t->text
                       : strcmp(section, "collectors") == 0     ? "udp"
                                                                : NULL;

    return json_pack("{s:{s:s, s:s, s:s, s:o}, s:{s:s, s:s, s:s, s:o}, s:{s:s, s:s}}", "default",
                     "title", "Replace", "method", "PUT", "contentType", "application/json",
                     "properties", item_properties(section, type, 1), "patch", "title", "Change",
                     "method", "PATCH", "contentType", "application/merge-patch+json", "properties",
                     item_properties(section, type, 1), "delete", "title", "Remove", "method",
                     "DELETE");
}

json_t *
api_config_section_templates(const char *section)
{
    char target[128];

    snprintf(target, sizeof(target), API_PREFIX "/config/%s", section);
    return json_pack("{s:{s:s, s:s, s:s, s:s, s:o}}", "default", "title", "Create", "method",
                     "POST", "target", target, "contentType", "application/json", "properties",
                     item_properties(section, NULL, 0));
}
