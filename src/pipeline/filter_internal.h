/*
 * Private to the filter: the parsed tree and the parser state that filter_parse.c (tokens,
 * expressions, comparisons), filter_value.c (element names and literals) and filter_compile.c
 * (per-template programs and matching) share. Value tests are sets of closed intervals over one
 * ordered key per type (numbers, addresses, times in the field's own unit), so that the parser
 * builds, and the program tests, every type the same way. See docs/filter.md for the language.
 */
#ifndef IXD_PIPELINE_FILTER_INTERNAL_H
#define IXD_PIPELINE_FILTER_INTERNAL_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "pipeline/filter.h"

#define MAX_REF_ELEMENTS 4 /* "ip" names the most: two addresses of two families */
#define LITERAL_MAX 128

/* A value as one ordered 128-bit key: every type maps to it so that one set test serves all. */
struct key {
    uint64_t hi, lo;
};

struct interval {
    struct key lo, hi; /* closed */
};

/* Bytes of a string literal in the filter's pool. */
struct span {
    uint32_t offset, length;
};

struct element {
    uint32_t pen;
    uint16_t id;
    uint16_t length; /* registered length: bounds literals of reduced-size numbers */
    uint8_t type;    /* enum ixd_type; IXD_TYPE_OCTETS for elements the model lacks */
};

enum test_kind { TEST_EXISTS, TEST_KEYS, TEST_STRING_EQ, TEST_CONTAINS, TEST_STARTSWITH };

/* A leaf: true when any occurrence of any of its elements passes. */
struct test {
    uint8_t kind;
    uint8_t n_elements;
    struct element elements[MAX_REF_ELEMENTS];
    uint32_t first, count; /* sorted disjoint intervals (TEST_KEYS) or strings */
};

enum node_kind { NODE_AND, NODE_OR, NODE_NOT, NODE_TEST, NODE_ANY };

struct node {
    uint8_t kind;
    uint32_t a, b; /* children; a is the test index of NODE_TEST */
};

struct ixd_filter {
    uint32_t root;
    struct node *nodes;
    struct test *tests;
    struct interval *intervals;
    struct span *strings;
    uint8_t *pool;
    uint32_t n_nodes, n_tests, n_intervals, n_strings, n_pool;
    uint32_t cap_nodes, cap_tests, cap_intervals, cap_strings, cap_pool;
};

/* ---- keys ---- */

/* Inline: the parser and the per-record match must order keys identically, and match is hot. */

static inline int
key_cmp(struct key a, struct key b)
{
    if (a.hi != b.hi) {
        return a.hi < b.hi ? -1 : 1;
    }
    return a.lo < b.lo ? -1 : a.lo > b.lo;
}

static inline struct key
key_u64(uint64_t v)
{
    struct key k = {0, v};
    return k;
}

/* Callers check that a is not key_max / key_min first. */
static inline struct key
key_next(struct key a)
{
    a.hi += a.lo == UINT64_MAX;
    a.lo++;
    return a;
}

static inline struct key
key_prev(struct key a)
{
    a.hi -= a.lo == 0;
    a.lo--;
    return a;
}

static inline uint64_t
signed_key(int64_t v)
{
    return (uint64_t)v ^ (UINT64_C(1) << 63); /* order-preserving: INT64_MIN -> 0 */
}

/* An order-preserving key for a double: negative numbers flip entirely, positive the sign bit. */
static inline uint64_t
float_key(double d)
{
    uint64_t bits;

    if (d == 0) {
        d = 0; /* -0.0 equals 0.0 */
    }
    memcpy(&bits, &d, sizeof(bits));
    return (bits >> 63) ? ~bits : bits | (UINT64_C(1) << 63);
}

/* ---- tokens and parser state (filter_parse.c) ---- */

enum tok_type {
    TOK_END,
    TOK_WORD,
    TOK_STRING,
    TOK_LPAREN,
    TOK_RPAREN,
    TOK_LBRACKET,
    TOK_RBRACKET,
    TOK_COMMA,
    TOK_DOTDOT,
    TOK_EQ,
    TOK_NE,
    TOK_LT,
    TOK_LE,
    TOK_GT,
    TOK_GE,
    TOK_BANG,
    TOK_AND,
    TOK_OR,
};

struct token {
    enum tok_type type;
    const char *start;
    size_t len;
};

struct parser {
    const char *text;
    const char *pos; /* where the lexer resumes */
    struct token tok, prev;
    const struct ixd_ie_registry *reg;
    struct ixd_filter *f;
    unsigned depth;
    int failed;
    char *err;
    size_t errlen;
};

/* Keeps the first error only: later ones are consequences of it. */
void ixd_filter_fail_at(struct parser *p, const struct token *t, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* The token as the error messages quote it. */
const char *ixd_filter_describe_token(const struct token *t, char *buf, size_t n);
void ixd_filter_next_token(struct parser *p);
int ixd_filter_is_word(const struct token *t, const char *w);
int ixd_filter_is_keyword(const struct token *t);
/* Copies a string literal (TOK_STRING with its escapes, or a bare word) into the pool. */
int ixd_filter_add_string(struct parser *p, const struct token *t, struct span *out);

/* ---- element names and literals (filter_value.c) ---- */

struct ref {
    unsigned n;
    struct element el[MAX_REF_ELEMENTS];
    char name[LITERAL_MAX]; /* as error messages call it */
};

enum lit_result { LIT_OK, LIT_NOFIT, LIT_BAD };
enum lit_kind { LIT_POINT, LIT_PREFIX, LIT_STRING };

/*
 * A parsed value. A point keeps the smallest field value >= it (lo) and the largest <= it (hi):
 * they differ only for a time more precise than the field, which no field value then equals.
 */
struct lit {
    enum lit_kind kind;
    struct key lo, hi;
    struct span str;
};

/* The elements of a reference that share a type, and the values that fitted them. */
struct group {
    uint8_t type;
    uint16_t max_length;
    unsigned n_el;
    struct element el[MAX_REF_ELEMENTS];
    int mode; /* -1 until the first value: then LIT_STRING or LIT_POINT (octets take either) */
    uint32_t fitted;
    struct interval *iv;
    struct span *str;
    uint32_t n_iv, cap_iv, n_str, cap_str;
};

/* Reads an element reference: an alias, an element name, or a numbered element. */
int ixd_filter_parse_ref(struct parser *p, struct ref *ref);
/* The IPFIX type name (RFC 7012) of a field of that type and length, for error messages. */
const char *ixd_filter_type_name(uint8_t type, uint16_t length);
/* Parses token t as a value of group g's type into out; LIT_BAD has already failed the parse. */
enum lit_result ixd_filter_parse_literal(struct parser *p, const struct ref *ref,
                                         const struct group *g, const struct token *t,
                                         struct lit *out, char *why, size_t whylen);

#endif
