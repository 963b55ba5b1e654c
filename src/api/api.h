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
#include "core/config_tree.h"
#include "snapshot/snapshot.h"

struct ixd_api;

/* ---- the config's writes (docs/api.md#config): asked by the API, made by the control thread */

enum ixd_config_op {
    IXD_CONFIG_PUT,          /* item becomes section/name (created or replaced) */
    IXD_CONFIG_DELETE,       /* section/name goes */
    IXD_CONFIG_CHECK_ITEM,   /* item as section/name, checked as `ipfixd -t` would, not applied */
    IXD_CONFIG_CHECK_CONFIG, /* item is a whole config: checked alone, not applied */
    IXD_CONFIG_RELOAD_STAGE, /* stage of pipeline name: the files it reads read again */
};

struct ixd_config_request {
    enum ixd_config_op op;
    char section[16];
    char name[IXD_NAME_MAX];
    size_t stage;          /* IXD_CONFIG_RELOAD_STAGE */
    struct ixd_cnode item; /* PUT and the checks: the control thread takes it over */
    /* PUT and DELETE: what the item must be for the write to go ahead: an ETag, "*" (it
     * exists, whatever it is), or "" (it must not exist: a creation) */
    char expect[IXD_ETAG_LEN];
    /* the answer */
    int status; /* 200, 201, 204, 404, 409, 412, 422, 500 or 503 */
    char detail[1024];
    char pointer[256]; /* JSON pointer of what the detail is about in the running config
                          (the request's own document for IXD_CONFIG_CHECK_CONFIG); "" */
    char etag_before[IXD_ETAG_LEN]; /* the item's before the write ("" when it had none) */
    char etag_after[IXD_ETAG_LEN];  /* and after it */
    char item_pointer[64];          /* where the item is in the config built ("/outputs/3") */
    int done;
};

/* How the server hands a request to the control thread; submit returns once it is answered. */
struct ixd_api_config_hooks {
    void (*submit)(void *arg, struct ixd_config_request *req);
    void *arg;
};

/*
 * Starts the server of cfg (enabled) on its own thread, reading the snapshots of n_workers
 * workers (pubs must outlive the server). started_usec is when the daemon started (UNIX usec).
 * hooks (copied; NULL: no config writes) take the config's writes. NULL with err when it
 * cannot listen. Control thread.
 */
struct ixd_api *ixd_api_start(const struct ixd_config_api *cfg,
                              struct ixd_snapshot_publisher *const *pubs, unsigned n_workers,
                              int64_t started_usec, const struct ixd_api_config_hooks *hooks,
                              char *err, size_t errlen);
/* The running config as written, for /api/v1/config (copied). Control thread, after every
 * start, reload and write. */
void ixd_api_set_config(struct ixd_api *api, const struct ixd_cnode *tree);
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
