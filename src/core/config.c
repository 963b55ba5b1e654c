#include "core/config.h"

#include <errno.h>
#include <stddef.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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

/* lua: where lua stages' scripts and the files they read are (docs/lua.md) */
static int
lua_key(struct walk *w, const char *key, yaml_node_t *k, yaml_node_t *v, void *ctx)
{
    const char *s;

    (void)ctx;
    if (strcmp(key, "directory") != 0) {
        return ixd_cfg_fail(w, k, "unknown key '%s' in lua (known: directory)", key);
    }
    if (ixd_cfg_want_scalar(w, v, "lua.directory", &s) == -1) {
        return -1;
    }
    if (s[0] != '/' || strlen(s) >= sizeof(w->cfg->lua_directory)) {
        return ixd_cfg_fail(w, v, "lua.directory must be an absolute path, not '%s'", s);
    }
    snprintf(w->cfg->lua_directory, sizeof(w->cfg->lua_directory), "%s", s);
    return ixd_cfg_note_file(w, v, IXD_FILE_DIR_READ, "lua.directory", s);
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
        return ixd_cfg_parse_elements(w, v);
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
    if (strcmp(key, "lua") == 0) {
        return ixd_cfg_want_mapping(w, v, "lua") == -1 ? -1 : ixd_cfg_each_key(w, v, lua_key, NULL);
    }
    return ixd_cfg_fail(
        w, k,
        "unknown top-level section '%s' (known: workers, user, group, state-directory, log, "
        "limits, elements, collectors, outputs, pipelines, api, ha, lua)",
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
    if (!w->elements_done && ixd_cfg_default_elements(w, root) == -1) {
        return -1;
    }
    if (resolve_user(w) == -1) {
        return -1;
    }
    if (w->cfg->api.writes == IXD_API_WRITES_PERSIST && w->cfg->state_directory[0] == '\0') {
        snprintf(w->err, w->errlen,
                 "%s:%u:%u: api.writes: persist keeps the API's changes in the state directory: "
                 "set state-directory, or use api.writes: runtime",
                 w->name, w->cfg->api.writes_line, w->cfg->api.writes_column);
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
    if (v != NULL &&
        ixd_cfg_parse_modules(w, v, &ixd_cfg_outputs, &w->cfg->outputs, &w->cfg->n_outputs) == -1) {
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
ixd_cfg_new(const char *name, char *err, size_t errlen)
{
    struct ixd_config *cfg = calloc(1, sizeof(*cfg));

    if (cfg == NULL || (cfg->source = strdup(name)) == NULL) {
        snprintf(err, errlen, "%s: out of memory", name);
        free(cfg);
        return NULL;
    }
    cfg->log_level = IXD_LOG_INFO;
    cfg->log_target = IXD_LOG_STDERR;
    cfg->own_enterprise = IXD_OWN_ENTERPRISE_DEFAULT;
    cfg->limits = default_limits;
    ixd_cfg_api_defaults(&cfg->api);
    snprintf(cfg->state_directory, sizeof(cfg->state_directory), "%s", IXD_DEFAULT_STATE_DIRECTORY);
    return cfg;
}

int
ixd_cfg_walk_document(struct walk *w)
{
    if (parse_root(w) == -1) {
        return -1;
    }
    /* kept as written, for the API to read and write items of (core/config_tree.h) */
    return ixd_cfg_copy_document(w, yaml_document_get_root_node(&w->doc), &w->cfg->tree);
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
    w.cfg = ixd_cfg_new(name, err, errlen);
    if (w.cfg == NULL) {
        return NULL;
    }
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
    ok = ixd_cfg_walk_document(&w);
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
    ixd_cnode_release(&cfg->tree);
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
