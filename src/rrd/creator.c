#include "rrd/creator.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"

struct request {
    struct request *next;
    char *path;
    enum ixd_rrd_kind kind;
    int64_t start;
    struct ixd_rrd_hw hw;
    void *tag;
    int ok;
    char err[256];
};

struct ixd_rrd_creator {
    char name[64];
    char *rrdcached; /* NULL: direct */
    pthread_t thread;
    int started;
    pthread_mutex_t lock;
    pthread_cond_t wake, idle;
    int stop, busy;
    struct request *todo, **todo_tail; /* under lock */
    struct request *done;              /* under lock, any order */
};

static void
create_one(struct ixd_rrd_creator *c, struct ixd_rrdc **conn, struct request *r)
{
    char err[256];

    if (c->rrdcached != NULL && *conn == NULL) {
        *conn = ixd_rrdc_new(c->rrdcached, r->err, sizeof(r->err));
        if (*conn == NULL) {
            r->ok = 0;
            return;
        }
    }
    r->ok = ixd_rrd_create(*conn, r->path, r->kind, r->start, &r->hw, err, sizeof(err)) == 0;
    if (!r->ok) {
        snprintf(r->err, sizeof(r->err), "%s", err);
        if (*conn != NULL) {
            /* the connection may be what failed: a new one next time */
            ixd_rrdc_free(*conn);
            *conn = NULL;
        }
    }
}

static void *
run(void *arg)
{
    struct ixd_rrd_creator *c = arg;
    struct ixd_rrdc *conn = NULL;

    pthread_mutex_lock(&c->lock);
    for (;;) {
        struct request *r;
        while (c->todo == NULL && !c->stop) {
            pthread_cond_wait(&c->wake, &c->lock);
        }
        if (c->stop) {
            break;
        }
        r = c->todo;
        c->todo = r->next;
        if (c->todo == NULL) {
            c->todo_tail = &c->todo;
        }
        c->busy = 1;
        pthread_mutex_unlock(&c->lock);
        create_one(c, &conn, r);
        pthread_mutex_lock(&c->lock);
        r->next = c->done;
        c->done = r;
        c->busy = 0;
        if (c->todo == NULL) {
            pthread_cond_broadcast(&c->idle);
        }
    }
    pthread_mutex_unlock(&c->lock);
    ixd_rrdc_free(conn);
    return NULL;
}

struct ixd_rrd_creator *
ixd_rrd_creator_new(const char *rrdcached, const char *name, char *err, size_t errlen)
{
    struct ixd_rrd_creator *c = calloc(1, sizeof(*c));
    int rc;

    if (c == NULL) {
        snprintf(err, errlen, "output %s: out of memory", name);
        return NULL;
    }
    snprintf(c->name, sizeof(c->name), "%s", name);
    if (rrdcached[0] != '\0' && (c->rrdcached = strdup(rrdcached)) == NULL) {
        free(c);
        snprintf(err, errlen, "output %s: out of memory", name);
        return NULL;
    }
    c->todo_tail = &c->todo;
    pthread_mutex_init(&c->lock, NULL);
    pthread_cond_init(&c->wake, NULL);
    pthread_cond_init(&c->idle, NULL);
    rc = pthread_create(&c->thread, NULL, run, c);
    if (rc != 0) {
        snprintf(err, errlen, "output %s: cannot start the thread that creates files: %s", name,
                 strerror(rc));
        ixd_rrd_creator_free(c);
        return NULL;
    }
    c->started = 1;
    return c;
}

static void
free_list(struct request *r)
{
    while (r != NULL) {
        struct request *next = r->next;
        free(r->path);
        free(r);
        r = next;
    }
}

void
ixd_rrd_creator_free(struct ixd_rrd_creator *c)
{
    if (c == NULL) {
        return;
    }
    pthread_mutex_lock(&c->lock);
    c->stop = 1;
    pthread_cond_broadcast(&c->wake);
    pthread_mutex_unlock(&c->lock);
    if (c->started) {
        pthread_join(c->thread, NULL);
    }
    free_list(c->todo);
    free_list(c->done);
    pthread_mutex_destroy(&c->lock);
    pthread_cond_destroy(&c->wake);
    pthread_cond_destroy(&c->idle);
    free(c->rrdcached);
    free(c);
}

int
ixd_rrd_creator_ask(struct ixd_rrd_creator *c, const char *path, enum ixd_rrd_kind kind,
                    int64_t start, const struct ixd_rrd_hw *hw, void *tag)
{
    struct request *r = calloc(1, sizeof(*r));

    if (r == NULL || (r->path = strdup(path)) == NULL) {
        free(r);
        return -1;
    }
    r->kind = kind;
    r->start = start;
    r->hw = *hw;
    r->tag = tag;
    pthread_mutex_lock(&c->lock);
    *c->todo_tail = r;
    c->todo_tail = &r->next;
    pthread_cond_signal(&c->wake);
    pthread_mutex_unlock(&c->lock);
    return 0;
}

void
ixd_rrd_creator_collect(struct ixd_rrd_creator *c,
                        void (*done)(void *arg, void *tag, int ok, const char *err), void *arg)
{
    struct request *list;

    pthread_mutex_lock(&c->lock);
    list = c->done;
    c->done = NULL;
    pthread_mutex_unlock(&c->lock);
    for (struct request *r = list; r != NULL; r = r->next) {
        done(arg, r->tag, r->ok, r->err);
    }
    free_list(list);
}

void
ixd_rrd_creator_settle(struct ixd_rrd_creator *c)
{
    pthread_mutex_lock(&c->lock);
    while (c->todo != NULL || c->busy) {
        pthread_cond_wait(&c->idle, &c->lock);
    }
    pthread_mutex_unlock(&c->lock);
}
