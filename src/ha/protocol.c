#include "ha/protocol.h"

#include <stdlib.h>
#include <string.h>

#include "ipfix/wire.h"

#define LABEL_CLIENT "ipfixd-ha/1 client"
#define LABEL_SERVER "ipfixd-ha/1 server"
#define LABEL_SESSION "ipfixd-ha/1 session"
#define HELLO_LEN (1 + IXD_HA_ID_LEN + IXD_HA_NONCE_LEN)
#define AUTH_LEN (IXD_HA_ID_LEN + IXD_HA_NONCE_LEN + IXD_HMAC_LEN)
#define STATE_FIXED (2 + 1 + 2 + 4 + IXD_HMAC_LEN)

_Static_assert(1 + AUTH_LEN == IXD_HA_HANDSHAKE_FRAME_MAX &&
                   1 + HELLO_LEN <= IXD_HA_HANDSHAKE_FRAME_MAX &&
                   1 + IXD_HMAC_LEN <= IXD_HA_HANDSHAKE_FRAME_MAX,
               "every handshake frame fits under the cap before authentication");

int
ixd_ha_buf_reserve(struct ixd_ha_buf *b, size_t n)
{
    size_t want;
    uint8_t *p;

    if (b->off > 0 && (b->off == b->len || b->off >= b->cap / 2)) {
        /* compact: what was read goes */
        memmove(b->data, b->data + b->off, b->len - b->off);
        b->len -= b->off;
        b->off = 0;
    }
    if (b->cap - b->len >= n) {
        return 0;
    }
    want = b->cap > 0 ? b->cap : 4096;
    while (want - b->len < n) {
        if (want > SIZE_MAX / 2) {
            return -1;
        }
        want *= 2;
    }
    p = realloc(b->data, want);
    if (p == NULL) {
        return -1;
    }
    b->data = p;
    b->cap = want;
    return 0;
}

int
ixd_ha_buf_append(struct ixd_ha_buf *b, const void *p, size_t n)
{
    if (ixd_ha_buf_reserve(b, n) == -1) {
        return -1;
    }
    memcpy(b->data + b->len, p, n);
    b->len += n;
    return 0;
}

size_t
ixd_ha_buf_pending(const struct ixd_ha_buf *b)
{
    return b->len - b->off;
}

void
ixd_ha_buf_consume(struct ixd_ha_buf *b, size_t n)
{
    b->off += n;
    if (b->off == b->len) {
        b->off = b->len = 0;
    }
}

void
ixd_ha_buf_release(struct ixd_ha_buf *b)
{
    free(b->data);
    memset(b, 0, sizeof(*b));
}

int
ixd_ha_frame_peek(const struct ixd_ha_buf *in, size_t max_body, struct ixd_ha_frame *f)
{
    const uint8_t *p = in->data + in->off;
    size_t have = in->len - in->off, body;

    if (have < IXD_HA_HEADER_LEN) {
        return 0;
    }
    body = ixd_get32(p);
    if (body == 0 || body > max_body) {
        return -1;
    }
    if (have - IXD_HA_HEADER_LEN < body) {
        return 0;
    }
    f->type = p[IXD_HA_HEADER_LEN];
    f->payload = p + IXD_HA_HEADER_LEN + 1;
    f->len = body - 1;
    f->size = IXD_HA_HEADER_LEN + body;
    return 1;
}

static void
put_be(uint8_t *p, uint64_t v, unsigned bytes)
{
    while (bytes-- > 0) {
        p[bytes] = (uint8_t)v;
        v >>= 8;
    }
}

/* Appends the header and type of a frame whose payload is payload_len bytes. */
static int
frame_begin(struct ixd_ha_buf *out, uint8_t type, size_t payload_len)
{
    uint8_t h[IXD_HA_HEADER_LEN + 1];

    if (payload_len + 1 > IXD_HA_FRAME_MAX) {
        return -1;
    }
    put_be(h, payload_len + 1, 4);
    h[4] = type;
    return ixd_ha_buf_append(out, h, sizeof(h));
}

int
ixd_ha_auth_init(struct ixd_ha_auth *a, int client, const uint8_t *key, size_t keylen,
                 const uint8_t id[IXD_HA_ID_LEN])
{
    memset(a, 0, sizeof(*a));
    a->client = client;
    a->key = key;
    a->keylen = keylen;
    memcpy(a->id, id, IXD_HA_ID_LEN);
    return ixd_random_bytes(a->nonce, sizeof(a->nonce));
}

size_t
ixd_ha_frame_max(const struct ixd_ha_auth *a)
{
    return a->done && !a->client ? IXD_HA_FRAME_MAX : IXD_HA_HANDSHAKE_FRAME_MAX;
}

int
ixd_ha_auth_hello(struct ixd_ha_auth *a, struct ixd_ha_buf *out)
{
    uint8_t p[HELLO_LEN];

    p[0] = IXD_HA_VERSION;
    memcpy(p + 1, a->id, IXD_HA_ID_LEN);
    memcpy(p + 1 + IXD_HA_ID_LEN, a->nonce, IXD_HA_NONCE_LEN);
    return frame_begin(out, IXD_HA_HELLO, sizeof(p)) == 0 ? ixd_ha_buf_append(out, p, sizeof(p))
                                                          : -1;
}

/* The MAC one side proves itself with: over its peer's challenge first, then its own. */
static int
proof(const struct ixd_ha_auth *a, const char *label, const uint8_t *first_id,
      const uint8_t *first_nonce, const uint8_t *second_id, const uint8_t *second_nonce,
      uint8_t out[IXD_HMAC_LEN])
{
    struct ixd_hmac_part parts[] = {
        {label, strlen(label)},           {first_id, IXD_HA_ID_LEN},
        {first_nonce, IXD_HA_NONCE_LEN},  {second_id, IXD_HA_ID_LEN},
        {second_nonce, IXD_HA_NONCE_LEN},
    };
    return ixd_hmac_sha256(a->key, a->keylen, parts, 5, out);
}

static int
derive_session(struct ixd_ha_auth *a)
{
    const uint8_t *cn = a->client ? a->nonce : a->peer_nonce;
    const uint8_t *sn = a->client ? a->peer_nonce : a->nonce;
    const uint8_t *ci = a->client ? a->id : a->peer_id;
    const uint8_t *si = a->client ? a->peer_id : a->id;

    return proof(a, LABEL_SESSION, ci, cn, si, sn, a->session);
}

/* Client: the server's HELLO; answers with AUTH. */
static enum ixd_ha_result
on_hello(struct ixd_ha_auth *a, const struct ixd_ha_frame *f, struct ixd_ha_buf *out)
{
    uint8_t p[AUTH_LEN];

    if (f->len != HELLO_LEN || f->payload[0] != IXD_HA_VERSION) {
        return IXD_HA_EPROTOCOL;
    }
    memcpy(a->peer_id, f->payload + 1, IXD_HA_ID_LEN);
    memcpy(a->peer_nonce, f->payload + 1 + IXD_HA_ID_LEN, IXD_HA_NONCE_LEN);
    /* our own challenge coming back: a reflection, or a peer address that is our own */
    if (memcmp(a->peer_id, a->id, IXD_HA_ID_LEN) == 0) {
        return IXD_HA_EAUTH;
    }
    memcpy(p, a->id, IXD_HA_ID_LEN);
    memcpy(p + IXD_HA_ID_LEN, a->nonce, IXD_HA_NONCE_LEN);
    if (proof(a, LABEL_CLIENT, a->peer_id, a->peer_nonce, a->id, a->nonce,
              p + IXD_HA_ID_LEN + IXD_HA_NONCE_LEN) == -1) {
        return IXD_HA_ENOMEM;
    }
    if (frame_begin(out, IXD_HA_AUTH, sizeof(p)) == -1 ||
        ixd_ha_buf_append(out, p, sizeof(p)) == -1) {
        return IXD_HA_ENOMEM;
    }
    return IXD_HA_OK;
}

/* Server: the client's AUTH; answers with AUTH_OK when it proves the key. */
static enum ixd_ha_result
on_auth(struct ixd_ha_auth *a, const struct ixd_ha_frame *f, struct ixd_ha_buf *out)
{
    uint8_t want[IXD_HMAC_LEN], reply[IXD_HMAC_LEN];

    if (f->len != AUTH_LEN) {
        return IXD_HA_EPROTOCOL;
    }
    memcpy(a->peer_id, f->payload, IXD_HA_ID_LEN);
    memcpy(a->peer_nonce, f->payload + IXD_HA_ID_LEN, IXD_HA_NONCE_LEN);
    if (memcmp(a->peer_id, a->id, IXD_HA_ID_LEN) == 0 ||
        memcmp(a->peer_nonce, a->nonce, IXD_HA_NONCE_LEN) == 0) {
        return IXD_HA_EAUTH;
    }
    if (proof(a, LABEL_CLIENT, a->id, a->nonce, a->peer_id, a->peer_nonce, want) == -1) {
        return IXD_HA_ENOMEM;
    }
    if (!ixd_hmac_equal(want, f->payload + IXD_HA_ID_LEN + IXD_HA_NONCE_LEN)) {
        return IXD_HA_EAUTH;
    }
    if (proof(a, LABEL_SERVER, a->peer_id, a->peer_nonce, a->id, a->nonce, reply) == -1 ||
        derive_session(a) == -1) {
        return IXD_HA_ENOMEM;
    }
    if (frame_begin(out, IXD_HA_AUTH_OK, sizeof(reply)) == -1 ||
        ixd_ha_buf_append(out, reply, sizeof(reply)) == -1) {
        return IXD_HA_ENOMEM;
    }
    a->done = 1;
    return IXD_HA_DONE;
}

/* Client: the server's AUTH_OK proves that it holds the key too. */
static enum ixd_ha_result
on_auth_ok(struct ixd_ha_auth *a, const struct ixd_ha_frame *f)
{
    uint8_t want[IXD_HMAC_LEN];

    if (f->len != IXD_HMAC_LEN) {
        return IXD_HA_EPROTOCOL;
    }
    if (proof(a, LABEL_SERVER, a->id, a->nonce, a->peer_id, a->peer_nonce, want) == -1) {
        return IXD_HA_ENOMEM;
    }
    if (!ixd_hmac_equal(want, f->payload)) {
        return IXD_HA_EAUTH;
    }
    if (derive_session(a) == -1) {
        return IXD_HA_ENOMEM;
    }
    a->done = 1;
    return IXD_HA_DONE;
}

enum ixd_ha_result
ixd_ha_auth_step(struct ixd_ha_auth *a, const struct ixd_ha_frame *f, struct ixd_ha_buf *out)
{
    /* each side expects exactly one frame type at each point of the handshake */
    if (a->done) {
        return IXD_HA_EPROTOCOL;
    }
    if (a->client && f->type == IXD_HA_HELLO && !a->hello_seen) {
        a->hello_seen = 1;
        return on_hello(a, f, out);
    }
    if (a->client && a->hello_seen && f->type == IXD_HA_AUTH_OK) {
        return on_auth_ok(a, f);
    }
    if (!a->client && f->type == IXD_HA_AUTH) {
        return on_auth(a, f, out);
    }
    return IXD_HA_EPROTOCOL;
}

size_t
ixd_ha_state_size(const char *collector, size_t len)
{
    return IXD_HA_HEADER_LEN + 1 + STATE_FIXED + strlen(collector) + len;
}

/* The MAC of a STATE frame: its number, type and payload before the MAC. */
static int
state_mac(const struct ixd_ha_auth *a, const uint8_t *payload, size_t len,
          uint8_t out[IXD_HMAC_LEN])
{
    uint8_t number[8], type = IXD_HA_STATE;
    struct ixd_hmac_part parts[3] = {{number, 8}, {&type, 1}, {payload, len}};

    put_be(number, a->frames, 8);
    return ixd_hmac_sha256(a->session, sizeof(a->session), parts, 3, out);
}

int
ixd_ha_state_append(struct ixd_ha_auth *a, struct ixd_ha_buf *out, const char *collector,
                    uint8_t kind, uint16_t worker, uint32_t entries, const uint8_t *data,
                    size_t len)
{
    size_t namelen = strlen(collector), start;
    uint8_t fixed[2 + 1 + 2 + 4];

    /* the payload is appended piece by piece, then its MAC over where it ended up */

    if (!a->done || !a->client || namelen >= 64 ||
        STATE_FIXED + namelen + len + 1 > IXD_HA_FRAME_MAX ||
        frame_begin(out, IXD_HA_STATE, STATE_FIXED + namelen + len) == -1) {
        return -1;
    }
    put_be(fixed, namelen, 2);
    if (ixd_ha_buf_append(out, fixed, 2) == -1 ||
        ixd_ha_buf_append(out, collector, namelen) == -1) {
        return -1;
    }
    fixed[0] = kind;
    put_be(fixed + 1, worker, 2);
    put_be(fixed + 3, entries, 4);
    if (ixd_ha_buf_append(out, fixed, 7) == -1 || ixd_ha_buf_append(out, data, len) == -1 ||
        ixd_ha_buf_reserve(out, IXD_HMAC_LEN) == -1) {
        return -1;
    }
    /* reserve may have compacted the buffer: the payload is the last bytes before len */
    start = out->len - (2 + namelen + 7 + len);
    if (state_mac(a, out->data + start, out->len - start, out->data + out->len) == -1) {
        return -1;
    }
    out->len += IXD_HMAC_LEN;
    a->frames++;
    return 0;
}

enum ixd_ha_result
ixd_ha_state_open(struct ixd_ha_auth *a, const struct ixd_ha_frame *f, struct ixd_ha_state_view *v)
{
    uint8_t want[IXD_HMAC_LEN];
    const uint8_t *p = f->payload;
    size_t namelen, body;

    if (!a->done || a->client || f->type != IXD_HA_STATE || f->len < STATE_FIXED) {
        return IXD_HA_EPROTOCOL;
    }
    body = f->len - IXD_HMAC_LEN;
    if (state_mac(a, p, body, want) == -1) {
        return IXD_HA_ENOMEM;
    }
    /* checked before anything inside is believed */
    if (!ixd_hmac_equal(want, p + body)) {
        return IXD_HA_EAUTH;
    }
    a->frames++;
    namelen = ixd_get16(p);
    if (namelen == 0 || namelen >= sizeof(v->collector) || 2 + namelen + 7 > body ||
        memchr(p + 2, '\0', namelen) != NULL) {
        return IXD_HA_EPROTOCOL;
    }
    memcpy(v->collector, p + 2, namelen);
    v->collector[namelen] = '\0';
    p += 2 + namelen;
    v->kind = p[0];
    v->worker = ixd_get16(p + 1);
    v->entries = ixd_get32(p + 3);
    v->data = p + 7;
    v->len = body - (2 + namelen + 7);
    return IXD_HA_OK;
}
