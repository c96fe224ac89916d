#include <sodium.h>
#include <string.h>

#include "base/log.h"
#include "crypto/box.h"

_Static_assert(BOX_PUB_BYTES == crypto_scalarmult_BYTES, "x25519 size");
_Static_assert(BOX_SEC_BYTES == crypto_scalarmult_SCALARBYTES, "x25519 size");
_Static_assert(BOX_KEY_BYTES == crypto_aead_chacha20poly1305_ietf_KEYBYTES, "key size");
_Static_assert(BOX_TAG_BYTES == crypto_aead_chacha20poly1305_ietf_ABYTES, "tag size");
_Static_assert(crypto_aead_chacha20poly1305_ietf_NPUBBYTES == 12, "nonce size");

void box_keypair_generate(box_keypair_t *kp)
{
    randombytes_buf(kp->sec, sizeof kp->sec);
    crypto_scalarmult_base(kp->pub, kp->sec);
}

void box_keypair_from_secret(box_keypair_t *kp, const uint8_t sec[static BOX_SEC_BYTES])
{
    memcpy(kp->sec, sec, BOX_SEC_BYTES);
    crypto_scalarmult_base(kp->pub, kp->sec);
}

cairn_err box_shared(uint8_t out[static BOX_SHARED_BYTES],
                     const uint8_t sec[static BOX_SEC_BYTES],
                     const uint8_t peer_pub[static BOX_PUB_BYTES])
{
    /* libsodium returns -1 when the result is all zeros (a low-order point). The
     * explicit check stays so the rule holds whatever the library version does. */
    if (crypto_scalarmult(out, sec, peer_pub) != 0 ||
        sodium_is_zero(out, BOX_SHARED_BYTES)) {
        sodium_memzero(out, BOX_SHARED_BYTES);
        return CAIRN_EBAD_KEY;
    }
    return CAIRN_OK;
}

cairn_err box_hkdf_sha256(uint8_t *out, size_t out_len, const uint8_t *salt,
                          size_t salt_len, const uint8_t *ikm, size_t ikm_len,
                          const uint8_t *info, size_t info_len)
{
    if (out_len > BOX_HKDF_MAX_OUT) return CAIRN_EINVALID_ARG;
    uint8_t prk[crypto_auth_hmacsha256_BYTES];
    uint8_t t[crypto_auth_hmacsha256_BYTES];
    crypto_auth_hmacsha256_state st;

    /* Extract: PRK = HMAC(salt, IKM); an absent salt is HashLen zeros. */
    uint8_t zero_salt[crypto_auth_hmacsha256_BYTES] = {0};
    if (salt == NULL || salt_len == 0) {
        salt = zero_salt;
        salt_len = sizeof zero_salt;
    }
    crypto_auth_hmacsha256_init(&st, salt, salt_len);
    crypto_auth_hmacsha256_update(&st, ikm, ikm_len);
    crypto_auth_hmacsha256_final(&st, prk);

    /* Expand: T(i) = HMAC(PRK, T(i-1) || info || i). */
    size_t done = 0;
    for (uint8_t i = 1; done < out_len; i++) {
        crypto_auth_hmacsha256_init(&st, prk, sizeof prk);
        if (i > 1) crypto_auth_hmacsha256_update(&st, t, sizeof t);
        if (info_len) crypto_auth_hmacsha256_update(&st, info, info_len);
        crypto_auth_hmacsha256_update(&st, &i, 1);
        crypto_auth_hmacsha256_final(&st, t);
        size_t take = out_len - done < sizeof t ? out_len - done : sizeof t;
        memcpy(out + done, t, take);
        done += take;
    }
    sodium_memzero(prk, sizeof prk);
    sodium_memzero(t, sizeof t);
    sodium_memzero(&st, sizeof st);
    return CAIRN_OK;
}

static void nonce_from_counter(uint8_t nonce[12], uint64_t counter)
{
    memset(nonce, 0, 4);
    for (int i = 0; i < 8; i++) nonce[4 + i] = (uint8_t)(counter >> (8 * i));
}

void box_seal(uint8_t *out, const uint8_t key[static BOX_KEY_BYTES], uint64_t counter,
              const uint8_t *ad, size_t ad_len, const uint8_t *msg, size_t n)
{
    uint8_t nonce[12];
    nonce_from_counter(nonce, counter);
    unsigned long long clen = 0;
    int rc = crypto_aead_chacha20poly1305_ietf_encrypt(out, &clen, msg, n, ad, ad_len,
                                                       NULL, nonce, key);
    CAIRN_ASSERTF(rc == 0 && clen == n + BOX_TAG_BYTES, "rc=%d", rc);
}

cairn_err box_open(uint8_t *out, const uint8_t key[static BOX_KEY_BYTES],
                   uint64_t counter, const uint8_t *ad, size_t ad_len,
                   const uint8_t *ct, size_t ct_len)
{
    if (ct_len < BOX_TAG_BYTES) return CAIRN_EBAD_MAC;
    uint8_t nonce[12];
    nonce_from_counter(nonce, counter);
    unsigned long long mlen = 0;
    if (crypto_aead_chacha20poly1305_ietf_decrypt(out, &mlen, NULL, ct, ct_len, ad,
                                                  ad_len, nonce, key) != 0) {
        sodium_memzero(out, ct_len - BOX_TAG_BYTES);
        return CAIRN_EBAD_MAC;
    }
    return CAIRN_OK;
}
