/*
 * The board: where threads that do not otherwise know each other leave what the others read
 * (docs/internals/board.md). An RRD output leaves its list of series and its alerts for the
 * API, a top-talkers stage each worker's closed summaries, the daemon the workers' snapshot
 * publishers for an output that samples them. Nothing on it is a worker's table: every item is
 * immutable once posted and reference-counted, so a reader keeps what it took for as long as
 * it needs it while the poster replaces or withdraws it.
 *
 * An item is found by topic ("rrd.series", "top") and name (the output's, the stage's); several
 * items may share both (one per worker). The board is one per process and takes a mutex for
 * each call: it is for what changes at most every few seconds, never the record path.
 *
 * Threads: any. Ownership: posting hands the board the caller's reference; a get returns one
 * the caller gives back with ixd_board_put().
 */
#ifndef IXD_CORE_BOARD_H
#define IXD_CORE_BOARD_H

#include <stddef.h>

/* What is posted: the object, and what frees it once the last reference is gone. */
struct ixd_board_item;

/* A new item holding obj (freed by release(obj) with its last reference); NULL when out of
 * memory (then release(obj) has been called). One reference, the caller's. */
struct ixd_board_item *ixd_board_item_new(void *obj, void (*release)(void *obj));
void *ixd_board_item_obj(const struct ixd_board_item *it);
/* One more reference to it. */
struct ixd_board_item *ixd_board_item_ref(struct ixd_board_item *it);
/* Gives a reference back; NULL is a no-op. */
void ixd_board_put(struct ixd_board_item *it);

/* Where a poster's item is kept: one per poster, which replaces and withdraws only its own. */
struct ixd_board_slot;

/* A place on the board for topic and name (both copied); NULL when out of memory. */
struct ixd_board_slot *ixd_board_slot_new(const char *topic, const char *name);
/* Puts it (the caller's reference, NULL: empty) in the slot; the item it held is put back. */
void ixd_board_post(struct ixd_board_slot *s, struct ixd_board_item *it);
/* Empties the slot and takes it off the board; NULL is a no-op. */
void ixd_board_slot_free(struct ixd_board_slot *s);

/* The item of the first non-empty slot of topic and name (NULL name: any), referenced; NULL
 * when there is none. */
struct ixd_board_item *ixd_board_get(const char *topic, const char *name);
/* Calls fn with each non-empty slot's name and item of topic, in the order the slots were
 * made; fn borrows the item for the call (ixd_board_item_ref() keeps it). No board call may be
 * made from fn. */
void ixd_board_each(const char *topic,
                    void (*fn)(void *arg, const char *name, struct ixd_board_item *it), void *arg);

#endif
