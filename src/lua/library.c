/*
 * The ipfixd table a script gets (docs/lua.md#the-ipfixd-table): log, counter, state,
 * table_from_csv, prefix_table, emit; the files scripts read (inside lua.directory only); and
 * ipfixd.state kept across reloads.
 */
#include <errno.h>
#include <fcntl.h>
#include <lauxlib.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include "core/log.h"
#include "core/prefix_table.h"
#include "core/relaxed_counter.h"
#include "lua/lua_internal.h"

#define FILE_MAX (64u << 20) /* bytes of a file a script reads */
#define BLOB_MAX (16u << 20) /* bytes of ipfixd.state kept across a reload */
#define BLOB_DEPTH 32
#define CSV_FIELDS_MAX 64
#define LOG_MAX 400

/* ---- files ---- */

enum file_kind { FILE_CSV, FILE_PREFIXES };

struct csv_row {
    size_t n;
    char **fields;
};

struct file_entry {
    enum file_kind kind;
    char *name;
    struct ixd_prefix_table *prefixes;
    size_t n_rows;
    struct csv_row *rows;
    struct file_entry *next;
};

struct ixd_lua_files {
    pthread_mutex_t lock;
    struct file_entry *head;
};

struct ixd_lua_files *
ixd_lua_files_new(void)
{
    struct ixd_lua_files *f = calloc(1, sizeof(*f));

    if (f != NULL) {
        pthread_mutex_init(&f->lock, NULL);
    }
    return f;
}

static void
entry_free(struct file_entry *e)
{
    for (size_t i = 0; i < e->n_rows; i++) {
        for (size_t j = 0; j < e->rows[i].n; j++) {
            free(e->rows[i].fields[j]);
        }
        free(e->rows[i].fields);
    }
    free(e->rows);
    ixd_prefix_table_free(e->prefixes);
    free(e->name);
    free(e);
}

void
ixd_lua_files_free(struct ixd_lua_files *f)
{
    if (f == NULL) {
        return;
    }
    while (f->head != NULL) {
        struct file_entry *e = f->head;
        f->head = e->next;
        entry_free(e);
    }
    pthread_mutex_destroy(&f->lock);
    free(f);
}

/*
 * Reads name (relative to dir) into a new buffer. Files outside dir are refused, and so are
 * files others may not read: key files (HA, Crypto-PAn, TLS) must be private, so no script
 * reads one even when it lies in the directory.
 */
char *
ixd_lua_read_file(const char *dir, const char *name, int private_ok, size_t *len, char *err,
                  size_t errlen)
{
    char path[PATH_MAX], real[PATH_MAX];
    struct stat sb;
    size_t dlen = strlen(dir), got = 0;
    char *buf = NULL;
    int fd = -1;

    if (name[0] == '/' || strlen(name) + dlen + 2 > sizeof(path)) {
        snprintf(err, errlen, "'%s': files are named relative to lua.directory", name);
        return NULL;
    }
    memcpy(path, dir, dlen);
    path[dlen] = '/';
    memcpy(path + dlen + 1, name, strlen(name) + 1);
    if (realpath(path, real) == NULL) {
        snprintf(err, errlen, "%s: %s", name, strerror(errno));
        return NULL;
    }
    if (strncmp(real, dir, dlen) != 0 || real[dlen] != '/') {
        snprintf(err, errlen, "'%s' is outside lua.directory", name);
        return NULL;
    }
    fd = open(real, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd == -1 || fstat(fd, &sb) == -1) {
        snprintf(err, errlen, "%s: %s", name, strerror(errno));
        goto fail;
    }
    if (!S_ISREG(sb.st_mode) || (!private_ok && (sb.st_mode & S_IROTH) == 0) ||
        (size_t)sb.st_size > FILE_MAX) {
        snprintf(err, errlen,
                 !S_ISREG(sb.st_mode) ? "%s is not a regular file"
                 : !private_ok && (sb.st_mode & S_IROTH) == 0
                     ? "%s is private (not readable by others): scripts "
                       "read no private file, so never a key file"
                     : "%s is larger than 64 MiB",
                 name);
        goto fail;
    }
    buf = malloc((size_t)sb.st_size + 1);
    if (buf == NULL) {
        snprintf(err, errlen, "%s: out of memory", name);
        goto fail;
    }
    while (got < (size_t)sb.st_size) {
        ssize_t n = read(fd, buf + got, (size_t)sb.st_size - got);
        if (n <= 0) {
            snprintf(err, errlen, "%s: %s", name, n == 0 ? "shorter than it was" : strerror(errno));
            goto fail;
        }
        got += (size_t)n;
    }
    buf[got] = '\0';
    *len = got;
    close(fd);
    return buf;
fail:
    free(buf);
    if (fd != -1) {
        close(fd);
    }
    return NULL;
}

/* Splits text into rows of comma-separated fields (trimmed; '#' lines and blank lines skipped) */
static int
parse_csv(struct file_entry *e, const char *text, size_t len, char *err, size_t errlen)
{
    size_t at = 0, cap = 0;
    unsigned lineno = 0;

    while (at < len) {
        const char *nl = memchr(text + at, '\n', len - at);
        size_t n = (nl != NULL ? (size_t)(nl - text) : len) - at;
        char *line = g_strndup(text + at, n), *s = g_strstrip(line);
        struct csv_row row = {0, NULL};

        at += n + 1;
        lineno++;
        if (s[0] == '\0' || s[0] == '#') {
            g_free(line);
            continue;
        }
        row.fields = calloc(CSV_FIELDS_MAX, sizeof(char *));
        for (char *f = s; f != NULL && row.fields != NULL;) {
            char *comma = strchr(f, ',');
            if (comma != NULL) {
                *comma = '\0';
            }
            if (row.n == CSV_FIELDS_MAX) {
                snprintf(err, errlen, "%s:%u: more than %d fields", e->name, lineno,
                         CSV_FIELDS_MAX);
                for (size_t j = 0; j < row.n; j++) {
                    free(row.fields[j]);
                }
                free(row.fields);
                g_free(line);
                return -1;
            }
            row.fields[row.n++] = strdup(g_strstrip(f));
            f = comma != NULL ? comma + 1 : NULL;
        }
        g_free(line);
        if (e->n_rows == cap) {
            struct csv_row *r = realloc(e->rows, (cap == 0 ? 64 : 2 * cap) * sizeof(*r));
            if (r == NULL) {
                free(row.fields);
                snprintf(err, errlen, "out of memory");
                return -1;
            }
            e->rows = r;
            cap = cap == 0 ? 64 : 2 * cap;
        }
        e->rows[e->n_rows++] = row;
    }
    return 0;
}

/* The file (read and parsed on first use; shared by every state of the conf). */
static const struct file_entry *
file_get(const struct ixd_lua_conf *c, const char *name, enum file_kind kind, char *err,
         size_t errlen)
{
    struct ixd_lua_files *f = c->files;
    struct file_entry *e;
    char *text = NULL;
    size_t len = 0;
    int rc = -1;

    pthread_mutex_lock(&f->lock);
    for (e = f->head; e != NULL; e = e->next) {
        if (e->kind == kind && strcmp(e->name, name) == 0) {
            pthread_mutex_unlock(&f->lock);
            return e;
        }
    }
    e = calloc(1, sizeof(*e));
    if (e == NULL || (e->name = strdup(name)) == NULL) {
        snprintf(err, errlen, "out of memory");
        goto done;
    }
    e->kind = kind;
    text = ixd_lua_read_file(c->directory, name, 0, &len, err, errlen);
    if (text == NULL) {
        goto done;
    }
    if (kind == FILE_PREFIXES) {
        e->prefixes = ixd_prefix_table_new();
        rc = e->prefixes == NULL
                 ? -1
                 : ixd_prefix_table_parse(e->prefixes, name, text, len, err, errlen);
    } else {
        rc = parse_csv(e, text, len, err, errlen);
    }
done:
    free(text);
    if (rc == 0) {
        e->next = f->head;
        f->head = e;
    } else if (e != NULL) {
        entry_free(e);
        e = NULL;
    }
    pthread_mutex_unlock(&f->lock);
    return e;
}

static struct ixd_lua_state *
state_up(lua_State *L)
{
    return lua_touserdata(L, lua_upvalueindex(1));
}

/* table:lookup(address) of a prefix table */
static int
prefix_lookup(lua_State *L)
{
    const struct ixd_prefix_table *const *t = luaL_checkudata(L, 1, "ixd.prefix_table");
    const char *addr = lua_tostring(L, 2);
    const char *v = addr != NULL ? ixd_prefix_table_lookup_text(*t, addr) : NULL;

    if (v == NULL) {
        lua_pushnil(L);
    } else {
        lua_pushstring(L, v);
    }
    return 1;
}

/* ipfixd.prefix_table(name): an object with :lookup(address) */
static int
prefix_table(lua_State *L)
{
    struct ixd_lua_state *st = state_up(L);
    const char *name = luaL_checkstring(L, 1);
    const struct file_entry *e;
    const struct ixd_prefix_table **ud;
    char err[512];

    e = file_get(st->conf, name, FILE_PREFIXES, err, sizeof(err));
    if (e == NULL) {
        return luaL_error(L, "prefix_table: %s", err);
    }
    ud = lua_newuserdata(L, sizeof(*ud));
    *ud = e->prefixes;
    if (luaL_newmetatable(L, "ixd.prefix_table")) {
        lua_newtable(L);
        lua_pushcfunction(L, prefix_lookup);
        lua_setfield(L, -2, "lookup");
        lua_setfield(L, -2, "__index");
        lua_pushboolean(L, 0);
        lua_setfield(L, -2, "__metatable");
    }
    lua_setmetatable(L, -2);
    return 1;
}

/* ipfixd.table_from_csv(name): first field -> second field (two fields), or -> the rest */
static int
table_from_csv(lua_State *L)
{
    struct ixd_lua_state *st = state_up(L);
    const char *name = luaL_checkstring(L, 1);
    const struct file_entry *e;
    char err[512];

    e = file_get(st->conf, name, FILE_CSV, err, sizeof(err));
    if (e == NULL) {
        return luaL_error(L, "table_from_csv: %s", err);
    }
    lua_createtable(L, 0, (int)(e->n_rows < INT_MAX ? e->n_rows : INT_MAX));
    for (size_t i = 0; i < e->n_rows; i++) {
        const struct csv_row *r = &e->rows[i];
        lua_pushstring(L, r->fields[0]);
        if (r->n == 2) {
            lua_pushstring(L, r->fields[1]);
        } else {
            lua_createtable(L, (int)r->n, 0);
            for (size_t j = 1; j < r->n; j++) {
                lua_pushstring(L, r->fields[j]);
                lua_rawseti(L, -2, (int)j);
            }
        }
        lua_rawset(L, -3);
    }
    return 1;
}

/* ---- log, counters ---- */

static void
script_log(struct ixd_lua_state *st, enum ixd_log_level level, const char *msg)
{
    ixd_log_limited(&st->script_log, ixd_lua_now(), level, "lua %s: %.*s", st->conf->name, LOG_MAX,
                    msg);
}

/* ipfixd.log(level, message): "error", "warning", "info" or "debug"; one line a second */
static int
log_fn(lua_State *L)
{
    static const char *const levels[] = {"error", "warning", "info", "debug", NULL};
    static const enum ixd_log_level values[] = {IXD_LOG_ERROR, IXD_LOG_WARNING, IXD_LOG_INFO,
                                                IXD_LOG_DEBUG};
    struct ixd_lua_state *st = state_up(L);
    int level = luaL_checkoption(L, 1, NULL, levels);
    const char *msg = luaL_checkstring(L, 2);

    script_log(st, values[level], msg);
    return 0;
}

/* print(...): one info line of the values, tab-separated */
static int
print_fn(lua_State *L)
{
    struct ixd_lua_state *st = state_up(L);
    int n = lua_gettop(L);
    luaL_Buffer b;

    luaL_buffinit(L, &b);
    for (int i = 1; i <= n; i++) {
        lua_getglobal(L, "tostring");
        lua_pushvalue(L, i);
        lua_call(L, 1, 1);
        if (i > 1) {
            luaL_addchar(&b, '\t');
        }
        luaL_addvalue(&b);
    }
    luaL_pushresult(&b);
    script_log(st, IXD_LOG_INFO, lua_tostring(L, -1));
    return 0;
}

static int
counter_name_ok(const char *s, size_t n)
{
    if (n == 0 || n >= IXD_LUA_COUNTER_NAME) {
        return 0;
    }
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '.' || c == '-' || c == ':')) {
            return 0;
        }
    }
    return 1;
}

/* ipfixd.counter(name): the counter of that name (made on first use) */
static int
counter_fn(lua_State *L)
{
    struct ixd_lua_state *st = state_up(L);
    size_t len;
    const char *name = luaL_checklstring(L, 1, &len);
    unsigned i, n = st->n_counters;

    if (!counter_name_ok(name, len)) {
        return luaL_error(L, "counter names have 1 to %d letters, digits, '_', '.', '-', ':'",
                          IXD_LUA_COUNTER_NAME - 1);
    }
    for (i = 0; i < n && strcmp(st->counter_names[i], name) != 0; i++) {
    }
    if (i == n) {
        if (n == IXD_LUA_COUNTERS) {
            return luaL_error(L, "a script has at most %d counters", IXD_LUA_COUNTERS);
        }
        memcpy(st->counter_names[n], name, len + 1);
        st->counters[n] = 0;
        __atomic_store_n(&st->n_counters, n + 1, __ATOMIC_RELEASE);
    }
    lua_rawgeti(L, LUA_REGISTRYINDEX, st->ref_counter);
    lua_pushnumber(L, i);
    lua_call(L, 1, 1);
    return 1;
}

void
ixd_lua_library_open(lua_State *L, struct ixd_lua_state *st, int env)
{
    static const struct {
        const char *name;
        lua_CFunction fn;
    } fns[] = {{"log", log_fn},
               {"counter", counter_fn},
               {"table_from_csv", table_from_csv},
               {"prefix_table", prefix_table}};

    lua_newtable(L);
    for (size_t i = 0; i < sizeof(fns) / sizeof(fns[0]); i++) {
        lua_pushlightuserdata(L, st);
        lua_pushcclosure(L, fns[i].fn, 1);
        lua_setfield(L, -2, fns[i].name);
    }
    lua_newtable(L);
    lua_setfield(L, -2, "state");
    ixd_lua_emit_register(L, st);
    lua_pushvalue(L, -1);
    lua_setfield(L, env, "emit");
    lua_setfield(L, -2, "emit");
    lua_pushvalue(L, -1);
    st->ref_ipfixd = luaL_ref(L, LUA_REGISTRYINDEX);
    lua_setfield(L, env, "ipfixd");
    lua_pushlightuserdata(L, st);
    lua_pushcclosure(L, print_fn, 1);
    lua_setfield(L, env, "print");
}

void
ixd_lua_note_error(struct ixd_lua_state *st, const char *what, const char *msg)
{
    struct timeval tv;
    size_t first = strcspn(msg, "\n");

    gettimeofday(&tv, NULL);
    pthread_mutex_lock(&st->error_lock);
    snprintf(st->last_error, sizeof(st->last_error), "%.*s", (int)first, msg);
    st->last_error_usec = (int64_t)tv.tv_sec * 1000000 + tv.tv_usec;
    pthread_mutex_unlock(&st->error_lock);
    ixd_log_limited(&st->error_log, ixd_lua_now(), IXD_LOG_WARNING, "lua %s: %s: %.*s",
                    st->conf->name, what, (int)(first < LOG_MAX ? first : LOG_MAX), msg);
    log_debug("lua %s: %s", st->conf->name, msg);
}
