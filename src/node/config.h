/* config.h - the node's configuration file, HOME/config/config.ini.
 *
 * One table of options (config.c) drives defaults, loading, validation and the
 * commented template, so the three never drift. Every option has a safe default
 * and a bounded range; docs/operations.md lists them.
 *
 * Invariants:
 *  1. config_load() either returns CAIRN_OK with every field inside its range, or
 *     an error with a one-line reason in errbuf; it never half-applies a file the
 *     caller could mistake for valid (the caller's cfg is only written on success).
 *  2. Unknown sections and keys, keys set twice, lines longer than CONFIG_LINE_MAX
 *     and values out of range are errors that name file:line or the key.
 *  3. config_write_template(cfg) then config_load() gives back cfg (round trip).
 *
 * Not thread-safe; the node loads its config once at start-up.
 */
#ifndef CAIRN_NODE_CONFIG_H
#define CAIRN_NODE_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/error.h"

#define CONFIG_ERR_MAX 512
#define CONFIG_FILE_MAX (256 * 1024) /* bytes; a larger file is refused */
#define CONFIG_LINE_MAX 199         /* inih's line buffer is 200 bytes with NUL */
#define CONFIG_HOST_MAX 253
#define CONFIG_MONIKER_MAX 64
#define CONFIG_PEERS_MAX 64
#define CONFIG_NODE_ID_BYTES 20

typedef struct {
    char host[CONFIG_HOST_MAX + 1]; /* IPv4 literal, IPv6 literal (no brackets) or name */
    uint16_t port;                  /* 1..65535 */
} config_addr_t;

typedef struct {
    uint8_t id[CONFIG_NODE_ID_BYTES]; /* node id: address of the peer's node key */
    config_addr_t addr;
} config_peer_t;

typedef struct {
    struct {
        char moniker[CONFIG_MONIKER_MAX + 1];
        int log_level; /* log_level from base/log.h */
    } node;
    struct {
        config_addr_t listen;
        uint32_t n_peers;
        config_peer_t persistent_peers[CONFIG_PEERS_MAX];
        uint32_t max_inbound_peers;
        uint32_t max_outbound_peers;
        uint32_t max_frame_bytes;
        uint64_t send_queue_bytes;
        uint32_t handshake_timeout_ms;
    } p2p;
    struct {
        config_addr_t listen;
        uint32_t max_body_bytes;
        uint32_t max_batch_response_bytes;
        uint32_t max_connections;
        uint32_t max_subscriptions_per_client;
        uint32_t broadcast_tx_commit_timeout_ms;
        bool unsafe;
    } rpc;
    struct {
        uint32_t timeout_propose_ms;
        uint32_t timeout_propose_delta_ms;
        uint32_t timeout_prevote_ms;
        uint32_t timeout_prevote_delta_ms;
        uint32_t timeout_precommit_ms;
        uint32_t timeout_precommit_delta_ms;
        uint32_t timeout_commit_ms;
        bool create_empty_blocks;
        uint32_t create_empty_blocks_interval_ms;
    } consensus;
    struct {
        uint32_t max_txs;
        uint64_t max_bytes;
        uint32_t max_tx_bytes;
        bool recheck;
    } mempool;
    struct {
        bool sync_writes;
        uint32_t scrub_interval_s; /* 0: no background scrub */
        uint32_t keep_state_heights; /* 0: keep the state of every height; else >= 2 */
        bool rebuild_damaged_store;  /* move an unopenable store aside, sync anew */
    } storage;
    struct {
        bool enabled;
        bool listen_set;      /* false: serve /metrics on the RPC listener */
        config_addr_t listen; /* valid when listen_set */
    } metrics;
} config_t;

/* Fills cfg with the safe defaults (every byte written first). */
void config_defaults(config_t *cfg);

/* Loads and validates the file at path over the defaults. On error, errbuf (at
 * least CONFIG_ERR_MAX bytes) holds one line such as
 * "config.ini:12: unknown key 'foo' in section [p2p]" and cfg is untouched. */
cairn_err config_load(const char *path, config_t *cfg, char *errbuf) CAIRN_MUST_CHECK;

/* The same from text in memory (name is used in messages). text need not be
 * NUL-terminated. */
cairn_err config_load_string(const char *name, const char *text, size_t len, config_t *cfg,
                             char *errbuf) CAIRN_MUST_CHECK;

/* Writes cfg as a complete config file, every option with a comment explaining
 * it, creating or replacing path (written to path.tmp, fsynced, renamed). */
cairn_err config_write_template(const char *path, const config_t *cfg) CAIRN_MUST_CHECK;

/* Same text into a heap string (free() it). */
cairn_err config_format(const config_t *cfg, char **out) CAIRN_MUST_CHECK;

/* Field-by-field equality (what the round trip promises). */
bool config_equal(const config_t *a, const config_t *b);

/* 1..CONFIG_MONIKER_MAX printable ASCII characters without ';' or '#'. */
bool config_moniker_valid(const char *s);

/* "host:port" / "[v6]:port", optionally prefixed "tcp://". */
cairn_err config_addr_parse(config_addr_t *out, const char *s) CAIRN_MUST_CHECK;
/* Formats as host:port ([host]:port for IPv6). out holds CONFIG_HOST_MAX + 10. */
void config_addr_format(char *out, size_t n, const config_addr_t *a);
/* "id@host:port,id@host:port"; id is 40 hex digits. Empty string: no peers. */
cairn_err config_peers_parse(config_peer_t *out, uint32_t *n_out, const char *s,
                             char *errbuf) CAIRN_MUST_CHECK;

#endif
