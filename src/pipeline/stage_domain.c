/* observation-domain: re-labels records with another observation domain ID, so that a
 * downstream collector sees the domains the mediator chooses (e.g. one per site). */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>

#include "core/cnode.h"
#include "pipeline/pipeline.h"

struct domain_conf {
    uint32_t odid;
};

struct domain_state {
    uint32_t odid;
    struct ixd_source source; /* the batch's source with the new domain */
};

static void *
domain_conf(const struct ixd_cnode *settings, const struct ixd_stage_env *env, char *err,
            size_t errlen)
{
    struct domain_conf *c;
    unsigned long long v;
    char *end;

    errno = 0;
    v = settings->kind == IXD_CNODE_SCALAR ? strtoull(settings->text, &end, 10) : 0;
    if (settings->kind != IXD_CNODE_SCALAR || settings->text[0] < '0' || settings->text[0] > '9' ||
        *end != '\0' || errno != 0 || v > UINT32_MAX) {
        ixd_cnode_fail(settings, env->file, err, errlen,
                       "observation-domain wants an ID from 0 to 4294967295");
        return NULL;
    }
    c = calloc(1, sizeof(*c));
    if (c != NULL) {
        c->odid = (uint32_t)v;
    }
    return c;
}

static void *
domain_start(const void *conf, unsigned worker, struct ixd_stage_ctx *ctx)
{
    struct domain_state *st = calloc(1, sizeof(*st));

    (void)worker;
    (void)ctx;
    if (st != NULL) {
        st->odid = ((const struct domain_conf *)conf)->odid;
    }
    return st;
}

static void
domain_process(void *state, struct ixd_batch *batch)
{
    struct domain_state *st = state;

    st->source = *batch->source;
    st->source.odid = st->odid;
    batch->source = &st->source;
}

const struct ixd_stage_type ixd_stage_observation_domain = {
    .name = "observation-domain",
    .conf = domain_conf,
    .conf_free = free,
    .start = domain_start,
    .process = domain_process,
    .tick = NULL,
    .stop = free,
};
