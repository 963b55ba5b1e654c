#include "output/spool.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/relaxed_counter.h"

#define MAGIC "IXDSPL1"
#define HEAD 32 /* magic (8), rows (8), flags (4), reserved (4), length (8) */

struct entry {
    uint64_t seq, rows, bytes;
};

struct ixd_spool {
    int dirfd;
    size_t max_bytes;
    struct entry *e; /* a ring, oldest at head */
    size_t cap, head, n;
    uint64_t next_seq;
    uint64_t rows, bytes, batches; /* read by any thread */
};

static void
name_of(uint64_t seq, char out[32])
{
    snprintf(out, 32, "%016" PRIx64 ".batch", seq);
}

static int
add_entry(struct ixd_spool *s, uint64_t seq, uint64_t rows, uint64_t bytes)
{
    if (s->n == s->cap) {
        size_t cap = s->cap > 0 ? 2 * s->cap : 64;
        struct entry *e = malloc(cap * sizeof(*e));
        if (e == NULL) {
            return -1;
        }
        for (size_t i = 0; i < s->n; i++) {
            e[i] = s->e[(s->head + i) % s->cap];
        }
        free(s->e);
        s->e = e;
        s->cap = cap;
        s->head = 0;
    }
    s->e[(s->head + s->n) % s->cap] = (struct entry){seq, rows, bytes};
    s->n++;
    IXD_CNT_ADD(s->rows, rows);
    IXD_CNT_ADD(s->bytes, bytes);
    IXD_CNT_ADD(s->batches, 1);
    return 0;
}

static int
by_seq(const void *a, const void *b)
{
    const struct entry *x = a, *y = b;

    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* Reads the header of a batch file: 0, or -1. */
static int
read_head(int fd, uint64_t *rows, uint32_t *flags, uint64_t *len)
{
    uint8_t h[HEAD];

    if (pread(fd, h, HEAD, 0) != HEAD || memcmp(h, MAGIC, 8) != 0) {
        return -1;
    }
    memcpy(rows, h + 8, 8);
    memcpy(flags, h + 16, 4);
    memcpy(len, h + 24, 8);
    return 0;
}

/* The batches an earlier run left, in order. */
static int
scan(struct ixd_spool *s)
{
    DIR *d = fdopendir(dup(s->dirfd));
    struct dirent *de;

    if (d == NULL) {
        return -1;
    }
    while ((de = readdir(d)) != NULL) {
        uint64_t seq, rows, len;
        uint32_t flags;
        char *end;
        int fd;
        if (strlen(de->d_name) != 22 || strcmp(de->d_name + 16, ".batch") != 0) {
            continue;
        }
        seq = strtoull(de->d_name, &end, 16);
        if (end != de->d_name + 16) {
            continue;
        }
        fd = openat(s->dirfd, de->d_name, O_RDONLY | O_CLOEXEC);
        if (fd == -1) {
            continue;
        }
        if (read_head(fd, &rows, &flags, &len) == 0 && add_entry(s, seq, rows, len + HEAD) == -1) {
            close(fd);
            closedir(d);
            return -1;
        }
        close(fd);
        if (seq >= s->next_seq) {
            s->next_seq = seq + 1;
        }
    }
    closedir(d);
    if (s->n > 1) {
        qsort(s->e, s->n, sizeof(*s->e), by_seq); /* head is 0 while scanning */
    }
    return 0;
}

struct ixd_spool *
ixd_spool_open(const char *dir, size_t max_bytes, char *err, size_t errlen)
{
    struct ixd_spool *s = calloc(1, sizeof(*s));

    if (s == NULL) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    s->max_bytes = max_bytes;
    if (mkdir(dir, 0700) == -1 && errno != EEXIST) {
        snprintf(err, errlen, "cannot create %s: %s", dir, strerror(errno));
        free(s);
        return NULL;
    }
    s->dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    /* one owner at a time: at a reload the output it replaces still runs for a moment */
    if (s->dirfd != -1 && flock(s->dirfd, LOCK_EX | LOCK_NB) == -1) {
        int saved = errno;
        snprintf(err, errlen, "%s is in use by another output", dir);
        ixd_spool_close(s);
        errno = saved;
        return NULL;
    }
    if (s->dirfd == -1 || scan(s) == -1) {
        snprintf(err, errlen, "cannot read %s: %s", dir, strerror(errno));
        ixd_spool_close(s);
        return NULL;
    }
    return s;
}

void
ixd_spool_close(struct ixd_spool *s)
{
    if (s == NULL) {
        return;
    }
    if (s->dirfd != -1) {
        close(s->dirfd);
    }
    free(s->e);
    free(s);
}

/* Writes all of len bytes; 0, or -1 with errno. */
static int
write_all(int fd, const void *p, size_t len)
{
    const char *c = p;

    while (len > 0) {
        ssize_t n = write(fd, c, len);
        if (n == -1 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            return -1;
        }
        c += n;
        len -= (size_t)n;
    }
    return 0;
}

int
ixd_spool_push(struct ixd_spool *s, const void *body, size_t len, uint64_t rows, uint32_t flags)
{
    uint8_t h[HEAD] = {0};
    uint64_t len64 = len;
    char name[32], tmp[40];
    int fd, saved;

    if (s->bytes + len + HEAD > s->max_bytes) {
        errno = ENOSPC;
        return -1;
    }
    memcpy(h, MAGIC, 8);
    memcpy(h + 8, &rows, 8);
    memcpy(h + 16, &flags, 4);
    memcpy(h + 24, &len64, 8);
    name_of(s->next_seq, name);
    snprintf(tmp, sizeof(tmp), ".%s.tmp", name);
    fd = openat(s->dirfd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd == -1) {
        return -1;
    }
    /* a batch is whole or absent: written aside, then renamed */
    if (write_all(fd, h, HEAD) == -1 || write_all(fd, body, len) == -1 || close(fd) == -1 ||
        renameat(s->dirfd, tmp, s->dirfd, name) == -1) {
        saved = errno;
        unlinkat(s->dirfd, tmp, 0);
        errno = saved;
        return -1;
    }
    if (add_entry(s, s->next_seq, rows, len + HEAD) == -1) {
        unlinkat(s->dirfd, name, 0);
        errno = ENOMEM;
        return -1;
    }
    s->next_seq++;
    return 0;
}

int
ixd_spool_peek(struct ixd_spool *s, struct ixd_spool_batch *b)
{
    struct entry *e;
    uint64_t len;
    char name[32];
    int fd;

    memset(b, 0, sizeof(*b));
    if (s->n == 0) {
        return 0;
    }
    e = &s->e[s->head];
    name_of(e->seq, name);
    b->rows = e->rows;
    fd = openat(s->dirfd, name, O_RDONLY | O_CLOEXEC);
    if (fd == -1 || read_head(fd, &b->rows, &b->flags, &len) == -1 || len > SIZE_MAX ||
        (b->body = malloc(len > 0 ? len : 1)) == NULL ||
        pread(fd, b->body, len, HEAD) != (ssize_t)len) {
        if (fd != -1) {
            close(fd);
        }
        free(b->body);
        b->body = NULL;
        ixd_spool_pop(s);
        return -1;
    }
    close(fd);
    b->len = len;
    return 1;
}

void
ixd_spool_pop(struct ixd_spool *s)
{
    struct entry *e;
    char name[32];

    if (s->n == 0) {
        return;
    }
    e = &s->e[s->head];
    name_of(e->seq, name);
    unlinkat(s->dirfd, name, 0);
    IXD_CNT_SET(s->rows, s->rows - e->rows);
    IXD_CNT_SET(s->bytes, s->bytes - e->bytes);
    IXD_CNT_SET(s->batches, s->batches - 1);
    s->head = (s->head + 1) % s->cap;
    s->n--;
}

uint64_t
ixd_spool_rows(const struct ixd_spool *s)
{
    return IXD_CNT_GET(s->rows);
}

uint64_t
ixd_spool_bytes(const struct ixd_spool *s)
{
    return IXD_CNT_GET(s->bytes);
}

uint64_t
ixd_spool_batches(const struct ixd_spool *s)
{
    return IXD_CNT_GET(s->batches);
}
