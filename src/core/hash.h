/* FNV-1a (32 bits) over bytes: the hash of the fixed-size keys of the daemon's hash tables. */
#ifndef IXD_CORE_HASH_H
#define IXD_CORE_HASH_H

#include <stddef.h>
#include <stdint.h>

#define IXD_FNV32_INIT 2166136261u

/* h continued over the len bytes at p (start from IXD_FNV32_INIT). */
static inline uint32_t
ixd_fnv32(uint32_t h, const void *p, size_t len)
{
    const uint8_t *b = p;

    for (size_t i = 0; i < len; i++) {
        h = (h ^ b[i]) * 16777619u;
    }
    return h;
}

#endif
