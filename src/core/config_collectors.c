/* collectors: listen, transport, allow, sampling, forward and the file path of each. */
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "core/address.h"
#include "core/config.h"
#include "core/config_internal.h"

#define DEFAULT_TEMPLATE_LIFETIME 1800

/* allow: a list of addresses and prefixes; a source outside all of them is refused. */
static int
get_allow(struct walk *w, yaml_node_t *v, struct ixd_config_collector *c)
{
    yaml_node_item_t *it;
    size_t n;

    if (ixd_cfg_want_sequence(w, v, "allow") == -1) {
        return -1;
    }
    n = (size_t)(v->data.sequence.items.top - v->data.sequence.items.start);
    if (n == 0) {
        return ixd_cfg_fail(
            w, v, "allow must list at least one address or prefix (omit it to allow all)");
    }
    free(c->allow);
    c->n_allow = 0;
    c->allow = calloc(n, sizeof(*c->allow));
    if (c->allow == NULL) {
        return ixd_cfg_fail(w, v, "out of memory");
    }
    for (it = v->data.sequence.items.start; it < v->data.sequence.items.top; it++) {
        yaml_node_t *item = ixd_cfg_node(w, *it);
        const char *s;
        char msg[160];

        if (ixd_cfg_want_scalar(w, item, "an allow entry", &s) == -1) {
            return -1;
        }
        if (ixd_prefix_parse(s, &c->allow[c->n_allow], msg, sizeof(msg)) == -1) {
            return ixd_cfg_fail(w, item, "%s", msg);
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
        if (ixd_cfg_want_scalar(w, v, "exporter", &s) == -1) {
            return -1;
        }
        if (ixd_prefix_parse(s, &r->prefix, msg, sizeof(msg)) == -1) {
            return ixd_cfg_fail(w, v, "%s", msg);
        }
        e->has_exporter = 1;
        return 0;
    }
    if (strcmp(key, "rate") == 0) {
        return ixd_cfg_get_u32(w, v, "rate", 1, UINT32_MAX, &r->rate);
    }
    return ixd_cfg_fail(w, k, "unknown key '%s' in a sampling entry (known: exporter, rate)", key);
}

/* sampling: [{exporter: PREFIX, rate: N}, ...]; the first entry that matches applies. */
static int
get_sampling(struct walk *w, yaml_node_t *v, struct ixd_config_collector *c)
{
    yaml_node_item_t *it;
    size_t n;

    if (ixd_cfg_want_sequence(w, v, "sampling") == -1) {
        return -1;
    }
    n = (size_t)(v->data.sequence.items.top - v->data.sequence.items.start);
    free(c->sampling);
    c->n_sampling = 0;
    c->sampling = calloc(n ? n : 1, sizeof(*c->sampling));
    if (c->sampling == NULL) {
        return ixd_cfg_fail(w, v, "out of memory");
    }
    for (it = v->data.sequence.items.start; it < v->data.sequence.items.top; it++) {
        yaml_node_t *item = ixd_cfg_node(w, *it);
        struct sampling_entry e = {&c->sampling[c->n_sampling], 0};

        if (ixd_cfg_want_mapping(w, item, "a sampling entry") == -1 ||
            ixd_cfg_each_key(w, item, sampling_key, &e) == -1) {
            return -1;
        }
        if (e.rule->rate == 0) {
            return ixd_cfg_fail(w, item, "a sampling entry needs a rate (1 in N packets)");
        }
        if (!e.has_exporter) {
            return ixd_cfg_fail(w, item, "a sampling entry needs an exporter address or prefix");
        }
        c->n_sampling++;
    }
    return 0;
}

/* forward: the destinations a UDP collector repeats its datagrams to, before decoding. */
static int
get_forward(struct walk *w, yaml_node_t *v, struct ixd_config_collector *c)
{
    yaml_node_item_t *it;
    size_t i;

    if (ixd_cfg_want_sequence(w, v, "forward") == -1) {
        return -1;
    }
    c->n_forward = 0;
    for (it = v->data.sequence.items.start; it < v->data.sequence.items.top; it++) {
        yaml_node_t *item = ixd_cfg_node(w, *it);
        struct ixd_export_dest *d = &c->forward[c->n_forward];

        if (c->n_forward == IXD_EXPORT_DEST_MAX) {
            return ixd_cfg_fail(w, item, "a collector forwards to at most %d destinations",
                                IXD_EXPORT_DEST_MAX);
        }
        if (ixd_cfg_get_destination(w, item, d) == -1) {
            return -1;
        }
        for (i = 0; i < c->n_forward; i++) {
            if (c->forward[i].addrlen == d->addrlen &&
                memcmp(&c->forward[i].addr, &d->addr, d->addrlen) == 0) {
                return ixd_cfg_fail(w, item, "destination %s is listed twice", d->text);
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
        return ixd_cfg_copy_name(w, v, "collector name", c->name, sizeof(c->name));
    }
    if (strcmp(key, "transport") == 0) {
        if (ixd_cfg_want_scalar(w, v, "transport", &s) == -1) {
            return -1;
        }
        if (strcmp(s, "udp") == 0) {
            c->transport = IXD_TRANSPORT_UDP;
        } else if (strcmp(s, "tcp") == 0) {
            c->transport = IXD_TRANSPORT_TCP;
        } else if (strcmp(s, "file") == 0) {
            c->transport = IXD_TRANSPORT_FILE;
        } else {
            return ixd_cfg_fail(w, v, "transport must be udp, tcp or file, not '%s'", s);
        }
        return 0;
    }
    if (strcmp(key, "listen") == 0) {
        if (ixd_cfg_want_scalar(w, v, "listen", &s) == -1) {
            return -1;
        }
        if (ixd_config_parse_listen(s, c, msg, sizeof(msg)) == -1) {
            return ixd_cfg_fail(w, v, "%s", msg);
        }
        return 0;
    }
    if (strcmp(key, "receive-buffer") == 0) {
        return ixd_cfg_get_size(w, v, "receive-buffer", &c->receive_buffer);
    }
    if (strcmp(key, "template-lifetime") == 0) {
        if (ixd_cfg_get_duration(w, v, "template-lifetime", &c->template_lifetime) == -1) {
            return -1;
        }
        if (c->template_lifetime == 0) {
            return ixd_cfg_fail(w, v, "template-lifetime must be at least 1 second");
        }
        return 0;
    }
    if (strcmp(key, "idle-timeout") == 0) {
        return ixd_cfg_get_duration(w, v, "idle-timeout", &c->idle_timeout);
    }
    if (strcmp(key, "netflow9-enterprise") == 0) {
        return ixd_cfg_get_u32(w, v, "netflow9-enterprise", 1, UINT32_MAX, &c->netflow9_pen);
    }
    if (strcmp(key, "hold-unknown") == 0) {
        return ixd_cfg_get_bool(w, v, "hold-unknown", &c->hold);
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
        if (ixd_cfg_want_scalar(w, v, "path", &s) == -1) {
            return -1;
        }
        if (s[0] == '\0' || strlen(s) >= sizeof(c->path)) {
            return ixd_cfg_fail(w, v, "path must name an IPFIX file");
        }
        memcpy(c->path, s, strlen(s) + 1);
        if (ixd_cfg_note_file(w, v, IXD_FILE_READ, "path", c->path) == -1) {
            return -1;
        }
        return 0;
    }
    return ixd_cfg_fail(w, k,
                        "unknown key '%s' in a collector (known: name, transport, listen, "
                        "receive-buffer, template-lifetime, idle-timeout, hold-unknown, allow, "
                        "sampling, forward, netflow9-enterprise, path)",
                        key);
}

int
ixd_cfg_parse_collectors(struct walk *w, yaml_node_t *seq)
{
    struct ixd_config *cfg = w->cfg;
    yaml_node_item_t *it;
    size_t n, i;

    if (ixd_cfg_want_sequence(w, seq, "collectors") == -1) {
        return -1;
    }
    n = (size_t)(seq->data.sequence.items.top - seq->data.sequence.items.start);
    cfg->collectors = calloc(n ? n : 1, sizeof(*cfg->collectors));
    if (cfg->collectors == NULL) {
        return ixd_cfg_fail(w, seq, "out of memory");
    }
    for (it = seq->data.sequence.items.start; it < seq->data.sequence.items.top; it++) {
        yaml_node_t *m = ixd_cfg_node(w, *it);
        struct ixd_config_collector *c = &cfg->collectors[cfg->n_collectors];

        if (ixd_cfg_want_mapping(w, m, "a collector") == -1) {
            return -1;
        }
        c->transport = IXD_TRANSPORT_UDP;
        c->template_lifetime = DEFAULT_TEMPLATE_LIFETIME;
        c->idle_timeout = 0;
        c->addrlen = 0;
        c->hold = 1;
        c->netflow9_pen = IXD_NETFLOW9_DEFAULT_PEN;
        cfg->n_collectors++; /* counted first so that ixd_config_free releases its allow-list */
        if (ixd_cfg_each_key(w, m, collector_key, c) == -1) {
            return -1;
        }
        if (c->name[0] == '\0') {
            return ixd_cfg_fail(w, m, "a collector needs a name");
        }
        if (c->transport == IXD_TRANSPORT_FILE) {
            if (c->path[0] == '\0' || c->addrlen != 0 || c->any_address) {
                return ixd_cfg_fail(
                    w, m, "collector '%s' reads a file: it needs a path and no listen", c->name);
            }
        } else if (c->path[0] != '\0') {
            return ixd_cfg_fail(w, m, "collector '%s': path is for transport file", c->name);
        } else if (c->addrlen == 0 && !c->any_address) {
            return ixd_cfg_fail(
                w, m, "collector '%s' needs a listen address, e.g. listen: \"*:4739\"", c->name);
        }
        if (c->n_forward > 0 && c->transport != IXD_TRANSPORT_UDP) {
            return ixd_cfg_fail(w, m,
                                "collector '%s': forward repeats datagrams, so only udp collectors "
                                "have it",
                                c->name);
        }
        for (i = 0; i + 1 < cfg->n_collectors; i++) {
            const struct ixd_config_collector *o = &cfg->collectors[i];
            if (strcmp(o->name, c->name) == 0) {
                return ixd_cfg_fail(w, m, "a collector named '%s' is defined twice", c->name);
            }
            if (ixd_listen_overlaps(o, c)) {
                return ixd_cfg_fail(w, m, "collectors '%s' and '%s' both listen on %s %s", o->name,
                                    c->name, c->transport == IXD_TRANSPORT_UDP ? "udp" : "tcp",
                                    c->listen);
            }
        }
    }
    return 0;
}
