/* The keys of an `ipfix` output and what one key alone cannot check (ipfix_export.h). */
#include "output/ipfix_export.h"

#include <stdio.h>
#include <string.h>

#include "core/cnode.h"
#include "core/config.h"

#define DTLS_MTU 1350 /* an IPFIX message in one DTLS record in one datagram of a 1500 link */

static const char *const transports[] = {"udp", "tcp", "tls", "dtls", NULL};
static const char *const modes[] = {"all", "balance", NULL};

const struct ixd_key ixd_export_keys[] = {
    {.name = "destinations",
     .kind = IXD_KEY_CUSTOM,
     IXD_KEY_AT(struct export_settings, dests),
     .parse = ixd_key_parse_destinations,
     .same = ixd_key_same_destinations,
     .help = "collectors to send to, ADDRESS:PORT or [IPV6]:PORT"},
    {.name = "transport",
     .kind = IXD_KEY_ENUM,
     IXD_KEY_AT(struct export_settings, transport),
     .choices = transports,
     .def = "udp"},
    {.name = "mode",
     .kind = IXD_KEY_ENUM,
     IXD_KEY_AT(struct export_settings, mode),
     .choices = modes,
     .def = "all"},
    /* a message must hold a header, a template set and a few records */
    {.name = "mtu",
     .kind = IXD_KEY_U32,
     IXD_KEY_AT(struct export_settings, mtu),
     .min = 256,
     .max = 65535},
    {.name = "template-refresh",
     .kind = IXD_KEY_DURATION,
     IXD_KEY_AT(struct export_settings, template_refresh),
     .min = 1,
     .def = "60s"},
    /* one largest message and its prefix at least */
    {.name = "queue",
     .kind = IXD_KEY_SIZE,
     IXD_KEY_AT(struct export_settings, queue),
     .min = 65536 + 8,
     .def = "4M"},
    {.name = "original-exporter",
     .kind = IXD_KEY_BOOL,
     IXD_KEY_AT(struct export_settings, original_exporter),
     .def = "false"},
    {.name = "(tls)",
     .kind = IXD_KEY_INCLUDE,
     IXD_KEY_AT(struct export_settings, tls),
     .include = ixd_tls_client_keys},
    {NULL},
};

/* The mtu's default and bound on each transport. */
static int
check_mtu(struct export_settings *s, const struct ixd_module_env *env, char *err, size_t errlen)
{
    const struct ixd_cnode *mtu = ixd_cnode_get(env->at, "mtu");

    if (s->mtu == 0) {
        s->mtu = s->transport == XT_UDP ? 1400 : s->transport == XT_DTLS ? DTLS_MTU : 65535;
    } else if (s->transport == XT_UDP && s->mtu > 65507) {
        return ixd_cnode_fail(mtu != NULL ? mtu : env->at, env->file, err, errlen,
                              "mtu must be at most 65507 on UDP (the largest IPv4 datagram)");
    } else if (s->transport == XT_DTLS && s->mtu > IXD_DTLS_RECORD_MAX) {
        return ixd_cnode_fail(mtu != NULL ? mtu : env->at, env->file, err, errlen,
                              "mtu must be at most 16384 on DTLS (a message is one record)");
    }
    return 0;
}

int
ixd_export_check(void *settings, const struct ixd_module_env *env, char *err, size_t errlen)
{
    struct export_settings *s = settings;
    const struct ixd_cnode *k;

    if (s->dests.n == 0) {
        return ixd_cnode_fail(
            env->at, env->file, err, errlen,
            "output '%s' needs destinations, e.g. destinations: [\"127.0.0.1:4739\"]", env->name);
    }
    if (check_mtu(s, env, err, errlen) == -1) {
        return -1;
    }
    if (!ixd_export_secure(s)) {
        k = ixd_tls_key_written(ixd_tls_client_keys, env->at);
        if (k != NULL) {
            return ixd_cnode_fail(k, env->file, err, errlen,
                                  "'%s' applies only to transport tls or dtls", k->text);
        }
        return 0;
    }
    return ixd_tls_settings_check(&s->tls, 0, s->transport == XT_DTLS, env->at, env->file,
                                  env->flags, err, errlen);
}

void
ixd_export_release(void *settings)
{
    ixd_tls_settings_release(&((struct export_settings *)settings)->tls);
}
