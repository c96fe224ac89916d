/* fuzz_consensus.c - drives one consensus core with inputs decoded from the
 * fuzzer's bytes (four validators of power 10; the core is one of them), playing
 * the shell honestly: its own signed messages go back in, a restart restores the
 * last persist record. Checks after every step:
 *   - never two different votes asked to be signed for one (height, round, type),
 *     across restarts too;
 *   - within a height the locked round never decreases, (round, step) never goes back;
 *   - a PERSIST record precedes every SIGN_VOTE and names that vote;
 *   - a DECIDE carries precommits of > 2/3 of the power for its block;
 *   - the persist record codec round-trips: decode(encode(x)) == x, and
 *     encode(decode(b)) == b for every accepted b.
 * Bad input must be dropped, never crash (ASan/UBSan catch the rest).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "consensus/consensus.h"
#include "crypto/crypto.h"

#define CHECK(x)                                                                   \
    do {                                                                           \
        if (!(x)) __builtin_trap();                                                \
    } while (0)

#define SIGNED_MAX 512
#define Q_MAX 64

typedef struct {
    uint64_t h;
    uint32_t r;
    uint8_t type;
    uint8_t id[HASH_BYTES];
} signed_t;

static valset_t g_vs;
static bool g_init;

typedef struct {
    const uint8_t *p;
    size_t n, i;
} rd_t;

static uint8_t byte(rd_t *r) { return r->i < r->n ? r->p[r->i++] : 0; }

typedef struct {
    consensus_t *c;
    uint32_t own;
    uint64_t height;
    int64_t now;
    signed_t sig[SIGNED_MAX];
    uint32_t n_sig;
    cons_persist_t last_persist;
    bool has_persist;
    int32_t locked_round;
    uint32_t round;
    uint8_t step;
    vote_t commit[VALIDATORS_MAX];
    uint32_t n_commit;
    bool decided;
    cons_input_t q[Q_MAX];
    uint32_t qn;
} fz_t;

static void tag_id(uint8_t id[HASH_BYTES], uint8_t tag)
{
    memset(id, 0, HASH_BYTES);
    if (tag) {
        id[0] = tag;
        id[5] = 0x77;
    }
}

static void note_signed(fz_t *f, const vote_t *v)
{
    for (uint32_t i = 0; i < f->n_sig; i++) {
        signed_t *s = &f->sig[i];
        if (s->h == v->height && s->r == v->round && s->type == v->type) {
            CHECK(memcmp(s->id, v->block_id, HASH_BYTES) == 0); /* no double-sign */
            return;
        }
    }
    if (f->n_sig == SIGNED_MAX) return;
    signed_t *s = &f->sig[f->n_sig++];
    s->h = v->height;
    s->r = v->round;
    s->type = v->type;
    memcpy(s->id, v->block_id, HASH_BYTES);
}

static void push(fz_t *f, const cons_input_t *in)
{
    if (f->qn < Q_MAX) f->q[f->qn++] = *in;
}

static void check_outputs(fz_t *f, const cons_outputs_t *out)
{
    bool persisted = false;
    for (uint32_t i = 0; i < out->n; i++) {
        const cons_output_t *o = &out->items[i];
        switch (o->kind) {
        case CONS_OUT_PERSIST: {
            buf_t b;
            buf_init(&b, 1024);
            CHECK(consensus_persist_encode(&o->u.persist, &b) == CAIRN_OK);
            cons_persist_t back;
            CHECK(consensus_persist_decode(&back, b.data, b.len) == CAIRN_OK);
            CHECK(memcmp(&back, &o->u.persist, sizeof back) == 0);
            buf_deinit(&b);
            f->last_persist = o->u.persist;
            f->has_persist = true;
            persisted = true;
            break;
        }
        case CONS_OUT_SIGN_VOTE: {
            const vote_t *v = &o->u.vote;
            CHECK(persisted);
            uint8_t bit = v->type == VOTE_PREVOTE ? 1 : 2;
            CHECK(f->last_persist.height == v->height && f->last_persist.round == v->round);
            CHECK(f->last_persist.voted & bit);
            CHECK(memcmp(bit == 1 ? f->last_persist.prevote_id : f->last_persist.precommit_id,
                         v->block_id, HASH_BYTES) == 0);
            note_signed(f, v);
            cons_input_t in = {.kind = CONS_IN_VOTE};
            in.u.vote = *v;
            in.u.vote.sig[0] = 1;
            push(f, &in);
            break;
        }
        case CONS_OUT_SIGN_PROPOSAL: {
            CHECK(!bytes_is_zero(o->u.proposal.block_id, HASH_BYTES));
            cons_input_t in = {.kind = CONS_IN_PROPOSAL};
            in.u.proposal.proposal = o->u.proposal;
            in.u.proposal.block_status = CONS_BLOCK_VALID;
            push(f, &in);
            break;
        }
        case CONS_OUT_DECIDE: {
            int64_t power = 0;
            CHECK(o->u.decide.n_precommits <= VALIDATORS_MAX);
            for (uint32_t k = 0; k < o->u.decide.n_precommits; k++) {
                const vote_t *v = &o->u.decide.precommits[k];
                CHECK(v->type == VOTE_PRECOMMIT && v->height == o->u.decide.height);
                CHECK(memcmp(v->block_id, o->u.decide.block_id, HASH_BYTES) == 0);
                CHECK(v->validator_index < g_vs.count);
                power += g_vs.v[v->validator_index].power;
            }
            CHECK(valset_has_quorum(&g_vs, power));
            memcpy(f->commit, o->u.decide.precommits, o->u.decide.n_precommits * sizeof(vote_t));
            f->n_commit = o->u.decide.n_precommits;
            f->decided = true;
            break;
        }
        case CONS_OUT_SCHEDULE_TIMEOUT:
            CHECK(o->u.timeout.duration_ns > 0);
            break;
        default:
            break;
        }
    }
}

static void check_state(fz_t *f)
{
    uint64_t h = consensus_height(f->c);
    if (h != f->height) {
        CHECK(h > f->height);
        f->height = h;
        f->locked_round = -1;
        f->round = 0;
        f->step = 0;
    }
    int32_t lr = consensus_locked_round(f->c);
    CHECK(lr >= f->locked_round); /* monotonic within a height */
    f->locked_round = lr;
    uint32_t r = consensus_round(f->c);
    uint8_t st = (uint8_t)consensus_step_of(f->c);
    CHECK(r > f->round || (r == f->round && st >= f->step));
    f->round = r;
    f->step = st;
}

static void step(fz_t *f, const cons_input_t *first)
{
    static cons_outputs_t out;
    push(f, first);
    for (uint32_t done = 0; f->qn && done < 256; done++) {
        cons_input_t in = f->q[0];
        memmove(f->q, f->q + 1, (f->qn - 1) * sizeof *f->q);
        f->qn--;
        out.n = 0;
        cairn_err rc = consensus_step(f->c, &in, f->now, &out);
        (void)rc; /* dropped inputs are fine; the checks below are what matters */
        CHECK(out.n <= CONS_STEP_OUTPUTS_MAX); /* the documented worst cascade */
        check_outputs(f, &out);
        check_state(f);
        if (f->decided) { /* the shell applies the block and starts the next height */
            f->decided = false;
            cons_input_t s = {.kind = CONS_IN_START_HEIGHT};
            s.u.start.height = f->height + 1;
            s.u.start.validators = &g_vs;
            s.u.start.last_validators = &g_vs;
            s.u.start.last_commit = f->commit;
            s.u.start.n_last_commit = f->n_commit;
            s.u.start.last_block_time_ns = f->now;
            f->has_persist = false;
            push(f, &s);
        }
    }
    f->qn = 0;
}

static void start(fz_t *f, uint64_t h, const cons_persist_t *restore)
{
    cons_input_t s = {.kind = CONS_IN_START_HEIGHT};
    s.u.start.height = h;
    s.u.start.validators = &g_vs;
    s.u.start.last_block_time_ns = 1000;
    s.u.start.restore = restore;
    step(f, &s);
}

static uint32_t proposer_of(uint32_t round)
{
    valset_t tmp = g_vs;
    valset_increment_priority(&tmp, round);
    return (uint32_t)(valset_proposer(&tmp) - tmp.v);
}

static uint32_t round_of(uint8_t b)
{
    return b == 255 ? 1000000 : b == 254 ? 900 : b % 6;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!g_init) {
        if (crypto_init() != CAIRN_OK) abort();
        validator_t vals[4];
        memset(vals, 0, sizeof vals);
        for (int i = 0; i < 4; i++) {
            uint8_t seed[SEED_BYTES] = {0};
            seed[0] = (uint8_t)(i + 1);
            keypair_t kp;
            key_from_seed(&kp, seed);
            memcpy(vals[i].pub, kp.pub, PUBKEY_BYTES);
            vals[i].power = 10;
        }
        if (valset_init(&g_vs, vals, 4) != CAIRN_OK) abort();
        g_init = true;
    }
    static fz_t f;
    memset(&f, 0, sizeof f);
    rd_t r = {data, size, 0};
    cons_config_t cfg;
    consensus_config_default(&cfg);
    f.own = byte(&r) % 5; /* 4: not a validator */
    f.c = consensus_new(&cfg, f.own < 4 ? g_vs.v[f.own].address : NULL);
    if (!f.c) return 0;
    f.locked_round = -1;
    f.now = 5000;
    f.height = 1;
    start(&f, 1, NULL);
    for (int ops = 0; r.i < r.n && ops < 400; ops++) {
        uint8_t op = byte(&r) % 8;
        cons_input_t in;
        memset(&in, 0, sizeof in);
        uint64_t h = consensus_height(f.c);
        switch (op) {
        case 0: { /* vote */
            vote_t *v = &in.u.vote;
            in.kind = CONS_IN_VOTE;
            v->type = byte(&r) % 3;
            v->round = round_of(byte(&r));
            uint8_t val = byte(&r) % 6;
            v->validator_index = val < 4 ? val : (val == 4 ? 2 : 77);
            if (val < 4) memcpy(v->validator, g_vs.v[val].address, ADDR_BYTES);
            else memset(v->validator, val, ADDR_BYTES);
            tag_id(v->block_id, byte(&r) % 4);
            uint8_t hd = byte(&r) % 4;
            v->height = hd == 1 ? h + 1 : hd == 2 ? h - 1 : h;
            v->time_ns = f.now;
            v->sig[0] = 1;
            break;
        }
        case 1: { /* proposal */
            proposal_t *p = &in.u.proposal.proposal;
            in.kind = CONS_IN_PROPOSAL;
            p->height = h;
            p->round = round_of(byte(&r));
            tag_id(p->block_id, byte(&r) % 4);
            p->pol_round = (int32_t)(byte(&r) % 7) - 1;
            in.u.proposal.block_status = byte(&r) % 4;
            uint8_t who = byte(&r) % 5;
            uint32_t idx = who < 4 ? who : proposer_of(p->round < 1000 ? p->round : 0);
            memcpy(p->proposer, g_vs.v[idx].address, ADDR_BYTES);
            in.u.proposal.block_time_ns = f.now;
            break;
        }
        case 2: /* block verdict */
            in.kind = CONS_IN_BLOCK;
            in.u.block.height = h;
            tag_id(in.u.block.block_id, byte(&r) % 4);
            in.u.block.status = byte(&r) % 4;
            break;
        case 3: /* the shell's answer to CREATE_BLOCK */
            in.kind = CONS_IN_BLOCK_CREATED;
            in.u.created.height = h;
            in.u.created.round = round_of(byte(&r));
            tag_id(in.u.created.block_id, byte(&r) % 4);
            break;
        case 4: /* timer */
            in.kind = CONS_IN_TIMEOUT;
            in.u.timeout.height = h;
            in.u.timeout.round = round_of(byte(&r));
            in.u.timeout.step = byte(&r) % 5;
            break;
        case 5: { /* crash and restart from the last persist record */
            cons_persist_t rec = f.last_persist;
            bool use = f.has_persist && rec.height == h && rec.step != CONS_STEP_DECIDED;
            consensus_free(f.c);
            f.c = consensus_new(&cfg, f.own < 4 ? g_vs.v[f.own].address : NULL);
            if (!f.c) return 0;
            f.locked_round = -1;
            f.round = 0;
            f.step = 0;
            start(&f, h, use ? &rec : NULL);
            continue;
        }
        case 6: { /* the persist decoder on raw bytes */
            size_t len = r.n - r.i < CONS_PERSIST_BYTES ? r.n - r.i : CONS_PERSIST_BYTES;
            cons_persist_t rec;
            if (consensus_persist_decode(&rec, r.p + r.i, len) == CAIRN_OK) {
                buf_t b;
                buf_init(&b, 1024);
                CHECK(consensus_persist_encode(&rec, &b) == CAIRN_OK);
                CHECK(b.len == len && memcmp(b.data, r.p + r.i, len) == 0);
                buf_deinit(&b);
            }
            r.i += len;
            continue;
        }
        default:
            f.now += (int64_t)byte(&r) * 1000000;
            continue;
        }
        step(&f, &in);
    }
    consensus_free(f.c);
    return 0;
}
