#include "core/keys_net.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* "HOST:PORT" or "[V6]:PORT" with a numeric address: names are not resolved on a worker. */
static int
destination(const struct ixd_cnode *v, struct ixd_export_dest *d, const struct ixd_key_env *env,
            char *err, size_t errlen)
{
    struct ixd_listen_addr tmp;
    char msg[256];

    if (v->kind != IXD_CNODE_SCALAR) {
        return ixd_cnode_fail(v, env->file, err, errlen, "a destination must be ADDRESS:PORT");
    }
    memset(&tmp, 0, sizeof(tmp));
    if (ixd_listen_addr_parse(v->text, &tmp, msg, sizeof(msg)) == -1) {
        return ixd_cnode_fail(v, env->file, err, errlen,
                              "a destination must be IPV4:PORT or [IPV6]:PORT, not '%s'", v->text);
    }
    if (tmp.any) {
        return ixd_cnode_fail(v, env->file, err, errlen, "a destination needs an address, not '%s'",
                              v->text);
    }
    snprintf(d->text, sizeof(d->text), "%s", v->text);
    d->addr = tmp.addr;
    d->addrlen = tmp.addrlen;
    return 0;
}

int
ixd_key_parse_destinations(const struct ixd_key *key, const struct ixd_cnode *v, void *field,
                           const struct ixd_key_env *env, char *err, size_t errlen)
{
    struct ixd_dest_list *l = field;

    l->n = 0;
    if (v->kind == IXD_CNODE_SCALAR) {
        if (destination(v, &l->d[0], env, err, errlen) == -1) {
            return -1;
        }
        l->n = 1;
        return 0;
    }
    if (v->kind != IXD_CNODE_SEQUENCE) {
        return ixd_cnode_fail(v, env->file, err, errlen, "%s must be a list", key->name);
    }
    if (v->n == 0 || v->n > IXD_EXPORT_DEST_MAX) {
        return ixd_cnode_fail(v, env->file, err, errlen, "%s must list 1 to %d destinations",
                              key->name, IXD_EXPORT_DEST_MAX);
    }
    for (size_t i = 0; i < v->n; i++) {
        if (destination(&v->items[i], &l->d[i], env, err, errlen) == -1) {
            return -1;
        }
        for (size_t j = 0; j < i; j++) {
            if (l->d[j].addrlen == l->d[i].addrlen &&
                memcmp(&l->d[j].addr, &l->d[i].addr, l->d[i].addrlen) == 0) {
                return ixd_cnode_fail(&v->items[i], env->file, err, errlen,
                                      "destination %s is listed twice", l->d[i].text);
            }
        }
        l->n = i + 1;
    }
    return 0;
}

int
ixd_key_same_destinations(const void *a, const void *b)
{
    const struct ixd_dest_list *x = a, *y = b;

    if (x->n != y->n) {
        return 0;
    }
    for (size_t i = 0; i < x->n; i++) {
        if (strcmp(x->d[i].text, y->d[i].text) != 0) {
            return 0;
        }
    }
    return 1;
}

int
ixd_key_parse_listen(const struct ixd_key *key, const struct ixd_cnode *v, void *field,
                     const struct ixd_key_env *env, char *err, size_t errlen)
{
    char msg[256];

    if (v->kind != IXD_CNODE_SCALAR) {
        return ixd_cnode_fail(v, env->file, err, errlen, "%s must be ADDRESS:PORT", key->name);
    }
    if (ixd_listen_addr_parse(v->text, field, msg, sizeof(msg)) == -1) {
        return ixd_cnode_fail(v, env->file, err, errlen, "%s", msg);
    }
    return 0;
}

int
ixd_key_same_listen(const void *a, const void *b)
{
    return strcmp(((const struct ixd_listen_addr *)a)->text,
                  ((const struct ixd_listen_addr *)b)->text) == 0;
}

int
ixd_key_parse_prefixes(const struct ixd_key *key, const struct ixd_cnode *v, void *field,
                       const struct ixd_key_env *env, char *err, size_t errlen)
{
    struct ixd_prefix_list *l = field;
    char msg[160];

    if (v->kind != IXD_CNODE_SEQUENCE) {
        return ixd_cnode_fail(v, env->file, err, errlen, "%s must be a list", key->name);
    }
    if (v->n == 0) {
        return ixd_cnode_fail(v, env->file, err, errlen,
                              "%s must list at least one address or prefix (omit it to allow "
                              "all)",
                              key->name);
    }
    l->p = calloc(v->n, sizeof(*l->p));
    if (l->p == NULL) {
        return ixd_cnode_fail(v, env->file, err, errlen, "out of memory");
    }
    for (size_t i = 0; i < v->n; i++) {
        const struct ixd_cnode *item = &v->items[i];
        if (item->kind != IXD_CNODE_SCALAR) {
            return ixd_cnode_fail(item, env->file, err, errlen,
                                  "an %s entry must be an address or prefix", key->name);
        }
        if (ixd_prefix_parse(item->text, &l->p[i], msg, sizeof(msg)) == -1) {
            return ixd_cnode_fail(item, env->file, err, errlen, "%s", msg);
        }
        l->n = i + 1;
    }
    return 0;
}

int
ixd_key_same_prefixes(const void *a, const void *b)
{
    const struct ixd_prefix_list *x = a, *y = b;

    return x->n == y->n && (x->n == 0 || memcmp(x->p, y->p, x->n * sizeof(*x->p)) == 0);
}

void
ixd_key_release_prefixes(void *field)
{
    struct ixd_prefix_list *l = field;

    free(l->p);
    l->p = NULL;
    l->n = 0;
}
