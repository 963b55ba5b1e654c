/*
 * The HA channel (docs/internals/ha.md): on the control thread's libev loop, a listener for
 * the peer's connection and an outgoing connection to the peer (reconnecting with backoff), both
 * non-blocking and authenticated with the shared key (src/ha/protocol.h).
 *
 * Outgoing: every interval it empties the workers' outboxes (src/ha/state.h), keeps the latest
 * item of each (collector, kind, worker), and sends what is new; a connection that comes up
 * gets every latest item (the full set). Incoming: each state frame is decoded and handed to
 * deliver, which has every worker restore it. Control thread only.
 */
#ifndef IXD_HA_CHANNEL_H
#define IXD_HA_CHANNEL_H

#include <ev.h>
#include <stddef.h>

#include "core/config.h"
#include "ha/state.h"

/* Hands a decoded peer state to every worker; adds what they took to *got. Blocks until done. */
typedef void (*ixd_ha_deliver_fn)(void *arg, const struct ixd_ha_peer_state *st,
                                  struct ixd_ha_restored *got);

#define IXD_HA_QUEUE_MAX (64u << 20) /* bytes waiting to go to the peer; beyond: reconnect */
/* connections to the listener at once; the oldest one not authenticated makes room for a new one */
#define IXD_HA_INCOMING_MAX 4
#define IXD_HA_HANDSHAKE_TIMEOUT 5.0 /* seconds from connect to authenticated */
#define IXD_HA_BACKOFF_MIN 0.1
#define IXD_HA_BACKOFF_MAX 5.0

struct ixd_ha_channel;

/*
 * Reads the key file, listens and starts connecting to the peer. outboxes (one per worker) must
 * outlive the channel. NULL with err when the key file or the listening address is unusable.
 */
struct ixd_ha_channel *ixd_ha_channel_new(struct ev_loop *loop, const struct ixd_config_ha *cfg,
                                          struct ixd_ha_outbox *const *outboxes, size_t n_workers,
                                          ixd_ha_deliver_fn deliver, void *arg, char *err,
                                          size_t errlen);
/* Closes every connection and wipes the key. NULL is a no-op. */
void ixd_ha_channel_free(struct ixd_ha_channel *ch);
/* The settings it runs with (a reload compares them). */
const struct ixd_config_ha *ixd_ha_channel_config(const struct ixd_ha_channel *ch);
/* Logs its counters on one line: "<when> ha: ...". */
void ixd_ha_channel_log(const struct ixd_ha_channel *ch, const char *when);

#endif
