/* sync.c - block sync: a node behind its peers downloads the blocks it misses
 * from several peers at once (NODE_SYNC_WINDOW requests in flight), checks each
 * against the commit signed by more than 2/3 of the validators it knows, then
 * executes and saves it in height order, and resumes consensus at the new tip.
 * Peers announce what they can serve with MSG_STATUS. The same messages serve
 * peers that are behind us. */
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "node/node_int.h"

static peer_info *info_of(p2p_peer_t *peer) { return p2p_peer_data(peer); }

static void send_simple(p2p_peer_t *peer, const msg_t *m)
{
    buf_t b;
    buf_init(&b, BLOCK_BYTES_MAX + 4096);
    if (msg_encode(m, &b) == CAIRN_OK && p2p_send(peer, CH_SYNC, b.data, b.len) != CAIRN_OK)
        log_debug("sync: could not queue a message to %s", p2p_peer_id(peer));
    buf_deinit(&b);
}

void node_status_broadcast(struct node *n, p2p_peer_t *only)
{
    msg_t m;
    m.kind = MSG_STATUS;
    m.u.status.base = store_base_height(n->store);
    m.u.status.height = store_height(n->store);
    buf_t b;
    buf_init(&b, 64);
    if (msg_encode(&m, &b) == CAIRN_OK) {
        if (only) {
            if (p2p_send(only, CH_SYNC, b.data, b.len) != CAIRN_OK)
                log_debug("sync: could not queue status to %s", p2p_peer_id(only));
        } else
            p2p_broadcast(n->p2p, CH_SYNC, b.data, b.len, NULL);
    }
    buf_deinit(&b);
}

/* Behind a height some peer proved, not merely claimed: a peer announcing a
 * height it cannot serve does not make the node report that it is syncing. */
bool node_catching_up(const struct node *n) { return n->sync_proven > n->st.last_height + 1; }

static void slot_free(sync_slot *s)
{
    free(s->block);
    free(s->commit);
    memset(s, 0, sizeof *s);
}

void node_sync_peer_down(struct node *n, p2p_peer_t *peer)
{
    for (int i = 0; i < NODE_SYNC_WINDOW; i++)
        if (n->sync[i].height && n->sync[i].peer == peer && !n->sync[i].block) slot_free(&n->sync[i]);
        else if (n->sync[i].peer == peer) n->sync[i].peer = NULL;
}

static sync_slot *slot_for(struct node *n, uint64_t height)
{
    for (int i = 0; i < NODE_SYNC_WINDOW; i++)
        if (n->sync[i].height == height) return &n->sync[i];
    return NULL;
}

/* The peer with the fewest requests in flight that can serve height. */
static p2p_peer_t *pick_peer(struct node *n, uint64_t height)
{
    p2p_peer_t *peers[64], *best = NULL;
    size_t np = p2p_peers(n->p2p, peers, 64);
    for (size_t i = 0; i < np && i < 64; i++) {
        peer_info *pi = info_of(peers[i]);
        if (!pi || pi->height < height || pi->base > height || pi->in_flight >= NODE_SYNC_PER_PEER)
            continue;
        if (!best || pi->in_flight < info_of(best)->in_flight) best = peers[i];
    }
    return best;
}

/* Checks a received block against its commit: the commit is for this height
 * and block id and carries >2/3 of the voting power of the validators the node
 * knows. On success the slot remembers which validator set checked it. */
static cairn_err verify_slot(struct node *n, sync_slot *s, block_t *b, commit_t *c)
{
    uint8_t id[HASH_BYTES];
    cairn_err rc = header_hash(&b->header, id);
    if (rc == CAIRN_OK && (c->height != b->header.height || b->header.height != s->height ||
                           memcmp(c->block_id, id, HASH_BYTES)))
        rc = CAIRN_EBAD_COMMIT;
    if (rc == CAIRN_OK) rc = commit_verify(c, &n->chain_id, &n->st.validators, b->header.height, id);
    if (rc == CAIRN_OK) rc = valset_hash(&n->st.validators, s->verified_by);
    return rc;
}

static cairn_err decode_slot(const sync_slot *s, block_t *b, commit_t *c)
{
    memset(c, 0, sizeof *c);
    cairn_err rc = block_decode(b, s->block, s->block_len);
    if (rc) return rc;
    rc = commit_decode(c, s->commit, s->commit_len);
    if (rc) block_free(b);
    return rc;
}

/* Applies the block at the tip + 1, checked on arrival (verify_slot; checked
 * again if the validator set changed since). */
static cairn_err apply_synced(struct node *n, sync_slot *s)
{
    block_t b;
    commit_t c;
    uint8_t id[HASH_BYTES], vs[HASH_BYTES];
    cairn_err rc = decode_slot(s, &b, &c);
    if (rc) return rc;
    rc = valset_hash(&n->st.validators, vs);
    if (rc == CAIRN_OK && memcmp(vs, s->verified_by, HASH_BYTES) != 0) rc = verify_slot(n, s, &b, &c);
    if (rc == CAIRN_OK) rc = header_hash(&b.header, id);
    if (rc == CAIRN_OK) rc = block_validate(&b, &n->st);
    if (rc == CAIRN_OK) rc = node_block_apply(n, s->block, s->block_len, &b, id, &c);
    block_free(&b);
    commit_free(&c);
    return rc;
}

/* A slot is done with: its peer no longer owes us an answer. */
static void slot_release(sync_slot *s)
{
    if (s->peer && !s->block && info_of(s->peer) && info_of(s->peer)->in_flight)
        info_of(s->peer)->in_flight--;
    slot_free(s);
}

/* Slots at or below the tip are stale (consensus got there first). */
static void sweep_stale(struct node *n)
{
    for (int i = 0; i < NODE_SYNC_WINDOW; i++)
        if (n->sync[i].height && n->sync[i].height <= n->st.last_height) slot_release(&n->sync[i]);
}

static void apply_ready(struct node *n)
{
    bool applied = false;
    for (;;) {
        sync_slot *s = slot_for(n, n->st.last_height + 1);
        if (!s || !s->block || n->stopping) break;
        cairn_err rc = apply_synced(n, s);
        if (rc) {
            log_warn("synced block %llu rejected: %s", (unsigned long long)s->height, cairn_strerror(rc));
            if (s->peer) p2p_peer_report(s->peer, P2P_REPORT_BAD_MESSAGE);
            slot_free(s);
            break;
        }
        n->blocks_synced++;
        slot_free(s);
        applied = true;
    }
    sweep_stale(n);
    if (applied && !n->stopping) {
        log_info("synced to height %llu (peers at %llu)", (unsigned long long)n->st.last_height,
                 (unsigned long long)n->sync_target);
        node_timers_stop(n);
        node_blocks_clear(n);
        node_cons_start_height(n, NULL);
        node_status_broadcast(n, NULL);
    }
}

void node_sync_tick(struct node *n)
{
    uint64_t now = node_now_ms(n);
    /* What connected peers say now: a peer that left no longer counts. */
    p2p_peer_t *peers[64];
    size_t np = p2p_peers(n->p2p, peers, 64);
    n->sync_target = 0;
    for (size_t i = 0; i < np && i < 64; i++)
        if (info_of(peers[i]) && info_of(peers[i])->height > n->sync_target)
            n->sync_target = info_of(peers[i])->height;
    sweep_stale(n);
    for (int i = 0; i < NODE_SYNC_WINDOW; i++) {
        sync_slot *s = &n->sync[i];
        if (s->height && !s->block && now - s->sent_ms > NODE_SYNC_REQUEST_TIMEOUT_MS) slot_release(s);
    }
    uint64_t next = n->st.last_height + 1;
    for (int i = 0; i < NODE_SYNC_WINDOW; i++) {
        while (next <= n->sync_target && slot_for(n, next)) next++;
        if (next > n->sync_target) break;
        sync_slot *s = &n->sync[i];
        if (s->height) continue;
        p2p_peer_t *peer = pick_peer(n, next);
        if (!peer) break;
        s->height = next;
        s->peer = peer;
        s->sent_ms = now;
        info_of(peer)->in_flight++;
        msg_t m;
        m.kind = MSG_BLOCK_REQUEST;
        m.u.request.height = next;
        send_simple(peer, &m);
        next++;
    }
}

static void serve_block(struct node *n, p2p_peer_t *peer, uint64_t height)
{
    buf_t block, commit;
    buf_init(&block, BLOCK_BYTES_MAX + 1);
    buf_init(&commit, 0);
    msg_t m;
    cairn_err rc = store_block_get_raw(n->store, height, &block, NULL);
    if (rc == CAIRN_OK) rc = store_commit_get_raw(n->store, height, &commit);
    if (rc == CAIRN_OK) {
        m.kind = MSG_BLOCK_RESPONSE;
        m.u.response.height = height;
        m.u.response.block = block.data;
        m.u.response.block_len = (uint32_t)block.len;
        m.u.response.commit = commit.data;
        m.u.response.commit_len = (uint32_t)commit.len;
    } else {
        if (rc == CAIRN_ECORRUPT) log_error("block %llu failed its check; not served", (unsigned long long)height);
        m.kind = MSG_NO_BLOCK;
        m.u.request.height = height;
    }
    send_simple(peer, &m);
    buf_deinit(&block);
    buf_deinit(&commit);
}

static void on_response(struct node *n, p2p_peer_t *peer, const msg_t *m)
{
    sync_slot *s = slot_for(n, m->u.response.height);
    if (!s || s->peer != peer || s->block) {
        /* Usually a late answer to a request we gave up on (timeout, or consensus
         * got there first): not the peer's fault. */
        return;
    }
    if (info_of(peer)->in_flight) info_of(peer)->in_flight--;
    s->block = malloc(m->u.response.block_len ? m->u.response.block_len : 1);
    s->commit = malloc(m->u.response.commit_len ? m->u.response.commit_len : 1);
    if (!s->block || !s->commit) {
        slot_free(s);
        return;
    }
    memcpy(s->block, m->u.response.block, m->u.response.block_len);
    s->block_len = m->u.response.block_len;
    memcpy(s->commit, m->u.response.commit, m->u.response.commit_len);
    s->commit_len = m->u.response.commit_len;
    block_t b;
    commit_t c;
    cairn_err rc = decode_slot(s, &b, &c);
    if (rc == CAIRN_OK) {
        rc = verify_slot(n, s, &b, &c);
        block_free(&b);
        commit_free(&c);
    }
    if (rc) {
        log_warn("sync: block %llu from %s refused: %s", (unsigned long long)s->height,
                 p2p_peer_id(peer), cairn_strerror(rc));
        p2p_peer_report(peer, P2P_REPORT_BAD_MESSAGE);
        slot_free(s);
        return;
    }
    if (s->height > n->sync_proven) n->sync_proven = s->height;
    apply_ready(n);
    node_sync_tick(n);
}

void node_sync_on_message(struct node *n, p2p_peer_t *peer, const msg_t *m)
{
    peer_info *pi = info_of(peer);
    if (!pi) return;
    switch (m->kind) {
    case MSG_STATUS:
        if (m->u.status.base > m->u.status.height) {
            p2p_peer_report(peer, P2P_REPORT_BAD_MESSAGE);
            return;
        }
        pi->base = m->u.status.base;
        pi->height = m->u.status.height;
        if (pi->height > n->sync_target) n->sync_target = pi->height;
        node_sync_tick(n);
        break;
    case MSG_BLOCK_REQUEST: serve_block(n, peer, m->u.request.height); break;
    case MSG_BLOCK_RESPONSE: on_response(n, peer, m); break;
    case MSG_NO_BLOCK: {
        sync_slot *s = slot_for(n, m->u.request.height);
        if (s && s->peer == peer && !s->block) {
            if (pi->in_flight) pi->in_flight--;
            if (pi->height >= m->u.request.height) pi->height = m->u.request.height - 1;
            slot_free(s);
        }
        break;
    }
    default: p2p_peer_report(peer, P2P_REPORT_BAD_MESSAGE); break;
    }
}
