/* The information-element registry: IANA names and types, CERT elements, XML files. */
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

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(iana_names_and_types),
        cmocka_unit_test(reverse_elements),
        cmocka_unit_test(cert_elements_when_installed),
        cmocka_unit_test(missing_xml_file_is_an_error),
        cmocka_unit_test(xml_file_adds_elements),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
