/* rfc6962_merkle.h - RFC 6962 Merkle Tree Hash vectors.
 *
 * Source: the Certificate Transparency reference implementation's Merkle tree
 * tests (github.com/google/certificate-transparency, cpp/merkletree/
 * merkle_tree_test.cc and python/ct/crypto/merkle_test.py): the eight test
 * leaves, the SHA-256 roots of the trees made of their first 1..8 leaves, and
 * the precomputed audit paths (PathTestVector: leaf index, tree size, path).
 * The root of the empty tree is SHA-256("") (RFC 6962 section 2.1).
 */
#ifndef CAIRN_VECTORS_RFC6962_MERKLE_H
#define CAIRN_VECTORS_RFC6962_MERKLE_H

/* Leaf inputs, hex. */
static const char *const CT_LEAVES[8] = {
    "",
    "00",
    "10",
    "2021",
    "3031",
    "40414243",
    "5051525354555657",
    "606162636465666768696a6b6c6d6e6f",
};

/* CT_ROOTS[i] = root of the tree of the first i + 1 leaves. */
static const char *const CT_ROOTS[8] = {
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
};

#define CT_EMPTY_ROOT "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

/* Audit paths, bottom-up: leaf index (0-based), tree size, path. */
typedef struct {
    unsigned leaf;
    unsigned size;
    unsigned n;
    const char *path[3];
} ct_path_vector;

static const ct_path_vector CT_PATHS[] = {
    {0, 1, 0, {0}},
    {0, 8, 3,
     {"96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
      "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
      "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"}},
    {5, 8, 3,
     {"bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
      "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
      "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"}},
    {2, 3, 1, {"fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"}},
    {1, 5, 3,
     {"6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
      "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
      "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"}},
};

#endif
