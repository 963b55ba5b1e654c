/* How a session counts: its domain's, its exporter's and its collector's counters alike.
 * Private to src/ipfix/session*.c. */
#ifndef IXD_IPFIX_SESSION_COUNT_H
#define IXD_IPFIX_SESSION_COUNT_H

#include "core/relaxed_counter.h"

/* Both the session's domain and its exporter and collector see every count. */
#define COUNT(s, d, field, n)                                                                      \
    do {                                                                                           \
        struct ixd_domain *count_d_ = (d);                                                         \
        if (count_d_ != NULL) {                                                                    \
            IXD_CNT_ADD(count_d_->counters->field, (n));                                           \
        }                                                                                          \
        IXD_CNT_ADD((s)->exporter->counters.field, (n));                                           \
        IXD_CNT_ADD((s)->owner->counters.field, (n));                                              \
    } while (0)

#endif
