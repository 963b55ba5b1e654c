#include "core/counter_list.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void
ixd_counter_list_add(void *list, const struct ixd_counter_def *def, const char *label_value,
                     uint64_t value)
{
    struct ixd_counter_list *l = list;
    struct ixd_counter_item *it;

    if (l->n == l->cap) {
        size_t cap = l->cap ? 2 * l->cap : 16;
        struct ixd_counter_item *grown = realloc(l->items, cap * sizeof(*grown));
        if (grown == NULL) {
            l->failed = 1;
            return;
        }
        l->items = grown;
        l->cap = cap;
    }
    it = &l->items[l->n++];
    it->def = def;
    snprintf(it->label, sizeof(it->label), "%s", label_value != NULL ? label_value : "");
    it->value = value;
}

void
ixd_counter_list_sum(void *list, const struct ixd_counter_def *def, const char *label_value,
                     uint64_t value)
{
    struct ixd_counter_list *l = list;
    const char *label = label_value != NULL ? label_value : "";

    for (size_t i = 0; i < l->n; i++) {
        if (l->items[i].def == def &&
            strncmp(l->items[i].label, label, sizeof(l->items[i].label) - 1) == 0) {
            l->items[i].value += value;
            return;
        }
    }
    ixd_counter_list_add(list, def, label_value, value);
}

void
ixd_counter_list_release(struct ixd_counter_list *l)
{
    free(l->items);
    memset(l, 0, sizeof(*l));
}

static size_t
append_item(char *buf, size_t len, size_t used, const struct ixd_counter_item *it)
{
    const char *key = it->def->line_key != NULL ? it->def->line_key : it->def->key;
    int n = snprintf(buf + used, used < len ? len - used : 0, " %s=%llu", key,
                     (unsigned long long)it->value);

    return n > 0 ? used + (size_t)n : used;
}

void
ixd_counter_list_lines(const struct ixd_counter_item *items, size_t n, const char *what,
                       void (*line)(void *arg, const char *text), void *arg)
{
    char buf[2048];
    size_t i, j, used;

    used = (size_t)snprintf(buf, sizeof(buf), "%s:", what);
    for (i = 0; i < n; i++) {
        if (items[i].def->label == NULL) {
            used = append_item(buf, sizeof(buf), used, &items[i]);
        }
    }
    line(arg, buf);
    for (i = 0; i < n; i++) {
        int first = items[i].def->label != NULL;
        /* one line per label value, where it first appears */
        for (j = 0; first && j < i; j++) {
            first = !(items[j].def->label != NULL &&
                      strcmp(items[j].def->label, items[i].def->label) == 0 &&
                      strcmp(items[j].label, items[i].label) == 0);
        }
        if (!first) {
            continue;
        }
        used = (size_t)snprintf(buf, sizeof(buf), "%s %s %s:", what, items[i].def->label,
                                items[i].label);
        for (j = i; j < n; j++) {
            if (items[j].def->label != NULL &&
                strcmp(items[j].def->label, items[i].def->label) == 0 &&
                strcmp(items[j].label, items[i].label) == 0) {
                used = append_item(buf, sizeof(buf), used, &items[j]);
            }
        }
        line(arg, buf);
    }
}
