/*
 * One input = one YAML configuration for ixd_config_parse. The text is passed without a
 * terminating NUL, exactly as sized by the fuzzer, so reading past len is an ASan finding.
 * An accepted config is walked the way a reload compares it with the running one.
 */
#include "fuzz.h"

#include <arpa/inet.h>
#include <string.h>

#include "core/address.h"
#include "core/config.h"

/* An accepted allow-list is matched against both address families, as a worker does. */
static void
check_allow(const struct ixd_config_collector *c)
{
    struct sockaddr_in sin;
    struct sockaddr_in6 sin6;
    size_t i;

    FUZZ_CHECK(c->n_allow == 0 || c->allow != NULL);
    for (i = 0; i < c->n_allow; i++) {
        FUZZ_CHECK(c->allow[i].bits <= 128);
    }
    memset(&sin, 0, sizeof(sin));
    sin.sin_family = AF_INET;
    sin.sin_addr.s_addr = htonl(0x0a000001);
    memset(&sin6, 0, sizeof(sin6));
    sin6.sin6_family = AF_INET6;
    sin6.sin6_addr.s6_addr[0] = 0x20;
    sin6.sin6_addr.s6_addr[15] = 1;
    (void)ixd_prefix_match(c->allow, c->n_allow, (const struct sockaddr *)&sin);
    (void)ixd_prefix_match(c->allow, c->n_allow, (const struct sockaddr *)&sin6);
}

static void
check_accepted(const struct ixd_config *cfg)
{
    size_t i;

    for (i = 0; i < cfg->n_collectors; i++) {
        const struct ixd_config_collector *c = &cfg->collectors[i];

        /* the JSON prefix buffer (512 bytes) counts on names of plain characters */
        FUZZ_CHECK(memchr(c->name, '\0', sizeof(c->name)) != NULL && c->name[0] != '\0');
        FUZZ_CHECK(strspn(c->name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                   "0123456789-_.") == strlen(c->name));
        FUZZ_CHECK(memchr(c->listen, '\0', sizeof(c->listen)) != NULL);
        FUZZ_CHECK(ixd_config_collector_same(c, c));
        FUZZ_CHECK(ixd_listen_overlaps(c, c));
        check_allow(c);
    }
    for (i = 0; i < cfg->n_outputs; i++) {
        FUZZ_CHECK(memchr(cfg->outputs[i].path, '\0', sizeof(cfg->outputs[i].path)) != NULL);
        FUZZ_CHECK(ixd_config_output_same(&cfg->outputs[i], &cfg->outputs[i]));
    }
    for (i = 0; i < cfg->n_pipelines; i++) {
        const struct ixd_config_pipeline *p = &cfg->pipelines[i];
        size_t j;

        for (j = 0; j < p->n_from; j++) {
            FUZZ_CHECK(p->from[j] >= 0 && (size_t)p->from[j] < cfg->n_collectors);
        }
        for (j = 0; j < p->n_to; j++) {
            FUZZ_CHECK(p->to[j] >= 0 && (size_t)p->to[j] < cfg->n_outputs);
        }
    }
    for (i = 0; i < cfg->n_element_files; i++) {
        FUZZ_CHECK(cfg->element_files[i] != NULL);
    }
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char err[512];
    struct ixd_config *cfg;

    err[0] = '\0';
    cfg = ixd_config_parse("fuzz.yaml", (const char *)data, size, err, sizeof(err));
    if (cfg == NULL) {
        /* a refusal always says why */
        FUZZ_CHECK(err[0] != '\0' && memchr(err, '\0', sizeof(err)) != NULL);
        return 0;
    }
    check_accepted(cfg);
    ixd_config_free(cfg);
    return 0;
}
