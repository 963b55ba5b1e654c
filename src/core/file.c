/*
 * Temporary files under fixed names (NAME.tmp) let whoever may write the directory decide what
 * gets written: a symlink planted there is followed by open(O_TRUNC), and a leftover from a
 * crash would block an O_EXCL open forever. So each temporary file gets a random name and is
 * opened O_CREAT|O_EXCL|O_NOFOLLOW: nothing planted is ever opened, and a file left by a crash
 * between create and rename is in nobody's way (it stays, hidden, until removed by hand).
 */
#include "core/file.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sys/stat.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#define NAME_RANDOM 12 /* hex digits: 48 bits */
#define NAME_TRIES 16

/* 48 random bits; the clock and a counter where getrandom is not there (O_EXCL still holds). */
static uint64_t
random_bits(void)
{
    static atomic_uint_fast64_t counter;
    uint64_t v = 0;

    if (getrandom(&v, sizeof(v), GRND_NONBLOCK) != (ssize_t)sizeof(v)) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        v = ((uint64_t)ts.tv_nsec << 20) ^ (uint64_t)ts.tv_sec ^ ((uint64_t)getpid() << 32) ^
            atomic_fetch_add(&counter, 0x9e3779b97f4a7c15ULL);
    }
    return v & ((UINT64_C(1) << (4 * NAME_RANDOM)) - 1);
}

int
ixd_file_create(const char *prefix, mode_t mode, char *path, size_t pathlen)
{
    int i, fd = -1;

    for (i = 0; i < NAME_TRIES; i++) {
        int n = snprintf(path, pathlen, "%s%0*llx", prefix, NAME_RANDOM,
                         (unsigned long long)random_bits());
        if (n < 0 || (size_t)n >= pathlen) {
            errno = ENAMETOOLONG;
            return -1;
        }
        fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
        if (fd != -1 || errno != EEXIST) {
            break;
        }
    }
    return fd;
}

int
ixd_file_write_all(int fd, const void *data, size_t len)
{
    const char *p = data;
    size_t off = 0;

    while (off < len) {
        ssize_t n = write(fd, p + off, len - off);
        if (n == -1 && errno == EINTR) {
            continue;
        }
        if (n == -1) {
            return -1;
        }
        if (n == 0) {
            errno = EIO;
            return -1;
        }
        off += (size_t)n;
    }
    return 0;
}

int
ixd_file_replace(const char *path, const void *data, size_t len, mode_t mode)
{
    const char *slash = strrchr(path, '/');
    const char *name = slash != NULL ? slash + 1 : path;
    int dirlen = slash != NULL ? (int)(slash - path) + 1 : 0;
    char prefix[PATH_MAX], tmp[PATH_MAX];
    int fd, saved;

    /* "dir/.name.": hidden, so a glob such as *.conf in an include does not take it */
    if ((size_t)snprintf(prefix, sizeof(prefix), "%.*s.%s.", dirlen, path, name) >=
        sizeof(prefix)) {
        errno = ENAMETOOLONG;
        return -1;
    }
    fd = ixd_file_create(prefix, mode, tmp, sizeof(tmp));
    if (fd == -1) {
        return -1;
    }
    if (ixd_file_write_all(fd, data, len) == -1 || fsync(fd) == -1) {
        goto fail;
    }
    if (close(fd) == -1) {
        fd = -1;
        goto fail;
    }
    fd = -1;
    if (rename(tmp, path) == -1) {
        goto fail;
    }
    return 0;
fail:
    saved = errno;
    if (fd != -1) {
        close(fd);
    }
    unlink(tmp);
    errno = saved;
    return -1;
}

int
ixd_file_open_exact(int dirfd, const char *path, int flags, mode_t mode)
{
    int fd, saved;

    for (;;) {
        fd = openat(dirfd, path, flags | O_CREAT | O_EXCL, mode);
        if (fd != -1) {
            break;
        }
        if (errno != EEXIST || (flags & O_EXCL)) {
            return -1;
        }
        /* there already: append to it as it is (it may go again before this open: retry) */
        fd = openat(dirfd, path, flags & ~O_CREAT);
        if (fd != -1 || errno != ENOENT) {
            return fd;
        }
    }
    if (fchmod(fd, mode) == -1) {
        saved = errno;
        close(fd);
        unlinkat(dirfd, path, 0);
        errno = saved;
        return -1;
    }
    return fd;
}
