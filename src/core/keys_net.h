/* Keys whose values are network addresses (core/keys.h, IXD_KEY_CUSTOM): shared by the
 * module types that send or listen. */
#ifndef IXD_CORE_KEYS_NET_H
#define IXD_CORE_KEYS_NET_H

#include "core/config.h"
#include "core/keys.h"

/* Up to IXD_EXPORT_DEST_MAX destinations, kept inline: settings stay plain values. */
struct ixd_dest_list {
    size_t n;
    struct ixd_export_dest d[IXD_EXPORT_DEST_MAX];
};

/* An address prefix list (allow): heap-allocated, released with the settings. */
struct ixd_prefix_list {
    size_t n;
    struct ixd_prefix *p;
};

/* "listen": one struct ixd_listen_addr. */
int ixd_key_parse_listen(const struct ixd_key *key, const struct ixd_cnode *v, void *field,
                         const struct ixd_key_env *env, char *err, size_t errlen);
int ixd_key_same_listen(const void *a, const void *b);

/* A list of addresses and prefixes, at least one: a struct ixd_prefix_list. */
int ixd_key_parse_prefixes(const struct ixd_key *key, const struct ixd_cnode *v, void *field,
                           const struct ixd_key_env *env, char *err, size_t errlen);
int ixd_key_same_prefixes(const void *a, const void *b);
void ixd_key_release_prefixes(void *field);

/* A list of "ADDRESS:PORT" / "[IPV6]:PORT", or one: numeric addresses, at least one. */
int ixd_key_parse_destinations(const struct ixd_key *key, const struct ixd_cnode *v, void *field,
                               const struct ixd_key_env *env, char *err, size_t errlen);
/* The same destinations, in the same order, as written. */
int ixd_key_same_destinations(const void *a, const void *b);

#endif
