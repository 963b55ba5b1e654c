/*
 * A configuration subtree kept as written (scalars, sequences, mappings, each with its line and
 * column), so that modules the config parser does not know — pipeline stages — validate their
 * own settings later and still point at the file position of a mistake.
 */
#ifndef IXD_CORE_CNODE_H
#define IXD_CORE_CNODE_H

#include <stddef.h>
#include <stdint.h>

enum ixd_cnode_kind {
    IXD_CNODE_SCALAR,
    IXD_CNODE_SEQUENCE,
    IXD_CNODE_MAPPING,
};

struct ixd_cnode {
    enum ixd_cnode_kind kind;
    unsigned line, column;   /* 1-based */
    char *text;              /* scalars: the value */
    size_t n;                /* sequences: items; mappings: key/value pairs */
    struct ixd_cnode *items; /* sequences: n items; mappings: 2n nodes, key then value */
};

void ixd_cnode_release(struct ixd_cnode *n); /* frees what n holds, not n itself */

/* Writes "file:line:col: message" into err and returns -1. */
int ixd_cnode_fail(const struct ixd_cnode *n, const char *file, char *err, size_t errlen,
                   const char *fmt, ...) __attribute__((format(printf, 5, 6)));

/* The value of key in mapping n, or NULL. */
const struct ixd_cnode *ixd_cnode_get(const struct ixd_cnode *n, const char *key);

#endif
