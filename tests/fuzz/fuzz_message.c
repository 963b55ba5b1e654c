/*
 * One input = one UDP datagram from one exporter: an IPFIX message, or a NetFlow v9/v5 packet
 * that the worker rewrites as IPFIX; fresh sessions per input so that every finding replays
 * alone. The message is processed twice on the same
 * session with the daemon's default limits: the second pass sees the templates of the first, so
 * a message carrying data before (or without) its templates still reaches the data-record and
 * JSON paths, and data held from the first pass may be decoded late.
 */
#include "fuzz_records.h"

#include <arpa/inet.h>
#include <string.h>

#define LIFETIME 1800
#define NOW 1000.0

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fuzz_sink sink;
    struct ixd_decoder *dec = fuzz_decoder(&sink);
    struct ixd_sessions ss;
    struct ixd_session *s;
    struct ixd_session_limits limits;
    struct sockaddr_in sin;

    memset(&sin, 0, sizeof(sin));
    sin.sin_family = AF_INET;
    sin.sin_port = htons(5000);
    sin.sin_addr.s_addr = htonl(0xc0000201); /* 192.0.2.1 */
    fuzz_limits(&limits, 0, LIFETIME);
    ixd_sessions_init(&ss, FUZZ_COLLECTOR, 0, fuzz_rules(), &limits);
    s = ixd_session_udp(&ss, (const struct sockaddr *)&sin, NOW);
    FUZZ_CHECK(s != NULL);
    fuzz_datagram(dec, &sink, s, data, size, NOW);
    fuzz_datagram(dec, &sink, s, data, size, NOW + 1);
    ixd_sessions_drop_held(&ss); /* as the daemon does at stop */
    ixd_sessions_release(&ss);
    return 0;
}
