#include "core/board.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

struct ixd_board_item {
    atomic_uint refs;
    void *obj;
    void (*release)(void *obj);
};

struct ixd_board_slot {
    struct ixd_board_slot *next, *prev;
    char *topic, *name;
    struct ixd_board_item *item; /* under the lock */
};

/* The one board: a list of slots, in the order they were made. */
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct ixd_board_slot *first, *last;

struct ixd_board_item *
ixd_board_item_new(void *obj, void (*release)(void *obj))
{
    struct ixd_board_item *it = malloc(sizeof(*it));

    if (it == NULL) {
        release(obj);
        return NULL;
    }
    atomic_init(&it->refs, 1);
    it->obj = obj;
    it->release = release;
    return it;
}

void *
ixd_board_item_obj(const struct ixd_board_item *it)
{
    return it->obj;
}

struct ixd_board_item *
ixd_board_item_ref(struct ixd_board_item *it)
{
    atomic_fetch_add_explicit(&it->refs, 1, memory_order_relaxed);
    return it;
}

void
ixd_board_put(struct ixd_board_item *it)
{
    if (it == NULL) {
        return;
    }
    /* the last reference frees: what the others did with obj happened before their put */
    if (atomic_fetch_sub_explicit(&it->refs, 1, memory_order_acq_rel) == 1) {
        it->release(it->obj);
        free(it);
    }
}

struct ixd_board_slot *
ixd_board_slot_new(const char *topic, const char *name)
{
    struct ixd_board_slot *s = calloc(1, sizeof(*s));

    if (s == NULL) {
        return NULL;
    }
    s->topic = strdup(topic);
    s->name = strdup(name);
    if (s->topic == NULL || s->name == NULL) {
        free(s->topic);
        free(s->name);
        free(s);
        return NULL;
    }
    pthread_mutex_lock(&lock);
    s->prev = last;
    if (last != NULL) {
        last->next = s;
    } else {
        first = s;
    }
    last = s;
    pthread_mutex_unlock(&lock);
    return s;
}

void
ixd_board_post(struct ixd_board_slot *s, struct ixd_board_item *it)
{
    struct ixd_board_item *old;

    pthread_mutex_lock(&lock);
    old = s->item;
    s->item = it;
    pthread_mutex_unlock(&lock);
    ixd_board_put(old); /* outside the lock: releasing may take a while */
}

void
ixd_board_slot_free(struct ixd_board_slot *s)
{
    struct ixd_board_item *old;

    if (s == NULL) {
        return;
    }
    pthread_mutex_lock(&lock);
    if (s->prev != NULL) {
        s->prev->next = s->next;
    } else {
        first = s->next;
    }
    if (s->next != NULL) {
        s->next->prev = s->prev;
    } else {
        last = s->prev;
    }
    old = s->item;
    pthread_mutex_unlock(&lock);
    ixd_board_put(old);
    free(s->topic);
    free(s->name);
    free(s);
}

struct ixd_board_item *
ixd_board_get(const char *topic, const char *name)
{
    struct ixd_board_item *it = NULL;
    struct ixd_board_slot *s;

    pthread_mutex_lock(&lock);
    for (s = first; s != NULL && it == NULL; s = s->next) {
        if (s->item != NULL && strcmp(s->topic, topic) == 0 &&
            (name == NULL || strcmp(s->name, name) == 0)) {
            it = ixd_board_item_ref(s->item);
        }
    }
    pthread_mutex_unlock(&lock);
    return it;
}

void
ixd_board_each(const char *topic,
               void (*fn)(void *arg, const char *name, struct ixd_board_item *it), void *arg)
{
    struct ixd_board_slot *s;

    pthread_mutex_lock(&lock);
    for (s = first; s != NULL; s = s->next) {
        if (s->item != NULL && strcmp(s->topic, topic) == 0) {
            fn(arg, s->name, s->item);
        }
    }
    pthread_mutex_unlock(&lock);
}
