#include "daemon/privileges.h"

#include <errno.h>
#include <glib.h>
#include <grp.h>
#include <stdio.h>
#include <string.h>
#include <sys/fsuid.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/log.h"

static int
wants_switch(const struct ixd_config *cfg)
{
    return cfg->user[0] != '\0' && geteuid() == 0;
}

/* The state directory, made for the user when missing: /var/lib is root's, so only root can. */
static int
make_state_directory(const struct ixd_config *cfg, char *err, size_t errlen)
{
    const char *dir = cfg->state_directory;
    struct stat st;

    char *parent;
    int rc;

    if (dir[0] == '\0' || stat(dir, &st) == 0) {
        return 0;
    }
    /* the parents as root's, open for the user to pass through; the directory the user's */
    parent = g_path_get_dirname(dir);
    rc = g_mkdir_with_parents(parent, 0755);
    g_free(parent);
    if (rc == -1 || mkdir(dir, 0750) == -1 || chown(dir, cfg->uid, cfg->gid) == -1) {
        snprintf(err, errlen, "cannot make state directory %s for user %s: %s", dir, cfg->user,
                 strerror(errno));
        return -1;
    }
    return 0;
}

int
ixd_privileges_open_files_as_user(const struct ixd_config *cfg, int create_state_dir, char *err,
                                  size_t errlen)
{
    if (!wants_switch(cfg)) {
        return 0;
    }
    if (create_state_dir && make_state_directory(cfg, err, errlen) == -1) {
        return -1;
    }
    if (initgroups(cfg->user, cfg->gid) == -1) {
        snprintf(err, errlen, "cannot take the groups of user %s: %s", cfg->user, strerror(errno));
        return -1;
    }
    /* setfsuid reports no error: the previous value is read back to see that it took */
    setfsgid(cfg->gid);
    setfsuid(cfg->uid);
    if ((uid_t)setfsuid((uid_t)-1) != cfg->uid || (gid_t)setfsgid((gid_t)-1) != cfg->gid) {
        snprintf(err, errlen, "cannot open files as user %s", cfg->user);
        return -1;
    }
    return 0;
}

int
ixd_privileges_drop(const struct ixd_config *cfg, char *err, size_t errlen)
{
    if (geteuid() != 0) {
        return 0;
    }
    if (cfg->user[0] == '\0') {
        log_warn("running as root: set user (e.g. user: ipfixd) so that the threads that read "
                 "the network hold no privilege");
        return 0;
    }
    /* glibc applies setgid and setuid to every thread of the process */
    if (setgid(cfg->gid) == -1 || setuid(cfg->uid) == -1) {
        snprintf(err, errlen, "cannot become user %s: %s", cfg->user, strerror(errno));
        return -1;
    }
    if (cfg->uid != 0 && (setuid(0) != -1 || geteuid() == 0)) {
        snprintf(err, errlen, "could regain root after becoming user %s", cfg->user);
        return -1;
    }
#ifdef __SANITIZE_ADDRESS__
    /* LeakSanitizer inspects the threads with ptrace at exit, which a process that changed its
     * ids may not do unless it is dumpable again (the sanitizer build only: dumpable lets the
     * user read descriptors opened as root) */
    prctl(PR_SET_DUMPABLE, 1, 0, 0, 0);
#endif
    log_info("running as user %s (uid %u, gid %u)", cfg->user, (unsigned)cfg->uid,
             (unsigned)cfg->gid);
    return 0;
}
