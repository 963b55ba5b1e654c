/*
 * keepalived's syntax both ways (keepalived_model.h): an include file read into the model as
 * GET shows it, and a checked model written as an include file.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ha/keepalived_model.h"

#define DEPTH_MAX 16

/* ---- reading: statements of words, some opening a block ---- */

struct reader {
    const char *p, *end;
    int line;
    char *err;
    size_t errlen;
};

/* 1 when a word holds a control character: it would reach whoever reads GET's answer. */
static int
has_control(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x20 || c == 0x7f) {
            return 1;
        }
    }
    return 0;
}

/* Ends an unquoted word. Not strchr: it would find a NUL byte of the text in the set. */
static int
ends_word(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '{' || c == '}';
}

/* One word at rd->p (quoted or not) appended to *words; -1 with rd->err. */
static int
read_word(struct reader *rd, json_t **words)
{
    const char *start = rd->p;
    int quoted = *rd->p == '"';
    json_t *w;

    if (quoted) {
        start = ++rd->p;
        while (rd->p < rd->end && *rd->p != '"' && *rd->p != '\n') {
            rd->p++;
        }
    } else {
        while (rd->p < rd->end && !ends_word(*rd->p)) {
            rd->p++;
        }
    }
    if (has_control(start, (size_t)(rd->p - start))) {
        snprintf(rd->err, rd->errlen, "line %d: a word with a control character", rd->line);
        return -1;
    }
    w = json_stringn(start, (size_t)(rd->p - start));
    if (w == NULL) {
        snprintf(rd->err, rd->errlen, "line %d: a word that is not UTF-8", rd->line);
        return -1;
    }
    if (*words == NULL) {
        *words = json_array();
    }
    json_array_append_new(*words, w);
    if (quoted && rd->p < rd->end && *rd->p == '"') {
        rd->p++;
    }
    return 0;
}

/*
 * The statements of text as [{"w": [words], "c": [statements]}] ("c" only for blocks), or NULL
 * with why. Comments start with # or !; a word in double quotes may hold blanks. Every
 * statement has at least one word.
 */
static json_t *
statements(const char *text, size_t len, char *err, size_t errlen)
{
    struct reader rd = {text, text + len, 1, err, errlen};
    json_t *stack[DEPTH_MAX], *words = NULL, *last = NULL;
    int depth = 0;

    stack[0] = json_array();
    while (rd.p <= rd.end) {
        char c = rd.p < rd.end ? *rd.p : '\n';
        if (c == '\n' || c == '{' || c == '}') {
            if (words != NULL) {
                last = json_pack("{s:o}", "w", words);
                json_array_append_new(stack[depth], last);
                words = NULL;
            }
            if (c == '{') {
                if (last == NULL) {
                    snprintf(err, errlen, "line %d: '{' without a statement before it", rd.line);
                    goto fail;
                }
                if (depth + 1 >= DEPTH_MAX) {
                    snprintf(err, errlen, "line %d: blocks nested deeper than %d", rd.line,
                             DEPTH_MAX - 1);
                    goto fail;
                }
                stack[++depth] = json_array();
                json_object_set_new(last, "c", stack[depth]);
                last = NULL;
            } else if (c == '}') {
                if (depth == 0) {
                    snprintf(err, errlen, "line %d: '}' closes no block", rd.line);
                    goto fail;
                }
                depth--;
                last = NULL;
            } else {
                rd.line++;
            }
            rd.p++;
        } else if (c == ' ' || c == '\t' || c == '\r') {
            rd.p++;
        } else if (c == '#' || c == '!') {
            while (rd.p < rd.end && *rd.p != '\n') {
                rd.p++;
            }
        } else if (read_word(&rd, &words) == -1) {
            goto fail;
        }
    }
    if (depth != 0) {
        snprintf(err, errlen, "a block is not closed at the end");
        goto fail;
    }
    return stack[0];
fail:
    json_decref(words);
    json_decref(stack[0]);
    return NULL;
}

static const char *
word(const json_t *st, size_t i)
{
    return json_string_value(json_array_get(json_object_get(st, "w"), i));
}

static const char *
word_or_empty(const json_t *st, size_t i)
{
    const char *w = word(st, i);
    return w != NULL ? w : "";
}

static json_int_t
word_int(const json_t *st, size_t i)
{
    const char *s = word(st, i);
    return s != NULL ? (json_int_t)strtoll(s, NULL, 10) : 0;
}

/* The first words of each statement of a block: unicast_peer, track_script and such. */
static json_t *
block_words(const json_t *st)
{
    json_t *out = json_array(), *c;
    size_t i;

    json_array_foreach(json_object_get(st, "c"), i, c)
    {
        json_array_append_new(out, json_string(word_or_empty(c, 0)));
    }
    return out;
}

static json_t *
vips_of(const json_t *st)
{
    json_t *vips = json_array(), *v;
    size_t k;

    json_array_foreach(json_object_get(st, "c"), k, v)
    {
        json_t *vip = json_pack("{s:s}", "address", word_or_empty(v, 0));
        if (word(v, 1) != NULL && strcmp(word(v, 1), "dev") == 0 && word(v, 2) != NULL) {
            json_object_set_new(vip, "dev", json_string(word(v, 2)));
        }
        json_array_append_new(vips, vip);
    }
    return vips;
}

static json_t *
instance_model(const json_t *st, json_t *warnings)
{
    json_t *in = json_pack("{s:s}", "name", word_or_empty(st, 1));
    const json_t *c;
    size_t i;

    json_array_foreach(json_object_get(st, "c"), i, c)
    {
        const char *key = word_or_empty(c, 0);
        if (strcmp(key, "state") == 0 || strcmp(key, "interface") == 0 ||
            strcmp(key, "unicast_src_ip") == 0 || strncmp(key, "notify", 6) == 0) {
            json_object_set_new(in, key, json_string(word_or_empty(c, 1)));
        } else if (strcmp(key, "virtual_router_id") == 0 || strcmp(key, "priority") == 0) {
            json_object_set_new(in, key, json_integer(word_int(c, 1)));
        } else if (strcmp(key, "advert_int") == 0) {
            json_object_set_new(in, key, json_real(strtod(word_or_empty(c, 1), NULL)));
        } else if (strcmp(key, "nopreempt") == 0) {
            json_object_set_new(in, key, json_true());
        } else if (strcmp(key, "unicast_peer") == 0 || strcmp(key, "track_script") == 0) {
            json_object_set_new(in, key, block_words(c));
        } else if (strcmp(key, "virtual_ipaddress") == 0) {
            json_object_set_new(in, key, vips_of(c));
        } else {
            json_array_append_new(warnings,
                                  json_sprintf("vrrp_instance %s: '%s' is not in ipfixd's model",
                                               word_or_empty(st, 1), key));
        }
    }
    return in;
}

static json_t *
real_server_model(const json_t *c)
{
    json_t *rs = json_pack("{s:s, s:I}", "address", word_or_empty(c, 1), "port", word_int(c, 2));
    const json_t *rc, *t;
    size_t k, m;

    json_array_foreach(json_object_get(c, "c"), k, rc)
    {
        if (strcmp(word_or_empty(rc, 0), "weight") == 0) {
            json_object_set_new(rs, "weight", json_integer(word_int(rc, 1)));
        } else if (strcmp(word_or_empty(rc, 0), "TCP_CHECK") == 0) {
            json_t *tc = json_object();
            json_array_foreach(json_object_get(rc, "c"), m, t)
            {
                json_object_set_new(tc, word_or_empty(t, 0), json_integer(word_int(t, 1)));
            }
            json_object_set_new(rs, "tcp_check", tc);
        }
    }
    return rs;
}

static json_t *
server_model(const json_t *st, json_t *warnings)
{
    json_t *vs = json_pack("{s:s, s:I, s:[]}", "address", word_or_empty(st, 1), "port",
                           word_int(st, 2), "real_servers");
    const json_t *c;
    size_t i;

    json_array_foreach(json_object_get(st, "c"), i, c)
    {
        const char *key = word_or_empty(c, 0);
        if (strcmp(key, "protocol") == 0 || strcmp(key, "lvs_sched") == 0 ||
            strcmp(key, "lb_kind") == 0) {
            json_object_set_new(vs, key, json_string(word_or_empty(c, 1)));
        } else if (strcmp(key, "persistence_timeout") == 0 || strcmp(key, "delay_loop") == 0) {
            json_object_set_new(vs, key, json_integer(word_int(c, 1)));
        } else if (strcmp(key, "real_server") == 0) {
            json_array_append_new(json_object_get(vs, "real_servers"), real_server_model(c));
        } else {
            json_array_append_new(warnings,
                                  json_sprintf("virtual_server %s %s: '%s' is not in ipfixd's "
                                               "model",
                                               word_or_empty(st, 1), word_or_empty(st, 2), key));
        }
    }
    return vs;
}

json_t *
ixd_ka_parse(const char *text, size_t len)
{
    json_t *model = json_pack("{s:[], s:[], s:[]}", "instances", "virtual_servers", "warnings");
    json_t *warnings = json_object_get(model, "warnings"), *tree, *st;
    char err[160];
    size_t i;

    if (model == NULL) {
        return NULL;
    }
    if (len > IXD_KA_TEXT_MAX) {
        json_array_append_new(warnings, json_sprintf("the include has %zu bytes, more than the "
                                                     "%u read",
                                                     len, IXD_KA_TEXT_MAX));
        return model;
    }
    tree = statements(text, len, err, sizeof(err));
    if (tree == NULL) {
        json_array_append_new(warnings, json_string(err));
        return model;
    }
    json_array_foreach(tree, i, st)
    {
        const char *key = word_or_empty(st, 0);
        if (strcmp(key, "vrrp_instance") == 0) {
            json_array_append_new(json_object_get(model, "instances"),
                                  instance_model(st, warnings));
        } else if (strcmp(key, "virtual_server") == 0) {
            json_array_append_new(json_object_get(model, "virtual_servers"),
                                  server_model(st, warnings));
        } else {
            json_array_append_new(
                warnings, json_sprintf("'%s' is not in ipfixd's model: a PUT drops it", key));
        }
    }
    json_decref(tree);
    return model;
}

/* ---- writing a checked model ---- */

static void
render_instance(FILE *f, const struct ixd_ka_instance *in)
{
    size_t i;

    fprintf(f, "vrrp_instance %s {\n    state %s\n    interface %s\n", in->name,
            in->master ? "MASTER" : "BACKUP", in->interface);
    fprintf(f, "    virtual_router_id %d\n    priority %d\n", in->vrid, in->priority);
    if (in->advert_cs > 0) {
        fprintf(f, "    advert_int %d.%02d\n", in->advert_cs / 100, in->advert_cs % 100);
    }
    if (in->nopreempt) {
        fprintf(f, "    nopreempt\n");
    }
    if (in->has_src) {
        fprintf(f, "    unicast_src_ip %s\n", in->src.text);
    }
    if (in->n_peers > 0) {
        fprintf(f, "    unicast_peer {\n");
        for (i = 0; i < in->n_peers; i++) {
            fprintf(f, "        %s\n", in->peers[i].text);
        }
        fprintf(f, "    }\n");
    }
    fprintf(f, "    virtual_ipaddress {\n");
    for (i = 0; i < in->n_vips; i++) {
        const struct ixd_ka_vip *v = &in->vips[i];
        fprintf(f, "        %s%s%s\n", v->addr.text, v->dev[0] != '\0' ? " dev " : "", v->dev);
    }
    fprintf(f, "    }\n");
    if (in->n_tracks > 0) {
        fprintf(f, "    track_script {\n");
        for (i = 0; i < in->n_tracks; i++) {
            fprintf(f, "        %s\n", in->tracks[i]);
        }
        fprintf(f, "    }\n");
    }
    for (i = 0; i < IXD_KA_NOTIFY_N; i++) {
        enum ixd_ka_notify n = (enum ixd_ka_notify)i;
        const char *key = ixd_ka_notify_key(n);
        if (in->notify[i][0] == '\0') {
            continue;
        }
        fprintf(f, "    %s \"%s", key, in->notify[i]);
        if (n != IXD_KA_NOTIFY_ANY) {
            /* "notify_master" -> " MASTER" */
            fputc(' ', f);
            for (const char *k = key + 7; *k != '\0'; k++) {
                fputc(*k - 'a' + 'A', f);
            }
        }
        fprintf(f, "\"%s%s\n", in->notify_as[i][0] != '\0' ? " " : "", in->notify_as[i]);
    }
    fprintf(f, "}\n\n");
}

static void
render_server(FILE *f, const struct ixd_ka_server *vs)
{
    fprintf(f, "virtual_server %s %d {\n    protocol %s\n    lvs_sched %s\n    lb_kind %s\n",
            vs->addr.text, vs->port, vs->protocol, vs->lvs_sched, vs->lb_kind);
    if (vs->persistence_timeout > 0) {
        fprintf(f, "    persistence_timeout %d\n", vs->persistence_timeout);
    }
    if (vs->delay_loop > 0) {
        fprintf(f, "    delay_loop %d\n", vs->delay_loop);
    }
    for (size_t i = 0; i < vs->n_reals; i++) {
        const struct ixd_ka_real *r = &vs->reals[i];
        fprintf(f, "    real_server %s %d {\n        weight %d\n", r->addr.text, r->port,
                r->weight);
        if (r->tcp_check) {
            fprintf(f, "        TCP_CHECK {\n");
            if (r->connect_timeout > 0) {
                fprintf(f, "            connect_timeout %d\n", r->connect_timeout);
            }
            if (r->connect_port > 0) {
                fprintf(f, "            connect_port %d\n", r->connect_port);
            }
            fprintf(f, "        }\n");
        }
        fprintf(f, "    }\n");
    }
    fprintf(f, "}\n\n");
}

char *
ixd_ka_render(const struct ixd_ka_model *model, size_t *len)
{
    char *text = NULL;
    size_t n = 0, i;
    FILE *f = open_memstream(&text, &n);

    if (f == NULL) {
        return NULL;
    }
    fprintf(f, "# Written by ipfixd-keepalived-apply for ipfixd's API (PUT "
               "/api/v1/ha/keepalived/include,\n# docs/ha.md): edits here are replaced by the "
               "next change through the API.\n\n");
    for (i = 0; i < model->n_instances; i++) {
        render_instance(f, &model->instances[i]);
    }
    for (i = 0; i < model->n_servers; i++) {
        render_server(f, &model->servers[i]);
    }
    if (ferror(f)) {
        fclose(f);
        free(text);
        return NULL;
    }
    if (fclose(f) != 0) {
        free(text);
        return NULL;
    }
    if (len != NULL) {
        *len = n;
    }
    return text;
}
