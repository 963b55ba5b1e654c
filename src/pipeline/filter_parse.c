/*
 * The filter's tokenizer and recursive-descent parser: text to the tree of filter_internal.h.
 * Element names and literal values are read by filter_value.c; the tree is compiled to a
 * program per template by filter_compile.c.
 */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pipeline/filter_internal.h"

#define MAX_DEPTH 64 /* nesting of '(' and 'not': bounds the parser's and compiler's stack */
#define NO_NODE UINT32_MAX

/* ---- growing arrays ---- */

/* Returns arr with room for need elements (reallocated when *cap is smaller), or NULL. */
static void *
grow(void *arr, uint32_t *cap, uint32_t need, size_t size)
{
    uint32_t n = *cap > 0 ? *cap : 8;
    void *q;

    if (need <= *cap && arr != NULL) {
        return arr; /* an empty set still gets an array: NULL means out of memory */
    }
    while (n < need) {
        n *= 2;
    }
    q = realloc(arr, (size_t)n * size);
    if (q != NULL) {
        *cap = n;
    }
    return q;
}

/* ---- keys ---- */

static const struct key key_min = {0, 0};
static const struct key key_max = {UINT64_MAX, UINT64_MAX};
static const struct key key_max64 = {0, UINT64_MAX}; /* the top of every type but IPv6 */

static int
interval_cmp(const void *a, const void *b)
{
    return key_cmp(((const struct interval *)a)->lo, ((const struct interval *)b)->lo);
}

/* Sorts and merges overlapping or adjacent intervals so a set can be bisected. Returns the count.
 */
static uint32_t
normalise_set(struct interval *iv, uint32_t n)
{
    uint32_t i, out = 0;

    if (n == 0) {
        return 0;
    }
    qsort(iv, n, sizeof(*iv), interval_cmp);
    for (i = 1; i < n; i++) {
        struct interval *last = &iv[out];
        if (key_cmp(last->hi, key_max) == 0 || key_cmp(iv[i].lo, key_next(last->hi)) <= 0) {
            if (key_cmp(iv[i].hi, last->hi) > 0) {
                last->hi = iv[i].hi;
            }
        } else {
            iv[++out] = iv[i];
        }
    }
    return out + 1;
}

void
ixd_filter_fail_at(struct parser *p, const struct token *t, const char *fmt, ...)
{
    va_list ap;
    int n;

    if (p->failed) {
        return;
    }
    p->failed = 1;
    n = snprintf(p->err, p->errlen, "column %u: ", (unsigned)(t->start - p->text) + 1);
    if (n >= 0 && (size_t)n < p->errlen) {
        va_start(ap, fmt);
        vsnprintf(p->err + n, p->errlen - (size_t)n, fmt, ap);
        va_end(ap);
    }
}

const char *
ixd_filter_describe_token(const struct token *t, char *buf, size_t n)
{
    if (t->type == TOK_END) {
        return "the end of the filter";
    }
    snprintf(buf, n, "'%.*s%s'", (int)(t->len > 40 ? 40 : t->len), t->start,
             t->len > 40 ? "..." : "");
    return buf;
}

static int
is_word_char(const char *s)
{
    char c = *s;

    if (c == '.' && s[1] == '.') {
        return 0; /* "1024..65535" is three tokens */
    }
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '.' || c == ':' || c == '/' || c == '+' || c == '-';
}

static void
lex_string(struct parser *p, struct token *t)
{
    const char *s = p->pos + 1;
    char quote = *p->pos;

    while (*s != '\0' && *s != quote) {
        s += (*s == '\\' && s[1] != '\0') ? 2 : 1;
    }
    if (*s == '\0') {
        ixd_filter_fail_at(p, t, "unterminated string");
        t->type = TOK_END;
        return;
    }
    t->type = TOK_STRING;
    t->len = (size_t)(s + 1 - p->pos);
}

void
ixd_filter_next_token(struct parser *p)
{
    struct token *t = &p->tok;
    static const char singles[] = "()[],<>!=";
    static const enum tok_type single_types[] = {TOK_LPAREN,   TOK_RPAREN, TOK_LBRACKET,
                                                 TOK_RBRACKET, TOK_COMMA,  TOK_LT,
                                                 TOK_GT,       TOK_BANG,   TOK_EQ};
    const char *s;

    p->prev = *t;
    while (*p->pos == ' ' || *p->pos == '\t' || *p->pos == '\n' || *p->pos == '\r') {
        p->pos++;
    }
    s = p->pos;
    t->start = s;
    t->len = 2;
    if (*s == '\0') {
        t->type = TOK_END;
        t->len = 0;
    } else if (s[0] == '.' && s[1] == '.') {
        t->type = TOK_DOTDOT;
    } else if (s[1] == '=' && (*s == '=' || *s == '!' || *s == '<' || *s == '>')) {
        t->type = *s == '=' ? TOK_EQ : *s == '!' ? TOK_NE : *s == '<' ? TOK_LE : TOK_GE;
    } else if ((s[0] == '&' && s[1] == '&') || (s[0] == '|' && s[1] == '|')) {
        t->type = *s == '&' ? TOK_AND : TOK_OR;
    } else if (*s == '"' || *s == '\'') {
        lex_string(p, t);
    } else if (*s != '\0' && strchr(singles, *s) != NULL) {
        t->type = single_types[strchr(singles, *s) - singles];
        t->len = 1; /* '=' alone is '==', as in tcpdump */
    } else if (is_word_char(s)) {
        t->type = TOK_WORD;
        for (t->len = 1; is_word_char(s + t->len); t->len++) {
        }
    } else {
        t->len = 1;
        ixd_filter_fail_at(p, t, "unexpected character '%c'%s", *s,
                           *s == '&'   ? " (did you mean '&&'?)"
                           : *s == '|' ? " (did you mean '||'?)"
                                       : "");
        t->type = TOK_END;
    }
    p->pos = s + t->len;
}

int
ixd_filter_is_word(const struct token *t, const char *w)
{
    return t->type == TOK_WORD && t->len == strlen(w) && memcmp(t->start, w, t->len) == 0;
}

int
ixd_filter_is_keyword(const struct token *t)
{
    static const char *const keywords[] = {"and",    "or",       "not",       "in",
                                           "exists", "contains", "startswith"};
    size_t i;

    for (i = 0; i < sizeof(keywords) / sizeof(keywords[0]); i++) {
        if (ixd_filter_is_word(t, keywords[i])) {
            return 1;
        }
    }
    return 0;
}

static int
is_value(const struct token *t)
{
    return t->type == TOK_STRING || (t->type == TOK_WORD && !ixd_filter_is_keyword(t));
}

/* ---- tree building ---- */

static uint32_t
add_node(struct parser *p, enum node_kind kind, uint32_t a, uint32_t b)
{
    struct ixd_filter *f = p->f;
    struct node *q = grow(f->nodes, &f->cap_nodes, f->n_nodes + 1, sizeof(*q));

    if (q == NULL) {
        ixd_filter_fail_at(p, &p->tok, "out of memory");
        return NO_NODE;
    }
    f->nodes = q;
    q[f->n_nodes].kind = (uint8_t)kind;
    q[f->n_nodes].a = a;
    q[f->n_nodes].b = b;
    return f->n_nodes++;
}

static uint32_t
add_test(struct parser *p, const struct test *t)
{
    struct ixd_filter *f = p->f;
    struct test *q = grow(f->tests, &f->cap_tests, f->n_tests + 1, sizeof(*q));

    if (q == NULL) {
        ixd_filter_fail_at(p, &p->tok, "out of memory");
        return NO_NODE;
    }
    f->tests = q;
    q[f->n_tests] = *t;
    return add_node(p, NODE_TEST, f->n_tests++, 0);
}

int
ixd_filter_add_string(struct parser *p, const struct token *t, struct span *out)
{
    struct ixd_filter *f = p->f;
    const char *s = t->start, *end = t->start + t->len;
    uint8_t *q = grow(f->pool, &f->cap_pool, f->n_pool + (uint32_t)t->len, 1);

    if (q == NULL) {
        ixd_filter_fail_at(p, t, "out of memory");
        return -1;
    }
    f->pool = q;
    out->offset = f->n_pool;
    if (t->type == TOK_STRING) {
        s++;
        end--;
    }
    while (s < end) {
        if (t->type == TOK_STRING && *s == '\\') {
            s++; /* \" \' \\: the next character as it is */
        }
        q[f->n_pool++] = (uint8_t)*s++;
    }
    out->length = f->n_pool - out->offset;
    return 0;
}

/* ---- comparisons ---- */

enum cmp_op { OP_EQ, OP_LT, OP_LE, OP_GT, OP_GE, OP_IN, OP_CONTAINS, OP_STARTSWITH };

/* The interval of field values up to max for which "field op a" holds; 0 if there are none. */
static int
op_interval(enum cmp_op op, const struct lit *a, struct key max, struct interval *out)
{
    out->lo = key_min;
    out->hi = max;
    switch (op) {
    case OP_LT:
        if (key_cmp(a->lo, key_min) == 0) {
            return 0;
        }
        out->hi = key_prev(a->lo);
        break;
    case OP_LE:
        out->hi = a->hi;
        break;
    case OP_GT:
        if (key_cmp(a->hi, max) >= 0) {
            return 0;
        }
        out->lo = key_next(a->hi);
        break;
    case OP_GE:
        out->lo = a->lo;
        break;
    default:
        out->lo = a->lo;
        out->hi = a->hi;
        break;
    }
    return key_cmp(out->lo, out->hi) <= 0;
}

static int
group_add(struct parser *p, struct group *g, const struct lit *a, const struct interval *iv)
{
    g->fitted++;
    if (a->kind == LIT_STRING) {
        struct span *q = grow(g->str, &g->cap_str, g->n_str + 1, sizeof(*q));
        if (q != NULL) {
            g->str = q;
            q[g->n_str++] = a->str;
        }
        return q != NULL ? 0 : -1;
    }
    if (iv != NULL) {
        struct interval *q = grow(g->iv, &g->cap_iv, g->n_iv + 1, sizeof(*q));
        if (q != NULL) {
            g->iv = q;
            q[g->n_iv++] = *iv;
        }
        return q != NULL ? 0 : -1;
    }
    return 0;
}

/* ixd_filter_fail_at, then -1 */
#define fail_at(...) (ixd_filter_fail_at(__VA_ARGS__), -1)

/* The operator must suit the literal a: strings compare with ==, !=, in, contains and
 * startswith, numbers with the rest; a prefix needs ==, != or in; a group holds one kind. */
static int
check_operator(struct parser *p, const struct ref *ref, struct group *g, enum cmp_op op,
               const struct lit *a, const struct token *lo, const struct token *hi)
{
    if ((a->kind == LIT_STRING && op != OP_EQ && op != OP_IN && op != OP_CONTAINS &&
         op != OP_STARTSWITH) ||
        (a->kind != LIT_STRING && (op == OP_CONTAINS || op == OP_STARTSWITH))) {
        return fail_at(p, lo, "%s compares %s with ==, !=, in%s", ref->name,
                       a->kind == LIT_STRING ? "strings" : "numbers",
                       a->kind == LIT_STRING ? ", contains or startswith" : " and <, <=, >, >=");
    }
    if (g->mode != -1 && g->mode != (int)(a->kind == LIT_STRING ? LIT_STRING : LIT_POINT)) {
        return fail_at(p, lo, "a set of %s cannot mix strings and numbers", ref->name);
    }
    g->mode = a->kind == LIT_STRING ? LIT_STRING : LIT_POINT;
    if (a->kind == LIT_PREFIX && op != OP_EQ && op != OP_IN) {
        return fail_at(p, lo, "a prefix needs ==, != or in");
    }
    if (hi != NULL && a->kind == LIT_STRING) {
        return fail_at(p, hi, "a range does not apply to strings");
    }
    return 0;
}

/* Widens a to the range lo..hi: both single values, in order. */
static int
extend_range(struct parser *p, const struct ref *ref, struct group *g, struct lit *a,
             const struct token *lo, const struct token *hi)
{
    char why[256];
    struct lit b;

    if (ixd_filter_parse_literal(p, ref, g, hi, &b, why, sizeof(why)) != LIT_OK) {
        return fail_at(p, hi, "%s", why);
    }
    if (a->kind != LIT_POINT || b.kind != LIT_POINT) {
        return fail_at(p, a->kind != LIT_POINT ? lo : hi, "a range is bounded by single values");
    }
    if (key_cmp(a->hi, b.lo) > 0) {
        return fail_at(p, lo, "the range %.*s..%.*s is empty", (int)lo->len, lo->start,
                       (int)hi->len, hi->start);
    }
    a->hi = b.hi;
    return 0;
}

/* Adds value (or range lo..hi) to every group it fits; fails when it fits none. */
static int
add_value(struct parser *p, const struct ref *ref, struct group *groups, unsigned ng,
          enum cmp_op op, const struct token *lo, const struct token *hi)
{
    char why[256], first_why[256] = "";
    unsigned i, fitted = 0;

    for (i = 0; i < ng; i++) {
        struct group *g = &groups[i];
        struct lit a;
        struct interval iv;
        int nonempty;
        enum lit_result r = ixd_filter_parse_literal(p, ref, g, lo, &a, why, sizeof(why));

        if (r == LIT_BAD) {
            return fail_at(p, lo, "%s", why);
        }
        if (r == LIT_NOFIT) {
            if (first_why[0] == '\0') {
                memcpy(first_why, why, sizeof(why));
            }
            continue;
        }
        if (check_operator(p, ref, g, op, &a, lo, hi) == -1 ||
            (hi != NULL && extend_range(p, ref, g, &a, lo, hi) == -1)) {
            return -1;
        }
        nonempty = a.kind != LIT_STRING &&
                   op_interval(op, &a, g->type == IXD_TYPE_IPV6 ? key_max : key_max64, &iv);
        if (group_add(p, g, &a, nonempty ? &iv : NULL) == -1) {
            return fail_at(p, lo, "out of memory");
        }
        fitted++;
    }
    if (fitted > 0) {
        return 0;
    }
    if (ng == 1) {
        return fail_at(p, lo, "%s", first_why);
    }
    return fail_at(p, lo, "%.*s is not a valid value for %s (%s or %s)", (int)lo->len, lo->start,
                   ref->name, ixd_filter_type_name(groups[0].type, groups[0].max_length),
                   ixd_filter_type_name(groups[1].type, groups[1].max_length));
}

/* One value, a range "a..b", or a prefix (inside the value token). */
static int
parse_item(struct parser *p, const struct ref *ref, struct group *groups, unsigned ng,
           enum cmp_op op)
{
    struct token lo = p->tok, hi;
    char buf[64];

    if (!is_value(&p->tok)) {
        ixd_filter_fail_at(p, &p->tok, "expected a value after '%.*s', found %s", (int)p->prev.len,
                           p->prev.start, ixd_filter_describe_token(&p->tok, buf, sizeof(buf)));
        return -1;
    }
    ixd_filter_next_token(p);
    if (p->tok.type != TOK_DOTDOT) {
        return add_value(p, ref, groups, ng, op, &lo, NULL);
    }
    if (op != OP_EQ && op != OP_IN) {
        ixd_filter_fail_at(p, &p->tok, "a range needs ==, != or in");
        return -1;
    }
    ixd_filter_next_token(p);
    hi = p->tok;
    if (!is_value(&hi)) {
        ixd_filter_fail_at(p, &hi, "expected a value after '..', found %s",
                           ixd_filter_describe_token(&hi, buf, sizeof(buf)));
        return -1;
    }
    ixd_filter_next_token(p);
    return add_value(p, ref, groups, ng, op, &lo, &hi);
}

static int
parse_values(struct parser *p, const struct ref *ref, struct group *groups, unsigned ng,
             enum cmp_op op)
{
    struct token open = p->tok;
    char buf[64];

    if (op != OP_IN || p->tok.type != TOK_LBRACKET) {
        return parse_item(p, ref, groups, ng, op);
    }
    ixd_filter_next_token(p);
    for (;;) {
        if (parse_item(p, ref, groups, ng, op) == -1) {
            return -1;
        }
        if (p->tok.type == TOK_RBRACKET) {
            ixd_filter_next_token(p);
            return 0;
        }
        if (p->tok.type != TOK_COMMA) {
            ixd_filter_fail_at(p, &p->tok,
                               "expected ',' or ']' to close the '[' at column %u, found %s",
                               (unsigned)(open.start - p->text) + 1,
                               ixd_filter_describe_token(&p->tok, buf, sizeof(buf)));
            return -1;
        }
        ixd_filter_next_token(p);
    }
}

/* Groups the reference's elements by type and checks that op applies to each. */
static unsigned
make_groups(struct parser *p, const struct ref *ref, enum cmp_op op, const struct token *op_tok,
            struct group *groups)
{
    unsigned ng = 0, i, j;

    for (i = 0; i < ref->n; i++) {
        const struct element *e = &ref->el[i];
        for (j = 0; j < ng && groups[j].type != e->type; j++) {
        }
        if (j == ng) {
            memset(&groups[ng], 0, sizeof(groups[ng]));
            groups[ng].type = e->type;
            groups[ng].mode = -1;
            ng++;
        }
        groups[j].el[groups[j].n_el++] = *e;
        if (e->length != IXD_VARLEN && e->length > groups[j].max_length) {
            groups[j].max_length = e->length;
        }
    }
    for (j = 0; j < ng; j++) {
        uint8_t type = groups[j].type;
        if (groups[j].max_length == 0) {
            groups[j].max_length = 8; /* unknown elements: any reduced-size number */
        }
        if ((op == OP_CONTAINS || op == OP_STARTSWITH) && type != IXD_TYPE_STRING &&
            type != IXD_TYPE_OCTETS) {
            ixd_filter_fail_at(p, op_tok,
                               "'%.*s' applies to strings and octet arrays, not to %s (%s)",
                               (int)op_tok->len, op_tok->start, ref->name,
                               ixd_filter_type_name(type, groups[j].max_length));
            return 0;
        }
        if (op >= OP_LT && op <= OP_GE && type == IXD_TYPE_STRING) {
            ixd_filter_fail_at(
                p, op_tok,
                "'%.*s' does not apply to %s (string): use ==, !=, in, contains or startswith",
                (int)op_tok->len, op_tok->start, ref->name);
            return 0;
        }
    }
    return ng;
}

/* Moves the groups' values into the filter as one test per group, ORed. */
static uint32_t
groups_to_nodes(struct parser *p, struct group *groups, unsigned ng, enum cmp_op op)
{
    struct ixd_filter *f = p->f;
    uint32_t result = NO_NODE;
    unsigned i;

    for (i = 0; i < ng && !p->failed; i++) {
        struct group *g = &groups[i];
        struct test t;
        uint32_t node;

        if (g->fitted == 0) {
            continue;
        }
        memset(&t, 0, sizeof(t));
        t.n_elements = (uint8_t)g->n_el;
        memcpy(t.elements, g->el, sizeof(t.elements));
        if (g->mode == LIT_STRING) {
            struct span *q = grow(f->strings, &f->cap_strings, f->n_strings + g->n_str, sizeof(*q));
            if (q == NULL) {
                ixd_filter_fail_at(p, &p->tok, "out of memory");
                break;
            }
            f->strings = q;
            t.kind = op == OP_CONTAINS     ? TEST_CONTAINS
                     : op == OP_STARTSWITH ? TEST_STARTSWITH
                                           : TEST_STRING_EQ;
            t.first = f->n_strings;
            t.count = g->n_str;
            memcpy(q + f->n_strings, g->str, g->n_str * sizeof(*q));
            f->n_strings += g->n_str;
        } else {
            uint32_t n = normalise_set(g->iv, g->n_iv);
            struct interval *q =
                grow(f->intervals, &f->cap_intervals, f->n_intervals + n, sizeof(*q));
            if (q == NULL) {
                ixd_filter_fail_at(p, &p->tok, "out of memory");
                break;
            }
            f->intervals = q;
            t.kind = TEST_KEYS;
            t.first = f->n_intervals;
            t.count = n;
            if (n > 0) {
                memcpy(q + f->n_intervals, g->iv, n * sizeof(*q));
            }
            f->n_intervals += n;
        }
        node = add_test(p, &t);
        result = result == NO_NODE ? node : add_node(p, NODE_OR, result, node);
    }
    return p->failed ? NO_NODE : result;
}

/* After a reference: [not] in, ==, !=, <, <=, >, >=, contains, startswith, or a bare value. */
static uint32_t
parse_comparison(struct parser *p, const struct ref *ref)
{
    struct group groups[MAX_REF_ELEMENTS];
    struct token op_tok = p->tok;
    enum cmp_op op = OP_EQ;
    int negate = 0;
    uint32_t node = NO_NODE;
    unsigned ng, i;
    char buf[64];

    if (ixd_filter_is_word(&p->tok, "not")) {
        negate = 1;
        ixd_filter_next_token(p);
        if (!ixd_filter_is_word(&p->tok, "in")) {
            ixd_filter_fail_at(p, &p->tok, "expected 'in' after 'not', found %s",
                               ixd_filter_describe_token(&p->tok, buf, sizeof(buf)));
            return NO_NODE;
        }
    }
    op_tok = p->tok;
    if (p->tok.type >= TOK_EQ && p->tok.type <= TOK_GE) {
        static const enum cmp_op ops[] = {OP_EQ, OP_EQ, OP_LT, OP_LE, OP_GT, OP_GE};
        op = ops[p->tok.type - TOK_EQ];
        negate = p->tok.type == TOK_NE; /* "!=" is "not ==", so absence matches it */
        ixd_filter_next_token(p);
    } else if (ixd_filter_is_word(&p->tok, "in") || ixd_filter_is_word(&p->tok, "contains") ||
               ixd_filter_is_word(&p->tok, "startswith")) {
        op = p->tok.start[0] == 'i' ? OP_IN : p->tok.start[0] == 'c' ? OP_CONTAINS : OP_STARTSWITH;
        ixd_filter_next_token(p);
    } else if (!is_value(&p->tok)) {
        ixd_filter_fail_at(
            p, &p->tok,
            "expected an operator (==, !=, <, <=, >, >=, in, contains, startswith) or a "
            "value after '%s', found %s",
            ref->name, ixd_filter_describe_token(&p->tok, buf, sizeof(buf)));
        return NO_NODE;
    } /* else a bare value means ==: "proto tcp", "src port 1024..65535" */
    ng = make_groups(p, ref, op, &op_tok, groups);
    if (ng > 0 && parse_values(p, ref, groups, ng, op) == 0) {
        node = groups_to_nodes(p, groups, ng, op);
    }
    for (i = 0; i < ng; i++) {
        free(groups[i].iv);
        free(groups[i].str);
    }
    if (node != NO_NODE && negate) {
        node = add_node(p, NODE_NOT, node, 0);
    }
    return node;
}

/* ---- expressions ---- */

static uint32_t parse_or(struct parser *p);

static uint32_t
parse_exists(struct parser *p)
{
    struct ref ref;
    struct test t;

    ixd_filter_next_token(p);
    if (ixd_filter_parse_ref(p, &ref) == -1) {
        return NO_NODE;
    }
    memset(&t, 0, sizeof(t));
    t.kind = TEST_EXISTS;
    t.n_elements = (uint8_t)ref.n;
    memcpy(t.elements, ref.el, sizeof(t.elements));
    return add_test(p, &t);
}

static uint32_t
parse_primary(struct parser *p)
{
    struct token open = p->tok;
    struct ref ref;
    uint32_t node;
    char buf[64];

    if (p->tok.type == TOK_LPAREN) {
        if (++p->depth > MAX_DEPTH) {
            ixd_filter_fail_at(p, &p->tok, "expression nested deeper than %d", MAX_DEPTH);
            return NO_NODE;
        }
        ixd_filter_next_token(p);
        node = parse_or(p);
        if (node != NO_NODE && p->tok.type != TOK_RPAREN) {
            ixd_filter_fail_at(p, &p->tok, "expected ')' to close the '(' at column %u, found %s",
                               (unsigned)(open.start - p->text) + 1,
                               ixd_filter_describe_token(&p->tok, buf, sizeof(buf)));
            return NO_NODE;
        }
        p->depth--;
        ixd_filter_next_token(p);
        return node;
    }
    if (ixd_filter_is_word(&p->tok, "exists")) {
        return parse_exists(p);
    }
    if (ixd_filter_is_word(&p->tok, "any")) {
        ixd_filter_next_token(p);
        return add_node(p, NODE_ANY, 0, 0);
    }
    if (p->tok.type != TOK_WORD || ixd_filter_is_keyword(&p->tok)) {
        ixd_filter_fail_at(p, &p->tok, "expected an element name, 'exists', 'not' or '(', found %s",
                           ixd_filter_describe_token(&p->tok, buf, sizeof(buf)));
        return NO_NODE;
    }
    if (ixd_filter_parse_ref(p, &ref) == -1) {
        return NO_NODE;
    }
    return parse_comparison(p, &ref);
}

static uint32_t
parse_unary(struct parser *p)
{
    uint32_t node;

    if (p->tok.type != TOK_BANG && !ixd_filter_is_word(&p->tok, "not")) {
        return parse_primary(p);
    }
    if (++p->depth > MAX_DEPTH) {
        ixd_filter_fail_at(p, &p->tok, "expression nested deeper than %d", MAX_DEPTH);
        return NO_NODE;
    }
    ixd_filter_next_token(p);
    node = parse_unary(p);
    p->depth--;
    return node == NO_NODE ? NO_NODE : add_node(p, NODE_NOT, node, 0);
}

static uint32_t
parse_and(struct parser *p)
{
    uint32_t left = parse_unary(p);

    while (left != NO_NODE && (p->tok.type == TOK_AND || ixd_filter_is_word(&p->tok, "and"))) {
        uint32_t right;
        ixd_filter_next_token(p);
        right = parse_unary(p);
        left = right == NO_NODE ? NO_NODE : add_node(p, NODE_AND, left, right);
    }
    return left;
}

static uint32_t
parse_or(struct parser *p)
{
    uint32_t left = parse_and(p);

    while (left != NO_NODE && (p->tok.type == TOK_OR || ixd_filter_is_word(&p->tok, "or"))) {
        uint32_t right;
        ixd_filter_next_token(p);
        right = parse_and(p);
        left = right == NO_NODE ? NO_NODE : add_node(p, NODE_OR, left, right);
    }
    return left;
}

struct ixd_filter *
ixd_filter_parse(const char *text, const struct ixd_ie_registry *reg, char *err, size_t errlen)
{
    struct parser p;
    char buf[64];

    memset(&p, 0, sizeof(p));
    p.text = p.pos = text;
    p.reg = reg;
    p.err = err;
    p.errlen = errlen;
    p.f = calloc(1, sizeof(*p.f));
    if (p.f == NULL) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    ixd_filter_next_token(&p);
    p.f->root = parse_or(&p);
    if (!p.failed && p.tok.type != TOK_END) {
        ixd_filter_fail_at(&p, &p.tok, "expected 'and', 'or' or the end of the filter, found %s",
                           ixd_filter_describe_token(&p.tok, buf, sizeof(buf)));
    }
    if (p.failed) {
        ixd_filter_free(p.f);
        return NULL;
    }
    return p.f;
}

void
ixd_filter_free(struct ixd_filter *f)
{
    if (f == NULL) {
        return;
    }
    free(f->nodes);
    free(f->tests);
    free(f->intervals);
    free(f->strings);
    free(f->pool);
    free(f);
}
