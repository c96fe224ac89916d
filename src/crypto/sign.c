#include <sodium.h>
#include <string.h>

#include "crypto/crypto.h"

void key_from_seed(keypair_t *kp, const uint8_t seed[static SEED_BYTES])
{
    crypto_sign_seed_keypair(kp->pub, kp->sec, seed);
}

void key_generate(keypair_t *kp) { crypto_sign_keypair(kp->pub, kp->sec); }

void key_sign(uint8_t sig[static SIG_BYTES], const keypair_t *kp, const void *msg, size_t n)
{
    crypto_sign_detached(sig, NULL, msg, n, kp->sec);
}

cairn_err key_verify(const uint8_t sig[static SIG_BYTES],
                     const uint8_t pub[static PUBKEY_BYTES], const void *msg, size_t n)
{
    return crypto_sign_verify_detached(sig, msg, n, pub) == 0 ? CAIRN_OK
                                                             : CAIRN_EBAD_SIGNATURE;
}

void key_address(uint8_t addr[static ADDR_BYTES], const uint8_t pub[static PUBKEY_BYTES])
{
    uint8_t h[HASH_BYTES];
    hash_sha256(h, pub, PUBKEY_BYTES);
    memcpy(addr, h, ADDR_BYTES);
}
