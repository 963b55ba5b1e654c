/*
 * The Kafka output (docs/sinks.md#kafka): workers format records into their writer lanes
 * (writer.h) as frames that say where each message goes; the output's writer thread hands them
 * to librdkafka (src/kafka/), which never blocks it: when the cluster is out of reach, messages
 * wait in librdkafka's bounded queue, and once it is full they are dropped and counted.
 *
 * A frame: u32 frame length, u32 records, u16 topic length, u16 key length, the topic, the key,
 * the message (a JSON object, or an IPFIX message holding its templates).
 */
#include "output/output.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "core/log.h"
#include "core/relaxed_counter.h"
#include "ipfix/template.h"
#include "ipfix/wire.h"
#include "kafka/kafka.h"
#include "output/export_session.h"
#include "output/json_format.h"
#include "output/name_pattern.h"
#include "output/writer.h"

#define KBUF_SIZE (1u << 20)
#define KBUFS_PER_LANE 4
#define FRAME_HEAD 12
#define TOPIC_MAX 249 /* Kafka's longest topic name */
#define KEY_MAX 64
#define MSG_MAX 65535
#define TICK_MS 100
#define CLOSE_MS 5000 /* what stopping waits for the cluster to take what is queued */

enum kformat { KF_JSON = 0, KF_IPFIX };
enum kkey { KK_EXPORTER = 0, KK_FIVE_TUPLE, KK_NONE };
enum kacks { KA_ALL = 0, KA_LEADER, KA_NONE };

struct kafka_settings {
    char brokers[1024];
    char topic[256];
    int key;         /* enum kkey */
    int format;      /* enum kformat */
    int compression; /* index in compressions */
    int acks;        /* enum kacks */
    int idempotence;
    uint32_t queue_messages;
    size_t queue_size;
    int renormalise;
    struct ixd_kafka_props props; /* properties: as written, files read */
};

static const char *const formats[] = {"json", "ipfix", NULL};
static const char *const keys_kinds[] = {"exporter", "5-tuple", "none", NULL};
static const char *const compressions[] = {"none", "lz4", "zstd", "gzip", "snappy", NULL};
static const char *const acks_values[] = {"all", "1", "0", NULL};
static const char *const acks_props[] = {"all", "1", "0"};

/* What librdkafka is told through the output's own keys: not under properties: too. */
static const char *const own_props[] = {"bootstrap.servers",
                                        "metadata.broker.list",
                                        "compression.codec",
                                        "compression.type",
                                        "acks",
                                        "request.required.acks",
                                        "enable.idempotence",
                                        "queue.buffering.max.messages",
                                        "queue.buffering.max.kbytes",
                                        NULL};

static int parse_props(const struct ixd_key *key, const struct ixd_cnode *v, void *field,
                       const struct ixd_key_env *env, char *err, size_t errlen);
static int same_props(const void *a, const void *b);
static void release_props(void *field);

static const struct ixd_key kafka_keys[] = {
    {.name = "brokers",
     .kind = IXD_KEY_STRING,
     IXD_KEY_AT(struct kafka_settings, brokers),
     .help = "bootstrap brokers, HOST:PORT[,HOST:PORT...]"},
    {.name = "topic",
     .kind = IXD_KEY_STRING,
     IXD_KEY_AT(struct kafka_settings, topic),
     .def = "ipfix",
     .help = "topic name pattern: {collector}, {exporter}, {odid}"},
    {.name = "key",
     .kind = IXD_KEY_ENUM,
     IXD_KEY_AT(struct kafka_settings, key),
     .choices = keys_kinds,
     .def = "exporter",
     .help = "message key: the exporter's address, a hash of the 5-tuple, or none"},
    {.name = "format",
     .kind = IXD_KEY_ENUM,
     IXD_KEY_AT(struct kafka_settings, format),
     .choices = formats,
     .def = "json"},
    {.name = "compression",
     .kind = IXD_KEY_ENUM,
     IXD_KEY_AT(struct kafka_settings, compression),
     .choices = compressions,
     .def = "lz4"},
    {.name = "acks",
     .kind = IXD_KEY_ENUM,
     IXD_KEY_AT(struct kafka_settings, acks),
     .choices = acks_values,
     .def = "all"},
    {.name = "idempotence",
     .kind = IXD_KEY_BOOL,
     IXD_KEY_AT(struct kafka_settings, idempotence),
     .def = "true"},
    {.name = "queue-messages",
     .kind = IXD_KEY_U32,
     IXD_KEY_AT(struct kafka_settings, queue_messages),
     .min = 1000,
     .max = 10000000,
     .def = "100000",
     .help = "messages librdkafka holds at most; further ones are dropped and counted"},
    {.name = "queue-size",
     .kind = IXD_KEY_SIZE,
     IXD_KEY_AT(struct kafka_settings, queue_size),
     .min = 1u << 20,
     .def = "64M",
     .help = "bytes librdkafka holds at most"},
    {.name = "renormalise",
     .kind = IXD_KEY_BOOL,
     IXD_KEY_AT(struct kafka_settings, renormalise),
     .def = "false"},
    {.name = "properties",
     .kind = IXD_KEY_CUSTOM,
     IXD_KEY_AT(struct kafka_settings, props),
     .reload = IXD_RELOAD_CONTENT,
     .parse = parse_props,
     .same = same_props,
     .release = release_props,
     .help = "librdkafka properties; a value {file: PATH} is read from a secret file"},
    {NULL},
};

struct klane {
    struct ixd_lane base;
    struct ixd_writer_lane *wl;
    struct ixd_xsession s; /* format: ipfix */
    uint64_t records;      /* handed to the output */
    uint64_t too_large;    /* records whose message exceeds a buffer */
    /* the batch being written: where its messages go */
    char topic[TOPIC_MAX + 1];
    size_t topic_len;
    char key[KEY_MAX];
    size_t key_len;
    char prefix[512];
    char *scratch; /* a JSON record formatted aside when its bound exceeds a buffer */
};

struct koutput {
    struct ixd_output base;
    const struct kafka_settings *cfg;
    unsigned topic_uses; /* placeholders: 0 = the same topic for every batch */
    char fixed_topic[256];
    struct ixd_kafka *k;
    struct ixd_writer *writer;
    unsigned n_lanes;
    struct klane *lanes;
    uint64_t produced; /* writer thread: records in messages librdkafka took */
    uint64_t written_bytes;
    /* at close */
};

/* ---- properties: ---- */

/* A value {file: PATH}: the first line of a file only ipfixd's user may read. */
static int
read_secret(const struct ixd_cnode *v, const struct ixd_key_env *env, char *out, size_t outlen,
            char *err, size_t errlen)
{
    const struct ixd_cnode *path = ixd_cnode_get(v, "file");
    struct ixd_config_file f = {.use = IXD_FILE_SECRET, .max = 4096};
    char why[IXD_PATH_MAX + 256];
    FILE *fp;

    if (v->n != 1 || path == NULL || path->kind != IXD_CNODE_SCALAR) {
        return ixd_cnode_fail(v, env->file, err, errlen,
                              "a property's value is text, or {file: PATH} to read a secret");
    }
    if (env->flags & IXD_CONFIG_SYNTAX_ONLY) {
        snprintf(out, outlen, "(read from %s)", path->text);
        return 0;
    }
    f.path = path->text;
    if (ixd_config_file_check(&f, why, sizeof(why)) == -1) {
        return ixd_cnode_fail(path, env->file, err, errlen, "%s", why);
    }
    fp = fopen(path->text, "re");
    if (fp == NULL || fgets(out, (int)outlen, fp) == NULL) {
        if (fp != NULL) {
            fclose(fp);
        }
        return ixd_cnode_fail(path, env->file, err, errlen, "cannot read %s", path->text);
    }
    fclose(fp);
    out[strcspn(out, "\r\n")] = '\0';
    return 0;
}

static int
parse_props(const struct ixd_key *key, const struct ixd_cnode *v, void *field,
            const struct ixd_key_env *env, char *err, size_t errlen)
{
    struct ixd_kafka_props *p = field;
    char value[4096];

    (void)key;
    if (v->kind != IXD_CNODE_MAPPING) {
        return ixd_cnode_fail(v, env->file, err, errlen,
                              "properties must be a mapping of librdkafka properties");
    }
    for (size_t i = 0; i < v->n; i++) {
        const struct ixd_cnode *name = &v->items[2 * i], *val = &v->items[2 * i + 1];
        for (const char *const *o = own_props; *o != NULL; o++) {
            if (strcmp(name->text, *o) == 0) {
                return ixd_cnode_fail(name, env->file, err, errlen,
                                      "%s is set by the output's own keys (brokers, compression, "
                                      "acks, idempotence, queue-messages, queue-size)",
                                      name->text);
            }
        }
        if (val->kind == IXD_CNODE_MAPPING) {
            if (read_secret(val, env, value, sizeof(value), err, errlen) == -1) {
                return -1;
            }
        } else if (val->kind == IXD_CNODE_SCALAR) {
            snprintf(value, sizeof(value), "%s", val->text);
        } else {
            return ixd_cnode_fail(val, env->file, err, errlen, "%s must be a single value",
                                  name->text);
        }
        if (ixd_kafka_props_add(p, name->text, value) == -1) {
            explicit_bzero(value, sizeof(value));
            return ixd_cnode_fail(v, env->file, err, errlen, "out of memory");
        }
        explicit_bzero(value, sizeof(value));
    }
    return 0;
}

static int
same_props(const void *a, const void *b)
{
    return ixd_kafka_props_same(a, b);
}

static void
release_props(void *field)
{
    ixd_kafka_props_release(field);
}

/* ---- worker side ---- */

static struct koutput *
output_of(const struct klane *l)
{
    return (struct koutput *)l->base.output;
}

/* Where the batch's messages go: its topic, and its key when the key is the exporter. */
static void
batch_target(struct koutput *o, struct klane *l, const struct ixd_source *src)
{
    if (o->topic_uses == 0 && strchr(o->cfg->topic, '%') == NULL) {
        l->topic_len = strlen(o->fixed_topic);
        memcpy(l->topic, o->fixed_topic, l->topic_len + 1);
    } else {
        struct ixd_pattern_vars v = {
            .collector = src->collector, .exporter = src->exporter_text, .odid = src->odid};
        l->topic_len = ixd_pattern_expand(o->cfg->topic, &v, (time_t)ixd_wall_sec(),
                                          IXD_PATTERN_TOPIC, l->topic, sizeof(l->topic));
    }
    l->key_len = 0;
    if (o->cfg->key != KK_NONE) {
        /* the 5-tuple's key is per record; an IPFIX message's is its exporter's */
        l->key_len = strlen(src->exporter_text);
        memcpy(l->key, src->exporter_text, l->key_len);
    }
}

static void
put_head(char *at, size_t frame_len, uint32_t records, const struct klane *l, size_t key_len)
{
    ixd_put32((uint8_t *)at, (uint32_t)frame_len);
    ixd_put32((uint8_t *)at + 4, records);
    ixd_put16((uint8_t *)at + 8, (uint16_t)l->topic_len);
    ixd_put16((uint8_t *)at + 10, (uint16_t)key_len);
    memcpy(at + FRAME_HEAD, l->topic, l->topic_len);
}

static uint64_t
fnv(uint64_t h, const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        h = (h ^ p[i]) * 1099511628211ULL;
    }
    return h;
}

/* The 5-tuple's hash as 16 hex digits: one flow's records go to one partition. */
static size_t
five_tuple_key(const struct ixd_record *r, char *out)
{
    static const uint16_t ids[] = {8, 27, 12, 28, 7, 11, 4};
    uint64_t h = 14695981039346656037ULL;

    for (size_t i = 0; i < sizeof(ids) / sizeof(ids[0]); i++) {
        int f = ixd_template_find(r->tmpl, 0, ids[i]);
        if (f >= 0) {
            uint16_t len;
            const uint8_t *p = ixd_record_field(r, (unsigned)f, &len);
            h = fnv(h, p, len);
        }
    }
    for (int i = 15; i >= 0; i--) {
        out[i] = "0123456789abcdef"[h & 15];
        h >>= 4;
    }
    return 16;
}

static void
write_json(struct klane *l, const struct ixd_batch *batch)
{
    struct koutput *o = output_of(l);
    const struct ixd_source *src = batch->source;
    const struct ixd_resolver *res = src->resolver;
    int renormalise = o->cfg->renormalise && res != NULL;
    size_t plen = ixd_json_prefix(src, l->prefix, sizeof(l->prefix));

    for (size_t i = 0; i < batch->count; i++) {
        const struct ixd_record *r = &batch->records[i];
        uint32_t rate = renormalise ? res->sampling_of(res, r) : 1;
        size_t head = FRAME_HEAD + l->topic_len + KEY_MAX;
        size_t need = head + plen + ixd_json_bound(r), key_len = l->key_len, len;
        char *at = ixd_writer_reserve(l->wl, need);
        char *json;

        if (at == NULL) {
            /* formatted aside: its bound exceeds a buffer, the line itself rarely does */
            if (l->scratch == NULL && (l->scratch = malloc(KBUF_SIZE * 4)) == NULL) {
                ixd_writer_lane_drop(l->wl, 1);
                continue;
            }
            if (need - head > KBUF_SIZE * 4) {
                IXD_CNT_ADD(l->too_large, 1);
                ixd_writer_lane_drop(l->wl, 1);
                continue;
            }
            len = ixd_json_record_scaled(r, src, rate, l->prefix, plen, l->scratch) - 1;
            if (head + len > KBUF_SIZE || (at = ixd_writer_reserve(l->wl, head + len)) == NULL) {
                IXD_CNT_ADD(l->too_large, 1);
                ixd_writer_lane_drop(l->wl, 1);
                continue;
            }
            json = l->scratch;
        } else {
            json = NULL;
        }
        if (o->cfg->key == KK_FIVE_TUPLE) {
            key_len = five_tuple_key(r, at + FRAME_HEAD + l->topic_len);
        } else {
            memcpy(at + FRAME_HEAD + l->topic_len, l->key, key_len);
        }
        if (json != NULL) {
            memmove(at + FRAME_HEAD + l->topic_len + key_len, json, len);
        } else {
            /* the line without its newline: a message is one record */
            len = ixd_json_record_scaled(r, src, rate, l->prefix, plen,
                                         at + FRAME_HEAD + l->topic_len + key_len) -
                  1;
        }
        put_head(at, FRAME_HEAD + l->topic_len + key_len + len, 1, l, key_len);
        ixd_writer_commit(l->wl, FRAME_HEAD + l->topic_len + key_len + len, 1);
    }
}

/* The session's emit callback: one IPFIX message, with the templates its records use. */
static int
ipfix_emit(void *arg, const uint8_t *msg, size_t len, uint32_t records, uint32_t described,
           int templates)
{
    struct klane *l = arg;
    size_t frame = FRAME_HEAD + l->topic_len + l->key_len + len;
    char *at = ixd_writer_reserve(l->wl, frame);

    (void)described;
    (void)templates;
    /* every message defines its templates again: a consumer decodes each one alone */
    l->s.epoch++;
    if (at == NULL) {
        ixd_writer_lane_drop(l->wl, records);
        return -1;
    }
    put_head(at, frame, records, l, l->key_len);
    memcpy(at + FRAME_HEAD + l->topic_len, l->key, l->key_len);
    memcpy(at + FRAME_HEAD + l->topic_len + l->key_len, msg, len);
    ixd_writer_commit(l->wl, frame, records);
    return 0;
}

static void
k_write(struct ixd_lane *lane, const struct ixd_batch *batch)
{
    struct klane *l = (struct klane *)lane;
    struct koutput *o = output_of(l);

    if (batch->count == 0) {
        return;
    }
    IXD_CNT_ADD(l->records, batch->count);
    batch_target(o, l, batch->source);
    if (l->topic_len == 0) {
        ixd_writer_lane_drop(l->wl, batch->count); /* cannot happen with a checked pattern */
        return;
    }
    if (o->cfg->format == KF_JSON) {
        write_json(l, batch);
        return;
    }
    size_t dropped = ixd_xsession_write(&l->s, batch, 0, ixd_wall_sec());
    ixd_xsession_finish(&l->s); /* one message per batch */
    if (dropped > 0) {
        IXD_CNT_ADD(l->too_large, dropped);
        ixd_writer_lane_drop(l->wl, dropped);
    }
}

static void
k_flush(struct ixd_lane *lane)
{
    ixd_writer_lane_flush(((struct klane *)lane)->wl);
}

static struct ixd_lane *
k_lane(struct ixd_output *out, unsigned w)
{
    struct koutput *o = (struct koutput *)out;

    return w < o->n_lanes ? &o->lanes[w].base : NULL;
}

/* ---- writer thread ---- */

static uint64_t
k_consume(void *arg, const struct ixd_wbuf *b)
{
    struct koutput *o = arg;
    uint64_t lost = 0, produced = 0;
    size_t at = 0;
    char topic[TOPIC_MAX + 1];

    while (at + FRAME_HEAD <= b->len) {
        const uint8_t *f = (const uint8_t *)b->data + at;
        uint32_t len = ixd_get32(f), records = ixd_get32(f + 4);
        uint16_t tlen = ixd_get16(f + 8), klen = ixd_get16(f + 10);
        int full;

        memcpy(topic, f + FRAME_HEAD, tlen);
        topic[tlen] = '\0';
        if (ixd_kafka_produce(o->k, topic, f + FRAME_HEAD + tlen, klen,
                              f + FRAME_HEAD + tlen + klen, len - FRAME_HEAD - tlen - klen, records,
                              &full) == 0) {
            produced += records;
            IXD_CNT_ADD(o->written_bytes, (uint64_t)(len - FRAME_HEAD - tlen - klen));
        } else {
            lost += records;
        }
        at += len;
    }
    IXD_CNT_ADD(o->produced, produced);
    return lost + ixd_kafka_poll(o->k);
}

static uint64_t
k_tick(void *arg)
{
    return ixd_kafka_poll(((struct koutput *)arg)->k);
}

/* ---- control thread ---- */

/* librdkafka's properties: the output's keys, then properties: as written. */
static int
make_props(const struct kafka_settings *cfg, struct ixd_kafka_props *p)
{
    char n[32];
    int rc = 0;

    rc |= ixd_kafka_props_add(p, "bootstrap.servers", cfg->brokers);
    rc |= ixd_kafka_props_add(p, "compression.codec", compressions[cfg->compression]);
    rc |= ixd_kafka_props_add(p, "acks", acks_props[cfg->acks]);
    rc |= ixd_kafka_props_add(p, "enable.idempotence", cfg->idempotence ? "true" : "false");
    snprintf(n, sizeof(n), "%u", cfg->queue_messages);
    rc |= ixd_kafka_props_add(p, "queue.buffering.max.messages", n);
    snprintf(n, sizeof(n), "%zu", cfg->queue_size >> 10);
    rc |= ixd_kafka_props_add(p, "queue.buffering.max.kbytes", n);
    rc |= ixd_kafka_props_add(p, "statistics.interval.ms", "1000");
    for (size_t i = 0; i < cfg->props.n; i++) {
        rc |= ixd_kafka_props_add(p, cfg->props.names[i], cfg->props.values[i]);
    }
    return rc;
}

static void
free_output(struct koutput *o)
{
    ixd_writer_free(o->writer);
    ixd_kafka_free(o->k, CLOSE_MS, NULL);
    for (unsigned i = 0; o->lanes != NULL && i < o->n_lanes; i++) {
        ixd_xsession_release(&o->lanes[i].s);
        free(o->lanes[i].scratch);
    }
    free(o->lanes);
    free(o);
}

static struct ixd_output *
k_open(const void *settings, const char *name, unsigned workers, char *err, size_t errlen)
{
    const struct kafka_settings *cfg = settings;
    struct koutput *o = calloc(1, sizeof(*o));
    struct ixd_kafka_props p = {0};
    struct ixd_writer_conf wc = {.name = name,
                                 .buf_size = KBUF_SIZE,
                                 .bufs_per_lane = KBUFS_PER_LANE,
                                 .consume = k_consume,
                                 .tick = k_tick,
                                 .tick_ms = TICK_MS};

    if (o == NULL || make_props(cfg, &p) == -1) {
        snprintf(err, errlen, "output %s: out of memory", name);
        ixd_kafka_props_release(&p);
        free(o);
        return NULL;
    }
    o->base.name = name;
    o->cfg = cfg;
    o->topic_uses = ixd_pattern_uses(cfg->topic);
    snprintf(o->fixed_topic, sizeof(o->fixed_topic), "%s", cfg->topic);
    o->k = ixd_kafka_new(&p, name, err, errlen);
    ixd_kafka_props_release(&p);
    if (o->k == NULL) {
        free(o);
        return NULL;
    }
    o->lanes = calloc(workers, sizeof(*o->lanes));
    if (o->lanes == NULL) {
        snprintf(err, errlen, "output %s: out of memory", name);
        free_output(o);
        return NULL;
    }
    o->n_lanes = workers;
    for (unsigned i = 0; i < workers; i++) {
        o->lanes[i].base.output = &o->base;
        if (ixd_xsession_init(&o->lanes[i].s, name, MSG_MAX, IXD_XWITHDRAW_NONE, ipfix_emit,
                              &o->lanes[i]) == -1) {
            snprintf(err, errlen, "output %s: out of memory", name);
            free_output(o);
            return NULL;
        }
    }
    wc.arg = o;
    o->writer = ixd_writer_new(&wc, workers, err, errlen);
    if (o->writer == NULL) {
        free_output(o);
        return NULL;
    }
    for (unsigned i = 0; i < workers; i++) {
        o->lanes[i].wl = ixd_writer_lane(o->writer, i);
    }
    return &o->base;
}

static void
k_close(struct ixd_output *out)
{
    struct koutput *o = (struct koutput *)out;
    struct ixd_kafka_counts c;
    uint64_t records = 0, dropped, given_up;

    if (o == NULL) {
        return;
    }
    for (unsigned i = 0; i < o->n_lanes; i++) {
        records += o->lanes[i].records;
    }
    ixd_writer_free(o->writer); /* what the lanes hold goes to librdkafka first */
    o->writer = NULL;
    given_up = ixd_kafka_free(o->k, CLOSE_MS, &c);
    o->k = NULL;
    dropped = c.failed; /* produce refusals and failed deliveries, the given up included */
    log_info("output %s: closed: records=%llu produced=%llu delivered=%llu dropped=%llu "
             "given_up=%llu",
             o->base.name, (unsigned long long)records, (unsigned long long)o->produced,
             (unsigned long long)c.delivered, (unsigned long long)dropped,
             (unsigned long long)given_up);
    free_output(o);
}

static const struct ixd_counter_def kafka_defs[] = {
    {.key = "produced",
     .metric = "ipfixd_output_kafka_produced_records_total",
     .kind = IXD_COUNTER_TOTAL,
     .help = "records in messages librdkafka took"},
    {.key = "delivered",
     .metric = "ipfixd_output_kafka_delivered_records_total",
     .kind = IXD_COUNTER_TOTAL,
     .help = "records in messages the cluster acknowledged"},
    {.key = "failed",
     .metric = "ipfixd_output_kafka_failed_records_total",
     .kind = IXD_COUNTER_TOTAL,
     .help = "records in messages refused by a full queue or not delivered"},
    {.key = "too_large",
     .metric = "ipfixd_output_kafka_too_large_records_total",
     .kind = IXD_COUNTER_TOTAL,
     .help = "records whose message exceeds a writer buffer"},
    {.key = "queued",
     .metric = "ipfixd_output_kafka_queue_messages",
     .kind = IXD_COUNTER_GAUGE,
     .help = "messages in librdkafka's queue or in flight"},
    {.key = "records",
     .metric = "ipfixd_output_kafka_failed_by_error_records_total",
     .kind = IXD_COUNTER_TOTAL,
     .help = "records not delivered, by librdkafka's error name",
     .label = "error"},
    {.key = "rtt_us",
     .metric = "ipfixd_output_kafka_broker_rtt_microseconds",
     .kind = IXD_COUNTER_GAUGE,
     .help = "average round trip to the broker over the last second",
     .label = "broker"},
};

static void
k_stats(struct ixd_output *out, ixd_counter_fn fn, void *arg)
{
    struct koutput *o = (struct koutput *)out;
    const struct ixd_kafka_counts *c = ixd_kafka_counts(o->k);
    struct ixd_output_counts oc = {0};
    struct ixd_writer_stats ws;
    uint64_t too_large = 0;
    unsigned n;

    for (unsigned i = 0; i < o->n_lanes; i++) {
        oc.records += IXD_CNT_GET(o->lanes[i].records);
        too_large += IXD_CNT_GET(o->lanes[i].too_large);
    }
    ixd_writer_stats(o->writer, &ws);
    oc.written_bytes = IXD_CNT_GET(o->written_bytes);
    oc.dropped = ws.dropped;
    oc.waits = ws.waits;
    ixd_output_report(fn, arg, &oc);
    fn(arg, &kafka_defs[0], NULL, IXD_CNT_GET(o->produced));
    fn(arg, &kafka_defs[1], NULL, IXD_CNT_GET(c->delivered));
    fn(arg, &kafka_defs[2], NULL, IXD_CNT_GET(c->failed));
    fn(arg, &kafka_defs[3], NULL, too_large);
    fn(arg, &kafka_defs[4], NULL, ixd_kafka_queued(o->k));
    n = __atomic_load_n(&c->n_errors, __ATOMIC_ACQUIRE);
    for (unsigned i = 0; i < n; i++) {
        fn(arg, &kafka_defs[5], c->errors[i].name, IXD_CNT_GET(c->errors[i].records));
    }
    if (IXD_CNT_GET(c->errors[IXD_KAFKA_ERRORS_MAX].records) > 0) {
        fn(arg, &kafka_defs[5], "other", IXD_CNT_GET(c->errors[IXD_KAFKA_ERRORS_MAX].records));
    }
    n = __atomic_load_n(&c->n_brokers, __ATOMIC_ACQUIRE);
    for (unsigned i = 0; i < n; i++) {
        fn(arg, &kafka_defs[6], c->brokers[i].name, IXD_CNT_GET(c->brokers[i].rtt_us));
    }
}

static int
k_check(void *settings, const struct ixd_module_env *env, char *err, size_t errlen)
{
    struct kafka_settings *s = settings;
    struct ixd_kafka_props p = {0};
    char why[512];
    int rc;

    if (s->brokers[0] == '\0') {
        return ixd_cnode_fail(
            env->at, env->file, err, errlen,
            "output '%s' needs brokers, e.g. brokers: \"kafka1:9092,kafka2:9092\"", env->name);
    }
    if (s->idempotence && s->acks != KA_ALL) {
        const struct ixd_cnode *at = ixd_cnode_get(env->at, "acks");
        return ixd_cnode_fail(at != NULL ? at : env->at, env->file, err, errlen,
                              "idempotence (on unless idempotence: false) requires acks: all");
    }
    if (ixd_pattern_check(s->topic, IXD_PATTERN_COLLECTOR | IXD_PATTERN_EXPORTER | IXD_PATTERN_ODID,
                          IXD_PATTERN_TOPIC, why, sizeof(why)) == -1) {
        const struct ixd_cnode *at = ixd_cnode_get(env->at, "topic");
        return ixd_cnode_fail(at != NULL ? at : env->at, env->file, err, errlen, "topic: %s", why);
    }
    if (strlen(s->topic) > TOPIC_MAX) {
        const struct ixd_cnode *at = ixd_cnode_get(env->at, "topic");
        return ixd_cnode_fail(at, env->file, err, errlen,
                              "topic: Kafka's topic names are at most %d characters", TOPIC_MAX);
    }
    if (make_props(s, &p) == -1) {
        ixd_kafka_props_release(&p);
        return ixd_cnode_fail(env->at, env->file, err, errlen, "out of memory");
    }
    rc = ixd_kafka_props_check(&p, why, sizeof(why));
    ixd_kafka_props_release(&p);
    if (rc == -1) {
        const struct ixd_cnode *at = ixd_cnode_get(env->at, "properties");
        return ixd_cnode_fail(at != NULL ? at : env->at, env->file, err, errlen,
                              "librdkafka refuses %s", why);
    }
    return 0;
}

static void
k_reopen(struct ixd_output *out)
{
    (void)out; /* nothing to reopen: a reload that changes a setting replaces the output */
}

const struct ixd_output_type ixd_output_kafka = {
    .m =
        {
            .name = "kafka",
            .keys = kafka_keys,
            .settings_size = sizeof(struct kafka_settings),
            .check = k_check,
        },
    .open = k_open,
    .reopen = k_reopen,
    .close = k_close,
    .stats = k_stats,
    .lane = k_lane,
    .write = k_write,
    .flush = k_flush,
};
