/* The information-element registry: IANA names and types, CERT elements, XML files, and the
 * vendor files of config/elements. */
#include <glob.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "ipfix/ie.h"

static struct ixd_ie_registry *
registry(void)
{
    char err[256];
    struct ixd_ie_registry *reg = ixd_ie_registry_new(NULL, 0, err, sizeof(err));

    if (reg == NULL) {
        fail_msg("registry: %s", err);
    }
    return reg;
}

static void
iana_names_and_types(void **state)
{
    struct ixd_ie_registry *reg = registry();
    const struct ixd_ie *ie = ixd_ie_lookup(reg, 0, 8);

    assert_non_null(ie);
    assert_string_equal(ie->name, "sourceIPv4Address");
    assert_int_equal(ie->type, IXD_TYPE_IPV4);
    ie = ixd_ie_lookup(reg, 0, 152);
    assert_string_equal(ie->name, "flowStartMilliseconds");
    assert_int_equal(ie->type, IXD_TYPE_TIME_MSEC);
    ie = ixd_ie_lookup_name(reg, "octetDeltaCount");
    assert_non_null(ie);
    assert_int_equal(ie->id, 1);
    assert_int_equal(ie->type, IXD_TYPE_UNSIGNED);
    assert_null(ixd_ie_lookup(reg, 0, 32000));
    assert_true(ixd_ie_count(reg) > 400);
    ixd_ie_registry_free(reg);
}

/* RFC 5103: reverse elements under PEN 29305 */
static void
reverse_elements(void **state)
{
    struct ixd_ie_registry *reg = registry();
    const struct ixd_ie *ie = ixd_ie_lookup(reg, 29305, 1);

    assert_non_null(ie);
    assert_string_equal(ie->name, "reverseOctetDeltaCount");
    ixd_ie_registry_free(reg);
}

/* YAF's elements come from libfixbuf's cert_ipfix.xml, which ipfixd loads when installed */
static void
cert_elements_when_installed(void **state)
{
    struct ixd_ie_registry *reg;
    const struct ixd_ie *ie;

    if (access("/usr/share/libfixbuf/cert_ipfix.xml", R_OK) != 0) {
        skip();
    }
    reg = registry();
    ie = ixd_ie_lookup(reg, 6871, 14);
    assert_non_null(ie);
    assert_string_equal(ie->name, "initialTCPFlags");
    ixd_ie_registry_free(reg);
}

static void
missing_xml_file_is_an_error(void **state)
{
    char *files[] = {"/nonexistent/elements.xml"};
    char err[256];
    struct ixd_ie_registry *reg = ixd_ie_registry_new(files, 1, err, sizeof(err));

    assert_null(reg);
    assert_non_null(strstr(err, "/nonexistent/elements.xml"));
}

static void
xml_file_adds_elements(void **state)
{
    char path[] = "/tmp/ixd-ie-XXXXXX";
    char *files[] = {path};
    char err[256];
    struct ixd_ie_registry *reg;
    const struct ixd_ie *ie;
    FILE *f;
    int fd = mkstemp(path);

    assert_true(fd != -1);
    f = fdopen(fd, "w");
    fputs("<?xml version=\"1.0\"?>\n"
          "<registry xmlns=\"http://www.iana.org/assignments\" id=\"ipfix\">\n"
          " <registry id=\"ipfix-information-elements\">\n"
          "  <record><name>exampleCounter</name><dataType>unsigned64</dataType>\n"
          "   <enterpriseId>32473</enterpriseId><elementId>7</elementId></record>\n"
          " </registry>\n</registry>\n",
          f);
    fclose(f);
    reg = ixd_ie_registry_new(files, 1, err, sizeof(err));
    unlink(path);
    if (reg == NULL) {
        fail_msg("%s", err);
    }
    ie = ixd_ie_lookup(reg, 32473, 7);
    assert_non_null(ie);
    assert_string_equal(ie->name, "exampleCounter");
    assert_int_equal(ie->type, IXD_TYPE_UNSIGNED);
    ixd_ie_registry_free(reg);
}

/* config/elements of the source tree (docs/elements.md), every file in name order */
static struct ixd_ie_registry *
vendor_registry(glob_t *g)
{
    char err[1024];
    struct ixd_ie_registry *reg;

    assert_int_equal(glob(IXD_SOURCE_ELEMENTS_DIR "/*.xml", 0, NULL, g), 0);
    reg = ixd_ie_registry_new(g->gl_pathv, g->gl_pathc, err, sizeof(err));
    if (reg == NULL) {
        fail_msg("%s", err);
    }
    return reg;
}

static void
expect(const struct ixd_ie_registry *reg, uint32_t pen, uint16_t id, const char *name,
       enum ixd_type type, uint16_t length)
{
    const struct ixd_ie *ie = ixd_ie_lookup(reg, pen, id);

    if (ie == NULL) {
        fail_msg("(%u, %u) %s is not defined", pen, id, name);
    }
    assert_string_equal(ie->name, name);
    assert_int_equal(ie->type, type);
    assert_int_equal(ie->length, length);
}

static void
vendor_files_load_each_alone(void **state)
{
    glob_t g;
    size_t i;

    assert_int_equal(glob(IXD_SOURCE_ELEMENTS_DIR "/*.xml", 0, NULL, &g), 0);
    assert_true(g.gl_pathc >= 5);
    for (i = 0; i < g.gl_pathc; i++) {
        char err[1024];
        struct ixd_ie_registry *reg = ixd_ie_registry_new(&g.gl_pathv[i], 1, err, sizeof(err));
        if (reg == NULL) {
            fail_msg("%s", err);
        }
        ixd_ie_registry_free(reg);
    }
    globfree(&g);
}

static void
vendor_elements_names_types_lengths(void **state)
{
    glob_t g;
    struct ixd_ie_registry *reg = vendor_registry(&g);

    /* cisco.xml: NSEL v9 types as (9, T - 32768) */
    expect(reg, 9, 232, "NF_F_INGRESS_ACL_ID", IXD_TYPE_OCTETS, IXD_VARLEN);
    expect(reg, 9, 234, "NF_F_FW_EXT_EVENT", IXD_TYPE_UNSIGNED, 2);
    expect(reg, 9, 7232, "NF_F_USERNAME", IXD_TYPE_STRING, IXD_VARLEN);
    expect(reg, 9, 7233, "NF_F_XLATE_SRC_ADDR_IPV4", IXD_TYPE_IPV4, 4);
    expect(reg, 9, 7237, "NF_F_FW_EVENT", IXD_TYPE_UNSIGNED, 1);
    /* ntop.xml: nProbe's IPFIX id (v9 - 57472) and its v9 type read with PEN 35632 */
    expect(reg, 35632, 118, "L7_PROTO", IXD_TYPE_UNSIGNED, 2);
    expect(reg, 35632, 24822, "L7_PROTO", IXD_TYPE_UNSIGNED, 2);
    expect(reg, 35632, 24823, "L7_PROTO_NAME", IXD_TYPE_STRING, IXD_VARLEN);
    expect(reg, 35632, 1028, "PROTOCOL_MAP", IXD_TYPE_STRING, IXD_VARLEN);
    assert_int_equal(ixd_ie_lookup_name(reg, "L7_PROTO")->id, 118); /* the lower id owns it */
    /* netscaler.xml */
    expect(reg, 5951, 128, "netscalerRoundTripTime", IXD_TYPE_UNSIGNED, 4);
    expect(reg, 5951, 132, "netscalerFlowFlags", IXD_TYPE_UNSIGNED, 8);
    expect(reg, 5951, 190, "netscalerHttpReqXForwardedFor", IXD_TYPE_STRING, IXD_VARLEN);
    expect(reg, 5951, 192, "netscalerConnectionChainID", IXD_TYPE_OCTETS, IXD_VARLEN);
    assert_null(ixd_ie_lookup(reg, 5951, 329)); /* meaning unknown: left out on purpose */
    /* vmware.xml */
    expect(reg, 6876, 881, "tenantSourceIPv4", IXD_TYPE_IPV4, 4);
    expect(reg, 6876, 883, "tenantSourceIPv6", IXD_TYPE_IPV6, 16);
    expect(reg, 6876, 890, "ingressInterfaceAttr", IXD_TYPE_UNSIGNED, 2);
    /* barracuda.xml */
    expect(reg, 10704, 1, "Timestamp", IXD_TYPE_TIME_SEC, 4);
    expect(reg, 10704, 4, "FW_Rule", IXD_TYPE_STRING, IXD_VARLEN);
    expect(reg, 10704, 8, "BindIPv4Address", IXD_TYPE_IPV4, 4);
    /* enterprise elements are not reversible: no reverse twin appears beside them */
    assert_null(ixd_ie_lookup(reg, 9, 232 | 0x4000));
    ixd_ie_registry_free(reg);
    globfree(&g);
}

/* The shipped files only add vendor elements: none redefines an IANA, RFC 5103 or CERT one,
 * and no name hides one of those (lookups by name stay what they were). */
static void
vendor_files_change_no_standard_element(void **state)
{
    glob_t g;
    struct ixd_ie_registry *base = registry(), *reg = vendor_registry(&g);
    uint32_t pens[] = {0, 29305, 6871};
    size_t i;
    unsigned id;

    for (i = 0; i < sizeof(pens) / sizeof(pens[0]); i++) {
        for (id = 0; id < 32768; id++) {
            const struct ixd_ie *a = ixd_ie_lookup(base, pens[i], (uint16_t)id);
            const struct ixd_ie *b = ixd_ie_lookup(reg, pens[i], (uint16_t)id);
            if (a == NULL) {
                assert_null(b);
                continue;
            }
            assert_non_null(b);
            assert_string_equal(a->name, b->name);
            assert_int_equal(a->type, b->type);
            /* names IANA and CERT share resolve as before */
            assert_int_equal(ixd_ie_lookup_name(reg, a->name)->pen,
                             ixd_ie_lookup_name(base, a->name)->pen);
            assert_int_equal(ixd_ie_lookup_name(reg, a->name)->id,
                             ixd_ie_lookup_name(base, a->name)->id);
        }
    }
    ixd_ie_registry_free(base);
    ixd_ie_registry_free(reg);
    globfree(&g);
}

/* A later file redefines an element of an earlier one: elements.files overrides the shipped
 * directory. */
static void
later_file_wins(void **state)
{
    char path[] = "/tmp/ixd-ie-XXXXXX";
    char *files[] = {IXD_SOURCE_ELEMENTS_DIR "/cisco.xml", path};
    char err[1024];
    struct ixd_ie_registry *reg;
    FILE *f;
    int fd = mkstemp(path);

    assert_true(fd != -1);
    f = fdopen(fd, "w");
    fputs("<registry><registry><record><name>myEvent</name><dataType>unsigned32</dataType>"
          "<enterpriseId>9</enterpriseId><elementId>234</elementId></record>"
          "</registry></registry>\n",
          f);
    fclose(f);
    reg = ixd_ie_registry_new(files, 2, err, sizeof(err));
    unlink(path);
    if (reg == NULL) {
        fail_msg("%s", err);
    }
    expect(reg, 9, 234, "myEvent", IXD_TYPE_UNSIGNED, 4);
    /* the name is gone from PEN 9 (libfixbuf itself has an element of that name, 0/9997) */
    assert_int_not_equal(ixd_ie_lookup_name(reg, "NF_F_FW_EXT_EVENT")->pen, 9);
    expect(reg, 9, 7233, "NF_F_XLATE_SRC_ADDR_IPV4", IXD_TYPE_IPV4, 4);
    ixd_ie_registry_free(reg);
}

/* A record libfixbuf would drop or mistype with only a warning refuses the file, with the
 * file, line and column in the message. */
static void
bad_record_is_an_error_with_position(void **state)
{
    static const char *const bodies[] = {
        "<registry>\n<record><name>x</name><dataType>unsigned33</dataType>"
        "<enterpriseId>1</enterpriseId><elementId>1</elementId></record>\n</registry>\n",
        "<registry>\n<record><dataType>unsigned8</dataType>"
        "<enterpriseId>1</enterpriseId><elementId>1</elementId></record>\n</registry>\n",
        "<registry>\n<record><name>x</name\n",
    };
    size_t i;

    for (i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++) {
        char path[] = "/tmp/ixd-ie-XXXXXX";
        char *files[] = {path};
        char err[1024];
        const char *at;
        unsigned line = 0, col = 0;
        struct ixd_ie_registry *reg;
        FILE *f;
        int fd = mkstemp(path);

        assert_true(fd != -1);
        f = fdopen(fd, "w");
        fputs(bodies[i], f);
        fclose(f);
        reg = ixd_ie_registry_new(files, 1, err, sizeof(err));
        unlink(path);
        assert_null(reg);
        at = strstr(err, path);
        if (at == NULL || sscanf(at + strlen(path), ":%u:%u: ", &line, &col) != 2 || line < 2) {
            fail_msg("case %zu: '%s' lacks '%s:LINE:COL: '", i, err, path);
        }
    }
}

/* ipfixd's own elements: under the configured enterprise, they own their names even beside the
 * shipped file that names them under the default one; the shipped file says what the table says */
static void
own_elements(void **state)
{
    char err[256];
    char *files[] = {IXD_SOURCE_ELEMENTS_DIR "/ipfixd.xml"};
    struct ixd_ie_registry *reg = ixd_ie_registry_new(files, 1, err, sizeof(err));
    struct ixd_ie_registry *plain = registry();
    size_t i;

    assert_non_null(reg);
    assert_int_equal(ixd_ie_own_enterprise(reg), 0);
    for (i = 0; i < ixd_n_own_elements; i++) {
        const struct ixd_own_element *o = &ixd_own_elements[i];
        const struct ixd_ie *ie = ixd_ie_lookup(reg, 32473, o->id);
        assert_non_null(ie);
        assert_string_equal(ie->name, o->name);
        assert_int_equal(ie->type, o->type);
        if (o->type == IXD_TYPE_UNSIGNED) {
            assert_int_equal(ie->length, o->length);
        }
        /* no IANA element has the name */
        assert_null(ixd_ie_lookup_name(plain, o->name));
    }
    assert_int_equal(ixd_ie_registry_add_own(reg, 99999), 0);
    assert_int_equal(ixd_ie_own_enterprise(reg), 99999);
    for (i = 0; i < ixd_n_own_elements; i++) {
        const struct ixd_ie *ie = ixd_ie_lookup_name(reg, ixd_own_elements[i].name);
        assert_non_null(ie);
        assert_int_equal(ie->pen, 99999);
        assert_int_equal(ie->id, ixd_own_elements[i].id);
        /* the file's definitions stay for what arrives under the default enterprise */
        assert_non_null(ixd_ie_lookup(reg, 32473, ixd_own_elements[i].id));
    }
    ixd_ie_registry_free(reg);
    ixd_ie_registry_free(plain);
}

/* Every shipped file loaded together (as the daemon does by default) still names each of
 * ipfixd's own elements as the table does: no file gives their (enterprise, id) to another. */
static void
own_elements_unique_among_shipped_files(void **state)
{
    char err[256];
    glob_t g;
    size_t i;
    struct ixd_ie_registry *reg;

    assert_int_equal(glob(IXD_SOURCE_ELEMENTS_DIR "/*.xml", 0, NULL, &g), 0);
    assert_true(g.gl_pathc >= 2);
    reg = ixd_ie_registry_new(g.gl_pathv, g.gl_pathc, err, sizeof(err));
    assert_non_null(reg);
    for (i = 0; i < ixd_n_own_elements; i++) {
        const struct ixd_ie *ie = ixd_ie_lookup(reg, 32473, ixd_own_elements[i].id);
        assert_non_null(ie);
        assert_string_equal(ie->name, ixd_own_elements[i].name);
    }
    ixd_ie_registry_free(reg);
    globfree(&g);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(iana_names_and_types),
        cmocka_unit_test(own_elements),
        cmocka_unit_test(own_elements_unique_among_shipped_files),
        cmocka_unit_test(reverse_elements),
        cmocka_unit_test(cert_elements_when_installed),
        cmocka_unit_test(missing_xml_file_is_an_error),
        cmocka_unit_test(xml_file_adds_elements),
        cmocka_unit_test(vendor_files_load_each_alone),
        cmocka_unit_test(vendor_elements_names_types_lengths),
        cmocka_unit_test(vendor_files_change_no_standard_element),
        cmocka_unit_test(later_file_wins),
        cmocka_unit_test(bad_record_is_an_error_with_position),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
