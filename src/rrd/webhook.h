/*
 * The alerts' webhook: JSON bodies POSTed to an http:// URL from a thread of its own, one
 * after the other, each retried with backoff (1 s, doubling, at most 5 min apart) until the
 * receiver answers 2xx or IXD_WEBHOOK_ATTEMPTS attempts have failed. Bodies wait in a bounded
 * queue; past it the oldest is let go. Every body that does not arrive is counted.
 *
 * Threads: the writer thread calls ixd_webhook_send(); the control thread new and free; the
 * stats any thread.
 */
#ifndef IXD_RRD_WEBHOOK_H
#define IXD_RRD_WEBHOOK_H

#include <stddef.h>
#include <stdint.h>

#define IXD_WEBHOOK_ATTEMPTS 10
#define IXD_WEBHOOK_QUEUE 256

struct ixd_webhook;

struct ixd_webhook_stats {
    uint64_t sent;    /* answered 2xx */
    uint64_t retries; /* attempts after a first one failed */
    uint64_t failed;  /* given up on: every attempt failed, or the daemon stopped first */
    uint64_t dropped; /* let go of unsent: the queue was full */
};

/* Checks url ("http://HOST[:PORT][/PATH]"): 0, or -1 with why in err. Any thread. */
int ixd_webhook_check(const char *url, char *err, size_t errlen);

/* A webhook to url (checked) whose every attempt may take timeout seconds; starts its thread.
 * NULL with err. */
struct ixd_webhook *ixd_webhook_new(const char *url, uint32_t timeout, const char *name, char *err,
                                    size_t errlen);
/* Stops the thread (an attempt under way ends within its timeout) and frees; what waits is
 * counted as failed. NULL: no-op. */
void ixd_webhook_free(struct ixd_webhook *w);
/* Queues body (copied) for POSTing as application/json. */
void ixd_webhook_send(struct ixd_webhook *w, const char *body);
void ixd_webhook_stats(const struct ixd_webhook *w, struct ixd_webhook_stats *out);

#endif
