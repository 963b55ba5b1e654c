/*
 * transport: file. An IPFIX file (RFC 5655: messages back to back, as a TCP stream carries them)
 * read once, in bounded steps from the loop of worker 0 (one reader keeps the file's messages in
 * order; the other workers have nothing to do), through the same decoder and pipelines as
 * collected traffic. ipfixd's own archives and the corpus replay this way.
 */

#include <errno.h>
#include <ev.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/log.h"
#include "input/input.h"
#include "input/intake.h"
#include "ipfix/decode.h"
#include "net/framer.h"

struct file_settings {
    struct ixd_intake intake;
    char path[IXD_PATH_MAX];
};

static const struct ixd_key file_keys[] = {
    {.name = "(intake)",
     .kind = IXD_KEY_INCLUDE,
     IXD_KEY_AT(struct file_settings, intake),
     .include = ixd_intake_keys},
    {.name = "path",
     .kind = IXD_KEY_PATH,
     IXD_KEY_AT(struct file_settings, path),
     .file_use = 1 + IXD_FILE_READ,
     .help = "the IPFIX file to read"},
    {NULL},
};

/* The reader, on worker 0. */
struct ixd_file_reader {
    struct ev_loop *loop;
    ev_idle idle; /* one read per loop turn: sockets of other collectors keep their turn */
    int fd;
    int done;
    char path[IXD_PATH_MAX];
    struct ixd_session *session;
    struct ixd_decoder *dec;
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

static struct ixd_file_reader *
reader_start(struct ev_loop *loop, const char *path, struct ixd_sessions *ss,
             struct ixd_decoder *dec)
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
    /* a file's export times are as old as the file: they say nothing of an exporter's clock */
    ss->clock_offsets = 0;
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
    ixd_framer_init(&r->framer);
    ev_idle_init(&r->idle, read_cb);
    r->idle.data = r;
    ev_idle_start(loop, &r->idle);
    return r;
}

/* The instance of every worker: a reader on worker 0, nothing on the others. */
struct file_in {
    struct ixd_file_reader *r;
};

static void *
file_start(void *shared, const void *settings, const struct ixd_input_ctx *ctx)
{
    const struct file_settings *s = settings;
    struct file_in *f = calloc(1, sizeof(*f));

    if (f != NULL && ctx->worker == 0) {
        f->r = reader_start(ctx->loop, s->path, ctx->sessions, ctx->dec);
    }
    return f;
}

static void
file_stop(void *state)
{
    struct file_in *f = state;
    struct ixd_file_reader *r = f->r;

    if (r != NULL) {
        if (r->fd != -1) {
            ev_idle_stop(r->loop, &r->idle);
            close(r->fd);
        }
        ixd_session_free(r->session);
        free(r);
    }
    free(f);
}

/* Nothing outlives a reload but the path: the file is read again by a changed collector. */
static void *
file_open(const void *settings, const char *name, unsigned workers, char *bound, size_t boundlen,
          char *err, size_t errlen)
{
    static char nothing;

    snprintf(bound, boundlen, "%.79s", ((const struct file_settings *)settings)->path);
    return &nothing;
}

static void
file_close(void *shared, unsigned workers)
{
}

static void
file_apply(void *state, const void *settings)
{
}

static const struct ixd_intake *
file_intake(const void *settings)
{
    return &((const struct file_settings *)settings)->intake;
}

static int
file_check(void *settings, const struct ixd_module_env *env, char *err, size_t errlen)
{
    if (((const struct file_settings *)settings)->path[0] == '\0') {
        return ixd_cnode_fail(env->at, env->file, err, errlen,
                              "collector '%s' reads a file: it needs a path", env->name);
    }
    return 0;
}

static const char *
file_address(const void *settings)
{
    return "";
}

static int
file_up(const void *state)
{
    return 1;
}

const struct ixd_input_type ixd_input_file = {
    .m =
        {
            .name = "file",
            .keys = file_keys,
            .settings_size = sizeof(struct file_settings),
            .check = file_check,
        },
    .intake = file_intake,
    .address = file_address,
    .open = file_open,
    .close = file_close,
    .start = file_start,
    .apply = file_apply,
    .stop = file_stop,
    .up = file_up,
};
