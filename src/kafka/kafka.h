/*
 * A Kafka producer (librdkafka stays behind this folder). The Kafka output (src/output/kafka.c)
 * makes one per output and uses it from its writer thread only; the counters it keeps may be
 * read by any thread. See docs/sinks.md#kafka.
 */
#ifndef IXD_KAFKA_KAFKA_H
#define IXD_KAFKA_KAFKA_H

#include <stddef.h>
#include <stdint.h>

/* librdkafka properties as written under `properties:` (or made from the output's keys). */
struct ixd_kafka_props {
    size_t n;
    char **names;
    char **values;
};

/* Adds name=value (copied); 0, or -1 when out of memory. */
int ixd_kafka_props_add(struct ixd_kafka_props *p, const char *name, const char *value);
void ixd_kafka_props_release(struct ixd_kafka_props *p);
/* 1 when a and b hold the same properties in the same order. */
int ixd_kafka_props_same(const struct ixd_kafka_props *a, const struct ixd_kafka_props *b);

/* Checks that librdkafka knows every property and accepts its value: 0, or -1 with
 * "NAME: librdkafka's reason" in err. Any thread. */
int ixd_kafka_props_check(const struct ixd_kafka_props *p, char *err, size_t errlen);

#define IXD_KAFKA_ERRORS_MAX 16 /* error names counted apart; others as "other" */
#define IXD_KAFKA_BROKERS_MAX 16

/* What the producer counts. Written by the thread that calls ixd_kafka_poll(); read by any
 * with relaxed loads; a table's n is published with a release store after its slot is set. */
struct ixd_kafka_counts {
    uint64_t delivered; /* records in messages the cluster acknowledged */
    uint64_t failed;    /* records in messages refused or not delivered, by error below */
    unsigned n_errors;
    struct {
        const char *name; /* librdkafka's error name, static */
        uint64_t records;
    } errors[IXD_KAFKA_ERRORS_MAX + 1]; /* the last one is "other" */
    unsigned n_brokers;
    struct {
        char name[64];
        uint64_t rtt_us; /* average round trip of the last interval with requests */
    } brokers[IXD_KAFKA_BROKERS_MAX];
};

struct ixd_kafka;

/* A producer with the given properties; name is for log lines (borrowed for its life). NULL
 * with "output NAME: ..." in err. Control thread. */
struct ixd_kafka *ixd_kafka_new(const struct ixd_kafka_props *p, const char *name, char *err,
                                size_t errlen);

/* Flushes for up to timeout_ms, then gives up what is left (counted as failed), and frees.
 * Returns the records given up; *final (may be NULL) receives the last counts. NULL: nothing. */
uint64_t ixd_kafka_free(struct ixd_kafka *k, int timeout_ms, struct ixd_kafka_counts *final);

/* Queues one message (copied) for topic; records is what a delivery report counts. 0, or -1
 * when it was not queued: librdkafka's queue is full (*full = 1) or another error (logged,
 * rate-limited). Never blocks. */
int ixd_kafka_produce(struct ixd_kafka *k, const char *topic, const void *key, size_t keylen,
                      const void *payload, size_t len, uint32_t records, int *full);

/* Serves delivery reports and statistics; returns the records whose delivery failed since the
 * last call (those ixd_kafka_produce() refused are the caller's to count).
 * The producing thread. */
uint64_t ixd_kafka_poll(struct ixd_kafka *k);

/* Messages waiting in librdkafka (queued, in flight, or waiting for a report). Any thread. */
uint64_t ixd_kafka_queued(const struct ixd_kafka *k);

const struct ixd_kafka_counts *ixd_kafka_counts(const struct ixd_kafka *k);

#endif
