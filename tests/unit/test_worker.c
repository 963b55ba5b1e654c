/* Unit tests of src/daemon/worker.c: a real worker thread on a real runtime, observed through a
 * stage type of the test's own. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "core/config.h"
#include "daemon/runtime.h"
#include "daemon/worker.h"
#include "ipfix/ie.h"
#include "pipeline/pipeline.h"
#include "registry/registry.h"

#include "worker_fixture.h"

static atomic_int ticks_seen;
static atomic_int stages_stopped;

static void *
ticks_conf(const struct ixd_cnode *settings, const struct ixd_stage_env *env, char *err,
           size_t errlen)
{
    static int conf;
    return &conf;
}

static void
ticks_conf_free(void *conf)
{
}

static void *
ticks_start(const void *conf, unsigned worker, struct ixd_stage_ctx *ctx)
{
    static int state;
    return &state;
}

static void
ticks_process(void *state, struct ixd_batch *batch)
{
}

static void
ticks_tick(void *state, double now)
{
    atomic_fetch_add(&ticks_seen, 1);
}

static void
ticks_stop(void *state)
{
    atomic_fetch_add(&stages_stopped, 1);
}

static const struct ixd_stage_type ticks_stage = {
    .name = "ticks",
    .conf = ticks_conf,
    .conf_free = ticks_conf_free,
    .start = ticks_start,
    .process = ticks_process,
    .tick = ticks_tick,
    .stop = ticks_stop,
};


/* stage.h promises tick() every 100 ms: a worker must call it for each pipeline it runs. */
static void
test_worker_ticks_its_stages(void **unused)
{
    char text[512], err[512] = "";
    struct ixd_config *cfg;
    struct ixd_ie_registry *reg;
    struct ixd_runtime *rt;
    struct ixd_worker *w;
    int seen;

    snprintf(text, sizeof(text),
             "workers: 1\n"
             "collectors:\n"
             "  - {name: u, transport: udp, listen: \"127.0.0.1:%u\"}\n"
             "outputs:\n"
             "  - {name: out, type: json, path: /dev/null}\n"
             "pipelines:\n"
             "  - {name: p, from: [u], to: [out], stages: [ticks: {}]}\n",
             free_udp_port());
    cfg = ixd_config_parse("t.yaml", text, strlen(text), err, sizeof(err));
    if (cfg == NULL) {
        fail_msg("config: %s", err);
    }
    reg = ixd_ie_registry_new(NULL, 0, err, sizeof(err));
    assert_non_null(reg);
    rt = ixd_runtime_new(cfg, 1, reg, NULL, err, sizeof(err));
    if (rt == NULL) {
        fail_msg("runtime: %s", err);
    }
    w = ixd_worker_start(0, rt, err, sizeof(err));
    if (w == NULL) {
        fail_msg("worker: %s", err);
    }
    sleep_ms(1000);
    seen = atomic_load(&ticks_seen);
    ixd_worker_stop(w);
    ixd_worker_free(w);
    ixd_runtime_free(rt);
    ixd_ie_registry_free(reg);
    /* ten 100 ms ticks in a second; a loaded machine may run a few late, never none */
    assert_in_range(seen, 3, 11);
    assert_int_equal(atomic_load(&stages_stopped), 1);
}

/* A runtime built from a running one (a reload) takes over its unchanged socket and output
 * without writing to it: the old runtime's workers read its outputs (the API's snapshots) until
 * they switch, so it lets go only in ixd_runtime_replaced(). */
static void
test_reload_leaves_the_running_runtime_whole(void **unused)
{
    char text[512], err[512] = "";
    struct ixd_ie_registry *reg = ixd_ie_registry_new(NULL, 0, err, sizeof(err));
    struct ixd_runtime *old, *rt;
    struct ixd_output *out;
    void *listener;

    snprintf(text, sizeof(text),
             "workers: 1\n"
             "collectors:\n"
             "  - {name: u, transport: udp, listen: \"127.0.0.1:%u\"}\n"
             "outputs:\n"
             "  - {name: out, type: json, path: /dev/null}\n",
             free_udp_port());
    assert_non_null(reg);
    old = ixd_runtime_new(ixd_config_parse("t.yaml", text, strlen(text), err, sizeof(err)), 1, reg,
                          NULL, err, sizeof(err));
    if (old == NULL) {
        fail_msg("runtime: %s", err);
    }
    out = old->outputs[0];
    listener = old->listeners[0].shared;
    rt = ixd_runtime_new(ixd_config_parse("t.yaml", text, strlen(text), err, sizeof(err)), 1, reg,
                         old, err, sizeof(err));
    if (rt == NULL) {
        fail_msg("runtime: %s", err);
    }
    assert_ptr_equal(rt->outputs[0], out);
    assert_ptr_equal(rt->listeners[0].shared, listener);
    assert_ptr_equal(old->outputs[0], out); /* still readable by the old runtime's workers */
    assert_ptr_equal(old->listeners[0].shared, listener);
    ixd_runtime_replaced(old, rt);
    assert_null(old->outputs[0]);
    assert_null(old->listeners[0].shared);
    ixd_runtime_free(old); /* closes nothing the new one runs (ASan: no use after free) */
    assert_ptr_equal(rt->outputs[0], out);
    ixd_runtime_free(rt);
    ixd_ie_registry_free(reg);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_worker_ticks_its_stages),
        cmocka_unit_test(test_reload_leaves_the_running_runtime_whole),
    };

    if (ixd_registry_add_stage_type(&ticks_stage) != 0) {
        return 1;
    }
    return cmocka_run_group_tests(tests, NULL, NULL);
}
