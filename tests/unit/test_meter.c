/* Unit tests of src/meter/: the packet decoder, the biflow table and the meter's DPI state. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "meter/flow.h"
#include "meter/meter.h"
#include "meter/packet.h"

/* A frame under construction */
struct fb {
    uint8_t b[512];
    size_t n;
};

static void
put(struct fb *f, const void *p, size_t n)
{
    memcpy(f->b + f->n, p, n);
    f->n += n;
}

static void
put16(struct fb *f, uint16_t v)
{
    uint8_t b[2] = {(uint8_t)(v >> 8), (uint8_t)v};
    put(f, b, 2);
}

static void
eth(struct fb *f, uint16_t type)
{
    static const uint8_t macs[12] = {0xd, 0xd, 0xd, 0xd, 0xd, 0xd, 0x5, 0x5, 0x5, 0x5, 0x5, 0x5};
    put(f, macs, 12);
    put16(f, type);
}

/* An IPv4 header for payload bytes of proto from 10.0.0.s to 10.0.0.d. */
static void
ipv4(struct fb *f, uint8_t proto, uint8_t s, uint8_t d, uint16_t payload, uint16_t frag,
     uint16_t id)
{
    uint8_t h[20] = {0x45, 0x10, 0, 0, 0, 0, 0, 0, 61, proto, 0, 0, 10, 0, 0, s, 10, 0, 0, d};
    h[2] = (uint8_t)((20 + payload) >> 8);
    h[3] = (uint8_t)(20 + payload);
    h[4] = (uint8_t)(id >> 8);
    h[5] = (uint8_t)id;
    h[6] = (uint8_t)(frag >> 8);
    h[7] = (uint8_t)frag;
    put(f, h, 20);
}

static void
tcp(struct fb *f, uint16_t sp, uint16_t dp, uint8_t flags)
{
    uint8_t h[20] = {0};
    h[0] = (uint8_t)(sp >> 8);
    h[1] = (uint8_t)sp;
    h[2] = (uint8_t)(dp >> 8);
    h[3] = (uint8_t)dp;
    h[12] = 0x50;
    h[13] = flags;
    put(f, h, 20);
}

static void
udp(struct fb *f, uint16_t sp, uint16_t dp, uint16_t payload)
{
    put16(f, sp);
    put16(f, dp);
    put16(f, (uint16_t)(8 + payload));
    put16(f, 0);
}

static void
test_ethernet_ipv4_tcp(void **state)
{
    struct fb f = {0};
    struct ixd_pkt p;

    eth(&f, 0x0800);
    ipv4(&f, 6, 1, 2, 20 + 100, 0, 1);
    tcp(&f, 40000, 443, 0x12);
    assert_int_equal(ixd_pkt_decode(IXD_LINK_ETHERNET, f.b, (uint32_t)f.n, &p), IXD_PKT_OK);
    assert_int_equal(p.ipver, 4);
    assert_int_equal(p.proto, 6);
    assert_int_equal(p.sport, 40000);
    assert_int_equal(p.dport, 443);
    assert_int_equal(p.tcp_flags, 0x12);
    assert_int_equal(p.ttl, 61);
    assert_int_equal(p.tos, 0x10);
    assert_int_equal(p.ip_bytes, 140); /* the header's length, not the 40 bytes captured */
    assert_int_equal(p.src[3], 1);
    assert_int_equal(p.smac[0], 0x5);
    assert_true(p.has_mac && !p.has_vlan && !p.fragment && !p.tunnel);
}

static void
test_vlan_qinq_mpls(void **state)
{
    struct fb f = {0};
    struct ixd_pkt p;
    static const uint8_t labels[8] = {0, 0x11, 0, 64, 0, 0x13, 1, 64}; /* 2 labels, BoS last */

    eth(&f, 0x88a8);
    put16(&f, 100);
    put16(&f, 0x8100);
    put16(&f, 200);
    put16(&f, 0x8847);
    put(&f, labels, sizeof(labels));
    ipv4(&f, 17, 3, 4, 8, 0, 1);
    udp(&f, 5000, 53, 0);
    assert_int_equal(ixd_pkt_decode(IXD_LINK_ETHERNET, f.b, (uint32_t)f.n, &p), IXD_PKT_OK);
    assert_true(p.has_vlan);
    assert_int_equal(p.vlan, 100); /* the outer tag */
    assert_int_equal(p.dport, 53);
    assert_int_equal(p.mpls >> 12, 0x110); /* the top label */
}

static void
test_ipv6_extension_headers(void **state)
{
    struct fb f = {0};
    struct ixd_pkt p;
    uint8_t h[40] = {0x60, 0, 0, 0, 0, 16 + 8 + 20, 0 /* hop-by-hop */, 64};
    uint8_t hbh[16] = {60 /* destination options next */, 1};
    uint8_t dst[8] = {6 /* TCP */, 0};

    h[8] = 0x20;
    h[24] = 0x20;
    h[39] = 2;
    eth(&f, 0x86dd);
    put(&f, h, 40);
    put(&f, hbh, 16);
    put(&f, dst, 8);
    tcp(&f, 1, 2, 0x02);
    assert_int_equal(ixd_pkt_decode(IXD_LINK_ETHERNET, f.b, (uint32_t)f.n, &p), IXD_PKT_OK);
    assert_int_equal(p.ipver, 6);
    assert_int_equal(p.proto, 6);
    assert_int_equal(p.dport, 2);
    assert_int_equal(p.ip_bytes, 40 + 44);
    /* the chain cut short inside the hop-by-hop header */
    assert_int_equal(ixd_pkt_decode(IXD_LINK_ETHERNET, f.b, 14 + 40 + 10, &p), IXD_PKT_EXT_HEADER);
}

static void
test_fragments(void **state)
{
    struct fb a = {0}, b = {0};
    struct ixd_pkt p;

    eth(&a, 0x0800);
    ipv4(&a, 17, 1, 2, 1008, 0x2000, 77); /* more fragments, offset 0 */
    udp(&a, 6363, 6363, 2000);
    assert_int_equal(ixd_pkt_decode(IXD_LINK_ETHERNET, a.b, (uint32_t)a.n, &p), IXD_PKT_OK);
    assert_int_equal(p.fragment, 1);
    assert_int_equal(p.sport, 6363);
    assert_int_equal(p.frag_id, 77);
    eth(&b, 0x0800);
    ipv4(&b, 17, 1, 2, 1000, 126, 77); /* offset 1008 */
    assert_int_equal(ixd_pkt_decode(IXD_LINK_ETHERNET, b.b, (uint32_t)b.n, &p), IXD_PKT_OK);
    assert_int_equal(p.fragment, 2);
    assert_int_equal(p.sport, 0);
    assert_int_equal(p.ip_bytes, 1020);
}

static void
test_tunnels(void **state)
{
    struct fb f = {0};
    struct ixd_pkt p;
    static const uint8_t vxlan[8] = {0x08, 0, 0, 0, 0, 0, 123, 0};
    static const uint8_t gre[8] = {0x20, 0, 0x08, 0x00, 0, 0, 0, 9}; /* with a key */
    static const uint8_t gtp[16] = {0x34, 0xff, 0, 28, 0, 0, 0, 1, 0, 0, 0, 0x85, 1, 0, 0, 0};

    eth(&f, 0x0800);
    ipv4(&f, 17, 1, 2, 8 + 8 + 14 + 28, 0, 1);
    udp(&f, 999, 4789, 8 + 14 + 28);
    put(&f, vxlan, 8);
    eth(&f, 0x0800);
    ipv4(&f, 1, 7, 8, 8, 0, 2);
    put16(&f, 0x0800);
    put16(&f, 0);
    put16(&f, 0);
    put16(&f, 0);
    assert_int_equal(ixd_pkt_decode(IXD_LINK_ETHERNET, f.b, (uint32_t)f.n, &p), IXD_PKT_OK);
    assert_int_equal(p.tunnel, IXD_TUNNEL_VXLAN);
    assert_int_equal(p.vni, 123);
    assert_int_equal(p.proto, 1);
    assert_int_equal(p.src[3], 7);
    assert_int_equal(p.ip_bytes, 28);
    assert_int_equal(p.outer_bytes, 20 + 8 + 8 + 14 + 28);
    assert_int_equal(p.outer_src[3], 1);

    f.n = 0;
    eth(&f, 0x0800);
    ipv4(&f, 47, 1, 2, 8 + 28, 0, 1);
    put(&f, gre, 8);
    ipv4(&f, 17, 5, 6, 8, 0, 2);
    udp(&f, 1, 2, 0);
    assert_int_equal(ixd_pkt_decode(IXD_LINK_ETHERNET, f.b, (uint32_t)f.n, &p), IXD_PKT_OK);
    assert_int_equal(p.tunnel, IXD_TUNNEL_GRE);
    assert_int_equal(p.proto, 17);
    assert_int_equal(p.src[3], 5);

    /* GTP-U with a PDU session container extension header */
    f.n = 0;
    eth(&f, 0x0800);
    ipv4(&f, 17, 1, 2, 8 + 16 + 28, 0, 1);
    udp(&f, 2152, 2152, 16 + 28);
    put(&f, gtp, 16);
    ipv4(&f, 17, 9, 10, 8, 0, 2);
    udp(&f, 3, 4, 0);
    assert_int_equal(ixd_pkt_decode(IXD_LINK_ETHERNET, f.b, (uint32_t)f.n, &p), IXD_PKT_OK);
    assert_int_equal(p.tunnel, IXD_TUNNEL_GTPU);
    assert_int_equal(p.src[3], 9);
    assert_int_equal(p.dport, 4);

    /* a VXLAN header without its I flag is plain UDP */
    f.n = 0;
    eth(&f, 0x0800);
    ipv4(&f, 17, 1, 2, 16, 0, 1);
    udp(&f, 999, 4789, 8);
    put(&f, "\0\0\0\0\0\0\0\0", 8);
    assert_int_equal(ixd_pkt_decode(IXD_LINK_ETHERNET, f.b, (uint32_t)f.n, &p), IXD_PKT_OK);
    assert_int_equal(p.tunnel, IXD_TUNNEL_NONE);
    assert_int_equal(p.dport, 4789);
}

static void
test_link_types(void **state)
{
    struct fb ip = {0}, f;
    struct ixd_pkt p;
    static const uint8_t null_le[4] = {2, 0, 0, 0}, loop[4] = {0, 0, 0, 2};
    uint8_t sll[16] = {0}, sll2[20] = {0};

    ipv4(&ip, 17, 1, 2, 8, 0, 1);
    udp(&ip, 1, 2, 0);
    assert_int_equal(ixd_pkt_decode(IXD_LINK_RAW, ip.b, (uint32_t)ip.n, &p), IXD_PKT_OK);
    f = (struct fb){0};
    put(&f, null_le, 4);
    put(&f, ip.b, ip.n);
    assert_int_equal(ixd_pkt_decode(IXD_LINK_NULL, f.b, (uint32_t)f.n, &p), IXD_PKT_OK);
    f = (struct fb){0};
    put(&f, loop, 4);
    put(&f, ip.b, ip.n);
    assert_int_equal(ixd_pkt_decode(IXD_LINK_LOOP, f.b, (uint32_t)f.n, &p), IXD_PKT_OK);
    sll[14] = 0x08;
    f = (struct fb){0};
    put(&f, sll, 16);
    put(&f, ip.b, ip.n);
    assert_int_equal(ixd_pkt_decode(IXD_LINK_SLL, f.b, (uint32_t)f.n, &p), IXD_PKT_OK);
    assert_false(p.has_mac);
    sll2[0] = 0x08;
    f = (struct fb){0};
    put(&f, sll2, 20);
    put(&f, ip.b, ip.n);
    assert_int_equal(ixd_pkt_decode(IXD_LINK_SLL2, f.b, (uint32_t)f.n, &p), IXD_PKT_OK);
    assert_int_equal(p.dport, 2);
    assert_int_equal(ixd_pkt_decode(999, f.b, (uint32_t)f.n, &p), IXD_PKT_LINK);
    f = (struct fb){0};
    eth(&f, 0x0806); /* ARP */
    put(&f, ip.b, 28);
    assert_int_equal(ixd_pkt_decode(IXD_LINK_ETHERNET, f.b, (uint32_t)f.n, &p), IXD_PKT_NOT_IP);
}

/* Every prefix of a frame decodes or is refused with a reason; the short TCP header is one. */
static void
test_every_truncation(void **state)
{
    struct fb f = {0};
    struct ixd_pkt p;
    uint32_t n;

    eth(&f, 0x8100);
    put16(&f, 5);
    put16(&f, 0x0800);
    ipv4(&f, 6, 1, 2, 20, 0, 1);
    tcp(&f, 1, 2, 0x10);
    for (n = 0; n <= f.n; n++) {
        enum ixd_pkt_error e = ixd_pkt_decode(IXD_LINK_ETHERNET, f.b, n, &p);
        assert_true(e < IXD_PKT_ERRORS);
        assert_true((e == IXD_PKT_OK) == (n >= 18 + 20 + 14));
    }
    assert_int_equal(ixd_pkt_decode(IXD_LINK_ETHERNET, f.b, 18 + 20 + 10, &p), IXD_PKT_TRANSPORT);
}

/* --- the flow table --- */

struct ended {
    int n;
    enum ixd_flow_end reason[16];
    uint32_t packets[16][2];
    uint16_t dport[16];
};

static void
on_end(void *arg, struct ixd_flow *f, enum ixd_flow_end reason)
{
    struct ended *e = arg;

    if (e->n < 16) {
        e->reason[e->n] = reason;
        e->packets[e->n][0] = f->packets[0];
        e->packets[e->n][1] = f->packets[1];
        e->dport[e->n] = f->dport;
    }
    e->n++;
}

static struct ixd_pkt
pkt(uint8_t s, uint8_t d, uint8_t proto, uint16_t sp, uint16_t dp, uint8_t flags)
{
    struct ixd_pkt p = {.proto = proto,
                        .ipver = 4,
                        .sport = sp,
                        .dport = dp,
                        .ip_bytes = 100,
                        .tcp_flags = flags,
                        .ttl = 64};
    p.src[0] = p.dst[0] = 10;
    p.src[3] = s;
    p.dst[3] = d;
    return p;
}

static void
test_biflow_timeouts(void **state)
{
    struct ixd_flow_limits l = {1000, 30000, 300000, 2000};
    struct ixd_flow_counters c = {0};
    struct ended e = {0};
    struct ixd_flow_table *t = ixd_flows_new(&l, &c, on_end, &e);
    struct ixd_pkt a = pkt(1, 2, 17, 1000, 53, 0), b = pkt(2, 1, 17, 53, 1000, 0);
    struct ixd_flow *f;
    int dir;

    f = ixd_flows_packet(t, &a, 1000, &dir);
    assert_int_equal(dir, 0);
    f = ixd_flows_packet(t, &b, 1500, &dir);
    assert_int_equal(dir, 1);
    assert_int_equal(f->packets[0], 1);
    assert_int_equal(f->packets[1], 1);
    assert_int_equal(f->octets[1], 100);
    assert_int_equal(c.active, 1);
    ixd_flows_expire(t, 1500 + 29999);
    assert_int_equal(e.n, 0);
    ixd_flows_expire(t, 1500 + 30000);
    assert_int_equal(e.n, 1);
    assert_int_equal(e.reason[0], IXD_FLOW_END_IDLE);
    /* active timeout: the packet past it starts the next record */
    for (uint64_t ms = 100000; ms <= 400000; ms += 10000) {
        ixd_flows_packet(t, &a, ms, &dir);
    }
    assert_int_equal(e.n, 2);
    assert_int_equal(e.reason[1], IXD_FLOW_END_ACTIVE);
    assert_int_equal(e.packets[1][0], 30);
    ixd_flows_flush(t);
    assert_int_equal(e.reason[2], IXD_FLOW_END_FORCED);
    assert_int_equal(c.expired[IXD_FLOW_END_FORCED], 1);
    assert_int_equal(c.active, 0);
    ixd_flows_free(t);
}

static void
test_tcp_end(void **state)
{
    struct ixd_flow_limits l = {1000, 30000, 300000, 2000};
    struct ixd_flow_counters c = {0};
    struct ended e = {0};
    struct ixd_flow_table *t = ixd_flows_new(&l, &c, on_end, &e);
    struct ixd_pkt syn = pkt(1, 2, 6, 1000, 80, 0x02), fin = pkt(1, 2, 6, 1000, 80, 0x11);
    struct ixd_pkt rfin = pkt(2, 1, 6, 80, 1000, 0x11), ack = pkt(1, 2, 6, 1000, 80, 0x10);
    int dir;

    ixd_flows_packet(t, &syn, 0, &dir);
    ixd_flows_packet(t, &fin, 10, &dir);
    ixd_flows_packet(t, &rfin, 20, &dir);
    ixd_flows_packet(t, &ack, 30, &dir); /* the last ACK, within the linger */
    assert_int_equal(e.n, 0);
    ixd_flows_expire(t, 30 + 2000);
    assert_int_equal(e.n, 1);
    assert_int_equal(e.reason[0], IXD_FLOW_END_EOF);
    assert_int_equal(e.packets[0][0], 3);
    assert_int_equal(e.packets[0][1], 1);
    /* RST ends at once... and a SYN on the same ports starts a new flow */
    ixd_flows_packet(t, &syn, 5000, &dir);
    syn.tcp_flags = 0x04;
    ixd_flows_packet(t, &syn, 5001, &dir);
    syn.tcp_flags = 0x02;
    ixd_flows_packet(t, &syn, 5002, &dir);
    assert_int_equal(e.n, 2);
    assert_int_equal(e.reason[1], IXD_FLOW_END_EOF);
    assert_int_equal(e.packets[1][0], 2);
    ixd_flows_free(t);
    assert_int_equal(e.n, 3);
}

static void
test_table_full_and_icmp(void **state)
{
    struct ixd_flow_limits l = {16, 30000, 300000, 2000};
    struct ixd_flow_counters c = {0};
    struct ended e = {0};
    struct ixd_flow_table *t = ixd_flows_new(&l, &c, on_end, &e);
    struct ixd_pkt req = pkt(1, 2, 1, 0, 0x0800, 0), rep = pkt(2, 1, 1, 0, 0x0000, 0);
    struct ixd_pkt unreach = pkt(2, 1, 1, 0, 0x0303, 0);
    int dir, i;

    ixd_flows_packet(t, &req, 0, &dir);
    ixd_flows_packet(t, &rep, 1, &dir);
    assert_int_equal(dir, 1); /* a reply is the request's reverse */
    ixd_flows_packet(t, &unreach, 2, &dir);
    assert_int_equal(dir, 0); /* other types are flows of their own */
    assert_int_equal(c.active, 2);
    for (i = 0; i < 15; i++) {
        struct ixd_pkt p = pkt(3, (uint8_t)(10 + i), 17, 1, 2, 0);
        ixd_flows_packet(t, &p, (uint64_t)(10 + i), &dir);
    }
    /* 17 flows in a table of 16: the least recently seen (the echo) went */
    assert_int_equal(c.active, 16);
    assert_int_equal(c.expired[IXD_FLOW_END_RESOURCES], 1);
    assert_int_equal(e.reason[0], IXD_FLOW_END_RESOURCES);
    assert_int_equal(e.dport[0], 0x0800);
    assert_int_equal(e.packets[0][1], 1);
    ixd_flows_free(t);
}

static void
test_fragments_follow_first(void **state)
{
    struct ixd_flow_limits l = {1000, 30000, 300000, 2000};
    struct ixd_flow_counters c = {0};
    struct ended e = {0};
    struct ixd_flow_table *t = ixd_flows_new(&l, &c, on_end, &e);
    struct ixd_pkt first = pkt(1, 2, 17, 6363, 6363, 0), later = pkt(1, 2, 17, 0, 0, 0);
    struct ixd_flow *f;
    int dir;

    first.fragment = 1;
    first.frag_id = 9;
    later.fragment = 2;
    later.frag_id = 9;
    ixd_flows_packet(t, &first, 0, &dir);
    f = ixd_flows_packet(t, &later, 1, &dir);
    assert_int_equal(f->sport, 6363);
    assert_int_equal(f->packets[0], 2);
    later.frag_id = 10; /* its first never seen */
    f = ixd_flows_packet(t, &later, 2, &dir);
    assert_int_equal(f->sport, 0);
    assert_int_equal(c.fragments_unmatched, 1);
    ixd_flows_free(t);
}

/* --- the meter: DPI state freed once a flow is classified --- */

static int delivered;

static void
count_records(void *arg, const struct ixd_batch *b)
{
    delivered += (int)b->count;
}

/* A meter with DPI, counting into *st */
static struct ixd_meter *
dpi_meter(struct ixd_meter_stats *st)
{
    struct ixd_meter_settings s = {.max_flows = 1000,
                                   .idle_ms = 30000,
                                   .active_ms = 300000,
                                   .linger_ms = 2000,
                                   .dpi = 1,
                                   .dpi_packets = 8};
    char err[256];

    return ixd_meter_new(&s, st, "c", "test", NULL, count_records, NULL, NULL, err, sizeof(err));
}

/* A DNS query for example.com from port sport, in an Ethernet frame */
static void
dns_query(struct fb *f, uint16_t sport)
{
    static const uint8_t query[] = {0x12, 0x34, 1,   0,   0,   1,   0,   0,   0,   0,
                                    0,    0,    7,   'e', 'x', 'a', 'm', 'p', 'l', 'e',
                                    3,    'c',  'o', 'm', 0,   0,   1,   0,   1};

    eth(f, 0x0800);
    ipv4(f, 17, 1, 2, (uint16_t)(8 + sizeof(query)), 0, 1);
    udp(f, sport, 53, (uint16_t)sizeof(query));
    put(f, query, sizeof(query));
}

static void
test_dpi_state_freed(void **state)
{
    struct ixd_meter_stats st = {0};
    struct ixd_meter *m = dpi_meter(&st);
    struct fb f = {0};
    size_t dpi_bytes;

    assert_non_null(m);
    dns_query(&f, 33333);
    ixd_meter_packet(m, IXD_LINK_ETHERNET, f.b, (uint32_t)f.n, 1000000);
    ixd_meter_memory(m, &dpi_bytes);
    assert_int_equal(st.m.dpi_classified, 1);
    assert_int_equal(st.m.dpi_active, 0);
    assert_int_equal(dpi_bytes, 0);
    ixd_meter_flush(m);
    assert_int_equal(delivered, 2); /* the name mapping, then the flow */
    assert_int_equal(st.m.records, 1);
    assert_int_equal(st.m.options_records, 1);
    ixd_meter_free(m);
}

/* The name of an application is reported again a refresh period later: a collector that
 * missed the first options record (UDP) still learns it. */
static void
test_app_names_refreshed(void **state)
{
    struct ixd_meter_stats st = {0};
    struct ixd_meter *m = dpi_meter(&st);
    /* three DNS queries from other ports: 1 s apart, then a refresh period later */
    static const int64_t at[] = {1000000, 2000000, 2000000 + IXD_METER_APP_REFRESH_USEC};
    static const uint64_t announced[] = {1, 1, 2};
    size_t k;

    assert_non_null(m);
    for (k = 0; k < 3; k++) {
        struct fb f = {0};
        dns_query(&f, (uint16_t)(33333 + k));
        ixd_meter_packet(m, IXD_LINK_ETHERNET, f.b, (uint32_t)f.n, at[k]);
        ixd_meter_flush(m);
        assert_int_equal(st.m.records, k + 1);
        assert_int_equal(st.m.options_records, announced[k]);
    }
    ixd_meter_free(m);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ethernet_ipv4_tcp),
        cmocka_unit_test(test_vlan_qinq_mpls),
        cmocka_unit_test(test_ipv6_extension_headers),
        cmocka_unit_test(test_fragments),
        cmocka_unit_test(test_tunnels),
        cmocka_unit_test(test_link_types),
        cmocka_unit_test(test_every_truncation),
        cmocka_unit_test(test_biflow_timeouts),
        cmocka_unit_test(test_tcp_end),
        cmocka_unit_test(test_table_full_and_icmp),
        cmocka_unit_test(test_fragments_follow_first),
        cmocka_unit_test(test_dpi_state_freed),
        cmocka_unit_test(test_app_names_refreshed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
