/*
 * A Kafka cluster for the tests: librdkafka's mock cluster, a real Kafka protocol endpoint on
 * loopback TCP ports, with 3 brokers. Prints its bootstrap list on the first line of standard
 * output, then reads commands on standard input, one a line, and answers each with "ok" or
 * "error ...":
 *   topic NAME PARTITIONS        create a topic
 *   down ID | up ID              a broker (1..3, or -1 for all) refuses or accepts connections
 *   rtt ID MS                    a broker answers MS milliseconds late
 *   produce-errors N CODE        the next N Produce requests fail with Kafka error CODE
 *   quit                         (or end of input) stops the cluster
 */
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PRODUCE_API_KEY 0

static int
command(rd_kafka_mock_cluster_t *mc, const char *line)
{
    char name[256];
    int a, b;

    if (sscanf(line, "topic %255s %d", name, &a) == 2) {
        return rd_kafka_mock_topic_create(mc, name, a, 1);
    }
    if (sscanf(line, "down %d", &a) == 1) {
        return rd_kafka_mock_broker_set_down(mc, a);
    }
    if (sscanf(line, "up %d", &a) == 1) {
        return rd_kafka_mock_broker_set_up(mc, a);
    }
    if (sscanf(line, "rtt %d %d", &a, &b) == 2) {
        return rd_kafka_mock_broker_set_rtt(mc, a, b);
    }
    if (sscanf(line, "produce-errors %d %d", &a, &b) == 2) {
        for (int i = 0; i < a; i++) {
            rd_kafka_mock_push_request_errors(mc, PRODUCE_API_KEY, 1, (rd_kafka_resp_err_t)b);
        }
        return 0;
    }
    return -1;
}

int
main(void)
{
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    char why[512], line[512];
    rd_kafka_mock_cluster_t *mc;
    rd_kafka_t *rk;

    rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, why, sizeof(why));
    if (rk == NULL) {
        fprintf(stderr, "kafka_mock: %s\n", why);
        return 1;
    }
    mc = rd_kafka_mock_cluster_new(rk, 3);
    if (mc == NULL) {
        fprintf(stderr, "kafka_mock: cannot start the mock cluster\n");
        return 1;
    }
    printf("%s\n", rd_kafka_mock_cluster_bootstraps(mc));
    fflush(stdout);
    while (fgets(line, sizeof(line), stdin) != NULL) {
        int rc;
        line[strcspn(line, "\n")] = '\0';
        if (strcmp(line, "quit") == 0) {
            break;
        }
        rc = command(mc, line);
        if (rc == -1) {
            printf("error unknown command: %s\n", line);
        } else if (rc != 0) {
            printf("error %s\n", rd_kafka_err2str((rd_kafka_resp_err_t)rc));
        } else {
            printf("ok\n");
        }
        fflush(stdout);
    }
    rd_kafka_mock_cluster_destroy(mc);
    rd_kafka_destroy(rk);
    return 0;
}
