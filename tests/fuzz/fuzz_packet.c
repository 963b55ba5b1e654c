/*
 * One input = a short capture through the whole meter: the first byte picks the link type, then
 * frames follow as [length: 2 bytes][time step: 1 byte][bytes]. Each frame is copied into a
 * buffer of exactly its length (so ASan sees a read past the captured bytes), decoded, metered
 * into a table of 16 flows (so evictions happen), inspected by nDPI, and every record the meter
 * delivers is written as JSON. The nDPI detector is shared by every input (its caches of
 * hosts may carry over from one input to the next). Invariants: every frame is metered or counted
 * by reason, and the records' packets add up to the packets metered.
 */
#include <stdlib.h>
#include <string.h>

#include "dpi/dpi.h"
#include "fuzz.h"
#include "ipfix/template.h"
#include "meter/meter.h"
#include "output/json_format.h"

static const int links[] = {IXD_LINK_ETHERNET, IXD_LINK_RAW,  IXD_LINK_SLL,  IXD_LINK_SLL2,
                            IXD_LINK_NULL,     IXD_LINK_LOOP, IXD_LINK_IPV6, 147};

struct sink {
    uint64_t packets;
    char *line;
};

static void
deliver(void *arg, const struct ixd_batch *b)
{
    struct sink *s = arg;
    char prefix[600];
    size_t plen = ixd_json_prefix(b->source, prefix, sizeof(prefix));

    for (size_t i = 0; i < b->count; i++) {
        const struct ixd_record *r = &b->records[i];
        size_t need = ixd_json_bound(r) + plen;
        char *line = malloc(need);

        FUZZ_CHECK(line != NULL);
        FUZZ_CHECK(ixd_json_record(r, prefix, plen, line) <= need);
        free(line);
        if (r->tmpl->scope_count == 0) {
            /* packetDeltaCount and its reverse, 8 bytes each at fixed offsets */
            int f = ixd_template_find(r->tmpl, 0, 2), g = ixd_template_find(r->tmpl, 29305, 2);
            uint16_t len;
            const uint8_t *p;

            FUZZ_CHECK(f >= 0 && g >= 0);
            p = ixd_record_field(r, (unsigned)f, &len);
            for (unsigned k = 0; k < len; k++) {
                s->packets += (uint64_t)p[k] << (8 * (len - 1 - k));
            }
            p = ixd_record_field(r, (unsigned)g, &len);
            for (unsigned k = 0; k < len; k++) {
                s->packets += (uint64_t)p[k] << (8 * (len - 1 - k));
            }
        }
    }
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* one detector for every input: starting nDPI costs more than an input's run */
    static struct ixd_dpi *detector;
    struct ixd_meter_settings ms = {0, 16, 5000, 20000, 1000, 1, 4, 1, NULL};
    struct ixd_meter_stats st;
    struct sink sink = {0};
    struct ixd_meter *m;
    char err[256];
    int64_t usec = 1700000000000000;
    uint64_t errors = 0;
    int link;

    if (size < 1) {
        return 0;
    }
    if (detector == NULL) {
        detector = ixd_dpi_new(err, sizeof(err));
        FUZZ_CHECK(detector != NULL);
    }
    ms.detector = detector;
    memset(&st, 0, sizeof(st));
    link = links[data[0] % (sizeof(links) / sizeof(links[0]))];
    m = ixd_meter_new(&ms, &st, "fuzz", "fuzz.pcap", NULL, deliver, NULL, &sink, err, sizeof(err));
    FUZZ_CHECK(m != NULL);
    data++;
    size--;
    while (size >= 3) {
        size_t len = (size_t)(data[0] << 8 | data[1]);
        uint8_t *frame;

        usec += (int64_t)data[2] * 100000; /* up to 25.5 s: the timeouts come into play */
        data += 3;
        size -= 3;
        if (len > size) {
            len = size;
        }
        frame = malloc(len + 1);
        FUZZ_CHECK(frame != NULL);
        memcpy(frame, data, len);
        ixd_meter_packet(m, link, frame, (uint32_t)len, usec);
        free(frame);
        data += len;
        size -= len;
    }
    ixd_meter_flush(m);
    for (int k = 1; k < IXD_PKT_ERRORS; k++) {
        errors += st.m.errors[k];
    }
    FUZZ_CHECK(st.m.frames == st.m.packets + errors + st.f.no_memory);
    FUZZ_CHECK(sink.packets == st.m.packets);
    FUZZ_CHECK(st.f.active == 0 && st.m.dpi_active == 0);
    ixd_meter_free(m);
    return 0;
}
