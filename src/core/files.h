/* Creating the files outputs write. */
#ifndef IXD_CORE_FILES_H
#define IXD_CORE_FILES_H

#include <sys/types.h>

/*
 * Opens path (relative to dirfd, or AT_FDCWD) with flags | O_CREAT. A file this call creates
 * gets exactly mode (fchmod: the umask does not change what the config asked for); a file that
 * was there keeps its own. The descriptor, or -1 with errno.
 */
int ixd_file_create(int dirfd, const char *path, int flags, mode_t mode);

#endif
