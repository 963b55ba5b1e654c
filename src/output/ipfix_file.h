/* IPFIX files (RFC 5655): each worker's lane writes its own file, a complete IPFIX stream with
 * its own templates and sequence numbers, as a hidden temporary file renamed when it is
 * complete (rotation by time and size, reload, stop); see docs/internals/export.md. */
#ifndef IXD_OUTPUT_IPFIX_FILE_H
#define IXD_OUTPUT_IPFIX_FILE_H

#include "output/output.h"

extern const struct ixd_output_ops ixd_ipfix_file_ops;

#endif
