/*
 * The config's writes on the control thread (config_writes.h). A write thread of the API queues
 * its request and waits; the control loop, woken by an ev_async, takes the queue and answers
 * each request in turn: precondition against the running config, the change put on a copy of
 * the changes, the file's tree with the changes over it built and checked like a file, applied
 * like a reload, and only then the changes kept (and saved, with api.writes: persist).
 */
#include "daemon/config_writes.h"

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/config_tree.h"
#include "core/log.h"
#include "daemon/config_changes.h"

/* A config's making: the operator's file and the API's changes over it. */
struct basis {
    enum ixd_api_writes mode;
    struct ixd_cnode base; /* the operator's file as written */
    char *name;            /* its name, as messages give it */
    struct ixd_config_changes changes;
    char path[IXD_PATH_MAX]; /* where the changes are kept (persist), else "" */
};

static void
basis_init(struct basis *b)
{
    memset(b, 0, sizeof(*b));
    ixd_config_changes_init(&b->changes);
}

static void
basis_release(struct basis *b)
{
    ixd_config_changes_release(&b->changes);
    ixd_cnode_release(&b->base);
    free(b->name);
    basis_init(b);
}

struct ixd_config_writes {
    struct ev_loop *loop;
    ev_async wake;
    const struct ixd_config_writes_ops *ops;
    void *arg;

    pthread_mutex_t lock; /* the queue and closed; requests' done */
    pthread_cond_t answered;
    struct ixd_config_request **queue;
    size_t n_queued, cap;
    int closed; /* requests are answered 503 at once */

    /* the control thread's own: what the running config is made of, and what a rebase made
     * for a config that is not running yet (kept by ixd_config_writes_commit) */
    struct basis now, staged;
};

static void answer(struct ixd_config_request *req, int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
answer(struct ixd_config_request *req, int status, const char *fmt, ...)
{
    va_list ap;

    req->status = status;
    va_start(ap, fmt);
    vsnprintf(req->detail, sizeof(req->detail), fmt, ap);
    va_end(ap);
}

/* An error of a config built from tree: its message, and the JSON pointer of the node it is
 * about (a node of the file's or of the API's alike) in req->pointer. */
static void
answer_error(struct ixd_config_request *req, int status, const struct ixd_cnode *tree,
             const char *name, const char *err)
{
    static const struct {
        const char *prefix, *section;
    } owners[] = {{"collector ", "collectors"}, {"output ", "outputs"}};
    const char *message = err;
    char owner[IXD_NAME_MAX];
    size_t index;

    if (ixd_config_tree_locate(tree, name, err, req->pointer, sizeof(req->pointer), &message) ==
        0) {
        answer(req, status, "%s", message);
        return;
    }
    /* what opening a module says has no position but names it: "collector NAME: ..." */
    for (size_t i = 0; i < sizeof(owners) / sizeof(owners[0]); i++) {
        size_t len = strlen(owners[i].prefix), n;
        if (strncmp(err, owners[i].prefix, len) != 0 || (n = strcspn(err + len, ": ")) == 0 ||
            n >= sizeof(owner) || err[len + n] != ':') {
            continue;
        }
        memcpy(owner, err + len, n);
        owner[n] = '\0';
        if (ixd_config_tree_item(tree, owners[i].section, owner, &index) != NULL) {
            snprintf(req->pointer, sizeof(req->pointer), "/%s/%zu", owners[i].section, index);
        }
    }
    answer(req, status, "%s", message);
}

/* ---- on the control thread ---- */

/* The precondition of a PUT or DELETE against the item as it runs: 0 to go ahead. */
static int
precondition(struct ixd_config_request *req, const struct ixd_cnode *current)
{
    if (current != NULL) {
        ixd_config_tree_etag(current, req->etag_before);
    }
    if (req->op == IXD_CONFIG_DELETE && current == NULL) {
        answer(req, 404, "there is no %s '%s'", ixd_config_tree_one(req->section), req->name);
        return -1;
    }
    if (req->expect[0] == '\0' && current != NULL) {
        answer(req, 412, "%s '%s' exists (ETag %s): send If-Match with its ETag to replace it",
               ixd_config_tree_one(req->section), req->name, req->etag_before);
        return -1;
    }
    if (req->expect[0] != '\0' && current == NULL) {
        answer(req, 412, "there is no %s '%s' to match: send If-None-Match: * to create it",
               ixd_config_tree_one(req->section), req->name);
        return -1;
    }
    if (current != NULL && strcmp(req->expect, "*") != 0 &&
        strcmp(req->expect, req->etag_before) != 0) {
        answer(req, 412, "%s '%s' has changed: its ETag is %s now; read it again",
               ixd_config_tree_one(req->section), req->name, req->etag_before);
        return -1;
    }
    return 0;
}

/* The config built from tree, checked as `ipfixd -t` checks a file: NULL after answering. */
static struct ixd_config *
build(struct ixd_config_writes *w, struct ixd_config_request *req, const struct ixd_cnode *tree,
      const char *name)
{
    struct ixd_config *cfg;
    char err[1024];

    cfg = ixd_config_from_tree(tree, name, IXD_CONFIG_RELOAD, err, sizeof(err));
    if (cfg == NULL) {
        answer_error(req, 422, tree, name, err);
        return NULL;
    }
    if (w->ops->check(w->arg, cfg, err, sizeof(err)) == -1) {
        answer_error(req, 422, tree, name, err);
        ixd_config_free(cfg);
        return NULL;
    }
    return cfg;
}

/* The changes' file rewritten (persist): 0, or -1 after answering 500 (the change runs). */
static int
keep(struct ixd_config_writes *w, struct ixd_config_request *req)
{
    char err[1024];

    if (w->now.mode != IXD_API_WRITES_PERSIST) {
        return 0;
    }
    if (ixd_config_changes_save(&w->now.changes, w->now.path, err, sizeof(err)) == -1) {
        log_err("api: a config write was applied but not kept: %s", err);
        answer(req, 500, "applied, but not kept for the next start: %s", err);
        return -1;
    }
    return 0;
}

/* A PUT, DELETE or check of one item: the running config's changes with it, built and run. */
static void
change_item(struct ixd_config_writes *w, struct ixd_config_request *req)
{
    const struct ixd_config *running = w->ops->running(w->arg);
    struct ixd_config_changes next;
    struct ixd_cnode merged = {0};
    struct ixd_cnode *item = req->op == IXD_CONFIG_DELETE ? NULL : &req->item;
    const struct ixd_cnode *now;
    struct ixd_config *cfg;
    char err[1024];
    size_t index;

    now = ixd_config_tree_item(&running->tree, req->section, req->name, NULL);
    if (req->op != IXD_CONFIG_CHECK_ITEM && precondition(req, now) == -1) {
        return;
    }
    ixd_config_changes_init(&next);
    if (ixd_config_changes_copy(&next, &w->now.changes) == -1 ||
        (strcmp(req->section, "pipelines") == 0 &&
         ixd_config_changes_explicit_default(&next, &w->now.base, &running->tree) == -1) ||
        ixd_config_changes_put(&next, &w->now.base, req->section, req->name, item) == -1 ||
        ixd_config_changes_merge(&next, &w->now.base, &merged) == -1) {
        answer(req, 500, "out of memory; nothing changed");
        goto out;
    }
    if (ixd_config_tree_item(&merged, req->section, req->name, &index) != NULL) {
        snprintf(req->item_pointer, sizeof(req->item_pointer), "/%s/%zu", req->section, index);
    }
    cfg = build(w, req, &merged, w->now.name);
    if (cfg == NULL) {
        goto out;
    }
    now = ixd_config_tree_item(&cfg->tree, req->section, req->name, NULL);
    if (now != NULL) {
        ixd_config_tree_etag(now, req->etag_after);
    }
    if (req->op == IXD_CONFIG_CHECK_ITEM) {
        ixd_config_free(cfg);
        answer(req, 200, "valid");
        goto out;
    }
    cfg->file = running->file != NULL ? strdup(running->file) : NULL;
    if (w->ops->apply(w->arg, cfg, err, sizeof(err)) == -1) {
        /* the config was valid but did not start (a port taken, an output's file): 409 */
        answer_error(req, 409, &merged, w->now.name, err);
        goto out;
    }
    ixd_config_changes_release(&w->now.changes);
    w->now.changes = next;
    ixd_config_changes_init(&next);
    if (keep(w, req) == 0) {
        answer(req,
               req->op == IXD_CONFIG_DELETE  ? 204
               : req->etag_before[0] == '\0' ? 201
                                             : 200,
               "applied");
    }
out:
    ixd_cnode_release(&merged);
    ixd_config_changes_release(&next);
}

/* A whole config in the request, checked alone. */
static void
check_config(struct ixd_config_writes *w, struct ixd_config_request *req)
{
    struct ixd_config *cfg;

    ixd_cnode_number(&req->item, IXD_CONFIG_TREE_LINE);
    cfg = build(w, req, &req->item, "the request");
    if (cfg != NULL) {
        ixd_config_free(cfg);
        answer(req, 200, "valid");
    }
}

/* The running config built and applied again: every file its stages read is read again, and
 * a stage that fails to start leaves the running config as it was. */
static void
reload_stage(struct ixd_config_writes *w, struct ixd_config_request *req)
{
    const struct ixd_config *running = w->ops->running(w->arg);
    const struct ixd_cnode *p = ixd_config_tree_item(&running->tree, "pipelines", req->name, NULL);
    const struct ixd_cnode *stages = ixd_cnode_get(p, "stages");
    struct ixd_config *cfg;
    char err[1024];

    if (p == NULL || stages == NULL || stages->kind != IXD_CNODE_SEQUENCE ||
        req->stage >= stages->n) {
        answer(req, 404, "pipeline '%s' has no stage %zu", req->name, req->stage);
        return;
    }
    ixd_config_tree_etag(p, req->etag_before);
    cfg = build(w, req, &running->tree, w->now.name);
    if (cfg == NULL) {
        return;
    }
    cfg->file = running->file != NULL ? strdup(running->file) : NULL;
    if (w->ops->apply(w->arg, cfg, err, sizeof(err)) == -1) {
        answer_error(req, 409, &running->tree, w->now.name, err);
        return;
    }
    memcpy(req->etag_after, req->etag_before, sizeof(req->etag_after));
    answer(req, 200, "reloaded");
}

static void
handle(struct ixd_config_writes *w, struct ixd_config_request *req)
{
    if (w->now.mode == IXD_API_WRITES_OFF && req->op != IXD_CONFIG_CHECK_CONFIG &&
        req->op != IXD_CONFIG_CHECK_ITEM) {
        answer(req, 403, "api.writes is off: the config changes only through its file");
        return;
    }
    switch (req->op) {
    case IXD_CONFIG_CHECK_CONFIG:
        check_config(w, req);
        break;
    case IXD_CONFIG_RELOAD_STAGE:
        reload_stage(w, req);
        break;
    default:
        change_item(w, req);
        break;
    }
}

static void
wake_cb(struct ev_loop *loop, ev_async *a, int revents)
{
    struct ixd_config_writes *w = a->data;
    struct ixd_config_request *req;

    (void)loop;
    (void)revents;
    for (;;) {
        pthread_mutex_lock(&w->lock);
        if (w->n_queued == 0) {
            pthread_mutex_unlock(&w->lock);
            return;
        }
        req = w->queue[0];
        memmove(&w->queue[0], &w->queue[1], --w->n_queued * sizeof(*w->queue));
        pthread_mutex_unlock(&w->lock);

        handle(w, req);
        ixd_cnode_release(&req->item);

        pthread_mutex_lock(&w->lock);
        req->done = 1;
        pthread_cond_broadcast(&w->answered);
        pthread_mutex_unlock(&w->lock);
    }
}

/* ---- from the API's write threads ---- */

static void
submit(void *arg, struct ixd_config_request *req)
{
    struct ixd_config_writes *w = arg;

    pthread_mutex_lock(&w->lock);
    if (w->closed || (w->n_queued == w->cap && w->cap >= 64)) {
        pthread_mutex_unlock(&w->lock);
        ixd_cnode_release(&req->item);
        answer(req, 503,
               "ipfixd is not taking config writes now (stopping, or the API "
               "restarting); try again");
        return;
    }
    if (w->n_queued == w->cap) {
        struct ixd_config_request **grown =
            realloc(w->queue, (w->cap ? 2 * w->cap : 8) * sizeof(*grown));
        if (grown == NULL) {
            pthread_mutex_unlock(&w->lock);
            ixd_cnode_release(&req->item);
            answer(req, 503, "out of memory");
            return;
        }
        w->queue = grown;
        w->cap = w->cap ? 2 * w->cap : 8;
    }
    req->done = 0;
    w->queue[w->n_queued++] = req;
    ev_async_send(w->loop, &w->wake);
    while (!req->done) {
        pthread_cond_wait(&w->answered, &w->lock);
    }
    pthread_mutex_unlock(&w->lock);
}

/* Answers what is queued with 503 and refuses what comes after. */
static void
close_queue(struct ixd_config_writes *w, int closed)
{
    pthread_mutex_lock(&w->lock);
    w->closed = closed;
    while (closed && w->n_queued > 0) {
        struct ixd_config_request *req = w->queue[--w->n_queued];
        ixd_cnode_release(&req->item);
        answer(req, 503, "ipfixd is not taking config writes now; try again");
        req->done = 1;
    }
    pthread_cond_broadcast(&w->answered);
    pthread_mutex_unlock(&w->lock);
}

void
ixd_config_writes_pause(struct ixd_config_writes *w)
{
    if (w != NULL) {
        close_queue(w, 1);
    }
}

void
ixd_config_writes_resume(struct ixd_config_writes *w)
{
    if (w != NULL) {
        close_queue(w, 0);
    }
}

struct ixd_api_config_hooks
ixd_config_writes_hooks(struct ixd_config_writes *w)
{
    struct ixd_api_config_hooks h = {submit, w};

    return h;
}

struct ixd_config_writes *
ixd_config_writes_new(struct ev_loop *loop, const struct ixd_config_writes_ops *ops, void *arg)
{
    struct ixd_config_writes *w = calloc(1, sizeof(*w));

    if (w == NULL) {
        return NULL;
    }
    w->loop = loop;
    w->ops = ops;
    w->arg = arg;
    pthread_mutex_init(&w->lock, NULL);
    pthread_cond_init(&w->answered, NULL);
    basis_init(&w->now);
    basis_init(&w->staged);
    ev_async_init(&w->wake, wake_cb);
    w->wake.data = w;
    ev_async_start(loop, &w->wake);
    return w;
}

void
ixd_config_writes_free(struct ixd_config_writes *w)
{
    if (w == NULL) {
        return;
    }
    close_queue(w, 1);
    ev_async_stop(w->loop, &w->wake);
    basis_release(&w->now);
    basis_release(&w->staged);
    free(w->queue);
    pthread_cond_destroy(&w->answered);
    pthread_mutex_destroy(&w->lock);
    free(w);
}

/* ---- the file's config, and the changes over it ---- */

/* b made of file (its tree and name copied) and changes (taken over). */
static int
basis_set(struct basis *b, const struct ixd_config *file, struct ixd_config_changes *changes)
{
    basis_release(b);
    b->name = strdup(file->source);
    if (b->name == NULL || ixd_cnode_copy(&b->base, &file->tree) == -1) {
        ixd_config_changes_release(changes);
        basis_release(b);
        return -1;
    }
    b->mode = file->api.writes;
    ixd_config_changes_path(file, b->path, sizeof(b->path));
    b->changes = *changes;
    ixd_config_changes_init(changes);
    return 0;
}

struct ixd_config *
ixd_config_writes_rebase(struct ixd_config_writes *w, struct ixd_config *file, unsigned flags,
                         char *err, size_t errlen)
{
    struct ixd_config_changes changes;
    struct ixd_cnode merged;
    struct ixd_config *cfg = file;
    char path[IXD_PATH_MAX], why[1024];

    ixd_config_changes_init(&changes);
    ixd_config_changes_path(file, path, sizeof(path));
    if (file->api.writes == IXD_API_WRITES_PERSIST &&
        ixd_config_changes_load(&changes, path, err, errlen) == -1) {
        return NULL;
    }
    if (!ixd_config_changes_empty(&changes)) {
        if (ixd_config_changes_merge(&changes, &file->tree, &merged) == -1) {
            snprintf(err, errlen, "%s: out of memory", path);
            ixd_config_changes_release(&changes);
            return NULL;
        }
        cfg = ixd_config_from_tree(&merged, file->source, flags, why, sizeof(why));
        if (cfg == NULL) {
            ixd_config_changes_describe(&merged, file->source, why, err, errlen);
            ixd_cnode_release(&merged);
            ixd_config_changes_release(&changes);
            return NULL;
        }
        ixd_cnode_release(&merged);
        cfg->file = file->file != NULL ? strdup(file->file) : NULL;
    }
    if (basis_set(&w->staged, file, &changes) == -1) {
        snprintf(err, errlen, "out of memory");
        if (cfg != file) {
            ixd_config_free(cfg);
        }
        return NULL;
    }
    return cfg;
}

void
ixd_config_writes_commit(struct ixd_config_writes *w)
{
    if (!ixd_config_changes_empty(&w->now.changes) &&
        ixd_config_changes_empty(&w->staged.changes)) {
        log_warn("api: the changes made through the API end with this reload of %s "
                 "(api.writes is not persist)",
                 w->staged.name);
    }
    basis_release(&w->now);
    w->now = w->staged;
    basis_init(&w->staged);
}

void
ixd_config_writes_set_aside(struct ixd_config_writes *w, const struct ixd_config *file,
                            const char *why)
{
    struct ixd_config_changes none;
    char path[IXD_PATH_MAX], aside[IXD_PATH_MAX + 16];

    ixd_config_changes_path(file, path, sizeof(path));
    snprintf(aside, sizeof(aside), "%s.rejected", path);
    if (rename(path, aside) == -1) {
        log_err("api: the changes in %s do not apply (%s), and cannot be set aside: %s; ipfixd "
                "runs on %s alone",
                path, why, strerror(errno), file->source);
    } else {
        log_err("api: the changes in %s do not apply (%s): moved to %s; ipfixd runs on %s alone",
                path, why, aside, file->source);
    }
    ixd_config_changes_init(&none);
    if (basis_set(&w->now, file, &none) == -1) {
        log_err("api: out of memory: config writes will fail");
    }
}
