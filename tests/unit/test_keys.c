/* Unit tests of src/core/keys.c: a settings struct filled from a table of keys. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/config.h"
#include "core/keys.h"

struct demo {
    char name[16];
    char path[64];
    int flag;
    uint32_t count;
    uint32_t wait;
    size_t size;
    int colour;
    uint32_t mode;
    struct ixd_key_file key;
    int *list; /* custom: a heap copy of one number */
};

static const char *const colours[] = {"red", "green", "blue", NULL};

static int custom_releases;

static int
parse_list(const struct ixd_key *k, const struct ixd_cnode *v, void *field,
           const struct ixd_key_env *env, char *err, size_t errlen)
{
    int **list = field;

    if (v->kind != IXD_CNODE_SEQUENCE || v->n != 1) {
        return ixd_cnode_fail(v, env->file, err, errlen, "list wants one item");
    }
    *list = malloc(sizeof(int));
    **list = atoi(v->items[0].text);
    return 0;
}

static int
same_list(const void *a, const void *b)
{
    int *const *x = a, *const *y = b;
    return (*x == NULL) == (*y == NULL) && (*x == NULL || **x == **y);
}

static void
release_list(void *field)
{
    int **list = field;
    if (*list != NULL) {
        custom_releases++;
    }
    free(*list);
    *list = NULL;
}

static const struct ixd_key demo_keys[] = {
    {.name = "name", .kind = IXD_KEY_NAME, IXD_KEY_AT(struct demo, name), .def = "anon"},
    {.name = "path", .kind = IXD_KEY_PATH, IXD_KEY_AT(struct demo, path)},
    {.name = "flag",
     .kind = IXD_KEY_BOOL,
     IXD_KEY_AT(struct demo, flag),
     .def = "true",
     .reload = IXD_RELOAD_HOT},
    {.name = "count",
     .kind = IXD_KEY_U32,
     IXD_KEY_AT(struct demo, count),
     .min = 1,
     .max = 10,
     .def = "3"},
    {.name = "wait", .kind = IXD_KEY_DURATION, IXD_KEY_AT(struct demo, wait), .def = "1m"},
    {.name = "size", .kind = IXD_KEY_SIZE, IXD_KEY_AT(struct demo, size), .min = 1024, .def = "4K"},
    {.name = "colour",
     .kind = IXD_KEY_ENUM,
     IXD_KEY_AT(struct demo, colour),
     .choices = colours,
     .def = "green"},
    {.name = "mode", .kind = IXD_KEY_MODE, IXD_KEY_AT(struct demo, mode), .def = "0640"},
    {.name = "key",
     .kind = IXD_KEY_FILE,
     IXD_KEY_AT(struct demo, key),
     .reload = IXD_RELOAD_CONTENT,
     .file_use = 1 + IXD_FILE_SECRET},
    {.name = "list",
     .kind = IXD_KEY_CUSTOM,
     IXD_KEY_AT(struct demo, list),
     .parse = parse_list,
     .same = same_list,
     .release = release_list},
    {NULL},
};

static const struct ixd_key_env env = {"t.yaml", IXD_CONFIG_DEFAULT, "demo 'd'"};
static char err[1024];

/* A one-level mapping from "k=v" pairs; "list=N" makes a one-item sequence. */
static void
mapping(struct ixd_cnode *m, const char *const *pairs, size_t n)
{
    memset(m, 0, sizeof(*m));
    m->kind = IXD_CNODE_MAPPING;
    m->line = 1;
    m->column = 1;
    m->n = n;
    m->items = calloc(2 * n + 1, sizeof(*m->items));
    for (size_t i = 0; i < n; i++) {
        const char *eq = strchr(pairs[i], '=');
        struct ixd_cnode *k = &m->items[2 * i], *v = &m->items[2 * i + 1];

        k->kind = IXD_CNODE_SCALAR;
        k->line = v->line = (unsigned)i + 2;
        k->column = 3;
        v->column = 10;
        k->text = strndup(pairs[i], (size_t)(eq - pairs[i]));
        if (strcmp(k->text, "list") == 0) {
            v->kind = IXD_CNODE_SEQUENCE;
            v->n = 1;
            v->items = calloc(1, sizeof(*v->items));
            v->items[0].kind = IXD_CNODE_SCALAR;
            v->items[0].text = strdup(eq + 1);
        } else {
            v->kind = IXD_CNODE_SCALAR;
            v->text = strdup(eq + 1);
        }
    }
}

static int
parse(struct demo *d, const char *const *pairs, size_t n)
{
    struct ixd_cnode m;
    int rc;

    memset(d, 0, sizeof(*d));
    mapping(&m, pairs, n);
    err[0] = '\0';
    rc = ixd_keys_parse(demo_keys, &m, d, &env, err, sizeof(err));
    ixd_cnode_release(&m);
    return rc;
}

static void
defaults_then_values(void **state)
{
    static const char *const pairs[] = {"count=7", "colour=blue", "size=8M",
                                        "flag=no", "mode=600",    "list=5"};
    struct demo d;

    assert_int_equal(parse(&d, NULL, 0), 0);
    assert_string_equal(d.name, "anon");
    assert_int_equal(d.flag, 1);
    assert_int_equal(d.count, 3);
    assert_int_equal(d.wait, 60);
    assert_int_equal(d.size, 4096);
    assert_int_equal(d.colour, 1);
    assert_int_equal(d.mode, 0640);
    assert_null(d.list);
    assert_int_equal(parse(&d, pairs, 6), 0);
    assert_int_equal(d.count, 7);
    assert_int_equal(d.colour, 2);
    assert_int_equal(d.size, 8u << 20);
    assert_int_equal(d.flag, 0);
    assert_int_equal(d.mode, 0600);
    assert_int_equal(*d.list, 5);
    custom_releases = 0;
    ixd_keys_release(demo_keys, &d);
    assert_int_equal(custom_releases, 1);
    assert_null(d.list);
}

/* Every refusal names the key's position and says what was wanted. */
static void
errors_at_the_key(void **state)
{
    static const struct {
        const char *pair;
        const char *want;
    } cases[] = {
        {"colour=pink", "t.yaml:2:10: colour must be red, green or blue, not 'pink'"},
        {"count=11", "t.yaml:2:10: count must be from 1 to 10, not '11'"},
        {"count=x", "t.yaml:2:10: count must be a number, not 'x'"},
        {"size=1000", "t.yaml:2:10: size must be from 1024 to"},
        {"wait=soon", "t.yaml:2:10: wait must be a duration"},
        {"flag=maybe", "t.yaml:2:10: flag must be true or false, not 'maybe'"},
        {"name=a b", "t.yaml:2:10: name 'a b' may hold only letters"},
        {"mode=0444", "t.yaml:2:10: mode must be octal permissions"},
        {"mode=1777", "t.yaml:2:10: mode must be octal permissions"},
        {"bogus=1",
         "t.yaml:2:3: unknown key 'bogus' in demo 'd' (known: name, path, flag, count, wait, "
         "size, colour, mode, key, list)"},
        {"key=/nonexistent/k", "t.yaml:2:10: key: cannot open /nonexistent/k"},
    };
    struct demo d;

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const char *pairs[] = {cases[i].pair};
        assert_int_equal(parse(&d, pairs, 1), -1);
        if (strncmp(err, cases[i].want, strlen(cases[i].want)) != 0) {
            fail_msg("%s: got \"%s\", expected \"%s\"", cases[i].pair, err, cases[i].want);
        }
        ixd_keys_release(demo_keys, &d);
    }
    {
        const char *pairs[] = {"count=2", "count=3"};
        assert_int_equal(parse(&d, pairs, 2), -1);
        assert_string_equal(err, "t.yaml:3:3: duplicate key 'count' in demo 'd'");
    }
}

/* What a reload compares: the classes asked for, a file's content for CONTENT keys. */
static void
same_by_class_and_content(void **state)
{
    char path[] = "/tmp/ixd-keys-XXXXXX", pair[64];
    const char *flag_off[] = {"flag=false"};
    struct demo a, b;
    int fd = mkstemp(path);

    assert_true(fd >= 0);
    assert_int_equal(write(fd, "one", 3), 3);
    fchmod(fd, 0600);
    snprintf(pair, sizeof(pair), "key=%s", path);
    {
        const char *pairs[] = {pair, "list=1"};
        assert_int_equal(parse(&a, pairs, 2), 0);
        assert_int_equal(parse(&b, pairs, 2), 0);
    }
    assert_true(ixd_keys_same(demo_keys, &a, &b, IXD_KEYS_ALL));
    /* the file changed under the same name: a rebuild */
    assert_int_equal(pwrite(fd, "two", 3, 0), 3);
    ixd_keys_release(demo_keys, &b);
    {
        const char *pairs[] = {pair, "list=1"};
        assert_int_equal(parse(&b, pairs, 2), 0);
    }
    assert_false(ixd_keys_same(demo_keys, &a, &b, IXD_KEYS_REBUILD));
    ixd_keys_release(demo_keys, &a);
    ixd_keys_release(demo_keys, &b);
    /* a hot key differs: the same for a rebuild, not for everything */
    assert_int_equal(parse(&a, NULL, 0), 0);
    assert_int_equal(parse(&b, flag_off, 1), 0);
    assert_true(ixd_keys_same(demo_keys, &a, &b, IXD_KEYS_REBUILD));
    assert_false(ixd_keys_same(demo_keys, &a, &b, IXD_KEYS_ALL));
    close(fd);
    unlink(path);
}

/* Syntax only: the file a key names is not opened. */
static void
syntax_only_opens_no_file(void **state)
{
    const char *pairs[] = {"key=/nonexistent/k"};
    struct ixd_key_env quiet = env;
    struct ixd_cnode m;
    struct demo d;

    quiet.flags = IXD_CONFIG_SYNTAX_ONLY;
    memset(&d, 0, sizeof(d));
    mapping(&m, pairs, 1);
    assert_int_equal(ixd_keys_parse(demo_keys, &m, &d, &quiet, err, sizeof(err)), 0);
    assert_string_equal(d.key.path, "/nonexistent/k");
    ixd_cnode_release(&m);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(defaults_then_values),
        cmocka_unit_test(errors_at_the_key),
        cmocka_unit_test(same_by_class_and_content),
        cmocka_unit_test(syntax_only_opens_no_file),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
