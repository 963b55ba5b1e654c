/* The only place besides the reference-decoder tests that talks to libfixbuf's model API. */
#include "ipfix/ie.h"

#include <fixbuf/public.h>
#include <glib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct ixd_ie_registry {
    fbInfoModel_t *model;  /* owns the name strings */
    GHashTable *by_number; /* (pen << 16 | id) -> struct ixd_ie */
    GHashTable *by_name;   /* name -> struct ixd_ie */
    struct ixd_ie *elements;
    size_t count;
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

struct ixd_ie_registry *
ixd_ie_registry_new(char *const *files, size_t n_files, char *err, size_t errlen)
{
    struct ixd_ie_registry *reg;
    fbInfoModelIter_t iter;
    const fbInfoElement_t *e;
    size_t i, n;

    G_STATIC_ASSERT(sizeof(gpointer) >= 8);
    reg = calloc(1, sizeof(*reg));
    if (reg == NULL) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    reg->model = fbInfoModelAlloc();
    load_builtin_files(reg->model);
    for (i = 0; i < n_files; i++) {
        GError *gerr = NULL;
        if (!fbInfoModelReadXMLFile(reg->model, files[i], &gerr)) {
            snprintf(err, errlen, "cannot load information elements from %s: %s", files[i],
                     gerr != NULL ? gerr->message : "unknown error");
            g_clear_error(&gerr);
            ixd_ie_registry_free(reg);
            return NULL;
        }
    }
    n = fbInfoModelCountElements(reg->model);
    reg->elements = calloc(n + 1, sizeof(*reg->elements));
    reg->by_number = g_hash_table_new(g_direct_hash, g_direct_equal);
    reg->by_name = g_hash_table_new(g_str_hash, g_str_equal);
    if (reg->elements == NULL) {
        snprintf(err, errlen, "out of memory");
        ixd_ie_registry_free(reg);
        return NULL;
    }
    fbInfoModelIterInit(&iter, reg->model);
    while ((e = fbInfoModelIterNext(&iter)) != NULL && reg->count < n) {
        struct ixd_ie *ie;
        gpointer key = number_key(e->ent, e->num);

        /* the model's hash holds each element under several keys: keep one entry each */
        if (g_hash_table_contains(reg->by_number, key)) {
            continue;
        }
        ie = &reg->elements[reg->count++];
        ie->pen = e->ent;
        ie->id = e->num;
        ie->type = (uint8_t)map_type(e->type);
        ie->length = e->len;
        ie->name = e->ref.name;
        g_hash_table_insert(reg->by_number, key, ie);
        g_hash_table_insert(reg->by_name, (gpointer)ie->name, ie);
    }
    return reg;
}

void
ixd_ie_registry_free(struct ixd_ie_registry *reg)
{
    if (reg == NULL) {
        return;
    }
    if (reg->by_number != NULL) {
        g_hash_table_destroy(reg->by_number);
    }
    if (reg->by_name != NULL) {
        g_hash_table_destroy(reg->by_name);
    }
    free(reg->elements);
    if (reg->model != NULL) {
        fbInfoModelFree(reg->model);
    }
    free(reg);
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
    return reg->count;
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
