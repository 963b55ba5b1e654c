/*
 * Names made from a pattern: Kafka topics and S3 object keys share one syntax
 * (docs/configuration.md#name-patterns). `{collector}`, `{exporter}`, `{odid}`, `{host}`,
 * `{output}` and `{file}` are replaced by what the caller knows; `%Y`, `%m`, `%d`, `%H`, `%M`
 * and `%S` by the UTC time given; `%%` is a percent sign. Characters a destination forbids
 * (the colons of an IPv6 address in a topic) become '_'. Pure functions: any thread.
 */
#ifndef IXD_OUTPUT_NAME_PATTERN_H
#define IXD_OUTPUT_NAME_PATTERN_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

/* The placeholders, as bits of what a use allows. */
enum ixd_pattern_var {
    IXD_PATTERN_COLLECTOR = 1u << 0,
    IXD_PATTERN_EXPORTER = 1u << 1,
    IXD_PATTERN_ODID = 1u << 2,
    IXD_PATTERN_HOST = 1u << 3,
    IXD_PATTERN_OUTPUT = 1u << 4,
    IXD_PATTERN_FILE = 1u << 5,
};

/* Which characters a name may hold; others become '_'. */
enum ixd_pattern_charset {
    IXD_PATTERN_TOPIC,      /* Kafka: letters, digits, '.', '_' and '-' */
    IXD_PATTERN_OBJECT_KEY, /* S3: letters, digits, '.', '_', '-', '/' and '=' */
};

/* What the placeholders stand for; NULL for what a use does not allow. */
struct ixd_pattern_vars {
    const char *collector;
    const char *exporter;
    uint32_t odid;
    const char *host;
    const char *output;
    const char *file;
};

/* 0 when pattern uses only the placeholders in `allowed` and known time sequences, and its
 * literal characters are all of charset; else -1 with the reason in err. */
int ixd_pattern_check(const char *pattern, unsigned allowed, enum ixd_pattern_charset cs, char *err,
                      size_t errlen);

/* The placeholders pattern uses (bits of enum ixd_pattern_var). */
unsigned ixd_pattern_uses(const char *pattern);

/* Expands a checked pattern into out (NUL-terminated). Returns its length, or 0 when it would
 * not fit in outlen or comes out empty. */
size_t ixd_pattern_expand(const char *pattern, const struct ixd_pattern_vars *v, time_t when,
                          enum ixd_pattern_charset cs, char *out, size_t outlen);

#endif
