/* /api/v1/openapi.json: the OpenAPI 3.1 document, embedded at build time from openapi.json. */
#include "api/internal.h"

int
api_openapi(const struct api_ctx *ctx, struct api_reply *r)
{
    r->status = 200;
    r->content_type = "application/json";
    r->text = (char *)ixd_api_openapi_json;
    r->text_len = ixd_api_openapi_json_len;
    r->text_static = 1;
    return 0;
}
