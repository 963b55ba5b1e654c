/* nDPI behind dpi.h. */
#include "dpi/dpi.h"

#include <ndpi_api.h>
#include <stdio.h>
#include <stdlib.h>

struct ixd_dpi {
    struct ndpi_detection_module_struct *m;
};

struct ixd_dpi *
ixd_dpi_new(char *err, size_t errlen)
{
    struct ixd_dpi *d = calloc(1, sizeof(*d));
    NDPI_PROTOCOL_BITMASK all;

    if (d == NULL) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    d->m = ndpi_init_detection_module(ndpi_no_prefs);
    if (d->m == NULL) {
        snprintf(err, errlen, "cannot start nDPI");
        free(d);
        return NULL;
    }
    NDPI_BITMASK_SET_ALL(all);
    ndpi_set_protocol_detection_bitmask2(d->m, &all);
    ndpi_finalize_initialization(d->m);
    return d;
}

void
ixd_dpi_free(struct ixd_dpi *d)
{
    if (d != NULL) {
        ndpi_exit_detection_module(d->m);
        free(d);
    }
}

size_t
ixd_dpi_flow_size(void)
{
    return ndpi_detection_get_sizeof_ndpi_flow_struct();
}

void *
ixd_dpi_flow_new(struct ixd_dpi *d)
{
    (void)d;
    return calloc(1, ndpi_detection_get_sizeof_ndpi_flow_struct());
}

void
ixd_dpi_flow_free(void *flow)
{
    if (flow != NULL) {
        ndpi_free_flow_data(flow); /* what nDPI allocated inside (host names, certificates) */
        free(flow);
    }
}

int
ixd_dpi_packet(struct ixd_dpi *d, void *flow, const uint8_t *ip, uint32_t len, uint64_t ms,
               uint16_t *app, uint16_t *master)
{
    ndpi_protocol p;

    if (len > 0xffff) {
        len = 0xffff;
    }
    p = ndpi_detection_process_packet(d->m, flow, ip, (unsigned short)len, ms);
    *app = p.app_protocol;
    *master = p.master_protocol;
    return p.app_protocol != NDPI_PROTOCOL_UNKNOWN;
}

void
ixd_dpi_giveup(struct ixd_dpi *d, void *flow, uint16_t *app, uint16_t *master)
{
    uint8_t guessed = 0;
    ndpi_protocol p = ndpi_detection_giveup(d->m, flow, 1, &guessed);

    *app = p.app_protocol;
    *master = p.master_protocol;
}

const char *
ixd_dpi_name(struct ixd_dpi *d, uint16_t app, uint16_t master, char *buf, size_t len)
{
    ndpi_protocol p = {master, app, NDPI_PROTOCOL_CATEGORY_UNSPECIFIED};

    if (len > 0xffff) {
        len = 0xffff;
    }
    return ndpi_protocol2name(d->m, p, buf, (u_int)len);
}
