/*
 * A binary trie over 128-bit addresses (IPv4 mapped into IPv6, as everywhere in core/address.h).
 * Nodes live in one array and refer to each other by index, so the table is a few blocks of
 * memory, freed as a whole. A lookup walks at most 128 nodes, remembering the last value it
 * passed; IPv4 lookups start at the node of ::ffff:0:0/96, so they walk at most 32.
 */
#include "core/prefix_table.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/address.h"

#define VALUE_MAX 255
#define NO_VALUE UINT32_MAX

struct node {
    uint32_t child[2]; /* 0: none (node 0 is the root, never a child) */
    uint32_t value;    /* index into values, or NO_VALUE */
};

struct ixd_prefix_table {
    struct node *nodes;
    size_t n_nodes, cap_nodes;
    char **values;
    size_t n_values, cap_values;
    uint32_t v4_root; /* the node of ::ffff:0:0/96, 0 until an IPv4 prefix is added */
    uint32_t v4_base; /* the value of the longest prefix of ::ffff:0:0/96 or NO_VALUE */
    int v4_base_bits;
    size_t bytes;
};

static int
grow(void **p, size_t *cap, size_t need, size_t size)
{
    size_t n = *cap == 0 ? 64 : *cap;
    void *q;

    while (n < need) {
        n *= 2;
    }
    if (n == *cap) {
        return 0;
    }
    q = realloc(*p, n * size);
    if (q == NULL) {
        return -1;
    }
    *p = q;
    *cap = n;
    return 0;
}

static uint32_t
new_node(struct ixd_prefix_table *t)
{
    if (grow((void **)&t->nodes, &t->cap_nodes, t->n_nodes + 1, sizeof(*t->nodes)) == -1) {
        return 0;
    }
    t->nodes[t->n_nodes] = (struct node){{0, 0}, NO_VALUE};
    return (uint32_t)t->n_nodes++;
}

struct ixd_prefix_table *
ixd_prefix_table_new(void)
{
    struct ixd_prefix_table *t = calloc(1, sizeof(*t));

    if (t == NULL) {
        return NULL;
    }
    t->v4_base = NO_VALUE;
    t->v4_base_bits = -1;
    if (new_node(t) != 0 || t->n_nodes != 1) {
        free(t->nodes);
        free(t);
        return NULL;
    }
    return t;
}

void
ixd_prefix_table_free(struct ixd_prefix_table *t)
{
    size_t i;

    if (t == NULL) {
        return;
    }
    for (i = 0; i < t->n_values; i++) {
        free(t->values[i]);
    }
    free(t->values);
    free(t->nodes);
    free(t);
}

static int
bit_at(const struct in6_addr *a, unsigned i)
{
    return (a->s6_addr[i / 8] >> (7 - i % 8)) & 1;
}

/* The node of prefix (addr, bits), made on the way when missing; 0 when out of memory. */
static uint32_t
node_for(struct ixd_prefix_table *t, const struct in6_addr *addr, unsigned bits)
{
    uint32_t n = 0;
    unsigned i;

    for (i = 0; i < bits; i++) {
        int b = bit_at(addr, i);
        if (t->nodes[n].child[b] == 0) {
            uint32_t c = new_node(t);
            if (c == 0) {
                return 0;
            }
            t->nodes[n].child[b] = c;
        }
        n = t->nodes[n].child[b];
    }
    return n;
}

int
ixd_prefix_table_add(struct ixd_prefix_table *t, const char *prefix, const char *value, char *err,
                     size_t errlen)
{
    static const struct in6_addr mapped = {{{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff}}};
    struct ixd_prefix p;
    uint32_t n;
    size_t vlen = strlen(value);

    if (ixd_prefix_parse(prefix, &p, err, errlen) == -1) {
        return -1;
    }
    if (vlen > VALUE_MAX) {
        snprintf(err, errlen, "a value has at most %d bytes", VALUE_MAX);
        return -1;
    }
    if (t->n_values >= IXD_PREFIX_TABLE_MAX) {
        snprintf(err, errlen, "more than %u prefixes", IXD_PREFIX_TABLE_MAX);
        return -1;
    }
    if (t->v4_root == 0 && p.bits >= 96 && memcmp(&p.addr, &mapped, 12) == 0) {
        t->v4_root = node_for(t, &mapped, 96);
        if (t->v4_root == 0) {
            goto nomem;
        }
    }
    n = node_for(t, &p.addr, p.bits);
    if (n == 0 && p.bits > 0) {
        goto nomem;
    }
    if (t->nodes[n].value == NO_VALUE) {
        if (grow((void **)&t->values, &t->cap_values, t->n_values + 1, sizeof(char *)) == -1) {
            goto nomem;
        }
        t->nodes[n].value = (uint32_t)t->n_values;
        t->values[t->n_values] = NULL;
        t->n_values++;
    }
    if (p.bits <= 96 && (int)p.bits >= t->v4_base_bits && ixd_prefix_contains(&p, &mapped)) {
        t->v4_base = t->nodes[n].value; /* the lookup of an IPv4 address starts below it */
        t->v4_base_bits = p.bits;
    }
    free(t->values[t->nodes[n].value]);
    t->values[t->nodes[n].value] = strdup(value);
    if (t->values[t->nodes[n].value] == NULL) {
        goto nomem;
    }
    t->bytes += vlen + 1;
    return 0;
nomem:
    snprintf(err, errlen, "out of memory");
    return -1;
}

/* Trims spaces and tabs at both ends of s[0..len) in place; returns the new start. */
static char *
trim(char *s)
{
    size_t n;

    while (*s == ' ' || *s == '\t') {
        s++;
    }
    n = strlen(s);
    while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r')) {
        s[--n] = '\0';
    }
    return s;
}

int
ixd_prefix_table_parse(struct ixd_prefix_table *t, const char *name, const char *text, size_t len,
                       char *err, size_t errlen)
{
    char line[1024], why[256];
    size_t at = 0;
    unsigned lineno = 0;

    while (at < len) {
        const char *nl = memchr(text + at, '\n', len - at);
        size_t n = (nl != NULL ? (size_t)(nl - text) : len) - at;
        char *s, *comma;

        lineno++;
        if (n >= sizeof(line)) {
            snprintf(err, errlen, "%s:%u: line longer than %zu bytes", name, lineno,
                     sizeof(line) - 1);
            return -1;
        }
        memcpy(line, text + at, n);
        line[n] = '\0';
        at += n + 1;
        s = trim(line);
        if (s[0] == '\0' || s[0] == '#') {
            continue;
        }
        comma = strchr(s, ',');
        if (comma != NULL) {
            *comma = '\0';
        }
        if (ixd_prefix_table_add(t, trim(s), comma != NULL ? trim(comma + 1) : "", why,
                                 sizeof(why)) == -1) {
            snprintf(err, errlen, "%s:%u: %s", name, lineno, why);
            return -1;
        }
    }
    return 0;
}

const char *
ixd_prefix_table_lookup(const struct ixd_prefix_table *t, const struct in6_addr *addr)
{
    static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    uint32_t n = 0, best = t->nodes[0].value;
    unsigned i = 0;

    if (memcmp(addr->s6_addr, mapped, 12) == 0) {
        if (t->v4_root == 0) {
            return t->v4_base != NO_VALUE ? t->values[t->v4_base] : NULL;
        }
        n = t->v4_root;
        i = 96;
        best = t->v4_base;
    }
    for (; i < 128; i++) {
        n = t->nodes[n].child[bit_at(addr, i)];
        if (n == 0) {
            break;
        }
        if (t->nodes[n].value != NO_VALUE) {
            best = t->nodes[n].value;
        }
    }
    return best != NO_VALUE ? t->values[best] : NULL;
}

const char *
ixd_prefix_table_lookup_text(const struct ixd_prefix_table *t, const char *text)
{
    struct in6_addr a;
    struct in_addr a4;

    if (inet_pton(AF_INET, text, &a4) == 1) {
        memset(&a, 0, sizeof(a));
        a.s6_addr[10] = a.s6_addr[11] = 0xff;
        memcpy(&a.s6_addr[12], &a4, 4);
    } else if (inet_pton(AF_INET6, text, &a) != 1) {
        return NULL;
    }
    return ixd_prefix_table_lookup(t, &a);
}

size_t
ixd_prefix_table_count(const struct ixd_prefix_table *t)
{
    return t->n_values;
}

size_t
ixd_prefix_table_bytes(const struct ixd_prefix_table *t)
{
    return t->cap_nodes * sizeof(*t->nodes) + t->cap_values * sizeof(char *) + t->bytes;
}
