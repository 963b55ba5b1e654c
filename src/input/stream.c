/* What the tcp and tls inputs share (stream.h). */
#include "input/stream.h"

#include <errno.h>
#include <string.h>

#include "core/clock.h"
#include "core/relaxed_counter.h"
#include "ipfix/decode.h"
#include "net/framer.h"

int
ixd_stream_messages(const struct ixd_input_ctx *ctx, struct ixd_session *s, struct ixd_framer *f,
                    double now, int64_t usec)
{
    const uint8_t *msg;
    size_t len;
    int r;

    while ((r = ixd_framer_next(f, &msg, &len)) == 1) {
        ixd_message_process(ctx->dec, s, msg, len, now, usec);
    }
    return r;
}

void
ixd_stream_framing_lost(const struct ixd_input_ctx *ctx, struct ixd_ratelimit *rl,
                        struct ixd_session *s, struct ixd_framer *f, double now)
{
    ixd_count_error(s, NULL, IXD_ERR_TCP_FRAMING);
    ixd_log_limited(rl, now, IXD_LOG_WARNING,
                    "collector %s: %s:%u sent a stream that is not IPFIX; closing it", ctx->name,
                    s->source.exporter_text, s->source.exporter_port);
    f->have = f->start; /* nothing partial left to count */
}

int
ixd_stream_at_limit(const struct ixd_input_ctx *ctx, unsigned n, struct ixd_ratelimit *rl,
                    double now)
{
    if (n < ctx->max_connections) {
        return 0;
    }
    IXD_CNT_ADD(ctx->sessions->counters.errors[IXD_ERR_CONNECTION_LIMIT], 1);
    ixd_log_limited(rl, now, IXD_LOG_WARNING,
                    "collector %s: connection limit reached; refusing a connection", ctx->name);
    return 1;
}

void
ixd_stream_accept(const struct ixd_input_ctx *ctx, int fd, struct ixd_ratelimit *rl,
                  ixd_stream_conn_fn fn, void *arg)
{
    for (;;) {
        struct sockaddr_storage from;
        socklen_t len = sizeof(from);
        int c = accept4(fd, (struct sockaddr *)&from, &len, SOCK_NONBLOCK | SOCK_CLOEXEC);

        if (c == -1) {
            if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR &&
                errno != ECONNABORTED) {
                ixd_log_limited(rl, ixd_mono_now(), IXD_LOG_ERROR,
                                "collector %s: cannot accept: %s", ctx->name, strerror(errno));
            }
            return;
        }
        fn(arg, c, (struct sockaddr *)&from, len, ixd_mono_now());
    }
}
