/*
 * The ClickHouse output (docs/sinks.md#clickhouse): workers write rows in the wire format into
 * their writer lanes (writer.h); the output's writer thread gathers them into batches, by rows
 * and by time, and inserts each batch over ClickHouse's HTTP interface (src/curl/). A batch
 * that cannot be inserted now (connection refused, a server error worth retrying) is retried,
 * then kept in a bounded spool on disk and replayed in order; a batch ClickHouse refuses for
 * its data is counted and logged with ClickHouse's message, never retried.
 */
#include "output/clickhouse.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/log.h"
#include "core/relaxed_counter.h"
#include "curl/http.h"
#include "output/clickhouse_columns.h"
#include "output/clickhouse_insert.h"
#include "output/output.h"
#include "output/spool.h"
#include "output/writer.h"

#define CBUF_SIZE (1u << 20)
#define CBUFS_PER_LANE 4
#define TICK_MS 100

struct ch_settings {
    char url[512];
    char database[IXD_NAME_MAX];
    char table[IXD_NAME_MAX];
    char user[IXD_NAME_MAX];
    struct ixd_key_file password_file;
    struct ixd_ch_columns columns; /* n = 0 until check(): the default set */
    int format;                    /* enum ixd_ch_format */
    int gzip;
    uint32_t batch_rows, batch_interval;
    uint32_t timeout, retries;
    char spool_directory[IXD_PATH_MAX];
    size_t spool_size;
    size_t queue_size;
    char cluster[IXD_NAME_MAX];
    char local_table[IXD_NAME_MAX];
    char sharding_key[128];
    int insert_sync;
    int renormalise;
};

static const char *const formats[] = {"rowbinary", "json-each-row", NULL};
static const char *const compressions[] = {"none", "gzip", NULL};

static int parse_columns(const struct ixd_key *key, const struct ixd_cnode *v, void *field,
                         const struct ixd_key_env *env, char *err, size_t errlen);

static const struct ixd_key ch_keys[] = {
    {.name = "url",
     .kind = IXD_KEY_STRING,
     IXD_KEY_AT(struct ch_settings, url),
     .help = "ClickHouse's HTTP interface, http://HOST:8123"},
    {.name = "database",
     .kind = IXD_KEY_NAME,
     IXD_KEY_AT(struct ch_settings, database),
     .def = "default"},
    {.name = "table", .kind = IXD_KEY_NAME, IXD_KEY_AT(struct ch_settings, table), .def = "flows"},
    {.name = "user", .kind = IXD_KEY_NAME, IXD_KEY_AT(struct ch_settings, user)},
    {.name = "password-file",
     .kind = IXD_KEY_FILE,
     IXD_KEY_AT(struct ch_settings, password_file),
     .file_use = 1 + IXD_FILE_SECRET,
     .reload = IXD_RELOAD_CONTENT,
     .help = "a file holding the user's password, readable by ipfixd only"},
    {.name = "columns",
     .kind = IXD_KEY_CUSTOM,
     IXD_KEY_AT(struct ch_settings, columns),
     .parse = parse_columns,
     .help = "element: column, for each column (default: the flow set)"},
    {.name = "format",
     .kind = IXD_KEY_ENUM,
     IXD_KEY_AT(struct ch_settings, format),
     .choices = formats,
     .def = "rowbinary"},
    {.name = "compression",
     .kind = IXD_KEY_ENUM,
     IXD_KEY_AT(struct ch_settings, gzip),
     .choices = compressions,
     .def = "none"},
    {.name = "batch-rows",
     .kind = IXD_KEY_U32,
     IXD_KEY_AT(struct ch_settings, batch_rows),
     .min = 1,
     .max = 10000000,
     .def = "50000"},
    {.name = "batch-interval",
     .kind = IXD_KEY_DURATION,
     IXD_KEY_AT(struct ch_settings, batch_interval),
     .min = 1,
     .max = 3600,
     .def = "1s"},
    {.name = "timeout",
     .kind = IXD_KEY_DURATION,
     IXD_KEY_AT(struct ch_settings, timeout),
     .min = 1,
     .max = 3600,
     .def = "30s"},
    {.name = "retries",
     .kind = IXD_KEY_U32,
     IXD_KEY_AT(struct ch_settings, retries),
     .max = 10,
     .def = "2",
     .help = "immediate retries of a batch before it goes to the spool"},
    {.name = "spool-directory",
     .kind = IXD_KEY_PATH,
     IXD_KEY_AT(struct ch_settings, spool_directory),
     .help = "where batches wait while ClickHouse is out of reach; none: they are dropped"},
    {.name = "spool-size",
     .kind = IXD_KEY_SIZE,
     IXD_KEY_AT(struct ch_settings, spool_size),
     .min = 1u << 20,
     .max = 1ull << 40,
     .def = "1G"},
    {.name = "queue-size",
     .kind = IXD_KEY_SIZE,
     IXD_KEY_AT(struct ch_settings, queue_size),
     .min = 1u << 20,
     .def = "64M",
     .help = "batches waiting in memory for their insert; past it they are dropped, counted"},
    {.name = "cluster",
     .kind = IXD_KEY_NAME,
     IXD_KEY_AT(struct ch_settings, cluster),
     .help = "clickhouse-schema: a Distributed table over this cluster's shards"},
    {.name = "local-table", .kind = IXD_KEY_NAME, IXD_KEY_AT(struct ch_settings, local_table)},
    {.name = "sharding-key",
     .kind = IXD_KEY_STRING,
     IXD_KEY_AT(struct ch_settings, sharding_key),
     .def = "rand()"},
    {.name = "insert-distributed-sync",
     .kind = IXD_KEY_BOOL,
     IXD_KEY_AT(struct ch_settings, insert_sync),
     .def = "false"},
    {.name = "renormalise",
     .kind = IXD_KEY_BOOL,
     IXD_KEY_AT(struct ch_settings, renormalise),
     .def = "true"},
    {NULL},
};

struct chlane {
    struct ixd_lane base;
    struct ixd_writer_lane *wl;
    struct ixd_ch_plans plans;
    uint64_t records;
};

struct choutput {
    struct ixd_output base;
    const struct ch_settings *cfg;
    size_t row_bound;
    char *insert_url; /* with the INSERT query */
    char password[256];
    struct ixd_writer *writer;
    unsigned n_lanes;
    struct chlane *lanes;
    struct ixd_ch_inserter *ins; /* inserts what the writer thread gathers */
    /* the writer thread's: the batch being gathered */
    char *batch;
    size_t blen, bcap;
    uint64_t brows;
    double bstarted;
};

/* ---- columns: ---- */

static int
column_name_ok(const char *s)
{
    if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || *s == '_')) {
        return 0;
    }
    for (; *s != '\0'; s++) {
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
              *s == '_')) {
            return 0;
        }
    }
    return 1;
}

static int
parse_columns(const struct ixd_key *key, const struct ixd_cnode *v, void *field,
              const struct ixd_key_env *env, char *err, size_t errlen)
{
    struct ixd_ch_columns *cols = field;
    char known[1024];

    (void)key;
    if (v->kind != IXD_CNODE_MAPPING || v->n == 0 || v->n > IXD_CH_COLUMNS_MAX) {
        return ixd_cnode_fail(v, env->file, err, errlen,
                              "columns must map 1 to %d elements to column names",
                              IXD_CH_COLUMNS_MAX);
    }
    for (size_t i = 0; i < v->n; i++) {
        const struct ixd_cnode *src = &v->items[2 * i], *col = &v->items[2 * i + 1];
        int s = ixd_ch_source_find(src->text);
        if (s < 0) {
            ixd_ch_source_names(known, sizeof(known));
            return ixd_cnode_fail(src, env->file, err, errlen,
                                  "'%s' is not something a column can hold; known: %s", src->text,
                                  known);
        }
        if (col->kind != IXD_CNODE_SCALAR || strlen(col->text) >= IXD_CH_NAME_MAX ||
            !column_name_ok(col->text)) {
            return ixd_cnode_fail(col, env->file, err, errlen,
                                  "a column name is a letter or '_' then letters, digits or '_'");
        }
        cols->c[i].source = (unsigned)s;
        snprintf(cols->c[i].name, IXD_CH_NAME_MAX, "%s", col->text);
        for (size_t j = 0; j < i; j++) {
            if (strcmp(cols->c[j].name, col->text) == 0) {
                return ixd_cnode_fail(col, env->file, err, errlen, "column %s appears twice",
                                      col->text);
            }
        }
    }
    cols->n = (unsigned)v->n;
    return 0;
}

/* ---- worker side ---- */

static void
ch_write(struct ixd_lane *lane, const struct ixd_batch *batch)
{
    struct chlane *l = (struct chlane *)lane;
    struct choutput *o = (struct choutput *)lane->output;
    const struct ixd_source *src = batch->source;
    const struct ixd_resolver *res = src->resolver;
    int renormalise = o->cfg->renormalise && res != NULL;

    for (size_t i = 0; i < batch->count; i++) {
        const struct ixd_record *r = &batch->records[i];
        uint32_t rate = renormalise ? res->sampling_of(res, r) : 1;
        char *at = ixd_writer_reserve(l->wl, o->row_bound);
        ixd_writer_commit(l->wl,
                          ixd_ch_row(&o->cfg->columns, (enum ixd_ch_format)o->cfg->format,
                                     &l->plans, r, src, rate, at),
                          1);
    }
    IXD_CNT_ADD(l->records, batch->count);
}

static void
ch_flush(struct ixd_lane *lane)
{
    ixd_writer_lane_flush(((struct chlane *)lane)->wl);
}

static struct ixd_lane *
ch_lane(struct ixd_output *out, unsigned w)
{
    struct choutput *o = (struct choutput *)out;

    return w < o->n_lanes ? &o->lanes[w].base : NULL;
}

/* ---- writer thread: batches ---- */

/* Hands the batch being gathered to the inserter. Returns the rows lost (none fit). */
static uint64_t
ship(struct choutput *o)
{
    uint64_t rows = o->brows;
    size_t len = o->blen;
    void *body = o->batch;

    if (rows == 0) {
        return 0;
    }
    if (o->cfg->gzip) {
        body = ixd_gzip(o->batch, o->blen, &len);
    } else {
        /* the inserter takes the buffer; the next batch gets one of its own */
        o->batch = NULL;
        o->bcap = 0;
    }
    o->blen = 0;
    o->brows = 0;
    if (body == NULL) {
        log_err("output %s: out of memory compressing a batch: %llu rows dropped", o->base.name,
                (unsigned long long)rows);
        return rows;
    }
    return ixd_ch_inserter_push(o->ins, body, len, rows, o->cfg->gzip) == 0 ? 0 : rows;
}

static uint64_t
ch_consume(void *arg, const struct ixd_wbuf *b)
{
    struct choutput *o = arg;

    if (o->blen + b->len > o->bcap) {
        size_t cap = o->bcap * 2 > o->blen + b->len ? o->bcap * 2 : o->blen + b->len;
        char *grown = realloc(o->batch, cap);
        if (grown == NULL) {
            log_err("output %s: out of memory for a batch: %llu rows dropped", o->base.name,
                    (unsigned long long)b->records);
            return b->records;
        }
        o->batch = grown;
        o->bcap = cap;
    }
    if (o->brows == 0) {
        o->bstarted = ixd_mono_now();
    }
    memcpy(o->batch + o->blen, b->data, b->len);
    o->blen += b->len;
    o->brows += b->records;
    return o->brows >= o->cfg->batch_rows ? ship(o) : 0;
}

static uint64_t
ch_tick(void *arg)
{
    struct choutput *o = arg;

    if (o->brows > 0 && (ixd_writer_stopping(o->writer) ||
                         ixd_mono_now() - o->bstarted >= (double)o->cfg->batch_interval)) {
        return ship(o);
    }
    return 0;
}

/* ---- control thread ---- */

/* The URL of an insert: url/?query=INSERT INTO db.table (columns) FORMAT F[&settings]. */
static char *
make_insert_url(const struct ch_settings *cfg)
{
    char cols[IXD_CH_COLUMNS_MAX * (IXD_CH_NAME_MAX + 1) + 4];
    char query[sizeof(cols) + 256], escaped[3 * sizeof(query)];
    size_t len;
    char *url;

    ixd_ch_column_list(&cfg->columns, cols, sizeof(cols));
    snprintf(query, sizeof(query), "INSERT INTO %s.%s %s FORMAT %s", cfg->database, cfg->table,
             cols, cfg->format == IXD_CH_ROWBINARY ? "RowBinary" : "JSONEachRow");
    if (ixd_http_escape(query, escaped, sizeof(escaped)) == -1) {
        return NULL;
    }
    len = strlen(cfg->url) + strlen(escaped) + 64;
    url = malloc(len);
    if (url != NULL) {
        snprintf(url, len, "%s%s?query=%s%s", cfg->url,
                 cfg->url[strlen(cfg->url) - 1] == '/' ? "" : "/", escaped,
                 cfg->insert_sync ? "&insert_distributed_sync=1" : "");
    }
    return url;
}

/* The first line of the password file. */
static int
read_password(const struct ch_settings *cfg, char *out, size_t outlen, char *err, size_t errlen)
{
    FILE *f;

    out[0] = '\0';
    if (cfg->password_file.path[0] == '\0') {
        return 0;
    }
    f = fopen(cfg->password_file.path, "re");
    if (f == NULL) {
        snprintf(err, errlen, "cannot read %s: %s", cfg->password_file.path, strerror(errno));
        return -1;
    }
    if (fgets(out, (int)outlen, f) == NULL) {
        out[0] = '\0';
    }
    fclose(f);
    out[strcspn(out, "\r\n")] = '\0';
    return 0;
}

static void
free_output(struct choutput *o)
{
    ixd_writer_free(o->writer);
    ixd_ch_inserter_free(o->ins); /* after the writer: its last batch is queued */
    explicit_bzero(o->password, sizeof(o->password));
    free(o->insert_url);
    free(o->batch);
    free(o->lanes);
    free(o);
}

/* The inserter, with the spool an earlier run may have left. */
static struct ixd_ch_inserter *
make_inserter(struct choutput *o, char *err, size_t errlen)
{
    const struct ch_settings *cfg = o->cfg;
    struct ixd_ch_inserter_conf ic = {.name = o->base.name,
                                      .url = o->insert_url,
                                      .user = cfg->user[0] != '\0' ? cfg->user : NULL,
                                      .password = o->password,
                                      .timeout_ms = (long)cfg->timeout * 1000,
                                      .retries = cfg->retries,
                                      .queue_max = cfg->queue_size};

    if (cfg->spool_directory[0] != '\0') {
        /* made now, so that a start or reload fails rather than every batch later */
        if (mkdir(cfg->spool_directory, 0700) == -1 && errno != EEXIST) {
            snprintf(err, errlen, "output %s: cannot create spool-directory %s: %s", o->base.name,
                     cfg->spool_directory, strerror(errno));
            return NULL;
        }
        ic.spool_dir = cfg->spool_directory;
        ic.spool_size = cfg->spool_size;
    }
    return ixd_ch_inserter_new(&ic, err, errlen);
}

static struct ixd_output *
ch_open(const void *settings, const char *name, unsigned workers, char *err, size_t errlen)
{
    const struct ch_settings *cfg = settings;
    struct choutput *o = calloc(1, sizeof(*o));
    struct ixd_writer_conf wc = {.name = name,
                                 .buf_size = CBUF_SIZE,
                                 .bufs_per_lane = CBUFS_PER_LANE,
                                 .consume = ch_consume,
                                 .tick = ch_tick,
                                 .tick_ms = TICK_MS};
    char why[512];

    if (o == NULL) {
        snprintf(err, errlen, "output %s: out of memory", name);
        return NULL;
    }
    o->base.name = name;
    o->cfg = cfg;
    o->row_bound = ixd_ch_row_bound(&cfg->columns, (enum ixd_ch_format)cfg->format);
    o->insert_url = make_insert_url(cfg);
    o->lanes = calloc(workers, sizeof(*o->lanes));
    if (o->insert_url == NULL || o->lanes == NULL) {
        snprintf(err, errlen, "output %s: out of memory", name);
        goto fail;
    }
    if (read_password(cfg, o->password, sizeof(o->password), why, sizeof(why)) == -1) {
        snprintf(err, errlen, "output %s: %s", name, why);
        goto fail;
    }
    o->ins = make_inserter(o, err, errlen);
    if (o->ins == NULL) {
        goto fail;
    }
    o->n_lanes = workers;
    for (unsigned i = 0; i < workers; i++) {
        o->lanes[i].base.output = &o->base;
    }
    wc.arg = o;
    o->writer = ixd_writer_new(&wc, workers, err, errlen);
    if (o->writer == NULL) {
        goto fail;
    }
    for (unsigned i = 0; i < workers; i++) {
        o->lanes[i].wl = ixd_writer_lane(o->writer, i);
    }
    return &o->base;
fail:
    free_output(o);
    return NULL;
}

static void
ch_close(struct ixd_output *out)
{
    struct choutput *o = (struct choutput *)out;
    uint64_t records = 0;

    if (o == NULL) {
        return;
    }
    for (unsigned i = 0; i < o->n_lanes; i++) {
        records += o->lanes[i].records;
    }
    ixd_writer_free(o->writer); /* the last batch goes to the inserter */
    o->writer = NULL;
    ixd_ch_inserter_free(o->ins); /* which inserts or spools what it holds */
    o->ins = NULL;
    log_info("output %s: closed: records=%llu", o->base.name, (unsigned long long)records);
    free_output(o);
}

static void
ch_reopen(struct ixd_output *out)
{
    (void)out; /* nothing to reopen: a reload that changes a setting replaces the output */
}

static const struct ixd_counter_def ch_defs[] = {
    {.key = "inserted",
     .metric = "ipfixd_output_clickhouse_inserted_rows_total",
     .kind = IXD_COUNTER_TOTAL,
     .help = "rows ClickHouse acknowledged"},
    {.key = "batches",
     .metric = "ipfixd_output_clickhouse_batches_total",
     .kind = IXD_COUNTER_TOTAL,
     .help = "inserts ClickHouse acknowledged"},
    {.key = "rejected",
     .metric = "ipfixd_output_clickhouse_rejected_rows_total",
     .kind = IXD_COUNTER_TOTAL,
     .help = "rows in batches ClickHouse refused for their data (not retried)"},
    {.key = "spooled",
     .metric = "ipfixd_output_clickhouse_spooled_rows",
     .kind = IXD_COUNTER_GAUGE,
     .help = "rows waiting in the spool"},
    {.key = "spool_bytes",
     .metric = "ipfixd_output_clickhouse_spool_bytes",
     .kind = IXD_COUNTER_GAUGE,
     .help = "bytes of the spool's files"},
    {.key = "spool_dropped",
     .metric = "ipfixd_output_clickhouse_spool_dropped_rows_total",
     .kind = IXD_COUNTER_TOTAL,
     .help = "rows dropped: no spool, a full spool, or an unreadable spooled batch"},
    {.key = "queue_dropped",
     .metric = "ipfixd_output_clickhouse_queue_dropped_rows_total",
     .kind = IXD_COUNTER_TOTAL,
     .help = "rows dropped because the batches waiting for insert filled queue-size"},
    {.key = "queued_bytes",
     .metric = "ipfixd_output_clickhouse_queue_bytes",
     .kind = IXD_COUNTER_GAUGE,
     .help = "bytes of batches waiting for insert in memory"},
    {.key = "retries",
     .metric = "ipfixd_output_clickhouse_retries_total",
     .kind = IXD_COUNTER_TOTAL,
     .help = "inserts tried again at once"},
    {.key = "ambiguous",
     .metric = "ipfixd_output_clickhouse_ambiguous_batches_total",
     .kind = IXD_COUNTER_TOTAL,
     .help = "inserts cut off after the request was sent: retrying may insert them twice"},
    {.key = "ambiguous_rows",
     .metric = "ipfixd_output_clickhouse_ambiguous_rows_total",
     .kind = IXD_COUNTER_TOTAL,
     .help = "rows in those inserts"},
};

/* dropped: what the lanes and the queue lost (the writer's count), what ClickHouse refused and
 * what the spool could not keep: records = inserted + dropped + waiting (batch, queue, spool),
 * less the duplicates ambiguous retries may have made. */
static void
ch_stats(struct ixd_output *out, ixd_counter_fn fn, void *arg)
{
    struct choutput *o = (struct choutput *)out;
    const struct ixd_ch_insert_counts *ic = ixd_ch_inserter_counts(o->ins);
    struct ixd_output_counts c = {0};
    struct ixd_writer_stats ws;
    uint64_t spool_bytes, spooled = ixd_ch_inserter_spooled(o->ins, &spool_bytes);

    for (unsigned i = 0; i < o->n_lanes; i++) {
        c.records += IXD_CNT_GET(o->lanes[i].records);
    }
    ixd_writer_stats(o->writer, &ws);
    c.written_bytes = IXD_CNT_GET(ic->bytes);
    c.dropped = ws.dropped + IXD_CNT_GET(ic->rejected) + IXD_CNT_GET(ic->spool_dropped);
    c.waits = ws.waits;
    ixd_output_report(fn, arg, &c);
    fn(arg, &ch_defs[0], NULL, IXD_CNT_GET(ic->inserted));
    fn(arg, &ch_defs[1], NULL, IXD_CNT_GET(ic->batches));
    fn(arg, &ch_defs[2], NULL, IXD_CNT_GET(ic->rejected));
    fn(arg, &ch_defs[3], NULL, spooled);
    fn(arg, &ch_defs[4], NULL, spool_bytes);
    fn(arg, &ch_defs[5], NULL, IXD_CNT_GET(ic->spool_dropped));
    fn(arg, &ch_defs[6], NULL, IXD_CNT_GET(ic->queue_dropped));
    fn(arg, &ch_defs[7], NULL, IXD_CNT_GET(ic->queued_bytes));
    fn(arg, &ch_defs[8], NULL, IXD_CNT_GET(ic->retries));
    fn(arg, &ch_defs[9], NULL, IXD_CNT_GET(ic->ambiguous));
    fn(arg, &ch_defs[10], NULL, IXD_CNT_GET(ic->ambiguous_rows));
}

/* The url (http or https), the default columns, the local table's name, the spool. */
static int
ch_check(void *settings, const struct ixd_module_env *env, char *err, size_t errlen)
{
    struct ch_settings *s = settings;
    const struct ixd_cnode *at;

    if (strncmp(s->url, "http://", 7) != 0 && strncmp(s->url, "https://", 8) != 0) {
        at = ixd_cnode_get(env->at, "url");
        return ixd_cnode_fail(at != NULL ? at : env->at, env->file, err, errlen,
                              "output '%s' needs a url, http://HOST:8123 (ClickHouse's HTTP "
                              "interface)",
                              env->name);
    }
    if (s->columns.n == 0) {
        ixd_ch_columns_default(&s->columns);
    }
    if (s->local_table[0] == '\0') {
        snprintf(s->local_table, sizeof(s->local_table), "%.*s_local",
                 (int)sizeof(s->local_table) - 7, s->table);
    }
    if (s->user[0] == '\0' && s->password_file.path[0] != '\0') {
        at = ixd_cnode_get(env->at, "password-file");
        return ixd_cnode_fail(at, env->file, err, errlen, "password-file goes with user");
    }
    if (s->spool_directory[0] != '\0' && !(env->flags & IXD_CONFIG_SYNTAX_ONLY)) {
        struct ixd_config_file f = {.use = IXD_FILE_DIR_WRITE, .path = s->spool_directory};
        char why[IXD_PATH_MAX + 256];
        /* made at open when missing: only an existing one is checked here */
        if (access(s->spool_directory, F_OK) == 0 &&
            ixd_config_file_check(&f, why, sizeof(why)) == -1) {
            at = ixd_cnode_get(env->at, "spool-directory");
            return ixd_cnode_fail(at, env->file, err, errlen, "spool-directory: %s", why);
        }
    }
    return 0;
}

static int
ch_conflicts(const void *a, const void *b, char *what, size_t whatlen)
{
    const struct ch_settings *x = a, *y = b;

    if (x->spool_directory[0] == '\0' || strcmp(x->spool_directory, y->spool_directory) != 0) {
        return 0;
    }
    snprintf(what, whatlen, "spool-directory %s", x->spool_directory);
    return 1;
}

int
ixd_clickhouse_version(const void *settings, char *out, size_t outlen, char *err, size_t errlen)
{
    const struct ch_settings *cfg = settings;
    struct ixd_http *h = ixd_http_new();
    char url[sizeof(cfg->url) + 64], password[256];
    struct ixd_http_request rq = {
        .method = "GET", .url = url, .timeout_ms = 5000, .connect_timeout_ms = 2000};
    struct ixd_http_response rs;
    int rc = -1;

    if (h == NULL || read_password(cfg, password, sizeof(password), err, errlen) == -1) {
        ixd_http_free(h);
        return -1;
    }
    snprintf(url, sizeof(url), "%s%s?query=SELECT%%20version()", cfg->url,
             cfg->url[strlen(cfg->url) - 1] == '/' ? "" : "/");
    if (cfg->user[0] != '\0') {
        rq.user = cfg->user;
        rq.password = password;
    }
    if (ixd_http_do(h, &rq, &rs) == -1) {
        snprintf(err, errlen, "%s", rs.error);
    } else if (rs.status != 200 || rs.body == NULL) {
        snprintf(err, errlen, "HTTP %ld", rs.status);
    } else {
        snprintf(out, outlen, "%.*s", (int)strcspn(rs.body, "\r\n"), rs.body);
        rc = 0;
    }
    free(rs.body);
    explicit_bzero(password, sizeof(password));
    ixd_http_free(h);
    return rc;
}

void
ixd_clickhouse_schema(const void *settings, const char *version, FILE *out)
{
    const struct ch_settings *cfg = settings;
    struct ixd_ch_schema s = {.database = cfg->database,
                              .table = cfg->table,
                              .cluster = cfg->cluster[0] != '\0' ? cfg->cluster : NULL,
                              .local_table = cfg->local_table,
                              .sharding_key = cfg->sharding_key,
                              .new_types = version != NULL && ixd_ch_version_has_ip_types(version)};

    ixd_ch_schema_write(&cfg->columns, (enum ixd_ch_format)cfg->format, &s, out);
}

const struct ixd_output_type ixd_output_clickhouse = {
    .m =
        {
            .name = "clickhouse",
            .keys = ch_keys,
            .settings_size = sizeof(struct ch_settings),
            .check = ch_check,
            .conflicts = ch_conflicts,
        },
    .open = ch_open,
    .reopen = ch_reopen,
    .close = ch_close,
    .stats = ch_stats,
    .lane = ch_lane,
    .write = ch_write,
    .flush = ch_flush,
};
