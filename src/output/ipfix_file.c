#include "output/output.h"
#include "core/clock.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/file.h"
#include "core/log.h"
#include "core/relaxed_counter.h"
#include "output/export_session.h"
#include "output/upload.h"

#define MSG_MAX 65535        /* messages as large as IPFIX allows: fewer headers per record */
#define FBUF_SIZE (1u << 20) /* written when full, at rotation and on the 100 ms flush */
#define NAME_TRIES 1000      /* file numbers tried when a name is taken */

/* An ipfix-file output's settings (docs/configuration.md#outputs). */
struct file_settings {
    char directory[IXD_PATH_MAX];
    char prefix[IXD_NAME_MAX]; /* of the file names; the output's name unless set */
    uint32_t rotate_interval;  /* seconds: files end at multiples of it (UTC) */
    size_t rotate_size;        /* bytes a file may reach */
    int original_exporter;
    uint32_t file_mode;
    struct ixd_upload_settings upload; /* enabled: each completed file is uploaded */
};

/* The smallest rotate-size: two of the largest messages, so that a file holds more than one. */
#define ROTATE_SIZE_MIN (2u * 65536)

static const struct ixd_key file_keys[] = {
    {.name = "directory",
     .kind = IXD_KEY_PATH,
     IXD_KEY_AT(struct file_settings, directory),
     .file_use = 1 + IXD_FILE_DIR_WRITE,
     .help = "where the files go"},
    {.name = "prefix",
     .kind = IXD_KEY_NAME,
     IXD_KEY_AT(struct file_settings, prefix),
     .help = "of the file names; the output's name unless set"},
    {.name = "rotate-interval",
     .kind = IXD_KEY_DURATION,
     IXD_KEY_AT(struct file_settings, rotate_interval),
     .min = 1,
     .def = "5m"},
    {.name = "rotate-size",
     .kind = IXD_KEY_SIZE,
     IXD_KEY_AT(struct file_settings, rotate_size),
     .min = ROTATE_SIZE_MIN,
     .def = "64M"},
    {.name = "original-exporter",
     .kind = IXD_KEY_BOOL,
     IXD_KEY_AT(struct file_settings, original_exporter),
     .def = "false"},
    {.name = "file-mode",
     .kind = IXD_KEY_MODE,
     IXD_KEY_AT(struct file_settings, file_mode),
     .def = "0640"},
    {.name = "upload",
     .kind = IXD_KEY_CUSTOM,
     IXD_KEY_AT(struct file_settings, upload),
     .reload = IXD_RELOAD_CONTENT,
     .parse = ixd_upload_parse,
     .same = ixd_upload_same,
     .release = ixd_upload_release,
     .help = "S3-compatible object storage each completed file is uploaded to"},
    {NULL},
};

/* One worker's files: its own IPFIX session (templates, sequence numbers) restarted with every
 * file, and its own buffer. Only that worker touches it, or close() once it has let go. */
struct flane {
    struct ixd_lane base;
    unsigned worker;
    struct ixd_xsession s;
    int fd; /* the temporary file being written; -1 = none, the next message opens one */
    time_t started, rotate_at;
    unsigned n, next_n; /* the file's number in the name, and the next one's */
    char name[IXD_NAME_MAX + 64];
    char tmp[IXD_NAME_MAX + 72];
    uint64_t file_bytes;   /* bytes of the file, buffered included */
    uint64_t file_written; /* bytes that reached it: a failed write cuts it back to this */
    uint64_t file_records; /* data records that reached it */
    uint8_t *buf;          /* whole messages not yet written */
    size_t blen;
    uint32_t brecords, bmessages;
    struct ixd_ratelimit errors;
    /* counters: written by the lane's worker (or close()), read by the control thread */
    uint64_t records, messages, written, dropped, bytes, files, write_errors, buffered;
};

struct foutput {
    struct ixd_output base;
    const struct file_settings *cfg; /* base.settings */
    int dirfd;                       /* names are relative to it */
    struct ixd_uploader *uploader;   /* upload: */
    unsigned n_lanes;
    struct flane *lanes;
};

static struct foutput *
output_of(const struct flane *l)
{
    return (struct foutput *)l->base.output;
}

static void
buffer_gauge(struct flane *l)
{
    IXD_CNT_SET(l->buffered, (uint64_t)(l->blen + l->s.len));
}

/* <prefix>-YYYYmmddTHHMMSSZ-w<worker>-<n>.ipfix, n = file_number. */
static void
make_name(const struct foutput *o, const struct flane *l, unsigned file_number, char *out,
          size_t outlen)
{
    struct tm tm;
    char stamp[32];

    gmtime_r(&l->started, &tm);
    strftime(stamp, sizeof(stamp), "%Y%m%dT%H%M%SZ", &tm);
    snprintf(out, outlen, "%s-%s-w%u-%u.ipfix", o->cfg->prefix, stamp, l->worker, file_number);
}

/* Renames the temporary file to its final name, never over an existing file (one left by an
 * earlier run in the same second, say): the next free number is taken instead. */
static int
publish(struct foutput *o, struct flane *l)
{
    unsigned i;

    for (i = 0; i < NAME_TRIES; i++) {
        make_name(o, l, l->n + i, l->name, sizeof(l->name));
        if (renameat2(o->dirfd, l->tmp, o->dirfd, l->name, RENAME_NOREPLACE) == 0) {
            return 0;
        }
        if (errno == EINVAL || errno == ENOSYS) {
            /* a file system without RENAME_NOREPLACE: the name was free when the file began */
            return renameat(o->dirfd, l->tmp, o->dirfd, l->name);
        }
        if (errno != EEXIST) {
            return -1;
        }
    }
    errno = EEXIST;
    return -1;
}

/* Closes the file (its buffer already written or given up) and gives it its final name; an
 * empty one is removed. */
static void
file_complete(struct foutput *o, struct flane *l)
{
    int closed = close(l->fd);

    l->fd = -1;
    if (closed == -1) {
        /* NFS and the like report late write errors here; what reached the file stays */
        log_err("output %s: closing %s/%s: %s", o->base.name, o->cfg->directory, l->tmp,
                strerror(errno));
        IXD_CNT_ADD(l->write_errors, 1);
    }
    if (l->file_written == 0) {
        unlinkat(o->dirfd, l->tmp, 0);
        return;
    }
    if (publish(o, l) == -1) {
        log_err("output %s: cannot rename %s/%s: %s; it stays under that name", o->base.name,
                o->cfg->directory, l->tmp, strerror(errno));
        IXD_CNT_ADD(l->write_errors, 1);
        return;
    }
    IXD_CNT_ADD(l->files, 1);
    log_info("output %s: wrote %s/%s: %llu records, %llu bytes", o->base.name, o->cfg->directory,
             l->name, (unsigned long long)l->file_records, (unsigned long long)l->file_written);
    if (o->uploader != NULL) {
        ixd_uploader_add(o->uploader, l->name);
    }
}

/*
 * A write failed (disk full, I/O error): the buffered records are lost, counted as dropped, and
 * the file is cut back to its last whole message and completed. The session starts anew, so the
 * next file begins with its templates.
 */
static void
write_failed(struct foutput *o, struct flane *l, const char *why)
{
    ixd_log_limited(&l->errors, ixd_mono_now(), IXD_LOG_ERROR,
                    "output %s: cannot write %s/%s: %s; %u records dropped", o->base.name,
                    o->cfg->directory, l->tmp, why, l->brecords);
    IXD_CNT_ADD(l->write_errors, 1);
    IXD_CNT_ADD(l->dropped, l->brecords);
    if (ftruncate(l->fd, (off_t)l->file_written) == -1) {
        /* the file then ends in a partial message, which readers count as truncated */
    }
    l->blen = 0;
    l->brecords = 0;
    l->bmessages = 0;
    file_complete(o, l);
    ixd_xsession_restart(&l->s);
}

/* Writes the buffer. 0, or -1 if the write failed (the file is then completed). */
static int
buffer_write(struct foutput *o, struct flane *l)
{
    size_t off = 0;

    while (off < l->blen) {
        ssize_t n = write(l->fd, l->buf + off, l->blen - off);
        if (n == -1 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            write_failed(o, l, n == 0 ? "no progress" : strerror(errno));
            return -1;
        }
        off += (size_t)n;
    }
    l->file_written += l->blen;
    l->file_records += l->brecords;
    IXD_CNT_ADD(l->bytes, l->blen);
    IXD_CNT_ADD(l->written, l->brecords);
    IXD_CNT_ADD(l->messages, l->bmessages);
    l->blen = 0;
    l->brecords = 0;
    l->bmessages = 0;
    return 0;
}

/* Writes what is buffered and completes the file (no-op without one). */
static void
file_close(struct foutput *o, struct flane *l)
{
    if (l->fd == -1) {
        return;
    }
    if (buffer_write(o, l) == 0) {
        file_complete(o, l);
    }
}

/* The next file; -1 (logged) if it cannot be created. Its temporary name is unique: O_EXCL
 * moves on to the next number when a name is taken (a file of the output this one replaces
 * at a reload, in the same second). */
static int
file_open(struct foutput *o, struct flane *l)
{
    time_t now = time(NULL);
    unsigned i;

    l->started = now;
    for (i = 0; i < NAME_TRIES; i++) {
        l->n = l->next_n++;
        make_name(o, l, l->n, l->name, sizeof(l->name));
        snprintf(l->tmp, sizeof(l->tmp), ".%s.tmp", l->name);
        l->fd = ixd_file_open_exact(o->dirfd, l->tmp, O_WRONLY | O_EXCL | O_CLOEXEC,
                                    (mode_t)o->cfg->file_mode);
        if (l->fd != -1 || errno != EEXIST) {
            break;
        }
    }
    if (l->fd == -1) {
        ixd_log_limited(&l->errors, ixd_mono_now(), IXD_LOG_ERROR,
                        "output %s: cannot create %s/%s: %s; records dropped", o->base.name,
                        o->cfg->directory, l->tmp, strerror(errno));
        IXD_CNT_ADD(l->write_errors, 1);
        return -1;
    }
    /* at multiples of the interval, as nfcapd does: every lane's files end together */
    l->rotate_at = (now / o->cfg->rotate_interval + 1) * o->cfg->rotate_interval;
    l->file_bytes = 0;
    l->file_written = 0;
    l->file_records = 0;
    return 0;
}

/* Completes the file; the next message starts a new one with its templates and sequence
 * numbers from 0. */
static void
rotate(struct foutput *o, struct flane *l)
{
    file_close(o, l);
    ixd_xsession_restart(&l->s);
}

/*
 * The session's emit callback: appends a finished message to the buffer, opening a file if
 * none is open. A file is completed once another message of MSG_MAX bytes might not fit within
 * rotate-size, so no file grows beyond it.
 */
static int
file_emit(void *arg, const uint8_t *msg, size_t len, uint32_t records, uint32_t described,
          int templates)
{
    struct flane *l = arg;
    struct foutput *o = output_of(l);

    (void)described;
    (void)templates;
    if (l->fd == -1 && file_open(o, l) == -1) {
        IXD_CNT_ADD(l->dropped, records);
        return -1;
    }
    if (l->blen + len > FBUF_SIZE && buffer_write(o, l) == -1) {
        /* the file was given up: this message may use templates only that file defined */
        IXD_CNT_ADD(l->dropped, records);
        return -1;
    }
    memcpy(l->buf + l->blen, msg, len);
    l->blen += len;
    l->brecords += records;
    l->bmessages++;
    l->file_bytes += len;
    if (l->file_bytes + MSG_MAX > o->cfg->rotate_size) {
        rotate(o, l);
    }
    return 0;
}

static void
f_write(struct ixd_lane *lane, const struct ixd_batch *batch)
{
    struct flane *l = (struct flane *)lane;
    struct foutput *o = output_of(l);
    size_t dropped;

    if (batch->count == 0) {
        return;
    }
    IXD_CNT_ADD(l->records, batch->count);
    dropped = ixd_xsession_write(&l->s, batch, o->cfg->original_exporter, ixd_wall_sec());
    if (dropped > 0) {
        IXD_CNT_ADD(l->dropped, dropped);
    }
    buffer_gauge(l);
}

/* Every 100 ms and at stop: the message being built goes to the buffer, the buffer to the file
 * (the page cache absorbs it), and a file whose time is up is completed. */
static void
f_flush(struct ixd_lane *lane)
{
    struct flane *l = (struct flane *)lane;
    struct foutput *o = output_of(l);

    ixd_xsession_finish(&l->s);
    if (l->fd != -1) {
        if (time(NULL) >= l->rotate_at) {
            rotate(o, l);
        } else if (l->blen > 0) {
            buffer_write(o, l);
        }
    }
    buffer_gauge(l);
}

/* ---- the control thread's side ---- */

static struct ixd_lane *
f_lane(struct ixd_output *out, unsigned w)
{
    struct foutput *o = (struct foutput *)out;

    return w < o->n_lanes ? &o->lanes[w].base : NULL;
}

static void
free_output(struct foutput *o)
{
    unsigned i;

    ixd_uploader_free(o->uploader); /* after the last file was completed */
    for (i = 0; o->lanes != NULL && i < o->n_lanes; i++) {
        ixd_xsession_release(&o->lanes[i].s);
        free(o->lanes[i].buf);
    }
    free(o->lanes);
    if (o->dirfd != -1) {
        close(o->dirfd);
    }
    free(o);
}

static struct ixd_output *
f_open(const void *settings, const char *name, unsigned workers, char *err, size_t errlen)
{
    const struct file_settings *cfg = settings;
    struct foutput *o = calloc(1, sizeof(*o));
    unsigned i;

    if (o == NULL) {
        snprintf(err, errlen, "output %s: out of memory", name);
        return NULL;
    }
    o->base.name = name;
    o->cfg = cfg;
    /* checked now, so that a start or reload fails instead of dropping every record */
    o->dirfd = open(cfg->directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (o->dirfd == -1 || faccessat(o->dirfd, ".", W_OK | X_OK, AT_EACCESS) == -1) {
        snprintf(err, errlen, "output %s: cannot write to directory %s: %s", name, cfg->directory,
                 strerror(errno));
        free_output(o);
        return NULL;
    }
    if (cfg->upload.enabled) {
        o->uploader = ixd_uploader_new(&cfg->upload, name, cfg->directory, cfg->prefix, ".ipfix",
                                       err, errlen);
        if (o->uploader == NULL) {
            free_output(o);
            return NULL;
        }
    }
    o->lanes = calloc(workers, sizeof(*o->lanes));
    if (o->lanes == NULL) {
        goto fail;
    }
    o->n_lanes = workers;
    for (i = 0; i < workers; i++) {
        struct flane *l = &o->lanes[i];
        l->base.output = &o->base;
        l->worker = i;
        l->fd = -1;
        l->buf = malloc(FBUF_SIZE);
        if (ixd_xsession_init(&l->s, o->base.name, MSG_MAX, IXD_XWITHDRAW_SENT, file_emit, l) ==
                -1 ||
            l->buf == NULL) {
            goto fail;
        }
    }
    return &o->base;
fail:
    snprintf(err, errlen, "output %s: out of memory for %u buffers", name, workers);
    free_output(o);
    return NULL;
}

static void
f_reopen(struct ixd_output *out)
{
    (void)out; /* files rotate on their own; a reload that changes a setting replaces the output */
}

/* Called once every worker has let go: the last messages are written and every file is
 * completed under its final name. */
static void
f_close(struct ixd_output *out)
{
    struct foutput *o = (struct foutput *)out;
    uint64_t files = 0, records = 0, bytes = 0, errors = 0, dropped = 0;
    unsigned i;

    if (o == NULL) {
        return;
    }
    for (i = 0; i < o->n_lanes; i++) {
        struct flane *l = &o->lanes[i];
        ixd_xsession_finish(&l->s);
        file_close(o, l);
        files += l->files;
        records += l->written;
        bytes += l->bytes;
        errors += l->write_errors;
        dropped += l->dropped;
    }
    log_info("output %s: closed: files=%llu records=%llu bytes=%llu write_errors=%llu "
             "dropped=%llu",
             o->base.name, (unsigned long long)files, (unsigned long long)records,
             (unsigned long long)bytes, (unsigned long long)errors, (unsigned long long)dropped);
    free_output(o);
}

static const struct ixd_counter_def file_counters[] = {
    {.key = "files",
     .metric = "ipfixd_output_files_total",
     .kind = IXD_COUNTER_TOTAL,
     .help = "files completed (closed and given their final name)"},
    {.key = "write_errors",
     .metric = "ipfixd_output_write_errors_total",
     .kind = IXD_COUNTER_TOTAL,
     .help = "failed writes, closes and renames of files"},
};

/* Summed over lanes; the directory is the one destination: records = sent + dropped + what is
 * still buffered. */
static void
f_stats(struct ixd_output *out, ixd_counter_fn fn, void *arg)
{
    struct foutput *o = (struct foutput *)out;
    struct ixd_output_counts c = {0};
    struct ixd_destination_counts dc = {0};
    uint64_t files = 0, write_errors = 0;
    char dir[128];

    for (unsigned i = 0; i < o->n_lanes; i++) {
        const struct flane *l = &o->lanes[i];
        c.records += IXD_CNT_GET(l->records);
        c.written_bytes += IXD_CNT_GET(l->bytes);
        c.dropped += IXD_CNT_GET(l->dropped);
        files += IXD_CNT_GET(l->files);
        write_errors += IXD_CNT_GET(l->write_errors);
        dc.messages += IXD_CNT_GET(l->messages);
        dc.sent += IXD_CNT_GET(l->written);
        dc.queued_bytes += IXD_CNT_GET(l->buffered);
    }
    ixd_output_report(fn, arg, &c);
    fn(arg, &file_counters[0], NULL, files);
    fn(arg, &file_counters[1], NULL, write_errors);
    if (o->uploader != NULL) {
        ixd_uploader_stats(o->uploader, fn, arg);
    }
    dc.records = c.records;
    dc.dropped = c.dropped;
    /* a long directory keeps its start: the name must hold the prefix */
    snprintf(dir, sizeof(dir), "%.60s/%.60s-*", o->cfg->directory, o->cfg->prefix);
    ixd_destination_report(fn, arg, dir, &dc);
}

/* The prefix is the output's name unless set. */
static int
f_check(void *settings, const struct ixd_module_env *env, char *err, size_t errlen)
{
    struct file_settings *s = settings;

    if (s->directory[0] == '\0') {
        return ixd_cnode_fail(
            env->at, env->file, err, errlen,
            "output '%s' needs a directory, e.g. directory: /var/lib/ipfixd/archive", env->name);
    }
    if (s->prefix[0] == '\0') {
        snprintf(s->prefix, sizeof(s->prefix), "%s", env->name);
    }
    return 0;
}

static int
f_conflicts(const void *a, const void *b, char *what, size_t whatlen)
{
    const struct file_settings *x = a, *y = b;

    if (strcmp(x->directory, y->directory) != 0 || strcmp(x->prefix, y->prefix) != 0) {
        return 0;
    }
    snprintf(what, whatlen, "%s/%s-*", x->directory, x->prefix);
    return 1;
}

const struct ixd_output_type ixd_output_ipfix_file = {
    .m =
        {
            .name = "ipfix-file",
            .keys = file_keys,
            .settings_size = sizeof(struct file_settings),
            .check = f_check,
            .conflicts = f_conflicts,
        },
    .open = f_open,
    .reopen = f_reopen,
    .close = f_close,
    .stats = f_stats,
    .lane = f_lane,
    .write = f_write,
    .flush = f_flush,
};
