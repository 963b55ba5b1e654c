/* The config's trees as the API shows and takes them: JSON with the config file's keys. */
#ifndef IXD_API_CONFIG_JSON_H
#define IXD_API_CONFIG_JSON_H

#include <jansson.h>
#include <stddef.h>

#include "core/cnode.h"

/*
 * n as JSON: mappings as objects, sequences as arrays, a quoted scalar as a string, a plain
 * one as what YAML would read it as: an integer, true or false, null (empty or ~), a number with
 * a fraction or an exponent, or else a string. NULL when out of memory.
 */
json_t *api_config_to_json(const struct ixd_cnode *n);

/*
 * j as a tree: strings quoted, numbers and booleans plain, null as an empty value. Members of
 * the top object whose name starts with '_' (HAL's _links, _templates, _embedded) are left out.
 * 0, or -1 with why and the JSON pointer of what cannot be a config value.
 */
int api_config_from_json(const json_t *j, struct ixd_cnode *out, char *why, size_t whylen,
                         char *pointer, size_t pointerlen);

/* RFC 7386: patch merged into target (taken over); the result, or NULL when out of memory. */
json_t *api_merge_patch(json_t *target, const json_t *patch);

#endif
