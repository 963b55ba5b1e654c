/* Zeroed memory in transparent huge pages where the kernel gives them (huge.h). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "core/huge.h"

#define HUGE_PAGE ((size_t)2 << 20)

void *
ixd_huge_calloc(size_t size)
{
    void *p;

    if (size < HUGE_PAGE) {
        return calloc(1, size > 0 ? size : 1);
    }
    if (size > SIZE_MAX - HUGE_PAGE) {
        return NULL;
    }
    size = (size + HUGE_PAGE - 1) / HUGE_PAGE * HUGE_PAGE;
    p = aligned_alloc(HUGE_PAGE, size);
    if (p != NULL) {
        (void)madvise(p, size, MADV_HUGEPAGE); /* before the first touch: a hint */
        memset(p, 0, size);
    }
    return p;
}
