/*
 * How ipfixd asks ipfixd-keepalived-apply for a change (docs/internals/keepalived-apply.md): a
 * Unix stream socket, one request and one answer per connection, each a frame of 4 bytes (the
 * length of what follows, big-endian) and that many bytes of JSON.
 *
 *   request  {"version": 1, "model": MODEL,
 *             "requester": {"subject": "ops", "credential": "token", "client": "127.0.0.1"}}
 *   answer   {"status": 200, "result": "applied" | "refused" | "failed", "detail": "...",
 *             "field": "instances[0].priority", "backup": PATH | null, "include": PATH}
 *
 * MODEL is what keepalived_model.h checks, never a rendered file; "requester" is what ipfixd
 * says about who asked, which the helper logs as a claim (it authenticates ipfixd itself, by
 * SO_PEERCRED, not the API client). "status" is the HTTP status the API answers with.
 * Any thread; each call works on its own descriptor.
 */
#ifndef IXD_HA_KEEPALIVED_WIRE_H
#define IXD_HA_KEEPALIVED_WIRE_H

#include <jansson.h>
#include <stddef.h>

#define IXD_KA_WIRE_VERSION 1
#define IXD_KA_WIRE_MAX (1u << 20) /* the largest frame either side reads */

/*
 * Sends json as one frame on fd by deadline (CLOCK_MONOTONIC seconds, core/clock.h), whether fd
 * blocks or not; never raises SIGPIPE. 0, or -1 with why.
 */
int ixd_ka_wire_send(int fd, const json_t *json, double deadline, char *why, size_t whylen);

/*
 * Reads one frame of at most max bytes from fd by deadline: its JSON (the caller's), or NULL
 * with why. A frame announcing more than max is refused before anything is allocated for it.
 */
json_t *ixd_ka_wire_recv(int fd, size_t max, double deadline, char *why, size_t whylen);

/*
 * ipfixd's side: connects to the helper's socket at path, sends request and waits for the
 * answer, timeout seconds at most in all. The answer (the caller's), or NULL with why.
 */
json_t *ixd_ka_wire_call(const char *path, const json_t *request, double timeout, char *why,
                         size_t whylen);

#endif
