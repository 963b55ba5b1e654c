/*
 * The filter's per-template programs: the tree compiled to a branch program over field indices
 * resolved in advance, and the per-record match that runs it.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ipfix/template.h"
#include "ipfix/wire.h"
#include "pipeline/filter_internal.h"

#define PROG_ACCEPT (-1)
#define PROG_REJECT (-2)
#define LINEAR_SET_MAX 8 /* below this a set is scanned, above it bisected */

/* ---- programs ---- */

enum insn_op {
    INSN_EXISTS,
    INSN_UINT,
    INSN_SINT,
    INSN_FLOAT,
    INSN_U128,
    INSN_STRING_EQ,
    INSN_CONTAINS,
    INSN_STARTSWITH
};

/* One test of one field; next[1] on success, next[0] otherwise (an index, or PROG_ACCEPT/REJECT).
 */
struct insn {
    uint8_t op;
    uint8_t trim_nul; /* a string field: NUL padding after the text is not part of it */
    uint8_t fixed;    /* at offset with length in every record: no lookup through the template */
    uint16_t field;
    uint16_t offset, length;
    uint32_t first, count;
    int32_t next[2];
};

/*
 * Instructions are emitted successors first, so every jump goes to a lower index: the program
 * cannot loop, and runs from entry downwards.
 */
struct ixd_filter_prog {
    int32_t entry;
    uint32_t n_insns;
    const struct interval *intervals; /* borrowed from the filter */
    const struct span *strings;
    const uint8_t *pool;
    struct insn insns[];
};

struct compiler {
    const struct ixd_filter *f;
    const struct ixd_template *t;
    struct ixd_filter_prog *prog;
};

/* Whether a field as the template decoded it holds the element's type (not a bad length). */
static int
field_fits(const struct ixd_field *fld, const struct element *e)
{
    return fld->type == e->type || (e->type == IXD_TYPE_UNSIGNED && fld->type == IXD_TYPE_UPTIME);
}

static enum insn_op
value_op(const struct test *test, const struct element *e)
{
    static const uint8_t by_kind[] = {INSN_EXISTS, INSN_UINT, INSN_STRING_EQ, INSN_CONTAINS,
                                      INSN_STARTSWITH};

    if (test->kind != TEST_KEYS) {
        return (enum insn_op)by_kind[test->kind];
    }
    return e->type == IXD_TYPE_SIGNED  ? INSN_SINT
           : e->type == IXD_TYPE_FLOAT ? INSN_FLOAT
           : e->type == IXD_TYPE_IPV6  ? INSN_U128
                                       : INSN_UINT;
}

/* Emits one occurrence's test; returns its index, or on_true/on_false when it is decided now. */
static int32_t
emit_field(struct compiler *c, const struct test *test, const struct element *e, uint16_t i,
           int32_t on_true, int32_t on_false)
{
    const struct ixd_field *fld = &c->t->fields[i];
    struct insn *in;

    if (fld->length == 0) {
        return on_false; /* a zero-length field is absent from every record */
    }
    if (test->kind == TEST_EXISTS) {
        if (fld->length != IXD_VARLEN) {
            return on_true;
        }
    } else if (!field_fits(fld, e) || (test->kind == TEST_KEYS && test->count == 0) ||
               (e->type == IXD_TYPE_OCTETS && test->kind == TEST_KEYS && fld->length > 8 &&
                fld->length != IXD_VARLEN)) {
        return on_false;
    }
    in = &c->prog->insns[c->prog->n_insns];
    in->op = (uint8_t)value_op(test, e);
    in->trim_nul = e->type == IXD_TYPE_STRING;
    in->fixed = fld->length != IXD_VARLEN && !fld->after_varlen;
    in->offset = fld->offset;
    in->length = fld->length;
    in->field = i;
    in->first = test->first;
    in->count = test->count;
    in->next[0] = on_false;
    in->next[1] = on_true;
    return (int32_t)c->prog->n_insns++;
}

/* A test holds when any occurrence of any of its elements passes: a chain of fields. */
static int32_t
emit_test(struct compiler *c, const struct test *test, int32_t on_true, int32_t on_false)
{
    int32_t entry = on_false;
    int e, i;

    for (e = test->n_elements - 1; e >= 0; e--) {
        const struct element *el = &test->elements[e];
        int first = ixd_template_find(c->t, el->pen, el->id);
        if (first < 0) {
            continue;
        }
        for (i = c->t->field_count - 1; i >= first; i--) {
            const struct ixd_field *fld = &c->t->fields[i];
            if (fld->pen != el->pen || fld->id != el->id) {
                continue;
            }
            entry = emit_field(c, test, el, (uint16_t)i, on_true, entry);
            if (entry == on_true) {
                return on_true;
            }
        }
    }
    return entry;
}

/*
 * "a and b and c" parses left-deep: the chain is walked by the loop, not by recursion, so that
 * the stack grows only with nesting ('(' and 'not'), which the parser bounds.
 */
static int32_t
emit_node(struct compiler *c, uint32_t n, int32_t on_true, int32_t on_false)
{
    const struct node *node = &c->f->nodes[n];

    while (node->kind == NODE_AND || node->kind == NODE_OR) {
        if (node->kind == NODE_AND) {
            on_true = emit_node(c, node->b, on_true, on_false);
        } else {
            on_false = emit_node(c, node->b, on_true, on_false);
        }
        node = &c->f->nodes[node->a];
    }
    switch (node->kind) {
    case NODE_NOT:
        return emit_node(c, node->a, on_false, on_true);
    case NODE_TEST:
        return emit_test(c, &c->f->tests[node->a], on_true, on_false);
    default:
        return on_true;
    }
}

/* Every node is emitted once, so the fields the tests name bound the program's length. */
static size_t
count_fields(const struct ixd_filter *f, const struct ixd_template *t)
{
    size_t n = 0;
    uint32_t i, e;

    for (i = 0; i < f->n_tests; i++) {
        for (e = 0; e < f->tests[i].n_elements; e++) {
            const struct element *el = &f->tests[i].elements[e];
            int first = ixd_template_find(t, el->pen, el->id);
            n += first >= 0 ? t->fields[first].repeat : 0;
        }
    }
    return n;
}

struct ixd_filter_prog *
ixd_filter_compile(const struct ixd_filter *f, const struct ixd_template *t)
{
    struct compiler c = {f, t, NULL};
    size_t n = count_fields(f, t);

    c.prog = malloc(sizeof(*c.prog) + n * sizeof(struct insn));
    if (c.prog == NULL) {
        return NULL;
    }
    c.prog->n_insns = 0;
    c.prog->intervals = f->intervals;
    c.prog->strings = f->strings;
    c.prog->pool = f->pool;
    c.prog->entry = emit_node(&c, f->root, PROG_ACCEPT, PROG_REJECT);
    return c.prog;
}

void
ixd_filter_prog_free(struct ixd_filter_prog *prog)
{
    free(prog);
}

int
ixd_filter_prog_constant(const struct ixd_filter_prog *prog)
{
    return prog->entry >= 0 ? -1 : prog->entry == PROG_ACCEPT;
}

static int
in_set64(const struct interval *iv, uint32_t n, uint64_t k)
{
    uint32_t lo = 0, hi = n;
    int hit = 0;

    if (n <= LINEAR_SET_MAX) {
        /* branch-free: record values are data, and a mispredicted branch costs more than the
         * whole scan; k - lo <= hi - lo is lo <= k <= hi in one unsigned comparison */
        for (; lo < n; lo++) {
            hit |= k - iv[lo].lo.lo <= iv[lo].hi.lo - iv[lo].lo.lo;
        }
        return hit;
    }
    while (lo < hi) { /* the first interval whose upper bound is >= k */
        uint32_t mid = lo + (hi - lo) / 2;
        if (iv[mid].hi.lo < k) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    return lo < n && k >= iv[lo].lo.lo;
}

static int
in_set128(const struct interval *iv, uint32_t n, struct key k)
{
    uint32_t lo = 0, hi = n;

    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (key_cmp(iv[mid].hi, k) < 0) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    return lo < n && key_cmp(k, iv[lo].lo) >= 0;
}

static int
match_strings(const struct ixd_filter_prog *prog, const struct insn *in, const uint8_t *v,
              uint16_t len)
{
    uint32_t i;

    for (i = in->first; i < in->first + in->count; i++) {
        const struct span *s = &prog->strings[i];
        const uint8_t *str = prog->pool + s->offset;
        if ((in->op == INSN_STRING_EQ && len == s->length && memcmp(v, str, len) == 0) ||
            (in->op == INSN_STARTSWITH && len >= s->length && memcmp(v, str, s->length) == 0) ||
            (in->op == INSN_CONTAINS && memmem(v, len, str, s->length) != NULL)) {
            return 1;
        }
    }
    return 0;
}

static int
run_insn(const struct ixd_filter_prog *prog, const struct insn *in, const struct ixd_record *r)
{
    const struct interval *iv = prog->intervals + in->first;
    uint16_t len = in->length;
    const uint8_t *v = in->fixed ? r->data + in->offset : ixd_record_field(r, in->field, &len);
    uint64_t u;

    switch (in->op) {
    case INSN_EXISTS:
        return len > 0;
    case INSN_UINT:
        return len > 0 && len <= 8 && in_set64(iv, in->count, ixd_get_uint(v, len));
    case INSN_SINT:
        if (len == 0 || len > 8) {
            return 0;
        }
        u = ixd_get_uint(v, len);
        if (len < 8 && (u >> (8 * len - 1)) != 0) {
            u |= UINT64_MAX << (8 * len); /* sign-extend a reduced-size encoding */
        }
        return in_set64(iv, in->count, u ^ (UINT64_C(1) << 63));
    case INSN_FLOAT: {
        double d;
        if (len == 4) {
            uint32_t bits = ixd_get32(v);
            float f32;
            memcpy(&f32, &bits, sizeof(f32));
            d = f32;
        } else if (len == 8) {
            u = ixd_get64(v);
            memcpy(&d, &u, sizeof(d));
        } else {
            return 0;
        }
        return d == d && in_set64(iv, in->count, float_key(d));
    }
    case INSN_U128: {
        struct key k;
        if (len != 16) {
            return 0;
        }
        k.hi = ixd_get64(v);
        k.lo = ixd_get64(v + 8);
        return in_set128(iv, in->count, k);
    }
    default:
        while (in->trim_nul && len > 0 && v[len - 1] == '\0') {
            len--;
        }
        return len > 0 && match_strings(prog, in, v, len);
    }
}

int
ixd_filter_match(const struct ixd_filter_prog *prog, const struct ixd_record *r)
{
    int32_t pc = prog->entry;

    while (pc >= 0) {
        const struct insn *in = &prog->insns[pc];
        pc = in->next[run_insn(prog, in, r)];
    }
    return pc == PROG_ACCEPT;
}
