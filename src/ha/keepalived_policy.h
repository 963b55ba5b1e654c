/*
 * What ipfixd-keepalived-apply lets a model contain (docs/ha.md#the-policy): the interfaces,
 * virtual router ids, address ranges, tracked vrrp_scripts and notify scripts that root listed
 * in the helper's policy file. Pure, like keepalived_model.h: the helper reads the file
 * (ha/apply/policy_file.c) and checks every model it is sent against it, whatever ipfixd
 * checked before. An empty list allows nothing of its kind.
 */
#ifndef IXD_HA_KEEPALIVED_POLICY_H
#define IXD_HA_KEEPALIVED_POLICY_H

#include <net/if.h>
#include <stddef.h>
#include <stdint.h>

#include "ha/keepalived_model.h"

#define IXD_KA_POLICY_MAX 64 /* entries of each list */

/* An address range: "10.77.0.0/24", or one address ("10.77.0.1": /32). */
struct ixd_ka_range {
    int family;
    uint8_t bytes[16];
    int prefix;
};

struct ixd_ka_policy {
    size_t n_interfaces;
    char interfaces[IXD_KA_POLICY_MAX][IF_NAMESIZE];
    size_t n_vrids;
    struct {
        int lo, hi;
    } vrids[IXD_KA_POLICY_MAX];
    size_t n_addresses; /* virtual IPs (their whole prefix) and virtual_server addresses */
    struct ixd_ka_range addresses[IXD_KA_POLICY_MAX];
    size_t n_peers; /* unicast_src_ip and unicast_peer */
    struct ixd_ka_range peers[IXD_KA_POLICY_MAX];
    size_t n_reals; /* real_server addresses */
    struct ixd_ka_range reals[IXD_KA_POLICY_MAX];
    size_t n_tracks;
    char tracks[IXD_KA_POLICY_MAX][IXD_KA_NAME_MAX + 1];
    size_t n_scripts; /* notify scripts, by their exact path, and whom they run as */
    struct {
        char path[IXD_KA_SCRIPT_MAX + 1];
        char as[2 * IXD_KA_USER_MAX + 2]; /* "USER" or "USER GROUP"; "" = the script_user */
    } scripts[IXD_KA_POLICY_MAX];
};

/* "10.77.0.0/24", "2001:db8::/64" or one address; host bits must be 0. 0, or -1 with why. */
int ixd_ka_range_parse(const char *s, struct ixd_ka_range *out, char *why, size_t whylen);

/*
 * A scripts entry: "PATH", "PATH USER" or "PATH USER GROUP" (whom keepalived runs it as, as in
 * `notify_master "..." root root`). 0, or -1 with why.
 */
int ixd_ka_script_parse(const char *s, char *path, size_t pathlen, char *as, size_t aslen,
                        char *why, size_t whylen);

/* "51" or "77-79" (1..255): 0, or -1 with why. */
int ixd_ka_vrids_parse(const char *s, int *lo, int *hi, char *why, size_t whylen);

/*
 * Whether policy allows everything model (checked by ixd_ka_check) holds: 0, or -1 with the
 * first field it does not allow in err. A virtual IP is allowed when the whole network it
 * claims (its address and prefix: keepalived adds the prefix's route) lies in one range of
 * addresses. On 0, each notify script of the model runs as the policy says (notify_as).
 */
int ixd_ka_policy_check(const struct ixd_ka_policy *policy, struct ixd_ka_model *model,
                        struct ixd_ka_error *err);

#endif
