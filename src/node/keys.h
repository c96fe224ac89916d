/* keys.h - key files: the node key, the validator key and the account keyring.
 *
 * Formats (CometBFT-like JSON, keys in standard base64):
 *   HOME/config/node_key.json
 *     {"priv_key": {"type": "tendermint/PrivKeyEd25519", "value": b64(seed|pub)}}
 *   HOME/config/priv_validator_key.json
 *     {"address": HEX, "pub_key": {"type": "tendermint/PubKeyEd25519", "value": b64},
 *      "priv_key": {"type": "tendermint/PrivKeyEd25519", "value": b64(seed|pub)}}
 *   HOME/keys/<name>.json (account keyring): the validator key's fields and "name".
 *
 * Invariants:
 *  1. Key files are created with mode 0600, never overwrite an existing file
 *     (written to a temporary file, fsynced, then hard-linked into place), and
 *     the keyring folder is 0700.
 *  2. A key file readable or writable by group or others is refused on load with
 *     CAIRN_EKEY_PERMS and a message naming the file, its mode and the fix.
 *  3. A loaded key is consistent: the public key and address stored beside the
 *     private key must be the ones derived from its seed.
 *  4. Secret bytes in our buffers are wiped after use (crypto_wipe).
 *
 * Not thread-safe; used by the CLI and at node start-up.
 */
#ifndef CAIRN_NODE_KEYS_H
#define CAIRN_NODE_KEYS_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "base/error.h"
#include "crypto/crypto.h"

#define KEYS_ERR_MAX 512
#define KEYS_NAME_MAX 64
#define KEYS_FILE_MAX (16 * 1024)
#define KEYS_LIST_MAX 4096 /* most keyring entries listed */

#define KEYS_PUB_TYPE "tendermint/PubKeyEd25519"
#define KEYS_PRIV_TYPE "tendermint/PrivKeyEd25519"

/* Node key (identity on the p2p network). */
#define KEYS_NODE_ID_LEN (2 * ADDR_BYTES) /* characters, without the NUL */
/* Node id: lower-case hex of the address of the node's public key, as peers
 * write it in persistent_peers (id@host:port). */
void keys_node_id(char out[static KEYS_NODE_ID_LEN + 1], const uint8_t pub[static PUBKEY_BYTES]);

cairn_err keys_node_key_save(const char *path, const keypair_t *kp, char *errbuf) CAIRN_MUST_CHECK;
cairn_err keys_node_key_load(const char *path, keypair_t *kp, char *errbuf) CAIRN_MUST_CHECK;

/* Validator key (signs votes and proposals). */
cairn_err keys_validator_key_save(const char *path, const keypair_t *kp,
                                  char *errbuf) CAIRN_MUST_CHECK;
cairn_err keys_validator_key_load(const char *path, keypair_t *kp, char *errbuf) CAIRN_MUST_CHECK;

/* Account names: 1..KEYS_NAME_MAX of [A-Za-z0-9._-], not starting with '.'. */
bool keys_name_valid(const char *name);

/* Generates a key and writes HOME/keys/<name>.json; CAIRN_EEXISTS if the name is
 * taken. kp_out (may be NULL) receives the new key; wipe it when done. */
cairn_err keys_account_new(const char *home, const char *name, keypair_t *kp_out,
                           char *errbuf) CAIRN_MUST_CHECK;
/* Same with a given key (import, tests). */
cairn_err keys_account_save(const char *home, const char *name, const keypair_t *kp,
                            char *errbuf) CAIRN_MUST_CHECK;
/* CAIRN_ENOT_FOUND if there is no such account. */
cairn_err keys_account_load(const char *home, const char *name, keypair_t *kp,
                            char *errbuf) CAIRN_MUST_CHECK;
/* Names in the keyring, sorted. *names_out is a heap array of *n_out heap
 * strings: keys_names_free() releases it. At most KEYS_LIST_MAX entries. */
cairn_err keys_account_list(const char *home, char ***names_out, size_t *n_out,
                            char *errbuf) CAIRN_MUST_CHECK;
void keys_names_free(char **names, size_t n);

/* JSON pieces shared with genesis: {"type": KEYS_PUB_TYPE, "value": b64(pub)}.
 * Returned objects are new references (json_decref them). */
json_t *keys_pub_json(const uint8_t pub[static PUBKEY_BYTES]);
/* Parses such an object; errbuf says what is wrong. */
cairn_err keys_pub_from_json(const json_t *obj, uint8_t pub[static PUBKEY_BYTES],
                             char *errbuf, size_t errlen) CAIRN_MUST_CHECK;

#endif
