/* outputs: json, ipfix export (destinations) and ipfix-file. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "core/config.h"
#include "core/config_internal.h"

/* Output keys that apply to one type only: remembered so that a key of the other type is
 * reported where it was written, once the type (which may come later) is known. */
struct output_walk {
    struct ixd_config_output *o;
    yaml_node_t *json_key;  /* first json-only key seen */
    yaml_node_t *ipfix_key; /* first ipfix-only key seen */
    yaml_node_t *file_key;  /* first ipfix-file-only key seen */
    yaml_node_t *orig_key;  /* original-exporter: ipfix and ipfix-file */
    yaml_node_t *mtu;
    yaml_node_t *path, *directory; /* values, where their checks report */
    yaml_node_t *mode_key;         /* file-mode: json and ipfix-file */
};

/* "HOST:PORT" or "[V6]:PORT" with a numeric address: names are not resolved on a worker. */
int
ixd_cfg_get_destination(struct walk *w, yaml_node_t *n, struct ixd_export_dest *d)
{
    struct ixd_config_collector tmp;
    const char *s;
    char msg[256];

    if (ixd_cfg_want_scalar(w, n, "a destination", &s) == -1) {
        return -1;
    }
    memset(&tmp, 0, sizeof(tmp));
    if (ixd_config_parse_listen(s, &tmp, msg, sizeof(msg)) == -1) {
        return ixd_cfg_fail(w, n, "a destination must be IPV4:PORT or [IPV6]:PORT, not '%s'", s);
    }
    if (tmp.any_address) {
        return ixd_cfg_fail(w, n, "a destination needs an address, not '%s'", s);
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
        if (ixd_cfg_get_destination(w, v, &o->destinations[0]) == -1) {
            return -1;
        }
        o->n_destinations = 1;
        return 0;
    }
    if (ixd_cfg_want_sequence(w, v, "destinations") == -1) {
        return -1;
    }
    for (it = v->data.sequence.items.start; it < v->data.sequence.items.top; it++) {
        yaml_node_t *item = ixd_cfg_node(w, *it);
        struct ixd_export_dest *d = &o->destinations[o->n_destinations];

        if (o->n_destinations == IXD_EXPORT_DEST_MAX) {
            return ixd_cfg_fail(w, item, "an output may have at most %d destinations",
                                IXD_EXPORT_DEST_MAX);
        }
        if (ixd_cfg_get_destination(w, item, d) == -1) {
            return -1;
        }
        for (i = 0; i < o->n_destinations; i++) {
            if (o->destinations[i].addrlen == d->addrlen &&
                memcmp(&o->destinations[i].addr, &d->addr, d->addrlen) == 0) {
                return ixd_cfg_fail(w, item, "destination %s is listed twice", d->text);
            }
        }
        o->n_destinations++;
    }
    if (o->n_destinations == 0) {
        return ixd_cfg_fail(w, v, "destinations must list at least one HOST:PORT");
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
        if (ixd_cfg_want_scalar(w, v, "transport", &s) == -1) {
            return -1;
        }
        if (strcmp(s, "udp") == 0) {
            o->export_transport = IXD_TRANSPORT_UDP;
        } else if (strcmp(s, "tcp") == 0) {
            o->export_transport = IXD_TRANSPORT_TCP;
        } else {
            return ixd_cfg_fail(w, v, "transport must be udp or tcp, not '%s'", s);
        }
        return 0;
    }
    if (strcmp(key, "mode") == 0) {
        if (ixd_cfg_want_scalar(w, v, "mode", &s) == -1) {
            return -1;
        }
        if (strcmp(s, "all") == 0) {
            o->mode = IXD_EXPORT_ALL;
        } else if (strcmp(s, "balance") == 0) {
            o->mode = IXD_EXPORT_BALANCE;
        } else {
            return ixd_cfg_fail(w, v, "mode must be all or balance, not '%s'", s);
        }
        return 0;
    }
    if (strcmp(key, "mtu") == 0) {
        /* a message must hold a header, a template set and a few records */
        return ixd_cfg_get_u32(w, v, "mtu", 256, 65535, &o->mtu);
    }
    if (strcmp(key, "template-refresh") == 0) {
        if (ixd_cfg_get_duration(w, v, "template-refresh", &o->template_refresh) == -1) {
            return -1;
        }
        if (o->template_refresh == 0) {
            return ixd_cfg_fail(w, v, "template-refresh must be at least 1 second");
        }
        return 0;
    }
    if (strcmp(key, "queue") == 0) {
        if (ixd_cfg_get_size(w, v, "queue", &o->queue) == -1) {
            return -1;
        }
        if (o->queue < 65536 + 8) {
            return ixd_cfg_fail(w, v, "queue must be at least 64K (one largest message)");
        }
        return 0;
    }
    return ixd_cfg_fail(w, v, "unknown ipfix key '%s'", key); /* output_key lists them */
}

/* file-mode: octal permissions such as "0640" or 640 (as YAML 1.1 and 1.2 read it alike). */
static int
get_file_mode(struct walk *w, yaml_node_t *v, uint32_t *out)
{
    const char *s, *p;
    uint32_t mode = 0;

    if (ixd_cfg_want_scalar(w, v, "file-mode", &s) == -1) {
        return -1;
    }
    p = s[0] == '0' && (s[1] == 'o' || s[1] == 'O') ? s + 2 : s;
    if (p[0] == '\0' || strlen(p) > 4 || strspn(p, "01234567") != strlen(p)) {
        return ixd_cfg_fail(w, v, "file-mode must be octal permissions such as 0640, not '%s'", s);
    }
    for (; *p != '\0'; p++) {
        mode = mode * 8 + (uint32_t)(*p - '0');
    }
    if (mode > 0777 || (mode & 0600) != 0600) {
        return ixd_cfg_fail(w, v,
                            "file-mode must be at most 0777 and let its owner read and write "
                            "(06xx or 07xx), not '%s'",
                            s);
    }
    *out = mode;
    return 0;
}

/* The smallest rotate-size: two of the largest messages, so that a file holds more than one. */
#define ROTATE_SIZE_MIN (2u * 65536)

static int
output_file_key(struct walk *w, const char *key, yaml_node_t *v, struct ixd_config_output *o)
{
    const char *s;

    if (strcmp(key, "directory") == 0) {
        if (ixd_cfg_want_scalar(w, v, "directory", &s) == -1) {
            return -1;
        }
        if (s[0] == '\0' || strlen(s) >= sizeof(o->directory)) {
            return ixd_cfg_fail(w, v, "directory must be the name of a directory");
        }
        memcpy(o->directory, s, strlen(s) + 1);
        return 0;
    }
    if (strcmp(key, "prefix") == 0) {
        return ixd_cfg_copy_name(w, v, "prefix", o->prefix, sizeof(o->prefix));
    }
    if (strcmp(key, "rotate-interval") == 0) {
        if (ixd_cfg_get_duration(w, v, "rotate-interval", &o->rotate_interval) == -1) {
            return -1;
        }
        if (o->rotate_interval == 0) {
            return ixd_cfg_fail(w, v, "rotate-interval must be at least 1 second");
        }
        return 0;
    }
    if (ixd_cfg_get_size(w, v, "rotate-size", &o->rotate_size) == -1) {
        return -1;
    }
    if (o->rotate_size < ROTATE_SIZE_MIN) {
        return ixd_cfg_fail(w, v, "rotate-size must be at least 128K (two largest messages)");
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
        return ixd_cfg_copy_name(w, v, "output name", o->name, sizeof(o->name));
    }
    if (strcmp(key, "type") == 0) {
        if (ixd_cfg_want_scalar(w, v, "type", &s) == -1) {
            return -1;
        }
        if (strcmp(s, "json") == 0) {
            o->type = IXD_OUTPUT_JSON;
        } else if (strcmp(s, "ipfix") == 0) {
            o->type = IXD_OUTPUT_IPFIX;
        } else if (strcmp(s, "ipfix-file") == 0) {
            o->type = IXD_OUTPUT_IPFIX_FILE;
        } else {
            return ixd_cfg_fail(w, v, "output type must be json, ipfix or ipfix-file, not '%s'", s);
        }
        return 0;
    }
    if (strcmp(key, "path") == 0) {
        ow->json_key = ow->json_key != NULL ? ow->json_key : k;
        if (ixd_cfg_want_scalar(w, v, "path", &s) == -1) {
            return -1;
        }
        if (s[0] == '\0' || strlen(s) >= sizeof(o->path)) {
            return ixd_cfg_fail(w, v, "path must be a file name or \"-\" for standard output");
        }
        memcpy(o->path, s, strlen(s) + 1);
        ow->path = v;
        return 0;
    }
    if (strcmp(key, "file-mode") == 0) {
        ow->mode_key = k;
        return get_file_mode(w, v, &o->file_mode);
    }
    if (strcmp(key, "renormalise") == 0) {
        ow->json_key = ow->json_key != NULL ? ow->json_key : k;
        return ixd_cfg_get_bool(w, v, "renormalise", &o->renormalise);
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
        if (strcmp(key, "directory") == 0) {
            ow->directory = v;
        }
        return output_file_key(w, key, v, o);
    }
    if (strcmp(key, "original-exporter") == 0) {
        ow->orig_key = k;
        return ixd_cfg_get_bool(w, v, "original-exporter", &o->original_exporter);
    }
    return ixd_cfg_fail(
        w, k,
        "unknown key '%s' in an output (known: name, type; json: path, renormalise, file-mode; "
        "ipfix: destinations, transport, mode, mtu, template-refresh, queue, "
        "original-exporter; ipfix-file: directory, prefix, rotate-interval, rotate-size, "
        "original-exporter, file-mode)",
        key);
}

/* Keys of one type written in an output of another: reported where they were written. */
static int
check_output_keys(struct walk *w, const struct output_walk *ow)
{
    enum ixd_output_type type = ow->o->type;

    if (ow->json_key != NULL && type != IXD_OUTPUT_JSON) {
        return ixd_cfg_fail(w, ow->json_key, "'%s' applies only to outputs of type json",
                            ixd_cfg_scalar(ow->json_key));
    }
    if (ow->ipfix_key != NULL && type != IXD_OUTPUT_IPFIX) {
        return ixd_cfg_fail(w, ow->ipfix_key, "'%s' applies only to outputs of type ipfix",
                            ixd_cfg_scalar(ow->ipfix_key));
    }
    if (ow->file_key != NULL && type != IXD_OUTPUT_IPFIX_FILE) {
        return ixd_cfg_fail(w, ow->file_key, "'%s' applies only to outputs of type ipfix-file",
                            ixd_cfg_scalar(ow->file_key));
    }
    if (ow->mode_key != NULL && type == IXD_OUTPUT_IPFIX) {
        return ixd_cfg_fail(w, ow->mode_key,
                            "'file-mode' applies only to outputs of type json and ipfix-file");
    }
    if (ow->orig_key != NULL && type == IXD_OUTPUT_JSON) {
        return ixd_cfg_fail(
            w, ow->orig_key,
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
        return ixd_cfg_fail(w, m, "an output needs a name");
    }
    if (check_output_keys(w, ow) == -1) {
        return -1;
    }
    if (o->type == IXD_OUTPUT_JSON) {
        if (o->path[0] == '\0') {
            return ixd_cfg_fail(w, m, "output '%s' needs a path (\"-\" for standard output)",
                                o->name);
        }
        return strcmp(o->path, "-") == 0
                   ? 0
                   : ixd_cfg_note_file(w, ow->path, IXD_FILE_WRITE, "path", o->path);
    }
    if (o->type == IXD_OUTPUT_IPFIX_FILE) {
        if (o->directory[0] == '\0') {
            return ixd_cfg_fail(
                w, m, "output '%s' needs a directory, e.g. directory: /var/lib/ipfixd/archive",
                o->name);
        }
        if (o->prefix[0] == '\0') {
            memcpy(o->prefix, o->name, sizeof(o->prefix));
        }
        return ixd_cfg_note_file(w, ow->directory, IXD_FILE_DIR_WRITE, "directory", o->directory);
    }
    if (o->n_destinations == 0) {
        return ixd_cfg_fail(
            w, m, "output '%s' needs destinations, e.g. destinations: [\"127.0.0.1:4739\"]",
            o->name);
    }
    if (o->mtu == 0) {
        o->mtu = o->export_transport == IXD_TRANSPORT_UDP ? 1400 : 65535;
    } else if (o->export_transport == IXD_TRANSPORT_UDP && o->mtu > 65507) {
        return ixd_cfg_fail(w, ow->mtu,
                            "mtu must be at most 65507 on UDP (the largest IPv4 datagram)");
    }
    return 0;
}

int
ixd_cfg_parse_outputs(struct walk *w, yaml_node_t *seq)
{
    struct ixd_config *cfg = w->cfg;
    yaml_node_item_t *it;
    size_t n, i;

    if (ixd_cfg_want_sequence(w, seq, "outputs") == -1) {
        return -1;
    }
    n = (size_t)(seq->data.sequence.items.top - seq->data.sequence.items.start);
    cfg->outputs = calloc(n ? n : 1, sizeof(*cfg->outputs));
    if (cfg->outputs == NULL) {
        return ixd_cfg_fail(w, seq, "out of memory");
    }
    for (it = seq->data.sequence.items.start; it < seq->data.sequence.items.top; it++) {
        yaml_node_t *m = ixd_cfg_node(w, *it);
        struct ixd_config_output *o = &cfg->outputs[cfg->n_outputs];
        struct output_walk ow = {o, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL};

        if (ixd_cfg_want_mapping(w, m, "an output") == -1) {
            return -1;
        }
        o->type = IXD_OUTPUT_JSON;
        o->export_transport = IXD_TRANSPORT_UDP;
        o->mode = IXD_EXPORT_ALL;
        o->template_refresh = 60;
        o->queue = 4u << 20;
        o->rotate_interval = 300;
        o->rotate_size = 64u << 20;
        o->file_mode = IXD_DEFAULT_FILE_MODE;
        if (ixd_cfg_each_key(w, m, output_key, &ow) == -1 || check_output(w, m, &ow) == -1) {
            return -1;
        }
        for (i = 0; i < cfg->n_outputs; i++) {
            if (strcmp(cfg->outputs[i].name, o->name) == 0) {
                return ixd_cfg_fail(w, m, "an output named '%s' is defined twice", o->name);
            }
            if (o->path[0] != '\0' && strcmp(cfg->outputs[i].path, "-") != 0 &&
                strcmp(cfg->outputs[i].path, o->path) == 0) {
                return ixd_cfg_fail(w, m, "outputs '%s' and '%s' both write to %s",
                                    cfg->outputs[i].name, o->name, o->path);
            }
            if (o->type == IXD_OUTPUT_IPFIX_FILE && cfg->outputs[i].type == o->type &&
                strcmp(cfg->outputs[i].directory, o->directory) == 0 &&
                strcmp(cfg->outputs[i].prefix, o->prefix) == 0) {
                return ixd_cfg_fail(w, m, "outputs '%s' and '%s' both write %s/%s-*",
                                    cfg->outputs[i].name, o->name, o->directory, o->prefix);
            }
        }
        cfg->n_outputs++;
    }
    return 0;
}
