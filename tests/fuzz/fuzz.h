/*
 * Shared by the fuzz targets and the plain replay driver: the libFuzzer entry point (declared
 * here so -Wmissing-prototypes holds under gcc too) and the check that turns a broken invariant
 * into a crash.
 */
#ifndef IXD_FUZZ_H
#define IXD_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A broken invariant is a finding: abort so that libFuzzer saves the input. */
#define FUZZ_CHECK(cond)                                                                           \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "%s:%d: invariant failed: %s\n", __FILE__, __LINE__, #cond);           \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

#endif
