/*
 * HTTP requests through libcurl (which stays behind this folder, with zlib): one connection
 * per handle, kept alive between requests, used by one thread at a time. The ClickHouse
 * output inserts with it and the S3 upload puts objects with it (docs/sinks.md).
 */
#ifndef IXD_CURL_HTTP_H
#define IXD_CURL_HTTP_H

#include <stddef.h>
#include <stdint.h>

/* What became of a request. */
enum ixd_http_outcome {
    IXD_HTTP_ANSWERED = 0, /* a status came back (status, body) */
    IXD_HTTP_UNREACHABLE,  /* no connection: nothing was sent */
    IXD_HTTP_AMBIGUOUS,    /* the connection failed or timed out once the request had gone out:
                              the server may have acted on it */
};

struct ixd_http_request {
    const char *method;         /* "GET", "POST", "PUT" */
    const char *url;            /* with its query, escaped */
    const char *const *headers; /* "Name: value", NULL-terminated; may be NULL */
    const void *body;           /* len bytes; may be NULL */
    size_t len;
    const char *user, *password; /* HTTP basic authentication; NULL: none */
    const char *aws_sigv4;       /* "aws:amz:REGION:s3": sign with user/password as keys */
    long timeout_ms, connect_timeout_ms;
};

struct ixd_http_response {
    enum ixd_http_outcome outcome;
    long status;
    char error[256]; /* libcurl's reason when not answered */
    char *body;      /* NUL-terminated, at most IXD_HTTP_BODY_MAX bytes kept; caller frees */
    size_t body_len;
    char etag[128]; /* the ETag header, if any (S3 parts) */
};

#define IXD_HTTP_BODY_MAX (64u << 10)

struct ixd_http;

/* A handle; NULL when out of memory. Any thread (libcurl's global set-up happens once). */
struct ixd_http *ixd_http_new(void);
void ixd_http_free(struct ixd_http *h);

/* Sends the request and waits for the answer. 0 when answered (any status), -1 otherwise
 * (rs->outcome says how). rs->body is the caller's to free in both cases. */
int ixd_http_do(struct ixd_http *h, const struct ixd_http_request *rq,
                struct ixd_http_response *rs);

/* Escapes s for a URL's query into out; 0, or -1 when it does not fit. */
int ixd_http_escape(const char *s, char *out, size_t outlen);

/* gzip (RFC 1952) of in into a buffer it allocates; NULL when out of memory. */
uint8_t *ixd_gzip(const void *in, size_t len, size_t *outlen);

#endif
