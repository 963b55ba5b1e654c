/*
 * keepalived's include file as ipfixd's API offers it (docs/ha.md#keepalived-over-rest): VRRP
 * instances and LVS virtual servers, nothing else. Pure: no file, socket, process or clock.
 * ipfixd (the API) and ipfixd-keepalived-apply (the root helper that writes the file) both use
 * it, each in its own process: the helper never trusts that ipfixd checked what it sends.
 *
 *   text  --ixd_ka_parse-->    JSON model, as GET shows it (lenient; warnings for the rest)
 *   JSON  --ixd_ka_check-->    struct ixd_ka_model (strict: every field, or the one at fault)
 *   model --ixd_ka_render-->   keepalived text (only from a checked model)
 *   model --ixd_ka_to_json-->  the model as JSON again, normalised (what goes to the helper)
 *
 * Any thread; nothing here keeps state between calls.
 */
#ifndef IXD_HA_KEEPALIVED_MODEL_H
#define IXD_HA_KEEPALIVED_MODEL_H

#include <jansson.h>
#include <net/if.h>
#include <stddef.h>
#include <stdint.h>

#define IXD_KA_INSTANCES_MAX 64
#define IXD_KA_VIPS_MAX 64
#define IXD_KA_PEERS_MAX 32
#define IXD_KA_TRACKS_MAX 16
#define IXD_KA_SERVERS_MAX 64
#define IXD_KA_REALS_MAX 64
#define IXD_KA_NAME_MAX 64         /* instance and vrrp_script names */
#define IXD_KA_SCRIPT_MAX 255      /* a notify script's path */
#define IXD_KA_USER_MAX 32         /* a user or group name a script runs as */
#define IXD_KA_TEXT_MAX (1u << 20) /* the largest include file parsed */

/* The notify keys, in the order they are rendered. */
enum ixd_ka_notify {
    IXD_KA_NOTIFY_MASTER,
    IXD_KA_NOTIFY_BACKUP,
    IXD_KA_NOTIFY_FAULT,
    IXD_KA_NOTIFY_STOP,
    IXD_KA_NOTIFY_ANY, /* "notify": keepalived appends its own four arguments */
    IXD_KA_NOTIFY_N,
};

/* An address as checked: its text (as it is rendered) and its value. */
struct ixd_ka_addr {
    char text[48]; /* "10.0.0.1", "2001:db8::1/64" */
    int family;    /* AF_INET or AF_INET6 */
    uint8_t bytes[16];
    int prefix; /* the /prefix written, or -1 (keepalived then takes a host address) */
};

struct ixd_ka_vip {
    struct ixd_ka_addr addr;
    char dev[IF_NAMESIZE]; /* "" = the instance's interface */
};

struct ixd_ka_instance {
    char name[IXD_KA_NAME_MAX + 1];
    int master; /* state MASTER; BACKUP otherwise */
    char interface[IF_NAMESIZE];
    int vrid;      /* 1..255 */
    int priority;  /* 1..254 */
    int advert_cs; /* advert_int in hundredths of a second; 0 = not written (keepalived's) */
    int nopreempt;
    int has_src;
    struct ixd_ka_addr src; /* unicast_src_ip */
    size_t n_peers;
    struct ixd_ka_addr peers[IXD_KA_PEERS_MAX];
    size_t n_vips;
    struct ixd_ka_vip vips[IXD_KA_VIPS_MAX];
    size_t n_tracks;
    char tracks[IXD_KA_TRACKS_MAX][IXD_KA_NAME_MAX + 1];
    char notify[IXD_KA_NOTIFY_N][IXD_KA_SCRIPT_MAX + 1]; /* the script alone; "" = none */
    /* whom keepalived runs each script as ("root root"): set from the helper's policy
     * (ixd_ka_policy_check), never from JSON; "" = keepalived's script_user */
    char notify_as[IXD_KA_NOTIFY_N][2 * IXD_KA_USER_MAX + 2];
};

struct ixd_ka_real {
    struct ixd_ka_addr addr;
    int port;
    int weight;
    int tcp_check; /* a TCP_CHECK block, with these when not 0: */
    int connect_timeout;
    int connect_port;
};

struct ixd_ka_server {
    struct ixd_ka_addr addr;
    int port;
    const char *protocol; /* static strings: "UDP", "rr", "DR" when not given */
    const char *lvs_sched;
    const char *lb_kind;
    int persistence_timeout; /* 0 = not written */
    int delay_loop;          /* 0 = not written */
    size_t n_reals;
    struct ixd_ka_real reals[IXD_KA_REALS_MAX];
};

/* A checked model. Heap-allocated arrays, sized to what the JSON held; ixd_ka_model_release. */
struct ixd_ka_model {
    size_t n_instances;
    struct ixd_ka_instance *instances;
    size_t n_servers;
    struct ixd_ka_server *servers;
};

/* Why a model is refused: the field at fault as a JSON path ("instances[0].priority"; "" for
 * the whole) and a sentence. */
struct ixd_ka_error {
    char field[128];
    char why[384];
};

/*
 * Checks json (a PUT body, or what ipfixd sent the helper) field by field into model, which
 * the caller zeroed. The keys "warnings" and "_links" of a GET answer are accepted and ignored;
 * any other key that is not in the model is refused, global_defs, vrrp_script and their kin
 * with a sentence of their own. 0, or -1 with err (model then holds nothing to release).
 */
int ixd_ka_check(const json_t *json, struct ixd_ka_model *model, struct ixd_ka_error *err);

void ixd_ka_model_release(struct ixd_ka_model *model);

/* The model as JSON, in the form ixd_ka_check takes and ixd_ka_parse gives. NULL: no memory. */
json_t *ixd_ka_to_json(const struct ixd_ka_model *model);

/*
 * The include file of a checked model, NUL-terminated, malloc'd (the caller frees it), or NULL
 * when out of memory. Every word comes from a checked field, so nothing a client wrote can
 * open a block, end a line or quote.
 */
char *ixd_ka_render(const struct ixd_ka_model *model, size_t *len);

/*
 * The model of an include file's text: {"instances": [...], "virtual_servers": [...],
 * "warnings": [...]}. Lenient, for reading: what the model does not cover becomes a warning (a
 * PUT drops it), and a file that cannot be read as keepalived's syntax (a block not closed, a
 * word that is not UTF-8 or holds a control character) gives empty lists and a warning with its
 * line. Never NULL but when out of memory.
 */
json_t *ixd_ka_parse(const char *text, size_t len);

/* "notify_master" for IXD_KA_NOTIFY_MASTER, and so on. */
const char *ixd_ka_notify_key(enum ixd_ka_notify n);

#endif
