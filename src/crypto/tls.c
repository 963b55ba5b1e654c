/* TLS contexts and connections over OpenSSL (tls.h): building, verifying peers, non-blocking I/O.
 */
#include "crypto/tls_internal.h"

#include <dirent.h>
#include <errno.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* Suites offered: forward secrecy and AEAD only (no RC4, 3DES or CBC), AES-128-GCM first (the
 * cheapest per byte with AES instructions, and as strong as needed), then AES-256-GCM and
 * ChaCha20-Poly1305 (for peers without AES instructions). */
#define TLS12_CIPHERS                                                                              \
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:"     \
    "ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305"
#define TLS13_SUITES "TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256"
#define CA_FILES_MAX 1024 /* files read from a ca directory */
#define READ_BUFFER 65536 /* a collector's read buffer per connection (set_server_bios) */

static const char *const fail_names[IXD_TLS_FAIL__COUNT] = {
    [IXD_TLS_FAIL_NONE] = "none",
    [IXD_TLS_FAIL_TIMEOUT] = "timeout",
    [IXD_TLS_FAIL_NOT_TLS] = "not_tls",
    [IXD_TLS_FAIL_VERSION] = "protocol_version",
    [IXD_TLS_FAIL_CIPHER] = "no_shared_cipher",
    [IXD_TLS_FAIL_NO_CERTIFICATE] = "no_certificate",
    [IXD_TLS_FAIL_UNTRUSTED] = "untrusted",
    [IXD_TLS_FAIL_EXPIRED] = "expired",
    [IXD_TLS_FAIL_REVOKED] = "revoked",
    [IXD_TLS_FAIL_PIN] = "pin",
    [IXD_TLS_FAIL_SUBJECT] = "subject",
    [IXD_TLS_FAIL_NAME] = "name",
    [IXD_TLS_FAIL_REJECTED] = "rejected_by_peer",
    [IXD_TLS_FAIL_LIMIT] = "limit",
    [IXD_TLS_FAIL_CLOSED] = "closed",
    [IXD_TLS_FAIL_OTHER] = "other",
};

const char *
ixd_tls_fail_name(enum ixd_tls_fail f)
{
    return f < IXD_TLS_FAIL__COUNT ? fail_names[f] : "other";
}

/* ---- verifying the peer ---- */

static enum ixd_tls_fail
verify_failure(long v)
{
    switch (v) {
    case X509_V_ERR_CERT_HAS_EXPIRED:
    case X509_V_ERR_CERT_NOT_YET_VALID:
        return IXD_TLS_FAIL_EXPIRED;
    case X509_V_ERR_CERT_REVOKED:
        return IXD_TLS_FAIL_REVOKED;
    case X509_V_ERR_HOSTNAME_MISMATCH:
    case X509_V_ERR_IP_ADDRESS_MISMATCH:
        return IXD_TLS_FAIL_NAME;
    default:
        return IXD_TLS_FAIL_UNTRUSTED;
    }
}

static int
pin_match(const struct ixd_tls_ctx *c, X509 *cert)
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int len = 0;

    if (X509_digest(cert, EVP_sha256(), md, &len) != 1 || len != 32) {
        return 0;
    }
    for (size_t i = 0; i < c->n_pins; i++) {
        if (CRYPTO_memcmp(md, c->pins[i], 32) == 0) {
            return 1;
        }
    }
    return 0;
}

/* The subject as RFC 2253 text, escaped to printable ASCII, cut at outlen - 1 bytes. */
static void
subject_text(X509 *cert, char *out, size_t outlen)
{
    BIO *b = BIO_new(BIO_s_mem());
    int n = 0;

    out[0] = '\0';
    if (b == NULL) {
        return;
    }
    if (X509_NAME_print_ex(b, X509_get_subject_name(cert), 0, XN_FLAG_RFC2253) >= 0) {
        n = BIO_read(b, out, (int)outlen - 1);
    }
    BIO_free(b);
    out[n > 0 ? n : 0] = '\0';
    for (char *p = out; *p != '\0'; p++) {
        if (*p < 0x20 || *p > 0x7e) {
            *p = '?'; /* ESC_MSB escapes UTF-8, but a log line must never get a control byte */
        }
    }
}

/* 1 when name is one of the certificate's common names or DNS names (case-insensitive). */
static int
name_in_cert(X509 *cert, const char *name)
{
    X509_NAME *subj = X509_get_subject_name(cert);
    GENERAL_NAMES *alt = X509_get_ext_d2i(cert, NID_subject_alt_name, NULL, NULL);
    int found = 0;

    for (int i = -1; !found && (i = X509_NAME_get_index_by_NID(subj, NID_commonName, i)) >= 0;) {
        ASN1_STRING *v = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(subj, i));
        found =
            (size_t)ASN1_STRING_length(v) == strlen(name) &&
            OPENSSL_strncasecmp((const char *)ASN1_STRING_get0_data(v), name, strlen(name)) == 0;
    }
    for (int i = 0; !found && alt != NULL && i < sk_GENERAL_NAME_num(alt); i++) {
        const GENERAL_NAME *g = sk_GENERAL_NAME_value(alt, i);
        if (g->type == GEN_DNS) {
            const ASN1_STRING *v = g->d.dNSName;
            found = (size_t)ASN1_STRING_length(v) == strlen(name) &&
                    OPENSSL_strncasecmp((const char *)ASN1_STRING_get0_data(v), name,
                                        strlen(name)) == 0;
        }
    }
    GENERAL_NAMES_free(alt);
    return found;
}

/* subjects: an entry with '=' is the whole subject in RFC 2253 form, else a name (CN or DNS). */
static int
subject_match(const struct ixd_tls_ctx *c, X509 *cert)
{
    char dn[IXD_TLS_SUBJECT_MAX];

    subject_text(cert, dn, sizeof(dn));
    for (size_t i = 0; i < c->n_subjects; i++) {
        const char *s = c->subjects[i];
        if (strchr(s, '=') != NULL ? strcmp(dn, s) == 0 : name_in_cert(cert, s)) {
            return 1;
        }
    }
    return 0;
}

/* Pins alone: the certificate is the anchor, its dates still count. */
static int
pinned_dates_ok(X509_STORE_CTX *x, X509 *leaf)
{
    if (X509_cmp_current_time(X509_get0_notBefore(leaf)) >= 0) {
        X509_STORE_CTX_set_error(x, X509_V_ERR_CERT_NOT_YET_VALID);
        return 0;
    }
    if (X509_cmp_current_time(X509_get0_notAfter(leaf)) <= 0) {
        X509_STORE_CTX_set_error(x, X509_V_ERR_CERT_HAS_EXPIRED);
        return 0;
    }
    return 1;
}

/* Replaces OpenSSL's chain verification, so that pins and subjects are checked in the same
 * step and a refusal says which rule refused. */
static int
app_verify(X509_STORE_CTX *x, void *arg)
{
    SSL *ssl = X509_STORE_CTX_get_ex_data(x, SSL_get_ex_data_X509_STORE_CTX_idx());
    struct ixd_tls *t = ssl != NULL ? SSL_get_app_data(ssl) : NULL;
    const struct ixd_tls_ctx *c = arg;
    X509 *leaf = X509_STORE_CTX_get0_cert(x);
    enum ixd_tls_fail why = IXD_TLS_FAIL_NONE;

    if (t == NULL || leaf == NULL) {
        return 0;
    }
    if (c->have_ca ? X509_verify_cert(x) != 1 : !pinned_dates_ok(x, leaf)) {
        why = verify_failure(X509_STORE_CTX_get_error(x));
    } else if (c->n_pins > 0 && !pin_match(c, leaf)) {
        why = IXD_TLS_FAIL_PIN;
    } else if (c->n_subjects > 0 && !subject_match(c, leaf)) {
        why = IXD_TLS_FAIL_SUBJECT;
    }
    if (why == IXD_TLS_FAIL_PIN || why == IXD_TLS_FAIL_SUBJECT) {
        X509_STORE_CTX_set_error(x, X509_V_ERR_APPLICATION_VERIFICATION);
        snprintf(t->error, sizeof(t->error), "the certificate matches no %s",
                 why == IXD_TLS_FAIL_PIN ? "pin" : "allowed subject");
    } else if (why != IXD_TLS_FAIL_NONE) {
        snprintf(t->error, sizeof(t->error), "certificate: %s",
                 X509_verify_cert_error_string(X509_STORE_CTX_get_error(x)));
    }
    t->fail = why;
    return why == IXD_TLS_FAIL_NONE;
}

/* ---- building a context ---- */

struct ca_load {
    X509_STORE *st;
    STACK_OF(X509_NAME) * names;
    int loaded, failed;
    char *err;
    size_t errlen;
};

static int
load_ca_file(void *arg, const char *path, const char *name)
{
    struct ca_load *l = arg;

    (void)name;
    if (l->loaded == CA_FILES_MAX || X509_STORE_load_file(l->st, path) != 1) {
        snprintf(l->err, l->errlen, "ca: %s: %s", path,
                 l->loaded == CA_FILES_MAX ? "more than 1024 files in the directory"
                                           : "no PEM certificate in it");
        l->failed = 1;
        return -1;
    }
    SSL_add_file_cert_subjects_to_stack(l->names, path);
    l->loaded++;
    return 0;
}

static int
load_ca_dir(X509_STORE *st, STACK_OF(X509_NAME) * names, const char *dir, char *err, size_t errlen)
{
    struct ca_load l = {st, names, 0, 0, err, errlen};

    if (ixd_tls_ca_dir_each(dir, load_ca_file, &l) == -1) {
        if (!l.failed) {
            snprintf(err, errlen, "ca: cannot list %s: %s", dir, strerror(errno));
        }
        return -1;
    }
    if (l.loaded == 0) {
        snprintf(err, errlen, "ca: %s holds no certificate file", dir);
        return -1;
    }
    return 0;
}

/* The trust store: ca (a file or a directory of files) and crl. */
static int
load_trust(SSL_CTX *ssl, const struct ixd_tls_settings *s, int server, char *err, size_t errlen)
{
    X509_STORE *st = SSL_CTX_get_cert_store(ssl);
    STACK_OF(X509_NAME) *names = sk_X509_NAME_new_null();
    struct stat sb;
    int rc = 0;

    if (names == NULL) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    if (s->ca.path[0] != '\0') {
        if (stat(s->ca.path, &sb) == 0 && S_ISDIR(sb.st_mode)) {
            rc = load_ca_dir(st, names, s->ca.path, err, errlen);
        } else if (X509_STORE_load_file(st, s->ca.path) != 1) {
            snprintf(err, errlen, "ca: %s holds no PEM certificate", s->ca.path);
            rc = -1;
        } else {
            SSL_add_file_cert_subjects_to_stack(names, s->ca.path);
        }
    }
    if (rc == 0 && s->crl.path[0] != '\0') {
        if (X509_STORE_load_file(st, s->crl.path) != 1) {
            snprintf(err, errlen, "crl: %s holds no PEM certificate revocation list", s->crl.path);
            rc = -1;
        }
        X509_STORE_set_flags(st, X509_V_FLAG_CRL_CHECK);
    }
    if (rc == 0 && server && sk_X509_NAME_num(names) > 0) {
        SSL_CTX_set_client_CA_list(ssl, names); /* what clients choose their certificate by */
        names = NULL;
    }
    sk_X509_NAME_pop_free(names, X509_NAME_free);
    return rc;
}

static int
no_passphrase(char *buf, int size, int rwflag, void *arg)
{
    return -1;
}

static int
load_identity(SSL_CTX *ssl, const struct ixd_tls_settings *s, char *err, size_t errlen)
{
    if (SSL_CTX_use_certificate_chain_file(ssl, s->certificate.path) != 1) {
        snprintf(err, errlen, "certificate: %s holds no PEM certificate", s->certificate.path);
        return -1;
    }
    EVP_PKEY *pkey = NULL;
    BIO *b = BIO_new_file(s->key.path, "r");
    int rc = 0;

    if (b != NULL) {
        /* no passphrase callback: a key with one fails here instead of asking a terminal */
        pkey = PEM_read_bio_PrivateKey(b, NULL, no_passphrase, NULL);
        BIO_free(b);
    }
    if (pkey == NULL) {
        snprintf(err, errlen, "key: %s holds no PEM private key (or one with a passphrase)",
                 s->key.path);
        return -1;
    }
    if (SSL_CTX_use_PrivateKey(ssl, pkey) != 1 || SSL_CTX_check_private_key(ssl) != 1) {
        snprintf(err, errlen, "key: %s is not the key of certificate %s", s->key.path,
                 s->certificate.path);
        rc = -1;
    }
    EVP_PKEY_free(pkey);
    return rc;
}

/* Protocol versions, suites and options: the same for every context. */
static int
set_protocol(SSL_CTX *ssl, const struct ixd_tls_settings *s, int datagram)
{
    int min = datagram ? DTLS1_2_VERSION
                       : (s->min_version == IXD_TLS_V1_3 ? TLS1_3_VERSION : TLS1_2_VERSION);

    SSL_CTX_set_options(ssl, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION |
                                 SSL_OP_CIPHER_SERVER_PREFERENCE | SSL_OP_NO_TICKET |
                                 SSL_OP_IGNORE_UNEXPECTED_EOF);
    SSL_CTX_set_session_cache_mode(ssl, SSL_SESS_CACHE_OFF);
    SSL_CTX_set_num_tickets(ssl, 0);
    SSL_CTX_set_mode(ssl, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
    return SSL_CTX_set_min_proto_version(ssl, min) == 1 &&
                   SSL_CTX_set_cipher_list(ssl, TLS12_CIPHERS) == 1 &&
                   (datagram || SSL_CTX_set_ciphersuites(ssl, TLS13_SUITES) == 1)
               ? 0
               : -1;
}

static struct ixd_tls_ctx *
ctx_copy_rules(struct ixd_tls_ctx *c, const struct ixd_tls_settings *s)
{
    c->pins = calloc(s->pins.n + 1, sizeof(*c->pins));
    c->subjects = calloc(s->subjects.n + 1, sizeof(*c->subjects));
    if (c->pins == NULL || c->subjects == NULL) {
        return NULL;
    }
    if (s->pins.n > 0) {
        memcpy(c->pins, s->pins.sha256, s->pins.n * sizeof(*c->pins));
    }
    c->n_pins = s->pins.n;
    for (size_t i = 0; i < s->subjects.n; i++) {
        c->subjects[i] = strdup(s->subjects.names[i]);
        if (c->subjects[i] == NULL) {
            return NULL;
        }
        c->n_subjects = i + 1;
    }
    snprintf(c->server_name, sizeof(c->server_name), "%s", s->server_name);
    return c;
}

struct ixd_tls_ctx *
ixd_tls_ctx_build(const struct ixd_tls_settings *s, int server, int datagram, char *err,
                  size_t errlen)
{
    struct ixd_tls_ctx *c = calloc(1, sizeof(*c));
    const SSL_METHOD *m = datagram ? (server ? DTLS_server_method() : DTLS_client_method())
                                   : (server ? TLS_server_method() : TLS_client_method());

    if (c == NULL) {
        snprintf(err, errlen, "cannot set up TLS: out of memory");
        return NULL;
    }
    atomic_init(&c->refs, 1);
    if ((c->ssl = SSL_CTX_new(m)) == NULL || ctx_copy_rules(c, s) == NULL ||
        set_protocol(c->ssl, s, datagram) == -1) {
        snprintf(err, errlen, "cannot set up TLS: out of memory");
        goto fail;
    }
    c->server = server;
    c->datagram = datagram;
    c->have_ca = s->ca.path[0] != '\0';
    if ((s->certificate.path[0] != '\0' && load_identity(c->ssl, s, err, errlen) == -1) ||
        load_trust(c->ssl, s, server, err, errlen) == -1) {
        goto fail;
    }
    if (server && s->client_certificate == IXD_TLS_CLIENT_NONE) {
        SSL_CTX_set_verify(c->ssl, SSL_VERIFY_NONE, NULL);
    } else {
        SSL_CTX_set_verify(c->ssl,
                           SSL_VERIFY_PEER |
                               (server && s->client_certificate == IXD_TLS_CLIENT_REQUIRED
                                    ? SSL_VERIFY_FAIL_IF_NO_PEER_CERT
                                    : 0),
                           NULL);
    }
    SSL_CTX_set_cert_verify_callback(c->ssl, app_verify, c);
    if (datagram && server) {
        ixd_dtls_ctx_setup(c->ssl);
    }
    ERR_clear_error();
    return c;
fail:
    ERR_clear_error();
    ixd_tls_ctx_free(c);
    return NULL;
}

struct ixd_tls_ctx *
ixd_tls_ctx_ref(struct ixd_tls_ctx *c)
{
    atomic_fetch_add_explicit(&c->refs, 1, memory_order_relaxed);
    return c;
}

void
ixd_tls_ctx_free(struct ixd_tls_ctx *c)
{
    if (c == NULL || atomic_fetch_sub(&c->refs, 1) != 1) {
        return;
    }
    SSL_CTX_free(c->ssl);
    for (size_t i = 0; i < c->n_subjects; i++) {
        free(c->subjects[i]);
    }
    free(c->subjects);
    free(c->pins);
    free(c);
}

/* ---- connections ---- */

struct ixd_tls *
ixd_tls_wrap(struct ixd_tls_ctx *c, SSL *ssl)
{
    struct ixd_tls *t = calloc(1, sizeof(*t));

    if (t == NULL) {
        SSL_free(ssl);
        return NULL;
    }
    t->ssl = ssl;
    t->ctx = ixd_tls_ctx_ref(c);
    SSL_set_app_data(ssl, t);
    return t;
}

/*
 * A collector reads far more than it writes: its side of the socket is read through a buffer of
 * READ_BUFFER bytes, one read(2) for many records. (OpenSSL's own read-ahead would do the
 * reads, but moves what is left of its buffer to the front before every application-data
 * record, to align the payload: quadratic in the records a read brings; docs/benchmarks.md.)
 * Writes go to the socket directly.
 */
static int
set_server_bios(SSL *ssl, int fd)
{
    BIO *sock = BIO_new_socket(fd, BIO_NOCLOSE), *wsock = BIO_new_socket(fd, BIO_NOCLOSE);
    BIO *buf = BIO_new(BIO_f_buffer());

    if (sock == NULL || wsock == NULL || buf == NULL ||
        BIO_set_read_buffer_size(buf, READ_BUFFER) != 1) {
        BIO_free(sock);
        BIO_free(wsock);
        BIO_free(buf);
        return -1;
    }
    SSL_set_bio(ssl, BIO_push(buf, sock), wsock);
    return 0;
}

struct ixd_tls *
ixd_tls_accept(struct ixd_tls_ctx *c, int fd)
{
    SSL *ssl = SSL_new(c->ssl);

    if (ssl == NULL || set_server_bios(ssl, fd) == -1) {
        SSL_free(ssl);
        ERR_clear_error();
        return NULL;
    }
    SSL_set_accept_state(ssl);
    return ixd_tls_wrap(c, ssl);
}

/* The client's check of the collector: its server-name, else the address it was sent to. */
static int
set_peer_name(SSL *ssl, const struct ixd_tls_ctx *c, const struct sockaddr *dest)
{
    X509_VERIFY_PARAM *p = SSL_get0_param(ssl);

    if (c->server_name[0] != '\0') {
        return SSL_set_tlsext_host_name(ssl, c->server_name) == 1 &&
                       X509_VERIFY_PARAM_set1_host(p, c->server_name, 0) == 1
                   ? 0
                   : -1;
    }
    if (dest->sa_family == AF_INET6) {
        const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)dest;
        return X509_VERIFY_PARAM_set1_ip(p, a->sin6_addr.s6_addr, 16) == 1 ? 0 : -1;
    }
    return X509_VERIFY_PARAM_set1_ip(
               p, (const unsigned char *)&((const struct sockaddr_in *)dest)->sin_addr, 4) == 1
               ? 0
               : -1;
}

struct ixd_tls *
ixd_tls_connect(struct ixd_tls_ctx *c, int fd, const struct sockaddr *dest)
{
    SSL *ssl = SSL_new(c->ssl);
    BIO *bio = NULL;

    if (ssl == NULL || set_peer_name(ssl, c, dest) == -1) {
        goto fail;
    }
    if (c->datagram) {
        bio = BIO_new_dgram(fd, BIO_NOCLOSE);
        if (bio == NULL) {
            goto fail;
        }
        BIO_ctrl(bio, BIO_CTRL_DGRAM_SET_CONNECTED, 0, (void *)dest);
        SSL_set_bio(ssl, bio, bio);
        /* an IPFIX message is one record: the datagram size is the export's mtu, not a path
         * MTU OpenSSL would guess */
        SSL_set_options(ssl, SSL_OP_NO_QUERY_MTU);
        DTLS_set_link_mtu(ssl, 65535);
    } else if (SSL_set_fd(ssl, fd) != 1) {
        goto fail;
    }
    SSL_set_connect_state(ssl);
    return ixd_tls_wrap(c, ssl);
fail:
    SSL_free(ssl);
    ERR_clear_error();
    return NULL;
}

void
ixd_tls_free(struct ixd_tls *t)
{
    if (t == NULL) {
        return;
    }
    SSL_free(t->ssl);
    ixd_tls_ctx_free(t->ctx);
    free(t);
}

int
ixd_tls_looks_like_tls(const uint8_t *data, size_t len)
{
    return len >= 1 && data[0] == 0x16; /* a handshake record: a ClientHello */
}

/* Which rule or protocol step a failed handshake broke. */
static enum ixd_tls_fail
lib_failure(int reason, long verify)
{
    switch (reason) {
    case SSL_R_CERTIFICATE_VERIFY_FAILED:
        return verify_failure(verify);
    case SSL_R_PEER_DID_NOT_RETURN_A_CERTIFICATE:
    case SSL_R_TLSV13_ALERT_CERTIFICATE_REQUIRED:
        return IXD_TLS_FAIL_NO_CERTIFICATE;
    case SSL_R_UNSUPPORTED_PROTOCOL:
    case SSL_R_VERSION_TOO_LOW:
    case SSL_R_TLSV1_ALERT_PROTOCOL_VERSION:
    case SSL_R_NO_PROTOCOLS_AVAILABLE:
        return IXD_TLS_FAIL_VERSION;
    case SSL_R_NO_SHARED_CIPHER:
    case SSL_R_NO_CIPHERS_AVAILABLE:
        return IXD_TLS_FAIL_CIPHER;
    case SSL_R_WRONG_VERSION_NUMBER:
    case SSL_R_HTTP_REQUEST:
    case SSL_R_HTTPS_PROXY_REQUEST:
    case SSL_R_PACKET_LENGTH_TOO_LONG:
        return IXD_TLS_FAIL_NOT_TLS;
    /* the peer's alerts: it refused this side's certificate (or its absence) */
    case SSL_R_TLSV1_ALERT_UNKNOWN_CA:
    case SSL_R_SSLV3_ALERT_BAD_CERTIFICATE:
    case SSL_R_SSLV3_ALERT_CERTIFICATE_UNKNOWN:
    case SSL_R_SSLV3_ALERT_CERTIFICATE_EXPIRED:
    case SSL_R_SSLV3_ALERT_CERTIFICATE_REVOKED:
    case SSL_R_SSLV3_ALERT_UNSUPPORTED_CERTIFICATE:
    case SSL_R_TLSV1_ALERT_ACCESS_DENIED:
    case SSL_R_TLSV1_ALERT_DECRYPT_ERROR:
        return IXD_TLS_FAIL_REJECTED;
    default:
        return IXD_TLS_FAIL_OTHER;
    }
}

/* After a failed call: the reason (the verify callback's, if it set one) and a text. */
static void
failed(struct ixd_tls *t, int sslerr)
{
    unsigned long e = ERR_peek_error();

    if (sslerr == SSL_ERROR_ZERO_RETURN || (sslerr == SSL_ERROR_SYSCALL && e == 0)) {
        if (t->fail == IXD_TLS_FAIL_NONE) {
            t->fail = IXD_TLS_FAIL_CLOSED;
            snprintf(t->error, sizeof(t->error), "%s",
                     errno != 0 && sslerr == SSL_ERROR_SYSCALL ? strerror(errno)
                                                               : "closed by the peer");
        }
    } else if (t->fail == IXD_TLS_FAIL_NONE) {
        t->fail = lib_failure(ERR_GET_REASON(e), SSL_get_verify_result(t->ssl));
        if (t->fail == IXD_TLS_FAIL_UNTRUSTED || t->fail == IXD_TLS_FAIL_EXPIRED ||
            t->fail == IXD_TLS_FAIL_REVOKED || t->fail == IXD_TLS_FAIL_NAME) {
            if (ERR_GET_REASON(e) == SSL_R_CERTIFICATE_VERIFY_FAILED) {
                snprintf(t->error, sizeof(t->error), "certificate: %s",
                         X509_verify_cert_error_string(SSL_get_verify_result(t->ssl)));
            }
        }
        if (t->error[0] == '\0') {
            char text[160] = "";
            if (e != 0) {
                ERR_error_string_n(e, text, sizeof(text));
            }
            snprintf(t->error, sizeof(t->error), "%s", e != 0 ? text : "protocol error");
        }
    }
    ERR_clear_error();
}

int
ixd_tls_handshake(struct ixd_tls *t)
{
    int r, e;

    ERR_clear_error();
    errno = 0;
    r = SSL_do_handshake(t->ssl);
    if (r == 1) {
        X509 *peer = SSL_get0_peer_certificate(t->ssl);
        t->want_write = 0;
        if (peer != NULL) {
            subject_text(peer, t->subject, sizeof(t->subject));
        }
        return 1;
    }
    e = SSL_get_error(t->ssl, r);
    if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
        t->want_write = e == SSL_ERROR_WANT_WRITE;
        return 0;
    }
    failed(t, e);
    return -1;
}

int
ixd_tls_want_write(const struct ixd_tls *t)
{
    return t->want_write;
}

enum ixd_tls_fail
ixd_tls_failure(const struct ixd_tls *t)
{
    return t->fail;
}

const char *
ixd_tls_error(const struct ixd_tls *t)
{
    return t->error[0] != '\0' ? t->error : "no error";
}

const char *
ixd_tls_subject(const struct ixd_tls *t)
{
    return t->subject;
}

void
ixd_tls_describe(const struct ixd_tls *t, char *out, size_t outlen)
{
    const SSL_CIPHER *c = SSL_get_current_cipher(t->ssl);

    snprintf(out, outlen, "%s %s", SSL_get_version(t->ssl),
             c != NULL ? SSL_CIPHER_get_name(c) : "(none)");
}

ssize_t
ixd_tls_read(struct ixd_tls *t, void *buf, size_t len)
{
    size_t got = 0;
    int e;

    ERR_clear_error();
    errno = 0;
    if (SSL_read_ex(t->ssl, buf, len, &got) == 1) {
        t->want_write = 0;
        return (ssize_t)got;
    }
    e = SSL_get_error(t->ssl, 0);
    if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
        t->want_write = e == SSL_ERROR_WANT_WRITE;
        return 0;
    }
    t->closed = e == SSL_ERROR_ZERO_RETURN;
    failed(t, e);
    return -1;
}

int
ixd_tls_pending(const struct ixd_tls *t)
{
    /* decrypted, or still in the read buffer that set_server_bios puts on the socket */
    return SSL_has_pending(t->ssl) || BIO_pending(SSL_get_rbio(t->ssl)) > 0;
}

int
ixd_tls_closed(const struct ixd_tls *t)
{
    return t->closed;
}

ssize_t
ixd_tls_write(struct ixd_tls *t, const void *buf, size_t len)
{
    size_t put = 0;
    int e;

    ERR_clear_error();
    errno = 0;
    if (SSL_write_ex(t->ssl, buf, len, &put) == 1) {
        t->want_write = 0;
        return (ssize_t)put;
    }
    e = SSL_get_error(t->ssl, 0);
    if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
        t->want_write = e == SSL_ERROR_WANT_WRITE;
        return 0;
    }
    failed(t, e);
    return -1;
}

void
ixd_tls_shutdown(struct ixd_tls *t)
{
    if (t != NULL && SSL_is_init_finished(t->ssl)) {
        ERR_clear_error();
        SSL_shutdown(t->ssl);
        ERR_clear_error();
    }
}
