#include "kafka/kafka.h"

#include <jansson.h>
#include <librdkafka/rdkafka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "core/log.h"
#include "core/relaxed_counter.h"

#define TOPICS_MAX 256 /* topic handles kept; a pattern making more reuses the oldest slot */

struct topic {
    char *name;
    rd_kafka_topic_t *rkt;
};

struct ixd_kafka {
    rd_kafka_t *rk;
    const char *name;
    struct topic topics[TOPICS_MAX];
    unsigned n_topics, next_slot, last;
    uint64_t failed_since_poll;
    struct ixd_ratelimit errors;
    struct ixd_kafka_counts c;
};

int
ixd_kafka_props_add(struct ixd_kafka_props *p, const char *name, const char *value)
{
    char **names = realloc(p->names, (p->n + 1) * sizeof(*names));
    char **values;

    if (names == NULL) {
        return -1;
    }
    p->names = names;
    values = realloc(p->values, (p->n + 1) * sizeof(*values));
    if (values == NULL) {
        return -1;
    }
    p->values = values;
    p->names[p->n] = strdup(name);
    p->values[p->n] = strdup(value);
    if (p->names[p->n] == NULL || p->values[p->n] == NULL) {
        free(p->names[p->n]);
        free(p->values[p->n]);
        return -1;
    }
    p->n++;
    return 0;
}

void
ixd_kafka_props_release(struct ixd_kafka_props *p)
{
    for (size_t i = 0; i < p->n; i++) {
        free(p->names[i]);
        /* values may be secrets read from files: not left in freed memory */
        explicit_bzero(p->values[i], strlen(p->values[i]));
        free(p->values[i]);
    }
    free(p->names);
    free(p->values);
    memset(p, 0, sizeof(*p));
}

int
ixd_kafka_props_same(const struct ixd_kafka_props *a, const struct ixd_kafka_props *b)
{
    if (a->n != b->n) {
        return 0;
    }
    for (size_t i = 0; i < a->n; i++) {
        if (strcmp(a->names[i], b->names[i]) != 0 || strcmp(a->values[i], b->values[i]) != 0) {
            return 0;
        }
    }
    return 1;
}

/* A configuration holding p; NULL with err. */
static rd_kafka_conf_t *
make_conf(const struct ixd_kafka_props *p, char *err, size_t errlen)
{
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    char why[512];

    for (size_t i = 0; i < p->n; i++) {
        if (rd_kafka_conf_set(conf, p->names[i], p->values[i], why, sizeof(why)) !=
            RD_KAFKA_CONF_OK) {
            snprintf(err, errlen, "%s: %s", p->names[i], why);
            rd_kafka_conf_destroy(conf);
            return NULL;
        }
    }
    return conf;
}

int
ixd_kafka_props_check(const struct ixd_kafka_props *p, char *err, size_t errlen)
{
    rd_kafka_conf_t *conf = make_conf(p, err, errlen);

    if (conf == NULL) {
        return -1;
    }
    rd_kafka_conf_destroy(conf);
    return 0;
}

/* The counter slot of an error name (librdkafka's names are static strings). */
static uint64_t *
error_slot(struct ixd_kafka *k, const char *name)
{
    unsigned n = k->c.n_errors;

    for (unsigned i = 0; i < n; i++) {
        if (strcmp(k->c.errors[i].name, name) == 0) {
            return &k->c.errors[i].records;
        }
    }
    if (n == IXD_KAFKA_ERRORS_MAX) {
        return &k->c.errors[IXD_KAFKA_ERRORS_MAX].records;
    }
    k->c.errors[n].name = name;
    __atomic_store_n(&k->c.n_errors, n + 1, __ATOMIC_RELEASE);
    return &k->c.errors[n].records;
}

/* Delivery reports, on the thread in rd_kafka_poll(). */
static void
on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
    struct ixd_kafka *k = opaque;
    uint32_t records = (uint32_t)(uintptr_t)m->_private;

    (void)rk;
    if (m->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
        IXD_CNT_ADD(k->c.delivered, records);
        return;
    }
    IXD_CNT_ADD(k->c.failed, records);
    k->failed_since_poll += records;
    uint64_t *slot = error_slot(k, rd_kafka_err2name(m->err));
    IXD_CNT_ADD(*slot, records);
    ixd_log_limited(&k->errors, ixd_mono_now(), IXD_LOG_ERROR,
                    "output %s: message to %s not delivered: %s; %u records dropped", k->name,
                    rd_kafka_topic_name(m->rkt), rd_kafka_err2str(m->err), records);
}

/* Per-broker round trips from librdkafka's statistics (JSON, every statistics.interval.ms). */
static int
on_stats(rd_kafka_t *rk, char *json, size_t len, void *opaque)
{
    struct ixd_kafka *k = opaque;
    json_t *root = json_loadb(json, len, 0, NULL), *brokers, *b;
    const char *bname;

    (void)rk;
    brokers = json_object_get(root, "brokers");
    json_object_foreach(brokers, bname, b)
    {
        json_int_t id = json_integer_value(json_object_get(b, "nodeid"));
        json_t *rtt = json_object_get(b, "rtt");
        json_t *avg = json_object_get(rtt, "avg");
        unsigned i, n = k->c.n_brokers;
        if (id < 0 || !json_is_integer(avg)) {
            continue; /* a bootstrap address, not a broker of the cluster */
        }
        if (json_integer_value(json_object_get(rtt, "cnt")) == 0) {
            continue; /* no request in the interval: the last round trip stands */
        }
        for (i = 0; i < n && strcmp(k->c.brokers[i].name, bname) != 0; i++) {
        }
        if (i == n) {
            if (n == IXD_KAFKA_BROKERS_MAX) {
                continue;
            }
            snprintf(k->c.brokers[n].name, sizeof(k->c.brokers[n].name), "%s", bname);
            __atomic_store_n(&k->c.n_brokers, n + 1, __ATOMIC_RELEASE);
        }
        IXD_CNT_SET(k->c.brokers[i].rtt_us, (uint64_t)json_integer_value(avg));
    }
    json_decref(root);
    return 0; /* librdkafka frees json */
}

static void
on_log(const rd_kafka_t *rk, int level, const char *fac, const char *buf)
{
    struct ixd_kafka *k = rd_kafka_opaque(rk);

    /* librdkafka's own lines, as warnings at most: its errors are retried and counted */
    if (level <= 4) {
        ixd_log_limited(&k->errors, ixd_mono_now(), IXD_LOG_WARNING, "output %s: kafka %s: %s",
                        k->name, fac, buf);
    }
}

struct ixd_kafka *
ixd_kafka_new(const struct ixd_kafka_props *p, const char *name, char *err, size_t errlen)
{
    struct ixd_kafka *k = calloc(1, sizeof(*k));
    rd_kafka_conf_t *conf;
    char why[512];

    if (k == NULL) {
        snprintf(err, errlen, "output %s: out of memory", name);
        return NULL;
    }
    k->name = name;
    k->c.errors[IXD_KAFKA_ERRORS_MAX].name = "other";
    conf = make_conf(p, why, sizeof(why));
    if (conf == NULL) {
        snprintf(err, errlen, "output %s: %s", name, why);
        free(k);
        return NULL;
    }
    rd_kafka_conf_set_opaque(conf, k);
    rd_kafka_conf_set_dr_msg_cb(conf, on_delivery);
    rd_kafka_conf_set_stats_cb(conf, on_stats);
    rd_kafka_conf_set_log_cb(conf, on_log);
    k->rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, why, sizeof(why));
    if (k->rk == NULL) {
        snprintf(err, errlen, "output %s: cannot make a Kafka producer: %s", name, why);
        rd_kafka_conf_destroy(conf);
        free(k);
        return NULL;
    }
    return k;
}

/* The handle of a topic, made on first use. */
static rd_kafka_topic_t *
topic_of(struct ixd_kafka *k, const char *topic)
{
    struct topic *t;
    unsigned i;

    if (k->n_topics > 0 && strcmp(k->topics[k->last].name, topic) == 0) {
        return k->topics[k->last].rkt;
    }
    for (i = 0; i < k->n_topics; i++) {
        if (strcmp(k->topics[i].name, topic) == 0) {
            k->last = i;
            return k->topics[i].rkt;
        }
    }
    if (k->n_topics < TOPICS_MAX) {
        i = k->n_topics++;
    } else {
        i = k->next_slot;
        k->next_slot = (k->next_slot + 1) % TOPICS_MAX;
    }
    t = &k->topics[i];
    if (t->rkt != NULL) {
        rd_kafka_topic_destroy(t->rkt); /* librdkafka keeps its own reference while in use */
        free(t->name);
    }
    t->name = strdup(topic);
    t->rkt = t->name != NULL ? rd_kafka_topic_new(k->rk, topic, NULL) : NULL;
    if (t->rkt == NULL) {
        free(t->name);
        t->name = NULL;
        k->n_topics = i; /* only ever the last slot when filling */
        return NULL;
    }
    k->last = i;
    return t->rkt;
}

int
ixd_kafka_produce(struct ixd_kafka *k, const char *topic, const void *key, size_t keylen,
                  const void *payload, size_t len, uint32_t records, int *full)
{
    rd_kafka_topic_t *rkt = topic_of(k, topic);
    rd_kafka_resp_err_t e;

    *full = 0;
    if (rkt == NULL) {
        e = rd_kafka_last_error();
    } else if (rd_kafka_produce(rkt, RD_KAFKA_PARTITION_UA, RD_KAFKA_MSG_F_COPY, (void *)payload,
                                len, keylen > 0 ? key : NULL, keylen,
                                (void *)(uintptr_t)records) == 0) {
        return 0;
    } else {
        e = rd_kafka_last_error();
    }
    IXD_CNT_ADD(k->c.failed, records);
    uint64_t *slot = error_slot(k, rd_kafka_err2name(e));
    IXD_CNT_ADD(*slot, records);
    if (e == RD_KAFKA_RESP_ERR__QUEUE_FULL) {
        *full = 1;
        return -1;
    }
    ixd_log_limited(&k->errors, ixd_mono_now(), IXD_LOG_ERROR,
                    "output %s: cannot produce to %s: %s; %u records dropped", k->name, topic,
                    rd_kafka_err2str(e), records);
    return -1;
}

uint64_t
ixd_kafka_poll(struct ixd_kafka *k)
{
    uint64_t failed;

    rd_kafka_poll(k->rk, 0);
    failed = k->failed_since_poll;
    k->failed_since_poll = 0;
    return failed;
}

uint64_t
ixd_kafka_queued(const struct ixd_kafka *k)
{
    int n = rd_kafka_outq_len(k->rk);

    return n > 0 ? (uint64_t)n : 0;
}

const struct ixd_kafka_counts *
ixd_kafka_counts(const struct ixd_kafka *k)
{
    return &k->c;
}

uint64_t
ixd_kafka_free(struct ixd_kafka *k, int timeout_ms, struct ixd_kafka_counts *final)
{
    uint64_t failed_before, given_up;

    if (k == NULL) {
        return 0;
    }
    failed_before = k->c.failed;
    if (rd_kafka_flush(k->rk, timeout_ms) != RD_KAFKA_RESP_ERR_NO_ERROR) {
        log_warn("output %s: %d messages not delivered within %d ms of stopping: given up", k->name,
                 rd_kafka_outq_len(k->rk), timeout_ms);
        rd_kafka_purge(k->rk, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
        /* their reports count them as failed */
        for (int i = 0; i < 50 && rd_kafka_outq_len(k->rk) > 0; i++) {
            rd_kafka_poll(k->rk, 20);
        }
    }
    given_up = k->c.failed - failed_before;
    if (final != NULL) {
        *final = k->c;
    }
    for (unsigned i = 0; i < k->n_topics; i++) {
        rd_kafka_topic_destroy(k->topics[i].rkt);
        free(k->topics[i].name);
    }
    rd_kafka_destroy(k->rk);
    free(k);
    return given_up;
}
