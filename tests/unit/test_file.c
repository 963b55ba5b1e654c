/*
 * Unit tests of src/core/file.c (files replaced whole through a temporary file of a random
 * name) and of its caller ixd_templates_save: what a directory's other writers plant there, a
 * symlink at the old fixed temporary name or at the file itself, is never written through.
 */
#define _GNU_SOURCE 1
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <glib.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <setjmp.h>
#include <cmocka.h>

#include "core/file.h"
#include "core/parse.h"
#include "ipfix/persist.h"

#define BAIT "not to be written\n"

struct scratch {
    char dir[64];
    char target[128]; /* what a planted symlink points at */
};

static int
setup(void **state)
{
    struct scratch *s = calloc(1, sizeof(*s));
    FILE *f;

    snprintf(s->dir, sizeof(s->dir), "/tmp/ixd-file-XXXXXX");
    assert_non_null(mkdtemp(s->dir));
    snprintf(s->target, sizeof(s->target), "%s/target", s->dir);
    f = fopen(s->target, "w");
    assert_non_null(f);
    fputs(BAIT, f);
    fclose(f);
    *state = s;
    return 0;
}

static int
teardown(void **state)
{
    struct scratch *s = *state;
    char cmd[128];

    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", s->dir);
    assert_int_equal(system(cmd), 0);
    free(s);
    return 0;
}

static char *
slurp(const char *path)
{
    char *text = NULL;
    size_t len = 0;

    if (ixd_read_file(path, 1 << 20, &text, &len) == -1) {
        fail_msg("cannot read %s: %s", path, strerror(errno));
    }
    return text;
}

static void
assert_target_untouched(const struct scratch *s)
{
    char *text = slurp(s->target);

    assert_string_equal(text, BAIT);
    free(text);
}

/* The names in dir other than "target", sorted, joined by blanks. */
static void
names(const char *dir, char *out, size_t outlen)
{
    struct dirent **list;
    int n = scandir(dir, &list, NULL, alphasort), i;
    size_t used = 0;

    assert_true(n >= 0);
    out[0] = '\0';
    for (i = 0; i < n; i++) {
        const char *name = list[i]->d_name;
        if (strcmp(name, ".") != 0 && strcmp(name, "..") != 0 && strcmp(name, "target") != 0) {
            used += (size_t)snprintf(out + used, outlen - used, "%s%s", used ? " " : "", name);
        }
        free(list[i]);
    }
    free(list);
}

static void
replace_writes_whole_file(void **state)
{
    struct scratch *s = *state;
    char path[128], left[512], *text;
    struct stat st;
    mode_t old = umask(022);

    snprintf(path, sizeof(path), "%s/state", s->dir);
    assert_int_equal(ixd_file_replace(path, "one\n", 4, 0640), 0);
    assert_int_equal(ixd_file_replace(path, "two\n", 4, 0666), 0);
    umask(old);
    text = slurp(path);
    assert_string_equal(text, "two\n");
    free(text);
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0644); /* the mode less the umask */
    names(s->dir, left, sizeof(left));
    assert_string_equal(left, "state"); /* no temporary file left */
}

/* A symlink at the path is replaced by the file, not written through. */
static void
replace_does_not_follow_the_path(void **state)
{
    struct scratch *s = *state;
    char path[128], *text;
    struct stat st;

    snprintf(path, sizeof(path), "%s/state", s->dir);
    assert_int_equal(symlink(s->target, path), 0);
    assert_int_equal(ixd_file_replace(path, "new\n", 4, 0644), 0);
    assert_int_equal(lstat(path, &st), 0);
    assert_true(S_ISREG(st.st_mode));
    text = slurp(path);
    assert_string_equal(text, "new\n");
    free(text);
    assert_target_untouched(s);
}

/* A file where the temporary file would go (a crash's leftover, or planted) is in nobody's way. */
static void
create_skips_nothing_planted(void **state)
{
    struct scratch *s = *state;
    char prefix[128], a[160], b[160];
    int fa, fb;

    snprintf(prefix, sizeof(prefix), "%s/.x.", s->dir);
    fa = ixd_file_create(prefix, 0600, a, sizeof(a));
    fb = ixd_file_create(prefix, 0600, b, sizeof(b));
    assert_true(fa != -1 && fb != -1);
    assert_string_not_equal(a, b);
    assert_int_equal(strncmp(a, prefix, strlen(prefix)), 0);
    assert_int_equal(strlen(a), strlen(prefix) + 12);
    assert_int_equal(fcntl(fa, F_GETFD) & FD_CLOEXEC, FD_CLOEXEC);
    close(fa);
    close(fb);
    /* a leftover under a would not be reused: O_EXCL */
    assert_int_equal(open(a, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, 0600), -1);
    assert_int_equal(errno, EEXIST);
}

static void
replace_fails_cleanly(void **state)
{
    struct scratch *s = *state;
    char path[128], left[512];

    snprintf(path, sizeof(path), "%s/missing/state", s->dir);
    assert_int_equal(ixd_file_replace(path, "x", 1, 0644), -1);
    assert_int_equal(errno, ENOENT);
    /* a directory at the path: the rename fails and the temporary file goes */
    snprintf(path, sizeof(path), "%s/adir", s->dir);
    assert_int_equal(mkdir(path, 0755), 0);
    assert_int_equal(ixd_file_replace(path, "x", 1, 0644), -1);
    names(s->dir, left, sizeof(left));
    assert_string_equal(left, "adir");
}

/*
 * ixd_templates_save wrote NAME.tmp with O_TRUNC: a symlink planted there made it write through
 * to the link's target. Now the target stays as it was and the file is saved.
 */
static void
templates_save_ignores_planted_symlink(void **state)
{
    struct scratch *s = *state;
    struct ixd_session_limits limits;
    struct ixd_template_rules rules;
    struct ixd_sessions ss;
    struct ixd_sessions *tables[1] = {&ss};
    struct ixd_saved_templates *back;
    char *path = ixd_templates_path(s->dir, "u"), tmp[256], err[256];

    memset(&rules, 0, sizeof(rules));
    rules.max_fields = 512;
    ixd_session_limits_default(&limits);
    ixd_sessions_init(&ss, "u", 0, &rules, &limits);
    snprintf(tmp, sizeof(tmp), "%s.tmp", path);
    assert_int_equal(symlink(s->target, tmp), 0);
    assert_int_equal(ixd_templates_save(path, "u", tables, 1, 1000.0, 1700000000, err, sizeof(err)),
                     0);
    assert_target_untouched(s);
    back = ixd_templates_load(path, "u", err, sizeof(err));
    assert_non_null(back);
    assert_int_equal(ixd_saved_templates_count(back), 0);
    ixd_saved_templates_free(back);
    ixd_sessions_release(&ss);
    g_free(path);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(replace_writes_whole_file, setup, teardown),
        cmocka_unit_test_setup_teardown(replace_does_not_follow_the_path, setup, teardown),
        cmocka_unit_test_setup_teardown(create_skips_nothing_planted, setup, teardown),
        cmocka_unit_test_setup_teardown(replace_fails_cleanly, setup, teardown),
        cmocka_unit_test_setup_teardown(templates_save_ignores_planted_symlink, setup, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
