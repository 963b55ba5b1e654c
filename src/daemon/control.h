/* The control thread: start-up, signals (reload, stop, statistics), shutdown and summaries. */
#ifndef IXD_DAEMON_CONTROL_H
#define IXD_DAEMON_CONTROL_H

#include "core/config.h"

/*
 * Runs the daemon on cfg (taken over) until SIGTERM or SIGINT. config_path is re-read on
 * SIGHUP (NULL: the built-in config). Returns the process exit status.
 */
int ixd_control_run(struct ixd_config *cfg, const char *config_path);

#endif
