/*
 * Plain Lua values as bytes: how a stage's settings reach init() and how ipfixd.state moves
 * from a script's old states to its new ones at a reload (each worker's own, kept under the
 * stage's key until the new state takes it).
 *
 * Format: 'n' + 8-byte double, 's' + 4-byte length + bytes, 'T' / 'F', 't' + key/value pairs +
 * 'e'. Functions, userdata, cdata and tables seen before (cycles) are left out.
 */
#include <lauxlib.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "core/cnode.h"
#include "lua/lua_internal.h"

#define BLOB_MAX (16u << 20)
#define DEPTH_MAX 32

struct out {
    GByteArray *b;
    int failed;
};

static void
put(struct out *o, const void *p, size_t n)
{
    if (o->b->len + n > BLOB_MAX) {
        o->failed = 1;
        return;
    }
    g_byte_array_append(o->b, p, (guint)n);
}

static int
put_scalar(lua_State *L, int idx, struct out *o)
{
    uint8_t tag;

    switch (lua_type(L, idx)) {
    case LUA_TNUMBER: {
        double d = lua_tonumber(L, idx);
        tag = 'n';
        put(o, &tag, 1);
        put(o, &d, sizeof(d));
        return 1;
    }
    case LUA_TSTRING: {
        size_t n;
        const char *s = lua_tolstring(L, idx, &n);
        uint32_t len = (uint32_t)n;
        tag = 's';
        put(o, &tag, 1);
        put(o, &len, sizeof(len));
        put(o, s, n);
        return 1;
    }
    case LUA_TBOOLEAN:
        tag = lua_toboolean(L, idx) ? 'T' : 'F';
        put(o, &tag, 1);
        return 1;
    default:
        return 0;
    }
}

static int keepable(lua_State *L, int idx, int depth);

static void
put_value(lua_State *L, int idx, struct out *o, int seen, int depth)
{
    uint8_t tag = 't';

    if (put_scalar(L, idx, o) || lua_type(L, idx) != LUA_TTABLE) {
        return;
    }
    put(o, &tag, 1);
    lua_pushvalue(L, idx);
    lua_pushboolean(L, 1);
    lua_rawset(L, seen);
    lua_pushnil(L);
    while (!o->failed && lua_next(L, idx) != 0) {
        int k = lua_gettop(L) - 1, v = lua_gettop(L);
        if (keepable(L, k, depth) && keepable(L, v, depth) && lua_type(L, k) != LUA_TTABLE) {
            lua_pushvalue(L, v);
            lua_rawget(L, seen);
            if (!lua_toboolean(L, -1)) {
                put_scalar(L, k, o);
                put_value(L, v, o, seen, depth + 1);
            }
            lua_pop(L, 1);
        }
        lua_pop(L, 1);
    }
    tag = 'e';
    put(o, &tag, 1);
}

static int
keepable(lua_State *L, int idx, int depth)
{
    int t = lua_type(L, idx);

    return t == LUA_TNUMBER || t == LUA_TSTRING || t == LUA_TBOOLEAN ||
           (t == LUA_TTABLE && depth < DEPTH_MAX);
}

int
ixd_lua_blob_from(lua_State *L, int idx, uint8_t **blob, size_t *len)
{
    struct out o = {g_byte_array_new(), 0};
    int seen;

    idx = idx < 0 ? lua_gettop(L) + idx + 1 : idx;
    if (!lua_checkstack(L, 3 * DEPTH_MAX + 8)) {
        g_byte_array_free(o.b, TRUE);
        return -1;
    }
    lua_newtable(L);
    seen = lua_gettop(L);
    put_value(L, idx, &o, seen, 0);
    lua_pop(L, 1);
    if (o.failed) {
        g_byte_array_free(o.b, TRUE);
        return -1;
    }
    *len = o.b->len;
    *blob = g_byte_array_free(o.b, FALSE);
    return 0;
}

/* Pushes the value at *p; -1 when the bytes are not a value */
static int
push_at(lua_State *L, const uint8_t **p, const uint8_t *end, int depth)
{
    uint8_t tag;

    if (*p >= end || depth > DEPTH_MAX || !lua_checkstack(L, 4)) {
        return -1;
    }
    tag = *(*p)++;
    switch (tag) {
    case 'n': {
        double d;
        if ((size_t)(end - *p) < sizeof(d)) {
            return -1;
        }
        memcpy(&d, *p, sizeof(d));
        *p += sizeof(d);
        lua_pushnumber(L, d);
        return 0;
    }
    case 's': {
        uint32_t n;
        if ((size_t)(end - *p) < sizeof(n)) {
            return -1;
        }
        memcpy(&n, *p, sizeof(n));
        *p += sizeof(n);
        if ((size_t)(end - *p) < n) {
            return -1;
        }
        lua_pushlstring(L, (const char *)*p, n);
        *p += n;
        return 0;
    }
    case 'T':
    case 'F':
        lua_pushboolean(L, tag == 'T');
        return 0;
    case 't':
        lua_newtable(L);
        while (*p < end && **p != 'e') {
            if (push_at(L, p, end, depth + 1) == -1 || push_at(L, p, end, depth + 1) == -1) {
                return -1;
            }
            if (lua_isnil(L, -2) ||
                (lua_isnumber(L, -2) && lua_tonumber(L, -2) != lua_tonumber(L, -2))) {
                lua_pop(L, 2);
                continue;
            }
            lua_rawset(L, -3);
        }
        if (*p >= end) {
            return -1;
        }
        (*p)++;
        return 0;
    default:
        return -1;
    }
}

void
ixd_lua_blob_push(lua_State *L, const uint8_t *blob, size_t len)
{
    const uint8_t *p = blob;
    int top = lua_gettop(L);

    if (blob == NULL || len == 0 || push_at(L, &p, blob + len, 0) == -1 || p != blob + len) {
        lua_settop(L, top);
        lua_pushnil(L);
    }
}

/* ---- settings: the stage's YAML, numbers and booleans as YAML would read them ---- */

static void
cnode_put(const struct ixd_cnode *n, struct out *o)
{
    uint8_t tag;

    if (n->kind == IXD_CNODE_SCALAR) {
        char *end;
        double d = strtod(n->text, &end);
        uint32_t len = (uint32_t)strlen(n->text);
        if (n->text[0] != '\0' && *end == '\0') {
            tag = 'n';
            put(o, &tag, 1);
            put(o, &d, sizeof(d));
        } else if (strcmp(n->text, "true") == 0 || strcmp(n->text, "false") == 0) {
            tag = n->text[0] == 't' ? 'T' : 'F';
            put(o, &tag, 1);
        } else {
            tag = 's';
            put(o, &tag, 1);
            put(o, &len, sizeof(len));
            put(o, n->text, len);
        }
        return;
    }
    tag = 't';
    put(o, &tag, 1);
    for (size_t i = 0; i < n->n; i++) {
        if (n->kind == IXD_CNODE_SEQUENCE) {
            double k = (double)(i + 1);
            tag = 'n';
            put(o, &tag, 1);
            put(o, &k, sizeof(k));
            cnode_put(&n->items[i], o);
        } else {
            uint32_t len = (uint32_t)strlen(n->items[2 * i].text);
            tag = 's';
            put(o, &tag, 1);
            put(o, &len, sizeof(len));
            put(o, n->items[2 * i].text, len);
            cnode_put(&n->items[2 * i + 1], o);
        }
    }
    tag = 'e';
    put(o, &tag, 1);
}

int
ixd_lua_blob_from_cnode(const struct ixd_cnode *n, uint8_t **blob, size_t *len)
{
    struct out o = {g_byte_array_new(), 0};

    cnode_put(n, &o);
    if (o.failed) {
        g_byte_array_free(o.b, TRUE);
        return -1;
    }
    *len = o.b->len;
    *blob = g_byte_array_free(o.b, FALSE);
    return 0;
}

/* ---- ipfixd.state across reloads ---- */

struct kept {
    char *key;
    unsigned worker;
    uint8_t *blob;
    size_t len;
    struct kept *next;
};

static pthread_mutex_t kept_lock = PTHREAD_MUTEX_INITIALIZER;
static struct kept *kept_head;

void
ixd_lua_state_save(const char *key, unsigned worker, uint8_t *blob, size_t len)
{
    struct kept *k;

    pthread_mutex_lock(&kept_lock);
    for (k = kept_head; k != NULL; k = k->next) {
        if (k->worker == worker && strcmp(k->key, key) == 0) {
            g_free(k->blob);
            k->blob = blob;
            k->len = len;
            pthread_mutex_unlock(&kept_lock);
            return;
        }
    }
    k = calloc(1, sizeof(*k));
    if (k == NULL || (k->key = strdup(key)) == NULL) {
        free(k);
        g_free(blob);
    } else {
        k->worker = worker;
        k->blob = blob;
        k->len = len;
        k->next = kept_head;
        kept_head = k;
    }
    pthread_mutex_unlock(&kept_lock);
}

int
ixd_lua_state_take(const char *key, unsigned worker, uint8_t **blob, size_t *len)
{
    struct kept **pp, *k;

    pthread_mutex_lock(&kept_lock);
    for (pp = &kept_head; *pp != NULL; pp = &(*pp)->next) {
        k = *pp;
        if (k->worker == worker && strcmp(k->key, key) == 0) {
            *pp = k->next;
            pthread_mutex_unlock(&kept_lock);
            *blob = k->blob;
            *len = k->len;
            free(k->key);
            free(k);
            return 0;
        }
    }
    pthread_mutex_unlock(&kept_lock);
    return -1;
}
