/*
 * Commands the helper runs (keepalived -t, the reload): posix_spawn, never fork; a pidfd to
 * learn of the exit, so no SIGCHLD handler and no waitpid(-1); a deadline after which the
 * command and its process group are killed. See ka_spawn in apply.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <string.h>
#include <sys/pidfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/log.h"
#include "ha/apply/apply.h"

/* What a command gets as its environment: nothing of the helper's. */
static char *const clean_env[] = {"PATH=/usr/sbin:/usr/bin:/sbin:/bin", "LC_ALL=C", NULL};

/* Descriptors, signals and process group of the child; 0, or an errno. */
static int
prepare(posix_spawn_file_actions_t *fa, posix_spawnattr_t *attr, int in, int out)
{
    sigset_t none, all;
    int rc;

    sigemptyset(&none);
    sigfillset(&all);
    rc = posix_spawn_file_actions_adddup2(fa, in, 0);
    rc = rc != 0 ? rc : posix_spawn_file_actions_adddup2(fa, out, 1);
    rc = rc != 0 ? rc : posix_spawn_file_actions_adddup2(fa, out, 2);
    /* whatever the helper holds (the caller's socket, the lock, files) stays with it */
    rc = rc != 0 ? rc : posix_spawn_file_actions_addclosefrom_np(fa, 3);
    /* not wherever the helper was started: a relative path in a command means nothing */
    rc = rc != 0 ? rc : posix_spawn_file_actions_addchdir_np(fa, "/");
    rc = rc != 0 ? rc : posix_spawnattr_setsigmask(attr, &none);
    rc = rc != 0 ? rc : posix_spawnattr_setsigdefault(attr, &all);
    rc = rc != 0 ? rc : posix_spawnattr_setpgroup(attr, 0);
    rc = rc != 0 ? rc
                 : posix_spawnattr_setflags(attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF |
                                                      POSIX_SPAWN_SETPGROUP);
    return rc;
}

/*
 * Starts argv; in a new PID namespace when new_pid_ns. unshare(CLONE_NEWPID) changes where the
 * helper's next child goes, not the helper; setns back to the helper's own namespace makes
 * the next command's unshare possible again (a second unshare while the first is pending
 * fails).
 */
static int
start(char *const *argv, int new_pid_ns, int in, int out, pid_t *pid, char *why, size_t whylen)
{
    posix_spawn_file_actions_t fa;
    posix_spawnattr_t attr;
    int own = -1, rc;

    posix_spawn_file_actions_init(&fa);
    posix_spawnattr_init(&attr);
    rc = prepare(&fa, &attr, in, out);
    if (rc == 0 && new_pid_ns) {
        own = open("/proc/self/ns/pid", O_RDONLY | O_CLOEXEC);
        if (own == -1 || unshare(CLONE_NEWPID) == -1) {
            snprintf(why, whylen,
                     "cannot make a PID namespace for %s: %s (pid-namespace: false "
                     "runs it without one)",
                     argv[0], strerror(errno));
            rc = -1;
        }
    }
    if (rc == 0) {
        rc = posix_spawn(pid, argv[0], &fa, &attr, argv, clean_env);
        if (rc != 0) {
            snprintf(why, whylen, "cannot run %s: %s", argv[0], strerror(rc));
        }
    } else if (rc > 0) {
        snprintf(why, whylen, "cannot prepare %s: %s", argv[0], strerror(rc));
    }
    if (own != -1) {
        if (setns(own, CLONE_NEWPID) == -1) {
            /* the next command would fail to get a namespace, and say so */
            log_warn(KA_LOG "cannot return to the helper's own PID namespace: %s", strerror(errno));
        }
        close(own);
    }
    posix_spawnattr_destroy(&attr);
    posix_spawn_file_actions_destroy(&fa);
    return rc == 0 ? 0 : -1;
}

/* Appends what fd has now (nonblocking) to out; 0 at end of file, 1 more may come. */
static int
drain(int fd, char *buf, size_t cap, size_t *used)
{
    for (;;) {
        char chunk[512];
        ssize_t n = read(fd, chunk, sizeof(chunk));
        if (n > 0) {
            size_t take = (size_t)n < cap - *used ? (size_t)n : cap - *used;
            memcpy(buf + *used, chunk, take);
            *used += take;
            continue;
        }
        if (n == -1 && errno == EINTR) {
            continue;
        }
        return n == 0 ? 0 : 1;
    }
}

/* 1 when pid has exited (it is not reaped: WNOWAIT leaves that to waitpid). */
static int
exited(pid_t pid, int pidfd, const struct pollfd *pfd)
{
    siginfo_t si;

    if (pidfd != -1) {
        return pfd->revents != 0;
    }
    memset(&si, 0, sizeof(si));
    return waitid(P_PID, (id_t)pid, &si, WEXITED | WNOHANG | WNOWAIT) == 0 && si.si_pid == pid;
}

/*
 * Waits for pid while reading its output, until deadline: 0 exited, -1 timed out. With a pidfd
 * poll wakes at the exit; without one (a kernel before 5.3) it looks every 20 ms.
 */
static int
wait_exit(pid_t pid, int pidfd, int outfd, double deadline, char *buf, size_t cap, size_t *used)
{
    int open_out = 1;

    for (;;) {
        struct pollfd pfd[2] = {{outfd, POLLIN, 0}, {pidfd, POLLIN, 0}};
        double left = deadline - ixd_mono_now();
        int ms = pidfd == -1 ? 20 : (int)(left * 1000) + 1;
        nfds_t n = (nfds_t)(open_out ? 1 : 0) + (pidfd != -1 ? 1 : 0);

        if (left <= 0) {
            return -1;
        }
        if (poll(open_out ? pfd : pfd + 1, n, ms) == -1 && errno != EINTR) {
            return -1;
        }
        if (open_out && pfd[0].revents != 0) {
            open_out = drain(outfd, buf, cap, used);
        }
        /* what it wrote before it exited is in the pipe; a child it left holding the pipe
         * open is not waited for */
        if (exited(pid, pidfd, &pfd[1])) {
            drain(outfd, buf, cap, used);
            return 0;
        }
    }
}

int
ka_spawn(char *const *argv, unsigned timeout, int new_pid_ns, char *out, size_t outlen)
{
    char buf[2048];
    size_t used = 0;
    int fds[2], devnull, pidfd, status = 0, rc;
    pid_t pid = -1;

    out[0] = '\0';
    if (pipe2(fds, O_CLOEXEC) == -1) {
        snprintf(out, outlen, "pipe: %s", strerror(errno));
        return -2;
    }
    /* nonblocking on the helper's end only: the command's writes must wait, not fail */
    if (fcntl(fds[0], F_SETFL, O_NONBLOCK) == -1) {
        snprintf(out, outlen, "pipe: %s", strerror(errno));
        close(fds[0]);
        close(fds[1]);
        return -2;
    }
    devnull = open("/dev/null", O_RDONLY | O_CLOEXEC);
    rc = devnull == -1 ? -1 : start(argv, new_pid_ns, devnull, fds[1], &pid, out, outlen);
    if (devnull == -1) {
        snprintf(out, outlen, "cannot open /dev/null: %s", strerror(errno));
    }
    close(fds[1]);
    if (devnull != -1) {
        close(devnull);
    }
    if (rc == -1) {
        close(fds[0]);
        return -2;
    }
    pidfd = pidfd_open(pid, 0); /* not reaped until waitpid below: the pid is still its own */
    rc = wait_exit(pid, pidfd, fds[0], ixd_mono_now() + timeout, buf, sizeof(buf) - 1, &used);
    if (rc == -1) {
        kill(-pid, SIGKILL);
        kill(pid, SIGKILL);
    }
    while (waitpid(pid, &status, 0) == -1 && errno == EINTR) {
    }
    if (pidfd != -1) {
        close(pidfd);
    }
    close(fds[0]);
    buf[used] = '\0';
    while (used > 0 && (buf[used - 1] == '\n' || buf[used - 1] == ' ')) {
        buf[--used] = '\0';
    }
    /* keepalived's words go into logs and a JSON answer: escaped, valid UTF-8 */
    ixd_log_escape(buf, out, outlen);
    if (rc == -1) {
        snprintf(out, outlen, "%s took longer than %u s and was killed", argv[0], timeout);
        return -1;
    }
    if (WIFSIGNALED(status)) {
        size_t n = strlen(out);
        snprintf(out + n, outlen - n, "%s(killed by signal %d)", n > 0 ? " " : "",
                 WTERMSIG(status));
        return -1;
    }
    return WEXITSTATUS(status);
}
