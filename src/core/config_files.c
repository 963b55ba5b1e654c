/*
 * The files and directories a config names, opened and checked as ipfixd will use them
 * (`ipfixd -t`, start and reload), each reported at the key that names it. The parser notes
 * them (ixd_cfg_note_file); this pass touches the file system, the parser does not.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/config.h"

/* A check's verdict: 0 usable, -1 with why. */
static int fail(char *why, size_t whylen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int
fail(char *why, size_t whylen, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(why, whylen, fmt, ap);
    va_end(ap);
    return -1;
}

/*
 * faccessat with AT_EACCESS checks as the file-system user (Linux: fsuid, which ipfixd sets to
 * the configured user before it opens anything, daemon/privileges.h); plain access(2) would
 * check as the real user.
 */
static int
can(const char *path, int mode)
{
    return faccessat(AT_FDCWD, path, mode, AT_EACCESS) == 0;
}

/* Opens the file as ipfixd will read it; checks the mode of a key on the descriptor. */
static int
check_read(const struct ixd_config_file *f, char *why, size_t whylen)
{
    struct stat st;
    int fd, rc = 0;

    fd = open(f->path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
    if (fd == -1) {
        return fail(why, whylen, "cannot open %s: %s", f->path, strerror(errno));
    }
    if (fstat(fd, &st) == -1) {
        rc = fail(why, whylen, "cannot stat %s: %s", f->path, strerror(errno));
    } else if (!S_ISREG(st.st_mode)) {
        rc = fail(why, whylen, "%s is not a regular file", f->path);
    } else if (f->use == IXD_FILE_SECRET && (st.st_mode & (S_IROTH | S_IWOTH | S_IWGRP)) != 0) {
        rc = fail(why, whylen,
                  "key file %s has mode %04o: it must not be readable by others nor writable "
                  "by its group or others (chmod 600 or 640)",
                  f->path, (unsigned)(st.st_mode & 07777));
    } else if (f->use == IXD_FILE_SECRET && f->max > 0 &&
               ((size_t)st.st_size < f->min || (size_t)st.st_size > f->max)) {
        rc = fail(why, whylen, "key file %s has %lld bytes, expected %zu to %zu", f->path,
                  (long long)st.st_size, f->min, f->max);
    }
    close(fd);
    return rc;
}

static int
check_dir(const struct ixd_config_file *f, int mode, char *why, size_t whylen)
{
    struct stat st;

    if (stat(f->path, &st) == -1) {
        return fail(why, whylen, "cannot use directory %s: %s", f->path, strerror(errno));
    }
    if (!S_ISDIR(st.st_mode)) {
        return fail(why, whylen, "%s is not a directory", f->path);
    }
    if (!can(f->path, mode)) {
        return fail(why, whylen, "cannot %s directory %s: %s",
                    (mode & W_OK) ? "create files in" : "read", f->path, strerror(errno));
    }
    return 0;
}

/* The file is writable, or can be created: its directory exists and is writable. */
static int
check_write(const struct ixd_config_file *f, char *why, size_t whylen)
{
    char dir[IXD_PATH_MAX];
    const char *slash = strrchr(f->path, '/');
    struct stat st;

    if (stat(f->path, &st) == 0) {
        if (S_ISDIR(st.st_mode)) {
            return fail(why, whylen, "%s is a directory", f->path);
        }
        if (!can(f->path, W_OK)) {
            return fail(why, whylen, "cannot write %s: %s", f->path, strerror(errno));
        }
        return 0;
    }
    if (errno != ENOENT) {
        return fail(why, whylen, "cannot use %s: %s", f->path, strerror(errno));
    }
    if (slash == NULL) {
        snprintf(dir, sizeof(dir), ".");
    } else {
        snprintf(dir, sizeof(dir), "%.*s", slash == f->path ? 1 : (int)(slash - f->path), f->path);
    }
    if (stat(dir, &st) == -1 || !S_ISDIR(st.st_mode)) {
        return fail(why, whylen, "cannot create %s: no directory %s", f->path, dir);
    }
    if (!can(dir, W_OK | X_OK)) {
        return fail(why, whylen, "cannot create %s: %s: %s", f->path, dir, strerror(errno));
    }
    return 0;
}

/* The state directory exists and is writable, or its nearest existing parent is. */
static int
check_state_dir(const struct ixd_config_file *f, char *why, size_t whylen)
{
    char dir[IXD_PATH_MAX];
    struct stat st;
    char *slash;

    snprintf(dir, sizeof(dir), "%s", f->path);
    while (stat(dir, &st) == -1) {
        slash = strrchr(dir, '/');
        if (errno != ENOENT || slash == NULL) {
            return fail(why, whylen, "%s: %s", dir, strerror(errno));
        }
        slash[slash == dir ? 1 : 0] = '\0';
    }
    if (!S_ISDIR(st.st_mode)) {
        return fail(why, whylen, "%s is not a directory", dir);
    }
    if (!can(dir, W_OK | X_OK)) {
        return fail(why, whylen, "cannot %s %s: %s",
                    strcmp(dir, f->path) == 0 ? "write in" : "create it in", dir, strerror(errno));
    }
    return 0;
}

/* A Unix socket that is there and that ipfixd may connect to (connect needs write access). */
static int
check_socket(const struct ixd_config_file *f, char *why, size_t whylen)
{
    struct stat st;

    if (stat(f->path, &st) == -1) {
        return fail(why, whylen, "cannot use socket %s: %s", f->path, strerror(errno));
    }
    if (!S_ISSOCK(st.st_mode)) {
        return fail(why, whylen, "%s is not a socket", f->path);
    }
    if (!can(f->path, W_OK)) {
        return fail(why, whylen, "cannot connect to %s: %s", f->path, strerror(errno));
    }
    return 0;
}

int
ixd_config_file_check(const struct ixd_config_file *f, char *why, size_t whylen)
{
    switch (f->use) {
    case IXD_FILE_READ:
    case IXD_FILE_SECRET:
        return check_read(f, why, whylen);
    case IXD_FILE_WRITE:
        return check_write(f, why, whylen);
    case IXD_FILE_DIR_READ:
        return check_dir(f, R_OK | X_OK, why, whylen);
    case IXD_FILE_DIR_WRITE:
        return check_dir(f, W_OK | X_OK, why, whylen);
    case IXD_FILE_STATE_DIR:
        return check_state_dir(f, why, whylen);
    case IXD_FILE_SOCKET:
        return check_socket(f, why, whylen);
    }
    return 0;
}

int
ixd_config_check_files(const struct ixd_config *cfg, ixd_config_warn_fn warn, void *arg, char *err,
                       size_t errlen)
{
    const char *name = cfg->source;
    char why[IXD_PATH_MAX + 256];
    size_t i;

    for (i = 0; i < cfg->n_files; i++) {
        const struct ixd_config_file *f = &cfg->files[i];
        int rc;

        rc = ixd_config_file_check(f, why, sizeof(why));
        if (rc == -1 && f->use == IXD_FILE_STATE_DIR) {
            if (warn != NULL) {
                char msg[sizeof(why) + 512];
                snprintf(msg, sizeof(msg),
                         "%s:%u:%u: warning: state-directory %s is not usable (%s): templates "
                         "will not survive a restart",
                         name, f->line, f->column, f->path, why);
                warn(arg, msg);
            }
            continue;
        }
        if (rc == -1) {
            snprintf(err, errlen, "%s:%u:%u: %s: %s", name, f->line, f->column, f->key, why);
            return -1;
        }
    }
    return 0;
}
