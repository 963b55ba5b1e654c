/*
 * The packet decoder (packet.h). Each layer reads from a cursor (pointer, bytes left) and checks
 * the length it needs before it reads; the outermost IP packet of a tunnel is kept aside
 * (outer_bytes, outer addresses) and the inner one decoded into the same struct.
 */
#include "meter/packet.h"

#include <string.h>

const char *const ixd_pkt_error_names[IXD_PKT_ERRORS] = {
    "ok", "not_ip", "link", "ip_header", "ext_header", "transport", "tunnel",
};

#define ETH_IPV4 0x0800
#define ETH_IPV6 0x86dd
#define ETH_VLAN 0x8100
#define ETH_QINQ 0x88a8
#define ETH_QINQ_OLD 0x9100
#define ETH_MPLS 0x8847
#define ETH_MPLS_MC 0x8848
#define ETH_PPPOE 0x8864
#define ETH_TEB 0x6558 /* GRE: transparent Ethernet bridging */

#define PROTO_ICMP 1
#define PROTO_TCP 6
#define PROTO_UDP 17
#define PROTO_GRE 47
#define PROTO_ESP 50
#define PROTO_AH 51
#define PROTO_ICMPV6 58
#define PROTO_SCTP 132

#define PORT_VXLAN 4789
#define PORT_GTPU 2152

/* Tags, labels and tunnels a frame may stack before it is refused */
#define MAX_TAGS 8
#define MAX_EXT_HEADERS 16
#define MAX_TUNNELS 3

struct cur {
    const uint8_t *p;
    uint32_t len;
};

static uint16_t
get16(const uint8_t *p)
{
    return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t
get32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void
skip(struct cur *c, uint32_t n)
{
    c->p += n;
    c->len -= n;
}

static enum ixd_pkt_error decode_ip(struct cur c, struct ixd_pkt *out, int depth);

static enum ixd_pkt_error decode_ethernet(struct cur c, struct ixd_pkt *out, int depth);

/* An MPLS label stack, then IPv4 or IPv6 by the first nibble, or an Ethernet pseudowire behind
 * its control word (first nibble 0, RFC 4448). */
static enum ixd_pkt_error
decode_mpls(struct cur c, struct ixd_pkt *out, int depth)
{
    int n;

    for (n = 0; n < MAX_TAGS; n++) {
        uint32_t e;

        if (c.len < 4) {
            return IXD_PKT_LINK;
        }
        e = get32(c.p);
        if (out->mpls == 0) {
            out->mpls = e;
        }
        skip(&c, 4);
        if (e & 0x100) { /* bottom of stack */
            if (c.len < 1) {
                return IXD_PKT_IP_HEADER;
            }
            if ((c.p[0] >> 4) == 0 && c.len >= 4 && depth < MAX_TUNNELS) {
                skip(&c, 4);
                return decode_ethernet(c, out, depth + 1);
            }
            if ((c.p[0] >> 4) != 4 && (c.p[0] >> 4) != 6) {
                return IXD_PKT_NOT_IP;
            }
            return decode_ip(c, out, depth);
        }
    }
    return IXD_PKT_LINK;
}

/* What follows an EtherType: VLAN and QinQ tags, MPLS, PPPoE, IP. */
static enum ixd_pkt_error
decode_ethertype(struct cur c, uint16_t type, struct ixd_pkt *out, int depth)
{
    int tags = 0;

    while (type == ETH_VLAN || type == ETH_QINQ || type == ETH_QINQ_OLD) {
        if (c.len < 4 || ++tags > MAX_TAGS) {
            return IXD_PKT_LINK;
        }
        if (!out->has_vlan) {
            out->vlan = get16(c.p) & 0x0fff;
            out->has_vlan = 1;
        }
        type = get16(c.p + 2);
        skip(&c, 4);
    }
    switch (type) {
    case ETH_IPV4:
    case ETH_IPV6:
        return decode_ip(c, out, depth);
    case ETH_MPLS:
    case ETH_MPLS_MC:
        return decode_mpls(c, out, depth);
    case ETH_PPPOE:
        /* a session header (6 bytes), then the PPP protocol: 0x21 IPv4, 0x57 IPv6 */
        if (c.len < 8) {
            return IXD_PKT_LINK;
        }
        if (get16(c.p + 6) != 0x0021 && get16(c.p + 6) != 0x0057) {
            return IXD_PKT_NOT_IP;
        }
        skip(&c, 8);
        return decode_ip(c, out, depth);
    default:
        return IXD_PKT_NOT_IP;
    }
}

static enum ixd_pkt_error
decode_ethernet(struct cur c, struct ixd_pkt *out, int depth)
{
    if (c.len < 14) {
        return IXD_PKT_LINK;
    }
    memcpy(out->dmac, c.p, 6);
    memcpy(out->smac, c.p + 6, 6);
    out->has_mac = 1;
    skip(&c, 12);
    {
        uint16_t type = get16(c.p);
        skip(&c, 2);
        return decode_ethertype(c, type, out, depth);
    }
}

/* The transport header of a first (or only) fragment: ports, TCP flags, ICMP type. Tunnels
 * carried in UDP (VXLAN, GTP-U) go one level in. */
static enum ixd_pkt_error decode_tunnel_udp(struct cur c, struct ixd_pkt *out, int depth);
static enum ixd_pkt_error decode_gre(struct cur c, struct ixd_pkt *out, int depth);

static enum ixd_pkt_error
decode_transport(struct cur c, struct ixd_pkt *out, int depth)
{
    switch (out->proto) {
    case PROTO_TCP:
        if (c.len < 14) {
            return IXD_PKT_TRANSPORT;
        }
        out->sport = get16(c.p);
        out->dport = get16(c.p + 2);
        out->tcp_flags = c.p[13];
        return IXD_PKT_OK;
    case PROTO_UDP:
        if (c.len < 8) {
            return IXD_PKT_TRANSPORT;
        }
        out->sport = get16(c.p);
        out->dport = get16(c.p + 2);
        if (out->fragment == 0 && depth < MAX_TUNNELS &&
            (out->dport == PORT_VXLAN || out->dport == PORT_GTPU || out->sport == PORT_GTPU)) {
            skip(&c, 8);
            return decode_tunnel_udp(c, out, depth);
        }
        return IXD_PKT_OK;
    case PROTO_SCTP:
        if (c.len < 4) {
            return IXD_PKT_TRANSPORT;
        }
        out->sport = get16(c.p);
        out->dport = get16(c.p + 2);
        return IXD_PKT_OK;
    case PROTO_ICMP:
    case PROTO_ICMPV6:
        if (c.len < 2) {
            return IXD_PKT_TRANSPORT;
        }
        out->dport = get16(c.p);
        return IXD_PKT_OK;
    case PROTO_GRE:
        if (out->fragment == 0 && depth < MAX_TUNNELS) {
            return decode_gre(c, out, depth);
        }
        return IXD_PKT_OK;
    default:
        return IXD_PKT_OK;
    }
}

static enum ixd_pkt_error
decode_ipv4(struct cur c, struct ixd_pkt *out, int depth)
{
    uint32_t hlen, total;
    uint16_t frag;

    if (c.len < 20) {
        return IXD_PKT_IP_HEADER;
    }
    hlen = (uint32_t)(c.p[0] & 0x0f) * 4;
    total = get16(c.p + 2);
    if (hlen < 20 || c.len < hlen || total < hlen) {
        return IXD_PKT_IP_HEADER;
    }
    out->ipver = 4;
    out->tos = c.p[1];
    out->ttl = c.p[8];
    out->proto = c.p[9];
    memset(out->src, 0, sizeof(out->src));
    memset(out->dst, 0, sizeof(out->dst));
    memcpy(out->src, c.p + 12, 4);
    memcpy(out->dst, c.p + 16, 4);
    out->ip_bytes = total;
    out->ip = c.p;
    out->ip_caplen = c.len < total ? c.len : total;
    frag = get16(c.p + 6);
    if ((frag & 0x1fff) != 0) {
        out->fragment = 2;
    } else if (frag & 0x2000) {
        out->fragment = 1;
    }
    out->frag_id = get16(c.p + 4);
    if (out->fragment == 2) {
        return IXD_PKT_OK; /* no transport header here */
    }
    c.len = out->ip_caplen;
    skip(&c, hlen);
    return decode_transport(c, out, depth);
}

/* The IPv6 extension headers between the fixed header and the transport: hop-by-hop, routing,
 * destination options, mobility, fragment, AH. Leaves c at the transport and out->proto set. */
static enum ixd_pkt_error
ipv6_extensions(struct cur *c, uint8_t next, struct ixd_pkt *out)
{
    int n;

    for (n = 0; n < MAX_EXT_HEADERS; n++) {
        uint32_t len;

        switch (next) {
        case 0:   /* hop-by-hop */
        case 43:  /* routing */
        case 60:  /* destination options */
        case 135: /* mobility */
        case 139: /* HIP */
        case 140: /* shim6 */
            if (c->len < 8) {
                return IXD_PKT_EXT_HEADER;
            }
            len = ((uint32_t)c->p[1] + 1) * 8;
            break;
        case 44: /* fragment */
            if (c->len < 8) {
                return IXD_PKT_EXT_HEADER;
            }
            len = 8;
            out->frag_id = get32(c->p + 4);
            if ((get16(c->p + 2) & 0xfff8) != 0) {
                out->fragment = 2;
            } else if (get16(c->p + 2) & 1) {
                out->fragment = 1;
            }
            break;
        case PROTO_AH:
            if (c->len < 8) {
                return IXD_PKT_EXT_HEADER;
            }
            len = ((uint32_t)c->p[1] + 2) * 4;
            break;
        default:
            out->proto = next;
            return IXD_PKT_OK;
        }
        if (c->len < len) {
            return IXD_PKT_EXT_HEADER;
        }
        next = c->p[0];
        skip(c, len);
        if (out->fragment == 2) {
            out->proto = next;
            return IXD_PKT_OK;
        }
    }
    return IXD_PKT_EXT_HEADER;
}

static enum ixd_pkt_error
decode_ipv6(struct cur c, struct ixd_pkt *out, int depth)
{
    uint32_t payload;
    enum ixd_pkt_error e;

    if (c.len < 40) {
        return IXD_PKT_IP_HEADER;
    }
    payload = get16(c.p + 4);
    out->ipver = 6;
    out->tos = (uint8_t)((get16(c.p) >> 4) & 0xff);
    out->ttl = c.p[7];
    memcpy(out->src, c.p + 8, 16);
    memcpy(out->dst, c.p + 24, 16);
    /* a jumbogram (payload length 0 with a hop-by-hop option) counts what was captured */
    out->ip_bytes = payload != 0 ? 40 + payload : c.len;
    out->ip = c.p;
    out->ip_caplen = c.len < out->ip_bytes ? c.len : out->ip_bytes;
    c.len = out->ip_caplen;
    {
        uint8_t next = c.p[6];
        skip(&c, 40);
        e = ipv6_extensions(&c, next, out);
    }
    if (e != IXD_PKT_OK || out->fragment == 2) {
        return e;
    }
    return decode_transport(c, out, depth);
}

static enum ixd_pkt_error
decode_ip(struct cur c, struct ixd_pkt *out, int depth)
{
    if (c.len < 1) {
        return IXD_PKT_IP_HEADER;
    }
    switch (c.p[0] >> 4) {
    case 4:
        return decode_ipv4(c, out, depth);
    case 6:
        return decode_ipv6(c, out, depth);
    default:
        return IXD_PKT_IP_HEADER;
    }
}

/*
 * One level into a tunnel: the outer packet's length and addresses are kept, then the inner
 * packet decoded over the same struct. When the inside cannot be decoded the outer packet is
 * metered as it is (a UDP or GRE flow), so that no IP packet goes uncounted.
 */
static enum ixd_pkt_error
enter_tunnel(struct cur inner, int tunnel, int ethernet, struct ixd_pkt *out, int depth)
{
    struct ixd_pkt saved = *out;
    enum ixd_pkt_error e;

    if (out->tunnel == IXD_TUNNEL_NONE) {
        out->outer_bytes = out->ip_bytes;
        out->outer_ipver = out->ipver;
        memcpy(out->outer_src, out->src, 16);
        memcpy(out->outer_dst, out->dst, 16);
    }
    out->tunnel = (uint8_t)tunnel;
    out->fragment = 0;
    out->sport = out->dport = 0;
    out->tcp_flags = 0;
    e = ethernet ? decode_ethernet(inner, out, depth + 1) : decode_ip(inner, out, depth + 1);
    if (e != IXD_PKT_OK) {
        *out = saved; /* the tunnel packet itself is the flow */
    }
    return IXD_PKT_OK;
}

static enum ixd_pkt_error
decode_gre(struct cur c, struct ixd_pkt *out, int depth)
{
    uint16_t flags, type;
    uint32_t hlen = 4;

    if (c.len < 4) {
        return IXD_PKT_OK; /* a GRE packet cut short is still a GRE flow */
    }
    flags = get16(c.p);
    type = get16(c.p + 2);
    if ((flags & 0x7) != 0) {
        return IXD_PKT_OK; /* version 1 (PPTP) and others: not a tunnel we open */
    }
    hlen += (flags & 0x8000) ? 4 : 0; /* checksum */
    hlen += (flags & 0x2000) ? 4 : 0; /* key */
    hlen += (flags & 0x1000) ? 4 : 0; /* sequence */
    if (c.len < hlen) {
        return IXD_PKT_OK;
    }
    skip(&c, hlen);
    switch (type) {
    case ETH_IPV4:
    case ETH_IPV6:
        return enter_tunnel(c, IXD_TUNNEL_GRE, 0, out, depth);
    case ETH_TEB:
        return enter_tunnel(c, IXD_TUNNEL_GRE, 1, out, depth);
    default:
        return IXD_PKT_OK;
    }
}

/* GTP-U (version 1, G-PDU): the header, its optional fields and extension headers, then IP. */
static enum ixd_pkt_error
decode_gtpu(struct cur c, struct ixd_pkt *out, int depth)
{
    uint8_t next;
    int n;

    if (c.len < 8 || (c.p[0] >> 5) != 1 || !(c.p[0] & 0x10) || c.p[1] != 0xff) {
        return IXD_PKT_OK;
    }
    if ((c.p[0] & 0x07) == 0) {
        skip(&c, 8);
        return enter_tunnel(c, IXD_TUNNEL_GTPU, 0, out, depth);
    }
    if (c.len < 12) {
        return IXD_PKT_OK;
    }
    next = (c.p[0] & 0x04) ? c.p[11] : 0;
    skip(&c, 12);
    for (n = 0; next != 0 && n < MAX_EXT_HEADERS; n++) {
        uint32_t len;

        if (c.len < 1 || c.p[0] == 0 || c.len < (len = (uint32_t)c.p[0] * 4)) {
            return IXD_PKT_OK;
        }
        next = c.p[len - 1];
        skip(&c, len);
    }
    if (next != 0) {
        return IXD_PKT_OK;
    }
    return enter_tunnel(c, IXD_TUNNEL_GTPU, 0, out, depth);
}

static enum ixd_pkt_error
decode_tunnel_udp(struct cur c, struct ixd_pkt *out, int depth)
{
    if (out->dport == PORT_VXLAN) {
        /* flags with the I bit, 3 reserved, the VNI and a reserved byte */
        if (c.len < 8 || !(c.p[0] & 0x08)) {
            return IXD_PKT_OK;
        }
        {
            uint32_t vni = get32(c.p + 4) >> 8;
            skip(&c, 8);
            enter_tunnel(c, IXD_TUNNEL_VXLAN, 1, out, depth);
            if (out->tunnel == IXD_TUNNEL_VXLAN) {
                out->vni = vni;
            }
        }
        return IXD_PKT_OK;
    }
    return decode_gtpu(c, out, depth);
}

/* BSD NULL/LOOP: the address family, in host order (NULL, written by the capturing host) or
 * network order (LOOP). IPv6 is 24, 28 or 30 depending on the BSD. */
static enum ixd_pkt_error
decode_null(struct cur c, struct ixd_pkt *out, int loop)
{
    uint32_t af;

    if (c.len < 4) {
        return IXD_PKT_LINK;
    }
    af = get32(c.p);
    if (!loop && (af & 0xffff) == 0) {
        af = (af >> 24) | ((af >> 8) & 0xff00); /* written little-endian */
    }
    skip(&c, 4);
    if (af == 2 || af == 24 || af == 28 || af == 30) {
        return decode_ip(c, out, 0);
    }
    return IXD_PKT_NOT_IP;
}

int
ixd_pkt_link_supported(int link)
{
    switch (link) {
    case IXD_LINK_NULL:
    case IXD_LINK_ETHERNET:
    case IXD_LINK_RAW:
    case IXD_LINK_RAW_ALT:
    case IXD_LINK_RAW101:
    case IXD_LINK_LOOP:
    case IXD_LINK_SLL:
    case IXD_LINK_IPV4:
    case IXD_LINK_IPV6:
    case IXD_LINK_SLL2:
        return 1;
    default:
        return 0;
    }
}

enum ixd_pkt_error
ixd_pkt_decode(int link, const uint8_t *p, uint32_t caplen, struct ixd_pkt *out)
{
    struct cur c = {p, caplen};

    memset(out, 0, offsetof(struct ixd_pkt, ip));
    out->ip = NULL;
    out->ip_caplen = 0;
    switch (link) {
    case IXD_LINK_ETHERNET:
        return decode_ethernet(c, out, 0);
    case IXD_LINK_SLL:
        /* packet type, ARPHRD type, address length, 8 address bytes, protocol */
        if (c.len < 16) {
            return IXD_PKT_LINK;
        }
        skip(&c, 16);
        return decode_ethertype(c, get16(c.p - 2), out, 0);
    case IXD_LINK_SLL2:
        /* protocol, reserved, interface index, ARPHRD type, packet type, address length, 8 */
        if (c.len < 20) {
            return IXD_PKT_LINK;
        }
        skip(&c, 20);
        return decode_ethertype(c, get16(c.p - 20), out, 0);
    case IXD_LINK_RAW:
    case IXD_LINK_RAW_ALT:
    case IXD_LINK_RAW101:
    case IXD_LINK_IPV4:
    case IXD_LINK_IPV6:
        return decode_ip(c, out, 0);
    case IXD_LINK_NULL:
        return decode_null(c, out, 0);
    case IXD_LINK_LOOP:
        return decode_null(c, out, 1);
    default:
        return IXD_PKT_LINK;
    }
}
