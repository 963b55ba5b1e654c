#include "output/upload.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/config.h"
#include "core/log.h"
#include "core/relaxed_counter.h"
#include "curl/s3.h"
#include "output/name_pattern.h"

#define BACKOFF_MIN 1.0
#define BACKOFF_MAX 300.0
#define CLOSE_SECONDS 5.0 /* what stopping gives the files still waiting */
#define NAME_MAX_LEN 256

static const struct ixd_key upload_keys[] = {
    {.name = "endpoint",
     .kind = IXD_KEY_STRING,
     IXD_KEY_AT(struct ixd_upload_settings, endpoint),
     .help = "the service's URL, http(s)://HOST[:PORT] (objects at ENDPOINT/BUCKET/KEY)"},
    {.name = "bucket", .kind = IXD_KEY_NAME, IXD_KEY_AT(struct ixd_upload_settings, bucket)},
    {.name = "region",
     .kind = IXD_KEY_NAME,
     IXD_KEY_AT(struct ixd_upload_settings, region),
     .def = "us-east-1"},
    {.name = "key",
     .kind = IXD_KEY_STRING,
     IXD_KEY_AT(struct ixd_upload_settings, key),
     .def = "{host}/{output}/%Y/%m/%d/{file}",
     .help = "object key pattern: {host}, {output}, {file}, %Y %m %d %H %M %S"},
    {.name = "credentials-file",
     .kind = IXD_KEY_FILE,
     IXD_KEY_AT(struct ixd_upload_settings, credentials_file),
     .file_use = 1 + IXD_FILE_SECRET,
     .reload = IXD_RELOAD_CONTENT,
     .help = "access key ID on the first line, secret key on the second; without it "
             "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY"},
    {.name = "delete-after-upload",
     .kind = IXD_KEY_BOOL,
     IXD_KEY_AT(struct ixd_upload_settings, delete_after),
     .def = "true"},
    {.name = "multipart-threshold",
     .kind = IXD_KEY_SIZE,
     IXD_KEY_AT(struct ixd_upload_settings, multipart_threshold),
     .min = 5u << 20,
     .def = "16M"},
    {.name = "part-size",
     .kind = IXD_KEY_SIZE,
     IXD_KEY_AT(struct ixd_upload_settings, part_size),
     .min = 5u << 20,
     .def = "8M"},
    {.name = "max-pending",
     .kind = IXD_KEY_U32,
     IXD_KEY_AT(struct ixd_upload_settings, max_pending),
     .min = 1,
     .max = 1000000,
     .def = "1000",
     .help = "files waiting at most; past it the oldest is left on disk, not uploaded"},
    {.name = "timeout",
     .kind = IXD_KEY_DURATION,
     IXD_KEY_AT(struct ixd_upload_settings, timeout),
     .min = 1,
     .def = "120s"},
    {NULL},
};

int
ixd_upload_parse(const struct ixd_key *key, const struct ixd_cnode *v, void *field,
                 const struct ixd_key_env *env, char *err, size_t errlen)
{
    struct ixd_upload_settings *s = field;
    char why[256];

    (void)key;
    if (v->kind != IXD_CNODE_MAPPING) {
        return ixd_cnode_fail(v, env->file, err, errlen,
                              "upload must be a mapping (endpoint, bucket, ...)");
    }
    if (ixd_keys_parse(upload_keys, v, s, env, err, errlen) == -1) {
        return -1;
    }
    if (strncmp(s->endpoint, "http://", 7) != 0 && strncmp(s->endpoint, "https://", 8) != 0) {
        return ixd_cnode_fail(v, env->file, err, errlen,
                              "upload needs an endpoint, http(s)://HOST[:PORT]");
    }
    if (s->bucket[0] == '\0') {
        return ixd_cnode_fail(v, env->file, err, errlen, "upload needs a bucket");
    }
    if (ixd_pattern_check(s->key, IXD_PATTERN_HOST | IXD_PATTERN_OUTPUT | IXD_PATTERN_FILE,
                          IXD_PATTERN_OBJECT_KEY, why, sizeof(why)) == -1 ||
        s->key[0] == '/') {
        const struct ixd_cnode *at = ixd_cnode_get(v, "key");
        return ixd_cnode_fail(at != NULL ? at : v, env->file, err, errlen, "key: %s",
                              s->key[0] == '/' ? "an object key does not start with '/'" : why);
    }
    if (s->part_size > s->multipart_threshold) {
        return ixd_cnode_fail(v, env->file, err, errlen,
                              "part-size must not exceed multipart-threshold");
    }
    /* the output reads them when it opens: -t says now what would stop the daemon there */
    if (s->credentials_file.path[0] == '\0' && !(env->flags & IXD_CONFIG_SYNTAX_ONLY) &&
        (getenv("AWS_ACCESS_KEY_ID") == NULL || getenv("AWS_SECRET_ACCESS_KEY") == NULL)) {
        return ixd_cnode_fail(v, env->file, err, errlen,
                              "upload: no credentials-file, and AWS_ACCESS_KEY_ID or "
                              "AWS_SECRET_ACCESS_KEY is not set");
    }
    s->enabled = 1;
    return 0;
}

int
ixd_upload_same(const void *a, const void *b)
{
    return ixd_keys_same(upload_keys, a, b, IXD_KEYS_ALL);
}

void
ixd_upload_release(void *field)
{
    ixd_keys_release(upload_keys, field);
}

/* ---- the uploader ---- */

struct pending {
    char name[NAME_MAX_LEN];
    double retry_at, backoff;
};

struct ixd_uploader {
    const struct ixd_upload_settings *s;
    const char *name;
    char dir[IXD_PATH_MAX];
    int dirfd;
    char host[128];
    char access_key[256], secret_key[256];
    struct ixd_http *http;
    pthread_t thread;
    int started;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int stop;
    struct pending *q; /* a ring, oldest at head; mu */
    size_t cap, head, n;
    struct ixd_ratelimit errors;
    /* counters: written under mu or by the thread */
    uint64_t files, bytes, failures, abandoned, waiting;
};

/* Queues a file; past max-pending the oldest is given up. Called with mu held. */
static void
push_locked(struct ixd_uploader *u, const char *file)
{
    if (u->n == u->cap) {
        struct pending *old = &u->q[u->head];
        log_err("output %s: %zu files wait for upload: %s/%s is left on disk, not uploaded",
                u->name, u->n, u->dir, old->name);
        IXD_CNT_ADD(u->abandoned, 1);
        u->head = (u->head + 1) % u->cap;
        u->n--;
    }
    struct pending *p = &u->q[(u->head + u->n) % u->cap];
    snprintf(p->name, sizeof(p->name), "%s", file);
    p->retry_at = 0;
    p->backoff = 0;
    u->n++;
    IXD_CNT_SET(u->waiting, (uint64_t)u->n);
}

void
ixd_uploader_add(struct ixd_uploader *u, const char *file)
{
    pthread_mutex_lock(&u->mu);
    push_locked(u, file);
    pthread_cond_signal(&u->cv);
    pthread_mutex_unlock(&u->mu);
}

/* Uploads one file: 0, 1 when it is gone, or -1 with why (to be retried). The uploader's
 * thread. */
static int
upload_file(struct ixd_uploader *u, const char *file, char *why, size_t whylen)
{
    struct ixd_s3 s3 = {.endpoint = u->s->endpoint,
                        .bucket = u->s->bucket,
                        .region = u->s->region,
                        .access_key = u->access_key,
                        .secret_key = u->secret_key,
                        .timeout_ms = (long)u->s->timeout * 1000};
    struct ixd_pattern_vars v = {.host = u->host, .output = u->name, .file = file};
    char key[1024];
    struct stat st;
    void *data = NULL;
    int fd = openat(u->dirfd, file, O_RDONLY | O_CLOEXEC), rc = -1;

    if (fd == -1 && errno == ENOENT) {
        rc = 1; /* gone: uploaded and removed by the output this one replaced at a reload */
        goto done;
    }
    if (fd == -1 || fstat(fd, &st) == -1) {
        snprintf(why, whylen, "cannot open it: %s", strerror(errno));
        goto done;
    }
    /* the file's completion time names its day: a retry or a restart uses the same key */
    if (ixd_pattern_expand(u->s->key, &v, st.st_mtime, IXD_PATTERN_OBJECT_KEY, key, sizeof(key)) ==
        0) {
        snprintf(why, whylen, "its object key is too long");
        goto done;
    }
    if ((size_t)st.st_size >= u->s->multipart_threshold) {
        rc = ixd_s3_put_multipart(u->http, &s3, key, fd, (size_t)st.st_size, u->s->part_size, why,
                                  whylen);
    } else {
        data = malloc(st.st_size > 0 ? (size_t)st.st_size : 1);
        if (data == NULL || pread(fd, data, (size_t)st.st_size, 0) != (ssize_t)st.st_size) {
            snprintf(why, whylen, "cannot read it");
            goto done;
        }
        rc = ixd_s3_put(u->http, &s3, key, data, (size_t)st.st_size, why, whylen);
    }
    if (rc == 0) {
        IXD_CNT_ADD(u->files, 1);
        IXD_CNT_ADD(u->bytes, (uint64_t)st.st_size);
        log_info("output %s: uploaded %s/%s as %s/%s", u->name, u->dir, file, u->s->bucket, key);
    }
done:
    free(data);
    if (fd != -1) {
        close(fd);
    }
    return rc;
}

/* The next file due, taken off the queue into out; 0 when none is due (*wait: seconds until
 * one is). Called with mu held. */
static int
take_due(struct ixd_uploader *u, struct pending *out, double *wait)
{
    double now = ixd_mono_now();

    *wait = 1.0;
    if (u->n == 0) {
        return 0;
    }
    if (u->q[u->head].retry_at > now) {
        *wait = u->q[u->head].retry_at - now;
        return 0;
    }
    *out = u->q[u->head];
    u->head = (u->head + 1) % u->cap;
    u->n--;
    return 1;
}

/* A failed file goes back first in line, to keep the order, after a backoff. mu held. */
static void
put_back_locked(struct ixd_uploader *u, struct pending *p)
{
    p->backoff = p->backoff < BACKOFF_MIN ? BACKOFF_MIN : p->backoff * 2;
    if (p->backoff > BACKOFF_MAX) {
        p->backoff = BACKOFF_MAX;
    }
    p->retry_at = ixd_mono_now() + p->backoff;
    if (u->n == u->cap) {
        IXD_CNT_ADD(u->abandoned, 1); /* the queue filled while it was out */
        return;
    }
    u->head = (u->head + u->cap - 1) % u->cap;
    u->q[u->head] = *p;
    u->n++;
}

static void
finish(struct ixd_uploader *u, struct pending *p)
{
    if (u->s->delete_after && unlinkat(u->dirfd, p->name, 0) == -1) {
        log_err("output %s: cannot delete %s/%s after its upload: %s", u->name, u->dir, p->name,
                strerror(errno));
    }
}

static void *
uploader_main(void *arg)
{
    struct ixd_uploader *u = arg;
    struct pending p;
    double wait, stop_by = 0;
    char why[512];

    pthread_mutex_lock(&u->mu);
    for (;;) {
        if (u->stop && stop_by == 0) {
            stop_by = ixd_mono_now() + CLOSE_SECONDS;
        }
        if (u->stop && (u->n == 0 || ixd_mono_now() >= stop_by)) {
            break;
        }
        if (!take_due(u, &p, &wait)) {
            struct timespec ts;
            if (u->stop && wait > 0.2) {
                wait = 0.2; /* stopping: the deadline is looked at often */
            }
            clock_gettime(CLOCK_REALTIME, &ts);
            ts.tv_sec += (time_t)wait;
            ts.tv_nsec += (long)((wait - (double)(time_t)wait) * 1e9);
            if (ts.tv_nsec >= 1000000000) {
                ts.tv_sec++;
                ts.tv_nsec -= 1000000000;
            }
            pthread_cond_timedwait(&u->cv, &u->mu, &ts);
            continue;
        }
        pthread_mutex_unlock(&u->mu);
        int rc = upload_file(u, p.name, why, sizeof(why));
        if (rc == 0) {
            finish(u, &p);
        } else if (rc == -1) {
            IXD_CNT_ADD(u->failures, 1);
            ixd_log_limited(&u->errors, ixd_mono_now(), IXD_LOG_WARNING,
                            "output %s: cannot upload %s/%s, will retry: %s", u->name, u->dir,
                            p.name, why);
        }
        pthread_mutex_lock(&u->mu);
        if (rc == -1) {
            put_back_locked(u, &p);
        }
        IXD_CNT_SET(u->waiting, (uint64_t)u->n);
    }
    pthread_mutex_unlock(&u->mu);
    return NULL;
}

/* The keys: the credentials file's two lines, or the environment. */
static int
read_credentials(struct ixd_uploader *u, char *err, size_t errlen)
{
    const char *path = u->s->credentials_file.path;
    const char *id = getenv("AWS_ACCESS_KEY_ID"), *secret = getenv("AWS_SECRET_ACCESS_KEY");
    FILE *f;

    if (path[0] == '\0') {
        if (id == NULL || secret == NULL) {
            snprintf(err, errlen,
                     "upload: no credentials-file, and AWS_ACCESS_KEY_ID or "
                     "AWS_SECRET_ACCESS_KEY is not set");
            return -1;
        }
        snprintf(u->access_key, sizeof(u->access_key), "%s", id);
        snprintf(u->secret_key, sizeof(u->secret_key), "%s", secret);
        return 0;
    }
    f = fopen(path, "re");
    if (f == NULL || fgets(u->access_key, sizeof(u->access_key), f) == NULL ||
        fgets(u->secret_key, sizeof(u->secret_key), f) == NULL) {
        snprintf(err, errlen,
                 "upload: %s must hold the access key ID and the secret key, one a "
                 "line",
                 path);
        if (f != NULL) {
            fclose(f);
        }
        return -1;
    }
    fclose(f);
    u->access_key[strcspn(u->access_key, "\r\n")] = '\0';
    u->secret_key[strcspn(u->secret_key, "\r\n")] = '\0';
    return 0;
}

static int
by_name(const void *a, const void *b)
{
    return strcmp(((const struct pending *)a)->name, ((const struct pending *)b)->name);
}

/* Completed files of this output that an earlier run left: they wait for upload, oldest name
 * (time stamp) first. */
static void
queue_leftovers(struct ixd_uploader *u, const char *prefix, const char *suffix)
{
    DIR *d = fdopendir(dup(u->dirfd));
    struct dirent *de;
    size_t plen = strlen(prefix), slen = suffix != NULL ? strlen(suffix) : 0, first = u->n;

    if (d == NULL) {
        return;
    }
    while ((de = readdir(d)) != NULL) {
        size_t len = strlen(de->d_name);
        if (len < plen + 2 + slen || len >= NAME_MAX_LEN ||
            strncmp(de->d_name, prefix, plen) != 0 || de->d_name[plen] != '-' ||
            (slen > 0 && strcmp(de->d_name + len - slen, suffix) != 0)) {
            continue;
        }
        if (u->n < u->cap) {
            push_locked(u, de->d_name);
        }
    }
    closedir(d);
    qsort(u->q + first, u->n - first, sizeof(*u->q), by_name); /* head is 0 here */
    if (u->n > 0) {
        log_info("output %s: %zu files an earlier run left wait for upload", u->name, u->n);
    }
}

struct ixd_uploader *
ixd_uploader_new(const struct ixd_upload_settings *s, const char *name, const char *dir,
                 const char *prefix, const char *suffix, char *err, size_t errlen)
{
    struct ixd_uploader *u = calloc(1, sizeof(*u));
    int rc;

    if (u == NULL) {
        snprintf(err, errlen, "output %s: out of memory", name);
        return NULL;
    }
    u->s = s;
    u->name = name;
    u->dirfd = -1;
    snprintf(u->dir, sizeof(u->dir), "%s", dir);
    pthread_mutex_init(&u->mu, NULL);
    pthread_cond_init(&u->cv, NULL);
    if (gethostname(u->host, sizeof(u->host)) == -1) {
        snprintf(u->host, sizeof(u->host), "localhost");
    }
    u->cap = s->max_pending;
    u->q = calloc(u->cap, sizeof(*u->q));
    u->http = ixd_http_new();
    u->dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (u->q == NULL || u->http == NULL || u->dirfd == -1) {
        snprintf(err, errlen, "output %s: upload: cannot set up: %s", name, strerror(errno));
        goto fail;
    }
    if (read_credentials(u, err, errlen) == -1) {
        goto fail;
    }
    if (s->delete_after) {
        queue_leftovers(u, prefix, suffix);
    }
    rc = pthread_create(&u->thread, NULL, uploader_main, u);
    if (rc != 0) {
        snprintf(err, errlen, "output %s: upload: cannot start: %s", name, strerror(rc));
        goto fail;
    }
    u->started = 1;
    {
        char tname[16];
        snprintf(tname, sizeof(tname), "ixd-up-%s", name);
        pthread_setname_np(u->thread, tname);
    }
    return u;
fail:
    ixd_uploader_free(u);
    return NULL;
}

void
ixd_uploader_free(struct ixd_uploader *u)
{
    if (u == NULL) {
        return;
    }
    if (u->started) {
        pthread_mutex_lock(&u->mu);
        u->stop = 1;
        pthread_cond_signal(&u->cv);
        pthread_mutex_unlock(&u->mu);
        pthread_join(u->thread, NULL);
        if (u->n > 0) {
            log_warn("output %s: %zu files not uploaded stay in %s", u->name, u->n, u->dir);
        }
    }
    explicit_bzero(u->secret_key, sizeof(u->secret_key));
    ixd_http_free(u->http);
    if (u->dirfd != -1) {
        close(u->dirfd);
    }
    pthread_cond_destroy(&u->cv);
    pthread_mutex_destroy(&u->mu);
    free(u->q);
    free(u);
}

static const struct ixd_counter_def upload_defs[] = {
    {.key = "uploaded",
     .metric = "ipfixd_output_uploaded_files_total",
     .kind = IXD_COUNTER_TOTAL,
     .help = "files the object store confirmed"},
    {.key = "uploaded_bytes",
     .metric = "ipfixd_output_uploaded_bytes_total",
     .kind = IXD_COUNTER_TOTAL,
     .help = "bytes of those files"},
    {.key = "upload_failures",
     .metric = "ipfixd_output_upload_failures_total",
     .kind = IXD_COUNTER_TOTAL,
     .help = "upload attempts that failed (retried)"},
    {.key = "upload_abandoned",
     .metric = "ipfixd_output_upload_abandoned_files_total",
     .kind = IXD_COUNTER_TOTAL,
     .help = "files left on disk, not uploaded, past max-pending"},
    {.key = "upload_waiting",
     .metric = "ipfixd_output_upload_waiting_files",
     .kind = IXD_COUNTER_GAUGE,
     .help = "files waiting for upload"},
};

void
ixd_uploader_stats(struct ixd_uploader *u, ixd_counter_fn fn, void *arg)
{
    fn(arg, &upload_defs[0], NULL, IXD_CNT_GET(u->files));
    fn(arg, &upload_defs[1], NULL, IXD_CNT_GET(u->bytes));
    fn(arg, &upload_defs[2], NULL, IXD_CNT_GET(u->failures));
    fn(arg, &upload_defs[3], NULL, IXD_CNT_GET(u->abandoned));
    fn(arg, &upload_defs[4], NULL, IXD_CNT_GET(u->waiting));
}
