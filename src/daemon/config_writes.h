/*
 * The config's writes on the control thread (docs/api.md#config): requests the API's write
 * threads submit (api/api.h) are queued to the control loop, checked exactly as `ipfixd -t`
 * checks a file, applied through the reload path, and answered. The API's changes are kept
 * here (config_changes.h) and merged over the operator's file on every build of the config:
 * at start, on SIGHUP and on every write.
 */
#ifndef IXD_DAEMON_CONFIG_WRITES_H
#define IXD_DAEMON_CONFIG_WRITES_H

#include <ev.h>
#include <stddef.h>

#include "api/api.h"
#include "core/config.h"

/* What the control thread does for the writes (control.c). */
struct ixd_config_writes_ops {
    /* the running config */
    const struct ixd_config *(*running)(void *arg);
    /* checks cfg as `ipfixd -t` does (files, the API's JWKS, every module's settings): 0, or
     * -1 with "file:line:col: message" in err */
    int (*check)(void *arg, const struct ixd_config *cfg, char *err, size_t errlen);
    /* builds cfg's runtime (cfg taken over) and hands it to the workers, as a reload does: 0,
     * or -1 with err, the running config unchanged */
    int (*apply)(void *arg, struct ixd_config *cfg, char *err, size_t errlen);
};

struct ixd_config_writes;

struct ixd_config_writes *ixd_config_writes_new(struct ev_loop *loop,
                                                const struct ixd_config_writes_ops *ops, void *arg);
/* Refuses what is queued and every later request (503), then frees. Control thread. */
void ixd_config_writes_free(struct ixd_config_writes *w);

/* The hooks the API submits through (api/api.h). */
struct ixd_api_config_hooks ixd_config_writes_hooks(struct ixd_config_writes *w);

/*
 * While the API server stops (its threads are waited for): what is queued is answered 503 and
 * new requests too, so that no write thread waits on a control thread that waits on it.
 */
void ixd_config_writes_pause(struct ixd_config_writes *w);
void ixd_config_writes_resume(struct ixd_config_writes *w);

/*
 * The config to run for a file's config: with api.writes: persist, the changes in the state
 * directory read again and merged over it (a new config; file itself when there are none);
 * otherwise file, without changes (a SIGHUP of the file ends those of api.writes: runtime).
 * file stays the caller's either way. flags as for the file (IXD_CONFIG_RELOAD on a reload).
 * What it is made of becomes the base of later writes once the config runs:
 * ixd_config_writes_commit. NULL with err when the changes do not read or the merged config
 * does not parse.
 */
struct ixd_config *ixd_config_writes_rebase(struct ixd_config_writes *w, struct ixd_config *file,
                                            unsigned flags, char *err, size_t errlen);

/* The config of the last rebase runs: later writes build on it. */
void ixd_config_writes_commit(struct ixd_config_writes *w);

/*
 * At start, when the kept changes did not merge (ixd_config_writes_rebase failed) and ipfixd
 * runs on file alone: the changes file is renamed aside (".rejected") so that the next write
 * does not overwrite it, and file becomes the base of later writes. why is logged.
 */
void ixd_config_writes_set_aside(struct ixd_config_writes *w, const struct ixd_config *file,
                                 const char *why);

#endif
