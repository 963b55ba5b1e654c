/* What the helper's policy allows a model to hold (keepalived_policy.h). */
#include "ha/keepalived_policy.h"

#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

static int __attribute__((format(printf, 3, 4)))
refuse(struct ixd_ka_error *e, const char *field, const char *fmt, ...)
{
    va_list ap;

    snprintf(e->field, sizeof(e->field), "%s", field);
    va_start(ap, fmt);
    vsnprintf(e->why, sizeof(e->why), fmt, ap);
    va_end(ap);
    return -1;
}

/* 1 when the first bits bits of a and b agree. */
static int
same_bits(const uint8_t *a, const uint8_t *b, int bits)
{
    int whole = bits / 8, rest = bits % 8;

    if (memcmp(a, b, (size_t)whole) != 0) {
        return 0;
    }
    return rest == 0 || ((a[whole] ^ b[whole]) & (0xff << (8 - rest)) & 0xff) == 0;
}

int
ixd_ka_range_parse(const char *s, struct ixd_ka_range *out, char *why, size_t whylen)
{
    char a[64];
    const char *slash = strchr(s, '/');
    size_t digits;
    int max;

    memset(out, 0, sizeof(*out));
    if (strlen(s) >= sizeof(a)) {
        snprintf(why, whylen, "'%.64s...' is too long for an address range", s);
        return -1;
    }
    snprintf(a, sizeof(a), "%s", s);
    a[strcspn(a, "/")] = '\0';
    out->family = strchr(a, ':') != NULL ? AF_INET6 : AF_INET;
    max = out->family == AF_INET6 ? 128 : 32;
    if (inet_pton(out->family, a, out->bytes) != 1) {
        snprintf(why, whylen, "'%s' is not an address or an address/prefix", s);
        return -1;
    }
    out->prefix = max;
    if (slash != NULL) {
        digits = strspn(slash + 1, "0123456789");
        out->prefix = digits >= 1 && digits <= 3 && slash[1 + digits] == '\0'
                          ? (int)strtol(slash + 1, NULL, 10)
                          : -1;
        if (out->prefix < 0 || out->prefix > max) {
            snprintf(why, whylen, "'%s': the prefix must be 0 to %d", s, max);
            return -1;
        }
    }
    for (int bit = out->prefix; bit < max; bit++) {
        if (out->bytes[bit / 8] & (0x80 >> (bit % 8))) {
            snprintf(why, whylen,
                     "'%s' has bits set past its prefix: write the network's first "
                     "address, or the address alone",
                     s);
            return -1;
        }
    }
    return 0;
}

/* 1 to IXD_KA_USER_MAX of A-Z a-z 0-9 _ . - */
static int
is_user(const char *s, size_t n)
{
    return n > 0 && n <= IXD_KA_USER_MAX &&
           strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-") >= n;
}

int
ixd_ka_script_parse(const char *s, char *path, size_t pathlen, char *as, size_t aslen, char *why,
                    size_t whylen)
{
    size_t plen = strcspn(s, " "), u, g;
    const char *user = s + plen;

    while (*user == ' ') {
        user++;
    }
    u = strcspn(user, " ");
    g = user[u] == ' ' ? strcspn(user + u + 1, " ") : 0;
    if (s[0] != '/' || plen > IXD_KA_SCRIPT_MAX || plen >= pathlen ||
        strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_./-") < plen) {
        snprintf(why, whylen, "'%s' does not start with an absolute path of A-Z a-z 0-9 _ . - /",
                 s);
        return -1;
    }
    if ((u > 0 && !is_user(user, u)) || (user[u] == ' ' && !is_user(user + u + 1, g)) ||
        (user[u] == ' ' && user[u + 1 + g] != '\0')) {
        snprintf(why, whylen, "'%s': after the path come a user and a group, nothing else", s);
        return -1;
    }
    snprintf(path, pathlen, "%.*s", (int)plen, s);
    snprintf(as, aslen, "%s", user);
    return 0;
}

int
ixd_ka_vrids_parse(const char *s, int *lo, int *hi, char *why, size_t whylen)
{
    char *end = NULL;
    long a, b;

    if (strspn(s, "0123456789-") != strlen(s) || s[0] == '-' || s[0] == '\0') {
        goto bad;
    }
    a = strtol(s, &end, 10);
    b = a;
    if (*end == '-') {
        const char *second = end + 1;
        if (*second == '\0' || *second == '-') {
            goto bad;
        }
        b = strtol(second, &end, 10);
    }
    if (*end != '\0' || a < 1 || b > 255 || a > b) {
        goto bad;
    }
    *lo = (int)a;
    *hi = (int)b;
    return 0;
bad:
    snprintf(why, whylen, "'%s' is not a virtual router id (1 to 255) or a range such as 50-59", s);
    return -1;
}

/* 1 when the network of addr (with prefix, or the host alone) lies in one of ranges. */
static int
in_ranges(const struct ixd_ka_range *ranges, size_t n, const struct ixd_ka_addr *addr)
{
    int own = addr->prefix >= 0 ? addr->prefix : (addr->family == AF_INET6 ? 128 : 32);

    for (size_t i = 0; i < n; i++) {
        const struct ixd_ka_range *r = &ranges[i];
        if (r->family == addr->family && own >= r->prefix &&
            same_bits(r->bytes, addr->bytes, r->prefix)) {
            return 1;
        }
    }
    return 0;
}

/* The entry of policy's scripts for path, or -1. */
static int
script_index(const struct ixd_ka_policy *p, const char *path)
{
    for (size_t i = 0; i < p->n_scripts; i++) {
        if (strcmp(p->scripts[i].path, path) == 0) {
            return (int)i;
        }
    }
    return -1;
}

static int
listed(const char *s, const char *list, size_t n, size_t stride)
{
    for (size_t i = 0; i < n; i++) {
        if (strcmp(s, list + i * stride) == 0) {
            return 1;
        }
    }
    return 0;
}

#define LISTED(s, array, n) listed((s), &(array)[0][0], (n), sizeof((array)[0]))

static int
check_addr(struct ixd_ka_error *e, const struct ixd_ka_range *ranges, size_t n,
           const struct ixd_ka_addr *a, const char *field, const char *what, const char *key)
{
    if (in_ranges(ranges, n, a)) {
        return 0;
    }
    return refuse(e, field, "%s %s is not in the helper's policy (%s)", what, a->text, key);
}

static int
check_instance(const struct ixd_ka_policy *p, struct ixd_ka_instance *in, size_t idx,
               struct ixd_ka_error *e)
{
    char field[160];
    size_t i, v;

    snprintf(field, sizeof(field), "instances[%zu].interface", idx);
    if (!LISTED(in->interface, p->interfaces, p->n_interfaces)) {
        return refuse(e, field, "interface %s is not in the helper's policy (interfaces)",
                      in->interface);
    }
    snprintf(field, sizeof(field), "instances[%zu].virtual_router_id", idx);
    for (v = 0; v < p->n_vrids && (in->vrid < p->vrids[v].lo || in->vrid > p->vrids[v].hi); v++) {
    }
    if (v == p->n_vrids) {
        return refuse(e, field,
                      "virtual router id %d is not in the helper's policy (virtual-router-ids)",
                      in->vrid);
    }
    snprintf(field, sizeof(field), "instances[%zu].unicast_src_ip", idx);
    if (in->has_src &&
        check_addr(e, p->peers, p->n_peers, &in->src, field, "unicast source", "peers") == -1) {
        return -1;
    }
    for (i = 0; i < in->n_peers; i++) {
        snprintf(field, sizeof(field), "instances[%zu].unicast_peer[%zu]", idx, i);
        if (check_addr(e, p->peers, p->n_peers, &in->peers[i], field, "peer", "peers") == -1) {
            return -1;
        }
    }
    for (i = 0; i < in->n_vips; i++) {
        snprintf(field, sizeof(field), "instances[%zu].virtual_ipaddress[%zu].address", idx, i);
        if (check_addr(e, p->addresses, p->n_addresses, &in->vips[i].addr, field,
                       "virtual IP (with its prefix)", "virtual-addresses") == -1) {
            return -1;
        }
        snprintf(field, sizeof(field), "instances[%zu].virtual_ipaddress[%zu].dev", idx, i);
        if (in->vips[i].dev[0] != '\0' &&
            !LISTED(in->vips[i].dev, p->interfaces, p->n_interfaces)) {
            return refuse(e, field, "interface %s is not in the helper's policy (interfaces)",
                          in->vips[i].dev);
        }
    }
    for (i = 0; i < in->n_tracks; i++) {
        snprintf(field, sizeof(field), "instances[%zu].track_script[%zu]", idx, i);
        if (!LISTED(in->tracks[i], p->tracks, p->n_tracks)) {
            return refuse(e, field, "vrrp_script %s is not in the helper's policy (track-scripts)",
                          in->tracks[i]);
        }
    }
    for (i = 0; i < IXD_KA_NOTIFY_N; i++) {
        int k = in->notify[i][0] != '\0' ? script_index(p, in->notify[i]) : 0;
        snprintf(field, sizeof(field), "instances[%zu].%s", idx,
                 ixd_ka_notify_key((enum ixd_ka_notify)i));
        if (k == -1) {
            return refuse(e, field, "%s is not a script the helper's policy allows (scripts)",
                          in->notify[i]);
        }
        if (in->notify[i][0] != '\0') {
            snprintf(in->notify_as[i], sizeof(in->notify_as[i]), "%s", p->scripts[k].as);
        }
    }
    return 0;
}

int
ixd_ka_policy_check(const struct ixd_ka_policy *policy, struct ixd_ka_model *model,
                    struct ixd_ka_error *err)
{
    char field[160];
    size_t i, k;

    memset(err, 0, sizeof(*err));
    for (i = 0; i < model->n_instances; i++) {
        if (check_instance(policy, &model->instances[i], i, err) == -1) {
            return -1;
        }
    }
    for (i = 0; i < model->n_servers; i++) {
        const struct ixd_ka_server *vs = &model->servers[i];
        snprintf(field, sizeof(field), "virtual_servers[%zu].address", i);
        if (check_addr(err, policy->addresses, policy->n_addresses, &vs->addr, field,
                       "virtual server address", "virtual-addresses") == -1) {
            return -1;
        }
        for (k = 0; k < vs->n_reals; k++) {
            snprintf(field, sizeof(field), "virtual_servers[%zu].real_servers[%zu].address", i, k);
            if (check_addr(err, policy->reals, policy->n_reals, &vs->reals[k].addr, field,
                           "real server", "real-servers") == -1) {
                return -1;
            }
        }
    }
    return 0;
}
