#include "base/hmap.h"

#include <stdlib.h>
#include <string.h>

cairn_err hmap_init(hmap_t *m, size_t key_len, size_t max_entries, hmap_hash_fn hash,
                    void *hash_ctx)
{
    size_t cap = 16;
    while (cap < 2 * max_entries) cap *= 2;
    memset(m, 0, sizeof *m);
    m->keys = calloc(cap, key_len);
    m->vals = calloc(cap, sizeof *m->vals);
    m->used = calloc(cap, 1);
    if (!m->keys || !m->vals || !m->used) {
        hmap_deinit(m);
        return CAIRN_ENOMEM;
    }
    m->key_len = key_len;
    m->cap = cap;
    m->max_entries = max_entries;
    m->hash = hash;
    m->hash_ctx = hash_ctx;
    return CAIRN_OK;
}

void hmap_deinit(hmap_t *m)
{
    free(m->keys);
    free(m->vals);
    free(m->used);
    memset(m, 0, sizeof *m);
}

static size_t slot_of(const hmap_t *m, const void *key)
{
    return (size_t)m->hash(key, m->key_len, m->hash_ctx) & (m->cap - 1);
}

/* Index of key, or of the empty slot where it would go. */
static size_t find(const hmap_t *m, const void *key)
{
    size_t i = slot_of(m, key);
    while (m->used[i] && memcmp(m->keys + i * m->key_len, key, m->key_len) != 0)
        i = (i + 1) & (m->cap - 1);
    return i;
}

void *hmap_get(const hmap_t *m, const void *key)
{
    size_t i = find(m, key);
    return m->used[i] ? m->vals[i] : NULL;
}

cairn_err hmap_put(hmap_t *m, const void *key, void *val)
{
    size_t i = find(m, key);
    if (!m->used[i]) {
        if (m->count >= m->max_entries) return CAIRN_ELIMIT;
        m->used[i] = 1;
        memcpy(m->keys + i * m->key_len, key, m->key_len);
        m->count++;
    }
    m->vals[i] = val;
    return CAIRN_OK;
}

void *hmap_del(hmap_t *m, const void *key)
{
    size_t i = find(m, key);
    if (!m->used[i]) return NULL;
    void *val = m->vals[i];
    m->used[i] = 0;
    m->count--;
    /* Backward-shift: move later members of the probe run into the hole. */
    size_t hole = i, j = i;
    for (;;) {
        j = (j + 1) & (m->cap - 1);
        if (!m->used[j]) break;
        size_t home = slot_of(m, m->keys + j * m->key_len);
        /* j may move to hole unless its home lies cyclically in (hole, j]. */
        bool stays = hole <= j ? (home > hole && home <= j) : (home > hole || home <= j);
        if (stays) continue;
        memcpy(m->keys + hole * m->key_len, m->keys + j * m->key_len, m->key_len);
        m->vals[hole] = m->vals[j];
        m->used[hole] = 1;
        m->used[j] = 0;
        hole = j;
    }
    return val;
}
