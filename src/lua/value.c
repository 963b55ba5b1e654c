/*
 * Values between the wire and Lua: what a field's bytes read as in a script, and the bytes a
 * script's value is written as (docs/lua.md#records). 64-bit integers past 2^53 travel as
 * LuaJIT's uint64_t/int64_t cdata, made by the driver.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <lauxlib.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ipfix/wire.h"
#include "lua/lua_internal.h"

#define NTP_UNIX_OFFSET 2208988800LL
#define VALUE_MAX 65535

static void
push_exact(lua_State *L, struct ixd_lua_state *st, uint64_t v, int is_signed)
{
    if ((!is_signed && v < (1ULL << 53)) ||
        (is_signed && (int64_t)v > -(1LL << 53) && (int64_t)v < (1LL << 53))) {
        lua_pushnumber(L, is_signed ? (lua_Number)(int64_t)v : (lua_Number)v);
        return;
    }
    lua_rawgeti(L, LUA_REGISTRYINDEX, is_signed ? st->ref_i64 : st->ref_u64);
    lua_pushnumber(L, (lua_Number)(v >> 32));
    lua_pushnumber(L, (lua_Number)(v & 0xffffffffu));
    lua_call(L, 2, 1);
}

static double
ntp_ms(const uint8_t *p)
{
    int64_t sec = (int64_t)ixd_get32(p) - NTP_UNIX_OFFSET;
    uint64_t frac = ixd_get32(p + 4);

    return (double)sec * 1000.0 + (double)((frac * 1000) >> 32);
}

/* Pushes a value of the given type (its bytes at p, len of them). */
void
ixd_lua_push_value(lua_State *L, struct ixd_lua_state *st, uint8_t type, const uint8_t *p,
                   size_t len)
{
    char text[INET6_ADDRSTRLEN];

    switch (type) {
    case IXD_TYPE_UNSIGNED:
    case IXD_TYPE_UPTIME:
        push_exact(L, st, len <= 8 ? ixd_get_uint(p, (unsigned)len) : 0, 0);
        return;
    case IXD_TYPE_SIGNED: {
        uint64_t v = ixd_get_uint(p, (unsigned)len);
        if (len < 8 && (p[0] & 0x80)) {
            v |= ~0ULL << (8 * len);
        }
        push_exact(L, st, v, 1);
        return;
    }
    case IXD_TYPE_FLOAT:
        if (len == 4) {
            uint32_t bits = ixd_get32(p);
            float f;
            memcpy(&f, &bits, 4);
            lua_pushnumber(L, f);
        } else {
            uint64_t bits = ixd_get64(p);
            double d;
            memcpy(&d, &bits, 8);
            lua_pushnumber(L, d);
        }
        return;
    case IXD_TYPE_BOOLEAN:
        if (p[0] == 1 || p[0] == 2) {
            lua_pushboolean(L, p[0] == 1);
        } else {
            lua_pushnumber(L, p[0]);
        }
        return;
    case IXD_TYPE_MAC:
        snprintf(text, sizeof(text), "%02x:%02x:%02x:%02x:%02x:%02x", p[0], p[1], p[2], p[3], p[4],
                 p[5]);
        lua_pushstring(L, text);
        return;
    case IXD_TYPE_TIME_SEC:
        lua_pushnumber(L, (lua_Number)ixd_get32(p) * 1000.0);
        return;
    case IXD_TYPE_TIME_MSEC:
        push_exact(L, st, ixd_get64(p), 0);
        return;
    case IXD_TYPE_TIME_USEC:
    case IXD_TYPE_TIME_NSEC:
        lua_pushnumber(L, ntp_ms(p));
        return;
    case IXD_TYPE_IPV4:
        inet_ntop(AF_INET, p, text, sizeof(text));
        lua_pushstring(L, text);
        return;
    case IXD_TYPE_IPV6:
        inet_ntop(AF_INET6, p, text, sizeof(text));
        lua_pushstring(L, text);
        return;
    default: /* strings, octets, lists: the bytes */
        lua_pushlstring(L, (const char *)p, len);
        return;
    }
}

/* A 64-bit integer cdata (what a getter gives for values past 2^53) as it prints: "123ULL",
 * "-5LL"; anything else raises an error naming key. */
static uint64_t
exact_integer(lua_State *L, int idx, const char *key, int is_signed)
{
    const char *s;
    char *end;
    uint64_t u;

    lua_getglobal(L, "tostring");
    lua_pushvalue(L, idx);
    lua_call(L, 1, 1);
    s = lua_tostring(L, -1);
    errno = 0;
    if (s != NULL && s[0] == '-' && is_signed) {
        u = (uint64_t)strtoll(s, &end, 10);
    } else {
        u = s != NULL && s[0] != '-' ? strtoull(s, &end, 10) : 0;
        end = s != NULL && s[0] != '-' ? end : (char *)(uintptr_t) "";
    }
    if (s == NULL || errno != 0 || end == s ||
        (strcmp(end, "ULL") != 0 && strcmp(end, "LL") != 0)) {
        luaL_error(L, "%s wants a number, not %s", key, s != NULL ? s : "cdata");
    }
    lua_pop(L, 1);
    return u;
}

/* The bytes of value v (at idx) as element type/length wants them, into out (room: VALUE_MAX).
 * length IXD_VARLEN takes any length. Returns the length, or raises an error naming key. */
/* An integer (or a time in milliseconds) in length bytes, big-endian: a number, a 64-bit
 * integer cdata, or (unsigned) a decimal string. */
static size_t
encode_integer(lua_State *L, int idx, const char *key, uint8_t type, uint16_t length, uint8_t *out)
{
    const char *s;
    unsigned len = length == IXD_VARLEN || length > 8 ? 8 : length;
    lua_Number v;
    uint64_t u;

    if (lua_type(L, idx) == LUA_TCDATA_ && type != IXD_TYPE_TIME_SEC) {
        u = exact_integer(L, idx, key, type == IXD_TYPE_SIGNED);
    } else if (lua_type(L, idx) == LUA_TSTRING && (type == IXD_TYPE_UNSIGNED)) {
        char *end;
        errno = 0;
        s = lua_tostring(L, idx);
        u = strtoull(s, &end, 10);
        if (s[0] == '-' || *end != '\0' || end == s || errno != 0) {
            luaL_error(L, "%s wants a number, not '%s'", key, s);
        }
    } else {
        if (lua_type(L, idx) != LUA_TNUMBER) {
            luaL_error(L, "%s wants a number, not a %s", key, luaL_typename(L, idx));
        }
        v = lua_tonumber(L, idx);
        if (type == IXD_TYPE_TIME_SEC) {
            v = floor(v / 1000);
        }
        /* in range before converting: a double past the target type is undefined in C */
        if (v != floor(v) || !isfinite(v) ||
            (type == IXD_TYPE_SIGNED ? v < -9223372036854775808.0 || v >= 9223372036854775808.0
                                     : v < 0 || v >= 18446744073709551616.0)) {
            luaL_error(L, "%s wants a whole number%s, not %f", key,
                       type != IXD_TYPE_SIGNED ? " >= 0" : "", v);
        }
        u = v < 0 ? (uint64_t)(int64_t)v : (uint64_t)v;
    }
    if (len < 8 && type != IXD_TYPE_SIGNED && u >> (8 * len) != 0) {
        luaL_error(L, "%s holds %u bytes: %llu does not fit", key, len, (unsigned long long)u);
    }
    for (unsigned i = 0; i < len; i++) {
        out[len - 1 - i] = (uint8_t)(u >> (8 * i));
    }
    return len;
}

/* float32 or float64 as the field's length says */
static size_t
encode_float(lua_State *L, int idx, uint16_t length, uint8_t *out)
{
    double d = luaL_checknumber(L, idx);
    uint64_t bits;

    if (length == 4) {
        float f = (float)d;
        uint32_t bits32;
        memcpy(&bits32, &f, 4);
        ixd_put32(out, bits32);
        return 4;
    }
    memcpy(&bits, &d, 8);
    ixd_put32(out, (uint32_t)(bits >> 32));
    ixd_put32(out + 4, (uint32_t)bits);
    return 8;
}

/* Milliseconds since 1970 as an NTP timestamp (dateTimeMicroseconds, dateTimeNanoseconds) */
static size_t
encode_ntp_time(lua_State *L, int idx, uint8_t *out)
{
    double ms = luaL_checknumber(L, idx);
    int64_t sec = (int64_t)floor(ms / 1000);
    uint64_t frac = (uint64_t)(((ms - (double)sec * 1000) / 1000) * 4294967296.0);

    ixd_put32(out, (uint32_t)(sec + NTP_UNIX_OFFSET));
    ixd_put32(out + 4, (uint32_t)frac);
    return 8;
}

static size_t
encode_mac(lua_State *L, int idx, const char *key, uint8_t *out)
{
    unsigned b[6];
    const char *s = lua_tostring(L, idx);
    int i;

    if (lua_type(L, idx) != LUA_TSTRING ||
        sscanf(s, "%2x:%2x:%2x:%2x:%2x:%2x", &b[0], &b[1], &b[2], &b[3], &b[4], &b[5]) != 6) {
        luaL_error(L, "%s wants a MAC address as text", key);
    }
    for (i = 0; i < 6; i++) {
        out[i] = (uint8_t)b[i];
    }
    return 6;
}

size_t
ixd_lua_encode(lua_State *L, int idx, const char *key, uint8_t type, uint16_t length, uint8_t *out)
{
    size_t n;
    const char *s;

    if (idx < 0) {
        idx = lua_gettop(L) + idx + 1; /* what this pushes must not move it */
    }
    switch (type) {
    case IXD_TYPE_UNSIGNED:
    case IXD_TYPE_SIGNED:
    case IXD_TYPE_UPTIME:
    case IXD_TYPE_TIME_SEC:
    case IXD_TYPE_TIME_MSEC:
        return encode_integer(L, idx, key, type, length, out);
    case IXD_TYPE_FLOAT:
        return encode_float(L, idx, length, out);
    case IXD_TYPE_BOOLEAN:
        if (lua_type(L, idx) != LUA_TBOOLEAN) {
            luaL_error(L, "%s wants true or false", key);
        }
        out[0] = lua_toboolean(L, idx) ? 1 : 2;
        return 1;
    case IXD_TYPE_TIME_USEC:
    case IXD_TYPE_TIME_NSEC:
        return encode_ntp_time(L, idx, out);
    case IXD_TYPE_IPV4:
    case IXD_TYPE_IPV6:
        s = lua_tostring(L, idx);
        if (lua_type(L, idx) != LUA_TSTRING ||
            inet_pton(type == IXD_TYPE_IPV4 ? AF_INET : AF_INET6, s, out) != 1) {
            luaL_error(L, "%s wants an IPv%c address as text", key,
                       type == IXD_TYPE_IPV4 ? '4' : '6');
        }
        return type == IXD_TYPE_IPV4 ? 4 : 16;
    case IXD_TYPE_MAC:
        return encode_mac(L, idx, key, out);
    default:
        if (lua_type(L, idx) != LUA_TSTRING) {
            luaL_error(L, "%s wants a string, not a %s", key, luaL_typename(L, idx));
        }
        s = lua_tolstring(L, idx, &n);
        if (length != IXD_VARLEN && n > length) {
            luaL_error(L, "%s holds %u bytes: the value has %u", key, length, (unsigned)n);
        }
        if (n > VALUE_MAX - 3) {
            luaL_error(L, "%s: a value has at most %u bytes", key, VALUE_MAX - 3);
        }
        memcpy(out, s, n);
        if (length != IXD_VARLEN) {
            memset(out + n, 0, length - n); /* fixed-size strings are NUL-padded */
            return length;
        }
        return n;
    }
}

/* The type and length an element gets when a script adds it. */
void
ixd_lua_new_field_shape(const struct ixd_ie *ie, uint8_t *type, uint16_t *length)
{
    *type = ie != NULL ? ie->type : IXD_TYPE_OCTETS;
    switch (*type) {
    case IXD_TYPE_UNSIGNED:
    case IXD_TYPE_SIGNED:
        *length = ie->length >= 1 && ie->length <= 8 ? ie->length : 8;
        return;
    case IXD_TYPE_FLOAT:
    case IXD_TYPE_TIME_MSEC:
    case IXD_TYPE_TIME_USEC:
    case IXD_TYPE_TIME_NSEC:
        *length = 8;
        return;
    case IXD_TYPE_BOOLEAN:
        *length = 1;
        return;
    case IXD_TYPE_MAC:
        *length = 6;
        return;
    case IXD_TYPE_IPV4:
    case IXD_TYPE_TIME_SEC:
    case IXD_TYPE_UPTIME:
        *length = 4;
        return;
    case IXD_TYPE_IPV6:
        *length = 16;
        return;
    default:
        *type = *type == IXD_TYPE_STRING ? IXD_TYPE_STRING : IXD_TYPE_OCTETS;
        *length = IXD_VARLEN;
        return;
    }
}
