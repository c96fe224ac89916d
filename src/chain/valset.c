/* valset.c - validator sets: CometBFT's order, hash, quorum arithmetic and its
 * proposer-priority rule (cometbft types/validator_set.go:
 * IncrementProposerPriority, RescalePriorities, shiftByAvgProposerPriority,
 * incrementProposerPriority, getValWithMostPriority).
 *
 * Invariants of every valset_t built here (valset_init, valset_decode):
 *  1. 1 <= count <= VALIDATORS_MAX, sorted by power desc then address asc,
 *     no address twice, every power > 0;
 *  2. total_power = sum of powers <= VALSET_TOTAL_POWER_MAX, so 2 * total and
 *     3 * total fit in int64 and sums of powers never overflow;
 *  3. proposer_index < count.
 * Priorities may be any int64: sums and differences of them are taken in
 * 128-bit arithmetic and additions clip as CometBFT's safeAddClip does.
 */
#include <string.h>

#include "base/log.h"
#include "chain/chain_int.h"

/* -1 if a sorts before b in CometBFT's order, 1 after, 0 same address. */
static int val_order(const validator_t *a, const validator_t *b)
{
    int c = memcmp(a->address, b->address, ADDR_BYTES);
    if (c == 0) return 0;
    if (a->power != b->power) return a->power > b->power ? -1 : 1;
    return c < 0 ? -1 : 1;
}

static bool has_duplicate(const valset_t *vs)
{
    for (uint32_t i = 0; i < vs->count; i++)
        for (uint32_t j = i + 1; j < vs->count; j++)
            if (memcmp(vs->v[i].address, vs->v[j].address, ADDR_BYTES) == 0) return true;
    return false;
}

static void sort_validators(valset_t *vs)
{
    for (uint32_t i = 1; i < vs->count; i++) { /* insertion sort, count <= 150 */
        validator_t x = vs->v[i];
        uint32_t j = i;
        while (j > 0 && val_order(&x, &vs->v[j - 1]) < 0) {
            vs->v[j] = vs->v[j - 1];
            j--;
        }
        vs->v[j] = x;
    }
}

static int64_t add_clip(int64_t a, int64_t b)
{
    if (b > 0 && a > INT64_MAX - b) return INT64_MAX;
    if (b < 0 && a < INT64_MIN - b) return INT64_MIN;
    return a + b;
}

static int64_t sub_clip(int64_t a, int64_t b)
{
    if (b > 0 && a < INT64_MIN + b) return INT64_MIN;
    if (b < 0 && a > INT64_MAX + b) return INT64_MAX;
    return a - b;
}

/* RescalePriorities(2 * total): if max - min > window, divide every priority by
 * ceil(diff / window) (Go's / truncates toward zero, as C's does). */
static void rescale(valset_t *vs)
{
    __int128 window = (__int128)2 * vs->total_power;
    int64_t lo = INT64_MAX, hi = INT64_MIN;
    for (uint32_t i = 0; i < vs->count; i++) {
        if (vs->v[i].proposer_priority < lo) lo = vs->v[i].proposer_priority;
        if (vs->v[i].proposer_priority > hi) hi = vs->v[i].proposer_priority;
    }
    __int128 diff = (__int128)hi - lo;
    if (window <= 0 || diff <= window) return;
    __int128 ratio = (diff + window - 1) / window;
    for (uint32_t i = 0; i < vs->count; i++)
        vs->v[i].proposer_priority = (int64_t)(vs->v[i].proposer_priority / ratio);
}

/* shiftByAvgProposerPriority: Go's big.Int Div is Euclidean, i.e. floor here. */
static void center(valset_t *vs)
{
    __int128 sum = 0;
    for (uint32_t i = 0; i < vs->count; i++) sum += vs->v[i].proposer_priority;
    __int128 n = vs->count;
    __int128 avg = sum / n;
    if (sum % n != 0 && sum < 0) avg -= 1;
    for (uint32_t i = 0; i < vs->count; i++)
        vs->v[i].proposer_priority = sub_clip(vs->v[i].proposer_priority, (int64_t)avg);
}

static uint32_t most_priority(const valset_t *vs)
{
    uint32_t best = 0;
    for (uint32_t i = 1; i < vs->count; i++) {
        const validator_t *a = &vs->v[i], *b = &vs->v[best];
        if (a->proposer_priority > b->proposer_priority ||
            (a->proposer_priority == b->proposer_priority &&
             memcmp(a->address, b->address, ADDR_BYTES) < 0))
            best = i;
    }
    return best;
}

void valset_increment_priority(valset_t *vs, uint32_t times)
{
    CAIRN_ASSERTF(vs->count >= 1 && vs->count <= VALIDATORS_MAX, "count=%u", vs->count);
    if (times == 0) return;
    rescale(vs);
    center(vs);
    for (uint32_t t = 0; t < times; t++) {
        for (uint32_t i = 0; i < vs->count; i++)
            vs->v[i].proposer_priority = add_clip(vs->v[i].proposer_priority, vs->v[i].power);
        uint32_t p = most_priority(vs);
        vs->v[p].proposer_priority = sub_clip(vs->v[p].proposer_priority, vs->total_power);
        vs->proposer_index = p;
    }
}

const validator_t *valset_proposer(const valset_t *vs)
{
    CAIRN_ASSERTF(vs->proposer_index < vs->count, "proposer %u of %u", vs->proposer_index,
                  vs->count);
    return &vs->v[vs->proposer_index];
}

cairn_err valset_init(valset_t *vs, const validator_t *vals, uint32_t count)
{
    if (count == 0) return CAIRN_EINVALID_ARG;
    if (count > VALIDATORS_MAX) return CAIRN_ETOO_LARGE;
    valset_t tmp; /* ~10 KiB */
    memset(&tmp, 0, sizeof tmp);
    int64_t total = 0;
    for (uint32_t i = 0; i < count; i++) {
        if (vals[i].power <= 0) return CAIRN_EINVALID_ARG;
        if (vals[i].power > VALSET_TOTAL_POWER_MAX - total) return CAIRN_EOVERFLOW;
        total += vals[i].power;
        memcpy(tmp.v[i].pub, vals[i].pub, PUBKEY_BYTES);
        key_address(tmp.v[i].address, vals[i].pub);
        tmp.v[i].power = vals[i].power;
    }
    tmp.count = count;
    tmp.total_power = total;
    if (has_duplicate(&tmp)) return CAIRN_EDUPLICATE;
    sort_validators(&tmp);
    valset_increment_priority(&tmp, 1);
    memcpy(vs, &tmp, sizeof tmp);
    return CAIRN_OK;
}

cairn_err valset_hash(const valset_t *vs, uint8_t out[static HASH_BYTES])
{
    if (vs->count > VALIDATORS_MAX) return CAIRN_EINVALID_ARG;
    uint8_t leaves[VALIDATORS_MAX][HASH_BYTES];
    for (uint32_t i = 0; i < vs->count; i++) {
        uint8_t e[PUBKEY_BYTES + 8];
        memcpy(e, vs->v[i].pub, PUBKEY_BYTES);
        for (int k = 0; k < 8; k++) e[PUBKEY_BYTES + k] = (uint8_t)((uint64_t)vs->v[i].power >> (8 * k));
        merkle_leaf_hash(leaves[i], e, sizeof e);
    }
    return merkle_root_from_hashes(out, (const uint8_t(*)[HASH_BYTES])leaves, vs->count);
}

int valset_index_of(const valset_t *vs, const uint8_t addr[static ADDR_BYTES])
{
    for (uint32_t i = 0; i < vs->count && i < VALIDATORS_MAX; i++)
        if (memcmp(vs->v[i].address, addr, ADDR_BYTES) == 0) return (int)i;
    return -1;
}

bool valset_has_quorum(const valset_t *vs, int64_t power)
{
    return (__int128)power * 3 > (__int128)vs->total_power * 2;
}

bool valset_has_one_third(const valset_t *vs, int64_t power)
{
    return (__int128)power * 3 > (__int128)vs->total_power;
}

cairn_err valset_encode(const valset_t *vs, buf_t *out)
{
    if (vs->count == 0 || vs->proposer_index >= vs->count) return CAIRN_EINVALID_ARG;
    if (vs->count > VALIDATORS_MAX) return CAIRN_ETOO_LARGE;
    size_t start = out->len;
    codec_writer w;
    codec_writer_init(&w, out);
    codec_put_u8(&w, CHAIN_VERSION);
    codec_put_u32(&w, vs->count);
    codec_put_u32(&w, vs->proposer_index);
    for (uint32_t i = 0; i < vs->count; i++) {
        codec_put_fixed(&w, vs->v[i].pub, PUBKEY_BYTES);
        codec_put_i64(&w, vs->v[i].power);
        codec_put_i64(&w, vs->v[i].proposer_priority);
    }
    return chain_write_done(&w, out, start);
}

cairn_err valset_decode(valset_t *vs, const uint8_t *p, size_t n)
{
    if (n == 0) return CAIRN_ETRUNCATED;
    if (p[0] != CHAIN_VERSION) return CAIRN_EBAD_VERSION;
    codec_reader r;
    codec_reader_init(&r, p, n);
    (void)codec_get_u8(&r);
    uint32_t count = codec_get_u32(&r);
    uint32_t proposer = codec_get_u32(&r);
    CAIRN_TRY(r.err);
    if (count == 0) return CAIRN_EBAD_ENCODING;
    if (count > VALIDATORS_MAX) return CAIRN_ETOO_LARGE;
    if (proposer >= count) return CAIRN_EBAD_ENCODING;
    valset_t tmp;
    memset(&tmp, 0, sizeof tmp);
    int64_t total = 0;
    for (uint32_t i = 0; i < count && !r.err; i++) {
        validator_t *v = &tmp.v[i];
        codec_get_fixed(&r, v->pub, PUBKEY_BYTES);
        v->power = codec_get_i64(&r);
        v->proposer_priority = codec_get_i64(&r);
        if (r.err) break;
        key_address(v->address, v->pub);
        if (v->power <= 0) return CAIRN_EBAD_ENCODING;
        if (v->power > VALSET_TOTAL_POWER_MAX - total) return CAIRN_EOVERFLOW;
        total += v->power;
        for (uint32_t j = 0; j < i; j++)
            if (memcmp(tmp.v[j].address, v->address, ADDR_BYTES) == 0) return CAIRN_EDUPLICATE;
        if (i > 0 && val_order(&tmp.v[i - 1], v) > 0) return CAIRN_ENONCANONICAL;
    }
    CAIRN_TRY(codec_reader_finish(&r));
    tmp.count = count;
    tmp.total_power = total;
    tmp.proposer_index = proposer;
    memcpy(vs, &tmp, sizeof tmp);
    return CAIRN_OK;
}
