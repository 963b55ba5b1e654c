#include "rrd/rrdlib.h"

#include <math.h>
#include <stdarg.h>
#include <rrd.h>
#include <rrd_client.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Heartbeat: a row is unknown when updates are further apart (a stopped daemon's gap). */
#define HEARTBEAT (6 * IXD_RRD_STEP)
/* Rows of each consolidation: steps per row, rows (a day, 7 days, 31 days, a year). */
static const unsigned archives[][2] = {{1, 8640}, {6, 10080}, {30, 8928}, {360, 8760}};
#define N_ARCHIVES (sizeof(archives) / sizeof(archives[0]))
/* Rows of the Holt-Winters prediction, deviation and failure archives: a day. */
#define HW_ROWS 8640
/* A row of values: "T:v:v:v:v" */
#define ROW_MAX (24 + IXD_RRD_COLUMNS * 24)

/* librrd 1.7 as Debian builds it exports one rrdcached connection for the process (rrdc_*,
 * behind librrd's own mutex): every struct ixd_rrdc uses it, reconnecting when it broke. */
struct ixd_rrdc {
    char *address;
};

/* (Re)connects the process' connection; 0 or -1 with librrd's error. */
static int
connected(struct ixd_rrdc *c)
{
    return rrdc_connect(c->address) == 0 ? 0 : -1;
}

static void
take_error(const char *what, const char *path, char *err, size_t errlen)
{
    const char *msg = rrd_test_error() ? rrd_get_error() : "unknown error";

    snprintf(err, errlen, "cannot %s%s%s: %s", what, path[0] != '\0' ? " " : "", path, msg);
    rrd_clear_error();
}

struct ixd_rrdc *
ixd_rrdc_new(const char *address, char *err, size_t errlen)
{
    struct ixd_rrdc *c = calloc(1, sizeof(*c));

    if (c == NULL) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    c->address = strdup(address);
    rrd_clear_error();
    if (c->address == NULL || connected(c) == -1) {
        take_error("connect to rrdcached at", address, err, errlen);
        ixd_rrdc_free(c);
        return NULL;
    }
    return c;
}

void
ixd_rrdc_free(struct ixd_rrdc *c)
{
    if (c == NULL) {
        return;
    }
    free(c->address);
    free(c);
}

/* Appends one argument (a copy in buf) to argv; -1 when there is no room. */
static int arg(char *buf, size_t buflen, size_t *used, const char **argv, int *argc, int max,
               const char *fmt, ...) __attribute__((format(printf, 7, 8)));

static int
arg(char *buf, size_t buflen, size_t *used, const char **argv, int *argc, int max, const char *fmt,
    ...)
{
    va_list ap;
    int n;

    if (*argc == max || *used >= buflen) {
        return -1;
    }
    va_start(ap, fmt);
    n = vsnprintf(buf + *used, buflen - *used, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= buflen - *used) {
        return -1;
    }
    argv[(*argc)++] = buf + *used;
    *used += (size_t)n + 1;
    return 0;
}

/* The data sources and archives of a file of kind, as rrdcreate's arguments. */
static int
layout(enum ixd_rrd_kind kind, const struct ixd_rrd_hw *hw, char *buf, size_t buflen,
       const char **argv, int max)
{
    const char *const *cols;
    unsigned n = ixd_rrd_kind_columns(kind, &cols), i, first_hw;
    const char *type = ixd_rrd_kind_traffic(kind) ? "ABSOLUTE" : "DERIVE";
    size_t used = 0;
    int argc = 0, rc = 0;

    for (i = 0; i < n; i++) {
        rc |=
            arg(buf, buflen, &used, argv, &argc, max, "DS:%s:%s:%d:0:U", cols[i], type, HEARTBEAT);
    }
    for (i = 0; i < N_ARCHIVES; i++) {
        rc |= arg(buf, buflen, &used, argv, &argc, max, "RRA:AVERAGE:0.5:%u:%u", archives[i][0],
                  archives[i][1]);
        rc |= arg(buf, buflen, &used, argv, &argc, max, "RRA:MAX:0.5:%u:%u", archives[i][0],
                  archives[i][1]);
    }
    if (hw != NULL && hw->on) {
        /* RRA indices are 1-based in these references */
        unsigned season = hw->season / IXD_RRD_STEP;
        first_hw = 2 * N_ARCHIVES + 1; /* HWPREDICT, SEASONAL, DEVSEASONAL, DEVPREDICT, FAILURES */
        rc |= arg(buf, buflen, &used, argv, &argc, max, "RRA:HWPREDICT:%u:%.17g:%.17g:%u:%u",
                  HW_ROWS, hw->alpha, hw->beta, season, first_hw + 1);
        rc |= arg(buf, buflen, &used, argv, &argc, max, "RRA:SEASONAL:%u:%.17g:%u", season,
                  hw->gamma, first_hw);
        rc |= arg(buf, buflen, &used, argv, &argc, max, "RRA:DEVSEASONAL:%u:%.17g:%u", season,
                  hw->gamma, first_hw);
        rc |= arg(buf, buflen, &used, argv, &argc, max, "RRA:DEVPREDICT:%u:%u", HW_ROWS,
                  first_hw + 2);
        rc |= arg(buf, buflen, &used, argv, &argc, max, "RRA:FAILURES:%u:%u:%u:%u", HW_ROWS,
                  hw->threshold, hw->window, first_hw + 2);
    }
    return rc == 0 ? argc : -1;
}

/* Sets the band's width when it is not librrd's default of 2 deviations (direct files only:
 * rrdcached has no tune). */
static int
tune(const char *path, double deviations, char *err, size_t errlen)
{
    char pos[48], neg[48];
    const char *argv[] = {"tune", path, "--deltapos", pos, "--deltaneg", neg, NULL};

    snprintf(pos, sizeof(pos), "%.17g", deviations);
    snprintf(neg, sizeof(neg), "%.17g", deviations);
    if (rrd_tune(6, (char **)argv) != 0) {
        take_error("tune", path, err, errlen);
        return -1;
    }
    return 0;
}

int
ixd_rrd_create(struct ixd_rrdc *c, const char *path, enum ixd_rrd_kind kind, int64_t start,
               const struct ixd_rrd_hw *hw, char *err, size_t errlen)
{
    char buf[2048];
    const char *argv[32];
    int argc = layout(kind, hw, buf, sizeof(buf), argv, 32), rc;

    if (argc == -1) {
        snprintf(err, errlen, "cannot create %s: too many archives", path);
        return -1;
    }
    rrd_clear_error();
    if (c != NULL) {
        rc = connected(c) == 0 ? rrdc_create(path, IXD_RRD_STEP, (time_t)start, 0, argc, argv) : -1;
    } else {
        rc = rrd_create_r2(path, IXD_RRD_STEP, (time_t)start, 0, NULL, NULL, argc, argv);
    }
    if (rc != 0) {
        take_error("create", path, err, errlen);
        return -1;
    }
    /* librrd 1.7 writes a temporary file and renames it; when a write fails (a full disk) it
     * removes the temporary file and still returns success */
    if (c == NULL && access(path, F_OK) == -1) {
        snprintf(err, errlen, "cannot create %s: librrd could not write it (a full disk?)", path);
        rrd_clear_error();
        return -1;
    }
    if (hw != NULL && hw->on && hw->deviations != 2.0) {
        return c != NULL ? 0 : tune(path, hw->deviations, err, errlen);
    }
    return 0;
}

/* "T:v:v:v" */
static void
format_row(char *out, size_t outlen, int64_t t, unsigned columns, const uint64_t *v,
           const uint8_t *known)
{
    size_t used = (size_t)snprintf(out, outlen, "%lld", (long long)t);

    for (unsigned j = 0; j < columns && used < outlen; j++) {
        if (known != NULL && !known[j]) {
            used += (size_t)snprintf(out + used, outlen - used, ":U");
        } else {
            used += (size_t)snprintf(out + used, outlen - used, ":%llu", (unsigned long long)v[j]);
        }
    }
}

/* "[1700000010]RRA[HWPREDICT][1]DS[octets]": the rows librrd reports having written. */
static void
summary_rows(const rrd_info_t *info, const char *const *cols, unsigned columns, ixd_rrd_row_fn row,
             void *arg)
{
    for (; info != NULL; info = info->next) {
        char cf[24], ds[24];
        long long t;
        unsigned long pdp;

        if (info->type != RD_I_VAL ||
            sscanf(info->key, "[%lld]RRA[%23[^]]][%lu]DS[%23[^]]]", &t, cf, &pdp, ds) != 4 ||
            pdp != 1) {
            continue;
        }
        for (unsigned j = 0; j < columns; j++) {
            if (strcmp(cols[j], ds) == 0) {
                row(arg, t, cf, j, info->value.u_val);
            }
        }
    }
}

int
ixd_rrd_update(struct ixd_rrdc *c, const char *path, unsigned columns, size_t n, const int64_t *t,
               const uint64_t *v, const uint8_t *known, ixd_rrd_row_fn row, void *arg, char *err,
               size_t errlen)
{
    char(*rows)[ROW_MAX] = calloc(n + 1, sizeof(*rows));
    const char **argv = calloc(n + 1, sizeof(*argv));
    rrd_info_t *summary = NULL;
    int rc = -1;

    if (rows == NULL || argv == NULL || columns > IXD_RRD_COLUMNS) {
        snprintf(err, errlen, "cannot update %s: out of memory", path);
        goto done;
    }
    for (size_t i = 0; i < n; i++) {
        format_row(rows[i], sizeof(rows[i]), t[i], columns, v + i * columns,
                   known != NULL ? known + i * columns : NULL);
        argv[i] = rows[i];
    }
    rrd_clear_error();
    if (c != NULL) {
        rc = connected(c) == 0 ? rrdc_update(path, (int)n, argv) : -1;
    } else if (row == NULL) {
        rc = rrd_update_r(path, NULL, (int)n, argv);
    } else {
        rrd_infoval_t zero = {.u_int = 0};
        const char *const *cols;
        summary = rrd_info_push(NULL, strdup("return_value"), RD_I_INT, zero);
        rc = summary != NULL ? rrd_update_v_r(path, NULL, (int)n, argv, summary) : -1;
        if (rc == 0) {
            ixd_rrd_kind_columns(IXD_RRD_EXPORTER, &cols); /* only traffic files have rows */
            summary_rows(summary, cols, columns, row, arg);
        }
    }
    if (rc != 0) {
        take_error("update", path, err, errlen);
        rc = -1;
    }
done:
    if (summary != NULL) {
        rrd_info_free(summary);
    }
    free(rows);
    free(argv);
    return rc;
}

int
ixd_rrd_has_hw(struct ixd_rrdc *c, const char *path, char *err, size_t errlen)
{
    rrd_info_t *info, *it;
    int hw = 0;

    rrd_clear_error();
    info = c == NULL ? rrd_info_r(path) : connected(c) == 0 ? rrdc_info(path) : NULL;
    if (info == NULL) {
        take_error("read", path, err, errlen);
        return -1;
    }
    for (it = info; it != NULL && !hw; it = it->next) {
        hw = it->type == RD_I_STR && strstr(it->key, "].cf") != NULL &&
             strcmp(it->value.u_str, "HWPREDICT") == 0;
    }
    rrd_info_free(info);
    return hw;
}

int64_t
ixd_rrd_last(struct ixd_rrdc *c, const char *path, char *err, size_t errlen)
{
    time_t t;

    rrd_clear_error();
    t = c == NULL ? rrd_last_r(path) : connected(c) == 0 ? rrdc_last(path) : -1;
    if (t == -1) {
        take_error("read the last update of", path, err, errlen);
        return -1;
    }
    return (int64_t)t;
}

int
ixd_rrd_fetch(struct ixd_rrdc *c, const char *path, const char *cf, int64_t start, int64_t end,
              unsigned long step, struct ixd_rrd_fetched *out, char *err, size_t errlen)
{
    time_t s = (time_t)start, e = (time_t)end;
    int rc;

    memset(out, 0, sizeof(*out));
    out->step = step;
    rrd_clear_error();
    if (c != NULL) {
        rc = connected(c) == 0
                 ? rrdc_fetch(path, cf, &s, &e, &out->step, &out->columns, &out->names, &out->data)
                 : -1;
    } else {
        rc = rrd_fetch_r(path, cf, &s, &e, &out->step, &out->columns, &out->names, &out->data);
    }
    if (rc != 0) {
        take_error("fetch", path, err, errlen);
        memset(out, 0, sizeof(*out));
        return -1;
    }
    out->start = s;
    /* librrd answers up to the step after end: those rows were not asked for */
    if (e > end && out->step > 0 && end > s) {
        e = end - (end - s) % (time_t)out->step;
    }
    out->end = e;
    return 0;
}

size_t
ixd_rrd_fetched_rows(const struct ixd_rrd_fetched *f)
{
    /* librrd's rows are (start, end]: start + step is the first */
    return f->step > 0 && f->end > f->start ? (size_t)((f->end - f->start) / (int64_t)f->step) : 0;
}

void
ixd_rrd_fetched_release(struct ixd_rrd_fetched *f)
{
    for (unsigned long i = 0; f->names != NULL && i < f->columns; i++) {
        rrd_freemem(f->names[i]);
    }
    rrd_freemem(f->names);
    rrd_freemem(f->data);
    memset(f, 0, sizeof(*f));
}

int
ixd_rrd_graph(int argc, const char *const *argv, const char *rrdcached, void **png, size_t *len,
              char *err, size_t errlen)
{
    const char **all = calloc((size_t)argc + 5, sizeof(*all));
    rrd_info_t *info, *it;
    int n = 0, rc = -1;

    *png = NULL;
    *len = 0;
    if (all == NULL) {
        snprintf(err, errlen, "cannot graph: out of memory");
        return -1;
    }
    all[n++] = "graphv";
    all[n++] = "-"; /* to memory: the image comes back in the info list */
    if (rrdcached != NULL) {
        all[n++] = "--daemon";
        all[n++] = rrdcached;
    }
    for (int i = 0; i < argc; i++) {
        all[n++] = argv[i];
    }
    rrd_clear_error();
    info = rrd_graph_v(n, (char **)all);
    for (it = info; it != NULL; it = it->next) {
        if (strcmp(it->key, "image") == 0 && it->type == RD_I_BLO) {
            *png = malloc(it->value.u_blo.size);
            if (*png != NULL) {
                memcpy(*png, it->value.u_blo.ptr, it->value.u_blo.size);
                *len = it->value.u_blo.size;
                rc = 0;
            }
        }
    }
    if (rc != 0) {
        take_error("graph", "", err, errlen);
    }
    if (info != NULL) {
        rrd_info_free(info);
    }
    free(all);
    return rc;
}
