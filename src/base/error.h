/* error.h - the one error enum of cairn.
 *
 * Codes and messages come from one X-macro so they never drift (libuv's
 * UV_ERRNO_MAP). Functions that can fail return a cairn_err (CAIRN_OK == 0) and
 * hand results through out-parameters. Errors of libuv, RocksDB and libsodium are
 * translated to these at the edge of the module that calls them.
 *
 * To add a code, add a line in the block of your module; keep the blocks apart so
 * parallel changes merge cleanly. Any thread may call cairn_strerror().
 */
#ifndef CAIRN_BASE_ERROR_H
#define CAIRN_BASE_ERROR_H

#define CAIRN_ERRNO_MAP(XX)                                                        \
    XX(OK, "ok")                                                                   \
    /* general */                                                                  \
    XX(NOMEM, "out of memory")                                                     \
    XX(INVALID_ARG, "invalid argument")                                            \
    XX(NOT_FOUND, "not found")                                                     \
    XX(EXISTS, "already exists")                                                   \
    XX(IO, "input/output error")                                                   \
    XX(LIMIT, "a configured limit was reached")                                    \
    XX(INTERNAL, "internal error")                                                 \
    XX(UNSUPPORTED, "not supported")                                               \
    XX(TIMEOUT, "timed out")                                                       \
    XX(CLOSED, "closed")                                                           \
    XX(BUSY, "busy")                                                               \
    /* codec: decoding untrusted bytes */                                          \
    XX(TRUNCATED, "input ends before the value is complete")                       \
    XX(TRAILING, "trailing bytes after the value")                                 \
    XX(NONCANONICAL, "non-canonical encoding")                                     \
    XX(TOO_LARGE, "length exceeds the allowed maximum")                            \
    XX(BAD_VERSION, "unknown version")                                             \
    XX(BAD_TYPE, "unknown type tag")                                               \
    XX(BAD_ENCODING, "malformed encoding")                                         \
    /* crypto */                                                                   \
    XX(BAD_SIGNATURE, "signature does not verify")                                 \
    XX(BAD_KEY, "invalid key")                                                     \
    XX(BAD_PROOF, "proof does not verify")                                         \
    XX(CRYPTO, "cryptographic library failure")                                    \
    /* chain: validation of transactions, blocks, votes */                         \
    XX(BAD_HASH, "hash does not match")                                            \
    XX(BAD_CHAIN_ID, "wrong chain id")                                             \
    XX(BAD_HEIGHT, "wrong height")                                                 \
    XX(BAD_TIME, "invalid time")                                                   \
    XX(BAD_PROPOSER, "wrong proposer")                                             \
    XX(BAD_VALIDATOR, "unknown validator")                                         \
    XX(BAD_COMMIT, "commit does not carry more than 2/3 of the voting power")     \
    XX(BAD_EVIDENCE, "invalid evidence")                                           \
    XX(BAD_BLOCK, "invalid block")                                                 \
    XX(BAD_TX, "invalid transaction")                                              \
    /* app: ledger results (also reported as result codes) */                      \
    XX(BAD_NONCE, "wrong nonce")                                                   \
    XX(INSUFFICIENT_FUNDS, "insufficient funds")                                   \
    XX(OVERFLOW, "arithmetic overflow")                                            \
    /* store */                                                                    \
    XX(CORRUPT, "stored data fails its integrity check")                           \
    XX(DB, "database error")                                                       \
    /* wal / signer */                                                             \
    XX(DOUBLE_SIGN, "refused: would sign a conflicting message")                   \
    XX(WAL_DAMAGED, "write-ahead log damaged before its tail")                     \
    /* p2p */                                                                      \
    XX(HANDSHAKE, "peer handshake failed")                                         \
    XX(BAD_PEER, "peer misbehaved")                                                \
    XX(BAD_FRAME, "malformed or oversized frame")                                  \
    XX(BAD_MAC, "message authentication failed")                                   \
    XX(BANNED, "peer is banned")                                                   \
    /* mempool */                                                                  \
    XX(MEMPOOL_FULL, "mempool is full")                                            \
    XX(DUPLICATE, "duplicate")                                                     \
    /* config / cli */                                                             \
    XX(BAD_CONFIG, "invalid configuration")                                        \
    XX(BAD_GENESIS, "invalid genesis file")                                        \
    XX(KEY_PERMS, "key file is readable by group or others")                      \
    /* rpc */                                                                      \
    XX(BAD_REQUEST, "malformed request")                                           \
    /* client */                                                                   \
    XX(UNREACHABLE, "cannot reach the node")                                       \
    XX(NODE_ERROR, "the node answered with an error")

typedef enum {
#define XX(name, msg) CAIRN_E##name,
    CAIRN_ERRNO_MAP(XX)
#undef XX
    CAIRN_E__COUNT
} cairn_err;

#define CAIRN_OK CAIRN_EOK

/* Static message for a code; never NULL. */
const char *cairn_strerror(cairn_err err);
/* Static symbolic name ("TRUNCATED"); never NULL. */
const char *cairn_errname(cairn_err err);

#define CAIRN_MUST_CHECK __attribute__((warn_unused_result))

#include <stddef.h>

/* Writes a one-line reason into buf (when buf and len are non-zero) and returns
 * rc, for functions that explain their errors:
 *     return cairn_fail(CAIRN_EBAD_CONFIG, why, why_len, "bad port %d", port); */
cairn_err cairn_fail(cairn_err rc, char *buf, size_t len, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Propagate an error: CAIRN_TRY(codec_read_u64(r, &x)); */
#define CAIRN_TRY(expr)                                                            \
    do {                                                                           \
        cairn_err try_rc_ = (expr);                                                \
        if (try_rc_ != CAIRN_OK) return try_rc_;                                   \
    } while (0)

#endif
