/*
 * What the ClickHouse output offers besides its type (`ipfixd clickhouse-schema`): the CREATE
 * TABLE statements for an output's settings, and the server's version. Control thread.
 */
#ifndef IXD_OUTPUT_CLICKHOUSE_H
#define IXD_OUTPUT_CLICKHOUSE_H

#include <stddef.h>
#include <stdio.h>

#include "ipfixd/output.h"

extern const struct ixd_output_type ixd_output_clickhouse;

/* The version ClickHouse at the output's url reports ("18.16.1"), into out: 0, or -1 with
 * why in err. */
int ixd_clickhouse_version(const void *settings, char *out, size_t outlen, char *err,
                           size_t errlen);

/* Writes the statements for the output's columns to out: the IPv4/IPv6 types when version
 * (may be NULL: unknown) has them. */
void ixd_clickhouse_schema(const void *settings, const char *version, FILE *out);

#endif
