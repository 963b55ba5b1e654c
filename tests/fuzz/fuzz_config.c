/*
 * One input = one YAML configuration for ixd_config_parse. The text is passed without a
 * terminating NUL, exactly as sized by the fuzzer, so reading past len is an ASan finding.
 * An accepted config is walked the way a reload compares it with the running one, and its
 * outputs and stages are checked by their types (syntax only: no file is opened).
 */
#include "fuzz.h"

#include <arpa/inet.h>
#include <string.h>

#include "core/address.h"
#include "core/config.h"
#include "core/keys.h"
#include "core/keys_net.h"
#include "registry/registry.h"

/* An accepted allow-list is matched against both address families, as a worker does. */
static void
check_allow(const struct ixd_prefix_list *l)
{
    struct sockaddr_in sin;
    struct sockaddr_in6 sin6;
    size_t i;

    FUZZ_CHECK(l->n == 0 || l->p != NULL);
    for (i = 0; i < l->n; i++) {
        FUZZ_CHECK(l->p[i].bits <= 128);
    }
    memset(&sin, 0, sizeof(sin));
    sin.sin_family = AF_INET;
    sin.sin_addr.s_addr = htonl(0x0a000001);
    memset(&sin6, 0, sizeof(sin6));
    sin6.sin6_family = AF_INET6;
    sin6.sin6_addr.s6_addr[0] = 0x20;
    sin6.sin6_addr.s6_addr[15] = 1;
    (void)ixd_prefix_match(l->p, l->n, (const struct sockaddr *)&sin);
    (void)ixd_prefix_match(l->p, l->n, (const struct sockaddr *)&sin6);
}

/* A collector's settings as its type reads them: the same as themselves, in conflict with
 * themselves when they listen, the allow-list usable. */
static void
check_input(const struct ixd_input_conf *c)
{
    size_t off = 0;
    const struct ixd_key *k = ixd_keys_find(c->type->m.keys, "allow", &off);
    char where[256];

    FUZZ_CHECK(ixd_keys_same(c->type->m.keys, c->settings, c->settings, IXD_KEYS_ALL));
    if (k != NULL) {
        check_allow((const struct ixd_prefix_list *)((const char *)c->settings + off + k->offset));
    }
    if (ixd_keys_find(c->type->m.keys, "listen", NULL) != NULL) {
        FUZZ_CHECK(c->type->m.conflicts(c->settings, c->settings, where, sizeof(where)));
    }
}

/* The module types read their settings; a refusal has a message, and what they accept
 * compares equal to itself (a reload would keep it). */
static void
check_instances(const struct ixd_config *cfg)
{
    static struct ixd_ie_registry *reg;
    struct ixd_instances *in;
    char err[512] = "";

    if (reg == NULL) {
        reg = ixd_ie_registry_new(NULL, 0, err, sizeof(err));
        FUZZ_CHECK(reg != NULL);
    }
    in = ixd_instances_conf(cfg, reg, 2, IXD_CONFIG_SYNTAX_ONLY, err, sizeof(err));
    if (in == NULL) {
        FUZZ_CHECK(err[0] != '\0');
        return;
    }
    FUZZ_CHECK(in->n_inputs == cfg->n_collectors && in->n_outputs == cfg->n_outputs);
    for (size_t i = 0; i < in->n_inputs; i++) {
        check_input(&in->inputs[i]);
    }
    for (size_t i = 0; i < in->n_outputs; i++) {
        const struct ixd_output_conf *c = &in->outputs[i];
        FUZZ_CHECK(ixd_keys_same(c->type->m.keys, c->settings, c->settings, IXD_KEYS_ALL));
    }
    ixd_instances_free(in);
}

static void
check_accepted(const struct ixd_config *cfg)
{
    size_t i;

    for (i = 0; i < cfg->n_collectors; i++) {
        const struct ixd_config_module *c = &cfg->collectors[i];

        /* the JSON prefix buffer (512 bytes) counts on names of plain characters */
        FUZZ_CHECK(memchr(c->name, '\0', sizeof(c->name)) != NULL && c->name[0] != '\0');
        FUZZ_CHECK(strspn(c->name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                   "0123456789-_.") == strlen(c->name));
        FUZZ_CHECK(memchr(c->type, '\0', sizeof(c->type)) != NULL);
        FUZZ_CHECK(c->settings.kind == IXD_CNODE_MAPPING);
    }
    for (i = 0; i < cfg->n_outputs; i++) {
        FUZZ_CHECK(memchr(cfg->outputs[i].type, '\0', sizeof(cfg->outputs[i].type)) != NULL);
        FUZZ_CHECK(cfg->outputs[i].settings.kind == IXD_CNODE_MAPPING);
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
    check_instances(cfg);
    ixd_config_free(cfg);
    return 0;
}
