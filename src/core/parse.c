#include "core/parse.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int
ixd_parse_u64(const char *s, uint64_t *out)
{
    uint64_t v = 0;

    if (s == NULL || *s == '\0') {
        return -1;
    }
    for (; *s != '\0'; s++) {
        unsigned d;
        if (*s < '0' || *s > '9') {
            return -1;
        }
        d = (unsigned)(*s - '0');
        if (v > (UINT64_MAX - d) / 10) {
            return -1;
        }
        v = v * 10 + d;
    }
    *out = v;
    return 0;
}

/*
 * Splits "123X..." into the number and its unit: *unit is the letter after the digits ('\0' if
 * none) and *tail what follows that letter.
 */
static int
split_unit(const char *s, uint64_t *num, char *unit, const char **tail)
{
    char digits[32];
    size_t n = 0;

    while (s[n] >= '0' && s[n] <= '9') {
        n++;
    }
    if (n == 0 || n >= sizeof(digits)) {
        return -1;
    }
    memcpy(digits, s, n);
    digits[n] = '\0';
    if (ixd_parse_u64(digits, num) == -1) {
        return -1;
    }
    *unit = s[n];
    *tail = s[n] != '\0' ? s + n + 1 : s + n;
    return 0;
}

static int
scale(uint64_t v, uint64_t mul, uint64_t *out)
{
    if (v != 0 && mul > UINT64_MAX / v) {
        return -1;
    }
    *out = v * mul;
    return 0;
}

int
ixd_parse_size(const char *s, uint64_t *out)
{
    const char *tail;
    uint64_t v;
    char unit;

    if (s == NULL || split_unit(s, &v, &unit, &tail) == -1) {
        return -1;
    }
    /* after K, M or G: nothing, "i", "B" or "iB"; after B or no unit: nothing */
    if (unit == 'B' || unit == '\0') {
        if (*tail != '\0') {
            return -1;
        }
        *out = v;
        return 0;
    }
    if (*tail != '\0' && strcmp(tail, "i") != 0 && strcmp(tail, "B") != 0 &&
        strcmp(tail, "iB") != 0) {
        return -1;
    }
    switch (unit) {
    case 'k':
    case 'K':
        return scale(v, 1ULL << 10, out);
    case 'M':
        return scale(v, 1ULL << 20, out);
    case 'G':
        return scale(v, 1ULL << 30, out);
    default:
        return -1;
    }
}

int
ixd_parse_duration(const char *s, uint64_t *out)
{
    const char *tail;
    uint64_t v;
    char unit;

    if (s == NULL || split_unit(s, &v, &unit, &tail) == -1 || *tail != '\0') {
        return -1;
    }
    switch (unit) {
    case '\0':
    case 's':
        *out = v;
        return 0;
    case 'm':
        return scale(v, 60, out);
    case 'h':
        return scale(v, 3600, out);
    case 'd':
        return scale(v, 86400, out);
    default:
        return -1;
    }
}

const char *
ixd_read_error(int err)
{
    switch (err) {
    case EFBIG:
        return "larger than its size limit";
    case ENODEV:
        return "not a regular file";
    default:
        return strerror(err);
    }
}

int
ixd_read_file(const char *path, size_t max, char **out, size_t *len)
{
    struct stat st;
    char *buf = NULL;
    size_t have = 0;
    int fd;

    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd == -1) {
        return -1;
    }
    if (fstat(fd, &st) == -1) {
        goto fail;
    }
    if (!S_ISREG(st.st_mode) || (size_t)st.st_size > max) {
        errno = S_ISREG(st.st_mode) ? EFBIG : S_ISDIR(st.st_mode) ? EISDIR : ENODEV;
        goto fail;
    }
    buf = malloc((size_t)st.st_size + 1);
    if (buf == NULL) {
        goto fail;
    }
    while (have < (size_t)st.st_size) {
        ssize_t r = read(fd, buf + have, (size_t)st.st_size - have);
        if (r == -1) {
            if (errno == EINTR) {
                continue;
            }
            goto fail;
        }
        if (r == 0) {
            break;
        }
        have += (size_t)r;
    }
    buf[have] = '\0';
    close(fd);
    *out = buf;
    *len = have;
    return 0;
fail:
    free(buf);
    close(fd);
    return -1;
}

int
ixd_hex_digit(int c)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }
    if (c >= 'A' && c <= 'F') {
        return c - 'A' + 10;
    }
    return -1;
}
