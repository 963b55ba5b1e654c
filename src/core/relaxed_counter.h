/*
 * Single-writer counters: one thread adds, any thread reads. Relaxed atomic loads and stores
 * keep readers from seeing torn values without any read-modify-write on the record path.
 */
#ifndef IXD_CORE_RELAXED_COUNTER_H
#define IXD_CORE_RELAXED_COUNTER_H

#define IXD_CNT_ADD(var, n) __atomic_store_n(&(var), (var) + (n), __ATOMIC_RELAXED)
#define IXD_CNT_SET(var, v) __atomic_store_n(&(var), (v), __ATOMIC_RELAXED)
#define IXD_CNT_GET(var) __atomic_load_n(&(var), __ATOMIC_RELAXED)

#endif
