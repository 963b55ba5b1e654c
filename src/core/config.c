#include "core/config.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stddef.h>
#include <stdarg.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <yaml.h>

#include "core/config_internal.h"
#include "core/parse.h"

/* The built-in default config, parsed like any file so both paths stay the same. */
static const char builtin_yaml[] = "collectors:\n"
                                   "  - name: udp\n"
                                   "    transport: udp\n"
                                   "    listen: \"*:4739\"\n"
                                   "  - name: tcp\n"
                                   "    transport: tcp\n"
                                   "    listen: \"*:4739\"\n"
                                   "outputs:\n"
                                   "  - name: stdout\n"
                                   "    type: json\n"
                                   "    path: \"-\"\n";

int
ixd_cfg_fail(struct walk *w, const yaml_node_t *node, const char *fmt, ...)
{
    char msg[512];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    snprintf(w->err, w->errlen, "%s:%zu:%zu: %s", w->name, node->start_mark.line + 1,
             node->start_mark.column + 1, msg);
    return -1;
}

yaml_node_t *
ixd_cfg_node(struct walk *w, int index)
{
    return yaml_document_get_node(&w->doc, index);
}

const char *
ixd_cfg_scalar(const yaml_node_t *n)
{
    return n->type == YAML_SCALAR_NODE ? (const char *)n->data.scalar.value : NULL;
}

int
ixd_cfg_want_scalar(struct walk *w, const yaml_node_t *n, const char *what, const char **out)
{
    *out = ixd_cfg_scalar(n);
    if (*out == NULL) {
        return ixd_cfg_fail(w, n, "%s must be a scalar value", what);
    }
    return 0;
}

int
ixd_cfg_want_mapping(struct walk *w, const yaml_node_t *n, const char *what)
{
    if (n->type != YAML_MAPPING_NODE) {
        return ixd_cfg_fail(w, n, "%s must be a mapping", what);
    }
    return 0;
}

int
ixd_cfg_want_sequence(struct walk *w, const yaml_node_t *n, const char *what)
{
    if (n->type != YAML_SEQUENCE_NODE) {
        return ixd_cfg_fail(w, n, "%s must be a list", what);
    }
    return 0;
}

int
ixd_cfg_copy_name(struct walk *w, const yaml_node_t *n, const char *what, char *dst, size_t dstlen)
{
    const char *s;
    size_t i, len;

    if (ixd_cfg_want_scalar(w, n, what, &s) == -1) {
        return -1;
    }
    len = strlen(s);
    if (len == 0 || len >= dstlen) {
        return ixd_cfg_fail(w, n, "%s must be 1 to %zu characters", what, dstlen - 1);
    }
    for (i = 0; i < len; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_' || c == '.')) {
            return ixd_cfg_fail(w, n, "%s '%s' may hold only letters, digits, '-', '_' and '.'",
                                what, s);
        }
    }
    memcpy(dst, s, len + 1);
    return 0;
}

int
ixd_cfg_get_u32(struct walk *w, const yaml_node_t *n, const char *what, uint64_t min, uint64_t max,
                uint32_t *out)
{
    const char *s;
    uint64_t v;

    if (ixd_cfg_want_scalar(w, n, what, &s) == -1) {
        return -1;
    }
    if (ixd_parse_u64(s, &v) == -1 || v < min || v > max) {
        return ixd_cfg_fail(w, n, "%s must be an integer from %llu to %llu, not '%s'", what,
                            (unsigned long long)min, (unsigned long long)max, s);
    }
    *out = (uint32_t)v;
    return 0;
}

int
ixd_cfg_get_duration(struct walk *w, const yaml_node_t *n, const char *what, uint32_t *out)
{
    const char *s;
    uint64_t v;

    if (ixd_cfg_want_scalar(w, n, what, &s) == -1) {
        return -1;
    }
    if (ixd_parse_duration(s, &v) == -1 || v > UINT32_MAX) {
        return ixd_cfg_fail(w, n, "%s must be a duration such as 30, 90s, 30m or 2h, not '%s'",
                            what, s);
    }
    *out = (uint32_t)v;
    return 0;
}

int
ixd_cfg_get_size(struct walk *w, const yaml_node_t *n, const char *what, size_t *out)
{
    const char *s;
    uint64_t v;

    if (ixd_cfg_want_scalar(w, n, what, &s) == -1) {
        return -1;
    }
    /* SO_RCVBUF takes an int */
    if (ixd_parse_size(s, &v) == -1 || v > INT_MAX) {
        return ixd_cfg_fail(
            w, n, "%s must be a size such as 4194304, 512K or 8M (below 2G), not '%s'", what, s);
    }
    *out = (size_t)v;
    return 0;
}

int
ixd_cfg_copy_tree(struct walk *w, yaml_node_t *y, struct ixd_cnode *out, unsigned depth)
{
    size_t i, n;

    out->line = (unsigned)y->start_mark.line + 1;
    out->column = (unsigned)y->start_mark.column + 1;
    if (depth > 16) {
        return ixd_cfg_fail(w, y, "settings nested too deep");
    }
    if (y->type == YAML_SCALAR_NODE) {
        out->kind = IXD_CNODE_SCALAR;
        out->text = strndup((const char *)y->data.scalar.value, y->data.scalar.length);
        return out->text == NULL ? ixd_cfg_fail(w, y, "out of memory") : 0;
    }
    if (y->type == YAML_SEQUENCE_NODE) {
        out->kind = IXD_CNODE_SEQUENCE;
        n = (size_t)(y->data.sequence.items.top - y->data.sequence.items.start);
        out->items = calloc(n ? n : 1, sizeof(*out->items));
        if (out->items == NULL) {
            return ixd_cfg_fail(w, y, "out of memory");
        }
        for (i = 0; i < n; i++) {
            out->n++;
            if (ixd_cfg_copy_tree(w, ixd_cfg_node(w, y->data.sequence.items.start[i]), &out->items[i],
                          depth + 1) == -1) {
                return -1;
            }
        }
        return 0;
    }
    out->kind = IXD_CNODE_MAPPING;
    n = (size_t)(y->data.mapping.pairs.top - y->data.mapping.pairs.start);
    out->items = calloc(2 * n + 1, sizeof(*out->items));
    if (out->items == NULL) {
        return ixd_cfg_fail(w, y, "out of memory");
    }
    for (i = 0; i < n; i++) {
        yaml_node_pair_t *pair = &y->data.mapping.pairs.start[i];
        yaml_node_t *k = ixd_cfg_node(w, pair->key);
        out->n++;
        if (k->type != YAML_SCALAR_NODE) {
            return ixd_cfg_fail(w, k, "keys must be plain words");
        }
        if (ixd_cfg_copy_tree(w, k, &out->items[2 * i], depth + 1) == -1 ||
            ixd_cfg_copy_tree(w, ixd_cfg_node(w, pair->value), &out->items[2 * i + 1], depth + 1) == -1) {
            return -1;
        }
    }
    return 0;
}

/* Copies mapping m without the keys a and b (a module's envelope): what its type reads. */
int
ixd_cfg_copy_except(struct walk *w, yaml_node_t *m, const char *a, const char *b,
                    struct ixd_cnode *out)
{
    yaml_node_pair_t *p;
    size_t n = 0;

    out->kind = IXD_CNODE_MAPPING;
    out->line = (unsigned)m->start_mark.line + 1;
    out->column = (unsigned)m->start_mark.column + 1;
    out->items = calloc(2 * (size_t)(m->data.mapping.pairs.top - m->data.mapping.pairs.start) + 1,
                        sizeof(*out->items));
    if (out->items == NULL) {
        return ixd_cfg_fail(w, m, "out of memory");
    }
    for (p = m->data.mapping.pairs.start; p < m->data.mapping.pairs.top; p++) {
        yaml_node_t *k = ixd_cfg_node(w, p->key);
        const char *key = ixd_cfg_scalar(k);

        if (key == NULL) {
            return ixd_cfg_fail(w, k, "keys must be plain words");
        }
        if (strcmp(key, a) == 0 || strcmp(key, b) == 0) {
            continue;
        }
        out->n = ++n;
        if (ixd_cfg_copy_tree(w, k, &out->items[2 * (n - 1)], 1) == -1 ||
            ixd_cfg_copy_tree(w, ixd_cfg_node(w, p->value), &out->items[2 * n - 1], 1) == -1) {
            return -1;
        }
    }
    return 0;
}

int
ixd_cfg_each_key(struct walk *w, yaml_node_t *map, ixd_cfg_key_fn fn, void *ctx)
{
    yaml_node_pair_t *p;

    for (p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top; p++) {
        yaml_node_t *k = ixd_cfg_node(w, p->key);
        yaml_node_t *v = ixd_cfg_node(w, p->value);
        const char *key = ixd_cfg_scalar(k);
        yaml_node_pair_t *q;

        if (key == NULL) {
            return ixd_cfg_fail(w, k, "keys must be scalars");
        }
        for (q = map->data.mapping.pairs.start; q < p; q++) {
            const char *prev = ixd_cfg_scalar(ixd_cfg_node(w, q->key));
            if (prev != NULL && strcmp(prev, key) == 0) {
                return ixd_cfg_fail(w, k, "duplicate key '%s'", key);
            }
        }
        if (fn(w, key, k, v, ctx) == -1) {
            return -1;
        }
    }
    return 0;
}

int
ixd_cfg_get_bool(struct walk *w, const yaml_node_t *n, const char *what, int *out)
{
    const char *s;

    if (ixd_cfg_want_scalar(w, n, what, &s) == -1) {
        return -1;
    }
    if (strcmp(s, "true") == 0 || strcmp(s, "yes") == 0 || strcmp(s, "on") == 0) {
        *out = 1;
    } else if (strcmp(s, "false") == 0 || strcmp(s, "no") == 0 || strcmp(s, "off") == 0) {
        *out = 0;
    } else {
        return ixd_cfg_fail(w, n, "%s must be true or false, not '%s'", what, s);
    }
    return 0;
}

static int
log_key(struct walk *w, const char *key, yaml_node_t *k, yaml_node_t *v, void *ctx)
{
    static const char *const levels[] = {"error", "warning", "info", "debug"};
    const char *s;
    int i;

    if (ixd_cfg_want_scalar(w, v, key, &s) == -1) {
        return -1;
    }
    if (strcmp(key, "level") == 0) {
        for (i = 0; i < 4; i++) {
            if (strcmp(s, levels[i]) == 0) {
                w->cfg->log_level = (enum ixd_log_level)i;
                return 0;
            }
        }
        return ixd_cfg_fail(w, v, "log level must be error, warning, info or debug, not '%s'", s);
    }
    if (strcmp(key, "target") == 0) {
        if (strcmp(s, "stderr") == 0) {
            w->cfg->log_target = IXD_LOG_STDERR;
        } else if (strcmp(s, "syslog") == 0) {
            w->cfg->log_target = IXD_LOG_SYSLOG;
        } else {
            return ixd_cfg_fail(w, v, "log target must be stderr or syslog, not '%s'", s);
        }
        return 0;
    }
    return ixd_cfg_fail(w, k, "unknown key '%s' in log (known: level, target)", key);
}

/* limits: key, where, range, and how its value is written */
enum limit_unit { UNIT_COUNT, UNIT_SIZE, UNIT_DURATION };

static const struct limit_spec {
    const char *key;
    size_t offset;
    uint64_t min, max;
    enum limit_unit unit;
} limit_specs[] = {
#define L(k, f, lo, hi, u)                                                                         \
    {                                                                                              \
        k, offsetof(struct ixd_config_limits, f), lo, hi, u                                        \
    }
    L("fields-per-template", fields_per_template, 1, 16383, UNIT_COUNT),
    L("bytes-per-template", bytes_per_template, 1, 65515, UNIT_SIZE),
    L("templates-per-session", templates_per_session, 1, 1000000, UNIT_COUNT),
    L("templates-per-exporter", templates_per_exporter, 1, 10000000, UNIT_COUNT),
    L("templates-total", templates_total, 1, 100000000, UNIT_COUNT),
    L("template-memory", template_memory, 65536, 1ULL << 40, UNIT_SIZE),
    L("sessions-per-exporter", sessions_per_exporter, 1, 65536, UNIT_COUNT),
    L("sessions-total", sessions_total, 1, 10000000, UNIT_COUNT),
    L("domains-per-session", domains_per_session, 1, 1000000, UNIT_COUNT),
    L("tcp-connections", tcp_connections, 1, 1000000, UNIT_COUNT),
    L("hold-time", hold_time, 1, 86400, UNIT_DURATION),
    L("held-sets-per-session", held_sets_per_session, 0, 1000000, UNIT_COUNT),
    L("held-bytes-per-session", held_bytes_per_session, 0, 1ULL << 32, UNIT_SIZE),
    L("held-bytes-total", held_bytes_total, 0, 1ULL << 40, UNIT_SIZE),
#undef L
};

static const struct ixd_config_limits default_limits = {
    .fields_per_template = 512,
    .bytes_per_template = 65515,
    .templates_per_session = 4096,
    .templates_per_exporter = 16384,
    .templates_total = 65536,
    .template_memory = 64u << 20,
    .sessions_per_exporter = 256,
    .sessions_total = 16384,
    .domains_per_session = 256,
    .tcp_connections = 1024,
    .hold_time = 30,
    .held_sets_per_session = 256,
    .held_bytes_per_session = 256u << 10,
    .held_bytes_total = 16u << 20,
};

static int
limits_key(struct walk *w, const char *key, yaml_node_t *k, yaml_node_t *v, void *ctx)
{
    const struct limit_spec *spec = NULL;
    const char *s;
    uint64_t val;
    size_t i;
    int ok;

    for (i = 0; i < sizeof(limit_specs) / sizeof(limit_specs[0]); i++) {
        if (strcmp(limit_specs[i].key, key) == 0) {
            spec = &limit_specs[i];
        }
    }
    if (spec == NULL) {
        return ixd_cfg_fail(w, k, "unknown key '%s' in limits (see docs/configuration.md)", key);
    }
    if (ixd_cfg_want_scalar(w, v, key, &s) == -1) {
        return -1;
    }
    ok = spec->unit == UNIT_SIZE       ? ixd_parse_size(s, &val)
         : spec->unit == UNIT_DURATION ? ixd_parse_duration(s, &val)
                                       : ixd_parse_u64(s, &val);
    if (ok == -1 || val < spec->min || val > spec->max) {
        return ixd_cfg_fail(w, v, "%s must be %s from %llu to %llu, not '%s'", key,
                            spec->unit == UNIT_SIZE       ? "a size"
                            : spec->unit == UNIT_DURATION ? "a duration"
                                                          : "an integer",
                            (unsigned long long)spec->min, (unsigned long long)spec->max, s);
    }
    memcpy((char *)&w->cfg->limits + spec->offset, &val, sizeof(val));
    return 0;
}

int
ixd_cfg_note_secret(struct walk *w, const yaml_node_t *n, const char *key, const char *path,
                    size_t min, size_t max)
{
    struct ixd_config *cfg = w->cfg;
    struct ixd_config_file *grown, *f;

    grown = realloc(cfg->files, (cfg->n_files + 1) * sizeof(*cfg->files));
    if (grown == NULL) {
        return ixd_cfg_fail(w, n, "out of memory");
    }
    cfg->files = grown;
    f = &cfg->files[cfg->n_files];
    memset(f, 0, sizeof(*f));
    f->use = IXD_FILE_SECRET;
    snprintf(f->key, sizeof(f->key), "%s", key);
    f->line = (unsigned)n->start_mark.line + 1;
    f->column = (unsigned)n->start_mark.column + 1;
    f->min = min;
    f->max = max;
    f->path = strdup(path);
    if (f->path == NULL) {
        return ixd_cfg_fail(w, n, "out of memory");
    }
    cfg->n_files++;
    return 0;
}

int
ixd_cfg_note_file(struct walk *w, const yaml_node_t *n, enum ixd_config_file_use use,
                  const char *key, const char *path)
{
    if (ixd_cfg_note_secret(w, n, key, path, 0, 0) == -1) {
        return -1;
    }
    w->cfg->files[w->cfg->n_files - 1].use = use;
    return 0;
}

/* Appends a copy of path to cfg->element_files. */
static int
add_element_file(struct walk *w, const yaml_node_t *n, const char *path)
{
    struct ixd_config *cfg = w->cfg;
    char **grown, *copy;

    grown = realloc(cfg->element_files, (cfg->n_element_files + 1) * sizeof(char *));
    if (grown == NULL) {
        return ixd_cfg_fail(w, n, "out of memory");
    }
    cfg->element_files = grown;
    copy = strdup(path);
    if (copy == NULL) {
        return ixd_cfg_fail(w, n, "out of memory");
    }
    /* not a file for ixd_config_check_files: element files are read at start, before ipfixd
     * opens files as its user, by whoever started it (ixd_ie_registry_new reports them) */
    cfg->element_files[cfg->n_element_files++] = copy;
    return 0;
}

static int
compare_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int
is_xml_name(const char *name)
{
    size_t len = strlen(name);

    /* hidden files are editors' and package managers' leftovers, not element files */
    return name[0] != '.' && len > 4 && strcmp(name + len - 4, ".xml") == 0;
}

/*
 * Adds every *.xml of dir in byte order of the names, so that the order files are loaded in
 * (and so which definition of an element wins) is the same on every machine. A directory that
 * cannot be read is an error at n; optional (the default directory) tolerates a missing one.
 */
static int
add_element_directory(struct walk *w, const yaml_node_t *n, const char *dir, int optional)
{
    char **names = NULL, path[IXD_PATH_MAX];
    size_t count = 0, i;
    struct dirent *de;
    int rc = 0;
    DIR *d;

    if ((w->flags & IXD_CONFIG_SYNTAX_ONLY) && !optional) {
        return 0; /* the directory is on the machine the config is for; the default one is
                     ipfixd's own, here as there */
    }
    if (w->flags & IXD_CONFIG_RELOAD) {
        return 0; /* element files are read at start only */
    }
    d = opendir(dir);
    if (d == NULL) {
        if (optional && errno == ENOENT) {
            return 0;
        }
        return ixd_cfg_fail(w, n, "cannot read the element directory '%s': %s", dir,
                            strerror(errno));
    }
    while (rc == 0 && (de = readdir(d)) != NULL) {
        char **grown;
        if (!is_xml_name(de->d_name)) {
            continue;
        }
        grown = realloc(names, (count + 1) * sizeof(char *));
        if (grown == NULL || (grown[count] = strdup(de->d_name)) == NULL) {
            names = grown != NULL ? grown : names;
            rc = ixd_cfg_fail(w, n, "out of memory");
            break;
        }
        names = grown;
        count++;
    }
    closedir(d);
    if (rc == 0 && count > 0) {
        qsort(names, count, sizeof(char *), compare_names);
    }
    for (i = 0; rc == 0 && i < count; i++) {
        if ((size_t)snprintf(path, sizeof(path), "%s%s%s", dir,
                             dir[0] != '\0' && dir[strlen(dir) - 1] == '/' ? "" : "/",
                             names[i]) >= sizeof(path)) {
            rc = ixd_cfg_fail(w, n, "element file name too long in '%s'", dir);
        } else {
            rc = add_element_file(w, n, path);
        }
    }
    for (i = 0; i < count; i++) {
        free(names[i]);
    }
    free(names);
    return rc;
}

/*
 * Without elements.directories, the vendor files shipped with ipfixd: the installed copy, or
 * the source tree's when ipfixd runs from a build tree that was never installed.
 */
static const char *
default_element_directory(void)
{
    struct stat st;

    if (stat(IXD_ELEMENTS_DIR, &st) == 0 && S_ISDIR(st.st_mode)) {
        return IXD_ELEMENTS_DIR;
    }
    if (IXD_SOURCE_ELEMENTS_DIR[0] != '\0' && stat(IXD_SOURCE_ELEMENTS_DIR, &st) == 0 &&
        S_ISDIR(st.st_mode)) {
        return IXD_SOURCE_ELEMENTS_DIR;
    }
    return NULL;
}

static int
set_default_element_directories(struct walk *w, const yaml_node_t *at)
{
    const char *dir = default_element_directory();
    char **copy;

    if (dir == NULL) {
        return 0;
    }
    copy = calloc(1, sizeof(char *));
    if (copy == NULL || (copy[0] = strdup(dir)) == NULL) {
        free(copy);
        return ixd_cfg_fail(w, at, "out of memory");
    }
    w->cfg->element_dirs = copy;
    w->cfg->n_element_dirs = 1;
    return add_element_directory(w, at, dir, 1);
}

static int
element_directories(struct walk *w, yaml_node_t *v)
{
    struct ixd_config *cfg = w->cfg;
    yaml_node_item_t *it;
    size_t n;

    if (ixd_cfg_want_sequence(w, v, "elements.directories") == -1) {
        return -1;
    }
    n = (size_t)(v->data.sequence.items.top - v->data.sequence.items.start);
    cfg->element_dirs = calloc(n ? n : 1, sizeof(char *));
    if (cfg->element_dirs == NULL) {
        return ixd_cfg_fail(w, v, "out of memory");
    }
    for (it = v->data.sequence.items.start; it < v->data.sequence.items.top; it++) {
        yaml_node_t *item = ixd_cfg_node(w, *it);
        const char *s;

        if (ixd_cfg_want_scalar(w, item, "an element directory", &s) == -1) {
            return -1;
        }
        if (s[0] == '\0') {
            return ixd_cfg_fail(w, item, "an element directory must not be empty");
        }
        cfg->element_dirs[cfg->n_element_dirs] = strdup(s);
        if (cfg->element_dirs[cfg->n_element_dirs] == NULL) {
            return ixd_cfg_fail(w, item, "out of memory");
        }
        cfg->n_element_dirs++;
        if (add_element_directory(w, item, s, 0) == -1) {
            return -1;
        }
    }
    return 0;
}

static int
element_files(struct walk *w, yaml_node_t *v)
{
    yaml_node_item_t *it;

    if (ixd_cfg_want_sequence(w, v, "elements.files") == -1) {
        return -1;
    }
    for (it = v->data.sequence.items.start; it < v->data.sequence.items.top; it++) {
        yaml_node_t *item = ixd_cfg_node(w, *it);
        const char *s;

        if (ixd_cfg_want_scalar(w, item, "an element file", &s) == -1) {
            return -1;
        }
        if (add_element_file(w, item, s) == -1) {
            return -1;
        }
    }
    return 0;
}

/*
 * elements: the files of the directories (each in name order, directories in list order), then
 * the files listed one by one; a later definition of an element replaces an earlier one, so a
 * file named in `files` overrides the shipped vendor files.
 */
static int
parse_elements(struct walk *w, yaml_node_t *map)
{
    yaml_node_t *dirs = NULL, *files = NULL;
    yaml_node_pair_t *p;

    if (ixd_cfg_want_mapping(w, map, "elements") == -1) {
        return -1;
    }
    for (p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top; p++) {
        yaml_node_t *k = ixd_cfg_node(w, p->key);
        const char *key = ixd_cfg_scalar(k);

        if (key != NULL && strcmp(key, "directories") == 0 && dirs == NULL) {
            dirs = ixd_cfg_node(w, p->value);
        } else if (key != NULL && strcmp(key, "files") == 0 && files == NULL) {
            files = ixd_cfg_node(w, p->value);
        } else if (key != NULL && (strcmp(key, "directories") == 0 || strcmp(key, "files") == 0)) {
            return ixd_cfg_fail(w, k, "duplicate key '%s' in elements", key);
        } else {
            return ixd_cfg_fail(w, k, "unknown key '%s' in elements (known: directories, files)",
                                key != NULL ? key : "?");
        }
    }
    w->elements_done = 1;
    if (dirs != NULL ? element_directories(w, dirs) == -1
                     : set_default_element_directories(w, map) == -1) {
        return -1;
    }
    return files != NULL ? element_files(w, files) : 0;
}

static int
top_key(struct walk *w, const char *key, yaml_node_t *k, yaml_node_t *v, void *ctx)
{
    const char *s;

    if (strcmp(key, "workers") == 0) {
        uint32_t n = 0;
        if (ixd_cfg_want_scalar(w, v, "workers", &s) == -1) {
            return -1;
        }
        if (strcmp(s, "auto") == 0) {
            w->cfg->workers = 0;
            return 0;
        }
        if (ixd_cfg_get_u32(w, v, "workers", 1, 256, &n) == -1) {
            return -1;
        }
        w->cfg->workers = (int)n;
        return 0;
    }
    if (strcmp(key, "state-directory") == 0) {
        if (ixd_cfg_want_scalar(w, v, "state-directory", &s) == -1) {
            return -1;
        }
        if (strlen(s) >= sizeof(w->cfg->state_directory) ||
            (s[0] != '/' && strcmp(s, "none") != 0)) {
            return ixd_cfg_fail(w, v, "state-directory must be an absolute path or none, not '%s'",
                                s);
        }
        snprintf(w->cfg->state_directory, sizeof(w->cfg->state_directory), "%s",
                 strcmp(s, "none") == 0 ? "" : s);
        w->state_directory = v;
        return 0;
    }
    if (strcmp(key, "user") == 0) {
        w->user = v;
        return ixd_cfg_copy_name(w, v, "user", w->cfg->user, sizeof(w->cfg->user));
    }
    if (strcmp(key, "group") == 0) {
        w->group = v;
        return ixd_cfg_copy_name(w, v, "group", w->cfg->group, sizeof(w->cfg->group));
    }
    if (strcmp(key, "log") == 0) {
        return ixd_cfg_want_mapping(w, v, "log") == -1 ? -1 : ixd_cfg_each_key(w, v, log_key, NULL);
    }
    if (strcmp(key, "limits") == 0) {
        return ixd_cfg_want_mapping(w, v, "limits") == -1
                   ? -1
                   : ixd_cfg_each_key(w, v, limits_key, NULL);
    }
    if (strcmp(key, "elements") == 0) {
        return parse_elements(w, v);
    }
    if (strcmp(key, "collectors") == 0 || strcmp(key, "outputs") == 0 ||
        strcmp(key, "pipelines") == 0) {
        return 0; /* parsed in dependency order by parse_root */
    }
    if (strcmp(key, "api") == 0) {
        return ixd_cfg_parse_api(w, v);
    }
    if (strcmp(key, "ha") == 0) {
        return ixd_cfg_parse_ha(w, v);
    }
    return ixd_cfg_fail(
        w, k,
        "unknown top-level section '%s' (known: workers, user, group, state-directory, log, "
        "limits, elements, collectors, outputs, pipelines, api, ha)",
        key);
}

static yaml_node_t *
lookup(struct walk *w, yaml_node_t *map, const char *key)
{
    yaml_node_pair_t *p;

    for (p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top; p++) {
        const char *k = ixd_cfg_scalar(ixd_cfg_node(w, p->key));
        if (k != NULL && strcmp(k, key) == 0) {
            return ixd_cfg_node(w, p->value);
        }
    }
    return NULL;
}

/* Without pipelines, every collector feeds every output: the simplest config stays short. */
static int
default_pipeline(struct walk *w, yaml_node_t *root)
{
    struct ixd_config *cfg = w->cfg;
    struct ixd_config_pipeline *p;
    size_t i;

    cfg->pipelines = calloc(1, sizeof(*cfg->pipelines));
    if (cfg->pipelines == NULL) {
        return ixd_cfg_fail(w, root, "out of memory");
    }
    cfg->n_pipelines = 1;
    p = &cfg->pipelines[0];
    snprintf(p->name, sizeof(p->name), "default");
    p->from = calloc(cfg->n_collectors + 1, sizeof(int));
    p->to = calloc(cfg->n_outputs + 1, sizeof(int));
    if (p->from == NULL || p->to == NULL) {
        return ixd_cfg_fail(w, root, "out of memory");
    }
    for (i = 0; i < cfg->n_collectors; i++) {
        p->from[p->n_from++] = (int)i;
    }
    for (i = 0; i < cfg->n_outputs; i++) {
        p->to[p->n_to++] = (int)i;
    }
    return 0;
}

/*
 * user and group: the account ipfixd drops to once its sockets are bound (daemon/privileges.h).
 * Resolved here so that `ipfixd -t` names an account the machine does not have; not with
 * IXD_CONFIG_SYNTAX_ONLY, where the accounts are the other machine's.
 */
static int
resolve_user(struct walk *w)
{
    struct ixd_config *cfg = w->cfg;
    struct passwd pw, *pwp = NULL;
    struct group gr, *grp = NULL;
    char buf[4096];

    if (w->group != NULL && w->user == NULL) {
        return ixd_cfg_fail(w, w->group, "group needs a user to go with it");
    }
    if (w->user == NULL) {
        return 0;
    }
    cfg->user_line = (unsigned)w->user->start_mark.line + 1;
    cfg->user_column = (unsigned)w->user->start_mark.column + 1;
    if (w->flags & IXD_CONFIG_SYNTAX_ONLY) {
        return 0;
    }
    if (getpwnam_r(cfg->user, &pw, buf, sizeof(buf), &pwp) != 0 || pwp == NULL) {
        return ixd_cfg_fail(w, w->user, "no user '%s' on this machine", cfg->user);
    }
    cfg->uid = pw.pw_uid;
    cfg->gid = pw.pw_gid;
    if (w->group == NULL) {
        return 0;
    }
    if (getgrnam_r(cfg->group, &gr, buf, sizeof(buf), &grp) != 0 || grp == NULL) {
        return ixd_cfg_fail(w, w->group, "no group '%s' on this machine", cfg->group);
    }
    cfg->gid = gr.gr_gid;
    return 0;
}

static int
parse_root(struct walk *w)
{
    yaml_node_t *root = yaml_document_get_root_node(&w->doc);
    yaml_node_t *v;

    if (root == NULL) {
        snprintf(w->err, w->errlen, "%s:1:1: the config is empty", w->name);
        return -1;
    }
    if (ixd_cfg_want_mapping(w, root, "the config") == -1) {
        return -1;
    }
    if (ixd_cfg_each_key(w, root, top_key, NULL) == -1) {
        return -1;
    }
    if (!w->elements_done && set_default_element_directories(w, root) == -1) {
        return -1;
    }
    if (resolve_user(w) == -1) {
        return -1;
    }
    if (w->cfg->state_directory[0] != '\0' &&
        ixd_cfg_note_file(w, w->state_directory != NULL ? w->state_directory : root,
                          IXD_FILE_STATE_DIR, "state-directory", w->cfg->state_directory) == -1) {
        return -1;
    }
    v = lookup(w, root, "collectors");
    if (v == NULL) {
        return ixd_cfg_fail(w, root, "the config needs a 'collectors' list");
    }
    if (ixd_cfg_parse_modules(w, v, &ixd_cfg_collectors, &w->cfg->collectors,
                              &w->cfg->n_collectors) == -1) {
        return -1;
    }
    if (w->cfg->n_collectors == 0) {
        return ixd_cfg_fail(w, v, "the config needs at least one collector");
    }
    v = lookup(w, root, "outputs");
    if (v != NULL && ixd_cfg_parse_modules(w, v, &ixd_cfg_outputs, &w->cfg->outputs,
                                           &w->cfg->n_outputs) == -1) {
        return -1;
    }
    v = lookup(w, root, "pipelines");
    if (v != NULL) {
        return ixd_cfg_parse_pipelines(w, v);
    }
    return default_pipeline(w, root);
}

struct ixd_config *
ixd_config_parse(const char *name, const char *text, size_t len, char *err, size_t errlen)
{
    return ixd_config_parse_flags(name, text, len, IXD_CONFIG_DEFAULT, err, errlen);
}

struct ixd_config *
ixd_config_parse_flags(const char *name, const char *text, size_t len, unsigned flags, char *err,
                       size_t errlen)
{
    yaml_parser_t parser;
    struct walk w;
    int ok;

    memset(&w, 0, sizeof(w));
    w.flags = flags;
    w.name = name;
    w.err = err;
    w.errlen = errlen;
    w.cfg = calloc(1, sizeof(*w.cfg));
    if (w.cfg == NULL) {
        snprintf(err, errlen, "%s: out of memory", name);
        return NULL;
    }
    w.cfg->source = strdup(name);
    if (w.cfg->source == NULL) {
        snprintf(err, errlen, "%s: out of memory", name);
        free(w.cfg);
        return NULL;
    }
    w.cfg->log_level = IXD_LOG_INFO;
    w.cfg->log_target = IXD_LOG_STDERR;
    w.cfg->limits = default_limits;
    ixd_cfg_api_defaults(&w.cfg->api);
    snprintf(w.cfg->state_directory, sizeof(w.cfg->state_directory), "%s",
             IXD_DEFAULT_STATE_DIRECTORY);

    yaml_parser_initialize(&parser);
    yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
    if (!yaml_parser_load(&parser, &w.doc)) {
        snprintf(err, errlen, "%s:%zu:%zu: %s%s%s", name, parser.problem_mark.line + 1,
                 parser.problem_mark.column + 1, parser.problem ? parser.problem : "syntax error",
                 parser.context ? " " : "", parser.context ? parser.context : "");
        yaml_parser_delete(&parser);
        ixd_config_free(w.cfg);
        return NULL;
    }
    ok = parse_root(&w);
    if (ok == 0) {
        /* a second document ("---") would be ignored silently: refuse it instead */
        yaml_document_t extra;
        if (!yaml_parser_load(&parser, &extra)) {
            snprintf(err, errlen, "%s:%zu:%zu: %s", name, parser.problem_mark.line + 1,
                     parser.problem_mark.column + 1,
                     parser.problem ? parser.problem : "syntax error");
            ok = -1;
        } else {
            yaml_node_t *root = yaml_document_get_root_node(&extra);
            if (root != NULL) {
                snprintf(err, errlen, "%s:%zu:%zu: only one YAML document is allowed", name,
                         root->start_mark.line + 1, root->start_mark.column + 1);
                ok = -1;
            }
            yaml_document_delete(&extra);
        }
    }
    yaml_document_delete(&w.doc);
    yaml_parser_delete(&parser);
    if (ok == -1) {
        ixd_config_free(w.cfg);
        return NULL;
    }
    return w.cfg;
}

struct ixd_config *
ixd_config_load(const char *path, char *err, size_t errlen)
{
    return ixd_config_load_flags(path, IXD_CONFIG_DEFAULT, err, errlen);
}

struct ixd_config *
ixd_config_load_flags(const char *path, unsigned flags, char *err, size_t errlen)
{
    struct ixd_config *cfg;
    char *text = NULL;
    size_t len = 0;

    if (ixd_read_file(path, 1 << 22, &text, &len) == -1) {
        snprintf(err, errlen, "%s:0:0: cannot read: %s", path,
                 errno == EFBIG ? "larger than 4 MiB" : ixd_read_error(errno));
        return NULL;
    }
    cfg = ixd_config_parse_flags(path, text, len, flags, err, errlen);
    free(text);
    if (cfg != NULL) {
        cfg->file = strdup(path);
        if (cfg->file == NULL) {
            ixd_config_free(cfg);
            snprintf(err, errlen, "%s:0:0: out of memory", path);
            return NULL;
        }
    }
    return cfg;
}

struct ixd_config *
ixd_config_builtin(void)
{
    return ixd_config_builtin_flags(IXD_CONFIG_DEFAULT);
}

struct ixd_config *
ixd_config_builtin_flags(unsigned flags)
{
    char err[512];
    struct ixd_config *cfg;

    cfg = ixd_config_parse_flags("<built-in>", builtin_yaml, sizeof(builtin_yaml) - 1, flags, err,
                                 sizeof(err));
    if (cfg == NULL) {
        ixd_fatal("built-in config: %s", err);
    }
    return cfg;
}

void
ixd_config_free(struct ixd_config *cfg)
{
    size_t i;

    if (cfg == NULL) {
        return;
    }
    free(cfg->source);
    for (i = 0; i < cfg->n_files; i++) {
        free(cfg->files[i].path);
    }
    free(cfg->files);
    for (i = 0; i < cfg->n_pipelines; i++) {
        free(cfg->pipelines[i].from);
        free(cfg->pipelines[i].to);
        for (size_t j = 0; j < cfg->pipelines[i].n_stages; j++) {
            ixd_cnode_release(&cfg->pipelines[i].stages[j].settings);
        }
        free(cfg->pipelines[i].stages);
    }
    for (i = 0; i < cfg->n_collectors; i++) {
        ixd_cnode_release(&cfg->collectors[i].settings);
    }
    for (i = 0; i < cfg->n_element_files; i++) {
        free(cfg->element_files[i]);
    }
    free(cfg->element_files);
    for (i = 0; i < cfg->n_element_dirs; i++) {
        free(cfg->element_dirs[i]);
    }
    free(cfg->element_dirs);
    free(cfg->pipelines);
    for (i = 0; i < cfg->n_outputs; i++) {
        ixd_cnode_release(&cfg->outputs[i].settings);
    }
    free(cfg->outputs);
    free(cfg->collectors);
    free(cfg->file);
    free(cfg);
}


static int
api_jwt_same(const struct ixd_config_api_jwt *a, const struct ixd_config_api_jwt *b)
{
    return a->enabled == b->enabled && strcmp(a->jwks_file, b->jwks_file) == 0 &&
           a->jwks_digest == b->jwks_digest && strcmp(a->issuer, b->issuer) == 0 &&
           strcmp(a->audience, b->audience) == 0 && strcmp(a->role_claim, b->role_claim) == 0 &&
           a->default_role == b->default_role && a->leeway == b->leeway;
}

static int
api_auth_same(const struct ixd_config_api_auth *a, const struct ixd_config_api_auth *b)
{
    size_t i;

    if (a->enabled != b->enabled || a->n_tokens != b->n_tokens || !api_jwt_same(&a->jwt, &b->jwt)) {
        return 0;
    }
    for (i = 0; i < a->n_tokens; i++) {
        if (strcmp(a->tokens[i].name, b->tokens[i].name) != 0 ||
            a->tokens[i].role != b->tokens[i].role ||
            memcmp(a->tokens[i].sha256, b->tokens[i].sha256, IXD_API_TOKEN_HASH_LEN) != 0) {
            return 0;
        }
    }
    return 1;
}

int
ixd_config_api_same(const struct ixd_config_api *a, const struct ixd_config_api *b)
{
    return a->enabled == b->enabled && strcmp(a->listen, b->listen) == 0 &&
           a->connections == b->connections && a->connections_per_ip == b->connections_per_ip &&
           a->timeout == b->timeout && a->request_timeout == b->request_timeout &&
           a->body_limit == b->body_limit && strcmp(a->certificate, b->certificate) == 0 &&
           strcmp(a->key, b->key) == 0 && api_auth_same(&a->auth, &b->auth) &&
           memcmp(&a->keepalived, &b->keepalived, sizeof(a->keepalived)) == 0;
}

int
ixd_config_ha_same(const struct ixd_config_ha *a, const struct ixd_config_ha *b)
{
    return a->enabled == b->enabled && strcmp(a->listen, b->listen) == 0 &&
           strcmp(a->peer, b->peer) == 0 && strcmp(a->key_file, b->key_file) == 0 &&
           a->share_interval_ms == b->share_interval_ms;
}
