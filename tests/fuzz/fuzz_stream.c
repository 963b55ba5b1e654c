/*
 * One input = the life of one exporter: a stream of messages on one session with state kept
 * between them, so template-then-data sequences, refreshes, replacements, withdrawals, sequence
 * accounting and template expiry are all reached.
 *
 * Input layout:
 *   byte 0      mode: bit 0 transport (0 UDP, 1 TCP); bits 1-2 framer piece size class;
 *               bit 3 tiny limits (fuzz_limits); bit 4 no holding of data before its template;
 *               bits 5-7 template lifetime 15 * (1 + v) seconds
 *   then chunks [u16 big-endian length][that many bytes]: one message each (the last one may be
 *   cut short by the end of the input). A zero-length chunk is a clock tick [u8 seconds]
 *   [u8 event]: the fake clock advances and expiry runs (ixd_sessions_expire, and on TCP
 *   ixd_session_expire_held, as the worker's timer does); then the event bits: 0-1 the
 *   exporter's source port and 2 its address (192.0.2.1 or 2001:db8::1), so UDP messages come
 *   from another session (an exporter restart, session limits); 3 on TCP closes the connection
 *   and opens a new one (the exporter must resend its templates); 4 a reload that swaps default
 *   and tiny limits and toggles holding while the state stays (as the worker applies a reload).
 *
 * Then the messages, concatenated as an exporter writes them to a TCP socket, go through an
 * ixd_framer in pieces whose sizes come from the input, and every message it cuts out is
 * processed on a TCP session. Messages the chunks framed correctly must come out of the framer
 * unchanged whatever the piece sizes.
 */
#include "fuzz_records.h"

#include <arpa/inet.h>
#include <string.h>

#include "net/framer.h"

#define T0 1000.0

struct input {
    const uint8_t *p;
    size_t left;
};

/* The exporter of event bits 0-2 (see the top). */
static void
exporter(unsigned event, struct sockaddr_storage *ss)
{
    uint16_t port = htons((uint16_t)(5000 + (event & 3)));

    memset(ss, 0, sizeof(*ss));
    if (event & 4) {
        struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;
        sin6->sin6_family = AF_INET6;
        sin6->sin6_port = port;
        sin6->sin6_addr.s6_addr[0] = 0x20;
        sin6->sin6_addr.s6_addr[1] = 0x01;
        sin6->sin6_addr.s6_addr[2] = 0x0d;
        sin6->sin6_addr.s6_addr[3] = 0xb8;
        sin6->sin6_addr.s6_addr[15] = 1;
    } else {
        struct sockaddr_in *sin = (struct sockaddr_in *)ss;
        sin->sin_family = AF_INET;
        sin->sin_port = port;
        sin->sin_addr.s_addr = htonl(0xc0000201);
    }
}

/* Next chunk: 1 with a message, 0 with a tick in tick[], -1 at the end of the input. */
static int
next_chunk(struct input *in, const uint8_t **msg, size_t *len, uint8_t tick[2])
{
    size_t n;

    if (in->left < 2) {
        return -1;
    }
    n = (size_t)in->p[0] << 8 | in->p[1];
    in->p += 2;
    in->left -= 2;
    if (n == 0) {
        tick[0] = in->left > 0 ? in->p[0] : 0;
        tick[1] = in->left > 1 ? in->p[1] : 0;
        n = in->left < 2 ? in->left : 2;
        in->p += n;
        in->left -= n;
        return 0;
    }
    n = n < in->left ? n : in->left;
    *msg = in->p;
    *len = n;
    in->p += n;
    in->left -= n;
    return 1;
}

/* A tick: the clock, the worker's expiry timer, then the event (see the top). */
static struct ixd_session *
run_tick(struct ixd_sessions *ss, struct ixd_session *s, const uint8_t tick[2], double *now,
         struct sockaddr_storage *from, int *small)
{
    *now += tick[0];
    ixd_sessions_expire(ss, *now);
    if (ss->tcp) {
        ixd_session_expire_held(s, *now);
    }
    exporter(tick[1], from);
    if (ss->tcp && (tick[1] & 8)) {
        ixd_session_free(s);
        s = ixd_session_tcp(ss, (const struct sockaddr *)from, *now);
        FUZZ_CHECK(s != NULL);
    }
    if (tick[1] & 16) {
        int hold = !ss->limits.hold;

        *small = !*small;
        fuzz_limits(&ss->limits, *small, ss->limits.template_lifetime);
        ss->limits.hold = hold;
    }
    return s;
}

/* Phase 1: message by message on a UDP or TCP session; appends the messages to stream. */
static size_t
run_sessions(const uint8_t *data, size_t size, uint8_t *stream, size_t *good, int *all_good)
{
    struct fuzz_sink sink;
    struct ixd_decoder *dec = fuzz_decoder(&sink);
    struct ixd_sessions ss;
    struct ixd_session_limits limits;
    struct ixd_session *s = NULL;
    struct input in = {data + 1, size - 1};
    struct sockaddr_storage from;
    int tcp = data[0] & 1, small = (data[0] >> 3) & 1, kind;
    double now = T0;
    size_t used = 0, len = 0;
    const uint8_t *msg = NULL;
    uint8_t tick[2];

    fuzz_limits(&limits, small, 15u * (1u + (data[0] >> 5)));
    limits.hold = !(data[0] & 16);
    ixd_sessions_init(&ss, FUZZ_COLLECTOR, tcp, fuzz_rules(), &limits);
    exporter(0, &from);
    if (tcp) {
        s = ixd_session_tcp(&ss, (const struct sockaddr *)&from, now);
        FUZZ_CHECK(s != NULL);
    }
    *good = 0;
    *all_good = 1;
    while ((kind = next_chunk(&in, &msg, &len, tick)) != -1) {
        if (kind == 0) {
            s = run_tick(&ss, s, tick, &now, &from, &small);
            continue;
        }
        if (!tcp) {
            /* looked up per datagram, as the daemon does: expiry may have freed the last one */
            s = ixd_session_udp(&ss, (const struct sockaddr *)&from, now);
            FUZZ_CHECK(s != NULL);
        }
        if (tcp) {
            fuzz_process(dec, &sink, s, msg, len, now);
        } else {
            fuzz_datagram(dec, &sink, s, msg, len, now); /* NetFlow too, as on UDP sockets */
        }
        /* the chunks so far frame themselves correctly: the framer must cut the same way */
        if (*all_good && len >= 16 && msg[0] == 0 && msg[1] == 10 &&
            ((size_t)msg[2] << 8 | msg[3]) == len) {
            (*good)++;
        } else {
            *all_good = 0;
        }
        memcpy(stream + used, msg, len);
        used += len;
    }
    if (tcp) {
        ixd_session_free(s);
    }
    ixd_sessions_drop_held(&ss); /* as the daemon does at stop */
    ixd_sessions_release(&ss);
    return used;
}

/* Phase 2: the byte stream through a framer in pieces, each message on a TCP session. */
static void
run_framer(const uint8_t *data, size_t size, const uint8_t *stream, size_t used, size_t good,
           int all_good)
{
    static const size_t piece_max[4] = {16, 256, 4096, 65536};
    static struct ixd_framer framer;
    struct fuzz_sink sink;
    struct ixd_decoder *dec = fuzz_decoder(&sink);
    struct ixd_sessions ss;
    struct ixd_session_limits limits;
    struct ixd_session *s;
    struct sockaddr_storage from;
    size_t pos = 0, expect_off = 0, cut = 0, k = size - 1, max = piece_max[(data[0] >> 1) & 3];
    int r = 0;

    fuzz_limits(&limits, 0, 1800);
    ixd_sessions_init(&ss, FUZZ_COLLECTOR, 1, fuzz_rules(), &limits);
    exporter(0, &from);
    s = ixd_session_tcp(&ss, (const struct sockaddr *)&from, T0);
    FUZZ_CHECK(s != NULL);
    ixd_framer_init(&framer);
    while (pos < used && r != -1) {
        size_t room, n;
        uint8_t *buf = ixd_framer_space(&framer, &room);
        const uint8_t *msg;
        size_t len;

        /* a message is at most 65535 bytes and complete ones were taken: there is room */
        FUZZ_CHECK(room > 0);
        /* piece sizes read backwards from the end of the input, so they vary with it */
        n = 1 + ((size_t)data[k] << 8 | data[k > 0 ? k - 1 : 0]) % max;
        k = k >= 2 ? k - 2 : size - 1;
        n = n < room ? n : room;
        n = n < used - pos ? n : used - pos;
        memcpy(buf, stream + pos, n);
        ixd_framer_commit(&framer, n);
        pos += n;
        while ((r = ixd_framer_next(&framer, &msg, &len)) == 1) {
            FUZZ_CHECK(len >= 16 && msg[0] == 0 && msg[1] == 10 &&
                       ((size_t)msg[2] << 8 | msg[3]) == len);
            if (cut < good) {
                /* well-framed chunks come out unchanged, however the bytes arrived */
                FUZZ_CHECK(memcmp(msg, stream + expect_off, len) == 0);
                expect_off += len;
            }
            cut++;
            fuzz_process(dec, &sink, s, msg, len, T0);
        }
    }
    /* the well-framed prefix always comes out; with nothing else, nothing is left over */
    FUZZ_CHECK(cut >= good);
    if (all_good) {
        FUZZ_CHECK(r != -1 && cut == good && ixd_framer_pending(&framer) == 0);
    }
    ixd_session_free(s);
    ixd_sessions_release(&ss);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t *stream;
    size_t used, good;
    int all_good;

    if (size < 1) {
        return 0;
    }
    stream = malloc(size); /* the messages are a part of the input */
    FUZZ_CHECK(stream != NULL);
    used = run_sessions(data, size, stream, &good, &all_good);
    run_framer(data, size, stream, used, good, all_good);
    free(stream);
    return 0;
}
