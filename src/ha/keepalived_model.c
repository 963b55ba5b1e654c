/*
 * The model as PUT takes it, checked field by field into a struct ixd_ka_model, and back to
 * JSON (keepalived_model.h). Every string that reaches the struct is made of characters that
 * cannot open or close a block, quote, or end a line in keepalived's syntax: names, interface
 * names, addresses and script paths each have their alphabet.
 */
#include "ha/keepalived_model.h"

#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#define NAME_CHARS "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-"
#define PATH_CHARS NAME_CHARS "/"

static const char *const notify_keys[IXD_KA_NOTIFY_N] = {"notify_master", "notify_backup",
                                                         "notify_fault", "notify_stop", "notify"};
static const char *const notify_roles[IXD_KA_NOTIFY_N] = {"MASTER", "BACKUP", "FAULT", "STOP",
                                                          NULL};

const char *
ixd_ka_notify_key(enum ixd_ka_notify n)
{
    return n < IXD_KA_NOTIFY_N ? notify_keys[n] : "";
}

static int __attribute__((format(printf, 3, 4)))
bad(struct ixd_ka_error *e, const char *field, const char *fmt, ...)
{
    va_list ap;

    snprintf(e->field, sizeof(e->field), "%s", field);
    va_start(ap, fmt);
    vsnprintf(e->why, sizeof(e->why), fmt, ap);
    va_end(ap);
    return -1;
}

/* 1 to max characters of A-Z a-z 0-9 _ . - */
static int
is_name(const char *s, size_t max)
{
    size_t n = s != NULL ? strlen(s) : 0;

    return n > 0 && n <= max && strspn(s, NAME_CHARS) == n;
}

/*
 * An address, with a prefix length when prefix_ok ("10.0.0.1/24", "2001:db8::1/64"). The prefix
 * is 1 to 3 digits and nothing else: strtol alone would take blanks (a newline into the
 * rendered file) and a sign.
 */
static int
addr_parse(const char *s, int prefix_ok, struct ixd_ka_addr *out)
{
    char a[sizeof(out->text)];
    const char *slash;
    size_t digits;

    if (s == NULL || strlen(s) >= sizeof(a)) {
        return -1;
    }
    memset(out, 0, sizeof(*out));
    snprintf(a, sizeof(a), "%s", s);
    slash = strchr(s, '/');
    a[strcspn(a, "/")] = '\0';
    out->family = strchr(a, ':') != NULL ? AF_INET6 : AF_INET;
    if (inet_pton(out->family, a, out->bytes) != 1) {
        return -1;
    }
    out->prefix = -1;
    if (slash != NULL) {
        digits = strspn(slash + 1, "0123456789");
        if (!prefix_ok || digits < 1 || digits > 3 || slash[1 + digits] != '\0') {
            return -1;
        }
        out->prefix = (int)strtol(slash + 1, NULL, 10);
        if (out->prefix > (out->family == AF_INET6 ? 128 : 32)) {
            return -1;
        }
    }
    snprintf(out->text, sizeof(out->text), "%s", s);
    return 0;
}

/* An integer of min..max at key of o: 1 and *out, 0 when absent and not required, -1. */
static int
get_int(struct ixd_ka_error *e, const json_t *o, const char *key, const char *field, long min,
        long max, int required, int *out)
{
    const json_t *v = json_object_get(o, key);

    if (v == NULL && !required) {
        return 0;
    }
    if (!json_is_integer(v) || json_integer_value(v) < min || json_integer_value(v) > max) {
        return bad(e, field, "must be an integer from %ld to %ld", min, max);
    }
    *out = (int)json_integer_value(v);
    return 1;
}

/* Only keys from known (NULL-terminated) may be in o; "at" is o's own path. */
static int
only_keys(struct ixd_ka_error *e, const json_t *o, const char *at, const char *const *known)
{
    const char *key;
    json_t *v;
    char field[160];

    json_object_foreach((json_t *)o, key, v)
    {
        size_t i;
        for (i = 0; known[i] != NULL && strcmp(known[i], key) != 0; i++) {
        }
        if (known[i] != NULL) {
            continue;
        }
        snprintf(field, sizeof(field), "%s%s%.100s", at, at[0] != '\0' ? "." : "", key);
        if (strcmp(key, "global_defs") == 0 || strcmp(key, "vrrp_script") == 0 ||
            strcmp(key, "script") == 0 || strcmp(key, "include") == 0) {
            return bad(e, field,
                       "%s stays in keepalived.conf: ipfixd manages only instances (priorities, "
                       "virtual IPs) and virtual servers",
                       key);
        }
        return bad(e, field, "is not part of the model (known here: see docs/api.md)");
    }
    return 0;
}

static int
pick(struct ixd_ka_error *e, const json_t *o, const char *key, const char *field,
     const char *const *allowed, const char **out)
{
    const char *s = json_string_value(json_object_get(o, key));
    size_t i;

    *out = allowed[0];
    if (json_object_get(o, key) == NULL) {
        return 0;
    }
    for (i = 0; s != NULL && allowed[i] != NULL; i++) {
        if (strcmp(s, allowed[i]) == 0) {
            *out = allowed[i];
            return 0;
        }
    }
    return bad(e, field, "must be one of %s%s%s%s", allowed[0], allowed[1] ? ", " : "",
               allowed[1] ? allowed[1] : "", allowed[2] ? ", ..." : "");
}

/*
 * A notify script: an absolute path of A-Z a-z 0-9 _ . - / without "..", then exactly the one
 * argument its key implies ("SCRIPT MASTER" for notify_master, and so on; "SCRIPT" alone for
 * notify, since keepalived appends its own four), so that an API client cannot hand the script
 * an argument of its own (a file for the shipped hook to write, say). Which scripts may run at
 * all is the helper's policy (keepalived_policy.h), not this check.
 */
static int
check_script(struct ixd_ka_error *e, enum ixd_ka_notify n, const char *s, const char *field,
             char *script)
{
    const char *role = notify_roles[n], *arg;
    size_t plen;

    if (s == NULL || s[0] == '\0') {
        return bad(e, field, "must be a string: the script and its argument");
    }
    plen = strcspn(s, " ");
    if (s[0] != '/' || plen < 2 || plen > IXD_KA_SCRIPT_MAX || s[plen - 1] == '/' ||
        strspn(s, PATH_CHARS) < plen || strstr(s, "/..") != NULL || strstr(s, "//") != NULL) {
        return bad(e, field,
                   "'%.160s' is not a script: an absolute path of A-Z a-z 0-9 _ . - / comes first",
                   s);
    }
    arg = s + plen;
    if (role == NULL && arg[0] != '\0') {
        return bad(e, field,
                   "takes the script alone: keepalived appends its own arguments (instance, "
                   "name, state, priority)");
    }
    if (role != NULL && (arg[0] != ' ' || strcmp(arg + 1, role) != 0)) {
        return bad(e, field, "takes the script and one argument, %s, and nothing else", role);
    }
    memcpy(script, s, plen);
    script[plen] = '\0';
    return 0;
}

/* name, state, interface, virtual_router_id, priority, advert_int, nopreempt. */
static int
check_head(struct ixd_ka_error *e, const json_t *in, const char *at, struct ixd_ka_instance *out)
{
    const char *name = json_string_value(json_object_get(in, "name"));
    const char *state = json_string_value(json_object_get(in, "state"));
    const char *iface = json_string_value(json_object_get(in, "interface"));
    char field[160];
    const json_t *v;

    snprintf(field, sizeof(field), "%s.name", at);
    if (!is_name(name, IXD_KA_NAME_MAX)) {
        return bad(e, field, "must be 1 to %d of A-Z a-z 0-9 _ . -", IXD_KA_NAME_MAX);
    }
    snprintf(out->name, sizeof(out->name), "%s", name);
    snprintf(field, sizeof(field), "%s.state", at);
    if (json_object_get(in, "state") != NULL &&
        (state == NULL || (strcmp(state, "MASTER") != 0 && strcmp(state, "BACKUP") != 0))) {
        return bad(e, field, "must be MASTER or BACKUP");
    }
    out->master = state != NULL && strcmp(state, "MASTER") == 0;
    snprintf(field, sizeof(field), "%s.interface", at);
    if (!is_name(iface, IF_NAMESIZE - 1)) {
        return bad(e, field, "must be an interface name");
    }
    snprintf(out->interface, sizeof(out->interface), "%s", iface);
    snprintf(field, sizeof(field), "%s.virtual_router_id", at);
    if (get_int(e, in, "virtual_router_id", field, 1, 255, 1, &out->vrid) == -1) {
        return -1;
    }
    snprintf(field, sizeof(field), "%s.priority", at);
    if (get_int(e, in, "priority", field, 1, 254, 1, &out->priority) == -1) {
        return -1;
    }
    if ((v = json_object_get(in, "advert_int")) != NULL) {
        /* hundredths, as VRRPv3 sends it: a value with more digits would not be what keepalived
         * runs, nor what the rendered file reads back as */
        double hundredths = json_is_number(v) ? json_number_value(v) * 100 : 0;
        snprintf(field, sizeof(field), "%s.advert_int", at);
        if (hundredths < 0.5 || hundredths > 25500.5 ||
            hundredths - (double)(int)(hundredths + 0.5) > 1e-6 ||
            (double)(int)(hundredths + 0.5) - hundredths > 1e-6) {
            return bad(e, field, "must be a number of seconds from 0.01 to 255, in hundredths");
        }
        out->advert_cs = (int)(hundredths + 0.5);
    }
    if ((v = json_object_get(in, "nopreempt")) != NULL) {
        snprintf(field, sizeof(field), "%s.nopreempt", at);
        if (!json_is_boolean(v)) {
            return bad(e, field, "must be true or false");
        }
        out->nopreempt = json_is_true(v);
    }
    return 0;
}

/* unicast_src_ip and unicast_peer. */
static int
check_unicast(struct ixd_ka_error *e, const json_t *in, const char *at, struct ixd_ka_instance *out)
{
    const json_t *v, *list;
    char field[160];
    size_t i;

    if ((v = json_object_get(in, "unicast_src_ip")) != NULL) {
        snprintf(field, sizeof(field), "%s.unicast_src_ip", at);
        if (addr_parse(json_string_value(v), 0, &out->src) == -1) {
            return bad(e, field, "must be an IP address");
        }
        out->has_src = 1;
    }
    if ((list = json_object_get(in, "unicast_peer")) == NULL) {
        return 0;
    }
    snprintf(field, sizeof(field), "%s.unicast_peer", at);
    if (!json_is_array(list) || json_array_size(list) > IXD_KA_PEERS_MAX) {
        return bad(e, field, "must be a list of at most %d IP addresses", IXD_KA_PEERS_MAX);
    }
    json_array_foreach(list, i, v)
    {
        snprintf(field, sizeof(field), "%s.unicast_peer[%zu]", at, i);
        if (addr_parse(json_string_value(v), 0, &out->peers[i]) == -1) {
            return bad(e, field, "must be an IP address");
        }
    }
    out->n_peers = json_array_size(list);
    return 0;
}

static int
check_vips(struct ixd_ka_error *e, const json_t *in, const char *at, struct ixd_ka_instance *out)
{
    static const char *const vip_keys[] = {"address", "dev", NULL};
    const json_t *list = json_object_get(in, "virtual_ipaddress"), *v;
    char field[160];
    size_t i;

    snprintf(field, sizeof(field), "%s.virtual_ipaddress", at);
    if (!json_is_array(list) || json_array_size(list) == 0 ||
        json_array_size(list) > IXD_KA_VIPS_MAX) {
        return bad(e, field, "must be a list of 1 to %d {address, dev}", IXD_KA_VIPS_MAX);
    }
    json_array_foreach(list, i, v)
    {
        const char *s = json_string_value(json_object_get(v, "address"));
        const char *dev = json_string_value(json_object_get(v, "dev"));
        snprintf(field, sizeof(field), "%s.virtual_ipaddress[%zu]", at, i);
        if (!json_is_object(v)) {
            return bad(e, field, "must be an object {address, dev}");
        }
        if (only_keys(e, v, field, vip_keys) == -1) {
            return -1;
        }
        snprintf(field, sizeof(field), "%s.virtual_ipaddress[%zu].address", at, i);
        if (addr_parse(s, 1, &out->vips[i].addr) == -1) {
            return bad(e, field, "'%.64s' is not an IP address (with an optional /prefix)",
                       s != NULL ? s : "(not a string)");
        }
        snprintf(field, sizeof(field), "%s.virtual_ipaddress[%zu].dev", at, i);
        if (json_object_get(v, "dev") != NULL && !is_name(dev, IF_NAMESIZE - 1)) {
            return bad(e, field, "must be an interface name");
        }
        snprintf(out->vips[i].dev, sizeof(out->vips[i].dev), "%s", dev != NULL ? dev : "");
    }
    out->n_vips = json_array_size(list);
    return 0;
}

/* track_script names and the notify scripts. */
static int
check_scripts(struct ixd_ka_error *e, const json_t *in, const char *at, struct ixd_ka_instance *out)
{
    const json_t *list = json_object_get(in, "track_script"), *v;
    char field[160];
    size_t i;

    if (list != NULL) {
        snprintf(field, sizeof(field), "%s.track_script", at);
        if (!json_is_array(list) || json_array_size(list) > IXD_KA_TRACKS_MAX) {
            return bad(e, field, "must be a list of at most %d vrrp_script names",
                       IXD_KA_TRACKS_MAX);
        }
        json_array_foreach(list, i, v)
        {
            snprintf(field, sizeof(field), "%s.track_script[%zu]", at, i);
            if (!is_name(json_string_value(v), IXD_KA_NAME_MAX)) {
                return bad(e, field,
                           "must name a vrrp_script of keepalived.conf, not define or run one");
            }
            snprintf(out->tracks[i], sizeof(out->tracks[i]), "%s", json_string_value(v));
        }
        out->n_tracks = json_array_size(list);
    }
    for (i = 0; i < IXD_KA_NOTIFY_N; i++) {
        if ((v = json_object_get(in, notify_keys[i])) == NULL) {
            continue;
        }
        snprintf(field, sizeof(field), "%s.%s", at, notify_keys[i]);
        if (check_script(e, (enum ixd_ka_notify)i, json_string_value(v), field, out->notify[i]) ==
            -1) {
            return -1;
        }
    }
    return 0;
}

static int
check_instance(struct ixd_ka_error *e, const json_t *in, size_t idx, struct ixd_ka_model *m)
{
    static const char *const known[] = {"name",
                                        "state",
                                        "interface",
                                        "virtual_router_id",
                                        "priority",
                                        "advert_int",
                                        "nopreempt",
                                        "unicast_src_ip",
                                        "unicast_peer",
                                        "virtual_ipaddress",
                                        "track_script",
                                        "notify_master",
                                        "notify_backup",
                                        "notify_fault",
                                        "notify_stop",
                                        "notify",
                                        NULL};
    struct ixd_ka_instance *out = &m->instances[idx];
    char at[64];
    size_t i;

    snprintf(at, sizeof(at), "instances[%zu]", idx);
    if (!json_is_object(in)) {
        return bad(e, at, "must be an object");
    }
    if (only_keys(e, in, at, known) == -1 || check_head(e, in, at, out) == -1) {
        return -1;
    }
    for (i = 0; i < idx; i++) {
        if (strcmp(m->instances[i].name, out->name) == 0) {
            char field[80];
            snprintf(field, sizeof(field), "%s.name", at);
            return bad(e, field, "'%s' names two instances", out->name);
        }
    }
    if (check_unicast(e, in, at, out) == -1 || check_vips(e, in, at, out) == -1 ||
        check_scripts(e, in, at, out) == -1) {
        return -1;
    }
    return 0;
}

static int
check_real(struct ixd_ka_error *e, const json_t *rs, const char *at, struct ixd_ka_real *out)
{
    static const char *const known[] = {"address", "port", "weight", "tcp_check", NULL};
    static const char *const tc_known[] = {"connect_timeout", "connect_port", NULL};
    const json_t *tc = json_object_get(rs, "tcp_check");
    char field[192];

    if (!json_is_object(rs)) {
        return bad(e, at, "must be an object");
    }
    if (only_keys(e, rs, at, known) == -1) {
        return -1;
    }
    snprintf(field, sizeof(field), "%s.address", at);
    if (addr_parse(json_string_value(json_object_get(rs, "address")), 0, &out->addr) == -1) {
        return bad(e, field, "must be an IP address");
    }
    snprintf(field, sizeof(field), "%s.port", at);
    if (get_int(e, rs, "port", field, 1, 65535, 1, &out->port) == -1) {
        return -1;
    }
    out->weight = 1;
    snprintf(field, sizeof(field), "%s.weight", at);
    if (get_int(e, rs, "weight", field, 0, 65535, 0, &out->weight) == -1) {
        return -1;
    }
    if (tc == NULL) {
        return 0;
    }
    snprintf(field, sizeof(field), "%s.tcp_check", at);
    if (!json_is_object(tc)) {
        return bad(e, field, "must be an object");
    }
    if (only_keys(e, tc, field, tc_known) == -1) {
        return -1;
    }
    out->tcp_check = 1;
    snprintf(field, sizeof(field), "%s.tcp_check.connect_timeout", at);
    if (get_int(e, tc, "connect_timeout", field, 1, 3600, 0, &out->connect_timeout) == -1) {
        return -1;
    }
    snprintf(field, sizeof(field), "%s.tcp_check.connect_port", at);
    return get_int(e, tc, "connect_port", field, 1, 65535, 0, &out->connect_port) == -1 ? -1 : 0;
}

static int
check_server(struct ixd_ka_error *e, const json_t *vs, size_t idx, struct ixd_ka_server *out)
{
    static const char *const known[] = {"address",    "port",         "protocol",
                                        "lvs_sched",  "lb_kind",      "persistence_timeout",
                                        "delay_loop", "real_servers", NULL};
    static const char *const protocols[] = {"UDP", "TCP", "SCTP", NULL};
    static const char *const scheds[] = {"rr", "wrr", "lc",  "wlc", "lblc", "lblcr",
                                         "sh", "dh",  "sed", "nq",  "mh",   NULL};
    static const char *const kinds[] = {"DR", "NAT", "TUN", NULL};
    const json_t *list, *rs;
    char at[64], field[160];
    size_t i;

    snprintf(at, sizeof(at), "virtual_servers[%zu]", idx);
    if (!json_is_object(vs)) {
        return bad(e, at, "must be an object");
    }
    if (only_keys(e, vs, at, known) == -1) {
        return -1;
    }
    snprintf(field, sizeof(field), "%s.address", at);
    if (addr_parse(json_string_value(json_object_get(vs, "address")), 0, &out->addr) == -1) {
        return bad(e, field, "must be an IP address");
    }
    snprintf(field, sizeof(field), "%s.port", at);
    if (get_int(e, vs, "port", field, 1, 65535, 1, &out->port) == -1) {
        return -1;
    }
    snprintf(field, sizeof(field), "%s.protocol", at);
    if (pick(e, vs, "protocol", field, protocols, &out->protocol) == -1) {
        return -1;
    }
    snprintf(field, sizeof(field), "%s.lvs_sched", at);
    if (pick(e, vs, "lvs_sched", field, scheds, &out->lvs_sched) == -1) {
        return -1;
    }
    snprintf(field, sizeof(field), "%s.lb_kind", at);
    if (pick(e, vs, "lb_kind", field, kinds, &out->lb_kind) == -1) {
        return -1;
    }
    snprintf(field, sizeof(field), "%s.persistence_timeout", at);
    if (get_int(e, vs, "persistence_timeout", field, 1, 2678400, 0, &out->persistence_timeout) ==
        -1) {
        return -1;
    }
    snprintf(field, sizeof(field), "%s.delay_loop", at);
    if (get_int(e, vs, "delay_loop", field, 1, 3600, 0, &out->delay_loop) == -1) {
        return -1;
    }
    list = json_object_get(vs, "real_servers");
    snprintf(field, sizeof(field), "%s.real_servers", at);
    if (list != NULL && (!json_is_array(list) || json_array_size(list) > IXD_KA_REALS_MAX)) {
        return bad(e, field, "must be a list of at most %d {address, port, weight, tcp_check}",
                   IXD_KA_REALS_MAX);
    }
    json_array_foreach(list, i, rs)
    {
        snprintf(field, sizeof(field), "%s.real_servers[%zu]", at, i);
        if (check_real(e, rs, field, &out->reals[i]) == -1) {
            return -1;
        }
    }
    out->n_reals = json_array_size(list);
    return 0;
}

int
ixd_ka_check(const json_t *json, struct ixd_ka_model *model, struct ixd_ka_error *err)
{
    static const char *const known[] = {"instances", "virtual_servers", "warnings", "_links", NULL};
    const json_t *instances = json_object_get(json, "instances");
    const json_t *servers = json_object_get(json, "virtual_servers"), *v;
    size_t i;

    memset(err, 0, sizeof(*err));
    memset(model, 0, sizeof(*model));
    if (!json_is_object(json)) {
        return bad(err, "", "the body must be a JSON object {instances, virtual_servers}");
    }
    if (only_keys(err, json, "", known) == -1) {
        return -1;
    }
    if (!json_is_array(instances) || json_array_size(instances) > IXD_KA_INSTANCES_MAX) {
        return bad(err, "instances", "must be a list of at most %d VRRP instances",
                   IXD_KA_INSTANCES_MAX);
    }
    if (servers != NULL &&
        (!json_is_array(servers) || json_array_size(servers) > IXD_KA_SERVERS_MAX)) {
        return bad(err, "virtual_servers", "must be a list of at most %d virtual servers",
                   IXD_KA_SERVERS_MAX);
    }
    /* one more than asked for: calloc(0) may answer NULL */
    model->instances = calloc(json_array_size(instances) + 1, sizeof(*model->instances));
    model->servers = calloc(json_array_size(servers) + 1, sizeof(*model->servers));
    if (model->instances == NULL || model->servers == NULL) {
        ixd_ka_model_release(model);
        return bad(err, "", "out of memory");
    }
    json_array_foreach(instances, i, v)
    {
        if (check_instance(err, v, i, model) == -1) {
            goto fail;
        }
    }
    model->n_instances = json_array_size(instances);
    json_array_foreach(servers, i, v)
    {
        if (check_server(err, v, i, &model->servers[i]) == -1) {
            goto fail;
        }
    }
    model->n_servers = json_array_size(servers);
    return 0;
fail:
    ixd_ka_model_release(model);
    return -1;
}

void
ixd_ka_model_release(struct ixd_ka_model *model)
{
    if (model == NULL) {
        return;
    }
    free(model->instances);
    free(model->servers);
    memset(model, 0, sizeof(*model));
}

/* ---- back to JSON ---- */

static json_t *
instance_json(const struct ixd_ka_instance *in)
{
    json_t *o = json_pack("{s:s, s:s, s:s, s:i, s:i}", "name", in->name, "state",
                          in->master ? "MASTER" : "BACKUP", "interface", in->interface,
                          "virtual_router_id", in->vrid, "priority", in->priority);
    json_t *vips = json_array(), *list;
    size_t i;

    if (o == NULL || vips == NULL) {
        json_decref(o);
        json_decref(vips);
        return NULL;
    }
    if (in->advert_cs > 0) {
        json_object_set_new(o, "advert_int", json_real(in->advert_cs / 100.0));
    }
    if (in->nopreempt) {
        json_object_set_new(o, "nopreempt", json_true());
    }
    if (in->has_src) {
        json_object_set_new(o, "unicast_src_ip", json_string(in->src.text));
    }
    if (in->n_peers > 0) {
        list = json_array();
        for (i = 0; i < in->n_peers; i++) {
            json_array_append_new(list, json_string(in->peers[i].text));
        }
        json_object_set_new(o, "unicast_peer", list);
    }
    for (i = 0; i < in->n_vips; i++) {
        json_t *vip = json_pack("{s:s}", "address", in->vips[i].addr.text);
        if (in->vips[i].dev[0] != '\0') {
            json_object_set_new(vip, "dev", json_string(in->vips[i].dev));
        }
        json_array_append_new(vips, vip);
    }
    json_object_set_new(o, "virtual_ipaddress", vips);
    if (in->n_tracks > 0) {
        list = json_array();
        for (i = 0; i < in->n_tracks; i++) {
            json_array_append_new(list, json_string(in->tracks[i]));
        }
        json_object_set_new(o, "track_script", list);
    }
    for (i = 0; i < IXD_KA_NOTIFY_N; i++) {
        if (in->notify[i][0] != '\0') {
            json_object_set_new(o, notify_keys[i],
                                notify_roles[i] != NULL
                                    ? json_sprintf("%s %s", in->notify[i], notify_roles[i])
                                    : json_string(in->notify[i]));
        }
    }
    return o;
}

static json_t *
server_json(const struct ixd_ka_server *vs)
{
    json_t *o = json_pack("{s:s, s:i, s:s, s:s, s:s, s:[]}", "address", vs->addr.text, "port",
                          vs->port, "protocol", vs->protocol, "lvs_sched", vs->lvs_sched, "lb_kind",
                          vs->lb_kind, "real_servers");
    size_t i;

    if (o == NULL) {
        return NULL;
    }
    if (vs->persistence_timeout > 0) {
        json_object_set_new(o, "persistence_timeout", json_integer(vs->persistence_timeout));
    }
    if (vs->delay_loop > 0) {
        json_object_set_new(o, "delay_loop", json_integer(vs->delay_loop));
    }
    for (i = 0; i < vs->n_reals; i++) {
        const struct ixd_ka_real *r = &vs->reals[i];
        json_t *rs = json_pack("{s:s, s:i, s:i}", "address", r->addr.text, "port", r->port,
                               "weight", r->weight);
        if (r->tcp_check) {
            json_t *tc = json_object();
            if (r->connect_timeout > 0) {
                json_object_set_new(tc, "connect_timeout", json_integer(r->connect_timeout));
            }
            if (r->connect_port > 0) {
                json_object_set_new(tc, "connect_port", json_integer(r->connect_port));
            }
            json_object_set_new(rs, "tcp_check", tc);
        }
        json_array_append_new(json_object_get(o, "real_servers"), rs);
    }
    return o;
}

json_t *
ixd_ka_to_json(const struct ixd_ka_model *model)
{
    json_t *out = json_pack("{s:[], s:[]}", "instances", "virtual_servers");
    size_t i;

    for (i = 0; out != NULL && i < model->n_instances; i++) {
        if (json_array_append_new(json_object_get(out, "instances"),
                                  instance_json(&model->instances[i])) == -1) {
            goto fail;
        }
    }
    for (i = 0; out != NULL && i < model->n_servers; i++) {
        if (json_array_append_new(json_object_get(out, "virtual_servers"),
                                  server_json(&model->servers[i])) == -1) {
            goto fail;
        }
    }
    return out;
fail:
    json_decref(out);
    return NULL;
}
