/* kv_mem.h - an in-memory key-value map behind the kv_reader seam (base/kv.h).
 *
 * For tests and benchmarks of modules that keep authenticated state: the state
 * tree reads through kv_mem_reader() and the caller applies the kv_batch it
 * produced with kv_mem_apply(), as src/store does with RocksDB.
 * Open addressing with linear probing and backward-shift deletion; each entry is
 * one allocation holding key and value. Not thread-safe; one owner.
 */
#ifndef CAIRN_APP_KV_MEM_H
#define CAIRN_APP_KV_MEM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/error.h"
#include "base/kv.h"

typedef struct kv_mem kv_mem;

/* NULL on out of memory. Free with kv_mem_free(). */
kv_mem *kv_mem_new(void);
void kv_mem_free(kv_mem *m);
/* A reader over m; valid while m lives. Values it returns are malloc'd copies. */
kv_reader kv_mem_reader(kv_mem *m);
/* Applies every write of b in order (later writes to a key win). On NOMEM the
 * map holds a prefix of the batch. */
cairn_err kv_mem_apply(kv_mem *m, const kv_batch *b) CAIRN_MUST_CHECK;
cairn_err kv_mem_put(kv_mem *m, const void *key, size_t key_len, const void *val,
                     size_t val_len) CAIRN_MUST_CHECK;
void kv_mem_del(kv_mem *m, const void *key, size_t key_len);
/* Borrowed view of a value (valid until the next change of m), or NULL. */
const uint8_t *kv_mem_peek(const kv_mem *m, const void *key, size_t key_len,
                           size_t *val_len);
size_t kv_mem_count(const kv_mem *m);
/* Removes every entry (keeps the table's capacity). */
void kv_mem_clear(kv_mem *m);
/* Iteration in table order (deterministic for a given history of changes):
 * start with *pos = 0; returns false at the end. Views are borrowed and valid
 * until the next change of m. */
bool kv_mem_next(const kv_mem *m, size_t *pos, const uint8_t **key, size_t *key_len,
                 const uint8_t **val, size_t *val_len);
/* Total bytes of keys and values held (for benchmarks). */
size_t kv_mem_bytes(const kv_mem *m);

#endif
