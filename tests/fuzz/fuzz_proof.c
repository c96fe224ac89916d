/* fuzz_proof - the state proof decoder and the standalone verifier.
 *
 * Input: byte 0 picks one of the keys "key-0".."key-15" of a fixed tree (keys
 * 0..9 present with value "value-i", 10..15 absent); the rest is a proof.
 * Checks: decode/encode round trip for every accepted proof, and soundness:
 * whatever the proof, the verifier never accepts a false claim about the tree. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/kv_mem.h"
#include "app/smt.h"
#include "base/bytes.h"
#include "cairn/proof.h"

#define KEYS 16
#define PRESENT 10

static uint8_t root[SMT_HASH_BYTES];

static void tree_init(void)
{
    static int done;
    if (done) return;
    done = 1;
    char keys[KEYS][16], vals[KEYS][16];
    smt_op ops[PRESENT];
    for (int i = 0; i < PRESENT; i++) {
        snprintf(keys[i], sizeof keys[i], "key-%d", i);
        snprintf(vals[i], sizeof vals[i], "value-%d", i);
        ops[i] = (smt_op){(uint8_t *)keys[i], strlen(keys[i]), (uint8_t *)vals[i],
                          strlen(vals[i])};
    }
    kv_mem *m = kv_mem_new();
    kv_reader r = kv_mem_reader(m);
    kv_batch b;
    kv_batch_init(&b);
    if (smt_apply(&r, SMT_VERSION_NONE, 1, ops, PRESENT, &b, root, NULL)) abort();
    kv_batch_deinit(&b);
    kv_mem_free(m);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    tree_init();
    if (size < 1) return 0;
    int idx = data[0] % KEYS;
    const uint8_t *pf = data + 1;
    size_t n = size - 1;

    static smt_proof p;
    if (smt_proof_decode(&p, pf, n) == CAIRN_OK) {
        buf_t b;
        buf_init(&b, CAIRN_PROOF_BYTES_MAX);
        if (smt_proof_encode(&p, &b) != CAIRN_OK) abort();
        if (b.len != n || memcmp(b.data, pf, n) != 0) abort(); /* encode(decode(b)) == b */
        buf_deinit(&b);
    }

    char key[16], val[16], wrong[16];
    snprintf(key, sizeof key, "key-%d", idx);
    snprintf(val, sizeof val, "value-%d", idx);
    snprintf(wrong, sizeof wrong, "value-%d", idx + 100);
    size_t kn = strlen(key);
    int absent_ok = cairn_proof_verify(root, (uint8_t *)key, kn, NULL, 0, pf, n) == 0;
    int value_ok =
        cairn_proof_verify(root, (uint8_t *)key, kn, (uint8_t *)val, strlen(val), pf, n) == 0;
    int wrong_ok =
        cairn_proof_verify(root, (uint8_t *)key, kn, (uint8_t *)wrong, strlen(wrong), pf, n) == 0;
    if (wrong_ok) abort();                       /* no value but the stored one */
    if (idx < PRESENT && absent_ok) abort();     /* a present key is never absent */
    if (idx >= PRESENT && value_ok) abort();     /* an absent key has no value */
    return 0;
}
