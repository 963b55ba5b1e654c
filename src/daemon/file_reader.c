#include "daemon/file_reader.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/log.h"
#include "net/framer.h"

struct ixd_file_reader {
    struct ev_loop *loop;
    ev_idle idle; /* one read per loop turn: sockets of other collectors keep their turn */
    int fd;
    int done;
    char path[256];
    struct ixd_session *session;
    struct ixd_decoder *dec;
    void *deliver_arg;
    uint64_t messages;
    struct ixd_framer framer;
};

static void
finish(struct ixd_file_reader *r, const char *why)
{
    size_t partial = ixd_framer_pending(&r->framer);

    ev_idle_stop(r->loop, &r->idle);
    close(r->fd);
    r->fd = -1;
    r->done = 1;
    if (partial > 0) {
        ixd_count_error(r->session, NULL, IXD_ERR_TRUNCATED); /* a message cut off at the end */
    }
    log_info("collector %s: read %s: %llu messages%s%s", r->session->owner->collector, r->path,
             (unsigned long long)r->messages, why != NULL ? "; " : "", why != NULL ? why : "");
}

static void
read_cb(struct ev_loop *loop, ev_idle *w, int revents)
{
    struct ixd_file_reader *r = w->data;
    double mono;
    int64_t wall_usec;
    const uint8_t *msg;
    size_t room, len;
    uint8_t *p = ixd_framer_space(&r->framer, &room);
    ssize_t n = read(r->fd, p, room);
    int more;

    (void)loop;
    (void)revents;
    if (n == -1 && errno == EINTR) {
        return;
    }
    if (n <= 0) {
        finish(r, n == 0 ? NULL : strerror(errno));
        return;
    }
    ixd_framer_commit(&r->framer, (size_t)n);
    mono = ixd_mono_now();
    wall_usec = ixd_wall_usec();
    r->dec->deliver_arg = r->deliver_arg;
    while ((more = ixd_framer_next(&r->framer, &msg, &len)) == 1) {
        ixd_message_process(r->dec, r->session, msg, len, mono, wall_usec);
        r->messages++;
    }
    if (more == -1) {
        ixd_count_error(r->session, NULL, IXD_ERR_TCP_FRAMING);
        r->framer.have = r->framer.start;
        finish(r, "the rest is not IPFIX");
    }
}

struct ixd_file_reader *
ixd_file_reader_start(struct ev_loop *loop, const char *path, struct ixd_sessions *ss,
                      struct ixd_decoder *dec, void *deliver_arg)
{
    struct ixd_file_reader *r = calloc(1, sizeof(*r));
    struct sockaddr_in none = {.sin_family = AF_INET}; /* a file has no exporter address */

    if (r == NULL) {
        return NULL;
    }
    r->fd = open(path, O_RDONLY | O_CLOEXEC);
    if (r->fd == -1) {
        log_err("collector %s: cannot read %s: %s", ss->collector, path, strerror(errno));
        free(r);
        return NULL;
    }
    /* a stream session: templates last as long as the file, like a TCP connection's */
    r->session = ixd_session_tcp(ss, (struct sockaddr *)&none, ixd_mono_now());
    if (r->session == NULL) {
        close(r->fd);
        free(r);
        return NULL;
    }
    snprintf(r->path, sizeof(r->path), "%s", path);
    r->loop = loop;
    r->dec = dec;
    r->deliver_arg = deliver_arg;
    ixd_framer_init(&r->framer);
    ev_idle_init(&r->idle, read_cb);
    r->idle.data = r;
    ev_idle_start(loop, &r->idle);
    return r;
}

int
ixd_file_reader_done(const struct ixd_file_reader *r)
{
    return r->done;
}

void
ixd_file_reader_stop(struct ixd_file_reader *r)
{
    if (r == NULL) {
        return;
    }
    if (r->fd != -1) {
        ev_idle_stop(r->loop, &r->idle);
        close(r->fd);
    }
    ixd_session_free(r->session);
    free(r);
}
