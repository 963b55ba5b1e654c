/*
 * The lua stage: record logic in a script (docs/lua.md). One lua_State per worker; each batch
 * is one call into the driver, which runs the script's on_batch and on_record over the
 * records; the verdicts come back as the slots the script dropped.
 */
#include <errno.h>
#include <lauxlib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/keys.h"
#include "core/relaxed_counter.h"
#include "lua/lua_internal.h"

#define DERIVED_MAX 4096

struct settings_blob {
    uint8_t *blob;
    size_t len;
};

struct lua_settings {
    char file[200];
    int trusted;
    int on_error;
    size_t memory;
    uint32_t budget_ms;
    uint32_t overruns;
    struct settings_blob settings;
};

static const char *const on_error_choices[] = {"pass", "drop", NULL};

static int
parse_settings(const struct ixd_key *key, const struct ixd_cnode *v, void *field,
               const struct ixd_key_env *env, char *err, size_t errlen)
{
    struct settings_blob *b = field;

    (void)key;
    if (ixd_lua_blob_from_cnode(v, &b->blob, &b->len) == -1) {
        return ixd_cnode_fail(v, env->file, err, errlen, "settings are too big");
    }
    return 0;
}

static void
release_settings(void *field)
{
    struct settings_blob *b = field;

    g_free(b->blob);
    b->blob = NULL;
}

static const struct ixd_key lua_keys[] = {
    {.name = "file",
     .kind = IXD_KEY_STRING,
     IXD_KEY_AT(struct lua_settings, file),
     .help = "the script, relative to lua.directory"},
    {.name = "trusted",
     .kind = IXD_KEY_BOOL,
     IXD_KEY_AT(struct lua_settings, trusted),
     .def = "false",
     .help = "true: every library and the JIT; false: the sandbox"},
    {.name = "on-error",
     .kind = IXD_KEY_ENUM,
     IXD_KEY_AT(struct lua_settings, on_error),
     .def = "pass",
     .choices = on_error_choices,
     .help = "what a batch whose call failed becomes: pass (as it came) or drop"},
    {.name = "memory",
     .kind = IXD_KEY_SIZE,
     IXD_KEY_AT(struct lua_settings, memory),
     .def = "32M",
     .min = 4u << 20,
     .max = 1u << 30,
     .help = "what one state may allocate"},
    {.name = "budget-ms",
     .kind = IXD_KEY_U32,
     IXD_KEY_AT(struct lua_settings, budget_ms),
     .def = "50",
     .min = 1,
     .max = 60000,
     .help = "milliseconds one call may take"},
    {.name = "overruns",
     .kind = IXD_KEY_U32,
     IXD_KEY_AT(struct lua_settings, overruns),
     .def = "3",
     .min = 1,
     .max = 1000,
     .help = "calls over budget in a row that disable the script until a reload"},
    {.name = "settings",
     .kind = IXD_KEY_CUSTOM,
     IXD_KEY_AT(struct lua_settings, settings),
     .parse = parse_settings,
     .release = release_settings,
     .help = "what init() receives"},
    {NULL},
};

static void
lua_conf_free(void *p)
{
    struct ixd_lua_conf *c = p;

    if (c == NULL) {
        return;
    }
    free(c->text);
    free(c->directory);
    g_free(c->settings);
    ixd_lua_files_free(c->files);
    free(c);
}

/* The settings' checks, then the script read, compiled and init() run in a state of its own:
 * what ipfixd -t reports. */
static int
conf_fill(struct ixd_lua_conf *c, struct lua_settings *s, const struct ixd_cnode *settings,
          const struct ixd_stage_env *env, char *err, size_t errlen)
{
    const struct ixd_cnode *at = ixd_cnode_get(settings, "file");
    char why[1024];
    struct ixd_lua_state *trial;

    if (at == NULL || s->file[0] == '\0') {
        return ixd_cnode_fail(settings, env->file, err, errlen,
                              "lua wants a script: lua: {file: NAME.lua}");
    }
    snprintf(c->name, sizeof(c->name), "%s", s->file);
    snprintf(c->chunk, sizeof(c->chunk), "@%s", s->file);
    snprintf(c->key, sizeof(c->key), "%s/%u/%s", env->pipeline != NULL ? env->pipeline : "",
             env->index, s->file);
    c->trusted = s->trusted;
    c->jit = s->trusted;
    c->on_error_drop = s->on_error == 1;
    c->memory = s->memory;
    c->budget = s->budget_ms / 1000.0;
    c->overruns = s->overruns;
    c->settings = s->settings.blob;
    c->settings_len = s->settings.len;
    s->settings.blob = NULL;
    c->registry = env->registry;
    if (env->syntax_only) {
        return 0; /* the script and its files are the other machine's */
    }
    if (env->script_directory == NULL || env->script_directory[0] == '\0') {
        return ixd_cnode_fail(settings, env->file, err, errlen,
                              "a lua stage needs lua.directory: the folder its scripts and "
                              "files are in");
    }
    c->directory = realpath(env->script_directory, NULL);
    if (c->directory == NULL) {
        return ixd_cnode_fail(at, env->file, err, errlen, "lua.directory %s: %s",
                              env->script_directory, strerror(errno));
    }
    c->text = ixd_lua_read_file(c->directory, s->file, 1, &c->len, why, sizeof(why));
    if (c->text == NULL) {
        return ixd_cnode_fail(at, env->file, err, errlen, "lua: %s", why);
    }
    trial = ixd_lua_state_new(c, -1, NULL, why, sizeof(why));
    if (trial == NULL) {
        return ixd_cnode_fail(at, env->file, err, errlen, "lua: %s", why);
    }
    ixd_lua_state_free(trial);
    return 0;
}

static void *
lua_conf(const struct ixd_cnode *settings, const struct ixd_stage_env *env, char *err,
         size_t errlen)
{
    struct ixd_key_env kenv = {env->file, env->syntax_only ? IXD_CONFIG_SYNTAX_ONLY : 0,
                               "stage lua"};
    struct lua_settings s;
    struct ixd_lua_conf *c = calloc(1, sizeof(*c));

    memset(&s, 0, sizeof(s));
    if (c == NULL || (c->files = ixd_lua_files_new()) == NULL) {
        snprintf(err, errlen, "out of memory");
        lua_conf_free(c);
        return NULL;
    }
    if (settings->kind != IXD_CNODE_MAPPING) {
        ixd_cnode_fail(settings, env->file, err, errlen,
                       "lua wants settings, e.g. lua: {file: tag.lua, trusted: false}");
        lua_conf_free(c);
        return NULL;
    }
    if (ixd_keys_parse(lua_keys, settings, &s, &kenv, err, errlen) == -1 ||
        conf_fill(c, &s, settings, env, err, errlen) == -1) {
        ixd_keys_release(lua_keys, &s);
        lua_conf_free(c);
        return NULL;
    }
    ixd_keys_release(lua_keys, &s);
    return c;
}

/* A state whose script failed in this worker (its init, say): it passes or drops per
 * on-error until a reload, and the API shows why. */
static struct ixd_lua_state *
dead_state(const struct ixd_lua_conf *c, unsigned worker, const char *why)
{
    struct ixd_lua_state *st = calloc(1, sizeof(*st));

    if (st == NULL) {
        return NULL;
    }
    st->conf = c;
    st->worker = worker;
    st->disabled = 1;
    pthread_mutex_init(&st->error_lock, NULL);
    ixd_lua_note_error(st, "cannot start", why);
    st->errors = 1;
    return st;
}

static void *
lua_start(const void *conf, unsigned worker, struct ixd_stage_ctx *ctx)
{
    const struct ixd_lua_conf *c = conf;
    struct ixd_lua_state *st;
    char why[1024];

    st = ixd_lua_state_new(c, (int)worker, ctx, why, sizeof(why));
    return st != NULL ? st : dead_state(c, worker, why);
}

/* The script's call went wrong: counted, noted, and the batch gets the on-error verdict. */
static void
call_failed(struct ixd_lua_state *st, int rc, const char *what, const char *msg)
{
    IXD_CNT_ADD(st->errors, 1);
    if (rc == LUA_ERRMEM) {
        IXD_CNT_ADD(st->memory_errors, 1);
    }
    ixd_lua_note_error(st, what, msg);
    ixd_lua_emit_discard(st);
}

/* After every call: a call over budget counts; so many in a row disable the script. Hooked
 * (sandboxed) states know from the hook, which counts the thread's CPU time; JIT states by the
 * wall clock once the call returned. */
static void
check_budget(struct ixd_lua_state *st, double started)
{
    if (!st->expired && (st->hooked || ixd_lua_now() - started <= st->conf->budget)) {
        st->in_a_row = 0;
        return;
    }
    IXD_CNT_ADD(st->overruns, 1);
    if (++st->in_a_row >= st->conf->overruns && !st->disabled) {
        IXD_CNT_SET(st->disabled, 1);
        log_err("lua %s: disabled after %u calls over its budget of %.0f ms in a row; records "
                "%s until a reload",
                st->conf->name, st->in_a_row, st->conf->budget * 1000,
                st->conf->on_error_drop ? "are dropped" : "pass unchanged");
    }
}

static void
verdict(struct ixd_lua_state *st, struct ixd_batch *batch)
{
    if (st->conf->on_error_drop) {
        IXD_CNT_ADD(st->failed, batch->count);
        batch->count = 0;
    }
}

/* Fills the slots from the batch. */
static void
load_slots(struct ixd_lua_state *st, const struct ixd_batch *batch)
{
    struct ixd_lua_view *v = st->view;
    const struct ixd_template *last = NULL;
    uint16_t layout = 0;

    v->used = 0;
    v->count = (uint32_t)batch->count;
    for (size_t i = 0; i < batch->count; i++) {
        const struct ixd_record *r = &batch->records[i];
        struct ixd_lua_slot *sl = &v->slots[i];
        if (r->tmpl != last) {
            last = r->tmpl;
            layout = ixd_lua_layout_of(st, r->tmpl);
        }
        sl->data = (uint8_t *)(uintptr_t)r->data; /* written only once copied (own) */
        sl->offsets = r->offsets;
        sl->lengths = r->lengths;
        sl->length = r->length;
        sl->layout = layout;
        sl->own = 0;
        st->tmpls[i] = r->tmpl;
    }
}

/* The batch as the script left it: records in the slots, but those it dropped. */
static void
take_slots(struct ixd_lua_state *st, struct ixd_batch *batch, int n_dropped)
{
    lua_State *L = st->L;
    uint8_t gone[IXD_LUA_SLOTS];
    size_t kept = 0;

    if (n_dropped == 0 && st->view->used == 0) {
        return; /* nothing dropped, nothing changed: the batch as it came */
    }
    memset(gone, 0, batch->count);
    if (st->jit) {
        for (int i = 0; i < n_dropped && i < IXD_LUA_SLOTS; i++) {
            if (st->view->dropped[i] < batch->count) {
                gone[st->view->dropped[i]] = 1;
            }
        }
    } else if (n_dropped > 0) {
        lua_rawgeti(L, LUA_REGISTRYINDEX, st->ref_dropped);
        for (int i = 1; i <= n_dropped; i++) {
            lua_rawgeti(L, -1, i);
            lua_Number s = lua_tonumber(L, -1);
            if (s >= 0 && s < (lua_Number)batch->count) {
                gone[(size_t)s] = 1;
            }
            lua_pop(L, 1);
        }
        lua_pop(L, 1);
    }
    if (st->view->used == 0) {
        for (size_t i = 0; i < batch->count; i++) { /* only drops: compact as a filter does */
            if (!gone[i]) {
                batch->records[kept++] = batch->records[i];
            }
        }
        IXD_CNT_ADD(st->dropped, batch->count - kept);
        batch->count = kept;
        return;
    }
    for (size_t i = 0; i < batch->count; i++) {
        const struct ixd_lua_slot *sl = &st->view->slots[i];
        if (gone[i]) {
            continue;
        }
        batch->records[kept].tmpl = st->tmpls[i];
        batch->records[kept].data = sl->data;
        batch->records[kept].length = sl->length;
        batch->records[kept].offsets = sl->offsets;
        batch->records[kept].lengths = sl->lengths;
        kept++;
    }
    IXD_CNT_ADD(st->dropped, batch->count - kept);
    batch->count = kept;
}

static void
lua_process(void *state, struct ixd_batch *batch)
{
    struct ixd_lua_state *st = state;
    lua_State *L = st->L;
    char err[1024];
    double started;
    int rc;

    if (st->disabled) {
        verdict(st, batch);
        return;
    }
    if (st->derived != NULL && g_hash_table_size(st->derived) >= DERIVED_MAX) {
        g_hash_table_remove_all(st->derived); /* no record of an earlier batch is left */
    }
    IXD_CNT_ADD(st->calls, 1);
    IXD_CNT_ADD(st->records, batch->count);
    load_slots(st, batch);
    st->source = batch->source;
    st->in_process = 1;
    started = ixd_lua_now();
    lua_rawgeti(L, LUA_REGISTRYINDEX, st->ref_run);
    lua_pushnumber(L, (lua_Number)batch->count);
    rc = ixd_lua_call(st, 1, 1, st->conf->budget, err, sizeof(err));
    if (rc == 0) {
        int n = (int)lua_tonumber(L, -1);
        lua_pop(L, 1);
        take_slots(st, batch, n);
        st->in_process = 0;
        ixd_lua_emit_flush(st);
    } else {
        call_failed(st, rc, "on_batch/on_record", err);
        verdict(st, batch);
    }
    for (size_t i = 0; i < st->view->count; i++) {
        st->view->slots[i].layout = 0; /* records kept by the script now raise an error */
    }
    st->view->count = 0;
    st->in_process = 0;
    st->source = NULL;
    check_budget(st, started);
}

/* A call of the driver's function ref with one argument already pushed. */
static void
call_hook(struct ixd_lua_state *st, const char *what)
{
    char err[1024];
    double started = ixd_lua_now();
    int rc = ixd_lua_call(st, 1, 0, st->conf->budget, err, sizeof(err));

    if (rc == 0) {
        ixd_lua_emit_flush(st);
    } else {
        call_failed(st, rc, what, err);
    }
    check_budget(st, started);
}

static void
lua_tick(void *state, double now)
{
    struct ixd_lua_state *st = state;
    struct timespec ts;

    (void)now;
    if (st->disabled) {
        return;
    }
    clock_gettime(CLOCK_REALTIME, &ts);
    lua_rawgeti(st->L, LUA_REGISTRYINDEX, st->ref_tick);
    lua_pushnumber(st->L, (double)ts.tv_sec + (double)ts.tv_nsec / 1e9);
    call_hook(st, "on_tick");
}

static void
lua_template(void *state, const struct ixd_template *tmpl, const struct ixd_source *source)
{
    struct ixd_lua_state *st = state;

    if (st->disabled) {
        return;
    }
    lua_rawgeti(st->L, LUA_REGISTRYINDEX, st->ref_template);
    ixd_lua_push_template(st->L, tmpl, source);
    call_hook(st, "on_template");
}

struct save_args {
    struct ixd_lua_state *st;
    uint8_t *blob;
    size_t len;
    int rc;
};

/* lua_cpcall body: ipfixd.state as a blob (protected: it allocates) */
static int
save_body(lua_State *L)
{
    struct save_args *a = lua_touserdata(L, 1);

    lua_rawgeti(L, LUA_REGISTRYINDEX, a->st->ref_ipfixd);
    lua_getfield(L, -1, "state");
    a->rc = lua_istable(L, -1) ? ixd_lua_blob_from(L, -1, &a->blob, &a->len) : -1;
    return 0;
}

static void
lua_stop(void *state)
{
    struct ixd_lua_state *st = state;
    struct save_args a = {st, NULL, 0, -1};

    if (st->L != NULL && lua_cpcall(st->L, save_body, &a) == 0 && a.rc == 0) {
        ixd_lua_state_save(st->conf->key, st->worker, a.blob, a.len);
    } else if (st->L != NULL) {
        lua_settop(st->L, 0);
    }
    ixd_lua_state_free(st);
}

enum {
    DEF_SCRIPT,
    DEF_CALLS,
    DEF_RECORDS,
    DEF_DROPPED,
    DEF_EMITTED,
    DEF_FAILED,
    DEF_ERRORS,
    DEF_MEMORY_ERRORS,
    DEF_OVERRUNS,
    DEF_DISABLED,
    DEF_MEMORY,
    DEF_COUNTER,
    DEF_LAST_ERROR,
};

static const struct ixd_counter_def lua_defs[] = {
    [DEF_SCRIPT] = {.key = "states",
                    .metric = "ipfixd_lua_script_states",
                    .kind = IXD_COUNTER_GAUGE,
                    .help = "states (one per worker) running a script",
                    .label = "script"},
    [DEF_CALLS] = {.key = "calls",
                   .metric = "ipfixd_lua_calls_total",
                   .kind = IXD_COUNTER_TOTAL,
                   .help = "batches a script was called with"},
    [DEF_RECORDS] = {.key = "records",
                     .metric = "ipfixd_lua_records_total",
                     .kind = IXD_COUNTER_TOTAL,
                     .help = "records handed to a script"},
    [DEF_DROPPED] = {.key = "dropped",
                     .metric = "ipfixd_lua_dropped_records_total",
                     .kind = IXD_COUNTER_TOTAL,
                     .help = "records a script dropped"},
    [DEF_EMITTED] = {.key = "emitted",
                     .metric = "ipfixd_lua_emitted_records_total",
                     .kind = IXD_COUNTER_TOTAL,
                     .help = "records a script emitted"},
    [DEF_FAILED] = {.key = "failed",
                    .metric = "ipfixd_lua_failed_records_total",
                    .kind = IXD_COUNTER_TOTAL,
                    .help = "records lost to errors (on-error: drop) and refused emits"},
    [DEF_ERRORS] = {.key = "errors",
                    .metric = "ipfixd_lua_errors_total",
                    .kind = IXD_COUNTER_TOTAL,
                    .help = "calls of a script that failed"},
    [DEF_MEMORY_ERRORS] = {.key = "memory_errors",
                           .metric = "ipfixd_lua_memory_errors_total",
                           .kind = IXD_COUNTER_TOTAL,
                           .help = "calls that failed for want of memory (the state's cap)"},
    [DEF_OVERRUNS] = {.key = "overruns",
                      .metric = "ipfixd_lua_overruns_total",
                      .kind = IXD_COUNTER_TOTAL,
                      .help = "calls over the script's time budget"},
    [DEF_DISABLED] = {.key = "disabled",
                      .metric = "ipfixd_lua_disabled_states",
                      .kind = IXD_COUNTER_GAUGE,
                      .help = "states whose script is disabled until a reload"},
    [DEF_MEMORY] = {.key = "memory_bytes",
                    .metric = "ipfixd_lua_memory_bytes",
                    .kind = IXD_COUNTER_GAUGE,
                    .help = "bytes the states of a script hold"},
    [DEF_COUNTER] = {.key = "value",
                     .metric = "ipfixd_lua_counter",
                     .kind = IXD_COUNTER_TOTAL,
                     .help = "what a script counted with ipfixd.counter()",
                     .label = "script_counter"},
    [DEF_LAST_ERROR] = {.key = "states",
                        .metric = NULL,
                        .kind = IXD_COUNTER_GAUGE,
                        .help = "states whose last error this is",
                        .label = "last_error"},
};

static void
lua_stats(const void *state, ixd_counter_fn fn, void *arg)
{
    const struct ixd_lua_state *st = state;
    struct ixd_lua_state *w = (struct ixd_lua_state *)(uintptr_t)state; /* the error lock */
    unsigned n = __atomic_load_n(&st->n_counters, __ATOMIC_ACQUIRE);
    char error[IXD_LUA_ERROR_MAX];

    fn(arg, &lua_defs[DEF_SCRIPT], st->conf->name, 1);
    fn(arg, &lua_defs[DEF_CALLS], NULL, IXD_CNT_GET(st->calls));
    fn(arg, &lua_defs[DEF_RECORDS], NULL, IXD_CNT_GET(st->records));
    fn(arg, &lua_defs[DEF_DROPPED], NULL, IXD_CNT_GET(st->dropped));
    fn(arg, &lua_defs[DEF_EMITTED], NULL, IXD_CNT_GET(st->emitted));
    fn(arg, &lua_defs[DEF_FAILED], NULL, IXD_CNT_GET(st->failed));
    fn(arg, &lua_defs[DEF_ERRORS], NULL, IXD_CNT_GET(st->errors));
    fn(arg, &lua_defs[DEF_MEMORY_ERRORS], NULL, IXD_CNT_GET(st->memory_errors));
    fn(arg, &lua_defs[DEF_OVERRUNS], NULL, IXD_CNT_GET(st->overruns));
    fn(arg, &lua_defs[DEF_DISABLED], NULL, IXD_CNT_GET(st->disabled));
    fn(arg, &lua_defs[DEF_MEMORY], NULL, IXD_CNT_GET(st->mem_used));
    for (unsigned i = 0; i < n; i++) {
        union {
            uint64_t u;
            double d;
        } v;
        v.u = __atomic_load_n((const uint64_t *)(const void *)&st->counters[i], __ATOMIC_RELAXED);
        fn(arg, &lua_defs[DEF_COUNTER], st->counter_names[i], v.d > 0 ? (uint64_t)v.d : 0);
    }
    pthread_mutex_lock(&w->error_lock);
    snprintf(error, sizeof(error), "%s", st->last_error);
    pthread_mutex_unlock(&w->error_lock);
    if (error[0] != '\0') {
        fn(arg, &lua_defs[DEF_LAST_ERROR], error, 1);
    }
}

static uint64_t
lua_failed(const void *state)
{
    return IXD_CNT_GET(((const struct ixd_lua_state *)state)->failed);
}

const struct ixd_stage_type ixd_stage_lua = {
    .name = "lua",
    .conf = lua_conf,
    .conf_free = lua_conf_free,
    .start = lua_start,
    .process = lua_process,
    .tick = lua_tick,
    .stop = lua_stop,
    .failed = lua_failed,
    .on_template = lua_template,
    .stats = lua_stats,
};
