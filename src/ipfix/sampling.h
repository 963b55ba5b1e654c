/*
 * Packet sampling (RFC 7011 options, RFC 5476, NetFlow v9 options and v5 headers): what an
 * exporter announces is learnt per observation domain, so that an output can renormalise
 * packet and octet counts by the rate that applies to each record.
 */
#ifndef IXD_IPFIX_SAMPLING_H
#define IXD_IPFIX_SAMPLING_H

#include <stddef.h>
#include <stdint.h>

#include "ipfixd/record.h"

struct ixd_domain;

/* Finds the fields sampling depends on when t is compiled (sampling_field, sampler_field). */
void ixd_sampling_compile(struct ixd_template *t);

/* Learns the rates announced by the options records of one data set of t (a no-op for
 * templates that announce none). */
void ixd_sampling_learn(struct ixd_domain *d, const struct ixd_template *t, const uint8_t *set,
                        size_t len);

/* The rate (1 in N packets) that applies to record r of domain d: the record's own interval,
 * else its sampler's, else the domain's, else what the exporter is configured with; 1 when
 * nothing is known, and for options records (written as sent). */
uint32_t ixd_sampling_rate(const struct ixd_domain *d, const struct ixd_record *r);

/* Whether field f is a packet or octet count that renormalisation multiplies. */
int ixd_sampling_scales(const struct ixd_field *f);

#endif
