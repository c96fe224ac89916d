/* RFC 6962 Merkle trees against the Certificate Transparency reference
 * vectors (tests/vectors/rfc6962_merkle.h), and proofs for every leaf of
 * every tree of 1..33 leaves. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "base/bytes.h"
#include "crypto/crypto.h"
#include "../../vectors/rfc6962_merkle.h"

static uint8_t leaf_data[8][16];
static size_t leaf_len[8];
static uint8_t leaf_hash[8][HASH_BYTES];

static int setup(void **s)
{
    (void)s;
    if (crypto_init() != CAIRN_OK) return -1;
    for (int i = 0; i < 8; i++) {
        if (hex_decode_var(leaf_data[i], 16, &leaf_len[i], CT_LEAVES[i], strlen(CT_LEAVES[i])))
            return -1;
        merkle_leaf_hash(leaf_hash[i], leaf_data[i], leaf_len[i]);
    }
    return 0;
}

static void unhex32(uint8_t out[HASH_BYTES], const char *hex)
{
    assert_int_equal(hex_decode(out, HASH_BYTES, hex), CAIRN_OK);
}

static void roots_of_the_ct_trees_of_sizes_1_to_8_match(void **s)
{
    (void)s;
    bytes_view leaves[8];
    for (int i = 0; i < 8; i++) {
        leaves[i].p = leaf_data[i];
        leaves[i].len = leaf_len[i];
    }
    for (size_t n = 1; n <= 8; n++) {
        uint8_t want[HASH_BYTES], got[HASH_BYTES];
        unhex32(want, CT_ROOTS[n - 1]);
        assert_int_equal(merkle_root(got, leaves, n), CAIRN_OK);
        assert_memory_equal(got, want, HASH_BYTES);
        assert_int_equal(merkle_root_from_hashes(got, (const uint8_t(*)[HASH_BYTES])leaf_hash, n),
                         CAIRN_OK);
        assert_memory_equal(got, want, HASH_BYTES);
    }
}

static void empty_tree_root_is_hash_of_nothing(void **s)
{
    (void)s;
    uint8_t want[HASH_BYTES], got[HASH_BYTES];
    unhex32(want, CT_EMPTY_ROOT);
    assert_int_equal(merkle_root(got, NULL, 0), CAIRN_OK);
    assert_memory_equal(got, want, HASH_BYTES);
}

static void audit_paths_match_the_ct_vectors(void **s)
{
    (void)s;
    for (size_t k = 0; k < sizeof CT_PATHS / sizeof CT_PATHS[0]; k++) {
        const ct_path_vector *v = &CT_PATHS[k];
        merkle_proof proof;
        assert_int_equal(merkle_proof_build(&proof, (const uint8_t(*)[HASH_BYTES])leaf_hash,
                                            v->size, v->leaf),
                         CAIRN_OK);
        assert_int_equal(proof.n_aunts, v->n);
        for (unsigned j = 0; j < v->n; j++) {
            uint8_t want[HASH_BYTES];
            unhex32(want, v->path[j]);
            assert_memory_equal(proof.aunts[j], want, HASH_BYTES);
        }
        uint8_t root[HASH_BYTES];
        unhex32(root, CT_ROOTS[v->size - 1]);
        assert_int_equal(merkle_proof_verify(&proof, leaf_hash[v->leaf], root), CAIRN_OK);
    }
}

/* RFC 6962 section 2.1 as written (recursive, split at the largest power of
 * two below n): the reference the iterative code must equal. Trusted input,
 * depth <= 6 here. */
static void reference_root(uint8_t out[HASH_BYTES], uint8_t (*h)[HASH_BYTES], size_t n)
{
    if (n == 1) {
        memcpy(out, h[0], HASH_BYTES);
        return;
    }
    size_t k = 1;
    while (k * 2 < n) k *= 2;
    uint8_t l[HASH_BYTES], r[HASH_BYTES];
    reference_root(l, h, k);
    reference_root(r, h + k, n - k);
    merkle_node_hash(out, l, r);
}

static void make_leaves(uint8_t (*h)[HASH_BYTES], size_t n)
{
    for (size_t i = 0; i < n; i++) {
        uint8_t d[2] = {(uint8_t)i, (uint8_t)(i * 7)};
        merkle_leaf_hash(h[i], d, sizeof d);
    }
}

static void every_proof_of_trees_1_to_33_verifies(void **s)
{
    (void)s;
    uint8_t h[33][HASH_BYTES];
    make_leaves(h, 33);
    for (size_t n = 1; n <= 33; n++) {
        uint8_t root[HASH_BYTES], want[HASH_BYTES];
        assert_int_equal(merkle_root_from_hashes(root, (const uint8_t(*)[HASH_BYTES])h, n),
                         CAIRN_OK);
        reference_root(want, h, n);
        assert_memory_equal(root, want, HASH_BYTES);
        for (size_t i = 0; i < n; i++) {
            merkle_proof p;
            assert_int_equal(merkle_proof_build(&p, (const uint8_t(*)[HASH_BYTES])h, n, i),
                             CAIRN_OK);
            assert_int_equal(p.index, i);
            assert_int_equal(p.total, n);
            assert_int_equal(merkle_proof_verify(&p, h[i], root), CAIRN_OK);
        }
    }
}

static void a_flipped_byte_anywhere_fails_the_proof(void **s)
{
    (void)s;
    uint8_t h[33][HASH_BYTES];
    make_leaves(h, 33);
    for (size_t n = 2; n <= 33; n++) {
        uint8_t root[HASH_BYTES];
        assert_int_equal(merkle_root_from_hashes(root, (const uint8_t(*)[HASH_BYTES])h, n),
                         CAIRN_OK);
        for (size_t i = 0; i < n; i++) {
            merkle_proof p;
            assert_int_equal(merkle_proof_build(&p, (const uint8_t(*)[HASH_BYTES])h, n, i),
                             CAIRN_OK);
            uint8_t leaf[HASH_BYTES], r[HASH_BYTES];
            memcpy(leaf, h[i], HASH_BYTES);
            leaf[i % HASH_BYTES] ^= 0x01;
            assert_int_equal(merkle_proof_verify(&p, leaf, root), CAIRN_EBAD_PROOF);
            memcpy(r, root, HASH_BYTES);
            r[31] ^= 0x80;
            assert_int_equal(merkle_proof_verify(&p, h[i], r), CAIRN_EBAD_PROOF);
            for (uint32_t a = 0; a < p.n_aunts; a++) {
                p.aunts[a][a % HASH_BYTES] ^= 0x04;
                assert_int_equal(merkle_proof_verify(&p, h[i], root), CAIRN_EBAD_PROOF);
                p.aunts[a][a % HASH_BYTES] ^= 0x04;
            }
            /* the same path claimed for a neighbouring index */
            p.index = (i + 1) % n;
            assert_int_equal(merkle_proof_verify(&p, h[i], root), CAIRN_EBAD_PROOF);
        }
    }
}

static void malformed_proofs_are_rejected(void **s)
{
    (void)s;
    uint8_t h[8][HASH_BYTES], root[HASH_BYTES];
    make_leaves(h, 8);
    assert_int_equal(merkle_root_from_hashes(root, (const uint8_t(*)[HASH_BYTES])h, 8), CAIRN_OK);
    merkle_proof p;
    assert_int_equal(merkle_proof_build(&p, (const uint8_t(*)[HASH_BYTES])h, 8, 8),
                     CAIRN_EINVALID_ARG);
    assert_int_equal(merkle_proof_build(&p, (const uint8_t(*)[HASH_BYTES])h, 8, 3), CAIRN_OK);
    merkle_proof t = p;
    t.n_aunts--; /* too short */
    assert_int_equal(merkle_proof_verify(&t, h[3], root), CAIRN_EBAD_PROOF);
    t = p;
    t.n_aunts++; /* one aunt too many */
    assert_int_equal(merkle_proof_verify(&t, h[3], root), CAIRN_EBAD_PROOF);
    t = p;
    t.index = 8; /* out of range */
    assert_int_equal(merkle_proof_verify(&t, h[3], root), CAIRN_EBAD_PROOF);
    t = p;
    t.total = 0;
    assert_int_equal(merkle_proof_verify(&t, h[3], root), CAIRN_EBAD_PROOF);
    t = p;
    t.total = 9; /* claims a bigger tree */
    assert_int_equal(merkle_proof_verify(&t, h[3], root), CAIRN_EBAD_PROOF);
    t = p;
    t.n_aunts = MERKLE_PROOF_MAX + 1;
    assert_int_equal(merkle_proof_verify(&t, h[3], root), CAIRN_EBAD_PROOF);
}

static void leaf_and_node_hashes_are_domain_separated(void **s)
{
    (void)s;
    /* A node's bytes presented as a leaf must not hash to the node. */
    uint8_t node[HASH_BYTES], as_leaf[HASH_BYTES], cat[2 * HASH_BYTES];
    merkle_node_hash(node, leaf_hash[0], leaf_hash[1]);
    memcpy(cat, leaf_hash[0], HASH_BYTES);
    memcpy(cat + HASH_BYTES, leaf_hash[1], HASH_BYTES);
    merkle_leaf_hash(as_leaf, cat, sizeof cat);
    assert_memory_not_equal(node, as_leaf, HASH_BYTES);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(roots_of_the_ct_trees_of_sizes_1_to_8_match),
        cmocka_unit_test(empty_tree_root_is_hash_of_nothing),
        cmocka_unit_test(audit_paths_match_the_ct_vectors),
        cmocka_unit_test(every_proof_of_trees_1_to_33_verifies),
        cmocka_unit_test(a_flipped_byte_anywhere_fails_the_proof),
        cmocka_unit_test(malformed_proofs_are_rejected),
        cmocka_unit_test(leaf_and_node_hashes_are_domain_separated),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
