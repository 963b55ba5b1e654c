/*
 * RFC 5610 information element type records: how an export names ipfixd's own elements to a
 * collector that has never heard of them. One options template (scope: the enterprise and the
 * element ID) and one data record per element, written by the export session before the
 * first template that uses the element in each transport session (docs/internals/export.md).
 */
#ifndef IXD_OUTPUT_TYPE_RECORDS_H
#define IXD_OUTPUT_TYPE_RECORDS_H

#include <stddef.h>
#include <stdint.h>

#include "ipfix/ie.h"
#include "ipfixd/record.h"

/* Bytes of the options template record (template ID, counts and nine fields). */
#define IXD_TYPEREC_TEMPLATE_LEN 42
/* The longest type record any own element makes (a unit test holds every one to it). */
#define IXD_TYPEREC_MAX 256

/* Writes the type records' options template under template ID tid: IXD_TYPEREC_TEMPLATE_LEN
 * bytes. */
size_t ixd_typerec_template(uint8_t *out, uint16_t tid);

/* The length of the type record of own element e. */
size_t ixd_typerec_length(const struct ixd_own_element *e);

/* Writes the type record of own element e under enterprise pen; returns its length. */
size_t ixd_typerec_write(uint8_t *out, uint32_t pen, const struct ixd_own_element *e);

/* The own elements t holds, bit i standing for ixd_own_elements[i] (0: none), and their
 * enterprise into *pen. */
uint64_t ixd_typerec_mask(const struct ixd_template *t, uint32_t *pen);

#endif
