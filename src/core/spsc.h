/*
 * A bounded single-producer/single-consumer ring of pointers: the only way threads hand data
 * to each other on the record path. Push moves ownership to the consumer. Lock-free: one
 * acquire/release pair per operation.
 */
#ifndef IXD_CORE_SPSC_H
#define IXD_CORE_SPSC_H

#include <stdatomic.h>
#include <stddef.h>

struct ixd_spsc {
    _Alignas(64) atomic_size_t head; /* next slot the consumer reads */
    _Alignas(64) atomic_size_t tail; /* next slot the producer writes */
    size_t mask;
    void **slots;
};

/* capacity must be a power of two. 0 or -1. */
int ixd_spsc_init(struct ixd_spsc *q, size_t capacity);
void ixd_spsc_release(struct ixd_spsc *q);

/* Producer only. 0, or -1 when full. */
static inline int
ixd_spsc_push(struct ixd_spsc *q, void *p)
{
    size_t tail = atomic_load_explicit(&q->tail, memory_order_relaxed);
    size_t head = atomic_load_explicit(&q->head, memory_order_acquire);

    if (tail - head > q->mask) {
        return -1;
    }
    q->slots[tail & q->mask] = p;
    atomic_store_explicit(&q->tail, tail + 1, memory_order_release);
    return 0;
}

/* Consumer only. NULL when empty. */
static inline void *
ixd_spsc_pop(struct ixd_spsc *q)
{
    size_t head = atomic_load_explicit(&q->head, memory_order_relaxed);
    size_t tail = atomic_load_explicit(&q->tail, memory_order_acquire);
    void *p;

    if (head == tail) {
        return NULL;
    }
    p = q->slots[head & q->mask];
    atomic_store_explicit(&q->head, head + 1, memory_order_release);
    return p;
}

#endif
