/*
 * Outputs: where records leave the daemon (include/ipfixd/output.h is the interface every type
 * implements; src/registry/registry.c lists the built-in ones). An output is opened by the
 * control thread, gets one lane per worker (the worker writes to its lane without sharing
 * anything), and is closed by the control thread after every worker has let go of it. JSON
 * lines (json.c, writing from a thread of its own through writer.h), IPFIX export
 * (ipfix_export.c) and IPFIX files (ipfix_file.c) implement it; see docs/internals/modules.md,
 * threads.md, writer.md and export.md.
 */
#ifndef IXD_OUTPUT_OUTPUT_H
#define IXD_OUTPUT_OUTPUT_H

#include <stddef.h>
#include <stdint.h>

#include "core/config.h"
#include "core/keys.h"
#include "ipfixd/output.h"
#include "ipfixd/record.h"

/* The built-in output types. */
extern const struct ixd_output_type ixd_output_json;
extern const struct ixd_output_type ixd_output_ipfix;
extern const struct ixd_output_type ixd_output_ipfix_file;

#endif
