/* cons_io.c - feeding the consensus core and carrying out its outputs in the
 * order the contract requires (docs/consensus.md): a PERSIST record is durable
 * before any later output; a vote or proposal is signed by the signer (which
 * persists its own state first) before it is sent. Also the consensus side of
 * gossip: proposals and votes from peers are checked (signatures, validator
 * membership) before the core sees them. */
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "node/node_int.h"

/* Replayed messages (peer NULL) came from our own WAL: nobody to blame. */
static void report(p2p_peer_t *peer, p2p_report_reason why)
{
    if (peer) p2p_peer_report(peer, why);
}

/* Contract item 5 (docs/consensus.md): every consensus message is appended to
 * the WAL before the core sees it (not synced: the next PERSIST's fsync makes
 * it durable with what it led to), so a restart can show the core again what
 * it had seen, the votes behind a lock included. */
static void wal_log_msg(struct node *n, const uint8_t *raw, size_t len)
{
    if (n->replaying) return;
    cairn_err rc = wal_append(n->wal, WAL_REC_MSG, raw, len);
    if (rc) node_fatal(n, "logging a consensus message to the WAL", rc);
}

/* ------------------------------------------------------------------ gossip store */

static bool gossip_has(struct node *n, const uint8_t *p, size_t len)
{
    for (uint32_t i = 0; i < n->n_gossip_msgs; i++)
        if (n->gossip_msgs[i].len == len && !memcmp(n->gossip_msgs[i].data, p, len)) return true;
    return false;
}

static void gossip_keep(struct node *n, const uint8_t *p, size_t len)
{
    if (n->n_gossip_msgs >= NODE_GOSSIP_MSGS_MAX || len > NODE_GOSSIP_BYTES_MAX - n->gossip_bytes ||
        gossip_has(n, p, len))
        return;
    buf_t *b = &n->gossip_msgs[n->n_gossip_msgs];
    buf_init(b, BLOCK_BYTES_MAX + 4096);
    if (buf_append(b, p, len) != CAIRN_OK) {
        buf_deinit(b);
        return;
    }
    n->n_gossip_msgs++;
    n->gossip_bytes += len;
}

static void gossip_clear(struct node *n)
{
    for (uint32_t i = 0; i < n->n_gossip_msgs; i++) buf_deinit(&n->gossip_msgs[i]);
    n->n_gossip_msgs = 0;
    n->gossip_bytes = 0;
}

/* Re-sends this height's messages to one peer, newest first (the current
 * round matters most), at most NODE_REGOSSIP_BYTES_MAX at a time and only while
 * the peer's queue is not half full: re-gossip must not get peers dropped for a
 * full send queue. */
void node_gossip_to_peer(struct node *n, p2p_peer_t *peer)
{
    p2p_stats st;
    p2p_peer_stats_get(peer, &st);
    if (st.queue_bytes > n->cfg.p2p.send_queue_bytes / 2) return;
    size_t sent = 0;
    for (uint32_t i = n->n_gossip_msgs; i-- > 0;) {
        const buf_t *b = &n->gossip_msgs[i];
        if (sent + b->len > NODE_REGOSSIP_BYTES_MAX && sent > 0) return;
        if (p2p_send(peer, CH_CONSENSUS, b->data, b->len) != CAIRN_OK) return;
        sent += b->len;
    }
}

/* Re-sends this height's messages when consensus has not moved for a tick:
 * peers that reconnected or lost a message get another chance. */
void node_gossip_tick(struct node *n)
{
    if (n->waiting_next || !n->cons) return;
    uint64_t h = consensus_height(n->cons);
    uint32_t r = consensus_round(n->cons);
    uint8_t s = (uint8_t)consensus_step_of(n->cons);
    if (h == n->gossip_seen_height && r == n->gossip_seen_round && s == n->gossip_seen_step) {
        p2p_peer_t *peers[64];
        size_t np = p2p_peers(n->p2p, peers, 64);
        for (size_t i = 0; i < np && i < 64; i++) node_gossip_to_peer(n, peers[i]);
    }
    n->gossip_seen_height = h;
    n->gossip_seen_round = r;
    n->gossip_seen_step = s;
}

static void send_msg(struct node *n, const msg_t *m, p2p_peer_t *except)
{
    buf_t b;
    buf_init(&b, BLOCK_BYTES_MAX + 4096);
    if (msg_encode(m, &b) == CAIRN_OK) {
        wal_log_msg(n, b.data, b.len);
        gossip_keep(n, b.data, b.len);
        p2p_broadcast(n->p2p, CH_CONSENSUS, b.data, b.len, except);
    }
    buf_deinit(&b);
}

/* ------------------------------------------------------------------ timers */

static void on_timer(uv_timer_t *t)
{
    node_timer *nt = t->data;
    nt->active = false;
    cons_input_t in;
    memset(&in, 0, sizeof in);
    in.kind = CONS_IN_TIMEOUT;
    in.u.timeout.height = nt->height;
    in.u.timeout.round = nt->round;
    in.u.timeout.step = nt->step;
    node_cons_feed(nt->node, &in);
}

static void timer_schedule(struct node *n, uint64_t h, uint32_t r, uint8_t step, int64_t dur_ns)
{
    node_timer *pick = NULL;
    for (int i = 0; i < NODE_TIMERS && !pick; i++)
        if (!n->timers[i].active) pick = &n->timers[i];
    if (!pick) { /* all busy: replace the one for the oldest (height, round) */
        pick = &n->timers[0];
        for (int i = 1; i < NODE_TIMERS; i++)
            if (n->timers[i].height < pick->height ||
                (n->timers[i].height == pick->height && n->timers[i].round < pick->round))
                pick = &n->timers[i];
        uv_timer_stop(&pick->timer);
    }
    pick->active = true;
    pick->height = h;
    pick->round = r;
    pick->step = step;
    uv_timer_start(&pick->timer, on_timer, (uint64_t)(dur_ns / 1000000), 0);
}

void node_timers_stop(struct node *n)
{
    for (int i = 0; i < NODE_TIMERS; i++) {
        uv_timer_stop(&n->timers[i].timer);
        n->timers[i].active = false;
    }
}

/* ------------------------------------------------------------------ outputs */

static void next_height_cb(uv_timer_t *t) { node_maybe_start_next(t->data); }

static void out_persist(struct node *n, const cons_persist_t *rec)
{
    uint8_t raw[CONS_PERSIST_BYTES + 16];
    buf_t b = {.data = raw, .len = 0, .cap = sizeof raw, .cap_max = sizeof raw};
    cairn_err rc = consensus_persist_encode(rec, &b);
    if (rc == CAIRN_OK) rc = wal_append(n->wal, WAL_REC_PERSIST, b.data, b.len);
    if (rc == CAIRN_OK) rc = wal_sync(n->wal);
    if (rc) node_fatal(n, "writing the consensus WAL", rc);
}

static void out_sign_proposal(struct node *n, proposal_t p)
{
    known_block *k = node_block_known(n, p.block_id);
    if (!k || k->status != CONS_BLOCK_VALID) {
        log_error("asked to propose a block we do not hold; not proposing");
        return;
    }
    cairn_err rc = signer_sign_proposal(n->signer, &p, &n->chain_id);
    if (rc) {
        log_error("signer refused proposal h=%llu r=%u: %s", (unsigned long long)p.height, p.round,
                  cairn_strerror(rc));
        return;
    }
    buf_t pb;
    buf_init(&pb, 1024);
    if (proposal_encode(&p, &pb) == CAIRN_OK) {
        msg_t *m = calloc(1, sizeof *m);
        if (m) {
            m->kind = MSG_PROPOSAL;
            m->u.proposal.proposal = pb.data;
            m->u.proposal.proposal_len = (uint32_t)pb.len;
            m->u.proposal.block = k->raw;
            m->u.proposal.block_len = (uint32_t)k->len;
            send_msg(n, m, NULL);
            free(m);
        }
    }
    buf_deinit(&pb);
    cons_input_t in;
    memset(&in, 0, sizeof in);
    in.kind = CONS_IN_PROPOSAL;
    in.u.proposal.proposal = p;
    in.u.proposal.block_status = CONS_BLOCK_VALID;
    in.u.proposal.block_time_ns = k->block.header.time_ns;
    node_cons_feed(n, &in);
}

static void out_sign_vote(struct node *n, vote_t v)
{
    cairn_err rc = signer_sign_vote(n->signer, &v, &n->chain_id);
    if (rc) {
        log_error("signer refused vote h=%llu r=%u type=%u: %s", (unsigned long long)v.height,
                  v.round, v.type, cairn_strerror(rc));
        return;
    }
    buf_t vb;
    buf_init(&vb, 1024);
    if (vote_encode(&v, &vb) == CAIRN_OK) {
        msg_t *m = calloc(1, sizeof *m);
        if (m) {
            m->kind = MSG_VOTE;
            m->u.vote.vote = vb.data;
            m->u.vote.vote_len = (uint32_t)vb.len;
            send_msg(n, m, NULL);
            free(m);
        }
    }
    buf_deinit(&vb);
    cons_input_t in;
    memset(&in, 0, sizeof in);
    in.kind = CONS_IN_VOTE;
    in.u.vote = v;
    node_cons_feed(n, &in);
}

static void out_create(struct node *n, const cons_output_t *o)
{
    cons_input_t in;
    memset(&in, 0, sizeof in);
    cairn_err rc = node_block_create(n, o->u.create.time_ns, o->u.create.last_commit,
                                     o->u.create.n_last_commit, in.u.created.block_id);
    if (rc) {
        log_error("could not build a block: %s", cairn_strerror(rc));
        return; /* the propose timeout moves the round on */
    }
    in.kind = CONS_IN_BLOCK_CREATED;
    in.u.created.height = o->u.create.height;
    in.u.created.round = o->u.create.round;
    in.u.created.block_time_ns = o->u.create.time_ns;
    node_cons_feed(n, &in);
}

static void out_decide(struct node *n, const cons_output_t *o)
{
    known_block *k = node_block_known(n, o->u.decide.block_id);
    if (!k || k->status != CONS_BLOCK_VALID) {
        /* After a restart the core remembers its locked block, but its bytes
         * went with the old process: the peers that decided it serve it with
         * its commit, and block sync applies it and starts the next height. */
        log_warn("decided block %llu is not held here; fetching it from peers",
                 (unsigned long long)o->u.decide.height);
        node_timers_stop(n);
        node_status_broadcast(n, NULL);
        return;
    }
    commit_t c;
    cairn_err rc = node_commit_from_votes(&n->st.validators, o->u.decide.height, o->u.decide.round,
                                          o->u.decide.block_id, o->u.decide.precommits,
                                          o->u.decide.n_precommits, &c);
    if (rc == CAIRN_OK) {
        rc = node_block_apply(n, k->raw, k->len, &k->block, k->id, &c);
        commit_free(&c);
    }
    if (rc) {
        node_fatal(n, "applying a decided block", rc);
        return;
    }
    node_timers_stop(n);
    gossip_clear(n);
    n->waiting_next = true;
    uv_timer_start(&n->next_height_timer, next_height_cb,
                   n->cfg.consensus.timeout_commit_ms, 0);
    node_status_broadcast(n, NULL);
}

static void out_evidence(struct node *n, const evidence_t *e)
{
    for (uint32_t i = 0; i < n->n_evidence; i++)
        if (!memcmp(&n->evidence[i], e, sizeof *e)) return;
    if (n->n_evidence >= NODE_EVIDENCE_MAX) return;
    n->evidence[n->n_evidence++] = *e;
    log_warn("evidence: validator %02X%02X%02X%02X... signed two votes at h=%llu r=%u",
             e->a.validator[0], e->a.validator[1], e->a.validator[2], e->a.validator[3],
             (unsigned long long)e->a.height, e->a.round);
}

static void handle_output(struct node *n, const cons_output_t *o)
{
    switch (o->kind) {
    case CONS_OUT_PERSIST: out_persist(n, &o->u.persist); break;
    case CONS_OUT_SIGN_PROPOSAL: out_sign_proposal(n, o->u.proposal); break;
    case CONS_OUT_SIGN_VOTE: out_sign_vote(n, o->u.vote); break;
    case CONS_OUT_SCHEDULE_TIMEOUT:
        timer_schedule(n, o->u.timeout.height, o->u.timeout.round, o->u.timeout.step,
                       o->u.timeout.duration_ns);
        break;
    case CONS_OUT_CREATE_BLOCK: out_create(n, o); break;
    case CONS_OUT_DECIDE: out_decide(n, o); break;
    case CONS_OUT_EVIDENCE: out_evidence(n, &o->u.evidence); break;
    default: CAIRN_ASSERTF(0, "unknown consensus output %u", o->kind);
    }
}

/* ------------------------------------------------------------------ feeding */

static cons_outputs_t outs_scratch;

cairn_err node_cons_feed(struct node *n, const cons_input_t *in)
{
    if (n->stopping) return CAIRN_ECLOSED;
    if (n->inq_len >= NODE_INQ_MAX) {
        log_warn("consensus input queue full; dropping an input of kind %u", in->kind);
        return CAIRN_ELIMIT;
    }
    n->inq[(n->inq_head + n->inq_len++) % NODE_INQ_MAX] = *in;
    if (n->draining) return CAIRN_OK; /* queued behind the input being handled */
    n->draining = true;
    cairn_err first_rc = CAIRN_OK;
    bool first = true;
    while (n->inq_len && !n->stopping) {
        cons_input_t cur = n->inq[n->inq_head];
        n->inq_head = (n->inq_head + 1) % NODE_INQ_MAX;
        n->inq_len--;
        cons_outputs_t *outs = &outs_scratch;
        outs->n = 0;
        cairn_err rc = consensus_step(n->cons, &cur, node_now_ns(), outs);
        if (first) first_rc = rc; /* the caller's own input */
        first = false;
        if (rc && rc != CAIRN_EBAD_EVIDENCE)
            log_debug("consensus dropped input kind %u: %s", cur.kind, cairn_strerror(rc));
        /* Outputs reference the state (decide.precommits): carry them out before
         * the next step. Copy the list: handlers feed new inputs, queued. */
        static cons_outputs_t copy;
        copy = *outs;
        for (uint32_t i = 0; i < copy.n && !n->stopping; i++) handle_output(n, &copy.items[i]);
    }
    n->draining = false;
    return first_rc;
}

void node_cons_start_height(struct node *n, const cons_persist_t *restore)
{
    uv_timer_stop(&n->next_height_timer);
    n->waiting_next = false;
    n->n_prop_rounds = 0;
    gossip_clear(n);
    cons_input_t in;
    memset(&in, 0, sizeof in);
    in.kind = CONS_IN_START_HEIGHT;
    in.u.start.height = n->st.last_height + 1;
    in.u.start.validators = &n->st.validators;
    in.u.start.last_block_time_ns = n->st.last_time_ns;
    if (n->st.last_height > 0) {
        in.u.start.last_validators = &n->st.last_validators;
        in.u.start.last_commit = n->last_commit_votes;
        in.u.start.n_last_commit = n->n_last_commit_votes;
    }
    in.u.start.restore = restore;
    cairn_err rc = node_cons_feed(n, &in);
    if (rc) log_error("consensus refused to start height %llu: %s",
                      (unsigned long long)in.u.start.height, cairn_strerror(rc));
}

/* After a decision: start the next height once the commit timeout passed and
 * there is something to do (transactions, or an empty block is due), or at once
 * when a peer already works on it. Runs from next_height_timer and after a
 * transaction is admitted. */
void node_maybe_start_next(struct node *n)
{
    if (!n->waiting_next || n->stopping) return;
    if (uv_is_active((uv_handle_t *)&n->next_height_timer) &&
        uv_timer_get_due_in(&n->next_height_timer) > 0)
        return; /* the commit timeout is still running */
    bool due = mempool_count(n->mempool) > 0;
    if (!due && n->cfg.consensus.create_empty_blocks) {
        uint64_t since = node_now_ms(n) - (uint64_t)n->last_block_local_ms;
        due = since >= n->cfg.consensus.create_empty_blocks_interval_ms;
    }
    if (due) {
        node_cons_start_height(n, NULL);
        return;
    }
    uv_timer_start(&n->next_height_timer, next_height_cb, 50, 0);
}

/* ------------------------------------------------------------------ peers */

/* Rounds of the current height for which the core took a proposal. */
static bool proposal_round_taken(const struct node *n, uint32_t round)
{
    for (uint32_t i = 0; i < n->n_prop_rounds; i++)
        if (n->prop_rounds[i] == round) return true;
    return false;
}

static void proposal_round_take(struct node *n, uint32_t round)
{
    if (proposal_round_taken(n, round)) return;
    if (n->n_prop_rounds < NODE_PROP_ROUNDS_MAX) n->prop_rounds[n->n_prop_rounds++] = round;
    else n->prop_rounds[round % NODE_PROP_ROUNDS_MAX] = round; /* oldest rounds are long over */
}

/* A message for the next height while we wait: start it now. */
/* Messages are for the height after our last block (st.validators sign it). */
static bool height_is_next(const struct node *n, uint64_t h) { return h == n->st.last_height + 1; }

/* A verified message for the next height while we wait: start it now. */
static void start_if_waiting(struct node *n)
{
    if (n->waiting_next) node_cons_start_height(n, NULL);
}

/* Whether addr proposes `round` of the current height (CometBFT's rule: the
 * height's set, priorities incremented once per round). */
static bool is_round_proposer(const struct node *n, uint32_t round, const uint8_t addr[static ADDR_BYTES])
{
    static valset_t tmp; /* ~11 KB; the loop is single-threaded */
    tmp = n->st.validators;
    if (round) valset_increment_priority(&tmp, round);
    const validator_t *v = valset_proposer(&tmp);
    return v && !memcmp(v->address, addr, ADDR_BYTES);
}

static void on_proposal(struct node *n, p2p_peer_t *peer, const msg_t *m, const uint8_t *raw,
                        size_t raw_len)
{
    proposal_t p;
    if (proposal_decode(&p, m->u.proposal.proposal, m->u.proposal.proposal_len) != CAIRN_OK) {
        report(peer, P2P_REPORT_BAD_MESSAGE);
        return;
    }
    if (gossip_has(n, raw, raw_len) || !height_is_next(n, p.height)) return;
    int idx = valset_index_of(&n->st.validators, p.proposer);
    if (idx < 0) {
        n->proposals_dropped++;
        report(peer, P2P_REPORT_BAD_MESSAGE);
        return;
    }
    if (proposal_verify(&p, &n->chain_id, n->st.validators.v[idx].pub) != CAIRN_OK) {
        n->proposals_dropped++;
        report(peer, P2P_REPORT_BAD_SIGNATURE);
        return;
    }
    start_if_waiting(n);
    /* Only the round's proposer, one proposal per round, none far ahead: anything
     * else the core drops, and must not first make us validate, log and keep an
     * 8 MB block. */
    if (p.round > consensus_round(n->cons) + CONS_ROUNDS_AHEAD || proposal_round_taken(n, p.round) ||
        !is_round_proposer(n, p.round, p.proposer)) {
        n->proposals_dropped++;
        return;
    }
    uint8_t status = node_block_receive(n, m->u.proposal.block, m->u.proposal.block_len, p.block_id);
    known_block *k = node_block_known(n, p.block_id);
    cons_input_t in;
    memset(&in, 0, sizeof in);
    in.kind = CONS_IN_PROPOSAL;
    in.u.proposal.proposal = p;
    in.u.proposal.block_status = status;
    in.u.proposal.block_time_ns = k && status == CONS_BLOCK_VALID ? k->block.header.time_ns : 0;
    /* Kept and relayed only once the core took it: a proposer signing proposals
     * for rounds far ahead cannot fill our memory or our peers' links. */
    wal_log_msg(n, raw, raw_len);
    if (node_cons_feed(n, &in) != CAIRN_OK) return;
    proposal_round_take(n, p.round);
    gossip_keep(n, raw, raw_len);
    p2p_broadcast(n->p2p, CH_CONSENSUS, raw, raw_len, peer);
}

static void on_vote(struct node *n, p2p_peer_t *peer, const msg_t *m, const uint8_t *raw,
                    size_t raw_len)
{
    vote_t v;
    if (vote_decode(&v, m->u.vote.vote, m->u.vote.vote_len) != CAIRN_OK) {
        report(peer, P2P_REPORT_BAD_MESSAGE);
        return;
    }
    if (gossip_has(n, raw, raw_len) || !height_is_next(n, v.height)) return;
    const valset_t *vs = &n->st.validators;
    if (v.validator_index >= vs->count ||
        memcmp(vs->v[v.validator_index].address, v.validator, ADDR_BYTES) != 0) {
        n->votes_dropped++;
        report(peer, P2P_REPORT_BAD_MESSAGE);
        return;
    }
    if (vote_verify(&v, &n->chain_id, vs->v[v.validator_index].pub) != CAIRN_OK) {
        n->votes_dropped++;
        report(peer, P2P_REPORT_BAD_SIGNATURE);
        return;
    }
    start_if_waiting(n);
    if (v.round > consensus_round(n->cons) + CONS_ROUNDS_AHEAD) { /* the core keeps none */
        n->votes_dropped++;
        return;
    }
    cons_input_t in;
    memset(&in, 0, sizeof in);
    in.kind = CONS_IN_VOTE;
    in.u.vote = v;
    wal_log_msg(n, raw, raw_len);
    cairn_err rc = node_cons_feed(n, &in);
    /* Kept and relayed only when the core took it. The first conflicting vote of
     * a validator is taken (OK, with its evidence): every node sees the evidence.
     * Further ones (BAD_EVIDENCE) add nothing and go no further. */
    if (rc != CAIRN_OK) return;
    gossip_keep(n, raw, raw_len);
    p2p_broadcast(n->p2p, CH_CONSENSUS, raw, raw_len, peer);
}

void node_cons_on_message(struct node *n, p2p_peer_t *peer, const msg_t *m)
{
    /* Re-encode to get the exact bytes (the codec is canonical). */
    buf_t raw;
    buf_init(&raw, BLOCK_BYTES_MAX + 4096);
    if (msg_encode(m, &raw) != CAIRN_OK) {
        buf_deinit(&raw);
        return;
    }
    switch (m->kind) {
    case MSG_PROPOSAL: on_proposal(n, peer, m, raw.data, raw.len); break;
    case MSG_VOTE: on_vote(n, peer, m, raw.data, raw.len); break;
    case MSG_ROUND_STATE: break;
    default: report(peer, P2P_REPORT_BAD_MESSAGE); break;
    }
    buf_deinit(&raw);
}
