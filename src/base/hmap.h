/* hmap.h - a bounded hash map from fixed-size byte keys to pointers.
 *
 * Open addressing with linear probing and backward-shift deletion; the table is
 * sized once for max_entries (load <= 1/2) and never grows, so memory is fixed and
 * inserting beyond max_entries fails with CAIRN_ELIMIT. Keys are hashed with a
 * caller-supplied keyed hash (SipHash from src/crypto with a random key in the
 * node) so peers cannot flood one probe chain. Keys are copied into the map.
 * One owner; not thread-safe.
 */
#ifndef CAIRN_BASE_HMAP_H
#define CAIRN_BASE_HMAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/error.h"

typedef uint64_t (*hmap_hash_fn)(const void *key, size_t key_len, void *hash_ctx);

typedef struct {
    size_t key_len;
    size_t cap; /* power of two */
    size_t count;
    size_t max_entries;
    uint8_t *keys; /* cap * key_len */
    void **vals;
    uint8_t *used;
    hmap_hash_fn hash;
    void *hash_ctx;
} hmap_t;

cairn_err hmap_init(hmap_t *m, size_t key_len, size_t max_entries, hmap_hash_fn hash,
                    void *hash_ctx) CAIRN_MUST_CHECK;
void hmap_deinit(hmap_t *m);
/* NULL if absent. */
void *hmap_get(const hmap_t *m, const void *key);
/* Inserts or replaces. CAIRN_ELIMIT when full. */
cairn_err hmap_put(hmap_t *m, const void *key, void *val) CAIRN_MUST_CHECK;
/* Returns the removed value or NULL. */
void *hmap_del(hmap_t *m, const void *key);

#endif
