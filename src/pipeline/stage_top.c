/*
 * Stage top-talkers: per exporter, the heaviest source and destination addresses, ports,
 * protocols and AS numbers by octets and by packets over a sliding window (top.h,
 * docs/top-talkers.md). Records pass unchanged. Each worker counts into the current slot's
 * summaries; at its tick, a slot that ended is handed over whole and the worker posts its
 * window on the board for /api/v1/top.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/address.h"
#include "core/board.h"
#include "core/clock.h"
#include "core/log.h"
#include "core/keys.h"
#include "ipfix/template.h"
#include "ipfix/wire.h"
#include "ipfixd/stage.h"
#include "pipeline/top.h"

struct top_conf {
    char name[IXD_NAME_MAX];
    uint32_t window, slot; /* seconds */
    uint32_t capacity, exporters;
    unsigned dims; /* a bit per enum ixd_top_dim */
    int renormalise;
};

static int
parse_dims(const struct ixd_key *k, const struct ixd_cnode *v, void *field,
           const struct ixd_key_env *env, char *err, size_t errlen)
{
    unsigned *mask = field;

    *mask = 0;
    if (v->kind == IXD_CNODE_SCALAR && strcmp(v->text, "all") == 0) {
        *mask = (1u << IXD_TOP_DIMS) - 1;
        return 0;
    }
    if (v->kind != IXD_CNODE_SEQUENCE || v->n == 0) {
        return ixd_cnode_fail(v, env->file, err, errlen,
                              "%s wants all, or a list of source-address, destination-address, "
                              "source-port, destination-port, protocol, source-as, "
                              "destination-as",
                              k->name);
    }
    for (size_t i = 0; i < v->n; i++) {
        const struct ixd_cnode *d = &v->items[i];
        int dim = d->kind == IXD_CNODE_SCALAR ? ixd_top_dim_parse(d->text) : -1;
        if (dim < 0) {
            return ixd_cnode_fail(d, env->file, err, errlen, "no dimension is named '%s'",
                                  d->kind == IXD_CNODE_SCALAR ? d->text : "?");
        }
        *mask |= 1u << dim;
    }
    return 0;
}

#define AT(m) IXD_KEY_AT(struct top_conf, m)

static const struct ixd_key top_keys[] = {
    {.name = "name",
     .kind = IXD_KEY_NAME,
     AT(name),
     .def = "top",
     .help = "what /api/v1/top?name= picks"},
    {.name = "window",
     .kind = IXD_KEY_DURATION,
     AT(window),
     .min = 10,
     .max = 86400,
     .def = "5m",
     .help = "the longest window a query may ask for"},
    {.name = "slot",
     .kind = IXD_KEY_DURATION,
     AT(slot),
     .min = 1,
     .max = 3600,
     .def = "1m",
     .help = "the window moves in steps of this"},
    {.name = "capacity",
     .kind = IXD_KEY_U32,
     AT(capacity),
     .min = 8,
     .max = 1u << 16,
     .def = "128",
     .help = "counters per summary (rounded up to a power of two)"},
    {.name = "exporters",
     .kind = IXD_KEY_U32,
     AT(exporters),
     .min = 1,
     .max = 1u << 16,
     .def = "64",
     .help = "exporters counted one by one per worker; the rest together"},
    {.name = "dimensions",
     .kind = IXD_KEY_CUSTOM,
     AT(dims),
     .def = "all",
     .parse = parse_dims,
     .help = "what is counted"},
    {.name = "renormalise",
     .kind = IXD_KEY_BOOL,
     AT(renormalise),
     .def = "true",
     .help = "packets and octets times the sampling rate"},
    {NULL},
};

static void *
top_conf(const struct ixd_cnode *settings, const struct ixd_stage_env *env, char *err,
         size_t errlen)
{
    struct top_conf *c = calloc(1, sizeof(*c));
    struct ixd_key_env kenv = {env->file, env->syntax_only ? IXD_CONFIG_SYNTAX_ONLY : 0,
                               "stage top-talkers"};
    struct ixd_cnode empty = {
        .kind = IXD_CNODE_MAPPING, .line = settings->line, .column = settings->column};

    if (c == NULL) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    /* "- top-talkers: {}" or "- top-talkers:" alone: the defaults */
    if (settings->kind == IXD_CNODE_SCALAR && settings->text != NULL && settings->text[0] == '\0') {
        settings = &empty;
    }
    if (settings->kind != IXD_CNODE_MAPPING) {
        ixd_cnode_fail(settings, env->file, err, errlen,
                       "top-talkers wants settings, e.g. {window: 5m, capacity: 128}");
        free(c);
        return NULL;
    }
    if (ixd_keys_parse(top_keys, settings, c, &kenv, err, errlen) == -1) {
        free(c);
        return NULL;
    }
    if ((c->window + c->slot - 1) / c->slot > IXD_TOP_SLOTS_MAX) {
        ixd_cnode_fail(settings, env->file, err, errlen,
                       "window (%u s) may hold at most %d slots of %u s", (unsigned)c->window,
                       IXD_TOP_SLOTS_MAX, (unsigned)c->slot);
        free(c);
        return NULL;
    }
    return c;
}

static void
top_conf_free(void *conf)
{
    free(conf);
}

/* What a template's records give, found once per template. */
struct fields {
    uint64_t serial;
    int16_t addr4[2], addr6[2]; /* source, destination */
    int16_t num[5];             /* source port, destination port, protocol, source AS, dest AS */
    int16_t octets[3], packets[3];
    uint8_t options, per_record;
};

#define TCACHE 16

struct top_state {
    const struct top_conf *c;
    unsigned worker;
    struct ixd_board_slot *posted;
    int64_t slot_start;
    size_t n;                     /* exporters in the current slot */
    struct ixd_top_exporter *exp; /* c->exporters + 1 (the last: other), NULL until needed */
    const char *last_collector;   /* the last batch's exporter, its entry */
    struct in6_addr last_addr;
    size_t last;
    struct ixd_top_window win; /* the slots that ended, oldest first */
    struct fields tc[TCACHE];
    struct ixd_ratelimit oom; /* counts left out for want of memory: the records pass */
};

static int16_t
find(const struct ixd_template *t, uint16_t id)
{
    return (int16_t)ixd_template_find(t, 0, id);
}

static const struct fields *
fields_of(struct top_state *st, const struct ixd_template *t)
{
    struct fields *f = &st->tc[t->serial % TCACHE];
    static const uint16_t nums[5] = {7, 11, 4, 16, 17};

    if (f->serial == t->serial) {
        return f;
    }
    f->serial = t->serial;
    f->options = t->scope_count > 0;
    f->per_record = t->sampling_field >= 0 || t->sampler_field >= 0;
    f->addr4[0] = find(t, 8);
    f->addr4[1] = find(t, 12);
    f->addr6[0] = find(t, 27);
    f->addr6[1] = find(t, 28);
    for (int i = 0; i < 5; i++) {
        f->num[i] = find(t, nums[i]);
    }
    ixd_template_find_counts(t, f->octets, f->packets);
    return f;
}

/* The key of dimension d in r; 0 when the record has no such field. */
static int
key_of(const struct ixd_record *r, const struct fields *f, int d, uint8_t *key)
{
    uint16_t len;
    const uint8_t *p;

    memset(key, 0, IXD_TOPK_KEY);
    if (d <= IXD_TOP_DST_ADDR) {
        if (f->addr4[d] >= 0) {
            p = ixd_record_field(r, (unsigned)f->addr4[d], &len);
            if (len != 4) {
                return 0;
            }
            key[10] = key[11] = 0xff;
            memcpy(key + 12, p, 4);
            return 1;
        }
        if (f->addr6[d] >= 0) {
            p = ixd_record_field(r, (unsigned)f->addr6[d], &len);
            if (len != 16) {
                return 0;
            }
            memcpy(key, p, 16);
            return 1;
        }
        return 0;
    }
    if (f->num[d - IXD_TOP_SRC_PORT] < 0) {
        return 0;
    }
    uint64_t v = ixd_record_uint(r, f->num[d - IXD_TOP_SRC_PORT]);
    memcpy(key, &v, sizeof(v));
    return 1;
}

static void
exporter_init(struct top_state *st, struct ixd_top_exporter *e)
{
    for (int d = 0; d < IXD_TOP_DIMS; d++) {
        for (int m = 0; m < IXD_TOP_METRICS; m++) {
            ixd_topk_init(&e->sum[d][m], st->c->capacity);
        }
    }
}

/* The entry of the batch's exporter in the current slot; the shared one past the table. */
static struct ixd_top_exporter *
exporter_of(struct top_state *st, const struct ixd_source *src)
{
    struct in6_addr a;
    size_t i;

    ixd_address_mapped((const struct sockaddr *)&src->exporter, &a, NULL);
    if (st->exp == NULL && (st->exp = calloc(st->c->exporters + 1, sizeof(*st->exp))) == NULL) {
        return NULL;
    }
    if (st->last < st->n && st->last_collector == src->collector &&
        memcmp(&a, &st->last_addr, sizeof(a)) == 0) {
        return &st->exp[st->last];
    }
    for (i = 0; i < st->n; i++) {
        if (!st->exp[i].other && memcmp(&st->exp[i].addr, &a, sizeof(a)) == 0 &&
            strcmp(st->exp[i].collector, src->collector) == 0) {
            break;
        }
    }
    if (i == st->n) {
        if (st->n == st->c->exporters) {
            i = st->c->exporters; /* the rest, together */
            if (!st->exp[i].other) {
                st->exp[i].other = 1;
                exporter_init(st, &st->exp[i]);
            }
        } else {
            st->n++;
            snprintf(st->exp[i].collector, sizeof(st->exp[i].collector), "%s", src->collector);
            st->exp[i].addr = a;
            exporter_init(st, &st->exp[i]);
        }
    }
    st->last = i;
    st->last_collector = src->collector;
    st->last_addr = a;
    return &st->exp[i];
}

static void
top_process(void *state, struct ixd_batch *batch)
{
    struct top_state *st = state;
    const struct ixd_resolver *res = st->c->renormalise ? batch->source->resolver : NULL;
    struct ixd_top_exporter *e = exporter_of(st, batch->source);
    const struct ixd_template *tmpl = NULL;
    const struct fields *f = NULL;
    uint64_t rate = 1;

    if (e == NULL) {
        ixd_log_limited(&st->oom, ixd_mono_now(), IXD_LOG_WARNING,
                        "top-talkers %s: out of memory: records pass uncounted", st->c->name);
        return;
    }
    for (size_t i = 0; i < batch->count; i++) {
        const struct ixd_record *r = &batch->records[i];
        uint64_t w[IXD_TOP_METRICS];
        uint8_t key[IXD_TOPK_KEY];
        if (r->tmpl != tmpl) {
            tmpl = r->tmpl;
            f = fields_of(st, tmpl);
            rate = res != NULL && !f->per_record ? res->sampling_of(res, r) : 1;
        }
        if (f->options) {
            continue;
        }
        if (res != NULL && f->per_record) {
            rate = res->sampling_of(res, r);
        }
        w[IXD_TOP_OCTETS] = ixd_record_count(r, f->octets) * rate;
        w[IXD_TOP_PACKETS] = ixd_record_count(r, f->packets) * rate;
        for (int d = 0; d < IXD_TOP_DIMS; d++) {
            if (!(st->c->dims & (1u << d)) || !key_of(r, f, d, key)) {
                continue;
            }
            for (int m = 0; m < IXD_TOP_METRICS; m++) {
                if (w[m] > 0 && ixd_topk_add(&e->sum[d][m], key, w[m]) == -1) {
                    ixd_log_limited(&st->oom, ixd_mono_now(), IXD_LOG_WARNING,
                                    "top-talkers %s: out of memory: records pass uncounted",
                                    st->c->name);
                }
            }
        }
    }
}

/* Posts the window: a new object holding a reference to each slot. */
static void
post(struct top_state *st)
{
    struct ixd_top_window *w = malloc(sizeof(*w));

    if (w == NULL || st->posted == NULL) {
        free(w);
        return; /* out of memory: the previous window stays until the next slot */
    }
    *w = st->win;
    for (size_t i = 0; i < w->n; i++) {
        ixd_top_slot_ref(w->slot[i]);
    }
    ixd_board_post(st->posted, ixd_board_item_new(w, ixd_top_window_free));
}

/* The current slot ends at end: handed over whole, the window moves on. */
static void
rotate(struct top_state *st, int64_t end)
{
    size_t keep = (st->c->window + st->c->slot - 1) / st->c->slot;
    struct ixd_top_slot *s = calloc(1, sizeof(*s));

    if (s == NULL) {
        return; /* tried again at the next tick; the slot grows meanwhile */
    }
    s->refs = 1;
    s->start = st->slot_start;
    s->end = end;
    s->dims = st->c->dims;
    s->capacity = st->c->capacity;
    s->n = st->exp != NULL ? st->n + (st->exp[st->c->exporters].other ? 1 : 0) : 0;
    s->exp = st->exp;
    if (s->exp != NULL && s->exp[st->c->exporters].other && st->n < st->c->exporters) {
        /* the shared entry sits after the others */
        s->exp[st->n] = s->exp[st->c->exporters];
        memset(&s->exp[st->c->exporters], 0, sizeof(s->exp[0]));
    }
    st->exp = NULL;
    st->n = 0;
    st->last = SIZE_MAX;
    st->slot_start = end;
    if (st->win.n == keep) {
        ixd_top_slot_unref(st->win.slot[0]);
        memmove(&st->win.slot[0], &st->win.slot[1], (keep - 1) * sizeof(st->win.slot[0]));
        st->win.n--;
    }
    st->win.slot[st->win.n++] = s;
    post(st);
}

static void
top_tick(void *state, double now)
{
    struct top_state *st = state;
    int64_t wall = ixd_wall_usec() / 1000000;

    (void)now;
    if (wall >= st->slot_start + (int64_t)st->c->slot) {
        rotate(st, wall - wall % st->c->slot);
    }
}

static void *
top_start(const void *conf, unsigned worker, struct ixd_stage_ctx *ctx)
{
    const struct top_conf *c = conf;
    struct top_state *st = calloc(1, sizeof(*st));
    int64_t wall = ixd_wall_usec() / 1000000;

    (void)ctx;
    if (st == NULL) {
        return NULL;
    }
    st->c = c;
    st->worker = worker;
    st->slot_start = wall - wall % c->slot;
    st->last = SIZE_MAX;
    st->win.worker = worker;
    st->win.slot_seconds = c->slot;
    st->win.window_seconds = c->window;
    st->posted = ixd_board_slot_new(IXD_TOP_TOPIC, c->name);
    if (st->posted == NULL) {
        free(st);
        return NULL;
    }
    post(st); /* an empty window: the API knows the stage is there */
    return st;
}

static void
top_stop(void *state)
{
    struct top_state *st = state;

    ixd_board_slot_free(st->posted);
    for (size_t i = 0; i < st->win.n; i++) {
        ixd_top_slot_unref(st->win.slot[i]);
    }
    for (size_t i = 0; st->exp != NULL && i <= st->c->exporters; i++) {
        for (int d = 0; d < IXD_TOP_DIMS; d++) {
            for (int m = 0; m < IXD_TOP_METRICS; m++) {
                ixd_topk_release(&st->exp[i].sum[d][m]);
            }
        }
    }
    free(st->exp);
    free(st);
}

const struct ixd_stage_type ixd_stage_top_talkers = {
    .name = "top-talkers",
    .conf = top_conf,
    .conf_free = top_conf_free,
    .start = top_start,
    .process = top_process,
    .tick = top_tick,
    .stop = top_stop,
};
