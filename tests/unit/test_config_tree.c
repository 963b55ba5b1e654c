/* Unit tests of src/core/config_tree.c and the tree functions of cnode.c: the config as written,
 * its items replaced and removed by name, configs built from trees, errors located. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/config.h"
#include "core/config_tree.h"

static char err[1024];

static const char base_yaml[] = "workers: 2\n"
                                "collectors:\n"
                                "  - name: udp\n"
                                "    transport: udp\n"
                                "    listen: \"127.0.0.1:4739\"\n"
                                "outputs:\n"
                                "  - name: out\n"
                                "    type: json\n"
                                "    path: \"-\"\n"
                                "  - name: second\n"
                                "    type: json\n"
                                "    path: \"-\"\n";

static struct ixd_config *
parse_ok(const char *text)
{
    struct ixd_config *cfg = ixd_config_parse_flags("t.yaml", text, strlen(text),
                                                    IXD_CONFIG_SYNTAX_ONLY, err, sizeof(err));

    if (cfg == NULL) {
        fail_msg("config rejected: %s", err);
    }
    return cfg;
}

/* A tree from YAML text, numbered as the API numbers what it takes. */
static struct ixd_cnode
tree_of(const char *text, unsigned line)
{
    struct ixd_cnode n;

    if (ixd_config_tree_parse("item", text, strlen(text), &n, err, sizeof(err)) == -1) {
        fail_msg("tree rejected: %s", err);
    }
    ixd_cnode_number(&n, line);
    return n;
}

static void
tree_keeps_the_document_and_quoting(void **state)
{
    struct ixd_config *cfg = parse_ok(base_yaml);
    const struct ixd_cnode *item, *listen, *workers;
    size_t index = 99;

    (void)state;
    assert_int_equal(cfg->tree.kind, IXD_CNODE_MAPPING);
    item = ixd_config_tree_item(&cfg->tree, "outputs", "second", &index);
    assert_non_null(item);
    assert_int_equal(index, 1);
    assert_string_equal(ixd_config_tree_name(item), "second");
    assert_null(ixd_config_tree_item(&cfg->tree, "outputs", "third", NULL));
    listen = ixd_cnode_get(ixd_config_tree_item(&cfg->tree, "collectors", "udp", NULL), "listen");
    /* quoting is kept only where plain text would read as something else */
    assert_int_equal(listen->quoted, 0);
    assert_string_equal(listen->text, "127.0.0.1:4739");
    workers = ixd_cnode_get(&cfg->tree, "workers");
    assert_int_equal(workers->quoted, 0);
    assert_string_equal(workers->text, "2");
    assert_int_equal(workers->line, 1);
    ixd_config_free(cfg);
}

static void
quoting_kept_where_it_types(void **state)
{
    struct ixd_cnode n = tree_of("a: \"12\"\nb: \"x\"\nc: 12\nd: ''\ne: \"true\"\nf: 1.5\n", 1);
    static const struct {
        const char *key;
        int quoted;
        enum ixd_scalar_type plain;
    } want[] = {{"a", 1, IXD_SCALAR_INTEGER}, {"b", 0, IXD_SCALAR_STRING},
                {"c", 0, IXD_SCALAR_INTEGER}, {"d", 1, IXD_SCALAR_NULL},
                {"e", 1, IXD_SCALAR_BOOL},    {"f", 0, IXD_SCALAR_REAL}};

    (void)state;
    for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
        const struct ixd_cnode *v = ixd_cnode_get(&n, want[i].key);
        assert_int_equal(v->quoted, want[i].quoted);
        assert_int_equal(ixd_scalar_type(v->text), want[i].plain);
    }
    assert_int_equal(ixd_scalar_type("012"), IXD_SCALAR_STRING);
    assert_int_equal(ixd_scalar_type("-0"), IXD_SCALAR_INTEGER);
    assert_int_equal(ixd_scalar_type("1e"), IXD_SCALAR_STRING);
    assert_int_equal(ixd_scalar_type("1.5e-3"), IXD_SCALAR_REAL);
    assert_int_equal(ixd_scalar_type("~"), IXD_SCALAR_NULL);
    assert_int_equal(ixd_scalar_type("yes"), IXD_SCALAR_STRING);
    ixd_cnode_release(&n);
}

static void
config_from_its_own_tree_is_the_same(void **state)
{
    struct ixd_config *cfg = parse_ok(base_yaml), *again;

    (void)state;
    again = ixd_config_from_tree(&cfg->tree, "t.yaml", IXD_CONFIG_SYNTAX_ONLY, err, sizeof(err));
    if (again == NULL) {
        fail_msg("%s", err);
    }
    assert_int_equal(again->workers, 2);
    assert_int_equal(again->n_collectors, 1);
    assert_int_equal(again->n_outputs, 2);
    assert_string_equal(again->outputs[1].name, "second");
    assert_true(ixd_cnode_equal(&cfg->tree, &again->tree));
    assert_int_equal(ixd_cnode_digest(&cfg->tree), ixd_cnode_digest(&again->tree));
    ixd_config_free(again);
    ixd_config_free(cfg);
}

static void
put_replaces_appends_and_removes_by_name(void **state)
{
    struct ixd_config *cfg = parse_ok(base_yaml), *built;
    struct ixd_cnode root, item;
    uint64_t before;

    (void)state;
    assert_int_equal(ixd_cnode_copy(&root, &cfg->tree), 0);
    before = ixd_cnode_digest(ixd_config_tree_item(&root, "outputs", "out", NULL));

    item = tree_of("name: out\ntype: count\n", IXD_CONFIG_TREE_LINE);
    assert_int_equal(ixd_config_tree_put(&root, "outputs", "out", &item), 0);
    assert_int_not_equal(before,
                         ixd_cnode_digest(ixd_config_tree_item(&root, "outputs", "out", NULL)));

    item = tree_of("name: third\ntype: json\npath: \"-\"\n", IXD_CONFIG_TREE_LINE + 100);
    assert_int_equal(ixd_config_tree_put(&root, "outputs", "third", &item), 0);
    assert_int_equal(ixd_config_tree_put(&root, "outputs", "second", NULL), 0);
    /* removing what is not there changes nothing */
    assert_int_equal(ixd_config_tree_put(&root, "outputs", "none", NULL), 0);

    built = ixd_config_from_tree(&root, "t.yaml", IXD_CONFIG_SYNTAX_ONLY, err, sizeof(err));
    if (built == NULL) {
        fail_msg("%s", err);
    }
    assert_int_equal(built->n_outputs, 2);
    assert_string_equal(built->outputs[0].name, "out");
    assert_string_equal(built->outputs[0].type, "count");
    assert_string_equal(built->outputs[1].name, "third");
    /* the file's tree is untouched by edits of a copy */
    assert_non_null(ixd_config_tree_item(&cfg->tree, "outputs", "second", NULL));
    ixd_config_free(built);
    ixd_cnode_release(&root);
    ixd_config_free(cfg);
}

static void
put_adds_a_missing_section(void **state)
{
    struct ixd_config *cfg = parse_ok(base_yaml), *built;
    struct ixd_cnode root, item;

    (void)state;
    assert_int_equal(ixd_cnode_copy(&root, &cfg->tree), 0);
    item = tree_of("name: p\nfrom: [udp]\nto: [second]\n", IXD_CONFIG_TREE_LINE);
    assert_int_equal(ixd_config_tree_put(&root, "pipelines", "p", &item), 0);
    built = ixd_config_from_tree(&root, "t.yaml", IXD_CONFIG_SYNTAX_ONLY, err, sizeof(err));
    if (built == NULL) {
        fail_msg("%s", err);
    }
    assert_int_equal(built->n_pipelines, 1);
    assert_string_equal(built->pipelines[0].name, "p");
    assert_int_equal(built->pipelines[0].n_to, 1);
    assert_int_equal(built->pipelines[0].to[0], 1);
    ixd_config_free(built);
    ixd_cnode_release(&root);
    ixd_config_free(cfg);
}

/* An error in a written item points into it; one in the file keeps the file's position. */
static void
errors_are_located_by_pointer(void **state)
{
    struct ixd_config *cfg = parse_ok(base_yaml), *built;
    struct ixd_cnode root, item;
    char pointer[256];
    const char *message;

    (void)state;
    assert_int_equal(ixd_cnode_copy(&root, &cfg->tree), 0);
    /* a pipeline naming an output that is not there: the envelope's own check */
    item = tree_of("name: p\nfrom: [udp]\nto: [out, missing]\n", IXD_CONFIG_TREE_LINE + 50);
    assert_int_equal(ixd_config_tree_put(&root, "pipelines", "p", &item), 0);
    built = ixd_config_from_tree(&root, "t.yaml", IXD_CONFIG_SYNTAX_ONLY, err, sizeof(err));
    assert_null(built);
    assert_int_equal(
        ixd_config_tree_locate(&root, "t.yaml", err, pointer, sizeof(pointer), &message), 0);
    assert_string_equal(pointer, "/pipelines/0/to/1");
    assert_non_null(strstr(message, "missing"));
    assert_null(strstr(message, "t.yaml"));

    /* a key of the file's own items keeps its line and column */
    assert_int_equal(ixd_cnode_pointer_at(&root, 5, 5, pointer, sizeof(pointer)), 0);
    assert_string_equal(pointer, "/collectors/0/listen");
    assert_int_equal(ixd_cnode_pointer_at(&root, 77, 1, pointer, sizeof(pointer)), -1);
    ixd_cnode_release(&root);
    ixd_config_free(cfg);
}

/* RFC 6901: ~ and / in a key are escaped in its pointer. */
static void
pointer_escapes_keys(void **state)
{
    struct ixd_cnode n = tree_of("\"a/b\":\n  \"c~d\": 1\n", 10);
    char pointer[64];

    (void)state;
    assert_int_equal(ixd_cnode_pointer_at(&n, 13, 1, pointer, sizeof(pointer)), 0);
    assert_string_equal(pointer, "/a~1b/c~0d");
    /* too small a buffer is a failure, not a cut pointer */
    assert_int_equal(ixd_cnode_pointer_at(&n, 13, 1, pointer, 6), -1);
    ixd_cnode_release(&n);
}

/* Written out and read back, a tree is the same: quoting, empty values and odd text kept. */
static void
yaml_round_trip(void **state)
{
    static const char text[] = "collectors:\n"
                               "  - name: \"x: y\"\n"
                               "    empty:\n"
                               "    number: 12\n"
                               "    string: \"12\"\n"
                               "    list: [a, \"- b\", 'c # d']\n"
                               "    nested: {deep: {er: \"\\u00e9\\n\"}}\n";
    struct ixd_cnode a = tree_of(text, 1), b;
    size_t len;
    char *out;

    (void)state;
    out = ixd_config_tree_yaml(&a, &len);
    assert_non_null(out);
    assert_int_equal(strlen(out), len);
    assert_int_equal(ixd_config_tree_parse("again", out, len, &b, err, sizeof(err)), 0);
    assert_true(ixd_cnode_equal(&a, &b));
    assert_int_equal(ixd_cnode_digest(&a), ixd_cnode_digest(&b));
    free(out);
    ixd_cnode_release(&b);
    ixd_cnode_release(&a);
}

static void
digest_tells_apart_quoting_and_splits(void **state)
{
    struct ixd_cnode a = tree_of("k: 12\n", 1), b = tree_of("k: \"12\"\n", 1);
    struct ixd_cnode c = tree_of("k: [ab, c]\n", 1), d = tree_of("k: [a, bc]\n", 1);
    struct ixd_cnode e = tree_of("k:  12\n\n", 7);

    (void)state;
    assert_false(ixd_cnode_equal(&a, &b));
    assert_int_not_equal(ixd_cnode_digest(&a), ixd_cnode_digest(&b));
    assert_int_not_equal(ixd_cnode_digest(&c), ixd_cnode_digest(&d));
    /* positions are not part of what an item is */
    assert_true(ixd_cnode_equal(&a, &e));
    assert_int_equal(ixd_cnode_digest(&a), ixd_cnode_digest(&e));
    ixd_cnode_release(&a);
    ixd_cnode_release(&b);
    ixd_cnode_release(&c);
    ixd_cnode_release(&d);
    ixd_cnode_release(&e);
}

static void
error_split_needs_the_name_and_position(void **state)
{
    unsigned line = 0, column = 0;
    const char *message = NULL;

    (void)state;
    assert_int_equal(
        ixd_config_error_split("a:b.yaml:3:14: no", "a:b.yaml", &line, &column, &message), 0);
    assert_int_equal(line, 3);
    assert_int_equal(column, 14);
    assert_string_equal(message, "no");
    assert_int_equal(ixd_config_error_split("other:3:14: no", "a.yaml", &line, &column, &message),
                     -1);
    assert_int_equal(ixd_config_error_split("a.yaml:0:0 x", "a.yaml", &line, &column, &message),
                     -1);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(tree_keeps_the_document_and_quoting),
        cmocka_unit_test(quoting_kept_where_it_types),
        cmocka_unit_test(config_from_its_own_tree_is_the_same),
        cmocka_unit_test(put_replaces_appends_and_removes_by_name),
        cmocka_unit_test(put_adds_a_missing_section),
        cmocka_unit_test(errors_are_located_by_pointer),
        cmocka_unit_test(pointer_escapes_keys),
        cmocka_unit_test(yaml_round_trip),
        cmocka_unit_test(digest_tells_apart_quoting_and_splits),
        cmocka_unit_test(error_split_needs_the_name_and_position),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
