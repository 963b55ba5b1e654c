/* Counting the data records in replayed IPFIX messages, with the templates seen so far. */
#ifndef IXD_SEND_COUNT_H
#define IXD_SEND_COUNT_H

#include <stddef.h>
#include <stdint.h>

struct rec_counter;

struct rec_counter *rec_counter_new(void);
void rec_counter_free(struct rec_counter *rc);

/* Learn the templates of one message and return its number of data records (those of sets
 * whose template is unknown count 0). Anything that is not a well-formed IPFIX message
 * counts 0. */
uint64_t rec_counter_message(struct rec_counter *rc, const uint8_t *msg, size_t len);

#endif
