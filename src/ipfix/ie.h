/*
 * The information-element registry: names and types of IANA and enterprise elements, built
 * from libfixbuf's information model (plus XML files named in the config) at start-up and
 * read-only afterwards, so any thread may look elements up without locking.
 */
#ifndef IXD_IPFIX_IE_H
#define IXD_IPFIX_IE_H

#include <stddef.h>

#include "ipfixd/record.h"

struct ixd_ie_registry;

/*
 * Builds the registry: libfixbuf's IANA and CERT elements, then the libfixbuf XML files in
 * order, a later definition of an element replacing an earlier one. NULL + err on failure, err
 * naming the file as "FILE:LINE:COL: message".
 */
struct ixd_ie_registry *ixd_ie_registry_new(char *const *files, size_t n_files, char *err,
                                            size_t errlen);
void ixd_ie_registry_free(struct ixd_ie_registry *reg);

/* ipfixd's own elements: what the enrich stage adds (docs/enrichment.md). config/elements/
 * ipfixd.xml describes them for other collectors; a unit test keeps the two the same. */
struct ixd_own_element {
    uint16_t id;
    uint8_t type;      /* enum ixd_type */
    uint16_t length;   /* registered length (IXD_VARLEN for strings) */
    uint8_t semantics; /* RFC 5610 informationElementSemantics: 0, 1 quantity, 3 deltaCounter */
    uint16_t units;    /* RFC 5610 informationElementUnits: 0 none, IXD_UNITS_OCTETS */
    const char *name;
    const char *description;
};
extern const struct ixd_own_element ixd_own_elements[];
extern const size_t ixd_n_own_elements;
#define IXD_UNITS_OCTETS 2 /* IANA's IPFIX units registry */

/* Which own element a template field is, as the registry named it (the registry's definition
 * of an own element carries the table's name string), or NULL: a field under the same
 * enterprise and id that the registry did not take for ipfixd's is not one. */
const struct ixd_own_element *ixd_own_element_of(const struct ixd_field *f);

/*
 * Defines ipfixd's own elements under enterprise pen (elements.enterprise), replacing what a
 * file said of the same (pen, id); their names find them, whatever else has the same name.
 * Before any other thread reads the registry (it is read-only afterwards). 0, or -1 (no memory).
 */
int ixd_ie_registry_add_own(struct ixd_ie_registry *reg, uint32_t pen);
/* The enterprise of the own elements (0: not added). */
uint32_t ixd_ie_own_enterprise(const struct ixd_ie_registry *reg);
/* NULL when the element is unknown. */
const struct ixd_ie *ixd_ie_lookup(const struct ixd_ie_registry *reg, uint32_t pen, uint16_t id);
const struct ixd_ie *ixd_ie_lookup_name(const struct ixd_ie_registry *reg, const char *name);
size_t ixd_ie_count(const struct ixd_ie_registry *reg);

/* The smallest and largest legal encoded length for a type (reduced-size encoding included). */
void ixd_type_lengths(enum ixd_type type, uint16_t *min, uint16_t *max);

#endif
