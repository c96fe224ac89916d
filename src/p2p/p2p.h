/* p2p.h - the peer-to-peer transport: TCP on libuv, the encrypted handshake
 * (handshake.h), encrypted frames (frame.h), channels, peers and their limits
 * (DESIGN.md section 8, docs/p2p.md).
 *
 * A node creates one p2p_t on its loop, registers a receive callback per channel,
 * listens, and dials peers by "id@host:port". Invariants:
 *   1. a peer is reported up (peer_up_cb) only after the handshake proved its
 *      node key and, when we dialled it, that the key matches the id we dialled;
 *      every peer reported up is later reported down exactly once;
 *   2. memory per peer is bounded: a read buffer, one frame of at most
 *      frame_payload_max, and a send queue of at most send_queue_bytes_max bytes
 *      and send_queue_count_max writes; a peer whose queue would overflow is
 *      dropped (reason CAIRN_ELIMIT) - a slow peer never makes memory grow;
 *   3. at most inbound_max inbound and outbound_max outbound connections (counting
 *      those still in the handshake) and one connection per node id: of two,
 *      the newer wins, except when both came up within one handshake timeout
 *      in opposite directions (a simultaneous dial), where both sides keep the
 *      one dialled by the smaller node address;
 *   4. a peer that sends nothing (not even the keep-alive) for idle_timeout_ms
 *      is closed, so half-open connections do not linger;
 *   5. garbage lowers a peer's score (per node id once known, per IP before);
 *      a score at or below ban_score bans it for ban_ms; scores heal slowly;
 *   6. nonces are never reused: a connection whose counter runs out is closed.
 * Threads: everything, callbacks included, runs on the loop thread.
 * Ownership: p2p_t is freed by p2p_close once every handle is closed; a peer
 * pointer is valid from its peer_up_cb until its peer_down_cb returns.
 */
#ifndef CAIRN_P2P_P2P_H
#define CAIRN_P2P_P2P_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "base/error.h"
#include "crypto/crypto.h"

#define P2P_CH_CONSENSUS 0x20
#define P2P_CH_MEMPOOL 0x30
#define P2P_CH_BLOCKSYNC 0x40
#define P2P_CH_REPAIR 0x50
#define P2P_CH_PING 0x01 /* internal: keep-alive, never delivered */
#define P2P_CHANNELS_MAX 8
#define P2P_ID_HEX_LEN (2 * ADDR_BYTES)
#define P2P_ADDR_TEXT_MAX 300 /* "id@host:port" */

typedef struct p2p p2p_t;
typedef struct p2p_peer p2p_peer_t;

typedef struct {
    uint32_t inbound_max;          /* 40 */
    uint32_t outbound_max;         /* 10: dial entries, persistent ones included */
    uint32_t frame_payload_max;    /* 4 MiB */
    size_t send_queue_bytes_max;   /* 16 MiB; at least one max frame */
    uint32_t send_queue_count_max; /* 4096 writes */
    uint32_t handshake_timeout_ms; /* 10 s, connecting included */
    uint32_t ping_interval_ms;     /* 10 s: an empty frame when nothing was sent */
    uint32_t idle_timeout_ms;      /* 60 s: nothing received -> closed (ETIMEOUT) */
    uint32_t dial_backoff_min_ms;  /* 500 ms */
    uint32_t dial_backoff_max_ms;  /* 60 s */
    int32_t ban_score;             /* -100 */
    uint32_t ban_ms;               /* 10 min */
    uint32_t score_heal_ms;        /* 10 s: a score wins back one point per period */
} p2p_config;

void p2p_config_default(p2p_config *c);

/* What the node reports about a peer's message; each lowers the score. */
typedef enum {
    P2P_REPORT_BAD_MESSAGE = 0, /* undecodable or invalid message: -20 */
    P2P_REPORT_BAD_SIGNATURE,   /* signed data that does not verify: -50 */
    P2P_REPORT_SPAM,            /* unrequested or duplicate data: -5 */
} p2p_report_reason;

typedef struct {
    uint64_t msgs_sent, bytes_sent; /* payload bytes */
    uint64_t msgs_recv, bytes_recv;
} p2p_counters;

typedef struct {
    uint32_t n_channels;
    uint8_t channel[P2P_CHANNELS_MAX]; /* channel id of ch[i] */
    p2p_counters ch[P2P_CHANNELS_MAX];
    uint64_t wire_bytes_sent, wire_bytes_recv; /* everything, handshake included */
    size_t queue_bytes;                        /* peer stats only */
    uint32_t queue_count;                      /* peer stats only */
    int32_t score;                             /* peer stats only; as of its last fault */
    uint32_t peers_inbound, peers_outbound;    /* p2p stats only; connected */
    uint64_t handshakes_ok, handshakes_failed; /* p2p stats only */
    uint64_t peers_dropped_slow, peers_banned, frames_bad; /* p2p stats only */
} p2p_stats;

typedef void (*p2p_recv_cb)(p2p_peer_t *peer, uint8_t channel, const uint8_t *msg,
                            size_t len, void *ud);
typedef void (*p2p_peer_up_cb)(p2p_peer_t *peer, void *ud);
typedef void (*p2p_peer_down_cb)(p2p_peer_t *peer, cairn_err reason, void *ud);
typedef void (*p2p_closed_cb)(void *ud);

/* config may be NULL (defaults); config, node and chain_id are copied.
 * CAIRN_EBAD_CONFIG for inconsistent limits,
 * CAIRN_EINVALID_ARG for a chain id that is empty or too long. */
cairn_err p2p_new(uv_loop_t *loop, const p2p_config *config, const keypair_t *node,
                  const char *chain_id, p2p_t **out) CAIRN_MUST_CHECK;
/* Closes the listener, stops dialling, closes every peer (peer_down_cb with
 * CAIRN_ECLOSED for those up), then frees p2p and calls done_cb (may be NULL)
 * from the loop once the last handle is closed. p2p must not be used after this
 * call. Safe to call from any p2p callback. */
void p2p_close(p2p_t *p2p, p2p_closed_cb done_cb, void *ud);

void p2p_peer_callbacks_set(p2p_t *p2p, p2p_peer_up_cb up_cb, p2p_peer_down_cb down_cb,
                            void *ud);
/* CAIRN_EEXISTS if the channel has a callback, CAIRN_ELIMIT past P2P_CHANNELS_MAX,
 * CAIRN_EINVALID_ARG for channel 0 (the handshake's). */
cairn_err p2p_channel_register(p2p_t *p2p, uint8_t channel, p2p_recv_cb cb,
                               void *ud) CAIRN_MUST_CHECK;

/* "host:port" or "[v6]:port" with a numeric host; port 0 picks a free one. */
cairn_err p2p_listen(p2p_t *p2p, const char *host_port) CAIRN_MUST_CHECK;
/* The bound port, or 0 when not listening. */
uint16_t p2p_listen_port(const p2p_t *p2p);

/* Dials "id@host:port" (id = 40 hex digits). A persistent peer is redialled
 * whenever its connection ends, with exponential backoff and jitter; otherwise
 * one attempt is made. CAIRN_EBAD_CONFIG for a malformed address, CAIRN_EEXISTS
 * if that id is already dialled, CAIRN_ELIMIT past outbound_max. */
cairn_err p2p_dial(p2p_t *p2p, const char *id_at_host_port, bool persistent) CAIRN_MUST_CHECK;

/* Seals msg into a frame and queues it. CAIRN_ECLOSED if the peer is going
 * away, CAIRN_ETOO_LARGE above frame_payload_max, CAIRN_ELIMIT if the send queue
 * overflowed (the peer is then dropped). msg is copied. */
cairn_err p2p_send(p2p_peer_t *peer, uint8_t channel, const void *msg,
                   size_t len) CAIRN_MUST_CHECK;
/* Sends to every connected peer but except (may be NULL); returns how many
 * peers accepted it. */
size_t p2p_broadcast(p2p_t *p2p, uint8_t channel, const void *msg, size_t len,
                     const p2p_peer_t *except);

void p2p_peer_report(p2p_peer_t *peer, p2p_report_reason reason);
/* Closes the connection; peer_down_cb follows with reason. */
void p2p_peer_close(p2p_peer_t *peer, cairn_err reason);

const char *p2p_peer_id(const p2p_peer_t *peer); /* lower-case hex, owned by peer */
const uint8_t *p2p_peer_pubkey(const p2p_peer_t *peer);
const char *p2p_peer_remote(const p2p_peer_t *peer); /* "ip:port" */
bool p2p_peer_outbound(const p2p_peer_t *peer);
void p2p_peer_data_set(p2p_peer_t *peer, void *data);
void *p2p_peer_data(const p2p_peer_t *peer);

/* Up to max connected peers into out; returns how many are connected. */
size_t p2p_peers(const p2p_t *p2p, p2p_peer_t **out, size_t max);
void p2p_stats_get(const p2p_t *p2p, p2p_stats *out);
void p2p_peer_stats_get(const p2p_peer_t *peer, p2p_stats *out);
/* Whether a node id (hex) is banned now. */
bool p2p_id_banned(const p2p_t *p2p, const char *id_hex);
const char *p2p_node_id(const p2p_t *p2p); /* our own id, hex */

#endif
