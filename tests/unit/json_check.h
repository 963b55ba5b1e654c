/* A small strict JSON validator (RFC 8259 values, RFC 3629 UTF-8) for checking output lines. */
#ifndef IXD_TEST_JSON_CHECK_H
#define IXD_TEST_JSON_CHECK_H

#include <stddef.h>
#include <string.h>

static inline const char *json_value(const char *p, const char *end);

static inline const char *
json_ws(const char *p, const char *end)
{
    while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')) {
        p++;
    }
    return p;
}

/* Strict UTF-8 (RFC 3629): returns the sequence length or 0. */
static inline size_t
utf8_ok(const unsigned char *s, const unsigned char *end)
{
    unsigned cp, n, i;

    if (s[0] < 0x80) {
        return 1;
    }
    if (s[0] >= 0xc2 && s[0] <= 0xdf) {
        n = 2, cp = s[0] & 0x1f;
    } else if (s[0] >= 0xe0 && s[0] <= 0xef) {
        n = 3, cp = s[0] & 0x0f;
    } else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
        n = 4, cp = s[0] & 0x07;
    } else {
        return 0;
    }
    if ((size_t)(end - s) < n) {
        return 0;
    }
    for (i = 1; i < n; i++) {
        if ((s[i] & 0xc0) != 0x80) {
            return 0;
        }
        cp = (cp << 6) | (s[i] & 0x3f);
    }
    if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
        (cp >= 0xd800 && cp <= 0xdfff)) {
        return 0;
    }
    return n;
}

static inline const char *
json_string(const char *p, const char *end)
{
    if (p >= end || *p != '"') {
        return NULL;
    }
    p++;
    while (p < end && *p != '"') {
        unsigned char c = (unsigned char)*p;
        if (c < 0x20) {
            return NULL;
        }
        if (c == '\\') {
            if (p + 1 >= end) {
                return NULL;
            }
            if (strchr("\"\\/bfnrt", p[1]) != NULL && p[1] != '\0') {
                p += 2;
            } else if (p[1] == 'u') {
                int i;
                if (end - p < 6) {
                    return NULL;
                }
                for (i = 2; i < 6; i++) {
                    if (strchr("0123456789abcdefABCDEF", p[i]) == NULL || p[i] == '\0') {
                        return NULL;
                    }
                }
                p += 6;
            } else {
                return NULL;
            }
        } else {
            size_t n = utf8_ok((const unsigned char *)p, (const unsigned char *)end);
            if (n == 0) {
                return NULL;
            }
            p += n;
        }
    }
    return p < end ? p + 1 : NULL;
}

static inline const char *
json_number(const char *p, const char *end)
{
    const char *start;

    if (p < end && *p == '-') {
        p++;
    }
    if (p >= end || *p < '0' || *p > '9') {
        return NULL;
    }
    if (*p == '0') {
        p++;
    } else {
        while (p < end && *p >= '0' && *p <= '9') {
            p++;
        }
    }
    if (p < end && *p == '.') {
        start = ++p;
        while (p < end && *p >= '0' && *p <= '9') {
            p++;
        }
        if (p == start) {
            return NULL;
        }
    }
    if (p < end && (*p == 'e' || *p == 'E')) {
        p++;
        if (p < end && (*p == '+' || *p == '-')) {
            p++;
        }
        start = p;
        while (p < end && *p >= '0' && *p <= '9') {
            p++;
        }
        if (p == start) {
            return NULL;
        }
    }
    return p;
}

static inline const char *
json_container(const char *p, const char *end, char close, int object)
{
    p = json_ws(p + 1, end);
    if (p < end && *p == close) {
        return p + 1;
    }
    for (;;) {
        if (object) {
            p = json_string(p, end);
            if (p == NULL) {
                return NULL;
            }
            p = json_ws(p, end);
            if (p >= end || *p != ':') {
                return NULL;
            }
            p = json_ws(p + 1, end);
        }
        p = json_value(p, end);
        if (p == NULL) {
            return NULL;
        }
        p = json_ws(p, end);
        if (p < end && *p == ',') {
            p = json_ws(p + 1, end);
            continue;
        }
        return p < end && *p == close ? p + 1 : NULL;
    }
}

static inline const char *
json_value(const char *p, const char *end)
{
    if (p >= end) {
        return NULL;
    }
    switch (*p) {
    case '{':
        return json_container(p, end, '}', 1);
    case '[':
        return json_container(p, end, ']', 0);
    case '"':
        return json_string(p, end);
    case 't':
        return end - p >= 4 && memcmp(p, "true", 4) == 0 ? p + 4 : NULL;
    case 'f':
        return end - p >= 5 && memcmp(p, "false", 5) == 0 ? p + 5 : NULL;
    case 'n':
        return end - p >= 4 && memcmp(p, "null", 4) == 0 ? p + 4 : NULL;
    default:
        return json_number(p, end);
    }
}

/* 1 when text[0..len) is exactly one JSON value (surrounding whitespace allowed). */
static inline int
json_valid(const char *text, size_t len)
{
    const char *end = text + len, *p = json_value(json_ws(text, end), end);

    return p != NULL && json_ws(p, end) == end;
}

#endif
