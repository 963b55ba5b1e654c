/* A timed run of records through a pipeline, for lua_bench.c and enrich_stage_bench.c. */
#ifndef IXD_BENCH_PIPELINE_H
#define IXD_BENCH_PIPELINE_H

#include "bench_flows.h"
#include "ipfix/decode.h"
#include "pipeline/pipeline.h"

/* Nanoseconds per record (by now) of `passes` runs of the n records, in batches of
 * IXD_BATCH_MAX (n a multiple of it), through run as a worker runs them. */
static inline double
bench_pipeline_ns(struct ixd_pipeline_run *run, const struct ixd_source *source,
                  struct ixd_record *records, size_t n, int passes, double (*now)(void))
{
    double t0 = now();

    for (int pass = 0; pass < passes; pass++) {
        for (size_t b = 0; b < n; b += IXD_BATCH_MAX) {
            struct ixd_batch batch = {source, IXD_BATCH_MAX, records + b};
            ixd_pipeline_process(run, &batch);
        }
    }
    return (now() - t0) / ((double)passes * (double)n);
}

#endif
