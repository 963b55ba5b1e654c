#include "ipfix/dispatch.h"

#include "ipfix/netflow.h"
#include "ipfix/wire.h"

void
ixd_datagram_process(struct ixd_decoder *dec, struct ixd_session *s, const uint8_t *data,
                     size_t len, double now, int64_t usec)
{
    if (len >= 2 && data[0] == 0 && data[1] != IXD_IPFIX_VERSION &&
        (data[1] == IXD_NETFLOW9_VERSION || data[1] == IXD_NETFLOW5_VERSION)) {
        ixd_netflow_process(dec, s, data, len, now, usec);
        return;
    }
    /* an IPFIX exporter on a port a NetFlow one used before: its own sequence numbers count */
    s->packet_sequence = 0;
    s->source.system_init_ms = 0;
    ixd_message_process(dec, s, data, len, now, usec);
}
