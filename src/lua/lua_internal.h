/*
 * The Lua stage's parts (docs/lua.md, docs/internals/lua.md): what stage_lua.c, sandbox.c,
 * record.c and library.c share. LuaJIT is used nowhere else in ipfixd.
 *
 * One lua_State per worker per stage. Records reach a script as FFI struct references into
 * memory the state owns (a slot number each); the slot table below is what the C side and the
 * driver (driver.lua) share: the driver reads and writes it through the FFI, the script never
 * sees it.
 */
#ifndef IXD_LUA_LUA_INTERNAL_H
#define IXD_LUA_LUA_INTERNAL_H

#include <glib.h>
#include <lua.h>
#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "core/log.h"
#include "ipfix/decode.h"
#include "ipfix/ie.h"
#include "ipfixd/stage.h"

#define IXD_LUA_SLOTS IXD_BATCH_MAX
#define IXD_LUA_COUNTERS 64     /* ipfixd.counter() names per script */
#define IXD_LUA_COUNTER_NAME 64 /* bytes of a counter's name, NUL included */
#define IXD_LUA_LAYOUTS_MAX                                                                        \
    1024                      /* FFI record types per state; then records use one generic type     \
                               */
#define IXD_LUA_ERROR_MAX 256 /* bytes of the last error kept for the API */

/* One record as the driver sees it. Mirrored by the cdef in driver.lua: keep them alike. */
struct ixd_lua_slot {
    uint8_t *data;           /* the record's bytes: the message's, or the stage's copy (own) */
    const uint16_t *offsets; /* variable-length layouts: per-field offsets and lengths */
    const uint16_t *lengths;
    uint32_t length;
    uint16_t layout; /* 0: no record (outside a call, or past the batch's end) */
    uint8_t own;     /* 1: data is the stage's copy and may be written */
    uint8_t pad;
};

struct ixd_lua_view {
    uint32_t count; /* records of the call in progress */
    uint32_t used;  /* bytes of buf taken by copies */
    uint32_t size;
    uint32_t pad;
    uint8_t *buf;                    /* record copies, reset at every batch */
    double *counters;                /* ipfixd.counter() values, IXD_LUA_COUNTERS */
    uint16_t dropped[IXD_LUA_SLOTS]; /* JIT states: the slots the script dropped */
    struct ixd_lua_slot slots[IXD_LUA_SLOTS];
};

/* Files a script loaded (ipfixd.prefix_table, ipfixd.table_from_csv): read once per config and
 * shared read-only by the workers' states. */
struct ixd_lua_files;

/* The checked settings of one lua stage; read-only once conf() returns (the file cache aside,
 * which has its own lock). */
struct ixd_lua_conf {
    char name[256];  /* the script as written: messages, counters */
    char chunk[300]; /* "@name" for LuaJIT's messages */
    char key[512];   /* pipeline/stage/name: what ipfixd.state is kept under */
    char *text;      /* the script */
    size_t len;
    char *directory; /* lua.directory, resolved */
    int trusted;     /* every library; else the sandbox */
    int jit; /* 1: the JIT runs the script (trusted ones); 2: records get the JIT's per-layout
                types but the code runs interpreted within the budget (the fuzz target) */
    int on_error_drop; /* on-error: drop */
    size_t memory;     /* allocator cap, bytes */
    double budget;     /* seconds a call may take */
    unsigned overruns; /* calls over budget in a row that disable the script */
    uint8_t *settings; /* settings: as a serialised table (ixd_lua_blob_*) */
    size_t settings_len;
    const struct ixd_ie_registry *registry;
    struct ixd_lua_files *files;
};

/* A derived template and how its fields are filled from the record it came from. */
struct ixd_lua_derived {
    struct ixd_template *tmpl;
    uint16_t n;
    int32_t from[]; /* >= 0: the source field; -1: the new value */
};

/* One worker's state of one lua stage. */
struct ixd_lua_state {
    const struct ixd_lua_conf *conf;
    unsigned worker;
    struct ixd_stage_ctx *ctx;
    lua_State *L;
    int jit; /* the JIT runs this state's code */
    /* allocator */
    size_t mem_used, mem_cap;
    /* the budget of the call in progress */
    double deadline;  /* monotonic seconds */
    double budget;    /* seconds of the call in progress */
    double cpu_start; /* thread CPU seconds at its start (hooked states) */
    int hooked;       /* the count hook runs: the sandbox, and every state's set-up */
    int expired;
    int in_call;
    int in_init;
    int in_process; /* slots hold records */
    /* driver functions (registry references) */
    int ref_run, ref_layout, ref_tick, ref_template, ref_init, ref_u64, ref_i64, ref_traceback;
    int ref_dropped, ref_counter, ref_methods, ref_ipfixd, ref_anchors;
    struct ixd_lua_view *view;
    const struct ixd_template *tmpls[IXD_LUA_SLOTS];
    const struct ixd_source *source; /* of the batch in progress */
    struct ixd_source emit_source;   /* of the records emitted outside process */
    /* layouts: FFI types made so far (JIT states) */
    GHashTable *layouts;   /* layout key (string) -> id */
    GHashTable *by_serial; /* template serial -> layout id */
    unsigned n_layouts;
    /* derived templates (assignments, remove) and emitted layouts */
    void *key_cache;            /* record.c: names resolved lately */
    GHashTable *derived;        /* "serial/op/pen/id/len" -> struct ixd_lua_derived */
    GHashTable *emit_templates; /* signature -> struct ixd_template */
    uint8_t *emit_buf;
    size_t emit_used, emit_size;
    struct ixd_record emit_records[IXD_LUA_SLOTS];
    size_t n_emit;
    uint16_t next_tid;
    /* counters (written by the worker, read by stats) */
    uint64_t calls, records, dropped, errors, memory_errors, overruns, emitted, failed;
    uint64_t disabled;
    unsigned in_a_row;
    char counter_names[IXD_LUA_COUNTERS][IXD_LUA_COUNTER_NAME];
    unsigned n_counters; /* published with a release store after its name */
    double counters[IXD_LUA_COUNTERS];
    pthread_mutex_t error_lock;
    char last_error[IXD_LUA_ERROR_MAX];
    int64_t last_error_usec;
    struct ixd_ratelimit error_log, script_log;
};

/* --- sandbox.c: states, budgets, calls --- */

/* 1 when this process may make executable memory (the JIT needs it); probed once. */
int ixd_lua_jit_available(void);
/* A new state for conf (worker -1: ipfixd -t's trial run, with nothing restored): libraries,
 * sandbox, driver, the script's chunk run and init(settings) called. NULL with err. */
struct ixd_lua_state *ixd_lua_state_new(const struct ixd_lua_conf *conf, int worker,
                                        struct ixd_stage_ctx *ctx, char *err, size_t errlen);
void ixd_lua_state_free(struct ixd_lua_state *st);
/* Calls the function below nargs arguments on st's stack, within the budget, with a traceback.
 * 0; or the LUA_ERR* code with the message in err (the stack is left as it was). */
int ixd_lua_call(struct ixd_lua_state *st, int nargs, int nresults, double budget, char *err,
                 size_t errlen);
/* Monotonic seconds. */
double ixd_lua_now(void);

/* lua_type() of FFI data (LuaJIT's LUA_TCDATA, which lua.h does not export) */
#define LUA_TCDATA_ 10

/* --- value.c: values between the wire and Lua --- */

/* Pushes what a value of type (its len bytes at p) reads as in a script. */
void ixd_lua_push_value(lua_State *L, struct ixd_lua_state *st, uint8_t type, const uint8_t *p,
                        size_t len);
/* The type and length an element (ie; NULL: not in the information model) gets when a script
 * adds it to a record or emits it. */
void ixd_lua_new_field_shape(const struct ixd_ie *ie, uint8_t *type, uint16_t *length);

/* --- record.c: record values, assignments, derived templates --- */

/* Registers the C functions the driver uses in the table on top of the stack. */
void ixd_lua_record_register(lua_State *L, struct ixd_lua_state *st);
/* The layout id of a template (made and announced to the driver when new). */
uint16_t ixd_lua_layout_of(struct ixd_lua_state *st, const struct ixd_template *t);
/* Hands emitted records on (from process, tick or on_template, after the script returned). */
void ixd_lua_emit_flush(struct ixd_lua_state *st);
/* Drops what the script emitted in a call that failed. */
void ixd_lua_emit_discard(struct ixd_lua_state *st);
/* The bytes of the value at idx as an element of type and length wants them (IXD_VARLEN: any
 * length) into out (65535 bytes); raises a Lua error naming key when it does not fit. */
size_t ixd_lua_encode(lua_State *L, int idx, const char *key, uint8_t type, uint16_t length,
                      uint8_t *out);
/* The element a name (or "en<PEN>:id<ID>") means, and the type and length a script's value of
 * it is encoded with. 0, or -1 for no element. */
int ixd_lua_element(const struct ixd_lua_state *st, const char *name, uint32_t *pen, uint16_t *id,
                    uint8_t *type, uint16_t *length);
/* A template compiled from n specifiers (spec, speclen bytes); NULL when it is not one. */
struct ixd_template *ixd_lua_compile(const struct ixd_lua_state *st, uint16_t tid, uint16_t scope,
                                     const uint8_t *spec, size_t speclen, uint16_t n);
/* Pushes ipfixd.emit (a closure over st). */
void ixd_lua_emit_register(lua_State *L, struct ixd_lua_state *st);
/* Pushes on_template's table for t. */
void ixd_lua_push_template(lua_State *L, const struct ixd_template *t, const struct ixd_source *s);

/* --- library.c: the ipfixd table, files, kept state --- */

/* Makes the ipfixd table and puts it, emit and print into the script's environment. */
void ixd_lua_library_open(lua_State *L, struct ixd_lua_state *st, int env);
struct ixd_lua_files *ixd_lua_files_new(void);
/* Reads name, relative to dir (resolved), into a new NUL-terminated buffer. Names that lead
 * outside dir are refused, and so are files others may not read unless private_ok (scripts
 * read no private file, so never a key file). NULL with err. */
char *ixd_lua_read_file(const char *dir, const char *name, int private_ok, size_t *len, char *err,
                        size_t errlen);
void ixd_lua_files_free(struct ixd_lua_files *f);
/* Serialises the value at idx (numbers, strings, booleans, tables of them) into a new buffer.
 * 0, or -1 when it has something else or is too big (what cannot be kept is skipped). */
int ixd_lua_blob_from(lua_State *L, int idx, uint8_t **out, size_t *len);
/* Pushes what a blob holds (nil when empty or broken). */
void ixd_lua_blob_push(lua_State *L, const uint8_t *blob, size_t len);
/* The settings of the stage as a blob. */
struct ixd_cnode;
int ixd_lua_blob_from_cnode(const struct ixd_cnode *n, uint8_t **out, size_t *len);
/* ipfixd.state kept across reloads: saved at stop, taken back at start. */
void ixd_lua_state_save(const char *key, unsigned worker, uint8_t *blob, size_t len);
int ixd_lua_state_take(const char *key, unsigned worker, uint8_t **blob, size_t *len);
/* Records the error message as the last one (API) and logs it, rate-limited. */
void ixd_lua_note_error(struct ixd_lua_state *st, const char *what, const char *msg);

#endif
