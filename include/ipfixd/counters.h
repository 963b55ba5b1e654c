/**
 * @file counters.h
 * Named, labelled counters: how a module (input, stage or output) reports its statistics.
 *
 * A module calls back once per counter it has, with a definition that lives as long as the
 * process (a static table) and, for a counter kept per something (a destination, an exporter),
 * that something's name. The SIGUSR1 summary line, Prometheus `/metrics` and the API's
 * resources are all rendered from these calls, without knowing the module's type
 * (docs/internals/modules.md).
 */
#ifndef IPFIXD_COUNTERS_H
#define IPFIXD_COUNTERS_H

#include <stdint.h>

enum ixd_counter_kind {
    IXD_COUNTER_TOTAL = 0, /**< only grows: a Prometheus counter */
    IXD_COUNTER_GAUGE,     /**< goes up and down: a Prometheus gauge */
};

/** What a counter is. */
struct ixd_counter_def {
    const char *key;    /**< its name in the API's JSON and the SIGUSR1 line: "records" */
    const char *metric; /**< its Prometheus family ("ipfixd_output_records_total"); NULL:
                             not in /metrics */
    enum ixd_counter_kind kind;
    const char *help;     /**< one line for /metrics */
    const char *label;    /**< NULL, or what the counter is kept per: "destination" */
    const char *line_key; /**< its name in the SIGUSR1 line when not key (NULL: key) */
};

/**
 * Called once per counter: label_value names the thing a labelled counter is kept for (NULL for
 * a def without a label). Counters of one label value are reported one after another.
 */
typedef void (*ixd_counter_fn)(void *arg, const struct ixd_counter_def *def,
                               const char *label_value, uint64_t value);

#endif
