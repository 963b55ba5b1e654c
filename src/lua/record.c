/*
 * Records as a script sees them: values by element name (docs/lua.md#records), assignments
 * (in place, or into a derived template), r:remove(), r:sampling_rate(), and emit{...}.
 *
 * The driver reads the common fixed-size numbers of JIT states itself; everything else comes
 * here: addresses, strings, times in NTP form, metadata, fields after a variable-length one,
 * records of layouts past the cap, and every field of an interpreted state.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <lauxlib.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include "ipfix/sampling.h"
#include "ipfix/template.h"
#include "ipfix/wire.h"
#include "lua/lua_internal.h"

#define SERIALS_MAX 4096
#define VALUE_MAX 65535

enum key_kind {
    KEY_FIELD,
    KEY_COLLECTOR,
    KEY_EXPORTER,
    KEY_EXPORTER_PORT,
    KEY_ODID,
    KEY_TEMPLATE,
    KEY_RECEIVED,
    KEY_OPTIONS,
    KEY_LATE,
    KEY_METHOD,
    KEY_NONE,
};

struct key {
    enum key_kind kind;
    uint32_t pen;
    uint16_t id;
    const struct ixd_ie *ie; /* NULL: not in the information model */
};

static const struct {
    const char *name;
    enum key_kind kind;
} meta_keys[] = {
    {"@collector", KEY_COLLECTOR},
    {"@exporter", KEY_EXPORTER},
    {"@exporter_port", KEY_EXPORTER_PORT},
    {"@odid", KEY_ODID},
    {"@template", KEY_TEMPLATE},
    {"@received", KEY_RECEIVED},
    {"@options", KEY_OPTIONS},
    {"@late", KEY_LATE},
};

static const char *const methods[] = {"sampling_rate", "remove", "fields", NULL};

static struct ixd_lua_state *
state_of(lua_State *L)
{
    return lua_touserdata(L, lua_upvalueindex(1));
}

/* "en9:id12232", "id300" (what JSON writes for elements the model lacks) */
static int
numeric_key(const char *k, uint32_t *pen, uint16_t *id)
{
    unsigned long p = 0, i;
    char *end;

    if (strncmp(k, "en", 2) == 0) {
        errno = 0;
        p = strtoul(k + 2, &end, 10);
        if (end == k + 2 || errno != 0 || p > UINT32_MAX || strncmp(end, ":id", 3) != 0) {
            return -1;
        }
        k = end + 1;
    }
    if (strncmp(k, "id", 2) != 0 || k[2] < '0' || k[2] > '9') {
        return -1;
    }
    errno = 0;
    i = strtoul(k + 2, &end, 10);
    if (*end != '\0' || errno != 0 || i > 0x7fff) {
        return -1;
    }
    *pen = (uint32_t)p;
    *id = (uint16_t)i;
    return 0;
}

static void
resolve(const struct ixd_lua_state *st, const char *k, struct key *out)
{
    const struct ixd_ie *ie;

    memset(out, 0, sizeof(*out));
    if (k[0] == '@') {
        out->kind = KEY_NONE;
        for (size_t i = 0; i < sizeof(meta_keys) / sizeof(meta_keys[0]); i++) {
            if (strcmp(k, meta_keys[i].name) == 0) {
                out->kind = meta_keys[i].kind;
            }
        }
        return;
    }
    ie = ixd_ie_lookup_name(st->conf->registry, k);
    if (ie != NULL) {
        out->kind = KEY_FIELD;
        out->pen = ie->pen;
        out->id = ie->id;
        out->ie = ie;
        return;
    }
    if (numeric_key(k, &out->pen, &out->id) == 0) {
        out->kind = KEY_FIELD;
        out->ie = ixd_ie_lookup(st->conf->registry, out->pen, out->id);
        return;
    }
    out->kind = KEY_NONE;
    for (size_t i = 0; methods[i] != NULL; i++) {
        if (strcmp(k, methods[i]) == 0) {
            out->kind = KEY_METHOD;
        }
    }
}

/* Names the script used lately, resolved: the interpreter's every field access comes here.
 * LuaJIT's strings are interned, so a name is one pointer for as long as the string lives, and
 * each cached name's string is kept alive (a table in the registry holds it) until its entry
 * is replaced: a pointer then means one name. */
#define KEY_CACHE 128

struct key_cache {
    const char *ptr[KEY_CACHE];
    struct key key[KEY_CACHE];
};

/* The key named by the string at idx (k: its text). */
static void
resolve_cached(lua_State *L, struct ixd_lua_state *st, int idx, const char *k, struct key *out)
{
    struct key_cache *c = st->key_cache;
    size_t h = ((uintptr_t)k >> 4) % KEY_CACHE;

    if (c != NULL && c->ptr[h] == k) {
        *out = c->key[h];
        return;
    }
    resolve(st, k, out);
    if (c == NULL) {
        c = st->key_cache = calloc(1, sizeof(*c));
        if (c == NULL) {
            return;
        }
    }
    lua_rawgeti(L, LUA_REGISTRYINDEX, st->ref_anchors);
    lua_pushvalue(L, idx);
    lua_rawseti(L, -2, (int)h + 1);
    lua_pop(L, 1);
    c->ptr[h] = k;
    c->key[h] = *out;
}

/* A record of an interpreted state: a userdata of these bytes (the slot, then a mark no other
 * userdata a script can get has). */
#define RECORD_UD_SIZE 5
static const uint8_t record_mark[3] = {'I', 'X', 'R'};

/*
 * The slot at idx: a number (the driver's), a record userdata, or (cdata_ok: called as the
 * generic FFI type's metamethod, whose first argument is one of its records) a reference.
 * Anything else, and a slot that holds no record (a record kept past the call that handed it
 * over), raise an error.
 */
static struct ixd_lua_slot *
slot_at(lua_State *L, struct ixd_lua_state *st, int idx, int cdata_ok, unsigned *s)
{
    unsigned n = IXD_LUA_SLOTS;
    int t = lua_type(L, idx);

    if (t == LUA_TNUMBER) {
        lua_Number v = lua_tonumber(L, idx);
        n = v >= 0 && v < IXD_LUA_SLOTS ? (unsigned)v : IXD_LUA_SLOTS;
    } else if (t == LUA_TUSERDATA && lua_objlen(L, idx) == RECORD_UD_SIZE) {
        const uint8_t *u = lua_touserdata(L, idx);
        if (memcmp(u + 2, record_mark, sizeof(record_mark)) == 0) {
            n = (unsigned)(u[0] | u[1] << 8);
        }
    } else if (t == LUA_TCDATA_ && cdata_ok) {
        /* a reference: its payload is the address of the slot number */
        const uint16_t *const *ref = lua_topointer(L, idx);
        n = ref != NULL && *ref != NULL ? **ref : IXD_LUA_SLOTS;
    } else {
        luaL_error(L, "not a record");
    }
    if (n >= IXD_LUA_SLOTS || !st->in_process || n >= st->view->count ||
        st->view->slots[n].layout == 0) {
        luaL_error(L, "a record is valid only during the call that hands it over");
    }
    *s = n;
    return &st->view->slots[n];
}

static struct ixd_record
record_of(const struct ixd_lua_state *st, unsigned s)
{
    const struct ixd_lua_slot *sl = &st->view->slots[s];
    struct ixd_record r = {st->tmpls[s], sl->data, sl->length, sl->offsets, sl->lengths};

    return r;
}

static void
push_field(lua_State *L, struct ixd_lua_state *st, unsigned s, int fi)
{
    struct ixd_record r = record_of(st, s);
    const struct ixd_field *f = &r.tmpl->fields[fi];
    const uint8_t *p;
    uint16_t len;

    if (f->length == 0 || f->type == IXD_TYPE_PADDING) {
        lua_pushnil(L);
        return;
    }
    p = ixd_record_field(&r, (unsigned)fi, &len);
    if (len == 0 && f->type != IXD_TYPE_STRING && f->type != IXD_TYPE_OCTETS) {
        lua_pushnil(L);
        return;
    }
    ixd_lua_push_value(L, st, f->type, p, len);
}

static void
push_meta(lua_State *L, struct ixd_lua_state *st, unsigned s, enum key_kind kind)
{
    const struct ixd_source *src = st->source;

    switch (kind) {
    case KEY_COLLECTOR:
        lua_pushstring(L, src->collector != NULL ? src->collector : "");
        return;
    case KEY_EXPORTER:
        lua_pushstring(L, src->exporter_text);
        return;
    case KEY_EXPORTER_PORT:
        lua_pushnumber(L, src->exporter_port);
        return;
    case KEY_ODID:
        lua_pushnumber(L, src->odid);
        return;
    case KEY_TEMPLATE:
        lua_pushnumber(L, st->tmpls[s]->id);
        return;
    case KEY_RECEIVED:
        lua_pushnumber(L, (lua_Number)(src->received_usec / 1000));
        return;
    case KEY_OPTIONS:
        lua_pushboolean(L, st->tmpls[s]->scope_count > 0);
        return;
    case KEY_LATE:
        lua_pushboolean(L, src->late);
        return;
    default:
        lua_pushnil(L);
        return;
    }
}

/* record[key] for the record at index 1 (cdata_ok: see slot_at) and the key at index 2 */
static int
get_value(lua_State *L, int cdata_ok)
{
    struct ixd_lua_state *st = state_of(L);
    const char *k = lua_tostring(L, 2);
    struct key key;
    unsigned s;
    int fi;

    slot_at(L, st, 1, cdata_ok, &s);
    if (k == NULL || lua_type(L, 2) != LUA_TSTRING) {
        return luaL_error(L, "records are indexed by element name, not by %s", luaL_typename(L, 2));
    }
    resolve_cached(L, st, 2, k, &key);
    switch (key.kind) {
    case KEY_FIELD:
        fi = ixd_template_find(st->tmpls[s], key.pen, key.id);
        if (fi < 0) {
            lua_pushnil(L);
        } else {
            push_field(L, st, s, fi);
        }
        return 1;
    case KEY_METHOD:
        lua_rawgeti(L, LUA_REGISTRYINDEX, st->ref_methods);
        lua_getfield(L, -1, k);
        return 1;
    case KEY_NONE:
        lua_pushnil(L);
        return 1;
    default:
        push_meta(L, st, s, key.kind);
        return 1;
    }
}

/* ---- assignments ---- */

static void
derived_free(gpointer p)
{
    struct ixd_lua_derived *d = p;

    ixd_template_free(d->tmpl);
    free(d);
}

/* Compiles the template record of tid with n specifiers at spec (scope: its scope count). */
struct ixd_template *
ixd_lua_compile(const struct ixd_lua_state *st, uint16_t tid, uint16_t scope, const uint8_t *spec,
                size_t speclen, uint16_t n)
{
    struct ixd_template_rules rules = {st->conf->registry, 65535, 0};
    struct ixd_template *t = NULL;
    uint8_t *rec = malloc(6 + speclen);
    size_t head = scope > 0 ? 6 : 4, consumed;
    enum ixd_error why;
    uint16_t got;

    if (rec == NULL || n == 0) {
        free(rec);
        return NULL;
    }
    ixd_put16(rec, tid);
    ixd_put16(rec + 2, n);
    if (scope > 0) {
        ixd_put16(rec + 4, scope);
    }
    memcpy(rec + head, spec, speclen);
    if (ixd_template_parse(rec, head + speclen, scope > 0, &rules, &t, &got, &consumed, &why) !=
        IXD_TPARSE_TEMPLATE) {
        t = NULL;
    }
    free(rec);
    return t;
}

/* The template of t with element (pen, id, length) added (op '+') or removed (op '-'),
 * made once per source template. NULL when out of memory or nothing would be left. */
static const struct ixd_lua_derived *
derived_for(struct ixd_lua_state *st, const struct ixd_template *t, char op, uint32_t pen,
            uint16_t id, uint16_t length)
{
    char key[96];
    struct ixd_lua_derived *d;
    uint8_t *spec, *p;
    uint16_t scope = t->scope_count;

    snprintf(key, sizeof(key), "%llu/%c/%u/%u/%u", (unsigned long long)t->serial, op, pen, id,
             length);
    if (st->derived == NULL) {
        st->derived = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, derived_free);
    }
    d = g_hash_table_lookup(st->derived, key);
    if (d != NULL) {
        return d;
    }
    d = calloc(1, sizeof(*d) + (t->field_count + 1u) * sizeof(int32_t));
    spec = malloc(8u * (t->field_count + 1u));
    if (d == NULL || spec == NULL) {
        free(d);
        free(spec);
        return NULL;
    }
    p = spec;
    for (uint16_t i = 0; i < t->field_count; i++) {
        const struct ixd_field *f = &t->fields[i];
        if (op == '-' && f->pen == pen && f->id == id) {
            scope -= i < t->scope_count;
            continue;
        }
        ixd_put_specifier(&p, f->pen, f->id, f->length);
        d->from[d->n++] = i;
    }
    if (op == '+') {
        ixd_put_specifier(&p, pen, id, length);
        d->from[d->n++] = -1;
    }
    d->tmpl = ixd_lua_compile(st, t->id, scope, spec, (size_t)(p - spec), d->n);
    free(spec);
    if (d->tmpl == NULL) {
        free(d);
        return NULL;
    }
    g_hash_table_insert(st->derived, g_strdup(key), d);
    return d;
}

/*
 * Rebuilds the record of slot s under tmpl (fields from[i]: a field of the record, or -1 for
 * value/vlen; replace >= 0 gives field `replace` the value instead) into the copy buffer.
 */
static void
rebuild(lua_State *L, struct ixd_lua_state *st, unsigned s, const struct ixd_template *tmpl,
        const int32_t *from, int replace, const uint8_t *value, size_t vlen)
{
    struct ixd_lua_view *v = st->view;
    struct ixd_lua_slot *sl = &v->slots[s];
    struct ixd_record r = record_of(st, s);
    size_t need = r.length + vlen + 3u * tmpl->field_count + 4u * tmpl->field_count + 8;
    uint8_t *start = v->buf + v->used, *p = start;

    if (v->size - v->used < need) {
        luaL_error(L, "the records of this batch outgrew the stage's copy buffer");
    }
    for (uint16_t i = 0; i < tmpl->field_count; i++) {
        int32_t src = from != NULL ? from[i] : (int32_t)i;
        const uint8_t *b = value;
        uint16_t len = (uint16_t)vlen;

        if (src >= 0 && src != replace) {
            b = ixd_record_field(&r, (unsigned)src, &len);
        }
        p = tmpl->fields[i].length == IXD_VARLEN ? ixd_put_varlen(p, b, len)
                                                 : (memcpy(p, b, len), p + len);
    }
    if ((size_t)(p - start) > 65535) {
        luaL_error(L, "the record would be longer than 65535 bytes");
    }
    sl->data = start;
    sl->length = (uint32_t)(p - start);
    sl->offsets = sl->lengths = NULL;
    sl->own = 1;
    v->used += sl->length;
    if (tmpl->has_varlen) {
        uint32_t at = (v->used + 1) & ~1u;
        uint16_t *offs = (uint16_t *)(void *)(v->buf + at);
        if (ixd_record_walk(tmpl, start, sl->length, offs, offs + tmpl->field_count) !=
            sl->length) {
            luaL_error(L, "cannot rebuild the record");
        }
        sl->offsets = offs;
        sl->lengths = offs + tmpl->field_count;
        v->used = at + 4u * tmpl->field_count;
    }
    st->tmpls[s] = tmpl;
    sl->layout = ixd_lua_layout_of(st, tmpl);
}

static void
make_own(lua_State *L, struct ixd_lua_state *st, struct ixd_lua_slot *sl)
{
    struct ixd_lua_view *v = st->view;

    if (sl->own) {
        return;
    }
    if (v->size - v->used < sl->length) {
        luaL_error(L, "the records of this batch outgrew the stage's copy buffer");
    }
    memcpy(v->buf + v->used, sl->data, sl->length);
    sl->data = v->buf + v->used;
    v->used += sl->length;
    sl->own = 1;
}

int
ixd_lua_element(const struct ixd_lua_state *st, const char *name, uint32_t *pen, uint16_t *id,
                uint8_t *type, uint16_t *length)
{
    struct key key;

    resolve(st, name, &key);
    if (key.kind != KEY_FIELD) {
        return -1;
    }
    *pen = key.pen;
    *id = key.id;
    ixd_lua_new_field_shape(key.ie, type, length);
    return 0;
}

static void
remove_field(lua_State *L, struct ixd_lua_state *st, unsigned s, const struct key *key,
             const char *name)
{
    const struct ixd_template *t = st->tmpls[s];
    const struct ixd_lua_derived *d;

    if (ixd_template_find(t, key->pen, key->id) < 0) {
        return;
    }
    d = derived_for(st, t, '-', key->pen, key->id, 0);
    if (d == NULL) {
        luaL_error(L, "cannot remove %s: it is the record's last field, or out of memory", name);
    }
    rebuild(L, st, s, d->tmpl, d->from, -1, NULL, 0);
}

/* record[key] = value for the record at 1, key at 2, value at 3 */
static int
set_value(lua_State *L, int cdata_ok)
{
    struct ixd_lua_state *st = state_of(L);
    const char *k = lua_tostring(L, 2);
    uint8_t value[VALUE_MAX];
    struct ixd_lua_slot *sl;
    const struct ixd_template *t;
    struct key key;
    unsigned s;
    size_t n;
    int fi;

    sl = slot_at(L, st, 1, cdata_ok, &s);
    if (k == NULL || lua_type(L, 2) != LUA_TSTRING) {
        return luaL_error(L, "records are indexed by element name, not by %s", luaL_typename(L, 2));
    }
    resolve_cached(L, st, 2, k, &key);
    if (key.kind != KEY_FIELD) {
        return luaL_error(L, "'%s' is not an information element a record can carry", k);
    }
    if (lua_isnil(L, 3)) {
        remove_field(L, st, s, &key, k);
        return 0;
    }
    t = st->tmpls[s];
    fi = ixd_template_find(t, key.pen, key.id);
    if (fi >= 0) {
        const struct ixd_field *f = &t->fields[fi];
        struct ixd_record r = record_of(st, s);
        uint16_t len;
        uint8_t *at;
        n = ixd_lua_encode(L, 3, k, f->type, f->length, value);
        if (f->length == IXD_VARLEN) {
            rebuild(L, st, s, t, NULL, fi, value, n);
            return 0;
        }
        make_own(L, st, sl);
        r = record_of(st, s);
        at = (uint8_t *)ixd_record_field(&r, (unsigned)fi, &len);
        memcpy(at, value, n);
        return 0;
    }
    {
        uint8_t type;
        uint16_t length;
        const struct ixd_lua_derived *d;
        ixd_lua_new_field_shape(key.ie, &type, &length);
        n = ixd_lua_encode(L, 3, k, type, length, value);
        d = derived_for(st, t, '+', key.pen, key.id, length);
        if (d == NULL) {
            return luaL_error(L, "cannot add %s to the record (out of memory)", k);
        }
        rebuild(L, st, s, d->tmpl, d->from, -1, value, n);
    }
    return 0;
}

/* r:remove(name) */
static int
remove_method(lua_State *L)
{
    struct ixd_lua_state *st = state_of(L);
    const char *k = luaL_checkstring(L, 2);
    struct key key;
    unsigned s;

    slot_at(L, st, 1, 0, &s);
    resolve(st, k, &key);
    if (key.kind == KEY_FIELD) {
        remove_field(L, st, s, &key, k);
    }
    return 0;
}

/* r:sampling_rate(): 1 in N packets, 1 when unsampled or unknown */
static int
sampling_method(lua_State *L)
{
    struct ixd_lua_state *st = state_of(L);
    const struct ixd_resolver *res = st->source->resolver;
    struct ixd_record r;
    unsigned s;

    slot_at(L, st, 1, 0, &s);
    r = record_of(st, s);
    lua_pushnumber(L, res != NULL && res->sampling_of != NULL ? res->sampling_of(res, &r) : 1);
    return 1;
}

/* r:fields(): the names of the elements the record carries, in template order */
static int
fields_method(lua_State *L)
{
    struct ixd_lua_state *st = state_of(L);
    const struct ixd_template *t;
    unsigned s;
    int n = 0;

    slot_at(L, st, 1, 0, &s);
    t = st->tmpls[s];
    lua_createtable(L, t->field_count, 0);
    for (uint16_t i = 0; i < t->field_count; i++) {
        if (t->fields[i].repeat_index == 0 && t->fields[i].type != IXD_TYPE_PADDING) {
            lua_pushlstring(L, t->fields[i].key, t->fields[i].key_length);
            lua_rawseti(L, -2, ++n);
        }
    }
    return 1;
}

/* the generic FFI type's and the record userdata's metamethods */
static int
index_mm(lua_State *L)
{
    return get_value(L, 1);
}

static int
newindex_mm(lua_State *L)
{
    return set_value(L, 1);
}

/* the driver's: a slot number first */
static int
get_fn(lua_State *L)
{
    return get_value(L, 0);
}

static int
set_fn(lua_State *L)
{
    return set_value(L, 0);
}

static int
record_tostring(lua_State *L)
{
    lua_pushliteral(L, "record");
    return 1;
}

/* The records of an interpreted state: a userdata per slot, made once. The interpreter reaches
 * a userdata's C metamethod in one step, an FFI type's through the FFI's own (twice the cost,
 * docs/benchmarks.md). */
static void
push_records(lua_State *L, struct ixd_lua_state *st)
{
    lua_createtable(L, IXD_LUA_SLOTS, 0);
    lua_createtable(L, 0, 4);
    lua_pushlightuserdata(L, st);
    lua_pushcclosure(L, index_mm, 1);
    lua_setfield(L, -2, "__index");
    lua_pushlightuserdata(L, st);
    lua_pushcclosure(L, newindex_mm, 1);
    lua_setfield(L, -2, "__newindex");
    lua_pushcfunction(L, record_tostring);
    lua_setfield(L, -2, "__tostring");
    lua_pushboolean(L, 0);
    lua_setfield(L, -2, "__metatable");
    for (int i = 0; i < IXD_LUA_SLOTS; i++) {
        uint8_t *u = lua_newuserdata(L, RECORD_UD_SIZE);
        u[0] = (uint8_t)i;
        u[1] = (uint8_t)(i >> 8);
        memcpy(u + 2, record_mark, sizeof(record_mark));
        lua_pushvalue(L, -2);
        lua_setmetatable(L, -2);
        lua_rawseti(L, -3, i);
    }
    lua_pop(L, 1);
}

static int
copy_full(lua_State *L)
{
    return luaL_error(L, "the records of this batch outgrew the stage's copy buffer");
}

/* Copies the records of the batch the stage holds no copy of into its buffer (from the
 * driver, through the FFI, at the first change of a record); those that do not fit are left.
 * Returns how many were copied. */
static int
copy_all(struct ixd_lua_view *v)
{
    int n = 0;

    for (uint32_t i = 0; i < v->count; i++) {
        struct ixd_lua_slot *sl = &v->slots[i];
        if (sl->own || v->size - v->used < sl->length) {
            continue;
        }
        memcpy(v->buf + v->used, sl->data, sl->length);
        sl->data = v->buf + v->used;
        sl->own = 1;
        v->used += sl->length;
        n++;
    }
    return n;
}

/* ---- layouts ---- */

/* Tells the driver of a new layout: { {key, type, length, offset or -1}, ... } */
static int
announce(struct ixd_lua_state *st, const struct ixd_template *t, uint16_t id)
{
    lua_State *L = st->L;
    int rc;

    lua_rawgeti(L, LUA_REGISTRYINDEX, st->ref_layout);
    lua_pushnumber(L, id);
    lua_createtable(L, t->field_count, 0);
    for (uint16_t i = 0; i < t->field_count; i++) {
        const struct ixd_field *f = &t->fields[i];
        int direct = !f->after_varlen && f->length != IXD_VARLEN && f->length > 0;
        lua_createtable(L, 4, 0);
        lua_pushlstring(L, f->key, f->key_length);
        lua_rawseti(L, -2, 1);
        lua_pushnumber(L, f->type);
        lua_rawseti(L, -2, 2);
        lua_pushnumber(L, f->length);
        lua_rawseti(L, -2, 3);
        lua_pushnumber(L, direct ? f->offset : -1);
        lua_rawseti(L, -2, 4);
        lua_rawseti(L, -2, i + 1);
    }
    /* not ixd_lua_call: this may run inside a call of the script, whose budget goes on */
    rc = lua_pcall(L, 2, 0, 0);
    if (rc != 0) {
        lua_pop(L, 1);
    }
    return rc;
}

uint16_t
ixd_lua_layout_of(struct ixd_lua_state *st, const struct ixd_template *t)
{
    gpointer serial = (gpointer)(uintptr_t)t->serial, found;
    GString *key;
    uint16_t id;

    if (!st->jit) {
        return 1; /* one generic type: C reads every field */
    }
    found = g_hash_table_lookup(st->by_serial, serial);
    if (found != NULL) {
        return (uint16_t)(uintptr_t)found;
    }
    key = g_string_sized_new(16u * t->field_count);
    for (uint16_t i = 0; i < t->field_count; i++) {
        g_string_append_printf(key, "%u/%u/%u/%u;", t->fields[i].pen, t->fields[i].id,
                               t->fields[i].length, t->fields[i].type);
    }
    found = g_hash_table_lookup(st->layouts, key->str);
    if (found != NULL) {
        id = (uint16_t)(uintptr_t)found;
        g_string_free(key, TRUE);
    } else if (st->n_layouts >= IXD_LUA_LAYOUTS_MAX) {
        /* LuaJIT never frees FFI types: past the cap, records use the generic one */
        id = 1;
        g_string_free(key, TRUE);
    } else {
        id = (uint16_t)(2 + st->n_layouts);
        if (announce(st, t, id) != 0) {
            id = 1;
        }
        st->n_layouts++;
        g_hash_table_insert(st->layouts, g_string_free(key, FALSE), (gpointer)(uintptr_t)id);
    }
    if (g_hash_table_size(st->by_serial) >= SERIALS_MAX) {
        g_hash_table_remove_all(st->by_serial);
    }
    g_hash_table_insert(st->by_serial, serial, (gpointer)(uintptr_t)id);
    return id;
}

void
ixd_lua_record_register(lua_State *L, struct ixd_lua_state *st)
{
    static const struct {
        const char *name;
        lua_CFunction fn;
    } fns[] = {{"index", index_mm},       {"get", get_fn},
               {"newindex", newindex_mm}, {"set", set_fn},
               {"full", copy_full},       {"sampling_rate", sampling_method},
               {"remove", remove_method}, {"fields", fields_method}};

    for (size_t i = 0; i < sizeof(fns) / sizeof(fns[0]); i++) {
        lua_pushlightuserdata(L, st);
        lua_pushcclosure(L, fns[i].fn, 1);
        lua_setfield(L, -2, fns[i].name);
    }
    push_records(L, st);
    lua_setfield(L, -2, "records");
    lua_pushlightuserdata(L, (void *)(uintptr_t)copy_all);
    lua_setfield(L, -2, "copy_all");
    lua_createtable(L, KEY_CACHE, 0);
    st->ref_anchors = luaL_ref(L, LUA_REGISTRYINDEX);
}
