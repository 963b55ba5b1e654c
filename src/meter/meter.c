/*
 * The meter (meter.h): a frame is decoded, accounted to its biflow, inspected while its flow is
 * not yet classified, and a flow that ends becomes a record. A flow's aux holds what only some
 * flows need: the DPI state while it inspects (freed at once when done) and tunnel details.
 */
#include "meter/meter.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/relaxed_counter.h"
#include "dpi/dpi.h"
#include "meter/export.h"

/* What some flows need beyond their 128 bytes */
struct aux {
    void *dpi; /* nDPI's state while inspecting */
    uint64_t outer_octets[2];
    uint32_t vni;
    uint8_t tunnel, outer_ipver;
    uint8_t outer_src[16], outer_dst[16];
};

/* One bit per nDPI protocol id: which ones the options records have mapped to names */
#define APP_IDS 65536

/* Packets decoded and waiting for the flow table, which takes them a batch at a time
 * (ixd_flows_batch): without DPI, whose inspection needs the packet's bytes while they are
 * valid (during the capture's callback), so DPI meters one packet at a time. */
#define PENDING 32

struct pending {
    struct ixd_pkt pkt;
    int64_t usec;
};

struct ixd_meter {
    struct ixd_meter_settings s;
    size_t n_pending;
    struct pending pending[PENDING];
    struct ixd_flow_job jobs[PENDING];
    struct ixd_meter_stats *st;
    struct ixd_flow_table *flows;
    struct ixd_dpi *dpi;
    int own_dpi;
    int64_t now_usec; /* the meter's clock: the latest packet's time */
    size_t dpi_bytes; /* DPI state held now */
    size_t aux_live;  /* flows with an aux */
    uint8_t *apps_announced;
    int64_t apps_since_usec; /* when apps_announced was last cleared */
    struct ixd_mexport x; /* last: large */
};

static struct aux *
aux_of(struct ixd_meter *m, struct ixd_flow *f)
{
    if (f->aux == NULL) {
        f->aux = calloc(1, sizeof(struct aux));
        m->aux_live += f->aux != NULL;
    }
    return f->aux;
}

static void
aux_free(struct ixd_meter *m, struct ixd_flow *f)
{
    if (f->aux != NULL) {
        free(f->aux);
        f->aux = NULL;
        m->aux_live--;
    }
}

/* Done inspecting f (app and master set): the DPI state goes, and aux with it when the flow
 * has nothing else there. */
static void
dpi_done(struct ixd_meter *m, struct ixd_flow *f, int classified)
{
    struct aux *a = f->aux;

    f->state |= IXD_FLOW_DPI_DONE;
    if (classified) {
        IXD_CNT_ADD(m->st->m.dpi_classified, 1);
    } else {
        IXD_CNT_ADD(m->st->m.dpi_unknown, 1);
    }
    if (a != NULL && a->dpi != NULL) {
        ixd_dpi_flow_free(a->dpi);
        a->dpi = NULL;
        m->dpi_bytes -= ixd_dpi_flow_size();
        IXD_CNT_ADD(m->st->m.dpi_active, -1);
        if (!a->tunnel) {
            aux_free(m, f);
        }
    }
}

static void
give_up(struct ixd_meter *m, struct ixd_flow *f)
{
    struct aux *a = f->aux;

    if (a != NULL && a->dpi != NULL) {
        ixd_dpi_giveup(m->dpi, a->dpi, &f->app, &f->app_master);
    }
    dpi_done(m, f, f->app != 0 || f->app_master != 0);
}

static void
inspect(struct ixd_meter *m, struct ixd_flow *f, const struct ixd_pkt *p)
{
    struct aux *a = aux_of(m, f);

    if (a == NULL) {
        IXD_CNT_ADD(m->st->m.dpi_no_memory, 1);
        f->state |= IXD_FLOW_DPI_DONE;
        return;
    }
    if (a->dpi == NULL) {
        a->dpi = ixd_dpi_flow_new(m->dpi);
        if (a->dpi == NULL) {
            IXD_CNT_ADD(m->st->m.dpi_no_memory, 1);
            f->state |= IXD_FLOW_DPI_DONE;
            return;
        }
        m->dpi_bytes += ixd_dpi_flow_size();
        IXD_CNT_ADD(m->st->m.dpi_active, 1);
    }
    f->dpi_packets++;
    IXD_CNT_ADD(m->st->m.dpi_packets, 1);
    if (ixd_dpi_packet(m->dpi, a->dpi, p->ip, p->ip_caplen, (uint64_t)(m->now_usec / 1000), &f->app,
                       &f->app_master) == 1) {
        dpi_done(m, f, 1);
    } else if (f->dpi_packets >= m->s.dpi_packets) {
        give_up(m, f);
    }
}

/*
 * The name options record for an application id, the first time it is seen in each refresh
 * period: a collector that starts (or loses a datagram) after the first one learns the names
 * again, as it learns the templates again (template-refresh of an IPFIX output over UDP).
 */
static void
announce_app(struct ixd_meter *m, uint16_t id)
{
    char name[IXD_MEXPORT_NAME_MAX + 1];
    const char *n;

    if (m->now_usec - m->apps_since_usec >= IXD_METER_APP_REFRESH_USEC) {
        memset(m->apps_announced, 0, APP_IDS / 8);
        m->apps_since_usec = m->now_usec;
    }
    if (m->apps_announced[id / 8] & (1u << (id % 8))) {
        return;
    }
    m->apps_announced[id / 8] |= (uint8_t)(1u << (id % 8));
    n = ixd_dpi_name(m->dpi, id, 0, name, sizeof(name));
    ixd_mexport_app(&m->x, id, n != NULL ? n : "Unknown", m->now_usec);
}

/* The flow table's word that f ended: its record, then its aux goes. */
static void
flow_ended(void *arg, struct ixd_flow *f, enum ixd_flow_end reason)
{
    struct ixd_meter *m = arg;
    struct aux *a = f->aux;
    struct ixd_mflow v = {.f = f, .reason = reason};
    char name[IXD_MEXPORT_NAME_MAX + 1];

    if (m->dpi != NULL && !(f->state & IXD_FLOW_DPI_DONE)) {
        give_up(m, f);
        a = f->aux;
    }
    if (a != NULL) {
        v.vni = a->vni;
        v.outer_octets[0] = a->outer_octets[0];
        v.outer_octets[1] = a->outer_octets[1];
        if (m->s.tunnel_addresses) {
            v.outer_ipver = a->outer_ipver;
            v.outer_src = a->outer_src;
            v.outer_dst = a->outer_dst;
        }
    }
    if (m->dpi != NULL) {
        const char *n = ixd_dpi_name(m->dpi, f->app, f->app_master, name, sizeof(name));
        v.has_app = 1;
        v.app_id = f->app != 0 ? f->app : f->app_master;
        v.app_name = n != NULL ? n : "Unknown";
        announce_app(m, v.app_id);
    }
    ixd_mexport_flow(&m->x, &v, m->now_usec);
    aux_free(m, f);
}

struct ixd_meter *
ixd_meter_new(const struct ixd_meter_settings *s, struct ixd_meter_stats *stats,
              const char *collector, const char *exporter, const struct ixd_ie_registry *reg,
              ixd_meter_deliver_fn deliver, ixd_meter_template_fn on_template, void *arg, char *err,
              size_t errlen)
{
    struct ixd_meter *m = calloc(1, sizeof(*m));
    struct ixd_flow_limits l;

    if (m == NULL) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    m->s = *s;
    m->st = stats;
    if (s->dpi) {
        m->own_dpi = s->detector == NULL;
        m->dpi = s->detector != NULL ? s->detector : ixd_dpi_new(err, errlen);
        m->apps_announced = calloc(APP_IDS / 8, 1);
        if (m->dpi == NULL || m->apps_announced == NULL) {
            snprintf(err, errlen, "cannot start DPI");
            goto fail;
        }
    }
    l = (struct ixd_flow_limits){s->max_flows, s->idle_ms, s->active_ms, s->linger_ms};
    m->flows = ixd_flows_new(&l, &stats->f, flow_ended, m);
    if (m->flows == NULL) {
        snprintf(err, errlen, "out of memory");
        goto fail;
    }
    ixd_mexport_init(&m->x, reg, collector, exporter, s->odid, deliver, on_template, arg,
                     &stats->m.records, &stats->m.options_records);
    return m;
fail:
    if (m->own_dpi) {
        ixd_dpi_free(m->dpi);
    }
    free(m->apps_announced);
    free(m);
    return NULL;
}

void
ixd_meter_free(struct ixd_meter *m)
{
    if (m == NULL) {
        return;
    }
    ixd_meter_flush(m);
    ixd_flows_free(m->flows);
    ixd_mexport_release(&m->x);
    if (m->own_dpi) {
        ixd_dpi_free(m->dpi);
    }
    free(m->apps_announced);
    free(m);
}

/* Keeps a tunnel's details with its flow (the first packet's outer addresses and VNI). */
static void
tunnel(struct ixd_meter *m, struct ixd_flow *f, const struct ixd_pkt *p, int dir)
{
    struct aux *a = aux_of(m, f);

    if (a == NULL) {
        return;
    }
    if (!a->tunnel) {
        a->tunnel = 1;
        a->vni = p->vni;
        a->outer_ipver = p->outer_ipver;
        memcpy(a->outer_src, p->outer_src, 16);
        memcpy(a->outer_dst, p->outer_dst, 16);
    }
    a->outer_octets[dir] += p->outer_bytes;
}

/* A packet the flow table accounted to f (NULL: no memory for it, counted there). The meter's
 * clock moves after it: the flows its arrival ended carry the clock of the packets before. */
static void
accounted(struct ixd_meter *m, const struct ixd_pkt *pkt, int64_t usec, struct ixd_flow *f, int dir)
{
    if (usec > m->now_usec) {
        m->now_usec = usec;
    }
    if (f == NULL) {
        return;
    }
    IXD_CNT_ADD(m->st->m.packets, 1);
    IXD_CNT_ADD(m->st->m.bytes, pkt->ip_bytes);
    if (pkt->tunnel) {
        tunnel(m, f, pkt, dir);
    }
}

static void
job_done(void *arg, size_t k, struct ixd_flow *f, int dir)
{
    struct ixd_meter *m = arg;

    accounted(m, &m->pending[k].pkt, m->pending[k].usec, f, dir);
}

static void
run_pending(struct ixd_meter *m)
{
    size_t k;

    for (k = 0; k < m->n_pending; k++) {
        m->jobs[k].p = &m->pending[k].pkt;
        m->jobs[k].ms = (uint64_t)(m->pending[k].usec / 1000);
    }
    if (m->n_pending > 0) {
        ixd_flows_batch(m->flows, m->jobs, m->n_pending, job_done, m);
    }
    m->n_pending = 0;
}

void
ixd_meter_packet(struct ixd_meter *m, int link, const uint8_t *p, uint32_t caplen, int64_t usec)
{
    struct pending *pd = &m->pending[m->n_pending];
    enum ixd_pkt_error e;
    struct ixd_flow *f;
    int dir;

    IXD_CNT_ADD(m->st->m.frames, 1);
    e = ixd_pkt_decode(link, p, caplen, &pd->pkt);
    if (e != IXD_PKT_OK) {
        IXD_CNT_ADD(m->st->m.errors[e], 1);
        return;
    }
    pd->usec = usec;
    if (m->dpi == NULL) {
        if (++m->n_pending == PENDING) {
            run_pending(m);
        }
        return;
    }
    f = ixd_flows_packet(m->flows, &pd->pkt, (uint64_t)(usec / 1000), &dir);
    accounted(m, &pd->pkt, usec, f, dir);
    if (f != NULL && !(f->state & IXD_FLOW_DPI_DONE) && pd->pkt.fragment != 2 &&
        pd->pkt.ip != NULL) {
        inspect(m, f, &pd->pkt);
    }
}

void
ixd_meter_tick(struct ixd_meter *m, int64_t now_usec)
{
    run_pending(m);
    if (now_usec > m->now_usec) {
        m->now_usec = now_usec;
    }
    ixd_flows_expire(m->flows, (uint64_t)(m->now_usec / 1000));
    ixd_mexport_deliver(&m->x);
}

void
ixd_meter_deliver(struct ixd_meter *m)
{
    run_pending(m);
    ixd_mexport_deliver(&m->x);
}

void
ixd_meter_flush(struct ixd_meter *m)
{
    run_pending(m);
    ixd_flows_flush(m->flows);
    ixd_mexport_deliver(&m->x);
}

size_t
ixd_meter_memory(const struct ixd_meter *m, size_t *dpi_bytes)
{
    *dpi_bytes = m->dpi_bytes + m->aux_live * sizeof(struct aux);
    return ixd_flows_memory(m->flows);
}
