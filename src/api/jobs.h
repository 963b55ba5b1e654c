/*
 * GETs answered on a thread of their own (docs/internals/api-connections.md#answered-later):
 * reading an RRD series and drawing its graph touch the disk (and librrd's graph code is not
 * safe concurrently), so the server's thread hands them here, suspends the connection and goes
 * on answering others; the job thread leaves the answer and resumes the connection. One
 * thread, a bounded queue: past it a request is refused with 429 at once.
 *
 * Threads: the server thread submits; the job thread runs; api_jobs_new/free the control
 * thread (free before the server stops: every connection it suspended is resumed first).
 */
#ifndef IXD_API_JOBS_H
#define IXD_API_JOBS_H

#include <stddef.h>

#include "api/internal.h"

/* A job: what run() needs, and how it is freed. run() fills the reply on the job thread. */
struct api_job {
    void (*run)(struct api_job *job, struct api_reply *r);
    void (*free)(struct api_job *job);
    char path[512]; /* the request's, for problems */
};

struct api_jobs;

/* A job thread with room for `queue` waiting jobs; NULL with err. */
struct api_jobs *api_jobs_new(unsigned queue, char *err, size_t errlen);
/* Answers what waits with 503, waits for the job that runs, and frees. NULL: no-op. */
void api_jobs_free(struct api_jobs *j);

/*
 * Queues job (taken over) whose answer goes into *r, after which done(arg) is called on the
 * job thread. 0; or -1 when the queue is full or stopping (the job is freed, nothing called).
 */
int api_jobs_submit(struct api_jobs *j, struct api_job *job, struct api_reply *r,
                    void (*done)(void *arg), void *arg);

/* Jobs waiting and running now; refused since the start. Any thread. */
void api_jobs_counts(struct api_jobs *j, unsigned *queued, unsigned long long *refused);

#endif
