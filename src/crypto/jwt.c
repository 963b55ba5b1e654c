/* JWKS parsing and JWS verification with OpenSSL 3 EVP (see jwt.h for what is refused). */
#include "crypto/jwt.h"

#include <math.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define KID_MAX 256
#define RSA_MIN_BITS 2048
#define RSA_MAX_BITS 16384
#define SIG_MAX 2048 /* RSA 16384 bits */

enum jwt_alg {
    ALG_RS256 = 1,
    ALG_ES256,
    ALG_EDDSA,
};

static const struct {
    const char *name;
    enum jwt_alg alg;
} algs[] = {
    {"RS256", ALG_RS256},
    {"ES256", ALG_ES256},
    {"EdDSA", ALG_EDDSA},
};

struct jwk {
    char kid[KID_MAX];
    int has_kid;
    enum jwt_alg alg;
    EVP_PKEY *pkey;
};

struct ixd_jwks {
    size_t n;
    struct jwk keys[IXD_JWKS_MAX_KEYS];
};

static int errf(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int
errf(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    return -1;
}

static const char *
alg_name(enum jwt_alg a)
{
    size_t i;

    for (i = 0; i < sizeof(algs) / sizeof(algs[0]); i++) {
        if (algs[i].alg == a) {
            return algs[i].name;
        }
    }
    return "?";
}

static enum jwt_alg
alg_of(const char *name)
{
    size_t i;

    for (i = 0; i < sizeof(algs) / sizeof(algs[0]); i++) {
        if (strcmp(algs[i].name, name) == 0) {
            return algs[i].alg;
        }
    }
    return 0;
}

/* ---- base64url ---- */

static int
b64url_value(unsigned char c)
{
    if (c >= 'A' && c <= 'Z') {
        return c - 'A';
    }
    if (c >= 'a' && c <= 'z') {
        return c - 'a' + 26;
    }
    if (c >= '0' && c <= '9') {
        return c - '0' + 52;
    }
    if (c == '-') {
        return 62;
    }
    if (c == '_') {
        return 63;
    }
    return -1;
}

int
ixd_b64url_decode(const char *in, size_t len, uint8_t *out, size_t outmax, size_t *outlen)
{
    size_t i, n = 0, rem = len % 4;
    uint32_t acc = 0;
    int bits = 0;

    if (rem == 1 || len / 4 * 3 + (rem > 0 ? rem - 1 : 0) > outmax) {
        return -1;
    }
    for (i = 0; i < len; i++) {
        int v = b64url_value((unsigned char)in[i]);
        if (v < 0) {
            return -1;
        }
        acc = (acc << 6) | (uint32_t)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out[n++] = (uint8_t)(acc >> bits);
            acc &= (1u << bits) - 1;
        }
    }
    if (acc != 0) {
        return -1; /* non-zero unused bits: a second encoding of the same bytes */
    }
    *outlen = n;
    return 0;
}

/* Decodes a base64url string member of o into a heap buffer (the caller frees). */
static uint8_t *
member_b64(const json_t *o, const char *key, size_t *len, const char *where, char *err,
           size_t errlen)
{
    const json_t *v = json_object_get(o, key);
    const char *s;
    uint8_t *buf;
    size_t slen;

    if (!json_is_string(v)) {
        errf(err, errlen, "%s: %s must be a base64url string", where, key);
        return NULL;
    }
    s = json_string_value(v);
    slen = json_string_length(v);
    buf = malloc(slen / 4 * 3 + 3);
    if (buf == NULL) {
        errf(err, errlen, "%s: out of memory", where);
        return NULL;
    }
    if (slen == 0 || ixd_b64url_decode(s, slen, buf, slen / 4 * 3 + 3, len) == -1) {
        free(buf);
        errf(err, errlen, "%s: %s is not base64url (without padding)", where, key);
        return NULL;
    }
    return buf;
}

/* ---- keys from JWK members ---- */

static EVP_PKEY *
rsa_key(const json_t *o, const char *where, char *err, size_t errlen)
{
    uint8_t *nb = NULL, *eb = NULL;
    size_t nlen = 0, elen = 0;
    BIGNUM *n = NULL, *e = NULL;
    OSSL_PARAM_BLD *bld = NULL;
    OSSL_PARAM *params = NULL;
    EVP_PKEY_CTX *ctx = NULL;
    EVP_PKEY *pkey = NULL;
    int bits;

    nb = member_b64(o, "n", &nlen, where, err, errlen);
    eb = nb != NULL ? member_b64(o, "e", &elen, where, err, errlen) : NULL;
    if (eb == NULL) {
        goto out;
    }
    n = BN_bin2bn(nb, (int)nlen, NULL);
    e = BN_bin2bn(eb, (int)elen, NULL);
    if (n == NULL || e == NULL) {
        errf(err, errlen, "%s: out of memory", where);
        goto out;
    }
    bits = BN_num_bits(n);
    if (bits < RSA_MIN_BITS || bits > RSA_MAX_BITS) {
        errf(err, errlen, "%s: RSA modulus of %d bits (%d to %d accepted)", where, bits,
             RSA_MIN_BITS, RSA_MAX_BITS);
        goto out;
    }
    if (!BN_is_odd(e) || BN_num_bits(e) < 2 || BN_num_bits(e) > 64) {
        errf(err, errlen, "%s: RSA exponent e is not an odd number from 3 to 2^64", where);
        goto out;
    }
    bld = OSSL_PARAM_BLD_new();
    if (bld == NULL || OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, n) != 1 ||
        OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, e) != 1 ||
        (params = OSSL_PARAM_BLD_to_param(bld)) == NULL) {
        errf(err, errlen, "%s: out of memory", where);
        goto out;
    }
    ctx = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL);
    if (ctx == NULL || EVP_PKEY_fromdata_init(ctx) != 1 ||
        EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_PUBLIC_KEY, params) != 1) {
        errf(err, errlen, "%s: OpenSSL refuses the RSA key", where);
        pkey = NULL;
    }
out:
    EVP_PKEY_CTX_free(ctx);
    OSSL_PARAM_free(params);
    OSSL_PARAM_BLD_free(bld);
    BN_free(n);
    BN_free(e);
    free(nb);
    free(eb);
    return pkey;
}

static EVP_PKEY *
ec_key(const json_t *o, const char *where, char *err, size_t errlen)
{
    const char *crv = json_string_value(json_object_get(o, "crv"));
    uint8_t *x = NULL, *y = NULL, pub[65];
    size_t xlen = 0, ylen = 0;
    EVP_PKEY_CTX *ctx = NULL, *check = NULL;
    EVP_PKEY *pkey = NULL;
    OSSL_PARAM params[3];

    if (crv == NULL || strcmp(crv, "P-256") != 0) {
        errf(err, errlen, "%s: EC curve %s is not supported (P-256)", where,
             crv != NULL ? crv : "(none)");
        return NULL;
    }
    x = member_b64(o, "x", &xlen, where, err, errlen);
    y = x != NULL ? member_b64(o, "y", &ylen, where, err, errlen) : NULL;
    if (y == NULL) {
        goto out;
    }
    if (xlen != 32 || ylen != 32) {
        errf(err, errlen, "%s: P-256 x and y must be 32 bytes each", where);
        goto out;
    }
    pub[0] = 0x04; /* uncompressed point */
    memcpy(pub + 1, x, 32);
    memcpy(pub + 33, y, 32);
    params[0] =
        OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, (char *)"prime256v1", 0);
    params[1] = OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PUB_KEY, pub, sizeof(pub));
    params[2] = OSSL_PARAM_construct_end();
    ctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
    if (ctx == NULL || EVP_PKEY_fromdata_init(ctx) != 1 ||
        EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_PUBLIC_KEY, params) != 1) {
        errf(err, errlen, "%s: x and y are not a point of P-256", where);
        pkey = NULL;
        goto out;
    }
    check = EVP_PKEY_CTX_new_from_pkey(NULL, pkey, NULL);
    if (check == NULL || EVP_PKEY_public_check(check) != 1) {
        errf(err, errlen, "%s: x and y are not a point of P-256", where);
        EVP_PKEY_free(pkey);
        pkey = NULL;
    }
out:
    EVP_PKEY_CTX_free(check);
    EVP_PKEY_CTX_free(ctx);
    free(x);
    free(y);
    return pkey;
}

static EVP_PKEY *
okp_key(const json_t *o, const char *where, char *err, size_t errlen)
{
    const char *crv = json_string_value(json_object_get(o, "crv"));
    EVP_PKEY *pkey = NULL;
    uint8_t *x;
    size_t xlen = 0;

    if (crv == NULL || strcmp(crv, "Ed25519") != 0) {
        errf(err, errlen, "%s: OKP curve %s is not supported (Ed25519)", where,
             crv != NULL ? crv : "(none)");
        return NULL;
    }
    x = member_b64(o, "x", &xlen, where, err, errlen);
    if (x == NULL) {
        return NULL;
    }
    if (xlen != 32) {
        errf(err, errlen, "%s: an Ed25519 x is 32 bytes, not %zu", where, xlen);
    } else {
        pkey = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, x, xlen);
        if (pkey == NULL) {
            errf(err, errlen, "%s: this OpenSSL cannot load an Ed25519 key", where);
        }
    }
    free(x);
    return pkey;
}

/* One JWK into k: 1 when usable, 0 when skipped (an encryption key), -1 on error. */
static int
parse_jwk(const json_t *o, size_t index, struct jwk *k, char *err, size_t errlen)
{
    const char *kty, *use, *alg;
    const json_t *kid = json_object_get(o, "kid");
    char where[KID_MAX + 32];

    memset(k, 0, sizeof(*k));
    if (!json_is_object(o)) {
        return errf(err, errlen, "keys[%zu] is not an object", index);
    }
    if (kid != NULL && (!json_is_string(kid) || json_string_length(kid) == 0 ||
                        json_string_length(kid) >= KID_MAX)) {
        return errf(err, errlen, "keys[%zu]: kid must be a string of 1 to %d bytes", index,
                    KID_MAX - 1);
    }
    if (kid != NULL) {
        snprintf(k->kid, sizeof(k->kid), "%s", json_string_value(kid));
        k->has_kid = 1;
        snprintf(where, sizeof(where), "keys[%zu] (kid '%s')", index, k->kid);
    } else {
        snprintf(where, sizeof(where), "keys[%zu]", index);
    }
    kty = json_string_value(json_object_get(o, "kty"));
    use = json_string_value(json_object_get(o, "use"));
    alg = json_string_value(json_object_get(o, "alg"));
    if (json_object_get(o, "use") != NULL && use == NULL) {
        return errf(err, errlen, "%s: use must be a string", where);
    }
    if (use != NULL && strcmp(use, "enc") == 0) {
        return 0;
    }
    if (use != NULL && strcmp(use, "sig") != 0) {
        return errf(err, errlen, "%s: use '%s' is neither sig nor enc", where, use);
    }
    if (kty == NULL) {
        return errf(err, errlen, "%s: kty is missing", where);
    }
    if (json_object_get(o, "d") != NULL) {
        return errf(err, errlen,
                    "%s: holds a private key (d): a JWKS for ipfixd has public keys only", where);
    }
    if (strcmp(kty, "RSA") == 0) {
        k->alg = ALG_RS256;
        k->pkey = rsa_key(o, where, err, errlen);
    } else if (strcmp(kty, "EC") == 0) {
        k->alg = ALG_ES256;
        k->pkey = ec_key(o, where, err, errlen);
    } else if (strcmp(kty, "OKP") == 0) {
        k->alg = ALG_EDDSA;
        k->pkey = okp_key(o, where, err, errlen);
    } else if (strcmp(kty, "oct") == 0) {
        return errf(err, errlen,
                    "%s: symmetric keys (kty oct, HS256) are refused: whoever can verify with "
                    "one can also make tokens",
                    where);
    } else {
        return errf(err, errlen, "%s: kty '%s' is not supported (RSA, EC, OKP)", where, kty);
    }
    if (k->pkey == NULL) {
        return -1;
    }
    if ((json_object_get(o, "alg") != NULL && alg == NULL) ||
        (alg != NULL && alg_of(alg) != k->alg)) {
        EVP_PKEY_free(k->pkey);
        k->pkey = NULL;
        return errf(err, errlen, "%s: alg %s does not fit a kty %s key (%s)", where,
                    alg != NULL ? alg : "(not a string)", kty, alg_name(k->alg));
    }
    return 1;
}

struct ixd_jwks *
ixd_jwks_parse(const char *text, size_t len, char *err, size_t errlen)
{
    struct ixd_jwks *ks = NULL;
    json_error_t jerr;
    json_t *doc = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr), *keys;
    size_t i, j;

    if (doc == NULL) {
        errf(err, errlen, "line %d column %d: %s", jerr.line, jerr.column, jerr.text);
        return NULL;
    }
    keys = json_object_get(doc, "keys");
    if (!json_is_array(keys)) {
        errf(err, errlen, "not a JWKS: it needs a \"keys\" array");
        goto fail;
    }
    if (json_array_size(keys) > IXD_JWKS_MAX_KEYS) {
        errf(err, errlen, "%zu keys (at most %d)", json_array_size(keys), IXD_JWKS_MAX_KEYS);
        goto fail;
    }
    ks = calloc(1, sizeof(*ks));
    if (ks == NULL) {
        errf(err, errlen, "out of memory");
        goto fail;
    }
    for (i = 0; i < json_array_size(keys); i++) {
        struct jwk *k = &ks->keys[ks->n];
        int rc = parse_jwk(json_array_get(keys, i), i, k, err, errlen);
        if (rc == -1) {
            goto fail;
        }
        if (rc == 0) {
            continue;
        }
        ks->n++;
        for (j = 0; j + 1 < ks->n && k->has_kid; j++) {
            if (ks->keys[j].has_kid && strcmp(ks->keys[j].kid, k->kid) == 0) {
                errf(err, errlen, "keys[%zu]: kid '%s' is used twice", i, k->kid);
                goto fail;
            }
        }
    }
    if (ks->n == 0) {
        errf(err, errlen, "no signature key in the JWKS");
        goto fail;
    }
    json_decref(doc);
    return ks;
fail:
    ixd_jwks_free(ks);
    json_decref(doc);
    return NULL;
}

void
ixd_jwks_free(struct ixd_jwks *ks)
{
    size_t i;

    if (ks == NULL) {
        return;
    }
    for (i = 0; i < ks->n; i++) {
        EVP_PKEY_free(ks->keys[i].pkey);
    }
    free(ks);
}

size_t
ixd_jwks_count(const struct ixd_jwks *ks)
{
    return ks != NULL ? ks->n : 0;
}

/* ---- verification ---- */

/* A base64url part of the token as a JSON object (duplicate members refused). */
static json_t *
part_json(const char *s, size_t len, const char *what, char *err, size_t errlen)
{
    uint8_t *buf = malloc(len / 4 * 3 + 3);
    json_error_t jerr;
    json_t *o = NULL;
    size_t n = 0;

    if (buf == NULL) {
        errf(err, errlen, "out of memory");
        return NULL;
    }
    if (ixd_b64url_decode(s, len, buf, len / 4 * 3 + 3, &n) == -1) {
        errf(err, errlen, "the %s is not base64url", what);
    } else {
        o = json_loadb((const char *)buf, n, JSON_REJECT_DUPLICATES, &jerr);
        if (o == NULL) {
            errf(err, errlen, "the %s is not JSON: %s", what, jerr.text);
        } else if (!json_is_object(o)) {
            errf(err, errlen, "the %s is not a JSON object", what);
            json_decref(o);
            o = NULL;
        }
    }
    free(buf);
    return o;
}

/* The key for a header: by kid, or the only key; its algorithm must be the header's. */
static const struct jwk *
select_key(const struct ixd_jwks *ks, const json_t *header, char *err, size_t errlen)
{
    const char *alg = json_string_value(json_object_get(header, "alg"));
    const json_t *kid = json_object_get(header, "kid");
    const struct jwk *k = NULL;
    enum jwt_alg a;
    size_t i;

    if (alg == NULL) {
        errf(err, errlen, "the header has no alg");
        return NULL;
    }
    if (strcmp(alg, "none") == 0) {
        errf(err, errlen, "unsigned tokens (alg none) are refused");
        return NULL;
    }
    a = alg_of(alg);
    if (a == 0) {
        errf(err, errlen, "alg %.32s is not accepted (RS256, ES256, EdDSA)", alg);
        return NULL;
    }
    if (json_object_get(header, "crit") != NULL) {
        errf(err, errlen, "the header has crit extensions ipfixd does not know");
        return NULL;
    }
    if (kid != NULL && !json_is_string(kid)) {
        errf(err, errlen, "kid must be a string");
        return NULL;
    }
    if (kid != NULL) {
        for (i = 0; i < ks->n && k == NULL; i++) {
            if (ks->keys[i].has_kid && strcmp(ks->keys[i].kid, json_string_value(kid)) == 0) {
                k = &ks->keys[i];
            }
        }
        if (k == NULL) {
            errf(err, errlen, "no key with kid '%.64s' in the JWKS", json_string_value(kid));
            return NULL;
        }
    } else if (ks->n == 1) {
        k = &ks->keys[0];
    } else {
        errf(err, errlen, "the header has no kid and the JWKS has %zu keys", ks->n);
        return NULL;
    }
    if (k->alg != a) {
        errf(err, errlen, "alg %s does not fit key '%s' (%s)", alg, k->kid, alg_name(k->alg));
        return NULL;
    }
    return k;
}

/* JOSE ECDSA signatures are r || s (32 bytes each for P-256); OpenSSL wants DER. */
static int
ecdsa_der(const uint8_t *sig, size_t len, uint8_t *der, size_t dermax, size_t *derlen)
{
    ECDSA_SIG *s = NULL;
    BIGNUM *r = NULL, *ss = NULL;
    unsigned char *p = der;
    int n, rc = -1;

    if (len != 64) {
        return -1;
    }
    s = ECDSA_SIG_new();
    r = BN_bin2bn(sig, 32, NULL);
    ss = BN_bin2bn(sig + 32, 32, NULL);
    if (s == NULL || r == NULL || ss == NULL || ECDSA_SIG_set0(s, r, ss) != 1) {
        BN_free(r);
        BN_free(ss);
        goto out;
    }
    n = i2d_ECDSA_SIG(s, NULL);
    if (n > 0 && (size_t)n <= dermax && i2d_ECDSA_SIG(s, &p) == n) {
        *derlen = (size_t)n;
        rc = 0;
    }
out:
    ECDSA_SIG_free(s);
    return rc;
}

static int
check_signature(const struct jwk *k, const char *input, size_t inlen, const char *sig64,
                size_t siglen64)
{
    uint8_t sig[SIG_MAX], der[80];
    const uint8_t *s = sig;
    size_t slen = 0;
    EVP_MD_CTX *md;
    int ok;

    if (ixd_b64url_decode(sig64, siglen64, sig, sizeof(sig), &slen) == -1 || slen == 0) {
        return -1;
    }
    if (k->alg == ALG_ES256) {
        if (ecdsa_der(sig, slen, der, sizeof(der), &slen) == -1) {
            return -1;
        }
        s = der;
    }
    md = EVP_MD_CTX_new();
    if (md == NULL) {
        return -1;
    }
    ok = EVP_DigestVerifyInit_ex(md, NULL, k->alg == ALG_EDDSA ? NULL : "SHA256", NULL, NULL,
                                 k->pkey, NULL) == 1 &&
         EVP_DigestVerify(md, s, slen, (const unsigned char *)input, inlen) == 1;
    EVP_MD_CTX_free(md);
    return ok ? 0 : -1;
}

/* A NumericDate claim: 1 with *out, 0 when absent, -1 when not a finite number. */
static int
numeric_date(const json_t *claims, const char *key, double *out)
{
    const json_t *v = json_object_get(claims, key);

    if (v == NULL) {
        return 0;
    }
    if (!json_is_number(v) || !isfinite(json_number_value(v))) {
        return -1;
    }
    *out = json_number_value(v);
    return 1;
}

static int
audience_holds(const json_t *aud, const char *want)
{
    size_t i;

    if (json_is_string(aud)) {
        return strcmp(json_string_value(aud), want) == 0;
    }
    for (i = 0; json_is_array(aud) && i < json_array_size(aud); i++) {
        const char *s = json_string_value(json_array_get(aud, i));
        if (s != NULL && strcmp(s, want) == 0) {
            return 1;
        }
    }
    return 0;
}

static int
check_claims(const json_t *c, const struct ixd_jwt_policy *p, int64_t now, char *err, size_t errlen)
{
    const char *iss = json_string_value(json_object_get(c, "iss"));
    double exp = 0, nbf = 0;
    int has;

    has = numeric_date(c, "exp", &exp);
    if (has <= 0) {
        return errf(err, errlen, "the token has %s exp", has == 0 ? "no" : "a non-numeric");
    }
    if ((double)now >= exp + (double)p->leeway) {
        return errf(err, errlen, "the token expired %.0f s ago", (double)now - exp);
    }
    has = numeric_date(c, "nbf", &nbf);
    if (has == -1) {
        return errf(err, errlen, "the token has a non-numeric nbf");
    }
    if (has == 1 && nbf > (double)now + (double)p->leeway) {
        return errf(err, errlen, "the token is not valid for another %.0f s", nbf - (double)now);
    }
    if (iss == NULL || p->issuer == NULL || strcmp(iss, p->issuer) != 0) {
        return errf(err, errlen, "the token's issuer is not %.200s",
                    p->issuer != NULL ? p->issuer : "(none configured)");
    }
    if (p->audience == NULL || !audience_holds(json_object_get(c, "aud"), p->audience)) {
        return errf(err, errlen, "the token's audience does not include %.200s",
                    p->audience != NULL ? p->audience : "(none configured)");
    }
    return 0;
}

int
ixd_jwt_verify(const struct ixd_jwks *ks, const struct ixd_jwt_policy *policy, const char *token,
               size_t len, int64_t now, json_t **claims, char *err, size_t errlen)
{
    const char *dot1, *dot2;
    const struct jwk *k;
    json_t *header = NULL, *payload = NULL;

    *claims = NULL;
    if (ks == NULL || len > IXD_JWT_MAX_LEN) {
        return errf(err, errlen, "the token is longer than %d bytes", IXD_JWT_MAX_LEN);
    }
    dot1 = memchr(token, '.', len);
    dot2 = dot1 != NULL ? memchr(dot1 + 1, '.', len - (size_t)(dot1 + 1 - token)) : NULL;
    if (dot2 == NULL || memchr(dot2 + 1, '.', len - (size_t)(dot2 + 1 - token)) != NULL) {
        return errf(err, errlen, "not a JWT (three base64url parts joined by dots)");
    }
    header = part_json(token, (size_t)(dot1 - token), "header", err, errlen);
    if (header == NULL) {
        return -1;
    }
    k = select_key(ks, header, err, errlen);
    json_decref(header);
    if (k == NULL) {
        return -1;
    }
    if (check_signature(k, token, (size_t)(dot2 - token), dot2 + 1,
                        len - (size_t)(dot2 + 1 - token)) == -1) {
        return errf(err, errlen, "the signature does not verify with key '%s'", k->kid);
    }
    payload = part_json(dot1 + 1, (size_t)(dot2 - dot1 - 1), "payload", err, errlen);
    if (payload == NULL) {
        return -1;
    }
    if (check_claims(payload, policy, now, err, errlen) == -1) {
        json_decref(payload);
        return -1;
    }
    *claims = payload;
    return 0;
}

/* ---- static bearer tokens ---- */

int
ixd_token_sha256(const void *data, size_t len, uint8_t out[IXD_TOKEN_HASH_LEN])
{
    unsigned int n = 0;

    return EVP_Digest(data, len, out, &n, EVP_sha256(), NULL) == 1 && n == IXD_TOKEN_HASH_LEN ? 0
                                                                                              : -1;
}

int
ixd_token_hash_equal(const uint8_t a[IXD_TOKEN_HASH_LEN], const uint8_t b[IXD_TOKEN_HASH_LEN])
{
    return CRYPTO_memcmp(a, b, IXD_TOKEN_HASH_LEN) == 0;
}
