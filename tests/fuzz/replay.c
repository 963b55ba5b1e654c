/*
 * Plain driver for the fuzz targets, built with any compiler and without libFuzzer: calls
 * LLVMFuzzerTestOneInput once per file of each directory (or file) named on the command line,
 * so CTest replays the seed corpora and the saved crash inputs in every build, sanitized or
 * not. A missing directory counts as empty: git keeps no empty regressions/ folders.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz.h"

/* Reads a whole file into a buffer of exactly its size, so ASan sees reads past the end. */
static int
replay_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    uint8_t *buf = NULL;
    long size;

    if (f == NULL || fseek(f, 0, SEEK_END) != 0 || (size = ftell(f)) < 0 ||
        fseek(f, 0, SEEK_SET) != 0) {
        fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
        if (f != NULL) {
            fclose(f);
        }
        return -1;
    }
    /* malloc(0) may return NULL; an empty input still gets a distinct pointer */
    buf = malloc(size > 0 ? (size_t)size : 1);
    if (buf == NULL || fread(buf, 1, (size_t)size, f) != (size_t)size) {
        fprintf(stderr, "replay: %s: cannot read\n", path);
        free(buf);
        fclose(f);
        return -1;
    }
    fclose(f);
    LLVMFuzzerTestOneInput(buf, (size_t)size);
    free(buf);
    return 0;
}

static int
name_order(const struct dirent **a, const struct dirent **b)
{
    return strcmp((*a)->d_name, (*b)->d_name);
}

/* Replays the regular files of dir in name order; returns how many, or -1 on an error. */
static long
replay_dir(const char *dir)
{
    struct dirent **names;
    long done = 0;
    int n, i, failed = 0;

    n = scandir(dir, &names, NULL, name_order);
    if (n < 0) {
        if (errno == ENOENT) {
            return 0;
        }
        fprintf(stderr, "replay: %s: %s\n", dir, strerror(errno));
        return -1;
    }
    for (i = 0; i < n; i++) {
        char path[4096];
        struct stat st;

        /* README files document a corpus; dot files are editor and VCS leftovers */
        if (names[i]->d_name[0] != '.' && strcmp(names[i]->d_name, "README.md") != 0 &&
            (size_t)snprintf(path, sizeof(path), "%s/%s", dir, names[i]->d_name) < sizeof(path) &&
            stat(path, &st) == 0 && S_ISREG(st.st_mode)) {
            if (replay_file(path) == 0) {
                done++;
            } else {
                failed = 1;
            }
        }
        free(names[i]);
    }
    free(names);
    return failed ? -1 : done;
}

int
main(int argc, char **argv)
{
    long total = 0;
    int i;

    for (i = 1; i < argc; i++) {
        struct stat st;
        long n;

        if (stat(argv[i], &st) == 0 && S_ISREG(st.st_mode)) {
            n = replay_file(argv[i]) == 0 ? 1 : -1;
        } else {
            n = replay_dir(argv[i]);
        }
        if (n < 0) {
            return 1;
        }
        printf("replay: %s: %ld inputs\n", argv[i], n);
        total += n;
    }
    printf("replay: %ld inputs, no crash\n", total);
    return 0;
}
