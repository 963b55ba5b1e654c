/* Writing a rebuilt record with its offsets noted as it goes (rebuild.h). */
#include <stdlib.h>

#include "enrich/rebuild.h"

uint16_t *
ixd_rebuild_plan(const struct ixd_template *t)
{
    uint16_t *plan = malloc(4u * t->field_count + 1u);
    uint16_t i;

    for (i = 0; plan != NULL && i < t->field_count; i++) {
        plan[i] = t->fields[i].offset;
        plan[t->field_count + i] = t->fields[i].length;
    }
    return plan;
}

void
ixd_rebuild_start(struct ixd_rebuild *w, uint8_t *at, uint16_t n)
{
    w->offs = (uint16_t *)(void *)at;
    w->lens = w->offs + n;
    w->start = w->p = (uint8_t *)(w->lens + n);
    w->i = 0;
}

/* Field by field: a template with variable-length fields. */
static void
copy_fields(struct ixd_rebuild *w, const struct ixd_record *r)
{
    uint16_t i, len;

    for (i = 0; i < r->tmpl->field_count; i++) {
        const uint8_t *v = ixd_record_field(r, i, &len);
        if (r->tmpl->fields[i].length == IXD_VARLEN) {
            ixd_rebuild_varlen(w, v, len);
        } else {
            w->offs[w->i] = (uint16_t)(w->p - w->start);
            w->lens[w->i++] = len;
            memcpy(w->p, v, len);
            w->p += len;
        }
    }
}

int
ixd_rebuild_copy(struct ixd_rebuild *w, const struct ixd_record *r, const uint16_t *plan)
{
    uint16_t n = r->tmpl->field_count;

    if (plan == NULL) {
        copy_fields(w, r);
        return 0;
    }
    if (r->length != r->tmpl->fixed_length) {
        return -1;
    }
    /* the fields start at the record's start: their offsets are the template's */
    memcpy(w->p, r->data, r->length);
    memcpy(w->offs + w->i, plan, 2u * n);
    memcpy(w->lens + w->i, plan + n, 2u * n);
    w->p += r->length;
    w->i += n;
    return 0;
}

void
ixd_rebuild_patch_asn(struct ixd_rebuild *w, uint16_t f, uint32_t asn)
{
    uint16_t len = w->lens[f];
    uint8_t *p = w->start + w->offs[f];

    if (asn != 0 && len >= 1 && len <= 8 && ixd_get_uint(p, len) == 0 &&
        (len >= 4 || asn >> (8 * len) == 0)) {
        for (uint16_t i = 0; i < len; i++) {
            p[len - 1 - i] = i < 4 ? (uint8_t)(asn >> (8 * i)) : 0;
        }
    }
}
