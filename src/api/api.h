/*
 * The embedded REST API (docs/api.md): HAL resources under /api/v1, /metrics, /health and
 * /ready, served by libmicrohttpd from its own thread. It reads only the snapshots workers
 * publish (snapshot/snapshot.h) and never touches a worker's tables. libmicrohttpd and jansson
 * stay behind this folder.
 */
#ifndef IXD_API_API_H
#define IXD_API_API_H

#include <stddef.h>

#include "core/config.h"
#include "snapshot/snapshot.h"

struct ixd_api;

/*
 * Starts the server of cfg (enabled) on its own thread, reading the snapshots of n_workers
 * workers (pubs must outlive the server). started_usec is when the daemon started (UNIX usec).
 * NULL with err when it cannot listen. Control thread.
 */
struct ixd_api *ixd_api_start(const struct ixd_config_api *cfg,
                              struct ixd_snapshot_publisher *const *pubs, unsigned n_workers,
                              int64_t started_usec, char *err, size_t errlen);
/*
 * Checks what the API of cfg reads when it starts: the JWKS of api.auth.jwt (parsed, each key
 * checked). 0, or -1 with "file:line:col: message" at its key (file: the config's name), so
 * that `ipfixd -t` and a reload refuse what the server could not start with. Any thread.
 */
int ixd_api_check(const struct ixd_config_api *cfg, const char *file, char *err, size_t errlen);
/* Stops answering, waits for the server thread and frees everything; NULL is a no-op. */
void ixd_api_stop(struct ixd_api *api);
/* The settings a running server was started with. */
const struct ixd_config_api *ixd_api_config(const struct ixd_api *api);

/*
 * `ipfixd healthcheck`: asks GET /ready of the API of cfg, or of url ("http://HOST:PORT/PATH")
 * when not NULL. 0 when the daemon answers 200, 1 otherwise (why in err).
 */
int ixd_api_healthcheck(const struct ixd_config_api *cfg, const char *url, char *err,
                        size_t errlen);

#endif
