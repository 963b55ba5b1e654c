#include "input/intake.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/parse.h"
#include "core/relaxed_counter.h"
#include "ipfix/session.h"
#include "net/listen.h"

#define SAMPLING_MAX 4096 /* rules per collector: a table searched per exporter, kept small */

static int
parse_rule(const struct ixd_cnode *m, struct ixd_sampling_rule *r, const struct ixd_key_env *env,
           char *err, size_t errlen)
{
    const struct ixd_cnode *ex = NULL, *rate = NULL;
    char msg[160];
    uint64_t n;

    if (m->kind != IXD_CNODE_MAPPING) {
        return ixd_cnode_fail(m, env->file, err, errlen,
                              "a sampling entry must be {exporter: PREFIX, rate: N}");
    }
    for (size_t i = 0; i < m->n; i++) {
        const struct ixd_cnode *k = &m->items[2 * i], *v = &m->items[2 * i + 1];
        if (strcmp(k->text, "exporter") == 0 && ex == NULL) {
            ex = v;
        } else if (strcmp(k->text, "rate") == 0 && rate == NULL) {
            rate = v;
        } else {
            return ixd_cnode_fail(k, env->file, err, errlen,
                                  "unknown key '%s' in a sampling entry (known: exporter, rate)",
                                  k->text);
        }
    }
    if (rate == NULL) {
        return ixd_cnode_fail(m, env->file, err, errlen,
                              "a sampling entry needs a rate (1 in N packets)");
    }
    if (ex == NULL) {
        return ixd_cnode_fail(m, env->file, err, errlen,
                              "a sampling entry needs an exporter address or prefix");
    }
    if (ex->kind != IXD_CNODE_SCALAR ||
        ixd_prefix_parse(ex->text, &r->prefix, msg, sizeof(msg)) == -1) {
        return ixd_cnode_fail(ex, env->file, err, errlen, "%s",
                              ex->kind == IXD_CNODE_SCALAR ? msg : "exporter must be a prefix");
    }
    if (rate->kind != IXD_CNODE_SCALAR || ixd_parse_u64(rate->text, &n) == -1 || n < 1 ||
        n > UINT32_MAX) {
        return ixd_cnode_fail(rate, env->file, err, errlen,
                              "rate must be an integer from 1 to 4294967295");
    }
    r->rate = (uint32_t)n;
    return 0;
}

/* sampling: [{exporter: PREFIX, rate: N}, ...]; the first entry that matches applies. */
static int
parse_sampling(const struct ixd_key *key, const struct ixd_cnode *v, void *field,
               const struct ixd_key_env *env, char *err, size_t errlen)
{
    struct ixd_sampling_list *l = field;

    if (v->kind != IXD_CNODE_SEQUENCE) {
        return ixd_cnode_fail(v, env->file, err, errlen, "sampling must be a list");
    }
    if (v->n > SAMPLING_MAX) {
        return ixd_cnode_fail(v, env->file, err, errlen, "sampling lists at most %d entries",
                              SAMPLING_MAX);
    }
    l->rules = calloc(v->n + 1, sizeof(*l->rules));
    if (l->rules == NULL) {
        return ixd_cnode_fail(v, env->file, err, errlen, "out of memory");
    }
    for (size_t i = 0; i < v->n; i++) {
        if (parse_rule(&v->items[i], &l->rules[i], env, err, errlen) == -1) {
            return -1;
        }
        l->n = i + 1;
    }
    return 0;
}

static int
same_sampling(const void *a, const void *b)
{
    const struct ixd_sampling_list *x = a, *y = b;

    return x->n == y->n && (x->n == 0 || memcmp(x->rules, y->rules, x->n * sizeof(*x->rules)) == 0);
}

static void
release_sampling(void *field)
{
    struct ixd_sampling_list *l = field;

    free(l->rules);
    l->rules = NULL;
    l->n = 0;
}

/* Reload classes as a collector has always had them: the template lifetime rebuilds the
 * collector; holding, sampling and the NetFlow enterprise number apply in place. */
const struct ixd_key ixd_intake_keys[] = {
    {.name = "template-lifetime",
     .kind = IXD_KEY_DURATION,
     IXD_KEY_AT(struct ixd_intake, template_lifetime),
     .min = 1,
     .def = "30m",
     .help = "UDP templates not refreshed for this long expire (RFC 7011 8.4)"},
    {.name = "hold-unknown",
     .kind = IXD_KEY_BOOL,
     IXD_KEY_AT(struct ixd_intake, hold),
     .def = "true",
     .reload = IXD_RELOAD_HOT,
     .help = "hold data that comes before its template, decode it when it does"},
    {.name = "netflow9-enterprise",
     .kind = IXD_KEY_U32,
     IXD_KEY_AT(struct ixd_intake, netflow9_pen),
     .min = 1,
     .max = UINT32_MAX,
     .def = "9",
     .reload = IXD_RELOAD_HOT,
     .help = "enterprise number of NetFlow v9 field types 32768 and above"},
    {.name = "sampling",
     .kind = IXD_KEY_CUSTOM,
     IXD_KEY_AT(struct ixd_intake, sampling),
     .reload = IXD_RELOAD_HOT,
     .parse = parse_sampling,
     .same = same_sampling,
     .release = release_sampling,
     .help = "packet sampling rates of exporters that do not announce theirs"},
    {NULL},
};

int
ixd_intake_allowed(const struct ixd_prefix_list *allow, struct ixd_sessions *ss,
                   const struct sockaddr *from, double now, struct ixd_ratelimit *rl)
{
    if (allow->n == 0 || ixd_prefix_match(allow->p, allow->n, from)) {
        return 1;
    }
    IXD_CNT_ADD(ss->counters.errors[IXD_ERR_NOT_ALLOWED], 1);
    if (ixd_log_level_get() >= IXD_LOG_WARNING) {
        struct in6_addr a;
        char text[INET6_ADDRSTRLEN];
        ixd_address_mapped(from, &a, NULL);
        inet_ntop(AF_INET6, &a, text, sizeof(text));
        ixd_log_limited(rl, now, IXD_LOG_WARNING,
                        "collector %s: %s is not in the allow-list; ignoring it", ss->collector,
                        text);
    }
    return 0;
}

struct ixd_input_sockets *
ixd_input_sockets_open(const char *name, const struct ixd_listen_addr *addr, int stream,
                       size_t receive_buffer, unsigned workers, char *bound, size_t boundlen,
                       char *err, size_t errlen)
{
    struct ixd_listen_spec spec = {name, addr, stream, receive_buffer};
    struct ixd_input_sockets *s = calloc(1, sizeof(*s) + workers * sizeof(int));
    char msg[256];

    if (s == NULL) {
        snprintf(err, errlen, "collector %s: out of memory", name);
        return NULL;
    }
    s->n = workers;
    if (ixd_listen_open(&spec, workers, s->fds, bound, boundlen, msg, sizeof(msg)) == -1) {
        snprintf(err, errlen, "collector %s: %s", name, msg);
        free(s);
        return NULL;
    }
    return s;
}

void
ixd_input_sockets_close(void *sockets, unsigned workers)
{
    struct ixd_input_sockets *s = sockets;

    if (s != NULL) {
        ixd_listen_close(s->fds, s->n);
        free(s);
    }
}

const struct ixd_key ixd_listening_keys[] = {
    {.name = "(intake)",
     .kind = IXD_KEY_INCLUDE,
     IXD_KEY_AT(struct ixd_listening, intake),
     .include = ixd_intake_keys},
    {.name = "listen",
     .kind = IXD_KEY_CUSTOM,
     IXD_KEY_AT(struct ixd_listening, listen),
     .parse = ixd_key_parse_listen,
     .same = ixd_key_same_listen,
     .help = "ADDRESS:PORT, [IPV6]:PORT or *:PORT"},
    {.name = "receive-buffer",
     .kind = IXD_KEY_SIZE,
     IXD_KEY_AT(struct ixd_listening, receive_buffer),
     .help = "SO_RCVBUF (default: 8M for UDP, the kernel's for TCP)"},
    IXD_KEY_ALLOW(struct ixd_listening, allow),
    {NULL},
};

const struct ixd_intake *
ixd_listening_intake(const void *settings)
{
    return &((const struct ixd_listening *)settings)->intake;
}

int
ixd_listening_check(void *settings, const struct ixd_module_env *env, char *err, size_t errlen)
{
    if (((const struct ixd_listening *)settings)->listen.addrlen == 0) {
        return ixd_cnode_fail(env->at, env->file, err, errlen,
                              "collector '%s' needs a listen address, e.g. listen: \"*:4739\"",
                              env->name);
    }
    return 0;
}

int
ixd_listening_conflicts(const void *a, const void *b, char *where, size_t wherelen)
{
    const struct ixd_listening *x = a, *y = b;

    if (x->stream != y->stream || !ixd_listen_addr_overlaps(&x->listen, &y->listen)) {
        return 0;
    }
    snprintf(where, wherelen, "%s", y->listen.text);
    return 1;
}

const char *
ixd_listening_address(const void *settings)
{
    return ((const struct ixd_listening *)settings)->listen.text;
}
