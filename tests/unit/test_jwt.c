/*
 * JWKS parsing and JWT verification (src/crypto/jwt.c) with keys made here by OpenSSL (RSA 2048,
 * EC P-256, Ed25519) and tokens signed here; and the API's role checks (src/api/auth.c).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include "api/internal.h"
#include "crypto/jwt.h"

#define NOW 1800000000LL

static EVP_PKEY *rsa, *rsa2, *ec, *ed;
static struct ixd_jwks *jwks;
static char jwks_text[16384];
static const struct ixd_jwt_policy policy = {"https://hydra.example/", "ipfixd", 30};

/* ---- helpers: base64url, JWKs and signing ---- */

static void
b64url(const uint8_t *in, size_t len, char *out)
{
    static const char abc[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    size_t i, n = 0;

    for (i = 0; i + 2 < len; i += 3) {
        out[n++] = abc[in[i] >> 2];
        out[n++] = abc[((in[i] & 3) << 4) | (in[i + 1] >> 4)];
        out[n++] = abc[((in[i + 1] & 15) << 2) | (in[i + 2] >> 6)];
        out[n++] = abc[in[i + 2] & 63];
    }
    if (len - i == 1) {
        out[n++] = abc[in[i] >> 2];
        out[n++] = abc[(in[i] & 3) << 4];
    } else if (len - i == 2) {
        out[n++] = abc[in[i] >> 2];
        out[n++] = abc[((in[i] & 3) << 4) | (in[i + 1] >> 4)];
        out[n++] = abc[(in[i + 1] & 15) << 2];
    }
    out[n] = '\0';
}

static void
b64url_str(const char *s, char *out)
{
    b64url((const uint8_t *)s, strlen(s), out);
}

static void
jwk_rsa(EVP_PKEY *k, const char *kid, char *out, size_t outlen)
{
    BIGNUM *n = NULL, *e = NULL;
    uint8_t nb[512], eb[8];
    char n64[700], e64[16];

    assert_int_equal(EVP_PKEY_get_bn_param(k, OSSL_PKEY_PARAM_RSA_N, &n), 1);
    assert_int_equal(EVP_PKEY_get_bn_param(k, OSSL_PKEY_PARAM_RSA_E, &e), 1);
    b64url(nb, (size_t)BN_bn2bin(n, nb), n64);
    b64url(eb, (size_t)BN_bn2bin(e, eb), e64);
    snprintf(out, outlen,
             "{\"kty\":\"RSA\",\"kid\":\"%s\",\"use\":\"sig\",\"alg\":\"RS256\","
             "\"n\":\"%s\",\"e\":\"%s\"}",
             kid, n64, e64);
    BN_free(n);
    BN_free(e);
}

static void
jwk_ec(EVP_PKEY *k, const char *kid, char *out, size_t outlen)
{
    uint8_t pub[65];
    size_t len = 0;
    char x[64], y[64];

    assert_int_equal(
        EVP_PKEY_get_octet_string_param(k, OSSL_PKEY_PARAM_PUB_KEY, pub, sizeof(pub), &len), 1);
    assert_int_equal(len, 65);
    b64url(pub + 1, 32, x);
    b64url(pub + 33, 32, y);
    snprintf(out, outlen,
             "{\"kty\":\"EC\",\"kid\":\"%s\",\"crv\":\"P-256\",\"x\":\"%s\","
             "\"y\":\"%s\"}",
             kid, x, y);
}

static void
jwk_ed(EVP_PKEY *k, const char *kid, char *out, size_t outlen)
{
    uint8_t pub[32];
    size_t len = sizeof(pub);
    char x[64];

    assert_int_equal(EVP_PKEY_get_raw_public_key(k, pub, &len), 1);
    b64url(pub, len, x);
    snprintf(out, outlen, "{\"kty\":\"OKP\",\"kid\":\"%s\",\"crv\":\"Ed25519\",\"x\":\"%s\"}", kid,
             x);
}

/* header.payload.signature with key k under alg (the JOSE form of each signature). */
static char *
sign(EVP_PKEY *k, const char *alg, const char *header, const char *payload)
{
    char *tok = malloc(16384);
    uint8_t sig[1024], raw[64];
    size_t siglen = sizeof(sig), n;
    EVP_MD_CTX *md = EVP_MD_CTX_new();

    b64url_str(header, tok);
    n = strlen(tok);
    tok[n++] = '.';
    b64url_str(payload, tok + n);
    n = strlen(tok);
    assert_int_equal(EVP_DigestSignInit_ex(md, NULL, strcmp(alg, "EdDSA") == 0 ? NULL : "SHA256",
                                           NULL, NULL, k, NULL),
                     1);
    assert_int_equal(EVP_DigestSign(md, sig, &siglen, (uint8_t *)tok, n), 1);
    EVP_MD_CTX_free(md);
    if (strcmp(alg, "ES256") == 0) {
        const uint8_t *p = sig;
        ECDSA_SIG *s = d2i_ECDSA_SIG(NULL, &p, (long)siglen);
        assert_non_null(s);
        assert_int_equal(BN_bn2binpad(ECDSA_SIG_get0_r(s), raw, 32), 32);
        assert_int_equal(BN_bn2binpad(ECDSA_SIG_get0_s(s), raw + 32, 32), 32);
        ECDSA_SIG_free(s);
        memcpy(sig, raw, 64);
        siglen = 64;
    }
    tok[n++] = '.';
    b64url(sig, siglen, tok + n);
    return tok;
}

static char *
claims(int64_t exp, const char *extra)
{
    static char buf[1024];

    snprintf(buf, sizeof(buf),
             "{\"iss\":\"https://hydra.example/\",\"aud\":\"ipfixd\",\"sub\":\"alice\","
             "\"exp\":%lld%s}",
             (long long)exp, extra);
    return buf;
}

static int
verify(const char *tok, char *err, size_t errlen)
{
    json_t *c = NULL;
    int rc = ixd_jwt_verify(jwks, &policy, tok, strlen(tok), NOW, &c, err, errlen);

    if (rc == 0) {
        assert_non_null(c);
        assert_string_equal(json_string_value(json_object_get(c, "sub")), "alice");
        json_decref(c);
    } else {
        assert_null(c);
    }
    return rc;
}

/* Signs and verifies; returns verify's result, err holding why. */
static int
check(EVP_PKEY *k, const char *alg, const char *header, const char *payload, char *err)
{
    char *tok = sign(k, alg, header, payload);
    int rc = verify(tok, err, 256);

    free(tok);
    return rc;
}

static int
setup(void **state)
{
    char a[2048], b[2048], c[512], d[512];

    rsa = EVP_RSA_gen(2048);
    rsa2 = EVP_RSA_gen(2048);
    ec = EVP_EC_gen("P-256");
    ed = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
    assert_non_null(rsa);
    assert_non_null(rsa2);
    assert_non_null(ec);
    assert_non_null(ed);
    jwk_rsa(rsa, "r1", a, sizeof(a));
    jwk_rsa(rsa2, "r2", b, sizeof(b));
    jwk_ec(ec, "e1", c, sizeof(c));
    jwk_ed(ed, "d1", d, sizeof(d));
    snprintf(jwks_text, sizeof(jwks_text),
             "{\"keys\":[%s,%s,%s,%s,{\"kty\":\"RSA\",\"use\":\"enc\",\"kid\":\"x\"}]}", a, b, c,
             d);
    {
        char err[256];
        jwks = ixd_jwks_parse(jwks_text, strlen(jwks_text), err, sizeof(err));
        if (jwks == NULL) {
            fail_msg("%s", err);
        }
    }
    assert_int_equal(ixd_jwks_count(jwks), 4); /* the enc key is skipped */
    return 0;
}

static int
teardown(void **state)
{
    ixd_jwks_free(jwks);
    EVP_PKEY_free(rsa);
    EVP_PKEY_free(rsa2);
    EVP_PKEY_free(ec);
    EVP_PKEY_free(ed);
    return 0;
}

/* ---- tests ---- */

static void
test_good(void **state)
{
    char err[256];

    assert_int_equal(check(rsa, "RS256", "{\"alg\":\"RS256\",\"kid\":\"r1\",\"typ\":\"JWT\"}",
                           claims(NOW + 300, ""), err),
                     0);
    assert_int_equal(
        check(rsa2, "RS256", "{\"alg\":\"RS256\",\"kid\":\"r2\"}", claims(NOW + 300, ""), err), 0);
    assert_int_equal(
        check(ec, "ES256", "{\"alg\":\"ES256\",\"kid\":\"e1\"}", claims(NOW + 300, ""), err), 0);
    assert_int_equal(
        check(ed, "EdDSA", "{\"alg\":\"EdDSA\",\"kid\":\"d1\"}", claims(NOW + 300, ""), err), 0);
    /* aud as an array, nbf in the past, a fractional exp */
    assert_int_equal(check(rsa, "RS256", "{\"alg\":\"RS256\",\"kid\":\"r1\"}",
                           "{\"iss\":\"https://hydra.example/\",\"aud\":[\"x\",\"ipfixd\"],"
                           "\"sub\":\"alice\",\"exp\":1800000300.5,\"nbf\":1799999000}",
                           err),
                     0);
}

static void
test_times(void **state)
{
    char err[256];
    const char *h = "{\"alg\":\"ES256\",\"kid\":\"e1\"}";

    assert_int_equal(check(ec, "ES256", h, claims(NOW - 100, ""), err), -1);
    assert_non_null(strstr(err, "expired"));
    /* within the leeway of 30 s */
    assert_int_equal(check(ec, "ES256", h, claims(NOW - 10, ""), err), 0);
    assert_int_equal(check(ec, "ES256", h, claims(NOW - 30, ""), err), -1);
    assert_int_equal(check(ec, "ES256", h, claims(NOW + 300, ",\"nbf\":1800000100"), err), -1);
    assert_non_null(strstr(err, "not valid"));
    assert_int_equal(check(ec, "ES256", h, claims(NOW + 300, ",\"nbf\":1800000010"), err), 0);
    assert_int_equal(check(ec, "ES256", h, claims(NOW + 300, ",\"nbf\":\"soon\""), err), -1);
    /* no exp at all, or not a number */
    assert_int_equal(check(ec, "ES256", h,
                           "{\"iss\":\"https://hydra.example/\",\"aud\":\"ipfixd\",\"sub\":\"a\"}",
                           err),
                     -1);
    assert_non_null(strstr(err, "no exp"));
    assert_int_equal(check(ec, "ES256", h,
                           "{\"iss\":\"https://hydra.example/\",\"aud\":\"ipfixd\",\"exp\":\"x\"}",
                           err),
                     -1);
}

static void
test_issuer_audience(void **state)
{
    char err[256];
    const char *h = "{\"alg\":\"EdDSA\",\"kid\":\"d1\"}";

    assert_int_equal(
        check(ed, "EdDSA", h,
              "{\"iss\":\"https://evil.example/\",\"aud\":\"ipfixd\",\"exp\":1900000000}", err),
        -1);
    assert_non_null(strstr(err, "issuer"));
    assert_int_equal(check(ed, "EdDSA", h, "{\"aud\":\"ipfixd\",\"exp\":1900000000}", err), -1);
    assert_int_equal(check(ed, "EdDSA", h,
                           "{\"iss\":\"https://hydra.example/\",\"aud\":\"grafana\","
                           "\"exp\":1900000000}",
                           err),
                     -1);
    assert_non_null(strstr(err, "audience"));
    assert_int_equal(check(ed, "EdDSA", h,
                           "{\"iss\":\"https://hydra.example/\",\"aud\":[\"a\",\"b\"],"
                           "\"exp\":1900000000}",
                           err),
                     -1);
    assert_int_equal(
        check(ed, "EdDSA", h, "{\"iss\":\"https://hydra.example/\",\"exp\":1900000000}", err), -1);
    /* a prefix of the audience is not the audience */
    assert_int_equal(check(ed, "EdDSA", h,
                           "{\"iss\":\"https://hydra.example/\",\"aud\":\"ipfix\","
                           "\"exp\":1900000000}",
                           err),
                     -1);
}

static void
test_wrong_key(void **state)
{
    char err[256];

    /* kid r1 names the first RSA key; the token is signed with the second */
    assert_int_equal(
        check(rsa2, "RS256", "{\"alg\":\"RS256\",\"kid\":\"r1\"}", claims(NOW + 300, ""), err), -1);
    assert_non_null(strstr(err, "signature"));
    assert_int_equal(
        check(rsa, "RS256", "{\"alg\":\"RS256\",\"kid\":\"nope\"}", claims(NOW + 300, ""), err),
        -1);
    assert_non_null(strstr(err, "no key with kid"));
    /* no kid with several keys in the set */
    assert_int_equal(check(rsa, "RS256", "{\"alg\":\"RS256\"}", claims(NOW + 300, ""), err), -1);
    /* an EC key of another curve than the one named, a key that is not in the set */
    {
        EVP_PKEY *other = EVP_EC_gen("P-256");
        assert_int_equal(
            check(other, "ES256", "{\"alg\":\"ES256\",\"kid\":\"e1\"}", claims(NOW + 300, ""), err),
            -1);
        EVP_PKEY_free(other);
    }
    /* a key embedded in the header is never used */
    assert_int_equal(check(rsa2, "RS256",
                           "{\"alg\":\"RS256\",\"kid\":\"r1\",\"jku\":\"https://evil/\"}",
                           claims(NOW + 300, ""), err),
                     -1);
}

static void
test_alg_none_and_confusion(void **state)
{
    char h[128], p[512], tok[2048], err[256], *pem = NULL;
    uint8_t mac[64];
    size_t maclen = 0;
    long pemlen;
    BIO *bio = BIO_new(BIO_s_mem());

    b64url_str("{\"alg\":\"none\",\"kid\":\"r1\"}", h);
    b64url_str(claims(NOW + 300, ""), p);
    snprintf(tok, sizeof(tok), "%s.%s.", h, p);
    assert_int_equal(verify(tok, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "alg none"));
    b64url_str("{\"alg\":\"none\"}", h);
    snprintf(tok, sizeof(tok), "%s.%s.", h, p);
    assert_int_equal(verify(tok, err, sizeof(err)), -1);
    snprintf(tok, sizeof(tok), "%s.%s.AAAA", h, p);
    assert_int_equal(verify(tok, err, sizeof(err)), -1);
    /* HS256 with the RSA public key (PEM, as a confused library would read it) as the secret */
    assert_int_equal(PEM_write_bio_PUBKEY(bio, rsa), 1);
    pemlen = BIO_get_mem_data(bio, &pem);
    b64url_str("{\"alg\":\"HS256\",\"kid\":\"r1\"}", h);
    snprintf(tok, sizeof(tok), "%s.%s", h, p);
    assert_non_null(EVP_Q_mac(NULL, "HMAC", NULL, "SHA256", NULL, pem, (size_t)pemlen,
                              (uint8_t *)tok, strlen(tok), mac, sizeof(mac), &maclen));
    {
        size_t l = strlen(tok);
        tok[l] = '.';
        b64url(mac, maclen, tok + l + 1);
    }
    assert_int_equal(verify(tok, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "HS256"));
    BIO_free(bio);
    /* an alg that does not fit the key kid names: ES256 and EdDSA against the RSA key */
    assert_int_equal(
        check(ec, "ES256", "{\"alg\":\"ES256\",\"kid\":\"r1\"}", claims(NOW + 300, ""), err), -1);
    assert_non_null(strstr(err, "does not fit"));
    assert_int_equal(
        check(ed, "EdDSA", "{\"alg\":\"EdDSA\",\"kid\":\"e1\"}", claims(NOW + 300, ""), err), -1);
    assert_int_equal(
        check(rsa, "RS256", "{\"alg\":\"RS512\",\"kid\":\"r1\"}", claims(NOW + 300, ""), err), -1);
    /* crit extensions are not understood */
    assert_int_equal(check(rsa, "RS256",
                           "{\"alg\":\"RS256\",\"kid\":\"r1\",\"crit\":[\"b64\"],\"b64\":false}",
                           claims(NOW + 300, ""), err),
                     -1);
    assert_non_null(strstr(err, "crit"));
}

static void
test_malformed(void **state)
{
    char err[256], tok[4096], h[128], p[512];
    char *good = sign(ec, "ES256", "{\"alg\":\"ES256\",\"kid\":\"e1\"}", claims(NOW + 300, ""));
    size_t len = strlen(good);
    const char *bad[] = {
        "", ".", "..", "a.b", "a.b.c.d", "eyJhbGciOiJFUzI1NiJ9.e30",
    };
    size_t i;

    assert_int_equal(verify(good, err, sizeof(err)), 0);
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_int_equal(verify(bad[i], err, sizeof(err)), -1);
    }
    /* padding, standard base64 characters, non-canonical trailing bits, spaces */
    snprintf(tok, sizeof(tok), "%s=", good);
    assert_int_equal(verify(tok, err, sizeof(err)), -1);
    snprintf(tok, sizeof(tok), "%s", good);
    tok[3] = '+';
    assert_int_equal(verify(tok, err, sizeof(err)), -1);
    snprintf(tok, sizeof(tok), " %s", good);
    assert_int_equal(verify(tok, err, sizeof(err)), -1);
    /* the 64-byte ES256 signature is 86 characters: its last one carries 4 unused bits */
    snprintf(tok, sizeof(tok), "%s", good);
    {
        char *last = tok + len - 1;
        const char *abc = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
        int v = (int)(strchr(abc, *last) - abc);
        assert_int_equal(v & 15, 0);
        *last = abc[v | 1];
    }
    assert_int_equal(verify(tok, err, sizeof(err)), -1);
    /* header or payload that is not JSON, not an object, or has duplicate members */
    b64url_str("{\"alg\":\"ES256\",", h);
    snprintf(tok, sizeof(tok), "%s%s", h, strchr(good, '.'));
    assert_int_equal(verify(tok, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "header"));
    b64url_str("[\"ES256\"]", h);
    snprintf(tok, sizeof(tok), "%s%s", h, strchr(good, '.'));
    assert_int_equal(verify(tok, err, sizeof(err)), -1);
    assert_int_equal(check(ec, "ES256", "{\"alg\":\"ES256\",\"kid\":\"e1\",\"alg\":\"none\"}",
                           claims(NOW + 300, ""), err),
                     -1);
    assert_int_equal(check(ec, "ES256", "{\"alg\":\"ES256\",\"kid\":\"e1\"}", "not json", err), -1);
    assert_int_equal(check(ec, "ES256", "{\"alg\":\"ES256\",\"kid\":\"e1\"}",
                           claims(NOW + 300, ",\"exp\":1"), err),
                     -1);
    assert_int_equal(check(ec, "ES256", "{\"alg\":\"ES256\",\"kid\":\"e1\"}",
                           claims(NOW + 300, ",\"sub\":\"mallory\""), err),
                     -1);
    /* the payload is not base64url */
    snprintf(tok, sizeof(tok), "%s", good);
    *(strchr(tok, '.') + 1) = '*';
    assert_int_equal(verify(tok, err, sizeof(err)), -1);
    /* an ES256 signature in DER rather than r || s */
    {
        /* "RS256" makes sign() leave the EC signature in DER */
        char *der = sign(ec, "RS256", "{\"alg\":\"ES256\",\"kid\":\"e1\"}", claims(NOW + 300, ""));
        assert_int_equal(verify(der, err, sizeof(err)), -1);
        free(der);
    }
    /* longer than any token is allowed to be */
    {
        char *big = calloc(1, IXD_JWT_MAX_LEN + 10);
        memset(big, 'A', IXD_JWT_MAX_LEN + 5);
        big[10] = '.';
        big[20] = '.';
        assert_int_equal(verify(big, err, sizeof(err)), -1);
        free(big);
    }
    (void)p;
    free(good);
}

static void
test_tampered(void **state)
{
    char err[256], tok[4096], p[512];
    char *good = sign(rsa, "RS256", "{\"alg\":\"RS256\",\"kid\":\"r1\"}", claims(NOW + 300, ""));
    char *dot1 = strchr(good, '.'), *dot2 = strchr(dot1 + 1, '.');

    assert_int_equal(verify(good, err, sizeof(err)), 0);
    /* the payload of another token (a later exp) with this token's header and signature */
    b64url_str(claims(NOW + 99999, ""), p);
    snprintf(tok, sizeof(tok), "%.*s.%s%s", (int)(dot1 - good), good, p, dot2);
    assert_int_equal(verify(tok, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "signature"));
    /* one flipped bit of the signature */
    snprintf(tok, sizeof(tok), "%s", good);
    tok[strlen(tok) - 5] = tok[strlen(tok) - 5] == 'A' ? 'B' : 'A';
    assert_int_equal(verify(tok, err, sizeof(err)), -1);
    /* the signature cut short, or left out */
    snprintf(tok, sizeof(tok), "%.*s", (int)(strlen(good) - 4), good);
    assert_int_equal(verify(tok, err, sizeof(err)), -1);
    snprintf(tok, sizeof(tok), "%.*s.", (int)(dot2 - good), good);
    assert_int_equal(verify(tok, err, sizeof(err)), -1);
    free(good);
}

static void
expect_jwks_error(const char *text, const char *want)
{
    char err[384];
    struct ixd_jwks *ks = ixd_jwks_parse(text, strlen(text), err, sizeof(err));

    if (ks != NULL || strstr(err, want) == NULL) {
        ixd_jwks_free(ks);
        fail_msg("%s: got '%s', wanted '%s'", text, ks != NULL ? "(parsed)" : err, want);
    }
}

static void
test_jwks_errors(void **state)
{
    char small[2048], text[8192], *n;
    EVP_PKEY *k1024 = EVP_RSA_gen(1024);

    expect_jwks_error("{\"keys\": [", "line 1");
    expect_jwks_error("{}", "keys");
    expect_jwks_error("{\"keys\":[]}", "no signature key");
    expect_jwks_error("{\"keys\":[{\"kty\":\"oct\",\"k\":\"c2VjcmV0\"}]}", "symmetric");
    expect_jwks_error("{\"keys\":[{\"kty\":\"RSA\",\"n\":\"AQAB\",\"e\":\"AQAB\"}]}", "bits");
    expect_jwks_error("{\"keys\":[{\"kty\":\"RSA\",\"n\":\"AQ+B\",\"e\":\"AQAB\"}]}",
                      "n is not base64url");
    expect_jwks_error("{\"keys\":[{\"kty\":\"RSA\",\"e\":\"AQAB\"}]}", "n must be");
    expect_jwks_error("{\"keys\":[{\"kty\":\"EC\",\"crv\":\"P-384\",\"x\":\"AA\",\"y\":\"AA\"}]}",
                      "P-384");
    expect_jwks_error("{\"keys\":[{\"kty\":\"EC\",\"crv\":\"P-256\","
                      "\"x\":\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAE\","
                      "\"y\":\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAE\"}]}",
                      "not a point");
    expect_jwks_error("{\"keys\":[{\"kty\":\"OKP\",\"crv\":\"Ed25519\",\"x\":\"AAAA\"}]}",
                      "32 bytes");
    expect_jwks_error("{\"keys\":[{\"kty\":\"OKP\",\"crv\":\"X25519\",\"x\":\"AAAA\"}]}", "X25519");
    expect_jwks_error("{\"keys\":[{\"kty\":\"RSA\",\"kid\":\"a\",\"d\":\"AQAB\"}]}", "private key");
    expect_jwks_error("{\"keys\":[{\"kid\":\"a\"}]}", "kty is missing");
    expect_jwks_error("{\"keys\":[{\"kty\":\"RSA\",\"use\":\"other\"}]}", "use");
    expect_jwks_error("{\"keys\":[{\"kty\":\"RSA\",\"kid\":5}]}", "kid must be");
    expect_jwks_error("{\"keys\":[1]}", "keys[0] is not an object");
    expect_jwks_error("{\"keys\":[],\"keys\":[]}", "duplicate");
    /* a 1024-bit RSA key is too weak */
    jwk_rsa(k1024, "w", small, sizeof(small));
    snprintf(text, sizeof(text), "{\"keys\":[%s]}", small);
    expect_jwks_error(text, "1024 bits");
    EVP_PKEY_free(k1024);
    /* the same key twice under one kid; an alg that does not fit the key */
    jwk_ed(ed, "a", small, sizeof(small));
    snprintf(text, sizeof(text), "{\"keys\":[%s,%s]}", small, small);
    expect_jwks_error(text, "kid 'a' is used twice");
    jwk_rsa(rsa, "r", small, sizeof(small));
    n = strstr(small, "RS256");
    memcpy(n, "ES256", 5);
    snprintf(text, sizeof(text), "{\"keys\":[%s]}", small);
    expect_jwks_error(text, "does not fit");
}

static void
test_single_key_without_kid(void **state)
{
    char k[512], text[1024], err[256];
    struct ixd_jwks *one;
    json_t *c = NULL;
    char *tok;

    jwk_ed(ed, "only", k, sizeof(k));
    snprintf(text, sizeof(text), "{\"keys\":[%s]}", k);
    one = ixd_jwks_parse(text, strlen(text), err, sizeof(err));
    assert_non_null(one);
    tok = sign(ed, "EdDSA", "{\"alg\":\"EdDSA\"}", claims(NOW + 300, ""));
    assert_int_equal(ixd_jwt_verify(one, &policy, tok, strlen(tok), NOW, &c, err, sizeof(err)), 0);
    json_decref(c);
    free(tok);
    ixd_jwks_free(one);
}

static void
test_b64url(void **state)
{
    uint8_t out[16];
    size_t n = 99;

    assert_int_equal(ixd_b64url_decode("", 0, out, sizeof(out), &n), 0);
    assert_int_equal(n, 0);
    assert_int_equal(ixd_b64url_decode("QQ", 2, out, sizeof(out), &n), 0);
    assert_int_equal(n, 1);
    assert_int_equal(out[0], 'A');
    assert_int_equal(ixd_b64url_decode("QUI", 3, out, sizeof(out), &n), 0);
    assert_int_equal(n, 2);
    assert_int_equal(ixd_b64url_decode("_-8", 3, out, sizeof(out), &n), 0);
    assert_int_equal(out[0], 0xff);
    assert_int_equal(out[1], 0xef);
    assert_int_equal(ixd_b64url_decode("QR", 2, out, sizeof(out), &n), -1);   /* bits left */
    assert_int_equal(ixd_b64url_decode("QQ==", 4, out, sizeof(out), &n), -1); /* padding */
    assert_int_equal(ixd_b64url_decode("Q", 1, out, sizeof(out), &n), -1);
    assert_int_equal(ixd_b64url_decode("a+b/", 4, out, sizeof(out), &n), -1);
    assert_int_equal(ixd_b64url_decode("QUJD", 4, out, 2, &n), -1); /* room for 2 only */
}

static void
test_token_hash(void **state)
{
    /* printf %s abc | sha256sum */
    static const uint8_t abc[32] = {
        0xba, 0x78, 0x16, 0xbf, 0x8f, 0x01, 0xcf, 0xea, 0x41, 0x41, 0x40,
        0xde, 0x5d, 0xae, 0x22, 0x23, 0xb0, 0x03, 0x61, 0xa3, 0x96, 0x17,
        0x7a, 0x9c, 0xb4, 0x10, 0xff, 0x61, 0xf2, 0x00, 0x15, 0xad,
    };
    uint8_t h[32];

    assert_int_equal(ixd_token_sha256("abc", 3, h), 0);
    assert_memory_equal(h, abc, 32);
    assert_int_equal(ixd_token_hash_equal(h, abc), 1);
    h[31] ^= 1;
    assert_int_equal(ixd_token_hash_equal(h, abc), 0);
}

/* ---- the API's routes and roles (src/api/auth.c) ---- */

static void
test_routes(void **state)
{
    const struct api_route *rt;

    assert_int_equal(api_route_find(NULL, 0, "/health")->access, API_PUBLIC);
    assert_int_equal(api_route_find(NULL, 0, "/ready")->access, API_PUBLIC);
    assert_int_equal(api_route_find(NULL, 0, "/metrics")->access, API_READER);
    assert_int_equal(api_route_find(NULL, 0, "/")->access, API_READER);
    rt = api_route_find(NULL, 0, "/api/v1/exporters/x/domains/1/templates");
    assert_non_null(rt);
    assert_int_equal(rt->access, API_READER);
    assert_non_null(api_route_find(NULL, 0, "/api/v1"));
    assert_null(api_route_find(NULL, 0, "/api/v1x"));
    assert_null(api_route_find(NULL, 0, "/healthz"));
    assert_null(api_route_find(NULL, 0, "/nothing"));
    /* every route declares its access */
    for (size_t i = 0; i < api_n_routes; i++) {
        assert_int_not_equal(api_routes[i].access, API_DENY);
    }
    assert_int_equal(api_method_bit("HEAD"), API_METHOD_GET);
    assert_int_equal(api_method_bit("BREW"), 0);
}

static void
test_authorize(void **state)
{
    /* a table with an admin route and one that forgot its role */
    static const struct api_route table[] = {
        {"/admin", 0, API_METHOD_POST, API_ADMIN, API_H_RESOURCES, API_ADMIN},
        {"/forgot", 0, API_METHOD_GET, .handler = API_H_RESOURCES},
    };
    struct api_identity reader = {1, IXD_API_ROLE_READER, "r", "token"};
    struct api_identity oper = {1, IXD_API_ROLE_OPERATOR, "o", "token"};
    struct api_identity admin = {1, IXD_API_ROLE_ADMIN, "a", "token"};
    struct api_identity norole = {1, IXD_API_ROLE_NONE, "n", "jwt"};
    struct api_identity nobody = {0, IXD_API_ROLE_NONE, "", NULL};
    enum api_access need_admin = api_route_find(table, 2, "/admin")->access;
    enum api_access forgot = api_route_find(table, 2, "/forgot")->access;

    assert_int_equal(api_authorize(need_admin, 1, &reader), 403);
    assert_int_equal(api_authorize(need_admin, 1, &oper), 403);
    assert_int_equal(api_authorize(need_admin, 1, &admin), 0);
    assert_int_equal(api_authorize(need_admin, 1, &nobody), 401);
    assert_int_equal(api_authorize(need_admin, 1, NULL), 401);
    assert_int_equal(api_authorize(API_OPERATOR, 1, &oper), 0);
    assert_int_equal(api_authorize(API_OPERATOR, 1, &reader), 403);
    assert_int_equal(api_authorize(API_READER, 1, &reader), 0);
    assert_int_equal(api_authorize(API_READER, 1, &admin), 0);
    assert_int_equal(api_authorize(API_READER, 1, &norole), 403);
    assert_int_equal(api_authorize(API_PUBLIC, 1, NULL), 0);
    /* default deny: with or without auth, even for an admin */
    assert_int_equal(forgot, API_DENY);
    assert_int_equal(api_authorize(forgot, 1, &admin), 403);
    assert_int_equal(api_authorize(forgot, 0, NULL), 403);
    /* auth off: every declared route */
    assert_int_equal(api_authorize(need_admin, 0, NULL), 0);
}

static void
test_identify(void **state)
{
    static struct ixd_config_api_auth cfg;
    char path[] = "/tmp/ixd-jwks-XXXXXX", detail[384], hdr[4096], *tok;
    struct api_identity who;
    struct api_auth *a;
    int fd = mkstemp(path);

    assert_true(fd >= 0);
    assert_int_equal(write(fd, jwks_text, strlen(jwks_text)), (ssize_t)strlen(jwks_text));
    close(fd);
    memset(&cfg, 0, sizeof(cfg));
    cfg.enabled = 1;
    cfg.n_tokens = 2;
    snprintf(cfg.tokens[0].name, sizeof(cfg.tokens[0].name), "grafana");
    cfg.tokens[0].role = IXD_API_ROLE_READER;
    ixd_token_sha256("s3cret-reader", 13, cfg.tokens[0].sha256);
    snprintf(cfg.tokens[1].name, sizeof(cfg.tokens[1].name), "ops");
    cfg.tokens[1].role = IXD_API_ROLE_ADMIN;
    ixd_token_sha256("s3cret-admin", 12, cfg.tokens[1].sha256);
    cfg.jwt.enabled = 1;
    snprintf(cfg.jwt.jwks_file, sizeof(cfg.jwt.jwks_file), "%s", path);
    snprintf(cfg.jwt.issuer, sizeof(cfg.jwt.issuer), "https://hydra.example/");
    snprintf(cfg.jwt.audience, sizeof(cfg.jwt.audience), "ipfixd");
    snprintf(cfg.jwt.role_claim, sizeof(cfg.jwt.role_claim), "ext.ipfixd_role");
    cfg.jwt.leeway = 30;
    a = api_auth_new(&cfg, detail, sizeof(detail));
    if (a == NULL) {
        fail_msg("%s", detail);
    }
    unlink(path);

    assert_int_equal(api_auth_identify(a, NULL, NOW, &who, detail, sizeof(detail)), -1);
    assert_int_equal(api_auth_identify(a, "Basic Zm9vOmJhcg==", NOW, &who, detail, sizeof(detail)),
                     -1);
    assert_int_equal(api_auth_identify(a, "Bearer ", NOW, &who, detail, sizeof(detail)), -1);
    assert_int_equal(api_auth_identify(a, "Bearer nope", NOW, &who, detail, sizeof(detail)), -1);
    assert_int_equal(
        api_auth_identify(a, "Bearer s3cret-reader x", NOW, &who, detail, sizeof(detail)), -1);
    assert_int_equal(
        api_auth_identify(a, "bearer s3cret-reader", NOW, &who, detail, sizeof(detail)), 0);
    assert_int_equal(who.role, IXD_API_ROLE_READER);
    assert_string_equal(who.name, "grafana");
    assert_int_equal(api_auth_identify(a, "Bearer s3cret-admin", NOW, &who, detail, sizeof(detail)),
                     0);
    assert_int_equal(who.role, IXD_API_ROLE_ADMIN);

    /* a JWT: the role from ext.ipfixd_role (a string or the highest of an array) */
    tok = sign(ec, "ES256", "{\"alg\":\"ES256\",\"kid\":\"e1\"}",
               claims(NOW + 300, ",\"ext\":{\"ipfixd_role\":\"operator\"}"));
    snprintf(hdr, sizeof(hdr), "Bearer %s", tok);
    free(tok);
    assert_int_equal(api_auth_identify(a, hdr, NOW, &who, detail, sizeof(detail)), 0);
    assert_int_equal(who.role, IXD_API_ROLE_OPERATOR);
    assert_string_equal(who.name, "alice");
    assert_int_equal(api_authorize(API_ADMIN, 1, &who), 403);
    tok = sign(ec, "ES256", "{\"alg\":\"ES256\",\"kid\":\"e1\"}",
               claims(NOW + 300, ",\"ext\":{\"ipfixd_role\":[\"x\",\"admin\",\"reader\"]}"));
    snprintf(hdr, sizeof(hdr), "Bearer %s", tok);
    free(tok);
    assert_int_equal(api_auth_identify(a, hdr, NOW, &who, detail, sizeof(detail)), 0);
    assert_int_equal(who.role, IXD_API_ROLE_ADMIN);
    /* no role claim: the default role (none unless configured) */
    tok = sign(ec, "ES256", "{\"alg\":\"ES256\",\"kid\":\"e1\"}", claims(NOW + 300, ""));
    snprintf(hdr, sizeof(hdr), "Bearer %s", tok);
    free(tok);
    assert_int_equal(api_auth_identify(a, hdr, NOW, &who, detail, sizeof(detail)), 0);
    assert_int_equal(who.role, IXD_API_ROLE_NONE);
    assert_int_equal(api_authorize(API_READER, 1, &who), 403);
    cfg.jwt.default_role = IXD_API_ROLE_READER;
    assert_int_equal(api_auth_identify(a, hdr, NOW, &who, detail, sizeof(detail)), 0);
    assert_int_equal(who.role, IXD_API_ROLE_READER);
    /* an expired JWT is a 401 with the reason */
    assert_int_equal(api_auth_identify(a, hdr, NOW + 1000, &who, detail, sizeof(detail)), -1);
    assert_non_null(strstr(detail, "expired"));
    api_auth_free(a);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_good),
        cmocka_unit_test(test_times),
        cmocka_unit_test(test_issuer_audience),
        cmocka_unit_test(test_wrong_key),
        cmocka_unit_test(test_alg_none_and_confusion),
        cmocka_unit_test(test_malformed),
        cmocka_unit_test(test_tampered),
        cmocka_unit_test(test_jwks_errors),
        cmocka_unit_test(test_single_key_without_kid),
        cmocka_unit_test(test_b64url),
        cmocka_unit_test(test_token_hash),
        cmocka_unit_test(test_routes),
        cmocka_unit_test(test_authorize),
        cmocka_unit_test(test_identify),
    };

    return cmocka_run_group_tests(tests, setup, teardown);
}
