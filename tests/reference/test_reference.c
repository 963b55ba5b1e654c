/*
 * Differential test: ipfixd's zero-copy decoder against libfixbuf, the reference decoder, on the
 * real IPFIX exports of the corpus. Every message goes through both; the data records (options
 * records included) must agree record by record and field by field.
 *
 * libfixbuf is driven on buffers it does not own (fBufSetBuffer, manual mode). A new-template
 * callback adds an internal template that mirrors each external one element by element and with
 * the same lengths, so libfixbuf transcodes without widening: integers come out in host order in
 * the field's own length, variable-length fields as fbVarfield_t, RFC 6313 lists as its list
 * structures. One libfixbuf session per (input group, observation domain) mirrors ipfixd's
 * domains: internal templates are per session, not per domain, so domains must not share one.
 *
 * libfixbuf only sees messages ixd_message_validate() accepts (it hangs or crashes on some
 * malformed ones). Any libfixbuf error other than end-of-message ends the group there and fails
 * it; that fBuf is never read again. (It cannot be replaced while keeping the templates:
 * fBufFree() frees its session too.)
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <fixbuf/public.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ipfix/decode.h"
#include "ipfix/ie.h"
#include "ipfix/wire.h"

#define NOW 1000.0 /* one instant: UDP template lifetime never runs out here */
#define MAX_DOMAINS 16
#define REC_MAX (1u << 20) /* internal record: a 64 KiB message holds < 16384 fields */
#define TEXT 256

#define LS "flow-exports/logstash-codec-netflow"
#define TG "flow-exports/telegraf/testcases"

/* One original exporter: its files, space-separated, in capture order (templates first). */
struct group {
    const char *name, *dir, *files;
};

static struct group groups[] = {
    {"logstash ipfix.dat", LS, "ipfix.dat"},
    {"barracuda", LS, "ipfix_test_barracuda_tpl.dat ipfix_test_barracuda_data256.dat"},
    {"barracuda extended uniflow", LS,
     "ipfix_test_barracuda_extended_uniflow_tpl256.dat "
     "ipfix_test_barracuda_extended_uniflow_data256.dat"},
    {"mikrotik", LS,
     "ipfix_test_mikrotik_tpl.dat ipfix_test_mikrotik_data258.dat "
     "ipfix_test_mikrotik_data259.dat"},
    {"netscaler", LS, "ipfix_test_netscaler_tpl.dat ipfix_test_netscaler_data.dat"},
    {"vmware vds", LS,
     "ipfix_test_vmware_vds_tpl.dat ipfix_test_vmware_vds_data264.dat "
     "ipfix_test_vmware_vds_data266.dat ipfix_test_vmware_vds_data266_267.dat"},
    {"yaf", LS,
     "ipfix_test_yaf_tpls_option_tpl.dat ipfix_test_yaf_tpl45841.dat "
     "ipfix_test_yaf_data45841.dat ipfix_test_yaf_data45873.dat ipfix_test_yaf_data53248.dat"},
    {"telegraf ipfix_example", TG "/ipfix_example",
     "ipfix_0.bin ipfix_1.bin ipfix_2.bin ipfix_3.bin ipfix_4.bin ipfix_5.bin ipfix_6.bin"},
    {"telegraf ipfix_options", TG "/ipfix_options",
     "message-001.bin message-002.bin message-003.bin message-004.bin message-005.bin "
     "message-006.bin message-007.bin message-008.bin message-009.bin"},
    {"ipfixcol2 example_flows.ipfix", "flow-exports/ipfixcol2/doc/data/ipfix",
     "example_flows.ipfix"},
};
#define N_GROUPS (sizeof(groups) / sizeof(groups[0]))

/* What ipfixd handed over, copied: records are valid only during the deliver call. */
struct ixd_val {
    const uint8_t *p; /* into the message, which outlives the comparison */
    uint32_t pen;
    uint16_t id, decl, len;
    uint8_t type;
};
struct ixd_rec {
    size_t first; /* index of its first field in capture.v */
    uint16_t tid, nf, scope;
};
struct capture {
    GArray *r, *v; /* of struct ixd_rec, struct ixd_val */
};

struct fb_domain {
    uint32_t odid;
    fBuf_t *fbuf; /* owns its session */
};

/* The state of one group's run and where the comparison stands (for the diff). */
struct run {
    const struct group *g;
    const char *file;
    size_t msg, rec;
    struct ixd_sessions ss;
    struct ixd_session *sess;
    struct ixd_decoder *dec;
    struct capture cap;
    fbInfoModel_t *model;
    struct fb_domain dom[MAX_DOMAINS];
    size_t ndom;
    unsigned callback_errors;
    size_t messages, invalid, records, fields, lists;
};

static struct ixd_ie_registry *registry;
static struct ixd_template_rules rules;
static const char *corpus;
static uint8_t fb_msg[IXD_MAX_MESSAGE];      /* libfixbuf's own copy of the message */
static _Alignas(16) uint8_t fb_rec[REC_MAX]; /* one transcoded record */

static void
capture_deliver(void *arg, const struct ixd_batch *b)
{
    struct capture *c = arg;
    size_t i;

    for (i = 0; i < b->count; i++) {
        const struct ixd_record *r = &b->records[i];
        const struct ixd_template *t = r->tmpl;
        struct ixd_rec cr = {c->v->len, t->id, t->field_count, t->scope_count};
        unsigned f;

        g_array_append_val(c->r, cr);
        g_array_set_size(c->v, c->v->len + t->field_count);
        for (f = 0; f < t->field_count; f++) {
            struct ixd_val *v = &g_array_index(c->v, struct ixd_val, cr.first + f);
            v->p = ixd_record_field(r, f, &v->len);
            v->pen = t->fields[f].pen;
            v->id = t->fields[f].id;
            v->decl = t->fields[f].length;
            v->type = t->fields[f].type;
        }
    }
}

/*
 * Mirrors each external template as the internal template of the same ID. Elements are given
 * with midx 0: the model is keyed by (pen, id, midx), and a repeated element's midx would make
 * it look unknown; fbTemplateAppend numbers repeats itself.
 */
static void
mirror_template(fbSession_t *session, uint16_t tid, fbTemplate_t *ext, void *app_ctx,
                void **tmpl_ctx, fbTemplateCtxFree_fn *ctx_free)
{
    struct run *run = app_ctx;
    fbTemplate_t *copy = fbTemplateAlloc(fbSessionGetInfoModel(session));
    uint32_t i, n = fbTemplateCountElements(ext);
    GError *err = NULL;

    for (i = 0; i < n; i++) {
        const fbInfoElement_t *ie = fbTemplateGetIndexedIE(ext, i);
        fbInfoElement_t ex;

        memset(&ex, 0, sizeof(ex));
        ex.ent = ie->ent;
        ex.num = ie->num;
        ex.len = ie->len;
        if (!fbTemplateAppend(copy, &ex, &err)) {
            break;
        }
    }
    if (err == NULL && fbSessionAddTemplate(session, TRUE, tid, copy, &err) != 0) {
        return;
    }
    fprintf(stderr, "reference: %s: cannot mirror template %u: %s\n", run->g->name, tid,
            err != NULL ? err->message : "?");
    g_clear_error(&err);
    fbTemplateFreeUnused(copy);
    run->callback_errors++;
}

static struct fb_domain *
fb_domain(struct run *run, uint32_t odid)
{
    struct fb_domain *d;
    fbSession_t *session;
    size_t i;

    for (i = 0; i < run->ndom; i++) {
        if (run->dom[i].odid == odid) {
            return &run->dom[i];
        }
    }
    if (run->ndom == MAX_DOMAINS) {
        return NULL;
    }
    d = &run->dom[run->ndom++];
    d->odid = odid;
    session = fbSessionAlloc(run->model);
    fbSessionAddNewTemplateCallback(session, mirror_template, run);
    d->fbuf = fBufAllocForCollection(session, NULL);
    /* manual mode: end of the buffer is FB_ERROR_EOM, not an attempt to read another message */
    fBufSetAutomaticMode(d->fbuf, FALSE);
    return d;
}

/* Size of an element in libfixbuf's internal record (as its transcoder lays it out). */
static size_t
fb_mem_size(const fbInfoElement_t *ie)
{
    if (ie->len != FB_IE_VARLEN) {
        return ie->len;
    }
    switch (ie->type) {
    case FB_BASIC_LIST:
        return sizeof(fbBasicList_t);
    case FB_SUB_TMPL_LIST:
        return sizeof(fbSubTemplateList_t);
    case FB_SUB_TMPL_MULTI_LIST:
        return sizeof(fbSubTemplateMultiList_t);
    default:
        return sizeof(fbVarfield_t);
    }
}

/* The ixd type libfixbuf's element type corresponds to (as ipfixd's registry maps it). */
static uint8_t
fb_type(const fbInfoElement_t *ie)
{
    /* FB_BOOL..FB_SUB_TMPL_MULTI_LIST run in the order of IXD_TYPE_BOOLEAN..MULTILIST */
    G_STATIC_ASSERT(FB_SUB_TMPL_MULTI_LIST - FB_BOOL ==
                    IXD_TYPE_SUBTEMPLATE_MULTILIST - IXD_TYPE_BOOLEAN);
    G_STATIC_ASSERT(FB_IP4_ADDR - FB_BOOL == IXD_TYPE_IPV4 - IXD_TYPE_BOOLEAN);
    if (ie->type >= FB_UINT_8 && ie->type <= FB_UINT_64) {
        return IXD_TYPE_UNSIGNED;
    }
    if (ie->type >= FB_INT_8 && ie->type <= FB_INT_64) {
        return IXD_TYPE_SIGNED;
    }
    if (ie->type == FB_FLOAT_32 || ie->type == FB_FLOAT_64) {
        return IXD_TYPE_FLOAT;
    }
    if (ie->type >= FB_BOOL && ie->type <= FB_SUB_TMPL_MULTI_LIST) {
        return (uint8_t)(IXD_TYPE_BOOLEAN + (ie->type - FB_BOOL));
    }
    return IXD_TYPE_OCTETS;
}

/* An integer libfixbuf left in host order in len bytes (it swaps FB_IE_F_ENDIAN elements;
 * reduced-size ones keep their length, so this is not always a uintN_t). */
static uint64_t
fb_host_uint(const uint8_t *p, unsigned len)
{
    uint64_t v = 0;
    unsigned i;

    for (i = 0; i < len; i++) {
        v |= (uint64_t)p[G_BYTE_ORDER == G_LITTLE_ENDIAN ? i : len - 1 - i] << (8 * i);
    }
    return v;
}

/* The wire bytes of a fixed field libfixbuf decoded: its byte swap undone. */
static void
fb_wire_bytes(const fbInfoElement_t *ie, const uint8_t *p, uint8_t *out, unsigned len)
{
    unsigned i;

    for (i = 0; i < len; i++) {
        int swapped = (ie->flags & FB_IE_F_ENDIAN) && G_BYTE_ORDER == G_LITTLE_ENDIAN;
        out[i] = swapped ? p[len - 1 - i] : p[i];
    }
}

struct diff {
    char what[64];
    char ixd[TEXT];
    char fb[TEXT];
};

static void
hex(char *out, size_t size, const uint8_t *p, size_t n)
{
    size_t i, o = 0;

    o += (size_t)snprintf(out, size, "%zu bytes:", n);
    for (i = 0; i < n && i < 48 && o + 4 < size; i++) {
        o += (size_t)snprintf(out + o, size - o, " %02x", p[i]);
    }
    if (i < n && o + 4 < size) {
        snprintf(out + o, size - o, " ...");
    }
}

static int
bytes_differ(struct diff *df, const uint8_t *a, size_t na, const uint8_t *b, size_t nb)
{
    if (na == nb && (na == 0 || memcmp(a, b, na) == 0)) {
        return 0;
    }
    snprintf(df->what, sizeof(df->what), "bytes");
    hex(df->ixd, sizeof(df->ixd), a, na);
    hex(df->fb, sizeof(df->fb), b, nb);
    return 1;
}

static int
numbers_differ(struct diff *df, const char *what, uint64_t a, uint64_t b, int is_signed)
{
    if (a == b) {
        return 0;
    }
    snprintf(df->what, sizeof(df->what), "%s", what);
    if (is_signed) {
        snprintf(df->ixd, sizeof(df->ixd), "%lld", (long long)a);
        snprintf(df->fb, sizeof(df->fb), "%lld", (long long)b);
    } else {
        snprintf(df->ixd, sizeof(df->ixd), "%llu (0x%llx)", (unsigned long long)a,
                 (unsigned long long)a);
        snprintf(df->fb, sizeof(df->fb), "%llu (0x%llx)", (unsigned long long)b,
                 (unsigned long long)b);
    }
    return 1;
}

static uint64_t
sign_extend(uint64_t v, unsigned len)
{
    uint64_t sign = 1ull << (8 * len - 1);

    return len < 8 && (v & sign) ? v | ~((sign << 1) - 1) : v;
}

/* Floats compare by bit pattern (NaN != NaN as numbers) and print as numbers. */
static int
floats_differ(struct diff *df, const uint8_t *wire, const uint8_t *fb, unsigned len)
{
    uint64_t bits[2] = {ixd_get_uint(wire, len), fb_host_uint(fb, len)};
    double d[2];
    int i;

    if (bits[0] == bits[1]) {
        return 0;
    }
    for (i = 0; i < 2; i++) {
        uint32_t b32 = (uint32_t)bits[i];
        float f;
        memcpy(&f, &b32, 4);
        if (len == 4) {
            d[i] = f;
        } else {
            memcpy(&d[i], &bits[i], 8);
        }
    }
    snprintf(df->what, sizeof(df->what), "float%u", len * 8);
    snprintf(df->ixd, sizeof(df->ixd), "%.17g", d[0]);
    snprintf(df->fb, sizeof(df->fb), "%.17g", d[1]);
    return 1;
}

/*
 * RFC 6313 lists: ipfixd keeps the raw bytes, libfixbuf decodes them. Compared: the list
 * header (semantic, element or template IDs) and the counts both can know without decoding the
 * nested records.
 */
static int
lists_differ(struct diff *df, const struct ixd_val *v, const fbInfoElement_t *ie, const uint8_t *fb)
{
    const uint8_t *p = v->p;
    size_t n = v->len;

    if (ie->type == FB_BASIC_LIST) {
        fbBasicList_t bl;
        size_t head = n >= 5 && (ixd_get16(p + 1) & 0x8000) ? 9 : 5;
        uint16_t elen = n >= 5 ? ixd_get16(p + 3) : 0;

        memcpy(&bl, fb, sizeof(bl));
        if (n < head || elen == 0 || bl.infoElement == NULL) {
            return bytes_differ(df, p, n, NULL, 0);
        }
        /* items of variable length would need a walk: counted for fixed-length ones only */
        return numbers_differ(df, "basicList semantic", p[0], bl.semantic, 0) ||
               numbers_differ(df, "basicList element id", ixd_get16(p + 1) & 0x7fff,
                              bl.infoElement->num, 0) ||
               numbers_differ(df, "basicList element pen", head == 9 ? ixd_get32(p + 5) : 0,
                              bl.infoElement->ent, 0) ||
               (elen != IXD_VARLEN &&
                numbers_differ(df, "basicList items", (n - head) / elen, bl.numElements, 0));
    }
    if (ie->type == FB_SUB_TMPL_LIST) {
        fbSubTemplateList_t stl;

        memcpy(&stl, fb, sizeof(stl));
        if (n < 3) {
            return bytes_differ(df, p, n, NULL, 0);
        }
        return numbers_differ(df, "subTemplateList semantic", p[0], stl.semantic, 0) ||
               numbers_differ(df, "subTemplateList template", ixd_get16(p + 1), stl.tmplID, 0);
    }
    {
        fbSubTemplateMultiList_t ml;
        size_t o = 1;
        uint16_t e = 0;

        memcpy(&ml, fb, sizeof(ml));
        if (n < 1 || numbers_differ(df, "subTemplateMultiList semantic", p[0], ml.semantic, 0)) {
            return n < 1 ? bytes_differ(df, p, n, NULL, 0) : 1;
        }
        for (; o + 4 <= n && ixd_get16(p + o + 2) >= 4; o += ixd_get16(p + o + 2), e++) {
            uint16_t fb_tid = e < ml.numElements ? ml.firstEntry[e].tmplID : 0;
            if (numbers_differ(df, "subTemplateMultiList entry template", ixd_get16(p + o), fb_tid,
                               0)) {
                return 1;
            }
        }
        return numbers_differ(df, "subTemplateMultiList entries", e, ml.numElements, 0);
    }
}

/* Whether RFC 7011 sections 6.1-6.2 allow this encoded length for the type (enum ixd_type). */
static int
legal_length(uint8_t ft, uint16_t len)
{
    /* {min, max} in enum ixd_type order; {0, 0}: any length (octets, strings, lists) */
    static const uint8_t range[][2] = {{0, 0},   {1, 8}, {1, 8}, {4, 8}, {1, 1}, {6, 6},
                                       {0, 0},   {4, 4}, {8, 8}, {8, 8}, {8, 8}, {4, 4},
                                       {16, 16}, {0, 0}, {0, 0}, {0, 0}};

    G_STATIC_ASSERT(IXD_TYPE_IPV6 == 12 && IXD_TYPE_TIME_SEC == 7);
    if (ft >= G_N_ELEMENTS(range) || range[ft][1] == 0) {
        return 1;
    }
    /* float64 may be sent as float32, nothing in between */
    return len >= range[ft][0] && len <= range[ft][1] &&
           (ft != IXD_TYPE_FLOAT || len == 4 || len == 8);
}

/* Compares one field; fills *df and returns 1 when the decoders disagree. */
static int
field_differs(struct diff *df, const struct ixd_val *v, const fbInfoElement_t *ie,
              const uint8_t *fb)
{
    uint8_t wire[IXD_VARLEN];
    uint8_t ft = fb_type(ie);

    /* ipfixd's own refinements: sysUpTime stamps, unsigned to libfixbuf (made absolute when the
     * exporter's boot time is known) and padding (never written out) */
    if ((v->type == IXD_TYPE_UPTIME && ft == IXD_TYPE_UNSIGNED) ||
        (v->type == IXD_TYPE_PADDING && ft == IXD_TYPE_OCTETS)) {
        ft = v->type;
    }

    /* ipfixd keeps an element whose length is illegal for its type as octets; libfixbuf 2.4
     * decodes it as its type anyway: compare the bytes then */
    if (v->type != ft && (v->type != IXD_TYPE_OCTETS || legal_length(ft, v->decl))) {
        return numbers_differ(df, "type", v->type, ft, 0);
    }
    if (ie->len == FB_IE_VARLEN) {
        fbVarfield_t vf;
        if (ft >= IXD_TYPE_BASIC_LIST) {
            return lists_differ(df, v, ie, fb);
        }
        memcpy(&vf, fb, sizeof(vf));
        return bytes_differ(df, v->p, v->len, vf.buf, vf.len);
    }
    if (v->len != ie->len) {
        return numbers_differ(df, "length", v->len, ie->len, 0);
    }
    switch (v->type) {
    case IXD_TYPE_UNSIGNED:
    case IXD_TYPE_UPTIME:
    case IXD_TYPE_BOOLEAN:
    case IXD_TYPE_TIME_SEC:
    case IXD_TYPE_TIME_MSEC:
    case IXD_TYPE_TIME_USEC:
    case IXD_TYPE_TIME_NSEC:
        return numbers_differ(df, "number", ixd_get_uint(v->p, v->len), fb_host_uint(fb, v->len),
                              0);
    case IXD_TYPE_SIGNED:
        return numbers_differ(df, "signed", sign_extend(ixd_get_uint(v->p, v->len), v->len),
                              sign_extend(fb_host_uint(fb, v->len), v->len), 1);
    case IXD_TYPE_FLOAT:
        return floats_differ(df, v->p, fb, v->len);
    default: /* addresses, MAC, strings, octets */
        fb_wire_bytes(ie, fb, wire, v->len);
        return bytes_differ(df, v->p, v->len, wire, v->len);
    }
}

static void
report(const struct run *run, long field, const fbInfoElement_t *ie, const struct diff *df)
{
    fprintf(stderr,
            "MISMATCH %s: file %s, message %zu, record %zu, field %ld, element (pen %u, id %u): "
            "%s\n  ipfixd:    %s\n  libfixbuf: %s\n",
            run->g->name, run->file, run->msg, run->rec, field, ie != NULL ? ie->ent : 0,
            ie != NULL ? ie->num : 0, df->what, df->ixd, df->fb);
}

/* Compares libfixbuf's record (external template tid, internal template it) with ipfixd's. */
static int
record_differs(struct run *run, uint16_t tid, fbTemplate_t *ext, fbTemplate_t *it)
{
    const struct ixd_rec *ir = &g_array_index(run->cap.r, struct ixd_rec, run->rec);
    uint32_t i, n = fbTemplateCountElements(it);
    struct diff df;
    size_t off = 0;

    if (numbers_differ(&df, "template ID", ir->tid, tid, 0) ||
        numbers_differ(&df, "scope count", ir->scope, fbTemplateGetOptionsScope(ext), 0) ||
        numbers_differ(&df, "field count", ir->nf, n, 0)) {
        report(run, -1, NULL, &df);
        return 1;
    }
    for (i = 0; i < n; i++) {
        const fbInfoElement_t *ie = fbTemplateGetIndexedIE(it, i);
        const struct ixd_val *v = &g_array_index(run->cap.v, struct ixd_val, ir->first + i);

        if (numbers_differ(&df, "element pen", v->pen, ie->ent, 0) ||
            numbers_differ(&df, "element id", v->id, ie->num, 0) ||
            numbers_differ(&df, "declared length", v->decl, ie->len, 0) ||
            /* a field of declared length 0 is absent from every record (RFC 7011 7) */
            (v->decl != 0 && field_differs(&df, v, ie, fb_rec + off))) {
            report(run, (long)i, ie, &df);
            return 1;
        }
        run->fields += v->decl != 0;
        run->lists += v->decl != 0 && fb_type(ie) >= IXD_TYPE_BASIC_LIST;
        off += fb_mem_size(ie);
    }
    return 0;
}

/*
 * Reads libfixbuf's next record of the message into fb_rec. Returns 1 with *tid, *ext, *it and
 * *used set, 0 at the end of the message, -1 on any other error (the fBuf is not used again).
 */
static int
fb_next(struct run *run, fBuf_t *fbuf, uint16_t *tid, fbTemplate_t **ext, fbTemplate_t **it,
        size_t *used)
{
    GError *err = NULL;

    *used = sizeof(fb_rec);
    *ext = fBufNextCollectionTemplate(fbuf, tid, &err);
    if (*ext != NULL && fBufSetInternalTemplate(fbuf, *tid, &err)) {
        *it = fbSessionGetTemplate(fBufGetSession(fbuf), TRUE, *tid, NULL);
        if (*it != NULL && fBufNext(fbuf, fb_rec, used, &err)) {
            return 1;
        }
        memset(fb_rec, 0, sizeof(fb_rec)); /* whatever a failed transcode left */
    }
    if (err != NULL && g_error_matches(err, FB_ERROR_DOMAIN, FB_ERROR_EOM)) {
        g_clear_error(&err);
        return 0;
    }
    fprintf(stderr, "MISMATCH %s: file %s, message %zu, record %zu: libfixbuf error: %s\n",
            run->g->name, run->file, run->msg, run->rec,
            err != NULL ? err->message : "no internal template");
    g_clear_error(&err);
    return -1;
}

/* Frees what libfixbuf allocated for the record's lists and zeroes what it wrote: it decodes
 * a list into fresh memory only where the list's pointers are NULL. */
static void
fb_release(fbTemplate_t *it, size_t used)
{
    fBufListFree(it, fb_rec);
    memset(fb_rec, 0, used);
}

/* libfixbuf's pass over one message, compared with what ipfixd captured. 0 if they agree. */
static int
fb_compare_message(struct run *run, const uint8_t *msg, size_t len)
{
    struct fb_domain *d = fb_domain(run, ixd_get32(msg + 12));
    fbTemplate_t *ext, *it;
    uint16_t tid;
    size_t used;
    int rc;

    if (d == NULL) {
        fprintf(stderr, "reference: %s: too many observation domains\n", run->g->name);
        return 1;
    }
    memcpy(fb_msg, msg, len);
    fBufSetBuffer(d->fbuf, fb_msg, len);
    for (run->rec = 0;; run->rec++) {
        /* every record takes at least one byte: more than len records means a loop */
        if (run->rec > len || (rc = fb_next(run, d->fbuf, &tid, &ext, &it, &used)) < 0) {
            return 1;
        }
        if (rc == 0) {
            break;
        }
        if (run->rec >= run->cap.r->len) {
            fprintf(stderr,
                    "MISMATCH %s: file %s, message %zu: libfixbuf decodes record %zu "
                    "(template %u), ipfixd only %u records\n",
                    run->g->name, run->file, run->msg, run->rec, tid, run->cap.r->len);
            fb_release(it, used);
            return 1;
        }
        rc = record_differs(run, tid, ext, it);
        fb_release(it, used);
        if (rc) {
            return 1;
        }
    }
    if (run->rec != run->cap.r->len) {
        fprintf(stderr,
                "MISMATCH %s: file %s, message %zu: ipfixd decodes %u records, "
                "libfixbuf %zu\n",
                run->g->name, run->file, run->msg, run->cap.r->len, run->rec);
        return 1;
    }
    run->records += run->rec;
    return run->callback_errors > 0;
}

static int
compare_message(struct run *run, const uint8_t *msg, size_t len)
{
    enum ixd_error why;

    /* libfixbuf hangs or crashes on some malformed messages: it only sees validated ones */
    if (ixd_message_validate(msg, len, &why) != 0) {
        fprintf(stderr, "reference: %s: file %s, message %zu invalid (%s), skipped\n", run->g->name,
                run->file, run->msg, ixd_error_name(why));
        run->invalid++;
        return 0;
    }
    run->messages++;
    g_array_set_size(run->cap.r, 0);
    g_array_set_size(run->cap.v, 0);
    if (ixd_message_process(run->dec, run->sess, msg, len, NOW, 0) < 0) {
        fprintf(stderr, "MISMATCH %s: file %s, message %zu: ipfixd rejects a valid message\n",
                run->g->name, run->file, run->msg);
        return 1;
    }
    return fb_compare_message(run, msg, len);
}

static uint8_t *
load(const char *dir, const char *file, size_t *size)
{
    char *path = g_strdup_printf("%s/%s/%s", corpus, dir, file);
    gchar *buf = NULL;
    GError *err = NULL;

    if (!g_file_get_contents(path, &buf, size, &err)) {
        fprintf(stderr, "reference: %s\n", err->message);
        g_clear_error(&err);
    }
    g_free(path);
    return (uint8_t *)buf;
}

/* Feeds one file's messages (back to back, split by the length at offset 2). */
static int
run_file(struct run *run, const char *file)
{
    size_t size = 0, off = 0;
    uint8_t *buf = load(run->g->dir, file, &size);
    int bad = buf == NULL;

    run->file = file;
    for (run->msg = 0; !bad && off < size; run->msg++) {
        size_t mlen = size - off >= 4 ? ixd_get16(buf + off + 2) : 0;
        if (mlen < IXD_HEADER_LEN || mlen > size - off) {
            fprintf(stderr, "reference: %s: cannot split message %zu at offset %zu\n", file,
                    run->msg, off);
            bad = 1;
            break;
        }
        bad = compare_message(run, buf + off, mlen);
        off += mlen;
    }
    g_free(buf);
    return bad;
}

/*
 * The reference model knows what ipfixd's registry knows: libfixbuf's default model plus the
 * CERT (PEN 6871) elements libfixbuf ships as XML, which src/ipfix/ie.c loads when installed.
 * Otherwise libfixbuf would decode YAF's elements as octets and the types could not be compared.
 */
static fbInfoModel_t *
reference_model(void)
{
    static const char *const files[] = {
        "/usr/share/libfixbuf/cert_ipfix.xml",
        "/usr/local/share/libfixbuf/cert_ipfix.xml",
    };
    fbInfoModel_t *model = fbInfoModelAlloc();
    size_t i;

    for (i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
        GError *err = NULL;
        if (access(files[i], R_OK) == 0 && fbInfoModelReadXMLFile(model, files[i], &err)) {
            break;
        }
        g_clear_error(&err);
    }
    return model;
}

static void
run_init(struct run *run, const struct group *g)
{
    struct sockaddr_in sin;

    memset(run, 0, sizeof(*run));
    run->g = g;
    memset(&sin, 0, sizeof(sin));
    sin.sin_family = AF_INET;
    sin.sin_port = htons(4739);
    sin.sin_addr.s_addr = htonl(0xc0000201); /* 192.0.2.1 */
    {
        struct ixd_session_limits limits;
        ixd_session_limits_default(&limits);
        limits.hold = 0; /* libfixbuf drops data before its template: compare like with like */
        ixd_sessions_init(&run->ss, "reference", 0, &rules, &limits);
    }
    run->sess = ixd_session_udp(&run->ss, (const struct sockaddr *)&sin, NOW);
    run->dec = malloc(sizeof(*run->dec));
    assert_non_null(run->sess);
    assert_non_null(run->dec);
    ixd_decoder_init(run->dec, capture_deliver, &run->cap);
    run->cap.r = g_array_new(FALSE, FALSE, sizeof(struct ixd_rec));
    run->cap.v = g_array_new(FALSE, FALSE, sizeof(struct ixd_val));
    run->model = reference_model();
}

static void
run_free(struct run *run)
{
    size_t i;

    for (i = 0; i < run->ndom; i++) {
        fBufFree(run->dom[i].fbuf); /* frees its session and the session's templates */
    }
    fbInfoModelFree(run->model);
    ixd_sessions_release(&run->ss);
    free(run->dec);
    g_array_free(run->cap.r, TRUE);
    g_array_free(run->cap.v, TRUE);
}

static void
test_group(void **state)
{
    const struct group *g = *state;
    char **files = g_strsplit(g->files, " ", 0);
    struct run run;
    size_t i;
    int bad = 0;

    run_init(&run, g);
    for (i = 0; files[i] != NULL && !bad; i++) {
        bad = run_file(&run, files[i]);
    }
    printf("reference: %-30s messages %4zu (invalid %zu)  records %6zu  fields %7zu  "
           "(lists %zu)\n",
           g->name, run.messages, run.invalid, run.records, run.fields, run.lists);
    run_free(&run);
    g_strfreev(files);
    assert_int_equal(bad, 0);
    /* a test that compares nothing must fail */
    assert_true(run.records > 0);
    assert_true(run.fields > 0);
}

static int
setup(void **state)
{
    char err[256];

    corpus = getenv("IXD_CORPUS");
    if (corpus == NULL) {
        fprintf(stderr, "reference: IXD_CORPUS is not set\n");
        return -1;
    }
    registry = ixd_ie_registry_new(NULL, 0, err, sizeof(err));
    rules.registry = registry;
    rules.max_fields = 65535;
    return registry != NULL ? 0 : -1;
}

static int
teardown(void **state)
{
    ixd_ie_registry_free(registry);
    return 0;
}

int
main(void)
{
    struct CMUnitTest tests[N_GROUPS];
    size_t i;

    for (i = 0; i < N_GROUPS; i++) {
        memset(&tests[i], 0, sizeof(tests[i]));
        tests[i].name = groups[i].name;
        tests[i].test_func = test_group;
        tests[i].initial_state = &groups[i];
    }
    return cmocka_run_group_tests(tests, setup, teardown);
}
