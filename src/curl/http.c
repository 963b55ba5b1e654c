#include "curl/http.h"

#include <curl/curl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <zlib.h>

struct ixd_http {
    CURL *curl;
};

static pthread_once_t global_once = PTHREAD_ONCE_INIT;
static CURLcode global_rc;

static void
global_init(void)
{
    global_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

struct ixd_http *
ixd_http_new(void)
{
    struct ixd_http *h;

    pthread_once(&global_once, global_init);
    if (global_rc != CURLE_OK) {
        return NULL;
    }
    h = calloc(1, sizeof(*h));
    if (h == NULL) {
        return NULL;
    }
    h->curl = curl_easy_init();
    if (h->curl == NULL) {
        free(h);
        return NULL;
    }
    return h;
}

void
ixd_http_free(struct ixd_http *h)
{
    if (h != NULL) {
        curl_easy_cleanup(h->curl);
        free(h);
    }
}

/* The answer's body, kept up to IXD_HTTP_BODY_MAX bytes (error messages, XML of S3). */
static size_t
on_body(char *p, size_t size, size_t n, void *arg)
{
    struct ixd_http_response *rs = arg;
    size_t len = size * n, keep = len;

    if (rs->body_len + keep > IXD_HTTP_BODY_MAX) {
        keep = IXD_HTTP_BODY_MAX - rs->body_len;
    }
    if (keep > 0) {
        char *grown = realloc(rs->body, rs->body_len + keep + 1);
        if (grown == NULL) {
            return 0;
        }
        rs->body = grown;
        memcpy(rs->body + rs->body_len, p, keep);
        rs->body_len += keep;
        rs->body[rs->body_len] = '\0';
    }
    return len;
}

static size_t
on_header(char *p, size_t size, size_t n, void *arg)
{
    struct ixd_http_response *rs = arg;
    size_t len = size * n;

    if (len > 5 && strncasecmp(p, "etag:", 5) == 0) {
        size_t at = 5, end = len;
        while (at < end && (p[at] == ' ' || p[at] == '\t')) {
            at++;
        }
        while (end > at && (p[end - 1] == '\r' || p[end - 1] == '\n' || p[end - 1] == ' ')) {
            end--;
        }
        snprintf(rs->etag, sizeof(rs->etag), "%.*s", (int)(end - at), p + at);
    }
    return len;
}

/* Whether the failure happened before anything could reach the server. */
static int
nothing_sent(CURLcode rc, CURL *c)
{
    curl_off_t up = 0;

    if (rc == CURLE_COULDNT_CONNECT || rc == CURLE_COULDNT_RESOLVE_HOST ||
        rc == CURLE_COULDNT_RESOLVE_PROXY || rc == CURLE_SSL_CONNECT_ERROR) {
        return 1;
    }
    curl_easy_getinfo(c, CURLINFO_SIZE_UPLOAD_T, &up);
    return rc == CURLE_OPERATION_TIMEDOUT && up == 0 &&
           curl_easy_getinfo(c, CURLINFO_CONNECT_TIME_T, &up) == CURLE_OK && up == 0;
}

static struct curl_slist *
header_list(const char *const *headers, int signed_request, int *failed)
{
    struct curl_slist *list = NULL, *grown;

    *failed = 0;
    /* curl would ask for a 100-continue on large bodies: a round trip for nothing here. Not
     * on a signed request: libcurl 7.88 would sign the empty header it then does not send. */
    if (!signed_request) {
        list = curl_slist_append(list, "Expect:");
        *failed = list == NULL;
    }
    for (size_t i = 0; !*failed && headers != NULL && headers[i] != NULL; i++) {
        grown = curl_slist_append(list, headers[i]);
        if (grown == NULL) {
            *failed = 1;
            break;
        }
        list = grown;
    }
    if (*failed) {
        curl_slist_free_all(list);
        return NULL;
    }
    return list;
}

int
ixd_http_do(struct ixd_http *h, const struct ixd_http_request *rq, struct ixd_http_response *rs)
{
    CURL *c = h->curl;
    struct curl_slist *hl;
    int failed;
    CURLcode rc;

    memset(rs, 0, sizeof(*rs));
    hl = header_list(rq->headers, rq->aws_sigv4 != NULL, &failed);
    if (failed) {
        rs->outcome = IXD_HTTP_UNREACHABLE;
        snprintf(rs->error, sizeof(rs->error), "out of memory");
        return -1;
    }
    curl_easy_reset(c);
    curl_easy_setopt(c, CURLOPT_URL, rq->url);
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, rq->method);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, hl);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, rq->timeout_ms);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, rq->connect_timeout_ms);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, rs);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, rs);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    if (strcmp(rq->method, "GET") != 0) {
        curl_easy_setopt(c, CURLOPT_POST, 1L);
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, rq->body != NULL ? rq->body : "");
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)rq->len);
        curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, rq->method);
    }
    if (rq->user != NULL) {
        curl_easy_setopt(c, CURLOPT_USERNAME, rq->user);
        curl_easy_setopt(c, CURLOPT_PASSWORD, rq->password != NULL ? rq->password : "");
    }
    if (rq->aws_sigv4 != NULL) {
        curl_easy_setopt(c, CURLOPT_AWS_SIGV4, rq->aws_sigv4);
    }
    rc = curl_easy_perform(c);
    curl_slist_free_all(hl);
    if (rc == CURLE_OK) {
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &rs->status);
        rs->outcome = IXD_HTTP_ANSWERED;
        return 0;
    }
    rs->outcome = nothing_sent(rc, c) ? IXD_HTTP_UNREACHABLE : IXD_HTTP_AMBIGUOUS;
    snprintf(rs->error, sizeof(rs->error), "%s", curl_easy_strerror(rc));
    return -1;
}

int
ixd_http_escape(const char *s, char *out, size_t outlen)
{
    size_t o = 0;

    for (; *s != '\0'; s++) {
        unsigned char ch = (unsigned char)*s;
        int plain = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
                    (ch >= '0' && ch <= '9') || ch == '-' || ch == '_' || ch == '.' || ch == '~';
        if (o + (plain ? 1 : 3) >= outlen) {
            return -1;
        }
        if (plain) {
            out[o++] = (char)ch;
        } else {
            out[o++] = '%';
            out[o++] = "0123456789ABCDEF"[ch >> 4];
            out[o++] = "0123456789ABCDEF"[ch & 15];
        }
    }
    if (o >= outlen) {
        return -1;
    }
    out[o] = '\0';
    return 0;
}

uint8_t *
ixd_gzip(const void *in, size_t len, size_t *outlen)
{
    z_stream z;
    uint8_t *out;
    size_t cap;

    memset(&z, 0, sizeof(z));
    /* level 1: rows of flows compress well at the cheapest level (docs/benchmarks.md) */
    if (deflateInit2(&z, 1, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
        return NULL;
    }
    cap = deflateBound(&z, (uLong)len);
    out = malloc(cap);
    if (out == NULL) {
        deflateEnd(&z);
        return NULL;
    }
    z.next_in = (Bytef *)(uintptr_t)in;
    z.avail_in = (uInt)len;
    z.next_out = out;
    z.avail_out = (uInt)cap;
    if (deflate(&z, Z_FINISH) != Z_STREAM_END) {
        deflateEnd(&z);
        free(out);
        return NULL;
    }
    *outlen = z.total_out;
    deflateEnd(&z);
    return out;
}
