/*
 * One input = the body of a saved-templates file (src/ipfix/persist.c) for collector "fuzz";
 * the harness appends the SHA-256 the loader checks, so the fuzzer explores the entries rather
 * than the digest (a digest guards against corruption, not against a crafted file). An accepted
 * file is restored into fresh UDP sessions, saved again and reloaded: the second round must
 * restore exactly what was saved, since saving writes each (exporter, domain, template) once.
 */
#define _GNU_SOURCE 1 /* memfd_create */
#include "fuzz_records.h"

#include <glib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "ipfix/persist.h"

#define WALL 1700000000
#define MONO 1000.0

/* A directory for the round trip's file, on tmpfs where there is one (save calls fsync). */
static const char *
scratch_dir(void)
{
    static char dir[64];

    if (dir[0] == '\0') {
        snprintf(dir, sizeof(dir), "%s/ixd-fuzz-XXXXXX",
                 access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp");
        FUZZ_CHECK(mkdtemp(dir) != NULL);
    }
    return dir;
}

/* The input plus its digest in an anonymous file, named through /proc like any path. */
static int
digest_file(const uint8_t *data, size_t size, char *path, size_t pathlen)
{
    uint8_t digest[32];
    gsize dlen = sizeof(digest);
    GChecksum *sum = g_checksum_new(G_CHECKSUM_SHA256);
    int fd = memfd_create("fuzz-templates", MFD_CLOEXEC);

    FUZZ_CHECK(fd != -1);
    g_checksum_update(sum, data, size);
    g_checksum_get_digest(sum, digest, &dlen);
    g_checksum_free(sum);
    FUZZ_CHECK(write(fd, data, size) == (ssize_t)size);
    FUZZ_CHECK(write(fd, digest, sizeof(digest)) == (ssize_t)sizeof(digest));
    snprintf(path, pathlen, "/proc/self/fd/%d", fd);
    return fd;
}

static size_t
restore(const struct ixd_saved_templates *saved, struct ixd_sessions *ss)
{
    struct ixd_session_limits limits;

    fuzz_limits(&limits, 0, 1800);
    ixd_sessions_init(ss, FUZZ_COLLECTOR, 0, fuzz_rules(), &limits);
    return ixd_templates_restore(saved, ss, MONO, WALL);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct ixd_saved_templates *saved, *again;
    struct ixd_sessions ss, ss2;
    struct ixd_sessions *tables[1] = {&ss};
    char path[64], err[256], *out;
    size_t restored;
    long written;
    int fd = digest_file(data, size, path, sizeof(path));

    saved = ixd_templates_load(path, "fuzz", err, sizeof(err));
    close(fd);
    if (saved == NULL) {
        FUZZ_CHECK(err[0] != '\0'); /* the file exists: a refusal says why */
        return 0;
    }
    restored = restore(saved, &ss);
    FUZZ_CHECK(restored <= ixd_saved_templates_count(saved));
    ixd_saved_templates_free(saved);

    out = ixd_templates_path(scratch_dir(), "fuzz");
    written = ixd_templates_save(out, "fuzz", tables, 1, MONO, WALL, err, sizeof(err));
    FUZZ_CHECK(written >= 0 && (size_t)written <= restored);
    again = ixd_templates_load(out, "fuzz", err, sizeof(err));
    FUZZ_CHECK(again != NULL && ixd_saved_templates_count(again) == (size_t)written);
    FUZZ_CHECK(restore(again, &ss2) == (size_t)written);
    ixd_saved_templates_free(again);
    unlink(out);
    g_free(out);
    ixd_sessions_release(&ss2);
    ixd_sessions_release(&ss);
    return 0;
}
