/*
 * What the Holt-Winters archives say of an exporter's rows (docs/internals/rrd.md#alerts).
 * librrd's FAILURES archive counts the steps out of the band in the last `window` steps, in
 * both directions; the store keeps its own count of each direction from the same numbers
 * (HWPREDICT, DEVPREDICT and the band's width), so that a drop raises low-traffic and the
 * rise back after it does not keep it up.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "core/clock.h"
#include "rrd/store_internal.h"

#define STEP IXD_RRD_STEP

void
ixd_rrd_store_hw_row(void *arg, int64_t t, const char *cf, unsigned column, double value)
{
    struct hw_rows *h = arg;
    int k;
    int64_t i;

    if (h->n == 0 || column >= 3 || t < h->t[0] || (t - h->t[0]) % STEP != 0) {
        return;
    }
    i = (t - h->t[0]) / STEP;
    if ((size_t)i >= h->n) {
        return;
    }
    if (strcmp(cf, "AVERAGE") == 0) {
        k = HW_AVERAGE;
    } else if (strcmp(cf, "HWPREDICT") == 0) {
        k = HW_PREDICT;
    } else if (strcmp(cf, "DEVPREDICT") == 0) {
        k = HW_DEVPREDICT;
    } else if (strcmp(cf, "FAILURES") == 0) {
        k = HW_FAILURES;
    } else {
        return;
    }
    h->v[((size_t)i * HW_CFS + (size_t)k) * 3 + column] = value;
    h->seen = 1;
}

/* Through rrdcached the update reports nothing: the same rows are fetched (which makes
 * rrdcached write the file first). */
static void
fetch_rows(struct ixd_rrd_store *st, struct series *s, size_t n, const int64_t *t, double *rows)
{
    static const char *const cfs[] = {"HWPREDICT", "DEVPREDICT", "FAILURES"};
    struct hw_rows h = {n, t, rows, 0};
    char err[512];

    for (int c = 0; c < 3; c++) {
        struct ixd_rrd_fetched f;
        if (ixd_rrd_fetch(st->conn, s->path, cfs[c], t[0] - STEP, t[n - 1], STEP, &f, err,
                          sizeof(err)) == -1) {
            ixd_log_limited(&st->log_update, ixd_mono_now(), IXD_LOG_WARNING,
                            "output %s: alerts cannot read %s: %s", st->output, s->id, err);
            return;
        }
        for (size_t r = 0; r < ixd_rrd_fetched_rows(&f); r++) {
            for (unsigned j = 0; j < f.columns && j < 3; j++) {
                ixd_rrd_store_hw_row(&h, f.start + (int64_t)((r + 1) * f.step), cfs[c], j,
                                     f.data[r * f.columns + j]);
            }
        }
        ixd_rrd_fetched_release(&f);
    }
}

static unsigned
bits(uint32_t v)
{
    return (unsigned)__builtin_popcount(v);
}

/* One row of exporter s at t: its counts v, the archives' values r[cf][column]. */
static void
evaluate(struct ixd_rrd_store *st, struct series *s, int64_t t, const uint64_t *v, const double *r)
{
    static const char *const names[] = {"flows", "packets", "octets"};
    const struct ixd_rrd_hw *hw = &st->s->hw;
    uint32_t mask = hw->window >= 32 ? UINT32_MAX : (1u << hw->window) - 1;
    struct ixd_rrd_alert low, high;
    int is_low = 0, is_high = 0;

    memset(&low, 0, sizeof(low));
    memset(&high, 0, sizeof(high));
    /* octets first: what a report names when several rates leave the band */
    for (int j = 2; j >= 0; j--) {
        double obs = (double)v[j] / STEP, pred = r[HW_PREDICT * 3 + j];
        double dev = r[HW_DEVPREDICT * 3 + j], fail = r[HW_FAILURES * 3 + j];
        double lo = pred - hw->deviations * dev, hi = pred + hw->deviations * dev;
        int known = !isnan(pred) && !isnan(dev), failing = !isnan(fail) && fail >= 1;
        struct ixd_rrd_alert *d = NULL;

        s->low[j] = ((s->low[j] << 1) | (uint32_t)(known && obs < lo)) & mask;
        s->high[j] = ((s->high[j] << 1) | (uint32_t)(known && obs > hi)) & mask;
        if (failing && bits(s->low[j]) >= hw->threshold && !is_low) {
            is_low = 1;
            d = &low;
        } else if (failing && bits(s->high[j]) >= hw->threshold && !is_high) {
            is_high = 1;
            d = &high;
        }
        if (d == NULL) {
            continue;
        }
        snprintf(d->column, sizeof(d->column), "%s", names[j]);
        d->observed = obs;
        d->expected = pred;
        d->lower = lo;
        d->upper = hi;
        snprintf(d->summary, sizeof(d->summary),
                 "%s %.4g/s %s the band %.4g..%.4g/s (expected %.4g/s) for %u of the last %u "
                 "steps of %d s",
                 names[j], obs, d == &low ? "below" : "above", lo, hi, pred,
                 bits(d == &low ? s->low[j] : s->high[j]), (unsigned)hw->window, STEP);
    }
    ixd_rrd_alerts_check(st->alerts, IXD_ALERT_LOW_TRAFFIC, &s->key, t, is_low, &low);
    if (st->s->alert_high) {
        ixd_rrd_alerts_check(st->alerts, IXD_ALERT_HIGH_TRAFFIC, &s->key, t, is_high, &high);
    }
}

void
ixd_rrd_store_hw_rows(struct ixd_rrd_store *st, struct series *s, size_t n, const int64_t *t,
                      const uint64_t *v, int direct_rows_seen, const double *rows)
{
    if (n == 0 || !st->s->hw.on) {
        return;
    }
    if (!direct_rows_seen && st->conn != NULL) {
        fetch_rows(st, s, n, t, (double *)rows);
    }
    for (size_t i = 0; i < n; i++) {
        evaluate(st, s, t[i], v + i * 3, rows + i * HW_CFS * 3);
    }
}

void
ixd_rrd_store_silent(struct ixd_rrd_store *st, struct series *s, int64_t due)
{
    struct ixd_rrd_alert d;
    int on;

    if (st->s->silent_after == 0 || s->last_traffic == 0) {
        return; /* never heard from in this process: a file kept for its history */
    }
    on = due - s->last_traffic >= (int64_t)st->s->silent_after;
    memset(&d, 0, sizeof(d));
    if (on) {
        snprintf(d.summary, sizeof(d.summary), "no records for %lld s (silent-after %u s)",
                 (long long)(due - s->last_traffic), (unsigned)st->s->silent_after);
    }
    ixd_rrd_alerts_check(st->alerts, IXD_ALERT_SILENT, &s->key, due, on, &d);
}
