/*
 * The HA channel's wire protocol (docs/internals/ha.md): length-prefixed frames, a mutual
 * HMAC-SHA256 challenge-response with the shared key, then state frames each authenticated with
 * a session key. Pure functions over buffers: src/ha/channel.c does the sockets.
 *
 *   frame   = u32 body length | body          (big-endian; body at most IXD_HA_FRAME_MAX)
 *   body    = u8 type | payload
 *   HELLO   (server -> client)  u8 version | server id[16] | server nonce[32]
 *   AUTH    (client -> server)  client id[16] | client nonce[32] | HMAC(key, "ipfixd-ha/1 client"
 *                               | server id | server nonce | client id | client nonce)
 *   AUTH_OK (server -> client)  HMAC(key, "ipfixd-ha/1 server" | client id | client nonce
 *                               | server id | server nonce)
 *   STATE   (client -> server)  u16 name length | collector | u8 kind | u16 worker | u32 entries
 *                               | data | HMAC(session, u64 frame number | type | all before)
 *   session = HMAC(key, "ipfixd-ha/1 session" | client id | client nonce | server id
 *                  | server nonce)
 */
#ifndef IXD_HA_PROTOCOL_H
#define IXD_HA_PROTOCOL_H

#include <stddef.h>
#include <stdint.h>

#include "core/config.h"
#include "crypto/hmac.h"

#define IXD_HA_VERSION 1
#define IXD_HA_ID_LEN 16
#define IXD_HA_NONCE_LEN 32
/* IXD_HA_KEY_MIN, IXD_HA_KEY_MAX: the key file's size bounds, in core/config.h (which
 * ipfixd -t checks the key file against) */
#define IXD_HA_HEADER_LEN 4
#define IXD_HA_FRAME_MAX (16u << 20) /* largest frame body: a bigger one drops the connection */
/* Largest handshake frame body (AUTH): until a connection is authenticated, a longer one is not
 * buffered but drops it, so a stranger cannot make us hold more than this per connection. */
#define IXD_HA_HANDSHAKE_FRAME_MAX (1 + IXD_HA_ID_LEN + IXD_HA_NONCE_LEN + IXD_HMAC_LEN)

enum ixd_ha_type {
    IXD_HA_HELLO = 1,
    IXD_HA_AUTH = 2,
    IXD_HA_AUTH_OK = 3,
    IXD_HA_STATE = 4,
};

/* A byte queue: unread bytes are data[off, len). */
struct ixd_ha_buf {
    uint8_t *data;
    size_t off, len, cap;
};

/* Room for n more bytes at data + len. 0, or -1 when out of memory. */
int ixd_ha_buf_reserve(struct ixd_ha_buf *b, size_t n);
int ixd_ha_buf_append(struct ixd_ha_buf *b, const void *p, size_t n);
size_t ixd_ha_buf_pending(const struct ixd_ha_buf *b);
void ixd_ha_buf_consume(struct ixd_ha_buf *b, size_t n);
void ixd_ha_buf_release(struct ixd_ha_buf *b);

struct ixd_ha_frame {
    uint8_t type;
    const uint8_t *payload; /* into the buffer: valid until it is consumed */
    size_t len;
    size_t size; /* header and body: what to consume */
};

/* The frame at the head of in: 1 when complete, 0 when more bytes are needed, -1 when its body
 * is empty or longer than max_body (the connection cannot be trusted any more). */
int ixd_ha_frame_peek(const struct ixd_ha_buf *in, size_t max_body, struct ixd_ha_frame *f);

/* One side of one connection's authentication. The key is borrowed. */
struct ixd_ha_auth {
    int client;
    int hello_seen; /* client: the server's challenge came */
    int done;
    const uint8_t *key;
    size_t keylen;
    uint8_t id[IXD_HA_ID_LEN], nonce[IXD_HA_NONCE_LEN];
    uint8_t peer_id[IXD_HA_ID_LEN], peer_nonce[IXD_HA_NONCE_LEN];
    uint8_t session[IXD_HMAC_LEN];
    uint64_t frames; /* STATE frames sent or received: each MAC covers its number */
};

enum ixd_ha_result {
    IXD_HA_OK = 0,
    IXD_HA_DONE = 1,       /* authenticated */
    IXD_HA_EAUTH = -1,     /* the peer does not hold the key (or is this process itself) */
    IXD_HA_EPROTOCOL = -2, /* not this protocol, or a frame out of place */
    IXD_HA_ENOMEM = -3,
};

/* id names this process (random at start: a process that meets itself refuses). Draws a nonce.
 * 0, or -1 when there is no randomness. */
int ixd_ha_auth_init(struct ixd_ha_auth *a, int client, const uint8_t *key, size_t keylen,
                     const uint8_t id[IXD_HA_ID_LEN]);
/* The longest frame body the other end may send now: IXD_HA_FRAME_MAX to an authenticated
 * server (STATE frames), IXD_HA_HANDSHAKE_FRAME_MAX otherwise (the handshake, and a client
 * expects nothing after it). */
size_t ixd_ha_frame_max(const struct ixd_ha_auth *a);
/* Server: appends the HELLO that opens a connection. */
int ixd_ha_auth_hello(struct ixd_ha_auth *a, struct ixd_ha_buf *out);
/* Handles one handshake frame, appending the reply to out. */
enum ixd_ha_result ixd_ha_auth_step(struct ixd_ha_auth *a, const struct ixd_ha_frame *f,
                                    struct ixd_ha_buf *out);

/* Client, authenticated: appends a STATE frame. 0, or -1 when out of memory. */
int ixd_ha_state_append(struct ixd_ha_auth *a, struct ixd_ha_buf *out, const char *collector,
                        uint8_t kind, uint16_t worker, uint32_t entries, const uint8_t *data,
                        size_t len);

/* A STATE frame, checked; data points into the frame. */
struct ixd_ha_state_view {
    char collector[64];
    uint8_t kind;
    uint16_t worker;
    uint32_t entries;
    const uint8_t *data;
    size_t len;
};

/* Server, authenticated: checks a STATE frame's MAC and layout. */
enum ixd_ha_result ixd_ha_state_open(struct ixd_ha_auth *a, const struct ixd_ha_frame *f,
                                     struct ixd_ha_state_view *v);

/* The size of the STATE frame for a collector name and data of len bytes. */
size_t ixd_ha_state_size(const char *collector, size_t len);

#endif
