/* sim.c - the simulator: world, event queue, network, node shells, Byzantine
 * behaviours and checkers (sim.h). Single-threaded; everything random comes from
 * the world's one PRNG, so a seed replays exactly.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "chain/chain.h"
#include "consensus/consensus.h"
#include "crypto/crypto.h"
#include "sim.h"

#define MS 1000000LL
#define SEC 1000000000LL
#define FUTURE_MAX 256       /* buffered messages for the next height, per node */
#define KNOWN_MAX 64         /* blocks a node received at its current height */
#define QUEUE_MAX 512        /* inputs queued for a node within one event */
#define WAL_MAX (1u << 20)   /* WAL records of one height (grows on demand) */
#define LIVE_BOUND (40 * SEC) /* progress bound once the network is healed */
#define GOSSIP_NS (150 * MS)

/* ------------------------------------------------------------------ PRNG */

typedef struct {
    uint64_t s[4];
} rng_t;

static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static void rng_seed(rng_t *r, uint64_t seed)
{
    for (int i = 0; i < 4; i++) r->s[i] = splitmix64(&seed);
}

static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

static uint64_t rng_next(rng_t *r) /* xoshiro256** */
{
    uint64_t *s = r->s;
    uint64_t out = rotl(s[1] * 5, 7) * 9, t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return out;
}

static uint64_t rng_below(rng_t *r, uint64_t n) { return n ? rng_next(r) % n : 0; }
static bool rng_chance(rng_t *r, double p) { return (double)(rng_next(r) >> 11) * 0x1.0p-53 < p; }
static int64_t rng_range(rng_t *r, int64_t lo, int64_t hi)
{
    return hi <= lo ? lo : lo + (int64_t)rng_below(r, (uint64_t)(hi - lo + 1));
}

/* ------------------------------------------------------------------ schedules */

enum byz_kind { BYZ_NONE = 0, BYZ_SILENT, BYZ_DOUBLE, BYZ_INVALID, BYZ_EQUIV };

typedef struct {
    const char *name;
    double drop, dup, slow;
    int64_t delay_min_ns, delay_jitter_ns;
    bool partitions, one_way, crashes, skew, weighted, split_brain;
    double crash_mid; /* per core output, while crashes are on */
    int byz;          /* 0 none, 1 a mix of behaviours with < 1/3 power */
} sched_t;

static const sched_t SCHEDULES[] = {
    {"calm", 0, 0, 0, 2 * MS, 8 * MS, false, false, false, false, false, false, 0, 0},
    {"lossy", 0.15, 0.08, 0.05, 1 * MS, 40 * MS, false, false, false, false, false, false, 0, 0},
    {"partition", 0.02, 0.02, 0.02, 2 * MS, 15 * MS, true, true, false, false, false, false, 0, 0},
    {"crash", 0.02, 0.01, 0.01, 2 * MS, 15 * MS, false, false, true, false, false, false, 0.004, 0},
    {"skew", 0.02, 0.02, 0.02, 2 * MS, 15 * MS, false, false, false, true, true, false, 0, 0},
    {"byzantine", 0.05, 0.03, 0.02, 2 * MS, 15 * MS, false, false, false, false, true, false, 0, 1},
    {"chaos", 0.08, 0.05, 0.03, 1 * MS, 30 * MS, true, true, true, true, true, false, 0.003, 1},
    {"split-brain", 0, 0, 0, 2 * MS, 8 * MS, false, false, false, false, false, true, 0, 2},
    {"stall", 0.02, 0.02, 0.02, 2 * MS, 8 * MS, false, false, false, false, false, false, 0, 3},
};
#define N_REGULAR 7 /* the first ones; the rest are negative controls */
#define N_SCHED (sizeof SCHEDULES / sizeof SCHEDULES[0])

const char *const sim_schedule_names[] = {"calm", "lossy", "partition", "crash", "skew",
                                          "byzantine", "chaos", NULL};

static const sched_t *sched_find(const char *name)
{
    for (size_t i = 0; i < N_SCHED; i++)
        if (strcmp(SCHEDULES[i].name, name) == 0) return &SCHEDULES[i];
    return NULL;
}

bool sim_schedule_known(const char *name) { return sched_find(name) != NULL; }

/* ------------------------------------------------------------------ blocks */

typedef struct {
    uint8_t id[HASH_BYTES];
    uint64_t height;
    uint8_t prev_id[HASH_BYTES];
    int64_t time_ns;
    bool invalid; /* validation rejects it */
    uint32_t n_lc;
    vote_t lc[SIM_NODES_MAX]; /* the last commit it carries */
} sblock_t;

typedef struct {
    uint64_t height;
    uint32_t round;
    uint32_t block;
    uint32_t n;
    vote_t votes[SIM_NODES_MAX];
} cert_t;

enum msg_kind { M_PROPOSAL = 1, M_BLOCK, M_VOTE, M_STATUS, M_CATCHUP };

typedef struct {
    uint8_t kind;
    uint32_t from, to;
    uint64_t height; /* M_STATUS: the sender's current height; M_BLOCK: block height */
    uint32_t round;  /* M_STATUS */
    uint32_t block;  /* M_PROPOSAL, M_BLOCK, M_CATCHUP: pool index */
    proposal_t prop;
    vote_t vote;
    const cert_t *cert; /* M_CATCHUP */
} msg_t;

enum ev_kind { EV_DELIVER = 1, EV_TIMEOUT, EV_GOSSIP, EV_FAULT, EV_HEAL, EV_RESTART };

typedef struct {
    uint8_t kind;
    uint32_t node;
    uint32_t inc; /* node incarnation for timers */
    uint64_t h;
    uint32_t r;
    uint8_t step;
    msg_t msg;
} payload_t;

typedef struct {
    int64_t t;
    uint64_t seq;
    uint32_t slot;
} hentry_t;

enum { W_PERSIST = 1, W_MSG };
typedef struct {
    uint8_t kind;
    cons_persist_t rec;
    msg_t msg;
} walrec_t;

typedef struct {
    uint32_t idx;
    int byz;
    bool up;
    uint32_t inc;
    consensus_t *core;
    uint8_t addr[ADDR_BYTES];
    uint32_t vidx; /* index in the (static-membership) validator set */
    int64_t skew_ns, drift_ppm;
    /* durable: the chain, the WAL of the current height, the signer's state */
    uint64_t height;
    uint32_t *chain_block; /* [h] for h in 1..height */
    cert_t **chain_cert;
    size_t chain_cap;
    walrec_t *wal;
    uint32_t wal_n, wal_synced, wal_cap;
    bool s_has;
    uint64_t s_h;
    uint32_t s_r;
    uint8_t s_step; /* 1 proposal, 2 prevote, 3 precommit */
    uint8_t s_id[HASH_BYTES];
    vote_t s_vote;
    /* volatile */
    msg_t future[FUTURE_MAX];
    uint32_t n_future;
    uint32_t known[KNOWN_MAX];
    uint32_t n_known;
    bool g_prop, g_pv, g_pc;
    proposal_t my_prop;
    uint32_t my_prop_block;
    vote_t my_pv, my_pc;
    int64_t last_catchup[SIM_NODES_MAX];
    cons_input_t queue[QUEUE_MAX];
    uint32_t q_head, q_n;
    bool running; /* inside node_run: inputs queue up instead of nesting */
    /* BYZ_EQUIV: proposals already made, (h, r, side mask) */
    uint64_t eq_h[64];
    uint32_t eq_r[64], eq_side[64], eq_n;
} node_t;

typedef struct {
    sim_options_t opt;
    const sched_t *sc;
    rng_t rng;
    int64_t now;
    uint64_t seq, events;
    uint32_t n;
    node_t nodes[SIM_NODES_MAX];
    bool blocked[SIM_NODES_MAX][SIM_NODES_MAX];
    bool partitioned;
    /* event queue */
    hentry_t *heap;
    uint32_t heap_n, heap_cap;
    payload_t *pl;
    uint32_t *pl_free;
    uint32_t pl_n, pl_cap, pl_free_n;
    /* blocks */
    sblock_t *blocks;
    uint32_t n_blocks, cap_blocks;
    /* validator sets per height (static membership, priorities move) */
    valset_t *vals;
    size_t n_vals;
    cons_config_t cfg;
    int64_t genesis_ns;
    /* checkers */
    uint32_t *decided; /* [h]: pool index + 1 of the first honest commit */
    size_t decided_cap;
    struct signed_rec { uint64_t key; uint8_t id[HASH_BYTES]; bool used; } *signed_tab;
    size_t signed_cap, signed_n;
    uint64_t min_height;
    int64_t progress_t, stable_since;
    bool faults_on;
    sim_result_t *res;
    bool failed;
} world_t;

static void fail(world_t *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void fail(world_t *w, const char *fmt, ...)
{
    if (w->failed) return;
    w->failed = true;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(w->res->what, sizeof w->res->what, fmt, ap);
    va_end(ap);
}

static void trace(world_t *w, uint32_t node, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void trace(world_t *w, uint32_t node, const char *fmt, ...)
{
    if (!w->opt.trace) return;
    node_t *x = &w->nodes[node];
    printf("%10.6f n%u h=%" PRIu64 " ", (double)w->now / SEC, node, x->height + 1);
    va_list ap;
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    putchar('\n');
}

static const char *hex8(const uint8_t *id, char buf[static 9])
{
    if (bytes_is_zero(id, HASH_BYTES)) return "nil";
    hex_encode_lower(buf, id, 4);
    return buf;
}

static void *xrealloc(void *p, size_t n)
{
    void *q = realloc(p, n);
    CAIRN_ASSERTF(q != NULL, "simulator out of memory (%zu bytes)", n);
    return q;
}

/* ------------------------------------------------------------------ events */

static void heap_push(world_t *w, int64_t t, uint32_t slot)
{
    if (w->heap_n == w->heap_cap) {
        w->heap_cap = w->heap_cap ? w->heap_cap * 2 : 1024;
        w->heap = xrealloc(w->heap, w->heap_cap * sizeof *w->heap);
    }
    hentry_t e = {t, w->seq++, slot};
    uint32_t i = w->heap_n++;
    while (i > 0) {
        uint32_t p = (i - 1) / 2;
        hentry_t *q = &w->heap[p];
        if (q->t < e.t || (q->t == e.t && q->seq < e.seq)) break;
        w->heap[i] = *q;
        i = p;
    }
    w->heap[i] = e;
}

static hentry_t heap_pop(world_t *w)
{
    hentry_t top = w->heap[0], last = w->heap[--w->heap_n];
    uint32_t i = 0;
    for (;;) {
        uint32_t l = 2 * i + 1, r = l + 1, m = i;
        const hentry_t *best = &last;
        if (l < w->heap_n && (w->heap[l].t < best->t || (w->heap[l].t == best->t && w->heap[l].seq < best->seq))) {
            m = l;
            best = &w->heap[l];
        }
        if (r < w->heap_n && (w->heap[r].t < best->t || (w->heap[r].t == best->t && w->heap[r].seq < best->seq)))
            m = r;
        if (m == i) break;
        w->heap[i] = w->heap[m];
        i = m;
    }
    if (w->heap_n) w->heap[i] = last;
    return top;
}

static payload_t *event_new(world_t *w, int64_t at, uint8_t kind, uint32_t node)
{
    uint32_t slot;
    if (w->pl_free_n) {
        slot = w->pl_free[--w->pl_free_n];
    } else {
        if (w->pl_n == w->pl_cap) {
            w->pl_cap = w->pl_cap ? w->pl_cap * 2 : 1024;
            w->pl = xrealloc(w->pl, w->pl_cap * sizeof *w->pl);
            w->pl_free = xrealloc(w->pl_free, w->pl_cap * sizeof *w->pl_free);
        }
        slot = w->pl_n++;
    }
    payload_t *p = &w->pl[slot];
    memset(p, 0, sizeof *p - sizeof p->msg);
    p->kind = kind;
    p->node = node;
    heap_push(w, at, slot);
    return p;
}

/* ------------------------------------------------------------------ world data */

static const valset_t *vals_at(world_t *w, uint64_t h)
{
    while (w->n_vals <= h) {
        w->vals = xrealloc(w->vals, (w->n_vals + 64) * sizeof *w->vals);
        for (size_t k = w->n_vals; k < w->n_vals + 64; k++) {
            w->vals[k] = w->vals[k - 1];
            valset_increment_priority(&w->vals[k], 1);
        }
        w->n_vals += 64;
    }
    return &w->vals[h];
}

static uint32_t proposer_at(world_t *w, uint64_t h, uint32_t r)
{
    static valset_t tmp;
    tmp = *vals_at(w, h);
    valset_increment_priority(&tmp, r);
    return (uint32_t)(valset_proposer(&tmp) - tmp.v);
}

static uint32_t node_of_vidx(world_t *w, uint32_t vidx)
{
    for (uint32_t i = 0; i < w->n; i++)
        if (w->nodes[i].vidx == vidx) return i;
    return 0;
}

static sblock_t *block_at(world_t *w, uint32_t i) { return &w->blocks[i]; }

static uint32_t block_add(world_t *w, const sblock_t *b)
{
    if (w->n_blocks == w->cap_blocks) {
        w->cap_blocks = w->cap_blocks ? w->cap_blocks * 2 : 256;
        w->blocks = xrealloc(w->blocks, w->cap_blocks * sizeof *w->blocks);
    }
    w->blocks[w->n_blocks] = *b;
    return w->n_blocks++;
}

/* Builds a block for height h on top of `node`'s chain, signed off by the commit
 * `lc` of height h-1, at BFT time t. */
static uint32_t block_make(world_t *w, node_t *x, uint64_t h, int64_t t, const vote_t *lc,
                           uint32_t n_lc, bool invalid)
{
    sblock_t b;
    memset(&b, 0, sizeof b);
    b.height = h;
    if (h > 1) memcpy(b.prev_id, block_at(w, x->chain_block[h - 1])->id, HASH_BYTES);
    b.time_ns = t;
    b.invalid = invalid;
    b.n_lc = n_lc > SIM_NODES_MAX ? SIM_NODES_MAX : n_lc;
    if (b.n_lc) memcpy(b.lc, lc, b.n_lc * sizeof *lc);
    uint64_t salt = rng_next(&w->rng);
    hash_ctx c;
    hash_init(&c);
    hash_update(&c, &b.height, sizeof b.height);
    hash_update(&c, b.prev_id, HASH_BYTES);
    hash_update(&c, &b.time_ns, sizeof b.time_ns);
    hash_update(&c, &b.invalid, sizeof b.invalid);
    hash_update(&c, &salt, sizeof salt);
    hash_update(&c, &x->idx, sizeof x->idx);
    hash_final(&c, b.id);
    return block_add(w, &b);
}

/* The node's validation (what the application and block_validate would say). */
static uint8_t block_validate_at(world_t *w, const node_t *x, const sblock_t *b)
{
    if (x->byz == BYZ_INVALID) return CONS_BLOCK_VALID;
    uint64_t h = x->height + 1;
    if (b->invalid || b->height != h) return CONS_BLOCK_INVALID;
    if (h == 1) return b->time_ns == w->genesis_ns && b->n_lc == 0 ? CONS_BLOCK_VALID : CONS_BLOCK_INVALID;
    const sblock_t *prev = block_at(w, x->chain_block[h - 1]);
    if (memcmp(b->prev_id, prev->id, HASH_BYTES) != 0 || b->time_ns <= prev->time_ns)
        return CONS_BLOCK_INVALID;
    const valset_t *lv = vals_at(w, h - 1);
    int64_t power = 0;
    bool seen[VALIDATORS_MAX] = {0};
    for (uint32_t i = 0; i < b->n_lc; i++) {
        const vote_t *v = &b->lc[i];
        if (v->validator_index >= lv->count || seen[v->validator_index] || v->height != h - 1 ||
            v->type != VOTE_PRECOMMIT || memcmp(v->block_id, prev->id, HASH_BYTES) != 0)
            return CONS_BLOCK_INVALID;
        seen[v->validator_index] = true;
        power += lv->v[v->validator_index].power;
    }
    if (!valset_has_quorum(lv, power)) return CONS_BLOCK_INVALID;
    int64_t median;
    if (consensus_median_time(b->lc, b->n_lc, lv, &median) != CAIRN_OK || median != b->time_ns)
        return CONS_BLOCK_INVALID;
    return CONS_BLOCK_VALID;
}

/* ------------------------------------------------------------------ network */

static int64_t local_now(const world_t *w, const node_t *x)
{
    return w->genesis_ns + w->now + x->skew_ns + w->now / 1000000 * x->drift_ppm;
}

static void net_send(world_t *w, const msg_t *m)
{
    if (m->to == m->from) {
        payload_t *p = event_new(w, w->now, EV_DELIVER, m->to);
        p->msg = *m;
        return;
    }
    if (w->blocked[m->from][m->to] || rng_chance(&w->rng, w->sc->drop)) return;
    int copies = rng_chance(&w->rng, w->sc->dup) ? 2 : 1;
    for (int k = 0; k < copies; k++) {
        int64_t d = rng_range(&w->rng, w->sc->delay_min_ns, w->sc->delay_min_ns + w->sc->delay_jitter_ns);
        if (rng_chance(&w->rng, w->sc->slow)) d *= 10;
        payload_t *p = event_new(w, w->now + d, EV_DELIVER, m->to);
        p->msg = *m;
    }
}

static void broadcast(world_t *w, msg_t *m)
{
    for (uint32_t j = 0; j < w->n; j++) {
        m->to = j;
        net_send(w, m);
    }
}

/* ------------------------------------------------------------------ checkers */

static uint64_t signed_key(uint32_t node, uint64_t h, uint32_t r, uint8_t type)
{
    return ((h * 0x100000ULL + r) * 4 + type) * SIM_NODES_MAX + node;
}

static void signed_grow(world_t *w)
{
    size_t old_cap = w->signed_cap;
    struct signed_rec *old = w->signed_tab;
    w->signed_cap = old_cap ? old_cap * 2 : 4096;
    w->signed_tab = calloc(w->signed_cap, sizeof *w->signed_tab);
    CAIRN_ASSERT(w->signed_tab != NULL);
    w->signed_n = 0;
    for (size_t i = 0; i < old_cap; i++) {
        if (!old[i].used) continue;
        size_t k = old[i].key % w->signed_cap;
        while (w->signed_tab[k].used) k = (k + 1) % w->signed_cap;
        w->signed_tab[k] = old[i];
        w->signed_n++;
    }
    free(old);
}

/* No honest double-sign: every vote an honest signer released is remembered. */
static void check_signed(world_t *w, const node_t *x, const vote_t *v)
{
    if (x->byz) return;
    if (w->signed_n * 2 >= w->signed_cap) signed_grow(w);
    uint64_t key = signed_key(x->idx, v->height, v->round, v->type);
    size_t k = key % w->signed_cap;
    while (w->signed_tab[k].used) {
        if (w->signed_tab[k].key == key) {
            if (memcmp(w->signed_tab[k].id, v->block_id, HASH_BYTES) != 0)
                fail(w, "no-double-sign: honest n%u signed two different %s at h=%" PRIu64 " r=%u",
                     x->idx, v->type == VOTE_PREVOTE ? "prevotes" : "precommits", v->height, v->round);
            return;
        }
        k = (k + 1) % w->signed_cap;
    }
    w->signed_tab[k].used = true;
    w->signed_tab[k].key = key;
    memcpy(w->signed_tab[k].id, v->block_id, HASH_BYTES);
    w->signed_n++;
}

static uint64_t honest_min_height(const world_t *w)
{
    uint64_t m = UINT64_MAX;
    for (uint32_t i = 0; i < w->n; i++)
        if (!w->nodes[i].byz && w->nodes[i].height < m) m = w->nodes[i].height;
    return m == UINT64_MAX ? 0 : m;
}

/* Agreement and validity, when an honest node commits block b at height h. */
static void check_commit(world_t *w, node_t *x, uint64_t h, uint32_t bi)
{
    if (x->byz) return;
    const sblock_t *b = block_at(w, bi);
    if (block_validate_at(w, x, b) != CONS_BLOCK_VALID)
        fail(w, "validity: honest n%u committed an invalid block at h=%" PRIu64, x->idx, h);
    if (h >= w->decided_cap) {
        size_t cap = (h + 1) * 2;
        w->decided = xrealloc(w->decided, cap * sizeof *w->decided);
        memset(w->decided + w->decided_cap, 0, (cap - w->decided_cap) * sizeof *w->decided);
        w->decided_cap = cap;
    }
    if (!w->decided[h]) {
        w->decided[h] = bi + 1;
    } else if (memcmp(block_at(w, w->decided[h] - 1)->id, b->id, HASH_BYTES) != 0) {
        char a[9], c[9];
        fail(w, "agreement: two different blocks committed at h=%" PRIu64 " (%s and %s, n%u)", h,
             hex8(block_at(w, w->decided[h] - 1)->id, a), hex8(b->id, c), x->idx);
    }
}

static bool disrupted(const world_t *w)
{
    if (w->partitioned) return true;
    for (uint32_t i = 0; i < w->n; i++)
        if (!w->nodes[i].byz && !w->nodes[i].up) return true;
    return false;
}

static void check_liveness(world_t *w)
{
    uint64_t m = honest_min_height(w);
    if (m > w->min_height) {
        w->min_height = m;
        w->progress_t = w->now;
    }
    if (w->sc->split_brain) return; /* no liveness promise above 1/3 Byzantine power */
    if (disrupted(w)) {
        w->stable_since = -1;
        return;
    }
    if (w->stable_since < 0) w->stable_since = w->now;
    int64_t from = w->stable_since > w->progress_t ? w->stable_since : w->progress_t;
    if (w->now - from > LIVE_BOUND)
        fail(w, "liveness: no honest progress for %.1f s of healed network (min height %" PRIu64 ")",
             (double)(w->now - from) / SEC, m);
}

/* ------------------------------------------------------------------ node shell */

static void node_enqueue(node_t *x, const cons_input_t *in)
{
    CAIRN_ASSERTF(x->q_n < QUEUE_MAX, "node input queue full (%u)", x->q_n);
    x->queue[(x->q_head + x->q_n++) % QUEUE_MAX] = *in;
}

static void wal_append(node_t *x, uint8_t kind, const cons_persist_t *rec, const msg_t *m)
{
    /* A node never drops a record: past the bound the run is too odd to trust. */
    CAIRN_ASSERTF(x->wal_n < WAL_MAX, "n%u: WAL of one height exceeded %u records", x->idx, WAL_MAX);
    if (x->wal_n == x->wal_cap) {
        x->wal_cap *= 2;
        x->wal = xrealloc(x->wal, x->wal_cap * sizeof *x->wal);
    }
    walrec_t *r = &x->wal[x->wal_n++];
    r->kind = kind;
    if (rec) r->rec = *rec;
    if (m) r->msg = *m;
}

static bool node_knows(const node_t *x, uint32_t bi)
{
    for (uint32_t i = 0; i < x->n_known; i++)
        if (x->known[i] == bi) return true;
    return false;
}

static void start_height(world_t *w, node_t *x, const cons_persist_t *restore, bool keep_wal);
static void crash(world_t *w, node_t *x);

/* The signer: refuses to go back in (h, r, step) or to sign something else at the
 * same (h, r, step); the same vote again gets the stored signature. Its state is
 * durable before the signature is released. */
static bool signer_vote(node_t *x, vote_t *v)
{
    uint8_t step = v->type == VOTE_PREVOTE ? 2 : 3;
    if (x->s_has) {
        if (v->height < x->s_h || (v->height == x->s_h && v->round < x->s_r) ||
            (v->height == x->s_h && v->round == x->s_r && step < x->s_step))
            return false;
        if (v->height == x->s_h && v->round == x->s_r && step == x->s_step) {
            if (memcmp(x->s_id, v->block_id, HASH_BYTES) != 0) return false;
            *v = x->s_vote;
            return true;
        }
    }
    memset(v->sig, 0, SIG_BYTES);
    v->sig[0] = (uint8_t)(x->idx + 1); /* the sim does not need real signatures */
    x->s_has = true;
    x->s_h = v->height;
    x->s_r = v->round;
    x->s_step = step;
    memcpy(x->s_id, v->block_id, HASH_BYTES);
    x->s_vote = *v;
    return true;
}

static bool signer_proposal(node_t *x, proposal_t *p)
{
    if (x->s_has && (p->height < x->s_h || (p->height == x->s_h && p->round < x->s_r) ||
                     (p->height == x->s_h && p->round == x->s_r && x->s_step >= 1))) {
        if (!(p->height == x->s_h && p->round == x->s_r && x->s_step == 1 &&
              memcmp(x->s_id, p->block_id, HASH_BYTES) == 0))
            return false;
    }
    x->s_has = true;
    x->s_h = p->height;
    x->s_r = p->round;
    x->s_step = 1;
    memcpy(x->s_id, p->block_id, HASH_BYTES);
    p->sig[0] = (uint8_t)(x->idx + 1);
    return true;
}

static void send_block(world_t *w, node_t *x, uint32_t bi, uint32_t to)
{
    msg_t m = {.kind = M_BLOCK, .from = x->idx, .to = to, .block = bi, .height = block_at(w, bi)->height};
    net_send(w, &m);
}

static void do_sign_vote(world_t *w, node_t *x, const vote_t *uv)
{
    vote_t v = *uv;
    if (x->byz != BYZ_DOUBLE && !signer_vote(x, &v)) {
        trace(w, x->idx, "signer refused %s r=%u", v.type == VOTE_PREVOTE ? "prevote" : "precommit", v.round);
        return;
    }
    check_signed(w, x, &v);
    char hb[9];
    trace(w, x->idx, "sign %s r=%u %s", v.type == VOTE_PREVOTE ? "prevote" : "precommit", v.round,
          hex8(v.block_id, hb));
    if (v.type == VOTE_PREVOTE) { x->my_pv = v; x->g_pv = true; }
    else { x->my_pc = v; x->g_pc = true; }
    msg_t m = {.kind = M_VOTE, .from = x->idx, .vote = v};
    if (x->byz == BYZ_DOUBLE) { /* a conflicting vote to a random half of the others */
        vote_t other = v;
        if (vote_is_nil(&v)) other.block_id[0] = (uint8_t)(1 + rng_below(&w->rng, 255));
        else memset(other.block_id, 0, HASH_BYTES);
        for (uint32_t j = 0; j < w->n; j++) {
            m.to = j;
            m.vote = (j != x->idx && rng_chance(&w->rng, 0.5)) ? other : v;
            net_send(w, &m);
        }
        return;
    }
    broadcast(w, &m);
}

static void do_sign_proposal(world_t *w, node_t *x, const proposal_t *up)
{
    proposal_t p = *up;
    if (!signer_proposal(x, &p)) {
        trace(w, x->idx, "signer refused proposal r=%u", p.round);
        return;
    }
    uint32_t bi = UINT32_MAX;
    for (uint32_t i = 0; i < w->n_blocks; i++) /* the shell keeps every block it vouched for */
        if (memcmp(w->blocks[i].id, p.block_id, HASH_BYTES) == 0) { bi = i; break; }
    CAIRN_ASSERTF(bi != UINT32_MAX, "proposal for a block the shell does not have");
    char hb[9];
    trace(w, x->idx, "sign proposal r=%u pol=%d %s", p.round, p.pol_round, hex8(p.block_id, hb));
    x->my_prop = p;
    x->my_prop_block = bi;
    x->g_prop = true;
    for (uint32_t j = 0; j < w->n; j++) {
        if (j != x->idx) send_block(w, x, bi, j);
        msg_t m = {.kind = M_PROPOSAL, .from = x->idx, .to = j, .prop = p, .block = bi};
        net_send(w, &m);
    }
    if (!node_knows(x, bi) && x->n_known < KNOWN_MAX) x->known[x->n_known++] = bi;
}

static void do_create(world_t *w, node_t *x, const cons_output_t *o)
{
    bool invalid = x->byz == BYZ_INVALID && rng_chance(&w->rng, 0.5);
    uint32_t bi = block_make(w, x, o->u.create.height, o->u.create.time_ns, o->u.create.last_commit,
                             o->u.create.n_last_commit, invalid);
    if (x->n_known < KNOWN_MAX) x->known[x->n_known++] = bi;
    cons_input_t in = {.kind = CONS_IN_BLOCK_CREATED};
    in.u.created.height = o->u.create.height;
    in.u.created.round = o->u.create.round;
    memcpy(in.u.created.block_id, block_at(w, bi)->id, HASH_BYTES);
    in.u.created.block_time_ns = o->u.create.time_ns;
    node_enqueue(x, &in);
}

/* The block of height h is decided (by the core or by a verified catch-up). */
static void commit_block(world_t *w, node_t *x, uint64_t h, uint32_t round, uint32_t bi,
                         const vote_t *pcs, uint32_t n)
{
    char hb[9];
    trace(w, x->idx, "COMMIT h=%" PRIu64 " r=%u %s", h, round, hex8(block_at(w, bi)->id, hb));
    check_commit(w, x, h, bi);
    if (h + 1 >= x->chain_cap) {
        size_t cap = (h + 1) * 2;
        x->chain_block = xrealloc(x->chain_block, cap * sizeof *x->chain_block);
        x->chain_cert = xrealloc(x->chain_cert, cap * sizeof *x->chain_cert);
        x->chain_cap = cap;
    }
    cert_t *c = calloc(1, sizeof *c);
    CAIRN_ASSERT(c != NULL);
    c->height = h;
    c->round = round;
    c->block = bi;
    c->n = n > SIM_NODES_MAX ? SIM_NODES_MAX : n;
    memcpy(c->votes, pcs, c->n * sizeof *pcs);
    x->chain_block[h] = bi;
    x->chain_cert[h] = c;
    x->height = h; /* durable: the block store is synced on commit */
    start_height(w, x, NULL, false);
}

static void apply_outputs(world_t *w, node_t *x, const cons_outputs_t *out)
{
    for (uint32_t i = 0; i < out->n && x->up; i++) {
        const cons_output_t *o = &out->items[i];
        if (w->sc->crashes && w->faults_on && !x->byz && rng_chance(&w->rng, w->sc->crash_mid)) {
            trace(w, x->idx, "CRASH before output %u of %u", i, out->n);
            crash(w, x);
            return;
        }
        switch (o->kind) {
        case CONS_OUT_PERSIST:
            wal_append(x, W_PERSIST, &o->u.persist, NULL);
            x->wal_synced = x->wal_n; /* fsync: everything before is durable too */
            break;
        case CONS_OUT_SIGN_VOTE: do_sign_vote(w, x, &o->u.vote); break;
        case CONS_OUT_SIGN_PROPOSAL: do_sign_proposal(w, x, &o->u.proposal); break;
        case CONS_OUT_SCHEDULE_TIMEOUT: {
            int64_t d = o->u.timeout.duration_ns + o->u.timeout.duration_ns / 1000000 * x->drift_ppm;
            payload_t *p = event_new(w, w->now + d, EV_TIMEOUT, x->idx);
            p->inc = x->inc;
            p->h = o->u.timeout.height;
            p->r = o->u.timeout.round;
            p->step = o->u.timeout.step;
            break;
        }
        case CONS_OUT_CREATE_BLOCK: do_create(w, x, o); break;
        case CONS_OUT_DECIDE: {
            /* The shell keeps the blocks it vouched for durably (a restored core
             * knows its locked block without hearing of it again): the pool. */
            uint32_t bi = UINT32_MAX;
            for (uint32_t k = 0; k < w->n_blocks && bi == UINT32_MAX; k++)
                if (memcmp(w->blocks[k].id, o->u.decide.block_id, HASH_BYTES) == 0) bi = k;
            CAIRN_ASSERTF(bi != UINT32_MAX, "decided a block that does not exist");
            commit_block(w, x, o->u.decide.height, o->u.decide.round, bi, o->u.decide.precommits,
                         o->u.decide.n_precommits);
            break;
        }
        case CONS_OUT_EVIDENCE: w->res->evidence++; trace(w, x->idx, "EVIDENCE from v%u", o->u.evidence.a.validator_index); break;
        }
    }
}

/* Runs the node's queued inputs (and whatever they queue) unless already running. */
static void node_run(world_t *w, node_t *x)
{
    if (x->running) return;
    x->running = true;
    cons_outputs_t out;
    while (x->q_n && x->up) {
        cons_input_t in = x->queue[x->q_head];
        x->q_head = (x->q_head + 1) % QUEUE_MAX;
        x->q_n--;
        out.n = 0;
        cairn_err rc = consensus_step(x->core, &in, local_now(w, x), &out);
        if (rc != CAIRN_OK) {
            w->res->drops_by_core++;
            static const char *const kinds[] = {"?", "start", "proposal", "vote", "block", "created", "timeout"};
            trace(w, x->idx, "core dropped %s: %s", kinds[in.kind <= 6 ? in.kind : 0], cairn_errname(rc));
        }
        apply_outputs(w, x, &out);
    }
    x->running = false;
}

static void node_feed(world_t *w, node_t *x, const cons_input_t *in)
{
    node_enqueue(x, in);
    node_run(w, x);
}

static void feed_msg(world_t *w, node_t *x, const msg_t *m)
{
    cons_input_t in;
    memset(&in, 0, sizeof in);
    if (m->kind == M_VOTE) {
        in.kind = CONS_IN_VOTE;
        in.u.vote = m->vote;
    } else if (m->kind == M_PROPOSAL) {
        in.kind = CONS_IN_PROPOSAL;
        in.u.proposal.proposal = m->prop;
        if (node_knows(x, m->block)) {
            in.u.proposal.block_status = block_validate_at(w, x, block_at(w, m->block));
            in.u.proposal.block_time_ns = block_at(w, m->block)->time_ns;
        }
    } else if (m->kind == M_BLOCK) {
        if (!node_knows(x, m->block)) {
            if (x->n_known == KNOWN_MAX) return;
            x->known[x->n_known++] = m->block;
        }
        in.kind = CONS_IN_BLOCK;
        in.u.block.height = m->height;
        memcpy(in.u.block.block_id, block_at(w, m->block)->id, HASH_BYTES);
        in.u.block.status = block_validate_at(w, x, block_at(w, m->block));
        in.u.block.block_time_ns = block_at(w, m->block)->time_ns;
    } else {
        return;
    }
    node_feed(w, x, &in);
}

/* keep_wal: a restart at the same height keeps the records that survived. */
static void start_height(world_t *w, node_t *x, const cons_persist_t *restore, bool keep_wal)
{
    uint64_t h = x->height + 1;
    if (keep_wal) x->wal_synced = x->wal_n; /* what survived the crash is on disk */
    else x->wal_n = x->wal_synced = 0;
    x->n_known = 0;
    x->g_prop = x->g_pv = x->g_pc = false;
    cons_input_t in = {.kind = CONS_IN_START_HEIGHT};
    in.u.start.height = h;
    in.u.start.validators = vals_at(w, h);
    in.u.start.restore = restore;
    if (h == 1) {
        in.u.start.last_block_time_ns = w->genesis_ns;
    } else {
        in.u.start.last_block_time_ns = block_at(w, x->chain_block[h - 1])->time_ns;
        in.u.start.last_validators = vals_at(w, h - 1);
        in.u.start.last_commit = x->chain_cert[h - 1]->votes;
        in.u.start.n_last_commit = x->chain_cert[h - 1]->n;
    }
    node_enqueue(x, &in);
    /* Messages that arrived early for this height. */
    uint32_t keep = 0;
    msg_t early[FUTURE_MAX];
    uint32_t n_early = 0;
    for (uint32_t i = 0; i < x->n_future; i++) {
        const msg_t *m = &x->future[i];
        uint64_t mh = m->kind == M_VOTE ? m->vote.height : m->kind == M_PROPOSAL ? m->prop.height : m->height;
        if (mh == h) early[n_early++] = *m;
        else if (mh > h) x->future[keep++] = *m;
    }
    x->n_future = keep;
    node_run(w, x);
    for (uint32_t i = 0; i < n_early && x->up && x->height + 1 == h; i++) {
        wal_append(x, W_MSG, NULL, &early[i]);
        feed_msg(w, x, &early[i]);
    }
}

static void crash(world_t *w, node_t *x)
{
    x->up = false;
    x->inc++;
    w->res->crashes++;
    consensus_free(x->core);
    x->core = NULL;
    x->q_n = 0;
    x->n_future = x->n_known = 0;
    /* Unsynced WAL records may be lost, all or some. */
    if (x->wal_n > x->wal_synced)
        x->wal_n = x->wal_synced + (uint32_t)rng_below(&w->rng, x->wal_n - x->wal_synced + 1);
    payload_t *p = event_new(w, w->now + rng_range(&w->rng, 50 * MS, 3 * SEC), EV_RESTART, x->idx);
    (void)p;
}

static void restart(world_t *w, node_t *x)
{
    x->core = consensus_new(&w->cfg, x->addr);
    CAIRN_ASSERT(x->core != NULL);
    x->up = true;
    trace(w, x->idx, "RESTART (wal %u records)", x->wal_n);
    /* The last durable persist record of this height, then replay the messages. */
    const cons_persist_t *rec = NULL;
    uint32_t n = x->wal_n;
    walrec_t *saved = xrealloc(NULL, (n ? n : 1) * sizeof *saved);
    memcpy(saved, x->wal, n * sizeof *saved);
    for (uint32_t i = 0; i < n; i++)
        if (saved[i].kind == W_PERSIST && saved[i].rec.height == x->height + 1) rec = &saved[i].rec;
    cons_persist_t r;
    if (rec) r = *rec;
    start_height(w, x, rec ? &r : NULL, true);
    for (uint32_t i = 0; i < n && x->up; i++) { /* replay: already in the WAL */
        if (saved[i].kind != W_MSG) continue;
        const msg_t *m = &saved[i].msg;
        uint64_t mh = m->kind == M_VOTE ? m->vote.height : m->kind == M_PROPOSAL ? m->prop.height : m->height;
        if (mh != x->height + 1) continue;
        feed_msg(w, x, m);
    }
    free(saved);
}

/* ------------------------------------------------------------------ delivery */

static void maybe_catchup(world_t *w, node_t *x, uint32_t to, uint64_t their_height)
{
    if (their_height == 0 || their_height > x->height || w->nodes[to].byz == BYZ_EQUIV) return;
    if (w->now - x->last_catchup[to] < 100 * MS) return;
    x->last_catchup[to] = w->now;
    const cert_t *c = x->chain_cert[their_height];
    send_block(w, x, c->block, to);
    msg_t m = {.kind = M_CATCHUP, .from = x->idx, .to = to, .block = c->block, .cert = c};
    net_send(w, &m);
}

static void on_catchup(world_t *w, node_t *x, const msg_t *m)
{
    const cert_t *c = m->cert;
    if (c->height != x->height + 1) return;
    const valset_t *vs = vals_at(w, c->height);
    const sblock_t *b = block_at(w, c->block);
    int64_t power = 0;
    bool seen[VALIDATORS_MAX] = {0};
    for (uint32_t i = 0; i < c->n; i++) { /* verify the commit as block sync would */
        const vote_t *v = &c->votes[i];
        if (v->validator_index >= vs->count || seen[v->validator_index] || v->type != VOTE_PRECOMMIT ||
            v->height != c->height || memcmp(v->block_id, b->id, HASH_BYTES) != 0)
            return;
        seen[v->validator_index] = true;
        power += vs->v[v->validator_index].power;
    }
    if (!valset_has_quorum(vs, power) || block_validate_at(w, x, b) != CONS_BLOCK_VALID) return;
    trace(w, x->idx, "catch-up from n%u", m->from);
    commit_block(w, x, c->height, c->round, c->block, c->votes, c->n);
}

/* BYZ_EQUIV: echo every honest vote back to the sender's side of the network as
 * our own, and propose a different block to each side when we are proposer. */
static uint32_t side_of(world_t *w, uint32_t from)
{
    uint32_t mask = 0;
    for (uint32_t j = 0; j < w->n; j++)
        if (!w->nodes[j].byz && !w->blocked[from][j] && !w->blocked[j][from]) mask |= 1u << j;
    if (!w->partitioned && !w->sc->split_brain) mask = 1u << from; /* no sides: per node */
    return mask;
}

static void equiv_on_msg(world_t *w, node_t *x, const msg_t *m)
{
    node_t *src = &w->nodes[m->from];
    if (src->byz) return;
    uint32_t side = side_of(w, m->from);
    uint64_t h = m->kind == M_VOTE ? m->vote.height : m->kind == M_STATUS ? m->height : 0;
    uint32_t r = m->kind == M_VOTE ? m->vote.round : m->round;
    if (m->kind == M_VOTE) {
        vote_t v = m->vote;
        memcpy(v.validator, x->addr, ADDR_BYTES);
        v.validator_index = x->vidx;
        v.sig[0] = (uint8_t)(x->idx + 1);
        msg_t e = {.kind = M_VOTE, .from = x->idx, .vote = v};
        for (uint32_t j = 0; j < w->n; j++)
            if (side & (1u << j)) { e.to = j; net_send(w, &e); }
    }
    if (h == 0 || h != src->height + 1) return;
    for (uint32_t rr = r; rr <= r + 1; rr++) {
        if (node_of_vidx(w, proposer_at(w, h, rr)) != x->idx) continue;
        bool done = false;
        for (uint32_t k = 0; k < x->eq_n && k < 64; k++)
            if (x->eq_h[k] == h && x->eq_r[k] == rr && x->eq_side[k] == side) done = true;
        if (done) continue;
        uint32_t k = x->eq_n++ % 64;
        x->eq_h[k] = h;
        x->eq_r[k] = rr;
        x->eq_side[k] = side;
        int64_t t = w->genesis_ns;
        const vote_t *lc = NULL;
        uint32_t n_lc = 0;
        if (h > 1) {
            lc = src->chain_cert[h - 1]->votes;
            n_lc = src->chain_cert[h - 1]->n;
            if (consensus_median_time(lc, n_lc, vals_at(w, h - 1), &t) != CAIRN_OK) continue;
        }
        uint32_t bi = block_make(w, src, h, t, lc, n_lc, false);
        proposal_t p = {.height = h, .round = rr, .pol_round = -1, .time_ns = t};
        memcpy(p.block_id, block_at(w, bi)->id, HASH_BYTES);
        memcpy(p.proposer, x->addr, ADDR_BYTES);
        p.sig[0] = (uint8_t)(x->idx + 1);
        for (uint32_t j = 0; j < w->n; j++) {
            if (!(side & (1u << j))) continue;
            send_block(w, x, bi, j);
            msg_t pm = {.kind = M_PROPOSAL, .from = x->idx, .to = j, .prop = p, .block = bi};
            net_send(w, &pm);
        }
    }
}

static void on_deliver(world_t *w, node_t *x, const msg_t *m)
{
    if (!x->up || x->byz == BYZ_SILENT) return;
    if (x->byz == BYZ_EQUIV) {
        equiv_on_msg(w, x, m);
        return;
    }
    if (m->kind == M_STATUS) {
        maybe_catchup(w, x, m->from, m->height);
        return;
    }
    if (m->kind == M_CATCHUP) {
        on_catchup(w, x, m);
        return;
    }
    uint64_t mh = m->kind == M_VOTE ? m->vote.height : m->kind == M_PROPOSAL ? m->prop.height : m->height;
    uint64_t cur = x->height + 1;
    if (mh < cur) {
        maybe_catchup(w, x, m->from, mh);
        return;
    }
    if (mh > cur) {
        if (mh == cur + 1 && x->n_future < FUTURE_MAX) x->future[x->n_future++] = *m;
        return;
    }
    if (w->opt.trace) {
        char hb[9];
        if (m->kind == M_VOTE)
            trace(w, x->idx, "recv %s r=%u %s from n%u", m->vote.type == VOTE_PREVOTE ? "prevote" : "precommit",
                  m->vote.round, hex8(m->vote.block_id, hb), m->from);
        else if (m->kind == M_PROPOSAL)
            trace(w, x->idx, "recv proposal r=%u pol=%d %s from n%u", m->prop.round, m->prop.pol_round,
                  hex8(m->prop.block_id, hb), m->from);
        else if (m->kind == M_BLOCK)
            trace(w, x->idx, "recv block %s from n%u%s", hex8(block_at(w, m->block)->id, hb), m->from,
                  block_validate_at(w, x, block_at(w, m->block)) == CONS_BLOCK_VALID ? "" : " (invalid)");
    }
    wal_append(x, W_MSG, NULL, m); /* not synced: may be lost in a crash */
    feed_msg(w, x, m);
}

static void on_gossip(world_t *w, node_t *x)
{
    payload_t *p = event_new(w, w->now + GOSSIP_NS + rng_range(&w->rng, 0, 50 * MS), EV_GOSSIP, x->idx);
    (void)p;
    if (!x->up || x->byz == BYZ_SILENT || x->byz == BYZ_EQUIV) return;
    msg_t st = {.kind = M_STATUS, .from = x->idx, .height = x->height + 1, .round = consensus_round(x->core)};
    uint32_t r = consensus_round(x->core);
    vote_t pol[2 * SIM_NODES_MAX];
    uint32_t n_pol = 0;
    if (x->g_prop && x->my_prop.height == x->height + 1 && x->my_prop.round == r && x->my_prop.pol_round >= 0)
        n_pol = consensus_votes_get(x->core, (uint32_t)x->my_prop.pol_round, VOTE_PREVOTE, pol, 2 * SIM_NODES_MAX);
    for (uint32_t j = 0; j < w->n; j++) {
        if (j == x->idx) continue;
        st.to = j;
        net_send(w, &st);
        if (x->g_prop && x->my_prop.height == x->height + 1 && x->my_prop.round == r) {
            send_block(w, x, x->my_prop_block, j);
            msg_t pm = {.kind = M_PROPOSAL, .from = x->idx, .to = j, .prop = x->my_prop, .block = x->my_prop_block};
            net_send(w, &pm);
            for (uint32_t k = 0; k < n_pol; k++) { /* the POL that justifies it */
                msg_t vm = {.kind = M_VOTE, .from = x->idx, .to = j, .vote = pol[k]};
                net_send(w, &vm);
            }
        }
        if (x->g_pv && x->my_pv.height == x->height + 1 && x->my_pv.round == r) {
            msg_t vm = {.kind = M_VOTE, .from = x->idx, .to = j, .vote = x->my_pv};
            net_send(w, &vm);
        }
        if (x->g_pc && x->my_pc.height == x->height + 1 && x->my_pc.round + 1 >= r) {
            msg_t vm = {.kind = M_VOTE, .from = x->idx, .to = j, .vote = x->my_pc};
            net_send(w, &vm);
        }
    }
    /* Relay everybody's votes of the current round to two random peers: the
     * algorithm assumes that what one honest node received, all eventually do
     * (a crashed voter's vote may survive only at its peers). */
    if (w->n < 2) return;
    vote_t held[2 * SIM_NODES_MAX];
    for (int k = 0; k < 2; k++) {
        uint32_t j = (x->idx + 1 + (uint32_t)rng_below(&w->rng, w->n - 1)) % w->n;
        for (uint8_t type = VOTE_PREVOTE; type <= VOTE_PRECOMMIT; type++) {
            uint32_t n = consensus_votes_get(x->core, r, type, held, 2 * SIM_NODES_MAX);
            for (uint32_t i = 0; i < n; i++) {
                msg_t vm = {.kind = M_VOTE, .from = x->idx, .to = j, .vote = held[i]};
                net_send(w, &vm);
            }
        }
    }
}

/* ------------------------------------------------------------------ faults */

static uint32_t honest_down(const world_t *w)
{
    uint32_t k = 0;
    for (uint32_t i = 0; i < w->n; i++) k += !w->nodes[i].byz && !w->nodes[i].up;
    return k;
}

static void on_fault(world_t *w)
{
    if (!w->faults_on) return;
    event_new(w, w->now + rng_range(&w->rng, 1 * SEC, 4 * SEC), EV_FAULT, 0);
    bool can_part = w->sc->partitions && !w->partitioned && w->n > 1;
    bool can_crash = w->sc->crashes && honest_down(w) < (w->n - 1) / 3 + 1;
    if (can_part && (!can_crash || rng_chance(&w->rng, 0.5))) {
        uint32_t grp[SIM_NODES_MAX];
        for (uint32_t i = 0; i < w->n; i++) grp[i] = (uint32_t)rng_below(&w->rng, 2);
        bool one_way = w->sc->one_way && rng_chance(&w->rng, 0.5);
        for (uint32_t i = 0; i < w->n; i++) /* two groups; one-way: group 0 still talks */
            for (uint32_t j = 0; j < w->n; j++)
                w->blocked[i][j] = grp[i] != grp[j] && !(one_way && grp[i] == 0);
        w->partitioned = true;
        if (w->opt.trace) printf("%10.6f PARTITION\n", (double)w->now / SEC);
        event_new(w, w->now + rng_range(&w->rng, 200 * MS, 8 * SEC), EV_HEAL, 0);
    } else if (can_crash) {
        uint32_t i = (uint32_t)rng_below(&w->rng, w->n);
        node_t *x = &w->nodes[i];
        if (!x->byz && x->up) {
            trace(w, i, "CRASH");
            crash(w, x);
        }
    }
}

static void on_heal(world_t *w)
{
    memset(w->blocked, 0, sizeof w->blocked);
    w->partitioned = false;
    if (w->opt.trace) printf("%10.6f HEAL\n", (double)w->now / SEC);
}

/* ------------------------------------------------------------------ run */

static void world_setup(world_t *w)
{
    w->cfg = (cons_config_t){.propose_base_ns = 200 * MS, .propose_delta_ns = 50 * MS,
                             .prevote_base_ns = 100 * MS, .prevote_delta_ns = 50 * MS,
                             .precommit_base_ns = 100 * MS, .precommit_delta_ns = 50 * MS};
    w->genesis_ns = 1764000000LL * SEC;
    validator_t vals[SIM_NODES_MAX];
    memset(vals, 0, sizeof vals);
    int64_t power[SIM_NODES_MAX], total = 0;
    for (uint32_t i = 0; i < w->n; i++) {
        uint8_t seed[SEED_BYTES] = {0};
        seed[0] = (uint8_t)(i + 1);
        keypair_t kp;
        key_from_seed(&kp, seed);
        memcpy(vals[i].pub, kp.pub, PUBKEY_BYTES);
        power[i] = w->sc->weighted ? rng_range(&w->rng, 1, 20) : 10;
        vals[i].power = power[i];
        total += power[i];
        key_address(w->nodes[i].addr, kp.pub);
    }
    /* Byzantine validators: the last ones, while their power stays < 1/3. */
    if (w->sc->split_brain && w->n >= 4) {
        w->nodes[w->n - 1].byz = BYZ_EQUIV;
        w->nodes[w->n - 2].byz = BYZ_EQUIV;
        w->blocked[0][1] = w->blocked[1][0] = true; /* the honest 0 and 1 never meet */
        w->partitioned = true;
    } else if (w->sc->byz == 3) { /* at least 1/3 of the power silent: no progress */
        int64_t bp = 0;
        for (uint32_t i = w->n; i-- > 0 && bp * 3 < total;) {
            bp += power[i];
            w->nodes[i].byz = BYZ_SILENT;
        }
    } else if (w->sc->byz) {
        static const int kinds[] = {BYZ_EQUIV, BYZ_DOUBLE, BYZ_INVALID, BYZ_SILENT};
        int64_t bp = 0;
        int k = (int)rng_below(&w->rng, 4);
        for (uint32_t i = w->n; i-- > 1;) {
            if ((bp + power[i]) * 3 >= total) break;
            bp += power[i];
            w->nodes[i].byz = kinds[k++ % 4];
        }
    }
    valset_t vs0;
    cairn_err rc = valset_init(&vs0, vals, w->n);
    CAIRN_ASSERTF(rc == CAIRN_OK, "valset_init: %s", cairn_strerror(rc));
    w->vals = xrealloc(NULL, 64 * sizeof *w->vals);
    w->vals[0] = vs0; /* unused height 0 */
    w->vals[1] = vs0;
    for (size_t k = 2; k < 64; k++) {
        w->vals[k] = w->vals[k - 1];
        valset_increment_priority(&w->vals[k], 1);
    }
    w->n_vals = 64;
    for (uint32_t i = 0; i < w->n; i++) {
        node_t *x = &w->nodes[i];
        x->idx = i;
        x->vidx = (uint32_t)valset_index_of(&vs0, x->addr);
        x->wal_cap = 1024;
        x->wal = xrealloc(NULL, x->wal_cap * sizeof *x->wal);
        x->chain_cap = 64;
        x->chain_block = calloc(x->chain_cap, sizeof *x->chain_block);
        x->chain_cert = calloc(x->chain_cap, sizeof *x->chain_cert);
        CAIRN_ASSERT(x->chain_block && x->chain_cert);
        for (uint32_t j = 0; j < SIM_NODES_MAX; j++) x->last_catchup[j] = -SEC;
        if (w->sc->skew) {
            x->skew_ns = rng_range(&w->rng, -500 * MS, 500 * MS);
            x->drift_ppm = rng_range(&w->rng, -2000, 2000);
        }
        x->up = true;
        if (x->byz == BYZ_SILENT || x->byz == BYZ_EQUIV) continue;
        x->core = consensus_new(&w->cfg, x->addr);
        CAIRN_ASSERT(x->core != NULL);
    }
    if (w->opt.trace) {
        static const char *const byz_names[] = {"honest", "silent", "double-voter", "invalid-blocks",
                                                "equivocator"};
        printf("# seed=%" PRIu64 " schedule=%s validators=%u heights=%u\n", w->opt.seed, w->sc->name,
               w->n, w->opt.heights);
        for (uint32_t i = 0; i < w->n; i++)
            printf("# n%u: valset index %u, power %" PRId64 ", %s, skew %+.3f s, drift %+" PRId64 " ppm\n", i,
                   w->nodes[i].vidx, vs0.v[w->nodes[i].vidx].power, byz_names[w->nodes[i].byz],
                   (double)w->nodes[i].skew_ns / SEC, w->nodes[i].drift_ppm);
    }
    for (uint32_t i = 0; i < w->n; i++) {
        node_t *x = &w->nodes[i];
        event_new(w, rng_range(&w->rng, 0, GOSSIP_NS), EV_GOSSIP, i);
        if (x->core) start_height(w, x, NULL, false);
    }
    w->faults_on = w->sc->partitions || w->sc->crashes;
    if (w->faults_on) event_new(w, rng_range(&w->rng, 200 * MS, 2 * SEC), EV_FAULT, 0);
    w->stable_since = -1;
}

static void world_free(world_t *w)
{
    for (uint32_t i = 0; i < w->n; i++) {
        node_t *x = &w->nodes[i];
        consensus_free(x->core);
        for (uint64_t h = 1; h <= x->height; h++) free(x->chain_cert[h]);
        free(x->chain_block);
        free(x->chain_cert);
        free(x->wal);
    }
    free(w->heap);
    free(w->pl);
    free(w->pl_free);
    free(w->blocks);
    free(w->vals);
    free(w->decided);
    free(w->signed_tab);
}

int sim_run(const sim_options_t *opt, sim_result_t *r)
{
    static world_t w;
    memset(&w, 0, sizeof w);
    memset(r, 0, sizeof *r);
    w.opt = *opt;
    w.res = r;
    w.n = opt->validators;
    CAIRN_ASSERTF(w.n >= 1 && w.n <= SIM_NODES_MAX, "validators %u", w.n);
    rng_seed(&w.rng, opt->seed);
    if (opt->schedule) {
        w.sc = sched_find(opt->schedule);
    } else {
        uint64_t s = opt->seed;
        w.sc = &SCHEDULES[splitmix64(&s) % N_REGULAR];
    }
    CAIRN_ASSERT(w.sc != NULL);
    r->schedule = w.sc->name;
    world_setup(&w);
    int64_t limit = (int64_t)opt->heights * 5 * SEC + 600 * SEC;
    while (!w.failed && w.heap_n) {
        hentry_t e = heap_pop(&w);
        w.now = e.t;
        w.events++;
        payload_t p = w.pl[e.slot];
        w.pl_free[w.pl_free_n++] = e.slot;
        node_t *x = &w.nodes[p.node];
        switch (p.kind) {
        case EV_DELIVER: on_deliver(&w, x, &p.msg); break;
        case EV_TIMEOUT:
            if (x->up && x->inc == p.inc && x->core) {
                trace(&w, x->idx, "timeout %s r=%u", consensus_step_name(p.step), p.r);
                cons_input_t in = {.kind = CONS_IN_TIMEOUT};
                in.u.timeout.height = p.h;
                in.u.timeout.round = p.r;
                in.u.timeout.step = p.step;
                node_feed(&w, x, &in);
            }
            break;
        case EV_GOSSIP: on_gossip(&w, x); break;
        case EV_FAULT: on_fault(&w); break;
        case EV_HEAL: on_heal(&w); break;
        case EV_RESTART: restart(&w, x); break;
        }
        check_liveness(&w);
        if (w.faults_on && w.min_height * 5 >= (uint64_t)opt->heights * 4) w.faults_on = false;
        if (w.min_height >= opt->heights) break;
        if (w.now > limit) fail(&w, "liveness: %" PRIu64 " of %u heights after %.0f s", w.min_height,
                                opt->heights, (double)w.now / SEC);
    }
    r->violation = w.failed;
    r->min_height = honest_min_height(&w);
    r->events = w.events;
    r->sim_time_ns = w.now;
    world_free(&w);
    return w.failed ? 1 : 0;
}
