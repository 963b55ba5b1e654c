/**
 * @file record.h
 * The record model every stage and output sees.
 *
 * A record is a view into the message it arrived in: a template, a pointer to the record's
 * bytes, and (for templates with variable-length fields) the offsets and lengths of each field
 * in this record. Nothing is copied or converted on the record path; an output that needs a
 * value reads it through the template's field table. Records are valid only for the duration
 * of the call that hands them over (the message buffer is reused afterwards). See
 * docs/internals/record-model.md.
 */
#ifndef IPFIXD_RECORD_H
#define IPFIXD_RECORD_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

/** Abstract data types of RFC 7011 section 6.1 (plus the RFC 6313 list types). */
enum ixd_type {
    IXD_TYPE_OCTETS = 0, /**< octetArray; also every element whose type is unknown */
    IXD_TYPE_UNSIGNED,   /**< unsigned8..unsigned64, reduced-size encoding allowed */
    IXD_TYPE_SIGNED,     /**< signed8..signed64 */
    IXD_TYPE_FLOAT,      /**< float32/float64 (float64 may be sent as 4 bytes) */
    IXD_TYPE_BOOLEAN,    /**< 1 = true, 2 = false */
    IXD_TYPE_MAC,        /**< macAddress, 6 bytes */
    IXD_TYPE_STRING,     /**< UTF-8 string */
    IXD_TYPE_TIME_SEC,   /**< dateTimeSeconds, 4 bytes */
    IXD_TYPE_TIME_MSEC,  /**< dateTimeMilliseconds, 8 bytes */
    IXD_TYPE_TIME_USEC,  /**< dateTimeMicroseconds, 8 bytes NTP format */
    IXD_TYPE_TIME_NSEC,  /**< dateTimeNanoseconds, 8 bytes NTP format */
    IXD_TYPE_IPV4,       /**< ipv4Address, 4 bytes */
    IXD_TYPE_IPV6,       /**< ipv6Address, 16 bytes */
    IXD_TYPE_BASIC_LIST, /**< RFC 6313 basicList (read with src/ipfix/lists.h) */
    IXD_TYPE_SUBTEMPLATE_LIST,
    IXD_TYPE_SUBTEMPLATE_MULTILIST,
    IXD_TYPE_UPTIME,  /**< flowStart/EndSysUpTime: absolute once system_init_ms is known */
    IXD_TYPE_PADDING, /**< paddingOctets: carries nothing, written nowhere */
};

/** Field length that marks a variable-length field in a template (RFC 7011 section 7). */
#define IXD_VARLEN 65535

/** An information element definition from the information model. */
struct ixd_ie {
    uint32_t pen;     /**< private enterprise number, 0 for IANA */
    uint16_t id;      /**< element id without the enterprise bit */
    uint8_t type;     /**< enum ixd_type */
    uint16_t length;  /**< registered length: the most a reduced-size encoding may use */
    const char *name; /**< e.g. "sourceIPv4Address" */
};

/** One field of a template, compiled once when the template arrives. 24 bytes (16 of values
 * and the key pointer): with its share of the lookup index a field costs at most 32 bytes, so a
 * template grows by no more than that per field (docs/benchmarks.md, memory per template). */
struct ixd_field {
    uint32_t pen;
    uint16_t id;
    uint16_t length;          /**< as declared; IXD_VARLEN for variable length */
    uint16_t offset;          /**< fixed offset in the record; valid while !after_varlen */
    uint16_t repeat;          /**< number of fields with the same (pen, id) in the template */
    uint16_t repeat_index;    /**< this field's position among them, 0-based */
    uint8_t key_length;       /**< strlen(key); keys are at most IXD_KEY_NAME_MAX bytes */
    uint8_t type : 5;         /**< enum ixd_type as decoded (OCTETS when the length is illegal) */
    uint8_t after_varlen : 1; /**< 1 if a variable-length field precedes it */
    uint8_t named : 1;        /**< 1: key is the element's name in the information model */
    const char *key;          /**< JSON key: the element name or "en<PEN>:id<ID>" / "id<ID>" */
};
_Static_assert(sizeof(struct ixd_field) == 24, "struct ixd_field must stay 24 bytes");
_Static_assert(IXD_TYPE_PADDING < 32, "enum ixd_type must fit the 5 bits of ixd_field.type");

/** A compiled template (or options template). Owned by its session; see template.h. */
struct ixd_template {
    uint64_t serial; /**< unique for the life of the process: a refresh keeps the old one */
    uint16_t id;
    uint16_t field_count;
    uint16_t scope_count;  /**< > 0 for options templates */
    uint16_t min_length;   /**< smallest possible record (varlen fields count 1 byte) */
    uint16_t fixed_length; /**< record length when !has_varlen */
    uint8_t has_varlen;
    uint8_t bad_lengths;      /**< fields whose length is illegal for their type */
    uint8_t has_lists;        /**< 1 if a field holds RFC 6313 structured data */
    int16_t sampling_field;   /**< a field carrying a sampling interval, or -1 */
    int16_t sampler_field;    /**< a samplerId or selectorId field, or -1 */
    struct ixd_field *fields; /**< field_count entries */
    uint16_t *index;          /**< open-addressing table (pen, id) -> first field index */
    uint16_t index_mask;
};

struct ixd_record;

/**
 * Resolves what RFC 6313 structured data refers to: the templates of the record's observation
 * domain (subTemplateList, subTemplateMultiList) and the information model (basicList). Valid
 * for as long as the records it comes with.
 */
struct ixd_resolver {
    const struct ixd_template *(*template_of)(const struct ixd_resolver *r, uint16_t tid);
    const struct ixd_ie *(*element_of)(const struct ixd_resolver *r, uint32_t pen, uint16_t id);
    /** The packet sampling rate (1 in N) that applies to r; 1 when unsampled or unknown. */
    uint32_t (*sampling_of)(const struct ixd_resolver *r, const struct ixd_record *rec);
};

/** Where a batch of records came from; shared by every record of a message. */
struct ixd_source {
    const char *collector;            /**< collector name */
    struct sockaddr_storage exporter; /**< exporter address and port (IPv4 unmapped) */
    char exporter_text[48];           /**< address as text */
    uint16_t exporter_port;
    uint32_t odid;          /**< observation domain */
    uint32_t export_time;   /**< message header export time */
    uint32_t sequence;      /**< message header sequence number */
    int64_t received_usec;  /**< receive time, UNIX microseconds */
    uint8_t late;           /**< 1: held until its template arrived ("@late": true) */
    int64_t system_init_ms; /**< exporter boot time, UNIX ms (NetFlow headers); 0 = unknown */
    /** How far the exporter's clock is ahead of the collector's, usec, as its session measured
     * it from export and receive times (docs/internals/clock.md); valid when clock_known. */
    int64_t clock_offset_usec;
    uint8_t clock_known;
    const struct ixd_resolver *resolver; /**< NULL: structured data stays raw bytes */
    /** The subject (RFC 2253, printable ASCII) of the certificate the exporter presented over
     * TLS or DTLS; NULL on other transports or when it presented none. */
    const char *tls_subject;
};

/** One data record. The bytes stay in the message buffer. */
struct ixd_record {
    const struct ixd_template *tmpl;
    const uint8_t *data;
    uint32_t length;
    /** Per-field offsets and lengths for templates with variable-length fields; else NULL. */
    const uint16_t *offsets;
    const uint16_t *lengths;
};

/** A batch of records from one message, handed to stages and outputs. */
struct ixd_batch {
    const struct ixd_source *source;
    size_t count;
    struct ixd_record *records;
};

/** The value bytes and length of field i of a record. */
static inline const uint8_t *
ixd_record_field(const struct ixd_record *r, unsigned i, uint16_t *len)
{
    if (r->offsets != NULL) {
        *len = r->lengths[i];
        return r->data + r->offsets[i];
    }
    *len = r->tmpl->fields[i].length;
    return r->data + r->tmpl->fields[i].offset;
}

#endif
