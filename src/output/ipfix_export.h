/*
 * The settings of an `ipfix` output (IPFIX export; docs/configuration.md#outputs,
 * docs/internals/export.md): its keys and the checks that follow (ipfix_export_conf.c), shared
 * with the output itself (ipfix_export.c).
 */
#ifndef IXD_OUTPUT_IPFIX_EXPORT_H
#define IXD_OUTPUT_IPFIX_EXPORT_H

#include <stddef.h>
#include <stdint.h>

#include "core/keys.h"
#include "core/keys_net.h"
#include "crypto/tls.h"
#include "ipfixd/module.h"

enum xtransport { XT_UDP = 0, XT_TCP, XT_TLS, XT_DTLS };
enum xmode {
    XM_ALL = 0,     /* every destination gets every record */
    XM_BALANCE = 1, /* one destination per exporter address (its templates stay there) */
};

struct export_settings {
    struct ixd_dest_list dests;
    int transport;               /* enum xtransport */
    int mode;                    /* enum xmode */
    uint32_t mtu;                /* largest IPFIX message, bytes; 0 until check() */
    uint32_t template_refresh;   /* seconds between template resends on UDP and DTLS */
    size_t queue;                /* bytes of finished messages held per destination per worker */
    int original_exporter;       /* add originalExporterIPv4/IPv6Address, originalObs.DomainId */
    struct ixd_tls_settings tls; /* transport tls, dtls: its context is built by check() */
};

extern const struct ixd_key ixd_export_keys[];

/* Destinations are required; the mtu's default and bound follow the transport; TLS keys need
 * tls or dtls, which build their client context. */
int ixd_export_check(void *settings, const struct ixd_module_env *env, char *err, size_t errlen);
void ixd_export_release(void *settings);

/* The transport's stream (tcp, tls) or datagram (udp, dtls) nature, and whether it is secured. */
static inline int
ixd_export_stream(const struct export_settings *s)
{
    return s->transport == XT_TCP || s->transport == XT_TLS;
}

static inline int
ixd_export_secure(const struct export_settings *s)
{
    return s->transport == XT_TLS || s->transport == XT_DTLS;
}

#endif
