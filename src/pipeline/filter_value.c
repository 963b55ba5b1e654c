/*
 * The filter's names and values: element references (IANA names, nfdump-style aliases, numbered
 * elements) and literals of every IPFIX type (numbers, protocol names, MAC and IP addresses and
 * prefixes, RFC 3339 times, strings), each mapped to the ordered key of filter_internal.h.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ipfix/wire.h"
#include "pipeline/filter_internal.h"

#define NTP_UNIX_OFFSET 2208988800LL /* seconds from 1900 (NTP) to 1970 (UNIX) */

/* ---- element names ---- */

/* nfdump-style words; "src"/"dst" pick one side, nothing both. IANA element ids, 0 = none. */
struct alias {
    const char *word;
    uint16_t src[2], dst[2];
};

static const struct alias aliases[] = {
    {"ip", {8, 27}, {12, 28}}, {"host", {8, 27}, {12, 28}},  {"net", {8, 27}, {12, 28}},
    {"port", {7, 0}, {11, 0}}, {"mac", {56, 0}, {80, 0}},    {"as", {16, 0}, {17, 0}},
    {"proto", {4, 0}, {0, 0}}, {"packets", {2, 86}, {0, 0}}, {"bytes", {1, 85}, {0, 0}},
    {"tos", {5, 0}, {0, 0}},
};

/* Aliases need their elements' types from the model; numbered elements may be unknown to it. */
static int
add_element(struct parser *p, struct ref *ref, uint32_t pen, uint16_t id, const struct token *t,
            int known)
{
    const struct ixd_ie *ie = ixd_ie_lookup(p->reg, pen, id);
    struct element *e = &ref->el[ref->n++];

    if (ie == NULL && known) {
        ixd_filter_fail_at(p, t, "element id%u is not in the information model", id);
        return -1;
    }
    e->pen = pen;
    e->id = id;
    e->type = ie != NULL ? ie->type : IXD_TYPE_OCTETS;
    e->length = ie != NULL ? ie->length : IXD_VARLEN;
    return 0;
}

static int
resolve_alias(struct parser *p, struct ref *ref)
{
    const struct token first = p->tok;
    int side = ixd_filter_is_word(&first, "src") ? 1 : ixd_filter_is_word(&first, "dst") ? 2 : 0;
    size_t i, j;

    if (side != 0) {
        ixd_filter_next_token(p);
    }
    for (i = 0; i < sizeof(aliases) / sizeof(aliases[0]); i++) {
        const struct alias *a = &aliases[i];
        if (!ixd_filter_is_word(&p->tok, a->word)) {
            continue;
        }
        if (side != 0 && a->dst[0] == 0) {
            ixd_filter_fail_at(p, &first, "'%s' takes no '%.*s'", a->word, (int)first.len,
                               first.start);
            return -1;
        }
        for (j = 0; j < 2; j++) {
            if (side != 2 && a->src[j] != 0 &&
                add_element(p, ref, 0, a->src[j], &p->tok, 1) == -1) {
                return -1;
            }
            if (side != 1 && a->dst[j] != 0 &&
                add_element(p, ref, 0, a->dst[j], &p->tok, 1) == -1) {
                return -1;
            }
        }
        snprintf(ref->name, sizeof(ref->name), "%s%s",
                 side == 0   ? ""
                 : side == 1 ? "src "
                             : "dst ",
                 a->word);
        ixd_filter_next_token(p);
        return 1;
    }
    if (side != 0) {
        char buf[64];
        ixd_filter_fail_at(
            p, &p->tok, "expected ip, host, net, port, mac or as after '%.*s', found %s",
            (int)first.len, first.start, ixd_filter_describe_token(&p->tok, buf, sizeof(buf)));
        return -1;
    }
    return 0;
}

/* "id<ID>" or "en<PEN>:id<ID>", as the JSON output names elements the model lacks. */
static int
parse_numbered(const char *s, uint32_t *pen, uint16_t *id)
{
    unsigned long v;
    char *end;

    *pen = 0;
    if (strncmp(s, "en", 2) == 0 && s[2] >= '0' && s[2] <= '9') {
        errno = 0;
        v = strtoul(s + 2, &end, 10);
        if (errno != 0 || v > UINT32_MAX || strncmp(end, ":id", 3) != 0) {
            return -1;
        }
        *pen = (uint32_t)v;
        s = end + 1;
    }
    if (strncmp(s, "id", 2) != 0 || s[2] < '0' || s[2] > '9') {
        return -1;
    }
    errno = 0;
    v = strtoul(s + 2, &end, 10);
    if (errno != 0 || *end != '\0' || v > 0x7fff) {
        return -1;
    }
    *id = (uint16_t)v;
    return 0;
}

/* Edit distance ignoring case, for "did you mean"; gives up beyond 63 characters. */
static size_t
distance(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b), i, j, row[64];

    if (la >= 64 || lb >= 64) {
        return SIZE_MAX;
    }
    for (j = 0; j <= lb; j++) {
        row[j] = j;
    }
    for (i = 1; i <= la; i++) {
        size_t diag = row[0];
        row[0] = i;
        for (j = 1; j <= lb; j++) {
            size_t up = row[j];
            size_t cost = (a[i - 1] | 0x20) == (b[j - 1] | 0x20) ? 0 : 1;
            size_t best = diag + cost;
            if (up + 1 < best) {
                best = up + 1;
            }
            if (row[j - 1] + 1 < best) {
                best = row[j - 1] + 1;
            }
            row[j] = best;
            diag = up;
        }
    }
    return row[lb];
}

/* The closest IANA element name or alias, or NULL. Runs only on the error path. */
static const char *
closest_name(const struct ixd_ie_registry *reg, const char *name)
{
    const char *best = NULL;
    size_t best_d = strlen(name) / 3 + 1, d, i;
    unsigned id;

    for (i = 0; i < sizeof(aliases) / sizeof(aliases[0]); i++) {
        d = distance(name, aliases[i].word);
        if (d < best_d) {
            best_d = d;
            best = aliases[i].word;
        }
    }
    for (id = 1; id < 0x8000; id++) {
        const struct ixd_ie *ie = ixd_ie_lookup(reg, 0, (uint16_t)id);
        if (ie != NULL && (d = distance(name, ie->name)) < best_d) {
            best_d = d;
            best = ie->name;
        }
    }
    return best;
}

int
ixd_filter_parse_ref(struct parser *p, struct ref *ref)
{
    char name[LITERAL_MAX], buf[64];
    const struct ixd_ie *ie = NULL;
    uint32_t pen;
    uint16_t id;
    int r;

    memset(ref, 0, sizeof(*ref));
    if (p->tok.type != TOK_WORD || ixd_filter_is_keyword(&p->tok)) {
        ixd_filter_fail_at(p, &p->tok, "expected an element name after '%.*s', found %s",
                           (int)p->prev.len, p->prev.start,
                           ixd_filter_describe_token(&p->tok, buf, sizeof(buf)));
        return -1;
    }
    r = resolve_alias(p, ref);
    if (r != 0) {
        return r == 1 ? 0 : -1;
    }
    snprintf(name, sizeof(name), "%.*s", (int)p->tok.len, p->tok.start);
    if (p->tok.len < sizeof(name)) {
        ie = ixd_ie_lookup_name(p->reg, name);
    }
    if (ie != NULL) {
        pen = ie->pen;
        id = ie->id;
    } else if (parse_numbered(name, &pen, &id) == -1) {
        const char *hint = closest_name(p->reg, name);
        ixd_filter_fail_at(p, &p->tok, "unknown element '%s'%s%s%s", name,
                           hint ? " (did you mean '" : "", hint ? hint : "", hint ? "'?)" : "");
        return -1;
    }
    add_element(p, ref, pen, id, &p->tok, 0);
    snprintf(ref->name, sizeof(ref->name), "%.*s", (int)sizeof(ref->name) - 1,
             ie != NULL ? ie->name : name);
    ixd_filter_next_token(p);
    return 0;
}

/* ---- literals ---- */

const char *
ixd_filter_type_name(uint8_t type, uint16_t length)
{
    static const char *const unsigned_names[] = {"unsigned8", "unsigned16", "unsigned32",
                                                 "unsigned64"};
    static const char *const signed_names[] = {"signed8", "signed16", "signed32", "signed64"};
    unsigned size = length <= 1 ? 0 : length <= 2 ? 1 : length <= 4 ? 2 : 3;

    switch (type) {
    case IXD_TYPE_UNSIGNED:
        return unsigned_names[size];
    case IXD_TYPE_SIGNED:
        return signed_names[size];
    case IXD_TYPE_FLOAT:
        return length == 4 ? "float32" : "float64";
    case IXD_TYPE_BOOLEAN:
        return "boolean";
    case IXD_TYPE_MAC:
        return "macAddress";
    case IXD_TYPE_STRING:
        return "string";
    case IXD_TYPE_TIME_SEC:
        return "dateTimeSeconds";
    case IXD_TYPE_TIME_MSEC:
        return "dateTimeMilliseconds";
    case IXD_TYPE_TIME_USEC:
        return "dateTimeMicroseconds";
    case IXD_TYPE_TIME_NSEC:
        return "dateTimeNanoseconds";
    case IXD_TYPE_IPV4:
        return "ipv4Address";
    case IXD_TYPE_IPV6:
        return "ipv6Address";
    case IXD_TYPE_BASIC_LIST:
        return "basicList";
    case IXD_TYPE_SUBTEMPLATE_LIST:
        return "subTemplateList";
    case IXD_TYPE_SUBTEMPLATE_MULTILIST:
        return "subTemplateMultiList";
    default:
        return "octetArray";
    }
}

struct literal_ctx {
    struct parser *p;
    const struct group *g;
    const struct ref *ref;
    const struct token *tok;
    const char *text; /* the token, NUL-terminated */
    char *why;
    size_t whylen;
};

static enum lit_result lit_fail(const struct literal_ctx *c, enum lit_result r, const char *fmt,
                                ...) __attribute__((format(printf, 3, 4)));

static enum lit_result
lit_fail(const struct literal_ctx *c, enum lit_result r, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(c->why, c->whylen, fmt, ap);
    va_end(ap);
    return r;
}

static const struct {
    const char *name;
    uint8_t number;
} protocols[] = {
    {"icmp", 1},       {"igmp", 2},  {"ipip", 4},  {"tcp", 6},    {"egp", 8},    {"udp", 17},
    {"ipv6", 41},      {"rsvp", 46}, {"gre", 47},  {"esp", 50},   {"ah", 51},    {"icmp6", 58},
    {"ipv6-icmp", 58}, {"ospf", 89}, {"pim", 103}, {"vrrp", 112}, {"l2tp", 115}, {"sctp", 132},
};

/* Decimal or 0x hex, with an optional k, M or G (x1000, as nfdump). -1 if not a number. */
static int
parse_u64(const char *s, uint64_t *out, int *overflow)
{
    unsigned long long v, scale = 1;
    char *end;

    *overflow = 0;
    if (*s < '0' || *s > '9') {
        return -1;
    }
    errno = 0;
    v = strtoull(s, &end, 0);
    if (*end == 'k' || *end == 'M' || *end == 'G') {
        scale = *end == 'k' ? 1000 : *end == 'M' ? 1000000 : 1000000000;
        end++;
    }
    if (*end != '\0') {
        return -1;
    }
    *overflow = errno == ERANGE || v > UINT64_MAX / scale;
    *out = v * scale;
    return 0;
}

static enum lit_result
lit_unsigned(const struct literal_ctx *c, struct lit *out)
{
    uint64_t v,
        max = c->g->max_length >= 8 ? UINT64_MAX : (UINT64_C(1) << (8 * c->g->max_length)) - 1;
    const char *tname = ixd_filter_type_name(c->g->type, c->g->max_length);
    int overflow;
    size_t i;

    if (c->g->el[0].pen == 0 && c->g->el[0].id == 4) { /* protocolIdentifier */
        for (i = 0; i < sizeof(protocols) / sizeof(protocols[0]); i++) {
            if (strcmp(c->text, protocols[i].name) == 0) {
                out->lo = out->hi = key_u64(protocols[i].number);
                return LIT_OK;
            }
        }
    }
    if (c->text[0] == '-' && parse_u64(c->text + 1, &v, &overflow) == 0) {
        return lit_fail(c, LIT_BAD, "%s is negative but %s is %s", c->text, c->ref->name, tname);
    }
    if (parse_u64(c->text, &v, &overflow) == -1) {
        return lit_fail(c, LIT_NOFIT, "'%s' is not a valid value for %s (%s): expected a number%s",
                        c->text, c->ref->name, tname,
                        c->g->el[0].id == 4 && c->g->el[0].pen == 0
                            ? " or a protocol name (tcp, udp, icmp, icmp6, gre, esp, ...)"
                            : "");
    }
    if (overflow || v > max) {
        return lit_fail(c, LIT_BAD, "%s is out of range for %s (%s: 0..%llu)", c->text,
                        c->ref->name, tname, (unsigned long long)max);
    }
    out->lo = out->hi = key_u64(v);
    return LIT_OK;
}

static enum lit_result
lit_signed(const struct literal_ctx *c, struct lit *out)
{
    uint16_t len = c->g->max_length >= 8 ? 8 : c->g->max_length;
    int64_t max = len >= 8 ? INT64_MAX : (INT64_C(1) << (8 * len - 1)) - 1;
    long long v;
    char *end;

    errno = 0;
    v = strtoll(c->text, &end, 0);
    if (*end != '\0' || end == c->text) {
        return lit_fail(c, LIT_NOFIT, "'%s' is not a valid value for %s (%s): expected an integer",
                        c->text, c->ref->name, ixd_filter_type_name(c->g->type, len));
    }
    if (errno == ERANGE || v > max || v < -max - 1) {
        return lit_fail(c, LIT_BAD, "%s is out of range for %s (%s)", c->text, c->ref->name,
                        ixd_filter_type_name(c->g->type, len));
    }
    out->lo = out->hi = key_u64(signed_key(v));
    return LIT_OK;
}

static enum lit_result
lit_float(const struct literal_ctx *c, struct lit *out)
{
    double d;
    char *end;

    errno = 0;
    d = strtod(c->text, &end);
    if (*end != '\0' || end == c->text || d != d) {
        return lit_fail(c, LIT_NOFIT, "'%s' is not a valid value for %s: expected a number",
                        c->text, c->ref->name);
    }
    out->lo = out->hi = key_u64(float_key(d));
    return LIT_OK;
}

static enum lit_result
lit_mac(const struct literal_ctx *c, struct lit *out)
{
    uint64_t v = 0;
    const char *s = c->text;
    int i;

    for (i = 0; i < 6; i++) {
        char hex[3] = {s[0], s[0] != '\0' ? s[1] : '\0', '\0'};
        char *end;
        unsigned long b = strtoul(hex, &end, 16);
        if (hex[0] == '\0' || *end != '\0' || end != hex + 2 || hex[0] == '+' || hex[0] == '-' ||
            (i < 5 && s[2] != ':' && s[2] != '-') || (i == 5 && s[2] != '\0')) {
            return lit_fail(c, LIT_NOFIT,
                            "'%s' is not a valid value for %s: expected a MAC address like "
                            "00:1b:21:3c:4d:5e",
                            c->text, c->ref->name);
        }
        v = (v << 8) | b;
        s += 3;
    }
    out->lo = out->hi = key_u64(v);
    return LIT_OK;
}

/* An address, or a prefix as the interval of its addresses. */
static enum lit_result
lit_address(const struct literal_ctx *c, struct lit *out)
{
    int v6 = c->g->type == IXD_TYPE_IPV6;
    unsigned bits = v6 ? 128 : 32;
    char addr[LITERAL_MAX];
    const char *slash = strchr(c->text, '/');
    uint8_t b[16];
    unsigned long plen = bits;
    struct key k = {0, 0}, host = {0, 0};

    /* the shape decides the family, so that "ip" takes both and reports the right one */
    if ((strchr(c->text, ':') != NULL) != v6 || (!v6 && (c->text[0] < '0' || c->text[0] > '9'))) {
        return lit_fail(c, LIT_NOFIT, "'%s' is not a valid value for %s: expected an %s address",
                        c->text, c->ref->name, v6 ? "IPv6" : "IPv4");
    }
    snprintf(addr, sizeof(addr), "%.*s", (int)(slash ? slash - c->text : (long)strlen(c->text)),
             c->text);
    if (inet_pton(v6 ? AF_INET6 : AF_INET, addr, b) != 1) {
        return lit_fail(c, LIT_BAD, "'%s' is not a valid %s address", addr, v6 ? "IPv6" : "IPv4");
    }
    if (slash != NULL) {
        char *end;
        plen = strtoul(slash + 1, &end, 10);
        if (slash[1] < '0' || slash[1] > '9' || *end != '\0' || plen > bits) {
            return lit_fail(c, LIT_BAD, "'%s' has a bad prefix length (0..%u)", c->text, bits);
        }
    }
    if (v6) {
        k.hi = ixd_get64(b);
        k.lo = ixd_get64(b + 8);
        host.hi = plen >= 64 ? 0 : plen == 0 ? UINT64_MAX : UINT64_MAX >> plen;
        host.lo = plen >= 128 ? 0 : plen <= 64 ? UINT64_MAX : UINT64_MAX >> (plen - 64);
    } else {
        k.lo = ixd_get32(b);
        host.lo = plen >= 32 ? 0 : 0xffffffffu >> plen;
    }
    if ((k.hi & host.hi) != 0 || (k.lo & host.lo) != 0) {
        char net[INET6_ADDRSTRLEN];
        uint64_t hi = k.hi & ~host.hi, lo = k.lo & ~host.lo;
        if (v6) {
            for (int i = 0; i < 8; i++) {
                b[i] = (uint8_t)(hi >> (56 - 8 * i));
                b[8 + i] = (uint8_t)(lo >> (56 - 8 * i));
            }
        } else {
            for (int i = 0; i < 4; i++) {
                b[i] = (uint8_t)(lo >> (24 - 8 * i));
            }
        }
        inet_ntop(v6 ? AF_INET6 : AF_INET, b, net, sizeof(net));
        return lit_fail(c, LIT_BAD, "'%s' has bits set after the prefix (did you mean %s/%lu?)",
                        c->text, net, plen);
    }
    out->kind = slash != NULL ? LIT_PREFIX : LIT_POINT;
    out->lo = k;
    out->hi.hi = k.hi | host.hi;
    out->hi.lo = k.lo | host.lo;
    return LIT_OK;
}

/* Reads exactly n digits. */
static int
digits(const char **s, int n, int *out)
{
    int v = 0;

    while (n-- > 0) {
        if (**s < '0' || **s > '9') {
            return -1;
        }
        v = v * 10 + (*(*s)++ - '0');
    }
    *out = v;
    return 0;
}

/* Days from 1970-01-01 to a proleptic Gregorian date (Howard Hinnant's days_from_civil). */
static int64_t
days_from_civil(int64_t y, unsigned m, unsigned d)
{
    int64_t era;
    unsigned yoe, doy, doe;

    y -= m <= 2;
    era = (y >= 0 ? y : y - 399) / 400;
    yoe = (unsigned)(y - era * 400);
    doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

/* RFC 3339 "2024-01-01T00:00:00[.frac](Z|+hh:mm|-hh:mm)", or a date alone (midnight UTC). */
static int
parse_rfc3339(const char *s, int64_t *sec, uint32_t *nsec)
{
    static const unsigned char month_days[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int y, mo, d, h = 0, mi = 0, se = 0, oh = 0, om = 0, sign = 0, leap;
    uint32_t frac = 0, scale = 100000000;

    if (digits(&s, 4, &y) || *s++ != '-' || digits(&s, 2, &mo) || *s++ != '-' ||
        digits(&s, 2, &d)) {
        return -1;
    }
    if (*s == 'T' || *s == 't') {
        s++;
        if (digits(&s, 2, &h) || *s++ != ':' || digits(&s, 2, &mi) || *s++ != ':' ||
            digits(&s, 2, &se)) {
            return -1;
        }
        if (*s == '.') {
            for (s++; *s >= '0' && *s <= '9'; s++) {
                frac += (uint32_t)(*s - '0') * scale;
                scale /= 10; /* digits past nanoseconds add nothing */
            }
            if (s[-1] == '.') {
                return -1;
            }
        }
        if (*s == 'Z' || *s == 'z') {
            s++;
        } else if (*s == '+' || *s == '-') {
            sign = *s++ == '+' ? 1 : -1;
            if (digits(&s, 2, &oh) || *s++ != ':' || digits(&s, 2, &om) || oh > 23 || om > 59) {
                return -1;
            }
        } else {
            return -1;
        }
    }
    leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    if (*s != '\0' || mo < 1 || mo > 12 || d < 1 || d > month_days[mo - 1] ||
        (mo == 2 && d == 29 && !leap) || h > 23 || mi > 59 || se > 60) {
        return -1;
    }
    *sec = days_from_civil(y, (unsigned)mo, (unsigned)d) * 86400 + h * 3600 + mi * 60 + se -
           sign * (oh * 3600 + om * 60);
    *nsec = frac;
    return 0;
}

/* A time in the field's own unit: seconds, milliseconds, or NTP 32.32 fixed point. */
static enum lit_result
lit_time(const struct literal_ctx *c, struct lit *out)
{
    uint8_t type = c->g->type;
    int64_t sec;
    uint32_t nsec;
    uint64_t lo, hi;
    const char *range = type == IXD_TYPE_TIME_SEC    ? "1970-01-01T00:00:00Z..2106-02-07T06:28:15Z"
                        : type == IXD_TYPE_TIME_MSEC ? "1970-01-01T00:00:00Z or later"
                                                     : "1900-01-01T00:00:00Z..2036-02-07T06:28:15Z";

    if (parse_rfc3339(c->text, &sec, &nsec) == -1) {
        return lit_fail(c, LIT_NOFIT,
                        "'%s' is not a valid value for %s: expected an RFC 3339 time like "
                        "2024-01-01T00:00:00Z",
                        c->text, c->ref->name);
    }
    if (type == IXD_TYPE_TIME_SEC && sec >= 0 && sec <= UINT32_MAX) {
        lo = hi = (uint64_t)sec;
        lo += nsec != 0;
    } else if (type == IXD_TYPE_TIME_MSEC && sec >= 0) {
        lo = hi = (uint64_t)sec * 1000 + nsec / 1000000;
        lo += nsec % 1000000 != 0;
    } else if ((type == IXD_TYPE_TIME_USEC || type == IXD_TYPE_TIME_NSEC) &&
               sec + NTP_UNIX_OFFSET >= 0 && sec + NTP_UNIX_OFFSET <= UINT32_MAX) {
        uint64_t scaled = (uint64_t)nsec << 32;
        lo = hi = ((uint64_t)(sec + NTP_UNIX_OFFSET) << 32) | (scaled / 1000000000);
        lo += scaled % 1000000000 != 0;
    } else {
        return lit_fail(c, LIT_BAD, "%s is out of range for %s (%s: %s)", c->text, c->ref->name,
                        ixd_filter_type_name(type, 8), range);
    }
    out->lo = key_u64(lo);
    out->hi = key_u64(hi);
    return LIT_OK;
}

static enum lit_result
lit_string(const struct literal_ctx *c, struct lit *out)
{
    out->kind = LIT_STRING;
    return ixd_filter_add_string(c->p, c->tok, &out->str) == 0 ? LIT_OK : LIT_BAD;
}

enum lit_result
ixd_filter_parse_literal(struct parser *p, const struct ref *ref, const struct group *g,
                         const struct token *t, struct lit *out, char *why, size_t whylen)
{
    char text[LITERAL_MAX];
    struct literal_ctx c = {p, g, ref, t, text, why, whylen};

    memset(out, 0, sizeof(*out));
    out->kind = LIT_POINT;
    snprintf(text, sizeof(text), "%.*s", (int)t->len, t->start);
    if (g->type == IXD_TYPE_STRING || (g->type == IXD_TYPE_OCTETS && t->type == TOK_STRING)) {
        return lit_string(&c, out);
    }
    if (t->type == TOK_STRING || t->len >= sizeof(text)) {
        return lit_fail(&c, LIT_NOFIT, "%s is not a valid value for %s (%s)", text, ref->name,
                        ixd_filter_type_name(g->type, g->max_length));
    }
    if (strchr(text, '/') != NULL && g->type != IXD_TYPE_IPV4 && g->type != IXD_TYPE_IPV6) {
        return lit_fail(&c, LIT_BAD, "a prefix does not apply to %s (%s)", ref->name,
                        ixd_filter_type_name(g->type, g->max_length));
    }
    switch (g->type) {
    case IXD_TYPE_UNSIGNED:
    case IXD_TYPE_OCTETS: /* numbers compare with fields of 1 to 8 bytes, big-endian */
        return lit_unsigned(&c, out);
    case IXD_TYPE_SIGNED:
        return lit_signed(&c, out);
    case IXD_TYPE_FLOAT:
        return lit_float(&c, out);
    case IXD_TYPE_BOOLEAN:
        if (strcmp(text, "true") != 0 && strcmp(text, "false") != 0) {
            return lit_fail(&c, LIT_NOFIT,
                            "'%s' is not a valid value for %s: expected true or false", text,
                            ref->name);
        }
        out->lo = out->hi = key_u64(text[0] == 't' ? 1 : 2); /* RFC 7011 6.1.5 */
        return LIT_OK;
    case IXD_TYPE_MAC:
        return lit_mac(&c, out);
    case IXD_TYPE_IPV4:
    case IXD_TYPE_IPV6:
        return lit_address(&c, out);
    case IXD_TYPE_TIME_SEC:
    case IXD_TYPE_TIME_MSEC:
    case IXD_TYPE_TIME_USEC:
    case IXD_TYPE_TIME_NSEC:
        return lit_time(&c, out);
    default:
        return lit_fail(&c, LIT_BAD, "only 'exists' applies to %s (%s)", ref->name,
                        ixd_filter_type_name(g->type, g->max_length));
    }
}
