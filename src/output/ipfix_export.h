/* IPFIX export: records leave as IPFIX over UDP or TCP to one or more collectors. Each worker's
 * lane owns its own non-blocking socket, queue and transport session per destination, driven
 * from write() and the 100 ms flush(); see docs/internals/export.md. */
#ifndef IXD_OUTPUT_IPFIX_EXPORT_H
#define IXD_OUTPUT_IPFIX_EXPORT_H

#include "output/output.h"

extern const struct ixd_output_ops ixd_ipfix_export_ops;

#endif
