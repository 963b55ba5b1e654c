#include "output/output.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "core/counter.h"
#include "core/file.h"
#include "core/log.h"
#include "core/spsc.h"
#include "output/json_format.h"

/* A buffer holds the lines of ordinary records; a longer one is split across buffers. */
#define JBUF_SIZE (1u << 20)
#define JBUFS_PER_LANE 4

struct jbuf {
    size_t len;
    uint64_t lines;
    char data[JBUF_SIZE];
};

struct json_lane {
    struct ixd_lane base;
    struct ixd_spsc full;  /* worker -> writer */
    struct ixd_spsc empty; /* writer -> worker */
    struct jbuf *cur;
    uint64_t records;
    uint64_t waits;
    char *oversize; /* a line longer than a buffer is formatted here first */
    size_t oversize_size;
    char prefix[512];
};

/* A json output's settings (docs/configuration.md#outputs). */
struct json_settings {
    char path[IXD_PATH_MAX]; /* "-" = standard output */
    int renormalise;         /* counts times the sampling rate that applies to each record */
    uint32_t file_mode;      /* of the file it creates */
};

static const struct ixd_key json_keys[] = {
    {.name = "path",
     .kind = IXD_KEY_PATH,
     IXD_KEY_AT(struct json_settings, path),
     .help = "a file (appended to, reopened on SIGHUP) or - for standard output"},
    {.name = "renormalise",
     .kind = IXD_KEY_BOOL,
     IXD_KEY_AT(struct json_settings, renormalise),
     .def = "false",
     .help = "multiply packet and octet counts by the sampling rate"},
    {.name = "file-mode",
     .kind = IXD_KEY_MODE,
     IXD_KEY_AT(struct json_settings, file_mode),
     .def = "0640",
     .help = "permissions of the file it creates"},
    {NULL},
};

struct json_output {
    struct ixd_output base;
    const struct json_settings *cfg; /* base.settings */
    int renormalise; /* counts times the sampling rate that applies to each record */
    int fd;
    int kick; /* eventfd: wakes the writer */
    pthread_t writer;
    atomic_int stop;
    atomic_int reopen;
    unsigned n_lanes;
    struct json_lane *lanes;
    uint64_t written_bytes;
    uint64_t dropped;
    struct ixd_ratelimit write_errors;
};

static void
kick(struct json_output *o)
{
    uint64_t one = 1;

    if (write(o->kick, &one, sizeof(one)) == -1) {
        /* the counter is saturated: the writer is awake anyway */
    }
}

static int
open_path(const struct json_settings *cfg)
{
    if (strcmp(cfg->path, "-") == 0) {
        return fcntl(STDOUT_FILENO, F_DUPFD_CLOEXEC, 3);
    }
    return ixd_file_open_exact(AT_FDCWD, cfg->path, O_WRONLY | O_APPEND | O_CLOEXEC,
                               (mode_t)cfg->file_mode);
}

/* Writes all of buf; on failure counts its lines as dropped. Writer thread. */
static void
write_all(struct json_output *o, const struct jbuf *b)
{
    size_t off = 0;

    while (off < b->len) {
        ssize_t n = write(o->fd, b->data + off, b->len - off);
        if (n == -1 && errno == EINTR) {
            continue;
        }
        if (n == -1 && errno == EAGAIN) {
            struct pollfd pfd = {.fd = o->fd, .events = POLLOUT};
            poll(&pfd, 1, 1000);
            continue;
        }
        if (n <= 0) {
            struct timespec now;
            clock_gettime(CLOCK_MONOTONIC, &now);
            ixd_log_limited(&o->write_errors, (double)now.tv_sec, IXD_LOG_ERROR,
                            "output %s: cannot write %s: %s; %llu records dropped", o->base.name,
                            o->cfg->path, n == 0 ? "no progress" : strerror(errno),
                            (unsigned long long)b->lines);
            IXD_CNT_ADD(o->dropped, b->lines);
            return;
        }
        off += (size_t)n;
        IXD_CNT_ADD(o->written_bytes, (uint64_t)n);
    }
}

static void
do_reopen(struct json_output *o)
{
    int fd;

    if (strcmp(o->cfg->path, "-") == 0) {
        return;
    }
    fd = open_path(o->cfg);
    if (fd == -1) {
        log_err("output %s: cannot reopen %s: %s; still writing to the old file", o->base.name,
                o->cfg->path, strerror(errno));
        return;
    }
    close(o->fd);
    o->fd = fd;
    log_info("output %s: reopened %s", o->base.name, o->cfg->path);
}

/* Drains every lane once; returns the number of buffers written. */
static unsigned
drain(struct json_output *o)
{
    unsigned i, n = 0;

    for (i = 0; i < o->n_lanes; i++) {
        struct json_lane *l = &o->lanes[i];
        struct jbuf *b;
        while ((b = ixd_spsc_pop(&l->full)) != NULL) {
            write_all(o, b);
            b->len = 0;
            b->lines = 0;
            ixd_spsc_push(&l->empty, b); /* cannot fail: the ring holds every buffer */
            n++;
        }
    }
    return n;
}

static void *
writer_main(void *arg)
{
    struct json_output *o = arg;

    for (;;) {
        uint64_t v;
        if (read(o->kick, &v, sizeof(v)) == -1 && errno != EINTR && errno != EAGAIN) {
            log_err("output %s: writer cannot wait: %s", o->base.name, strerror(errno));
            break;
        }
        if (atomic_exchange(&o->reopen, 0)) {
            drain(o);
            do_reopen(o);
        }
        drain(o);
        if (atomic_load(&o->stop)) {
            while (drain(o) > 0) {
            }
            break;
        }
    }
    return NULL;
}

/* Hands the current buffer to the writer and takes an empty one, waiting if need be. */
static void
hand_off(struct json_lane *l)
{
    struct json_output *o = (struct json_output *)l->base.output;
    struct jbuf *b;

    if (l->cur->len == 0) {
        return;
    }
    ixd_spsc_push(&l->full, l->cur);
    kick(o);
    while ((b = ixd_spsc_pop(&l->empty)) == NULL) {
        /* every buffer is with the writer: back-pressure toward the sockets, counted */
        struct timespec ts = {0, 100000};
        IXD_CNT_ADD(l->waits, 1);
        nanosleep(&ts, NULL);
    }
    l->cur = b;
}

/*
 * A record whose bound exceeds a buffer (thousands of fields, or structured data that expands)
 * is formatted aside and copied across buffers: the writer writes buffers in order, so the line
 * stays whole. Rare by construction; it allocates, and counts the line as dropped if it cannot.
 */
static void
write_oversize(struct json_lane *l, const struct ixd_record *r, const struct ixd_source *src,
               uint32_t rate, size_t plen, size_t need)
{
    size_t len, at = 0;

    if (need > l->oversize_size) {
        char *grown = realloc(l->oversize, need);
        if (grown == NULL) {
            IXD_CNT_ADD(((struct json_output *)l->base.output)->dropped, 1);
            return;
        }
        l->oversize = grown;
        l->oversize_size = need;
    }
    len = ixd_json_record_scaled(r, src, rate, l->prefix, plen, l->oversize);
    while (at < len) {
        size_t n = JBUF_SIZE - l->cur->len;
        if (n > len - at) {
            n = len - at;
        }
        memcpy(l->cur->data + l->cur->len, l->oversize + at, n);
        l->cur->len += n;
        at += n;
        if (at < len) {
            hand_off(l);
        }
    }
    l->cur->lines++;
}

static void
json_write(struct ixd_lane *lane, const struct ixd_batch *batch)
{
    struct json_lane *l = (struct json_lane *)lane;
    const struct ixd_source *src = batch->source;
    const struct ixd_resolver *res = src->resolver;
    int renormalise = ((struct json_output *)lane->output)->renormalise && res != NULL;
    size_t plen = ixd_json_prefix(src, l->prefix, sizeof(l->prefix));
    size_t i;

    for (i = 0; i < batch->count; i++) {
        const struct ixd_record *r = &batch->records[i];
        size_t need = plen + ixd_json_bound(r);
        uint32_t rate = renormalise ? res->sampling_of(res, r) : 1;

        if (need > JBUF_SIZE) {
            write_oversize(l, r, src, rate, plen, need);
            continue;
        }
        if (l->cur->len + need > JBUF_SIZE) {
            hand_off(l);
        }
        l->cur->len +=
            ixd_json_record_scaled(r, src, rate, l->prefix, plen, l->cur->data + l->cur->len);
        l->cur->lines++;
    }
    IXD_CNT_ADD(l->records, batch->count);
}

static void
json_flush(struct ixd_lane *lane)
{
    hand_off((struct json_lane *)lane);
}

static struct ixd_lane *
json_lane(struct ixd_output *out, unsigned w)
{
    struct json_output *o = (struct json_output *)out;

    return w < o->n_lanes ? &o->lanes[w].base : NULL;
}

static void
free_lanes(struct json_output *o)
{
    unsigned i;
    void *b;

    for (i = 0; i < o->n_lanes; i++) {
        struct json_lane *l = &o->lanes[i];
        if (l->full.slots != NULL) {
            while ((b = ixd_spsc_pop(&l->full)) != NULL) {
                free(b);
            }
            ixd_spsc_release(&l->full);
        }
        if (l->empty.slots != NULL) {
            while ((b = ixd_spsc_pop(&l->empty)) != NULL) {
                free(b);
            }
            ixd_spsc_release(&l->empty);
        }
        free(l->cur);
        free(l->oversize);
    }
    free(o->lanes);
}

static int
init_lane(struct json_output *o, struct json_lane *l)
{
    int i;

    l->base.output = &o->base;
    if (ixd_spsc_init(&l->full, JBUFS_PER_LANE) == -1 ||
        ixd_spsc_init(&l->empty, JBUFS_PER_LANE) == -1) {
        return -1;
    }
    l->cur = calloc(1, sizeof(struct jbuf));
    if (l->cur == NULL) {
        return -1;
    }
    for (i = 1; i < JBUFS_PER_LANE; i++) {
        struct jbuf *b = calloc(1, sizeof(*b));
        if (b == NULL) {
            return -1;
        }
        ixd_spsc_push(&l->empty, b);
    }
    return 0;
}

static struct ixd_output *
json_open(const void *settings, const char *name, unsigned workers, char *err, size_t errlen)
{
    const struct json_settings *cfg = settings;
    struct json_output *o = calloc(1, sizeof(*o));
    unsigned i;

    if (o == NULL) {
        snprintf(err, errlen, "output %s: out of memory", name);
        return NULL;
    }
    o->base.name = name;
    o->cfg = cfg;
    o->renormalise = cfg->renormalise;
    o->kick = -1;
    o->fd = open_path(cfg);
    if (o->fd == -1) {
        snprintf(err, errlen, "output %s: cannot open %s: %s", name, cfg->path, strerror(errno));
        free(o);
        return NULL;
    }
    o->kick = eventfd(0, EFD_CLOEXEC);
    o->lanes = calloc(workers, sizeof(*o->lanes));
    if (o->kick == -1 || o->lanes == NULL) {
        goto fail;
    }
    o->n_lanes = workers;
    for (i = 0; i < workers; i++) {
        if (init_lane(o, &o->lanes[i]) == -1) {
            goto fail;
        }
    }
    if (pthread_create(&o->writer, NULL, writer_main, o) != 0) {
        goto fail;
    }
    return &o->base;
fail:
    snprintf(err, errlen, "output %s: cannot set up: %s", name, strerror(errno));
    free_lanes(o);
    if (o->kick != -1) {
        close(o->kick);
    }
    close(o->fd);
    free(o);
    return NULL;
}

static void
json_reopen(struct ixd_output *out)
{
    struct json_output *o = (struct json_output *)out;

    atomic_store(&o->reopen, 1);
    kick(o);
}

static void
json_close(struct ixd_output *out)
{
    struct json_output *o = (struct json_output *)out;

    if (o == NULL) {
        return;
    }
    atomic_store(&o->stop, 1);
    kick(o);
    pthread_join(o->writer, NULL);
    free_lanes(o);
    close(o->kick);
    close(o->fd);
    free(o);
}

static void
json_stats(struct ixd_output *out, ixd_counter_fn fn, void *arg)
{
    struct json_output *o = (struct json_output *)out;
    struct ixd_output_counts c = {0, IXD_CNT_GET(o->written_bytes), IXD_CNT_GET(o->dropped), 0};

    for (unsigned i = 0; i < o->n_lanes; i++) {
        c.records += IXD_CNT_GET(o->lanes[i].records);
        c.waits += IXD_CNT_GET(o->lanes[i].waits);
    }
    ixd_output_report(fn, arg, &c);
}

/* The path: standard output, or a file ipfixd can create or append to. */
static int
json_check(void *settings, const struct ixd_module_env *env, char *err, size_t errlen)
{
    struct json_settings *s = settings;
    const struct ixd_cnode *path = ixd_cnode_get(env->at, "path");
    struct ixd_config_file f = {.use = IXD_FILE_WRITE, .path = s->path};
    char why[IXD_PATH_MAX + 256];

    if (path == NULL) {
        return ixd_cnode_fail(env->at, env->file, err, errlen,
                              "output '%s' needs a path (\"-\" for standard output)", env->name);
    }
    if (strcmp(s->path, "-") == 0 || (env->flags & IXD_CONFIG_SYNTAX_ONLY)) {
        return 0;
    }
    if (ixd_config_file_check(&f, why, sizeof(why)) == -1) {
        return ixd_cnode_fail(path, env->file, err, errlen, "path: %s", why);
    }
    return 0;
}

static int
json_conflicts(const void *a, const void *b, char *what, size_t whatlen)
{
    const struct json_settings *x = a, *y = b;

    if (strcmp(x->path, "-") == 0 || strcmp(x->path, y->path) != 0) {
        return 0;
    }
    snprintf(what, whatlen, "%s", x->path);
    return 1;
}

const struct ixd_output_type ixd_output_json = {
    .m =
        {
            .name = "json",
            .keys = json_keys,
            .settings_size = sizeof(struct json_settings),
            .check = json_check,
            .conflicts = json_conflicts,
        },
    .open = json_open,
    .reopen = json_reopen,
    .close = json_close,
    .stats = json_stats,
    .lane = json_lane,
    .write = json_write,
    .flush = json_flush,
};
