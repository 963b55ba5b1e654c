/*
 * keepalived over REST (docs/ha.md#keepalived-over-rest): GET /api/v1/ha/keepalived shows the
 * VRRP role the notify hook wrote, which virtual IPs this host holds and the include file ipfixd
 * owns as a model; PUT /api/v1/ha/keepalived/include replaces that file. ipfixd never writes
 * keepalived.conf: the model has no global_defs and no script definitions, only instances,
 * priorities, virtual IPs and virtual servers, and notify scripts from ha.keepalived.scripts-dir.
 * A change is checked with `keepalived -t` on a copy, backed up, renamed into place, reloaded
 * and written to the audit log. A write runs on a thread of its own (server.c), one at a time
 * under the server's apply lock, so two writes never interleave; reads go on meanwhile.
 *
 * Whoever may write the include (ipfixd's user) decides what keepalived, as root, runs: its
 * notify_* take any command. The checks here bound what the API writes, not what that user can
 * (docs/ha.md#what-manage-true-grants).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <limits.h>
#include <net/if.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "api/internal.h"
#include "core/file.h"
#include "core/log.h"
#include "core/parse.h"

#define KA_FILE_MAX (1 << 20)
#define KA_DEPTH_MAX 16
#define KA_ARGS_MAX 32
#define KA_OUT_MAX 1024

/* ---- keepalived's syntax: statements of words, some opening a block ---- */

/*
 * The statements of text as [{"w": [words], "c": [statements]}] ("c" only for blocks), or NULL
 * with why. Comments start with # or !; a word in double quotes may hold blanks. Every statement
 * has at least one word, and every word is UTF-8 (JSON strings are): a file with a word that is
 * not is refused, with its line.
 */
static json_t *
conf_parse(const char *text, size_t len, char *err, size_t errlen)
{
    json_t *stack[KA_DEPTH_MAX], *words = NULL, *last = NULL;
    const char *p = text, *end = text + len;
    int depth = 0, line = 1;

    stack[0] = json_array();
    while (p <= end) {
        char c = p < end ? *p : '\n';
        if (c == '\n' || c == '{' || c == '}') {
            if (words != NULL) {
                last = json_pack("{s:o}", "w", words);
                json_array_append_new(stack[depth], last);
                words = NULL;
            }
            if (c == '{') {
                json_t *children = json_array();
                if (last == NULL || depth + 1 >= KA_DEPTH_MAX) {
                    json_decref(children);
                    snprintf(err, errlen, "line %d: '{' without a statement before it", line);
                    goto fail;
                }
                json_object_set_new(last, "c", children);
                stack[++depth] = children;
                last = NULL;
            } else if (c == '}') {
                if (depth == 0) {
                    snprintf(err, errlen, "line %d: '}' closes no block", line);
                    goto fail;
                }
                depth--;
                last = NULL;
            } else {
                line++;
            }
            p++;
        } else if (c == ' ' || c == '\t' || c == '\r') {
            p++;
        } else if (c == '#' || c == '!') {
            while (p < end && *p != '\n') {
                p++;
            }
        } else {
            const char *start = p;
            if (c == '"') {
                start = ++p;
                while (p < end && *p != '"' && *p != '\n') {
                    p++;
                }
            } else {
                while (p < end && strchr(" \t\r\n{}", *p) == NULL) {
                    p++;
                }
            }
            json_t *w = json_stringn(start, (size_t)(p - start));
            if (w == NULL) {
                snprintf(err, errlen, "line %d: a word that is not UTF-8", line);
                goto fail;
            }
            if (words == NULL) {
                words = json_array();
            }
            json_array_append_new(words, w);
            if (c == '"' && p < end && *p == '"') {
                p++;
            }
        }
    }
    if (depth != 0) {
        snprintf(err, errlen, "a block is not closed at the end");
        goto fail;
    }
    return stack[0];
fail:
    json_decref(words);
    json_decref(stack[0]);
    return NULL;
}

static const char *
word(const json_t *st, size_t i)
{
    return json_string_value(json_array_get(json_object_get(st, "w"), i));
}

static json_int_t
word_int(const json_t *st, size_t i)
{
    const char *s = word(st, i);
    return s != NULL ? (json_int_t)strtoll(s, NULL, 10) : 0;
}

/* The first words of each statement of a block: unicast_peer, track_script and such. */
static json_t *
block_words(const json_t *st)
{
    json_t *out = json_array(), *c;
    size_t i;

    json_array_foreach(json_object_get(st, "c"), i, c)
    {
        if (word(c, 0) != NULL) {
            json_array_append_new(out, json_string(word(c, 0)));
        }
    }
    return out;
}

static json_t *
instance_model(const json_t *st, json_t *warnings)
{
    json_t *in = json_pack("{s:s}", "name", word(st, 1) != NULL ? word(st, 1) : "");
    const json_t *c;
    size_t i, k;

    json_array_foreach(json_object_get(st, "c"), i, c)
    {
        const char *key = word(c, 0);
        if (strcmp(key, "state") == 0 || strcmp(key, "interface") == 0 ||
            strcmp(key, "unicast_src_ip") == 0 || strncmp(key, "notify", 6) == 0) {
            json_object_set_new(in, key, json_string(word(c, 1) != NULL ? word(c, 1) : ""));
        } else if (strcmp(key, "virtual_router_id") == 0 || strcmp(key, "priority") == 0) {
            json_object_set_new(in, key, json_integer(word_int(c, 1)));
        } else if (strcmp(key, "advert_int") == 0) {
            json_object_set_new(in, key,
                                json_real(word(c, 1) != NULL ? strtod(word(c, 1), NULL) : 0));
        } else if (strcmp(key, "nopreempt") == 0) {
            json_object_set_new(in, key, json_true());
        } else if (strcmp(key, "unicast_peer") == 0 || strcmp(key, "track_script") == 0) {
            json_object_set_new(in, key, block_words(c));
        } else if (strcmp(key, "virtual_ipaddress") == 0) {
            json_t *vips = json_array(), *v;
            json_array_foreach(json_object_get(c, "c"), k, v)
            {
                json_t *vip = json_pack("{s:s}", "address", word(v, 0));
                if (word(v, 1) != NULL && strcmp(word(v, 1), "dev") == 0 && word(v, 2) != NULL) {
                    json_object_set_new(vip, "dev", json_string(word(v, 2)));
                }
                json_array_append_new(vips, vip);
            }
            json_object_set_new(in, key, vips);
        } else {
            json_array_append_new(
                warnings,
                json_sprintf("vrrp_instance %s: '%s' is not in ipfixd's model", word(st, 1), key));
        }
    }
    return in;
}

static json_t *
virtual_server_model(const json_t *st, json_t *warnings)
{
    json_t *vs = json_pack("{s:s, s:I, s:[]}", "address", word(st, 1) ? word(st, 1) : "", "port",
                           word_int(st, 2), "real_servers");
    const json_t *c, *rc;
    size_t i, k;

    json_array_foreach(json_object_get(st, "c"), i, c)
    {
        const char *key = word(c, 0);
        if (strcmp(key, "protocol") == 0 || strcmp(key, "lvs_sched") == 0 ||
            strcmp(key, "lb_kind") == 0) {
            json_object_set_new(vs, key, json_string(word(c, 1) ? word(c, 1) : ""));
        } else if (strcmp(key, "persistence_timeout") == 0 || strcmp(key, "delay_loop") == 0) {
            json_object_set_new(vs, key, json_integer(word_int(c, 1)));
        } else if (strcmp(key, "real_server") == 0) {
            json_t *rs = json_pack("{s:s, s:I}", "address", word(c, 1) ? word(c, 1) : "", "port",
                                   word_int(c, 2));
            json_array_foreach(json_object_get(c, "c"), k, rc)
            {
                if (strcmp(word(rc, 0), "weight") == 0) {
                    json_object_set_new(rs, "weight", json_integer(word_int(rc, 1)));
                } else if (strcmp(word(rc, 0), "TCP_CHECK") == 0) {
                    json_t *tc = json_object(), *t;
                    size_t m;
                    json_array_foreach(json_object_get(rc, "c"), m, t)
                    {
                        json_object_set_new(tc, word(t, 0), json_integer(word_int(t, 1)));
                    }
                    json_object_set_new(rs, "tcp_check", tc);
                }
            }
            json_array_append_new(json_object_get(vs, "real_servers"), rs);
        } else {
            json_array_append_new(warnings, json_sprintf("virtual_server %s %s: '%s' is not in "
                                                         "ipfixd's model",
                                                         word(st, 1), word(st, 2), key));
        }
    }
    return vs;
}

/* The include file as the model PUT takes, with warnings about what it does not cover. */
static json_t *
include_model(const struct ixd_config_keepalived *ka)
{
    json_t *model = json_pack("{s:[], s:[], s:[]}", "instances", "virtual_servers", "warnings");
    json_t *warnings = json_object_get(model, "warnings"), *tree, *st;
    char *text = NULL, err[256];
    size_t len = 0, i;

    if (ixd_read_file(ka->include, KA_FILE_MAX, &text, &len) == -1) {
        json_array_append_new(warnings,
                              json_sprintf("cannot read %s: %s", ka->include, strerror(errno)));
        return model;
    }
    tree = conf_parse(text, len, err, sizeof(err));
    free(text);
    if (tree == NULL) {
        json_array_append_new(warnings, json_sprintf("%s: %s", ka->include, err));
        return model;
    }
    json_array_foreach(tree, i, st)
    {
        const char *key = word(st, 0);
        if (strcmp(key, "vrrp_instance") == 0) {
            json_array_append_new(json_object_get(model, "instances"),
                                  instance_model(st, warnings));
        } else if (strcmp(key, "virtual_server") == 0) {
            json_array_append_new(json_object_get(model, "virtual_servers"),
                                  virtual_server_model(st, warnings));
        } else {
            json_array_append_new(
                warnings, json_sprintf("'%s' is not in ipfixd's model: a PUT drops it", key));
        }
    }
    json_decref(tree);
    return model;
}

/* ---- state: the role the notify hook wrote and the virtual IPs held ---- */

/* "role=MASTER since=1700000000 host=a" (deploy/keepalived/ipfixd-notify.sh). */
static void
add_role(const struct ixd_config_keepalived *ka, json_t *out)
{
    char *text = NULL, role[32] = "", host[256] = "";
    long long since = 0;
    size_t len = 0;
    const char *p;

    json_object_set_new(out, "role", json_null());
    json_object_set_new(out, "since", json_null());
    if (ka->state_file[0] == '\0' || ixd_read_file(ka->state_file, 4096, &text, &len) == -1) {
        return;
    }
    if ((p = strstr(text, "role=")) != NULL) {
        sscanf(p, "role=%31[A-Z]", role);
    }
    if ((p = strstr(text, "since=")) != NULL) {
        sscanf(p, "since=%lld", &since);
    }
    if ((p = strstr(text, "host=")) != NULL) {
        sscanf(p, "host=%255s", host);
    }
    free(text);
    if (role[0] != '\0') {
        json_object_set_new(out, "role", json_string(role));
    }
    if (since > 0) {
        json_object_set_new(out, "since", api_time((int64_t)since * 1000000));
    }
    if (host[0] != '\0') {
        json_object_set_new(out, "host", json_string(host));
    }
}

/* The interface holding address (no prefix), or NULL. */
static const char *
holder(const struct ifaddrs *ifs, const char *address)
{
    unsigned char want[16];
    char a[INET6_ADDRSTRLEN + 8];
    const struct ifaddrs *i;
    int v6 = strchr(address, ':') != NULL;

    snprintf(a, sizeof(a), "%s", address);
    a[strcspn(a, "/")] = '\0';
    if (inet_pton(v6 ? AF_INET6 : AF_INET, a, want) != 1) {
        return NULL;
    }
    for (i = ifs; i != NULL; i = i->ifa_next) {
        const struct sockaddr *sa = i->ifa_addr;
        if (sa == NULL || sa->sa_family != (v6 ? AF_INET6 : AF_INET)) {
            continue;
        }
        if (!v6 &&
            memcmp(&((const struct sockaddr_in *)(const void *)sa)->sin_addr, want, 4) == 0) {
            return i->ifa_name;
        }
        if (v6 &&
            memcmp(&((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr, want, 16) == 0) {
            return i->ifa_name;
        }
    }
    return NULL;
}

/*
 * Each configured virtual IP and whether an interface of this host holds it. getifaddrs needs
 * a netlink socket: where that is refused (RestrictAddressFamilies without AF_NETLINK), held is
 * null and a warning says why, rather than a false "not held".
 */
static json_t *
vips_held(const json_t *model, json_t *warnings)
{
    json_t *out = json_array(), *in, *vip;
    struct ifaddrs *ifs = NULL;
    int known = 1;
    size_t i, k;

    if (getifaddrs(&ifs) == -1) {
        json_array_append_new(warnings, json_sprintf("cannot list this host's addresses (%s): "
                                                     "the unit needs AF_NETLINK in "
                                                     "RestrictAddressFamilies (docs/ha.md)",
                                                     strerror(errno)));
        ifs = NULL;
        known = 0;
    }
    json_array_foreach(json_object_get(model, "instances"), i, in)
    {
        json_array_foreach(json_object_get(in, "virtual_ipaddress"), k, vip)
        {
            const char *address = json_string_value(json_object_get(vip, "address"));
            const char *on = address != NULL ? holder(ifs, address) : NULL;
            json_array_append_new(
                out, json_pack("{s:O, s:s, s:o, s:s*}", "instance", json_object_get(in, "name"),
                               "address", address ? address : "", "held",
                               known ? json_boolean(on != NULL) : json_null(), "interface", on));
        }
    }
    if (ifs != NULL) {
        freeifaddrs(ifs);
    }
    return out;
}

/* ---- the model as PUT takes it: checked field by field, then written as keepalived text ---- */

struct render {
    FILE *f;
    const struct ixd_config_keepalived *ka;
    char field[128]; /* the field at fault, as a JSON path */
    char why[384];
};

static int __attribute__((format(printf, 3, 4)))
bad(struct render *rd, const char *field, const char *fmt, ...)
{
    va_list ap;

    snprintf(rd->field, sizeof(rd->field), "%s", field);
    va_start(ap, fmt);
    vsnprintf(rd->why, sizeof(rd->why), fmt, ap);
    va_end(ap);
    return -1;
}

static int
is_name(const char *s, size_t max)
{
    size_t n = s != NULL ? strlen(s) : 0;

    return n > 0 && n <= max &&
           strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                     "0123456789_.-") == n;
}

/* An address, with a prefix length when prefix_ok ("10.0.0.1/24", "2001:db8::1/64"). */
static int
is_ip(const char *s, int prefix_ok)
{
    char a[INET6_ADDRSTRLEN + 8];
    unsigned char buf[16];
    const char *slash;
    int v6;

    if (s == NULL || strlen(s) >= sizeof(a)) {
        return 0;
    }
    snprintf(a, sizeof(a), "%s", s);
    slash = strchr(s, '/');
    a[strcspn(a, "/")] = '\0';
    v6 = strchr(a, ':') != NULL;
    if (inet_pton(v6 ? AF_INET6 : AF_INET, a, buf) != 1) {
        return 0;
    }
    if (slash != NULL) {
        /* digits only: strtol would take blanks (a newline into the rendered file) and a sign */
        size_t digits = strspn(slash + 1, "0123456789");
        long plen = digits >= 1 && digits <= 3 ? strtol(slash + 1, NULL, 10) : -1;
        return prefix_ok && slash[1 + digits] == '\0' && plen >= 0 && plen <= (v6 ? 128 : 32);
    }
    return 1;
}

static int
get_int(struct render *rd, const json_t *o, const char *key, const char *field, json_int_t min,
        json_int_t max, int required, json_int_t *out)
{
    const json_t *v = json_object_get(o, key);

    if (v == NULL && !required) {
        return 0;
    }
    if (!json_is_integer(v) || json_integer_value(v) < min || json_integer_value(v) > max) {
        return bad(rd, field, "must be an integer from %lld to %lld", (long long)min,
                   (long long)max);
    }
    *out = json_integer_value(v);
    return 1;
}

/* Only keys from known (NULL-terminated) may be in o. */
static int
only_keys(struct render *rd, const json_t *o, const char *at, const char *const *known)
{
    const char *key;
    json_t *v;
    char field[128];

    json_object_foreach((json_t *)o, key, v)
    {
        size_t i;
        for (i = 0; known[i] != NULL && strcmp(known[i], key) != 0; i++) {
        }
        if (known[i] == NULL) {
            snprintf(field, sizeof(field), "%s%s%s", at, at[0] != '\0' ? "." : "", key);
            if (strcmp(key, "global_defs") == 0 || strcmp(key, "vrrp_script") == 0 ||
                strcmp(key, "script") == 0 || strcmp(key, "include") == 0) {
                return bad(
                    rd, field,
                    "%s stays in keepalived.conf: ipfixd manages only instances (priorities, "
                    "virtual IPs) and virtual servers",
                    key);
            }
            return bad(rd, field, "is not part of the model (known here: see docs/api.md)");
        }
    }
    return 0;
}

/*
 * A notify script: a file of scripts-dir and the one argument its key implies, so that the API
 * can neither make keepalived (root) run something an API client put elsewhere nor hand the
 * script an argument of the client's (a file for the shipped hook to write, say).
 * notify_master takes "SCRIPT MASTER", and so on for BACKUP, FAULT and STOP; notify takes
 * "SCRIPT" alone, since keepalived appends its own four (INSTANCE|GROUP, name, state,
 * priority).
 */
static int
check_script(struct render *rd, const char *key, const char *s, const char *field)
{
    const char *dir = rd->ka->scripts_dir, *arg;
    size_t dlen = strlen(dir), plen, i;
    char role[16] = "";

    if (s == NULL || s[0] == '\0') {
        return bad(rd, field, "must be a string: the script and its argument");
    }
    if (dlen == 0) {
        return bad(rd, field,
                   "notify scripts are not allowed: ha.keepalived.scripts-dir is not configured");
    }
    plen = strcspn(s, " ");
    if (strncmp(s, dir, dlen) != 0 || (s[dlen] != '/' && dir[dlen - 1] != '/') ||
        plen <= dlen + 1 || strstr(s, "/..") != NULL ||
        strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_./-") < plen) {
        return bad(rd, field, "'%.160s' is not a script in %.160s (the allow-listed scripts-dir)",
                   s, dir);
    }
    /* "notify_master" -> "MASTER" */
    for (i = 0; key[6] == '_' && key[7 + i] != '\0' && i + 1 < sizeof(role); i++) {
        role[i] = (char)(key[7 + i] - 'a' + 'A');
    }
    arg = s + plen;
    if (role[0] == '\0' && arg[0] != '\0') {
        return bad(rd, field,
                   "takes the script alone: keepalived appends its own arguments (instance, "
                   "name, state, priority)");
    }
    if (role[0] != '\0' && (arg[0] != ' ' || strcmp(arg + 1, role) != 0)) {
        return bad(rd, field, "takes the script and one argument, %s, and nothing else", role);
    }
    return 0;
}

static int
render_instance(struct render *rd, const json_t *in, size_t idx, json_t *names)
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
    static const char *const notifies[] = {"notify_master", "notify_backup", "notify_fault",
                                           "notify_stop",   "notify",        NULL};
    char at[64], field[128];
    const char *name, *state, *iface, *s;
    json_int_t vrid = 0, prio = 0;
    const json_t *v, *list;
    size_t i;

    snprintf(at, sizeof(at), "instances[%zu]", idx);
    if (!json_is_object(in)) {
        return bad(rd, at, "must be an object");
    }
    if (only_keys(rd, in, at, known) == -1) {
        return -1;
    }
    name = json_string_value(json_object_get(in, "name"));
    snprintf(field, sizeof(field), "%s.name", at);
    if (!is_name(name, 64)) {
        return bad(rd, field, "must be 1 to 64 of A-Z a-z 0-9 _ . -");
    }
    if (json_object_get(names, name) != NULL) {
        return bad(rd, field, "'%s' names two instances", name);
    }
    json_object_set_new(names, name, json_true());
    state = json_string_value(json_object_get(in, "state"));
    snprintf(field, sizeof(field), "%s.state", at);
    if (json_object_get(in, "state") != NULL &&
        (state == NULL || (strcmp(state, "MASTER") != 0 && strcmp(state, "BACKUP") != 0))) {
        return bad(rd, field, "must be MASTER or BACKUP");
    }
    iface = json_string_value(json_object_get(in, "interface"));
    snprintf(field, sizeof(field), "%s.interface", at);
    if (!is_name(iface, IF_NAMESIZE - 1)) {
        return bad(rd, field, "must be an interface name");
    }
    snprintf(field, sizeof(field), "%s.virtual_router_id", at);
    if (get_int(rd, in, "virtual_router_id", field, 1, 255, 1, &vrid) == -1) {
        return -1;
    }
    snprintf(field, sizeof(field), "%s.priority", at);
    if (get_int(rd, in, "priority", field, 1, 254, 1, &prio) == -1) {
        return -1;
    }
    fprintf(rd->f, "vrrp_instance %s {\n    state %s\n    interface %s\n", name,
            state != NULL ? state : "BACKUP", iface);
    fprintf(rd->f, "    virtual_router_id %lld\n    priority %lld\n", (long long)vrid,
            (long long)prio);
    if ((v = json_object_get(in, "advert_int")) != NULL) {
        snprintf(field, sizeof(field), "%s.advert_int", at);
        if (!json_is_number(v) || json_number_value(v) < 0.01 || json_number_value(v) > 255) {
            return bad(rd, field, "must be a number of seconds from 0.01 to 255");
        }
        fprintf(rd->f, "    advert_int %g\n", json_number_value(v));
    }
    if ((v = json_object_get(in, "nopreempt")) != NULL) {
        snprintf(field, sizeof(field), "%s.nopreempt", at);
        if (!json_is_boolean(v)) {
            return bad(rd, field, "must be true or false");
        }
        if (json_is_true(v)) {
            fprintf(rd->f, "    nopreempt\n");
        }
    }
    if ((v = json_object_get(in, "unicast_src_ip")) != NULL) {
        snprintf(field, sizeof(field), "%s.unicast_src_ip", at);
        if (!is_ip(json_string_value(v), 0)) {
            return bad(rd, field, "must be an IP address");
        }
        fprintf(rd->f, "    unicast_src_ip %s\n", json_string_value(v));
    }
    if ((list = json_object_get(in, "unicast_peer")) != NULL) {
        snprintf(field, sizeof(field), "%s.unicast_peer", at);
        if (!json_is_array(list)) {
            return bad(rd, field, "must be a list of IP addresses");
        }
        fprintf(rd->f, "    unicast_peer {\n");
        json_array_foreach(list, i, v)
        {
            snprintf(field, sizeof(field), "%s.unicast_peer[%zu]", at, i);
            if (!is_ip(json_string_value(v), 0)) {
                return bad(rd, field, "must be an IP address");
            }
            fprintf(rd->f, "        %s\n", json_string_value(v));
        }
        fprintf(rd->f, "    }\n");
    }
    list = json_object_get(in, "virtual_ipaddress");
    snprintf(field, sizeof(field), "%s.virtual_ipaddress", at);
    if (!json_is_array(list) || json_array_size(list) == 0 || json_array_size(list) > 64) {
        return bad(rd, field, "must be a list of 1 to 64 {address, dev}");
    }
    fprintf(rd->f, "    virtual_ipaddress {\n");
    json_array_foreach(list, i, v)
    {
        static const char *const vip_keys[] = {"address", "dev", NULL};
        const char *dev = json_string_value(json_object_get(v, "dev"));
        snprintf(field, sizeof(field), "%s.virtual_ipaddress[%zu]", at, i);
        if (!json_is_object(v) || only_keys(rd, v, field, vip_keys) == -1) {
            return rd->why[0] ? -1 : bad(rd, field, "must be an object {address, dev}");
        }
        snprintf(field, sizeof(field), "%s.virtual_ipaddress[%zu].address", at, i);
        s = json_string_value(json_object_get(v, "address"));
        if (!is_ip(s, 1)) {
            return bad(rd, field, "'%s' is not an IP address (with an optional /prefix)",
                       s != NULL ? s : "(not a string)");
        }
        snprintf(field, sizeof(field), "%s.virtual_ipaddress[%zu].dev", at, i);
        if (json_object_get(v, "dev") != NULL && !is_name(dev, IF_NAMESIZE - 1)) {
            return bad(rd, field, "must be an interface name");
        }
        fprintf(rd->f, "        %s%s%s\n", s, dev != NULL ? " dev " : "", dev != NULL ? dev : "");
    }
    fprintf(rd->f, "    }\n");
    if ((list = json_object_get(in, "track_script")) != NULL) {
        snprintf(field, sizeof(field), "%s.track_script", at);
        if (!json_is_array(list)) {
            return bad(rd, field, "must be a list of vrrp_script names from keepalived.conf");
        }
        fprintf(rd->f, "    track_script {\n");
        json_array_foreach(list, i, v)
        {
            snprintf(field, sizeof(field), "%s.track_script[%zu]", at, i);
            if (!is_name(json_string_value(v), 64)) {
                return bad(rd, field,
                           "must name a vrrp_script of keepalived.conf, not define or run one");
            }
            fprintf(rd->f, "        %s\n", json_string_value(v));
        }
        fprintf(rd->f, "    }\n");
    }
    for (i = 0; notifies[i] != NULL; i++) {
        if ((v = json_object_get(in, notifies[i])) == NULL) {
            continue;
        }
        snprintf(field, sizeof(field), "%s.%s", at, notifies[i]);
        if (check_script(rd, notifies[i], json_string_value(v), field) == -1) {
            return -1;
        }
        fprintf(rd->f, "    %s \"%s\"\n", notifies[i], json_string_value(v));
    }
    fprintf(rd->f, "}\n\n");
    return 0;
}

static int
pick(struct render *rd, const json_t *o, const char *key, const char *field,
     const char *const *allowed, const char **out)
{
    const char *s = json_string_value(json_object_get(o, key));
    size_t i;

    *out = NULL;
    if (json_object_get(o, key) == NULL) {
        return 0;
    }
    for (i = 0; s != NULL && allowed[i] != NULL; i++) {
        if (strcmp(s, allowed[i]) == 0) {
            *out = allowed[i];
            return 0;
        }
    }
    return bad(rd, field, "must be one of %s%s%s%s", allowed[0], allowed[1] ? ", " : "",
               allowed[1] ? allowed[1] : "", allowed[2] ? ", ..." : "");
}

static int
render_virtual_server(struct render *rd, const json_t *vs, size_t idx)
{
    static const char *const known[] = {"address",    "port",         "protocol",
                                        "lvs_sched",  "lb_kind",      "persistence_timeout",
                                        "delay_loop", "real_servers", NULL};
    static const char *const rs_known[] = {"address", "port", "weight", "tcp_check", NULL};
    static const char *const protocols[] = {"TCP", "UDP", "SCTP", NULL};
    static const char *const scheds[] = {"rr", "wrr", "lc",  "wlc", "lblc", "lblcr",
                                         "sh", "dh",  "sed", "nq",  "mh",   NULL};
    static const char *const kinds[] = {"NAT", "DR", "TUN", NULL};
    char at[64], field[160];
    const char *address, *proto, *sched, *kind;
    json_int_t port = 0, n = 0;
    const json_t *rs, *list;
    size_t i;

    snprintf(at, sizeof(at), "virtual_servers[%zu]", idx);
    if (!json_is_object(vs) || only_keys(rd, vs, at, known) == -1) {
        return rd->why[0] ? -1 : bad(rd, at, "must be an object");
    }
    address = json_string_value(json_object_get(vs, "address"));
    snprintf(field, sizeof(field), "%s.address", at);
    if (!is_ip(address, 0)) {
        return bad(rd, field, "must be an IP address");
    }
    snprintf(field, sizeof(field), "%s.port", at);
    if (get_int(rd, vs, "port", field, 1, 65535, 1, &port) == -1) {
        return -1;
    }
    fprintf(rd->f, "virtual_server %s %lld {\n", address, (long long)port);
    snprintf(field, sizeof(field), "%s.protocol", at);
    if (pick(rd, vs, "protocol", field, protocols, &proto) == -1) {
        return -1;
    }
    fprintf(rd->f, "    protocol %s\n", proto != NULL ? proto : "UDP");
    snprintf(field, sizeof(field), "%s.lvs_sched", at);
    if (pick(rd, vs, "lvs_sched", field, scheds, &sched) == -1) {
        return -1;
    }
    fprintf(rd->f, "    lvs_sched %s\n", sched != NULL ? sched : "rr");
    snprintf(field, sizeof(field), "%s.lb_kind", at);
    if (pick(rd, vs, "lb_kind", field, kinds, &kind) == -1) {
        return -1;
    }
    fprintf(rd->f, "    lb_kind %s\n", kind != NULL ? kind : "DR");
    snprintf(field, sizeof(field), "%s.persistence_timeout", at);
    if (get_int(rd, vs, "persistence_timeout", field, 1, 2678400, 0, &n) == -1) {
        return -1;
    }
    if (n > 0) {
        fprintf(rd->f, "    persistence_timeout %lld\n", (long long)n);
    }
    n = 0;
    snprintf(field, sizeof(field), "%s.delay_loop", at);
    if (get_int(rd, vs, "delay_loop", field, 1, 3600, 0, &n) == -1) {
        return -1;
    }
    if (n > 0) {
        fprintf(rd->f, "    delay_loop %lld\n", (long long)n);
    }
    list = json_object_get(vs, "real_servers");
    snprintf(field, sizeof(field), "%s.real_servers", at);
    if (list != NULL && !json_is_array(list)) {
        return bad(rd, field, "must be a list of {address, port, weight, tcp_check}");
    }
    json_array_foreach(list, i, rs)
    {
        static const char *const tc_known[] = {"connect_timeout", "connect_port", NULL};
        const json_t *tc = json_object_get(rs, "tcp_check");
        json_int_t rport = 0, weight = 1, t = 0;
        snprintf(field, sizeof(field), "%s.real_servers[%zu]", at, i);
        if (!json_is_object(rs) || only_keys(rd, rs, field, rs_known) == -1) {
            return rd->why[0] ? -1 : bad(rd, field, "must be an object");
        }
        snprintf(field, sizeof(field), "%s.real_servers[%zu].address", at, i);
        address = json_string_value(json_object_get(rs, "address"));
        if (!is_ip(address, 0)) {
            return bad(rd, field, "must be an IP address");
        }
        snprintf(field, sizeof(field), "%s.real_servers[%zu].port", at, i);
        if (get_int(rd, rs, "port", field, 1, 65535, 1, &rport) == -1) {
            return -1;
        }
        snprintf(field, sizeof(field), "%s.real_servers[%zu].weight", at, i);
        if (get_int(rd, rs, "weight", field, 0, 65535, 0, &weight) == -1) {
            return -1;
        }
        fprintf(rd->f, "    real_server %s %lld {\n        weight %lld\n", address,
                (long long)rport, (long long)weight);
        if (tc != NULL) {
            snprintf(field, sizeof(field), "%s.real_servers[%zu].tcp_check", at, i);
            if (!json_is_object(tc) || only_keys(rd, tc, field, tc_known) == -1) {
                return rd->why[0] ? -1 : bad(rd, field, "must be an object");
            }
            fprintf(rd->f, "        TCP_CHECK {\n");
            snprintf(field, sizeof(field), "%s.real_servers[%zu].tcp_check.connect_timeout", at, i);
            if (get_int(rd, tc, "connect_timeout", field, 1, 3600, 0, &t) == 1) {
                fprintf(rd->f, "            connect_timeout %lld\n", (long long)t);
            } else if (rd->why[0]) {
                return -1;
            }
            snprintf(field, sizeof(field), "%s.real_servers[%zu].tcp_check.connect_port", at, i);
            if (get_int(rd, tc, "connect_port", field, 1, 65535, 0, &t) == 1) {
                fprintf(rd->f, "            connect_port %lld\n", (long long)t);
            } else if (rd->why[0]) {
                return -1;
            }
            fprintf(rd->f, "        }\n");
        }
        fprintf(rd->f, "    }\n");
    }
    fprintf(rd->f, "}\n\n");
    return 0;
}

/* The include file of model, or NULL with rd->field and rd->why. The caller frees it. */
static char *
render_model(struct render *rd, const json_t *model)
{
    static const char *const known[] = {"instances", "virtual_servers", "warnings", "_links", NULL};
    const json_t *list, *v;
    json_t *names = json_object();
    char *text = NULL;
    size_t len = 0, i;
    int rc = -1;

    rd->f = open_memstream(&text, &len);
    if (rd->f == NULL) {
        json_decref(names);
        bad(rd, "", "out of memory");
        return NULL;
    }
    fprintf(rd->f, "# Written by ipfixd (PUT /api/v1/ha/keepalived/include, docs/ha.md): edits "
                   "here are replaced\n# by the next change through the API.\n\n");
    if (!json_is_object(model)) {
        bad(rd, "", "the body must be a JSON object {instances, virtual_servers}");
        goto out;
    }
    if (only_keys(rd, model, "", known) == -1) {
        goto out;
    }
    list = json_object_get(model, "instances");
    if (!json_is_array(list) || json_array_size(list) > 64) {
        bad(rd, "instances", "must be a list of at most 64 VRRP instances");
        goto out;
    }
    json_array_foreach(list, i, v)
    {
        if (render_instance(rd, v, i, names) == -1) {
            goto out;
        }
    }
    list = json_object_get(model, "virtual_servers");
    if (list != NULL && (!json_is_array(list) || json_array_size(list) > 64)) {
        bad(rd, "virtual_servers", "must be a list of at most 64 virtual servers");
        goto out;
    }
    json_array_foreach(list, i, v)
    {
        if (render_virtual_server(rd, v, i) == -1) {
            goto out;
        }
    }
    rc = 0;
out:
    fclose(rd->f);
    json_decref(names);
    if (rc == -1) {
        free(text);
        return NULL;
    }
    return text;
}

/* ---- commands: keepalived -t and the reload, without a shell ---- */

/* Splits words (blanks between) into argv, after the words of extra. */
static int
split_words(char *words, char **argv, int max)
{
    int n = 0;
    char *save = NULL, *w;

    for (w = strtok_r(words, " \t", &save); w != NULL && n < max - 1;
         w = strtok_r(NULL, " \t", &save)) {
        argv[n++] = w;
    }
    argv[n] = NULL;
    return n;
}

/*
 * Runs argv with stdout and stderr into out, for at most timeout seconds: its exit status, or -1
 * (why in out) when it could not run, was killed or took too long.
 */
static int
run(char *const *argv, unsigned timeout, char *out, size_t outlen)
{
    struct timespec now, deadline;
    size_t used = 0;
    int fds[2], status = 0, devnull;
    pid_t pid, rc;

    out[0] = '\0';
    if (pipe2(fds, O_CLOEXEC) == -1) {
        snprintf(out, outlen, "pipe: %s", strerror(errno));
        return -1;
    }
    devnull = open("/dev/null", O_RDONLY | O_CLOEXEC);
    pid = fork();
    if (pid == 0) {
        sigset_t none;
        /* the server thread runs with signals blocked; the command must not inherit that */
        sigemptyset(&none);
        pthread_sigmask(SIG_SETMASK, &none, NULL);
        dup2(devnull, 0);
        dup2(fds[1], 1);
        dup2(fds[1], 2);
        execvp(argv[0], argv);
        _exit(127);
    }
    close(fds[1]);
    if (devnull != -1) {
        close(devnull);
    }
    if (pid == -1) {
        close(fds[0]);
        snprintf(out, outlen, "fork: %s", strerror(errno));
        return -1;
    }
    clock_gettime(CLOCK_MONOTONIC, &deadline);
    deadline.tv_sec += timeout;
    for (;;) {
        struct pollfd pfd = {fds[0], POLLIN, 0};
        char buf[512];
        ssize_t n;
        long ms;
        clock_gettime(CLOCK_MONOTONIC, &now);
        ms = (deadline.tv_sec - now.tv_sec) * 1000 + (deadline.tv_nsec - now.tv_nsec) / 1000000;
        if (ms <= 0 || poll(&pfd, 1, (int)ms) == 0) {
            kill(pid, SIGKILL);
            waitpid(pid, NULL, 0);
            close(fds[0]);
            snprintf(out, outlen, "%s took longer than %u s and was killed", argv[0], timeout);
            return -1;
        }
        n = read(fds[0], buf, sizeof(buf));
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            break;
        }
        if (used + 1 < outlen) {
            size_t take = (size_t)n < outlen - 1 - used ? (size_t)n : outlen - 1 - used;
            memcpy(out + used, buf, take);
            used += take;
            out[used] = '\0';
        }
    }
    close(fds[0]);
    do {
        rc = waitpid(pid, &status, 0);
    } while (rc == -1 && errno == EINTR);
    if (rc == -1) {
        /* reaped by someone else (a waitpid(-1) elsewhere): its verdict is unknown, not 0 */
        snprintf(out, outlen, "cannot read the exit status of %s: %s", argv[0], strerror(errno));
        return -1;
    }
    while (used > 0 && (out[used - 1] == '\n' || out[used - 1] == ' ')) {
        out[--used] = '\0';
    }
    if (WIFEXITED(status) && WEXITSTATUS(status) == 127 && used == 0) {
        snprintf(out, outlen, "cannot run %s", argv[0]);
    }
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/*
 * Writes len bytes of text to the new file fd (path), durably, and closes it; on failure the
 * file is removed. 0, or -1 with errno.
 */
static int
write_new(int fd, const char *path, const char *text, size_t len)
{
    int saved;

    if (ixd_file_write_all(fd, text, len) == 0 && fsync(fd) == 0 && close(fd) == 0) {
        return 0;
    }
    saved = errno;
    close(fd);
    unlink(path);
    errno = saved;
    return -1;
}

static void
dir_of(const char *path, char *dir, size_t dirlen)
{
    const char *slash = strrchr(path, '/');
    size_t n = slash != NULL && slash != path ? (size_t)(slash - path) : 1;

    snprintf(dir, dirlen, "%.*s", (int)n, path);
}

/*
 * keepalived -t on the main config with the new include in place of the old: both copies go
 * next to the include (ipfixd may write there; keepalived.conf's directory is root's), under
 * names of ixd_file_create (random, O_EXCL|O_NOFOLLOW: a leftover or a planted symlink is never
 * written through). 0, or -1 with keepalived's words in out.
 */
static int
check_with_keepalived(const struct ixd_config_keepalived *ka, const char *main_text,
                      const char *include_text, char *out, size_t outlen)
{
    char dir[IXD_PATH_MAX], prefix[IXD_PATH_MAX + 16];
    char tmp_inc[IXD_PATH_MAX + 32], tmp_main[IXD_PATH_MAX + 32];
    char bin[sizeof(ka->bin)], *argv[KA_ARGS_MAX];
    const char *at, *p = main_text;
    FILE *f = NULL;
    int n, rc, fd;

    dir_of(ka->include, dir, sizeof(dir));
    snprintf(prefix, sizeof(prefix), "%s/.ipfixd-check-", dir);
    tmp_main[0] = '\0';
    fd = ixd_file_create(prefix, 0644, tmp_inc, sizeof(tmp_inc));
    if (fd == -1 || write_new(fd, tmp_inc, include_text, strlen(include_text)) == -1) {
        snprintf(out, outlen, "cannot write the copy to check in %.512s: %s", dir, strerror(errno));
        return -1;
    }
    fd = ixd_file_create(prefix, 0644, tmp_main, sizeof(tmp_main));
    if (fd == -1 || (f = fdopen(fd, "w")) == NULL) {
        snprintf(out, outlen, "cannot write the copy to check in %.512s: %s", dir, strerror(errno));
        if (fd != -1) {
            close(fd);
            unlink(tmp_main);
        }
        unlink(tmp_inc);
        return -1;
    }
    /* the main config as it is, but including the new file */
    while ((at = strstr(p, ka->include)) != NULL) {
        fwrite(p, 1, (size_t)(at - p), f);
        fputs(tmp_inc, f);
        p = at + strlen(ka->include);
    }
    fputs(p, f);
    if (fclose(f) != 0) {
        snprintf(out, outlen, "cannot write the copy to check in %.512s: %s", dir, strerror(errno));
        unlink(tmp_inc);
        unlink(tmp_main);
        return -1;
    }
    snprintf(bin, sizeof(bin), "%s", ka->bin);
    n = split_words(bin, argv, KA_ARGS_MAX - 3);
    argv[n++] = "-t";
    argv[n++] = "-f";
    argv[n++] = tmp_main;
    argv[n] = NULL;
    rc = run(argv, ka->check_timeout, out, outlen);
    unlink(tmp_inc);
    unlink(tmp_main);
    if (rc != 0 && out[0] == '\0') {
        snprintf(out, outlen, "%s -t exited with %d", ka->bin, rc);
    }
    return rc == 0 ? 0 : -1;
}

static int
reload(const struct ixd_config_keepalived *ka, char *out, size_t outlen)
{
    char words[sizeof(ka->reload)], *argv[KA_ARGS_MAX], *text = NULL;
    size_t len = 0;
    long pid;
    int rc;

    out[0] = '\0';
    if (ka->reload[0] != '\0') {
        snprintf(words, sizeof(words), "%s", ka->reload);
        split_words(words, argv, KA_ARGS_MAX);
        rc = run(argv, ka->check_timeout, out, outlen);
        if (rc != 0 && out[0] == '\0') {
            snprintf(out, outlen, "'%s' exited with %d", ka->reload, rc);
        }
        return rc == 0 ? 0 : -1;
    }
    if (ixd_read_file(ka->reload_pid_file, 64, &text, &len) == -1) {
        snprintf(out, outlen, "cannot read %.512s: %s", ka->reload_pid_file, strerror(errno));
        return -1;
    }
    pid = strtol(text, NULL, 10);
    free(text);
    if (pid <= 1 || kill((pid_t)pid, SIGHUP) == -1) {
        snprintf(out, outlen, "cannot send SIGHUP to pid %ld of %.512s: %s", pid,
                 ka->reload_pid_file, pid <= 1 ? "not a pid" : strerror(errno));
        return -1;
    }
    return 0;
}

/*
 * Copies the include as it is to backup-dir/NAME.TIMESTAMP, a new file (O_EXCL|O_NOFOLLOW:
 * never through a symlink or over an older backup); "" in path when there was none.
 */
static int
backup(const struct ixd_config_keepalived *ka, int64_t now_usec, char *path, size_t pathlen)
{
    const char *base = strrchr(ka->include, '/') + 1;
    time_t secs = (time_t)(now_usec / 1000000);
    char *text = NULL, stamp[32];
    size_t len = 0;
    struct tm tm;
    int rc = -1, fd;

    path[0] = '\0';
    if (ixd_read_file(ka->include, KA_FILE_MAX, &text, &len) == -1) {
        return errno == ENOENT ? 0 : -1;
    }
    gmtime_r(&secs, &tm);
    strftime(stamp, sizeof(stamp), "%Y%m%dT%H%M%S", &tm);
    snprintf(path, pathlen, "%s/%s.%s.%06lldZ", ka->backup_dir, base, stamp,
             (long long)(now_usec % 1000000));
    fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
    if (fd != -1) {
        rc = write_new(fd, path, text, len);
    }
    free(text);
    return rc;
}

/* One JSON line per change asked for, whatever came of it. */
static void
audit(const struct api_ctx *ctx, int fd, const json_t *summary, int status, const char *result,
      const char *detail, const char *backup_path)
{
    json_t *line =
        json_pack("{s:o, s:s, s:s, s:s, s:s, s:s, s:s, s:O*, s:i, s:s, s:s*, s:s*}", "time",
                  api_time(ctx->now_usec), "subject", ctx->who != NULL ? ctx->who->name : "",
                  "credential", ctx->who != NULL && ctx->who->kind != NULL ? ctx->who->kind : "",
                  "role", ctx->who != NULL ? ixd_config_api_role_name(ctx->who->role) : "none",
                  "client", ctx->client != NULL ? ctx->client : "?", "method", ctx->method, "path",
                  ctx->path, "change", summary, "status", status, "result", result, "detail",
                  detail != NULL && detail[0] != '\0' ? detail : NULL, "backup",
                  backup_path != NULL && backup_path[0] != '\0' ? backup_path : NULL);
    char *text = line != NULL ? json_dumps(line, JSON_COMPACT) : NULL;

    if (text == NULL || dprintf(fd, "%s\n", text) < 0) {
        log_warn("api: cannot write the keepalived audit log %s", ctx->keepalived->audit_log);
    }
    free(text);
    json_decref(line);
}

/* What a change is about, for the audit log: instances with priority and VIPs, servers. */
static json_t *
summary_of(const json_t *model)
{
    json_t *out = json_pack("{s:[], s:[]}", "instances", "virtual_servers"), *v, *vip;
    size_t i, k;

    json_array_foreach(json_object_get(model, "instances"), i, v)
    {
        json_t *vips = json_array();
        json_array_foreach(json_object_get(v, "virtual_ipaddress"), k, vip)
        {
            json_array_append(vips, json_object_get(vip, "address"));
        }
        json_array_append_new(json_object_get(out, "instances"),
                              json_pack("{s:O?, s:O?, s:o}", "name", json_object_get(v, "name"),
                                        "priority", json_object_get(v, "priority"),
                                        "virtual_ipaddress", vips));
    }
    json_array_foreach(json_object_get(model, "virtual_servers"), i, v)
    {
        json_array_append_new(json_object_get(out, "virtual_servers"),
                              json_pack("{s:O?, s:O?}", "address", json_object_get(v, "address"),
                                        "port", json_object_get(v, "port")));
    }
    return out;
}

static int
put_include(const struct api_ctx *ctx, struct api_reply *r)
{
    const struct ixd_config_keepalived *ka = ctx->keepalived;
    char out[KA_OUT_MAX], backup_path[IXD_PATH_MAX + 64] = "", *main_text = NULL, *text;
    struct render rd;
    json_error_t jerr;
    json_t *model, *summary = NULL;
    size_t main_len = 0;
    int fd;

    if (!ka->manage) {
        return api_problem(ctx, r, 409,
                           "ha.keepalived.manage is false: keepalived's config is read-only "
                           "through the API (docs/ha.md#keepalived-over-rest)");
    }
    /* no audit trail, no change */
    fd = open(ka->audit_log, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
    if (fd == -1) {
        return api_problem(ctx, r, 500, "cannot open the audit log %s: %s; nothing changed",
                           ka->audit_log, strerror(errno));
    }
    model = json_loadb(ctx->body, ctx->body_len, JSON_REJECT_DUPLICATES, &jerr);
    if (model == NULL) {
        api_problem(ctx, r, 400, "the body is not JSON: %s (line %d)", jerr.text, jerr.line);
        audit(ctx, fd, NULL, 400, "refused", json_string_value(json_object_get(r->json, "detail")),
              NULL);
        close(fd);
        return 0;
    }
    summary = summary_of(model);
    memset(&rd, 0, sizeof(rd));
    rd.ka = ka;
    text = render_model(&rd, model);
    json_decref(model);
    if (text == NULL) {
        api_problem(ctx, r, 422, "%s%s%s", rd.field, rd.field[0] != '\0' ? ": " : "", rd.why);
        json_object_set_new(r->json, "field", json_string(rd.field));
        audit(ctx, fd, summary, 422, "refused",
              json_string_value(json_object_get(r->json, "detail")), NULL);
        goto out;
    }
    if (ixd_read_file(ka->config, KA_FILE_MAX, &main_text, &main_len) == -1) {
        api_problem(ctx, r, 500, "cannot read %s: %s; nothing changed", ka->config,
                    strerror(errno));
    } else if (strstr(main_text, ka->include) == NULL) {
        api_problem(ctx, r, 409, "%s does not include %s: a change there would not take effect",
                    ka->config, ka->include);
    } else if (check_with_keepalived(ka, main_text, text, out, sizeof(out)) == -1) {
        api_problem(ctx, r, 422, "keepalived -t refuses the change: %s", out);
        json_object_set_new(r->json, "field", json_string(""));
    } else if (backup(ka, ctx->now_usec, backup_path, sizeof(backup_path)) == -1) {
        api_problem(ctx, r, 500, "cannot back up %s to %s: %s; nothing changed", ka->include,
                    ka->backup_dir, strerror(errno));
    } else if (ixd_file_replace(ka->include, text, strlen(text), 0644) == -1) {
        api_problem(ctx, r, 500, "cannot write %s: %s; nothing changed", ka->include,
                    strerror(errno));
    } else if (reload(ka, out, sizeof(out)) == -1) {
        api_problem(ctx, r, 502,
                    "%s is written (the old one is in %s) but reloading keepalived "
                    "failed: %s",
                    ka->include, backup_path[0] ? backup_path : "no backup: there was none", out);
    } else {
        json_t *body = include_model(ka);
        json_object_set_new(body, "result", json_string("applied"));
        json_object_set_new(body, "backup",
                            backup_path[0] ? json_string(backup_path) : json_null());
        json_object_set_new(body, "_links",
                            json_pack("{s:o, s:o}", "self",
                                      api_link(API_PREFIX "/ha/keepalived/include"), "keepalived",
                                      api_link(API_PREFIX "/ha/keepalived")));
        api_hal(r, body);
        log_info("api: %s '%s' changed %s (backup %s)", ctx->who ? ctx->who->kind : "?",
                 ctx->who ? ctx->who->name : "?", ka->include, backup_path);
    }
    audit(ctx, fd, summary, r->status, r->status == 200 ? "applied" : "failed",
          r->status == 200 ? NULL : json_string_value(json_object_get(r->json, "detail")),
          backup_path);
out:
    json_decref(summary);
    free(main_text);
    free(text);
    close(fd);
    return 0;
}

int
api_keepalived(const struct api_ctx *ctx, struct api_reply *r)
{
    const struct ixd_config_keepalived *ka = ctx->keepalived;
    int include = strcmp(ctx->path, API_PREFIX "/ha/keepalived/include") == 0;
    json_t *model, *links;

    if (ka == NULL || !ka->enabled) {
        return api_problem(ctx, r, 404,
                           "keepalived is not configured here (ha.keepalived, docs/ha.md)");
    }
    if (strcmp(ctx->method, "PUT") == 0) {
        return put_include(ctx, r);
    }
    model = include_model(ka);
    links = json_pack("{s:o, s:o}", "self", api_link("%s", ctx->path), "root",
                      api_link(API_PREFIX "/"));
    if (include) {
        json_object_set_new(links, "keepalived", api_link(API_PREFIX "/ha/keepalived"));
        json_object_set_new(model, "manage", json_boolean(ka->manage));
        json_object_set_new(model, "_links", links);
        api_hal(r, model);
        return 0;
    }
    json_object_set_new(links, "include", api_link(API_PREFIX "/ha/keepalived/include"));
    {
        json_t *body = json_object();
        add_role(ka, body);
        json_object_set_new(body, "virtual_ipaddresses",
                            vips_held(model, json_object_get(model, "warnings")));
        json_object_set_new(body, "manage", json_boolean(ka->manage));
        json_object_set_new(body, "config", json_string(ka->config));
        json_object_set_new(body, "include", json_string(ka->include));
        json_object_set_new(body, "instances", json_incref(json_object_get(model, "instances")));
        json_object_set_new(body, "virtual_servers",
                            json_incref(json_object_get(model, "virtual_servers")));
        json_object_set_new(body, "warnings", json_incref(json_object_get(model, "warnings")));
        json_object_set_new(body, "_links", links);
        json_decref(model);
        api_hal(r, body);
    }
    return 0;
}
