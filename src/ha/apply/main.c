/*
 * ipfixd-keepalived-apply (man ipfixd-keepalived-apply(8), docs/ha.md#the-helper): how it is
 * started and how it takes connections.
 *
 *   -p POLICY -t             check the policy file and exit
 *   -p POLICY -l SOCKET      listen on SOCKET (created 0666: the policy's callers decide, by
 *                            SO_PEERCRED), one connection at a time, until SIGTERM
 *   -p POLICY                socket activation: fd 3 ($LISTEN_FDS) is either a listening socket
 *                            (Accept=no) or one connection (Accept=yes, a templated unit)
 *
 * A caller the policy does not name is closed before a byte is read. A caller that is named
 * has REQUEST_TIMEOUT seconds to send at most IXD_KA_WIRE_MAX bytes.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/log.h"
#include "core/parse.h"
#include "ha/apply/apply.h"
#include "ha/keepalived_wire.h"

#define REQUEST_TIMEOUT 5.0 /* seconds for a caller's request to arrive, and for the answer */
#define BACKLOG 8

static volatile sig_atomic_t stopping;

static void
on_stop(int sig)
{
    (void)sig;
    stopping = 1;
}

static void
usage(FILE *f)
{
    fprintf(f, "usage: ipfixd-keepalived-apply -p POLICY [-t | -l SOCKET]\n"
               "  -p, --policy FILE   the policy (docs/ha.md#the-policy)\n"
               "  -t, --test          check the policy and exit\n"
               "  -l, --listen PATH   listen on this Unix socket (otherwise: systemd's fd 3)\n");
}

/* The answer to a request that never reached ka_apply. */
static json_t *
early_answer(int status, const char *detail)
{
    return json_pack("{s:i, s:s, s:s}", "status", status, "result", "failed", "detail", detail);
}

static json_t *
answer_json(const struct ka_settings *s, const struct ka_answer *a)
{
    return json_pack("{s:i, s:s, s:s, s:s, s:s*, s:s}", "status", a->status, "result", a->result,
                     "detail", a->detail, "field", a->field, "backup",
                     a->backup[0] != '\0' ? a->backup : NULL, "include", s->include);
}

/*
 * Before the close: what the caller sent and the helper did not read (the rest of a frame it
 * refused) is read and dropped, at most IXD_KA_WIRE_MAX bytes and without waiting. A Unix
 * socket closed with unread data resets its peer, who would lose the answer.
 */
static void
drop_unread(int fd)
{
    char buf[4096];
    size_t total = 0;
    ssize_t n;

    shutdown(fd, SHUT_WR);
    while (total < IXD_KA_WIRE_MAX && (n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT)) > 0) {
        total += (size_t)n;
    }
}

/*
 * One connection: who it is, its request, the change, the answer. The policy is read again for
 * every request, so that an edit takes effect without a restart.
 */
static void
serve(int fd, const char *policy_path)
{
    static struct ixd_ratelimit refused_log;
    static struct ka_settings s; /* large: not on the stack */
    struct ka_caller caller = {0, 0, 0};
    struct ucred cred;
    socklen_t len = sizeof(cred);
    struct ka_answer a;
    char why[1024];
    json_t *request = NULL, *reply = NULL;

    if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) == -1) {
        log_warn(KA_LOG "cannot tell who connected: %s", strerror(errno));
        return;
    }
    caller.pid = cred.pid;
    caller.uid = cred.uid;
    caller.gid = cred.gid;
    if (ka_settings_load(policy_path, &s, why, sizeof(why)) == -1) {
        log_err(KA_LOG "%s", why);
        reply = early_answer(500, "the helper's policy does not load: see its log");
    } else if (!ka_caller_allowed(&s, &caller)) {
        /* a local user may connect as often as it likes: a few lines say so */
        ixd_log_limited(&refused_log, ixd_mono_now(), IXD_LOG_WARNING,
                        KA_LOG "refused uid %d gid %d pid %d: not in the policy's callers",
                        (int)caller.uid, (int)caller.gid, (int)caller.pid);
        return;
    } else if ((request = ixd_ka_wire_recv(fd, IXD_KA_WIRE_MAX, ixd_mono_now() + REQUEST_TIMEOUT,
                                           why, sizeof(why))) == NULL) {
        log_warn(KA_LOG "no request from uid %d pid %d: %s", (int)caller.uid, (int)caller.pid, why);
        reply = early_answer(400, "the request did not arrive whole");
    } else {
        ka_apply(&s, &caller, request, &a);
        reply = answer_json(&s, &a);
    }
    if (reply != NULL &&
        ixd_ka_wire_send(fd, reply, ixd_mono_now() + REQUEST_TIMEOUT, why, sizeof(why)) == -1) {
        log_warn(KA_LOG "cannot answer uid %d pid %d: %s", (int)caller.uid, (int)caller.pid, why);
    }
    drop_unread(fd);
    json_decref(reply);
    json_decref(request);
}

static void
accept_loop(int lfd, const char *policy_path)
{
    while (!stopping) {
        int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
        if (fd == -1) {
            if (errno != EINTR && errno != ECONNABORTED) {
                log_err(KA_LOG "accept: %s", strerror(errno));
                return;
            }
            continue;
        }
        serve(fd, policy_path);
        close(fd);
    }
}

/* A new listening socket at path; a stale socket there (not any other file) is replaced. */
static int
listen_at(const char *path)
{
    struct sockaddr_un sun;
    struct stat st;
    int fd;

    memset(&sun, 0, sizeof(sun));
    sun.sun_family = AF_UNIX;
    if (strlen(path) >= sizeof(sun.sun_path)) {
        log_err(KA_LOG "the socket path %s is too long", path);
        return -1;
    }
    memcpy(sun.sun_path, path, strlen(path));
    if (lstat(path, &st) == 0 && S_ISSOCK(st.st_mode)) {
        unlink(path);
    }
    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd == -1 || bind(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1 ||
        chmod(path, 0666) == -1 || listen(fd, BACKLOG) == -1) {
        log_err(KA_LOG "cannot listen on %s: %s", path, strerror(errno));
        if (fd != -1) {
            close(fd);
        }
        return -1;
    }
    return fd;
}

/* fd 3 from systemd ($LISTEN_PID is this process, $LISTEN_FDS at least 1), or -1. */
static int
systemd_fd(void)
{
    const char *pid = getenv("LISTEN_PID"), *fds = getenv("LISTEN_FDS");
    uint64_t p, n;

    if (pid == NULL || fds == NULL || ixd_parse_u64(pid, &p) == -1 ||
        ixd_parse_u64(fds, &n) == -1 || p != (uint64_t)getpid() || n < 1) {
        return -1;
    }
    unsetenv("LISTEN_PID");
    unsetenv("LISTEN_FDS");
    unsetenv("LISTEN_FDNAMES");
    fcntl(3, F_SETFD, FD_CLOEXEC);
    return 3;
}

/* 0, 1 and 2 open (on /dev/null when not), so that no file the helper opens becomes one. */
static void
standard_fds(void)
{
    for (int i = 0; i < 3; i++) {
        if (fcntl(i, F_GETFD) == -1) {
            int fd = open("/dev/null", O_RDWR);
            if (fd != i && fd != -1) {
                close(fd);
            }
        }
    }
}

static int
run(const char *policy, const char *listen_path)
{
    struct sigaction sa;
    int fd, accepting = 0;
    socklen_t len = sizeof(accepting);

    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_stop; /* no SA_RESTART: accept returns EINTR */
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    fd = listen_path != NULL ? listen_at(listen_path) : systemd_fd();
    if (fd == -1) {
        if (listen_path == NULL) {
            log_err(KA_LOG "no socket: give -l PATH, or start from a systemd socket unit");
        }
        return 1;
    }
    if (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &accepting, &len) == 0 && accepting) {
        log_info(KA_LOG "listening on %s", listen_path != NULL ? listen_path : "systemd's socket");
        accept_loop(fd, policy);
    } else {
        serve(fd, policy);
    }
    close(fd);
    if (listen_path != NULL) {
        unlink(listen_path);
    }
    return 0;
}

int
main(int argc, char **argv)
{
    static const struct option opts[] = {{"policy", required_argument, NULL, 'p'},
                                         {"test", no_argument, NULL, 't'},
                                         {"listen", required_argument, NULL, 'l'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    static struct ka_settings s;
    const char *policy = NULL, *listen_path = NULL;
    char err[1024];
    int c, test = 0;

    standard_fds();
    umask(022);
    ixd_log_setup(IXD_LOG_STDERR, IXD_LOG_INFO);
    while ((c = getopt_long(argc, argv, "p:tl:h", opts, NULL)) != -1) {
        switch (c) {
        case 'p':
            policy = optarg;
            break;
        case 't':
            test = 1;
            break;
        case 'l':
            listen_path = optarg;
            break;
        case 'h':
            usage(stdout);
            return 0;
        default:
            usage(stderr);
            return 2;
        }
    }
    if (policy == NULL || optind != argc) {
        usage(stderr);
        return 2;
    }
    /* a policy that does not load stops the start, as it would fail every request */
    if (ka_settings_load(policy, &s, err, sizeof(err)) == -1) {
        log_err(KA_LOG "%s", err);
        return 1;
    }
    if (test) {
        fprintf(stderr, "%s is valid\n", policy);
        return 0;
    }
    return run(policy, listen_path);
}
