#include "core/config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

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
#define DEFAULT_FIELDS_PER_TEMPLATE 512
#define DEFAULT_TEMPLATES_PER_DOMAIN 4096
#define DEFAULT_TCP_CONNECTIONS 1024

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
    return fail(w, k,
                "unknown key '%s' in a collector (known: name, transport, listen, "
                "receive-buffer, template-lifetime, idle-timeout)",
                key);
}

/* The address as IPv6 (IPv4 mapped), so that 10.0.0.1 and [::ffff:10.0.0.1] compare equal. */
static void
mapped_address(const struct ixd_config_collector *c, struct in6_addr *out)
{
    memset(out, 0, sizeof(*out));
    if (c->addr.ss_family == AF_INET) {
        out->s6_addr[10] = 0xff;
        out->s6_addr[11] = 0xff;
        memcpy(&out->s6_addr[12], &((const struct sockaddr_in *)&c->addr)->sin_addr, 4);
    } else {
        *out = ((const struct sockaddr_in6 *)&c->addr)->sin6_addr;
    }
}

static int
wildcard(const struct ixd_config_collector *c)
{
    if (c->any_address) {
        return 1;
    }
    if (c->addr.ss_family == AF_INET) {
        return ((const struct sockaddr_in *)&c->addr)->sin_addr.s_addr == htonl(INADDR_ANY);
    }
    return IN6_IS_ADDR_UNSPECIFIED(&((const struct sockaddr_in6 *)&c->addr)->sin6_addr);
}

static uint16_t
port_of(const struct ixd_config_collector *c)
{
    return c->addr.ss_family == AF_INET ? ((const struct sockaddr_in *)&c->addr)->sin_port
                                        : ((const struct sockaddr_in6 *)&c->addr)->sin6_port;
}

/*
 * Two collectors whose sockets would receive the same packets. With SO_REUSEPORT the kernel
 * would split an exporter's traffic between them instead of refusing the second bind.
 */
static int
listen_overlaps(const struct ixd_config_collector *a, const struct ixd_config_collector *b)
{
    if (a->transport != b->transport || port_of(a) != port_of(b)) {
        return 0;
    }
    if (wildcard(a) || wildcard(b)) {
        return 1;
    }
    {
        struct in6_addr x, y;
        mapped_address(a, &x);
        mapped_address(b, &y);
        return memcmp(&x, &y, sizeof(x)) == 0;
    }
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
        for (i = 0; i < cfg->n_collectors; i++) {
            const struct ixd_config_collector *o = &cfg->collectors[i];
            if (strcmp(o->name, c->name) == 0) {
                return fail(w, m, "a collector named '%s' is defined twice", c->name);
            }
            if (listen_overlaps(o, c)) {
                return fail(w, m, "collectors '%s' and '%s' both listen on %s %s", o->name, c->name,
                            c->transport == IXD_TRANSPORT_UDP ? "udp" : "tcp", c->listen);
            }
        }
        cfg->n_collectors++;
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

static int
limits_key(struct walk *w, const char *key, yaml_node_t *k, yaml_node_t *v, void *ctx)
{
    struct ixd_config_limits *l = &w->cfg->limits;

    if (strcmp(key, "fields-per-template") == 0) {
        return get_u32(w, v, key, 1, 16383, &l->fields_per_template);
    }
    if (strcmp(key, "templates-per-domain") == 0) {
        return get_u32(w, v, key, 1, 65280, &l->templates_per_domain);
    }
    if (strcmp(key, "tcp-connections") == 0) {
        return get_u32(w, v, key, 1, 1000000, &l->tcp_connections);
    }
    return fail(w, k,
                "unknown key '%s' in limits (known: fields-per-template, "
                "templates-per-domain, tcp-connections)",
                key);
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
        uint32_t n;
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
                "unknown top-level section '%s' (known: workers, log, limits, elements, "
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
    w.cfg->limits.fields_per_template = DEFAULT_FIELDS_PER_TEMPLATE;
    w.cfg->limits.templates_per_domain = DEFAULT_TEMPLATES_PER_DOMAIN;
    w.cfg->limits.tcp_connections = DEFAULT_TCP_CONNECTIONS;

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

int
ixd_config_parse_listen(const char *text, struct ixd_config_collector *c, char *err, size_t errlen)
{
    char host[128];
    const char *colon, *port_text;
    size_t hostlen;
    uint64_t port;

    if (strlen(text) >= sizeof(c->listen)) {
        snprintf(err, errlen, "listen address is too long");
        return -1;
    }
    if (text[0] == '[') {
        const char *end = strchr(text, ']');
        if (end == NULL || end[1] != ':') {
            snprintf(err, errlen, "listen must look like [ADDRESS]:PORT, not '%s'", text);
            return -1;
        }
        hostlen = (size_t)(end - text - 1);
        memcpy(host, text + 1, hostlen);
        host[hostlen] = '\0';
        port_text = end + 2;
    } else {
        colon = strrchr(text, ':');
        if (colon == NULL || strchr(text, ':') != colon) {
            snprintf(err, errlen, "listen must be ADDRESS:PORT, [IPV6]:PORT or *:PORT, not '%s'",
                     text);
            return -1;
        }
        hostlen = (size_t)(colon - text);
        memcpy(host, text, hostlen);
        host[hostlen] = '\0';
        port_text = colon + 1;
    }
    if (ixd_parse_u64(port_text, &port) == -1 || port == 0 || port > 65535) {
        snprintf(err, errlen, "port must be 1 to 65535, not '%s'", port_text);
        return -1;
    }
    memset(&c->addr, 0, sizeof(c->addr));
    c->any_address = 0;
    if (hostlen == 0 || strcmp(host, "*") == 0) {
        struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&c->addr;
        c->any_address = 1;
        sin6->sin6_family = AF_INET6;
        sin6->sin6_addr = in6addr_any;
        sin6->sin6_port = htons((uint16_t)port);
        c->addrlen = sizeof(*sin6);
    } else if (strchr(host, ':') != NULL) {
        struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&c->addr;
        if (inet_pton(AF_INET6, host, &sin6->sin6_addr) != 1) {
            snprintf(err, errlen, "'%s' is not an IPv6 address", host);
            return -1;
        }
        sin6->sin6_family = AF_INET6;
        sin6->sin6_port = htons((uint16_t)port);
        c->addrlen = sizeof(*sin6);
    } else {
        struct sockaddr_in *sin = (struct sockaddr_in *)&c->addr;
        if (inet_pton(AF_INET, host, &sin->sin_addr) != 1) {
            snprintf(err, errlen, "'%s' is not an IPv4 address (names are not resolved)", host);
            return -1;
        }
        sin->sin_family = AF_INET;
        sin->sin_port = htons((uint16_t)port);
        c->addrlen = sizeof(*sin);
    }
    snprintf(c->listen, sizeof(c->listen), "%s", text);
    return 0;
}
