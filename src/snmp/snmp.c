/*
 * net-snmp's single-session API (snmp_sess_*) is the thread-safe one; init_snmp() is not, so
 * it runs once per process under a lock. ipfixd reads no net-snmp config files and loads no
 * MIBs: OIDs are numeric.
 */
#include "snmp/snmp.h"

#include <glib.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <net-snmp/net-snmp-config.h>
#include <net-snmp/net-snmp-includes.h>

#include "core/clock.h"
#include "core/relaxed_counter.h"

#define TIMEOUT_USEC 1000000
#define RETRIES 1
#define WALK_MAX 65536 /* rows of one column: an agent that goes on is cut here */

/* IF-MIB columns: ifName, ifAlias (ifXTable), ifHighSpeed (Mbit/s), ifSpeed (bit/s) */
enum column { COL_NAME, COL_ALIAS, COL_HIGH_SPEED, COL_SPEED, N_COLUMNS };
static const oid columns[N_COLUMNS][11] = {
    {1, 3, 6, 1, 2, 1, 31, 1, 1, 1, 1},
    {1, 3, 6, 1, 2, 1, 31, 1, 1, 1, 18},
    {1, 3, 6, 1, 2, 1, 31, 1, 1, 1, 15},
    {1, 3, 6, 1, 2, 1, 2, 2, 1, 5, 0}, /* 10 sub-identifiers */
};
static const size_t column_len[N_COLUMNS] = {11, 11, 11, 10};

struct row {
    char name[IXD_IFSTRING_MAX + 1], alias[IXD_IFSTRING_MAX + 1];
    size_t name_len, alias_len;
    uint64_t high_speed, speed;
};

struct ixd_snmp_poller {
    struct ixd_ifstore *store;
    struct ixd_snmp_agent *agents;
    size_t n;
    double interval;
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t wake;
    int stop;
    uint64_t walks, failures;
};

static pthread_mutex_t init_lock = PTHREAD_MUTEX_INITIALIZER;
static int initialised;

static void
init_once(void)
{
    pthread_mutex_lock(&init_lock);
    if (!initialised) {
        netsnmp_ds_set_boolean(NETSNMP_DS_LIBRARY_ID, NETSNMP_DS_LIB_DONT_READ_CONFIGS, 1);
        netsnmp_ds_set_boolean(NETSNMP_DS_LIBRARY_ID, NETSNMP_DS_LIB_DISABLE_PERSISTENT_LOAD, 1);
        netsnmp_ds_set_boolean(NETSNMP_DS_LIBRARY_ID, NETSNMP_DS_LIB_DISABLE_PERSISTENT_SAVE, 1);
        netsnmp_ds_set_int(NETSNMP_DS_LIBRARY_ID, NETSNMP_DS_LIB_MIB_ERRORS, 0);
        setenv("MIBS", "", 1); /* numeric OIDs only: no MIB files read */
        init_snmp("ipfixd");
        initialised = 1;
    }
    pthread_mutex_unlock(&init_lock);
}

static struct row *
row_get(GHashTable *rows, uint32_t ifindex)
{
    struct row *r = g_hash_table_lookup(rows, GUINT_TO_POINTER(ifindex));

    if (r == NULL && g_hash_table_size(rows) < WALK_MAX) {
        r = calloc(1, sizeof(*r));
        if (r != NULL) {
            g_hash_table_insert(rows, GUINT_TO_POINTER(ifindex), r);
        }
    }
    return r;
}

/* Keeps one varbind of column c (its last sub-identifier is the ifIndex). */
static void
keep(GHashTable *rows, enum column c, const netsnmp_variable_list *v)
{
    struct row *r = row_get(rows, (uint32_t)v->name[v->name_length - 1]);
    size_t n;

    if (r == NULL) {
        return;
    }
    if ((c == COL_NAME || c == COL_ALIAS) && v->type == ASN_OCTET_STR) {
        n = v->val_len < IXD_IFSTRING_MAX ? v->val_len : IXD_IFSTRING_MAX;
        memcpy(c == COL_NAME ? r->name : r->alias, v->val.string, n);
        *(c == COL_NAME ? &r->name_len : &r->alias_len) = n;
    } else if (c == COL_HIGH_SPEED && (v->type == ASN_GAUGE || v->type == ASN_INTEGER)) {
        r->high_speed = (uint64_t)*v->val.integer & 0xffffffffu;
    } else if (c == COL_SPEED && (v->type == ASN_GAUGE || v->type == ASN_INTEGER)) {
        r->speed = (uint64_t)*v->val.integer & 0xffffffffu;
    }
}

/* Walks column c with GETNEXT; 0, or -1 when the agent did not answer or said an error. */
static int
walk(void *sess, enum column c, GHashTable *rows, const int *stop)
{
    oid at[MAX_OID_LEN];
    size_t at_len = column_len[c], n;

    memcpy(at, columns[c], at_len * sizeof(oid));
    for (n = 0; n < WALK_MAX && !__atomic_load_n(stop, __ATOMIC_RELAXED); n++) {
        netsnmp_pdu *pdu = snmp_pdu_create(SNMP_MSG_GETNEXT), *resp = NULL;
        const netsnmp_variable_list *v;
        int status;

        snmp_add_null_var(pdu, at, at_len);
        status = snmp_sess_synch_response(sess, pdu, &resp);
        if (status != STAT_SUCCESS || resp == NULL || resp->errstat != SNMP_ERR_NOERROR) {
            if (resp != NULL) {
                snmp_free_pdu(resp);
            }
            return -1;
        }
        v = resp->variables;
        if (v == NULL || v->name_length != column_len[c] + 1 ||
            netsnmp_oid_is_subtree(columns[c], column_len[c], v->name, v->name_length) != 0 ||
            v->type == SNMP_ENDOFMIBVIEW || v->type == SNMP_NOSUCHOBJECT ||
            v->type == SNMP_NOSUCHINSTANCE) {
            snmp_free_pdu(resp);
            return 0; /* past the column: done */
        }
        keep(rows, c, v);
        memcpy(at, v->name, v->name_length * sizeof(oid));
        at_len = v->name_length;
        snmp_free_pdu(resp);
    }
    return 0;
}

/* Replaces the agent's table in the store with rows. */
static void
publish_rows(struct ixd_snmp_poller *p, const struct ixd_snmp_agent *a, GHashTable *rows)
{
    GHashTableIter it;
    gpointer k, v;

    ixd_ifstore_lock(p->store);
    ixd_ifstore_clear_locked(p->store, &a->exporter, 0, IXD_IFSOURCE_SNMP);
    g_hash_table_iter_init(&it, rows);
    while (g_hash_table_iter_next(&it, &k, &v)) {
        const struct row *r = v;
        uint64_t speed = r->high_speed != 0 ? r->high_speed * 1000000u : r->speed;
        ixd_ifstore_put_locked(p->store, &a->exporter, 0, IXD_IFSOURCE_SNMP, GPOINTER_TO_UINT(k),
                               r->name, r->name_len, r->alias, r->alias_len, speed);
    }
    ixd_ifstore_unlock(p->store, ixd_mono_now());
}

/* The session's version and credentials: v2c's community, or v3's user and the keys made from
 * its passphrases. 0, or -1 when a key cannot be made. */
static int
session_keys(netsnmp_session *s, const struct ixd_snmp_agent *a)
{
    if (a->version != 3) {
        s->version = SNMP_VERSION_2c;
        s->community = (u_char *)a->community;
        s->community_len = strlen(a->community);
        return 0;
    }
    s->version = SNMP_VERSION_3;
    s->securityName = (char *)a->user;
    s->securityNameLen = strlen(a->user);
    s->securityLevel = a->priv[0] != '\0' ? SNMP_SEC_LEVEL_AUTHPRIV : SNMP_SEC_LEVEL_AUTHNOPRIV;
    s->securityAuthProto = usmHMACSHA1AuthProtocol;
    s->securityAuthProtoLen = sizeof(usmHMACSHA1AuthProtocol) / sizeof(oid);
    s->securityAuthKeyLen = USM_AUTH_KU_LEN;
    if (generate_Ku(s->securityAuthProto, (u_int)s->securityAuthProtoLen, (const u_char *)a->auth,
                    strlen(a->auth), s->securityAuthKey,
                    &s->securityAuthKeyLen) != SNMPERR_SUCCESS) {
        return -1;
    }
    if (a->priv[0] != '\0') {
        s->securityPrivProto = usmAESPrivProtocol;
        s->securityPrivProtoLen = sizeof(usmAESPrivProtocol) / sizeof(oid);
        s->securityPrivKeyLen = USM_PRIV_KU_LEN;
        if (generate_Ku(s->securityAuthProto, (u_int)s->securityAuthProtoLen,
                        (const u_char *)a->priv, strlen(a->priv), s->securityPrivKey,
                        &s->securityPrivKeyLen) != SNMPERR_SUCCESS) {
            return -1;
        }
    }
    return 0;
}

/* One walk of agent a's four columns; the table is replaced only when all came. */
static void
poll_agent(struct ixd_snmp_poller *p, const struct ixd_snmp_agent *a)
{
    netsnmp_session s;
    void *sess;
    GHashTable *rows = g_hash_table_new_full(g_direct_hash, g_direct_equal, NULL, free);
    int c, ok = 1;

    snmp_sess_init(&s);
    s.peername = (char *)a->peer;
    s.timeout = TIMEOUT_USEC;
    s.retries = RETRIES;
    sess = session_keys(&s, a) == 0 ? snmp_sess_open(&s) : NULL;
    for (c = 0; sess != NULL && c < N_COLUMNS && ok; c++) {
        /* ifAlias and the speeds may be missing from a view: ifName is what must come */
        ok = walk(sess, (enum column)c, rows, &p->stop) == 0 || c != COL_NAME;
    }
    if (sess != NULL && ok && !__atomic_load_n(&p->stop, __ATOMIC_RELAXED)) {
        publish_rows(p, a, rows);
        IXD_CNT_ADD(p->walks, 1);
    } else {
        IXD_CNT_ADD(p->failures, 1);
    }
    if (sess != NULL) {
        snmp_sess_close(sess);
    }
    g_hash_table_destroy(rows);
}

static void *
poller_main(void *arg)
{
    struct ixd_snmp_poller *p = arg;

    for (;;) {
        struct timespec until;
        size_t i;

        for (i = 0; i < p->n && !__atomic_load_n(&p->stop, __ATOMIC_RELAXED); i++) {
            poll_agent(p, &p->agents[i]);
        }
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_sec += (time_t)p->interval;
        pthread_mutex_lock(&p->lock);
        while (!p->stop && pthread_cond_timedwait(&p->wake, &p->lock, &until) == 0) {
        }
        if (p->stop) {
            pthread_mutex_unlock(&p->lock);
            return NULL;
        }
        pthread_mutex_unlock(&p->lock);
    }
}

struct ixd_snmp_poller *
ixd_snmp_start(struct ixd_ifstore *s, const struct ixd_snmp_agent *agents, size_t n,
               double interval, char *err, size_t errlen)
{
    struct ixd_snmp_poller *p = calloc(1, sizeof(*p));

    if (p == NULL || (p->agents = calloc(n, sizeof(*agents))) == NULL) {
        free(p);
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    init_once();
    memcpy(p->agents, agents, n * sizeof(*agents));
    p->n = n;
    p->store = s;
    p->interval = interval;
    pthread_mutex_init(&p->lock, NULL);
    pthread_cond_init(&p->wake, NULL);
    if (pthread_create(&p->thread, NULL, poller_main, p) != 0) {
        snprintf(err, errlen, "cannot start the snmp thread");
        free(p->agents);
        free(p);
        return NULL;
    }
    return p;
}

void
ixd_snmp_stop(struct ixd_snmp_poller *p)
{
    if (p == NULL) {
        return;
    }
    pthread_mutex_lock(&p->lock);
    __atomic_store_n(&p->stop, 1, __ATOMIC_RELAXED);
    pthread_cond_signal(&p->wake);
    pthread_mutex_unlock(&p->lock);
    pthread_join(p->thread, NULL);
    pthread_mutex_destroy(&p->lock);
    pthread_cond_destroy(&p->wake);
    free(p->agents);
    free(p);
}

void
ixd_snmp_counts(const struct ixd_snmp_poller *p, uint64_t *walks, uint64_t *failures)
{
    *walks = IXD_CNT_GET(p->walks);
    *failures = IXD_CNT_GET(p->failures);
}
