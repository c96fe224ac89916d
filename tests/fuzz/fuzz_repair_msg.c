/* fuzz_repair_msg.c - the repair messages a peer sends on CH_REPAIR: strict
 * decode, byte-exact round trip, and a response's block, commit and results
 * record going through repair_answer_verify (which must refuse anything that
 * is not signed by the fixed validator set below, and never crash). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "node/msg.h"
#include "node/repair.h"

static valset_t g_vs;
static chain_id_t g_cid;
static bool g_ready;

static void setup(void)
{
    if (g_ready) return;
    CAIRN_ASSERT(crypto_init() == CAIRN_OK);
    validator_t vals[4];
    memset(vals, 0, sizeof vals);
    for (int i = 0; i < 4; i++) {
        uint8_t seed[SEED_BYTES];
        memset(seed, i + 1, sizeof seed);
        keypair_t kp;
        key_from_seed(&kp, seed);
        memcpy(vals[i].pub, kp.pub, PUBKEY_BYTES);
        vals[i].power = 10;
    }
    CAIRN_ASSERT(valset_init(&g_vs, vals, 4) == CAIRN_OK);
    CAIRN_ASSERT(chain_id_set(&g_cid, "fuzz-chain") == CAIRN_OK);
    log_level_set(LOG_OFF);
    g_ready = true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static msg_t m;
    setup();
    if (msg_decode(&m, data, size) != CAIRN_OK) return 0;
    buf_t b;
    buf_init(&b, 0);
    CAIRN_ASSERT(msg_encode(&m, &b) == CAIRN_OK);
    CAIRN_ASSERTF(b.len == size && memcmp(b.data, data, size) == 0, "len %zu vs %zu", b.len, size);
    buf_deinit(&b);
    if (m.kind != MSG_REPAIR_RESPONSE) return 0;
    uint8_t results_hash[HASH_BYTES];
    memset(results_hash, 0, sizeof results_hash);
    repair_expect e = {.height = m.u.repair.height, .chain_id = &g_cid, .validators = &g_vs,
                       .block_id = NULL, .results_hash = results_hash};
    cairn_err rc = repair_answer_verify(&e, m.u.repair.block, m.u.repair.block_len,
                                        m.u.repair.commit, m.u.repair.commit_len,
                                        m.u.repair.results, m.u.repair.results_len);
    /* Nobody outside the test holds these validators' keys together with a
     * results hash of zero: no input may pass. */
    CAIRN_ASSERTF(rc != CAIRN_OK, "a forged answer was believed");
    return 0;
}
