/*
 * DTLS on a UDP socket many peers share (tls.h, docs/internals/dtls.md): a BIO that hands
 * OpenSSL the one datagram that arrived for an association and sends what it writes to that
 * association's peer; stateless cookies; the listener that answers ClientHellos without keeping
 * anything until a cookie comes back.
 */
#include "crypto/tls_internal.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "crypto/hmac.h"

#define COOKIE_PERIOD 60   /* seconds: a cookie is good for one to two of these */
#define HANDSHAKE_MTU 1400 /* handshake flights are cut into datagrams of this size */

/* ---- the BIO ---- */

static BIO_METHOD *dgram_method;
static int dgram_type;
static pthread_once_t dgram_once = PTHREAD_ONCE_INIT;
static uint8_t cookie_secret[32];
static int cookie_secret_ok;

/* A write is one datagram to the peer. One the socket does not take at once is lost as on the
 * wire (DTLS resends handshake flights; the collector never sends application data). */
static int
dgram_write(BIO *b, const char *data, int len)
{
    struct ixd_dgram_bio *d = BIO_get_data(b);

    BIO_clear_retry_flags(b);
    if (len > 0 && d->fd >= 0) {
        sendto(d->fd, data, (size_t)len, MSG_DONTWAIT | MSG_NOSIGNAL,
               (const struct sockaddr *)&d->peer, d->peerlen);
    }
    return len;
}

/* A read returns the datagram that came in, whole, once. */
static int
dgram_read(BIO *b, char *out, int outl)
{
    struct ixd_dgram_bio *d = BIO_get_data(b);
    size_t n;

    BIO_clear_retry_flags(b);
    if (d->in == NULL || outl <= 0) {
        BIO_set_retry_read(b);
        return -1;
    }
    n = d->in_len < (size_t)outl ? d->in_len : (size_t)outl;
    memcpy(out, d->in, n);
    d->in = NULL;
    d->in_len = 0;
    return (int)n;
}

static long
dgram_ctrl(BIO *b, int cmd, long num, void *ptr)
{
    struct ixd_dgram_bio *d = BIO_get_data(b);

    switch (cmd) {
    case BIO_CTRL_FLUSH:
    case BIO_CTRL_DGRAM_SET_CONNECTED:
    case BIO_CTRL_DGRAM_SET_PEER:
    case BIO_CTRL_DGRAM_SET_NEXT_TIMEOUT:
        return 1;
    case BIO_CTRL_DGRAM_QUERY_MTU:
    case BIO_CTRL_DGRAM_GET_FALLBACK_MTU:
        return HANDSHAKE_MTU;
    case BIO_CTRL_DGRAM_GET_MTU_OVERHEAD:
        return d->peer.ss_family == AF_INET6 ? 48 : 28;
    case BIO_CTRL_DGRAM_GET_PEER:
        if (d->peer.ss_family == AF_INET6) {
            const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)&d->peer;
            return BIO_ADDR_rawmake(ptr, AF_INET6, &a->sin6_addr, 16, a->sin6_port);
        } else {
            const struct sockaddr_in *a = (const struct sockaddr_in *)&d->peer;
            return BIO_ADDR_rawmake(ptr, AF_INET, &a->sin_addr, 4, a->sin_port);
        }
    default:
        (void)num;
        return 0;
    }
}

static int
dgram_create(BIO *b)
{
    BIO_set_init(b, 1);
    return 1;
}

static int
dgram_destroy(BIO *b)
{
    free(BIO_get_data(b));
    BIO_set_data(b, NULL);
    return 1;
}

static void
dgram_init_once(void)
{
    int type = BIO_get_new_index() | BIO_TYPE_SOURCE_SINK;
    BIO_METHOD *m = BIO_meth_new(type, "ipfixd dtls peer");

    if (m != NULL && BIO_meth_set_write(m, dgram_write) == 1 &&
        BIO_meth_set_read(m, dgram_read) == 1 && BIO_meth_set_ctrl(m, dgram_ctrl) == 1 &&
        BIO_meth_set_create(m, dgram_create) == 1 && BIO_meth_set_destroy(m, dgram_destroy) == 1) {
        dgram_method = m;
        dgram_type = type;
    } else {
        BIO_meth_free(m);
    }
    cookie_secret_ok = ixd_random_bytes(cookie_secret, sizeof(cookie_secret)) == 0;
}

/* A BIO of ours for fd, with its state (owned by the BIO); NULL when out of memory. */
static BIO *
dgram_bio_new(int fd, struct ixd_dgram_bio **state)
{
    struct ixd_dgram_bio *d;
    BIO *b;

    pthread_once(&dgram_once, dgram_init_once);
    if (dgram_method == NULL || !cookie_secret_ok || (d = calloc(1, sizeof(*d))) == NULL) {
        return NULL;
    }
    b = BIO_new(dgram_method);
    if (b == NULL) {
        free(d);
        return NULL;
    }
    d->fd = fd;
    BIO_set_data(b, d);
    *state = d;
    return b;
}

/* The state of ssl's BIO: NULL unless it is one of ours. */
static struct ixd_dgram_bio *
dgram_of(SSL *ssl)
{
    BIO *b = SSL_get_rbio(ssl);

    return b != NULL && dgram_method != NULL && BIO_method_type(b) == dgram_type ? BIO_get_data(b)
                                                                                 : NULL;
}

/* ---- cookies ---- */

/* HMAC-SHA256 over the time bucket and the peer's address and port. */
static int
cookie_of(const struct ixd_dgram_bio *d, uint64_t bucket, uint8_t out[IXD_HMAC_LEN])
{
    struct in6_addr a;
    uint16_t port;
    uint8_t b[8];
    struct ixd_hmac_part parts[3] = {{b, sizeof(b)}, {&a, sizeof(a)}, {&port, sizeof(port)}};

    memset(&a, 0, sizeof(a));
    if (d->peer.ss_family == AF_INET6) {
        const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)&d->peer;
        a = s6->sin6_addr;
        port = s6->sin6_port;
    } else {
        const struct sockaddr_in *s4 = (const struct sockaddr_in *)&d->peer;
        a.s6_addr[10] = a.s6_addr[11] = 0xff;
        memcpy(&a.s6_addr[12], &s4->sin_addr, 4);
        port = s4->sin_port;
    }
    for (int i = 0; i < 8; i++) {
        b[i] = (uint8_t)(bucket >> (56 - 8 * i));
    }
    return ixd_hmac_sha256(cookie_secret, sizeof(cookie_secret), parts, 3, out);
}

static uint64_t
bucket_now(void)
{
    return (uint64_t)time(NULL) / COOKIE_PERIOD;
}

static int
cookie_make(SSL *ssl, unsigned char *cookie, unsigned int *len)
{
    struct ixd_dgram_bio *d = dgram_of(ssl);

    if (d == NULL || cookie_of(d, bucket_now(), cookie) == -1) {
        return 0;
    }
    *len = IXD_HMAC_LEN;
    if (d->cookies != NULL) {
        __atomic_fetch_add(d->cookies, 1, __ATOMIC_RELAXED);
    }
    return 1;
}

static int
cookie_check(SSL *ssl, const unsigned char *cookie, unsigned int len)
{
    struct ixd_dgram_bio *d = dgram_of(ssl);
    uint8_t want[IXD_HMAC_LEN];
    uint64_t now = bucket_now();

    if (d == NULL || len != IXD_HMAC_LEN) {
        return 0;
    }
    for (uint64_t b = now; b + 1 >= now; b--) {
        if (cookie_of(d, b, want) == 0 && ixd_hmac_equal(want, cookie)) {
            return 1;
        }
    }
    return 0;
}

void
ixd_dtls_ctx_setup(SSL_CTX *ssl)
{
    SSL_CTX_set_cookie_generate_cb(ssl, cookie_make);
    SSL_CTX_set_cookie_verify_cb(ssl, cookie_check);
}

/* ---- the listener ---- */

struct ixd_dtls_listener {
    struct ixd_tls_ctx *ctx;
    int fd;
    SSL *ssl; /* the next association, until its ClientHello comes with a valid cookie */
    struct ixd_dgram_bio *d;
    BIO_ADDR *addr;
    uint64_t *cookies;
};

struct ixd_dtls_listener *
ixd_dtls_listener_new(struct ixd_tls_ctx *c, int fd, uint64_t *cookies)
{
    struct ixd_dtls_listener *l = calloc(1, sizeof(*l));

    if (l == NULL || (l->addr = BIO_ADDR_new()) == NULL) {
        free(l);
        return NULL;
    }
    l->ctx = ixd_tls_ctx_ref(c);
    l->fd = fd;
    l->cookies = cookies;
    return l;
}

void
ixd_dtls_listener_free(struct ixd_dtls_listener *l)
{
    if (l == NULL) {
        return;
    }
    SSL_free(l->ssl);
    BIO_ADDR_free(l->addr);
    ixd_tls_ctx_free(l->ctx);
    free(l);
}

int
ixd_dtls_is_client_hello(const uint8_t *data, size_t len)
{
    /* record: type 22, version 0xfeXX, epoch 0; handshake: type 1 (DTLSPlaintext is 13 bytes) */
    return len >= 13 + 12 && data[0] == 22 && data[1] == 0xfe && data[3] == 0 && data[4] == 0 &&
           data[13] == 1;
}

/* The SSL object that waits for the next verified ClientHello. */
static int
listener_ssl(struct ixd_dtls_listener *l)
{
    BIO *b;

    if (l->ssl != NULL) {
        return 0;
    }
    l->ssl = SSL_new(l->ctx->ssl);
    b = l->ssl != NULL ? dgram_bio_new(l->fd, &l->d) : NULL;
    if (b == NULL) {
        SSL_free(l->ssl);
        l->ssl = NULL;
        ERR_clear_error();
        return -1;
    }
    SSL_set_bio(l->ssl, b, b);
    SSL_set_options(l->ssl, SSL_OP_NO_QUERY_MTU);
    SSL_set_mtu(l->ssl, HANDSHAKE_MTU - 28);
    l->d->cookies = l->cookies;
    return 0;
}

int
ixd_dtls_listen(struct ixd_dtls_listener *l, const uint8_t *data, size_t len,
                const struct sockaddr *from, socklen_t fromlen, struct ixd_tls **out)
{
    struct ixd_tls *t;
    int r;

    *out = NULL;
    if (!ixd_dtls_is_client_hello(data, len) || fromlen > sizeof(l->d->peer)) {
        return 0;
    }
    if (listener_ssl(l) == -1) {
        return -1;
    }
    memcpy(&l->d->peer, from, fromlen);
    l->d->peerlen = fromlen;
    l->d->in = data;
    l->d->in_len = len;
    ERR_clear_error();
    r = DTLSv1_listen(l->ssl, l->addr);
    l->d->in = NULL;
    ERR_clear_error();
    if (r < 0) {
        /* a fatal error leaves the object unusable: the next ClientHello gets a fresh one */
        SSL_free(l->ssl);
        l->ssl = NULL;
        return 0;
    }
    if (r == 0) {
        return 0;
    }
    /* the peer answered our cookie: it receives at its address; the object is its own now */
    l->d->cookies = NULL;
    t = ixd_tls_wrap(l->ctx, l->ssl);
    l->ssl = NULL;
    if (t == NULL) {
        return -1;
    }
    t->dgram = l->d;
    l->d = NULL;
    *out = t;
    return 1;
}

void
ixd_dtls_input(struct ixd_tls *t, const uint8_t *data, size_t len)
{
    if (t->dgram != NULL) {
        t->dgram->in = data;
        t->dgram->in_len = len;
    }
}

int
ixd_dtls_timer(struct ixd_tls *t)
{
    int r;

    ERR_clear_error();
    r = DTLSv1_handle_timeout(t->ssl);
    ERR_clear_error();
    if (r < 0) {
        t->fail = IXD_TLS_FAIL_TIMEOUT;
        snprintf(t->error, sizeof(t->error), "the peer stopped answering the handshake");
        return -1;
    }
    return 0;
}
