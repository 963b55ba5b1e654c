/* A small classic-pcap reader: just enough link, IP and UDP decoding to find datagram payloads.
 * Every length read from the file is checked against the bytes actually captured, so a hostile
 * or damaged file can only make packets be skipped. */
#include "send_pcap.h"

#include <stdio.h>

#define PCAP_GLOBAL_LEN 24u
#define PCAP_RECORD_LEN 16u
#define MAGIC_US 0xa1b2c3d4u
#define MAGIC_NS 0xa1b23c4du
#define MAGIC_PCAPNG 0x0a0d0d0au

/* Link types (LINKTYPE_* values as stored in the file). */
#define LT_NULL 0u
#define LT_ETHERNET 1u
#define LT_RAW_BSD 12u
#define LT_RAW_OPENBSD 14u
#define LT_RAW 101u
#define LT_SLL 113u
#define LT_IPV4 228u
#define LT_IPV6 229u
#define LT_SLL2 276u

#define ETH_IPV4 0x0800u
#define ETH_IPV6 0x86ddu
#define IPPROTO_UDP_ 17u
#define MAX_VLAN_TAGS 2
#define MAX_V6_EXT 8

enum verdict { PKT_OK, PKT_FRAG, PKT_TRUNC, PKT_OTHER };

static uint32_t
rd32(const uint8_t *p, int little)
{
    if (little)
        return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) |
               ((uint32_t)p[3] << 24);
    return ixd_get32(p);
}

static int
ethertype_version(uint16_t type)
{
    return type == ETH_IPV4 ? 4 : type == ETH_IPV6 ? 6 : 0;
}

/* Ethernet with up to two 802.1Q / 802.1ad tags; returns the IP version or 0. */
static int
decap_ethernet(const uint8_t *p, size_t caplen, size_t *off)
{
    if (caplen < 14)
        return 0;
    uint16_t type = ixd_get16(p + 12);
    *off = 14;
    for (int tags = 0; type == 0x8100 || type == 0x88a8 || type == 0x9100; tags++) {
        if (tags == MAX_VLAN_TAGS || caplen - *off < 4)
            return 0;
        type = ixd_get16(p + *off + 2);
        *off += 4;
    }
    return ethertype_version(type);
}

/* Strip the link header; returns the IP version (4/6) and its offset, or 0 to skip. */
static int
decap_link(uint32_t lt, const uint8_t *p, size_t caplen, size_t *off)
{
    *off = 0;
    switch (lt) {
    case LT_NULL: {
        if (caplen < 4)
            return 0;
        /* The address family is in the capturing host's byte order: accept either. */
        uint32_t fam = rd32(p, 1);
        if (fam > 0xffff)
            fam = ixd_get32(p);
        *off = 4;
        return fam == 2 ? 4 : (fam == 10 || fam == 24 || fam == 28 || fam == 30) ? 6 : 0;
    }
    case LT_ETHERNET:
        return decap_ethernet(p, caplen, off);
    case LT_RAW_BSD:
    case LT_RAW_OPENBSD:
    case LT_RAW:
        return caplen ? p[0] >> 4 : 0;
    case LT_IPV4:
        return 4;
    case LT_IPV6:
        return 6;
    case LT_SLL:
        *off = 16;
        return caplen < 16 ? 0 : ethertype_version(ixd_get16(p + 14));
    case LT_SLL2:
        *off = 20;
        return caplen < 20 ? 0 : ethertype_version(ixd_get16(p));
    default:
        return 0;
    }
}

static int
link_supported(uint32_t lt)
{
    return lt == LT_NULL || lt == LT_ETHERNET || lt == LT_RAW_BSD || lt == LT_RAW_OPENBSD ||
           lt == LT_RAW || lt == LT_SLL || lt == LT_IPV4 || lt == LT_IPV6 || lt == LT_SLL2;
}

/* IPv4 header at p (len captured bytes): find the UDP header and the bytes it may span. */
static enum verdict
ipv4_udp(const uint8_t *p, size_t len, size_t *off, size_t *avail)
{
    if (len < 20)
        return PKT_TRUNC;
    size_t ihl = (size_t)(p[0] & 15) * 4, tot = ixd_get16(p + 2);
    if ((p[0] >> 4) != 4 || ihl < 20 || tot < ihl)
        return PKT_OTHER;
    if (ihl > len || tot > len) /* Ethernet padding may make len > tot, never less */
        return PKT_TRUNC;
    if (ixd_get16(p + 6) & 0x3fff) /* more-fragments flag or a fragment offset */
        return PKT_FRAG;
    if (p[9] != IPPROTO_UDP_)
        return PKT_OTHER;
    *off = ihl;
    *avail = tot - ihl;
    return PKT_OK;
}

/* IPv6 header at p: walk the extension headers to UDP. */
static enum verdict
ipv6_udp(const uint8_t *p, size_t len, size_t *off, size_t *avail)
{
    if (len < 40)
        return PKT_TRUNC;
    size_t plen = ixd_get16(p + 4), end = 40 + plen, pos = 40;
    if ((p[0] >> 4) != 6 || plen == 0) /* plen 0: jumbogram, not for UDP flow exports */
        return PKT_OTHER;
    if (end > len)
        return PKT_TRUNC;
    uint8_t nh = p[6];
    for (int i = 0; i <= MAX_V6_EXT; i++) {
        if (nh == IPPROTO_UDP_) {
            *off = pos;
            *avail = end - pos;
            return PKT_OK;
        }
        if (nh == 44)
            return PKT_FRAG;
        if (nh != 0 && nh != 43 && nh != 60 && nh != 51)
            return PKT_OTHER;
        if (end - pos < 8)
            return PKT_TRUNC;
        size_t hlen = nh == 51 ? ((size_t)p[pos + 1] + 2) * 4 : ((size_t)p[pos + 1] + 1) * 8;
        nh = p[pos];
        if (hlen > end - pos)
            return PKT_TRUNC;
        pos += hlen;
    }
    return PKT_OTHER;
}

/* Classify one captured packet; on success it is appended to out. */
static int
take_packet(uint32_t lt, const uint8_t *pkt, size_t caplen, int port, struct msg_list *out,
            struct pcap_stats *st)
{
    size_t off, uoff = 0, uavail = 0;
    int ver = decap_link(lt, pkt, caplen, &off);
    enum verdict v = PKT_OTHER;

    if (ver == 4 && off <= caplen)
        v = ipv4_udp(pkt + off, caplen - off, &uoff, &uavail);
    else if (ver == 6 && off <= caplen)
        v = ipv6_udp(pkt + off, caplen - off, &uoff, &uavail);
    if (v == PKT_OK) {
        const uint8_t *u = pkt + off + uoff;
        size_t ulen = uavail < 8 ? 0 : ixd_get16(u + 4);
        if (uavail < 8 || ulen > uavail)
            v = PKT_TRUNC;
        else if (ulen <= 8)
            v = PKT_OTHER;
        else if (port >= 0 && ixd_get16(u + 2) != port) {
            st->filtered++;
            return 0;
        } else {
            st->payloads++;
            return msg_list_push(out, u + 8, ulen - 8);
        }
    }
    if (v == PKT_FRAG)
        st->fragments++;
    else if (v == PKT_TRUNC)
        st->truncated++;
    else
        st->other++;
    return 0;
}

/* Validate the global header: sets the byte order and link type. */
static int
read_global(const char *path, const uint8_t *buf, size_t len, int *little, uint32_t *lt)
{
    if (len >= 4 && ixd_get32(buf) == MAGIC_PCAPNG) {
        fprintf(stderr,
                SEND_PROG ": %s: pcapng is not supported; convert it: editcap -F pcap IN OUT\n",
                path);
        return -1;
    }
    if (len < PCAP_GLOBAL_LEN) {
        fprintf(stderr, SEND_PROG ": %s: too short for a pcap file\n", path);
        return -1;
    }
    uint32_t m = rd32(buf, 1);
    if (m == MAGIC_US || m == MAGIC_NS)
        *little = 1;
    else if (ixd_get32(buf) == MAGIC_US || ixd_get32(buf) == MAGIC_NS)
        *little = 0;
    else {
        fprintf(stderr, SEND_PROG ": %s: not a pcap file (magic 0x%08x)\n", path, ixd_get32(buf));
        return -1;
    }
    /* The link type shares its 32-bit field with FCS flags in newer writers: low 16 bits. */
    *lt = rd32(buf + 20, *little) & 0xffff;
    if (!link_supported(*lt)) {
        fprintf(stderr, SEND_PROG ": %s: unsupported link type %u\n", path, *lt);
        return -1;
    }
    return 0;
}

int
pcap_payloads(const char *path, const uint8_t *buf, size_t len, int port, struct msg_list *out,
              struct pcap_stats *st)
{
    int little;
    uint32_t lt;

    if (read_global(path, buf, len, &little, &lt) < 0)
        return -1;
    for (size_t pos = PCAP_GLOBAL_LEN; pos < len;) {
        if (len - pos < PCAP_RECORD_LEN) {
            fprintf(stderr, SEND_PROG ": warning: %s: truncated packet header at offset %zu\n",
                    path, pos);
            break;
        }
        size_t incl = rd32(buf + pos + 8, little);
        if (incl > len - pos - PCAP_RECORD_LEN) {
            fprintf(stderr, SEND_PROG ": warning: %s: packet at offset %zu runs past the end\n",
                    path, pos);
            break;
        }
        st->packets++;
        if (take_packet(lt, buf + pos + PCAP_RECORD_LEN, incl, port, out, st) < 0) {
            fprintf(stderr, SEND_PROG ": out of memory\n");
            return -1;
        }
        pos += PCAP_RECORD_LEN + incl;
    }
    return 0;
}
