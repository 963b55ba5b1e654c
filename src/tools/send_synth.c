/* Synthetic IPFIX messages: one template (ID 256) and data records derived from their index. */
#include "send_synth.h"
#include "send_common.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define NFIELDS 15
#define SET_HDR_LEN 4u
#define FLOW_TIME_BASE 1700000000000ull

/* {information element id, length}; the order is the wire order of each record. */
static const uint16_t tmpl_v4[NFIELDS][2] = {
    {8, 4},  {12, 4}, {7, 2}, {11, 2},  {4, 1},   {6, 2},  {5, 1},  {10, 4},
    {14, 4}, {2, 8},  {1, 8}, {152, 8}, {153, 8}, {15, 4}, {16, 4},
};
static const uint16_t tmpl_v6[NFIELDS][2] = {
    {27, 16}, {28, 16}, {7, 2}, {11, 2},  {4, 1},   {6, 2},   {5, 1},  {10, 4},
    {14, 4},  {2, 8},   {1, 8}, {152, 8}, {153, 8}, {62, 16}, {16, 4},
};

unsigned
synth_record_len(int ipv6)
{
    return ipv6 ? 100u : 64u;
}

unsigned
synth_max_records(int ipv6, size_t max_msg)
{
    if (max_msg > IXD_MAX_MESSAGE)
        max_msg = IXD_MAX_MESSAGE;
    return (unsigned)((max_msg - IXD_HEADER_LEN - SET_HDR_LEN) / synth_record_len(ipv6));
}

static void
put_msg_header(uint8_t *p, size_t len, uint32_t export_time, uint32_t seq, uint32_t odid)
{
    ixd_put16(p, IXD_IPFIX_VERSION);
    ixd_put16(p + 2, (uint16_t)len);
    ixd_put32(p + 4, export_time);
    ixd_put32(p + 8, seq);
    ixd_put32(p + 12, odid);
}

/* A whole message holding just the template set; returns its length. */
static size_t
build_template_msg(uint8_t *buf, int ipv6, uint32_t odid, uint32_t seq, uint32_t export_time)
{
    const uint16_t(*t)[2] = ipv6 ? tmpl_v6 : tmpl_v4;
    uint8_t *p = buf + IXD_HEADER_LEN;
    size_t set_len = SET_HDR_LEN + 4 + NFIELDS * 4;

    ixd_put16(p, 2); /* template set */
    ixd_put16(p + 2, (uint16_t)set_len);
    ixd_put16(p + 4, SYNTH_TEMPLATE_ID);
    ixd_put16(p + 6, NFIELDS);
    p += 8;
    for (int i = 0; i < NFIELDS; i++, p += 4) {
        ixd_put16(p, t[i][0]);
        ixd_put16(p + 2, t[i][1]);
    }
    put_msg_header(buf, IXD_HEADER_LEN + set_len, export_time, seq, odid);
    return IXD_HEADER_LEN + set_len;
}

/* The 48 bytes from sourceTransportPort to flowEndMilliseconds, shared by both templates. */
static uint8_t *
encode_middle(uint8_t *p, uint64_t k)
{
    ixd_put16(p, (uint16_t)(1024 + k % 60000));
    ixd_put16(p + 2, (uint16_t)(k % 1000));
    p[4] = (k & 1) ? 17 : 6;
    ixd_put16(p + 5, (uint16_t)(k & 0x3F));
    p[7] = (uint8_t)k;
    ixd_put32(p + 8, (uint32_t)(k % 100));
    ixd_put32(p + 12, (uint32_t)(100 + k % 50));
    ixd_put64(p + 16, 1 + k % 1000);
    ixd_put64(p + 24, k);
    ixd_put64(p + 32, FLOW_TIME_BASE + k);
    ixd_put64(p + 40, FLOW_TIME_BASE + k + 1000);
    return p + 48;
}

static void
encode_v6_addr(uint8_t *p, uint16_t third_group, uint64_t k)
{
    ixd_put16(p, 0x2001);
    ixd_put16(p + 2, 0x0db8);
    ixd_put16(p + 4, third_group);
    ixd_put16(p + 6, 0);
    ixd_put64(p + 8, k);
}

void
synth_encode_record(uint8_t *p, uint64_t k, int ipv6)
{
    uint8_t b2 = (uint8_t)(k >> 16), b1 = (uint8_t)(k >> 8), b0 = (uint8_t)k;

    if (!ipv6) {
        p[0] = 10, p[1] = b2, p[2] = b1, p[3] = b0;
        p[4] = 192, p[5] = 168, p[6] = b1, p[7] = b0;
        p = encode_middle(p + 8, k);
        p[0] = 172, p[1] = 16, p[2] = b1, p[3] = b0;
        ixd_put32(p + 4, (uint32_t)(64512 + k % 1000));
        return;
    }
    encode_v6_addr(p, 0, k);
    encode_v6_addr(p + 16, 1, k);
    p = encode_middle(p + 32, k);
    memset(p, 0, 16);
    p[0] = 0xfe, p[1] = 0x80, p[14] = b1, p[15] = b0;
    ixd_put32(p + 16, (uint32_t)(64512 + k % 1000));
}

/* Send state shared by the helpers of synth_run(). */
struct synth_run {
    const struct synth_cfg *cfg;
    struct tx *tx;
    uint32_t *seq;  /* per exporter: data records sent so far (RFC 7011 sequence) */
    uint8_t *slots; /* TX_BATCH message buffers of slot_len bytes */
    size_t slot_len;
    size_t msg_len[TX_BATCH];
    uint64_t sent;      /* records sent, all exporters */
    uint64_t msg_index; /* data messages sent, all exporters: picks the exporter */
};

static uint32_t
unix_now(void)
{
    return (uint32_t)time(NULL);
}

/* Each exporter gets its own template message, carrying its current sequence number. */
static int
send_templates(struct synth_run *r)
{
    uint8_t buf[IXD_HEADER_LEN + SET_HDR_LEN + 4 + NFIELDS * 4];
    uint32_t now = unix_now();

    for (unsigned c = 0; c < r->cfg->exporters; c++) {
        struct iovec iov = {buf, 0};
        iov.iov_len = build_template_msg(buf, r->cfg->ipv6, r->cfg->odid, r->seq[c], now);
        if (tx_send(r->tx, c, &iov, 1) < 0)
            return -1;
    }
    return 0;
}

/* Fill nb message slots with the next records; returns the records they hold. */
static uint64_t
build_batch(struct synth_run *r, unsigned nb)
{
    const struct synth_cfg *cfg = r->cfg;
    unsigned rlen = synth_record_len(cfg->ipv6);
    uint64_t k = cfg->start + r->sent, left = cfg->count - r->sent, total = 0;
    uint32_t now = unix_now();

    for (unsigned j = 0; j < nb; j++) {
        unsigned c = (unsigned)((r->msg_index + j) % cfg->exporters);
        unsigned n = left < cfg->rec_per_msg ? (unsigned)left : cfg->rec_per_msg;
        uint8_t *msg = r->slots + (size_t)j * r->slot_len, *p = msg + IXD_HEADER_LEN;
        size_t set_len = SET_HDR_LEN + (size_t)n * rlen;

        ixd_put16(p, SYNTH_TEMPLATE_ID);
        ixd_put16(p + 2, (uint16_t)set_len);
        p += SET_HDR_LEN;
        for (unsigned i = 0; i < n; i++, p += rlen)
            synth_encode_record(p, k++, cfg->ipv6);
        r->msg_len[j] = IXD_HEADER_LEN + set_len;
        put_msg_header(msg, r->msg_len[j], now, r->seq[c], cfg->odid);
        r->seq[c] += n;
        left -= n;
        total += n;
    }
    return total;
}

/* Hand the batch to the transport, one call per exporter, keeping each exporter's order. */
static int
send_batch(struct synth_run *r, unsigned nb)
{
    unsigned e = r->cfg->exporters, groups = nb < e ? nb : e;
    struct iovec iov[TX_BATCH];

    for (unsigned g = 0; g < groups; g++) {
        unsigned c = (unsigned)((r->msg_index + g) % e), cnt = 0;
        for (unsigned j = g; j < nb; j += e) {
            iov[cnt].iov_base = r->slots + (size_t)j * r->slot_len;
            iov[cnt].iov_len = r->msg_len[j];
            cnt++;
        }
        if (tx_send(r->tx, c, iov, cnt) < 0)
            return -1;
    }
    return 0;
}

static int
run_loop(struct synth_run *r)
{
    const struct synth_cfg *cfg = r->cfg;
    struct pacer pacer;
    unsigned batch = pace_batch(cfg->rate, cfg->rec_per_msg);
    uint64_t interval_ns = (uint64_t)cfg->template_interval * 1000000000u;

    pace_init(&pacer, cfg->rate);
    if (send_templates(r) < 0)
        return -1;
    uint64_t last_tmpl = mono_ns();

    while (r->sent < cfg->count) {
        if (pace_wait(&pacer, r->sent) < 0)
            break; /* stop signal: report what was sent */
        if (!cfg->tcp && interval_ns) {
            uint64_t now = mono_ns();
            if (now - last_tmpl >= interval_ns) {
                if (send_templates(r) < 0)
                    return -1;
                last_tmpl = now;
            }
        }
        uint64_t left = cfg->count - r->sent;
        uint64_t need = left / cfg->rec_per_msg + (left % cfg->rec_per_msg != 0);
        unsigned nb = need < batch ? (unsigned)need : batch;
        uint64_t nrec = build_batch(r, nb);
        if (send_batch(r, nb) < 0)
            return -1;
        r->sent += nrec;
        r->msg_index += nb;
    }
    return 0;
}

int
synth_run(const struct synth_cfg *cfg, struct tx *tx, uint64_t *records)
{
    struct synth_run r = {.cfg = cfg, .tx = tx};
    int rc = -1;

    r.slot_len =
        IXD_HEADER_LEN + SET_HDR_LEN + (size_t)cfg->rec_per_msg * synth_record_len(cfg->ipv6);
    r.seq = calloc(cfg->exporters, sizeof(*r.seq));
    r.slots = malloc(TX_BATCH * r.slot_len);
    if (!r.seq || !r.slots)
        fprintf(stderr, SEND_PROG ": out of memory\n");
    else
        rc = run_loop(&r);
    *records = r.sent;
    free(r.seq);
    free(r.slots);
    return rc;
}
