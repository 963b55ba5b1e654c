/* Unit tests of the helper's parts (src/ha/apply/): ka_spawn (posix_spawn with a deadline, a
 * clean environment, no inherited descriptor, default signals, a PID namespace when root), and
 * ka_apply on a policy whose keepalived is a script of the test's: what is written, backed up,
 * reloaded and refused. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "ha/apply/apply.h"
#include "ha/keepalived_wire.h"

static char dir[64];

static int
make_dir(void **state)
{
    snprintf(dir, sizeof(dir), "/tmp/ixd-kaapply-XXXXXX");
    if (mkdtemp(dir) == NULL) {
        return -1;
    }
    return chmod(dir, 0755);
}

static int
remove_dir(void **state)
{
    char cmd[128];

    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    return system(cmd) == 0 ? 0 : -1;
}

static double
now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* /bin/sh -c script, without a PID namespace: its status, its output in out. */
static int
sh(const char *script, unsigned timeout, char *out, size_t outlen)
{
    char *argv[] = {"/bin/sh", "-c", (char *)script, NULL};

    return ka_spawn(argv, timeout, 0, out, outlen);
}

static void
exit_status_and_output(void **state)
{
    char out[256];

    assert_int_equal(sh("echo out; echo err >&2; exit 3", 5, out, sizeof(out)), 3);
    assert_string_equal(out, "out\\nerr");
    assert_int_equal(sh("exit 0", 5, out, sizeof(out)), 0);
    assert_string_equal(out, "");
    assert_int_equal(sh("kill -9 $$", 5, out, sizeof(out)), -1);
    assert_string_equal(out, "(killed by signal 9)");
    {
        char *argv[] = {"/nonexistent/keepalived", "-t", NULL};
        assert_int_equal(ka_spawn(argv, 5, 0, out, sizeof(out)), -2);
        assert_non_null(strstr(out, "cannot run /nonexistent/keepalived"));
    }
}

/* Nothing of the helper's environment, descriptors, stdin or signal state reaches a command. */
static void
clean_start(void **state)
{
    char out[512], script[128];
    sigset_t block, old;
    int fd;

    setenv("IXD_SECRET", "leaked", 1);
    assert_int_equal(sh("/usr/bin/env | /usr/bin/sort", 5, out, sizeof(out)), 0);
    assert_string_equal(out, "LC_ALL=C\\nPATH=/usr/sbin:/usr/bin:/sbin:/bin\\nPWD=/");
    /* a descriptor opened without O_CLOEXEC, as a careless library might */
    fd = open("/dev/null", O_RDONLY);
    assert_true(fd > 2);
    assert_int_equal(dup2(fd, 40), 40);
    snprintf(script, sizeof(script), "test -e /proc/$$/fd/40 && echo open || echo closed");
    assert_int_equal(sh(script, 5, out, sizeof(out)), 0);
    assert_string_equal(out, "closed");
    close(40);
    close(fd);
    assert_int_equal(sh("readlink /proc/$$/fd/0", 5, out, sizeof(out)), 0);
    assert_string_equal(out, "/dev/null");
    sigemptyset(&block);
    sigaddset(&block, SIGTERM);
    sigprocmask(SIG_BLOCK, &block, &old);
    signal(SIGINT, SIG_IGN);
    /* exec: the shell blocks signals of its own while it waits for a child */
    assert_int_equal(sh("exec grep -E '^Sig(Blk|Ign)' /proc/self/status", 5, out, sizeof(out)), 0);
    signal(SIGINT, SIG_DFL);
    sigprocmask(SIG_SETMASK, &old, NULL);
    {
        unsigned long long blocked = 1, ignored = 1;
        const char *b = strstr(out, "SigBlk:\\t"), *i = strstr(out, "SigIgn:\\t");
        assert_true(b != NULL && i != NULL);
        blocked = strtoull(b + 9, NULL, 16);
        ignored = strtoull(i + 9, NULL, 16);
        assert_int_equal(blocked, 0);
        /* the standard signals (1..31) at their defaults; glibc keeps 32 and 33 for itself */
        assert_int_equal(ignored & 0x7fffffffULL, 0);
    }
    unsetenv("IXD_SECRET");
}

/* Past its deadline a command is killed with its process group, and the call returns. */
static void
timeout_kills_the_group(void **state)
{
    char out[256], script[256], path[128], *text = NULL;
    double t0 = now();
    FILE *f;
    long pid = 0;

    snprintf(path, sizeof(path), "%s/bg.pid", dir);
    snprintf(script, sizeof(script), "sleep 60 & echo $! > %s; sleep 60", path);
    assert_int_equal(sh(script, 1, out, sizeof(out)), -1);
    assert_string_equal(out, "/bin/sh took longer than 1 s and was killed");
    assert_true(now() - t0 < 30);
    f = fopen(path, "r");
    assert_non_null(f);
    assert_int_equal(fscanf(f, "%ld", &pid), 1);
    fclose(f);
    /* the background sleep went with its group: gone, or a zombie nobody reaped yet */
    for (int i = 0; i < 100; i++) {
        char stat[64], buf[256];
        snprintf(stat, sizeof(stat), "/proc/%ld/stat", pid);
        f = fopen(stat, "r");
        if (f == NULL || fgets(buf, sizeof(buf), f) == NULL || strstr(buf, ") Z ") != NULL) {
            if (f != NULL) {
                fclose(f);
            }
            free(text);
            return;
        }
        fclose(f);
        usleep(20 * 1000);
    }
    fail_msg("the background process %ld outlived the killed command", pid);
}

/* A command that exits while a child of its holds its output open: its status now, not when
 * the child lets go. */
static void
exit_while_a_child_holds_the_output(void **state)
{
    char out[256];
    double t0 = now();

    assert_int_equal(sh("echo refused >&2; (sleep 20) & exit 3", 60, out, sizeof(out)), 3);
    assert_string_equal(out, "refused");
    assert_true(now() - t0 < 15);
}

/* Output goes into a JSON answer and a log line: escaped, and no more than the buffer. */
static void
output_escaped_and_bounded(void **state)
{
    char out[128];

    assert_int_equal(sh("printf 'caf\\351 \\033[31m'; head -c 100000 /dev/zero | tr '\\0' x", 5,
                        out, sizeof(out)),
                     0);
    assert_true(strlen(out) < sizeof(out));
    assert_non_null(strstr(out, "caf\\xe9 \\x1b[31m"));
    {
        json_t *j = json_string(out); /* valid UTF-8 */
        assert_non_null(j);
        json_decref(j);
    }
}

/* As root: PID 1 of a namespace of its own, every time (the helper returns to its own). */
static void
pid_namespace(void **state)
{
    char *argv[] = {"/bin/sh", "-c", "echo $$; echo $PPID", NULL};
    char out[128];

    if (geteuid() != 0) {
        skip();
    }
    for (int i = 0; i < 3; i++) {
        assert_int_equal(ka_spawn(argv, 5, 1, out, sizeof(out)), 0);
        assert_string_equal(out, "1\\n0");
    }
    assert_int_equal(ka_spawn(argv, 5, 0, out, sizeof(out)), 0);
    assert_true(strncmp(out, "1\\n", 3) != 0);
}

static void
write_file(const char *path, const char *text, mode_t mode)
{
    FILE *f = fopen(path, "w");

    assert_non_null(f);
    fputs(text, f);
    fclose(f);
    assert_int_equal(chmod(path, mode), 0);
}

static char *
read_all(const char *path)
{
    static char buf[8192];
    FILE *f = fopen(path, "r");
    size_t n;

    if (f == NULL) {
        return NULL;
    }
    n = fread(buf, 1, sizeof(buf) - 1, f);
    buf[n] = '\0';
    fclose(f);
    return buf;
}

/* A request of the protocol for an instance on iface with vip. */
static json_t *
request(const char *iface, const char *vip)
{
    return json_pack("{s:i, s:{s:[{s:s, s:s, s:i, s:i, s:[{s:s}]}]}, s:{s:s}}", "version",
                     IXD_KA_WIRE_VERSION, "model", "instances", "name", "VI", "interface", iface,
                     "virtual_router_id", 77, "priority", 150, "virtual_ipaddress", "address", vip,
                     "requester", "subject", "ops");
}

/* keepalived is a script of the test's: it refuses a file with "REFUSE" in it. */
static void
apply_flow(void **state)
{
    static struct ka_settings s;
    struct ka_caller caller = {getpid(), getuid(), getgid()};
    char path[256], text[2048], err[1024], inc[128], marker[128];
    struct ka_answer a;
    json_t *req;

    snprintf(path, sizeof(path), "%s/inc", dir);
    assert_int_equal(mkdir(path, 0755), 0);
    snprintf(path, sizeof(path), "%s/backup", dir);
    assert_int_equal(mkdir(path, 0700), 0);
    snprintf(inc, sizeof(inc), "%s/inc/ipfixd.conf", dir);
    snprintf(marker, sizeof(marker), "%s/reloaded", dir);
    snprintf(path, sizeof(path), "%s/keepalived.conf", dir);
    snprintf(text, sizeof(text), "global_defs {\n}\ninclude %s\n", inc);
    write_file(path, text, 0644);
    write_file(inc, "# before\n", 0644);
    snprintf(path, sizeof(path), "%s/fake-keepalived", dir);
    write_file(path,
               "#!/bin/sh\n# -t -f COPY: the copy names the include's copy\n"
               "inc=$(sed -n 's/^include //p' \"$3\")\n"
               "if grep -q eth9 \"$inc\"; then echo \"refused: no interface eth9\" >&2; exit 1; "
               "fi\nexit 0\n",
               0755);
    snprintf(path, sizeof(path), "%s/policy.yaml", dir);
    snprintf(text, sizeof(text),
             "callers: [%u]\nconfig: %s/keepalived.conf\ninclude: %s\nbackup-dir: %s/backup\n"
             "audit-log: %s/audit.log\nkeepalived-bin: %s/fake-keepalived\n"
             "reload: /usr/bin/touch %s\npid-namespace: false\ninterfaces: [eth0, eth9]\n"
             "virtual-router-ids: [77]\nvirtual-addresses: [10.77.0.0/24]\n",
             (unsigned)getuid(), dir, inc, dir, dir, dir, marker);
    write_file(path, text, 0644);
    if (ka_settings_load(path, &s, err, sizeof(err)) == -1) {
        fail_msg("%s", err);
    }
    assert_true(ka_caller_allowed(&s, &caller));

    /* refused by the policy: nothing runs, nothing changes */
    req = request("eth0", "10.99.0.1");
    ka_apply(&s, &caller, req, &a);
    json_decref(req);
    assert_int_equal(a.status, 422);
    assert_string_equal(a.field, "instances[0].virtual_ipaddress[0].address");
    /* refused by keepalived -t */
    req = request("eth9", "10.77.0.100/24");
    ka_apply(&s, &caller, req, &a);
    json_decref(req);
    assert_int_equal(a.status, 422);
    assert_string_equal(a.field, "");
    assert_non_null(strstr(a.detail, "keepalived -t refuses the change: refused: no interface"));
    assert_string_equal(read_all(inc), "# before\n");
    assert_int_equal(access(marker, F_OK), -1);
    /* a protocol the helper does not speak */
    req = json_pack("{s:i, s:{s:[]}}", "version", 2, "model", "instances");
    ka_apply(&s, &caller, req, &a);
    json_decref(req);
    assert_int_equal(a.status, 400);
    /* applied */
    req = request("eth0", "10.77.0.100/24");
    ka_apply(&s, &caller, req, &a);
    json_decref(req);
    assert_int_equal(a.status, 200);
    assert_string_equal(a.result, "applied");
    assert_non_null(strstr(read_all(inc), "vrrp_instance VI {"));
    assert_non_null(strstr(read_all(inc), "        10.77.0.100/24\n"));
    assert_string_equal(read_all(a.backup), "# before\n");
    assert_int_equal(access(marker, F_OK), 0);
    /* no check copy left beside the include */
    snprintf(text, sizeof(text), "ls -A %s/inc", dir);
    {
        char out[256];
        assert_int_equal(sh(text, 5, out, sizeof(out)), 0);
        assert_string_equal(out, "ipfixd.conf");
    }
    /* a keepalived that cannot be started: the helper's trouble (500), not the change's */
    snprintf(s.keepalived_bin, sizeof(s.keepalived_bin), "/nonexistent/keepalived");
    req = request("eth0", "10.77.0.101/24");
    ka_apply(&s, &caller, req, &a);
    json_decref(req);
    assert_int_equal(a.status, 500);
    assert_non_null(strstr(a.detail, "cannot run /nonexistent/keepalived"));
    assert_non_null(strstr(read_all(inc), "        10.77.0.100/24\n"));
    /* one audit line each, with the caller's uid and what ipfixd said of the requester */
    {
        char *log = read_all(strcat(strcpy(path, dir), "/audit.log"));
        int lines = 0;
        for (char *p = log; (p = strchr(p, '\n')) != NULL; p++) {
            lines++;
        }
        assert_int_equal(lines, 5);
        assert_non_null(strstr(log, "\"requester\":{\"subject\":\"ops\"}"));
        assert_non_null(strstr(log, "\"result\":\"applied\""));
    }
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(exit_status_and_output),
        cmocka_unit_test(clean_start),
        cmocka_unit_test_setup_teardown(timeout_kills_the_group, make_dir, remove_dir),
        cmocka_unit_test(exit_while_a_child_holds_the_output),
        cmocka_unit_test(output_escaped_and_bounded),
        cmocka_unit_test(pid_namespace),
        cmocka_unit_test_setup_teardown(apply_flow, make_dir, remove_dir),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
