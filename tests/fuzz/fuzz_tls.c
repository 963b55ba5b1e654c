/*
 * TLS and DTLS as the collectors run them (src/crypto/tls.h, src/input/dtls_peers.h), on real
 * sockets: a socketpair for TLS, UDP on 127.0.0.1 for DTLS. Certificates are made in-process at
 * the first input (EC P-256, self-signed, each side pinning the other's).
 *
 * Input layout: byte 0 picks the mode (value % 3); the rest is the mode's.
 *   0  handshake: the bytes arrive as what a client sends a TLS collector first, cut in pieces
 *      whose sizes come from byte 1; the handshake must fail with a reason (or go on waiting),
 *      never crash, and its error text must be printable.
 *   1  the record path: a real client and ixd_tls_accept complete a handshake, then chunks
 *      [u8 kind][u16 length][bytes]: kind even is plaintext the client writes (the IPFIX
 *      stream), kind odd is raw bytes put on the socket between records (a broken or hostile
 *      record layer). The server decrypts with ixd_tls_read into an ixd_framer and decodes
 *      every message it cuts out on a TCP session (fuzz_records.h checks). With no raw chunk,
 *      the plaintext comes out of TLS exactly as written, and well-framed messages come out of
 *      the framer unchanged.
 *   2  the DTLS demux: chunks [u8 kind][u16 length][bytes]: kind % 4 == 0 a datagram from one of
 *      eight other addresses (kind >> 2 picks it), 1 the real DTLS client takes a step (its
 *      handshake, or once done the bytes as one record) and what it sent is handed to the
 *      demux, 2 a datagram with the real client's address but the fuzzer's bytes, 3 a clock
 *      tick of (bytes[0]) seconds. The demux's table, handshakes and counters stay consistent;
 *      every record an association decrypts is decoded on its UDP session.
 */
#include "fuzz_records.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/log.h"
#include "crypto/tls.h"
#include "input/dtls_peers.h"
#include "net/framer.h"

#define T0 1000.0

static struct ixd_tls_settings srv, cli, dsrv, dcli;
static char dir[64];

/* A self-signed certificate and key written to dir/NAME.pem and NAME.key; its pin into pin. */
static void
make_identity(const char *name, uint8_t pin[32])
{
    EVP_PKEY *k = EVP_EC_gen("P-256");
    X509 *x = X509_new();
    X509_NAME *n;
    char path[128];
    unsigned len = 0;
    FILE *f;

    FUZZ_CHECK(k != NULL && x != NULL);
    ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
    X509_gmtime_adj(X509_getm_notBefore(x), -3600);
    X509_gmtime_adj(X509_getm_notAfter(x), 3600L * 24 * 3650);
    X509_set_pubkey(x, k);
    n = X509_get_subject_name(x);
    X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC, (const unsigned char *)name, -1, -1, 0);
    X509_set_issuer_name(x, n);
    FUZZ_CHECK(X509_sign(x, k, EVP_sha256()) > 0);
    FUZZ_CHECK(X509_digest(x, EVP_sha256(), pin, &len) == 1 && len == 32);
    snprintf(path, sizeof(path), "%s/%s.pem", dir, name);
    f = fopen(path, "w");
    FUZZ_CHECK(f != NULL && PEM_write_X509(f, x) == 1);
    fclose(f);
    snprintf(path, sizeof(path), "%s/%s.key", dir, name);
    f = fopen(path, "w");
    FUZZ_CHECK(f != NULL && PEM_write_PrivateKey(f, k, NULL, NULL, 0, NULL, NULL) == 1);
    fclose(f);
    X509_free(x);
    EVP_PKEY_free(k);
}

/* Settings with identity `me`, trusting only the certificate pinned in pin. */
static void
settings(struct ixd_tls_settings *s, const char *me, uint8_t (*pin)[32], int server, int datagram)
{
    static const struct ixd_cnode where = {.kind = IXD_CNODE_MAPPING, .line = 1, .column = 1};
    char err[512];

    memset(s, 0, sizeof(*s));
    snprintf(s->certificate.path, sizeof(s->certificate.path), "%s/%s.pem", dir, me);
    snprintf(s->key.path, sizeof(s->key.path), "%s/%s.key", dir, me);
    s->pins.n = 1;
    s->pins.sha256 = pin;
    if (ixd_tls_settings_check(s, server, datagram, &where, "fuzz", 0, err, sizeof(err)) != 0) {
        fprintf(stderr, "fuzz_tls: %s\n", err);
        abort();
    }
}

static void
init_once(void)
{
    static uint8_t pins[2][32];
    char cmd[128];

    if (srv.ctx != NULL) {
        return;
    }
    ixd_log_setup(IXD_LOG_STDERR, IXD_LOG_ERROR); /* a line per handshake would slow it down */
    snprintf(dir, sizeof(dir), "/tmp/ixd-fuzz-tls-XXXXXX");
    FUZZ_CHECK(mkdtemp(dir) != NULL);
    make_identity("collector", pins[0]);
    make_identity("exporter", pins[1]);
    settings(&srv, "collector", &pins[1], 1, 0);
    settings(&cli, "exporter", &pins[0], 0, 0);
    settings(&dsrv, "collector", &pins[1], 1, 1);
    settings(&dcli, "exporter", &pins[0], 0, 1);
    /* the contexts hold what they need: the files can go */
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    FUZZ_CHECK(system(cmd) == 0);
}

static void
check_failure(const struct ixd_tls *t)
{
    enum ixd_tls_fail f = ixd_tls_failure(t);

    FUZZ_CHECK(f > IXD_TLS_FAIL_NONE && f < IXD_TLS_FAIL__COUNT);
    for (const char *p = ixd_tls_error(t); *p != '\0'; p++) {
        FUZZ_CHECK(*p >= 0x20 && *p < 0x7f);
    }
}

/* ---- mode 0: a handshake from raw bytes ---- */

static void
run_handshake(const uint8_t *data, size_t size)
{
    size_t piece = 1 + (size > 0 ? data[0] : 0), at = size > 0 ? 1 : 0;
    int fds[2], r = 0;
    struct ixd_tls *s;

    FUZZ_CHECK(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, fds) == 0);
    s = ixd_tls_accept(srv.ctx, fds[0]);
    FUZZ_CHECK(s != NULL);
    (void)ixd_tls_looks_like_tls(data + at, size - at);
    while (r == 0 && at < size) {
        size_t n = size - at < piece ? size - at : piece;
        ssize_t w = write(fds[1], data + at, n);
        if (w <= 0) {
            break;
        }
        at += (size_t)w;
        r = ixd_tls_handshake(s);
    }
    shutdown(fds[1], SHUT_WR);
    for (int i = 0; i < 4 && r == 0; i++) {
        r = ixd_tls_handshake(s); /* then the end of the stream */
    }
    if (r == -1) {
        check_failure(s);
    }
    ixd_tls_free(s);
    close(fds[0]);
    close(fds[1]);
}

/* ---- mode 1: records into the framer ---- */

struct stream_state {
    struct ixd_tls *server, *client;
    int fds[2];
    struct ixd_framer framer;
    uint8_t *plain;             /* what the client wrote, and */
    size_t plain_len, read_len; /* how much of it came out */
    int raw, ended, framing_lost;
    struct fuzz_sink sink;
    struct ixd_decoder *dec;
    struct ixd_sessions ss;
    struct ixd_session *session;
};

static int
stream_handshake(struct stream_state *st)
{
    int rs = 0, rc = 0;

    for (int i = 0; i < 50 && (rs != 1 || rc != 1); i++) {
        if (rc == 0) {
            rc = ixd_tls_handshake(st->client);
        }
        if (rs == 0) {
            rs = ixd_tls_handshake(st->server);
        }
        FUZZ_CHECK(rs != -1 && rc != -1);
    }
    return rs == 1 && rc == 1;
}

/* Whatever has arrived goes through TLS, the framer and the decoder, as the collector reads. */
static void
stream_drain(struct stream_state *st)
{
    while (!st->ended) {
        size_t room;
        uint8_t *p;

        if (st->framing_lost) {
            ixd_framer_init(&st->framer); /* the collector closes it; TLS is read on here */
        }
        p = ixd_framer_space(&st->framer, &room);
        ssize_t n = ixd_tls_read(st->server, p, room);
        const uint8_t *msg;
        size_t len;
        int r;

        if (n == 0) {
            return;
        }
        if (n < 0) {
            FUZZ_CHECK(st->raw); /* only a broken record layer ends this stream */
            check_failure(st->server);
            st->ended = 1;
            return;
        }
        if (!st->raw) {
            FUZZ_CHECK(st->read_len + (size_t)n <= st->plain_len &&
                       memcmp(p, st->plain + st->read_len, (size_t)n) == 0);
        }
        st->read_len += (size_t)n;
        ixd_framer_commit(&st->framer, (size_t)n);
        while (!st->framing_lost && (r = ixd_framer_next(&st->framer, &msg, &len)) != 0) {
            if (r == -1) {
                st->framing_lost = 1; /* the collector closes such a stream */
                break;
            }
            FUZZ_CHECK(len >= 16 && msg[0] == 0 && msg[1] == 10);
            fuzz_process(st->dec, &st->sink, st->session, msg, len, T0);
        }
    }
}

static void
stream_chunk(struct stream_state *st, uint8_t kind, const uint8_t *bytes, size_t len)
{
    if (kind & 1) {
        st->raw = 1;
        if (write(st->fds[1], bytes, len) < 0) {
            st->ended = 1;
        }
        return;
    }
    for (size_t at = 0; at < len && !st->ended;) {
        ssize_t n = ixd_tls_write(st->client, bytes + at, len - at);
        FUZZ_CHECK(n >= 0 || st->raw);
        if (n <= 0) {
            stream_drain(st); /* the socket is full: the collector reads */
            if (n < 0) {
                return;
            }
            continue;
        }
        memcpy(st->plain + st->plain_len, bytes + at, (size_t)n);
        st->plain_len += (size_t)n;
        at += (size_t)n;
    }
    stream_drain(st);
}

static void
run_stream(const uint8_t *data, size_t size)
{
    static struct stream_state st;
    struct ixd_session_limits limits;
    struct sockaddr_in from = {.sin_family = AF_INET, .sin_port = htons(4739)};

    memset(&st, 0, offsetof(struct stream_state, framer));
    st.framing_lost = st.raw = st.ended = 0;
    st.plain_len = st.read_len = 0;
    st.plain = malloc(size + 1);
    FUZZ_CHECK(st.plain != NULL);
    FUZZ_CHECK(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, st.fds) == 0);
    st.server = ixd_tls_accept(srv.ctx, st.fds[0]);
    st.client = ixd_tls_connect(cli.ctx, st.fds[1], (struct sockaddr *)&from);
    FUZZ_CHECK(st.server != NULL && st.client != NULL && stream_handshake(&st));
    FUZZ_CHECK(strcmp(ixd_tls_subject(st.server), "CN=exporter") == 0);
    ixd_framer_init(&st.framer);
    st.dec = fuzz_decoder(&st.sink);
    fuzz_limits(&limits, 0, 1800);
    ixd_sessions_init(&st.ss, FUZZ_COLLECTOR, 1, fuzz_rules(), &limits);
    from.sin_addr.s_addr = htonl(0xc0000201);
    st.session = ixd_session_tcp(&st.ss, (struct sockaddr *)&from, T0);
    FUZZ_CHECK(st.session != NULL &&
               ixd_session_set_tls_subject(st.session, ixd_tls_subject(st.server)) == 0);
    while (size >= 3 && !st.ended) {
        size_t len = (size_t)data[1] << 8 | data[2];
        len = len < size - 3 ? len : size - 3;
        stream_chunk(&st, data[0], data + 3, len);
        data += 3 + len;
        size -= 3 + len;
    }
    if (!st.raw) {
        FUZZ_CHECK(st.read_len == st.plain_len); /* all of it, and nothing else */
    }
    ixd_session_free(st.session);
    ixd_sessions_release(&st.ss);
    ixd_tls_free(st.server);
    ixd_tls_free(st.client);
    close(st.fds[0]);
    close(st.fds[1]);
    free(st.plain);
}

/* ---- mode 2: the DTLS demux ---- */

struct dtls_state {
    struct ixd_dtls_demux demux;
    struct fuzz_sink sink;
    struct ixd_decoder *dec;
    struct ixd_sessions ss;
    int sfd, cfd, client_done;
    struct ixd_tls *client;
    struct sockaddr_in saddr, caddr;
    double now;
};

static void
deliver(void *arg, const struct sockaddr *from, const char *subject, const uint8_t *msg, size_t len,
        double now)
{
    struct dtls_state *st = arg;
    struct ixd_session *s = ixd_session_udp(&st->ss, from, now);

    FUZZ_CHECK(s != NULL && ixd_session_set_tls_subject(s, subject) == 0);
    FUZZ_CHECK(strcmp(subject, "CN=exporter") == 0);
    fuzz_datagram(st->dec, &st->sink, s, msg, len, now);
}

static int
udp_bound(struct sockaddr_in *a)
{
    socklen_t len = sizeof(*a);
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);

    memset(a, 0, sizeof(*a));
    a->sin_family = AF_INET;
    a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    FUZZ_CHECK(fd >= 0 && bind(fd, (struct sockaddr *)a, sizeof(*a)) == 0 &&
               getsockname(fd, (struct sockaddr *)a, &len) == 0);
    return fd;
}

/* What the real client sent reaches the demux as the collector's socket delivers it. */
static void
dtls_pump(struct dtls_state *st)
{
    static uint8_t buf[65536];
    struct sockaddr_in from;
    socklen_t fl = sizeof(from);
    ssize_t n;

    while ((n = recvfrom(st->sfd, buf, sizeof(buf), 0, (struct sockaddr *)&from, &fl)) > 0) {
        ixd_dtls_demux_datagram(&st->demux, buf, (size_t)n, (struct sockaddr *)&from, fl, st->now);
        fl = sizeof(from);
    }
}

static void
dtls_chunk(struct dtls_state *st, uint8_t kind, const uint8_t *bytes, size_t len)
{
    struct sockaddr_in other = st->caddr;

    switch (kind % 4) {
    case 0:
        other.sin_addr.s_addr = htonl(0x7f000002 + ((kind >> 2) & 7));
        other.sin_port = htons((uint16_t)(40000 + (kind >> 5)));
        ixd_dtls_demux_datagram(&st->demux, bytes, len, (struct sockaddr *)&other, sizeof(other),
                                st->now);
        break;
    case 1:
        if (!st->client_done) {
            int r = ixd_tls_handshake(st->client);
            st->client_done = r == 1;
            if (r == -1) {
                check_failure(st->client);
            }
        } else if (len > 0) {
            (void)ixd_tls_write(st->client, bytes, len < IXD_DTLS_RECORD_MAX ? len : 1);
        }
        dtls_pump(st);
        break;
    case 2:
        ixd_dtls_demux_datagram(&st->demux, bytes, len, (struct sockaddr *)&st->caddr,
                                sizeof(st->caddr), st->now);
        break;
    default:
        st->now += len > 0 ? bytes[0] : 1;
        ixd_dtls_demux_tick(&st->demux, st->now);
        break;
    }
    /* the table and the handshakes it counts agree */
    FUZZ_CHECK(g_hash_table_size(st->demux.peers) == st->demux.n_peers);
    FUZZ_CHECK(ixd_dtls_demux_associations(&st->demux) <= st->demux.n_peers);
    FUZZ_CHECK(st->demux.hs.pending == st->demux.n_peers - ixd_dtls_demux_associations(&st->demux));
    FUZZ_CHECK(st->demux.n_peers <= st->demux.limits.associations);
}

static void
run_dtls(const uint8_t *data, size_t size)
{
    static struct dtls_state st;
    struct ixd_session_limits limits;

    memset(&st, 0, offsetof(struct dtls_state, demux));
    st.client = NULL;
    st.client_done = 0;
    st.now = T0;
    st.sfd = udp_bound(&st.saddr);
    st.cfd = udp_bound(&st.caddr);
    FUZZ_CHECK(connect(st.cfd, (struct sockaddr *)&st.saddr, sizeof(st.saddr)) == 0);
    st.dec = fuzz_decoder(&st.sink);
    fuzz_limits(&limits, 0, 1800);
    ixd_sessions_init(&st.ss, FUZZ_COLLECTOR, 0, fuzz_rules(), &limits);
    FUZZ_CHECK(ixd_dtls_demux_init(&st.demux, "fuzz", st.sfd, dsrv.ctx, NULL, deliver, &st) == 0);
    st.demux.limits = (struct ixd_dtls_limits){4, 2, 2, 10.0, 60.0};
    st.client = ixd_tls_connect(dcli.ctx, st.cfd, (struct sockaddr *)&st.saddr);
    FUZZ_CHECK(st.client != NULL);
    while (size >= 3) {
        size_t len = (size_t)data[1] << 8 | data[2];
        len = len < size - 3 ? len : size - 3;
        dtls_chunk(&st, data[0], data + 3, len);
        data += 3 + len;
        size -= 3 + len;
    }
    ixd_dtls_demux_release(&st.demux);
    ixd_tls_free(st.client);
    ixd_sessions_drop_held(&st.ss);
    ixd_sessions_release(&st.ss);
    close(st.sfd);
    close(st.cfd);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 || size > 65536) {
        return 0;
    }
    init_once();
    switch (data[0] % 3) {
    case 0:
        run_handshake(data + 1, size - 1);
        break;
    case 1:
        run_stream(data + 1, size - 1);
        break;
    default:
        run_dtls(data + 1, size - 1);
        break;
    }
    return 0;
}
