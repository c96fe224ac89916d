/* node.c - opening a node's home, running its loop, closing it cleanly. */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <unistd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "base/log.h"
#include "node/keys.h"
#include "node/node_int.h"
#include "node/rpc_node.h"

int64_t node_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

uint64_t node_now_ms(const struct node *n) { return uv_now((uv_loop_t *)&n->loop); }

static void node_stop(struct node *n);

void node_fatal(struct node *n, const char *what, cairn_err rc)
{
    log_error("fatal: %s failed: %s; stopping the node", what, cairn_strerror(rc));
    n->fatal = rc ? rc : CAIRN_EINTERNAL;
    node_stop(n);
}

/* One-line reason in errbuf, then the error. */
#define fail(errbuf, rc, ...) cairn_fail((rc), (errbuf), NODE_ERR_MAX, __VA_ARGS__)

static void path(char *out, const struct node *n, const char *rel)
{
    if (snprintf(out, NODE_PATH_MAX, "%s/%s", n->home, rel) >= NODE_PATH_MAX) out[0] = 0;
}

/* ------------------------------------------------------------------ p2p glue */

static void on_peer_up(p2p_peer_t *peer, void *ud)
{
    struct node *n = ud;
    peer_info *pi = calloc(1, sizeof *pi);
    if (!pi) {
        p2p_peer_close(peer, CAIRN_ENOMEM);
        return;
    }
    p2p_peer_data_set(peer, pi);
    log_info("peer up: %s (%s, %s)", p2p_peer_id(peer), p2p_peer_remote(peer),
             p2p_peer_outbound(peer) ? "outbound" : "inbound");
    node_status_broadcast(n, peer);
    node_gossip_to_peer(n, peer);
}

static void on_peer_down(p2p_peer_t *peer, cairn_err reason, void *ud)
{
    struct node *n = ud;
    node_sync_peer_down(n, peer);
    node_repair_peer_down(n, peer);
    free(p2p_peer_data(peer));
    p2p_peer_data_set(peer, NULL);
    if (!n->stopping)
        log_info("peer down: %s (%s)", p2p_peer_id(peer), cairn_strerror(reason));
}

static bool kind_on_channel(uint8_t kind, uint8_t channel)
{
    switch (channel) {
    case CH_CONSENSUS: return kind == MSG_PROPOSAL || kind == MSG_VOTE || kind == MSG_ROUND_STATE;
    case CH_MEMPOOL: return kind == MSG_TXS;
    case CH_SYNC:
        return kind == MSG_STATUS || kind == MSG_BLOCK_REQUEST || kind == MSG_BLOCK_RESPONSE ||
               kind == MSG_NO_BLOCK;
    case CH_REPAIR:
        return kind == MSG_REPAIR_REQUEST || kind == MSG_REPAIR_RESPONSE || kind == MSG_REPAIR_NONE;
    default: return false;
    }
}

static msg_t recv_msg; /* large (a tx batch); the loop is single-threaded */

static void on_recv(p2p_peer_t *peer, uint8_t channel, const uint8_t *p, size_t len, void *ud)
{
    struct node *n = ud;
    if (n->stopping || !p2p_peer_data(peer)) return;
    if (msg_decode(&recv_msg, p, len) != CAIRN_OK || !kind_on_channel(recv_msg.kind, channel)) {
        p2p_peer_report(peer, P2P_REPORT_BAD_MESSAGE);
        return;
    }
    switch (channel) {
    case CH_CONSENSUS: node_cons_on_message(n, peer, &recv_msg); break;
    case CH_SYNC: node_sync_on_message(n, peer, &recv_msg); break;
    case CH_REPAIR: node_repair_on_message(n, peer, &recv_msg); break;
    case CH_MEMPOOL: node_txs_from_peer(n, peer, recv_msg.u.txs.txs, recv_msg.u.txs.count); break;
    }
}

/* ------------------------------------------------------------------ open */

static cairn_err open_config(struct node *n, char *errbuf)
{
    char p[NODE_PATH_MAX], err[CONFIG_ERR_MAX];
    path(p, n, "config/config.ini");
    config_defaults(&n->cfg);
    cairn_err rc = config_load(p, &n->cfg, err);
    if (rc) return fail(errbuf, rc, "%s", err);
    log_level_set((log_level)n->cfg.node.log_level);
    log_tag_set(n->cfg.node.moniker);
    path(p, n, "config/genesis.json");
    genesis_init(&n->genesis);
    rc = genesis_load(&n->genesis, p, err);
    if (rc) return fail(errbuf, rc, "%s", err);
    n->chain_id = n->genesis.chain_id;
    path(p, n, "config/node_key.json");
    rc = keys_node_key_load(p, &n->node_key, err);
    if (rc) return fail(errbuf, rc, "%s", err);
    path(p, n, "config/priv_validator_key.json");
    rc = keys_validator_key_load(p, &n->val_key, err);
    if (rc) return fail(errbuf, rc, "%s", err);
    key_address(n->val_address, n->val_key.pub);
    return CAIRN_OK;
}

static cairn_err open_state(struct node *n, char *errbuf)
{
    char p[NODE_PATH_MAX];
    path(p, n, "data");
    mkdir(p, 0700);
    path(p, n, "data/store");
    store_options so;
    store_options_default(&so);
    so.sync = n->cfg.storage.sync_writes;
    cairn_err rc = store_open(p, &so, &n->store);
    if (rc) return fail(errbuf, rc, "cannot open the store %s: %s", p, cairn_strerror(rc));
    rc = ledger_new(&n->chain_id, store_state_reader(n->store), &n->app);
    if (rc) return fail(errbuf, rc, "cannot open the application state: %s", cairn_strerror(rc));
    app_info_t info;
    app_info(n->app, &info);
    if (!info.initialized) {
        if (store_height(n->store) != 0)
            return fail(errbuf, CAIRN_ECORRUPT, "the store has blocks but no application state");
        app_genesis_account_t *acc = calloc(n->genesis.n_accounts + 1, sizeof *acc);
        if (!acc) return CAIRN_ENOMEM;
        for (uint32_t i = 0; i < n->genesis.n_accounts; i++) {
            memcpy(acc[i].address, n->genesis.accounts[i].address, ADDR_BYTES);
            acc[i].balance = n->genesis.accounts[i].balance;
        }
        kv_batch b;
        kv_batch_init(&b);
        rc = app_init_chain(n->app, acc, n->genesis.n_accounts, info.app_hash, &b);
        if (rc == CAIRN_OK) rc = store_state_write(n->store, &b);
        kv_batch_deinit(&b);
        free(acc);
        if (rc) return fail(errbuf, rc, "cannot write the genesis state: %s", cairn_strerror(rc));
        app_info(n->app, &info);
    }
    uint64_t oldest;
    rc = app_oldest_height(n->app, &oldest);
    if (rc) return fail(errbuf, rc, "cannot read the application state: %s", cairn_strerror(rc));
    n->prune_next = oldest + 1;
    if (store_height(n->store) == 0) {
        rc = chain_state_from_genesis(&n->st, &n->genesis, info.app_hash);
        if (rc) return fail(errbuf, rc, "genesis: %s", cairn_strerror(rc));
        return CAIRN_OK;
    }
    buf_t raw;
    buf_init(&raw, 0);
    rc = store_chain_state_get(n->store, &raw);
    if (rc == CAIRN_OK) rc = chain_state_decode(&n->st, raw.data, raw.len);
    buf_deinit(&raw);
    if (rc) return fail(errbuf, rc, "the saved chain state is unreadable: %s", cairn_strerror(rc));
    if (n->st.last_height != store_height(n->store) || info.height != n->st.last_height ||
        memcmp(info.app_hash, n->st.app_hash, HASH_BYTES) != 0)
        return fail(errbuf, CAIRN_ECORRUPT,
                    "store (height %llu), chain state (height %llu) and application state "
                    "(height %llu) disagree",
                    (unsigned long long)store_height(n->store), (unsigned long long)n->st.last_height,
                    (unsigned long long)info.height);
    rc = store_commit_get(n->store, n->st.last_height, &n->last_commit);
    if (rc == CAIRN_OK)
        rc = node_commit_to_votes(&n->last_commit, &n->last_commit_votes, &n->n_last_commit_votes);
    if (rc) return fail(errbuf, rc, "cannot read the last commit: %s", cairn_strerror(rc));
    return CAIRN_OK;
}

/* Undoes open_state (which may have failed halfway). */
static void close_state(struct node *n)
{
    app_free(n->app);
    n->app = NULL;
    store_close(n->store);
    n->store = NULL;
    commit_free(&n->last_commit);
    free(n->last_commit_votes);
    n->last_commit_votes = NULL;
    n->n_last_commit_votes = 0;
    memset(&n->st, 0, sizeof n->st);
}

/* DESIGN s.7: a store too damaged to open (RocksDB reports corruption, or its
 * records disagree) is rebuilt from peers. The damaged one is moved aside, not
 * deleted, for inspection; a fresh one starts from genesis and block sync
 * refills it, every block checked against its commit as usual. The signing
 * state and the consensus WAL are files of their own, so a validator still
 * never signs twice for a height. errbuf holds open_state's error. */
static cairn_err rebuild_store(struct node *n, char *errbuf)
{
    size_t l = strlen(errbuf);
    if (!n->cfg.storage.rebuild_damaged_store) {
        snprintf(errbuf + l, NODE_ERR_MAX - l, "; not rebuilding it ([storage] "
                 "rebuild_damaged_store = false): see docs/operations.md");
        return CAIRN_ECORRUPT;
    }
    if (n->cfg.p2p.n_peers == 0) {
        snprintf(errbuf + l, NODE_ERR_MAX - l, "; it cannot be rebuilt: this node has no "
                 "persistent peers to fetch the chain from (docs/operations.md)");
        return CAIRN_ECORRUPT;
    }
    log_error("%s", errbuf);
    close_state(n);
    char from[NODE_PATH_MAX], to[NODE_PATH_MAX + 32];
    path(from, n, "data/store");
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    snprintf(to, sizeof to, "%s.damaged-%04d%02d%02dT%02d%02d%02dZ", from, tm.tm_year + 1900,
             tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
    if (rename(from, to) != 0)
        return fail(errbuf, CAIRN_EIO, "cannot move the damaged store %s aside to %s: %s", from,
                    to, strerror(errno));
    log_warn("store: the damaged store was moved to %s; rebuilding it from peers by block sync",
             to);
    errbuf[0] = 0;
    return open_state(n, errbuf);
}

static cairn_err open_signer(struct node *n, char *errbuf)
{
    n->is_validator = valset_index_of(&n->st.validators, n->val_address) >= 0;
    if (!n->is_validator) return CAIRN_OK;
    char p[NODE_PATH_MAX];
    path(p, n, "data/priv_validator_state.bin");
    cairn_err rc;
    if (access(p, F_OK) != 0 && errno == ENOENT && store_height(n->store) == 0)
        rc = signer_create(p, &n->val_key, &n->signer); /* a validator's first start */
    else
        rc = signer_open(p, &n->val_key, &n->signer);
    if (rc == CAIRN_ENOT_FOUND)
        return fail(errbuf, rc,
                    "%s is missing although this validator has signed blocks: refusing to start, "
                    "because signing without it could sign twice. Restore it from a backup.", p);
    if (rc) return fail(errbuf, rc, "cannot open the signing state %s: %s", p, cairn_strerror(rc));
    return CAIRN_OK;
}

typedef struct {
    uint64_t height;
    cons_persist_t rec;
    bool found;
    buf_t *msgs; /* a ring of NODE_GOSSIP_MSGS_MAX slots */
    uint32_t head, n_msgs;
    size_t bytes;
} replay_ctx;

static cairn_err replay_record(void *ctx, uint8_t type, const uint8_t *p, size_t len)
{
    replay_ctx *r = ctx;
    cons_persist_t rec;
    if (type == WAL_REC_MSG) {
        /* Bounded like the gossip store, keeping the LATEST messages (the rounds
         * that matter, the votes behind a lock); peers re-send older ones. */
        if (len > NODE_GOSSIP_BYTES_MAX) return CAIRN_OK;
        while (r->n_msgs == NODE_GOSSIP_MSGS_MAX || len > NODE_GOSSIP_BYTES_MAX - r->bytes) {
            buf_t *old = &r->msgs[r->head];
            r->bytes -= old->len;
            buf_deinit(old);
            r->head = (r->head + 1) % NODE_GOSSIP_MSGS_MAX;
            r->n_msgs--;
        }
        buf_t *b = &r->msgs[(r->head + r->n_msgs) % NODE_GOSSIP_MSGS_MAX];
        buf_init(b, 0);
        if (buf_append(b, p, len) != CAIRN_OK) return CAIRN_ENOMEM;
        r->n_msgs++;
        r->bytes += len;
        return CAIRN_OK;
    }
    if (type != WAL_REC_PERSIST) return CAIRN_OK;
    if (consensus_persist_decode(&rec, p, len) != CAIRN_OK) return CAIRN_EWAL_DAMAGED;
    if (rec.height == r->height) {
        r->rec = rec;
        r->found = true;
    }
    return CAIRN_OK;
}

static cairn_err open_consensus(struct node *n, replay_ctx *replay, char *errbuf)
{
    char p[NODE_PATH_MAX];
    path(p, n, "data/cs.wal");
    cairn_err rc = wal_open(p, NULL, &n->wal);
    if (rc) return fail(errbuf, rc, "consensus WAL %s: %s; refusing to start", p, cairn_strerror(rc));
    memset(replay, 0, sizeof *replay);
    replay->height = n->st.last_height + 1;
    replay->msgs = calloc(NODE_GOSSIP_MSGS_MAX, sizeof *replay->msgs);
    if (!replay->msgs) return CAIRN_ENOMEM;
    n->replay_msgs = replay->msgs; /* owned by the node from here */
    rc = wal_replay(n->wal, replay, replay_record);
    n->replay_head = replay->head;
    n->n_replay_msgs = replay->n_msgs;
    if (rc) return fail(errbuf, rc, "replaying the consensus WAL: %s", cairn_strerror(rc));
    cons_config_t cc;
    consensus_config_default(&cc);
    const config_t *c = &n->cfg;
    cc.propose_base_ns = (int64_t)c->consensus.timeout_propose_ms * 1000000;
    cc.propose_delta_ns = (int64_t)c->consensus.timeout_propose_delta_ms * 1000000;
    cc.prevote_base_ns = (int64_t)c->consensus.timeout_prevote_ms * 1000000;
    cc.prevote_delta_ns = (int64_t)c->consensus.timeout_prevote_delta_ms * 1000000;
    cc.precommit_base_ns = (int64_t)c->consensus.timeout_precommit_ms * 1000000;
    cc.precommit_delta_ns = (int64_t)c->consensus.timeout_precommit_delta_ms * 1000000;
    n->cons = consensus_new(&cc, n->is_validator ? n->val_address : NULL);
    if (!n->cons) return CAIRN_ENOMEM;
    mempool_config mc;
    mempool_config_defaults(&mc);
    mc.max_txs = c->mempool.max_txs;
    mc.max_bytes = c->mempool.max_bytes;
    mc.max_tx_bytes = c->mempool.max_tx_bytes;
    return mempool_new(&mc, &n->mempool);
}

static cairn_err open_p2p(struct node *n, char *errbuf)
{
    p2p_config pc;
    p2p_config_default(&pc);
    pc.inbound_max = n->cfg.p2p.max_inbound_peers;
    pc.outbound_max = n->cfg.p2p.max_outbound_peers;
    pc.frame_payload_max = n->cfg.p2p.max_frame_bytes;
    pc.send_queue_bytes_max = n->cfg.p2p.send_queue_bytes;
    pc.handshake_timeout_ms = n->cfg.p2p.handshake_timeout_ms;
    cairn_err rc = p2p_new(&n->loop, &pc, &n->node_key, n->chain_id.id, &n->p2p);
    if (rc) return fail(errbuf, rc, "p2p: %s", cairn_strerror(rc));
    p2p_peer_callbacks_set(n->p2p, on_peer_up, on_peer_down, n);
    uint8_t chans[] = {CH_CONSENSUS, CH_MEMPOOL, CH_SYNC, CH_REPAIR};
    for (size_t i = 0; i < sizeof chans; i++)
        if ((rc = p2p_channel_register(n->p2p, chans[i], on_recv, n)) != CAIRN_OK) return rc;
    char addr[CONFIG_HOST_MAX + 16];
    config_addr_format(addr, sizeof addr, &n->cfg.p2p.listen);
    rc = p2p_listen(n->p2p, addr);
    if (rc) return fail(errbuf, rc, "p2p: cannot listen on %s: %s", addr, cairn_strerror(rc));
    for (uint32_t i = 0; i < n->cfg.p2p.n_peers; i++) {
        const config_peer_t *cp = &n->cfg.p2p.persistent_peers[i];
        char id[2 * ADDR_BYTES + 1], target[P2P_ADDR_TEXT_MAX], host[CONFIG_HOST_MAX + 16];
        hex_encode_lower(id, cp->id, ADDR_BYTES);
        if (!strcmp(id, p2p_node_id(n->p2p))) continue; /* ourselves */
        config_addr_format(host, sizeof host, &cp->addr);
        if (snprintf(target, sizeof target, "%s@%s", id, host) >= (int)sizeof target)
            return fail(errbuf, CAIRN_EBAD_CONFIG, "peer address too long: %s", host);
        rc = p2p_dial(n->p2p, target, true);
        if (rc) return fail(errbuf, rc, "p2p: cannot dial %s: %s", target, cairn_strerror(rc));
    }
    log_info("p2p: node id %s listening on %s", p2p_node_id(n->p2p), addr);
    return CAIRN_OK;
}

/* ------------------------------------------------------------------ background scrub */

/* store_scrub on the thread pool: store reads may run beside the loop's writes
 * (store.h). The result is logged and counted, and every damaged height goes
 * to the repair queue (repair.c); nothing damaged is ever served, whether or
 * not a scrub found it first. */
#define SCRUB_SIGS_LISTED 256

typedef struct {
    uv_work_t req;
    struct node *n;
    cairn_err rc;
    store_scrub_report report;
    /* the store cannot check signatures: the scrub also verifies every seen
     * commit against a copy of the validator set taken on the loop */
    store_t *store;
    chain_id_t cid;
    valset_t vs;
    uint64_t base, top;
    uint64_t bad_sigs; /* seen commits whose signatures fail */
    uint32_t n_listed;
    uint64_t listed[SCRUB_SIGS_LISTED];
    /* the application state of the tip when the scrub started (state_check.c) */
    uint64_t state_version;
    uint8_t app_hash[HASH_BYTES];
    cairn_err state_rc;
    node_state_report state;
} scrub_job;

static void scrub_work(uv_work_t *req)
{
    scrub_job *j = req->data;
    j->rc = store_scrub(j->store, &j->report, NULL, NULL);
    if (j->rc != CAIRN_OK) return;
    for (uint64_t h = j->base; h && h <= j->top; h++) {
        cairn_err rc = node_seen_commit_check(j->store, &j->cid, &j->vs, h);
        if (rc == CAIRN_OK || rc == CAIRN_ECORRUPT || rc == CAIRN_ENOT_FOUND)
            continue; /* damage the store sees is in the report already */
        j->bad_sigs++;
        if (j->n_listed < SCRUB_SIGS_LISTED) j->listed[j->n_listed++] = h;
    }
    j->state_rc = j->state_version ? node_state_check(j->store, j->state_version, j->app_hash,
                                                      &j->state)
                                   : CAIRN_ENOT_FOUND;
}

/* What the state check found: latest-value entries that disagree with the tree
 * are rebuilt from it here; damage to the tree itself or its root is reported
 * (not repaired: docs/storage.md). Returns the number of damaged records. */
static uint64_t state_check_done(struct node *n, scrub_job *j)
{
    const node_state_report *s = &j->state;
    if (j->state_rc != CAIRN_OK) {
        if (j->state_rc != CAIRN_ENOT_FOUND || j->state_version)
            log_warn("scrub: the state of height %llu was not checked: %s",
                     (unsigned long long)j->state_version, cairn_strerror(j->state_rc));
        return 0;
    }
    uint32_t keep = n->cfg.storage.keep_state_heights;
    if (s->tree_rc != CAIRN_OK && keep && n->st.last_height + 1 >= s->version + keep) {
        log_warn("scrub: the state of height %llu was pruned during the check; the next "
                 "scrub checks a newer one", (unsigned long long)s->version);
        return 0;
    }
    uint64_t bad = 0;
    if (s->root_bad) {
        log_error("scrub: the stored state root of height %llu is not the app hash the chain "
                  "committed; not repaired (docs/storage.md)", (unsigned long long)s->version);
        bad++;
    }
    if (s->tree_rc != CAIRN_OK) {
        char path[17];
        hex_encode_lower(path, s->tree_path, 8);
        log_error("scrub: a state tree node of height %llu on path %s... fails its check (%s); "
                  "not repaired (docs/storage.md)",
                  (unsigned long long)s->version, path, cairn_strerror(s->tree_rc));
        bad++;
    }
    n->repair.state_damaged += bad;
    if (s->index_bad > s->n_listed)
        log_error("scrub: %llu latest-value state entries disagree with the state tree; %u "
                  "are rebuilt now, the next scrub finds the rest",
                  (unsigned long long)s->index_bad, s->n_listed);
    for (uint32_t i = 0; i < s->n_listed && !n->stopping; i++) {
        char kh[65];
        hex_encode_lower(kh, s->listed[i], 32);
        bool rewritten = false;
        cairn_err rc = node_state_index_repair(n, s->listed[i], &rewritten);
        if (rc) {
            log_error("scrub: state entry for key hash %s disagrees with the state tree and "
                      "could not be rebuilt: %s", kh, cairn_strerror(rc));
            n->repair.state_damaged++;
        } else if (rewritten) {
            log_warn("scrub: state entry for key hash %s disagreed with the state tree; "
                     "rebuilt from the tree", kh);
            n->repair.count[REPAIR_OUT_INDEX_REBUILT]++;
        }
    }
    return bad + s->index_bad;
}

static void scrub_done(uv_work_t *req, int status)
{
    scrub_job *j = req->data;
    struct node *n = j->n;
    n->scrub_running = false;
    if (status == 0 && j->rc == CAIRN_OK) {
        n->scrubs_done++;
        n->repair.state_damaged = 0; /* counted again below, from this scrub */
        uint64_t state_bad = 0;
        if (j->bad_sigs) {
            log_error("scrub: %llu seen commits carry signatures that do not verify; those "
                      "heights are repaired from peers", (unsigned long long)j->bad_sigs);
            for (uint32_t i = 0; i < j->n_listed && !n->stopping; i++)
                node_repair_note_commit_sigs(n, j->listed[i]);
            if (!n->stopping) node_repair_tick(n);
        }
        if (j->report.damaged) {
            log_error("scrub: %llu damaged records in the store; damaged heights are repaired "
                      "from peers (`cairn scrub` on the stopped node lists every record)",
                      (unsigned long long)j->report.damaged);
            for (uint32_t i = 0; i < j->report.n_entries && i < 10; i++) {
                char line[256];
                store_damage_format(&j->report.entries[i], line, sizeof line);
                log_error("scrub: %s", line);
            }
            if (!n->stopping) node_repair_from_scrub(n, &j->report);
        }
        if (!n->stopping) state_bad = state_check_done(n, j);
        n->scrub_damaged = j->report.damaged + j->bad_sigs + state_bad;
        if (!j->report.damaged && !j->bad_sigs && !state_bad) {
            log_info("scrub: %llu heights, %llu records, state of height %llu (%llu tree "
                     "nodes, %llu index entries): intact",
                     (unsigned long long)j->report.heights_checked,
                     (unsigned long long)j->report.records_checked,
                     (unsigned long long)j->state.version,
                     (unsigned long long)(j->state.leaves + j->state.internal),
                     (unsigned long long)j->state.index_checked);
        }
    } else if (status == 0) {
        log_warn("scrub could not complete: %s", cairn_strerror(j->rc));
    }
    store_scrub_report_free(&j->report);
    free(j);
}

static void scrub_start(struct node *n)
{
    if (n->scrub_running || n->stopping) return;
    scrub_job *j = calloc(1, sizeof *j);
    if (!j) return;
    j->n = n;
    j->req.data = j;
    j->store = n->store;
    j->cid = n->chain_id;
    j->vs = n->st.validators; /* validator sets do not change in cairn yet */
    j->base = store_base_height(n->store);
    j->top = store_height(n->store);
    j->state_version = n->st.last_height; /* its state root is st.app_hash */
    memcpy(j->app_hash, n->st.app_hash, HASH_BYTES);
    n->scrub_running = true;
    if (uv_queue_work(&n->loop, &j->req, scrub_work, scrub_done) != 0) {
        n->scrub_running = false;
        free(j);
    }
}

static void scrub_tick(uv_timer_t *t) { scrub_start(t->data); }

void node_scrub_soon(struct node *n)
{
    uint64_t now = node_now_ms(n);
    if (n->scrub_running || n->stopping || !n->handles_ok) return;
    if (n->repair.last_scrub_soon_ms && now - n->repair.last_scrub_soon_ms < NODE_REPAIR_SCRUB_SOON_MS)
        return;
    n->repair.last_scrub_soon_ms = now;
    log_info("scrub: starting now to locate damage a read reported");
    scrub_start(n);
}

static void tick(uv_timer_t *t)
{
    struct node *n = t->data;
    node_gossip_tick(n);
    node_status_broadcast(n, NULL);
    node_sync_tick(n);
    p2p_peer_t *peers[64];
    size_t np = n->p2p ? p2p_peers(n->p2p, peers, 64) : 0;
    for (size_t i = 0; i < np && i < 64; i++) {
        peer_info *pi = p2p_peer_data(peers[i]);
        if (pi) pi->repair_served = 0; /* a new second of repair serving */
    }
    node_repair_tick(n);
}

/* SIGINT and SIGTERM go to the main thread only: node_open blocks them before
 * any thread exists (RocksDB's and libuv's threads inherit the mask) and node_run
 * unblocks them on the loop's thread. That lets node_stop swap libuv's handlers
 * for SIG_IGN with no moment where a second signal (Ctrl-C reaches every process
 * of the group, and devnet forwards a SIGTERM too) finds the default action and
 * kills the node halfway through its clean stop. */
static void stop_signals_mask(int how)
{
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    pthread_sigmask(how, &set, NULL);
}

static void on_signal(uv_signal_t *s, int signum)
{
    struct node *n = s->data;
    log_info("received %s; stopping", signum == SIGINT ? "SIGINT" : "SIGTERM");
    node_stop(n);
}

cairn_err node_open(const char *home, node_t **out, char *errbuf)
{
    struct node *n = calloc(1, sizeof *n);
    if (!n) return CAIRN_ENOMEM;
    stop_signals_mask(SIG_BLOCK);
    snprintf(n->home, sizeof n->home, "%s", home);
    errbuf[0] = 0;
    cairn_err rc = crypto_init();
    replay_ctx replay;
    if (rc == CAIRN_OK) rc = open_config(n, errbuf);
    if (rc == CAIRN_OK) rc = open_state(n, errbuf);
    if (rc == CAIRN_ECORRUPT) rc = rebuild_store(n, errbuf);
    if (rc == CAIRN_OK) rc = open_signer(n, errbuf);
    if (rc == CAIRN_OK) rc = open_consensus(n, &replay, errbuf);
    if (rc == CAIRN_OK && uv_loop_init(&n->loop) != 0) rc = CAIRN_EIO;
    if (rc == CAIRN_OK) n->loop_ok = true;
    if (rc == CAIRN_OK) rc = open_p2p(n, errbuf);
    if (rc == CAIRN_OK) rc = node_rpc_open(n, errbuf);
    if (rc) {
        if (!errbuf[0]) snprintf(errbuf, NODE_ERR_MAX, "%s", cairn_strerror(rc));
        node_close(n);
        return rc;
    }
    if (replay.found) {
        n->restore = replay.rec;
        n->has_restore = true;
    }
    for (int i = 0; i < NODE_TIMERS; i++) {
        uv_timer_init(&n->loop, &n->timers[i].timer);
        n->timers[i].timer.data = &n->timers[i];
        n->timers[i].node = n;
    }
    uv_timer_init(&n->loop, &n->gossip_timer);
    n->gossip_timer.data = n;
    uv_timer_init(&n->loop, &n->next_height_timer);
    n->next_height_timer.data = n;
    uv_timer_init(&n->loop, &n->tx_flush_timer);
    n->tx_flush_timer.data = n;
    uv_timer_init(&n->loop, &n->scrub_timer);
    n->scrub_timer.data = n;
    uv_signal_init(&n->loop, &n->sigint);
    uv_signal_init(&n->loop, &n->sigterm);
    n->sigint.data = n->sigterm.data = n;
    n->handles_ok = true;
    log_info("node open: chain %s, height %llu, %s", n->chain_id.id,
             (unsigned long long)n->st.last_height,
             n->is_validator ? "validator" : "full node (not in the validator set)");
    *out = n;
    return CAIRN_OK;
}

/* Contract item 6: after a restart, show the core again the messages of the
 * height it was in, in the order it saw them. Those of an older height (a crash
 * between saving a block and closing its height in the WAL) are simply dropped. */
static void replay_messages(struct node *n)
{
    if (n->n_replay_msgs) log_info("replaying %u consensus messages from the WAL", n->n_replay_msgs);
    n->replaying = true;
    for (uint32_t k = 0; k < n->n_replay_msgs; k++) {
        buf_t *b = &n->replay_msgs[(n->replay_head + k) % NODE_GOSSIP_MSGS_MAX];
        if (!n->stopping && msg_decode(&recv_msg, b->data, b->len) == CAIRN_OK &&
            kind_on_channel(recv_msg.kind, CH_CONSENSUS))
            node_cons_on_message(n, NULL, &recv_msg);
        buf_deinit(b);
    }
    n->replaying = false;
    n->n_replay_msgs = 0;
}

cairn_err node_run(node_t *n)
{
    /* A peer or client that closes its end must not kill the node: writes to a
     * closed socket fail with EPIPE instead (libuv leaves SIGPIPE to us). */
    signal(SIGPIPE, SIG_IGN);
    uv_signal_start(&n->sigint, on_signal, SIGINT);
    uv_signal_start(&n->sigterm, on_signal, SIGTERM);
    stop_signals_mask(SIG_UNBLOCK);
    uv_timer_start(&n->gossip_timer, tick, NODE_GOSSIP_MS, NODE_GOSSIP_MS);
    uint64_t scrub_ms = (uint64_t)n->cfg.storage.scrub_interval_s * 1000;
    if (scrub_ms) uv_timer_start(&n->scrub_timer, scrub_tick, scrub_ms, scrub_ms);
    n->last_block_local_ms = (int64_t)node_now_ms(n);
    node_cons_start_height(n, n->has_restore ? &n->restore : NULL);
    replay_messages(n);
    uv_run(&n->loop, UV_RUN_DEFAULT);
    return n->fatal;
}

static void close_cb(uv_handle_t *h) { (void)h; }

static void p2p_closed(void *ud)
{
    struct node *n = ud;
    n->p2p = NULL;
}

static void node_stop(struct node *n)
{
    if (n->stopping) return;
    n->stopping = true;
    if (!n->handles_ok) return;
    node_timers_stop(n);
    for (int i = 0; i < NODE_TIMERS; i++) uv_close((uv_handle_t *)&n->timers[i].timer, close_cb);
    uv_close((uv_handle_t *)&n->gossip_timer, close_cb);
    uv_close((uv_handle_t *)&n->next_height_timer, close_cb);
    uv_close((uv_handle_t *)&n->tx_flush_timer, close_cb);
    uv_close((uv_handle_t *)&n->scrub_timer, close_cb);
    /* Closing the handles restores the default action; with the signals held
     * back meanwhile, one that arrives is discarded by SIG_IGN instead. */
    stop_signals_mask(SIG_BLOCK);
    uv_close((uv_handle_t *)&n->sigint, close_cb);
    uv_close((uv_handle_t *)&n->sigterm, close_cb);
    signal(SIGINT, SIG_IGN);
    signal(SIGTERM, SIG_IGN);
    stop_signals_mask(SIG_UNBLOCK);
    node_rpc_close(n);
    if (n->p2p) p2p_close(n->p2p, p2p_closed, n);
}

void node_close(node_t *n)
{
    if (!n) return;
    if (n->loop_ok) {
        if (n->p2p && !n->stopping) { /* open failed after p2p_new */
            n->stopping = true;
            p2p_close(n->p2p, p2p_closed, n);
        }
        node_rpc_close(n);
        uv_run(&n->loop, UV_RUN_DEFAULT);
        if (uv_loop_close(&n->loop) != 0) log_warn("event loop closed with handles still open");
    }
    node_blocks_clear(n);
    for (int i = 0; i < NODE_SYNC_WINDOW; i++) {
        free(n->sync[i].block);
        free(n->sync[i].commit);
    }
    for (uint32_t i = 0; i < n->n_gossip_msgs; i++) buf_deinit(&n->gossip_msgs[i]);
    for (uint32_t k = 0; k < n->n_replay_msgs; k++)
        buf_deinit(&n->replay_msgs[(n->replay_head + k) % NODE_GOSSIP_MSGS_MAX]);
    free(n->replay_msgs);
    node_txs_gossip_release(n);
    consensus_free(n->cons);
    mempool_free(n->mempool);
    wal_close(n->wal);
    signer_close(n->signer);
    app_free(n->app);
    store_close(n->store);
    commit_free(&n->last_commit);
    free(n->last_commit_votes);
    genesis_deinit(&n->genesis);
    crypto_wipe(&n->val_key, sizeof n->val_key);
    crypto_wipe(&n->node_key, sizeof n->node_key);
    free(n);
    stop_signals_mask(SIG_UNBLOCK); /* held back since node_open if node_run never ran */
}
