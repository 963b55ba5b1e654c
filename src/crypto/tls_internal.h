/* What tls.c, dtls.c and tls_conf.c share behind tls.h: the structs that hold OpenSSL objects. */
#ifndef IXD_CRYPTO_TLS_INTERNAL_H
#define IXD_CRYPTO_TLS_INTERNAL_H

#include <openssl/ssl.h>
#include <stdatomic.h>

#include "crypto/tls.h"

struct ixd_tls_ctx {
    SSL_CTX *ssl;
    atomic_uint refs;
    int server, datagram;
    int have_ca; /* else pins alone are the trust anchor */
    size_t n_pins;
    uint8_t (*pins)[32];
    size_t n_subjects;
    char **subjects;
    char server_name[256]; /* client: "" checks the destination address instead */
};

/* A DTLS server association's side of its socket: where it sends, and the datagram that came
 * in for it (the BIO of dtls.c). */
struct ixd_dgram_bio {
    int fd;
    struct sockaddr_storage peer;
    socklen_t peerlen;
    const uint8_t *in; /* the datagram waiting to be read; NULL: none */
    size_t in_len;
    uint64_t *cookies; /* the listener's count of HelloVerifyRequests (listener only) */
};

struct ixd_tls {
    SSL *ssl;
    struct ixd_tls_ctx *ctx; /* a reference: the verify callback reads its pins */
    enum ixd_tls_fail fail;
    int want_write, closed;
    struct ixd_dgram_bio *dgram; /* DTLS server associations; owned by the SSL's BIO */
    char subject[IXD_TLS_SUBJECT_MAX];
    char error[192];
};

/* Wraps ssl (taken over) in a connection holding a reference to c; NULL (ssl freed) when out
 * of memory. */
struct ixd_tls *ixd_tls_wrap(struct ixd_tls_ctx *c, SSL *ssl);
/* Builds the context of s (control thread). NULL with a message in err. */
struct ixd_tls_ctx *ixd_tls_ctx_build(const struct ixd_tls_settings *s, int server, int datagram,
                                      char *err, size_t errlen);
/*
 * Calls fn with the path and name of each file a CA directory contributes, in name order: the
 * regular files whose names do not start with a dot (the loader and the digest that tells a
 * reload the directory changed must see the same ones). Stops calling at fn's first non-zero
 * return and returns it; -1 with errno when dir cannot be listed.
 */
int ixd_tls_ca_dir_each(const char *dir, int (*fn)(void *arg, const char *path, const char *name),
                        void *arg);
/* DTLS server contexts: installs the stateless cookie callbacks (dtls.c). */
void ixd_dtls_ctx_setup(SSL_CTX *ssl);

#endif
