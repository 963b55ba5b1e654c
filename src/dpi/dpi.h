/*
 * Application labels by deep packet inspection: nDPI stays behind this folder. A detector is
 * one nDPI module (not thread-safe: one per worker); a flow's inspection state is allocated
 * when the flow starts being inspected and freed as soon as it is classified or given up
 * (nDPI's flow state is about 2 KB). Protocol ids are nDPI's own; applicationId carries them
 * under ntop's PEN (RFC 6759, docs/meter.md).
 */
#ifndef IXD_DPI_DPI_H
#define IXD_DPI_DPI_H

#include <stddef.h>
#include <stdint.h>

/* ntop's private enterprise number: the id space of nDPI's protocol ids */
#define IXD_DPI_PEN 35632
/* RFC 6759 classification engine: PANA-L7-PEN (an enterprise's own L7 ids) */
#define IXD_DPI_ENGINE 20

struct ixd_dpi;

/* A detector; NULL with err when nDPI cannot start. */
struct ixd_dpi *ixd_dpi_new(char *err, size_t errlen);
void ixd_dpi_free(struct ixd_dpi *d);

/* A flow's inspection state (NULL: no memory); freed with ixd_dpi_flow_free. */
void *ixd_dpi_flow_new(struct ixd_dpi *d);
void ixd_dpi_flow_free(void *flow);
/* Bytes of one flow's inspection state */
size_t ixd_dpi_flow_size(void);

/*
 * Inspects one IP packet (len bytes captured, from its IP header) of flow at time ms. Returns
 * 1 when the flow is classified, with nDPI's ids in *app and *master (either may be 0:
 * unknown), 0 when it needs more packets.
 */
int ixd_dpi_packet(struct ixd_dpi *d, void *flow, const uint8_t *ip, uint32_t len, uint64_t ms,
                   uint16_t *app, uint16_t *master);
/* The best guess once no more packets will be inspected (0, 0: unknown). */
void ixd_dpi_giveup(struct ixd_dpi *d, void *flow, uint16_t *app, uint16_t *master);

/* The name of a classification ("TLS.YouTube", "DNS", "Unknown") into buf; returns buf. */
const char *ixd_dpi_name(struct ixd_dpi *d, uint16_t app, uint16_t master, char *buf, size_t len);

#endif
