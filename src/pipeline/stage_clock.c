/*
 * clock: corrects records' times by their exporter's clock offset, as the exporter's session
 * measured it (src/ipfix/clock_offset.h, carried in the batch's source), and counts records
 * whose times cannot be right: later than they were received, or before the exporter booted.
 * docs/clock.md.
 *
 * Every dateTime field (seconds, milliseconds, and microseconds and nanoseconds in NTP form)
 * of a record is the exporter's clock, so all of them move; times relative to the exporter's
 * boot (flowStart/EndSysUpTime) and to the export time (flowStart/EndDelta*) move with the
 * batch's source, whose boot and export times the stage corrects in its own copy.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/cnode.h"
#include "core/parse.h"
#include "core/relaxed_counter.h"
#include "ipfix/wire.h"
#include "pipeline/pipeline.h"

#define NTP_UNIX_OFFSET 2208988800LL
#define COPY_BYTES (128 * 1024) /* one message is at most 64 KiB */
#define IE_SYSTEM_INIT_MS 160

struct clock_conf {
    int64_t tolerance_usec;  /* later than received by more than this: in the future */
    int64_t min_offset_usec; /* smaller offsets are the estimate's resolution, not applied */
    int fix;                 /* absurd: receive-time */
};

/* The time fields of one template, found once: batches hold records of one template, so the
 * plan of the last one is kept. */
struct clock_plan {
    uint64_t serial; /* the template's */
    int valid;
    int have;        /* 1: dateTime fields (in the record's bytes), 2: boot-relative ones */
    int boot_field;  /* systemInitTimeMilliseconds, or -1 */
    uint16_t n, cap; /* time fields, and room in fields */
    uint16_t *fields;
};

struct clock_state {
    const struct clock_conf *conf;
    struct ixd_source source; /* the batch's, its boot and export times corrected */
    struct clock_plan plan;   /* the time fields of the last template seen */
    uint8_t *copy;            /* rewritten records, valid until the next process() */
    size_t used;
    uint64_t corrected, unmeasured, future, before_boot, fixed, no_room;
};

static int
conf_duration(const struct ixd_cnode *v, const struct ixd_stage_env *env, int64_t *out, char *err,
              size_t errlen)
{
    uint64_t s;

    if (v->kind != IXD_CNODE_SCALAR || ixd_parse_duration(v->text, &s) == -1 || s > 86400 * 366) {
        return ixd_cnode_fail(
            v, env->file, err, errlen,
            "wants a duration in seconds (\"10\", \"10s\", \"5m\"), at most 366d");
    }
    *out = (int64_t)s * 1000000;
    return 0;
}

static int
conf_key(struct clock_conf *c, const struct ixd_cnode *k, const struct ixd_cnode *v,
         const struct ixd_stage_env *env, char *err, size_t errlen)
{
    if (k->kind == IXD_CNODE_SCALAR && strcmp(k->text, "tolerance") == 0) {
        return conf_duration(v, env, &c->tolerance_usec, err, errlen);
    }
    if (k->kind == IXD_CNODE_SCALAR && strcmp(k->text, "min-offset") == 0) {
        return conf_duration(v, env, &c->min_offset_usec, err, errlen);
    }
    if (k->kind == IXD_CNODE_SCALAR && strcmp(k->text, "absurd") == 0) {
        if (v->kind == IXD_CNODE_SCALAR && strcmp(v->text, "keep") == 0) {
            c->fix = 0;
            return 0;
        }
        if (v->kind == IXD_CNODE_SCALAR && strcmp(v->text, "receive-time") == 0) {
            c->fix = 1;
            return 0;
        }
        return ixd_cnode_fail(v, env->file, err, errlen, "absurd is keep or receive-time");
    }
    return ixd_cnode_fail(k, env->file, err, errlen,
                          "clock knows the keys tolerance, min-offset and absurd");
}

static void *
clock_conf(const struct ixd_cnode *settings, const struct ixd_stage_env *env, char *err,
           size_t errlen)
{
    struct clock_conf *c = calloc(1, sizeof(*c));
    size_t i;

    if (c == NULL) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    c->tolerance_usec = 10 * 1000000LL;
    c->min_offset_usec = 1000000;
    if (settings->kind == IXD_CNODE_SCALAR && settings->text[0] == '\0' && !settings->quoted) {
        return c; /* "- clock:" with nothing after it: the defaults */
    }
    if (settings->kind != IXD_CNODE_MAPPING) {
        ixd_cnode_fail(settings, env->file, err, errlen,
                       "clock wants a mapping: {tolerance: 10, min-offset: 1, absurd: keep}");
        goto fail;
    }
    for (i = 0; i < settings->n; i++) {
        const struct ixd_cnode *k = &settings->items[2 * i];
        for (size_t j = 0; j < i; j++) {
            const struct ixd_cnode *o = &settings->items[2 * j];
            if (k->kind == IXD_CNODE_SCALAR && o->kind == IXD_CNODE_SCALAR &&
                strcmp(k->text, o->text) == 0) {
                ixd_cnode_fail(k, env->file, err, errlen, "given twice");
                goto fail;
            }
        }
        if (conf_key(c, k, &settings->items[2 * i + 1], env, err, errlen) == -1) {
            goto fail;
        }
    }
    return c;
fail:
    free(c);
    return NULL;
}

static void *
clock_start(const void *conf, unsigned worker, struct ixd_stage_ctx *ctx)
{
    struct clock_state *st = calloc(1, sizeof(*st));

    (void)worker;
    (void)ctx;
    if (st == NULL || (st->copy = malloc(COPY_BYTES)) == NULL) {
        free(st);
        return NULL;
    }
    st->conf = conf;
    return st;
}

static int
is_time(uint8_t type)
{
    return type == IXD_TYPE_TIME_SEC || type == IXD_TYPE_TIME_MSEC || type == IXD_TYPE_TIME_USEC ||
           type == IXD_TYPE_TIME_NSEC;
}

/* A dateTime field as UNIX usec (its length is the type's: the decoder says so). */
static int64_t
time_usec(uint8_t type, const uint8_t *p)
{
    uint64_t v;

    switch (type) {
    case IXD_TYPE_TIME_SEC:
        return (int64_t)ixd_get32(p) * 1000000;
    case IXD_TYPE_TIME_MSEC:
        v = ixd_get64(p); /* beyond the year 292,000 is as absurd as it needs to be */
        return (int64_t)(v > INT64_MAX / 1000 ? INT64_MAX / 1000 : v) * 1000;
    default:
        v = ixd_get64(p);
        return ((int64_t)(v >> 32) - NTP_UNIX_OFFSET) * 1000000 +
               (int64_t)(((v & 0xffffffffu) * 1000000) >> 32);
    }
}

/* Writes usec (UNIX) into a dateTime field of type. */
static void
put_time(uint8_t type, uint8_t *p, int64_t usec)
{
    int64_t sec = usec >= 0 ? usec / 1000000 : (usec - 999999) / 1000000;
    uint64_t frac = (uint64_t)(usec - sec * 1000000);

    switch (type) {
    case IXD_TYPE_TIME_SEC:
        ixd_put32(p, (uint32_t)(sec < 0 ? 0 : sec));
        break;
    case IXD_TYPE_TIME_MSEC:
        ixd_put64(p, (uint64_t)(usec < 0 ? 0 : usec / 1000));
        break;
    default: {
        uint64_t f = (frac << 32) / 1000000;
        if (type == IXD_TYPE_TIME_USEC) {
            f &= ~(uint64_t)0x7ff; /* RFC 7011 6.1.9: microseconds leave the low 11 bits 0 */
        }
        ixd_put64(p, ((uint64_t)(sec + NTP_UNIX_OFFSET) << 32) | f);
        break;
    }
    }
}

/* Moves a dateTime field back by off usec in its own unit, keeping what it has below a usec. */
static void
shift_time(uint8_t type, uint8_t *p, int64_t off)
{
    if (type == IXD_TYPE_TIME_SEC) {
        int64_t s = (int64_t)ixd_get32(p) - (off >= 0 ? off + 500000 : off - 500000) / 1000000;
        ixd_put32(p, (uint32_t)(s < 0 ? 0 : s > UINT32_MAX ? UINT32_MAX : s));
    } else if (type == IXD_TYPE_TIME_MSEC) {
        int64_t ms = (int64_t)(ixd_get64(p) & INT64_MAX) - off / 1000;
        ixd_put64(p, (uint64_t)(ms < 0 ? 0 : ms));
    } else {
        /* NTP: 32.32 fixed point seconds; the offset in the same unit */
        int64_t units = (off / 1000000) * ((int64_t)1 << 32) +
                        (int64_t)(((off % 1000000) * ((int64_t)1 << 32)) / 1000000);
        uint64_t v = ixd_get64(p) - (uint64_t)units;
        if (type == IXD_TYPE_TIME_USEC) {
            v &= ~(uint64_t)0x7ff;
        }
        ixd_put64(p, v);
    }
}

/* The plan for t, or NULL when out of memory. */
static const struct clock_plan *
plan_for(struct clock_plan *p, const struct ixd_template *t)
{
    if (p->valid && p->serial == t->serial) {
        return p;
    }
    if (t->field_count > p->cap) {
        uint16_t *f = realloc(p->fields, t->field_count * sizeof(*f));
        if (f == NULL) {
            return NULL;
        }
        p->fields = f;
        p->cap = t->field_count;
    }
    p->n = 0;
    p->have = 0;
    p->boot_field = -1;
    for (uint16_t i = 0; i < t->field_count; i++) {
        const struct ixd_field *f = &t->fields[i];
        if (is_time(f->type) || (f->type == IXD_TYPE_UPTIME && f->length == 4)) {
            p->fields[p->n++] = i;
            p->have |= f->type == IXD_TYPE_UPTIME ? 2 : 1;
        }
        if (f->pen == 0 && f->id == IE_SYSTEM_INIT_MS && f->type == IXD_TYPE_TIME_MSEC) {
            p->boot_field = i;
        }
    }
    p->serial = t->serial;
    p->valid = 1;
    return p;
}

/* Checks every time of r against the exporter's boot (its clock) and the receive time (ours,
 * after subtracting off). Returns 1 (future) | 2 (before the boot), or 0. */
static int
absurd(const struct clock_conf *conf, const struct clock_plan *p, const struct ixd_record *r,
       const struct ixd_source *src, int64_t off)
{
    int64_t boot = src->system_init_ms * 1000, latest = src->received_usec + conf->tolerance_usec;
    int future = 0, early = 0;
    uint16_t len;

    if (boot == 0 && p->boot_field >= 0) {
        boot = time_usec(IXD_TYPE_TIME_MSEC, ixd_record_field(r, (unsigned)p->boot_field, &len));
    }
    for (uint16_t k = 0; k < p->n; k++) {
        uint8_t type = r->tmpl->fields[p->fields[k]].type;
        const uint8_t *at = ixd_record_field(r, p->fields[k], &len);
        int64_t v;

        if (type == IXD_TYPE_UPTIME) {
            if (src->system_init_ms == 0) {
                continue; /* relative to a boot nobody told */
            }
            v = src->system_init_ms * 1000 + (int64_t)ixd_get32(at) * 1000;
        } else {
            v = time_usec(type, at);
        }
        early |= boot != 0 && v < boot;
        future |= v - off > latest;
    }
    return future | early << 1;
}

/* Rewrites the times of r (a copy the stage owns): moved back by off, or all set to the receive
 * time when fix. src is the corrected source. */
static void
rewrite(const struct clock_plan *p, struct ixd_record *r, const struct ixd_source *src, int64_t off,
        int fix)
{
    for (uint16_t k = 0; k < p->n; k++) {
        uint8_t type = r->tmpl->fields[p->fields[k]].type;
        uint16_t len;
        uint8_t *at = (uint8_t *)(uintptr_t)ixd_record_field(r, p->fields[k], &len);

        if (type != IXD_TYPE_UPTIME) {
            if (fix) {
                put_time(type, at, src->received_usec);
            } else {
                shift_time(type, at, off);
            }
        } else if (fix && src->system_init_ms != 0) {
            int64_t up = src->received_usec / 1000 - src->system_init_ms;
            ixd_put32(at, (uint32_t)(up < 0 ? 0 : up > UINT32_MAX ? UINT32_MAX : up));
        }
    }
}

/* The offset to apply to a batch from src: 0 when unmeasured or within min-offset. */
static int64_t
offset_of(const struct clock_state *st, const struct ixd_source *src)
{
    int64_t off = src->clock_offset_usec;

    if (!src->clock_known) {
        return 0;
    }
    return off >= st->conf->min_offset_usec || -off >= st->conf->min_offset_usec ? off : 0;
}

/* Corrects or fixes the records of batch (from orig, corrected source st->source); counts
 * into n[]: corrected, fixed, no_room, future, before_boot. */
static void
correct(struct clock_state *st, struct ixd_batch *batch, const struct ixd_source *orig, int64_t off,
        uint64_t n[5])
{
    for (size_t i = 0; i < batch->count; i++) {
        struct ixd_record *r = &batch->records[i];
        const struct clock_plan *p = plan_for(&st->plan, r->tmpl);
        int bad, fix, have;

        if (p == NULL) {
            n[2]++; /* no memory for the plan: passes as it came */
            continue;
        }
        bad = absurd(st->conf, p, r, orig, off);
        fix = bad != 0 && st->conf->fix;
        have = p->have & (orig->system_init_ms != 0 ? 3 : 1);
        n[3] += (uint64_t)(bad & 1);
        n[4] += (uint64_t)(bad >> 1);
        if ((off == 0 && !fix) || have == 0) {
            continue;
        }
        if (have == 2 && !fix) {
            n[0]++; /* boot-relative times only: the corrected source moves them */
            continue;
        }
        if (r->length > COPY_BYTES - st->used) {
            n[2]++; /* passes as it came: emitted batches may exceed one message */
            continue;
        }
        memcpy(st->copy + st->used, r->data, r->length);
        r->data = st->copy + st->used;
        st->used += r->length;
        rewrite(p, r, &st->source, off, fix);
        n[0] += (uint64_t)(off != 0 && !fix);
        n[1] += (uint64_t)fix;
    }
}

static void
clock_process(void *state, struct ixd_batch *batch)
{
    struct clock_state *st = state;
    const struct ixd_source *orig = batch->source;
    int64_t off = offset_of(st, orig);
    uint64_t n[5] = {0};

    st->used = 0;
    st->source = *orig;
    if (off != 0) {
        st->source.system_init_ms -= st->source.system_init_ms != 0 ? off / 1000 : 0;
        st->source.export_time -= (uint32_t)((off >= 0 ? off + 500000 : off - 500000) / 1000000);
        st->source.clock_offset_usec = 0; /* its times are ours now: a second stage moves none */
    }
    batch->source = &st->source;
    correct(st, batch, orig, off, n);
    IXD_CNT_ADD(st->corrected, n[0]);
    IXD_CNT_ADD(st->fixed, n[1]);
    IXD_CNT_ADD(st->no_room, n[2]);
    IXD_CNT_ADD(st->future, n[3]);
    IXD_CNT_ADD(st->before_boot, n[4]);
    if (!orig->clock_known) {
        IXD_CNT_ADD(st->unmeasured, batch->count);
    }
}

static const struct ixd_counter_def clock_defs[] = {
    {.key = "corrected",
     .metric = "ipfixd_clock_records_corrected_total",
     .kind = IXD_COUNTER_TOTAL,
     .help = "records whose times the clock stage moved by their exporter's clock offset"},
    {.key = "unmeasured",
     .metric = "ipfixd_clock_records_unmeasured_total",
     .kind = IXD_COUNTER_TOTAL,
     .help = "records passed as they came: their exporter's clock was not measured"},
    {.key = "future",
     .metric = "ipfixd_clock_records_future_total",
     .kind = IXD_COUNTER_TOTAL,
     .help = "records with a time later than their receive time plus the tolerance, corrected"},
    {.key = "before_boot",
     .metric = "ipfixd_clock_records_before_boot_total",
     .kind = IXD_COUNTER_TOTAL,
     .help = "records with a time before their exporter's boot"},
    {.key = "fixed",
     .metric = "ipfixd_clock_records_fixed_total",
     .kind = IXD_COUNTER_TOTAL,
     .help = "records whose absurd times were set to their receive time"},
    {.key = "no_room",
     .metric = "ipfixd_clock_records_no_room_total",
     .kind = IXD_COUNTER_TOTAL,
     .help = "records passed uncorrected: the stage's copy buffer was full for their batch"},
};

static void
clock_stats(const void *state, ixd_counter_fn fn, void *arg)
{
    const struct clock_state *st = state;

    fn(arg, &clock_defs[0], NULL, IXD_CNT_GET(st->corrected));
    fn(arg, &clock_defs[1], NULL, IXD_CNT_GET(st->unmeasured));
    fn(arg, &clock_defs[2], NULL, IXD_CNT_GET(st->future));
    fn(arg, &clock_defs[3], NULL, IXD_CNT_GET(st->before_boot));
    fn(arg, &clock_defs[4], NULL, IXD_CNT_GET(st->fixed));
    fn(arg, &clock_defs[5], NULL, IXD_CNT_GET(st->no_room));
}

static void
clock_stop(void *state)
{
    struct clock_state *st = state;

    free(st->plan.fields);
    free(st->copy);
    free(st);
}

const struct ixd_stage_type ixd_stage_clock = {
    .name = "clock",
    .conf = clock_conf,
    .conf_free = free,
    .start = clock_start,
    .process = clock_process,
    .tick = NULL,
    .stop = clock_stop,
    .failed = NULL,
    .on_template = NULL,
    .stats = clock_stats,
};
