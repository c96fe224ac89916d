/* nist_sha256.h - SHA-256 test vectors.
 *
 * Source: NIST FIPS 180-2, "Secure Hash Standard", Appendix B (SHA-256
 * examples): B.1 one-block message "abc", B.2 multi-block 448-bit message
 * "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", B.3 the message
 * of one million (1,000,000) repetitions of 'a'. Also published in NIST's
 * "Cryptographic Algorithm Validation Program" example values (SHA256.pdf).
 * The empty-string digest is the well-known SHA-256("") (e.g. FIPS 180-4
 * example values / NIST CAVP SHA256ShortMsg Len = 0).
 */
#ifndef CAIRN_VECTORS_NIST_SHA256_H
#define CAIRN_VECTORS_NIST_SHA256_H

#define NIST_SHA256_ABC_MSG "abc"
#define NIST_SHA256_ABC "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"

#define NIST_SHA256_448_MSG "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"
#define NIST_SHA256_448 "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"

#define NIST_SHA256_MILLION_A_LEN 1000000
#define NIST_SHA256_MILLION_A "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0"

#define NIST_SHA256_EMPTY "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

#endif
