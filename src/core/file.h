/*
 * Files written whole: a new file under a name nobody could have prepared, then renamed over
 * the old one. Any thread.
 */
#ifndef IXD_CORE_FILE_H
#define IXD_CORE_FILE_H

#include <stddef.h>
#include <sys/types.h>

/*
 * Creates a new file for writing named prefix followed by 12 random characters (prefix holds
 * the directory), with mode (less the umask). O_CREAT|O_EXCL|O_NOFOLLOW: whatever is already
 * there under that name (a file, a symlink planted in a directory others may write) is never
 * opened, followed or truncated; a taken name is retried with other random characters. The
 * name, in path, is the caller's to rename or unlink. Returns the descriptor, or -1 with errno.
 */
int ixd_file_create(const char *prefix, mode_t mode, char *path, size_t pathlen);

/*
 * Replaces path with the len bytes of data, durably: written to a new file of
 * ixd_file_create() in path's directory, named "." + the file's name + ".", fsynced and renamed
 * over path, so a reader sees the old file or the new one, never half of one. If path is a
 * symlink the link itself is replaced. Returns 0, or -1 with errno (the temporary file removed).
 */
int ixd_file_replace(const char *path, const void *data, size_t len, mode_t mode);

/*
 * Opens path (relative to dirfd, or AT_FDCWD) with flags | O_CREAT, for the files outputs write.
 * A file this call creates gets exactly mode (fchmod: the umask does not change what the config
 * asked for); a file that was there keeps its own. The descriptor, or -1 with errno.
 */
int ixd_file_open_exact(int dirfd, const char *path, int flags, mode_t mode);

/* Writes len bytes of data to fd (EINTR retried): 0, or -1 with errno. */
int ixd_file_write_all(int fd, const void *data, size_t len);

#endif
