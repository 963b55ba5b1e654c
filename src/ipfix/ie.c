/* The only place besides the reference-decoder tests that talks to libfixbuf's model API. */
#include "ipfix/ie.h"

#include <fixbuf/public.h>
#include <glib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/*
 * One libfixbuf model for the built-in elements and one per XML file, each owning its name
 * strings: a file's own model tells exactly which elements that file defines, so the registry
 * applies files in order (a later definition replaces an earlier one) without depending on how
 * libfixbuf merges a redefinition into a shared model.
 */
struct ie_model {
    fbInfoModel_t *model;
    struct ixd_ie *elements; /* the entries taken from this model */
};

struct ixd_ie_registry {
    struct ie_model *models; /* [0] the built-in elements, then one per file */
    size_t n_models;
    struct ixd_ie *own; /* ipfixd's own elements, or NULL */
    uint32_t own_pen;
    GHashTable *by_number; /* (pen << 16 | id) -> struct ixd_ie */
    GHashTable *by_name;   /* name -> struct ixd_ie */
};

static enum ixd_type
map_type(uint8_t fb_type)
{
    switch (fb_type) {
    case FB_UINT_8:
    case FB_UINT_16:
    case FB_UINT_32:
    case FB_UINT_64:
        return IXD_TYPE_UNSIGNED;
    case FB_INT_8:
    case FB_INT_16:
    case FB_INT_32:
    case FB_INT_64:
        return IXD_TYPE_SIGNED;
    case FB_FLOAT_32:
    case FB_FLOAT_64:
        return IXD_TYPE_FLOAT;
    case FB_BOOL:
        return IXD_TYPE_BOOLEAN;
    case FB_MAC_ADDR:
        return IXD_TYPE_MAC;
    case FB_STRING:
        return IXD_TYPE_STRING;
    case FB_DT_SEC:
        return IXD_TYPE_TIME_SEC;
    case FB_DT_MILSEC:
        return IXD_TYPE_TIME_MSEC;
    case FB_DT_MICROSEC:
        return IXD_TYPE_TIME_USEC;
    case FB_DT_NANOSEC:
        return IXD_TYPE_TIME_NSEC;
    case FB_IP4_ADDR:
        return IXD_TYPE_IPV4;
    case FB_IP6_ADDR:
        return IXD_TYPE_IPV6;
    case FB_BASIC_LIST:
        return IXD_TYPE_BASIC_LIST;
    case FB_SUB_TMPL_LIST:
        return IXD_TYPE_SUBTEMPLATE_LIST;
    case FB_SUB_TMPL_MULTI_LIST:
        return IXD_TYPE_SUBTEMPLATE_MULTILIST;
    default:
        return IXD_TYPE_OCTETS;
    }
}

static gpointer
number_key(uint32_t pen, uint16_t id)
{
    /* 64-bit pointers hold (pen, id) exactly; the registry only builds on LP64 */
    return (gpointer)(uintptr_t)(((uint64_t)pen << 16) | id);
}

/*
 * libfixbuf ships the CERT (PEN 6871) elements that YAF and super_mediator export as an XML
 * file but does not load it into its default model: ipfixd does, when it is installed.
 */
static const char *const builtin_element_files[] = {
    "/usr/share/libfixbuf/cert_ipfix.xml",
    "/usr/local/share/libfixbuf/cert_ipfix.xml",
};

static void
load_builtin_files(fbInfoModel_t *model)
{
    size_t i;

    for (i = 0; i < sizeof(builtin_element_files) / sizeof(builtin_element_files[0]); i++) {
        GError *gerr = NULL;
        if (access(builtin_element_files[i], R_OK) != 0) {
            continue;
        }
        if (fbInfoModelReadXMLFile(model, builtin_element_files[i], &gerr)) {
            return;
        }
        g_clear_error(&gerr);
    }
}

/*
 * libfixbuf reports a record it cannot use (an unknown dataType, a missing name or elementId)
 * with g_warning() and goes on, dropping the record or typing it as octetArray: a typo in a
 * file would silently change the output. The handler keeps the first such message so that the
 * file is refused like a malformed one. Registries are built before any worker starts (and by
 * -t), so swapping the process-wide default handler here races with nothing.
 */
struct xml_warning {
    char message[256];
    int seen;
};

static void
keep_warning(const gchar *domain, GLogLevelFlags level, const gchar *message, gpointer data)
{
    struct xml_warning *w = data;

    if (!w->seen) {
        snprintf(w->message, sizeof(w->message), "%s", message);
        w->seen = 1;
    }
}

/*
 * "FILE:LINE:COL: message" from the two position forms the reader uses, GMarkup's "Error on
 * line L char C: ..." and libfixbuf's "Parse error: (L:C) ..." / "... ending at L:C", so that
 * errors in element files read like errors in the config.
 */
static void
format_xml_error(char *err, size_t errlen, const char *file, const char *msg)
{
    unsigned line, col;
    int used = 0;
    const char *at;

    if (sscanf(msg, "Error on line %u char %u: %n", &line, &col, &used) == 2 && used > 0) {
        snprintf(err, errlen, "%s:%u:%u: %s", file, line, col, msg + used);
    } else if (sscanf(msg, "Parse error: (%u:%u) %n", &line, &col, &used) == 2 && used > 0) {
        snprintf(err, errlen, "%s:%u:%u: %s", file, line, col, msg + used);
    } else if ((at = strstr(msg, " ending at ")) != NULL &&
               sscanf(at, " ending at %u:%u", &line, &col) == 2) {
        snprintf(err, errlen, "%s:%u:%u: %.*s", file, line, col, (int)(at - msg), msg);
    } else {
        snprintf(err, errlen, "%s:0:0: %s", file, msg);
    }
}

/* Reads one XML file into the model; 0, or -1 with "FILE:LINE:COL: message" in err. */
static int
read_xml_file(fbInfoModel_t *model, const char *file, char *err, size_t errlen)
{
    struct xml_warning warning = {.seen = 0};
    GLogFunc previous;
    GError *gerr = NULL;
    gboolean ok;

    previous = g_log_set_default_handler(keep_warning, &warning);
    ok = fbInfoModelReadXMLFile(model, file, &gerr);
    /* ipfixd never installs a default handler of its own: the previous one takes no data */
    (void)g_log_set_default_handler(previous, NULL);
    if (!ok) {
        format_xml_error(err, errlen, file, gerr != NULL ? gerr->message : "unknown error");
        g_clear_error(&gerr);
        return -1;
    }
    if (warning.seen) {
        format_xml_error(err, errlen, file, warning.message);
        return -1;
    }
    return 0;
}

/* When two elements share a name (one vendor element under two ids), the lower (PEN, id) owns
 * the name, so name lookups do not depend on hash-table order. */
static void
index_name(GHashTable *by_name, struct ixd_ie *ie)
{
    const struct ixd_ie *old = g_hash_table_lookup(by_name, ie->name);

    if (old != NULL && (old->pen < ie->pen || (old->pen == ie->pen && old->id < ie->id))) {
        return;
    }
    g_hash_table_insert(by_name, (gpointer)ie->name, ie);
}

/* 1 when the model's element is the one libfixbuf defines by itself, unchanged */
static int
same_as_builtin(fbInfoModel_t *plain, const fbInfoElement_t *e)
{
    const fbInfoElement_t *b = fbInfoModelGetElementByID(plain, e->num, e->ent);

    return b != NULL && strcmp(b->ref.name, e->ref.name) == 0 && b->type == e->type &&
           b->len == e->len;
}

/*
 * Takes the elements of m into the registry. With plain (a file's model), only those the file
 * defines: the ones libfixbuf has by itself stay as the built-in model has them. Later calls
 * replace earlier entries of the same (PEN, id), so later files win.
 */
static int
take_elements(struct ixd_ie_registry *reg, struct ie_model *m, fbInfoModel_t *plain)
{
    fbInfoModelIter_t iter;
    const fbInfoElement_t *e;
    size_t n = fbInfoModelCountElements(m->model), count = 0;

    m->elements = calloc(n + 1, sizeof(*m->elements));
    if (m->elements == NULL) {
        return -1;
    }
    fbInfoModelIterInit(&iter, m->model);
    while ((e = fbInfoModelIterNext(&iter)) != NULL && count < n) {
        struct ixd_ie *ie;

        /* only the element the model finds under its own number counts, once */
        if (fbInfoModelGetElementByID(m->model, e->num, e->ent) != e ||
            (plain != NULL && same_as_builtin(plain, e))) {
            continue;
        }
        ie = &m->elements[count++];
        ie->pen = e->ent;
        ie->id = e->num;
        ie->type = (uint8_t)map_type(e->type);
        ie->length = e->len;
        ie->name = e->ref.name;
        g_hash_table_replace(reg->by_number, number_key(ie->pen, ie->id), ie);
    }
    return 0;
}

struct ixd_ie_registry *
ixd_ie_registry_new(char *const *files, size_t n_files, char *err, size_t errlen)
{
    struct ixd_ie_registry *reg;
    fbInfoModel_t *plain = NULL;
    GHashTableIter iter;
    gpointer value;
    size_t i;

    G_STATIC_ASSERT(sizeof(gpointer) >= 8);
    reg = calloc(1, sizeof(*reg));
    if (reg == NULL || (reg->models = calloc(n_files + 1, sizeof(*reg->models))) == NULL) {
        free(reg);
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    reg->by_number = g_hash_table_new(g_direct_hash, g_direct_equal);
    reg->by_name = g_hash_table_new(g_str_hash, g_str_equal);
    reg->models[0].model = fbInfoModelAlloc();
    reg->n_models = 1;
    load_builtin_files(reg->models[0].model);
    if (take_elements(reg, &reg->models[0], NULL) == -1) {
        goto oom;
    }
    if (n_files > 0) {
        plain = fbInfoModelAlloc();
    }
    for (i = 0; i < n_files; i++) {
        struct ie_model *m = &reg->models[reg->n_models++];
        char where[768];

        m->model = fbInfoModelAlloc();
        if (read_xml_file(m->model, files[i], where, sizeof(where)) == -1) {
            snprintf(err, errlen, "cannot load information elements: %s", where);
            fbInfoModelFree(plain);
            ixd_ie_registry_free(reg);
            return NULL;
        }
        if (take_elements(reg, m, plain) == -1) {
            goto oom;
        }
    }
    if (plain != NULL) {
        fbInfoModelFree(plain);
    }
    g_hash_table_iter_init(&iter, reg->by_number);
    while (g_hash_table_iter_next(&iter, NULL, &value)) {
        index_name(reg->by_name, value);
    }
    return reg;

oom:
    if (plain != NULL) {
        fbInfoModelFree(plain);
    }
    ixd_ie_registry_free(reg);
    snprintf(err, errlen, "out of memory");
    return NULL;
}

void
ixd_ie_registry_free(struct ixd_ie_registry *reg)
{
    size_t i;

    if (reg == NULL) {
        return;
    }
    if (reg->by_number != NULL) {
        g_hash_table_destroy(reg->by_number);
    }
    if (reg->by_name != NULL) {
        g_hash_table_destroy(reg->by_name);
    }
    for (i = 0; i < reg->n_models; i++) {
        free(reg->models[i].elements);
        if (reg->models[i].model != NULL) {
            fbInfoModelFree(reg->models[i].model);
        }
    }
    free(reg->models);
    free(reg->own);
    free(reg);
}

const struct ixd_own_element ixd_own_elements[] = {
    {1, IXD_TYPE_STRING, IXD_VARLEN, 0, 0, "ingressInterfaceName",
     "the name of the ingress interface (ifName), from the exporter's options records or SNMP"},
    {2, IXD_TYPE_STRING, IXD_VARLEN, 0, 0, "egressInterfaceName",
     "the name of the egress interface (ifName), from the exporter's options records or SNMP"},
    {3, IXD_TYPE_STRING, IXD_VARLEN, 0, 0, "ingressInterfaceDescription",
     "the description of the ingress interface (interfaceDescription, or ifAlias by SNMP)"},
    {4, IXD_TYPE_STRING, IXD_VARLEN, 0, 0, "egressInterfaceDescription",
     "the description of the egress interface (interfaceDescription, or ifAlias by SNMP)"},
    {5, IXD_TYPE_UNSIGNED, 8, 1, 0, "ingressInterfaceSpeed",
     "the speed of the ingress interface in bits per second (ifHighSpeed or ifSpeed by SNMP)"},
    {6, IXD_TYPE_UNSIGNED, 8, 1, 0, "egressInterfaceSpeed",
     "the speed of the egress interface in bits per second (ifHighSpeed or ifSpeed by SNMP)"},
    {7, IXD_TYPE_STRING, IXD_VARLEN, 0, 0, "sourceAsName",
     "the name of the autonomous system of the source address"},
    {8, IXD_TYPE_STRING, IXD_VARLEN, 0, 0, "destinationAsName",
     "the name of the autonomous system of the destination address"},
    {9, IXD_TYPE_STRING, IXD_VARLEN, 0, 0, "sourceCountryCode",
     "the ISO 3166-1 alpha-2 code of the country of the source address"},
    {10, IXD_TYPE_STRING, IXD_VARLEN, 0, 0, "destinationCountryCode",
     "the ISO 3166-1 alpha-2 code of the country of the destination address"},
    {11, IXD_TYPE_STRING, IXD_VARLEN, 0, 0, "sourceCityName",
     "the name (in English) of the city of the source address"},
    {12, IXD_TYPE_STRING, IXD_VARLEN, 0, 0, "destinationCityName",
     "the name (in English) of the city of the destination address"},
    /* the flow meter's (docs/meter.md): a tunnel's outer packets, where IANA has no element */
    {13, IXD_TYPE_UNSIGNED, 8, 3, IXD_UNITS_OCTETS, "tunnelOctetDeltaCount",
     "bytes of the outer IP packets that carried the flow's forward packets through a tunnel"},
    {14, IXD_TYPE_UNSIGNED, 8, 3, IXD_UNITS_OCTETS, "reverseTunnelOctetDeltaCount",
     "bytes of the outer IP packets that carried the flow's reverse packets through a tunnel"},
    {15, IXD_TYPE_IPV4, 4, 0, 0, "tunnelSourceIPv4Address",
     "the outer source address of the flow's first packet"},
    {16, IXD_TYPE_IPV4, 4, 0, 0, "tunnelDestinationIPv4Address",
     "the outer destination address of the flow's first packet"},
    {17, IXD_TYPE_IPV6, 16, 0, 0, "tunnelSourceIPv6Address",
     "the outer source address of the flow's first packet"},
    {18, IXD_TYPE_IPV6, 16, 0, 0, "tunnelDestinationIPv6Address",
     "the outer destination address of the flow's first packet"},
};
const size_t ixd_n_own_elements = sizeof(ixd_own_elements) / sizeof(ixd_own_elements[0]);

int
ixd_ie_registry_add_own(struct ixd_ie_registry *reg, uint32_t pen)
{
    size_t i;

    if (reg->own != NULL) {
        return 0;
    }
    reg->own = calloc(ixd_n_own_elements, sizeof(*reg->own));
    if (reg->own == NULL) {
        return -1;
    }
    reg->own_pen = pen;
    for (i = 0; i < ixd_n_own_elements; i++) {
        struct ixd_ie *ie = &reg->own[i];
        ie->pen = pen;
        ie->id = ixd_own_elements[i].id;
        ie->type = ixd_own_elements[i].type;
        ie->length = ixd_own_elements[i].length;
        ie->name = ixd_own_elements[i].name;
        g_hash_table_replace(reg->by_number, number_key(pen, ie->id), ie);
        /* the shipped XML file names them under the default enterprise too: the configured
         * one owns the names */
        g_hash_table_replace(reg->by_name, (gpointer)ie->name, ie);
    }
    return 0;
}

uint32_t
ixd_ie_own_enterprise(const struct ixd_ie_registry *reg)
{
    return reg->own != NULL ? reg->own_pen : 0;
}

const struct ixd_ie *
ixd_ie_lookup(const struct ixd_ie_registry *reg, uint32_t pen, uint16_t id)
{
    return g_hash_table_lookup(reg->by_number, number_key(pen, id));
}

const struct ixd_ie *
ixd_ie_lookup_name(const struct ixd_ie_registry *reg, const char *name)
{
    return g_hash_table_lookup(reg->by_name, name);
}

size_t
ixd_ie_count(const struct ixd_ie_registry *reg)
{
    return g_hash_table_size(reg->by_number);
}

void
ixd_type_lengths(enum ixd_type type, uint16_t *min, uint16_t *max)
{
    *min = 0;
    *max = IXD_VARLEN;
    switch (type) {
    case IXD_TYPE_UNSIGNED:
    case IXD_TYPE_SIGNED:
        *min = 1;
        *max = 8;
        break;
    case IXD_TYPE_FLOAT:
        *min = 4;
        *max = 8;
        break;
    case IXD_TYPE_BOOLEAN:
        *min = *max = 1;
        break;
    case IXD_TYPE_MAC:
        *min = *max = 6;
        break;
    case IXD_TYPE_TIME_SEC:
    case IXD_TYPE_IPV4:
        *min = *max = 4;
        break;
    case IXD_TYPE_TIME_MSEC:
    case IXD_TYPE_TIME_USEC:
    case IXD_TYPE_TIME_NSEC:
        *min = *max = 8;
        break;
    case IXD_TYPE_IPV6:
        *min = *max = 16;
        break;
    default:
        break;
    }
}

const struct ixd_own_element *
ixd_own_element_of(const struct ixd_field *f)
{
    size_t i;

    if (!f->named || f->pen == 0) {
        return NULL;
    }
    for (i = 0; i < ixd_n_own_elements; i++) {
        if (ixd_own_elements[i].id == f->id) {
            return ixd_own_elements[i].name == f->key ? &ixd_own_elements[i] : NULL;
        }
    }
    return NULL;
}
