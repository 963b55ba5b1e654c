/* Unit tests of src/core/config_files.c (the files a config names, checked as `ipfixd -t` does)
 * and of the keys that go with it: user, group, and parsing with syntax only. The outputs' files
 * and file-mode are their types' (test_registry). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "core/config.h"

#define ONE_UDP                                                                                    \
    "collectors:\n"                                                                                \
    "  - name: a\n"                                                                                \
    "    listen: \"*:4739\"\n"

static char err[2048];
static char dir[64];

static int
make_dir(void **state)
{
    snprintf(dir, sizeof(dir), "/tmp/ixd-cfiles-XXXXXX");
    return mkdtemp(dir) == NULL ? -1 : 0;
}

static int
remove_dir(void **state)
{
    char cmd[128];

    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    return system(cmd) == 0 ? 0 : -1;
}

static struct ixd_config *
parse_flags(const char *text, unsigned flags)
{
    struct ixd_config *cfg;

    err[0] = '\0';
    cfg = ixd_config_parse_flags("t.yaml", text, strlen(text), flags, err, sizeof(err));
    if (cfg == NULL) {
        fail_msg("config rejected: %s", err);
    }
    return cfg;
}

/* The config parses; ixd_config_check_files then fails with an error starting with want, or
 * passes when want is NULL. */
static void
check_files(const char *text, const char *want)
{
    struct ixd_config *cfg = parse_flags(text, IXD_CONFIG_DEFAULT);
    int rc = ixd_config_check_files(cfg, NULL, NULL, err, sizeof(err));

    ixd_config_free(cfg);
    if (want == NULL && rc != 0) {
        fail_msg("files refused: %s", err);
    }
    if (want != NULL && (rc != -1 || strncmp(err, want, strlen(want)) != 0)) {
        fail_msg("error is \"%s\" (rc %d), expected it to start with \"%s\"", rc == 0 ? "" : err,
                 rc, want);
    }
}

static void
write_file(const char *name, mode_t mode, size_t size)
{
    char path[256];
    int fd;

    snprintf(path, sizeof(path), "%s/%s", dir, name);
    fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    assert_true(fd >= 0);
    for (size_t i = 0; i < size; i++) {
        assert_int_equal(write(fd, "k", 1), 1);
    }
    assert_int_equal(fchmod(fd, mode), 0);
    close(fd);
}

/* The HA key file: opened, its mode and size checked, reported at the key's line and column. */
static void
ha_key_file(void **state)
{
    char text[1024];

    snprintf(text, sizeof(text),
             ONE_UDP "ha: {listen: \"*:4740\", peer: \"[::1]:4740\", key-file: %s/ha.key}\n", dir);
    check_files(text, "t.yaml:4:54: ha.key-file: cannot open ");
    write_file("ha.key", 0644, 32);
    check_files(text, "t.yaml:4:54: ha.key-file: key file ");
    assert_non_null(strstr(err, "has mode 0644"));
    write_file("ha.key", 0640, 31);
    check_files(text, "t.yaml:4:54: ha.key-file: key file ");
    assert_non_null(strstr(err, "31 bytes, expected 32 to 4096"));
    write_file("ha.key", 0640, 32);
    check_files(text, NULL);
}

/* ha.keepalived.helper: a Unix socket there, which ipfixd may connect to; nothing else is
 * asked of keepalived's files (the helper writes them). */
static void
keepalived_helper_socket(void **state)
{
    struct sockaddr_un sun;
    char text[1024];
    int fd;

    snprintf(text, sizeof(text),
             ONE_UDP "ha:\n  keepalived:\n    config: /nonexistent/keepalived.conf\n"
                     "    include: /nonexistent/ipfixd.conf\n    manage: true\n"
                     "    helper: %s/apply.sock\n    audit-log: %s/audit.log\n",
             dir, dir);
    check_files(text, "t.yaml:9:13: ha.keepalived.helper: cannot use socket ");
    write_file("apply.sock", 0644, 0);
    check_files(text, "t.yaml:9:13: ha.keepalived.helper: ");
    assert_non_null(strstr(err, "apply.sock is not a socket"));
    memset(&sun, 0, sizeof(sun));
    sun.sun_family = AF_UNIX;
    snprintf(sun.sun_path, sizeof(sun.sun_path), "%s/apply.sock", dir);
    unlink(sun.sun_path);
    fd = socket(AF_UNIX, SOCK_STREAM, 0);
    assert_true(fd >= 0);
    assert_int_equal(bind(fd, (struct sockaddr *)&sun, sizeof(sun)), 0);
    check_files(text, NULL);
    close(fd);
}

static void
warned(void *arg, const char *message)
{
    snprintf(arg, 512, "%s", message);
}

/* An unusable state directory is a warning, as at run time: ipfixd runs without saved templates. */
static void
state_directory_warns(void **state)
{
    char text[1024], warning[512] = "";
    struct ixd_config *cfg;

    write_file("plain", 0600, 1);
    snprintf(text, sizeof(text), "state-directory: %s/plain/sub\n" ONE_UDP, dir);
    cfg = parse_flags(text, IXD_CONFIG_DEFAULT);
    assert_int_equal(ixd_config_check_files(cfg, warned, warning, err, sizeof(err)), 0);
    ixd_config_free(cfg);
    assert_non_null(strstr(warning, "t.yaml:1:18: warning: state-directory "));
    /* a directory that does not exist yet is fine where it can be made */
    snprintf(text, sizeof(text), "state-directory: %s/new/state\n" ONE_UDP, dir);
    warning[0] = '\0';
    cfg = parse_flags(text, IXD_CONFIG_DEFAULT);
    assert_int_equal(ixd_config_check_files(cfg, warned, warning, err, sizeof(err)), 0);
    ixd_config_free(cfg);
    assert_string_equal(warning, "");
}

/* With syntax only, nothing outside the text is opened: not the JWKS, not the element
 * directories, not the accounts; without it, the same config is refused. */
static void
syntax_only_opens_nothing(void **state)
{
    static const char text[] =
        "user: no-such-user-ipfixd\n"
        "elements: {directories: [/nonexistent/ipfixd-elements]}\n" ONE_UDP "api:\n"
        "  listen: '127.0.0.1:8080'\n"
        "  auth:\n"
        "    jwt: {jwks-file: /nonexistent/jwks.json, issuer: i, "
        "audience: a}\n";
    struct ixd_config *cfg = parse_flags(text, IXD_CONFIG_SYNTAX_ONLY);

    assert_string_equal(cfg->user, "no-such-user-ipfixd");
    ixd_config_free(cfg);
    assert_null(ixd_config_parse("t.yaml", text, strlen(text), err, sizeof(err)));
}

static void
user_and_group(void **state)
{
    struct ixd_config *cfg;

    cfg = parse_flags("user: nobody\n" ONE_UDP, IXD_CONFIG_DEFAULT);
    assert_string_equal(cfg->user, "nobody");
    assert_int_equal(cfg->uid, 65534);
    assert_int_equal(cfg->gid, 65534);
    ixd_config_free(cfg);
    cfg = parse_flags("user: nobody\ngroup: root\n" ONE_UDP, IXD_CONFIG_DEFAULT);
    assert_int_equal(cfg->gid, 0);
    ixd_config_free(cfg);
    assert_null(ixd_config_parse("t.yaml", "user: no-such-user-ipfixd\n" ONE_UDP,
                                 strlen("user: no-such-user-ipfixd\n" ONE_UDP), err, sizeof(err)));
    assert_string_equal(err, "t.yaml:1:7: no user 'no-such-user-ipfixd' on this machine");
    assert_null(ixd_config_parse("t.yaml", "group: root\n" ONE_UDP, strlen("group: root\n" ONE_UDP),
                                 err, sizeof(err)));
    assert_string_equal(err, "t.yaml:1:8: group needs a user to go with it");
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(ha_key_file, make_dir, remove_dir),
        cmocka_unit_test_setup_teardown(keepalived_helper_socket, make_dir, remove_dir),
        cmocka_unit_test_setup_teardown(state_directory_warns, make_dir, remove_dir),
        cmocka_unit_test(syntax_only_opens_nothing),
        cmocka_unit_test(user_and_group),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
