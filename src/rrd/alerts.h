/*
 * An RRD output's alerts (docs/internals/rrd.md#alerts): raised when a condition holds at a
 * step (a rate below the Holt-Winters band, an exporter silent, sequence loss above a
 * threshold), resolved once it has been gone for clear-after. Each change is logged, sent to
 * the webhook in Alertmanager's webhook format, and shows in the list posted on the board for
 * the API (/api/v1/alerts, ipfixd_alert_active in /metrics).
 *
 * The writer thread calls everything but the counts, which any thread may read.
 */
#ifndef IXD_RRD_ALERTS_H
#define IXD_RRD_ALERTS_H

#include <stddef.h>
#include <stdint.h>

#include "rrd/catalog.h"
#include "rrd/store.h"
#include "rrd/webhook.h"

/* Resolved alerts the list keeps, latest first. */
#define IXD_ALERTS_HISTORY 64

struct ixd_rrd_alerts;

/* Alerts of output `output` with settings s (borrowed); starts the webhook's thread when one
 * is configured. NULL with err. */
struct ixd_rrd_alerts *ixd_rrd_alerts_new(const struct ixd_rrd_settings *s, const char *output,
                                          char *err, size_t errlen);
void ixd_rrd_alerts_free(struct ixd_rrd_alerts *a);

/*
 * The condition of kind for exporter (an IXD_RRD_EXPORTER key) held (on) or not at step time t
 * (increasing per exporter and kind). detail (on only; its kind, exporter, times and id are
 * filled here) carries the numbers and the summary line, kept from the step the alert was
 * raised at.
 */
void ixd_rrd_alerts_check(struct ixd_rrd_alerts *a, enum ixd_rrd_alert_kind kind,
                          const struct ixd_rrd_key *exporter, int64_t t, int on,
                          const struct ixd_rrd_alert *detail);
/* Posts the list when something changed since the last commit. */
void ixd_rrd_alerts_commit(struct ixd_rrd_alerts *a);

/* Any thread. */
void ixd_rrd_alerts_counts(const struct ixd_rrd_alerts *a, uint64_t *active, uint64_t *raised);
/* Any thread; zeros without a webhook. */
void ixd_rrd_alerts_webhook_stats(const struct ixd_rrd_alerts *a, struct ixd_webhook_stats *out);

/* The Alertmanager webhook body for one alert (firing or resolved), malloc'd; NULL when out of
 * memory. */
char *ixd_rrd_alert_webhook_body(const struct ixd_rrd_alert *al, const char *output);

#endif
