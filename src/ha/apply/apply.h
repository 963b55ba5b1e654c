/*
 * ipfixd-keepalived-apply (docs/ha.md#the-helper, docs/internals/keepalived-apply.md): the root
 * helper that writes keepalived's include for ipfixd. It takes a model over a Unix socket
 * (ha/keepalived_wire.h), checks it again with its own copy of the rules and against root's
 * policy file, renders it, has `keepalived -t` check it in a PID namespace of its own, installs
 * it with a backup, reloads keepalived and answers. One thread; one request at a time.
 */
#ifndef IXD_HA_APPLY_H
#define IXD_HA_APPLY_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "core/config.h"
#include "ha/keepalived_policy.h"

/* What its log lines start with (core/log.c names the process ipfixd). */
#define KA_LOG "keepalived-apply: "

#define KA_CALLERS_MAX 16
#define KA_WORDS_MAX 16 /* of keepalived-bin and reload */

/* The policy file: who may ask, keepalived's files, and what a model may hold. */
struct ka_settings {
    char path[IXD_PATH_MAX]; /* the file it was read from, for messages */
    size_t n_users;
    char users[KA_CALLERS_MAX][64]; /* names or uids */
    size_t n_groups;
    char groups[KA_CALLERS_MAX][64]; /* names or gids (the caller's primary group) */
    char config[IXD_PATH_MAX];       /* keepalived.conf: read, never written */
    char include[IXD_PATH_MAX];      /* the file the helper writes, which config includes */
    char backup_dir[IXD_PATH_MAX];
    char audit_log[IXD_PATH_MAX]; /* "" = the journal (stderr) only */
    char keepalived_bin[512];     /* words: an absolute path, then arguments */
    char reload[512];             /* words, or "" */
    char reload_pid_file[IXD_PATH_MAX];
    uint32_t check_timeout; /* seconds for keepalived -t, for the reload, for the lock */
    int pid_namespace;      /* keepalived -t as PID 1 of its own PID namespace */
    struct ixd_ka_policy allow;
};

/* Reads and checks the policy file at path into s. 0, or -1 with "path:line:col: why". */
int ka_settings_load(const char *path, struct ka_settings *s, char *err, size_t errlen);

/* Splits words (blanks between) into argv (max entries, NULL-terminated) of buf's copy. */
int ka_split_words(char *buf, char **argv, int max);

/* Who connected, from SO_PEERCRED. */
struct ka_caller {
    pid_t pid;
    uid_t uid;
    gid_t gid;
};

/* 1 when s lets caller ask. */
int ka_caller_allowed(const struct ka_settings *s, const struct ka_caller *caller);

/* What the helper answers; ka_apply fills it. */
struct ka_answer {
    int status;         /* the HTTP status the API answers with */
    const char *result; /* "applied", "refused", "failed" */
    char field[128];    /* of a 422 */
    char detail[1536];
    char backup[IXD_PATH_MAX + 64];
};

/*
 * Handles one request (its JSON, the caller's) for caller: checks, renders, tests, installs,
 * reloads, audits. Fills a; never fails without saying why in it.
 */
void ka_apply(const struct ka_settings *s, const struct ka_caller *caller, const json_t *request,
              struct ka_answer *a);

/*
 * Runs argv (argv[0] an absolute path) with a clean environment, stdin /dev/null, stdout and
 * stderr into out (the first outlen - 1 bytes, escaped), no other descriptor, default signal
 * dispositions and an empty mask, in a process group of its own; killed (with its group) after
 * timeout seconds. new_pid_ns: as PID 1 of a new PID namespace (CAP_SYS_ADMIN), so that it and
 * whatever it started end together. Returns its exit status; -1 (why in out) when it was killed
 * or timed out; -2 when it could not start at all. Uses posix_spawn and a pidfd: no fork, no
 * SIGCHLD.
 */
int ka_spawn(char *const *argv, unsigned timeout, int new_pid_ns, char *out, size_t outlen);

#endif
