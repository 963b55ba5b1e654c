/*
 * What every input that delivers IPFIX messages (UDP, TCP, a file; NetFlow rewritten as IPFIX)
 * shares: the settings of the collector's sessions (template lifetime, holding data before its
 * template, NetFlow v9's enterprise number, configured sampling rates) as keys each such type
 * includes, and the allow-list check of the network ones.
 */
#ifndef IXD_INPUT_INTAKE_H
#define IXD_INPUT_INTAKE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "core/config.h"
#include "core/keys.h"
#include "core/keys_net.h"
#include "core/log.h"
#include "ipfixd/input.h"

struct ixd_sessions;

/* Configured sampling rates: heap-allocated, released with the settings. */
struct ixd_sampling_list {
    size_t n;
    struct ixd_sampling_rule *rules;
};

struct ixd_intake {
    uint32_t template_lifetime; /* seconds, UDP */
    int hold;                   /* hold data sets whose template has not arrived */
    uint32_t netflow9_pen;      /* enterprise number for NetFlow v9 types >= 32768 */
    struct ixd_sampling_list sampling;
};

/* The intake's keys, for an IXD_KEY_INCLUDE at the struct ixd_intake of a type's settings. */
extern const struct ixd_key ixd_intake_keys[];

/* The allow-list key of the network inputs (a struct ixd_prefix_list). */
#define IXD_KEY_ALLOW(type, member)                                                                \
    {                                                                                              \
        .name = "allow", .kind = IXD_KEY_CUSTOM, IXD_KEY_AT(type, member),                         \
        .reload = IXD_RELOAD_HOT, .parse = ixd_key_parse_prefixes, .same = ixd_key_same_prefixes,  \
        .release = ixd_key_release_prefixes,                                                       \
        .help = "only these exporters (addresses or prefixes)"                                     \
    }

/*
 * 1 when from may send to this collector: an empty allow-list allows all. A refused source is
 * counted on the collector (errors not_allowed) and logged at most once a second per rl.
 */
int ixd_intake_allowed(const struct ixd_prefix_list *allow, struct ixd_sessions *ss,
                       const struct sockaddr *from, double now, struct ixd_ratelimit *rl);

/* ---- what the network inputs (UDP, TCP) share ---- */

/* The first member of a network input's settings. */
struct ixd_listening {
    struct ixd_intake intake;
    struct ixd_listen_addr listen;
    size_t receive_buffer; /* SO_RCVBUF; 0: the kernel's for TCP, 8 MiB for UDP */
    struct ixd_prefix_list allow;
    int stream; /* set by a stream type's check (tcp, tls): whose ports may overlap */
};

/* Its keys: the intake's, listen, receive-buffer and allow, for an IXD_KEY_INCLUDE. */
extern const struct ixd_key ixd_listening_keys[];

/* The type functions that read only a struct ixd_listening at the start of the settings. */
const struct ixd_intake *ixd_listening_intake(const void *settings);
int ixd_listening_check(void *settings, const struct ixd_module_env *env, char *err, size_t errlen);
/* Two collectors of the same kind of socket (stream: tcp and tls; datagram: udp and dtls) on
 * overlapping addresses: SO_REUSEPORT would let the kernel split their exporters between them. */
int ixd_listening_conflicts(const void *a, const void *b, char *where, size_t wherelen);
const char *ixd_listening_address(const void *settings);

/* ---- listening sockets, one per worker (what a reload of an unchanged collector keeps) ---- */

struct ixd_input_sockets {
    unsigned n;
    int fds[]; /* one per worker */
};

/* Opens one socket per worker on addr (net/listen.h); NULL with err. */
struct ixd_input_sockets *ixd_input_sockets_open(const char *name,
                                                 const struct ixd_listen_addr *addr, int stream,
                                                 size_t receive_buffer, unsigned workers,
                                                 char *bound, size_t boundlen, char *err,
                                                 size_t errlen);
void ixd_input_sockets_close(void *sockets, unsigned workers);

#endif
