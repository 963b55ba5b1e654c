/* Strict parsers for numbers, sizes and durations written by people; file slurping. */
#ifndef IXD_CORE_PARSE_H
#define IXD_CORE_PARSE_H

#include <stddef.h>
#include <stdint.h>

/* Decimal digits only, no sign, no trailing text, no overflow. 0 or -1. */
int ixd_parse_u64(const char *s, uint64_t *out);
/* "4096", "512K", "8M", "1G" (binary multiples, K/M/G with optional "i"/"B"). */
int ixd_parse_size(const char *s, uint64_t *out);
/* Seconds: "90", "90s", "30m", "2h", "1d". */
int ixd_parse_duration(const char *s, uint64_t *out);
/* Reads a whole regular file of at most max bytes into a NUL-terminated heap buffer the caller
 * frees. -1 with errno: EFBIG past max, EISDIR for a directory, ENODEV for anything else that is
 * not a regular file (a device or FIFO could block or never end), or open's and read's own. */
int ixd_read_file(const char *path, size_t max, char **out, size_t *len);
/* The value of a hexadecimal digit (either case), or -1. */
int ixd_hex_digit(int c);
/* What ixd_read_file's errno means, for a message. */
const char *ixd_read_error(int err);

#endif
