/* kv_mem.c - the in-memory kv map (kv_mem.h): open addressing, linear probing,
 * backward-shift deletion, one allocation per entry. */
#include "app/kv_mem.h"

#include <stdlib.h>
#include <string.h>

typedef struct {
    uint32_t key_len;
    uint32_t val_len;
    uint8_t data[]; /* key then value */
} entry;

typedef struct {
    uint64_t hash; /* of the key, so probes and moves rarely touch the entry */
    entry *e;      /* NULL: free slot */
} slot;

struct kv_mem {
    slot *slots;
    size_t cap; /* power of two */
    size_t n;
    size_t bytes;
};

/* A fast non-cryptographic hash, 8 bytes at a time (keys are not chosen by an
 * adversary who could gain from collisions here: tests and benchmarks). */
static uint64_t key_hash(const uint8_t *k, size_t n)
{
    uint64_t h = 0x9e3779b97f4a7c15ULL ^ n;
    while (n >= 8) {
        uint64_t w;
        memcpy(&w, k, 8);
        h = (h ^ w) * 0xbf58476d1ce4e5b9ULL;
        h ^= h >> 31;
        k += 8;
        n -= 8;
    }
    uint64_t w = 0;
    memcpy(&w, k, n);
    h = (h ^ w) * 0x94d049bb133111ebULL;
    h ^= h >> 29;
    h *= 0xbf58476d1ce4e5b9ULL;
    return h ^ (h >> 32);
}

kv_mem *kv_mem_new(void)
{
    kv_mem *m = calloc(1, sizeof *m);
    if (!m) return NULL;
    m->cap = 64;
    m->slots = calloc(m->cap, sizeof *m->slots);
    if (!m->slots) {
        free(m);
        return NULL;
    }
    return m;
}

void kv_mem_free(kv_mem *m)
{
    if (!m) return;
    for (size_t i = 0; i < m->cap; i++) free(m->slots[i].e);
    free(m->slots);
    free(m);
}

static size_t find(const kv_mem *m, uint64_t h, const uint8_t *key, size_t key_len, int *found)
{
    size_t mask = m->cap - 1;
    size_t i = h & mask;
    for (;;) { /* bounded: the table is never full (load <= 0.7) */
        const slot *s = &m->slots[i];
        if (!s->e) {
            *found = 0;
            return i;
        }
        if (s->hash == h && s->e->key_len == key_len && memcmp(s->e->data, key, key_len) == 0) {
            *found = 1;
            return i;
        }
        i = (i + 1) & mask;
    }
}

static cairn_err grow(kv_mem *m)
{
    size_t cap = m->cap * 2;
    slot *slots = calloc(cap, sizeof *slots);
    if (!slots) return CAIRN_ENOMEM;
    for (size_t i = 0; i < m->cap; i++) {
        if (!m->slots[i].e) continue;
        size_t j = m->slots[i].hash & (cap - 1);
        while (slots[j].e) j = (j + 1) & (cap - 1);
        slots[j] = m->slots[i];
    }
    free(m->slots);
    m->slots = slots;
    m->cap = cap;
    return CAIRN_OK;
}

cairn_err kv_mem_put(kv_mem *m, const void *key, size_t key_len, const void *val,
                     size_t val_len)
{
    if (key_len > UINT32_MAX || val_len > UINT32_MAX) return CAIRN_ETOO_LARGE;
    if ((m->n + 1) * 10 > m->cap * 7) CAIRN_TRY(grow(m));
    entry *e = malloc(sizeof *e + key_len + val_len);
    if (!e) return CAIRN_ENOMEM;
    e->key_len = (uint32_t)key_len;
    e->val_len = (uint32_t)val_len;
    memcpy(e->data, key, key_len);
    if (val_len) memcpy(e->data + key_len, val, val_len);
    uint64_t h = key_hash(key, key_len);
    int found;
    size_t i = find(m, h, key, key_len, &found);
    if (found) {
        m->bytes -= m->slots[i].e->key_len + m->slots[i].e->val_len;
        free(m->slots[i].e);
    } else {
        m->n++;
    }
    m->slots[i] = (slot){h, e};
    m->bytes += key_len + val_len;
    return CAIRN_OK;
}

void kv_mem_del(kv_mem *m, const void *key, size_t key_len)
{
    int found;
    size_t i = find(m, key_hash(key, key_len), key, key_len, &found);
    if (!found) return;
    m->bytes -= m->slots[i].e->key_len + m->slots[i].e->val_len;
    free(m->slots[i].e);
    m->slots[i].e = NULL;
    m->n--;
    /* Backward-shift deletion keeps every probe sequence unbroken. */
    size_t mask = m->cap - 1;
    size_t j = i;
    for (;;) {
        j = (j + 1) & mask;
        if (!m->slots[j].e) break;
        size_t home = m->slots[j].hash & mask;
        /* The entry may move to the hole at i unless its home lies cyclically in (i, j]. */
        int home_between = (i <= j) ? (home > i && home <= j) : (home > i || home <= j);
        if (home_between) continue;
        m->slots[i] = m->slots[j];
        m->slots[j].e = NULL;
        i = j;
    }
}

const uint8_t *kv_mem_peek(const kv_mem *m, const void *key, size_t key_len,
                           size_t *val_len)
{
    int found;
    size_t i = find(m, key_hash(key, key_len), key, key_len, &found);
    if (!found) return NULL;
    const entry *e = m->slots[i].e;
    *val_len = e->val_len;
    return e->data + e->key_len;
}

size_t kv_mem_count(const kv_mem *m) { return m->n; }

void kv_mem_clear(kv_mem *m)
{
    for (size_t i = 0; i < m->cap; i++) {
        free(m->slots[i].e);
        m->slots[i].e = NULL;
    }
    m->n = 0;
    m->bytes = 0;
}

bool kv_mem_next(const kv_mem *m, size_t *pos, const uint8_t **key, size_t *key_len,
                 const uint8_t **val, size_t *val_len)
{
    for (; *pos < m->cap; (*pos)++) {
        const entry *e = m->slots[*pos].e;
        if (!e) continue;
        *key = e->data;
        *key_len = e->key_len;
        *val = e->data + e->key_len;
        *val_len = e->val_len;
        (*pos)++;
        return true;
    }
    return false;
}

size_t kv_mem_bytes(const kv_mem *m) { return m->bytes; }

static cairn_err reader_get(void *ctx, const uint8_t *key, size_t key_len, uint8_t **val,
                            size_t *val_len)
{
    size_t n;
    const uint8_t *p = kv_mem_peek(ctx, key, key_len, &n);
    if (!p) return CAIRN_ENOT_FOUND;
    *val = malloc(n ? n : 1);
    if (!*val) return CAIRN_ENOMEM;
    memcpy(*val, p, n);
    *val_len = n;
    return CAIRN_OK;
}

kv_reader kv_mem_reader(kv_mem *m) { return (kv_reader){.ctx = m, .get = reader_get}; }

cairn_err kv_mem_apply(kv_mem *m, const kv_batch *b)
{
    for (size_t i = 0; i < b->n; i++) {
        const kv_write *w = &b->items[i];
        if (w->val)
            CAIRN_TRY(kv_mem_put(m, w->key, w->key_len, w->val, w->val_len));
        else
            kv_mem_del(m, w->key, w->key_len);
    }
    return CAIRN_OK;
}
