/*
 * The configuration: parsed from YAML (or built in), validated as a whole, then immutable.
 * Only the control thread parses; workers read a config they were handed and never change it.
 */
#ifndef IXD_CORE_CONFIG_H
#define IXD_CORE_CONFIG_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>

#include "core/address.h"
#include "core/cnode.h"

#include "core/log.h"

#define IXD_NAME_MAX 64
#define IXD_PATH_MAX 4096
#define IXD_DEFAULT_STATE_DIRECTORY "/var/lib/ipfixd"
/* The enterprise number of ipfixd's own elements (what enrichment adds) unless
 * elements.enterprise says otherwise: RFC 5612's number for documentation, which no vendor's
 * elements use; an operator exporting beyond their own network sets their organisation's. */
#define IXD_OWN_ENTERPRISE_DEFAULT 32473

/* The vendor element files (config/elements) as installed, and in the source tree for runs
 * from a build tree; CMake defines both. */
#ifndef IXD_ELEMENTS_DIR
#define IXD_ELEMENTS_DIR "/usr/local/share/ipfixd/elements"
#endif
#ifndef IXD_SOURCE_ELEMENTS_DIR
#define IXD_SOURCE_ELEMENTS_DIR ""
#endif

/* Destinations are few and kept inline, so the output config stays a plain copyable value. */
#define IXD_EXPORT_DEST_MAX 8

struct ixd_export_dest {
    char text[128]; /* as written, for messages and counters */
    struct sockaddr_storage addr;
    socklen_t addrlen;
};

struct ixd_prefix;

/*
 * A collector or an output as the config writes it: its name and type (a collector's
 * `transport:`, an output's `type:`), and the rest of its mapping as written, for its type to
 * read (include/ipfixd/input.h and output.h, src/registry/).
 */
struct ixd_config_module {
    char name[IXD_NAME_MAX];
    char type[32];
    unsigned line, column;           /* of the mapping */
    unsigned type_line, type_column; /* of its type (of the mapping when the type is implied) */
    struct ixd_cnode settings;       /* a mapping: every key but name and the type's */
};

/* Exporters in prefix sample 1 in rate packets (when they do not say so themselves). */
struct ixd_sampling_rule {
    struct ixd_prefix prefix;
    uint32_t rate;
};

/* One stage of a pipeline: its type and its settings, checked by src/pipeline/. */
struct ixd_config_stage {
    char type[32];
    unsigned line, column; /* of the type's key */
    struct ixd_cnode settings;
};

struct ixd_config_pipeline {
    char name[IXD_NAME_MAX];
    size_t n_from;
    int *from; /* indices into collectors */
    size_t n_to;
    int *to; /* indices into outputs */
    size_t n_stages;
    struct ixd_config_stage *stages; /* in order */
};

/* Per collector (totals are shared out evenly between workers). docs/configuration.md. */
struct ixd_config_limits {
    uint64_t fields_per_template;
    uint64_t bytes_per_template; /* longest record a template may describe */
    uint64_t templates_per_session;
    uint64_t templates_per_exporter;
    uint64_t templates_total;
    uint64_t template_memory;       /* bytes */
    uint64_t sessions_per_exporter; /* UDP */
    uint64_t sessions_total;        /* UDP */
    uint64_t domains_per_session;
    uint64_t tcp_connections;
    uint64_t hold_time; /* seconds */
    uint64_t held_sets_per_session;
    uint64_t held_bytes_per_session;
    uint64_t held_bytes_total;
};

/* API roles, each allowed what the one before it is (docs/api.md#auth). */
enum ixd_api_role {
    IXD_API_ROLE_NONE = 0, /* authenticated, allowed nothing */
    IXD_API_ROLE_READER = 1,
    IXD_API_ROLE_OPERATOR = 2,
    IXD_API_ROLE_ADMIN = 3,
};

#define IXD_API_TOKENS_MAX 64
#define IXD_API_TOKEN_HASH_LEN 32 /* SHA-256 */

/* A static bearer token: only its SHA-256 is kept. */
struct ixd_config_api_token {
    char name[IXD_NAME_MAX];
    enum ixd_api_role role;
    uint8_t sha256[IXD_API_TOKEN_HASH_LEN];
};

/* JWTs from an OIDC provider, checked against a JWKS file (src/crypto/jwt.h). */
struct ixd_config_api_jwt {
    int enabled;
    char jwks_file[IXD_PATH_MAX];
    unsigned jwks_line, jwks_column; /* of the key, where the API's check reports */
    uint64_t jwks_digest;            /* of the file as read: a reload notices new keys */
    char issuer[512];
    char audience[256];
    char role_claim[128];           /* a claim name, or a dotted path such as ext.ipfixd_role */
    enum ixd_api_role default_role; /* for a token without the claim */
    uint32_t leeway;                /* seconds of clock difference allowed on exp and nbf */
};

/* api.auth: absent = no auth (loopback only); present = every route but /health and /ready
 * needs a token. Kept inline so that the API section stays a plain copyable value. */
struct ixd_config_api_auth {
    int enabled;
    size_t n_tokens;
    struct ixd_config_api_token tokens[IXD_API_TOKENS_MAX];
    struct ixd_config_api_jwt jwt;
};

/*
 * ha.keepalived (docs/ha.md#keepalived-over-rest): where keepalived's config and state are, and
 * whether the API may ask ipfixd-keepalived-apply, the root helper, to change the include. ipfixd
 * itself only reads keepalived's files. Parsed from the ha section but kept in the API's
 * settings: the API is its only user, and its copy must outlive a reload.
 */
struct ixd_config_keepalived {
    int enabled;
    char config[IXD_PATH_MAX];     /* the main keepalived.conf, as GET names it */
    char include[IXD_PATH_MAX];    /* the include GET reads (the helper writes it) */
    char state_file[IXD_PATH_MAX]; /* what the notify hook writes ("" = no role known) */
    int manage;                    /* PUT of the include is allowed */
    char helper[IXD_PATH_MAX];     /* the helper's Unix socket (manage: true) */
    uint32_t helper_timeout;       /* seconds a PUT waits for the helper's answer */
    char audit_log[IXD_PATH_MAX];  /* one JSON line per PUT */
};

/* api.writes: whether the API changes the config, and whether its changes outlive a restart. */
enum ixd_api_writes {
    IXD_API_WRITES_OFF = 0, /* every config write is refused */
    IXD_API_WRITES_RUNTIME, /* until the next restart or SIGHUP of the file */
    IXD_API_WRITES_PERSIST, /* kept in the state directory, merged over the file at start */
};

/* The file of the API's changes in the state directory (api.writes: persist). */
#define IXD_API_CONFIG_FILE "api-config.yaml"

/* The REST API (src/api/, docs/api.md): where it listens and how much it lets one client take. */
struct ixd_config_api {
    int enabled;
    char listen[128]; /* as written, for messages */
    struct sockaddr_storage addr;
    socklen_t addrlen;
    int loopback;                   /* every address it binds is a loopback address */
    uint32_t connections;           /* open connections at most */
    uint32_t connections_per_ip;    /* open connections from one client address at most */
    uint32_t timeout;               /* seconds a connection may stay idle */
    uint32_t request_timeout;       /* seconds for a request's head and body (slowloris) */
    size_t body_limit;              /* largest request body, bytes */
    char certificate[IXD_PATH_MAX]; /* PEM; with key: HTTPS. "" = plain HTTP */
    char key[IXD_PATH_MAX];
    struct ixd_config_api_auth auth;
    struct ixd_config_keepalived keepalived; /* from ha.keepalived */
    enum ixd_api_writes writes;              /* docs/api.md#config */
    enum ixd_api_role pipeline_role;         /* who writes pipelines: admin, or operator too */
    char audit_log[IXD_PATH_MAX];            /* one JSON line per config write; "" = log only */
    unsigned writes_line, writes_column;     /* of api.writes, for the checks that need the
                                                whole config (auth, state-directory) */
};

/* "reader", "operator", "admin" (or "none") for a role. */
const char *ixd_config_api_role_name(enum ixd_api_role role);

/* 1 when two API sections would run the same server (a reload then leaves it alone). */
int ixd_config_api_same(const struct ixd_config_api *a, const struct ixd_config_api *b);

/* Template sharing between two HA peers (src/ha/, docs/internals/ha.md). */
struct ixd_config_ha {
    int enabled;      /* the section is there and not empty */
    char listen[128]; /* as written, for messages */
    struct sockaddr_storage listen_addr;
    socklen_t listen_addrlen;
    char peer[128];
    struct sockaddr_storage peer_addr;
    socklen_t peer_addrlen;
    char key_file[IXD_PATH_MAX];
    uint32_t share_interval_ms; /* at most this often a worker publishes what changed */
};

/* 1 when two HA sections would run the same channel (a reload then leaves it alone). */
int ixd_config_ha_same(const struct ixd_config_ha *a, const struct ixd_config_ha *b);

/*
 * A file or directory the config names, noted where its key was written so that
 * ixd_config_check_files (config_files.c) can report at file:line:col what `ipfixd -t` finds.
 */
enum ixd_config_file_use {
    IXD_FILE_READ,      /* a regular file ipfixd reads */
    IXD_FILE_SECRET,    /* a key: IXD_FILE_READ, neither readable by others nor writable by
                           its group or others; of min..max bytes when max > 0 */
    IXD_FILE_WRITE,     /* a file ipfixd creates or appends to */
    IXD_FILE_DIR_READ,  /* a directory ipfixd lists or reads files in */
    IXD_FILE_DIR_WRITE, /* a directory ipfixd creates files in */
    IXD_FILE_STATE_DIR, /* the state directory: unusable only costs a warning, as at run time */
    IXD_FILE_SOCKET,    /* a Unix stream socket ipfixd connects to */
};

struct ixd_config_file {
    enum ixd_config_file_use use;
    char key[48]; /* e.g. "ha.key-file", for messages */
    unsigned line, column;
    size_t min, max; /* IXD_FILE_SECRET: size bounds (max 0: any) */
    char *path;
};

/* The key file the HA peers share: bytes at least and at most (docs/ha.md). */
#define IXD_HA_KEY_MIN 32
#define IXD_HA_KEY_MAX 4096

/* How much ixd_config_load_flags and ixd_config_parse_flags look beyond the text. */
enum ixd_config_flags {
    IXD_CONFIG_DEFAULT = 0,     /* list element directories, read the JWKS, resolve user names */
    IXD_CONFIG_SYNTAX_ONLY = 1, /* touch nothing outside the text: a config checked away from
                                   the machine it is for (`ipfixd -t --syntax-only`) */
    IXD_CONFIG_RELOAD = 2,      /* a reload: element files take effect at restart only, so
                                   their directories are not listed again (ipfixd may run as
                                   a user that cannot read them by then) */
};

struct ixd_config {
    char *file;                      /* NULL for the built-in config */
    char *source;                    /* the name messages give: the file, or as parsed */
    char user[IXD_NAME_MAX];         /* "" = stay who started ipfixd */
    char group[IXD_NAME_MAX];        /* "" = the user's primary group */
    unsigned user_line, user_column; /* of the user key, for messages */
    uid_t uid;                       /* user and group resolved (not with SYNTAX_ONLY) */
    gid_t gid;
    size_t n_files;
    struct ixd_config_file *files;      /* every file and directory the config names */
    char state_directory[IXD_PATH_MAX]; /* "" = none: templates do not survive restarts */
    int workers;                        /* 0 = one per CPU */
    enum ixd_log_level log_level;
    enum ixd_log_target log_target;
    struct ixd_config_limits limits;
    size_t n_element_dirs;
    char **element_dirs; /* elements.directories as configured (or the default one) */
    size_t n_element_files;
    char **element_files; /* libfixbuf XML files to load, in order: the directories' *.xml
                             (sorted by name), then elements.files */
    uint32_t own_enterprise; /* elements.enterprise: the PEN of ipfixd's own elements */
    size_t n_collectors;
    struct ixd_config_module *collectors;
    size_t n_outputs;
    struct ixd_config_module *outputs;
    size_t n_pipelines;
    struct ixd_config_pipeline *pipelines;
    struct ixd_config_api api;
    struct ixd_config_ha ha;
    char lua_directory[IXD_PATH_MAX]; /* lua.directory: scripts and their files ("" = none) */
    struct ixd_cnode tree;            /* the whole document as written (core/config_tree.h) */
};

/*
 * Parses and validates a YAML config file. On error returns NULL and writes
 * "file:line:col: message" into err.
 */
struct ixd_config *ixd_config_load(const char *path, char *err, size_t errlen);
/* The same, from a string in memory; name is used in messages. */
struct ixd_config *ixd_config_parse(const char *name, const char *text, size_t len, char *err,
                                    size_t errlen);
/* Both, with enum ixd_config_flags. */
struct ixd_config *ixd_config_load_flags(const char *path, unsigned flags, char *err,
                                         size_t errlen);
struct ixd_config *ixd_config_parse_flags(const char *name, const char *text, size_t len,
                                          unsigned flags, char *err, size_t errlen);

/*
 * Opens and checks every file and directory cfg names (config_files.c), as the current user —
 * the one ipfixd opens files as (daemon/privileges.h). 0, or -1 with "file:line:col: message"
 * in err for the first that ipfixd could not use; what ipfixd would only warn about at run time
 * goes to warn (may be NULL) and is not an error.
 */
typedef void (*ixd_config_warn_fn)(void *arg, const char *message);
/* One file's check: 0, or -1 with why (no location) in why. */
int ixd_config_file_check(const struct ixd_config_file *f, char *why, size_t whylen);
int ixd_config_check_files(const struct ixd_config *cfg, ixd_config_warn_fn warn, void *arg,
                           char *err, size_t errlen);
/* The built-in default: UDP and TCP 4739 on all addresses, JSON lines to standard output. */
struct ixd_config *ixd_config_builtin(void);
/* The same with enum ixd_config_flags. */
struct ixd_config *ixd_config_builtin_flags(unsigned flags);
void ixd_config_free(struct ixd_config *cfg);

#endif
