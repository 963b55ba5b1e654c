/* RFC 6313 template references (ixd_list_refs): where a record's lists name templates, at any
 * depth, as the IPFIX export rewrites them (docs/internals/export.md). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "ipfix/lists.h"
#include "ipfix/wire.h"

/* Hand-made templates: the walker reads field_count, has_lists and each field's type and
 * length, nothing else. */
static struct ixd_field f_port[] = {
    {.id = 7, .length = 2, .offset = 0, .type = IXD_TYPE_UNSIGNED, .after_varlen = 0, .repeat = 1}};
static struct ixd_field f_proto_stl[] = {
    {.id = 4, .length = 1, .offset = 0, .type = IXD_TYPE_UNSIGNED, .after_varlen = 0, .repeat = 1},
    {.id = 292,
     .length = IXD_VARLEN,
     .offset = 1,
     .type = IXD_TYPE_SUBTEMPLATE_LIST,
     .after_varlen = 0,
     .repeat = 1},
};
static struct ixd_field f_outer[] = {
    {.id = 292,
     .length = IXD_VARLEN,
     .offset = 0,
     .type = IXD_TYPE_SUBTEMPLATE_LIST,
     .after_varlen = 0,
     .repeat = 1},
    {.id = 293,
     .length = IXD_VARLEN,
     .offset = 0,
     .type = IXD_TYPE_SUBTEMPLATE_MULTILIST,
     .after_varlen = 1,
     .repeat = 1},
    {.id = 291,
     .length = IXD_VARLEN,
     .offset = 0,
     .type = IXD_TYPE_BASIC_LIST,
     .after_varlen = 1,
     .repeat = 1},
};
static struct ixd_template t301 = {
    .id = 301, .field_count = 1, .fixed_length = 2, .min_length = 2, .fields = f_port};
/* a record holding a subTemplateList: 302 names 302 again to nest without end */
static struct ixd_template t302 = {.id = 302,
                                   .field_count = 2,
                                   .has_varlen = 1,
                                   .has_lists = 1,
                                   .min_length = 2,
                                   .fields = f_proto_stl};
static struct ixd_template t400 = {.id = 400,
                                   .field_count = 3,
                                   .has_varlen = 1,
                                   .has_lists = 1,
                                   .min_length = 3,
                                   .fields = f_outer};

static const struct ixd_template *
template_of(const struct ixd_resolver *r, uint16_t tid)
{
    (void)r;
    return tid == 301 ? &t301 : tid == 302 ? &t302 : NULL;
}

static const struct ixd_ie stl_ie = {0, 292, IXD_TYPE_SUBTEMPLATE_LIST, 65535, "subTemplateList"};
static const struct ixd_ie port_ie = {0, 7, IXD_TYPE_UNSIGNED, 2, "sourceTransportPort"};

static const struct ixd_ie *
element_of(const struct ixd_resolver *r, uint32_t pen, uint16_t id)
{
    (void)r;
    if (pen != 0) {
        return NULL;
    }
    return id == 292 ? &stl_ie : id == 7 ? &port_ie : NULL;
}

static const struct ixd_resolver res = {template_of, element_of, NULL};

/* A record of t400 from its three values; the offsets of each value are kept. */
struct rec {
    uint8_t data[512];
    uint16_t off[3], len[3];
    struct ixd_record r;
};

static size_t
put_value(uint8_t *p, const uint8_t *v, size_t n)
{
    p[0] = (uint8_t)n;
    memcpy(p + 1, v, n);
    return n + 1;
}

static void
build(struct rec *x, const uint8_t *stl, size_t stl_len, const uint8_t *stml, size_t stml_len,
      const uint8_t *bl, size_t bl_len)
{
    size_t pos = 0;
    const uint8_t *v[3] = {stl, stml, bl};
    size_t n[3] = {stl_len, stml_len, bl_len};
    int i;

    for (i = 0; i < 3; i++) {
        x->off[i] = (uint16_t)(pos + 1);
        x->len[i] = (uint16_t)n[i];
        pos += put_value(x->data + pos, v[i], n[i]);
    }
    x->r.tmpl = &t400;
    x->r.data = x->data;
    x->r.length = (uint32_t)pos;
    x->r.offsets = x->off;
    x->r.lengths = x->len;
}

static void
test_every_reference_at_its_offset(void **state)
{
    /* STL of 301 (two records); STML: a 301 block, a 302 block whose record holds an STL of
     * 301, a block of 999 (unknown); basicList of subTemplateLists of 301 */
    static const uint8_t stl[] = {3, 0x01, 0x2d, 0, 53, 0, 80};
    static const uint8_t stml[] = {3,    0x01, 0x2d, 0,  6,  0, 80,                    /* 301 */
                                   0x01, 0x2e, 0,    11, 17, 5, 2,  0x01, 0x2d, 0, 53, /* 302 */
                                   0x03, 0xe7, 0,    6,  1,  2};                       /* 999 */
    static const uint8_t bl[] = {3, 0x01, 0x24, 0xff, 0xff, 5, 2, 0x01, 0x2d, 0, 9};
    struct ixd_list_ref refs[IXD_LIST_REFS_MAX];
    struct rec x;
    size_t n;
    int complete;

    (void)state;
    build(&x, stl, sizeof(stl), stml, sizeof(stml), bl, sizeof(bl));
    n = ixd_list_refs(&x.r, &res, refs, IXD_LIST_REFS_MAX, &complete);
    assert_int_equal(complete, 1);
    assert_int_equal(n, 6);
    /* each offset holds the template ID it reports */
    assert_int_equal(ixd_get16(x.data + refs[0].offset), 301);
    assert_ptr_equal(refs[0].tmpl, &t301);
    assert_int_equal(refs[0].offset, x.off[0] + 1);
    assert_int_equal(refs[1].offset, x.off[1] + 1);
    assert_ptr_equal(refs[1].tmpl, &t301);
    assert_int_equal(refs[2].offset, x.off[1] + 7);
    assert_ptr_equal(refs[2].tmpl, &t302);
    assert_int_equal(refs[3].offset, x.off[1] + 14); /* the STL inside the 302 record */
    assert_ptr_equal(refs[3].tmpl, &t301);
    assert_int_equal(refs[4].offset, x.off[1] + 18);
    assert_null(refs[4].tmpl); /* 999: reported, so the caller knows it stays as it is */
    assert_int_equal(ixd_get16(x.data + refs[4].offset), 999);
    assert_int_equal(refs[5].offset, x.off[2] + 7); /* basicList element: an STL of 301 */
    assert_ptr_equal(refs[5].tmpl, &t301);
}

static void
test_malformed_lists_name_nothing(void **state)
{
    /* STL too short to hold an ID; an STML whose second block runs past the end; a basicList
     * of an element the model does not know */
    static const uint8_t stl[] = {3, 0x01};
    static const uint8_t stml[] = {3, 0x01, 0x2d, 0, 6, 0, 80, 0x01, 0x2d, 0, 40, 0, 1};
    static const uint8_t bl[] = {3, 0x7f, 0x00, 0, 2, 0, 1};
    struct ixd_list_ref refs[IXD_LIST_REFS_MAX];
    struct rec x;
    size_t n;
    int complete;

    (void)state;
    build(&x, stl, sizeof(stl), stml, sizeof(stml), bl, sizeof(bl));
    n = ixd_list_refs(&x.r, &res, refs, IXD_LIST_REFS_MAX, &complete);
    assert_int_equal(complete, 1);
    assert_int_equal(n, 1);
    assert_int_equal(refs[0].offset, x.off[1] + 1);
}

static void
test_limits_stop_the_walk(void **state)
{
    uint8_t deep[256], many[256];
    struct ixd_list_ref refs[IXD_LIST_REFS_MAX];
    struct rec x;
    size_t n, len, k;
    int complete;

    (void)state;
    /* 302 records nested in each other's subTemplateList, deeper than the walk follows */
    len = 0;
    for (k = 0; k < IXD_LIST_REFS_DEPTH + 2; k++) {
        uint8_t inner[256];
        size_t il = 0;
        inner[il++] = 3;
        ixd_put16(inner + il, 302);
        il += 2;
        if (k > 0) {
            inner[il++] = 17;
            il += put_value(inner + il, deep, len);
        }
        memcpy(deep, inner, il);
        len = il;
    }
    build(&x, deep, len, (const uint8_t *)"\x03", 1, (const uint8_t *)"", 0);
    n = ixd_list_refs(&x.r, &res, refs, IXD_LIST_REFS_MAX, &complete);
    assert_int_equal(complete, 0);
    assert_int_equal(n, IXD_LIST_REFS_DEPTH);

    /* more blocks than the caller has room for */
    many[0] = 3;
    for (k = 0; k < 8; k++) {
        ixd_put16(many + 1 + 6 * k, 301);
        ixd_put16(many + 3 + 6 * k, 6);
        ixd_put16(many + 5 + 6 * k, (uint16_t)k);
    }
    build(&x, (const uint8_t *)"", 0, many, 1 + 6 * 8, (const uint8_t *)"", 0);
    n = ixd_list_refs(&x.r, &res, refs, 5, &complete);
    assert_int_equal(complete, 0);
    assert_int_equal(n, 5);
    n = ixd_list_refs(&x.r, &res, refs, 8, &complete);
    assert_int_equal(complete, 1);
    assert_int_equal(n, 8);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_reference_at_its_offset),
        cmocka_unit_test(test_malformed_lists_name_nothing),
        cmocka_unit_test(test_limits_stop_the_walk),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
