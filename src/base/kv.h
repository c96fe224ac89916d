/* kv.h - the key-value interface between modules that keep authenticated data
 * (src/app's state tree) and the module that stores it (src/store, RocksDB).
 *
 * Reads go through a kv_reader (a function pointer and its context); writes are
 * collected in a kv_batch that the owner of the store applies atomically, so a
 * pure module never touches the disk. Keys and values in a batch are owned by
 * the batch (copied in). A kv_reader's returned value is malloc'd and owned by
 * the caller. Later writes to one key in a batch override earlier ones.
 */
#ifndef CAIRN_BASE_KV_H
#define CAIRN_BASE_KV_H

#include <stddef.h>
#include <stdint.h>

#include "base/error.h"

typedef struct {
    void *ctx;
    /* CAIRN_OK with *val malloc'd (caller frees), CAIRN_ENOT_FOUND, or an error
     * such as CAIRN_ECORRUPT or CAIRN_EDB. */
    cairn_err (*get)(void *ctx, const uint8_t *key, size_t key_len, uint8_t **val,
                     size_t *val_len);
} kv_reader;

typedef struct {
    uint8_t *key;
    size_t key_len;
    uint8_t *val; /* NULL: delete */
    size_t val_len;
} kv_write;

typedef struct {
    kv_write *items;
    size_t n;
    size_t cap;
} kv_batch;

void kv_batch_init(kv_batch *b);
void kv_batch_deinit(kv_batch *b);
cairn_err kv_batch_put(kv_batch *b, const void *key, size_t key_len, const void *val,
                       size_t val_len) CAIRN_MUST_CHECK;
cairn_err kv_batch_del(kv_batch *b, const void *key, size_t key_len) CAIRN_MUST_CHECK;

static inline cairn_err kv_get(const kv_reader *r, const uint8_t *key, size_t key_len,
                               uint8_t **val, size_t *val_len)
{
    return r->get(r->ctx, key, key_len, val, val_len);
}

#endif
