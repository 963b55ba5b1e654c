/*
 * Uploads to S3-compatible object storage (docs/sinks.md#s3): path-style URLs
 * (ENDPOINT/BUCKET/KEY), requests signed with AWS Signature Version 4 by libcurl
 * (CURLOPT_AWS_SIGV4), the payload's SHA-256 sent as x-amz-content-sha256 (libcurl 7.88 does
 * not add it), multipart uploads for large files. Query parameters are written in the
 * canonical order and with their '=' ("?uploads="): libcurl before 8.5 signs a value-less
 * parameter differently from the servers. One thread per handle.
 */
#ifndef IXD_CURL_S3_H
#define IXD_CURL_S3_H

#include <stddef.h>

#include "curl/http.h"

struct ixd_s3 {
    const char *endpoint; /* "http://HOST:PORT", no trailing '/' */
    const char *bucket;
    const char *region;
    const char *access_key, *secret_key;
    long timeout_ms;
};

/* PUT of len bytes as key. 0, or -1 with why in err (the caller retries later). */
int ixd_s3_put(struct ixd_http *h, const struct ixd_s3 *s3, const char *key, const void *data,
               size_t len, char *err, size_t errlen);

/* A multipart upload of the size bytes of fd (read with pread) as key, in parts of part_size
 * bytes (5 MiB at least, but the last). 0, or -1 with why in err; a failed upload is
 * aborted. */
int ixd_s3_put_multipart(struct ixd_http *h, const struct ixd_s3 *s3, const char *key, int fd,
                         size_t size, size_t part_size, char *err, size_t errlen);

/* Starts a multipart upload: its upload ID into id. 0, or -1 with err. (Exposed for the
 * signature tests.) */
int ixd_s3_initiate(struct ixd_http *h, const struct ixd_s3 *s3, const char *key, char *id,
                    size_t idlen, char *err, size_t errlen);

#endif
