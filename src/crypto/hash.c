#include <sodium.h>
#include <string.h>

#include "crypto/crypto.h"

_Static_assert(sizeof(crypto_hash_sha256_state) <= sizeof(((hash_ctx *)0)->state),
               "hash_ctx too small for libsodium's state");

const uint8_t HASH_EMPTY[HASH_BYTES] = {
    0xe3, 0xb0, 0xc4, 0x42, 0x98, 0xfc, 0x1c, 0x14, 0x9a, 0xfb, 0xf4,
    0xc8, 0x99, 0x6f, 0xb9, 0x24, 0x27, 0xae, 0x41, 0xe4, 0x64, 0x9b,
    0x93, 0x4c, 0xa4, 0x95, 0x99, 0x1b, 0x78, 0x52, 0xb8, 0x55};

cairn_err crypto_init(void) { return sodium_init() < 0 ? CAIRN_ECRYPTO : CAIRN_OK; }

void crypto_random(void *out, size_t n) { randombytes_buf(out, n); }

void crypto_wipe(void *p, size_t n) { sodium_memzero(p, n); }

void hash_sha256(uint8_t out[static HASH_BYTES], const void *p, size_t n)
{
    crypto_hash_sha256(out, p, n);
}

void hash_init(hash_ctx *c) { crypto_hash_sha256_init((crypto_hash_sha256_state *)c->state); }

void hash_update(hash_ctx *c, const void *p, size_t n)
{
    crypto_hash_sha256_update((crypto_hash_sha256_state *)c->state, p, n);
}

void hash_final(hash_ctx *c, uint8_t out[static HASH_BYTES])
{
    crypto_hash_sha256_final((crypto_hash_sha256_state *)c->state, out);
}

uint64_t hash_short(const uint8_t key[static SHORTHASH_KEY_BYTES], const void *p, size_t n)
{
    _Static_assert(crypto_shorthash_KEYBYTES == SHORTHASH_KEY_BYTES, "siphash key size");
    uint8_t out[crypto_shorthash_BYTES];
    crypto_shorthash(out, p, n, key);
    uint64_t v = 0;
    for (int i = 0; i < 8; i++) v |= (uint64_t)out[i] << (8 * i);
    return v;
}
