/*
 * The meter's packet decoder: one captured frame in, the flow key and what a flow record keeps
 * out. Link layers (Ethernet, Linux SLL and SLL2, raw IP, BSD NULL/LOOP), VLAN and QinQ tags,
 * MPLS label stacks, IPv4 and IPv6 (extension headers, fragments), TCP, UDP, SCTP, ICMP and
 * ICMPv6, and the GRE, VXLAN and GTP-U tunnels, whose inner packet is the one metered. A pure
 * function over the bytes: every length is checked against what was captured, nothing is kept.
 * docs/meter.md.
 */
#ifndef IXD_METER_PACKET_H
#define IXD_METER_PACKET_H

#include <stddef.h>
#include <stdint.h>

/* Link types, as libpcap's pcap_datalink() names them (DLT_*) */
enum {
    IXD_LINK_NULL = 0,
    IXD_LINK_ETHERNET = 1,
    IXD_LINK_RAW = 12,
    IXD_LINK_RAW_ALT = 14, /* DLT_RAW on some BSDs */
    IXD_LINK_RAW101 = 101, /* LINKTYPE_RAW as stored in files */
    IXD_LINK_LOOP = 108,
    IXD_LINK_SLL = 113,
    IXD_LINK_IPV4 = 228,
    IXD_LINK_IPV6 = 229,
    IXD_LINK_SLL2 = 276,
};

/* Why a frame is not metered (counted per reason, docs/meter.md) */
enum ixd_pkt_error {
    IXD_PKT_OK = 0,
    IXD_PKT_NOT_IP,     /* ARP, LLDP, STP...: not a flow of IP */
    IXD_PKT_LINK,       /* a link header cut short, or an unknown link type */
    IXD_PKT_IP_HEADER,  /* an IP header cut short, or wrong (version, lengths) */
    IXD_PKT_EXT_HEADER, /* an IPv6 extension header chain cut short or too long */
    IXD_PKT_TRANSPORT,  /* a transport header cut short (first fragments only) */
    IXD_PKT_TUNNEL,     /* a tunnel header cut short, or too many levels */
    IXD_PKT_ERRORS,
};

/* The names of enum ixd_pkt_error, for counters */
extern const char *const ixd_pkt_error_names[IXD_PKT_ERRORS];

enum {
    IXD_TUNNEL_NONE = 0,
    IXD_TUNNEL_GRE = 1,
    IXD_TUNNEL_VXLAN = 2,
    IXD_TUNNEL_GTPU = 3,
};

/* What a decoded frame gives the flow table. Addresses of IPv4 packets are in the first 4
 * bytes of src and dst, the rest zero. */
struct ixd_pkt {
    uint8_t src[16], dst[16];
    uint16_t sport, dport; /* ICMP/ICMPv6: 0 and type * 256 + code */
    uint8_t proto;
    uint8_t ipver; /* 4 or 6 */
    uint8_t ttl, tos;
    uint8_t tcp_flags;
    uint8_t has_mac, has_vlan;
    uint8_t tunnel; /* IXD_TUNNEL_*: the addresses above are the inner packet's */
    uint8_t outer_ipver;
    uint16_t vlan; /* the outer tag's VLAN id */
    uint8_t smac[6], dmac[6];
    uint32_t vni;         /* VXLAN network identifier (0: none) */
    uint32_t mpls;        /* the top label stack entry (0: none) */
    uint32_t ip_bytes;    /* the metered packet's IP length (header's word, not the capture's) */
    uint32_t outer_bytes; /* tunnels: the outer IP packet's length */
    uint8_t outer_src[16], outer_dst[16];
    /* fragments: the identification and whether this is a first fragment (it carries the
     * ports) or a later one (ports unknown: the flow table finds them from the first) */
    uint32_t frag_id;
    uint8_t fragment; /* 0: not a fragment; 1: first fragment; 2: a later one */
    /* the metered IP packet as captured, for DPI */
    const uint8_t *ip;
    uint32_t ip_caplen;
};

/* Decodes the frame p (caplen bytes captured) of link type link into *out. Returns IXD_PKT_OK
 * or why the frame is not metered. Any thread. */
enum ixd_pkt_error ixd_pkt_decode(int link, const uint8_t *p, uint32_t caplen, struct ixd_pkt *out);

/* 1 when libpcap link type link is one ixd_pkt_decode() reads */
int ixd_pkt_link_supported(int link);

#endif
