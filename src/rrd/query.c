/* Reading a series for the API (catalog.h): points and graphs. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rrd/catalog.h"

/* The archives' steps, finest first (rrdlib.c's layout). */
static const unsigned long archive_steps[] = {10, 60, 300, 3600};

/* The step to ask librrd for: the finest archive's at least step and at least span/max. */
static unsigned long
pick_step(int64_t span, unsigned long step, size_t max_points)
{
    unsigned long need = (unsigned long)((span + (int64_t)max_points - 1) / (int64_t)max_points);
    size_t i;

    if (need < step) {
        need = step;
    }
    for (i = 0; i < sizeof(archive_steps) / sizeof(archive_steps[0]); i++) {
        if (archive_steps[i] >= need) {
            return archive_steps[i];
        }
    }
    return archive_steps[i - 1];
}

/* Rows consolidated by groups of k: the average (or the max) of the known values. */
static void
consolidate(struct ixd_rrd_fetched *f, size_t k, int max)
{
    size_t rows = ixd_rrd_fetched_rows(f), out = (rows + k - 1) / k;

    for (size_t o = 0; o < out; o++) {
        for (unsigned long j = 0; j < f->columns; j++) {
            double acc = max ? -INFINITY : 0;
            size_t known = 0;
            for (size_t r = o * k; r < rows && r < (o + 1) * k; r++) {
                double v = f->data[r * f->columns + j];
                if (isnan(v)) {
                    continue;
                }
                acc = max ? (v > acc ? v : acc) : acc + v;
                known++;
            }
            f->data[o * f->columns + j] = known == 0 ? NAN : max ? acc : acc / (double)known;
        }
    }
    f->step *= k;
    f->end = f->start + (int64_t)(out * f->step);
}

int
ixd_rrd_query_fetch(const struct ixd_rrd_catalog *c, const struct ixd_rrd_entry *e, const char *cf,
                    int64_t start, int64_t end, unsigned long step, size_t max_points,
                    struct ixd_rrd_fetched *out, char *err, size_t errlen)
{
    struct ixd_rrdc *conn = NULL;
    size_t rows;
    int rc;

    if (c->rrdcached != NULL && (conn = ixd_rrdc_new(c->rrdcached, err, errlen)) == NULL) {
        return -1;
    }
    rc = ixd_rrd_fetch(conn, e->path, cf, start, end, pick_step(end - start, step, max_points), out,
                       err, errlen);
    ixd_rrdc_free(conn);
    if (rc == -1) {
        return -1;
    }
    rows = ixd_rrd_fetched_rows(out);
    if (rows > max_points) {
        consolidate(out, (rows + max_points - 1) / max_points, strcmp(cf, "MAX") == 0);
    }
    return 0;
}

/* path with rrdtool's separator escaped, for a DEF. */
static void
escaped(const char *path, char *out, size_t outlen)
{
    size_t o = 0;

    for (; *path != '\0' && o + 2 < outlen; path++) {
        if (*path == ':' || *path == '\\') {
            out[o++] = '\\';
        }
        out[o++] = *path;
    }
    out[o] = '\0';
}

#define GRAPH_ARGS 40
#define GRAPH_ARG_LEN (2 * IXD_PATH_MAX + 64) /* a DEF with an escaped path */

int
ixd_rrd_query_graph(const struct ixd_rrd_catalog *c, const struct ixd_rrd_entry *e, int64_t start,
                    int64_t end, unsigned width, unsigned height, void **png, size_t *len,
                    char *err, size_t errlen)
{
    static const char *const colours[] = {"#4e79a7", "#f28e2b", "#e15759", "#59a14f"};
    char(*a)[GRAPH_ARG_LEN] = calloc(GRAPH_ARGS, sizeof(*a));
    const char *argv[GRAPH_ARGS];
    char path[IXD_PATH_MAX * 2];
    const char *const *cols;
    unsigned n = ixd_rrd_kind_columns((enum ixd_rrd_kind)e->key.kind, &cols);
    int argc = 0, rc;

    if (a == NULL) {
        snprintf(err, errlen, "cannot graph: out of memory");
        return -1;
    }
    escaped(e->path, path, sizeof(path));
#define A(...) snprintf(a[argc], GRAPH_ARG_LEN, __VA_ARGS__), argv[argc] = a[argc], argc++
    A("--start");
    A("%lld", (long long)start);
    A("--end");
    A("%lld", (long long)end);
    A("--width");
    A("%u", width);
    A("--height");
    A("%u", height);
    A("--imgformat");
    A("PNG");
    A("--title");
    A("%s", e->id);
    A("--lower-limit");
    A("0");
    if (ixd_rrd_kind_traffic((enum ixd_rrd_kind)e->key.kind)) {
        A("--vertical-label");
        A("bits/s");
        A("DEF:o=%s:octets:AVERAGE", path);
        A("CDEF:b=o,8,*");
        A("AREA:b#4e79a7:bits/s");
        if (e->hw) {
            A("DEF:p=%s:octets:HWPREDICT", path);
            A("DEF:d=%s:octets:DEVPREDICT", path);
            A("DEF:f=%s:octets:FAILURES", path);
            A("CDEF:lo=p,d,%.6g,*,-,8,*", c->deviations);
            A("CDEF:hi=p,d,%.6g,*,+,8,*", c->deviations);
            A("LINE1:lo#59a14f:expected band");
            A("LINE1:hi#59a14f");
            A("TICK:f#e1575960:1.0:failures");
        }
    } else {
        A("--vertical-label");
        A("per second");
        for (unsigned j = 0; j < n; j++) {
            A("DEF:c%u=%s:%s:AVERAGE", j, path, cols[j]);
            A("LINE1:c%u%s:%s", j, colours[j % 4], cols[j]);
        }
    }
#undef A
    rc = ixd_rrd_graph(argc, argv, c->rrdcached, png, len, err, errlen);
    free(a);
    return rc;
}
