/* repair.c - the node repairs damaged heights of its own store from its peers
 * while it keeps serving (DESIGN.md s.7, docs/storage.md "Repair").
 *
 * Damage is learnt from the background scrub's report and from reads that fail
 * with CAIRN_ECORRUPT (RPC, block sync serving a peer, repair serving a peer).
 * A damaged height waits in a bounded, deduplicated queue; meanwhile every read
 * of it keeps failing, so nothing damaged is served. Heights are repaired from
 * the highest down, so header h+1 (whose last_block_id and results_hash vouch
 * for height h) is whole before h is checked against it.
 *
 * Invariants:
 *  1. Nothing from a peer is written unless repair_answer_verify accepted it
 *     (commit signed by > 2/3 of the validators, the chain's own block id and
 *     results hash for the height) and store_height_repair's own checks pass.
 *  2. A peer whose answer fails is not asked again for that height until every
 *     other peer was; it is counted and reported to p2p.
 *  3. At most NODE_REPAIR_IN_FLIGHT requests are out, one per height; each is
 *     forgotten after NODE_REPAIR_TIMEOUT_MS or when its peer goes down.
 *  4. A peer is served at most NODE_REPAIR_SERVE_PER_SEC requests a second.
 *
 * Threads: the node's loop thread only (it writes the store).
 */
#include "node/repair.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "node/node_int.h"
#include "node/results.h"

/* ------------------------------------------------------------------ verification */

static cairn_err block_part_check(const repair_expect *e, const block_t *b,
                                  uint8_t id[HASH_BYTES])
{
    if (b->header.height != e->height) return CAIRN_EBAD_HEIGHT;
    if (!chain_id_equal(&b->header.chain_id, e->chain_id)) return CAIRN_EBAD_CHAIN_ID;
    uint8_t x[HASH_BYTES];
    CAIRN_TRY(block_data_hash(b, x));
    if (memcmp(x, b->header.data_hash, HASH_BYTES) != 0) return CAIRN_EBAD_HASH;
    CAIRN_TRY(block_evidence_hash(b, x));
    if (memcmp(x, b->header.evidence_hash, HASH_BYTES) != 0) return CAIRN_EBAD_HASH;
    CAIRN_TRY(commit_hash(&b->last_commit, x));
    if (memcmp(x, b->header.last_commit_hash, HASH_BYTES) != 0) return CAIRN_EBAD_HASH;
    CAIRN_TRY(valset_hash(e->validators, x));
    if (memcmp(x, b->header.validators_hash, HASH_BYTES) != 0) return CAIRN_EBAD_HASH;
    CAIRN_TRY(header_hash(&b->header, id));
    if (e->block_id && memcmp(id, e->block_id, HASH_BYTES) != 0) return CAIRN_EBAD_HASH;
    return CAIRN_OK;
}

static cairn_err commit_part_check(const repair_expect *e, const uint8_t id[HASH_BYTES],
                                   const uint8_t *commit, size_t commit_len)
{
    commit_t c;
    memset(&c, 0, sizeof c);
    if (commit_decode(&c, commit, commit_len) != CAIRN_OK) return CAIRN_EBAD_COMMIT;
    cairn_err rc = CAIRN_OK;
    if (c.height != e->height || memcmp(c.block_id, id, HASH_BYTES) != 0) rc = CAIRN_EBAD_COMMIT;
    if (rc == CAIRN_OK) rc = commit_verify(&c, e->chain_id, e->validators, e->height, id);
    commit_free(&c);
    return rc;
}

/* One result record: canonical, and its consensus part's Merkle leaf. */
static cairn_err result_leaf(const bytes_view *rec, app_result_t *tmp, buf_t *scratch,
                             uint8_t leaf[HASH_BYTES])
{
    if (result_record_decode(tmp, rec->p, rec->len) != CAIRN_OK) return CAIRN_EBAD_ENCODING;
    buf_reset(scratch);
    CAIRN_TRY(result_record_encode(tmp, scratch));
    if (scratch->len != rec->len || memcmp(scratch->data, rec->p, rec->len) != 0)
        return CAIRN_EBAD_ENCODING;
    buf_reset(scratch);
    CAIRN_TRY(app_result_encode(tmp, scratch));
    merkle_leaf_hash(leaf, scratch->data, scratch->len);
    return CAIRN_OK;
}

static cairn_err results_part_check(const repair_expect *e, const block_t *b,
                                    const uint8_t *results, size_t results_len)
{
    store_results_t r;
    cairn_err rc = store_results_decode(results, results_len, &r);
    if (rc == CAIRN_ENOMEM) return rc;
    if (rc != CAIRN_OK) return CAIRN_EBAD_ENCODING;
    uint8_t(*leaves)[HASH_BYTES] = NULL;
    app_result_t *tmp = NULL;
    buf_t scratch;
    buf_init(&scratch, 1 << 20);
    if (r.n_tx != b->n_txs || r.block.len != 0) {
        rc = CAIRN_EBAD_ENCODING;
        goto out;
    }
    leaves = calloc(r.n_tx ? r.n_tx : 1, HASH_BYTES);
    tmp = malloc(sizeof *tmp);
    if (!leaves || !tmp) {
        rc = CAIRN_ENOMEM;
        goto out;
    }
    for (uint32_t i = 0; i < r.n_tx && rc == CAIRN_OK; i++)
        rc = result_leaf(&r.tx[i], tmp, &scratch, leaves[i]);
    uint8_t root[HASH_BYTES];
    if (rc == CAIRN_OK)
        rc = merkle_root_from_hashes(root, (const uint8_t(*)[HASH_BYTES])leaves, r.n_tx);
    if (rc == CAIRN_OK && memcmp(root, e->results_hash, HASH_BYTES) != 0) rc = CAIRN_EBAD_HASH;
out:
    free(leaves);
    free(tmp);
    buf_deinit(&scratch);
    store_results_free(&r);
    return rc;
}

cairn_err repair_answer_verify(const repair_expect *e, const uint8_t *block, size_t block_len,
                               const uint8_t *commit, size_t commit_len,
                               const uint8_t *results, size_t results_len)
{
    if (!e || !e->chain_id || !e->validators || !e->results_hash) return CAIRN_EINVALID_ARG;
    block_t b;
    memset(&b, 0, sizeof b);
    if (!block || block_decode(&b, block, block_len) != CAIRN_OK) return CAIRN_EBAD_BLOCK;
    uint8_t id[HASH_BYTES];
    cairn_err rc = block_part_check(e, &b, id);
    if (rc == CAIRN_OK) rc = commit_part_check(e, id, commit, commit_len);
    if (rc == CAIRN_OK) rc = results_part_check(e, &b, results, results_len);
    block_free(&b);
    return rc;
}

/* ------------------------------------------------------------------ the queue */

static const char *const OUTCOME_NAMES[REPAIR_OUT__COUNT] = {
    [REPAIR_OUT_REPAIRED] = "repaired",     [REPAIR_OUT_BAD_ANSWER] = "bad_answer",
    [REPAIR_OUT_UNAVAILABLE] = "unavailable", [REPAIR_OUT_TIMEOUT] = "timeout",
    [REPAIR_OUT_FAILED] = "failed",         [REPAIR_OUT_DROPPED] = "dropped",
    [REPAIR_OUT_INDEX_REBUILT] = "state_index_rebuilt",
};

const char *node_repair_outcome_name(repair_outcome o)
{
    return (unsigned)o < REPAIR_OUT__COUNT ? OUTCOME_NAMES[o] : "?";
}

static repair_item *item_of(struct node *n, uint64_t h)
{
    for (uint32_t i = 0; i < NODE_REPAIR_QUEUE_MAX && h; i++)
        if (n->repair.q[i].height == h) return &n->repair.q[i];
    return NULL;
}

static void item_remove(struct node *n, repair_item *it)
{
    memset(it, 0, sizeof *it);
    n->repair.n--;
}

static bool height_bound(store_cf cf)
{
    return cf == STORE_CF_BLOCKS || cf == STORE_CF_BLOCK_HASH || cf == STORE_CF_COMMITS ||
           cf == STORE_CF_TX_INDEX || cf == STORE_CF_RESULTS;
}

void node_repair_note(struct node *n, uint64_t h, const char *source)
{
    if (h == 0 || h < store_base_height(n->store) || h > store_height(n->store)) return;
    if (item_of(n, h)) return;
    if (n->repair.n >= NODE_REPAIR_QUEUE_MAX) {
        if (n->repair.count[REPAIR_OUT_DROPPED]++ == 0)
            log_warn("repair: queue full (%d heights); height %llu waits for a later scrub",
                     NODE_REPAIR_QUEUE_MAX, (unsigned long long)h);
        return;
    }
    repair_item *it = NULL;
    for (uint32_t i = 0; i < NODE_REPAIR_QUEUE_MAX && !it; i++)
        if (!n->repair.q[i].height) it = &n->repair.q[i];
    CAIRN_ASSERT(it != NULL);
    memset(it, 0, sizeof *it);
    it->height = h;
    it->queued_ms = it->next_try_ms = node_now_ms(n);
    snprintf(it->source, sizeof it->source, "%s", source);
    n->repair.n++;
    log_warn("repair: height %llu is damaged in the store (found by %s); queued for repair "
             "from peers (%u waiting)",
             (unsigned long long)h, source, n->repair.n);
}

void node_repair_note_commit_sigs(struct node *n, uint64_t h)
{
    node_repair_note(n, h, "scrub");
    repair_item *it = item_of(n, h);
    if (it) it->commit_sigs = true;
}

cairn_err node_seen_commit_check(store_t *st, const chain_id_t *cid, const valset_t *vs,
                                 uint64_t h)
{
    commit_t c;
    cairn_err rc = store_commit_get(st, h, &c);
    if (rc) return rc;
    rc = commit_verify(&c, cid, vs, h, c.block_id);
    commit_free(&c);
    return rc;
}

void node_repair_from_scrub(struct node *n, const store_scrub_report *rep)
{
    uint64_t other = 0, unlisted = rep->damaged > rep->n_entries ? rep->damaged - rep->n_entries : 0;
    for (uint32_t i = 0; i < rep->n_entries; i++) {
        const store_damage_t *d = &rep->entries[i];
        if (height_bound(d->cf) && d->height) node_repair_note(n, d->height, "scrub");
        else other++;
    }
    n->repair.state_damaged = other;
    if (other)
        log_error("repair: %llu damaged records are not bound to a height (meta, state, "
                  "evidence, stray index entries): they are not repaired automatically "
                  "(docs/operations.md)",
                  (unsigned long long)other);
    if (unlisted)
        log_warn("repair: %llu more damaged records were not listed by this scrub; a later "
                 "scrub finds them", (unsigned long long)unlisted);
    node_repair_tick(n);
}

static bool tried(const repair_item *it, const char *id)
{
    for (uint32_t i = 0; i < it->n_tried; i++)
        if (!strcmp(it->tried[i], id)) return true;
    return false;
}

static void mark_tried(repair_item *it, p2p_peer_t *peer)
{
    if (it->n_tried < NODE_REPAIR_TRIED_MAX && !tried(it, p2p_peer_id(peer)))
        snprintf(it->tried[it->n_tried++], NODE_PEER_ID_MAX, "%s", p2p_peer_id(peer));
    it->peer = NULL;
}

/* The connected peer that says it stores h, has not failed it, and has the
 * fewest of our repair requests; ties go round-robin, so that no one peer's
 * serving limit (NODE_REPAIR_SERVE_PER_SEC) paces a long repair. */
static p2p_peer_t *pick_peer(struct node *n, const repair_item *it)
{
    p2p_peer_t *peers[64], *best = NULL;
    uint32_t best_load = UINT32_MAX;
    size_t np = p2p_peers(n->p2p, peers, 64);
    if (np > 64) np = 64;
    uint32_t start = np ? n->repair.next_peer++ % (uint32_t)np : 0;
    for (size_t j = 0; j < np; j++) {
        size_t i = (start + j) % np;
        peer_info *pi = p2p_peer_data(peers[i]);
        if (!pi || pi->base > it->height || pi->height < it->height) continue;
        if (tried(it, p2p_peer_id(peers[i]))) continue;
        uint32_t load = 0;
        for (uint32_t k = 0; k < NODE_REPAIR_QUEUE_MAX; k++)
            load += n->repair.q[k].peer == peers[i];
        if (load < best_load) {
            best = peers[i];
            best_load = load;
        }
    }
    return best;
}

static void send_msg(p2p_peer_t *peer, const msg_t *m)
{
    buf_t b;
    buf_init(&b, BLOCK_BYTES_MAX + MSG_RESULTS_BYTES_MAX + 65536);
    cairn_err rc = msg_encode(m, &b);
    if (rc == CAIRN_OK) rc = p2p_send(peer, CH_REPAIR, b.data, b.len);
    if (rc != CAIRN_OK)
        log_debug("repair: could not send to %s: %s", p2p_peer_id(peer), cairn_strerror(rc));
    buf_deinit(&b);
}

/* Whether h still needs a peer: its own records are damaged. Damage found on
 * another height (block h+1's link) is queued for that height. */
static bool still_damaged(struct node *n, repair_item *it)
{
    store_damage_t d[16];
    uint32_t nd = 0;
    cairn_err rc = store_height_check(n->store, it->height, d, 16, &nd);
    if (rc == CAIRN_OK && it->commit_sigs) /* validator sets do not change in cairn yet */
        return node_seen_commit_check(n->store, &n->chain_id, &n->st.validators, it->height) !=
               CAIRN_OK;
    if (rc == CAIRN_OK || rc == CAIRN_ENOT_FOUND) return false;
    if (rc != CAIRN_ECORRUPT) return true; /* cannot tell now: keep it */
    bool own = nd > 16;
    for (uint32_t i = 0; i < nd && i < 16; i++) {
        if (d[i].height == it->height) own = true;
        else if (d[i].height) node_repair_note(n, d[i].height, "read");
    }
    return own;
}

static void ask(struct node *n, repair_item *it, uint64_t now)
{
    p2p_peer_t *peer = pick_peer(n, it);
    if (!peer) {
        if (it->n_tried) { /* every peer failed it: start over after a pause */
            it->n_tried = 0;
            it->next_try_ms = now + NODE_REPAIR_RETRY_MS;
        }
        return;
    }
    it->peer = peer;
    it->sent_ms = now;
    it->attempts++;
    msg_t m;
    m.kind = MSG_REPAIR_REQUEST;
    m.u.request.height = it->height;
    send_msg(peer, &m);
    log_info("repair: asking peer %s for height %llu", p2p_peer_id(peer),
             (unsigned long long)it->height);
}

/* The highest waiting height not asked yet whose next height is not waiting. */
static repair_item *next_to_ask(struct node *n, uint64_t now)
{
    repair_item *best = NULL;
    for (uint32_t i = 0; i < NODE_REPAIR_QUEUE_MAX; i++) {
        repair_item *it = &n->repair.q[i];
        if (!it->height || it->peer || it->next_try_ms > now) continue;
        if (item_of(n, it->height + 1)) continue; /* h+1 vouches for h: it goes first */
        if (!best || it->height > best->height) best = it;
    }
    return best;
}

void node_repair_tick(struct node *n)
{
    if (n->stopping || !n->p2p || !n->repair.n) return;
    uint64_t now = node_now_ms(n);
    uint32_t in_flight = 0;
    for (uint32_t i = 0; i < NODE_REPAIR_QUEUE_MAX; i++) {
        repair_item *it = &n->repair.q[i];
        if (!it->height || !it->peer) continue;
        if (now - it->sent_ms > NODE_REPAIR_TIMEOUT_MS) {
            log_warn("repair: peer %s did not answer for height %llu in time",
                     p2p_peer_id(it->peer), (unsigned long long)it->height);
            n->repair.count[REPAIR_OUT_TIMEOUT]++;
            mark_tried(it, it->peer);
        } else {
            in_flight++;
        }
    }
    /* Bounded: each pass asks, drops or postpones one item, and a tick looks
     * at no more than NODE_REPAIR_EXAMINE_PER_TICK of them (each costs a check
     * of the height's records). */
    for (uint32_t k = 0; k < NODE_REPAIR_EXAMINE_PER_TICK && in_flight < NODE_REPAIR_IN_FLIGHT;
         k++) {
        repair_item *it = next_to_ask(n, now);
        if (!it) break;
        if (!still_damaged(n, it)) {
            log_info("repair: height %llu is intact again; nothing to fetch",
                     (unsigned long long)it->height);
            item_remove(n, it);
            continue;
        }
        ask(n, it, now);
        if (it->peer) in_flight++;
        else if (it->next_try_ms <= now) it->next_try_ms = now + NODE_REPAIR_RETRY_MS;
    }
}

void node_repair_peer_down(struct node *n, p2p_peer_t *peer)
{
    for (uint32_t i = 0; i < NODE_REPAIR_QUEUE_MAX; i++)
        if (n->repair.q[i].height && n->repair.q[i].peer == peer) n->repair.q[i].peer = NULL;
}

/* ------------------------------------------------------------------ serving */

static void serve(struct node *n, p2p_peer_t *peer, uint64_t h)
{
    peer_info *pi = p2p_peer_data(peer);
    msg_t m;
    m.kind = MSG_REPAIR_NONE;
    m.u.repair_none.height = h;
    m.u.repair_none.reason = REPAIR_NONE_BUSY;
    if (pi->repair_served >= NODE_REPAIR_SERVE_PER_SEC) {
        send_msg(peer, &m);
        return;
    }
    pi->repair_served++;
    buf_t block, commit, results;
    buf_init(&block, BLOCK_BYTES_MAX + 1);
    buf_init(&commit, 0);
    buf_init(&results, MSG_RESULTS_BYTES_MAX);
    cairn_err rc = store_block_get_raw(n->store, h, &block, NULL);
    if (rc == CAIRN_OK) rc = store_commit_get_raw(n->store, h, &commit);
    if (rc == CAIRN_OK) rc = store_results_get_raw(n->store, h, &results);
    if (rc == CAIRN_OK) {
        m.kind = MSG_REPAIR_RESPONSE;
        m.u.repair.height = h;
        m.u.repair.block = block.data;
        m.u.repair.block_len = (uint32_t)block.len;
        m.u.repair.commit = commit.data;
        m.u.repair.commit_len = (uint32_t)commit.len;
        m.u.repair.results = results.data;
        m.u.repair.results_len = (uint32_t)results.len;
    } else if (rc == CAIRN_ECORRUPT) {
        log_error("repair: height %llu asked by %s is damaged here too; not served",
                  (unsigned long long)h, p2p_peer_id(peer));
        m.u.repair_none.reason = REPAIR_NONE_DAMAGED;
        node_repair_note(n, h, "serve");
    } else if (rc == CAIRN_ENOT_FOUND) {
        m.u.repair_none.reason = REPAIR_NONE_NOT_STORED;
    }
    send_msg(peer, &m);
    buf_deinit(&block);
    buf_deinit(&commit);
    buf_deinit(&results);
}

/* ------------------------------------------------------------------ answers */

static void recent_add(struct node *n, uint64_t h, p2p_peer_t *peer, const uint8_t *raw,
                       size_t len)
{
    repair_done *d = &n->repair.recent[n->repair.recent_head];
    memset(d, 0, sizeof *d);
    d->height = h;
    d->time_ns = node_now_ns();
    snprintf(d->peer, sizeof d->peer, "%s", p2p_peer_id(peer));
    block_t b;
    if (block_decode(&b, raw, len) == CAIRN_OK) {
        if (header_hash(&b.header, d->block_id) != CAIRN_OK) memset(d->block_id, 0, HASH_BYTES);
        block_free(&b);
    }
    n->repair.recent_head = (n->repair.recent_head + 1) % NODE_REPAIR_RECENT_MAX;
    if (n->repair.n_recent < NODE_REPAIR_RECENT_MAX) n->repair.n_recent++;
}

/* What the local chain says about height h: the block id and results hash of
 * an intact header h+1, or the chain state's at the tip. CAIRN_EBUSY when
 * header h+1 is not intact now (it is repaired first). */
static cairn_err expect_for(struct node *n, uint64_t h, repair_expect *e, block_t *next)
{
    memset(e, 0, sizeof *e);
    memset(next, 0, sizeof *next);
    e->height = h;
    e->chain_id = &n->chain_id;
    e->validators = &n->st.validators; /* validator sets do not change in cairn yet */
    if (h == n->st.last_height) {
        e->block_id = n->st.last_block_id;
        e->results_hash = n->st.last_results_hash;
        return CAIRN_OK;
    }
    cairn_err rc = store_block_get(n->store, h + 1, next);
    if (rc == CAIRN_ECORRUPT) node_repair_note(n, h + 1, "read");
    if (rc != CAIRN_OK) return CAIRN_EBUSY;
    e->block_id = next->header.last_block_id;
    e->results_hash = next->header.results_hash;
    return CAIRN_OK;
}

static void on_answer(struct node *n, p2p_peer_t *peer, const msg_t *m)
{
    repair_item *it = item_of(n, m->u.repair.height);
    if (!it || it->peer != peer) return; /* late, or not asked: ignore */
    uint64_t h = it->height;
    repair_expect e;
    block_t next;
    cairn_err rc = expect_for(n, h, &e, &next);
    if (rc == CAIRN_EBUSY) {
        log_info("repair: header %llu is not intact; height %llu waits for it",
                 (unsigned long long)(h + 1), (unsigned long long)h);
        it->peer = NULL;
        it->next_try_ms = node_now_ms(n) + NODE_REPAIR_RETRY_MS;
        return;
    }
    rc = repair_answer_verify(&e, m->u.repair.block, m->u.repair.block_len, m->u.repair.commit,
                              m->u.repair.commit_len, m->u.repair.results,
                              m->u.repair.results_len);
    block_free(&next);
    if (rc != CAIRN_OK) {
        log_warn("repair: peer %s sent a bad answer for height %llu (%s); not believed",
                 p2p_peer_id(peer), (unsigned long long)h, cairn_strerror(rc));
        n->repair.count[REPAIR_OUT_BAD_ANSWER]++;
        mark_tried(it, peer);
        p2p_peer_report(peer, rc == CAIRN_EBAD_SIGNATURE ? P2P_REPORT_BAD_SIGNATURE
                                                         : P2P_REPORT_BAD_MESSAGE);
        return;
    }
    store_height_repair_args a = {
        .height = h,
        .block_raw = m->u.repair.block, .block_len = m->u.repair.block_len,
        .commit_raw = m->u.repair.commit, .commit_len = m->u.repair.commit_len,
        .results_raw = m->u.repair.results, .results_len = m->u.repair.results_len,
    };
    rc = store_height_repair(n->store, &a);
    if (rc != CAIRN_OK) {
        log_error("repair: height %llu from peer %s was verified but the store refused it "
                  "(%s); retrying later",
                  (unsigned long long)h, p2p_peer_id(peer), cairn_strerror(rc));
        n->repair.count[REPAIR_OUT_FAILED]++;
        mark_tried(it, peer);
        it->next_try_ms = node_now_ms(n) + NODE_REPAIR_RETRY_MS;
        return;
    }
    n->repair.count[REPAIR_OUT_REPAIRED]++;
    recent_add(n, h, peer, m->u.repair.block, m->u.repair.block_len);
    log_info("repair: height %llu repaired from peer %s (found by %s, %u attempts, %llu ms)",
             (unsigned long long)h, p2p_peer_id(peer), it->source, it->attempts,
             (unsigned long long)(node_now_ms(n) - it->queued_ms));
    item_remove(n, it);
}

void node_repair_on_message(struct node *n, p2p_peer_t *peer, const msg_t *m)
{
    switch (m->kind) {
    case MSG_REPAIR_REQUEST: serve(n, peer, m->u.request.height); return;
    case MSG_REPAIR_RESPONSE: on_answer(n, peer, m); break;
    case MSG_REPAIR_NONE: {
        repair_item *it = item_of(n, m->u.repair_none.height);
        if (!it || it->peer != peer) return;
        log_info("repair: peer %s cannot serve height %llu (reason %u)", p2p_peer_id(peer),
                 (unsigned long long)it->height, m->u.repair_none.reason);
        n->repair.count[REPAIR_OUT_UNAVAILABLE]++;
        if (m->u.repair_none.reason == REPAIR_NONE_BUSY) { /* ask again a little later */
            it->peer = NULL;
            it->next_try_ms = node_now_ms(n) + NODE_REPAIR_RETRY_MS / 2;
        } else {
            mark_tried(it, peer);
        }
        break;
    }
    default: p2p_peer_report(peer, P2P_REPORT_BAD_MESSAGE); return;
    }
    node_repair_tick(n);
}
