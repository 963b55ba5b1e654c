/* libpcap behind capture.h. */
#include "meter/capture.h"

#include <errno.h>
#include <linux/if_packet.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>

struct ixd_capture {
    pcap_t *p;
    int live;
    off_t size;                      /* files */
    uint32_t last_drop, last_ifdrop; /* pcap_stats' 32-bit counters, to add up wraps */
    uint64_t drops, ifdrops;
};

static int
set_filter(pcap_t *p, const char *filter, char *err, size_t errlen)
{
    struct bpf_program prog;

    if (filter == NULL || filter[0] == '\0') {
        return 0;
    }
    if (pcap_compile(p, &prog, filter, 1, PCAP_NETMASK_UNKNOWN) == -1) {
        snprintf(err, errlen, "filter '%s': %s", filter, pcap_geterr(p));
        return -1;
    }
    if (pcap_setfilter(p, &prog) == -1) {
        snprintf(err, errlen, "filter '%s': %s", filter, pcap_geterr(p));
        pcap_freecode(&prog);
        return -1;
    }
    pcap_freecode(&prog);
    return 0;
}

/* Joins the socket to fanout group g, flows spread by the kernel's symmetric hash of their
 * addresses and ports (both directions on one socket); libpcap has no call for it, so the
 * option is set on its socket. Not PACKET_FANOUT_FLAG_DEFRAG: it would hand on reassembled
 * packets, and the counts would no longer be the wire's; a later fragment that lands on
 * another socket than its first is counted (fragments_unmatched). */
static int
join_fanout(pcap_t *p, uint16_t g, char *err, size_t errlen)
{
    int v = g | PACKET_FANOUT_HASH << 16;

    if (setsockopt(pcap_fileno(p), SOL_PACKET, PACKET_FANOUT, &v, sizeof(v)) == -1) {
        snprintf(err, errlen, "cannot join fanout group %u: %s", g, strerror(errno));
        return -1;
    }
    return 0;
}

static int
activate(pcap_t *p, const struct ixd_capture_live *o, char *err, size_t errlen)
{
    int rc;

    if (pcap_set_snaplen(p, (int)o->snaplen) != 0 || pcap_set_promisc(p, o->promiscuous) != 0 ||
        pcap_set_timeout(p, (int)o->timeout_ms) != 0 ||
        pcap_set_buffer_size(p, (int)(o->buffer > INT32_MAX ? INT32_MAX : o->buffer)) != 0 ||
        pcap_set_immediate_mode(p, 0) != 0) {
        snprintf(err, errlen, "%s: cannot set capture options", o->interface);
        return -1;
    }
    rc = pcap_activate(p);
    if (rc < 0) {
        snprintf(err, errlen, "cannot capture on %s: %s", o->interface,
                 rc == PCAP_ERROR_PERM_DENIED ? "permission denied (CAP_NET_RAW is needed)"
                                              : pcap_geterr(p));
        return -1;
    }
    if (pcap_setnonblock(p, 1, err) == -1) {
        return -1;
    }
    return 0;
}

struct ixd_capture *
ixd_capture_open_live(const struct ixd_capture_live *o, char *err, size_t errlen)
{
    char ebuf[PCAP_ERRBUF_SIZE] = "";
    struct ixd_capture *c = calloc(1, sizeof(*c));

    if (c == NULL) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    c->live = 1;
    c->p = pcap_create(o->interface, ebuf);
    if (c->p == NULL) {
        snprintf(err, errlen, "cannot capture on %s: %s", o->interface, ebuf);
        goto fail;
    }
    if (activate(c->p, o, err, errlen) == -1 || set_filter(c->p, o->filter, err, errlen) == -1 ||
        (o->fanout_group != 0 && join_fanout(c->p, o->fanout_group, err, errlen) == -1)) {
        goto fail;
    }
    return c;
fail:
    ixd_capture_close(c);
    return NULL;
}

struct ixd_capture *
ixd_capture_open_file(const char *path, const char *filter, char *err, size_t errlen)
{
    char ebuf[PCAP_ERRBUF_SIZE] = "";
    struct ixd_capture *c = calloc(1, sizeof(*c));
    struct stat st;

    if (c == NULL) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    c->p = pcap_open_offline(path, ebuf);
    if (c->p == NULL) {
        snprintf(err, errlen, "cannot read %s: %s", path, ebuf);
        goto fail;
    }
    if (set_filter(c->p, filter, err, errlen) == -1) {
        goto fail;
    }
    if (fstat(fileno(pcap_file(c->p)), &st) == 0) {
        c->size = st.st_size;
    }
    return c;
fail:
    ixd_capture_close(c);
    return NULL;
}

void
ixd_capture_close(struct ixd_capture *c)
{
    if (c != NULL) {
        if (c->p != NULL) {
            pcap_close(c->p);
        }
        free(c);
    }
}

int
ixd_capture_link(const struct ixd_capture *c)
{
    return pcap_datalink(c->p);
}

int
ixd_capture_fd(const struct ixd_capture *c)
{
    return pcap_get_selectable_fd(c->p);
}

struct relay {
    ixd_capture_fn fn;
    void *arg;
};

static void
relay_cb(u_char *user, const struct pcap_pkthdr *h, const u_char *bytes)
{
    const struct relay *r = (const struct relay *)user;

    r->fn(r->arg, bytes, h->caplen, (int64_t)h->ts.tv_sec * 1000000 + h->ts.tv_usec);
}

int
ixd_capture_read(struct ixd_capture *c, int max, ixd_capture_fn fn, void *arg, char *err,
                 size_t errlen)
{
    struct relay r = {fn, arg};
    int n;

    if (c->live) {
        n = pcap_dispatch(c->p, max, relay_cb, (u_char *)&r);
        if (n == PCAP_ERROR) {
            snprintf(err, errlen, "%s", pcap_geterr(c->p));
            return IXD_CAPTURE_ERROR;
        }
        return n < 0 ? 0 : n;
    }
    for (n = 0; n < max; n++) {
        struct pcap_pkthdr *h;
        const u_char *bytes;
        int rc = pcap_next_ex(c->p, &h, &bytes);

        if (rc == PCAP_ERROR_BREAK) {
            return n > 0 ? n : IXD_CAPTURE_EOF;
        }
        if (rc != 1) {
            snprintf(err, errlen, "%s", rc == PCAP_ERROR ? pcap_geterr(c->p) : "read failed");
            return IXD_CAPTURE_ERROR;
        }
        fn(arg, bytes, h->caplen, (int64_t)h->ts.tv_sec * 1000000 + h->ts.tv_usec);
    }
    return n;
}

int
ixd_capture_drops(struct ixd_capture *c, uint64_t *kernel, uint64_t *interface)
{
    struct pcap_stat st;

    if (!c->live || pcap_stats(c->p, &st) != 0) {
        return -1;
    }
    c->drops += (uint32_t)(st.ps_drop - c->last_drop);
    c->ifdrops += (uint32_t)(st.ps_ifdrop - c->last_ifdrop);
    c->last_drop = st.ps_drop;
    c->last_ifdrop = st.ps_ifdrop;
    *kernel = c->drops;
    *interface = c->ifdrops;
    return 0;
}

double
ixd_capture_progress(const struct ixd_capture *c)
{
    long at;

    if (c->live || c->size <= 0) {
        return -1;
    }
    at = ftell(pcap_file(c->p));
    return at < 0 ? -1 : (double)at / (double)c->size;
}
