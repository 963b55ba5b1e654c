#include "api/jobs.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct entry {
    struct api_job *job;
    struct api_reply *reply;
    void (*done)(void *arg);
    void *arg;
};

struct api_jobs {
    pthread_t thread;
    int started;
    pthread_mutex_t lock;
    pthread_cond_t wake;
    int stop;
    unsigned cap, head, count, running;
    unsigned long long refused;
    struct entry *queue; /* a ring of cap entries */
};

/* A 503 for a job that will not run: the server is stopping. */
static void
refuse(struct entry *e)
{
    struct api_ctx ctx;

    memset(&ctx, 0, sizeof(ctx));
    ctx.path = e->job->path;
    api_problem(&ctx, e->reply, 503, "the API is stopping");
    e->job->free(e->job);
    e->done(e->arg);
}

static void *
run(void *arg)
{
    struct api_jobs *j = arg;

    pthread_mutex_lock(&j->lock);
    for (;;) {
        struct entry e;
        while (j->count == 0 && !j->stop) {
            pthread_cond_wait(&j->wake, &j->lock);
        }
        if (j->count == 0) {
            break;
        }
        e = j->queue[j->head];
        j->head = (j->head + 1) % j->cap;
        j->count--;
        if (j->stop) {
            pthread_mutex_unlock(&j->lock);
            refuse(&e);
            pthread_mutex_lock(&j->lock);
            continue;
        }
        j->running = 1;
        pthread_mutex_unlock(&j->lock);
        e.job->run(e.job, e.reply);
        e.job->free(e.job);
        e.done(e.arg); /* after this the reply is the server thread's */
        pthread_mutex_lock(&j->lock);
        j->running = 0;
    }
    pthread_mutex_unlock(&j->lock);
    return NULL;
}

struct api_jobs *
api_jobs_new(unsigned queue, char *err, size_t errlen)
{
    struct api_jobs *j = calloc(1, sizeof(*j));
    int rc;

    if (j == NULL || (j->queue = calloc(queue + 1, sizeof(*j->queue))) == NULL) {
        free(j);
        snprintf(err, errlen, "api: out of memory");
        return NULL;
    }
    j->cap = queue + 1;
    pthread_mutex_init(&j->lock, NULL);
    pthread_cond_init(&j->wake, NULL);
    rc = pthread_create(&j->thread, NULL, run, j);
    if (rc != 0) {
        snprintf(err, errlen, "api: cannot start the thread that reads time series: %s",
                 strerror(rc));
        api_jobs_free(j);
        return NULL;
    }
    j->started = 1;
    return j;
}

void
api_jobs_free(struct api_jobs *j)
{
    if (j == NULL) {
        return;
    }
    pthread_mutex_lock(&j->lock);
    j->stop = 1;
    pthread_cond_broadcast(&j->wake);
    pthread_mutex_unlock(&j->lock);
    if (j->started) {
        pthread_join(j->thread, NULL); /* it answers what waits with 503 before it ends */
    }
    pthread_mutex_destroy(&j->lock);
    pthread_cond_destroy(&j->wake);
    free(j->queue);
    free(j);
}

int
api_jobs_submit(struct api_jobs *j, struct api_job *job, struct api_reply *r,
                void (*done)(void *arg), void *arg)
{
    pthread_mutex_lock(&j->lock);
    /* one runs, cap - 1 wait */
    if (j->stop || j->count + j->running >= j->cap) {
        j->refused++;
        pthread_mutex_unlock(&j->lock);
        job->free(job);
        return -1;
    }
    j->queue[(j->head + j->count) % j->cap] = (struct entry){job, r, done, arg};
    j->count++;
    pthread_cond_signal(&j->wake);
    pthread_mutex_unlock(&j->lock);
    return 0;
}

void
api_jobs_counts(struct api_jobs *j, unsigned *queued, unsigned long long *refused)
{
    pthread_mutex_lock(&j->lock);
    *queued = j->count + j->running;
    *refused = j->refused;
    pthread_mutex_unlock(&j->lock);
}
