#include "output/name_pattern.h"

#include <stdio.h>
#include <string.h>

static const struct {
    const char *name;
    unsigned bit;
} vars[] = {
    {"collector", IXD_PATTERN_COLLECTOR}, {"exporter", IXD_PATTERN_EXPORTER},
    {"odid", IXD_PATTERN_ODID},           {"host", IXD_PATTERN_HOST},
    {"output", IXD_PATTERN_OUTPUT},       {"file", IXD_PATTERN_FILE},
};

static int
allowed_char(char c, enum ixd_pattern_charset cs)
{
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
        c == '_' || c == '-') {
        return 1;
    }
    return cs == IXD_PATTERN_OBJECT_KEY && (c == '/' || c == '=');
}

/* The placeholder at p ("{name}"): its bit, and its length in *len; 0 if unknown. */
static unsigned
placeholder(const char *p, size_t *len)
{
    const char *end = strchr(p, '}');

    if (end == NULL) {
        return 0;
    }
    for (size_t i = 0; i < sizeof(vars) / sizeof(vars[0]); i++) {
        size_t n = strlen(vars[i].name);
        if ((size_t)(end - p - 1) == n && strncmp(p + 1, vars[i].name, n) == 0) {
            *len = n + 2;
            return vars[i].bit;
        }
    }
    return 0;
}

int
ixd_pattern_check(const char *pattern, unsigned allowed, enum ixd_pattern_charset cs, char *err,
                  size_t errlen)
{
    for (const char *p = pattern; *p != '\0'; p++) {
        size_t len;
        unsigned bit;
        if (*p == '{') {
            bit = placeholder(p, &len);
            if (bit == 0 || !(bit & allowed)) {
                snprintf(err, errlen, "'%.*s' is not a placeholder this name may use",
                         (int)strcspn(p, "}") + (strchr(p, '}') != NULL), p);
                return -1;
            }
            p += len - 1;
        } else if (*p == '%') {
            if (p[1] == '\0' || strchr("YmdHMS%", p[1]) == NULL) {
                snprintf(err, errlen,
                         "'%%%c' is not a time sequence this name may use (%%Y %%m "
                         "%%d %%H %%M %%S %%%%)",
                         p[1] != '\0' ? p[1] : ' ');
                return -1;
            }
            p++;
        } else if (!allowed_char(*p, cs)) {
            snprintf(err, errlen, "'%c' cannot appear in this name", *p);
            return -1;
        }
    }
    if (pattern[0] == '\0') {
        snprintf(err, errlen, "an empty name");
        return -1;
    }
    return 0;
}

unsigned
ixd_pattern_uses(const char *pattern)
{
    unsigned uses = 0;
    size_t len;

    for (const char *p = pattern; *p != '\0'; p++) {
        if (*p == '{') {
            unsigned bit = placeholder(p, &len);
            uses |= bit;
            if (bit != 0) {
                p += len - 1;
            }
        }
    }
    return uses;
}

/* Appends s with forbidden characters replaced; 0, or -1 when out is full. */
static int
put_value(char *out, size_t outlen, size_t *o, const char *s, enum ixd_pattern_charset cs)
{
    for (; s != NULL && *s != '\0'; s++) {
        if (*o + 1 >= outlen) {
            return -1;
        }
        /* a '/' from a value would make a level of its own: only the pattern's may */
        out[(*o)++] = allowed_char(*s, cs) && *s != '/' ? *s : '_';
    }
    return 0;
}

/* The value of %c for tm (checked: one of YmdHMS%). */
static void
time_sequence(char c, const struct tm *tm, char *out, size_t outlen)
{
    switch (c) {
    case 'Y':
        snprintf(out, outlen, "%04d", tm->tm_year + 1900);
        break;
    case 'm':
        snprintf(out, outlen, "%02d", tm->tm_mon + 1);
        break;
    case 'd':
        snprintf(out, outlen, "%02d", tm->tm_mday);
        break;
    case 'H':
        snprintf(out, outlen, "%02d", tm->tm_hour);
        break;
    case 'M':
        snprintf(out, outlen, "%02d", tm->tm_min);
        break;
    case 'S':
        snprintf(out, outlen, "%02d", tm->tm_sec);
        break;
    default:
        snprintf(out, outlen, "%%");
        break;
    }
}

size_t
ixd_pattern_expand(const char *pattern, const struct ixd_pattern_vars *v, time_t when,
                   enum ixd_pattern_charset cs, char *out, size_t outlen)
{
    struct tm tm;
    size_t o = 0, len;
    char num[32];

    gmtime_r(&when, &tm);
    for (const char *p = pattern; *p != '\0'; p++) {
        const char *val = NULL;
        if (*p == '{') {
            switch (placeholder(p, &len)) {
            case IXD_PATTERN_COLLECTOR:
                val = v->collector;
                break;
            case IXD_PATTERN_EXPORTER:
                val = v->exporter;
                break;
            case IXD_PATTERN_HOST:
                val = v->host;
                break;
            case IXD_PATTERN_OUTPUT:
                val = v->output;
                break;
            case IXD_PATTERN_FILE:
                val = v->file;
                break;
            case IXD_PATTERN_ODID:
                snprintf(num, sizeof(num), "%u", v->odid);
                val = num;
                break;
            default:
                return 0; /* unchecked */
            }
            p += len - 1;
        } else if (*p == '%' && p[1] != '\0') {
            time_sequence(p[1], &tm, num, sizeof(num));
            val = num;
            p++;
        } else {
            if (o + 1 >= outlen) {
                return 0;
            }
            out[o++] = *p;
            continue;
        }
        if (put_value(out, outlen, &o, val, cs) == -1) {
            return 0;
        }
    }
    if (o == 0 || o >= outlen) {
        return 0;
    }
    out[o] = '\0';
    return o;
}
