/*
 * The helper's policy file (docs/ha.md#the-policy): YAML, root's, read at start and again for
 * every request, so an edit takes effect without a restart. Its keys are declared once in a
 * table (core/keys.h); the lists are read by parse_list.
 */
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <yaml.h>

#include "core/cnode.h"
#include "core/keys.h"
#include "core/parse.h"
#include "ha/apply/apply.h"

#define POLICY_FILE_MAX (256 * 1024)
#define DEPTH_MAX 8

/* ---- YAML to a tree of nodes with their positions ---- */

static int
copy_node(yaml_document_t *doc, yaml_node_t *y, struct ixd_cnode *out, unsigned depth)
{
    size_t i, n;

    out->line = (unsigned)y->start_mark.line + 1;
    out->column = (unsigned)y->start_mark.column + 1;
    if (depth > DEPTH_MAX) {
        return -1;
    }
    if (y->type == YAML_SCALAR_NODE) {
        out->kind = IXD_CNODE_SCALAR;
        out->text = strndup((const char *)y->data.scalar.value, y->data.scalar.length);
        return out->text == NULL ? -1 : 0;
    }
    if (y->type == YAML_SEQUENCE_NODE) {
        out->kind = IXD_CNODE_SEQUENCE;
        n = (size_t)(y->data.sequence.items.top - y->data.sequence.items.start);
        out->items = calloc(n + 1, sizeof(*out->items));
        for (i = 0; out->items != NULL && i < n; i++) {
            out->n++;
            yaml_node_t *item = yaml_document_get_node(doc, y->data.sequence.items.start[i]);
            if (item == NULL || copy_node(doc, item, &out->items[i], depth + 1) == -1) {
                return -1;
            }
        }
        return out->items == NULL ? -1 : 0;
    }
    out->kind = IXD_CNODE_MAPPING;
    n = (size_t)(y->data.mapping.pairs.top - y->data.mapping.pairs.start);
    out->items = calloc(2 * n + 1, sizeof(*out->items));
    for (i = 0; out->items != NULL && i < n; i++) {
        yaml_node_pair_t *pair = &y->data.mapping.pairs.start[i];
        yaml_node_t *k = yaml_document_get_node(doc, pair->key);
        yaml_node_t *v = yaml_document_get_node(doc, pair->value);
        out->n++;
        if (k == NULL || v == NULL || k->type != YAML_SCALAR_NODE ||
            copy_node(doc, k, &out->items[2 * i], depth + 1) == -1 ||
            copy_node(doc, v, &out->items[2 * i + 1], depth + 1) == -1) {
            return -1;
        }
    }
    return out->items == NULL ? -1 : 0;
}

/* The file's one document as a tree: 0, or -1 with why. */
static int
load_tree(const char *path, struct ixd_cnode *root, char *err, size_t errlen)
{
    yaml_parser_t parser;
    yaml_document_t doc;
    yaml_node_t *top;
    char *text = NULL;
    size_t len = 0;
    int rc = -1;

    if (ixd_read_file(path, POLICY_FILE_MAX, &text, &len) == -1) {
        snprintf(err, errlen, "cannot read %s: %s", path, ixd_read_error(errno));
        return -1;
    }
    yaml_parser_initialize(&parser);
    yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
    if (!yaml_parser_load(&parser, &doc)) {
        snprintf(err, errlen, "%s:%zu:%zu: %s", path, parser.problem_mark.line + 1,
                 parser.problem_mark.column + 1,
                 parser.problem != NULL ? parser.problem : "not YAML");
        goto out_parser;
    }
    top = yaml_document_get_root_node(&doc);
    if (top == NULL || top->type != YAML_MAPPING_NODE) {
        snprintf(err, errlen, "%s: the policy must be a mapping of settings", path);
    } else if (copy_node(&doc, top, root, 0) == -1) {
        snprintf(err, errlen,
                 "%s: nested deeper than %d, a key that is not a word, or out of "
                 "memory",
                 path, DEPTH_MAX);
    } else {
        rc = 0;
    }
    yaml_document_delete(&doc);
out_parser:
    yaml_parser_delete(&parser);
    free(text);
    return rc;
}

/* ---- the lists ---- */

static int
add_caller(char (*list)[64], size_t *n, const char *s, char *why, size_t whylen)
{
    if (s[0] == '\0' || strlen(s) >= 64 ||
        strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-") !=
            strlen(s)) {
        snprintf(why, whylen, "'%s' is not a user or group name or number", s);
        return -1;
    }
    snprintf(list[(*n)++], 64, "%s", s);
    return 0;
}

/* One item of the list named key into s: 0, or -1 with why. */
static int
add_item(struct ka_settings *s, const char *key, const char *item, char *why, size_t whylen)
{
    struct ixd_ka_policy *p = &s->allow;
    size_t n = strlen(item);

    if (strcmp(key, "callers") == 0) {
        return add_caller(s->users, &s->n_users, item, why, whylen);
    }
    if (strcmp(key, "caller-groups") == 0) {
        return add_caller(s->groups, &s->n_groups, item, why, whylen);
    }
    if (strcmp(key, "interfaces") == 0) {
        if (n == 0 || n >= IF_NAMESIZE || strchr(item, '/') != NULL || strchr(item, ' ')) {
            snprintf(why, whylen, "'%s' is not an interface name", item);
            return -1;
        }
        snprintf(p->interfaces[p->n_interfaces++], IF_NAMESIZE, "%s", item);
        return 0;
    }
    if (strcmp(key, "virtual-router-ids") == 0) {
        size_t i = p->n_vrids++;
        return ixd_ka_vrids_parse(item, &p->vrids[i].lo, &p->vrids[i].hi, why, whylen);
    }
    if (strcmp(key, "virtual-addresses") == 0) {
        return ixd_ka_range_parse(item, &p->addresses[p->n_addresses++], why, whylen);
    }
    if (strcmp(key, "peers") == 0) {
        return ixd_ka_range_parse(item, &p->peers[p->n_peers++], why, whylen);
    }
    if (strcmp(key, "real-servers") == 0) {
        return ixd_ka_range_parse(item, &p->reals[p->n_reals++], why, whylen);
    }
    if (strcmp(key, "track-scripts") == 0) {
        if (n == 0 || n > IXD_KA_NAME_MAX) {
            snprintf(why, whylen, "'%s' is not a vrrp_script name", item);
            return -1;
        }
        snprintf(p->tracks[p->n_tracks++], IXD_KA_NAME_MAX + 1, "%s", item);
        return 0;
    }
    /* scripts: compared with the model's exactly, so written as the model writes them */
    if (ixd_ka_script_parse(item, p->scripts[p->n_scripts].path,
                            sizeof(p->scripts[p->n_scripts].path), p->scripts[p->n_scripts].as,
                            sizeof(p->scripts[p->n_scripts].as), why, whylen) == -1) {
        return -1;
    }
    p->n_scripts++;
    return 0;
}

/* A list key: a sequence of scalars, each added to the settings (the key's field). */
static int
parse_list(const struct ixd_key *k, const struct ixd_cnode *v, void *field,
           const struct ixd_key_env *env, char *err, size_t errlen)
{
    char why[256];
    size_t max = strncmp(k->name, "caller", 6) == 0 ? KA_CALLERS_MAX : IXD_KA_POLICY_MAX;

    if (v->kind == IXD_CNODE_SCALAR && v->text[0] == '\0') {
        return 0; /* "key:" alone: an empty list */
    }
    if (v->kind != IXD_CNODE_SEQUENCE || v->n > max) {
        return ixd_cnode_fail(v, env->file, err, errlen, "%s must be a list of at most %zu items",
                              k->name, max);
    }
    for (size_t i = 0; i < v->n; i++) {
        if (v->items[i].kind != IXD_CNODE_SCALAR) {
            return ixd_cnode_fail(&v->items[i], env->file, err, errlen,
                                  "%s: each item is a single value", k->name);
        }
        if (add_item(field, k->name, v->items[i].text, why, sizeof(why)) == -1) {
            return ixd_cnode_fail(&v->items[i], env->file, err, errlen, "%s: %s", k->name, why);
        }
    }
    return 0;
}

#define LIST(n, h)                                                                                 \
    {                                                                                              \
        .name = (n), .kind = IXD_KEY_CUSTOM, .offset = 0, .size = 0, .parse = parse_list,          \
        .help = (h)                                                                                \
    }
#define AT(member) IXD_KEY_AT(struct ka_settings, member)

static const struct ixd_key policy_keys[] = {
    LIST("callers", "users (names or uids) who may ask: ipfixd's"),
    LIST("caller-groups", "groups (names or gids) whose members may ask, by primary group"),
    {.name = "config",
     .kind = IXD_KEY_PATH,
     AT(config),
     .file_use = 1 + IXD_FILE_READ,
     .help = "keepalived.conf, which includes include"},
    {.name = "include", .kind = IXD_KEY_PATH, AT(include), .help = "the file the helper writes"},
    {.name = "backup-dir",
     .kind = IXD_KEY_PATH,
     AT(backup_dir),
     .file_use = 1 + IXD_FILE_DIR_WRITE,
     .help = "where the include goes before a change"},
    {.name = "audit-log",
     .kind = IXD_KEY_PATH,
     AT(audit_log),
     .file_use = 1 + IXD_FILE_WRITE,
     .help = "one JSON line per request"},
    {.name = "keepalived-bin",
     .kind = IXD_KEY_STRING,
     AT(keepalived_bin),
     .def = "/usr/sbin/keepalived",
     .help = "keepalived as words, run as WORDS -t -f COPY"},
    {.name = "reload", .kind = IXD_KEY_STRING, AT(reload), .help = "a command run after a change"},
    {.name = "reload-pid-file",
     .kind = IXD_KEY_PATH,
     AT(reload_pid_file),
     .help = "instead: SIGHUP the pid in this file"},
    {.name = "check-timeout",
     .kind = IXD_KEY_DURATION,
     AT(check_timeout),
     .def = "10s",
     .min = 1,
     .max = 300,
     .help = "keepalived -t, the reload and the lock each take at most this"},
    {.name = "pid-namespace",
     .kind = IXD_KEY_BOOL,
     AT(pid_namespace),
     .def = "true",
     .help = "keepalived -t as PID 1 of a PID namespace of its own"},
    LIST("interfaces", "interfaces an instance and its virtual IPs may use"),
    LIST("virtual-router-ids", "virtual router ids (51, or 50-59)"),
    LIST("virtual-addresses", "ranges virtual IPs and virtual server addresses lie in"),
    LIST("peers", "ranges of unicast_src_ip and unicast_peer"),
    LIST("real-servers", "ranges of real servers"),
    LIST("track-scripts", "vrrp_script names of keepalived.conf an instance may track"),
    LIST("scripts", "notify scripts by their exact path, and whom they run as (PATH root root)"),
    {.name = NULL},
};

int
ka_split_words(char *buf, char **argv, int max)
{
    int n = 0;
    char *save = NULL, *w;

    for (w = strtok_r(buf, " \t", &save); w != NULL && n < max - 1;
         w = strtok_r(NULL, " \t", &save)) {
        argv[n++] = w;
    }
    argv[n] = NULL;
    return n;
}

/* A command as words: the first an absolute path, no more than KA_WORDS_MAX - 4. */
static int
check_words(const char *key, const char *words, char *why, size_t whylen)
{
    char buf[512], *argv[KA_WORDS_MAX];
    int n;

    snprintf(buf, sizeof(buf), "%s", words);
    n = ka_split_words(buf, argv, KA_WORDS_MAX);
    if (n == 0 || argv[0][0] != '/' || n > KA_WORDS_MAX - 4 || strpbrk(words, "\"'`$;|&<>\\")) {
        snprintf(why, whylen,
                 "%s must be an absolute path and at most %d words (run without a shell: no "
                 "quotes, $, ;, |, & or redirections), not '%s'",
                 key, KA_WORDS_MAX - 4, words);
        return -1;
    }
    return 0;
}

/*
 * The directory of path (the include, or the backup directory) is the helper's alone: owned by
 * its user (root) and writable by nobody else. A directory others may write would let them
 * swap the file between the check and keepalived's reload, which is what the helper exists to
 * prevent.
 */
static int
check_owned_dir(const char *key, const char *dir, char *why, size_t whylen)
{
    struct stat st;

    if (stat(dir, &st) == -1) {
        snprintf(why, whylen, "%s: cannot use directory %s: %s", key, dir, strerror(errno));
        return -1;
    }
    if (!S_ISDIR(st.st_mode) || st.st_uid != geteuid() || (st.st_mode & 022) != 0) {
        snprintf(why, whylen,
                 "%s: directory %s must be the helper's alone (owned by uid %u, mode 0755 or "
                 "tighter), not uid %u mode %04o: whoever else may write it decides what "
                 "keepalived (root) loads",
                 key, dir, (unsigned)geteuid(), (unsigned)st.st_uid,
                 (unsigned)(st.st_mode & 07777));
        return -1;
    }
    return 0;
}

/* What the keys alone cannot say: required keys, absolute paths, the directories' owners. */
static int
validate(struct ka_settings *s, char *why, size_t whylen)
{
    char dir[IXD_PATH_MAX];
    const char *paths[] = {s->config, s->include, s->backup_dir, s->audit_log, s->reload_pid_file};

    if (s->config[0] == '\0' || s->include[0] == '\0' || s->backup_dir[0] == '\0') {
        snprintf(why, whylen, "the policy needs config, include and backup-dir");
        return -1;
    }
    for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
        if (paths[i][0] != '\0' && (paths[i][0] != '/' || strstr(paths[i], "/../") != NULL)) {
            snprintf(why, whylen, "'%s' must be an absolute path", paths[i]);
            return -1;
        }
    }
    if (strcmp(s->config, s->include) == 0) {
        snprintf(why, whylen, "include must be its own file, included by config");
        return -1;
    }
    if ((s->reload[0] != '\0') == (s->reload_pid_file[0] != '\0')) {
        snprintf(why, whylen,
                 "the policy needs one of reload (such as '/usr/bin/systemctl reload "
                 "keepalived') or reload-pid-file");
        return -1;
    }
    if (check_words("keepalived-bin", s->keepalived_bin, why, whylen) == -1 ||
        (s->reload[0] != '\0' && check_words("reload", s->reload, why, whylen) == -1)) {
        return -1;
    }
    if (s->n_users == 0 && s->n_groups == 0) {
        snprintf(why, whylen, "the policy names no callers: nobody could ask");
        return -1;
    }
    snprintf(dir, sizeof(dir), "%s", s->include);
    *strrchr(dir, '/') = '\0';
    return check_owned_dir("include", dir[0] != '\0' ? dir : "/", why, whylen) == -1 ||
                   check_owned_dir("backup-dir", s->backup_dir, why, whylen) == -1
               ? -1
               : 0;
}

/*
 * The policy is root's word: a file (or a directory it is in) that anyone but the helper's user
 * may change would let them allow what they like.
 */
static int
check_owned_file(const char *path, char *why, size_t whylen)
{
    char dir[IXD_PATH_MAX];
    struct stat st;
    char *slash;

    if (stat(path, &st) == -1) {
        snprintf(why, whylen, "cannot read %s: %s", path, strerror(errno));
        return -1;
    }
    if (!S_ISREG(st.st_mode) || st.st_uid != geteuid() || (st.st_mode & 022) != 0) {
        snprintf(why, whylen,
                 "%s must be a file of uid %u that nobody else may write, not uid %u mode %04o",
                 path, (unsigned)geteuid(), (unsigned)st.st_uid, (unsigned)(st.st_mode & 07777));
        return -1;
    }
    snprintf(dir, sizeof(dir), "%s", path);
    slash = strrchr(dir, '/');
    if (slash == NULL) {
        snprintf(dir, sizeof(dir), ".");
    } else {
        slash[slash == dir ? 1 : 0] = '\0';
    }
    return check_owned_dir("the policy's", dir, why, whylen);
}

int
ka_settings_load(const char *path, struct ka_settings *s, char *err, size_t errlen)
{
    struct ixd_key_env env = {path, 0, "the policy"};
    struct ixd_cnode root;
    char why[768];
    int rc = -1;

    memset(s, 0, sizeof(*s));
    memset(&root, 0, sizeof(root));
    snprintf(s->path, sizeof(s->path), "%s", path);
    if (check_owned_file(path, err, errlen) == -1 || load_tree(path, &root, err, errlen) == -1) {
        goto out;
    }
    if (ixd_keys_parse(policy_keys, &root, s, &env, err, errlen) == -1) {
        goto out;
    }
    if (validate(s, why, sizeof(why)) == -1) {
        snprintf(err, errlen, "%s: %s", path, why);
        goto out;
    }
    rc = 0;
out:
    ixd_keys_release(policy_keys, s);
    ixd_cnode_release(&root);
    return rc;
}

/* uid or gid of a name or number in list, compared with id. */
static int
id_listed(char (*list)[64], size_t n, unsigned id, int group)
{
    for (size_t i = 0; i < n; i++) {
        const char *s = list[i];
        uint64_t num;
        if (ixd_parse_u64(s, &num) == 0) {
            if (num == id) {
                return 1;
            }
            continue;
        }
        /* looked up now: a DynamicUser's uid exists only while its unit runs */
        if (group) {
            const struct group *g = getgrnam(s);
            if (g != NULL && g->gr_gid == id) {
                return 1;
            }
        } else {
            const struct passwd *pw = getpwnam(s);
            if (pw != NULL && pw->pw_uid == id) {
                return 1;
            }
        }
    }
    return 0;
}

int
ka_caller_allowed(const struct ka_settings *s, const struct ka_caller *caller)
{
    return id_listed((char(*)[64])s->users, s->n_users, (unsigned)caller->uid, 0) ||
           id_listed((char(*)[64])s->groups, s->n_groups, (unsigned)caller->gid, 1);
}
