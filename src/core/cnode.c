#include "core/cnode.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void
ixd_cnode_release(struct ixd_cnode *n)
{
    size_t i, count;

    if (n == NULL) {
        return;
    }
    count = n->kind == IXD_CNODE_MAPPING ? 2 * n->n : n->n;
    for (i = 0; n->items != NULL && i < count; i++) {
        ixd_cnode_release(&n->items[i]);
    }
    free(n->items);
    free(n->text);
    n->items = NULL;
    n->text = NULL;
    n->n = 0;
}

int
ixd_cnode_fail(const struct ixd_cnode *n, const char *file, char *err, size_t errlen,
               const char *fmt, ...)
{
    char msg[512];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    snprintf(err, errlen, "%s:%u:%u: %s", file != NULL ? file : "built-in config", n->line,
             n->column, msg);
    return -1;
}

const struct ixd_cnode *
ixd_cnode_get(const struct ixd_cnode *n, const char *key)
{
    size_t i;

    if (n == NULL || n->kind != IXD_CNODE_MAPPING) {
        return NULL;
    }
    for (i = 0; i < n->n; i++) {
        if (strcmp(n->items[2 * i].text, key) == 0) {
            return &n->items[2 * i + 1];
        }
    }
    return NULL;
}
