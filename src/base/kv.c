#include "base/kv.h"

#include <stdlib.h>
#include <string.h>

void kv_batch_init(kv_batch *b)
{
    b->items = NULL;
    b->n = b->cap = 0;
}

void kv_batch_deinit(kv_batch *b)
{
    for (size_t i = 0; i < b->n; i++) {
        free(b->items[i].key);
        free(b->items[i].val);
    }
    free(b->items);
    kv_batch_init(b);
}

static cairn_err add(kv_batch *b, const void *key, size_t key_len, const void *val,
                     size_t val_len, int is_put)
{
    if (b->n == b->cap) {
        size_t cap = b->cap ? b->cap * 2 : 16;
        kv_write *items = realloc(b->items, cap * sizeof *items);
        if (!items) return CAIRN_ENOMEM;
        b->items = items;
        b->cap = cap;
    }
    kv_write *w = &b->items[b->n];
    w->key = malloc(key_len ? key_len : 1);
    w->val = is_put ? malloc(val_len ? val_len : 1) : NULL;
    if (!w->key || (is_put && !w->val)) {
        free(w->key);
        free(w->val);
        return CAIRN_ENOMEM;
    }
    memcpy(w->key, key, key_len);
    w->key_len = key_len;
    if (is_put) memcpy(w->val, val, val_len);
    w->val_len = is_put ? val_len : 0;
    b->n++;
    return CAIRN_OK;
}

cairn_err kv_batch_put(kv_batch *b, const void *key, size_t key_len, const void *val,
                       size_t val_len)
{
    return add(b, key, key_len, val, val_len, 1);
}

cairn_err kv_batch_del(kv_batch *b, const void *key, size_t key_len)
{
    return add(b, key, key_len, NULL, 0, 0);
}
