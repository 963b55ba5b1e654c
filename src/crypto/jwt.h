/*
 * JSON Web Tokens for the API's auth (docs/api.md#auth): a JWKS of public keys, and the
 * verification of compact JWS tokens (RFC 7515, 7517, 7518, 7519, 8037) signed with RS256,
 * ES256 or EdDSA (Ed25519), as an OIDC provider such as Ory Hydra issues them. Also the SHA-256
 * and constant-time comparison of static bearer tokens. All OpenSSL use stays in src/crypto/.
 *
 * What is refused on purpose (RFC 8725): `alg: none`; any HMAC algorithm (an HS256 token "signed"
 * with a public key would otherwise pass: algorithm confusion); an `alg` other than the one the
 * key selected by `kid` is for; a `crit` header; keys embedded in the token (`jwk`, `jku`,
 * `x5u` are never looked at); padded, non-canonical or non-base64url encodings; duplicate JSON
 * members. A verified token still has to carry `exp`, `iss` and `aud` matching the policy.
 *
 * A key set is immutable once parsed: any thread may verify with it concurrently.
 */
#ifndef IXD_CRYPTO_JWT_H
#define IXD_CRYPTO_JWT_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#define IXD_TOKEN_HASH_LEN 32 /* SHA-256 */
#define IXD_JWT_MAX_LEN 16384 /* longest compact token accepted, bytes */
#define IXD_JWKS_MAX_KEYS 64

struct ixd_jwks;

/*
 * Parses a JWKS ({"keys": [...]}) of public signature keys: RSA (n, e; 2048 bits or more),
 * EC P-256 (x, y; the point must be on the curve), OKP Ed25519 (x). Keys with "use": "enc" are
 * skipped; anything else that is not such a key (a symmetric "oct" key, a private member "d",
 * an "alg" that does not fit the key, duplicate "kid"s, bad base64url) is an error naming the
 * key, e.g. "keys[1] (kid 'a'): n is not base64url". NULL with the message in err. The caller
 * frees the set with ixd_jwks_free().
 */
struct ixd_jwks *ixd_jwks_parse(const char *text, size_t len, char *err, size_t errlen);
void ixd_jwks_free(struct ixd_jwks *ks);
/* Usable keys in the set. */
size_t ixd_jwks_count(const struct ixd_jwks *ks);

/* What a verified token must also say. */
struct ixd_jwt_policy {
    const char *issuer;   /* "iss" must equal it */
    const char *audience; /* "aud" (a string or an array of strings) must hold it */
    int64_t leeway;       /* seconds of clock difference allowed on "exp" and "nbf" */
};

/*
 * Verifies the compact JWS token (len bytes, not NUL-terminated) against the key set and the
 * policy at now (UNIX seconds): the key is the one whose "kid" the header names (or the only
 * key of a one-key set when the header names none), the header's "alg" must be the key's,
 * the signature must verify, and the claims must hold "exp" (now < exp + leeway), "nbf" if
 * present (nbf <= now + leeway), "iss" and "aud" as the policy says. 0 and *claims (the
 * payload object, owned by the caller: json_decref) on success; -1 with why in err (no secrets
 * in it: fit for a 401 answer).
 */
int ixd_jwt_verify(const struct ixd_jwks *ks, const struct ixd_jwt_policy *policy,
                   const char *token, size_t len, int64_t now, json_t **claims, char *err,
                   size_t errlen);

/*
 * Strict base64url (RFC 4648 section 5) without padding: only A-Z a-z 0-9 - _, no '=', no
 * length of 1 mod 4, and unused trailing bits zero (one encoding per byte string). Writes at
 * most outmax bytes. 0 and *outlen, or -1.
 */
int ixd_b64url_decode(const char *in, size_t len, uint8_t *out, size_t outmax, size_t *outlen);

/* out = SHA-256(data): how static bearer tokens are stored and looked up. 0 or -1. */
int ixd_token_sha256(const void *data, size_t len, uint8_t out[IXD_TOKEN_HASH_LEN]);
/* 1 when the two hashes are equal, compared in constant time. */
int ixd_token_hash_equal(const uint8_t a[IXD_TOKEN_HASH_LEN], const uint8_t b[IXD_TOKEN_HASH_LEN]);

#endif
