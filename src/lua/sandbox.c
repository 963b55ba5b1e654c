/*
 * A lua stage's state: its allocator (capped), the sandbox of an untrusted script, the driver,
 * and calls made within a time budget (docs/lua.md, "Sandbox" and "Budgets").
 */
#include <lauxlib.h>
#include <luajit.h>
#include <lualib.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

#include "core/log.h"
#include "core/relaxed_counter.h"
#include "lua/lua_internal.h"

/* instructions between two looks at the clock in an untrusted script */
#define HOOK_COUNT 1000
#define COPY_BYTES (1u << 20) /* record copies per batch */
#define EMIT_BYTES (1u << 20) /* records emitted per call */

extern const char ixd_lua_driver[];
extern const size_t ixd_lua_driver_len;

static const char budget_message[] = "the script ran out of its time budget";

double
ixd_lua_now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int jit_ok;
static pthread_once_t jit_once = PTHREAD_ONCE_INIT;

/* The JIT writes machine code, then makes it executable: where a policy forbids that
 * (MemoryDenyWriteExecute=yes, SELinux execmem), LuaJIT aborts the process at its first trace.
 * So ipfixd asks first, as LuaJIT would. */
static void
probe_jit(void)
{
    long page = 4096;
    void *p = mmap(NULL, (size_t)page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

    if (p == MAP_FAILED) {
        return;
    }
    jit_ok = mprotect(p, (size_t)page, PROT_READ | PROT_EXEC) == 0;
    munmap(p, (size_t)page);
    if (!jit_ok) {
        log_warn("lua: this process may not make memory executable (MemoryDenyWriteExecute or "
                 "SELinux execmem): the JIT is off, every script runs interpreted");
    }
}

int
ixd_lua_jit_available(void)
{
    pthread_once(&jit_once, probe_jit);
    return jit_ok;
}

/* Every allocation of the state goes through here: past the cap LuaJIT raises LUA_ERRMEM and
 * the state stays usable once the script lets go of what it holds. */
static void *
capped_alloc(void *ud, void *ptr, size_t osize, size_t nsize)
{
    struct ixd_lua_state *st = ud;
    void *q;

    if (ptr == NULL) {
        osize = 0;
    }
    if (nsize == 0) {
        free(ptr);
        IXD_CNT_SET(st->mem_used, st->mem_used - osize);
        return NULL;
    }
    if (nsize > osize && st->mem_used - osize + nsize > st->mem_cap) {
        return NULL;
    }
    q = realloc(ptr, nsize);
    if (q == NULL) {
        return nsize <= osize ? ptr : NULL; /* a shrink that failed keeps the block */
    }
    IXD_CNT_SET(st->mem_used, st->mem_used - osize + nsize);
    return q;
}

static struct ixd_lua_state *
state_of(lua_State *L)
{
    void *ud = NULL;

    lua_getallocf(L, &ud);
    return ud;
}

/* CPU seconds this thread has run: what a call's budget is counted in where the hook runs (a
 * worker descheduled by a busy machine has not overrun). A system call, unlike the monotonic
 * clock: the hook looks at it only once the call's wall-clock deadline has passed. */
static double
thread_cpu(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void
budget_hook(lua_State *L, lua_Debug *ar)
{
    struct ixd_lua_state *st = state_of(L);
    double used;

    (void)ar;
    if (!st->expired && ixd_lua_now() > st->deadline) {
        used = thread_cpu() - st->cpu_start;
        if (used < st->budget) {
            /* descheduled for part of it: the wall-clock deadline moves by what is left */
            st->deadline = ixd_lua_now() + (st->budget - used);
            return;
        }
        st->expired = 1;
    }
    if (st->expired) {
        luaL_where(L, 1);
        lua_pushstring(L, budget_message);
        lua_concat(L, 2);
        lua_error(L);
    }
}

/* Adds a traceback to a message (the handler of every call). */
static int
traceback(lua_State *L)
{
    const char *msg = lua_tostring(L, 1);

    if (msg == NULL) {
        msg = lua_pushfstring(L, "(error object is a %s value)", luaL_typename(L, 1));
    }
    luaL_traceback(L, L, msg, 1);
    return 1;
}

int
ixd_lua_call(struct ixd_lua_state *st, int nargs, int nresults, double budget, char *err,
             size_t errlen)
{
    lua_State *L = st->L;
    int base = lua_gettop(L) - nargs, rc;

    lua_rawgeti(L, LUA_REGISTRYINDEX, st->ref_traceback);
    lua_insert(L, base);
    st->deadline = ixd_lua_now() + budget;
    st->budget = budget;
    st->expired = 0;
    if (st->hooked) {
        st->cpu_start = thread_cpu();
    }
    st->in_call = 1;
    rc = lua_pcall(L, nargs, nresults, base);
    st->in_call = 0;
    if (rc != 0) {
        const char *m = lua_tostring(L, -1);
        snprintf(err, errlen, "%s", rc == LUA_ERRMEM ? "not enough memory" : m != NULL ? m : "?");
        lua_pop(L, 1);
    }
    lua_remove(L, base);
    /* a memory bomb leaves garbage that the next call would otherwise trip over */
    if (rc == LUA_ERRMEM) {
        lua_gc(L, LUA_GCCOLLECT, 0);
    }
    return rc;
}

/* pcall and xpcall as the script sees them: an expired budget is not the script's to catch. */
static int
finish_pcall(lua_State *L, int status, int base)
{
    struct ixd_lua_state *st = state_of(L);

    if (st->expired) {
        lua_pushstring(L, budget_message);
        return lua_error(L);
    }
    lua_pushboolean(L, status == 0);
    lua_insert(L, base);
    return lua_gettop(L) - base + 1;
}

static int
safe_pcall(lua_State *L)
{
    luaL_checkany(L, 1);
    return finish_pcall(L, lua_pcall(L, lua_gettop(L) - 1, LUA_MULTRET, 0), 1);
}

static int
safe_xpcall(lua_State *L)
{
    luaL_checkany(L, 2);
    lua_pushvalue(L, 1); /* the function above its handler */
    return finish_pcall(L, lua_pcall(L, 0, LUA_MULTRET, 2), 3);
}

/* t[name] = copy of the library table lib without the names in drop */
static void
copy_library(lua_State *L, int env, const char *lib, const char *const *drop)
{
    lua_getglobal(L, lib);
    lua_newtable(L);
    lua_pushnil(L);
    while (lua_next(L, -3) != 0) {
        int skip = 0;
        for (size_t i = 0; drop != NULL && drop[i] != NULL; i++) {
            skip |= lua_type(L, -2) == LUA_TSTRING && strcmp(lua_tostring(L, -2), drop[i]) == 0;
        }
        if (skip) {
            lua_pop(L, 1);
            continue;
        }
        lua_pushvalue(L, -2);
        lua_insert(L, -2);
        lua_rawset(L, -4);
    }
    lua_setfield(L, env, lib);
    lua_pop(L, 1);
}

/* The environment of an untrusted script: text chunks, no ffi, jit, debug, io, require,
 * package, load*, string.dump, os beyond time/clock/date (docs/lua.md#sandbox). */
static void
untrusted_env(lua_State *L, int env)
{
    static const char *const base[] = {
        "assert",   "error",        "ipairs",       "next",     "pairs",    "select",
        "tonumber", "tostring",     "type",         "unpack",   "rawequal", "rawget",
        "rawset",   "setmetatable", "getmetatable", "_VERSION", NULL};
    static const char *const no_dump[] = {"dump", NULL};
    static const char *const os_keep[] = {"time", "clock", "date", NULL};

    for (size_t i = 0; base[i] != NULL; i++) {
        lua_getglobal(L, base[i]);
        lua_setfield(L, env, base[i]);
    }
    lua_pushcfunction(L, safe_pcall);
    lua_setfield(L, env, "pcall");
    lua_pushcfunction(L, safe_xpcall);
    lua_setfield(L, env, "xpcall");
    copy_library(L, env, "string", no_dump);
    copy_library(L, env, "table", NULL);
    copy_library(L, env, "math", NULL);
    copy_library(L, env, "bit", NULL);
    lua_newtable(L);
    lua_getglobal(L, "os");
    for (size_t i = 0; os_keep[i] != NULL; i++) {
        lua_getfield(L, -1, os_keep[i]);
        lua_setfield(L, -3, os_keep[i]);
    }
    lua_pop(L, 1);
    lua_setfield(L, env, "os");
    /* strings share one metatable whose __index is the real string table: without dump, and
     * locked, so that no script reaches or changes it */
    lua_getglobal(L, "string");
    lua_pushnil(L);
    lua_setfield(L, -2, "dump");
    lua_pop(L, 1);
    lua_pushliteral(L, "");
    if (lua_getmetatable(L, -1)) {
        lua_pushboolean(L, 0);
        lua_setfield(L, -2, "__metatable");
        lua_pop(L, 1);
    }
    lua_pop(L, 1);
}

/* A trusted script sees every global through its environment's metatable. */
static void
trusted_env(lua_State *L, int env)
{
    lua_newtable(L);
    lua_pushvalue(L, LUA_GLOBALSINDEX);
    lua_setfield(L, -2, "__index");
    lua_setmetatable(L, env);
}

static int
ref_field(lua_State *L, int table, const char *name)
{
    lua_getfield(L, table, name);
    return luaL_ref(L, LUA_REGISTRYINDEX);
}

/* Runs the driver with (view, jit, C functions, env): its functions go to the registry. */
static int
load_driver(struct ixd_lua_state *st, int env, char *err, size_t errlen)
{
    lua_State *L = st->L;
    int d;

    if (luaL_loadbuffer(L, ixd_lua_driver, ixd_lua_driver_len, "=driver") != 0) {
        snprintf(err, errlen, "lua driver: %s", lua_tostring(L, -1));
        return -1;
    }
    lua_pushlightuserdata(L, st->view);
    lua_pushboolean(L, st->jit);
    lua_newtable(L);
    ixd_lua_record_register(L, st);
    lua_pushvalue(L, env);
    if (ixd_lua_call(st, 4, 1, 5.0, err, errlen) != 0) {
        return -1;
    }
    d = lua_gettop(L);
    st->ref_run = ref_field(L, d, "run");
    st->ref_layout = ref_field(L, d, "layout");
    st->ref_tick = ref_field(L, d, "tick");
    st->ref_template = ref_field(L, d, "template");
    st->ref_init = ref_field(L, d, "init");
    st->ref_u64 = ref_field(L, d, "u64");
    st->ref_i64 = ref_field(L, d, "i64");
    st->ref_dropped = ref_field(L, d, "dropped");
    st->ref_counter = ref_field(L, d, "counter");
    st->ref_methods = ref_field(L, d, "methods");
    lua_pop(L, 1);
    return 0;
}

static int
state_buffers(struct ixd_lua_state *st)
{
    st->view = calloc(1, sizeof(*st->view));
    st->emit_buf = malloc(EMIT_BYTES);
    st->layouts = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    st->by_serial = g_hash_table_new(g_direct_hash, g_direct_equal);
    if (st->view == NULL || st->emit_buf == NULL) {
        return -1;
    }
    st->view->buf = malloc(COPY_BYTES);
    if (st->view->buf == NULL) {
        return -1;
    }
    st->view->size = COPY_BYTES;
    st->view->counters = st->counters;
    st->emit_size = EMIT_BYTES;
    return 0;
}

/* The script's chunk in its environment, run; then ipfixd.state restored and init called. */
static int
run_script(struct ixd_lua_state *st, int env, int worker, char *err, size_t errlen)
{
    const struct ixd_lua_conf *c = st->conf;
    lua_State *L = st->L;
    double budget = c->budget * 10 > 1.0 ? c->budget * 10 : 1.0;
    uint8_t *blob = NULL;
    size_t len = 0;
    int rc;

    if (worker >= 0 && ixd_lua_state_take(c->key, (unsigned)worker, &blob, &len) == 0) {
        /* before the chunk runs, so that its top level sees what was kept */
        lua_getfield(L, env, "ipfixd");
        ixd_lua_blob_push(L, blob, len);
        if (lua_istable(L, -1)) {
            lua_setfield(L, -2, "state");
        } else {
            lua_pop(L, 1);
        }
        lua_pop(L, 1);
        g_free(blob);
    }
    if (c->len > 0 && c->text[0] == '\x1b') {
        snprintf(err, errlen, "%s: bytecode is refused: scripts are Lua text", c->name);
        return -1;
    }
    if (luaL_loadbufferx(L, c->text, c->len, c->chunk, "t") != 0) {
        snprintf(err, errlen, "%s", lua_tostring(L, -1));
        return -1;
    }
    lua_pushvalue(L, env);
    lua_setfenv(L, -2);
    lua_rawgeti(L, LUA_REGISTRYINDEX, st->ref_init);
    ixd_lua_blob_push(L, c->settings, c->settings_len);
    if (!lua_istable(L, -1)) {
        lua_pop(L, 1);
        lua_newtable(L);
    }
    lua_pushvalue(L, -3);
    lua_remove(L, -4); /* init and its settings, then the chunk on top */
    /* the top level and init emit nothing: the pipeline is not taking records yet */
    st->in_init = 1;
    rc = ixd_lua_call(st, 0, 0, budget, err, errlen);
    if (rc == 0) {
        rc = ixd_lua_call(st, 1, 0, budget, err, errlen);
    } else {
        lua_pop(L, 2);
    }
    st->in_init = 0;
    return rc == 0 ? 0 : -1;
}

static int
setup(struct ixd_lua_state *st, int worker, char *err, size_t errlen)
{
    lua_State *L = st->L;
    int env;

    /* the setup runs interpreted and within a budget, trusted or not: a script whose init
     * never returns is refused by ipfixd -t instead of hanging it */
    luaJIT_setmode(L, 0, LUAJIT_MODE_ENGINE | LUAJIT_MODE_OFF);
    lua_sethook(L, budget_hook, LUA_MASKCOUNT, HOOK_COUNT);
    st->hooked = 1;
    lua_pushcfunction(L, traceback);
    st->ref_traceback = luaL_ref(L, LUA_REGISTRYINDEX);
    lua_newtable(L);
    env = lua_gettop(L);
    if (load_driver(st, env, err, errlen) == -1) {
        return -1;
    }
    if (st->conf->trusted) {
        trusted_env(L, env);
    } else {
        untrusted_env(L, env);
    }
    ixd_lua_library_open(L, st, env);
    if (run_script(st, env, worker, err, errlen) == -1) {
        return -1;
    }
    lua_pop(L, 1);
    if (st->jit && st->conf->jit == 1) {
        lua_sethook(L, NULL, 0, 0);
        st->hooked = 0;
        luaJIT_setmode(L, 0, LUAJIT_MODE_ENGINE | LUAJIT_MODE_ON);
    }
    return 0;
}

struct ixd_lua_state *
ixd_lua_state_new(const struct ixd_lua_conf *conf, int worker, struct ixd_stage_ctx *ctx, char *err,
                  size_t errlen)
{
    struct ixd_lua_state *st = calloc(1, sizeof(*st));

    if (st == NULL) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    st->conf = conf;
    st->worker = worker >= 0 ? (unsigned)worker : 0;
    st->ctx = ctx;
    st->mem_cap = conf->memory;
    st->jit = conf->jit == 2 || (conf->jit == 1 && ixd_lua_jit_available());
    st->next_tid = 256;
    pthread_mutex_init(&st->error_lock, NULL);
    if (state_buffers(st) == -1) {
        snprintf(err, errlen, "out of memory");
        goto fail;
    }
    st->L = lua_newstate(capped_alloc, st);
    if (st->L == NULL) {
        snprintf(err, errlen, "cannot make a Lua state (out of memory)");
        goto fail;
    }
    luaL_openlibs(st->L);
    if (setup(st, worker, err, errlen) == -1) {
        goto fail;
    }
    return st;
fail:
    ixd_lua_state_free(st);
    return NULL;
}

void
ixd_lua_state_free(struct ixd_lua_state *st)
{
    if (st == NULL) {
        return;
    }
    if (st->L != NULL) {
        lua_close(st->L);
    }
    if (st->derived != NULL) {
        g_hash_table_destroy(st->derived);
    }
    if (st->emit_templates != NULL) {
        g_hash_table_destroy(st->emit_templates);
    }
    if (st->layouts != NULL) {
        g_hash_table_destroy(st->layouts);
    }
    if (st->by_serial != NULL) {
        g_hash_table_destroy(st->by_serial);
    }
    if (st->view != NULL) {
        free(st->view->buf);
    }
    free(st->view);
    free(st->emit_buf);
    free(st->key_cache);
    pthread_mutex_destroy(&st->error_lock);
    free(st);
}
