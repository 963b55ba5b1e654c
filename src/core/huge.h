/*
 * Memory for large tables read at random (flow tables, prefix tables): blocks of 2 MiB or more
 * are aligned to 2 MiB and offered to transparent huge pages, because with 4 KiB pages nearly
 * every random read misses the TLB as well as the caches. The pages are a hint the kernel may
 * ignore (madvise mode, or none to spare); the memory works the same either way.
 */
#ifndef IXD_CORE_HUGE_H
#define IXD_CORE_HUGE_H

#include <stddef.h>

/* size bytes, zeroed (so committed), freed with free(); NULL when out of memory. Blocks of 2 MiB
 * or more are rounded up to a multiple of 2 MiB. Any thread. */
void *ixd_huge_calloc(size_t size);

#endif
