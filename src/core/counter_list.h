/*
 * Counters a module reported through its callback (include/ipfixd/counters.h), gathered so that
 * they can be kept (the API's snapshots) and written as summary lines (SIGUSR1, stop).
 */
#ifndef IXD_CORE_COUNTER_LIST_H
#define IXD_CORE_COUNTER_LIST_H

#include <stddef.h>
#include <stdint.h>

#include "ipfixd/counters.h"

struct ixd_counter_item {
    const struct ixd_counter_def *def; /* static: lives as long as the process */
    char label[128];                   /* the label's value; "" for a def without one */
    uint64_t value;
};

struct ixd_counter_list {
    size_t n, cap;
    struct ixd_counter_item *items;
    int failed; /* out of memory: items are missing */
};

/* An ixd_counter_fn: appends to the ixd_counter_list arg. */
void ixd_counter_list_add(void *list, const struct ixd_counter_def *def, const char *label_value,
                          uint64_t value);
/* An ixd_counter_fn as well: adds value to the item of the same def and label when the list has
 * it (the counters of one module's several states, summed), else appends. */
void ixd_counter_list_sum(void *list, const struct ixd_counter_def *def, const char *label_value,
                          uint64_t value);
void ixd_counter_list_release(struct ixd_counter_list *l);

/*
 * The summary lines of one module's counters: "<what>: k=v ..." with the unlabelled counters,
 * then "<what> <label> <value>: k=v ..." per label value, in the order they were reported.
 * Calls line once per line.
 */
void ixd_counter_list_lines(const struct ixd_counter_item *items, size_t n, const char *what,
                            void (*line)(void *arg, const char *text), void *arg);

#endif
