/* The enrich stage inside a pipeline (src/enrich/stage_enrich.c): the records a stage after it
 * sees, their derived templates alive for the whole batch when the stage's bound on derived
 * templates is reached in the middle of one. */
#include <arpa/inet.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "core/config.h"
#include "ipfix/decode.h"
#include "ipfix/ie.h"
#include "ipfix/template.h"
#include "pipeline/pipeline.h"
#include "registry/registry.h"

#define TEMPLATES 4400 /* beyond the stage's 4,096 derived templates */

static uint64_t seen, seen_named;

/* A stage after enrich: reads every record's template (a freed one is a use after free). */
static void *
check_conf(const struct ixd_cnode *s, const struct ixd_stage_env *env, char *e, size_t n)
{
    return (void *)1;
}

static void
check_conf_free(void *c)
{
}

static void *
check_start(const void *conf, unsigned worker, struct ixd_stage_ctx *ctx)
{
    return (void *)1;
}

static void
check_process(void *state, struct ixd_batch *b)
{
    for (size_t i = 0; i < b->count; i++) {
        const struct ixd_template *t = b->records[i].tmpl;
        seen++;
        /* the two fields sent, two AS numbers and six strings added */
        seen_named += t->field_count == 10 && t->fields[9].pen == 32473;
    }
}

static void
check_stop(void *state)
{
}

static const struct ixd_stage_type check = {
    .name = "check",
    .conf = check_conf,
    .conf_free = check_conf_free,
    .start = check_start,
    .process = check_process,
    .stop = check_stop,
};

static void
derived_templates_live_through_the_batch(void **state)
{
    static struct ixd_template *t[TEMPLATES];
    static struct ixd_record recs[TEMPLATES];
    static uint8_t data[TEMPLATES][8];
    char err[1024], text[1024], csv[] = "/tmp/ixd-enrich-stage-XXXXXX.csv";
    struct ixd_ie_registry *reg = ixd_ie_registry_new(NULL, 0, err, sizeof(err));
    struct ixd_source source = {.collector = "a", .exporter_text = "192.0.2.1", .odid = 1};
    struct ixd_template_rules rules = {reg, 512, 0};
    struct ixd_instances *in;
    struct ixd_pipeline_run *run;
    struct ixd_config *cfg;
    int fd = mkstemps(csv, 4);
    size_t i;

    assert_non_null(reg);
    assert_int_equal(ixd_ie_registry_add_own(reg, 32473), 0);
    assert_int_equal(ixd_registry_add_stage_type(&check), 0);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, "10.0.0.0/8,65001,Ten\n", 21), 21);
    close(fd);
    for (i = 0; i < TEMPLATES; i++) { /* one layout, but each its own template (serial) */
        static const uint8_t spec[] = {1, 0, 0, 2, 0, 8, 0, 4, 0, 12, 0, 4};
        enum ixd_error why;
        size_t used;
        uint16_t tid;
        assert_int_equal(
            ixd_template_parse(spec, sizeof(spec), 0, &rules, &t[i], &tid, &used, &why),
            IXD_TPARSE_TEMPLATE);
        memcpy(data[i], "\x0a\x00\x00\x01\xc0\x00\x02\x01", 8);
        recs[i] = (struct ixd_record){t[i], data[i], 8, NULL, NULL};
    }
    snprintf(text, sizeof(text),
             "collectors: [{name: a, listen: \"127.0.0.1:4739\"}]\n"
             "outputs: [{name: o, type: count}]\n"
             "pipelines:\n"
             "  - {name: p, from: a, to: o, stages: [{enrich: {addresses: [%s]}}, {check: x}]}\n",
             csv);
    cfg = ixd_config_parse("t.yaml", text, strlen(text), err, sizeof(err));
    assert_non_null(cfg);
    in = ixd_instances_conf(cfg, reg, 1, IXD_CONFIG_DEFAULT, err, sizeof(err));
    if (in == NULL) {
        fail_msg("%s", err);
    }
    unlink(csv);
    run = ixd_pipeline_start(&in->pipelines[0], 0, NULL, 0);
    assert_non_null(run);
    for (i = 0; i < TEMPLATES;) { /* a first batch of 100: the bound falls inside a batch */
        size_t n = i == 0 ? 100 : TEMPLATES - i < IXD_BATCH_MAX ? TEMPLATES - i : IXD_BATCH_MAX;
        struct ixd_batch batch = {&source, n, recs + i};
        ixd_pipeline_process(run, &batch);
        i += n;
    }
    assert_int_equal(seen, TEMPLATES);
    assert_int_equal(seen_named, TEMPLATES);
    ixd_pipeline_stop(run);
    ixd_instances_free(in);
    ixd_config_free(cfg);
    for (i = 0; i < TEMPLATES; i++) {
        ixd_template_free(t[i]);
    }
    ixd_ie_registry_free(reg);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(derived_templates_live_through_the_batch),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
