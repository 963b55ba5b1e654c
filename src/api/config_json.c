/* The config's trees as JSON and back (config_json.h). */
#include "api/config_json.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Nesting the API takes in an item: the config's own limit with room for the envelope. */
#define JSON_DEPTH_MAX 20

static json_t *
scalar_to_json(const struct ixd_cnode *n)
{
    const char *s = n->text;

    if (n->quoted) {
        return json_string(s);
    }
    switch (ixd_scalar_type(s)) {
    case IXD_SCALAR_NULL:
        return json_null();
    case IXD_SCALAR_BOOL:
        return json_boolean(s[0] == 't');
    case IXD_SCALAR_INTEGER: {
        char *end;
        errno = 0;
        long long v = strtoll(s, &end, 10);
        return errno == 0 ? json_integer(v) : json_string(s);
    }
    case IXD_SCALAR_REAL: {
        double d = strtod(s, NULL);
        return isfinite(d) ? json_real(d) : json_string(s);
    }
    default:
        return json_string(s);
    }
}

json_t *
api_config_to_json(const struct ixd_cnode *n)
{
    json_t *out, *v;
    size_t i;

    if (n->kind == IXD_CNODE_SCALAR) {
        return scalar_to_json(n);
    }
    out = n->kind == IXD_CNODE_SEQUENCE ? json_array() : json_object();
    for (i = 0; out != NULL && i < n->n; i++) {
        if (n->kind == IXD_CNODE_SEQUENCE) {
            v = api_config_to_json(&n->items[i]);
            if (v == NULL || json_array_append_new(out, v) == -1) {
                json_decref(out);
                return NULL;
            }
        } else {
            v = api_config_to_json(&n->items[2 * i + 1]);
            if (v == NULL || json_object_set_new(out, n->items[2 * i].text, v) == -1) {
                json_decref(out);
                return NULL;
            }
        }
    }
    return out;
}

/* The shortest decimal text that reads back as d. */
static void
real_text(double d, char *out, size_t outlen)
{
    for (int precision = 1; precision <= 17; precision++) {
        snprintf(out, outlen, "%.*g", precision, d);
        if (strtod(out, NULL) == d) {
            break;
        }
    }
    /* a whole number keeps a fraction: it was a real, and plain "3" would read as an integer */
    if (strpbrk(out, ".eEn") == NULL && strlen(out) + 2 < outlen) {
        strcat(out, ".0");
    }
}

/* Appends a pointer token to pointer (RFC 6901 escapes); a pointer too long is cut. */
static void
pointer_push(char *pointer, size_t len, const char *token)
{
    size_t at = strlen(pointer);

    if (at + 1 < len) {
        pointer[at++] = '/';
    }
    for (; *token != '\0' && at + 2 < len; token++) {
        if (*token == '~' || *token == '/') {
            pointer[at++] = '~';
            pointer[at++] = *token == '~' ? '0' : '1';
        } else {
            pointer[at++] = *token;
        }
    }
    pointer[at < len ? at : len - 1] = '\0';
}

struct from {
    char *why;
    size_t whylen;
    char *pointer;
    size_t pointerlen;
};

static int from_json(const json_t *j, struct ixd_cnode *out, unsigned depth, int top,
                     struct from *f);

static int
from_object(const json_t *j, struct ixd_cnode *out, unsigned depth, int top, struct from *f)
{
    size_t mark = strlen(f->pointer);
    const char *key;
    json_t *v;

    out->kind = IXD_CNODE_MAPPING;
    out->items = calloc(2 * json_object_size(j) + 1, sizeof(*out->items));
    if (out->items == NULL) {
        snprintf(f->why, f->whylen, "out of memory");
        return -1;
    }
    json_object_foreach((json_t *)j, key, v)
    {
        if (top && key[0] == '_') {
            continue; /* HAL's own members */
        }
        struct ixd_cnode *k = &out->items[2 * out->n];
        out->n++;
        k->kind = IXD_CNODE_SCALAR;
        k->text = strdup(key);
        if (k->text == NULL) {
            snprintf(f->why, f->whylen, "out of memory");
            return -1;
        }
        pointer_push(f->pointer, f->pointerlen, key);
        if (from_json(v, k + 1, depth + 1, 0, f) == -1) {
            return -1;
        }
        f->pointer[mark] = '\0';
    }
    return 0;
}

static int
from_array(const json_t *j, struct ixd_cnode *out, unsigned depth, struct from *f)
{
    size_t mark = strlen(f->pointer);
    char index[24];

    out->kind = IXD_CNODE_SEQUENCE;
    out->items = calloc(json_array_size(j) + 1, sizeof(*out->items));
    if (out->items == NULL) {
        snprintf(f->why, f->whylen, "out of memory");
        return -1;
    }
    for (size_t i = 0; i < json_array_size(j); i++) {
        out->n++;
        snprintf(index, sizeof(index), "%zu", i);
        pointer_push(f->pointer, f->pointerlen, index);
        if (from_json(json_array_get(j, i), &out->items[i], depth + 1, 0, f) == -1) {
            return -1;
        }
        f->pointer[mark] = '\0';
    }
    return 0;
}

static int
from_json(const json_t *j, struct ixd_cnode *out, unsigned depth, int top, struct from *f)
{
    char text[64];

    memset(out, 0, sizeof(*out));
    if (depth > JSON_DEPTH_MAX) {
        snprintf(f->why, f->whylen, "nested deeper than %d levels", JSON_DEPTH_MAX);
        return -1;
    }
    switch (json_typeof(j)) {
    case JSON_OBJECT:
        return from_object(j, out, depth, top, f);
    case JSON_ARRAY:
        return from_array(j, out, depth, f);
    case JSON_STRING:
        out->text = strndup(json_string_value(j), json_string_length(j));
        /* quoted only where plain it would read as something else: "12", "true", "" */
        out->quoted = out->text != NULL && ixd_scalar_type(out->text) != IXD_SCALAR_STRING;
        break;
    case JSON_INTEGER:
        snprintf(text, sizeof(text), "%" JSON_INTEGER_FORMAT, json_integer_value(j));
        out->text = strdup(text);
        break;
    case JSON_REAL:
        real_text(json_real_value(j), text, sizeof(text));
        out->text = strdup(text);
        break;
    case JSON_TRUE:
    case JSON_FALSE:
        out->text = strdup(json_is_true(j) ? "true" : "false");
        break;
    default:
        out->text = strdup(""); /* null: a key with no value, as YAML writes it */
        break;
    }
    out->kind = IXD_CNODE_SCALAR;
    if (out->text == NULL) {
        snprintf(f->why, f->whylen, "out of memory");
        return -1;
    }
    return 0;
}

int
api_config_from_json(const json_t *j, struct ixd_cnode *out, char *why, size_t whylen,
                     char *pointer, size_t pointerlen)
{
    struct from f = {why, whylen, pointer, pointerlen};

    pointer[0] = '\0';
    if (!json_is_object(j)) {
        snprintf(why, whylen, "must be a JSON object");
        memset(out, 0, sizeof(*out));
        return -1;
    }
    if (from_json(j, out, 0, 1, &f) == -1) {
        ixd_cnode_release(out);
        return -1;
    }
    return 0;
}

json_t *
api_merge_patch(json_t *target, const json_t *patch)
{
    const char *key;
    json_t *v;

    if (!json_is_object(patch)) {
        json_decref(target);
        return json_deep_copy(patch);
    }
    if (!json_is_object(target)) {
        json_decref(target);
        target = json_object();
        if (target == NULL) {
            return NULL;
        }
    }
    json_object_foreach((json_t *)patch, key, v)
    {
        if (json_is_null(v)) {
            json_object_del(target, key);
            continue;
        }
        json_t *merged = api_merge_patch(json_incref(json_object_get(target, key)), v);
        if (merged == NULL || json_object_set_new(target, key, merged) == -1) {
            json_decref(target);
            return NULL;
        }
    }
    return target;
}
