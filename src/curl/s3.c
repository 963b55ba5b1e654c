#include "curl/s3.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "crypto/sha256.h"

#define PARTS_MAX 10000 /* S3's limit */

/* One signed request: method, key and query, body. 0 when answered with 200, else -1. */
static int
request(struct ixd_http *h, const struct ixd_s3 *s3, const char *method, const char *key,
        const char *query, const void *body, size_t len, struct ixd_http_response *rs, char *err,
        size_t errlen)
{
    char url[2048], sha[65], sha_h[96], provider[128];
    const char *headers[2] = {sha_h, NULL};
    struct ixd_http_request rq = {.method = method,
                                  .url = url,
                                  .headers = headers,
                                  .body = body,
                                  .len = len,
                                  .user = s3->access_key,
                                  .password = s3->secret_key,
                                  .aws_sigv4 = provider,
                                  .timeout_ms = s3->timeout_ms,
                                  .connect_timeout_ms = 5000};

    if (snprintf(url, sizeof(url), "%s/%s/%s%s%s", s3->endpoint, s3->bucket, key,
                 query != NULL ? "?" : "", query != NULL ? query : "") >= (int)sizeof(url)) {
        snprintf(err, errlen, "the object's URL is too long");
        return -1;
    }
    snprintf(provider, sizeof(provider), "aws:amz:%s:s3", s3->region);
    ixd_sha256_hex(body != NULL ? body : "", len, sha);
    snprintf(sha_h, sizeof(sha_h), "x-amz-content-sha256: %s", sha);
    /* libcurl 7.88 adds x-amz-date itself (a second one would be signed as well) */
    if (ixd_http_do(h, &rq, rs) == -1) {
        snprintf(err, errlen, "%s", rs->error);
        return -1;
    }
    if (rs->status != 200) {
        const char *code = rs->body != NULL ? strstr(rs->body, "<Code>") : NULL;
        snprintf(err, errlen, "HTTP %ld%s%.*s", rs->status, code != NULL ? ": " : "",
                 code != NULL ? (int)strcspn(code + 6, "<") : 0, code != NULL ? code + 6 : "");
        return -1;
    }
    return 0;
}

int
ixd_s3_put(struct ixd_http *h, const struct ixd_s3 *s3, const char *key, const void *data,
           size_t len, char *err, size_t errlen)
{
    struct ixd_http_response rs;
    int rc = request(h, s3, "PUT", key, NULL, data, len, &rs, err, errlen);

    free(rs.body);
    return rc;
}

/* The text of <tag>...</tag> in xml into out; 0, or -1 when absent. */
static int
xml_value(const char *xml, const char *tag, char *out, size_t outlen)
{
    char open[64];
    const char *at;
    size_t n;

    snprintf(open, sizeof(open), "<%s>", tag);
    at = xml != NULL ? strstr(xml, open) : NULL;
    if (at == NULL) {
        return -1;
    }
    at += strlen(open);
    n = strcspn(at, "<");
    if (n == 0 || n >= outlen) {
        return -1;
    }
    memcpy(out, at, n);
    out[n] = '\0';
    return 0;
}

int
ixd_s3_initiate(struct ixd_http *h, const struct ixd_s3 *s3, const char *key, char *id,
                size_t idlen, char *err, size_t errlen)
{
    struct ixd_http_response rs;
    int rc = request(h, s3, "POST", key, "uploads=", NULL, 0, &rs, err, errlen);

    if (rc == 0 && xml_value(rs.body, "UploadId", id, idlen) == -1) {
        snprintf(err, errlen, "no UploadId in the answer to initiating a multipart upload");
        rc = -1;
    }
    free(rs.body);
    return rc;
}

static void
abort_upload(struct ixd_http *h, const struct ixd_s3 *s3, const char *key, const char *eid)
{
    struct ixd_http_response rs;
    char query[1700], why[256];

    snprintf(query, sizeof(query), "uploadId=%s", eid);
    request(h, s3, "DELETE", key, query, NULL, 0, &rs, why, sizeof(why));
    free(rs.body);
}

/* Uploads the parts, noting each ETag in the completion document xml. */
static int
put_parts(struct ixd_http *h, const struct ixd_s3 *s3, const char *key, const char *eid, int fd,
          size_t size, size_t part_size, char **xml, char *err, size_t errlen)
{
    size_t nparts = (size + part_size - 1) / part_size, used = 0, cap = 128 + nparts * 256;
    char *buf = malloc(part_size), *doc = malloc(cap);
    int rc = -1;

    if (buf == NULL || doc == NULL) {
        snprintf(err, errlen, "out of memory for a part");
        goto done;
    }
    used = (size_t)snprintf(doc, cap, "<CompleteMultipartUpload>");
    for (size_t i = 0; i < nparts; i++) {
        size_t len = i + 1 < nparts ? part_size : size - i * part_size;
        struct ixd_http_response rs;
        char query[1700];
        if (pread(fd, buf, len, (off_t)(i * part_size)) != (ssize_t)len) {
            snprintf(err, errlen, "cannot read part %zu of the file", i + 1);
            goto done;
        }
        snprintf(query, sizeof(query), "partNumber=%zu&uploadId=%s", i + 1, eid);
        if (request(h, s3, "PUT", key, query, buf, len, &rs, err, errlen) == -1 ||
            rs.etag[0] == '\0') {
            if (rs.etag[0] == '\0' && rs.outcome == IXD_HTTP_ANSWERED && rs.status == 200) {
                snprintf(err, errlen, "no ETag for part %zu", i + 1);
            }
            free(rs.body);
            goto done;
        }
        used += (size_t)snprintf(doc + used, cap - used,
                                 "<Part><PartNumber>%zu</PartNumber><ETag>%s</ETag></Part>", i + 1,
                                 rs.etag);
        free(rs.body);
    }
    snprintf(doc + used, cap - used, "</CompleteMultipartUpload>");
    *xml = doc;
    doc = NULL;
    rc = 0;
done:
    free(buf);
    free(doc);
    return rc;
}

int
ixd_s3_put_multipart(struct ixd_http *h, const struct ixd_s3 *s3, const char *key, int fd,
                     size_t size, size_t part_size, char *err, size_t errlen)
{
    char id[512], eid[1600], query[1700];
    struct ixd_http_response rs;
    char *xml = NULL;
    int rc;

    if ((size + part_size - 1) / part_size > PARTS_MAX) {
        snprintf(err, errlen, "more than %d parts: raise part-size", PARTS_MAX);
        return -1;
    }
    if (ixd_s3_initiate(h, s3, key, id, sizeof(id), err, errlen) == -1) {
        return -1;
    }
    if (ixd_http_escape(id, eid, sizeof(eid)) == -1) {
        snprintf(err, errlen, "an upload ID too long");
        return -1;
    }
    if (put_parts(h, s3, key, eid, fd, size, part_size, &xml, err, errlen) == -1) {
        abort_upload(h, s3, key, eid);
        return -1;
    }
    snprintf(query, sizeof(query), "uploadId=%s", eid);
    rc = request(h, s3, "POST", key, query, xml, strlen(xml), &rs, err, errlen);
    /* S3 may answer 200 with an error in the body */
    if (rc == 0 && rs.body != NULL && strstr(rs.body, "<Error>") != NULL) {
        snprintf(err, errlen, "completing the upload failed: %.200s", rs.body);
        rc = -1;
    }
    if (rc == -1) {
        abort_upload(h, s3, key, eid);
    }
    free(rs.body);
    free(xml);
    return rc;
}
