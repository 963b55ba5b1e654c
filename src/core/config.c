#include "core/config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <stddef.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "core/address.h"
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

#define DEFAULT_TEMPLATE_LIFETIME 1800

struct walk {
    yaml_document_t doc;
    const char *name;
    char *err;
    size_t errlen;
    struct ixd_config *cfg;
};

static int fail(struct walk *w, const yaml_node_t *node, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int
fail(struct walk *w, const yaml_node_t *node, const char *fmt, ...)
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

static yaml_node_t *
node(struct walk *w, int index)
{
    return yaml_document_get_node(&w->doc, index);
}

static const char *
scalar(const yaml_node_t *n)
{
    return n->type == YAML_SCALAR_NODE ? (const char *)n->data.scalar.value : NULL;
}

static int
want_scalar(struct walk *w, const yaml_node_t *n, const char *what, const char **out)
{
    *out = scalar(n);
    if (*out == NULL) {
        return fail(w, n, "%s must be a scalar value", what);
    }
    return 0;
}

static int
want_mapping(struct walk *w, const yaml_node_t *n, const char *what)
{
    if (n->type != YAML_MAPPING_NODE) {
        return fail(w, n, "%s must be a mapping", what);
    }
    return 0;
}

static int
want_sequence(struct walk *w, const yaml_node_t *n, const char *what)
{
    if (n->type != YAML_SEQUENCE_NODE) {
        return fail(w, n, "%s must be a list", what);
    }
    return 0;
}

static int
copy_name(struct walk *w, const yaml_node_t *n, const char *what, char *dst, size_t dstlen)
{
    const char *s;
    size_t i, len;

    if (want_scalar(w, n, what, &s) == -1) {
        return -1;
    }
    len = strlen(s);
    if (len == 0 || len >= dstlen) {
        return fail(w, n, "%s must be 1 to %zu characters", what, dstlen - 1);
    }
    for (i = 0; i < len; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_' || c == '.')) {
            return fail(w, n, "%s '%s' may hold only letters, digits, '-', '_' and '.'", what, s);
        }
    }
    memcpy(dst, s, len + 1);
    return 0;
}

static int
get_u32(struct walk *w, const yaml_node_t *n, const char *what, uint64_t min, uint64_t max,
        uint32_t *out)
{
    const char *s;
    uint64_t v;

    if (want_scalar(w, n, what, &s) == -1) {
        return -1;
    }
    if (ixd_parse_u64(s, &v) == -1 || v < min || v > max) {
        return fail(w, n, "%s must be an integer from %llu to %llu, not '%s'", what,
                    (unsigned long long)min, (unsigned long long)max, s);
    }
    *out = (uint32_t)v;
    return 0;
}

static int
get_duration(struct walk *w, const yaml_node_t *n, const char *what, uint32_t *out)
{
    const char *s;
    uint64_t v;

    if (want_scalar(w, n, what, &s) == -1) {
        return -1;
    }
    if (ixd_parse_duration(s, &v) == -1 || v > UINT32_MAX) {
        return fail(w, n, "%s must be a duration such as 30, 90s, 30m or 2h, not '%s'", what, s);
    }
    *out = (uint32_t)v;
    return 0;
}

static int
get_size(struct walk *w, const yaml_node_t *n, const char *what, size_t *out)
{
    const char *s;
    uint64_t v;

    if (want_scalar(w, n, what, &s) == -1) {
        return -1;
    }
    /* SO_RCVBUF takes an int */
    if (ixd_parse_size(s, &v) == -1 || v > INT_MAX) {
        return fail(w, n, "%s must be a size such as 4194304, 512K or 8M (below 2G), not '%s'",
                    what, s);
    }
    *out = (size_t)v;
    return 0;
}

/* Iterates a mapping: calls fn for each key with its value node. */
typedef int (*key_fn)(struct walk *w, const char *key, yaml_node_t *k, yaml_node_t *v, void *ctx);

static int
each_key(struct walk *w, yaml_node_t *map, key_fn fn, void *ctx)
{
    yaml_node_pair_t *p;

    for (p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top; p++) {
        yaml_node_t *k = node(w, p->key);
        yaml_node_t *v = node(w, p->value);
        const char *key = scalar(k);
        yaml_node_pair_t *q;

        if (key == NULL) {
            return fail(w, k, "keys must be scalars");
        }
        for (q = map->data.mapping.pairs.start; q < p; q++) {
            const char *prev = scalar(node(w, q->key));
            if (prev != NULL && strcmp(prev, key) == 0) {
                return fail(w, k, "duplicate key '%s'", key);
            }
        }
        if (fn(w, key, k, v, ctx) == -1) {
            return -1;
        }
    }
    return 0;
}

static int
get_bool(struct walk *w, const yaml_node_t *n, const char *what, int *out)
{
    const char *s;

    if (want_scalar(w, n, what, &s) == -1) {
        return -1;
    }
    if (strcmp(s, "true") == 0 || strcmp(s, "yes") == 0 || strcmp(s, "on") == 0) {
        *out = 1;
    } else if (strcmp(s, "false") == 0 || strcmp(s, "no") == 0 || strcmp(s, "off") == 0) {
        *out = 0;
    } else {
        return fail(w, n, "%s must be true or false, not '%s'", what, s);
    }
    return 0;
}

/* allow: a list of addresses and prefixes; a source outside all of them is refused. */
static int
get_allow(struct walk *w, yaml_node_t *v, struct ixd_config_collector *c)
{
    yaml_node_item_t *it;
    size_t n;

    if (want_sequence(w, v, "allow") == -1) {
        return -1;
    }
    n = (size_t)(v->data.sequence.items.top - v->data.sequence.items.start);
    if (n == 0) {
        return fail(w, v, "allow must list at least one address or prefix (omit it to allow all)");
    }
    free(c->allow);
    c->n_allow = 0;
    c->allow = calloc(n, sizeof(*c->allow));
    if (c->allow == NULL) {
        return fail(w, v, "out of memory");
    }
    for (it = v->data.sequence.items.start; it < v->data.sequence.items.top; it++) {
        yaml_node_t *item = node(w, *it);
        const char *s;
        char msg[160];

        if (want_scalar(w, item, "an allow entry", &s) == -1) {
            return -1;
        }
        if (ixd_prefix_parse(s, &c->allow[c->n_allow], msg, sizeof(msg)) == -1) {
            return fail(w, item, "%s", msg);
        }
        c->n_allow++;
    }
    return 0;
}

static int
collector_key(struct walk *w, const char *key, yaml_node_t *k, yaml_node_t *v, void *ctx)
{
    struct ixd_config_collector *c = ctx;
    const char *s;
    char msg[256];

    if (strcmp(key, "name") == 0) {
        return copy_name(w, v, "collector name", c->name, sizeof(c->name));
    }
    if (strcmp(key, "transport") == 0) {
        if (want_scalar(w, v, "transport", &s) == -1) {
            return -1;
        }
        if (strcmp(s, "udp") == 0) {
            c->transport = IXD_TRANSPORT_UDP;
        } else if (strcmp(s, "tcp") == 0) {
            c->transport = IXD_TRANSPORT_TCP;
        } else {
            return fail(w, v, "transport must be udp or tcp, not '%s'", s);
        }
        return 0;
    }
    if (strcmp(key, "listen") == 0) {
        if (want_scalar(w, v, "listen", &s) == -1) {
            return -1;
        }
        if (ixd_config_parse_listen(s, c, msg, sizeof(msg)) == -1) {
            return fail(w, v, "%s", msg);
        }
        return 0;
    }
    if (strcmp(key, "receive-buffer") == 0) {
        return get_size(w, v, "receive-buffer", &c->receive_buffer);
    }
    if (strcmp(key, "template-lifetime") == 0) {
        if (get_duration(w, v, "template-lifetime", &c->template_lifetime) == -1) {
            return -1;
        }
        if (c->template_lifetime == 0) {
            return fail(w, v, "template-lifetime must be at least 1 second");
        }
        return 0;
    }
    if (strcmp(key, "idle-timeout") == 0) {
        return get_duration(w, v, "idle-timeout", &c->idle_timeout);
    }
    if (strcmp(key, "netflow9-enterprise") == 0) {
        return get_u32(w, v, "netflow9-enterprise", 1, UINT32_MAX, &c->netflow9_pen);
    }
    if (strcmp(key, "hold-unknown") == 0) {
        return get_bool(w, v, "hold-unknown", &c->hold);
    }
    if (strcmp(key, "allow") == 0) {
        return get_allow(w, v, c);
    }
    return fail(w, k,
                "unknown key '%s' in a collector (known: name, transport, listen, "
                "receive-buffer, template-lifetime, idle-timeout, hold-unknown, allow, "
                "netflow9-enterprise)",
                key);
}

static int
parse_collectors(struct walk *w, yaml_node_t *seq)
{
    struct ixd_config *cfg = w->cfg;
    yaml_node_item_t *it;
    size_t n, i;

    if (want_sequence(w, seq, "collectors") == -1) {
        return -1;
    }
    n = (size_t)(seq->data.sequence.items.top - seq->data.sequence.items.start);
    cfg->collectors = calloc(n ? n : 1, sizeof(*cfg->collectors));
    if (cfg->collectors == NULL) {
        return fail(w, seq, "out of memory");
    }
    for (it = seq->data.sequence.items.start; it < seq->data.sequence.items.top; it++) {
        yaml_node_t *m = node(w, *it);
        struct ixd_config_collector *c = &cfg->collectors[cfg->n_collectors];

        if (want_mapping(w, m, "a collector") == -1) {
            return -1;
        }
        c->transport = IXD_TRANSPORT_UDP;
        c->template_lifetime = DEFAULT_TEMPLATE_LIFETIME;
        c->idle_timeout = 0;
        c->addrlen = 0;
        c->hold = 1;
        c->netflow9_pen = IXD_NETFLOW9_DEFAULT_PEN;
        cfg->n_collectors++; /* counted first so that ixd_config_free releases its allow-list */
        if (each_key(w, m, collector_key, c) == -1) {
            return -1;
        }
        if (c->name[0] == '\0') {
            return fail(w, m, "a collector needs a name");
        }
        if (c->addrlen == 0 && !c->any_address) {
            return fail(w, m, "collector '%s' needs a listen address, e.g. listen: \"*:4739\"",
                        c->name);
        }
        for (i = 0; i + 1 < cfg->n_collectors; i++) {
            const struct ixd_config_collector *o = &cfg->collectors[i];
            if (strcmp(o->name, c->name) == 0) {
                return fail(w, m, "a collector named '%s' is defined twice", c->name);
            }
            if (ixd_listen_overlaps(o, c)) {
                return fail(w, m, "collectors '%s' and '%s' both listen on %s %s", o->name, c->name,
                            c->transport == IXD_TRANSPORT_UDP ? "udp" : "tcp", c->listen);
            }
        }
    }
    return 0;
}

static int
output_key(struct walk *w, const char *key, yaml_node_t *k, yaml_node_t *v, void *ctx)
{
    struct ixd_config_output *o = ctx;
    const char *s;

    if (strcmp(key, "name") == 0) {
        return copy_name(w, v, "output name", o->name, sizeof(o->name));
    }
    if (strcmp(key, "type") == 0) {
        if (want_scalar(w, v, "type", &s) == -1) {
            return -1;
        }
        if (strcmp(s, "json") != 0) {
            return fail(w, v, "output type must be json, not '%s'", s);
        }
        o->type = IXD_OUTPUT_JSON;
        return 0;
    }
    if (strcmp(key, "path") == 0) {
        if (want_scalar(w, v, "path", &s) == -1) {
            return -1;
        }
        if (s[0] == '\0' || strlen(s) >= sizeof(o->path)) {
            return fail(w, v, "path must be a file name or \"-\" for standard output");
        }
        memcpy(o->path, s, strlen(s) + 1);
        return 0;
    }
    return fail(w, k, "unknown key '%s' in an output (known: name, type, path)", key);
}

static int
parse_outputs(struct walk *w, yaml_node_t *seq)
{
    struct ixd_config *cfg = w->cfg;
    yaml_node_item_t *it;
    size_t n, i;

    if (want_sequence(w, seq, "outputs") == -1) {
        return -1;
    }
    n = (size_t)(seq->data.sequence.items.top - seq->data.sequence.items.start);
    cfg->outputs = calloc(n ? n : 1, sizeof(*cfg->outputs));
    if (cfg->outputs == NULL) {
        return fail(w, seq, "out of memory");
    }
    for (it = seq->data.sequence.items.start; it < seq->data.sequence.items.top; it++) {
        yaml_node_t *m = node(w, *it);
        struct ixd_config_output *o = &cfg->outputs[cfg->n_outputs];

        if (want_mapping(w, m, "an output") == -1) {
            return -1;
        }
        o->type = IXD_OUTPUT_JSON;
        if (each_key(w, m, output_key, o) == -1) {
            return -1;
        }
        if (o->name[0] == '\0') {
            return fail(w, m, "an output needs a name");
        }
        if (o->path[0] == '\0') {
            return fail(w, m, "output '%s' needs a path (\"-\" for standard output)", o->name);
        }
        for (i = 0; i < cfg->n_outputs; i++) {
            if (strcmp(cfg->outputs[i].name, o->name) == 0) {
                return fail(w, m, "an output named '%s' is defined twice", o->name);
            }
            if (strcmp(cfg->outputs[i].path, "-") != 0 &&
                strcmp(cfg->outputs[i].path, o->path) == 0) {
                return fail(w, m, "outputs '%s' and '%s' both write to %s", cfg->outputs[i].name,
                            o->name, o->path);
            }
        }
        cfg->n_outputs++;
    }
    return 0;
}

/* Resolves a list of names (or one name) against collectors or outputs. */
static int
name_list(struct walk *w, yaml_node_t *v, const char *what, int want_collectors, int **out,
          size_t *n_out)
{
    struct ixd_config *cfg = w->cfg;
    yaml_node_item_t *it;
    yaml_node_t *single = v;
    size_t count, i, j;

    count = v->type == YAML_SEQUENCE_NODE
                ? (size_t)(v->data.sequence.items.top - v->data.sequence.items.start)
                : 1;
    if (count == 0) {
        return fail(w, v, "%s must name at least one %s", what,
                    want_collectors ? "collector" : "output");
    }
    *out = calloc(count, sizeof(int));
    if (*out == NULL) {
        return fail(w, v, "out of memory");
    }
    for (i = 0; i < count; i++) {
        yaml_node_t *item = single;
        const char *s;
        int found = -1;

        if (v->type == YAML_SEQUENCE_NODE) {
            it = v->data.sequence.items.start + i;
            item = node(w, *it);
        }
        if (want_scalar(w, item, what, &s) == -1) {
            return -1;
        }
        if (want_collectors) {
            for (j = 0; j < cfg->n_collectors; j++) {
                if (strcmp(cfg->collectors[j].name, s) == 0) {
                    found = (int)j;
                }
            }
        } else {
            for (j = 0; j < cfg->n_outputs; j++) {
                if (strcmp(cfg->outputs[j].name, s) == 0) {
                    found = (int)j;
                }
            }
        }
        if (found < 0) {
            return fail(w, item, "no %s named '%s'", want_collectors ? "collector" : "output", s);
        }
        for (j = 0; j < *n_out; j++) {
            if ((*out)[j] == found) {
                return fail(w, item, "'%s' is listed twice", s);
            }
        }
        (*out)[(*n_out)++] = found;
    }
    return 0;
}

static int
pipeline_key(struct walk *w, const char *key, yaml_node_t *k, yaml_node_t *v, void *ctx)
{
    struct ixd_config_pipeline *p = ctx;

    if (strcmp(key, "name") == 0) {
        return copy_name(w, v, "pipeline name", p->name, sizeof(p->name));
    }
    if (strcmp(key, "from") == 0) {
        return name_list(w, v, "from", 1, &p->from, &p->n_from);
    }
    if (strcmp(key, "to") == 0) {
        return name_list(w, v, "to", 0, &p->to, &p->n_to);
    }
    return fail(w, k, "unknown key '%s' in a pipeline (known: name, from, to)", key);
}

static int
parse_pipelines(struct walk *w, yaml_node_t *seq)
{
    struct ixd_config *cfg = w->cfg;
    yaml_node_item_t *it;
    size_t n, i;

    if (want_sequence(w, seq, "pipelines") == -1) {
        return -1;
    }
    n = (size_t)(seq->data.sequence.items.top - seq->data.sequence.items.start);
    cfg->pipelines = calloc(n ? n : 1, sizeof(*cfg->pipelines));
    if (cfg->pipelines == NULL) {
        return fail(w, seq, "out of memory");
    }
    for (it = seq->data.sequence.items.start; it < seq->data.sequence.items.top; it++) {
        yaml_node_t *m = node(w, *it);
        struct ixd_config_pipeline *p = &cfg->pipelines[cfg->n_pipelines];

        if (want_mapping(w, m, "a pipeline") == -1) {
            return -1;
        }
        cfg->n_pipelines++; /* counted first so that ixd_config_free releases its lists */
        if (each_key(w, m, pipeline_key, p) == -1) {
            return -1;
        }
        if (p->name[0] == '\0') {
            return fail(w, m, "a pipeline needs a name");
        }
        if (p->n_from == 0 || p->n_to == 0) {
            return fail(w, m, "pipeline '%s' needs 'from' (collectors) and 'to' (outputs)",
                        p->name);
        }
        for (i = 0; i + 1 < cfg->n_pipelines; i++) {
            if (strcmp(cfg->pipelines[i].name, p->name) == 0) {
                return fail(w, m, "a pipeline named '%s' is defined twice", p->name);
            }
        }
    }
    return 0;
}

static int
log_key(struct walk *w, const char *key, yaml_node_t *k, yaml_node_t *v, void *ctx)
{
    static const char *const levels[] = {"error", "warning", "info", "debug"};
    const char *s;
    int i;

    if (want_scalar(w, v, key, &s) == -1) {
        return -1;
    }
    if (strcmp(key, "level") == 0) {
        for (i = 0; i < 4; i++) {
            if (strcmp(s, levels[i]) == 0) {
                w->cfg->log_level = (enum ixd_log_level)i;
                return 0;
            }
        }
        return fail(w, v, "log level must be error, warning, info or debug, not '%s'", s);
    }
    if (strcmp(key, "target") == 0) {
        if (strcmp(s, "stderr") == 0) {
            w->cfg->log_target = IXD_LOG_STDERR;
        } else if (strcmp(s, "syslog") == 0) {
            w->cfg->log_target = IXD_LOG_SYSLOG;
        } else {
            return fail(w, v, "log target must be stderr or syslog, not '%s'", s);
        }
        return 0;
    }
    return fail(w, k, "unknown key '%s' in log (known: level, target)", key);
}

/* limits: key, where, range, and how its value is written */
enum limit_unit { UNIT_COUNT, UNIT_SIZE, UNIT_DURATION };

static const struct limit_spec {
    const char *key;
    size_t offset;
    uint64_t min, max;
    enum limit_unit unit;
} limit_specs[] = {
#define L(k, f, lo, hi, u) {k, offsetof(struct ixd_config_limits, f), lo, hi, u}
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
        return fail(w, k, "unknown key '%s' in limits (see docs/configuration.md)", key);
    }
    if (want_scalar(w, v, key, &s) == -1) {
        return -1;
    }
    ok = spec->unit == UNIT_SIZE       ? ixd_parse_size(s, &val)
         : spec->unit == UNIT_DURATION ? ixd_parse_duration(s, &val)
                                       : ixd_parse_u64(s, &val);
    if (ok == -1 || val < spec->min || val > spec->max) {
        return fail(w, v, "%s must be %s from %llu to %llu, not '%s'", key,
                    spec->unit == UNIT_SIZE       ? "a size"
                    : spec->unit == UNIT_DURATION ? "a duration"
                                                  : "an integer",
                    (unsigned long long)spec->min, (unsigned long long)spec->max, s);
    }
    memcpy((char *)&w->cfg->limits + spec->offset, &val, sizeof(val));
    return 0;
}

static int
elements_key(struct walk *w, const char *key, yaml_node_t *k, yaml_node_t *v, void *ctx)
{
    struct ixd_config *cfg = w->cfg;
    yaml_node_item_t *it;
    size_t n;

    if (strcmp(key, "files") != 0) {
        return fail(w, k, "unknown key '%s' in elements (known: files)", key);
    }
    if (want_sequence(w, v, "elements.files") == -1) {
        return -1;
    }
    n = (size_t)(v->data.sequence.items.top - v->data.sequence.items.start);
    cfg->element_files = calloc(n ? n : 1, sizeof(char *));
    if (cfg->element_files == NULL) {
        return fail(w, v, "out of memory");
    }
    for (it = v->data.sequence.items.start; it < v->data.sequence.items.top; it++) {
        yaml_node_t *item = node(w, *it);
        const char *s;

        if (want_scalar(w, item, "an element file", &s) == -1) {
            return -1;
        }
        cfg->element_files[cfg->n_element_files] = strdup(s);
        if (cfg->element_files[cfg->n_element_files] == NULL) {
            return fail(w, item, "out of memory");
        }
        cfg->n_element_files++;
    }
    return 0;
}

static int
top_key(struct walk *w, const char *key, yaml_node_t *k, yaml_node_t *v, void *ctx)
{
    const char *s;

    if (strcmp(key, "workers") == 0) {
        uint32_t n = 0;
        if (want_scalar(w, v, "workers", &s) == -1) {
            return -1;
        }
        if (strcmp(s, "auto") == 0) {
            w->cfg->workers = 0;
            return 0;
        }
        if (get_u32(w, v, "workers", 1, 256, &n) == -1) {
            return -1;
        }
        w->cfg->workers = (int)n;
        return 0;
    }
    if (strcmp(key, "state-directory") == 0) {
        if (want_scalar(w, v, "state-directory", &s) == -1) {
            return -1;
        }
        if (strlen(s) >= sizeof(w->cfg->state_directory) ||
            (s[0] != '/' && strcmp(s, "none") != 0)) {
            return fail(w, v, "state-directory must be an absolute path or none, not '%s'", s);
        }
        snprintf(w->cfg->state_directory, sizeof(w->cfg->state_directory), "%s",
                 strcmp(s, "none") == 0 ? "" : s);
        return 0;
    }
    if (strcmp(key, "log") == 0) {
        return want_mapping(w, v, "log") == -1 ? -1 : each_key(w, v, log_key, NULL);
    }
    if (strcmp(key, "limits") == 0) {
        return want_mapping(w, v, "limits") == -1 ? -1 : each_key(w, v, limits_key, NULL);
    }
    if (strcmp(key, "elements") == 0) {
        return want_mapping(w, v, "elements") == -1 ? -1 : each_key(w, v, elements_key, NULL);
    }
    if (strcmp(key, "collectors") == 0 || strcmp(key, "outputs") == 0 ||
        strcmp(key, "pipelines") == 0) {
        return 0; /* parsed in dependency order by parse_root */
    }
    if (strcmp(key, "api") == 0 || strcmp(key, "ha") == 0) {
        s = scalar(v);
        if ((s != NULL && s[0] == '\0') ||
            (v->type == YAML_MAPPING_NODE &&
             v->data.mapping.pairs.top == v->data.mapping.pairs.start)) {
            return 0;
        }
        return fail(w, v, "section '%s' is reserved and not supported by this version yet", key);
    }
    return fail(w, k,
                "unknown top-level section '%s' (known: workers, state-directory, log, limits, "
                "elements, "
                "collectors, outputs, pipelines, api, ha)",
                key);
}

static yaml_node_t *
lookup(struct walk *w, yaml_node_t *map, const char *key)
{
    yaml_node_pair_t *p;

    for (p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top; p++) {
        const char *k = scalar(node(w, p->key));
        if (k != NULL && strcmp(k, key) == 0) {
            return node(w, p->value);
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
        return fail(w, root, "out of memory");
    }
    cfg->n_pipelines = 1;
    p = &cfg->pipelines[0];
    snprintf(p->name, sizeof(p->name), "default");
    p->from = calloc(cfg->n_collectors + 1, sizeof(int));
    p->to = calloc(cfg->n_outputs + 1, sizeof(int));
    if (p->from == NULL || p->to == NULL) {
        return fail(w, root, "out of memory");
    }
    for (i = 0; i < cfg->n_collectors; i++) {
        p->from[p->n_from++] = (int)i;
    }
    for (i = 0; i < cfg->n_outputs; i++) {
        p->to[p->n_to++] = (int)i;
    }
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
    if (want_mapping(w, root, "the config") == -1) {
        return -1;
    }
    if (each_key(w, root, top_key, NULL) == -1) {
        return -1;
    }
    v = lookup(w, root, "collectors");
    if (v == NULL) {
        return fail(w, root, "the config needs a 'collectors' list");
    }
    if (parse_collectors(w, v) == -1) {
        return -1;
    }
    if (w->cfg->n_collectors == 0) {
        return fail(w, v, "the config needs at least one collector");
    }
    v = lookup(w, root, "outputs");
    if (v != NULL && parse_outputs(w, v) == -1) {
        return -1;
    }
    v = lookup(w, root, "pipelines");
    if (v != NULL) {
        return parse_pipelines(w, v);
    }
    return default_pipeline(w, root);
}

struct ixd_config *
ixd_config_parse(const char *name, const char *text, size_t len, char *err, size_t errlen)
{
    yaml_parser_t parser;
    struct walk w;
    int ok;

    memset(&w, 0, sizeof(w));
    w.name = name;
    w.err = err;
    w.errlen = errlen;
    w.cfg = calloc(1, sizeof(*w.cfg));
    if (w.cfg == NULL) {
        snprintf(err, errlen, "%s: out of memory", name);
        return NULL;
    }
    w.cfg->log_level = IXD_LOG_INFO;
    w.cfg->log_target = IXD_LOG_STDERR;
    w.cfg->limits = default_limits;
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
    struct ixd_config *cfg;
    char *text = NULL;
    size_t len = 0;

    if (ixd_read_file(path, 1 << 22, &text, &len) == -1) {
        snprintf(err, errlen, "%s:0:0: cannot read: %s", path, strerror(errno));
        return NULL;
    }
    cfg = ixd_config_parse(path, text, len, err, errlen);
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
    char err[512];
    struct ixd_config *cfg;

    cfg = ixd_config_parse("<built-in>", builtin_yaml, sizeof(builtin_yaml) - 1, err, sizeof(err));
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
    for (i = 0; i < cfg->n_pipelines; i++) {
        free(cfg->pipelines[i].from);
        free(cfg->pipelines[i].to);
    }
    for (i = 0; i < cfg->n_collectors; i++) {
        free(cfg->collectors[i].allow);
    }
    for (i = 0; i < cfg->n_element_files; i++) {
        free(cfg->element_files[i]);
    }
    free(cfg->element_files);
    free(cfg->pipelines);
    free(cfg->outputs);
    free(cfg->collectors);
    free(cfg->file);
    free(cfg);
}

int
ixd_config_collector_same(const struct ixd_config_collector *a,
                          const struct ixd_config_collector *b)
{
    return strcmp(a->name, b->name) == 0 && a->transport == b->transport &&
           strcmp(a->listen, b->listen) == 0 && a->receive_buffer == b->receive_buffer &&
           a->template_lifetime == b->template_lifetime && a->idle_timeout == b->idle_timeout;
}

int
ixd_config_output_same(const struct ixd_config_output *a, const struct ixd_config_output *b)
{
    return strcmp(a->name, b->name) == 0 && a->type == b->type && strcmp(a->path, b->path) == 0;
}
