#include "output/output.h"

#include "output/ipfix_export.h"
#include "output/ipfix_file.h"
#include "output/json.h"

const struct ixd_output_ops *
ixd_output_ops_for(enum ixd_output_type type)
{
    switch (type) {
    case IXD_OUTPUT_JSON:
        return &ixd_json_output_ops;
    case IXD_OUTPUT_IPFIX:
        return &ixd_ipfix_export_ops;
    case IXD_OUTPUT_IPFIX_FILE:
        return &ixd_ipfix_file_ops;
    default:
        return NULL;
    }
}
