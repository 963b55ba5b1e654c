/*
 * Uploads of completed files to S3-compatible object storage (docs/sinks.md#s3): the
 * `upload:` of an ipfix-file output. A thread of its own per output takes each file a worker
 * completed, puts it under a key made from a name pattern (name_pattern.h), retries with
 * backoff, and deletes the local file once the upload is confirmed (unless told not to). The
 * files waiting are bounded: past the bound the oldest is left on disk, not uploaded, counted.
 */
#ifndef IXD_OUTPUT_UPLOAD_H
#define IXD_OUTPUT_UPLOAD_H

#include <stddef.h>
#include <stdint.h>

#include "core/keys.h"
#include "ipfixd/counters.h"

struct ixd_upload_settings {
    int enabled; /* upload: was given */
    char endpoint[256];
    char bucket[64];
    char region[64];
    char key[256]; /* the object key pattern */
    struct ixd_key_file credentials_file;
    int delete_after;
    size_t multipart_threshold, part_size;
    uint32_t max_pending;
    uint32_t timeout;
};

/* IXD_KEY_CUSTOM functions for a key holding the upload: mapping (its own table of keys). */
int ixd_upload_parse(const struct ixd_key *key, const struct ixd_cnode *v, void *field,
                     const struct ixd_key_env *env, char *err, size_t errlen);
int ixd_upload_same(const void *a, const void *b);
void ixd_upload_release(void *field);

struct ixd_uploader;

/*
 * Control thread: starts the uploader of output `name` for files in directory dir; files
 * named PREFIX-*SUFFIX (suffix may be NULL) that an earlier run left there are queued when
 * delete-after-upload is on (they cannot have been confirmed). NULL with err.
 */
struct ixd_uploader *ixd_uploader_new(const struct ixd_upload_settings *s, const char *name,
                                      const char *dir, const char *prefix, const char *suffix,
                                      char *err, size_t errlen);

/* Any thread: queues a completed file (its name in the directory). */
void ixd_uploader_add(struct ixd_uploader *u, const char *file);

/* Control thread: uploads what is waiting for up to a few seconds, then stops the thread and
 * frees; files not uploaded stay on disk. NULL: nothing. */
void ixd_uploader_free(struct ixd_uploader *u);

/* Any thread: the uploader's counters. */
void ixd_uploader_stats(struct ixd_uploader *u, ixd_counter_fn fn, void *arg);

#endif
