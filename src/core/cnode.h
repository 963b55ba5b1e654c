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
    int quoted; /* scalars: text that would read as something else plain ("12", "true", ""),
                   written quoted: a string all the same. Quoting of other text is not kept:
                   "a" and a are one value (ixd_scalar_type). */
};

/* What a plain scalar's text reads as, as JSON would type it (the API's view of a config). */
enum ixd_scalar_type {
    IXD_SCALAR_STRING,
    IXD_SCALAR_INTEGER, /* -?[0-9]+ without a leading zero */
    IXD_SCALAR_REAL,    /* with a fraction or an exponent */
    IXD_SCALAR_BOOL,    /* true, false */
    IXD_SCALAR_NULL,    /* empty, ~, null */
};
enum ixd_scalar_type ixd_scalar_type(const char *text);

void ixd_cnode_release(struct ixd_cnode *n); /* frees what n holds, not n itself */

/* Writes "file:line:col: message" into err and returns -1. */
int ixd_cnode_fail(const struct ixd_cnode *n, const char *file, char *err, size_t errlen,
                   const char *fmt, ...) __attribute__((format(printf, 5, 6)));

/* path as written in the config file `file` (NULL: built-in): as given when absolute or when
 * there is no file, else relative to the file's directory. 0, or -1 when it does not fit out. */
int ixd_cnode_path(const char *path, const char *file, char *out, size_t outlen);

/* The value of key in mapping n, or NULL. */
const struct ixd_cnode *ixd_cnode_get(const struct ixd_cnode *n, const char *key);

/* A deep copy of src into dst: 0, or -1 when out of memory (dst then holds nothing). */
int ixd_cnode_copy(struct ixd_cnode *dst, const struct ixd_cnode *src);

/* 1 when a and b hold the same values, keys and quoting (positions aside). */
int ixd_cnode_equal(const struct ixd_cnode *a, const struct ixd_cnode *b);

/* A digest of n's values, keys and quoting (positions aside): equal trees, equal digests. Not
 * cryptographic: it tells versions of one item apart (the API's ETags). */
uint64_t ixd_cnode_digest(const struct ixd_cnode *n);

/* Gives every node of n the position line, line + 1, ... (column 1) in document order, and
 * returns the line after the last: nodes that came from no file still tell apart where a
 * message points (core/config_tree.h). */
unsigned ixd_cnode_number(struct ixd_cnode *n, unsigned line);

/*
 * The JSON pointer (RFC 6901) of the node of root at line:column, in out: a key names its
 * member, as its value does. 0, or -1 when no node is there.
 */
int ixd_cnode_pointer_at(const struct ixd_cnode *root, unsigned line, unsigned column, char *out,
                         size_t outlen);

#endif
