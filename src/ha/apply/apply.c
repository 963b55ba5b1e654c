/*
 * One change, as the helper makes it (ka_apply in apply.h): the model checked again and against
 * the policy, rendered, `keepalived -t` on a copy of keepalived.conf that includes the new
 * text, the old include backed up, the new one renamed into place, keepalived reloaded, one
 * line in the audit log. Changes are made one at a time: an exclusive lock on the include's
 * directory, which two helpers (socket-activated instances, say) share.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/file.h"
#include "core/log.h"
#include "core/parse.h"
#include "ha/apply/apply.h"
#include "ha/keepalived_wire.h"

static void __attribute__((format(printf, 4, 5)))
answer(struct ka_answer *a, int status, const char *result, const char *fmt, ...)
{
    va_list ap;

    a->status = status;
    a->result = result;
    va_start(ap, fmt);
    vsnprintf(a->detail, sizeof(a->detail), fmt, ap);
    va_end(ap);
}

static void
dir_of(const char *path, char *dir, size_t dirlen)
{
    const char *slash = strrchr(path, '/');
    size_t n = slash != NULL && slash != path ? (size_t)(slash - path) : 1;

    snprintf(dir, dirlen, "%.*s", (int)n, path);
}

/* The request's model, checked with the model's rules: 0, or -1 with a (400 or 422). */
static int
check(const json_t *request, struct ixd_ka_model *m, struct ka_answer *a)
{
    const json_t *version = json_object_get(request, "version");
    struct ixd_ka_error e;

    if (!json_is_object(request) || !json_is_integer(version) ||
        json_integer_value(version) != IXD_KA_WIRE_VERSION) {
        answer(a, 400, "refused", "the request is not of version %d of the helper's protocol",
               IXD_KA_WIRE_VERSION);
        return -1;
    }
    if (ixd_ka_check(json_object_get(request, "model"), m, &e) == -1) {
        snprintf(a->field, sizeof(a->field), "%s", e.field);
        answer(a, 422, "refused", "%s%s%s", e.field, e.field[0] != '\0' ? ": " : "", e.why);
        return -1;
    }
    return 0;
}

/* A checked model against root's policy: 0, or -1 with a (a 422). */
static int
allowed(const struct ka_settings *s, struct ixd_ka_model *m, struct ka_answer *a)
{
    struct ixd_ka_error e;

    if (ixd_ka_policy_check(&s->allow, m, &e) == -1) {
        snprintf(a->field, sizeof(a->field), "%s", e.field);
        answer(a, 422, "refused", "%s: %s", e.field, e.why);
        return -1;
    }
    return 0;
}

/* An exclusive lock on the include's directory within the check timeout: its fd, or -1. */
static int
lock_dir(const struct ka_settings *s, struct ka_answer *a)
{
    char dir[IXD_PATH_MAX];
    double deadline = ixd_mono_now() + s->check_timeout;
    int fd;

    dir_of(s->include, dir, sizeof(dir));
    fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd == -1) {
        answer(a, 500, "failed", "cannot open %s: %s; nothing changed", dir, strerror(errno));
        return -1;
    }
    while (flock(fd, LOCK_EX | LOCK_NB) == -1) {
        if ((errno != EWOULDBLOCK && errno != EINTR) || ixd_mono_now() > deadline) {
            answer(a, 503, "failed", "another change of %s is under way; nothing changed",
                   s->include);
            close(fd);
            return -1;
        }
        usleep(50 * 1000);
    }
    return fd;
}

/* Writes len bytes durably into the new file fd (path) and closes it; unlinks it on failure. */
static int
write_new(int fd, const char *path, const char *text, size_t len)
{
    int saved;

    if (ixd_file_write_all(fd, text, len) == 0 && fsync(fd) == 0 && close(fd) == 0) {
        return 0;
    }
    saved = errno;
    close(fd);
    unlink(path);
    errno = saved;
    return -1;
}

/* keepalived.conf with every mention of the include replaced by copy, into a new file. */
static int
write_main_copy(const char *main_text, const char *include, const char *prefix, const char *copy,
                char *path, size_t pathlen)
{
    char *text = NULL;
    size_t len = 0;
    const char *p = main_text, *at;
    FILE *f = open_memstream(&text, &len);
    int fd, rc;

    if (f == NULL) {
        return -1;
    }
    while ((at = strstr(p, include)) != NULL) {
        fwrite(p, 1, (size_t)(at - p), f);
        fputs(copy, f);
        p = at + strlen(include);
    }
    fputs(p, f);
    if (fclose(f) != 0) {
        free(text);
        return -1;
    }
    fd = ixd_file_create(prefix, 0644, path, pathlen);
    rc = fd == -1 ? -1 : write_new(fd, path, text, len);
    free(text);
    return rc;
}

/*
 * keepalived -t on keepalived.conf with the new include in place of the old: both copies go
 * next to the include (the helper's directory), under names of ixd_file_create, and are removed
 * after. 0, or -1 with a.
 */
static int
test_with_keepalived(const struct ka_settings *s, const char *main_text, const char *text,
                     size_t len, struct ka_answer *a)
{
    char dir[IXD_PATH_MAX], prefix[IXD_PATH_MAX + 16], out[1024];
    char tmp_inc[IXD_PATH_MAX + 32], tmp_main[IXD_PATH_MAX + 32] = "";
    char words[sizeof(s->keepalived_bin)], *argv[KA_WORDS_MAX];
    int fd, n, rc;

    dir_of(s->include, dir, sizeof(dir));
    snprintf(prefix, sizeof(prefix), "%s/.ipfixd-check-", dir);
    fd = ixd_file_create(prefix, 0644, tmp_inc, sizeof(tmp_inc));
    if (fd == -1 || write_new(fd, tmp_inc, text, len) == -1 ||
        write_main_copy(main_text, s->include, prefix, tmp_inc, tmp_main, sizeof(tmp_main)) == -1) {
        answer(a, 500, "failed", "cannot write the copies to check in %s: %s; nothing changed", dir,
               strerror(errno));
        if (fd != -1) {
            unlink(tmp_inc);
        }
        return -1;
    }
    snprintf(words, sizeof(words), "%s", s->keepalived_bin);
    n = ka_split_words(words, argv, KA_WORDS_MAX - 3);
    argv[n++] = "-t";
    argv[n++] = "-f";
    argv[n++] = tmp_main;
    argv[n] = NULL;
    rc = ka_spawn(argv, s->check_timeout, s->pid_namespace, out, sizeof(out));
    unlink(tmp_inc);
    unlink(tmp_main);
    if (rc == -2) {
        /* the helper's trouble, not the change's */
        answer(a, 500, "failed", "%s; nothing changed", out);
        return -1;
    }
    if (rc != 0) {
        a->field[0] = '\0';
        answer(a, 422, "refused", "keepalived -t refuses the change: %s",
               out[0] != '\0' ? out : "it exited with an error and said nothing");
        return -1;
    }
    return 0;
}

/*
 * Copies the include as it is to backup-dir/NAME.TIMESTAMP, a new file (O_EXCL|O_NOFOLLOW);
 * "" in a->backup when there was none. 0, or -1 with a.
 */
static int
backup(const struct ka_settings *s, struct ka_answer *a)
{
    const char *base = strrchr(s->include, '/') + 1;
    int64_t now = ixd_wall_usec();
    time_t secs = (time_t)(now / 1000000);
    char *text = NULL, stamp[32];
    size_t len = 0;
    struct tm tm;
    int fd;

    a->backup[0] = '\0';
    if (ixd_read_file(s->include, IXD_KA_TEXT_MAX, &text, &len) == -1) {
        if (errno == ENOENT) {
            return 0;
        }
        answer(a, 500, "failed", "cannot read %s: %s; nothing changed", s->include,
               ixd_read_error(errno));
        return -1;
    }
    gmtime_r(&secs, &tm);
    strftime(stamp, sizeof(stamp), "%Y%m%dT%H%M%S", &tm);
    snprintf(a->backup, sizeof(a->backup), "%s/%s.%s.%06lldZ", s->backup_dir, base, stamp,
             (long long)(now % 1000000));
    fd = open(a->backup, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
    if (fd == -1 || write_new(fd, a->backup, text, len) == -1) {
        answer(a, 500, "failed", "cannot back up %s to %s: %s; nothing changed", s->include,
               s->backup_dir, strerror(errno));
        a->backup[0] = '\0';
        free(text);
        return -1;
    }
    free(text);
    return 0;
}

static int
reload(const struct ka_settings *s, char *out, size_t outlen)
{
    char words[sizeof(s->reload)], *argv[KA_WORDS_MAX], *text = NULL;
    size_t len = 0;
    long pid;
    int rc;

    out[0] = '\0';
    if (s->reload[0] != '\0') {
        snprintf(words, sizeof(words), "%s", s->reload);
        ka_split_words(words, argv, KA_WORDS_MAX);
        rc = ka_spawn(argv, s->check_timeout, 0, out, outlen);
        if (rc > 0 && out[0] == '\0') {
            snprintf(out, outlen, "'%s' exited with %d", s->reload, rc);
        }
        return rc == 0 ? 0 : -1;
    }
    if (ixd_read_file(s->reload_pid_file, 64, &text, &len) == -1) {
        snprintf(out, outlen, "cannot read %.512s: %s", s->reload_pid_file, ixd_read_error(errno));
        return -1;
    }
    pid = strtol(text, NULL, 10);
    free(text);
    if (pid <= 1 || kill((pid_t)pid, SIGHUP) == -1) {
        snprintf(out, outlen, "cannot send SIGHUP to pid %ld of %.512s: %s", pid,
                 s->reload_pid_file, pid <= 1 ? "not a pid" : strerror(errno));
        return -1;
    }
    return 0;
}

/* Everything after the checks, under the lock. */
static void
install(const struct ka_settings *s, const struct ixd_ka_model *m, struct ka_answer *a)
{
    char *main_text = NULL, *text = NULL, out[1024];
    size_t main_len = 0, len = 0;

    text = ixd_ka_render(m, &len);
    if (text == NULL) {
        answer(a, 500, "failed", "out of memory; nothing changed");
    } else if (ixd_read_file(s->config, IXD_KA_TEXT_MAX, &main_text, &main_len) == -1) {
        answer(a, 500, "failed", "cannot read %s: %s; nothing changed", s->config,
               ixd_read_error(errno));
    } else if (strstr(main_text, s->include) == NULL) {
        answer(a, 409, "failed", "%s does not include %s: a change there would not take effect",
               s->config, s->include);
    } else if (test_with_keepalived(s, main_text, text, len, a) == -1 || backup(s, a) == -1) {
        /* a is set */
    } else if (ixd_file_replace(s->include, text, len, 0644) == -1) {
        answer(a, 500, "failed", "cannot write %s: %s; nothing changed", s->include,
               strerror(errno));
    } else if (reload(s, out, sizeof(out)) == -1) {
        answer(a, 502, "failed",
               "%s is written (the old one is in %s) but reloading keepalived failed: %s",
               s->include, a->backup[0] != '\0' ? a->backup : "no backup: there was none", out);
    } else {
        answer(a, 200, "applied", "%s", "");
    }
    free(main_text);
    free(text);
}

/* What a change is about, for the audit log: instances with priority and VIPs, servers. */
static json_t *
summary_of(const struct ixd_ka_model *m)
{
    json_t *out = json_pack("{s:[], s:[]}", "instances", "virtual_servers");
    size_t i, k;

    for (i = 0; out != NULL && i < m->n_instances; i++) {
        const struct ixd_ka_instance *in = &m->instances[i];
        json_t *vips = json_array();
        for (k = 0; k < in->n_vips; k++) {
            json_array_append_new(vips, json_string(in->vips[k].addr.text));
        }
        json_array_append_new(json_object_get(out, "instances"),
                              json_pack("{s:s, s:i, s:o}", "name", in->name, "priority",
                                        in->priority, "virtual_ipaddress", vips));
    }
    for (i = 0; out != NULL && i < m->n_servers; i++) {
        json_array_append_new(json_object_get(out, "virtual_servers"),
                              json_pack("{s:s, s:i}", "address", m->servers[i].addr.text, "port",
                                        m->servers[i].port));
    }
    return out;
}

/* One JSON line in the helper's audit log, and one line in its log, per request. */
static void
audit(const struct ka_settings *s, const struct ka_caller *c, const json_t *request,
      const json_t *summary, const struct ka_answer *a)
{
    const json_t *requester = json_object_get(request, "requester");
    time_t now = time(NULL);
    char stamp[32];
    struct tm tm;
    json_t *line;
    char *text;
    int fd;

    gmtime_r(&now, &tm);
    strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%SZ", &tm);
    line =
        json_pack("{s:s, s:{s:i, s:i, s:i}, s:O?, s:O?, s:i, s:s, s:s*, s:s*}", "time", stamp,
                  "caller", "uid", (int)c->uid, "gid", (int)c->gid, "pid", (int)c->pid, "requester",
                  json_is_object(requester) ? requester : NULL, "change", summary, "status",
                  a->status, "result", a->result, "detail", a->detail[0] != '\0' ? a->detail : NULL,
                  "backup", a->backup[0] != '\0' ? a->backup : NULL);
    text = line != NULL ? json_dumps(line, JSON_COMPACT) : NULL;
    log_info(KA_LOG "%s for uid %d pid %d: %d %s", a->result, (int)c->uid, (int)c->pid, a->status,
             a->detail);
    if (s->audit_log[0] != '\0' && text != NULL) {
        fd = open(s->audit_log, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0640);
        if (fd == -1 || dprintf(fd, "%s\n", text) < 0) {
            log_warn(KA_LOG "cannot write the audit log %s: %s", s->audit_log, strerror(errno));
        }
        if (fd != -1) {
            close(fd);
        }
    }
    free(text);
    json_decref(line);
}

void
ka_apply(const struct ka_settings *s, const struct ka_caller *caller, const json_t *request,
         struct ka_answer *a)
{
    struct ixd_ka_model m;
    json_t *summary = NULL;
    int lock;

    memset(a, 0, sizeof(*a));
    memset(&m, 0, sizeof(m));
    if (check(request, &m, a) == 0) {
        summary = summary_of(&m);
        if (allowed(s, &m, a) == 0 && (lock = lock_dir(s, a)) != -1) {
            install(s, &m, a);
            close(lock);
        }
    }
    audit(s, caller, request, summary, a);
    json_decref(summary);
    ixd_ka_model_release(&m);
}
