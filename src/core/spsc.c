#include "core/spsc.h"

#include <stdlib.h>

int
ixd_spsc_init(struct ixd_spsc *q, size_t capacity)
{
    if (capacity == 0 || (capacity & (capacity - 1)) != 0) {
        return -1;
    }
    q->slots = calloc(capacity, sizeof(void *));
    if (q->slots == NULL) {
        return -1;
    }
    q->mask = capacity - 1;
    atomic_init(&q->head, 0);
    atomic_init(&q->tail, 0);
    return 0;
}

void
ixd_spsc_release(struct ixd_spsc *q)
{
    free(q->slots);
    q->slots = NULL;
}
