/*
 * The systemd notify protocol (sd_notify(3)) without libsystemd: one datagram per state change
 * to the unix socket named by $NOTIFY_SOCKET ("@name" = an abstract socket), and WATCHDOG=1 from
 * a libev timer at half of $WATCHDOG_USEC. With no $NOTIFY_SOCKET every call is a no-op, so the
 * daemon behaves the same outside systemd. Control thread only.
 */
#ifndef IXD_DAEMON_NOTIFY_H
#define IXD_DAEMON_NOTIFY_H

#include <ev.h>

struct ixd_notify;

/*
 * Reads $NOTIFY_SOCKET, $WATCHDOG_USEC and $WATCHDOG_PID. Returns NULL when there is nothing to
 * notify (or the socket cannot be made, which is logged); every function below accepts NULL.
 * The watchdog timer runs on loop from ixd_notify_ready() on.
 */
struct ixd_notify *ixd_notify_new(struct ev_loop *loop);
/* Stops the watchdog timer and closes the socket. */
void ixd_notify_free(struct ixd_notify *n);

/*
 * Called by the watchdog timer before each WATCHDOG=1: return 0 to skip the ping (systemd then
 * restarts the service when WatchdogSec= passes without one). Without it every tick pings.
 */
typedef int (*ixd_notify_alive_fn)(void *arg);
void ixd_notify_set_alive(struct ixd_notify *n, ixd_notify_alive_fn fn, void *arg);

/* READY=1 with STATUS=<printf format>; starts the watchdog timer the first time. */
void ixd_notify_ready(struct ixd_notify *n, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* RELOADING=1 and MONOTONIC_USEC=<now>: a SIGHUP reload starts (READY=1 ends it). */
void ixd_notify_reloading(struct ixd_notify *n);
/* STOPPING=1: shutting down; the watchdog stops. */
void ixd_notify_stopping(struct ixd_notify *n);
/* STATUS=<status> alone. */
void ixd_notify_status(struct ixd_notify *n, const char *status);

/* The watchdog interval in microseconds that systemd asked for, 0 when none (for tests, logs). */
unsigned long long ixd_notify_watchdog_usec(const struct ixd_notify *n);

#endif
