/*
 * TLS and DTLS for IPFIX transport (RFC 7011 section 11), with OpenSSL behind this small,
 * non-blocking API: the TLS and DTLS collectors (src/input/) and the IPFIX export
 * (src/output/) never see an SSL object. docs/tls.md says how to use it, docs/internals/dtls.md
 * how DTLS peers are told apart.
 *
 * A context (struct ixd_tls_ctx) is built from a collector's or output's TLS settings on the
 * control thread when the config is checked, so that a certificate that does not load, or a key
 * that does not match it, refuses the config (or the reload, which keeps the running one). It is
 * then read-only and shared by every worker; each connection holds a reference, so a reload may
 * free the settings while handshakes begun under them go on.
 *
 * Trust: a peer's chain must verify against `ca` (with `crl` when given), and its certificate
 * must match one of `pins` (SHA-256 of its DER) and one of `subjects` when those are given. With
 * pins and no ca the pin alone is the trust anchor (the certificate may be self-signed; its
 * dates still count). Offered: TLS 1.2 (ECDHE with AES-GCM or ChaCha20-Poly1305) and TLS 1.3;
 * DTLS 1.2 with the same suites. No resumption, no renegotiation, no compression.
 */
#ifndef IXD_CRYPTO_TLS_H
#define IXD_CRYPTO_TLS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>

#include "core/keys.h"

/* The longest peer subject kept (RFC 2253 text, escaped by OpenSSL: ASCII only). */
#define IXD_TLS_SUBJECT_MAX 256

/* Why a handshake failed; the collectors count failures by these names. */
enum ixd_tls_fail {
    IXD_TLS_FAIL_NONE = 0,
    IXD_TLS_FAIL_TIMEOUT,        /* not done within handshake-timeout */
    IXD_TLS_FAIL_NOT_TLS,        /* the first bytes are not a TLS handshake (plain IPFIX) */
    IXD_TLS_FAIL_VERSION,        /* only protocol versions below min-version offered */
    IXD_TLS_FAIL_CIPHER,         /* no cipher suite in common */
    IXD_TLS_FAIL_NO_CERTIFICATE, /* the peer sent none and one is required */
    IXD_TLS_FAIL_UNTRUSTED,      /* the chain does not verify against ca */
    IXD_TLS_FAIL_EXPIRED,        /* a certificate is expired or not yet valid */
    IXD_TLS_FAIL_REVOKED,        /* listed in crl */
    IXD_TLS_FAIL_PIN,            /* matches no pin */
    IXD_TLS_FAIL_SUBJECT,        /* matches no allowed subject */
    IXD_TLS_FAIL_NAME,           /* export: not the server-name (or address) asked for */
    IXD_TLS_FAIL_REJECTED,       /* the peer refused this side's certificate (an alert) */
    IXD_TLS_FAIL_LIMIT,          /* too many handshakes pending (not given a chance) */
    IXD_TLS_FAIL_CLOSED,         /* the peer went away during the handshake */
    IXD_TLS_FAIL_OTHER,
    IXD_TLS_FAIL__COUNT
};

/* "untrusted", "no_certificate", ...: the label values of the failure counters. */
const char *ixd_tls_fail_name(enum ixd_tls_fail f);

/* ---- settings (src/crypto/tls_conf.c): what the keys of a TLS collector or output fill ---- */

/* pins: SHA-256 fingerprints of the peer certificates allowed */
struct ixd_tls_pins {
    size_t n;
    uint8_t (*sha256)[32];
};

/* subjects: names a peer certificate's subject must match one of */
struct ixd_tls_names {
    size_t n;
    char **names;
};

/* ca: a PEM file or a directory of them, with a digest of what it held when read */
struct ixd_tls_ca {
    char path[IXD_PATH_MAX];
    uint64_t digest;
};

enum ixd_tls_version { IXD_TLS_V1_2 = 0, IXD_TLS_V1_3 = 1 };

/* Collectors: whether exporters must present a certificate. */
enum ixd_tls_client {
    IXD_TLS_CLIENT_REQUIRED = 0, /* and it must verify (ca, pins, subjects) */
    IXD_TLS_CLIENT_OPTIONAL,     /* one that is presented must verify */
    IXD_TLS_CLIENT_NONE,         /* none is asked for: encryption and ipfixd's identity only */
};

struct ixd_tls_ctx;

struct ixd_tls_settings {
    struct ixd_key_file certificate, key, crl; /* path "" when not given */
    struct ixd_tls_ca ca;
    struct ixd_tls_pins pins;
    struct ixd_tls_names subjects;
    int min_version;        /* enum ixd_tls_version */
    int client_certificate; /* collectors: enum ixd_tls_client */
    char server_name[256];  /* export: the name the collector's certificate must hold */
    struct ixd_tls_ctx
        *ctx; /* built by ixd_tls_settings_check, freed by ixd_tls_settings_release */
};

/* The keys of a TLS or DTLS collector (file changes apply to new handshakes at a reload) and of
 * an IPFIX export over TLS or DTLS (file changes rebuild the output), for an IXD_KEY_INCLUDE at
 * a struct ixd_tls_settings. */
extern const struct ixd_key ixd_tls_server_keys[];
extern const struct ixd_key ixd_tls_client_keys[];

/*
 * Checks what one key cannot (a certificate with its key, something to verify the peer with)
 * and builds s->ctx from the files, as a server or a client, for TLS or DTLS (datagram). where:
 * the config node errors are reported at. Skipped (0, no context) with IXD_CONFIG_SYNTAX_ONLY
 * in flags. 0, or -1 with "file:line:col: message" in err.
 */
int ixd_tls_settings_check(struct ixd_tls_settings *s, int server, int datagram,
                           const struct ixd_cnode *where, const char *file, unsigned flags,
                           char *err, size_t errlen);
/* Frees what ixd_tls_settings_check built (the keys' own values are the key table's). */
void ixd_tls_settings_release(struct ixd_tls_settings *s);
/* The first key of keys written in the mapping at (NULL: none), for an error such as "'ca'
 * applies only to transport tls or dtls". */
const struct ixd_cnode *ixd_tls_key_written(const struct ixd_key *keys, const struct ixd_cnode *at);

/* ---- contexts ---- */

/* A new reference to c (any thread). */
struct ixd_tls_ctx *ixd_tls_ctx_ref(struct ixd_tls_ctx *c);
/* Drops a reference; the last one frees the context (any thread; NULL is a no-op). */
void ixd_tls_ctx_free(struct ixd_tls_ctx *c);

/* ---- connections: one TLS connection or DTLS association, on one thread at a time ---- */

struct ixd_tls;

/* A server connection on an accepted non-blocking stream socket fd (not taken over). NULL when
 * out of memory. */
struct ixd_tls *ixd_tls_accept(struct ixd_tls_ctx *c, int fd);
/* A client connection on a connected non-blocking socket fd, TLS or (c datagram) DTLS; dest is
 * the address checked against the certificate when the settings have no server-name. */
struct ixd_tls *ixd_tls_connect(struct ixd_tls_ctx *c, int fd, const struct sockaddr *dest);
void ixd_tls_free(struct ixd_tls *t);

/* The first bytes a client sends must start a TLS handshake: 1 when data (len >= 1, what a
 * MSG_PEEK saw) can, 0 when it cannot (plain IPFIX: 0x00 0x0a). */
int ixd_tls_looks_like_tls(const uint8_t *data, size_t len);

/* One handshake step: 1 done, 0 more to read or write (ixd_tls_want_write), -1 failed
 * (ixd_tls_failure, ixd_tls_error). */
int ixd_tls_handshake(struct ixd_tls *t);
/* 1 when the last call stopped because the socket would not take more. */
int ixd_tls_want_write(const struct ixd_tls *t);
enum ixd_tls_fail ixd_tls_failure(const struct ixd_tls *t);
/* What went wrong, for a log line (printable ASCII). */
const char *ixd_tls_error(const struct ixd_tls *t);
/* The peer certificate's subject (RFC 2253) once the handshake is done; "" when it sent none. */
const char *ixd_tls_subject(const struct ixd_tls *t);
/* "TLSv1.3 TLS_AES_256_GCM_SHA384": what was negotiated, for a log line. */
void ixd_tls_describe(const struct ixd_tls *t, char *out, size_t outlen);

/*
 * Application data: >0 bytes read into buf, 0 when none has arrived (the socket would block;
 * ixd_tls_want_write may say it must be writable first), -1 when the connection ended:
 * ixd_tls_closed() tells a close_notify from an error (ixd_tls_error).
 */
ssize_t ixd_tls_read(struct ixd_tls *t, void *buf, size_t len);
/* 1 when bytes already read from the socket wait to be read (decrypted, or in the collector's
 * read buffer): read them before waiting on the socket again. */
int ixd_tls_pending(const struct ixd_tls *t);
int ixd_tls_closed(const struct ixd_tls *t);
/* >0 bytes taken (a DTLS write is one record), 0 would block, -1 broken (ixd_tls_error). */
ssize_t ixd_tls_write(struct ixd_tls *t, const void *buf, size_t len);
/* Sends close_notify if the socket takes it at once (never waits). */
void ixd_tls_shutdown(struct ixd_tls *t);

/* ---- DTLS (src/crypto/dtls.c) ---- */

/* DTLS: the most application data one record (one IPFIX message) may carry here. */
#define IXD_DTLS_RECORD_MAX 16384

/*
 * DTLS server side, on one unconnected UDP socket shared by many peers (docs/internals/dtls.md).
 * A datagram from a peer without an association goes to ixd_dtls_listen, which keeps no state:
 * a ClientHello without a valid cookie gets a HelloVerifyRequest (a cookie that is an HMAC of
 * the peer's address and port under a per-process secret) and nothing else happens; one with a
 * valid cookie proves the peer receives at its address, and only then is an association made.
 */
struct ixd_dtls_listener;

/* For c (a DTLS server context) on socket fd; each HelloVerifyRequest sent adds 1 to *cookies
 * (relaxed atomic: others may read it), which must outlive the listener. NULL when out of
 * memory. */
struct ixd_dtls_listener *ixd_dtls_listener_new(struct ixd_tls_ctx *c, int fd, uint64_t *cookies);
void ixd_dtls_listener_free(struct ixd_dtls_listener *l);

/* The first datagram of a handshake from a new peer can only be a ClientHello (record type 22,
 * epoch 0, handshake type 1): 1 when data is one. */
int ixd_dtls_is_client_hello(const uint8_t *data, size_t len);

/*
 * A ClientHello from (from, fromlen): 1 with *out, a new association whose handshake goes on
 * with ixd_tls_handshake (the cookie was valid); 0 when it was answered with a
 * HelloVerifyRequest or dropped (not a well-formed ClientHello); -1 out of memory.
 */
int ixd_dtls_listen(struct ixd_dtls_listener *l, const uint8_t *data, size_t len,
                    const struct sockaddr *from, socklen_t fromlen, struct ixd_tls **out);

/* Hands one datagram that arrived for association t to it; the next ixd_tls_handshake or
 * ixd_tls_read consumes it (data is borrowed until then). */
void ixd_dtls_input(struct ixd_tls *t, const uint8_t *data, size_t len);
/* DTLS retransmission: resends the last flight when its timer ran out (call every ~100 ms
 * during a handshake). -1 when the peer stopped answering. */
int ixd_dtls_timer(struct ixd_tls *t);

#endif
