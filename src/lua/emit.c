/*
 * emit{...}: a record a script builds from a table (an aggregate, an alert), handed to the
 * stages after the lua stage and to the pipeline's outputs once the script's call returns
 * (docs/lua.md#emit). Each distinct set of elements gets a template of its own, kept while the
 * script emits that set, so outputs see one template per kind of record.
 */
#include <arpa/inet.h>
#include <lauxlib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include "core/relaxed_counter.h"
#include "ipfix/template.h"
#include "ipfix/wire.h"
#include "lua/lua_internal.h"

#define EMIT_FIELDS_MAX 128
#define EMITTED_MAX 1024
#define VALUE_MAX 65535

struct element {
    const char *name;
    int idx; /* of its value on the stack */
    uint32_t pen;
    uint16_t id;
    uint8_t type;
    uint16_t length;
};

static int
by_name(const void *a, const void *b)
{
    return strcmp(((const struct element *)a)->name, ((const struct element *)b)->name);
}

static void
template_free(gpointer p)
{
    ixd_template_free(p);
}

/* The template of the sorted elements e[n], made once per set of elements. */
static const struct ixd_template *
template_for(lua_State *L, struct ixd_lua_state *st, const struct element *e, size_t n)
{
    GString *sig = g_string_sized_new(16 * n);
    uint8_t spec[8 * EMIT_FIELDS_MAX], *p = spec;
    struct ixd_template *t;

    for (size_t i = 0; i < n; i++) {
        g_string_append_printf(sig, "%u/%u/%u;", e[i].pen, e[i].id, e[i].length);
    }
    if (st->emit_templates == NULL) {
        st->emit_templates = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, template_free);
    }
    t = g_hash_table_lookup(st->emit_templates, sig->str);
    if (t != NULL) {
        g_string_free(sig, TRUE);
        return t;
    }
    if (g_hash_table_size(st->emit_templates) >= EMITTED_MAX) {
        g_string_free(sig, TRUE);
        luaL_error(L, "emit: more than %d different sets of elements", EMITTED_MAX);
    }
    for (size_t i = 0; i < n; i++) {
        ixd_put16(p, (uint16_t)(e[i].id | (e[i].pen != 0 ? 0x8000 : 0)));
        ixd_put16(p + 2, e[i].length);
        p += 4;
        if (e[i].pen != 0) {
            ixd_put32(p, e[i].pen);
            p += 4;
        }
    }
    t = ixd_lua_compile(st, st->next_tid, 0, spec, (size_t)(p - spec), (uint16_t)n);
    if (t == NULL) {
        g_string_free(sig, TRUE);
        luaL_error(L, "emit: cannot make a template of these elements");
    }
    st->next_tid = st->next_tid == 65535 ? 256 : (uint16_t)(st->next_tid + 1);
    g_hash_table_insert(st->emit_templates, g_string_free(sig, FALSE), t);
    return t;
}

/* The source emitted records carry: the batch's in process, the stage's own elsewhere, with
 * @exporter and @odid from the table when it has them. */
static void
source_for(lua_State *L, struct ixd_lua_state *st, int tbl, struct ixd_source *src)
{
    struct timeval tv;
    const char *exporter;

    if (st->in_process && st->source != NULL) {
        *src = *st->source;
        src->resolver = NULL;
        src->late = 0;
    } else {
        memset(src, 0, sizeof(*src));
        src->collector = "lua";
        snprintf(src->exporter_text, sizeof(src->exporter_text), "0.0.0.0");
        src->exporter.ss_family = AF_INET;
    }
    gettimeofday(&tv, NULL);
    src->received_usec = (int64_t)tv.tv_sec * 1000000 + tv.tv_usec;
    lua_getfield(L, tbl, "@exporter");
    exporter = lua_tostring(L, -1);
    if (exporter != NULL) {
        struct sockaddr_in *a4 = (struct sockaddr_in *)&src->exporter;
        struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)&src->exporter;
        memset(&src->exporter, 0, sizeof(src->exporter));
        if (inet_pton(AF_INET, exporter, &a4->sin_addr) == 1) {
            a4->sin_family = AF_INET;
        } else if (inet_pton(AF_INET6, exporter, &a6->sin6_addr) == 1) {
            a6->sin6_family = AF_INET6;
        } else {
            luaL_error(L, "emit: @exporter wants an IP address, not '%s'", exporter);
        }
        snprintf(src->exporter_text, sizeof(src->exporter_text), "%s", exporter);
        src->exporter_port = 0;
    }
    lua_pop(L, 1);
    lua_getfield(L, tbl, "@odid");
    if (lua_isnumber(L, -1)) {
        lua_Number odid = lua_tonumber(L, -1);
        if (odid < 0 || odid > 4294967295.0) {
            luaL_error(L, "emit: @odid is 0 to 4294967295");
        }
        src->odid = (uint32_t)odid;
    }
    lua_pop(L, 1);
}

static int
same_source(const struct ixd_source *a, const struct ixd_source *b)
{
    return a->odid == b->odid && strcmp(a->exporter_text, b->exporter_text) == 0 &&
           a->collector == b->collector;
}

/* The elements of the table at tbl, sorted by name; their values go into the table at vals
 * (e[i].idx is the value's index there). */
static size_t
elements_of(lua_State *L, struct ixd_lua_state *st, int tbl, int vals, struct element *e)
{
    size_t n = 0;

    lua_pushnil(L);
    while (lua_next(L, tbl) != 0) {
        const char *k = lua_type(L, -2) == LUA_TSTRING ? lua_tostring(L, -2) : NULL;
        if (k == NULL) {
            luaL_error(L, "emit: keys are element names");
        }
        if (k[0] == '@') {
            lua_pop(L, 1);
            continue;
        }
        if (n == EMIT_FIELDS_MAX) {
            luaL_error(L, "emit: at most %d elements", EMIT_FIELDS_MAX);
        }
        if (ixd_lua_element(st, k, &e[n].pen, &e[n].id, &e[n].type, &e[n].length) == -1) {
            luaL_error(L, "emit: no information element named '%s'", k);
        }
        e[n].name = k; /* a key of the table, which lives as long as the call */
        e[n].idx = (int)n + 1;
        lua_rawseti(L, vals, (int)n + 1);
        n++;
    }
    if (n == 0) {
        luaL_error(L, "emit: the record has no elements");
    }
    qsort(e, n, sizeof(*e), by_name);
    return n;
}

/* ipfixd.emit{element = value, ...}: 0 results */
static int
emit(lua_State *L)
{
    struct ixd_lua_state *st = lua_touserdata(L, lua_upvalueindex(1));
    struct element e[EMIT_FIELDS_MAX];
    uint8_t value[VALUE_MAX];
    struct ixd_source src;
    const struct ixd_template *t;
    struct ixd_record *r;
    uint8_t *start, *p;
    size_t n, need = 0;
    int top;

    luaL_checktype(L, 1, LUA_TTABLE);
    lua_settop(L, 1);
    if (st->in_init) {
        return luaL_error(L, "emit: records cannot be emitted from init or the top level");
    }
    source_for(L, st, 1, &src);
    lua_newtable(L);
    n = elements_of(L, st, 1, 2, e);
    top = lua_gettop(L);
    t = template_for(L, st, e, n);
    if (st->n_emit > 0 && !same_source(&st->emit_source, &src)) {
        ixd_lua_emit_flush(st);
    }
    for (size_t i = 0; i < n; i++) {
        need += (e[i].length == IXD_VARLEN ? 3u + VALUE_MAX : e[i].length) + 4u;
    }
    if (st->n_emit == IXD_LUA_SLOTS || st->emit_size - st->emit_used < need + 8) {
        ixd_lua_emit_flush(st);
    }
    if (st->emit_size - st->emit_used < need + 8) {
        return luaL_error(L, "emit: the record is too big");
    }
    st->emit_source = src;
    start = p = st->emit_buf + st->emit_used;
    for (size_t i = 0; i < n; i++) {
        size_t len;
        lua_rawgeti(L, 2, e[i].idx);
        len = ixd_lua_encode(L, -1, e[i].name, e[i].type, e[i].length, value);
        lua_pop(L, 1);
        p = e[i].length == IXD_VARLEN ? ixd_put_varlen(p, value, len)
                                      : (memcpy(p, value, len), p + len);
    }
    r = &st->emit_records[st->n_emit];
    r->tmpl = t;
    r->data = start;
    r->length = (uint32_t)(p - start);
    r->offsets = r->lengths = NULL;
    st->emit_used += r->length;
    if (t->has_varlen) {
        size_t at = (st->emit_used + 1) & ~(size_t)1;
        uint16_t *offs = (uint16_t *)(void *)(st->emit_buf + at);
        if (r->length > 65535 ||
            ixd_record_walk(t, start, r->length, offs, offs + t->field_count) != r->length) {
            return luaL_error(L, "emit: the record is too big");
        }
        r->offsets = offs;
        r->lengths = offs + t->field_count;
        st->emit_used = at + 4u * t->field_count;
    }
    st->n_emit++;
    lua_settop(L, top);
    return 0;
}

void
ixd_lua_emit_flush(struct ixd_lua_state *st)
{
    struct ixd_batch b = {&st->emit_source, st->n_emit, st->emit_records};

    if (st->n_emit > 0) {
        st->n_emit = 0; /* before the call: what it runs may emit from another stage */
        IXD_CNT_ADD(st->emitted, b.count);
        if (ixd_stage_emit(st->ctx, &b) == -1) {
            IXD_CNT_ADD(st->failed, b.count);
        }
    }
    st->emit_used = 0;
}

void
ixd_lua_emit_discard(struct ixd_lua_state *st)
{
    st->n_emit = 0;
    st->emit_used = 0;
}

void
ixd_lua_emit_register(lua_State *L, struct ixd_lua_state *st)
{
    lua_pushlightuserdata(L, st);
    lua_pushcclosure(L, emit, 1);
}

void
ixd_lua_push_template(lua_State *L, const struct ixd_template *t, const struct ixd_source *s)
{
    int n = 0;

    lua_createtable(L, 0, 8);
    lua_pushnumber(L, t->id);
    lua_setfield(L, -2, "id");
    lua_pushboolean(L, t->scope_count > 0);
    lua_setfield(L, -2, "options");
    lua_pushnumber(L, t->scope_count);
    lua_setfield(L, -2, "scope");
    lua_createtable(L, t->field_count, 0);
    for (uint16_t i = 0; i < t->field_count; i++) {
        lua_pushlstring(L, t->fields[i].key, t->fields[i].key_length);
        lua_rawseti(L, -2, ++n);
    }
    lua_setfield(L, -2, "fields");
    lua_pushstring(L, s->exporter_text);
    lua_setfield(L, -2, "@exporter");
    lua_pushnumber(L, s->odid);
    lua_setfield(L, -2, "@odid");
    lua_pushstring(L, s->collector != NULL ? s->collector : "");
    lua_setfield(L, -2, "@collector");
}
