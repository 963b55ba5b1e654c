/*
 * Template records: parsed from the wire (RFC 7011 section 3.4), checked, and compiled once into
 * a struct ixd_template (fixed offsets, types, a (pen, id) lookup table, JSON keys) so that data
 * records are read without interpreting the template again.
 */
#ifndef IXD_IPFIX_TEMPLATE_H
#define IXD_IPFIX_TEMPLATE_H

#include <stddef.h>
#include <stdint.h>

#include "ipfix/counters.h"
#include "ipfix/ie.h"
#include "ipfix/wire.h"
#include "ipfixd/record.h"

/* Longer element names (from user XML files) fall back to the "en<PEN>:id<ID>" key */
#define IXD_KEY_NAME_MAX 96

enum ixd_tparse {
    IXD_TPARSE_TEMPLATE = 1, /* a template was compiled into *out */
    IXD_TPARSE_WITHDRAW = 0, /* a withdrawal (field count 0) of *tid */
    IXD_TPARSE_SKIP = -1,    /* this record is bad (*why); *consumed bytes skip it */
    IXD_TPARSE_STOP = -2,    /* the rest of the set cannot be parsed (*why) */
};

struct ixd_template_rules {
    const struct ixd_ie_registry *registry;
    uint32_t max_fields;
    uint32_t max_record; /* longest record (bytes) a template may describe; 0 = any */
};

/*
 * Parses one template record at p (avail bytes left in the set). options selects the options
 * template layout (set ID 3). On IXD_TPARSE_TEMPLATE the caller owns *out. *tid is set whenever
 * the ID could be read. bad_lengths in the result counts fields whose length is illegal for
 * their type; such fields are decoded as octets.
 */
enum ixd_tparse ixd_template_parse(const uint8_t *p, size_t avail, int options,
                                   const struct ixd_template_rules *rules,
                                   struct ixd_template **out, uint16_t *tid, size_t *consumed,
                                   enum ixd_error *why);
void ixd_template_free(struct ixd_template *t);
/* Writes t back as the template record it came from (RFC 7011 3.4.1/3.4.2). Returns the length,
 * or 0 if out is too small. */
size_t ixd_template_encode(const struct ixd_template *t, uint8_t *out, size_t outlen);
/* 1 when both describe the same record layout (a refresh, not a change). */
int ixd_template_same(const struct ixd_template *a, const struct ixd_template *b);
/* The type a value of element ie (NULL: unknown) is decoded as when it is length bytes long:
 * its registered type, or octets when the length is illegal for it (RFC 7011 6.2). */
uint8_t ixd_field_type(const struct ixd_ie *ie, uint16_t length);
/* 1 when an integer element is sent longer than registered (but in at most 8 bytes): it is
 * decoded as a number all the same, and counted as field_length. */
int ixd_field_longer(const struct ixd_ie *ie, uint16_t length);
/* Index of the first field with (pen, id), or -1. */
int ixd_template_find(const struct ixd_template *t, uint32_t pen, uint16_t id);

/* Where t carries its octet and packet counts, for ixd_record_count: [0] octetDeltaCount (1),
 * else [1] and [2] initiatorOctets (231) and responderOctets (232); packets likewise
 * (2; 298, 299). -1 where it has none. */
void ixd_template_find_counts(const struct ixd_template *t, int16_t octets[3], int16_t packets[3]);

/* Field i of r as an unsigned integer (1 to 8 bytes); 0 when i < 0 or of another length. */
static inline uint64_t
ixd_record_uint(const struct ixd_record *r, int i)
{
    const uint8_t *p;
    uint16_t len;

    if (i < 0) {
        return 0;
    }
    p = ixd_record_field(r, (unsigned)i, &len);
    return len >= 1 && len <= 8 ? ixd_get_uint(p, len) : 0;
}

/* The count of r at f (from ixd_template_find_counts): the delta, or initiator + responder. */
static inline uint64_t
ixd_record_count(const struct ixd_record *r, const int16_t f[3])
{
    return f[0] >= 0 ? ixd_record_uint(r, f[0])
                     : ixd_record_uint(r, f[1]) + ixd_record_uint(r, f[2]);
}

#endif
