#include "core/config.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stddef.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <yaml.h>

#include "core/address.h"
#include "core/parse.h"
#include "crypto/jwt.h"

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
    int elements_done; /* the elements section was parsed (else its defaults apply) */
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

struct sampling_entry {
    struct ixd_sampling_rule *rule;
    int has_exporter;
};

static int
sampling_key(struct walk *w, const char *key, yaml_node_t *k, yaml_node_t *v, void *ctx)
{
    struct sampling_entry *e = ctx;
    struct ixd_sampling_rule *r = e->rule;
    const char *s;
    char msg[160];

    if (strcmp(key, "exporter") == 0) {
        if (want_scalar(w, v, "exporter", &s) == -1) {
            return -1;
        }
        if (ixd_prefix_parse(s, &r->prefix, msg, sizeof(msg)) == -1) {
            return fail(w, v, "%s", msg);
        }
        e->has_exporter = 1;
        return 0;
    }
    if (strcmp(key, "rate") == 0) {
        return get_u32(w, v, "rate", 1, UINT32_MAX, &r->rate);
    }
    return fail(w, k, "unknown key '%s' in a sampling entry (known: exporter, rate)", key);
}

/* sampling: [{exporter: PREFIX, rate: N}, ...]; the first entry that matches applies. */
static int
get_sampling(struct walk *w, yaml_node_t *v, struct ixd_config_collector *c)
{
    yaml_node_item_t *it;
    size_t n;

    if (want_sequence(w, v, "sampling") == -1) {
        return -1;
    }
    n = (size_t)(v->data.sequence.items.top - v->data.sequence.items.start);
    free(c->sampling);
    c->n_sampling = 0;
    c->sampling = calloc(n ? n : 1, sizeof(*c->sampling));
    if (c->sampling == NULL) {
        return fail(w, v, "out of memory");
    }
    for (it = v->data.sequence.items.start; it < v->data.sequence.items.top; it++) {
        yaml_node_t *item = node(w, *it);
        struct sampling_entry e = {&c->sampling[c->n_sampling], 0};

        if (want_mapping(w, item, "a sampling entry") == -1 ||
            each_key(w, item, sampling_key, &e) == -1) {
            return -1;
        }
        if (e.rule->rate == 0) {
            return fail(w, item, "a sampling entry needs a rate (1 in N packets)");
        }
        if (!e.has_exporter) {
            return fail(w, item, "a sampling entry needs an exporter address or prefix");
        }
        c->n_sampling++;
    }
    return 0;
}

static int get_destination(struct walk *w, yaml_node_t *n, struct ixd_export_dest *d);

/* forward: the destinations a UDP collector repeats its datagrams to, before decoding. */
static int
get_forward(struct walk *w, yaml_node_t *v, struct ixd_config_collector *c)
{
    yaml_node_item_t *it;
    size_t i;

    if (want_sequence(w, v, "forward") == -1) {
        return -1;
    }
    c->n_forward = 0;
    for (it = v->data.sequence.items.start; it < v->data.sequence.items.top; it++) {
        yaml_node_t *item = node(w, *it);
        struct ixd_export_dest *d = &c->forward[c->n_forward];

        if (c->n_forward == IXD_EXPORT_DEST_MAX) {
            return fail(w, item, "a collector forwards to at most %d destinations",
                        IXD_EXPORT_DEST_MAX);
        }
        if (get_destination(w, item, d) == -1) {
            return -1;
        }
        for (i = 0; i < c->n_forward; i++) {
            if (c->forward[i].addrlen == d->addrlen &&
                memcmp(&c->forward[i].addr, &d->addr, d->addrlen) == 0) {
                return fail(w, item, "destination %s is listed twice", d->text);
            }
        }
        c->n_forward++;
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
        } else if (strcmp(s, "file") == 0) {
            c->transport = IXD_TRANSPORT_FILE;
        } else {
            return fail(w, v, "transport must be udp, tcp or file, not '%s'", s);
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
    if (strcmp(key, "sampling") == 0) {
        return get_sampling(w, v, c);
    }
    if (strcmp(key, "forward") == 0) {
        return get_forward(w, v, c);
    }
    if (strcmp(key, "path") == 0) {
        if (want_scalar(w, v, "path", &s) == -1) {
            return -1;
        }
        if (s[0] == '\0' || strlen(s) >= sizeof(c->path)) {
            return fail(w, v, "path must name an IPFIX file");
        }
        memcpy(c->path, s, strlen(s) + 1);
        return 0;
    }
    return fail(w, k,
                "unknown key '%s' in a collector (known: name, transport, listen, "
                "receive-buffer, template-lifetime, idle-timeout, hold-unknown, allow, "
                "sampling, forward, netflow9-enterprise, path)",
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
        if (c->transport == IXD_TRANSPORT_FILE) {
            if (c->path[0] == '\0' || c->addrlen != 0 || c->any_address) {
                return fail(w, m, "collector '%s' reads a file: it needs a path and no listen",
                            c->name);
            }
        } else if (c->path[0] != '\0') {
            return fail(w, m, "collector '%s': path is for transport file", c->name);
        } else if (c->addrlen == 0 && !c->any_address) {
            return fail(w, m, "collector '%s' needs a listen address, e.g. listen: \"*:4739\"",
                        c->name);
        }
        if (c->n_forward > 0 && c->transport != IXD_TRANSPORT_UDP) {
            return fail(w, m,
                        "collector '%s': forward repeats datagrams, so only udp collectors "
                        "have it",
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

/* Output keys that apply to one type only: remembered so that a key of the other type is
 * reported where it was written, once the type (which may come later) is known. */
struct output_walk {
    struct ixd_config_output *o;
    yaml_node_t *json_key;  /* first json-only key seen */
    yaml_node_t *ipfix_key; /* first ipfix-only key seen */
    yaml_node_t *file_key;  /* first ipfix-file-only key seen */
    yaml_node_t *orig_key;  /* original-exporter: ipfix and ipfix-file */
    yaml_node_t *mtu;
};

/* "HOST:PORT" or "[V6]:PORT" with a numeric address: names are not resolved on a worker. */
static int
get_destination(struct walk *w, yaml_node_t *n, struct ixd_export_dest *d)
{
    struct ixd_config_collector tmp;
    const char *s;
    char msg[256];

    if (want_scalar(w, n, "a destination", &s) == -1) {
        return -1;
    }
    memset(&tmp, 0, sizeof(tmp));
    if (ixd_config_parse_listen(s, &tmp, msg, sizeof(msg)) == -1) {
        return fail(w, n, "a destination must be IPV4:PORT or [IPV6]:PORT, not '%s'", s);
    }
    if (tmp.any_address) {
        return fail(w, n, "a destination needs an address, not '%s'", s);
    }
    snprintf(d->text, sizeof(d->text), "%s", s);
    d->addr = tmp.addr;
    d->addrlen = tmp.addrlen;
    return 0;
}

static int
get_destinations(struct walk *w, yaml_node_t *v, struct ixd_config_output *o)
{
    yaml_node_item_t *it;
    size_t i;

    o->n_destinations = 0;
    if (v->type == YAML_SCALAR_NODE) {
        if (get_destination(w, v, &o->destinations[0]) == -1) {
            return -1;
        }
        o->n_destinations = 1;
        return 0;
    }
    if (want_sequence(w, v, "destinations") == -1) {
        return -1;
    }
    for (it = v->data.sequence.items.start; it < v->data.sequence.items.top; it++) {
        yaml_node_t *item = node(w, *it);
        struct ixd_export_dest *d = &o->destinations[o->n_destinations];

        if (o->n_destinations == IXD_EXPORT_DEST_MAX) {
            return fail(w, item, "an output may have at most %d destinations", IXD_EXPORT_DEST_MAX);
        }
        if (get_destination(w, item, d) == -1) {
            return -1;
        }
        for (i = 0; i < o->n_destinations; i++) {
            if (o->destinations[i].addrlen == d->addrlen &&
                memcmp(&o->destinations[i].addr, &d->addr, d->addrlen) == 0) {
                return fail(w, item, "destination %s is listed twice", d->text);
            }
        }
        o->n_destinations++;
    }
    if (o->n_destinations == 0) {
        return fail(w, v, "destinations must list at least one HOST:PORT");
    }
    return 0;
}

static int
output_ipfix_key(struct walk *w, const char *key, yaml_node_t *v, struct ixd_config_output *o)
{
    const char *s;

    if (strcmp(key, "destinations") == 0) {
        return get_destinations(w, v, o);
    }
    if (strcmp(key, "transport") == 0) {
        if (want_scalar(w, v, "transport", &s) == -1) {
            return -1;
        }
        if (strcmp(s, "udp") == 0) {
            o->export_transport = IXD_TRANSPORT_UDP;
        } else if (strcmp(s, "tcp") == 0) {
            o->export_transport = IXD_TRANSPORT_TCP;
        } else {
            return fail(w, v, "transport must be udp or tcp, not '%s'", s);
        }
        return 0;
    }
    if (strcmp(key, "mode") == 0) {
        if (want_scalar(w, v, "mode", &s) == -1) {
            return -1;
        }
        if (strcmp(s, "all") == 0) {
            o->mode = IXD_EXPORT_ALL;
        } else if (strcmp(s, "balance") == 0) {
            o->mode = IXD_EXPORT_BALANCE;
        } else {
            return fail(w, v, "mode must be all or balance, not '%s'", s);
        }
        return 0;
    }
    if (strcmp(key, "mtu") == 0) {
        /* a message must hold a header, a template set and a few records */
        return get_u32(w, v, "mtu", 256, 65535, &o->mtu);
    }
    if (strcmp(key, "template-refresh") == 0) {
        if (get_duration(w, v, "template-refresh", &o->template_refresh) == -1) {
            return -1;
        }
        if (o->template_refresh == 0) {
            return fail(w, v, "template-refresh must be at least 1 second");
        }
        return 0;
    }
    if (strcmp(key, "queue") == 0) {
        if (get_size(w, v, "queue", &o->queue) == -1) {
            return -1;
        }
        if (o->queue < 65536 + 8) {
            return fail(w, v, "queue must be at least 64K (one largest message)");
        }
        return 0;
    }
    return fail(w, v, "unknown ipfix key '%s'", key); /* output_key lists them */
}

/* The smallest rotate-size: two of the largest messages, so that a file holds more than one. */
#define ROTATE_SIZE_MIN (2u * 65536)

static int
output_file_key(struct walk *w, const char *key, yaml_node_t *v, struct ixd_config_output *o)
{
    const char *s;

    if (strcmp(key, "directory") == 0) {
        if (want_scalar(w, v, "directory", &s) == -1) {
            return -1;
        }
        if (s[0] == '\0' || strlen(s) >= sizeof(o->directory)) {
            return fail(w, v, "directory must be the name of a directory");
        }
        memcpy(o->directory, s, strlen(s) + 1);
        return 0;
    }
    if (strcmp(key, "prefix") == 0) {
        return copy_name(w, v, "prefix", o->prefix, sizeof(o->prefix));
    }
    if (strcmp(key, "rotate-interval") == 0) {
        if (get_duration(w, v, "rotate-interval", &o->rotate_interval) == -1) {
            return -1;
        }
        if (o->rotate_interval == 0) {
            return fail(w, v, "rotate-interval must be at least 1 second");
        }
        return 0;
    }
    if (get_size(w, v, "rotate-size", &o->rotate_size) == -1) {
        return -1;
    }
    if (o->rotate_size < ROTATE_SIZE_MIN) {
        return fail(w, v, "rotate-size must be at least 128K (two largest messages)");
    }
    return 0;
}

static int
output_key(struct walk *w, const char *key, yaml_node_t *k, yaml_node_t *v, void *ctx)
{
    struct output_walk *ow = ctx;
    struct ixd_config_output *o = ow->o;
    const char *s;

    if (strcmp(key, "name") == 0) {
        return copy_name(w, v, "output name", o->name, sizeof(o->name));
    }
    if (strcmp(key, "type") == 0) {
        if (want_scalar(w, v, "type", &s) == -1) {
            return -1;
        }
        if (strcmp(s, "json") == 0) {
            o->type = IXD_OUTPUT_JSON;
        } else if (strcmp(s, "ipfix") == 0) {
            o->type = IXD_OUTPUT_IPFIX;
        } else if (strcmp(s, "ipfix-file") == 0) {
            o->type = IXD_OUTPUT_IPFIX_FILE;
        } else {
            return fail(w, v, "output type must be json, ipfix or ipfix-file, not '%s'", s);
        }
        return 0;
    }
    if (strcmp(key, "path") == 0) {
        ow->json_key = ow->json_key != NULL ? ow->json_key : k;
        if (want_scalar(w, v, "path", &s) == -1) {
            return -1;
        }
        if (s[0] == '\0' || strlen(s) >= sizeof(o->path)) {
            return fail(w, v, "path must be a file name or \"-\" for standard output");
        }
        memcpy(o->path, s, strlen(s) + 1);
        return 0;
    }
    if (strcmp(key, "renormalise") == 0) {
        ow->json_key = ow->json_key != NULL ? ow->json_key : k;
        return get_bool(w, v, "renormalise", &o->renormalise);
    }
    if (strcmp(key, "destinations") == 0 || strcmp(key, "transport") == 0 ||
        strcmp(key, "mode") == 0 || strcmp(key, "mtu") == 0 ||
        strcmp(key, "template-refresh") == 0 || strcmp(key, "queue") == 0) {
        ow->ipfix_key = ow->ipfix_key != NULL ? ow->ipfix_key : k;
        if (strcmp(key, "mtu") == 0) {
            ow->mtu = v;
        }
        return output_ipfix_key(w, key, v, o);
    }
    if (strcmp(key, "directory") == 0 || strcmp(key, "prefix") == 0 ||
        strcmp(key, "rotate-interval") == 0 || strcmp(key, "rotate-size") == 0) {
        ow->file_key = ow->file_key != NULL ? ow->file_key : k;
        return output_file_key(w, key, v, o);
    }
    if (strcmp(key, "original-exporter") == 0) {
        ow->orig_key = k;
        return get_bool(w, v, "original-exporter", &o->original_exporter);
    }
    return fail(w, k,
                "unknown key '%s' in an output (known: name, type; json: path, renormalise; "
                "ipfix: destinations, transport, mode, mtu, template-refresh, queue, "
                "original-exporter; ipfix-file: directory, prefix, rotate-interval, rotate-size, "
                "original-exporter)",
                key);
}

/* Keys of one type written in an output of another: reported where they were written. */
static int
check_output_keys(struct walk *w, const struct output_walk *ow)
{
    enum ixd_output_type type = ow->o->type;

    if (ow->json_key != NULL && type != IXD_OUTPUT_JSON) {
        return fail(w, ow->json_key, "'%s' applies only to outputs of type json",
                    scalar(ow->json_key));
    }
    if (ow->ipfix_key != NULL && type != IXD_OUTPUT_IPFIX) {
        return fail(w, ow->ipfix_key, "'%s' applies only to outputs of type ipfix",
                    scalar(ow->ipfix_key));
    }
    if (ow->file_key != NULL && type != IXD_OUTPUT_IPFIX_FILE) {
        return fail(w, ow->file_key, "'%s' applies only to outputs of type ipfix-file",
                    scalar(ow->file_key));
    }
    if (ow->orig_key != NULL && type == IXD_OUTPUT_JSON) {
        return fail(w, ow->orig_key,
                    "'original-exporter' applies only to outputs of type ipfix and ipfix-file");
    }
    return 0;
}

/* Checks the keys against the type and fills the defaults that depend on the transport. */
static int
check_output(struct walk *w, yaml_node_t *m, struct output_walk *ow)
{
    struct ixd_config_output *o = ow->o;

    if (o->name[0] == '\0') {
        return fail(w, m, "an output needs a name");
    }
    if (check_output_keys(w, ow) == -1) {
        return -1;
    }
    if (o->type == IXD_OUTPUT_JSON) {
        if (o->path[0] == '\0') {
            return fail(w, m, "output '%s' needs a path (\"-\" for standard output)", o->name);
        }
        return 0;
    }
    if (o->type == IXD_OUTPUT_IPFIX_FILE) {
        if (o->directory[0] == '\0') {
            return fail(w, m,
                        "output '%s' needs a directory, e.g. directory: /var/lib/ipfixd/archive",
                        o->name);
        }
        if (o->prefix[0] == '\0') {
            memcpy(o->prefix, o->name, sizeof(o->prefix));
        }
        return 0;
    }
    if (o->n_destinations == 0) {
        return fail(w, m, "output '%s' needs destinations, e.g. destinations: [\"127.0.0.1:4739\"]",
                    o->name);
    }
    if (o->mtu == 0) {
        o->mtu = o->export_transport == IXD_TRANSPORT_UDP ? 1400 : 65535;
    } else if (o->export_transport == IXD_TRANSPORT_UDP && o->mtu > 65507) {
        return fail(w, ow->mtu, "mtu must be at most 65507 on UDP (the largest IPv4 datagram)");
    }
    return 0;
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
        struct output_walk ow = {o, NULL, NULL, NULL, NULL, NULL};

        if (want_mapping(w, m, "an output") == -1) {
            return -1;
        }
        o->type = IXD_OUTPUT_JSON;
        o->export_transport = IXD_TRANSPORT_UDP;
        o->mode = IXD_EXPORT_ALL;
        o->template_refresh = 60;
        o->queue = 4u << 20;
        o->rotate_interval = 300;
        o->rotate_size = 64u << 20;
        if (each_key(w, m, output_key, &ow) == -1 || check_output(w, m, &ow) == -1) {
            return -1;
        }
        for (i = 0; i < cfg->n_outputs; i++) {
            if (strcmp(cfg->outputs[i].name, o->name) == 0) {
                return fail(w, m, "an output named '%s' is defined twice", o->name);
            }
            if (o->path[0] != '\0' && strcmp(cfg->outputs[i].path, "-") != 0 &&
                strcmp(cfg->outputs[i].path, o->path) == 0) {
                return fail(w, m, "outputs '%s' and '%s' both write to %s", cfg->outputs[i].name,
                            o->name, o->path);
            }
            if (o->type == IXD_OUTPUT_IPFIX_FILE && cfg->outputs[i].type == o->type &&
                strcmp(cfg->outputs[i].directory, o->directory) == 0 &&
                strcmp(cfg->outputs[i].prefix, o->prefix) == 0) {
                return fail(w, m, "outputs '%s' and '%s' both write %s/%s-*", cfg->outputs[i].name,
                            o->name, o->directory, o->prefix);
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

/* Copies a YAML subtree as written (stage settings are checked by their stage). */
static int
copy_tree(struct walk *w, yaml_node_t *y, struct ixd_cnode *out, unsigned depth)
{
    size_t i, n;

    out->line = (unsigned)y->start_mark.line + 1;
    out->column = (unsigned)y->start_mark.column + 1;
    if (depth > 16) {
        return fail(w, y, "settings nested too deep");
    }
    if (y->type == YAML_SCALAR_NODE) {
        out->kind = IXD_CNODE_SCALAR;
        out->text = strndup((const char *)y->data.scalar.value, y->data.scalar.length);
        return out->text == NULL ? fail(w, y, "out of memory") : 0;
    }
    if (y->type == YAML_SEQUENCE_NODE) {
        out->kind = IXD_CNODE_SEQUENCE;
        n = (size_t)(y->data.sequence.items.top - y->data.sequence.items.start);
        out->items = calloc(n ? n : 1, sizeof(*out->items));
        if (out->items == NULL) {
            return fail(w, y, "out of memory");
        }
        for (i = 0; i < n; i++) {
            out->n++;
            if (copy_tree(w, node(w, y->data.sequence.items.start[i]), &out->items[i], depth + 1) ==
                -1) {
                return -1;
            }
        }
        return 0;
    }
    out->kind = IXD_CNODE_MAPPING;
    n = (size_t)(y->data.mapping.pairs.top - y->data.mapping.pairs.start);
    out->items = calloc(2 * n + 1, sizeof(*out->items));
    if (out->items == NULL) {
        return fail(w, y, "out of memory");
    }
    for (i = 0; i < n; i++) {
        yaml_node_pair_t *pair = &y->data.mapping.pairs.start[i];
        yaml_node_t *k = node(w, pair->key);
        out->n++;
        if (k->type != YAML_SCALAR_NODE) {
            return fail(w, k, "keys must be plain words");
        }
        if (copy_tree(w, k, &out->items[2 * i], depth + 1) == -1 ||
            copy_tree(w, node(w, pair->value), &out->items[2 * i + 1], depth + 1) == -1) {
            return -1;
        }
    }
    return 0;
}

/* stages: a list of one-key mappings, `- filter: "..."`; the key names the stage type. */
static int
parse_stages(struct walk *w, yaml_node_t *v, struct ixd_config_pipeline *p)
{
    yaml_node_item_t *it;
    size_t n;

    if (want_sequence(w, v, "stages") == -1) {
        return -1;
    }
    n = (size_t)(v->data.sequence.items.top - v->data.sequence.items.start);
    p->stages = calloc(n ? n : 1, sizeof(*p->stages));
    if (p->stages == NULL) {
        return fail(w, v, "out of memory");
    }
    for (it = v->data.sequence.items.start; it < v->data.sequence.items.top; it++) {
        yaml_node_t *m = node(w, *it), *k;
        struct ixd_config_stage *st = &p->stages[p->n_stages];
        size_t len;

        if (m->type != YAML_MAPPING_NODE ||
            m->data.mapping.pairs.top - m->data.mapping.pairs.start != 1) {
            return fail(w, m, "a stage is one key naming its type, e.g. '- filter: \"proto tcp\"'");
        }
        k = node(w, m->data.mapping.pairs.start[0].key);
        if (k->type != YAML_SCALAR_NODE || (len = k->data.scalar.length) >= sizeof(st->type)) {
            return fail(w, k, "a stage type is a word such as filter or anonymise");
        }
        memcpy(st->type, k->data.scalar.value, len);
        st->line = (unsigned)k->start_mark.line + 1;
        st->column = (unsigned)k->start_mark.column + 1;
        p->n_stages++; /* counted first so that ixd_config_free releases its settings */
        if (copy_tree(w, node(w, m->data.mapping.pairs.start[0].value), &st->settings, 0) == -1) {
            return -1;
        }
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
    if (strcmp(key, "stages") == 0) {
        return parse_stages(w, v, p);
    }
    return fail(w, k, "unknown key '%s' in a pipeline (known: name, from, to, stages)", key);
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

/* Appends a copy of path to cfg->element_files. */
static int
add_element_file(struct walk *w, const yaml_node_t *n, const char *path)
{
    struct ixd_config *cfg = w->cfg;
    char **grown, *copy;

    grown = realloc(cfg->element_files, (cfg->n_element_files + 1) * sizeof(char *));
    if (grown == NULL) {
        return fail(w, n, "out of memory");
    }
    cfg->element_files = grown;
    copy = strdup(path);
    if (copy == NULL) {
        return fail(w, n, "out of memory");
    }
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

    d = opendir(dir);
    if (d == NULL) {
        if (optional && errno == ENOENT) {
            return 0;
        }
        return fail(w, n, "cannot read the element directory '%s': %s", dir, strerror(errno));
    }
    while (rc == 0 && (de = readdir(d)) != NULL) {
        char **grown;
        if (!is_xml_name(de->d_name)) {
            continue;
        }
        grown = realloc(names, (count + 1) * sizeof(char *));
        if (grown == NULL || (grown[count] = strdup(de->d_name)) == NULL) {
            names = grown != NULL ? grown : names;
            rc = fail(w, n, "out of memory");
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
            rc = fail(w, n, "element file name too long in '%s'", dir);
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
        return fail(w, at, "out of memory");
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

    if (want_sequence(w, v, "elements.directories") == -1) {
        return -1;
    }
    n = (size_t)(v->data.sequence.items.top - v->data.sequence.items.start);
    cfg->element_dirs = calloc(n ? n : 1, sizeof(char *));
    if (cfg->element_dirs == NULL) {
        return fail(w, v, "out of memory");
    }
    for (it = v->data.sequence.items.start; it < v->data.sequence.items.top; it++) {
        yaml_node_t *item = node(w, *it);
        const char *s;

        if (want_scalar(w, item, "an element directory", &s) == -1) {
            return -1;
        }
        if (s[0] == '\0') {
            return fail(w, item, "an element directory must not be empty");
        }
        cfg->element_dirs[cfg->n_element_dirs] = strdup(s);
        if (cfg->element_dirs[cfg->n_element_dirs] == NULL) {
            return fail(w, item, "out of memory");
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

    if (want_sequence(w, v, "elements.files") == -1) {
        return -1;
    }
    for (it = v->data.sequence.items.start; it < v->data.sequence.items.top; it++) {
        yaml_node_t *item = node(w, *it);
        const char *s;

        if (want_scalar(w, item, "an element file", &s) == -1) {
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

    if (want_mapping(w, map, "elements") == -1) {
        return -1;
    }
    for (p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top; p++) {
        yaml_node_t *k = node(w, p->key);
        const char *key = scalar(k);

        if (key != NULL && strcmp(key, "directories") == 0 && dirs == NULL) {
            dirs = node(w, p->value);
        } else if (key != NULL && strcmp(key, "files") == 0 && files == NULL) {
            files = node(w, p->value);
        } else if (key != NULL && (strcmp(key, "directories") == 0 || strcmp(key, "files") == 0)) {
            return fail(w, k, "duplicate key '%s' in elements", key);
        } else {
            return fail(w, k, "unknown key '%s' in elements (known: directories, files)",
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

/* --- api: the REST API server (src/api/, docs/api.md) --- */

#define API_DEFAULT_LISTEN "127.0.0.1:8080"

static void
api_defaults(struct ixd_config_api *api)
{
    struct ixd_config_collector tmp;
    char msg[256];

    memset(api, 0, sizeof(*api));
    api->enabled = 1;
    api->connections = 64;
    api->connections_per_ip = 16;
    api->timeout = 10;
    api->body_limit = 64 * 1024;
    memset(&tmp, 0, sizeof(tmp));
    if (ixd_config_parse_listen(API_DEFAULT_LISTEN, &tmp, msg, sizeof(msg)) == 0) {
        snprintf(api->listen, sizeof(api->listen), "%s", API_DEFAULT_LISTEN);
        api->addr = tmp.addr;
        api->addrlen = tmp.addrlen;
        api->loopback = 1;
    }
}

/* 127.0.0.0/8, ::1 and IPv4-mapped 127.0.0.0/8; a wildcard is not loopback. */
static int
is_loopback(const struct sockaddr_storage *ss, int any_address)
{
    if (any_address) {
        return 0;
    }
    if (ss->ss_family == AF_INET) {
        const struct sockaddr_in *sin = (const struct sockaddr_in *)ss;
        return (ntohl(sin->sin_addr.s_addr) >> 24) == 127;
    }
    if (ss->ss_family == AF_INET6) {
        const struct in6_addr *a = &((const struct sockaddr_in6 *)ss)->sin6_addr;
        return IN6_IS_ADDR_LOOPBACK(a) || (IN6_IS_ADDR_V4MAPPED(a) && a->s6_addr[12] == 127);
    }
    return 0;
}

static int
api_path(struct walk *w, yaml_node_t *v, const char *what, char *dst, size_t dstlen)
{
    const char *s;

    if (want_scalar(w, v, what, &s) == -1) {
        return -1;
    }
    if (s[0] == '\0' || strlen(s) >= dstlen) {
        return fail(w, v, "%s must be a file name of 1 to %zu characters", what, dstlen - 1);
    }
    if (access(s, R_OK) == -1) {
        return fail(w, v, "cannot read %s %s: %s", what, s, strerror(errno));
    }
    memcpy(dst, s, strlen(s) + 1);
    return 0;
}

/* --- api.auth: static bearer tokens and JWTs (docs/api.md#auth) --- */

static const char *const role_names[] = {"none", "reader", "operator", "admin"};

const char *
ixd_config_api_role_name(enum ixd_api_role role)
{
    return (unsigned)role < sizeof(role_names) / sizeof(role_names[0]) ? role_names[role] : "?";
}

static int
get_role(struct walk *w, const yaml_node_t *v, const char *what, int allow_none,
         enum ixd_api_role *out)
{
    const char *s;
    unsigned i;

    if (want_scalar(w, v, what, &s) == -1) {
        return -1;
    }
    for (i = allow_none ? 0 : 1; i < sizeof(role_names) / sizeof(role_names[0]); i++) {
        if (strcmp(s, role_names[i]) == 0) {
            *out = (enum ixd_api_role)i;
            return 0;
        }
    }
    return fail(w, v, "%s must be reader, operator or admin%s, not '%s'", what,
                allow_none ? " (or none)" : "", s);
}

static int
hex_value(char c)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }
    if (c >= 'A' && c <= 'F') {
        return c - 'A' + 10;
    }
    return -1;
}

static int
get_sha256(struct walk *w, const yaml_node_t *v, const char *what, uint8_t *out)
{
    const char *s;
    size_t i;

    if (want_scalar(w, v, what, &s) == -1) {
        return -1;
    }
    if (strlen(s) != 2 * IXD_API_TOKEN_HASH_LEN) {
        goto bad;
    }
    for (i = 0; i < IXD_API_TOKEN_HASH_LEN; i++) {
        int hi = hex_value(s[2 * i]), lo = hex_value(s[2 * i + 1]);
        if (hi < 0 || lo < 0) {
            goto bad;
        }
        out[i] = (uint8_t)(hi << 4 | lo);
    }
    return 0;
bad:
    return fail(w, v,
                "%s must be the 64 hex digits of the token's SHA-256 (printf %%s TOKEN | "
                "sha256sum), not the token itself",
                what);
}

static int
token_key(struct walk *w, const char *key, yaml_node_t *k, yaml_node_t *v, void *ctx)
{
    struct ixd_config_api_token *t = ctx;

    if (strcmp(key, "name") == 0) {
        return copy_name(w, v, "api.auth.tokens name", t->name, sizeof(t->name));
    }
    if (strcmp(key, "role") == 0) {
        return get_role(w, v, "api.auth.tokens role", 0, &t->role);
    }
    if (strcmp(key, "sha256") == 0) {
        return get_sha256(w, v, "api.auth.tokens sha256", t->sha256);
    }
    return fail(w, k, "unknown key '%s' in an api.auth token (known: name, role, sha256)", key);
}

static int
parse_tokens(struct walk *w, yaml_node_t *seq, struct ixd_config_api_auth *auth)
{
    yaml_node_item_t *it;
    size_t i;

    if (want_sequence(w, seq, "api.auth.tokens") == -1) {
        return -1;
    }
    for (it = seq->data.sequence.items.start; it < seq->data.sequence.items.top; it++) {
        yaml_node_t *m = node(w, *it);
        struct ixd_config_api_token *t = &auth->tokens[auth->n_tokens];

        if (auth->n_tokens == IXD_API_TOKENS_MAX) {
            return fail(w, m, "api.auth.tokens: at most %d tokens", IXD_API_TOKENS_MAX);
        }
        memset(t, 0, sizeof(*t));
        if (want_mapping(w, m, "an api.auth token") == -1 || each_key(w, m, token_key, t) == -1) {
            return -1;
        }
        if (t->name[0] == '\0' || t->role == IXD_API_ROLE_NONE) {
            return fail(w, m, "an api.auth token needs a name, a role and a sha256");
        }
        for (i = 0; i < IXD_API_TOKEN_HASH_LEN && t->sha256[i] == 0; i++) {
        }
        if (i == IXD_API_TOKEN_HASH_LEN) {
            return fail(w, m, "an api.auth token needs a name, a role and a sha256");
        }
        for (i = 0; i < auth->n_tokens; i++) {
            if (strcmp(auth->tokens[i].name, t->name) == 0) {
                return fail(w, m, "api.auth token name '%s' is used twice", t->name);
            }
            if (memcmp(auth->tokens[i].sha256, t->sha256, sizeof(t->sha256)) == 0) {
                return fail(w, m, "api.auth tokens '%s' and '%s' are the same token",
                            auth->tokens[i].name, t->name);
            }
        }
        auth->n_tokens++;
    }
    return 0;
}

/* Reads and checks the JWKS now, so that -t and a reload find a bad key file. */
static int
jwks_file(struct walk *w, yaml_node_t *v, struct ixd_config_api_jwt *jwt)
{
    struct ixd_jwks *ks;
    char *text = NULL;
    size_t len = 0, i;
    char msg[384];
    uint64_t h = 1469598103934665603ULL;

    if (api_path(w, v, "api.auth.jwt.jwks-file", jwt->jwks_file, sizeof(jwt->jwks_file)) == -1) {
        return -1;
    }
    if (ixd_read_file(jwt->jwks_file, 1 << 20, &text, &len) == -1) {
        return fail(w, v, "cannot read api.auth.jwt.jwks-file %s: %s", jwt->jwks_file,
                    errno == EFBIG ? "larger than 1 MiB" : strerror(errno));
    }
    ks = ixd_jwks_parse(text, len, msg, sizeof(msg));
    for (i = 0; i < len; i++) {
        h = (h ^ (unsigned char)text[i]) * 1099511628211ULL;
    }
    free(text);
    if (ks == NULL) {
        return fail(w, v, "api.auth.jwt.jwks-file %s: %s", jwt->jwks_file, msg);
    }
    ixd_jwks_free(ks);
    jwt->jwks_digest = h;
    return 0;
}

static int
jwt_string(struct walk *w, yaml_node_t *v, const char *what, char *dst, size_t dstlen)
{
    const char *s;

    if (want_scalar(w, v, what, &s) == -1) {
        return -1;
    }
    if (s[0] == '\0' || strlen(s) >= dstlen) {
        return fail(w, v, "%s must be 1 to %zu characters", what, dstlen - 1);
    }
    memcpy(dst, s, strlen(s) + 1);
    return 0;
}

static int
jwt_key(struct walk *w, const char *key, yaml_node_t *k, yaml_node_t *v, void *ctx)
{
    struct ixd_config_api_jwt *jwt = ctx;

    if (strcmp(key, "jwks-file") == 0) {
        return jwks_file(w, v, jwt);
    }
    if (strcmp(key, "issuer") == 0) {
        return jwt_string(w, v, "api.auth.jwt.issuer", jwt->issuer, sizeof(jwt->issuer));
    }
    if (strcmp(key, "audience") == 0) {
        return jwt_string(w, v, "api.auth.jwt.audience", jwt->audience, sizeof(jwt->audience));
    }
    if (strcmp(key, "role-claim") == 0) {
        return jwt_string(w, v, "api.auth.jwt.role-claim", jwt->role_claim,
                          sizeof(jwt->role_claim));
    }
    if (strcmp(key, "default-role") == 0) {
        return get_role(w, v, "api.auth.jwt.default-role", 1, &jwt->default_role);
    }
    if (strcmp(key, "leeway") == 0) {
        if (get_duration(w, v, "api.auth.jwt.leeway", &jwt->leeway) == -1) {
            return -1;
        }
        return jwt->leeway > 600 ? fail(w, v, "api.auth.jwt.leeway must be at most 10m") : 0;
    }
    return fail(w, k,
                "unknown key '%s' in api.auth.jwt (known: jwks-file, issuer, audience, "
                "role-claim, default-role, leeway)",
                key);
}

static int
parse_jwt(struct walk *w, yaml_node_t *v, struct ixd_config_api_jwt *jwt)
{
    memset(jwt, 0, sizeof(*jwt));
    snprintf(jwt->role_claim, sizeof(jwt->role_claim), "%s", "ipfixd_role");
    jwt->leeway = 30;
    if (want_mapping(w, v, "api.auth.jwt") == -1 || each_key(w, v, jwt_key, jwt) == -1) {
        return -1;
    }
    if (jwt->jwks_file[0] == '\0' || jwt->issuer[0] == '\0' || jwt->audience[0] == '\0') {
        return fail(w, v,
                    "api.auth.jwt needs jwks-file, issuer and audience (tokens are checked "
                    "against all three)");
    }
    jwt->enabled = 1;
    return 0;
}

static int
auth_key(struct walk *w, const char *key, yaml_node_t *k, yaml_node_t *v, void *ctx)
{
    struct ixd_config_api_auth *auth = ctx;

    if (strcmp(key, "tokens") == 0) {
        return parse_tokens(w, v, auth);
    }
    if (strcmp(key, "jwt") == 0) {
        return parse_jwt(w, v, &auth->jwt);
    }
    return fail(w, k, "unknown key '%s' in api.auth (known: tokens, jwt)", key);
}

static int
parse_auth(struct walk *w, yaml_node_t *v, struct ixd_config_api_auth *auth)
{
    memset(auth, 0, sizeof(*auth));
    if (want_mapping(w, v, "api.auth") == -1 || each_key(w, v, auth_key, auth) == -1) {
        return -1;
    }
    if (auth->n_tokens == 0 && !auth->jwt.enabled) {
        return fail(w, v, "api.auth needs tokens or jwt (leave auth out for an API without auth)");
    }
    auth->enabled = 1;
    return 0;
}

static int
api_key(struct walk *w, const char *key, yaml_node_t *k, yaml_node_t *v, void *ctx)
{
    struct ixd_config_api *api = ctx;
    const char *s;

    if (strcmp(key, "enabled") == 0) {
        return get_bool(w, v, "api.enabled", &api->enabled);
    }
    if (strcmp(key, "listen") == 0) {
        struct ixd_config_collector tmp;
        char msg[256];

        if (want_scalar(w, v, "api.listen", &s) == -1) {
            return -1;
        }
        memset(&tmp, 0, sizeof(tmp));
        if (ixd_config_parse_listen(s, &tmp, msg, sizeof(msg)) == -1) {
            return fail(w, v, "api.listen: %s", msg);
        }
        snprintf(api->listen, sizeof(api->listen), "%s", s);
        api->addr = tmp.addr;
        api->addrlen = tmp.addrlen;
        api->loopback = is_loopback(&tmp.addr, tmp.any_address);
        return 0;
    }
    if (strcmp(key, "connections") == 0) {
        return get_u32(w, v, "api.connections", 1, 65536, &api->connections);
    }
    if (strcmp(key, "connections-per-ip") == 0) {
        return get_u32(w, v, "api.connections-per-ip", 1, 65536, &api->connections_per_ip);
    }
    if (strcmp(key, "timeout") == 0) {
        if (get_duration(w, v, "api.timeout", &api->timeout) == -1) {
            return -1;
        }
        return api->timeout == 0 ? fail(w, v, "api.timeout must be at least 1s") : 0;
    }
    if (strcmp(key, "body-limit") == 0) {
        return get_size(w, v, "api.body-limit", &api->body_limit);
    }
    if (strcmp(key, "certificate") == 0) {
        return api_path(w, v, "api.certificate", api->certificate, sizeof(api->certificate));
    }
    if (strcmp(key, "key") == 0) {
        return api_path(w, v, "api.key", api->key, sizeof(api->key));
    }
    if (strcmp(key, "auth") == 0) {
        return parse_auth(w, v, &api->auth);
    }
    return fail(w, k,
                "unknown key '%s' in api (known: enabled, listen, connections, "
                "connections-per-ip, timeout, body-limit, certificate, key, auth)",
                key);
}

static int
parse_api(struct walk *w, yaml_node_t *v)
{
    struct ixd_config_api *api = &w->cfg->api;
    const char *s = scalar(v);

    if (s != NULL && s[0] == '\0') {
        return 0; /* "api:" alone keeps the defaults */
    }
    if (want_mapping(w, v, "api") == -1 || each_key(w, v, api_key, api) == -1) {
        return -1;
    }
    if ((api->certificate[0] != '\0') != (api->key[0] != '\0')) {
        return fail(w, v, "api needs both certificate and key for HTTPS, or neither");
    }
    /* Without auth, whoever reaches the port reads everything: keep it on this host. */
    if (api->enabled && !api->loopback && !api->auth.enabled) {
        return fail(w, v,
                    "api.listen %s is beyond loopback without auth: configure api.auth "
                    "(tokens or jwt, docs/api.md#auth), listen on 127.0.0.1 or [::1], or set "
                    "enabled: false",
                    api->listen);
    }
    return 0;
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
           a->timeout == b->timeout && a->body_limit == b->body_limit &&
           strcmp(a->certificate, b->certificate) == 0 && strcmp(a->key, b->key) == 0 &&
           api_auth_same(&a->auth, &b->auth);
}

/* ---- ha: template sharing between two peers (docs/internals/ha.md) */

/* "HOST:PORT" or "[V6]:PORT" with a numeric address (a peer must be reachable without DNS). */
static int
ha_address(struct walk *w, yaml_node_t *v, const char *what, int need_host, char *text,
           size_t textlen, struct sockaddr_storage *addr, socklen_t *addrlen)
{
    struct ixd_config_collector tmp;
    const char *s;
    char msg[256];

    if (want_scalar(w, v, what, &s) == -1) {
        return -1;
    }
    memset(&tmp, 0, sizeof(tmp));
    if (ixd_config_parse_listen(s, &tmp, msg, sizeof(msg)) == -1) {
        return fail(w, v, "%s must be IPV4:PORT or [IPV6]:PORT: %s", what, msg);
    }
    if (need_host && tmp.any_address) {
        return fail(w, v, "%s needs an address, not '%s'", what, s);
    }
    if (strlen(s) >= textlen) {
        return fail(w, v, "%s is too long", what);
    }
    snprintf(text, textlen, "%s", s);
    *addr = tmp.addr;
    *addrlen = tmp.addrlen;
    return 0;
}

/* "100ms", "1s", "2" (seconds): the share interval is below a second. */
static int
ha_interval(struct walk *w, yaml_node_t *v, uint32_t *ms)
{
    const char *s;
    char digits[32];
    uint64_t n;
    size_t len;
    int millis = 0;

    if (want_scalar(w, v, "ha.share-interval", &s) == -1) {
        return -1;
    }
    len = strlen(s);
    if (len > 2 && strcmp(s + len - 2, "ms") == 0) {
        millis = 1;
        len -= 2;
    } else if (len > 1 && s[len - 1] == 's') {
        len -= 1;
    }
    if (len == 0 || len >= sizeof(digits)) {
        goto bad;
    }
    memcpy(digits, s, len);
    digits[len] = '\0';
    if (ixd_parse_u64(digits, &n) == -1 || n > 60000) {
        goto bad;
    }
    n = millis ? n : n * 1000;
    if (n < 10 || n > 60000) {
        goto bad;
    }
    *ms = (uint32_t)n;
    return 0;
bad:
    return fail(w, v, "ha.share-interval must be from 10ms to 60s (such as 100ms or 1s), not '%s'",
                s);
}

static int
ha_key(struct walk *w, const char *key, yaml_node_t *k, yaml_node_t *v, void *ctx)
{
    struct ixd_config_ha *ha = ctx;
    const char *s;

    if (strcmp(key, "listen") == 0) {
        return ha_address(w, v, "ha.listen", 0, ha->listen, sizeof(ha->listen), &ha->listen_addr,
                          &ha->listen_addrlen);
    }
    if (strcmp(key, "peer") == 0) {
        return ha_address(w, v, "ha.peer", 1, ha->peer, sizeof(ha->peer), &ha->peer_addr,
                          &ha->peer_addrlen);
    }
    if (strcmp(key, "key-file") == 0) {
        if (want_scalar(w, v, "ha.key-file", &s) == -1) {
            return -1;
        }
        if (s[0] != '/' || strlen(s) >= sizeof(ha->key_file)) {
            return fail(w, v, "ha.key-file must be an absolute path, not '%s'", s);
        }
        snprintf(ha->key_file, sizeof(ha->key_file), "%s", s);
        return 0;
    }
    if (strcmp(key, "share-interval") == 0) {
        return ha_interval(w, v, &ha->share_interval_ms);
    }
    return fail(w, k, "unknown key '%s' in ha (known: listen, peer, key-file, share-interval)",
                key);
}

static int
parse_ha(struct walk *w, yaml_node_t *v)
{
    struct ixd_config_ha *ha = &w->cfg->ha;
    const char *s = scalar(v);

    if ((s != NULL && s[0] == '\0') || (v->type == YAML_MAPPING_NODE &&
                                        v->data.mapping.pairs.top == v->data.mapping.pairs.start)) {
        return 0; /* "ha:" alone: no peer */
    }
    ha->share_interval_ms = 100;
    if (want_mapping(w, v, "ha") == -1 || each_key(w, v, ha_key, ha) == -1) {
        return -1;
    }
    if (ha->listen[0] == '\0' || ha->peer[0] == '\0' || ha->key_file[0] == '\0') {
        return fail(w, v, "ha needs listen, peer and key-file");
    }
    ha->enabled = 1;
    return 0;
}

int
ixd_config_ha_same(const struct ixd_config_ha *a, const struct ixd_config_ha *b)
{
    return a->enabled == b->enabled && strcmp(a->listen, b->listen) == 0 &&
           strcmp(a->peer, b->peer) == 0 && strcmp(a->key_file, b->key_file) == 0 &&
           a->share_interval_ms == b->share_interval_ms;
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
        return parse_elements(w, v);
    }
    if (strcmp(key, "collectors") == 0 || strcmp(key, "outputs") == 0 ||
        strcmp(key, "pipelines") == 0) {
        return 0; /* parsed in dependency order by parse_root */
    }
    if (strcmp(key, "api") == 0) {
        return parse_api(w, v);
    }
    if (strcmp(key, "ha") == 0) {
        return parse_ha(w, v);
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
    if (!w->elements_done && set_default_element_directories(w, root) == -1) {
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
    api_defaults(&w.cfg->api);
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
        for (size_t j = 0; j < cfg->pipelines[i].n_stages; j++) {
            ixd_cnode_release(&cfg->pipelines[i].stages[j].settings);
        }
        free(cfg->pipelines[i].stages);
    }
    for (i = 0; i < cfg->n_collectors; i++) {
        free(cfg->collectors[i].allow);
        free(cfg->collectors[i].sampling);
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
           a->template_lifetime == b->template_lifetime && a->idle_timeout == b->idle_timeout &&
           strcmp(a->path, b->path) == 0;
}

static int
export_dests_same(const struct ixd_config_output *a, const struct ixd_config_output *b)
{
    size_t i;

    if (a->n_destinations != b->n_destinations) {
        return 0;
    }
    for (i = 0; i < a->n_destinations; i++) {
        if (strcmp(a->destinations[i].text, b->destinations[i].text) != 0) {
            return 0;
        }
    }
    return 1;
}

/* Every setting counts: an output whose settings changed is closed (its files completed, its
 * queues sent) and opened anew on reload. Field by field: the struct has padding. */
int
ixd_config_output_same(const struct ixd_config_output *a, const struct ixd_config_output *b)
{
    return strcmp(a->name, b->name) == 0 && a->type == b->type && strcmp(a->path, b->path) == 0 &&
           a->renormalise == b->renormalise && export_dests_same(a, b) &&
           a->export_transport == b->export_transport && a->mode == b->mode && a->mtu == b->mtu &&
           a->template_refresh == b->template_refresh && a->queue == b->queue &&
           a->original_exporter == b->original_exporter &&
           strcmp(a->directory, b->directory) == 0 && strcmp(a->prefix, b->prefix) == 0 &&
           a->rotate_interval == b->rotate_interval && a->rotate_size == b->rotate_size;
}
