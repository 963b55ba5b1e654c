/*
 * One input = what reaches keepalived's model from outside: the first byte picks the form, the
 * rest is either a JSON body (what an API client, or a process that took over ipfixd, sends the
 * helper) or an include file's text (what GET reads). Whatever ixd_ka_check accepts must render
 * to text that reads back as the same model, holds no character outside the model's alphabets
 * and passes a policy check without crashing; whatever ixd_ka_parse reads must not crash, and
 * its model, when it checks, must round-trip the same way.
 */
#include <jansson.h>
#include <string.h>

#include "fuzz.h"
#include "ha/keepalived_model.h"
#include "ha/keepalived_policy.h"

/* A policy that allows a little of everything, so the check runs its whole course. */
static void
policy_init(struct ixd_ka_policy *p)
{
    char why[128];

    memset(p, 0, sizeof(*p));
    snprintf(p->interfaces[p->n_interfaces++], IF_NAMESIZE, "eth0");
    p->vrids[p->n_vrids].lo = 1;
    p->vrids[p->n_vrids++].hi = 200;
    ixd_ka_range_parse("10.0.0.0/8", &p->addresses[p->n_addresses++], why, sizeof(why));
    ixd_ka_range_parse("2001:db8::/32", &p->addresses[p->n_addresses++], why, sizeof(why));
    ixd_ka_range_parse("10.0.0.0/8", &p->peers[p->n_peers++], why, sizeof(why));
    ixd_ka_range_parse("0.0.0.0/0", &p->reals[p->n_reals++], why, sizeof(why));
    snprintf(p->tracks[p->n_tracks++], IXD_KA_NAME_MAX + 1, "chk");
    ixd_ka_script_parse("/etc/keepalived/n.sh root root", p->scripts[0].path,
                        sizeof(p->scripts[0].path), p->scripts[0].as, sizeof(p->scripts[0].as), why,
                        sizeof(why));
    p->n_scripts = 1;
}

/* A rendered file: printable ASCII, newlines, and quotes only around notify scripts. */
static void
check_text(const char *text, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)text[i];
        FUZZ_CHECK(c == '\n' || (c >= 0x20 && c < 0x7f));
    }
    FUZZ_CHECK(strlen(text) == len);
}

/* A checked model: rendered, read back, the same model; then the policy, on a copy. */
static void
round_trip(const json_t *json)
{
    struct ixd_ka_policy policy;
    struct ixd_ka_model m, again;
    struct ixd_ka_error e;
    json_t *normal, *parsed;
    char *text, *a, *b;
    size_t len = 0;

    if (ixd_ka_check(json, &m, &e) == -1) {
        FUZZ_CHECK(m.instances == NULL && m.servers == NULL && e.why[0] != '\0');
        return;
    }
    normal = ixd_ka_to_json(&m);
    text = ixd_ka_render(&m, &len);
    FUZZ_CHECK(normal != NULL && text != NULL);
    check_text(text, len);
    parsed = ixd_ka_parse(text, len);
    FUZZ_CHECK(json_array_size(json_object_get(parsed, "warnings")) == 0);
    json_object_del(parsed, "warnings");
    a = json_dumps(normal, JSON_SORT_KEYS | JSON_COMPACT);
    b = json_dumps(parsed, JSON_SORT_KEYS | JSON_COMPACT);
    FUZZ_CHECK(a != NULL && b != NULL && strcmp(a, b) == 0);
    FUZZ_CHECK(ixd_ka_check(parsed, &again, &e) == 0);
    policy_init(&policy);
    if (ixd_ka_policy_check(&policy, &again, &e) == 0) {
        char *text2 = ixd_ka_render(&again, &len);
        FUZZ_CHECK(text2 != NULL);
        check_text(text2, len);
        free(text2);
    } else {
        FUZZ_CHECK(e.field[0] != '\0' && e.why[0] != '\0');
    }
    free(a);
    free(b);
    free(text);
    json_decref(normal);
    json_decref(parsed);
    ixd_ka_model_release(&m);
    ixd_ka_model_release(&again);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    json_t *json;

    if (size < 1) {
        return 0;
    }
    if (data[0] & 1) {
        json_error_t jerr;
        json = json_loadb((const char *)data + 1, size - 1, JSON_REJECT_DUPLICATES, &jerr);
    } else {
        json = ixd_ka_parse((const char *)data + 1, size - 1);
        FUZZ_CHECK(json != NULL);
    }
    if (json != NULL) {
        round_trip(json);
    }
    json_decref(json);
    return 0;
}
