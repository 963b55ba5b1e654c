/*
 * TLS and DTLS as src/crypto/ provides them (tls.h): contexts built from settings as a config
 * check builds them, handshakes between ipfixd's own server and client over a socketpair, each
 * refusal counted under its reason, and DTLS's stateless cookie exchange on real UDP sockets.
 * Certificates come from tests/tls/make_certs.sh, run in a temporary directory.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <arpa/inet.h>
#include <cmocka.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "crypto/tls.h"

static char dir[256];
static const struct ixd_cnode where = {.kind = IXD_CNODE_MAPPING, .line = 1, .column = 1};

static void
path(struct ixd_key_file *f, const char *name)
{
    snprintf(f->path, sizeof(f->path), "%s/%s", dir, name);
}

static void
pin(struct ixd_tls_settings *s, const char *cert)
{
    char p[512], text[200];
    FILE *f;
    size_t n = 0;

    snprintf(p, sizeof(p), "%s/%s.sha256", dir, cert);
    f = fopen(p, "r");
    assert_non_null(f);
    assert_non_null(fgets(text, sizeof(text), f));
    fclose(f);
    s->pins.sha256 = realloc(s->pins.sha256, (s->pins.n + 1) * 32);
    for (const char *c = text; *c != '\0' && *c != '\n'; c++) {
        unsigned v;
        if (*c == ':') {
            continue;
        }
        sscanf(c, "%2x", &v);
        s->pins.sha256[s->pins.n][n++] = (uint8_t)v;
        c++;
    }
    assert_int_equal(n, 32);
    s->pins.n++;
}

/* A server (collector) or client (exporter) with certificate NAME (or none) trusting the CA. */
static void
settings(struct ixd_tls_settings *s, const char *name, int ca)
{
    char file[64];

    memset(s, 0, sizeof(*s));
    if (name != NULL) {
        snprintf(file, sizeof(file), "%s.pem", name);
        path(&s->certificate, file);
        snprintf(file, sizeof(file), "%s.key", name);
        path(&s->key, file);
    }
    if (ca) {
        snprintf(s->ca.path, sizeof(s->ca.path), "%s/ca.pem", dir);
    }
}

static void
release(struct ixd_tls_settings *s)
{
    ixd_tls_settings_release(s);
    free(s->pins.sha256);
    for (size_t i = 0; i < s->subjects.n; i++) {
        free(s->subjects.names[i]);
    }
    free(s->subjects.names);
}

static void
check_ok(struct ixd_tls_settings *s, int server, int datagram)
{
    char err[512] = "";
    int r = ixd_tls_settings_check(s, server, datagram, &where, "t.yaml", 0, err, sizeof(err));

    if (r != 0) {
        fail_msg("%s", err);
    }
    assert_non_null(s->ctx);
}

static void
check_fails(struct ixd_tls_settings *s, int server, int datagram, const char *want)
{
    char err[512] = "";

    assert_int_equal(
        ixd_tls_settings_check(s, server, datagram, &where, "t.yaml", 0, err, sizeof(err)), -1);
    if (strstr(err, want) == NULL) {
        fail_msg("'%s' does not say '%s'", err, want);
    }
    assert_null(s->ctx);
}

struct pair {
    int fds[2];
    struct ixd_tls *server, *client;
    int rs, rc; /* last handshake results */
};

static void
pair_open(struct pair *p, struct ixd_tls_settings *srv, struct ixd_tls_settings *cli)
{
    struct sockaddr_in lo = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};

    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, p->fds), 0);
    p->server = ixd_tls_accept(srv->ctx, p->fds[0]);
    p->client = ixd_tls_connect(cli->ctx, p->fds[1], (struct sockaddr *)&lo);
    assert_non_null(p->server);
    assert_non_null(p->client);
}

/* Steps both sides until neither makes progress: 1 when both finished. */
static int
pair_handshake(struct pair *p)
{
    p->rs = p->rc = 0;
    for (int i = 0; i < 50 && (p->rs == 0 || p->rc == 0); i++) {
        if (p->rc == 0) {
            p->rc = ixd_tls_handshake(p->client);
        }
        if (p->rs == 0) {
            p->rs = ixd_tls_handshake(p->server);
        }
        if (p->rs == -1 || p->rc == -1) {
            /* the other side learns of it from the alert, or the close */
            if (p->rs == -1 && p->rc == 0) {
                shutdown(p->fds[0], SHUT_RDWR);
                p->rc = ixd_tls_handshake(p->client);
            }
            if (p->rc == -1 && p->rs == 0) {
                shutdown(p->fds[1], SHUT_RDWR);
                p->rs = ixd_tls_handshake(p->server);
            }
            break;
        }
    }
    return p->rs == 1 && p->rc == 1;
}

static void
pair_close(struct pair *p)
{
    ixd_tls_free(p->server);
    ixd_tls_free(p->client);
    close(p->fds[0]);
    close(p->fds[1]);
}

/* A client with certificate `cert` (NULL: none) against the default collector: the result. */
static enum ixd_tls_fail
server_verdict(struct ixd_tls_settings *srv, const char *cert)
{
    struct ixd_tls_settings cli;
    struct pair p;
    enum ixd_tls_fail f;

    settings(&cli, cert, 1);
    check_ok(&cli, 0, 0);
    pair_open(&p, srv, &cli);
    if (pair_handshake(&p)) {
        f = IXD_TLS_FAIL_NONE;
    } else {
        assert_int_equal(p.rs, -1);
        f = ixd_tls_failure(p.server);
    }
    pair_close(&p);
    release(&cli);
    return f;
}

static void
test_handshake_and_data(void **state)
{
    struct ixd_tls_settings srv, cli;
    struct pair p;
    char buf[64], what[128];
    ssize_t n;

    settings(&srv, "collector", 1);
    check_ok(&srv, 1, 0);
    settings(&cli, "exporter", 1);
    snprintf(cli.server_name, sizeof(cli.server_name), "collector.test");
    check_ok(&cli, 0, 0);
    pair_open(&p, &srv, &cli);
    assert_true(pair_handshake(&p));
    assert_string_equal(ixd_tls_subject(p.server), "O=ipfixd tests,CN=exporter1");
    assert_string_equal(ixd_tls_subject(p.client), "CN=collector.test");
    ixd_tls_describe(p.server, what, sizeof(what));
    assert_non_null(strstr(what, "TLSv1.3"));
    /* application data both ways through the non-blocking API */
    assert_int_equal(ixd_tls_read(p.server, buf, sizeof(buf)), 0);
    assert_int_equal(ixd_tls_write(p.client, "\x00\x0a\x00\x10", 4), 4);
    n = ixd_tls_read(p.server, buf, sizeof(buf));
    assert_int_equal(n, 4);
    assert_memory_equal(buf, "\x00\x0a\x00\x10", 4);
    /* a close_notify ends the stream cleanly */
    ixd_tls_shutdown(p.client);
    assert_int_equal(ixd_tls_read(p.server, buf, sizeof(buf)), -1);
    assert_true(ixd_tls_closed(p.server));
    pair_close(&p);
    release(&cli);
    release(&srv);
}

static void
test_refusals_by_reason(void **state)
{
    struct ixd_tls_settings srv;
    char crl[IXD_PATH_MAX];

    settings(&srv, "collector", 1);
    path(&srv.crl, "crl.pem");
    memcpy(crl, srv.crl.path, sizeof(crl));
    check_ok(&srv, 1, 0);
    assert_int_equal(server_verdict(&srv, "exporter"), IXD_TLS_FAIL_NONE);
    assert_int_equal(server_verdict(&srv, "stranger"), IXD_TLS_FAIL_UNTRUSTED);
    assert_int_equal(server_verdict(&srv, "selfsigned"), IXD_TLS_FAIL_UNTRUSTED);
    assert_int_equal(server_verdict(&srv, "expired"), IXD_TLS_FAIL_EXPIRED);
    assert_int_equal(server_verdict(&srv, "revoked"), IXD_TLS_FAIL_REVOKED);
    assert_int_equal(server_verdict(&srv, NULL), IXD_TLS_FAIL_NO_CERTIFICATE);
    release(&srv);

    /* without the crl, the revoked certificate is just another one of the CA's */
    settings(&srv, "collector", 1);
    check_ok(&srv, 1, 0);
    assert_int_equal(server_verdict(&srv, "revoked"), IXD_TLS_FAIL_NONE);
    release(&srv);
    assert_string_equal(ixd_tls_fail_name(IXD_TLS_FAIL_NO_CERTIFICATE), "no_certificate");
}

static void
test_pins_and_subjects(void **state)
{
    struct ixd_tls_settings srv;

    /* pins alone: the pinned certificate is trusted though self-signed; another is not */
    settings(&srv, "collector", 0);
    pin(&srv, "selfsigned");
    check_ok(&srv, 1, 0);
    assert_int_equal(server_verdict(&srv, "selfsigned"), IXD_TLS_FAIL_NONE);
    assert_int_equal(server_verdict(&srv, "exporter"), IXD_TLS_FAIL_PIN);
    release(&srv);

    /* ca and pins: both must agree */
    settings(&srv, "collector", 1);
    pin(&srv, "exporter2");
    check_ok(&srv, 1, 0);
    assert_int_equal(server_verdict(&srv, "exporter2"), IXD_TLS_FAIL_NONE);
    assert_int_equal(server_verdict(&srv, "exporter"), IXD_TLS_FAIL_PIN);
    assert_int_equal(server_verdict(&srv, "stranger"), IXD_TLS_FAIL_UNTRUSTED);
    release(&srv);

    /* subjects: a name (CN or DNS, any case) or a whole RFC 2253 subject */
    settings(&srv, "collector", 1);
    srv.subjects.names = calloc(2, sizeof(char *));
    srv.subjects.names[0] = strdup("EXPORTER2");
    srv.subjects.names[1] = strdup("O=ipfixd tests,CN=exporter1");
    srv.subjects.n = 2;
    check_ok(&srv, 1, 0);
    assert_int_equal(server_verdict(&srv, "exporter2"), IXD_TLS_FAIL_NONE);
    assert_int_equal(server_verdict(&srv, "exporter"), IXD_TLS_FAIL_NONE);
    release(&srv);
    settings(&srv, "collector", 1);
    srv.subjects.names = calloc(1, sizeof(char *));
    srv.subjects.names[0] = strdup("exporter1");
    srv.subjects.n = 1;
    check_ok(&srv, 1, 0);
    assert_int_equal(server_verdict(&srv, "exporter2"), IXD_TLS_FAIL_SUBJECT);
    release(&srv);
}

/* The export's view: the collector must be the one named, or at the address dialled. */
static void
test_client_checks_the_collector(void **state)
{
    struct ixd_tls_settings srv, cli;
    struct pair p;

    settings(&srv, "collector", 0);
    srv.client_certificate = IXD_TLS_CLIENT_NONE;
    check_ok(&srv, 1, 0);

    settings(&cli, NULL, 1); /* no certificate of its own: the collector asks for none */
    check_ok(&cli, 0, 0);    /* no server-name: 127.0.0.1 must be in the certificate */
    pair_open(&p, &srv, &cli);
    assert_true(pair_handshake(&p));
    assert_string_equal(ixd_tls_subject(p.server), "");
    pair_close(&p);
    release(&cli);

    settings(&cli, NULL, 1);
    snprintf(cli.server_name, sizeof(cli.server_name), "other.test");
    check_ok(&cli, 0, 0);
    pair_open(&p, &srv, &cli);
    assert_false(pair_handshake(&p));
    assert_int_equal(p.rc, -1);
    assert_int_equal(ixd_tls_failure(p.client), IXD_TLS_FAIL_NAME);
    pair_close(&p);
    release(&cli);

    settings(&cli, NULL, 0);
    pin(&cli, "exporter"); /* not the collector's */
    check_ok(&cli, 0, 0);
    pair_open(&p, &srv, &cli);
    assert_false(pair_handshake(&p));
    assert_int_equal(ixd_tls_failure(p.client), IXD_TLS_FAIL_PIN);
    pair_close(&p);
    release(&cli);
    release(&srv);
}

/* A client of the test's own that offers only what ipfixd must refuse. */
static enum ixd_tls_fail
legacy_client(struct ixd_tls_settings *srv, int max_version, const char *ciphers)
{
    SSL_CTX *cctx = SSL_CTX_new(TLS_client_method());
    SSL *c;
    struct pair p;
    enum ixd_tls_fail f = IXD_TLS_FAIL_NONE;
    int r = 0;

    assert_non_null(cctx);
    SSL_CTX_set_security_level(cctx, 0);
    SSL_CTX_set_min_proto_version(cctx, TLS1_VERSION);
    SSL_CTX_set_max_proto_version(cctx, max_version);
    assert_int_equal(SSL_CTX_set_cipher_list(cctx, ciphers), 1);
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, p.fds), 0);
    c = SSL_new(cctx);
    SSL_set_fd(c, p.fds[1]);
    p.server = ixd_tls_accept(srv->ctx, p.fds[0]);
    for (int i = 0; i < 20 && r == 0; i++) {
        SSL_connect(c);
        r = ixd_tls_handshake(p.server);
    }
    assert_int_equal(r, -1);
    f = ixd_tls_failure(p.server);
    SSL_free(c);
    SSL_CTX_free(cctx);
    p.client = NULL;
    pair_close(&p);
    ERR_clear_error();
    return f;
}

static void
test_old_versions_and_weak_suites_refused(void **state)
{
    struct ixd_tls_settings srv;

    settings(&srv, "collector", 0);
    srv.client_certificate = IXD_TLS_CLIENT_NONE;
    check_ok(&srv, 1, 0);
    assert_int_equal(legacy_client(&srv, TLS1_VERSION, "ALL:@SECLEVEL=0"), IXD_TLS_FAIL_VERSION);
    assert_int_equal(legacy_client(&srv, TLS1_1_VERSION, "ALL:@SECLEVEL=0"), IXD_TLS_FAIL_VERSION);
    assert_int_equal(legacy_client(&srv, TLS1_2_VERSION, "AES128-SHA:DES-CBC3-SHA:@SECLEVEL=0"),
                     IXD_TLS_FAIL_CIPHER);
    assert_int_equal(
        legacy_client(&srv, TLS1_2_VERSION, "ECDHE-ECDSA-AES128-SHA:ECDHE-ECDSA-AES256-SHA"),
        IXD_TLS_FAIL_CIPHER);
    release(&srv);
    /* min-version 1.3: a TLS 1.2 client is refused too */
    settings(&srv, "collector", 0);
    srv.client_certificate = IXD_TLS_CLIENT_NONE;
    srv.min_version = IXD_TLS_V1_3;
    check_ok(&srv, 1, 0);
    assert_int_equal(legacy_client(&srv, TLS1_2_VERSION, "ECDHE+AESGCM"), IXD_TLS_FAIL_VERSION);
    release(&srv);
}

static void
test_settings_errors(void **state)
{
    struct ixd_tls_settings s;

    settings(&s, NULL, 1);
    check_fails(&s, 1, 0, "needs certificate and key");
    settings(&s, "collector", 0);
    check_fails(&s, 1, 0, "ca or pins");
    settings(&s, "collector", 1);
    path(&s.key, "exporter.key");
    check_fails(&s, 1, 0, "is not the key of certificate");
    settings(&s, "collector", 1);
    path(&s.certificate, "ca.key");
    check_fails(&s, 1, 0, "holds no PEM certificate");
    settings(&s, "collector", 1);
    s.min_version = IXD_TLS_V1_3;
    check_fails(&s, 1, 1, "DTLS 1.3 is not available");
    settings(&s, NULL, 0);
    check_fails(&s, 0, 0, "must verify its collector");
    settings(&s, NULL, 0);
    pin(&s, "collector");
    snprintf(s.server_name, sizeof(s.server_name), "collector.test");
    check_fails(&s, 0, 0, "set ca too");
    free(s.pins.sha256);
    settings(&s, "collector", 1);
    s.client_certificate = IXD_TLS_CLIENT_NONE;
    check_fails(&s, 1, 0, "need client-certificate required or optional");
    /* a ca directory: every file in it */
    settings(&s, "collector", 0);
    snprintf(s.ca.path, sizeof(s.ca.path), "%s/cadir", dir);
    check_ok(&s, 1, 0);
    assert_int_equal(server_verdict(&s, "exporter"), IXD_TLS_FAIL_NONE);
    assert_int_equal(server_verdict(&s, "stranger"), IXD_TLS_FAIL_NONE);
    release(&s);
}

static void
test_looks_like_tls(void **state)
{
    assert_true(ixd_tls_looks_like_tls((const uint8_t *)"\x16\x03\x01", 3));
    assert_false(ixd_tls_looks_like_tls((const uint8_t *)"\x00\x0a\x00\x10", 4));
    assert_false(ixd_tls_looks_like_tls((const uint8_t *)"GET ", 4));
}

/* ---- DTLS ---- */

static int
udp_socket(struct sockaddr_in *addr)
{
    socklen_t len = sizeof(*addr);
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);

    memset(addr, 0, sizeof(*addr));
    addr->sin_family = AF_INET;
    addr->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(bind(fd, (struct sockaddr *)addr, sizeof(*addr)), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *)addr, &len), 0);
    return fd;
}

/* Waits briefly for one datagram on fd. */
static ssize_t
recv_one(int fd, uint8_t *buf, size_t len, struct sockaddr_in *from)
{
    socklen_t fl = sizeof(*from);

    for (int i = 0; i < 200; i++) {
        ssize_t n = recvfrom(fd, buf, len, 0, (struct sockaddr *)from, &fl);
        if (n >= 0) {
            return n;
        }
        usleep(1000);
    }
    return -1;
}

static void
test_dtls_cookie_then_association(void **state)
{
    struct ixd_tls_settings srv, cli;
    struct sockaddr_in saddr, caddr, from, spoofed;
    struct ixd_dtls_listener *l;
    struct ixd_tls *client, *assoc = NULL;
    static uint8_t buf[65536], hello[2048];
    ssize_t n, hello_len;
    int sfd = udp_socket(&saddr), cfd = udp_socket(&caddr), done = 0;
    uint64_t cookies = 0;

    settings(&srv, "collector", 1);
    check_ok(&srv, 1, 1);
    settings(&cli, "exporter", 1);
    check_ok(&cli, 0, 1);
    assert_int_equal(connect(cfd, (struct sockaddr *)&saddr, sizeof(saddr)), 0);
    l = ixd_dtls_listener_new(srv.ctx, sfd, &cookies);
    client = ixd_tls_connect(cli.ctx, cfd, (struct sockaddr *)&saddr);
    assert_non_null(l);
    assert_non_null(client);

    /* the first ClientHello gets a HelloVerifyRequest, and nothing is kept */
    assert_int_equal(ixd_tls_handshake(client), 0);
    hello_len = recv_one(sfd, hello, sizeof(hello), &from);
    assert_true(hello_len > 0);
    assert_true(ixd_dtls_is_client_hello(hello, (size_t)hello_len));
    assert_int_equal(ixd_dtls_listen(l, hello, (size_t)hello_len, (struct sockaddr *)&from,
                                     sizeof(from), &assoc),
                     0);
    assert_null(assoc);
    assert_int_equal(cookies, 1);

    /* the same ClientHello from another address (spoofed): answered, nothing kept */
    spoofed = from;
    spoofed.sin_addr.s_addr = htonl(0x7f000002);
    assert_int_equal(ixd_dtls_listen(l, hello, (size_t)hello_len, (struct sockaddr *)&spoofed,
                                     sizeof(spoofed), &assoc),
                     0);
    assert_int_equal(cookies, 2);
    assert_false(ixd_dtls_is_client_hello((const uint8_t *)"\x00\x0a", 2));

    /* the client answers the cookie: now an association is made and finishes its handshake */
    for (int i = 0; i < 100 && done != 3; i++) {
        if (!(done & 1) && ixd_tls_handshake(client) == 1) {
            done |= 1;
        }
        n = recvfrom(sfd, buf, sizeof(buf), 0, NULL, NULL);
        if (n > 0 && assoc == NULL) {
            /* its cookie is good for its address only: replayed from another, no state */
            assert_int_equal(ixd_dtls_listen(l, buf, (size_t)n, (struct sockaddr *)&spoofed,
                                             sizeof(spoofed), &assoc),
                             0);
            assert_null(assoc);
            assert_int_equal(cookies, 3);
            assert_int_equal(
                ixd_dtls_listen(l, buf, (size_t)n, (struct sockaddr *)&from, sizeof(from), &assoc),
                1);
            assert_non_null(assoc);
        } else if (n > 0) {
            ixd_dtls_input(assoc, buf, (size_t)n);
        }
        if (assoc != NULL && !(done & 2)) {
            int r = ixd_tls_handshake(assoc);
            assert_int_not_equal(r, -1);
            done |= r == 1 ? 2 : 0;
        }
        usleep(1000);
    }
    assert_int_equal(done, 3);
    assert_string_equal(ixd_tls_subject(assoc), "O=ipfixd tests,CN=exporter1");
    /* one record, one message */
    assert_int_equal(ixd_tls_write(client, "\x00\x0a\x00\x14hello-ipfix.", 16), 16);
    n = recv_one(sfd, buf, sizeof(buf), &from);
    assert_true(n > 16);
    ixd_dtls_input(assoc, buf, (size_t)n);
    {
        uint8_t plain[IXD_DTLS_RECORD_MAX];
        assert_int_equal(ixd_tls_read(assoc, plain, sizeof(plain)), 16);
        assert_memory_equal(plain, "\x00\x0a\x00\x14hello-ipfix.", 16);
        assert_int_equal(ixd_tls_read(assoc, plain, sizeof(plain)), 0);
    }
    ixd_tls_free(assoc);
    ixd_tls_free(client);
    ixd_dtls_listener_free(l);
    release(&cli);
    release(&srv);
    close(sfd);
    close(cfd);
}

static int
setup(void **state)
{
    char cmd[4096];
    const char *src = getenv("IXD_TLS_CERTS_SCRIPT");

    snprintf(dir, sizeof(dir), "/tmp/ixd-test-tls-XXXXXX");
    if (mkdtemp(dir) == NULL) {
        return -1;
    }
    snprintf(cmd, sizeof(cmd),
             "sh %s %s && mkdir %s/cadir && cp %s/ca.pem %s/other-ca.pem %s/cadir/",
             src != NULL ? src : IXD_TLS_CERTS_SCRIPT, dir, dir, dir, dir, dir);
    return system(cmd) == 0 ? 0 : -1;
}

static int
teardown(void **state)
{
    char cmd[512];

    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    return system(cmd) == 0 ? 0 : -1;
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_handshake_and_data),
        cmocka_unit_test(test_refusals_by_reason),
        cmocka_unit_test(test_pins_and_subjects),
        cmocka_unit_test(test_client_checks_the_collector),
        cmocka_unit_test(test_old_versions_and_weak_suites_refused),
        cmocka_unit_test(test_settings_errors),
        cmocka_unit_test(test_looks_like_tls),
        cmocka_unit_test(test_dtls_cookie_then_association),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
