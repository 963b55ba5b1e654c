#include "output/output.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/file.h"
#include "core/log.h"
#include "core/relaxed_counter.h"
#include "output/json_format.h"
#include "output/upload.h"
#include "output/writer.h"

/* A buffer holds the lines of ordinary records; a longer one is split across buffers. */
#define JBUF_SIZE (1u << 20)
#define JBUFS_PER_LANE 4

struct json_lane {
    struct ixd_lane base;
    struct ixd_writer_lane *wl;   /* the writer's, for this worker */
    struct ixd_json_cache *progs; /* the templates this lane formats, compiled */
    uint64_t records;
    char *oversize; /* a line longer than a buffer is formatted here first */
    size_t oversize_size;
    char prefix[IXD_JSON_PREFIX_MAX];
};

/* A json output's settings (docs/configuration.md#outputs). */
struct json_settings {
    char path[IXD_PATH_MAX]; /* "-" = standard output */
    int renormalise;         /* counts times the sampling rate that applies to each record */
    uint32_t file_mode;      /* of the file it creates */
    char tls_subject[64];    /* the key of the TLS subject; "none": not written */
    uint32_t rotate_interval; /* seconds; 0: the file is not rotated by time */
    size_t rotate_size;       /* bytes; 0: not by size */
    struct ixd_upload_settings upload; /* enabled: each rotated file is uploaded */
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
    {.name = "tls-subject",
     .kind = IXD_KEY_STRING,
     IXD_KEY_AT(struct json_settings, tls_subject),
     .def = "@tls_subject",
     .help = "the key records from TLS and DTLS exporters carry their certificate's subject "
             "under (none: not written)"},
    {.name = "rotate-interval",
     .kind = IXD_KEY_DURATION,
     IXD_KEY_AT(struct json_settings, rotate_interval),
     .def = "0",
     .help = "rotate the file at multiples of this (UTC); 0: never"},
    {.name = "rotate-size",
     .kind = IXD_KEY_SIZE,
     IXD_KEY_AT(struct json_settings, rotate_size),
     .def = "0",
     .help = "rotate the file once it reaches this; 0: never"},
    {.name = "upload",
     .kind = IXD_KEY_CUSTOM,
     IXD_KEY_AT(struct json_settings, upload),
     .reload = IXD_RELOAD_CONTENT,
     .parse = ixd_upload_parse,
     .same = ixd_upload_same,
     .release = ixd_upload_release,
     .help = "S3-compatible object storage each rotated file is uploaded to"},
    {NULL},
};

/* Lines are formatted by the workers into their lanes (writer.h); the writer thread writes
 * whole buffers to fd. */
struct json_output {
    struct ixd_output base;
    const struct json_settings *cfg; /* base.settings */
    int renormalise;         /* counts times the sampling rate that applies to each record */
    const char *subject_key; /* of the TLS subject, NULL: none */
    int fd;                  /* the writer thread's from open() to close() */
    struct ixd_writer *writer;
    unsigned n_lanes;
    struct json_lane *lanes;
    uint64_t written_bytes;            /* writer thread */
    struct ixd_ratelimit write_errors; /* writer thread */
    /* rotation, on the writer thread */
    uint64_t file_bytes;
    time_t rotate_at;
    int mid_line; /* the last buffer ended inside a line longer than a buffer */
    uint64_t rotations;
    struct ixd_uploader *uploader;
};

static int
open_path(const struct json_settings *cfg)
{
    if (strcmp(cfg->path, "-") == 0) {
        return fcntl(STDOUT_FILENO, F_DUPFD_CLOEXEC, 3);
    }
    return ixd_file_open_exact(AT_FDCWD, cfg->path, O_WRONLY | O_APPEND | O_CLOEXEC,
                               (mode_t)cfg->file_mode);
}

static void rotate(struct json_output *o);

/* Writes all of b; on failure its lines are lost (returned). Writer thread. */
static uint64_t
write_all(void *arg, const struct ixd_wbuf *b)
{
    struct json_output *o = arg;
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
                            (unsigned long long)b->records);
            return b->records;
        }
        off += (size_t)n;
        IXD_CNT_ADD(o->written_bytes, (uint64_t)n);
    }
    o->file_bytes += b->len;
    /* a line longer than a buffer ends in a later one: no rotation in its middle */
    o->mid_line = b->len > 0 && b->data[b->len - 1] != '\n';
    if (o->cfg->rotate_size > 0 && o->file_bytes >= o->cfg->rotate_size && !o->mid_line) {
        rotate(o);
    }
    return 0;
}

/* When a file started now is rotated by time: the next multiple of the interval (UTC). */
static void
next_rotation(struct json_output *o)
{
    time_t now = time(NULL);

    if (o->cfg->rotate_interval > 0) {
        o->rotate_at = (now / o->cfg->rotate_interval + 1) * o->cfg->rotate_interval;
    }
}

/*
 * Writer thread: the file becomes PATH-YYYYmmddTHHMMSS.mmmZ (then -1, -2, ... when taken), a
 * new one is opened at PATH, and the rotated one is handed to the upload. Milliseconds: an
 * uploaded file is deleted, and a later one of the same name would replace its object. A file
 * that cannot be renamed or replaced is kept and written on (logged).
 */
static void
rotate(struct json_output *o)
{
    char stamp[48], name[IXD_PATH_MAX + 64];
    struct timespec now;
    struct tm tm;
    unsigned i;
    int fd;

    next_rotation(o);
    if (o->file_bytes == 0) {
        return;
    }
    clock_gettime(CLOCK_REALTIME, &now);
    gmtime_r(&now.tv_sec, &tm);
    strftime(stamp, sizeof(stamp), "%Y%m%dT%H%M%S", &tm);
    for (i = 0; i < 1000; i++) {
        snprintf(name, sizeof(name), i == 0 ? "%s-%s.%03ldZ" : "%s-%s.%03ldZ-%u", o->cfg->path,
                 stamp, now.tv_nsec / 1000000, i);
        if (renameat2(AT_FDCWD, o->cfg->path, AT_FDCWD, name, RENAME_NOREPLACE) == 0) {
            break;
        }
        if (errno != EEXIST) {
            log_err("output %s: cannot rotate %s: %s", o->base.name, o->cfg->path, strerror(errno));
            return;
        }
    }
    fd = open_path(o->cfg);
    if (fd == -1) {
        log_err("output %s: cannot open %s after rotating it: %s; writing on to %s", o->base.name,
                o->cfg->path, strerror(errno), name);
        return;
    }
    close(o->fd);
    o->fd = fd;
    o->file_bytes = 0;
    IXD_CNT_ADD(o->rotations, 1);
    log_info("output %s: rotated %s to %s", o->base.name, o->cfg->path, name);
    if (o->uploader != NULL) {
        ixd_uploader_add(o->uploader, strrchr(name, '/') != NULL ? strrchr(name, '/') + 1 : name);
    }
}

/* Writer thread, every 200 ms with a rotate-interval: a file whose time is up is rotated. */
static uint64_t
json_tick(void *arg)
{
    struct json_output *o = arg;

    if (!o->mid_line && o->rotate_at != 0 && time(NULL) >= o->rotate_at) {
        rotate(o);
    }
    return 0;
}

/* SIGHUP, on the writer thread between two buffers: the file may have been rotated away. */
static void
do_reopen(void *arg)
{
    struct json_output *o = arg;
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

/*
 * A record whose bound exceeds a buffer (thousands of fields, or structured data that expands)
 * is formatted aside and appended across buffers, which the writer writes in order, so the
 * line stays whole. Rare by construction; it allocates, and counts the line as dropped if it
 * cannot.
 */
static void
write_oversize(struct json_lane *l, const struct ixd_record *r, const struct ixd_source *src,
               uint32_t rate, size_t plen, size_t need)
{
    size_t len;

    if (need > l->oversize_size) {
        char *grown = realloc(l->oversize, need);
        if (grown == NULL) {
            ixd_writer_lane_drop(l->wl, 1);
            return;
        }
        l->oversize = grown;
        l->oversize_size = need;
    }
    len = ixd_json_cache_record(l->progs, r, src, rate, l->prefix, plen, l->oversize);
    ixd_writer_lane_append(l->wl, l->oversize, len, 1);
}

static void
json_write(struct ixd_lane *lane, const struct ixd_batch *batch)
{
    struct json_lane *l = (struct json_lane *)lane;
    const struct ixd_source *src = batch->source;
    const struct ixd_resolver *res = src->resolver;
    int renormalise = ((struct json_output *)lane->output)->renormalise && res != NULL;
    size_t plen = ixd_json_prefix_keyed(src, ((struct json_output *)lane->output)->subject_key,
                                        l->prefix, sizeof(l->prefix));
    size_t i;

    for (i = 0; i < batch->count; i++) {
        const struct ixd_record *r = &batch->records[i];
        size_t need = plen + ixd_json_bound(r);
        uint32_t rate = renormalise ? res->sampling_of(res, r) : 1;
        char *at = ixd_writer_reserve(l->wl, need);

        if (at == NULL) {
            write_oversize(l, r, src, rate, plen, need);
            continue;
        }
        ixd_writer_commit(l->wl, ixd_json_cache_record(l->progs, r, src, rate, l->prefix, plen, at),
                          1);
    }
    IXD_CNT_ADD(l->records, batch->count);
}

static void
json_flush(struct ixd_lane *lane)
{
    ixd_writer_lane_flush(((struct json_lane *)lane)->wl);
}

static struct ixd_lane *
json_lane(struct ixd_output *out, unsigned w)
{
    struct json_output *o = (struct json_output *)out;

    return w < o->n_lanes ? &o->lanes[w].base : NULL;
}

/* The upload of the files rotated in the path's directory (PATH-*). */
static struct ixd_uploader *
make_uploader(const struct json_settings *cfg, const char *name, char *err, size_t errlen)
{
    char dir[IXD_PATH_MAX], base[IXD_PATH_MAX];
    const char *slash = strrchr(cfg->path, '/');

    if (slash == NULL) {
        snprintf(dir, sizeof(dir), ".");
        snprintf(base, sizeof(base), "%s", cfg->path);
    } else {
        snprintf(dir, sizeof(dir), "%.*s", slash == cfg->path ? 1 : (int)(slash - cfg->path),
                 cfg->path);
        snprintf(base, sizeof(base), "%s", slash + 1);
    }
    return ixd_uploader_new(&cfg->upload, name, dir, base, NULL, err, errlen);
}

/* Stops the writer (which writes what is queued first), then frees. Control thread. */
static void
free_output(struct json_output *o)
{
    int ran = o->writer != NULL;
    unsigned i;

    ixd_writer_free(o->writer);
    if (ran && o->uploader != NULL && !o->mid_line) {
        rotate(o); /* no callback runs any more: the last file goes up too */
    }
    ixd_uploader_free(o->uploader);
    for (i = 0; i < o->n_lanes; i++) {
        free(o->lanes[i].oversize);
        ixd_json_cache_free(o->lanes[i].progs);
    }
    free(o->lanes);
    close(o->fd);
    free(o);
}

static struct ixd_output *
json_open(const void *settings, const char *name, unsigned workers, char *err, size_t errlen)
{
    const struct json_settings *cfg = settings;
    struct json_output *o = calloc(1, sizeof(*o));
    struct ixd_writer_conf wc = {.name = name,
                                 .buf_size = JBUF_SIZE,
                                 .bufs_per_lane = JBUFS_PER_LANE,
                                 .consume = write_all,
                                 .reopen = do_reopen};
    struct stat st;
    unsigned i;

    if (o == NULL) {
        snprintf(err, errlen, "output %s: out of memory", name);
        return NULL;
    }
    o->base.name = name;
    o->cfg = cfg;
    o->renormalise = cfg->renormalise;
    o->subject_key = strcmp(cfg->tls_subject, "none") == 0 ? NULL : cfg->tls_subject;
    o->fd = open_path(cfg);
    if (o->fd == -1) {
        snprintf(err, errlen, "output %s: cannot open %s: %s", name, cfg->path, strerror(errno));
        free(o);
        return NULL;
    }
    if (fstat(o->fd, &st) == 0 && S_ISREG(st.st_mode)) {
        o->file_bytes = (uint64_t)st.st_size; /* appended to: it counts toward rotate-size */
    }
    next_rotation(o);
    if (cfg->rotate_interval > 0) {
        wc.tick = json_tick;
        wc.tick_ms = 200;
    }
    if (cfg->upload.enabled && (o->uploader = make_uploader(cfg, name, err, errlen)) == NULL) {
        free_output(o);
        return NULL;
    }
    o->lanes = calloc(workers, sizeof(*o->lanes));
    if (o->lanes == NULL) {
        snprintf(err, errlen, "output %s: cannot set up: %s", name, strerror(errno));
        free_output(o);
        return NULL;
    }
    wc.arg = o;
    o->writer = ixd_writer_new(&wc, workers, err, errlen);
    if (o->writer == NULL) {
        free_output(o);
        return NULL;
    }
    o->n_lanes = workers;
    for (i = 0; i < workers; i++) {
        o->lanes[i].base.output = &o->base;
        o->lanes[i].wl = ixd_writer_lane(o->writer, i);
        o->lanes[i].progs = ixd_json_cache_new();
        if (o->lanes[i].progs == NULL) {
            snprintf(err, errlen, "output %s: out of memory", name);
            free_output(o);
            return NULL;
        }
    }
    return &o->base;
}

static void
json_reopen(struct ixd_output *out)
{
    ixd_writer_reopen(((struct json_output *)out)->writer);
}

static void
json_close(struct ixd_output *out)
{
    if (out != NULL) {
        free_output((struct json_output *)out);
    }
}

static const struct ixd_counter_def json_defs[] = {
    {.key = "rotations",
     .metric = "ipfixd_output_rotations_total",
     .kind = IXD_COUNTER_TOTAL,
     .help = "files rotated away (rotate-interval, rotate-size)"},
};

static void
json_stats(struct ixd_output *out, ixd_counter_fn fn, void *arg)
{
    struct json_output *o = (struct json_output *)out;
    struct ixd_writer_stats ws;
    struct ixd_output_counts c = {0};

    for (unsigned i = 0; i < o->n_lanes; i++) {
        c.records += IXD_CNT_GET(o->lanes[i].records);
    }
    ixd_writer_stats(o->writer, &ws);
    c.written_bytes = IXD_CNT_GET(o->written_bytes);
    c.dropped = ws.dropped;
    c.waits = ws.waits;
    ixd_output_report(fn, arg, &c);
    if (o->cfg->rotate_interval > 0 || o->cfg->rotate_size > 0) {
        fn(arg, &json_defs[0], NULL, IXD_CNT_GET(o->rotations));
    }
    if (o->uploader != NULL) {
        ixd_uploader_stats(o->uploader, fn, arg);
    }
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
    if (strcmp(s->path, "-") == 0 && (s->rotate_interval > 0 || s->rotate_size > 0)) {
        return ixd_cnode_fail(path, env->file, err, errlen,
                              "standard output cannot be rotated: a file's path goes with "
                              "rotate-interval and rotate-size");
    }
    if (s->upload.enabled && s->rotate_interval == 0 && s->rotate_size == 0) {
        return ixd_cnode_fail(ixd_cnode_get(env->at, "upload"), env->file, err, errlen,
                              "upload sends rotated files: it needs rotate-interval or "
                              "rotate-size");
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
