/* ---- ha: template sharing between two peers (docs/internals/ha.md) */
#include <stdio.h>
#include <string.h>
#include <yaml.h>

#include "core/config.h"
#include "core/config_internal.h"
#include "core/parse.h"

/* "HOST:PORT" or "[V6]:PORT" with a numeric address (a peer must be reachable without DNS). */
static int
ha_address(struct walk *w, yaml_node_t *v, const char *what, int need_host, char *text,
           size_t textlen, struct sockaddr_storage *addr, socklen_t *addrlen)
{
    struct ixd_listen_addr tmp;
    const char *s;
    char msg[256];

    if (ixd_cfg_want_scalar(w, v, what, &s) == -1) {
        return -1;
    }
    memset(&tmp, 0, sizeof(tmp));
    if (ixd_listen_addr_parse(s, &tmp, msg, sizeof(msg)) == -1) {
        return ixd_cfg_fail(w, v, "%s must be IPV4:PORT or [IPV6]:PORT: %s", what, msg);
    }
    if (need_host && tmp.any) {
        return ixd_cfg_fail(w, v, "%s needs an address, not '%s'", what, s);
    }
    if (strlen(s) >= textlen) {
        return ixd_cfg_fail(w, v, "%s is too long", what);
    }
    snprintf(text, textlen, "%s", s);
    *addr = tmp.addr;
    *addrlen = tmp.addrlen;
    return 0;
}

/* "100ms", "1s", "2" (seconds): the share interval is below a second. */
static int
ha_interval(struct walk *w, yaml_node_t *v, uint32_t *ms)
{
    const char *s;
    char digits[32];
    uint64_t n;
    size_t len;
    int millis = 0;

    if (ixd_cfg_want_scalar(w, v, "ha.share-interval", &s) == -1) {
        return -1;
    }
    len = strlen(s);
    if (len > 2 && strcmp(s + len - 2, "ms") == 0) {
        millis = 1;
        len -= 2;
    } else if (len > 1 && s[len - 1] == 's') {
        len -= 1;
    }
    if (len == 0 || len >= sizeof(digits)) {
        goto bad;
    }
    memcpy(digits, s, len);
    digits[len] = '\0';
    if (ixd_parse_u64(digits, &n) == -1 || n > 60000) {
        goto bad;
    }
    n = millis ? n : n * 1000;
    if (n < 10 || n > 60000) {
        goto bad;
    }
    *ms = (uint32_t)n;
    return 0;
bad:
    return ixd_cfg_fail(
        w, v, "ha.share-interval must be from 10ms to 60s (such as 100ms or 1s), not '%s'", s);
}

/* ---- ha.keepalived (docs/ha.md#keepalived-over-rest) */

static int
ka_path(struct walk *w, yaml_node_t *v, const char *what, char *dst, size_t dstlen)
{
    const char *s;

    if (ixd_cfg_want_scalar(w, v, what, &s) == -1) {
        return -1;
    }
    if (s[0] != '/' || strlen(s) >= dstlen || strstr(s, "/../") != NULL) {
        return ixd_cfg_fail(w, v, "%s must be an absolute path, not '%s'", what, s);
    }
    snprintf(dst, dstlen, "%s", s);
    return 0;
}

/* The keys ipfixd once had for writing keepalived's files itself: the helper's policy has them. */
static const char *const ka_moved[] = {
    "keepalived-bin", "reload", "reload-pid-file", "backup-dir", "scripts-dir",
    "check-timeout",  NULL};

/* ha.keepalived as it is parsed: the nodes of the keys checked once all are read. */
struct ka_walk {
    struct ixd_config_keepalived *ka;
    yaml_node_t *helper, *audit_log;
};

static int
ka_key(struct walk *w, const char *key, yaml_node_t *k, yaml_node_t *v, void *ctx)
{
    struct ka_walk *kw = ctx;
    struct ixd_config_keepalived *ka = kw->ka;

    if (strcmp(key, "config") == 0) {
        /* shown, not read: the helper reads it, and it may well be root's alone */
        return ka_path(w, v, "ha.keepalived.config", ka->config, sizeof(ka->config));
    }
    if (strcmp(key, "include") == 0) {
        return ka_path(w, v, "ha.keepalived.include", ka->include, sizeof(ka->include));
    }
    if (strcmp(key, "state-file") == 0) {
        return ka_path(w, v, "ha.keepalived.state-file", ka->state_file, sizeof(ka->state_file));
    }
    if (strcmp(key, "manage") == 0) {
        return ixd_cfg_get_bool(w, v, "ha.keepalived.manage", &ka->manage);
    }
    if (strcmp(key, "helper") == 0) {
        kw->helper = v;
        return ka_path(w, v, "ha.keepalived.helper", ka->helper, sizeof(ka->helper));
    }
    if (strcmp(key, "helper-timeout") == 0) {
        return ixd_cfg_get_duration(w, v, "ha.keepalived.helper-timeout", &ka->helper_timeout);
    }
    if (strcmp(key, "audit-log") == 0) {
        kw->audit_log = v;
        return ka_path(w, v, "ha.keepalived.audit-log", ka->audit_log, sizeof(ka->audit_log));
    }
    for (size_t i = 0; ka_moved[i] != NULL; i++) {
        if (strcmp(key, ka_moved[i]) == 0) {
            return ixd_cfg_fail(w, k,
                                "ha.keepalived.%s is the helper's now: ipfixd no longer writes "
                                "keepalived's files; set it in the policy of "
                                "ipfixd-keepalived-apply (docs/ha.md#the-helper)",
                                key);
        }
    }
    return ixd_cfg_fail(w, k,
                        "unknown key '%s' in ha.keepalived (known: config, include, state-file, "
                        "manage, helper, helper-timeout, audit-log)",
                        key);
}

static int
ka_parse(struct walk *w, yaml_node_t *v, struct ixd_config_keepalived *ka)
{
    struct ka_walk kw = {ka, NULL, NULL};

    memset(ka, 0, sizeof(*ka));
    ka->helper_timeout = 60;
    if (ixd_cfg_want_mapping(w, v, "ha.keepalived") == -1 ||
        ixd_cfg_each_key(w, v, ka_key, &kw) == -1) {
        return -1;
    }
    if (ka->config[0] == '\0' || ka->include[0] == '\0') {
        return ixd_cfg_fail(w, v, "ha.keepalived needs config and include");
    }
    if (strcmp(ka->config, ka->include) == 0) {
        return ixd_cfg_fail(w, v,
                            "ha.keepalived.include must be its own file, included by config: "
                            "keepalived.conf itself is never changed");
    }
    if (ka->helper_timeout == 0 || ka->helper_timeout > 900) {
        return ixd_cfg_fail(w, v, "ha.keepalived.helper-timeout must be from 1s to 15m");
    }
    /*
     * Changes go through the root helper, never through a file ipfixd writes: without the helper
     * there is no way to make them, and the config says so rather than fall back.
     */
    if (ka->manage && ka->helper[0] == '\0') {
        return ixd_cfg_fail(w, v,
                            "ha.keepalived.manage: true needs helper, the socket of "
                            "ipfixd-keepalived-apply (docs/ha.md#the-helper): ipfixd makes no "
                            "change to keepalived's files itself");
    }
    if (ka->manage && ka->audit_log[0] == '\0') {
        return ixd_cfg_fail(w, v, "ha.keepalived.manage: true needs audit-log");
    }
    if (ka->manage && (ixd_cfg_note_file(w, kw.helper, IXD_FILE_SOCKET, "ha.keepalived.helper",
                                         ka->helper) == -1 ||
                       ixd_cfg_note_file(w, kw.audit_log, IXD_FILE_WRITE, "ha.keepalived.audit-log",
                                         ka->audit_log) == -1)) {
        return -1;
    }
    ka->enabled = 1;
    return 0;
}

static int
ha_key(struct walk *w, const char *key, yaml_node_t *k, yaml_node_t *v, void *ctx)
{
    struct ixd_config_ha *ha = ctx;
    const char *s;

    if (strcmp(key, "listen") == 0) {
        return ha_address(w, v, "ha.listen", 0, ha->listen, sizeof(ha->listen), &ha->listen_addr,
                          &ha->listen_addrlen);
    }
    if (strcmp(key, "peer") == 0) {
        return ha_address(w, v, "ha.peer", 1, ha->peer, sizeof(ha->peer), &ha->peer_addr,
                          &ha->peer_addrlen);
    }
    if (strcmp(key, "key-file") == 0) {
        if (ixd_cfg_want_scalar(w, v, "ha.key-file", &s) == -1) {
            return -1;
        }
        if (s[0] != '/' || strlen(s) >= sizeof(ha->key_file)) {
            return ixd_cfg_fail(w, v, "ha.key-file must be an absolute path, not '%s'", s);
        }
        snprintf(ha->key_file, sizeof(ha->key_file), "%s", s);
        return ixd_cfg_note_secret(w, v, "ha.key-file", ha->key_file, IXD_HA_KEY_MIN,
                                   IXD_HA_KEY_MAX);
    }
    if (strcmp(key, "share-interval") == 0) {
        return ha_interval(w, v, &ha->share_interval_ms);
    }
    if (strcmp(key, "keepalived") == 0) {
        return ka_parse(w, v, &w->cfg->api.keepalived);
    }
    return ixd_cfg_fail(
        w, k, "unknown key '%s' in ha (known: listen, peer, key-file, share-interval, keepalived)",
        key);
}

int
ixd_cfg_parse_ha(struct walk *w, yaml_node_t *v)
{
    struct ixd_config_ha *ha = &w->cfg->ha;
    const char *s = ixd_cfg_scalar(v);

    if ((s != NULL && s[0] == '\0') || (v->type == YAML_MAPPING_NODE &&
                                        v->data.mapping.pairs.top == v->data.mapping.pairs.start)) {
        return 0; /* "ha:" alone: no peer */
    }
    ha->share_interval_ms = 100;
    if (ixd_cfg_want_mapping(w, v, "ha") == -1 || ixd_cfg_each_key(w, v, ha_key, ha) == -1) {
        return -1;
    }
    if (ha->listen[0] == '\0' && ha->peer[0] == '\0' && ha->key_file[0] == '\0' &&
        w->cfg->api.keepalived.enabled) {
        return 0; /* keepalived alone: no template sharing with a peer */
    }
    if (ha->listen[0] == '\0' || ha->peer[0] == '\0' || ha->key_file[0] == '\0') {
        return ixd_cfg_fail(w, v, "ha needs listen, peer and key-file");
    }
    ha->enabled = 1;
    return 0;
}

int
ixd_config_ha_same(const struct ixd_config_ha *a, const struct ixd_config_ha *b)
{
    return a->enabled == b->enabled && strcmp(a->listen, b->listen) == 0 &&
           strcmp(a->peer, b->peer) == 0 && strcmp(a->key_file, b->key_file) == 0 &&
           a->share_interval_ms == b->share_interval_ms;
}
