/* genesis.h - the genesis document, HOME/config/genesis.json.
 *
 * Shape (CometBFT-like; every 64-bit integer is a decimal string):
 *   {"genesis_time": "2026-11-25T12:00:00.000000000Z",      RFC 3339, UTC, nanos
 *    "chain_id": "cairn-test",                               printable ASCII, 1..50
 *    "initial_height": "1",
 *    "consensus_params": {
 *      "block": {"max_bytes": "8388608", "max_gas": "-1"},
 *      "evidence": {"max_age_num_blocks": "100000",
 *                   "max_age_duration": "172800000000000", "max_bytes": "1048576"},
 *      "validator": {"pub_key_types": ["ed25519"]},
 *      "version": {"app": "0"},
 *      "abci": {"vote_extensions_enable_height": "0"}},
 *    "validators": [{"address": HEX, "pub_key": {"type": "tendermint/PubKeyEd25519",
 *                    "value": b64}, "power": "10", "name": "node0"}],
 *    "app_hash": "",
 *    "app_state": {"accounts": [{"address": HEX, "balance": "1000"}]}}
 *
 * Invariants:
 *  1. genesis_parse() accepts only documents of exactly this shape: unknown or
 *     missing fields, wrong types, out-of-range values, duplicate validators or
 *     accounts are errors naming the field ("validators[1].power: ...").
 *  2. The genesis hash is SHA-256 of the canonical compact JSON of the parsed
 *     document (genesis_format(): fixed field order, no whitespace), so it does
 *     not depend on the file's formatting; parse(format(g)) == g.
 *  3. Every validator's address is the address of its pub_key.
 *
 * genesis_t owns its accounts array: genesis_init() then genesis_deinit().
 * Not thread-safe; loaded once at start-up.
 */
#ifndef CAIRN_NODE_GENESIS_H
#define CAIRN_NODE_GENESIS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/error.h"
#include "chain/chain.h"
#include "crypto/crypto.h"

#define GENESIS_ERR_MAX 512
#define GENESIS_FILE_MAX (32 * 1024 * 1024)
#define GENESIS_ACCOUNTS_MAX 100000
#define GENESIS_NAME_MAX 64
/* CometBFT's MaxTotalVotingPower: keeps proposer-priority arithmetic in range. */
#define GENESIS_TOTAL_POWER_MAX VALSET_TOTAL_POWER_MAX

typedef struct {
    uint8_t pub[PUBKEY_BYTES];
    uint8_t address[ADDR_BYTES];
    int64_t power; /* 1..GENESIS_TOTAL_POWER_MAX */
    char name[GENESIS_NAME_MAX + 1];
} genesis_validator_t;

typedef struct {
    uint8_t address[ADDR_BYTES];
    uint64_t balance;
} genesis_account_t;

typedef struct {
    int64_t block_max_bytes;             /* 1..BLOCK_BYTES_MAX */
    int64_t block_max_gas;               /* -1 (unlimited) or >= 0; unused by cairn */
    int64_t evidence_max_age_num_blocks; /* >= 1 */
    int64_t evidence_max_age_duration_ns; /* >= 1 */
    int64_t evidence_max_bytes;          /* 0..block_max_bytes */
    uint64_t app_version;
    int64_t vote_extensions_enable_height; /* 0: disabled (cairn has none) */
} genesis_params_t;

typedef struct {
    int64_t genesis_time_ns; /* unix nanoseconds, >= 0 */
    chain_id_t chain_id;
    uint64_t initial_height; /* 1..INT64_MAX */
    genesis_params_t params;
    uint32_t n_validators;   /* 1..VALIDATORS_MAX */
    genesis_validator_t validators[VALIDATORS_MAX];
    uint8_t app_hash[HASH_BYTES];
    uint8_t app_hash_len;    /* 0 or HASH_BYTES */
    uint32_t n_accounts;     /* 0..GENESIS_ACCOUNTS_MAX */
    genesis_account_t *accounts; /* owned */
} genesis_t;

void genesis_init(genesis_t *g);
void genesis_deinit(genesis_t *g);

/* A fresh document: chain id, time, initial height 1, default consensus
 * params, no validators, no accounts. errbuf explains a bad chain id. */
cairn_err genesis_new(genesis_t *g, const char *chain_id, int64_t time_ns,
                      char *errbuf) CAIRN_MUST_CHECK;
void genesis_params_default(genesis_params_t *p);
cairn_err genesis_validator_add(genesis_t *g, const uint8_t pub[static PUBKEY_BYTES],
                                int64_t power, const char *name, char *errbuf) CAIRN_MUST_CHECK;
cairn_err genesis_account_add(genesis_t *g, const uint8_t addr[static ADDR_BYTES],
                              uint64_t balance, char *errbuf) CAIRN_MUST_CHECK;

/* Semantic checks that parse also applies (for documents built in code). */
cairn_err genesis_validate(const genesis_t *g, char *errbuf) CAIRN_MUST_CHECK;

/* Parses and validates; name is used in messages. On error g is left empty. */
cairn_err genesis_parse(genesis_t *g, const char *name, const char *text, size_t len,
                        char *errbuf) CAIRN_MUST_CHECK;
cairn_err genesis_load(genesis_t *g, const char *path, char *errbuf) CAIRN_MUST_CHECK;

/* Canonical text: pretty (indented, for the file) or compact (hashed).
 * *out is heap memory (free() it). */
cairn_err genesis_format(const genesis_t *g, bool pretty, char **out) CAIRN_MUST_CHECK;
/* Writes the pretty form (temp file, fsync, rename). */
cairn_err genesis_save(const genesis_t *g, const char *path, char *errbuf) CAIRN_MUST_CHECK;
cairn_err genesis_hash(const genesis_t *g, uint8_t out[static HASH_BYTES]) CAIRN_MUST_CHECK;

/* The validator set of the first height (sorted, priorities per CometBFT). */
cairn_err genesis_valset(const genesis_t *g, valset_t *vs) CAIRN_MUST_CHECK;

/* RFC 3339 in UTC with nanoseconds, "2026-11-25T12:00:00.000000000Z".
 * out holds at least 31 bytes. Parsing accepts 0..9 fraction digits and 'Z'. */
void genesis_time_format(char out[static 31], int64_t unix_ns);
cairn_err genesis_time_parse(const char *s, int64_t *unix_ns) CAIRN_MUST_CHECK;

#endif
