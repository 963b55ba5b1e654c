/*
 * Who ipfixd runs as (docs/configuration.md, user and group). Started as root with `user:` set,
 * ipfixd binds its sockets as root but opens every file as that user from the first one on (the
 * file-system IDs), then drops to the user for good before any thread reads the network: what
 * parses IPFIX, HTTP or the HA channel never holds root, and a reload opens files as the same
 * user that start did. Control thread only, before the threads that must inherit it start.
 */
#ifndef IXD_DAEMON_PRIVILEGES_H
#define IXD_DAEMON_PRIVILEGES_H

#include <stddef.h>

#include "core/config.h"

/*
 * Before ipfixd opens any file. As root with cfg->user set: creates a missing state directory
 * owned by the user (when create_state_dir), takes the user's groups and opens files as the user
 * from here on. Otherwise nothing. 0, or -1 with a message in err.
 */
int ixd_privileges_open_files_as_user(const struct ixd_config *cfg, int create_state_dir,
                                      char *err, size_t errlen);

/*
 * Once the sockets are bound and before the threads that read the network start: as root with
 * cfg->user set, becomes that user and group for good (and checks that root cannot be regained);
 * as root without one, logs a warning. 0, or -1 with a message in err.
 */
int ixd_privileges_drop(const struct ixd_config *cfg, char *err, size_t errlen);

#endif
