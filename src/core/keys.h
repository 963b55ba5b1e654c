/*
 * A module's settings, declared once as a table of keys (docs/internals/modules.md). From the
 * table follow: parsing a config mapping into the module's settings struct (defaults first),
 * the error for an unknown or repeated key at its file:line:col with the known keys listed, the
 * checks of the files a key names (skipped when a config is checked for syntax only), what a
 * reload may keep (ixd_keys_same), and the settings as text for messages and the API.
 *
 * The settings struct is the module's own; each key says where its value lives (offset) and how
 * it is read (kind). Settings are parsed on the control thread and read-only afterwards.
 */
#ifndef IXD_CORE_KEYS_H
#define IXD_CORE_KEYS_H

#include <stddef.h>
#include <stdint.h>

#include "core/cnode.h"
#include "core/config.h"

/* How a key's value is read and stored. */
enum ixd_key_kind {
    IXD_KEY_STRING,   /* char[size]: any scalar */
    IXD_KEY_NAME,     /* char[size]: letters, digits, '-', '_' and '.' */
    IXD_KEY_PATH,     /* char[size]: a file or directory name, checked as .file_use says */
    IXD_KEY_FILE,     /* struct ixd_key_file: a path whose content a reload compares */
    IXD_KEY_BOOL,     /* int: true/false (yes/no, on/off) */
    IXD_KEY_U32,      /* uint32_t within min..max */
    IXD_KEY_DURATION, /* uint32_t seconds within min..max ("90", "90s", "30m", "2h", "1d") */
    IXD_KEY_SIZE,     /* size_t bytes within min..max ("4096", "512K", "8M", "1G") */
    IXD_KEY_ENUM,     /* int: the index of the value in .choices */
    IXD_KEY_MODE,     /* uint32_t: octal permissions 0600..0777 ("0640", 640, "0o640") */
    IXD_KEY_CUSTOM,   /* .parse reads it, .same compares it, .release frees it */
    IXD_KEY_INCLUDE,  /* the keys of .include, whose settings struct sits at .offset: keys
                         several types share (the IPFIX intake's of every IPFIX input) */
};

/*
 * What a reload does when the key's value changed (docs/internals/modules.md):
 * RESTART: the instance is rebuilt (its sockets reopened, its files completed);
 * HOT: the instance keeps running and takes the new value in place;
 * CONTENT: as RESTART, and a changed content of the file the key names counts as a change.
 */
enum ixd_key_reload {
    IXD_RELOAD_RESTART = 0,
    IXD_RELOAD_HOT,
    IXD_RELOAD_CONTENT,
};

/* The value of an IXD_KEY_FILE key: the path and a digest of what the file held when read. */
struct ixd_key_file {
    char path[IXD_PATH_MAX];
    uint64_t digest;
};

/* What parsing may use besides the mapping. */
struct ixd_key_env {
    const char *file; /* config file name for messages */
    unsigned flags;   /* enum ixd_config_flags: IXD_CONFIG_SYNTAX_ONLY opens no file */
    const char *what; /* "output 'o'", for messages */
};

struct ixd_key;

/* IXD_KEY_CUSTOM: reads v into field; 0, or -1 with "file:line:col: message" (ixd_cnode_fail). */
typedef int (*ixd_key_parse_fn)(const struct ixd_key *key, const struct ixd_cnode *v, void *field,
                                const struct ixd_key_env *env, char *err, size_t errlen);

struct ixd_key {
    const char *name; /* NULL ends a table */
    enum ixd_key_kind kind;
    size_t offset;              /* of the value in the settings struct */
    size_t size;                /* of the value (strings: the buffer) */
    const char *def;            /* the default, as it would be written in YAML; NULL: zero */
    uint64_t min, max;          /* numbers; max 0: no bound */
    const char *const *choices; /* IXD_KEY_ENUM: the values, NULL-terminated */
    enum ixd_key_reload reload;
    int file_use;           /* IXD_KEY_PATH/FILE: 1 + enum ixd_config_file_use, 0: unchecked */
    ixd_key_parse_fn parse; /* IXD_KEY_CUSTOM */
    int (*same)(const void *a, const void *b); /* IXD_KEY_CUSTOM: NULL compares size bytes */
    void (*release)(void *field);              /* IXD_KEY_CUSTOM: frees what parse made */
    const struct ixd_key *include;             /* IXD_KEY_INCLUDE */
    const char *help;                          /* one line, for docs and messages */
};

/* Field helpers for tables: IXD_KEY_AT(struct settings, member). */
#define IXD_KEY_AT(type, member) offsetof(type, member), sizeof(((type *)0)->member)

/*
 * Parses mapping map into settings (which the caller zeroed): defaults first, then every key
 * written, each at most once. An unknown key fails with the keys this table knows. Returns 0,
 * or -1 with "file:line:col: message" in err. On -1 the caller still calls ixd_keys_release.
 */
int ixd_keys_parse(const struct ixd_key *keys, const struct ixd_cnode *map, void *settings,
                   const struct ixd_key_env *env, char *err, size_t errlen);

/* Frees what parsing allocated for IXD_KEY_CUSTOM keys (not settings itself). */
void ixd_keys_release(const struct ixd_key *keys, void *settings);

/* 1 when a and b agree on every key of the given reload classes (a bit per class:
 * 1 << IXD_RELOAD_RESTART | 1 << IXD_RELOAD_CONTENT is what a reload must rebuild for). */
int ixd_keys_same(const struct ixd_key *keys, const void *a, const void *b, unsigned classes);
#define IXD_KEYS_REBUILD ((1u << IXD_RELOAD_RESTART) | (1u << IXD_RELOAD_CONTENT))
#define IXD_KEYS_ALL (IXD_KEYS_REBUILD | (1u << IXD_RELOAD_HOT))

/* The key of this name, or NULL; *offset (may be NULL) receives what to add to the key's own
 * offset for a key found in an included table. */
const struct ixd_key *ixd_keys_find(const struct ixd_key *keys, const char *name, size_t *offset);

/* The names of the keys, comma-separated, into out ("path, renormalise, file-mode"). */
void ixd_keys_names(const struct ixd_key *keys, char *out, size_t outlen);

#endif
