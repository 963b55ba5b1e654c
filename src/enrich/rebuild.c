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
ixd_rebuild_copy_fields(struct ixd_rebuild *w, const struct ixd_record *r)
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
