/* The enrich stage's snmp settings: agents, the community, the interval (docs/enrichment.md). */
#ifndef IXD_ENRICH_ENRICH_SNMP_H
#define IXD_ENRICH_ENRICH_SNMP_H

#include <stddef.h>

#include "ipfixd/stage.h"
#include "snmp/snmp.h"

#define IXD_SNMP_AGENTS_MAX 1024

struct ixd_enrich_snmp {
    struct ixd_snmp_agent *agents;
    size_t n;
    double interval; /* seconds */
};

/* Reads snmp: {community-file: F, agents: [{exporter: A, agent: "host:port"}], interval: S}
 * into out (agents allocated); the community file is read unless env->syntax_only. 0, or -1
 * with "file:line:col: message" in err. */
int ixd_enrich_snmp_conf(const struct ixd_cnode *n, const struct ixd_stage_env *env,
                         struct ixd_enrich_snmp *out, char *err, size_t errlen);

#endif
