#include "ipfix/counters.h"

static const char *const error_names[IXD_ERR__COUNT] = {
    [IXD_ERR_VERSION] = "version",
    [IXD_ERR_MESSAGE_LENGTH] = "message_length",
    [IXD_ERR_TRUNCATED] = "truncated",
    [IXD_ERR_SET_LENGTH] = "set_length",
    [IXD_ERR_SET_ID] = "set_id",
    [IXD_ERR_TEMPLATE_ID] = "template_id",
    [IXD_ERR_TEMPLATE_LENGTH] = "template_length",
    [IXD_ERR_TEMPLATE_SCOPE] = "template_scope",
    [IXD_ERR_TEMPLATE_EMPTY] = "template_empty",
    [IXD_ERR_TEMPLATE_LIMIT] = "template_limit",
    [IXD_ERR_FIELD_LENGTH] = "field_length",
    [IXD_ERR_NO_TEMPLATE] = "no_template",
    [IXD_ERR_RECORD_LENGTH] = "record_length",
    [IXD_ERR_TCP_FRAMING] = "tcp_framing",
    [IXD_ERR_CONNECTION_LIMIT] = "connection_limit",
    [IXD_ERR_DOMAIN_LIMIT] = "domain_limit",
    [IXD_ERR_NOT_ALLOWED] = "not_allowed",
    [IXD_ERR_NO_MEMORY] = "no_memory",
};

const char *
ixd_error_name(enum ixd_error e)
{
    return (unsigned)e < IXD_ERR__COUNT ? error_names[e] : "unknown";
}

void
ixd_counters_sum(struct ixd_counters *dst, const struct ixd_counters *src)
{
    int i;

    dst->messages += IXD_CNT_GET(src->messages);
    dst->records += IXD_CNT_GET(src->records);
    dst->bytes += IXD_CNT_GET(src->bytes);
    dst->templates += IXD_CNT_GET(src->templates);
    dst->templates_replaced += IXD_CNT_GET(src->templates_replaced);
    dst->templates_withdrawn += IXD_CNT_GET(src->templates_withdrawn);
    dst->templates_expired += IXD_CNT_GET(src->templates_expired);
    dst->options_records += IXD_CNT_GET(src->options_records);
    dst->seq_lost += IXD_CNT_GET(src->seq_lost);
    dst->seq_reordered += IXD_CNT_GET(src->seq_reordered);
    dst->seq_resets += IXD_CNT_GET(src->seq_resets);
    dst->socket_drops += IXD_CNT_GET(src->socket_drops);
    dst->templates_evicted += IXD_CNT_GET(src->templates_evicted);
    dst->sessions_evicted += IXD_CNT_GET(src->sessions_evicted);
    dst->held_sets += IXD_CNT_GET(src->held_sets);
    dst->held_dropped += IXD_CNT_GET(src->held_dropped);
    dst->late_records += IXD_CNT_GET(src->late_records);
    dst->forwarded += IXD_CNT_GET(src->forwarded);
    dst->forward_dropped += IXD_CNT_GET(src->forward_dropped);
    for (i = 0; i < IXD_ERR__COUNT; i++) {
        dst->errors[i] += IXD_CNT_GET(src->errors[i]);
    }
}

uint64_t
ixd_counters_errors(const struct ixd_counters *c)
{
    uint64_t n = 0;
    int i;

    for (i = 0; i < IXD_ERR__COUNT; i++) {
        n += IXD_CNT_GET(c->errors[i]);
    }
    return n;
}
