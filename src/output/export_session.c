#include "output/export_session.h"
#include "core/clock.h"

#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "ipfix/lists.h"
#include "ipfix/wire.h"
#include "output/ipfix_encode.h"
#include "output/type_records.h"

#define ENTRY_BUCKETS 64 /* per domain; chains stay short for the templates of a domain */
#define ENTRIES_MAX 4096 /* export templates per (session, domain): LRU beyond */
#define DOMAINS_MAX 1024 /* observation domains per session: LRU beyond */
#define FIRST_TID 256    /* RFC 7011 3.4.1: data set IDs start here */

/* One export template in one (transport session, observation domain). */
struct ixd_xentry {
    struct ixd_xentry *next;
    uint64_t key;   /* source template serial and the variant (uptimes, exporter family) */
    uint64_t used;  /* session tick of the last use, for eviction */
    uint32_t epoch; /* the session epoch in which the template record was last sent */
    uint16_t tid;   /* export template ID */
    uint8_t options;
    uint32_t own_pen;  /* the enterprise of the own elements in the template */
    uint64_t own_mask; /* the own elements in the template (ixd_typerec_mask()) */
    struct ixd_xplan plan;
    uint16_t rec_len;
    uint8_t rec[]; /* the export template record */
};

struct ixd_xdomain {
    struct ixd_xdomain *next;
    uint32_t odid;
    uint32_t seq; /* data records of this domain in the messages before the next one */
    uint64_t used;
    size_t n_entries;
    uint16_t next_id;
    /* RFC 5610 type records: their options template's ID (0 until needed), the epoch it was
     * last sent in, and the own elements described since */
    uint16_t type_tid;
    uint32_t type_epoch, type_pen;
    uint64_t described;
    struct ixd_xentry *buckets[ENTRY_BUCKETS];
    uint8_t ids[65536 / 8]; /* export template IDs in use */
};

/* ---- building messages ---- */

static void
close_set(struct ixd_xsession *s)
{
    if (s->set_at != 0) {
        ixd_put16(s->msg + s->set_at + 2, (uint16_t)(s->len - s->set_at));
        s->set_at = 0;
        s->set_id = 0;
    }
}

static void
open_set(struct ixd_xsession *s, uint16_t id)
{
    close_set(s);
    s->set_at = s->len;
    ixd_put16(s->msg + s->len, id);
    s->len += IXD_SET_HEADER_LEN;
    s->set_id = id;
}

static void
begin(struct ixd_xsession *s, struct ixd_xdomain *dom, uint32_t now_sec)
{
    s->len = IXD_HEADER_LEN;
    s->set_at = 0;
    s->set_id = 0;
    s->mrecords = 0;
    s->mdescribed = 0;
    s->mtemplates = 0;
    s->mdom = dom;
    s->mtime = now_sec;
}

void
ixd_xsession_finish(struct ixd_xsession *s)
{
    if (s->len == 0) {
        return;
    }
    if (s->len > IXD_HEADER_LEN) {
        close_set(s);
        ixd_put16(s->msg, IXD_IPFIX_VERSION);
        ixd_put16(s->msg + 2, (uint16_t)s->len);
        ixd_put32(s->msg + 4, s->mtime);
        ixd_put32(s->msg + 8, s->mdom->seq);
        ixd_put32(s->msg + 12, s->mdom->odid);
        /* a dropped message still advances the sequence: the collector sees the loss */
        s->mdom->seq += s->mrecords;
        if (s->emit(s->emit_arg, s->msg, s->len, s->mrecords - s->mdescribed, s->mdescribed,
                    s->mtemplates) == -1 &&
            s->mtemplates) {
            s->epoch++;
        }
    }
    s->len = 0;
    s->mdom = NULL;
}

/* ---- templates and domains ---- */

static struct ixd_xdomain *
domain_find(const struct ixd_xsession *s, uint32_t odid)
{
    struct ixd_xdomain *dom;

    for (dom = s->domains[odid % IXD_XSESSION_DOMAIN_BUCKETS]; dom != NULL; dom = dom->next) {
        if (dom->odid == odid) {
            return dom;
        }
    }
    return NULL;
}

static void
entry_unlink(struct ixd_xsession *s, struct ixd_xdomain *dom, struct ixd_xentry *e)
{
    struct ixd_xentry **pp = &dom->buckets[(e->key * 0x9E3779B97F4A7C15ull) >> 58];

    while (*pp != e) {
        pp = &(*pp)->next;
    }
    *pp = e->next;
    dom->ids[e->tid / 8] &= (uint8_t) ~(1u << (e->tid % 8));
    dom->n_entries--;
    if (s->c_entry == e) {
        s->c_entry = NULL;
    }
}

/* Whether an evicted template's ID must be withdrawn before it is reused in this session. */
static int
must_withdraw(const struct ixd_xsession *s, const struct ixd_xentry *e)
{
    return s->withdraw == IXD_XWITHDRAW_ALL ||
           (s->withdraw == IXD_XWITHDRAW_SENT && e->epoch == s->epoch);
}

/* Frees the least recently used export template of dom. On TCP its ID is withdrawn first
 * (RFC 7011 8.1), because the ID will be given to another template in the same session. */
static void
evict_entry(struct ixd_xsession *s, struct ixd_xdomain *dom, uint32_t now_sec)
{
    struct ixd_xentry *lru = NULL, *e;
    size_t k;

    for (k = 0; k < ENTRY_BUCKETS; k++) {
        for (e = dom->buckets[k]; e != NULL; e = e->next) {
            if (lru == NULL || e->used < lru->used) {
                lru = e;
            }
        }
    }
    if (lru == NULL) {
        return;
    }
    if (must_withdraw(s, lru) && s->len != 0 && (s->mdom != dom || s->len + 8 > s->mtu)) {
        ixd_xsession_finish(s);
    }
    /* asked again: finishing may have started a new file, which never defined the ID */
    if (must_withdraw(s, lru)) {
        uint16_t set_id = lru->options ? IXD_SET_OPTIONS_TEMPLATE : IXD_SET_TEMPLATE;
        if (s->len == 0) {
            begin(s, dom, now_sec);
        }
        if (s->set_id != set_id) {
            open_set(s, set_id);
        }
        ixd_put16(s->msg + s->len, lru->tid);
        ixd_put16(s->msg + s->len + 2, 0);
        s->len += 4;
        s->mtemplates = 1;
    }
    entry_unlink(s, dom, lru);
    free(lru);
}

static void
domain_free(struct ixd_xdomain *dom)
{
    size_t k;

    for (k = 0; k < ENTRY_BUCKETS; k++) {
        struct ixd_xentry *e = dom->buckets[k];
        while (e != NULL) {
            struct ixd_xentry *next = e->next;
            free(e);
            e = next;
        }
    }
    free(dom);
}

static int
domain_must_withdraw(const struct ixd_xsession *s, const struct ixd_xdomain *dom)
{
    size_t k;
    const struct ixd_xentry *e;

    if (s->withdraw != IXD_XWITHDRAW_SENT) {
        return s->withdraw == IXD_XWITHDRAW_ALL;
    }
    if (dom->type_tid != 0 && dom->type_epoch == s->epoch) {
        return 1;
    }
    for (k = 0; k < ENTRY_BUCKETS; k++) {
        for (e = dom->buckets[k]; e != NULL; e = e->next) {
            if (e->epoch == s->epoch) {
                return 1;
            }
        }
    }
    return 0;
}

/* Drops the least recently used domain; on TCP all its templates are withdrawn first. */
static void
evict_domain(struct ixd_xsession *s, uint32_t now_sec)
{
    struct ixd_xdomain *lru = NULL, *dom, **pp;
    size_t b;

    for (b = 0; b < IXD_XSESSION_DOMAIN_BUCKETS; b++) {
        for (dom = s->domains[b]; dom != NULL; dom = dom->next) {
            if (lru == NULL || dom->used < lru->used) {
                lru = dom;
            }
        }
    }
    if (lru == NULL) {
        return;
    }
    ixd_xsession_finish(s);
    if (domain_must_withdraw(s, lru)) {
        begin(s, lru, now_sec);
        open_set(s, IXD_SET_TEMPLATE);
        ixd_put16(s->msg + s->len, IXD_SET_TEMPLATE); /* template ID 2: all templates */
        ixd_put16(s->msg + s->len + 2, 0);
        s->len += 4;
        open_set(s, IXD_SET_OPTIONS_TEMPLATE);
        ixd_put16(s->msg + s->len, IXD_SET_OPTIONS_TEMPLATE); /* ID 3: all options templates */
        ixd_put16(s->msg + s->len + 2, 0);
        s->len += 4;
        s->mtemplates = 1;
        ixd_xsession_finish(s);
    }
    for (pp = &s->domains[lru->odid % IXD_XSESSION_DOMAIN_BUCKETS]; *pp != lru; pp = &(*pp)->next) {
    }
    *pp = lru->next;
    s->n_domains--;
    s->c_dom = NULL;
    s->c_entry = NULL;
    domain_free(lru);
}

static struct ixd_xdomain *
domain_get(struct ixd_xsession *s, uint32_t odid, uint32_t now_sec)
{
    struct ixd_xdomain *dom = domain_find(s, odid);

    if (dom != NULL) {
        return dom;
    }
    if (s->n_domains >= DOMAINS_MAX) {
        evict_domain(s, now_sec);
    }
    dom = calloc(1, sizeof(*dom));
    if (dom == NULL) {
        return NULL;
    }
    dom->odid = odid;
    dom->next_id = FIRST_TID;
    dom->next = s->domains[odid % IXD_XSESSION_DOMAIN_BUCKETS];
    s->domains[odid % IXD_XSESSION_DOMAIN_BUCKETS] = dom;
    s->n_domains++;
    return dom;
}

static int
id_used(const struct ixd_xdomain *dom, uint16_t id)
{
    return (dom->ids[id / 8] >> (id % 8)) & 1;
}

/* The original ID when it is free in this domain, else the next free one. */
static uint16_t
allocate_id(struct ixd_xdomain *dom, uint16_t want)
{
    uint16_t id = want;

    if (id < FIRST_TID || id_used(dom, id)) {
        id = dom->next_id;
        while (id_used(dom, id)) {
            id = id == 65535 ? FIRST_TID : (uint16_t)(id + 1);
        }
        dom->next_id = id == 65535 ? FIRST_TID : (uint16_t)(id + 1);
    }
    dom->ids[id / 8] |= (uint8_t)(1u << (id % 8));
    return id;
}

static struct ixd_xentry *
entry_get(struct ixd_xsession *s, struct ixd_xdomain *dom, const struct ixd_template *t,
          uint64_t key, enum ixd_xorig orig, uint32_t now_sec)
{
    struct ixd_xentry *e, **bucket;
    struct ixd_xplan plan;

    if (s->c_entry != NULL && s->c_key == key && s->c_dom == dom) {
        return s->c_entry;
    }
    bucket = &dom->buckets[(key * 0x9E3779B97F4A7C15ull) >> 58];
    for (e = *bucket; e != NULL; e = e->next) {
        if (e->key == key) {
            break;
        }
    }
    if (e == NULL) {
        if (dom->n_entries >= ENTRIES_MAX) {
            evict_entry(s, dom, now_sec);
        }
        ixd_xplan_init(&plan, t, (key & 2) != 0, orig);
        e = malloc(sizeof(*e) + plan.template_bytes);
        if (e == NULL) {
            return NULL;
        }
        e->key = key;
        e->epoch = 0; /* never sent */
        e->options = t->scope_count > 0;
        e->own_pen = 0;
        e->own_mask = ixd_typerec_mask(t, &e->own_pen);
        e->plan = plan;
        e->tid = allocate_id(dom, t->id);
        e->rec_len = (uint16_t)ixd_xplan_template(&plan, t, e->tid, e->rec, plan.template_bytes);
        e->next = *bucket;
        *bucket = e;
        dom->n_entries++;
    }
    s->c_key = key;
    s->c_dom = dom;
    s->c_entry = e;
    return e;
}

/* ---- the record path ---- */

/* The export templates a record's RFC 6313 lists name (struct ixd_list_ref), each with the
 * export template that stands for it; entry NULL: the named template is unknown, so the
 * reference is left as it came. */
struct sub_refs {
    size_t n;
    struct ixd_list_ref refs[IXD_LIST_REFS_MAX];
    struct ixd_xentry *entry[IXD_LIST_REFS_MAX];
};

/* Whether e must go in front of the record in the current epoch, counted once per record. */
static int
template_due(const struct ixd_xsession *s, const struct ixd_xentry *e, const struct sub_refs *subs,
             size_t upto)
{
    size_t k;

    if (e->epoch == s->epoch) {
        return 0;
    }
    for (k = 0; k < upto; k++) {
        if (subs->entry[k] == e) {
            return 0;
        }
    }
    return 1;
}

/* Bytes the templates due before the record take, set headers included (an upper bound). */
static size_t
templates_need(const struct ixd_xsession *s, const struct ixd_xentry *e,
               const struct sub_refs *subs)
{
    size_t need = 0, k;

    if (e->epoch != s->epoch) {
        need += IXD_SET_HEADER_LEN + e->rec_len;
    }
    for (k = 0; k < subs->n; k++) {
        const struct ixd_xentry *x = subs->entry[k];
        if (x != NULL && x != e && template_due(s, x, subs, k)) {
            need += IXD_SET_HEADER_LEN + x->rec_len;
        }
    }
    return need;
}

static void
put_template(struct ixd_xsession *s, struct ixd_xentry *e)
{
    uint16_t tset = e->options ? IXD_SET_OPTIONS_TEMPLATE : IXD_SET_TEMPLATE;

    if (s->set_id != tset) {
        open_set(s, tset);
    }
    memcpy(s->msg + s->len, e->rec, e->rec_len);
    s->len += e->rec_len;
    e->epoch = s->epoch;
    s->mtemplates = 1;
}

/* ---- RFC 5610 type records ---- */

/* The own elements that e and the templates its lists name use and dom has not described in
 * this epoch, and their enterprise into *pen. */
static uint64_t
undescribed(const struct ixd_xsession *s, const struct ixd_xdomain *dom, const struct ixd_xentry *e,
            const struct sub_refs *subs, uint32_t *pen)
{
    uint64_t mask = e->own_mask;
    size_t k;

    *pen = e->own_pen;
    for (k = 0; k < subs->n; k++) {
        if (subs->entry[k] != NULL && subs->entry[k]->own_mask != 0) {
            mask |= subs->entry[k]->own_mask;
            *pen = subs->entry[k]->own_pen;
        }
    }
    if (mask == 0) {
        return 0;
    }
    return dom->type_epoch == s->epoch ? mask & ~dom->described : mask;
}

/* Puts the type records' options template in the message if this epoch has not had it. A
 * message with type records counts as defining templates: if it is lost, every template goes
 * again, and the descriptions with them. */
static void
put_type_template(struct ixd_xsession *s, struct ixd_xdomain *dom)
{
    if (dom->type_tid == 0) {
        dom->type_tid = allocate_id(dom, 0);
    }
    if (dom->type_epoch != s->epoch) {
        open_set(s, IXD_SET_OPTIONS_TEMPLATE);
        s->len += ixd_typerec_template(s->msg + s->len, dom->type_tid);
        dom->type_epoch = s->epoch;
        dom->described = 0;
    }
    s->mtemplates = 1;
}

static void
put_description(struct ixd_xsession *s, struct ixd_xdomain *dom, size_t i, uint32_t pen)
{
    if (s->set_id != dom->type_tid) {
        open_set(s, dom->type_tid);
    }
    s->len += ixd_typerec_write(s->msg + s->len, pen, &ixd_own_elements[i]);
    s->mrecords++;
    s->mdescribed++;
    dom->type_pen = pen;
    dom->described |= 1ull << i;
}

/* Bytes the descriptions of due take in a message, set headers included (an upper bound). */
static size_t
descriptions_need(const struct ixd_xsession *s, const struct ixd_xdomain *dom, uint64_t due)
{
    size_t need = IXD_SET_HEADER_LEN, i;

    if (dom->type_epoch != s->epoch) {
        need += IXD_SET_HEADER_LEN + IXD_TYPEREC_TEMPLATE_LEN;
    }
    for (i = 0; i < ixd_n_own_elements && i < 64; i++) {
        if (due >> i & 1) {
            need += ixd_typerec_length(&ixd_own_elements[i]);
        }
    }
    return need;
}

/* Puts the descriptions of due in the message, which has room for them. */
static void
put_descriptions(struct ixd_xsession *s, struct ixd_xdomain *dom, uint64_t due, uint32_t pen)
{
    size_t i;

    put_type_template(s, dom);
    for (i = 0; i < ixd_n_own_elements && i < 64; i++) {
        if (due >> i & 1) {
            put_description(s, dom, i, pen);
        }
    }
}

/* Descriptions that do not fit in one message with the record that needs them: in messages of
 * their own, as many as they take, before the record's. */
static void
describe_apart(struct ixd_xsession *s, struct ixd_xdomain *dom, uint64_t due, uint32_t pen,
               uint32_t now_sec)
{
    size_t i;

    ixd_xsession_finish(s);
    begin(s, dom, now_sec);
    put_type_template(s, dom);
    for (i = 0; i < ixd_n_own_elements && i < 64; i++) {
        if ((due >> i & 1) == 0) {
            continue;
        }
        if (s->len + IXD_SET_HEADER_LEN + ixd_typerec_length(&ixd_own_elements[i]) > s->mtu) {
            ixd_xsession_finish(s);
            begin(s, dom, now_sec);
            put_type_template(s, dom);
        }
        put_description(s, dom, i, pen);
    }
    ixd_xsession_finish(s);
}

/* Adds one record, behind every template it needs that this session has not had since the
 * last epoch change: its own and those its lists name. A record that cannot fit in an empty
 * message of mtu bytes is dropped: -1. */
static int
add_record(struct ixd_xsession *s, struct ixd_xdomain *dom, struct ixd_xentry *e,
           const struct ixd_record *r, const struct ixd_source *src, const struct sub_refs *subs,
           uint32_t now_sec)
{
    size_t n = r->length + e->plan.extra, need = 0, k, at;
    uint64_t due = 0;
    uint32_t pen = 0;
    int apart = 0;

    for (;;) {
        size_t tpl, desc;
        if (s->len == 0) {
            begin(s, dom, now_sec);
        }
        /* asked again each time: a lost message that defined templates moves the epoch */
        due = undescribed(s, dom, e, subs, &pen);
        desc = due != 0 ? descriptions_need(s, dom, due) : 0;
        tpl = templates_need(s, e, subs);
        need = desc + tpl + (desc + tpl == 0 && s->set_id == e->tid ? 0 : IXD_SET_HEADER_LEN) + n;
        if (s->len + need <= s->mtu) {
            break;
        }
        if (s->len == IXD_HEADER_LEN && due != 0 && !apart) {
            describe_apart(s, dom, due, pen, now_sec);
            apart = 1;
            continue;
        }
        if (s->len == IXD_HEADER_LEN) {
            ixd_log_limited(&s->errors, ixd_mono_now(), IXD_LOG_WARNING,
                            "output %s: a record of %zu bytes (%zu with its templates) does not "
                            "fit in mtu %u; dropped",
                            s->name, n, need, s->mtu);
            return -1;
        }
        ixd_xsession_finish(s);
    }
    if (due != 0) {
        put_descriptions(s, dom, due, pen);
    }
    for (k = 0; k < subs->n; k++) {
        if (subs->entry[k] != NULL && subs->entry[k]->epoch != s->epoch) {
            put_template(s, subs->entry[k]);
        }
    }
    if (e->epoch != s->epoch) {
        put_template(s, e);
    }
    if (s->set_id != e->tid) {
        open_set(s, e->tid);
    }
    at = s->len;
    s->len += ixd_xplan_record(&e->plan, r, src, s->mtime, s->msg + s->len);
    for (k = 0; k < subs->n; k++) {
        if (subs->entry[k] != NULL) {
            ixd_put16(s->msg + at + subs->refs[k].offset, subs->entry[k]->tid);
        }
    }
    s->mrecords++;
    return 0;
}

/*
 * After record i of batch went into the message as it came (no field rewritten, nothing
 * appended, no list whose references could need rewriting): the records of the same template
 * that follow it in memory, as many as the message still holds, in one copy. Returns how many;
 * the caller skips them.
 */
static size_t
copy_run(struct ixd_xsession *s, struct ixd_xentry *e, const struct ixd_batch *batch, size_t i)
{
    const struct ixd_record *r = &batch->records[i];
    const uint8_t *next = r->data + r->length;
    size_t n = 0, bytes = 0, room = s->mtu - s->len;

    if (e->plan.n_conv != 0 || e->plan.extra != 0 || r->tmpl->has_lists) {
        return 0;
    }
    while (i + 1 + n < batch->count) {
        const struct ixd_record *q = &batch->records[i + 1 + n];
        if (q->tmpl != r->tmpl || q->data != next || bytes + q->length > room) {
            break;
        }
        next += q->length;
        bytes += q->length;
        n++;
    }
    memcpy(s->msg + s->len, r->data + r->length, bytes);
    s->len += bytes;
    s->mrecords += (uint32_t)n;
    s->tick += n; /* a tick per record, as for any other */
    e->used = s->tick;
    return n;
}

/* The export templates standing for the templates r's lists name, made or found in dom and
 * marked used, so that evicting for one of them never evicts another (or e). Records whose
 * fields move on export (NetFlow uptimes widened) keep their references as they are; they do
 * not come with lists from any real exporter. */
static void
find_sub_refs(struct ixd_xsession *s, struct ixd_xdomain *dom, const struct ixd_xentry *e,
              const struct ixd_record *r, const struct ixd_source *src, uint32_t now_sec,
              struct sub_refs *subs)
{
    int complete;
    size_t k;

    subs->n = 0;
    if (!r->tmpl->has_lists || src->resolver == NULL) {
        return;
    }
    for (k = 0; k < e->plan.n_conv; k++) {
        if (e->plan.conv[k].op == IXD_XCONV_UPTIME) {
            return;
        }
    }
    subs->n = ixd_list_refs(r, src->resolver, subs->refs, IXD_LIST_REFS_MAX, &complete);
    if (!complete) {
        ixd_log_limited(&s->errors, ixd_mono_now(), IXD_LOG_WARNING,
                        "output %s: a record of template %u from %s names more than %d templates "
                        "or nests lists deeper than %d; the rest keep their original IDs",
                        s->name, r->tmpl->id, src->exporter_text, IXD_LIST_REFS_MAX,
                        IXD_LIST_REFS_DEPTH);
    }
    for (k = 0; k < subs->n; k++) {
        const struct ixd_template *t = subs->refs[k].tmpl;
        struct ixd_xentry *x = NULL;
        if (t != NULL) {
            x = entry_get(s, dom, t, t->serial << 2, IXD_XORIG_NONE, now_sec);
            if (x != NULL) {
                x->used = s->tick;
            }
        }
        subs->entry[k] = x;
    }
}

size_t
ixd_xsession_write(struct ixd_xsession *s, const struct ixd_batch *batch, int original_exporter,
                   uint32_t now_sec)
{
    const struct ixd_source *src = batch->source;
    enum ixd_xorig orig = IXD_XORIG_NONE;
    uint64_t variant;
    struct ixd_xdomain *dom;
    struct sub_refs subs;
    size_t i, dropped = 0;

    s->tick++;
    if (original_exporter) {
        orig = src->exporter.ss_family == AF_INET6 ? IXD_XORIG_V6 : IXD_XORIG_V4;
    }
    variant = (src->system_init_ms != 0 ? 2 : 0) | (orig == IXD_XORIG_V6 ? 1 : 0);
    dom = domain_get(s, src->odid, now_sec);
    if (dom == NULL) {
        return batch->count;
    }
    dom->used = s->tick;
    if (s->len != 0 && s->mdom != dom) {
        ixd_xsession_finish(s);
    }
    for (i = 0; i < batch->count; i++) {
        const struct ixd_record *r = &batch->records[i];
        struct ixd_xentry *e;
        /* a tick per record: what this record uses is then more recent than every other
         * entry, so making room for the templates its lists name never evicts one of its own,
         * even when the whole table was used by this batch */
        s->tick++;
        e = entry_get(s, dom, r->tmpl, (r->tmpl->serial << 2) | variant, orig, now_sec);
        if (e == NULL) {
            dropped++;
            continue;
        }
        e->used = s->tick;
        find_sub_refs(s, dom, e, r, src, now_sec, &subs);
        if (add_record(s, dom, e, r, src, &subs, now_sec) == -1) {
            dropped++;
            continue;
        }
        i += copy_run(s, e, batch, i);
    }
    return dropped;
}

/* ---- sessions ---- */

void
ixd_xsession_restart(struct ixd_xsession *s)
{
    struct ixd_xdomain *dom;
    size_t b;

    s->epoch++;
    for (b = 0; b < IXD_XSESSION_DOMAIN_BUCKETS; b++) {
        for (dom = s->domains[b]; dom != NULL; dom = dom->next) {
            dom->seq = 0;
        }
    }
}

/* The type records' options template and the records dom has described, for a new transport
 * session's prelude (the queued messages may use those elements). */
static void
each_description(struct ixd_xsession *s, struct ixd_xdomain *dom, ixd_xsession_template_fn fn,
                 void *arg)
{
    uint8_t rec[IXD_TYPEREC_MAX];
    size_t i;

    if (dom->type_tid == 0 || dom->described == 0) {
        return;
    }
    fn(arg, dom->odid, IXD_SET_OPTIONS_TEMPLATE, rec, ixd_typerec_template(rec, dom->type_tid));
    for (i = 0; i < ixd_n_own_elements && i < 64; i++) {
        if (dom->described >> i & 1) {
            fn(arg, dom->odid, dom->type_tid, rec,
               ixd_typerec_write(rec, dom->type_pen, &ixd_own_elements[i]));
        }
    }
    dom->type_epoch = s->epoch;
}

void
ixd_xsession_each_template(struct ixd_xsession *s, ixd_xsession_template_fn fn, void *arg)
{
    struct ixd_xdomain *dom;
    struct ixd_xentry *e;
    size_t b, k;

    for (b = 0; b < IXD_XSESSION_DOMAIN_BUCKETS; b++) {
        for (dom = s->domains[b]; dom != NULL; dom = dom->next) {
            each_description(s, dom, fn, arg);
            for (k = 0; k < ENTRY_BUCKETS; k++) {
                for (e = dom->buckets[k]; e != NULL; e = e->next) {
                    fn(arg, dom->odid, e->options ? IXD_SET_OPTIONS_TEMPLATE : IXD_SET_TEMPLATE,
                       e->rec, e->rec_len);
                    e->epoch = s->epoch;
                }
            }
        }
    }
}

int
ixd_xsession_take_seq(struct ixd_xsession *s, uint32_t odid, uint32_t records, uint32_t *seq)
{
    struct ixd_xdomain *dom = domain_find(s, odid);

    if (dom == NULL) {
        return -1;
    }
    *seq = dom->seq;
    dom->seq += records;
    return 0;
}

int
ixd_xsession_init(struct ixd_xsession *s, const char *name, uint32_t mtu,
                  enum ixd_xwithdraw withdraw, ixd_xsession_emit_fn emit, void *emit_arg)
{
    memset(s, 0, sizeof(*s));
    s->name = name;
    s->mtu = mtu;
    s->withdraw = withdraw;
    s->emit = emit;
    s->emit_arg = emit_arg;
    s->epoch = 1; /* entries start at 0: never sent */
    s->msg = malloc(mtu);
    return s->msg == NULL ? -1 : 0;
}

void
ixd_xsession_release(struct ixd_xsession *s)
{
    size_t b;

    for (b = 0; b < IXD_XSESSION_DOMAIN_BUCKETS; b++) {
        struct ixd_xdomain *dom = s->domains[b];
        while (dom != NULL) {
            struct ixd_xdomain *next = dom->next;
            domain_free(dom);
            dom = next;
        }
        s->domains[b] = NULL;
    }
    free(s->msg);
    s->msg = NULL;
}
