/* Replay: files of back-to-back IPFIX messages (RFC 5655 files or raw UDP payload dumps) and
 * UDP payloads from pcap captures, sent unchanged. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* O_CLOEXEC */
#endif
#include "send_replay.h"
#include "send_count.h"
#include "send_pcap.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Sanity limit: files are read into memory whole. */
#define MAX_FILE_BYTES ((size_t)1 << 32)

static int
read_all(int fd, uint8_t *buf, size_t len)
{
    size_t got = 0;
    while (got < len) {
        ssize_t n = read(fd, buf + got, len - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            if (n == 0)
                errno = EIO; /* the file shrank under us */
            return -1;
        }
        got += (size_t)n;
    }
    return 0;
}

/* Read path into a fresh buffer; prints the error and returns -1 on failure. */
static int
load_file(const char *path, uint8_t **out, size_t *out_len)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    struct stat st;
    uint8_t *buf = NULL;

    if (fd < 0 || fstat(fd, &st) < 0) {
        fprintf(stderr, SEND_PROG ": cannot open '%s': %s\n", path, strerror(errno));
        goto fail;
    }
    if (!S_ISREG(st.st_mode) || st.st_size == 0 || (uint64_t)st.st_size > MAX_FILE_BYTES) {
        fprintf(stderr, SEND_PROG ": %s: %s\n", path,
                !S_ISREG(st.st_mode) ? "not a regular file"
                : st.st_size == 0    ? "file is empty"
                                     : "file too large");
        goto fail;
    }
    buf = malloc((size_t)st.st_size);
    if (!buf) {
        fprintf(stderr, SEND_PROG ": %s: out of memory\n", path);
        goto fail;
    }
    if (read_all(fd, buf, (size_t)st.st_size) < 0) {
        fprintf(stderr, SEND_PROG ": cannot read '%s': %s\n", path, strerror(errno));
        goto fail;
    }
    close(fd);
    *out = buf;
    *out_len = (size_t)st.st_size;
    return 0;
fail:
    free(buf);
    if (fd >= 0)
        close(fd);
    return -1;
}

/* Cut a file into messages at each header's length field, checking every header first. */
static int
split_ipfix(const char *path, const uint8_t *buf, size_t len, struct msg_list *out)
{
    for (size_t pos = 0; pos < len;) {
        size_t left = len - pos;
        if (left < IXD_HEADER_LEN) {
            fprintf(stderr,
                    SEND_PROG ": %s: offset %zu: truncated message header (%zu bytes left)\n", path,
                    pos, left);
            return -1;
        }
        unsigned ver = ixd_get16(buf + pos), mlen = ixd_get16(buf + pos + 2);
        if (ver != IXD_IPFIX_VERSION) {
            fprintf(stderr, SEND_PROG ": %s: offset %zu: version %u, not an IPFIX message\n", path,
                    pos, ver);
            return -1;
        }
        if (mlen < IXD_HEADER_LEN || mlen > left) {
            fprintf(stderr, SEND_PROG ": %s: offset %zu: message length %u %s\n", path, pos, mlen,
                    mlen < IXD_HEADER_LEN ? "is below 16" : "runs past the end of the file");
            return -1;
        }
        if (msg_list_push(out, buf + pos, mlen) < 0) {
            fprintf(stderr, SEND_PROG ": out of memory\n");
            return -1;
        }
        pos += mlen;
    }
    return 0;
}

static int
add_file(const struct replay_cfg *cfg, const char *path, const uint8_t *buf, size_t len,
         struct msg_list *out)
{
    /* Only IPFIX has a total length in its header; NetFlow v5/v9 dumps go out whole. */
    int whole = cfg->raw || len < 2 || ixd_get16(buf) != IXD_IPFIX_VERSION;
    if (!whole)
        return split_ipfix(path, buf, len, out);
    if (!cfg->tcp && len > IXD_MAX_MESSAGE) {
        fprintf(stderr, SEND_PROG ": %s: %zu bytes is too large for one datagram\n", path, len);
        return -1;
    }
    if (msg_list_push(out, buf, len) < 0) {
        fprintf(stderr, SEND_PROG ": out of memory\n");
        return -1;
    }
    return 0;
}

static int
add_pcap(const struct replay_cfg *cfg, const char *path, const uint8_t *buf, size_t len,
         struct msg_list *out)
{
    struct pcap_stats st = {0};
    if (pcap_payloads(path, buf, len, cfg->pcap_port, out, &st) < 0)
        return -1;
    if (!cfg->quiet)
        fprintf(stderr,
                SEND_PROG ": %s: %llu packets, %llu UDP payloads; skipped %llu fragmented, "
                          "%llu truncated, %llu other port, %llu not UDP/empty\n",
                path, (unsigned long long)st.packets, (unsigned long long)st.payloads,
                (unsigned long long)st.fragments, (unsigned long long)st.truncated,
                (unsigned long long)st.filtered, (unsigned long long)st.other);
    return 0;
}

int
replay_prepare(const struct replay_cfg *cfg, struct replay_plan *plan)
{
    memset(plan, 0, sizeof(*plan));
    plan->bufs = calloc(cfg->nsrc, sizeof(*plan->bufs));
    if (!plan->bufs) {
        fprintf(stderr, SEND_PROG ": out of memory\n");
        return -1;
    }
    for (size_t i = 0; i < cfg->nsrc; i++) {
        const struct replay_src *s = &cfg->srcs[i];
        size_t len;
        if (load_file(s->path, &plan->bufs[i], &len) < 0)
            return -1;
        plan->nbufs = i + 1;
        int rc = s->pcap ? add_pcap(cfg, s->path, plan->bufs[i], len, &plan->msgs)
                         : add_file(cfg, s->path, plan->bufs[i], len, &plan->msgs);
        if (rc < 0)
            return -1;
    }
    return 0;
}

void
replay_free(struct replay_plan *plan)
{
    for (size_t i = 0; i < plan->nbufs; i++)
        free(plan->bufs[i]);
    free(plan->bufs);
    free(plan->msgs.v);
    memset(plan, 0, sizeof(*plan));
}

int
replay_run(const struct replay_cfg *cfg, const struct replay_plan *plan, struct tx *tx,
           uint64_t *records)
{
    struct rec_counter *rc = rec_counter_new();
    struct pacer pacer;
    const struct msg_list *m = &plan->msgs;
    /* The rate counts data records, as in synthetic mode. A source message becomes
     * `exporters` datagrams. */
    unsigned batch = pace_batch(cfg->rate, cfg->exporters);
    uint64_t units = 0;
    int ret = 0;

    *records = 0;
    if (!rc) {
        fprintf(stderr, SEND_PROG ": out of memory\n");
        return -1;
    }
    pace_init(&pacer, cfg->rate);
    for (unsigned rep = 0; rep < cfg->repeat && ret == 0; rep++) {
        for (size_t i = 0; i < m->n; i += batch) {
            if (pace_wait(&pacer, units) < 0)
                goto out; /* stop signal */
            size_t nb = m->n - i < batch ? m->n - i : batch;
            uint64_t nrec = 0, nunits = 0;
            for (size_t j = i; j < i + nb; j++) {
                uint64_t r = rec_counter_message(rc, m->v[j].iov_base, m->v[j].iov_len);
                nrec += cfg->exporters * r;
                /* a message whose records cannot be counted (NetFlow, templates) paces as one */
                nunits += cfg->exporters * (r > 0 ? r : 1);
            }
            for (unsigned c = 0; c < cfg->exporters; c++)
                if (tx_send(tx, c, &m->v[i], nb) < 0) {
                    ret = -1;
                    goto out;
                }
            /* Added after sending, so an aborted run reports only what went out. */
            *records += nrec;
            units += nunits;
        }
    }
out:
    rec_counter_free(rc);
    return ret;
}
