/*
 * The enrich stage. Interfaces: the exporter's options records that name interfaces
 * (interfaceName, interfaceDescription by ingressInterface or egressInterface) fill the
 * process's interface store (ifstore.h), and records with ingressInterface/egressInterface get
 * the names, descriptions and speeds it knows. Addresses: what the address sources
 * (addresses.h) know of each record's source and destination address goes into the record.
 * bgpSourceAsNumber and
 * bgpDestinationAsNumber (IE 16, 17) are filled where the exporter left them 0 and added where
 * it sent none; the AS names, countries and cities are added as ipfixd's own elements
 * (elements.enterprise). Records are rebuilt under a derived template per source template, as
 * the set stage does; records without addresses and options records pass unchanged. The
 * sources are built by conf() and read-only afterwards: every worker shares them, and a reload
 * reads the files again into new ones.
 */
#include <glib.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/address.h"
#include "core/clock.h"
#include "core/cnode.h"
#include "core/log.h"
#include "core/relaxed_counter.h"
#include "enrich/addresses.h"
#include "enrich/enrich_snmp.h"
#include "enrich/ifstore.h"
#include "enrich/rebuild.h"
#include "ipfix/decode.h"
#include "ipfix/ie.h"
#include "ipfix/template.h"
#include "ipfix/wire.h"
#include "pipeline/pipeline.h"

#define SOURCES_MAX 16
#define DERIVED_MAX 4096
#define BATCH_BYTES (2 * 65536)
#define PATH_MAX_LEN 4096
#define CACHE_SLOTS 8192 /* per worker: 512 KiB (64-byte answers) */
#define IFCACHE_BITS 9   /* per worker: 512 interfaces, 12 KiB */

/* The elements added after the source template's, in this order: the AS numbers the template
 * lacks and these six strings (addresses); these four strings and two speeds (interfaces). */
static const char *const string_names[] = {"sourceAsName",      "destinationAsName",
                                           "sourceCountryCode", "destinationCountryCode",
                                           "sourceCityName",    "destinationCityName"};
#define N_STRINGS 6
static const char *const if_names[] = {"ingressInterfaceName",        "egressInterfaceName",
                                       "ingressInterfaceDescription", "egressInterfaceDescription",
                                       "ingressInterfaceSpeed",       "egressInterfaceSpeed"};
#define N_IF 6
/* most bytes a record grows by: two AS numbers, ten strings with 3-byte length prefixes, two
 * speeds */
#define EXTRA (2 * 4 + (N_STRINGS + 4) * (3 + IXD_ADDR_STRING_MAX) + 2 * 8)

struct enrich_conf {
    struct ixd_addresses *addresses;             /* NULL: no address sources */
    struct ixd_ifstore *ifstore;                 /* NULL: no interface names */
    enum ixd_ifsource if_sources[IXD_IFSOURCES]; /* in the order tried */
    size_t n_if_sources;
    struct ixd_enrich_snmp snmp; /* n 0: no SNMP */
    struct snmp_run *run;        /* the poller, started by the first worker */
    const struct ixd_ie_registry *registry;
    uint32_t own_pen;
    uint16_t own_id[N_STRINGS];
    uint16_t if_id[N_IF];
};

struct snmp_run {
    pthread_mutex_t lock;
    struct ixd_snmp_poller *poller;
};

/* A derived template and what each of its fields is. */
struct derived {
    struct ixd_template *tmpl;     /* NULL: the records pass unchanged (nothing to add) */
    int src4, dst4, src6, dst6;    /* source fields, or -1 */
    int in_if, out_if;             /* source fields, or -1 */
    int src_as, dst_as;            /* fields of the derived template */
    uint8_t addresses, interfaces; /* 1: what is added for them is there */
    uint16_t n_source;             /* fields copied from the source template */
    /* A source template without variable-length fields: what its records keep of their layout
     * when rebuilt (copied in one piece: ixd_rebuild_plan); else NULL. */
    uint16_t *head;
};

/* An address's answer, per worker (the sources' strings outlive the state). */
struct cached {
    uint64_t hi, lo; /* the address (IPv4 mapped), big-endian */
    struct ixd_addrinfo info;
    uint8_t used;
};

/* An address of a record to look up: its 128 bits (IPv4 mapped), big-endian, held as two
 * integers (reading back as words what was written as bytes stalls), and its cache slot. */
struct addrkey {
    uint64_t hi, lo;
    uint32_t slot;
    uint8_t none; /* 1: the record has no such address */
};

/* An interface's answer in one table of the worker's snapshot, per worker. */
struct ifcached {
    const struct ixd_iftable *table; /* NULL: unused */
    const struct ixd_ifinfo *info;   /* NULL: the table does not know the interface */
    uint32_t ifindex;
};

struct enrich_state {
    const struct enrich_conf *conf;
    struct cached *cache; /* CACHE_SLOTS, with address sources only */
    struct addrkey *keys; /* the batch's source and destination addresses, with the cache */
    GHashTable *derived;  /* source template serial -> struct derived */
    uint8_t *buf;
    size_t size, used;
    struct ixd_ifsnap *snap;  /* the interface snapshot this worker reads, or NULL */
    struct ifcached *ifcache; /* 1 << IFCACHE_BITS, with interfaces only; of snap's tables */
    uint64_t version;
    const struct ixd_iftable *tables[IXD_IFSOURCES]; /* the batch's exporter's, or NULL */
    unsigned worker;
    uint64_t failed, enriched, found, learned, named, hits;
};

static int
ends_with(const char *s, const char *suffix)
{
    size_t a = strlen(s), b = strlen(suffix);

    return a >= b && strcmp(s + a - b, suffix) == 0;
}

/* One address source: a .csv prefix table or a .mmdb database. */
static int
add_source(struct enrich_conf *c, const struct ixd_cnode *n, const struct ixd_stage_env *env,
           char *err, size_t errlen)
{
    char path[PATH_MAX_LEN], why[512];
    int csv;

    if (n->kind != IXD_CNODE_SCALAR || n->text[0] == '\0') {
        return ixd_cnode_fail(n, env->file, err, errlen, "an address source is a file name");
    }
    csv = ends_with(n->text, ".csv");
    if (!csv && !ends_with(n->text, ".mmdb")) {
        return ixd_cnode_fail(n, env->file, err, errlen,
                              "'%s': an address source is a .csv prefix table or a .mmdb "
                              "database",
                              n->text);
    }
    if (ixd_cnode_path(n->text, env->file, path, sizeof(path)) == -1) {
        return ixd_cnode_fail(n, env->file, err, errlen, "the path is too long");
    }
    if (env->syntax_only) {
        return 0;
    }
    if ((csv ? ixd_addresses_add_csv(c->addresses, path, why, sizeof(why))
             : ixd_addresses_add_mmdb(c->addresses, path, why, sizeof(why))) == -1) {
        return ixd_cnode_fail(n, env->file, err, errlen, "%s", why);
    }
    return 0;
}

static void
enrich_conf_free(void *p)
{
    struct enrich_conf *c = p;

    if (c != NULL) {
        ixd_addresses_free(c->addresses);
        if (c->run != NULL) {
            ixd_snmp_stop(c->run->poller);
            pthread_mutex_destroy(&c->run->lock);
            free(c->run);
        }
        free(c->snmp.agents);
        ixd_ifstore_release(c->ifstore);
        free(c);
    }
}

static int
own_elements(struct enrich_conf *c, const struct ixd_cnode *settings,
             const struct ixd_stage_env *env, char *err, size_t errlen)
{
    size_t i;

    c->own_pen = ixd_ie_own_enterprise(env->registry);
    for (i = 0; i < N_STRINGS + N_IF; i++) {
        const char *name = i < N_STRINGS ? string_names[i] : if_names[i - N_STRINGS];
        const struct ixd_ie *ie = ixd_ie_lookup_name(env->registry, name);
        if (c->own_pen == 0 || ie == NULL || ie->pen != c->own_pen) {
            return ixd_cnode_fail(settings, env->file, err, errlen,
                                  "ipfixd's own elements are not defined");
        }
        if (i < N_STRINGS) {
            c->own_id[i] = ie->id;
        } else {
            c->if_id[i - N_STRINGS] = ie->id;
        }
    }
    return 0;
}

/* addresses: [files] */
static int
conf_addresses(struct enrich_conf *c, const struct ixd_cnode *list, const struct ixd_stage_env *env,
               char *err, size_t errlen)
{
    size_t i;

    if (list->kind != IXD_CNODE_SEQUENCE || list->n == 0 || list->n > SOURCES_MAX) {
        return ixd_cnode_fail(list, env->file, err, errlen,
                              "addresses wants a list of 1 to %d .csv or .mmdb files", SOURCES_MAX);
    }
    if ((c->addresses = ixd_addresses_new()) == NULL) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    for (i = 0; i < list->n; i++) {
        if (add_source(c, &list->items[i], env, err, errlen) == -1) {
            return -1;
        }
    }
    return 0;
}

/* interfaces: [options, snmp] (the sources of interface names, in the order tried) */
static int
conf_interfaces(struct enrich_conf *c, const struct ixd_cnode *list,
                const struct ixd_stage_env *env, char *err, size_t errlen)
{
    size_t i, k;

    if (list->kind != IXD_CNODE_SEQUENCE || list->n == 0 || list->n > IXD_IFSOURCES) {
        return ixd_cnode_fail(list, env->file, err, errlen,
                              "interfaces wants a list of options and snmp");
    }
    for (i = 0; i < list->n; i++) {
        const struct ixd_cnode *n = &list->items[i];
        enum ixd_ifsource src;
        if (n->kind == IXD_CNODE_SCALAR && strcmp(n->text, "options") == 0) {
            src = IXD_IFSOURCE_OPTIONS;
        } else if (n->kind == IXD_CNODE_SCALAR && strcmp(n->text, "snmp") == 0) {
            src = IXD_IFSOURCE_SNMP;
        } else {
            return ixd_cnode_fail(n, env->file, err, errlen,
                                  "interfaces wants a list of options and snmp");
        }
        for (k = 0; k < c->n_if_sources; k++) {
            if (c->if_sources[k] == src) {
                return ixd_cnode_fail(n, env->file, err, errlen, "listed twice");
            }
        }
        c->if_sources[c->n_if_sources++] = src;
    }
    if ((c->ifstore = ixd_ifstore_acquire()) == NULL) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    return 0;
}

/* SNMP among the interface sources wants snmp settings, and snmp settings want it there. */
static int
conf_snmp_check(struct enrich_conf *c, const struct ixd_cnode *settings,
                const struct ixd_stage_env *env, char *err, size_t errlen)
{
    int listed = 0;
    size_t k;

    for (k = 0; k < c->n_if_sources; k++) {
        listed |= c->if_sources[k] == IXD_IFSOURCE_SNMP;
    }
    if (listed != (ixd_cnode_get(settings, "snmp") != NULL)) {
        return ixd_cnode_fail(settings, env->file, err, errlen,
                              listed ? "interfaces lists snmp: snmp settings are needed"
                                     : "snmp settings without snmp in interfaces");
    }
    if (listed) {
        c->run = calloc(1, sizeof(*c->run));
        if (c->run == NULL) {
            snprintf(err, errlen, "out of memory");
            return -1;
        }
        pthread_mutex_init(&c->run->lock, NULL);
    }
    return 0;
}

static void *
enrich_conf(const struct ixd_cnode *settings, const struct ixd_stage_env *env, char *err,
            size_t errlen)
{
    struct enrich_conf *c = calloc(1, sizeof(*c));
    size_t i;

    if (c == NULL) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    c->registry = env->registry;
    if (settings->kind != IXD_CNODE_MAPPING || settings->n == 0) {
        ixd_cnode_fail(settings, env->file, err, errlen,
                       "enrich wants a mapping: {interfaces: [options], addresses: [files]}");
        goto fail;
    }
    for (i = 0; i < settings->n; i++) {
        const struct ixd_cnode *k = &settings->items[2 * i], *v = &settings->items[2 * i + 1];
        int rc;
        if (k->kind == IXD_CNODE_SCALAR && strcmp(k->text, "addresses") == 0) {
            rc = c->addresses != NULL ? ixd_cnode_fail(k, env->file, err, errlen, "given twice")
                                      : conf_addresses(c, v, env, err, errlen);
        } else if (k->kind == IXD_CNODE_SCALAR && strcmp(k->text, "interfaces") == 0) {
            rc = c->ifstore != NULL ? ixd_cnode_fail(k, env->file, err, errlen, "given twice")
                                    : conf_interfaces(c, v, env, err, errlen);
        } else if (k->kind == IXD_CNODE_SCALAR && strcmp(k->text, "snmp") == 0) {
            rc = c->snmp.agents != NULL ? ixd_cnode_fail(k, env->file, err, errlen, "given twice")
                                        : ixd_enrich_snmp_conf(v, env, &c->snmp, err, errlen);
        } else {
            rc = ixd_cnode_fail(k, env->file, err, errlen,
                                "enrich knows the keys interfaces, snmp and addresses");
        }
        if (rc == -1) {
            goto fail;
        }
    }
    if (conf_snmp_check(c, settings, env, err, errlen) == -1 ||
        own_elements(c, settings, env, err, errlen) == -1) {
        goto fail;
    }
    return c;
fail:
    enrich_conf_free(c);
    return NULL;
}

static void
derived_free(gpointer p)
{
    struct derived *d = p;

    ixd_template_free(d->tmpl);
    free(d->head);
    free(d);
}

static void *
enrich_start(const void *conf, unsigned worker, struct ixd_stage_ctx *ctx)
{
    struct enrich_state *st = calloc(1, sizeof(*st));

    const struct enrich_conf *c = conf;

    (void)ctx;
    if (st == NULL) {
        return NULL;
    }
    st->conf = conf;
    st->worker = worker;
    if (c->run != NULL) {
        /* the poller runs while the config does: the first worker starts it, conf_free stops
         * it (ipfixd -t, which starts no worker, polls nothing) */
        char err[256];
        pthread_mutex_lock(&c->run->lock);
        if (c->run->poller == NULL) {
            c->run->poller = ixd_snmp_start(c->ifstore, c->snmp.agents, c->snmp.n, c->snmp.interval,
                                            err, sizeof(err));
            if (c->run->poller == NULL) {
                log_err("enrich: snmp: %s", err);
            }
        }
        pthread_mutex_unlock(&c->run->lock);
    }
    st->size = BATCH_BYTES + IXD_BATCH_MAX * (EXTRA + 8u * 16u);
    st->buf = malloc(st->size);
    st->derived = g_hash_table_new_full(g_direct_hash, g_direct_equal, NULL, derived_free);
    if (c->addresses != NULL) {
        st->cache = calloc(CACHE_SLOTS, sizeof(*st->cache));
        st->keys = calloc(2 * IXD_BATCH_MAX, sizeof(*st->keys));
    }
    if (c->ifstore != NULL) {
        st->ifcache = calloc((size_t)1 << IFCACHE_BITS, sizeof(*st->ifcache));
    }
    if (st->buf == NULL || (c->addresses != NULL && (st->cache == NULL || st->keys == NULL)) ||
        (c->ifstore != NULL && st->ifcache == NULL)) {
        g_hash_table_destroy(st->derived);
        free(st->ifcache);
        free(st->keys);
        free(st->cache);
        free(st->buf);
        free(st);
        return NULL;
    }
    return st;
}

/* The address fields of t; 0 when it has none. */
static int
find_addresses(const struct ixd_template *t, struct derived *d)
{
    d->src4 = ixd_template_find(t, 0, 8);
    d->dst4 = ixd_template_find(t, 0, 12);
    d->src6 = ixd_template_find(t, 0, 27);
    d->dst6 = ixd_template_find(t, 0, 28);
    if (d->src4 >= 0 && t->fields[d->src4].length != 4) {
        d->src4 = -1;
    }
    if (d->dst4 >= 0 && t->fields[d->dst4].length != 4) {
        d->dst4 = -1;
    }
    if (d->src6 >= 0 && t->fields[d->src6].length != 16) {
        d->src6 = -1;
    }
    if (d->dst6 >= 0 && t->fields[d->dst6].length != 16) {
        d->dst6 = -1;
    }
    return d->src4 >= 0 || d->dst4 >= 0 || d->src6 >= 0 || d->dst6 >= 0;
}

/* The interface fields of t (unsigned, 1 to 8 bytes); 0 when it has none. */
static int
find_interfaces(const struct ixd_template *t, struct derived *d)
{
    d->in_if = ixd_template_find(t, 0, 10);
    d->out_if = ixd_template_find(t, 0, 14);
    if (d->in_if >= 0 && (t->fields[d->in_if].length < 1 || t->fields[d->in_if].length > 8)) {
        d->in_if = -1;
    }
    if (d->out_if >= 0 && (t->fields[d->out_if].length < 1 || t->fields[d->out_if].length > 8)) {
        d->out_if = -1;
    }
    return d->in_if >= 0 || d->out_if >= 0;
}

/* Appends what is added for addresses: the AS numbers t lacks, the six strings. */
static uint16_t
add_address_fields(const struct enrich_conf *c, const struct ixd_template *t, struct derived *d,
                   uint8_t **p, uint16_t n)
{
    uint16_t i;

    d->src_as = ixd_template_find(t, 0, 16);
    d->dst_as = ixd_template_find(t, 0, 17);
    if (d->src_as < 0) {
        ixd_put_specifier(p, 0, 16, 4);
        d->src_as = n++;
    }
    if (d->dst_as < 0) {
        ixd_put_specifier(p, 0, 17, 4);
        d->dst_as = n++;
    }
    for (i = 0; i < N_STRINGS; i++) {
        ixd_put_specifier(p, c->own_pen, c->own_id[i], IXD_VARLEN);
        n++;
    }
    return n;
}

/* The derived template of t: its fields, then what is added for addresses and interfaces. */
static struct derived *
derive(const struct enrich_conf *c, const struct ixd_template *t)
{
    struct derived *d = calloc(1, sizeof(*d));
    uint8_t *rec = malloc(4 + 8u * (t->field_count + 2u + N_STRINGS + N_IF)), *p;
    struct ixd_template_rules rules = {c->registry, 65535, 0};
    enum ixd_error why;
    size_t consumed;
    uint16_t i, tid, n;

    if (d == NULL || rec == NULL) {
        free(d);
        free(rec);
        return NULL;
    }
    d->addresses = c->addresses != NULL && find_addresses(t, d);
    d->interfaces = c->ifstore != NULL && find_interfaces(t, d);
    if ((!d->addresses && !d->interfaces) || t->field_count + 2u + N_STRINGS + N_IF > 65535u / 8u) {
        free(rec);
        return d; /* passes unchanged */
    }
    p = rec + 4;
    for (i = 0; i < t->field_count; i++) {
        ixd_put_specifier(&p, t->fields[i].pen, t->fields[i].id, t->fields[i].length);
    }
    d->n_source = n = t->field_count;
    d->src_as = d->dst_as = -1;
    if (d->addresses) {
        n = add_address_fields(c, t, d, &p, n);
    }
    for (i = 0; d->interfaces && i < N_IF; i++) {
        ixd_put_specifier(&p, c->own_pen, c->if_id[i], i < 4 ? IXD_VARLEN : 8);
        n++;
    }
    ixd_put16(rec, t->id);
    ixd_put16(rec + 2, n);
    if (ixd_template_parse(rec, (size_t)(p - rec), 0, &rules, &d->tmpl, &tid, &consumed, &why) !=
        IXD_TPARSE_TEMPLATE) {
        d->tmpl = NULL;
    }
    free(rec);
    if (d->tmpl != NULL && !t->has_varlen && (d->head = ixd_rebuild_plan(t)) == NULL) {
        derived_free(d);
        return NULL;
    }
    return d;
}

static const struct derived *
derived_for(struct enrich_state *st, const struct ixd_template *t)
{
    gpointer key = (gpointer)(uintptr_t)t->serial;
    struct derived *d = g_hash_table_lookup(st->derived, key);

    if (d == NULL) {
        d = derive(st->conf, t);
        if (d != NULL) {
            g_hash_table_insert(st->derived, key, d);
        }
    }
    return d;
}

/* The cache's slot of the address hi:lo (its 128 bits, big-endian). */
static uint32_t
cache_slot(uint64_t hi, uint64_t lo)
{
    uint64_t x = lo ^ hi * 0x9e3779b97f4a7c15ull;

    x ^= x >> 29;
    x *= 0xbf58476d1ce4e5b9ull;
    return (uint32_t)(x >> 32) & (CACHE_SLOTS - 1);
}

/* Field f4 (an IPv4 address) or else f6 (IPv6) of r as a key. */
static void
key_of(const struct ixd_record *r, int f4, int f6, struct addrkey *k)
{
    uint16_t len;

    k->none = 0;
    if (f4 >= 0) {
        k->hi = 0;
        k->lo = 0xffff00000000ull | ixd_get32(ixd_record_field(r, (unsigned)f4, &len));
    } else if (f6 >= 0) {
        const uint8_t *v = ixd_record_field(r, (unsigned)f6, &len);
        k->hi = ixd_get64(v);
        k->lo = ixd_get64(v + 8);
    } else {
        k->none = 1;
        return;
    }
    k->slot = cache_slot(k->hi, k->lo);
}

/* What the sources know of k, or all empty. */
static void
look_up(struct enrich_state *st, const struct addrkey *k, struct ixd_addrinfo *out)
{
    /* direct-mapped: traffic repeats its addresses, and a hit costs one line's read */
    struct cached *c = &st->cache[k->slot];
    struct in6_addr a;

    if (k->none) {
        memset(out, 0, sizeof(*out));
        return;
    }
    if (c->used && c->hi == k->hi && c->lo == k->lo) {
        *out = c->info;
        IXD_CNT_ADD(st->hits, 1);
        return;
    }
    ixd_put64(a.s6_addr, k->hi);
    ixd_put64(a.s6_addr + 8, k->lo);
    ixd_addresses_lookup(st->conf->addresses, &a, out);
    c->hi = k->hi;
    c->lo = k->lo;
    c->info = *out;
    c->used = 1;
}

/* The batch's addresses as keys, the cache's lines for them fetched ahead: the cache is about
 * as large as a core's L2, and a batch's misses then wait for memory together rather than one
 * after another. */
static void
prepare_addresses(struct enrich_state *st, const struct ixd_batch *batch)
{
    const struct ixd_template *last = NULL;
    const struct derived *d = NULL;
    size_t i;

    for (i = 0; i < batch->count; i++) {
        const struct ixd_record *r = &batch->records[i];
        struct addrkey *k = &st->keys[2 * i];

        k[0].none = k[1].none = 1;
        if (r->tmpl->scope_count != 0) {
            continue;
        }
        if (r->tmpl != last) {
            last = r->tmpl;
            d = derived_for(st, r->tmpl);
        }
        if (d == NULL || d->tmpl == NULL || !d->addresses) {
            continue;
        }
        key_of(r, d->src4, d->src6, &k[0]);
        key_of(r, d->dst4, d->dst6, &k[1]);
        if (!k[0].none) {
            __builtin_prefetch(&st->cache[k[0].slot]);
        }
        if (!k[1].none) {
            __builtin_prefetch(&st->cache[k[1].slot]);
        }
    }
}

/* Appends the six address strings of src and dst. */
static void
put_address_strings(struct ixd_rebuild *w, const struct ixd_addrinfo *src,
                    const struct ixd_addrinfo *dst)
{
    ixd_rebuild_varlen(w, src->as_name, src->as_name_len);
    ixd_rebuild_varlen(w, dst->as_name, dst->as_name_len);
    ixd_rebuild_varlen(w, src->country, src->country_len);
    ixd_rebuild_varlen(w, dst->country, dst->country_len);
    ixd_rebuild_varlen(w, src->city, src->city_len);
    ixd_rebuild_varlen(w, dst->city, dst->city_len);
}

/* Interface ifindex of table t (of the worker's snapshot), or NULL. Direct-mapped: a
 * record's interfaces are few and repeat, and a hit costs neither the table's hash nor its
 * probes (whose branches a random mix of interfaces mispredicts). */
static inline const struct ixd_ifinfo *
find_interface(struct enrich_state *st, const struct ixd_iftable *t, uint32_t ifindex)
{
    uint32_t h = ((uint32_t)((uintptr_t)t >> 4) ^ ifindex) * 0x9e3779b1u;
    struct ifcached *c = &st->ifcache[h >> (32 - IFCACHE_BITS)];

    if (c->table != t || c->ifindex != ifindex) {
        c->table = t;
        c->ifindex = ifindex;
        c->info = ixd_iftable_find(t, ifindex);
    }
    return c->info;
}

/* The interface of field f of r in the batch's exporter's tables, or NULL. */
static const struct ixd_ifinfo *
interface_of(struct enrich_state *st, const struct ixd_record *r, int f)
{
    const struct ixd_ifinfo *info = NULL;
    const uint8_t *v;
    uint32_t ifindex;
    uint16_t len;

    if (f < 0) {
        return NULL;
    }
    v = ixd_record_field(r, (unsigned)f, &len);
    if (len < 1 || len > 8) {
        return NULL;
    }
    ifindex = (uint32_t)ixd_get_uint(v, len);
    /* the sources in the order tried (follow() leaves the others' NULL) */
    _Static_assert(IXD_IFSOURCES == 2, "one table per source");
    if (st->tables[0] != NULL) {
        info = find_interface(st, st->tables[0], ifindex);
    }
    if (info == NULL && st->tables[1] != NULL) {
        info = find_interface(st, st->tables[1], ifindex);
    }
    return info;
}

/* Appends the interface names, descriptions and speeds of r. */
static void
put_interfaces(struct enrich_state *st, const struct derived *d, const struct ixd_record *r,
               struct ixd_rebuild *w)
{
    const struct ixd_ifinfo *in = interface_of(st, r, d->in_if);
    const struct ixd_ifinfo *out = interface_of(st, r, d->out_if);

    ixd_rebuild_varlen(w, in != NULL ? in->name : "", in != NULL ? in->name_len : 0);
    ixd_rebuild_varlen(w, out != NULL ? out->name : "", out != NULL ? out->name_len : 0);
    ixd_rebuild_varlen(w, in != NULL ? in->description : "", in != NULL ? in->description_len : 0);
    ixd_rebuild_varlen(w, out != NULL ? out->description : "",
                       out != NULL ? out->description_len : 0);
    ixd_rebuild_uint(w, in != NULL ? in->speed : 0, 8);
    ixd_rebuild_uint(w, out != NULL ? out->speed : 0, 8);
    IXD_CNT_ADD(st->named,
                (uint64_t)(in != NULL && in->name_len > 0) + (out != NULL && out->name_len > 0));
}

/* Rebuilds r under d into st's buffer: the offsets and lengths of its fields (aligned), then its
 * bytes. 0, or -1 when it does not fit (r unchanged). */
static int
rebuild(struct enrich_state *st, const struct derived *d, struct ixd_record *r,
        const struct addrkey *keys)
{
    struct ixd_addrinfo src, dst;
    uint16_t n = d->tmpl->field_count;
    size_t at = (st->used + 1) & ~(size_t)1, len;
    struct ixd_rebuild w;

    /* the worst case: the offsets and lengths, the record, what is added */
    if (at + 4u * n + r->length + EXTRA > st->size) {
        return -1;
    }
    ixd_rebuild_start(&w, st->buf + at, n);
    if (ixd_rebuild_copy(&w, r, d->head) == -1) {
        return -1;
    }
    if (d->addresses) {
        look_up(st, &keys[0], &src);
        look_up(st, &keys[1], &dst);
        IXD_CNT_ADD(st->found, (uint64_t)(src.asn != 0 || src.country_len != 0) +
                                   (dst.asn != 0 || dst.country_len != 0));
        if (d->src_as < d->n_source) {
            ixd_rebuild_patch_asn(&w, (uint16_t)d->src_as, src.asn);
        }
        if (d->dst_as < d->n_source) {
            ixd_rebuild_patch_asn(&w, (uint16_t)d->dst_as, dst.asn);
        }
        while (w.i < n && (w.i == d->src_as || w.i == d->dst_as)) {
            ixd_rebuild_uint(&w, w.i == d->src_as ? src.asn : dst.asn, 4);
        }
        put_address_strings(&w, &src, &dst);
    }
    if (d->interfaces) {
        put_interfaces(st, d, r, &w);
    }
    len = ixd_rebuild_length(&w);
    if (len > 65535 || w.i != n) {
        return -1;
    }
    r->tmpl = d->tmpl;
    r->data = w.start;
    r->length = (uint32_t)len;
    r->offsets = w.offs;
    r->lengths = w.lens;
    st->used = (size_t)(w.p - st->buf);
    return 0;
}

/* Options records that name interfaces go into the store: the ifIndex from ingressInterface or
 * egressInterface, interfaceName (82), interfaceDescription (83) where sent. */
static void
learn(struct enrich_state *st, const struct ixd_batch *batch)
{
    struct ixd_ifstore *s = st->conf->ifstore;
    const struct ixd_source *src = batch->source;
    struct in6_addr exporter;
    size_t i;
    int locked = 0;

    ixd_address_mapped((const struct sockaddr *)&src->exporter, &exporter, NULL);
    for (i = 0; i < batch->count; i++) {
        const struct ixd_record *r = &batch->records[i];
        const struct ixd_template *t = r->tmpl;
        int fi, fn, fd;
        uint16_t il, nl, dl = 0;
        const uint8_t *iv, *nv, *dv = NULL;

        if (t->scope_count == 0 || (fn = ixd_template_find(t, 0, 82)) < 0 ||
            ((fi = ixd_template_find(t, 0, 10)) < 0 && (fi = ixd_template_find(t, 0, 14)) < 0)) {
            continue;
        }
        iv = ixd_record_field(r, (unsigned)fi, &il);
        nv = ixd_record_field(r, (unsigned)fn, &nl);
        if ((fd = ixd_template_find(t, 0, 83)) >= 0) {
            dv = ixd_record_field(r, (unsigned)fd, &dl);
        }
        if (il < 1 || il > 8) {
            continue;
        }
        if (!locked) {
            ixd_ifstore_lock(s);
            locked = 1;
        }
        ixd_ifstore_put_locked(s, &exporter, src->odid, IXD_IFSOURCE_OPTIONS,
                               (uint32_t)ixd_get_uint(iv, il), (const char *)nv, nl,
                               dv != NULL ? (const char *)dv : "", dl, 0);
        IXD_CNT_ADD(st->learned, 1);
    }
    if (locked) {
        ixd_ifstore_unlock(s, ixd_mono_now());
    }
}

/* The newest snapshot when the store's version moved, and the batch's exporter's table. */
static void
follow(struct enrich_state *st, const struct ixd_batch *batch)
{
    struct ixd_ifstore *s = st->conf->ifstore;
    struct in6_addr exporter;
    size_t k;

    if (st->snap == NULL || ixd_ifstore_version(s) != st->version) {
        ixd_ifsnap_release(s, st->snap);
        st->snap = ixd_ifstore_snapshot(s, &st->version);
        /* the old snapshot's tables may be gone, their addresses another table's */
        memset(st->ifcache, 0, sizeof(*st->ifcache) << IFCACHE_BITS);
    }
    ixd_address_mapped((const struct sockaddr *)&batch->source->exporter, &exporter, NULL);
    for (k = 0; k < st->conf->n_if_sources; k++) {
        enum ixd_ifsource src = st->conf->if_sources[k];
        /* an agent knows no observation domains: its table is domain 0's */
        st->tables[k] = ixd_ifsnap_table(st->snap, &exporter,
                                         src == IXD_IFSOURCE_SNMP ? 0 : batch->source->odid, src);
    }
}

static void
enrich_process(void *state, struct ixd_batch *batch)
{
    struct enrich_state *st = state;
    const struct ixd_template *last = NULL;
    const struct derived *d = NULL;
    size_t i, kept = 0;

    st->used = 0;
    if (g_hash_table_size(st->derived) >= DERIVED_MAX) {
        /* between batches: no record points at a derived template any more (within one, the
         * records already rebuilt do, so the table grows by at most a batch beyond the bound) */
        g_hash_table_remove_all(st->derived);
    }
    if (st->conf->ifstore != NULL) {
        learn(st, batch);
        follow(st, batch);
    }
    if (st->conf->addresses != NULL) {
        prepare_addresses(st, batch);
    }
    for (i = 0; i < batch->count; i++) {
        /* rebuilt where it is: a copy on the stack cost a stalled reload per record */
        struct ixd_record *r = &batch->records[i];

        if (r->tmpl->scope_count == 0) {
            if (r->tmpl != last) {
                last = r->tmpl;
                d = derived_for(st, r->tmpl);
            }
            if (d == NULL || (d->tmpl != NULL && rebuild(st, d, r, st->keys + 2 * i) == -1)) {
                IXD_CNT_ADD(st->failed, 1); /* no memory, or a record beyond 65535 bytes */
                continue;
            }
            if (d->tmpl != NULL) {
                IXD_CNT_ADD(st->enriched, 1);
            }
        }
        if (kept != i) {
            batch->records[kept] = *r;
        }
        kept++;
    }
    batch->count = kept;
}

static void
enrich_tick(void *state, double now)
{
    struct enrich_state *st = state;

    if (st->conf->ifstore != NULL) {
        ixd_ifstore_tick(st->conf->ifstore, now);
    }
}

static uint64_t
enrich_failed(const void *state)
{
    return IXD_CNT_GET(((const struct enrich_state *)state)->failed);
}

static const struct ixd_counter_def enrich_defs[] = {
    {.key = "enriched",
     .metric = "ipfixd_enrich_records_total",
     .kind = IXD_COUNTER_TOTAL,
     .help = "records the enrich stage rebuilt with what it knows of their addresses and "
             "interfaces"},
    {.key = "addresses_found",
     .metric = "ipfixd_enrich_addresses_found_total",
     .kind = IXD_COUNTER_TOTAL,
     .help = "addresses of those records some address source knew (an AS number or country)"},
    {.key = "interfaces_learned",
     .metric = "ipfixd_enrich_interfaces_learned_total",
     .kind = IXD_COUNTER_TOTAL,
     .help = "options records naming an interface the enrich stage read"},
    {.key = "interfaces_named",
     .metric = "ipfixd_enrich_interfaces_named_total",
     .kind = IXD_COUNTER_TOTAL,
     .help = "ingress and egress interfaces of records the enrich stage gave a name"},
    {.key = "address_cache_hits",
     .metric = "ipfixd_enrich_address_cache_hits_total",
     .kind = IXD_COUNTER_TOTAL,
     .help = "address lookups answered by the worker's cache of recent addresses"},
    {.key = "snmp_walks",
     .metric = "ipfixd_enrich_snmp_walks_total",
     .kind = IXD_COUNTER_TOTAL,
     .help = "complete walks of an SNMP agent's interfaces"},
    {.key = "snmp_failures",
     .metric = "ipfixd_enrich_snmp_failures_total",
     .kind = IXD_COUNTER_TOTAL,
     .help = "walks of an SNMP agent that failed (no answer, an error): its last table stays"},
};

static void
enrich_stats(const void *state, ixd_counter_fn fn, void *arg)
{
    const struct enrich_state *st = state;

    fn(arg, &enrich_defs[0], NULL, IXD_CNT_GET(st->enriched));
    fn(arg, &enrich_defs[1], NULL, IXD_CNT_GET(st->found));
    fn(arg, &enrich_defs[2], NULL, IXD_CNT_GET(st->learned));
    fn(arg, &enrich_defs[3], NULL, IXD_CNT_GET(st->named));
    fn(arg, &enrich_defs[4], NULL, IXD_CNT_GET(st->hits));
    if (st->conf->ifstore != NULL && st->worker == 0) {
        /* the process's interface store (what every stage shares), once: by worker 0 */
        ixd_ifstore_stats(st->conf->ifstore, fn, arg);
    }
    if (st->conf->run != NULL) {
        /* one poller per config: worker 0 reports it, the others 0, so the sum is right */
        uint64_t walks = 0, failures = 0;
        if (st->worker == 0) {
            pthread_mutex_lock(&st->conf->run->lock);
            if (st->conf->run->poller != NULL) {
                ixd_snmp_counts(st->conf->run->poller, &walks, &failures);
            }
            pthread_mutex_unlock(&st->conf->run->lock);
        }
        fn(arg, &enrich_defs[5], NULL, walks);
        fn(arg, &enrich_defs[6], NULL, failures);
    }
}

static void
enrich_stop(void *state)
{
    struct enrich_state *st = state;

    if (st->snap != NULL) {
        ixd_ifsnap_release(st->conf->ifstore, st->snap);
    }
    g_hash_table_destroy(st->derived);
    free(st->ifcache);
    free(st->keys);
    free(st->cache);
    free(st->buf);
    free(st);
}

const struct ixd_stage_type ixd_stage_enrich = {
    .name = "enrich",
    .conf = enrich_conf,
    .conf_free = enrich_conf_free,
    .start = enrich_start,
    .process = enrich_process,
    .tick = enrich_tick,
    .stop = enrich_stop,
    .failed = enrich_failed,
    .on_template = NULL,
    .stats = enrich_stats,
};
