/*
 * RFC 6313 structured data: basicList, subTemplateList and subTemplateMultiList values read in
 * place. Every function checks the value's bytes and never reads past them; a malformed list is
 * reported, never guessed at.
 */
#ifndef IXD_IPFIX_LISTS_H
#define IXD_IPFIX_LISTS_H

#include <stddef.h>
#include <stdint.h>

#include "ipfixd/record.h"

/* RFC 6313 section 4.4: the list semantic; anything else is written as its number. */
const char *ixd_list_semantic_name(uint8_t semantic);

struct ixd_basic_list {
    uint8_t semantic;
    uint32_t pen;
    uint16_t id;
    uint16_t element_length; /* 65535: each element is variable-length encoded */
    const uint8_t *elements;
    size_t length;
};

/* Reads a basicList header (section 4.5.1). 0, or -1 when the value is too short for it or
 * holds elements of length 0 (a list that would never end). */
int ixd_basic_list_open(const uint8_t *p, size_t len, struct ixd_basic_list *out);
/* The element at *pos, advancing it: 1 with *v, *vlen; 0 at the end; -1 when malformed. */
int ixd_basic_list_next(const struct ixd_basic_list *l, size_t *pos, const uint8_t **v,
                        uint16_t *vlen);

struct ixd_subtemplate_list {
    uint8_t semantic;
    uint16_t tid;
    const uint8_t *records;
    size_t length;
};

/* Reads a subTemplateList header (section 4.5.2). 0 or -1. */
int ixd_subtemplate_list_open(const uint8_t *p, size_t len, struct ixd_subtemplate_list *out);

/* subTemplateMultiList (section 4.5.3): a semantic, then blocks of records of one template. */
struct ixd_subtemplate_block {
    uint16_t tid;
    const uint8_t *records;
    size_t length;
};

/* 0 with *semantic, or -1 when the value is empty. Blocks start at offset 1. */
int ixd_subtemplate_multilist_open(const uint8_t *p, size_t len, uint8_t *semantic);
/* The block at *pos (start with 1), advancing it: 1, 0 at the end, -1 when malformed. */
int ixd_subtemplate_multilist_next(const uint8_t *p, size_t len, size_t *pos,
                                   struct ixd_subtemplate_block *b);

/* Where a record's structured data names a template: the subTemplateList header and each
 * subTemplateMultiList block header, at any depth (lists in the records of a list, lists in a
 * basicList of lists). An exporter that re-sends the record under other template IDs rewrites
 * the two bytes at each offset. */
struct ixd_list_ref {
    uint32_t offset;                 /* of the template ID, from the start of the record */
    const struct ixd_template *tmpl; /* what it names in the record's domain; NULL: unknown */
};

/* Nesting followed (deeper lists keep their IDs) and references reported per record. */
#define IXD_LIST_REFS_DEPTH 8
#define IXD_LIST_REFS_MAX 64

/* Fills refs (room for max) with the template references of r, in the order they appear,
 * resolving each through res, and returns how many it found. *complete is 0 when the walk
 * stopped at a limit (more than max references, lists nested deeper than IXD_LIST_REFS_DEPTH):
 * references after that point were not reported. Malformed lists name nothing and are skipped. */
size_t ixd_list_refs(const struct ixd_record *r, const struct ixd_resolver *res,
                     struct ixd_list_ref *refs, size_t max, int *complete);

#endif
