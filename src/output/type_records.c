#include "output/type_records.h"

#include <string.h>

#include "ipfix/wire.h"

/* IANA elements of RFC 5610's information element type options template */
#define IE_INFORMATION_ELEMENT_ID 303
#define IE_INFORMATION_ELEMENT_DATA_TYPE 339
#define IE_INFORMATION_ELEMENT_DESCRIPTION 340
#define IE_INFORMATION_ELEMENT_NAME 341
#define IE_INFORMATION_ELEMENT_RANGE_BEGIN 342
#define IE_INFORMATION_ELEMENT_RANGE_END 343
#define IE_INFORMATION_ELEMENT_SEMANTICS 344
#define IE_INFORMATION_ELEMENT_UNITS 345
#define IE_PRIVATE_ENTERPRISE_NUMBER 346

/* The fixed part of a record: enterprise 4, element ID 2, data type 1, semantics 1, units 2,
 * range begin 8, range end 8. */
#define FIXED_LEN 26

/* The scope first, then what RFC 5610 section 3.9 requires and what it allows; the ranges and
 * units are sent (0: none) because libfixbuf's collectors take a template for type records
 * only when it has all nine. */
static const uint16_t type_fields[][2] = {
    {IE_PRIVATE_ENTERPRISE_NUMBER, 4},
    {IE_INFORMATION_ELEMENT_ID, 2},
    {IE_INFORMATION_ELEMENT_DATA_TYPE, 1},
    {IE_INFORMATION_ELEMENT_SEMANTICS, 1},
    {IE_INFORMATION_ELEMENT_UNITS, 2},
    {IE_INFORMATION_ELEMENT_RANGE_BEGIN, 8},
    {IE_INFORMATION_ELEMENT_RANGE_END, 8},
    {IE_INFORMATION_ELEMENT_NAME, IXD_VARLEN},
    {IE_INFORMATION_ELEMENT_DESCRIPTION, IXD_VARLEN},
};
#define N_TYPE_FIELDS (sizeof(type_fields) / sizeof(type_fields[0]))
_Static_assert(6 + 4 * N_TYPE_FIELDS == IXD_TYPEREC_TEMPLATE_LEN, "template length");

size_t
ixd_typerec_template(uint8_t *out, uint16_t tid)
{
    size_t k, at = 6;

    ixd_put16(out, tid);
    ixd_put16(out + 2, (uint16_t)N_TYPE_FIELDS);
    ixd_put16(out + 4, 2); /* scope: the enterprise and the element ID */
    for (k = 0; k < N_TYPE_FIELDS; k++) {
        ixd_put16(out + at, type_fields[k][0]);
        ixd_put16(out + at + 2, type_fields[k][1]);
        at += 4;
    }
    return at;
}

/* RFC 5610 informationElementDataType: IANA's abstract data types as numbered there. */
static uint8_t
data_type(const struct ixd_own_element *e)
{
    switch (e->type) {
    case IXD_TYPE_UNSIGNED:
        return e->length == 1 ? 1 : e->length == 2 ? 2 : e->length == 4 ? 3 : 4;
    case IXD_TYPE_STRING:
        return 13;
    case IXD_TYPE_IPV4:
        return 18;
    case IXD_TYPE_IPV6:
        return 19;
    default:
        return 0; /* octetArray */
    }
}

static size_t
varlen_length(size_t n)
{
    return (n < 255 ? 1 : 3) + n;
}

static size_t
put_varlen(uint8_t *out, const char *s)
{
    size_t n = strlen(s), at = 1;

    if (n < 255) {
        out[0] = (uint8_t)n;
    } else {
        out[0] = 255;
        ixd_put16(out + 1, (uint16_t)n);
        at = 3;
    }
    memcpy(out + at, s, n);
    return at + n;
}

size_t
ixd_typerec_length(const struct ixd_own_element *e)
{
    return FIXED_LEN + varlen_length(strlen(e->name)) + varlen_length(strlen(e->description));
}

size_t
ixd_typerec_write(uint8_t *out, uint32_t pen, const struct ixd_own_element *e)
{
    size_t at = FIXED_LEN;

    ixd_put32(out, pen);
    ixd_put16(out + 4, e->id);
    out[6] = data_type(e);
    out[7] = e->semantics;
    ixd_put16(out + 8, e->units);
    memset(out + 10, 0, 16); /* no range */
    at += put_varlen(out + at, e->name);
    at += put_varlen(out + at, e->description);
    return at;
}

uint64_t
ixd_typerec_mask(const struct ixd_template *t, uint32_t *pen)
{
    uint64_t mask = 0;
    uint16_t i;

    for (i = 0; i < t->field_count; i++) {
        const struct ixd_own_element *e = ixd_own_element_of(&t->fields[i]);
        if (e != NULL) {
            mask |= 1ull << (e - ixd_own_elements);
            *pen = t->fields[i].pen;
        }
    }
    return mask;
}
