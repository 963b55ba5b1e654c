/*
 * The flows of the dedup benches (bench/dedup_bench.c, bench/dedup_handoff_bench.c): 4,096 a
 * pass, 20 passes, each pass's flows starting 10 s after the last's, in the 60-byte layout of the
 * 15-field IPv4 records (addresses, ports, protocol, octets, packets, start and end).
 */
#ifndef IXD_BENCH_DEDUP_FLOWS_H
#define IXD_BENCH_DEDUP_FLOWS_H

#include <stdint.h>
#include <string.h>

#include "ipfix/wire.h"

#define RECORDS 4096
#define RECORD_LEN 60
#define PASSES 20

static uint8_t data[PASSES][RECORDS][RECORD_LEN];

/* Fills data: flow i of every pass has the same key, its start time the pass's. */
static inline void
dedup_flows_fill(void)
{
    uint64_t seed = 88172645463325252ull;

    for (size_t i = 0; i < RECORDS; i++) {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        for (size_t p = 0; p < PASSES; p++) {
            uint8_t *r = data[p][i];
            memset(r, 0, RECORD_LEN);
            ixd_put32(r, (uint32_t)seed);
            ixd_put32(r + 4, (uint32_t)(seed >> 32));
            ixd_put16(r + 8, (uint16_t)(1024 + seed % 60000));
            ixd_put16(r + 10, 443);
            r[12] = 6;
            ixd_put64(r + 13, seed % 3000000);
            ixd_put32(r + 21, (uint32_t)(1 + seed % 10));
            ixd_put64(r + 25, UINT64_C(1704067200000) + 10000 * p);
            ixd_put64(r + 33, UINT64_C(1704067201000) + 10000 * p);
        }
    }
}

#endif
