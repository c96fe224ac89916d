/* node_int.h - the node's state, shared by the files of src/node only.
 *
 * Invariants:
 *  1. One thread (the loop's) reads and writes everything here.
 *  2. st describes the chain after block st.last_height, which is the store's
 *     height: they move together in node_block_apply().
 *  3. Blocks in `known` are for height st.last_height + 1 and were validated
 *     (status VALID) or found invalid; they are cleared when the height moves.
 *  4. Consensus inputs are queued in inq and fed one at a time (no recursion):
 *     outputs that produce inputs (our own votes) push to the queue.
 */
#ifndef CAIRN_NODE_NODE_INT_H
#define CAIRN_NODE_NODE_INT_H

#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#include "app/app.h"
#include "chain/chain.h"
#include "consensus/consensus.h"
#include "mempool/mempool.h"
#include "node/config.h"
#include "node/genesis.h"
#include "node/msg.h"
#include "node/node.h"
#include "p2p/p2p.h"
#include "store/store.h"
#include "wal/signer.h"
#include "wal/wal.h"

#define NODE_PATH_MAX 4096
#define NODE_TIMERS 16
#define NODE_INQ_MAX 256
#define NODE_GOSSIP_MSGS_MAX 4096 /* consensus messages kept for re-gossip, per height */
#define NODE_GOSSIP_BYTES_MAX ((size_t)64 << 20) /* and their bytes */
#define NODE_SYNC_WINDOW 16       /* block requests in flight */
#define NODE_SYNC_PER_PEER 4      /* of them to one peer */
#define NODE_REGOSSIP_BYTES_MAX ((size_t)8 << 20) /* re-sent to one peer per tick */
#define NODE_EVIDENCE_MAX 64
#define NODE_PROP_ROUNDS_MAX 64
#define NODE_GOSSIP_MS 1000
#define NODE_STATUS_MS 1000
#define NODE_SYNC_REQUEST_TIMEOUT_MS 5000
#define NODE_TX_FLUSH_MS 10
#define NODE_VERIFY_JOBS_MAX 8192            /* signature-check jobs waiting */
#define NODE_VERIFY_BYTES_MAX ((size_t)64 << 20) /* tx bytes they hold */

/* WAL record types (consensus defines their payloads). */
#define WAL_REC_PERSIST 1
#define WAL_REC_MSG 2 /* a consensus message (msg.h encoding), logged before it is fed */

typedef struct {
    uv_timer_t timer;
    struct node *node;
    bool active;
    uint64_t height;
    uint32_t round;
    uint8_t step;
} node_timer;

typedef struct {
    bool used;
    uint8_t id[HASH_BYTES];
    uint8_t status; /* enum cons_block_status */
    uint64_t seq;   /* arrival order, for eviction */
    uint8_t *raw;
    size_t len;
    block_t block; /* decoded when status is VALID */
} known_block;

typedef struct {
    uint64_t base, height; /* what the peer says it can serve */
    uint32_t in_flight;    /* our requests to it */
    uint32_t timeouts;     /* requests it let time out, less blocks it served since */
    uint32_t repair_served; /* repair requests served in the current second */
} peer_info;

/* Repair of damaged heights from peers (repair.c, docs/storage.md "Repair"). */
#define NODE_REPAIR_QUEUE_MAX 256        /* heights waiting; more are counted, not kept */
#define NODE_REPAIR_IN_FLIGHT 4          /* requests out at once */
#define NODE_REPAIR_EXAMINE_PER_TICK 16  /* queued heights looked at per tick */
#define NODE_REPAIR_TIMEOUT_MS 5000      /* a peer's answer */
#define NODE_REPAIR_RETRY_MS 2000        /* after every peer failed a height */
#define NODE_REPAIR_TRIED_MAX 8          /* peers remembered as failed, per height */
#define NODE_REPAIR_SERVE_PER_SEC 16     /* requests served to one peer per second */
#define NODE_REPAIR_RECENT_MAX 16        /* repairs listed by repair_status */
#define NODE_REPAIR_SCRUB_SOON_MS 10000  /* at most one extra scrub this often */
#define NODE_PEER_ID_MAX 64

typedef struct {
    uint64_t height; /* 0: free slot */
    uint64_t queued_ms, next_try_ms, sent_ms;
    p2p_peer_t *peer; /* asked, answer awaited; NULL: not asked */
    uint32_t attempts;
    char source[8]; /* who found the damage: scrub, rpc, sync, read */
    bool commit_sigs; /* its seen commit's signatures fail (the store cannot see that) */
    char tried[NODE_REPAIR_TRIED_MAX][NODE_PEER_ID_MAX];
    uint32_t n_tried;
} repair_item;

typedef struct {
    uint64_t height;
    int64_t time_ns;
    char peer[NODE_PEER_ID_MAX];
    uint8_t block_id[HASH_BYTES];
} repair_done;

typedef enum {
    REPAIR_OUT_REPAIRED = 0, /* height rewritten and verified */
    REPAIR_OUT_BAD_ANSWER,   /* a peer's answer failed verification: not believed */
    REPAIR_OUT_UNAVAILABLE,  /* a peer could not serve the height */
    REPAIR_OUT_TIMEOUT,      /* a peer did not answer in time */
    REPAIR_OUT_FAILED,       /* the store refused or could not write verified data */
    REPAIR_OUT_DROPPED,      /* queue full: not queued (a later scrub finds it again) */
    REPAIR_OUT_INDEX_REBUILT, /* a state latest-value entry rebuilt from the tree */
    REPAIR_OUT__COUNT
} repair_outcome;

typedef struct {
    repair_item q[NODE_REPAIR_QUEUE_MAX];
    uint32_t n; /* used slots */
    uint64_t count[REPAIR_OUT__COUNT];
    repair_done recent[NODE_REPAIR_RECENT_MAX]; /* ring, newest at recent_head - 1 */
    uint32_t recent_head, n_recent;
    uint64_t last_scrub_soon_ms;
    uint32_t next_peer; /* round-robin start for picking a peer */
    uint64_t state_damaged; /* damaged state/meta/evidence records the last scrub found */
} node_repair;

typedef struct {
    uint64_t height; /* 0: free */
    p2p_peer_t *peer;
    uint64_t sent_ms;
    uint8_t *block; /* response waiting to be applied in order */
    size_t block_len;
    uint8_t *commit;
    size_t commit_len;
    /* the commit was checked on arrival against the validator set of this hash */
    uint8_t verified_by[HASH_BYTES];
} sync_slot;

struct node {
    char home[NODE_PATH_MAX];
    uv_loop_t loop;
    uv_signal_t sigint, sigterm;
    uv_timer_t gossip_timer, next_height_timer;
    node_timer timers[NODE_TIMERS];
    bool stopping;
    bool loop_ok, handles_ok;
    cairn_err fatal;
    cons_persist_t restore; /* from the WAL, for the height in progress */
    bool has_restore;
    buf_t *replay_msgs; /* consensus messages of that height (a ring), fed after START_HEIGHT */
    uint32_t replay_head, n_replay_msgs;
    bool replaying;

    config_t cfg;
    genesis_t genesis;
    chain_id_t chain_id;
    keypair_t node_key;
    keypair_t val_key;
    uint8_t val_address[ADDR_BYTES];
    bool is_validator;

    store_t *store;
    app_t *app;
    signer_t *signer;
    wal_t *wal;
    consensus_t *cons;
    mempool_t *mempool;
    p2p_t *p2p;
    void *rpc; /* rpc server, when built (src/rpc) */

    chain_state_t st;
    commit_t last_commit; /* the seen commit of st.last_height */
    vote_t *last_commit_votes;
    uint32_t n_last_commit_votes;
    int64_t last_block_local_ms; /* our clock when the last block was applied */
    bool waiting_next;           /* decided; the next height not started yet */

    known_block known[CONS_BLOCKS_MAX];
    uint64_t known_seq;
    /* Encoded consensus messages of the current height, for re-gossip. */
    buf_t gossip_msgs[NODE_GOSSIP_MSGS_MAX];
    uint32_t n_gossip_msgs;
    size_t gossip_bytes;
    uint64_t gossip_seen_height; uint32_t gossip_seen_round; uint8_t gossip_seen_step;

    uint32_t prop_rounds[NODE_PROP_ROUNDS_MAX]; /* rounds with a proposal, this height */
    uint32_t n_prop_rounds;

    cons_input_t inq[NODE_INQ_MAX];
    uint32_t inq_head, inq_len;
    bool draining;

    evidence_t evidence[NODE_EVIDENCE_MAX];
    uint32_t n_evidence;

    sync_slot sync[NODE_SYNC_WINDOW];
    uint64_t prune_next;  /* next state version app_prune() forgets below */
    uint64_t sync_target; /* highest height a peer says it has (requests go by it) */
    uint64_t sync_proven; /* highest height a peer proved: a block with a commit
                             signed by >2/3 (catching_up goes by it, not by claims) */

    /* counters for metrics and status */
    uint64_t txs_committed, blocks_synced, votes_dropped, proposals_dropped;
    uint64_t sigs_verified, txs_rejected, txs_rejected_sig;

    uv_timer_t tx_flush_timer;
    uv_timer_t scrub_timer; /* background store scrub every storage.scrub_interval_s */
    bool scrub_running;
    uint64_t scrubs_done, scrub_damaged;
    node_repair repair;
    bytes_view out_txs[MSG_TXS_MAX]; /* admitted, waiting to be gossiped (owned) */
    uint32_t n_out_txs;
    uint32_t verify_jobs; /* on the thread pool, or done and waiting for earlier ones */
    size_t verify_bytes;
    struct verify_job *jobs_head, *jobs_tail; /* submission order */
};

/* node.c */
int64_t node_now_ns(void);
uint64_t node_now_ms(const struct node *n);
void node_fatal(struct node *n, const char *what, cairn_err rc);

/* chainstate.c */
cairn_err chain_state_from_genesis(chain_state_t *st, const genesis_t *g,
                                   const uint8_t app_hash[static HASH_BYTES]) CAIRN_MUST_CHECK;

/* exec.c */
/* Builds, encodes and remembers our block for (height, round). */
cairn_err node_block_create(struct node *n, int64_t time_ns, const vote_t *last_commit,
                            uint32_t n_last_commit, uint8_t id_out[static HASH_BYTES]) CAIRN_MUST_CHECK;
/* Decodes and validates a block for the current height; remembers it. */
uint8_t node_block_receive(struct node *n, const uint8_t *raw, size_t len,
                           const uint8_t id[static HASH_BYTES]);
known_block *node_block_known(struct node *n, const uint8_t id[static HASH_BYTES]);
void node_blocks_clear(struct node *n);
/* Executes a decided or synced block with its commit and saves it atomically. */
cairn_err node_block_apply(struct node *n, const uint8_t *raw, size_t len, const block_t *b,
                           const uint8_t id[static HASH_BYTES], const commit_t *commit) CAIRN_MUST_CHECK;
/* Builds a commit (validator-set order) from precommits. */
cairn_err node_commit_from_votes(const valset_t *vs, uint64_t height, uint32_t round,
                                 const uint8_t id[static HASH_BYTES], const vote_t *votes,
                                 uint32_t n_votes, commit_t *out) CAIRN_MUST_CHECK;
/* The precommits of a commit, as votes (for the consensus core); malloc'd. */
cairn_err node_commit_to_votes(const commit_t *c, vote_t **out, uint32_t *n_out) CAIRN_MUST_CHECK;
/* Mempool admission of one transaction (from a client or a peer). res gets the
 * check's result; returns CAIRN_OK when admitted. */
cairn_err node_tx_admit(struct node *n, const uint8_t *raw, size_t len,
                        app_result_t *res) CAIRN_MUST_CHECK;

/* Peer transactions: signatures checked on the thread pool, then admitted. */
/* Transactions gossiped by peer: signatures checked on the pool, then admitted;
 * a peer that sent one that does not decode or verify is reported (honest peers
 * relay only transactions they checked). */
void node_txs_from_peer(struct node *n, p2p_peer_t *peer, const bytes_view *txs,
                        uint32_t count);
void node_txs_gossip_release(struct node *n);
/* Checks one client transaction's signature on the thread pool; cb(ctx, ok) runs
 * on the loop once it and every transaction submitted before it are checked (ok:
 * the signature verifies and is in the verified cache, so node_tx_admit will not
 * verify it again). cb runs before this returns when the signature is already
 * known and nothing waits before it. false: not queued (too much waiting, or
 * stopping): the caller answers "busy" rather than overtake queued ones. */
typedef void (*node_verified_cb)(void *ctx, bool ok);
bool node_verify_submit(struct node *n, const uint8_t *raw, size_t len, node_verified_cb cb,
                        void *ctx);

/* cons_io.c */
/* Queues an input and, unless an input is being handled already, feeds the queue.
 * Returns the core's verdict on this input when it was handled at once (CAIRN_OK
 * when it was queued behind another). */
cairn_err node_cons_feed(struct node *n, const cons_input_t *in);
void node_cons_start_height(struct node *n, const cons_persist_t *restore);
void node_cons_on_message(struct node *n, p2p_peer_t *peer, const msg_t *m);
void node_gossip_tick(struct node *n);
void node_gossip_to_peer(struct node *n, p2p_peer_t *peer);
void node_timers_stop(struct node *n);
void node_maybe_start_next(struct node *n);

/* sync.c */
void node_sync_on_message(struct node *n, p2p_peer_t *peer, const msg_t *m);
void node_sync_tick(struct node *n);
void node_sync_peer_down(struct node *n, p2p_peer_t *peer);
void node_status_broadcast(struct node *n, p2p_peer_t *only);
bool node_catching_up(const struct node *n);

/* node.c */
/* Starts a background scrub now unless one runs or one was started in the
 * last NODE_REPAIR_SCRUB_SOON_MS (damage seen that no height pins down). */
void node_scrub_soon(struct node *n);

/* repair.c */
/* Queues height h for repair (deduplicated, bounded) when it is inside the
 * store's range; source says who found the damage ("scrub", "rpc", "sync"). */
void node_repair_note(struct node *n, uint64_t h, const char *source);
/* The same for a height whose seen commit fails its signature checks: the
 * store's own checks find it intact, so repair checks the signatures itself. */
void node_repair_note_commit_sigs(struct node *n, uint64_t h);
/* Whether the seen commit of height h carries valid signatures of > 2/3 of vs
 * for the block it names: CAIRN_OK, the commit_verify error, or a read error.
 * Any thread (store reads only). */
cairn_err node_seen_commit_check(store_t *st, const chain_id_t *cid, const valset_t *vs,
                                 uint64_t h) CAIRN_MUST_CHECK;
/* Every height-bound entry of a scrub report goes to the queue. */
void node_repair_from_scrub(struct node *n, const store_scrub_report *rep);

/* state_check.c: the application state, which store_scrub checks only for
 * seals (a value rewritten with a fresh seal passes them). */
#define NODE_STATE_LISTED 64
typedef struct {
    uint64_t version;        /* the height whose state was walked */
    bool root_bad;           /* its root is not the app hash the chain has */
    cairn_err tree_rc;       /* CAIRN_OK, CAIRN_ECORRUPT (a tree node fails at
                                tree_path), or what stopped the walk */
    uint8_t tree_path[32];
    uint64_t leaves, internal; /* tree nodes walked */
    uint64_t index_checked;    /* latest-value ('L') entries compared */
    uint64_t index_bad;        /* of those, or leaves without one: disagreeing */
    uint32_t n_listed;
    uint8_t listed[NODE_STATE_LISTED][32]; /* their key hashes, deduplicated */
} node_state_report;
/* Checks the state of `version` (the newest one): its root against app_hash,
 * every tree node against its parent, and every latest-value index entry
 * against the tree both ways (a leaf without its entry, an entry the tree
 * contradicts). Any thread (store reads only); blocks committed meanwhile are
 * tolerated (entries written after `version` are not compared). Returns an
 * error only when the check could not run; damage is in *out. */
cairn_err node_state_check(store_t *st, uint64_t version, const uint8_t app_hash[32],
                           node_state_report *out) CAIRN_MUST_CHECK;
/* Rewrites the latest-value entry of key hash kh from the tree of the newest
 * state if it is still wrong: CAIRN_OK (rewritten or already right: *rewritten
 * says which), or why not. Loop thread (a state write). */
cairn_err node_state_index_repair(struct node *n, const uint8_t kh[32],
                                  bool *rewritten) CAIRN_MUST_CHECK;
/* Times out requests and asks peers for what waits; called every second and
 * after each answer. */
void node_repair_tick(struct node *n);
void node_repair_on_message(struct node *n, p2p_peer_t *peer, const msg_t *m);
void node_repair_peer_down(struct node *n, p2p_peer_t *peer);
const char *node_repair_outcome_name(repair_outcome o);

#endif
