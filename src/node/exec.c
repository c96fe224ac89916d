/* exec.c - blocks in the node: building our proposals, validating others',
 * executing decided or synced blocks and saving them atomically, and admitting
 * transactions to the mempool. */
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "node/node_int.h"
#include "node/results.h"
#include "node/rpc_node.h"

known_block *node_block_known(struct node *n, const uint8_t id[static HASH_BYTES])
{
    for (int i = 0; i < CONS_BLOCKS_MAX; i++)
        if (n->known[i].used && !memcmp(n->known[i].id, id, HASH_BYTES)) return &n->known[i];
    return NULL;
}

static void known_release(known_block *k)
{
    if (!k->used) return;
    free(k->raw);
    if (k->status == CONS_BLOCK_VALID) block_free(&k->block);
    memset(k, 0, sizeof *k);
}

void node_blocks_clear(struct node *n)
{
    for (int i = 0; i < CONS_BLOCKS_MAX; i++) known_release(&n->known[i]);
}

/* A free slot; when full, the oldest invalid block goes first, else slot 0. */
/* A free slot; when full, an invalid block goes first, else the oldest block
 * other than the one the core is locked on (rounds long past). */
static known_block *known_slot(struct node *n)
{
    for (int i = 0; i < CONS_BLOCKS_MAX; i++)
        if (!n->known[i].used) return &n->known[i];
    for (int i = 0; i < CONS_BLOCKS_MAX; i++)
        if (n->known[i].status == CONS_BLOCK_INVALID) {
            known_release(&n->known[i]);
            return &n->known[i];
        }
    const uint8_t *locked = n->cons ? consensus_locked_id(n->cons) : NULL;
    known_block *oldest = NULL;
    for (int i = 0; i < CONS_BLOCKS_MAX; i++) {
        known_block *k = &n->known[i];
        if (locked && !memcmp(k->id, locked, HASH_BYTES)) continue;
        if (!oldest || k->seq < oldest->seq) oldest = k;
    }
    if (oldest) known_release(oldest);
    return oldest;
}

static cairn_err known_add(struct node *n, const uint8_t id[static HASH_BYTES], uint8_t status,
                           const uint8_t *raw, size_t len, block_t *b)
{
    known_block *k = known_slot(n);
    if (!k) return CAIRN_ELIMIT;
    k->raw = malloc(len ? len : 1);
    if (!k->raw) return CAIRN_ENOMEM;
    memcpy(k->raw, raw, len);
    k->len = len;
    memcpy(k->id, id, HASH_BYTES);
    k->status = status;
    if (b) k->block = *b; /* ownership moves to the slot */
    k->seq = ++n->known_seq;
    k->used = true;
    return CAIRN_OK;
}

cairn_err node_commit_from_votes(const valset_t *vs, uint64_t height, uint32_t round,
                                 const uint8_t id[static HASH_BYTES], const vote_t *votes,
                                 uint32_t n_votes, commit_t *out)
{
    memset(out, 0, sizeof *out);
    out->height = height;
    out->round = round;
    memcpy(out->block_id, id, HASH_BYTES);
    out->n_sigs = vs->count;
    out->sigs = calloc(vs->count, sizeof *out->sigs);
    if (!out->sigs) return CAIRN_ENOMEM;
    for (uint32_t i = 0; i < vs->count; i++) out->sigs[i].flag = COMMIT_ABSENT;
    for (uint32_t k = 0; k < n_votes; k++) {
        const vote_t *v = &votes[k];
        if (v->validator_index >= vs->count ||
            memcmp(vs->v[v->validator_index].address, v->validator, ADDR_BYTES) != 0 ||
            v->type != VOTE_PRECOMMIT || v->height != height || v->round != round)
            continue;
        bool for_block = !memcmp(v->block_id, id, HASH_BYTES);
        if (!for_block && !vote_is_nil(v)) continue;
        commit_sig_t *s = &out->sigs[v->validator_index];
        s->flag = for_block ? COMMIT_FOR_BLOCK : COMMIT_NIL;
        memcpy(s->validator, v->validator, ADDR_BYTES);
        s->time_ns = v->time_ns;
        memcpy(s->sig, v->sig, SIG_BYTES);
    }
    return CAIRN_OK;
}

cairn_err node_commit_to_votes(const commit_t *c, vote_t **out, uint32_t *n_out)
{
    *out = NULL;
    *n_out = 0;
    if (c->n_sigs == 0) return CAIRN_OK;
    vote_t *v = calloc(c->n_sigs, sizeof *v);
    if (!v) return CAIRN_ENOMEM;
    uint32_t k = 0;
    for (uint32_t i = 0; i < c->n_sigs; i++)
        if (c->sigs[i].flag != COMMIT_ABSENT) commit_sig_to_vote(c, i, &v[k++]);
    *out = v;
    *n_out = k;
    return CAIRN_OK;
}

cairn_err node_block_create(struct node *n, int64_t time_ns, const vote_t *last_commit,
                            uint32_t n_last_commit, uint8_t id_out[static HASH_BYTES])
{
    const chain_state_t *st = &n->st;
    header_t h;
    memset(&h, 0, sizeof h);
    h.version = CHAIN_VERSION;
    h.chain_id = st->chain_id;
    h.height = st->last_height + 1;
    h.time_ns = time_ns;
    memcpy(h.last_block_id, st->last_block_id, HASH_BYTES);
    CAIRN_TRY(valset_hash(&st->validators, h.validators_hash));
    memcpy(h.next_validators_hash, st->next_validators_hash, HASH_BYTES);
    memcpy(h.app_hash, st->app_hash, HASH_BYTES);
    memcpy(h.results_hash, st->last_results_hash, HASH_BYTES);
    memcpy(h.proposer, n->val_address, ADDR_BYTES);

    commit_t lc;
    memset(&lc, 0, sizeof lc);
    if (h.height > 1 && n_last_commit > 0)
        CAIRN_TRY(node_commit_from_votes(&st->last_validators, h.height - 1, last_commit[0].round,
                                         st->last_block_id, last_commit, n_last_commit, &lc));

    /* Leave room for the header, commit and evidence under the block size limit. */
    size_t max_bytes = (size_t)n->genesis.params.block_max_bytes;
    size_t overhead = 4096 + (size_t)VALIDATORS_MAX * 128 + (size_t)n->n_evidence * 512;
    max_bytes = max_bytes > overhead ? max_bytes - overhead : 0;
    size_t cap = mempool_count(n->mempool);
    if (cap > BLOCK_TXS_MAX) cap = BLOCK_TXS_MAX;
    bytes_view *txs = calloc(cap ? cap : 1, sizeof *txs);
    buf_t raw;
    buf_init(&raw, BLOCK_BYTES_MAX + 1);
    block_t b;
    memset(&b, 0, sizeof b);
    cairn_err rc = CAIRN_ENOMEM;
    if (!txs) goto out;
    /* Each tx costs 4 more bytes for its length prefix in the block. */
    size_t n_txs = mempool_reap(n->mempool, max_bytes - max_bytes / 16, cap, txs);
    uint32_t n_ev = n->n_evidence < EVIDENCE_MAX ? n->n_evidence : EVIDENCE_MAX;
    rc = block_assemble(&b, &h, txs, (uint32_t)n_txs, n->evidence, n_ev, &lc);
    if (rc) goto out;
    rc = block_encode(&b, &raw);
    if (rc) goto out;
    rc = header_hash(&b.header, id_out);
    if (rc) goto out;
    rc = known_add(n, id_out, CONS_BLOCK_VALID, raw.data, raw.len, &b);
    if (rc == CAIRN_OK) memset(&b, 0, sizeof b); /* owned by the slot now */
    log_info("created block %llu with %zu txs (%zu bytes)", (unsigned long long)h.height, n_txs,
             raw.len);
out:
    block_free(&b);
    commit_free(&lc);
    buf_deinit(&raw);
    free(txs);
    return rc;
}

/* Everything a block needs beyond block_validate: BFT time and tx signatures. */
static cairn_err validate_more(struct node *n, const block_t *b)
{
    if (b->header.height > 1) {
        vote_t *votes;
        uint32_t nv;
        CAIRN_TRY(node_commit_to_votes(&b->last_commit, &votes, &nv));
        int64_t t;
        cairn_err rc = consensus_median_time(votes, nv, &n->st.last_validators, &t);
        free(votes);
        if (rc) return CAIRN_EBAD_TIME;
        if (t != b->header.time_ns) return CAIRN_EBAD_TIME;
    }
    for (uint32_t i = 0; i < b->n_txs; i++) {
        uint8_t h[HASH_BYTES];
        tx_hash(h, b->txs[i].p, b->txs[i].len);
        if (mempool_sig_cache_has(n->mempool, h)) continue;
        tx_t tx;
        CAIRN_TRY(tx_decode(&tx, b->txs[i].p, b->txs[i].len));
        n->sigs_verified++;
        if (tx_verify(&tx, &n->chain_id) != CAIRN_OK) return CAIRN_EBAD_SIGNATURE;
        mempool_sig_cache_add(n->mempool, h);
    }
    return CAIRN_OK;
}

uint8_t node_block_receive(struct node *n, const uint8_t *raw, size_t len,
                           const uint8_t id[static HASH_BYTES])
{
    known_block *k = node_block_known(n, id);
    if (k) return k->status;
    block_t b;
    uint8_t hid[HASH_BYTES];
    cairn_err rc = block_decode(&b, raw, len);
    if (rc) {
        log_warn("proposed block does not decode: %s", cairn_strerror(rc));
        return CONS_BLOCK_INVALID;
    }
    rc = header_hash(&b.header, hid);
    if (rc == CAIRN_OK && memcmp(hid, id, HASH_BYTES) != 0) rc = CAIRN_EBAD_HASH;
    if (rc == CAIRN_OK) rc = block_validate(&b, &n->st);
    if (rc == CAIRN_OK) rc = validate_more(n, &b);
    uint8_t status = rc == CAIRN_OK ? CONS_BLOCK_VALID : CONS_BLOCK_INVALID;
    if (rc) log_warn("block %llu is invalid: %s", (unsigned long long)b.header.height, cairn_strerror(rc));
    cairn_err kept = known_add(n, id, status, raw, len, status == CONS_BLOCK_VALID ? &b : NULL);
    if (kept == CAIRN_OK && status == CONS_BLOCK_VALID) return status; /* b is owned by the slot */
    block_free(&b);
    /* VALID means "held and valid" (the core may decide or re-propose it). */
    return kept == CAIRN_OK ? status : CONS_BLOCK_UNKNOWN;
}

static bool recheck_keep(void *ctx, const uint8_t *raw, size_t len)
{
    struct node *n = ctx;
    app_result_t res;
    return app_check_tx(n->app, raw, len, APP_TX_SIG_VERIFIED, &res) == CAIRN_OK &&
           res.code == APP_CODE_OK;
}

static void evidence_forget_included(struct node *n, const block_t *b)
{
    for (uint32_t i = 0; i < b->n_evidence; i++)
        for (uint32_t k = 0; k < n->n_evidence; k++)
            if (!memcmp(&n->evidence[k], &b->evidence[i], sizeof(evidence_t))) {
                n->evidence[k] = n->evidence[--n->n_evidence];
                break;
            }
}

#define PRUNE_PER_BLOCK 16

/* storage.keep_state_heights = K: saving block h forgets the state of heights
 * below h - K + 1, in the block's own write batch. A backlog (pruning turned
 * on for a node with a long history) goes PRUNE_PER_BLOCK heights per block.
 * app_prune(v) reads v's stale list from the store, so v <= h - 1 (K >= 2). */
static cairn_err prune_state(struct node *n, uint64_t height, kv_batch *batch)
{
    uint64_t keep = n->cfg.storage.keep_state_heights;
    if (keep < 2 || height <= keep) return CAIRN_OK;
    uint64_t last = height - keep + 1;
    for (int i = 0; i < PRUNE_PER_BLOCK && n->prune_next <= last; i++, n->prune_next++) {
        cairn_err rc = app_prune(n->app, n->prune_next, batch);
        if (rc != CAIRN_OK && rc != CAIRN_ENOT_FOUND) return rc; /* NOT_FOUND: nothing stale */
    }
    return CAIRN_OK;
}

cairn_err node_block_apply(struct node *n, const uint8_t *raw, size_t len, const block_t *b,
                           const uint8_t id[static HASH_BYTES], const commit_t *commit)
{
    const header_t *h = &b->header;
    CAIRN_ASSERTF(h->height == n->st.last_height + 1, "apply %llu after %llu",
                  (unsigned long long)h->height, (unsigned long long)n->st.last_height);
    uint32_t nt = b->n_txs;
    buf_t *recs = calloc(nt ? nt : 1, sizeof *recs);
    bytes_view *views = calloc(nt ? nt : 1, sizeof *views);
    uint8_t(*leaves)[HASH_BYTES] = calloc(nt ? nt : 1, HASH_BYTES);
    kv_batch batch;
    kv_batch_init(&batch);
    buf_t commit_raw, st_raw;
    buf_init(&commit_raw, 0);
    buf_init(&st_raw, 0);
    chain_state_t *next = malloc(sizeof *next);
    cairn_err rc = CAIRN_ENOMEM;
    bool began = false; /* the application is inside the block */
    if (!recs || !views || !leaves || !next) goto out;
    for (uint32_t i = 0; i < nt; i++) buf_init(&recs[i], 0);

    rc = app_begin_block(n->app, h);
    began = rc == CAIRN_OK;
    for (uint32_t i = 0; rc == CAIRN_OK && i < nt; i++) {
        uint8_t th[HASH_BYTES];
        tx_hash(th, b->txs[i].p, b->txs[i].len);
        unsigned flags = mempool_sig_cache_has(n->mempool, th) ? APP_TX_SIG_VERIFIED : 0;
        app_result_t res;
        rc = app_deliver_tx(n->app, b->txs[i].p, b->txs[i].len, flags, &res);
        if (rc) break;
        buf_t leaf;
        buf_init(&leaf, 64);
        rc = app_result_encode(&res, &leaf);
        if (rc == CAIRN_OK) merkle_leaf_hash(leaves[i], leaf.data, leaf.len);
        buf_deinit(&leaf);
        if (rc == CAIRN_OK) rc = result_record_encode(&res, &recs[i]);
        views[i].p = recs[i].data;
        views[i].len = recs[i].len;
    }
    size_t n_updates = 0;
    app_validator_update_t updates[4];
    if (rc == CAIRN_OK) rc = app_end_block(n->app, h->height, updates, 4, &n_updates);
    if (rc == CAIRN_OK && n_updates) {
        log_error("the application returned validator updates; this version does not apply them");
        rc = CAIRN_EUNSUPPORTED;
    }
    *next = n->st;
    uint8_t app_hash[HASH_BYTES], results_hash[HASH_BYTES];
    if (rc == CAIRN_OK) rc = app_commit(n->app, app_hash, &batch);
    if (rc == CAIRN_OK) rc = prune_state(n, h->height, &batch);
    if (rc == CAIRN_OK)
        rc = merkle_root_from_hashes(results_hash, (const uint8_t(*)[HASH_BYTES])leaves, nt);
    if (rc == CAIRN_OK) rc = chain_state_advance(next, h, app_hash, results_hash);
    if (rc) goto out;
    rc = commit_encode(commit, &commit_raw);
    if (rc == CAIRN_OK) rc = chain_state_encode(next, &st_raw);
    if (rc) goto out;

    store_block_save_args a = {
        .block_raw = raw, .block_len = len, .block = b, .block_id = id,
        .commit_raw = commit_raw.data, .commit_len = commit_raw.len,
        .tx_results = views, .n_tx_results = nt, .block_result = NULL, .block_result_len = 0,
        .state = &batch, .app_hash = next->app_hash,
        .chain_state = st_raw.data, .chain_state_len = st_raw.len,
    };
    rc = store_block_save(n->store, &a);
    if (rc) {
        /* The application moved on in memory but the disk did not: stop rather
         * than serve a state nobody can reproduce after a restart. */
        node_fatal(n, "saving the block", rc);
        goto out;
    }
    n->st = *next;
    commit_free(&n->last_commit);
    free(n->last_commit_votes);
    n->last_commit_votes = NULL;
    n->n_last_commit_votes = 0;
    rc = commit_decode(&n->last_commit, commit_raw.data, commit_raw.len);
    if (rc == CAIRN_OK) rc = node_commit_to_votes(&n->last_commit, &n->last_commit_votes,
                                                  &n->n_last_commit_votes);
    if (rc) {
        node_fatal(n, "keeping the last commit", rc);
        goto out;
    }
    n->txs_committed += nt;
    n->last_block_local_ms = (int64_t)node_now_ms(n);
    evidence_forget_included(n, b);
    mempool_update(n->mempool, b->txs, nt, n->cfg.mempool.recheck ? recheck_keep : NULL, n);
    /* A WAL ahead of the store (the store was rebuilt from peers, node.c
     * rebuild_store) already closed the heights block sync now refills. */
    if (n->wal && h->height > wal_last_height(n->wal) &&
        wal_end_height(n->wal, h->height) != CAIRN_OK)
        node_fatal(n, "marking the end of a height in the WAL", CAIRN_EIO);
    /* Older heights are in the store now: their WAL segments can go. */
    if (n->wal && wal_truncate_before(n->wal, h->height, NULL) != CAIRN_OK)
        log_warn("could not delete old WAL segments");
    log_info("committed block %llu (%u txs) app hash %02X%02X%02X%02X...", (unsigned long long)h->height,
             nt, n->st.app_hash[0], n->st.app_hash[1], n->st.app_hash[2], n->st.app_hash[3]);
    node_rpc_block_committed(n, b, id, views, nt);
    node_blocks_clear(n); /* b may live in a known slot: last use above */
out:
    /* Once the application began the block there is no undo: stop rather than
     * run the next block on a half-applied state. */
    if (rc && began && !n->stopping) node_fatal(n, "executing a block", rc);
    if (recs)
        for (uint32_t i = 0; i < nt; i++) buf_deinit(&recs[i]);
    free(recs);
    free(views);
    free(leaves);
    free(next);
    kv_batch_deinit(&batch);
    buf_deinit(&commit_raw);
    buf_deinit(&st_raw);
    return rc;
}

/* ------------------------------------------------------------------ tx gossip */

/* Admitted txs leave in batches: one message per NODE_TX_FLUSH_MS or per
 * MSG_TXS_MAX txs, instead of one message per tx. */
static void txs_gossip_flush(struct node *n)
{
    if (n->n_out_txs == 0) return;
    msg_t *m = malloc(sizeof *m);
    buf_t out;
    buf_init(&out, 0);
    if (m) {
        m->kind = MSG_TXS;
        m->u.txs.count = n->n_out_txs;
        for (uint32_t i = 0; i < n->n_out_txs; i++) m->u.txs.txs[i] = n->out_txs[i];
        if (msg_encode(m, &out) == CAIRN_OK) p2p_broadcast(n->p2p, CH_MEMPOOL, out.data, out.len, NULL);
    }
    for (uint32_t i = 0; i < n->n_out_txs; i++) free((void *)n->out_txs[i].p);
    n->n_out_txs = 0;
    buf_deinit(&out);
    free(m);
}

static void txs_flush_cb(uv_timer_t *t) { txs_gossip_flush(t->data); }

static void txs_gossip_queue(struct node *n, const uint8_t *raw, size_t len)
{
    uint8_t *copy = malloc(len ? len : 1);
    if (!copy) return;
    memcpy(copy, raw, len);
    n->out_txs[n->n_out_txs].p = copy;
    n->out_txs[n->n_out_txs].len = len;
    if (++n->n_out_txs == MSG_TXS_MAX) txs_gossip_flush(n);
    else if (!uv_is_active((uv_handle_t *)&n->tx_flush_timer))
        uv_timer_start(&n->tx_flush_timer, txs_flush_cb, NODE_TX_FLUSH_MS, 0);
}

void node_txs_gossip_release(struct node *n)
{
    for (uint32_t i = 0; i < n->n_out_txs; i++) free((void *)n->out_txs[i].p);
    n->n_out_txs = 0;
}

/* ------------------------------------------------------------------ verification off the loop */

/* Transactions whose signatures are checked on libuv's thread pool, a batch from
 * a peer or one from a client. The work function reads only its job and the
 * chain id (immutable). Jobs finish in any order but are carried out in the
 * order they were submitted (jobs_head..jobs_tail): a sender's nonces that
 * arrived in order are admitted in order, whichever core checked them first. */
typedef struct verify_job {
    uv_work_t req;
    struct node *n;
    struct verify_job *next; /* submission order */
    bool finished;
    int status;
    uint32_t count;
    bytes_view *txs;
    uint8_t *ok;    /* in: 1 if the signature is already known good; out: verdict */
    uint8_t *mem;   /* the tx bytes */
    size_t bytes;
    node_verified_cb done_cb; /* a client tx: tell the caller instead of admitting */
    void *done_ctx;
    char peer_id[P2P_ID_HEX_LEN + 1]; /* gossip: who sent it ("" for a client tx) */
} verify_job;

static void job_free(verify_job *j)
{
    if (!j) return;
    free(j->mem);
    free(j->txs);
    free(j->ok);
    free(j);
}

static void verify_work(uv_work_t *req)
{
    verify_job *j = req->data;
    for (uint32_t i = 0; i < j->count; i++) {
        if (j->ok[i]) continue;
        tx_t tx;
        j->ok[i] = tx_decode(&tx, j->txs[i].p, j->txs[i].len) == CAIRN_OK &&
                   tx_verify(&tx, &j->n->chain_id) == CAIRN_OK;
    }
}

static void job_carry_out(struct node *n, verify_job *j)
{
    bool usable = j->status == 0 && !n->stopping;
    for (uint32_t i = 0; i < j->count && usable; i++) {
        if (!j->ok[i]) continue;
        uint8_t h[HASH_BYTES];
        tx_hash(h, j->txs[i].p, j->txs[i].len);
        mempool_sig_cache_add(n->mempool, h);
    }
    if (j->done_cb) {
        j->done_cb(j->done_ctx, usable && j->ok[0]);
        return;
    }
    uint32_t bad = 0;
    for (uint32_t i = 0; i < j->count && usable; i++) {
        app_result_t res;
        if (!j->ok[i]) bad++;
        else if (node_tx_admit(n, j->txs[i].p, j->txs[i].len, &res) != CAIRN_OK) n->txs_rejected++;
    }
    n->txs_rejected_sig += bad;
    if (bad && j->peer_id[0] && n->p2p) { /* once per message: it is one offence */
        p2p_peer_t *peers[64];
        size_t np = p2p_peers(n->p2p, peers, 64);
        for (size_t i = 0; i < np; i++)
            if (!strcmp(p2p_peer_id(peers[i]), j->peer_id)) {
                log_info("peer %s gossiped %u transactions that do not decode or verify",
                         j->peer_id, bad);
                p2p_peer_report(peers[i], P2P_REPORT_BAD_SIGNATURE);
            }
    }
}

static void verify_done(uv_work_t *req, int status)
{
    verify_job *j = req->data;
    struct node *n = j->n;
    j->finished = true;
    j->status = status;
    while (n->jobs_head && n->jobs_head->finished) {
        verify_job *head = n->jobs_head;
        n->jobs_head = head->next;
        if (!n->jobs_head) n->jobs_tail = NULL;
        n->verify_jobs--;
        n->verify_bytes -= head->bytes;
        n->sigs_verified += head->count;
        job_carry_out(n, head);
        job_free(head);
    }
}

/* A job for `count` transactions of `bytes` in all; NULL when out of memory,
 * stopping, or when NODE_VERIFY_JOBS_MAX jobs or NODE_VERIFY_BYTES_MAX bytes
 * are already waiting. */
static verify_job *job_new(struct node *n, uint32_t count, size_t bytes)
{
    if (n->stopping || n->verify_jobs >= NODE_VERIFY_JOBS_MAX ||
        bytes > NODE_VERIFY_BYTES_MAX - n->verify_bytes)
        return NULL;
    verify_job *j = calloc(1, sizeof *j);
    if (!j) return NULL;
    j->mem = malloc(bytes ? bytes : 1);
    j->txs = calloc(count ? count : 1, sizeof *j->txs);
    j->ok = calloc(count ? count : 1, 1);
    if (!j->mem || !j->txs || !j->ok) {
        job_free(j);
        return NULL;
    }
    j->n = n;
    j->req.data = j;
    return j;
}

static void job_add_tx(verify_job *j, const uint8_t *raw, size_t len, bool known_good)
{
    memcpy(j->mem + j->bytes, raw, len);
    j->txs[j->count].p = j->mem + j->bytes;
    j->txs[j->count].len = len;
    j->ok[j->count] = known_good;
    j->count++;
    j->bytes += len;
}

static bool job_queue(struct node *n, verify_job *j)
{
    if (uv_queue_work(&n->loop, &j->req, verify_work, verify_done) != 0) {
        job_free(j);
        return false;
    }
    if (n->jobs_tail) n->jobs_tail->next = j;
    else n->jobs_head = j;
    n->jobs_tail = j;
    n->verify_jobs++;
    n->verify_bytes += j->bytes;
    return true;
}

void node_txs_from_peer(struct node *n, p2p_peer_t *peer, const bytes_view *txs,
                        uint32_t count)
{
    size_t total = 0;
    for (uint32_t i = 0; i < count; i++) total += txs[i].len;
    verify_job *j = job_new(n, count, total);
    if (!j) {
        n->txs_rejected += count; /* overloaded: the peer's gossip is dropped */
        return;
    }
    for (uint32_t i = 0; i < count; i++) {
        uint8_t h[HASH_BYTES];
        tx_hash(h, txs[i].p, txs[i].len);
        if (mempool_precheck(n->mempool, h, txs[i].len) != CAIRN_OK) continue;
        job_add_tx(j, txs[i].p, txs[i].len, mempool_sig_cache_has(n->mempool, h));
    }
    if (j->count == 0) {
        job_free(j);
        return;
    }
    snprintf(j->peer_id, sizeof j->peer_id, "%s", p2p_peer_id(peer));
    uint32_t queued = j->count;
    if (!job_queue(n, j)) n->txs_rejected += queued; /* j is freed */
}

bool node_verify_submit(struct node *n, const uint8_t *raw, size_t len, node_verified_cb cb,
                        void *ctx)
{
    uint8_t h[HASH_BYTES];
    tx_hash(h, raw, len);
    bool known = mempool_sig_cache_has(n->mempool, h);
    if (known && !n->jobs_head && !n->stopping) { /* nothing to check, nothing to wait for */
        cb(ctx, true);
        return true;
    }
    verify_job *j = job_new(n, 1, len);
    if (!j) return false;
    job_add_tx(j, raw, len, known);
    j->done_cb = cb;
    j->done_ctx = ctx;
    return job_queue(n, j);
}

/* ------------------------------------------------------------------ admission */

cairn_err node_tx_admit(struct node *n, const uint8_t *raw, size_t len, app_result_t *res)
{
    memset(res, 0, sizeof *res);
    uint8_t h[HASH_BYTES];
    tx_hash(h, raw, len);
    CAIRN_TRY(mempool_precheck(n->mempool, h, len));
    tx_t tx;
    if (tx_decode(&tx, raw, len) != CAIRN_OK) {
        res->code = APP_CODE_BAD_ENCODING;
        snprintf(res->log, sizeof res->log, "%s", app_code_str(res->code));
        return CAIRN_EBAD_TX;
    }
    if (!mempool_sig_cache_has(n->mempool, h)) {
        n->sigs_verified++;
        if (tx_verify(&tx, &n->chain_id) != CAIRN_OK) {
            res->code = APP_CODE_BAD_SIGNATURE;
            snprintf(res->log, sizeof res->log, "%s", app_code_str(res->code));
            return CAIRN_EBAD_SIGNATURE;
        }
        mempool_sig_cache_add(n->mempool, h);
    }
    CAIRN_TRY(app_check_tx(n->app, raw, len, APP_TX_SIG_VERIFIED, res));
    if (res->code != APP_CODE_OK) return CAIRN_EBAD_TX;
    CAIRN_TRY(mempool_add(n->mempool, raw, len, h));
    txs_gossip_queue(n, raw, len);
    node_maybe_start_next(n);
    return CAIRN_OK;
}
