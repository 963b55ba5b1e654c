/*
 * The record path for one IPFIX message: validate the framing, apply template sets, and hand
 * data records over in batches, read in place through each template's compiled layout.
 */
#ifndef IXD_IPFIX_DECODE_H
#define IXD_IPFIX_DECODE_H

#include <stddef.h>
#include <stdint.h>

#include "ipfix/session.h"
#include "ipfix/wire.h"
#include "ipfix/validate.h"
#include "ipfixd/record.h"

#define IXD_BATCH_MAX 256
#define IXD_SCRATCH_MAX 32768 /* uint16 slots for variable-length offsets and lengths */

typedef void (*ixd_deliver_fn)(void *arg, const struct ixd_batch *batch);

/* Per-worker decode state: the batch being filled and where full batches go. */
struct ixd_decoder {
    ixd_deliver_fn deliver; /* for sessions without a target of their own */
    void *deliver_arg;
    const struct ixd_sessions *owner; /* of the message being decoded: its target is used */
    struct ixd_batch batch;
    struct ixd_record records[IXD_BATCH_MAX];
    uint16_t scratch[IXD_SCRATCH_MAX];
    size_t scratch_used;
    uint8_t translated[65536]; /* a NetFlow packet rewritten as an IPFIX message */
};

void ixd_decoder_init(struct ixd_decoder *dec, ixd_deliver_fn deliver, void *arg);


/*
 * Processes one message of session s that arrived at now (monotonic seconds) and
 * received_usec (wall clock). Every outcome is counted; records go to dec->deliver before this
 * returns. Returns the number of data records decoded, or -1 if the message was rejected.
 */
int ixd_message_process(struct ixd_decoder *dec, struct ixd_session *s, const uint8_t *msg,
                        size_t len, double now, int64_t received_usec);

/*
 * The value of field f of a record whose bytes are p[0..avail), the field starting at *pos: its
 * length in *len (a variable-length field's prefix read, RFC 7011 section 7) and *pos moved to
 * the value. Returns 0, or -1 when the prefix or the value runs past avail.
 */
static inline int
ixd_field_extent(const struct ixd_field *f, const uint8_t *p, size_t avail, size_t *pos,
                 size_t *len)
{
    size_t at = *pos, n = f->length;

    if (n == IXD_VARLEN) {
        if (at + 1 > avail) {
            return -1;
        }
        n = p[at++];
        if (n == 255) {
            if (at + 2 > avail) {
                return -1;
            }
            n = ixd_get16(p + at);
            at += 2;
        }
    }
    if (n > avail - at) {
        return -1;
    }
    *pos = at;
    *len = n;
    return 0;
}

/*
 * Walks one record of a template with variable-length fields at p (avail bytes), filling each
 * field's offset and length. Returns the record's length, or 0 if it overruns avail.
 */
size_t ixd_record_walk(const struct ixd_template *t, const uint8_t *p, size_t avail,
                       uint16_t *offsets, uint16_t *lengths);

#endif
