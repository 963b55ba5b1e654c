#include "core/files.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

int
ixd_file_create(int dirfd, const char *path, int flags, mode_t mode)
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
