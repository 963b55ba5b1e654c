/* JSON lines output: workers format into their own buffers; one writer thread per output
 * writes them, so a slow disk or pipe never blocks a worker until its buffers run out. */
#ifndef IXD_OUTPUT_JSON_H
#define IXD_OUTPUT_JSON_H

#include "output/output.h"

extern const struct ixd_output_ops ixd_json_output_ops;

#endif
