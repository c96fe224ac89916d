/* p2p.c - see p2p.h. The transport glue around the pure handshake and frames. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/bytes.h"
#include "base/log.h"
#include "p2p/frame.h"
#include "p2p/handshake.h"
#include "p2p/p2p.h"

#define READ_BUF_BYTES ((size_t)64 << 10)
#define SCORES_MAX 256
#define SCORE_KEY_MAX 64
#define PENALTY_HANDSHAKE (-20)
#define PENALTY_TIMEOUT (-10)
#define PENALTY_BAD_FRAME (-50)
#define PENALTY_UNKNOWN_CHANNEL (-10)
#define PENALTY_PING_PAYLOAD (-20) /* a keep-alive is empty: bytes in one are abuse */

typedef struct {
    char key[SCORE_KEY_MAX]; /* "id:<hex>" or "ip:<address>" */
    int32_t score;
    uint64_t banned_until_ms;
    uint64_t touched_ms;
} score_entry;

typedef struct {
    uint8_t id;
    p2p_recv_cb cb;
    void *ud;
} channel_slot;

typedef struct dial dial_t;

typedef enum { PEER_CONNECTING, PEER_HANDSHAKE, PEER_READY, PEER_CLOSING } peer_state;

struct p2p_peer {
    p2p_t *p2p;
    p2p_peer_t *prev, *next;
    uv_tcp_t tcp;
    uv_timer_t timer;
    uv_connect_t connect_req;
    int handles_open;
    peer_state state;
    bool outbound;
    dial_t *dial; /* the dial entry that made this connection, or NULL */
    p2p_hs *hs;   /* during the handshake only */
    p2p_cipher send;
    p2p_frame_reader reader;
    uint8_t pub[PUBKEY_BYTES];
    uint8_t addr[ADDR_BYTES];
    char id[P2P_ID_HEX_LEN + 1];
    char remote[64];
    char ip[48];
    uint8_t *rbuf;
    uint32_t queue_count;
    p2p_counters ch[P2P_CHANNELS_MAX];
    uint64_t wire_sent, wire_recv;
    uint64_t ready_ms, last_recv_ms, last_send_ms;
    void *data;
};

struct dial {
    p2p_t *p2p;
    dial_t *next;
    char host[256];
    char port[8];
    uint8_t addr[ADDR_BYTES];
    char id[P2P_ID_HEX_LEN + 1];
    bool persistent;
    bool removing;
    uint32_t attempts;
    int refs; /* timer handle + getaddrinfo in flight */
    uv_timer_t timer;
    uv_getaddrinfo_t gai;
    bool gai_active;
    p2p_peer_t *peer; /* connection made by this entry, while it lives */
};

struct p2p {
    uv_loop_t *loop;
    p2p_config cfg;
    keypair_t node;
    char chain_id[P2P_HS_CHAIN_ID_MAX + 1];
    char id[P2P_ID_HEX_LEN + 1];
    uint8_t addr[ADDR_BYTES];
    uv_tcp_t listener;
    bool listening;
    uint16_t port;
    bool closing;
    int pending; /* open handles and requests; freed at 0 once closing */
    p2p_closed_cb closed_cb;
    void *closed_ud;
    p2p_peer_up_cb up_cb;
    p2p_peer_down_cb down_cb;
    void *peer_ud;
    channel_slot channels[P2P_CHANNELS_MAX];
    uint32_t n_channels;
    p2p_peer_t *peers;
    dial_t *dials;
    uint32_t n_dials;
    uint32_t n_inbound, n_outbound; /* connections, handshaking included */
    score_entry scores[SCORES_MAX];
    uint32_t n_scores;
    p2p_stats stats;
};

typedef struct {
    uv_write_t req;
    p2p_peer_t *peer;
    size_t len;
    uint8_t data[];
} write_req;

static void peer_close(p2p_peer_t *peer, cairn_err reason);
static void dial_schedule(dial_t *d, bool immediately);
static void maybe_finish_close(p2p_t *p2p);

/* ---- configuration ---------------------------------------------------------- */

void p2p_config_default(p2p_config *c)
{
    c->inbound_max = 40;
    c->outbound_max = 10;
    c->frame_payload_max = P2P_FRAME_PAYLOAD_MAX_DEFAULT;
    c->send_queue_bytes_max = (size_t)16 << 20;
    c->send_queue_count_max = 4096;
    c->handshake_timeout_ms = 10000;
    c->ping_interval_ms = 10000;
    c->idle_timeout_ms = 60000;
    c->dial_backoff_min_ms = 500;
    c->dial_backoff_max_ms = 60000;
    c->ban_score = -100;
    c->ban_ms = 10 * 60 * 1000;
    c->score_heal_ms = 10000;
}

static cairn_err config_check(const p2p_config *c)
{
    if (c->frame_payload_max == 0 || c->frame_payload_max > ((uint32_t)1 << 30))
        return CAIRN_EBAD_CONFIG;
    if (c->send_queue_bytes_max < p2p_frame_sealed_len(c->frame_payload_max))
        return CAIRN_EBAD_CONFIG;
    if (c->send_queue_count_max == 0 || c->handshake_timeout_ms == 0) return CAIRN_EBAD_CONFIG;
    if (c->ping_interval_ms == 0 || c->idle_timeout_ms <= c->ping_interval_ms)
        return CAIRN_EBAD_CONFIG;
    if (c->dial_backoff_min_ms == 0 || c->dial_backoff_max_ms < c->dial_backoff_min_ms)
        return CAIRN_EBAD_CONFIG;
    if (c->ban_score >= 0 || c->score_heal_ms == 0) return CAIRN_EBAD_CONFIG;
    return CAIRN_OK;
}

/* ---- scores and bans --------------------------------------------------------- */

static score_entry *score_find(const p2p_t *p2p, const char *key)
{
    for (uint32_t i = 0; i < p2p->n_scores; i++)
        if (strcmp(p2p->scores[i].key, key) == 0) return (score_entry *)&p2p->scores[i];
    return NULL;
}

/* Finds or makes an entry; when the table is full, the least recently touched
 * entry that is not banned gives way (or the oldest of all). */
static score_entry *score_get(p2p_t *p2p, const char *key)
{
    score_entry *e = score_find(p2p, key);
    if (e) return e;
    uint64_t now = uv_now(p2p->loop);
    if (p2p->n_scores < SCORES_MAX) {
        e = &p2p->scores[p2p->n_scores++];
    } else {
        score_entry *victim = NULL;
        for (int pass = 0; pass < 2 && victim == NULL; pass++)
            for (uint32_t i = 0; i < SCORES_MAX; i++) {
                score_entry *c = &p2p->scores[i];
                if (pass == 0 && c->banned_until_ms > now) continue;
                if (victim == NULL || c->touched_ms < victim->touched_ms) victim = c;
            }
        e = victim;
    }
    memset(e, 0, sizeof *e);
    snprintf(e->key, sizeof e->key, "%s", key);
    e->touched_ms = now;
    return e;
}

static bool key_banned(const p2p_t *p2p, const char *key)
{
    const score_entry *e = score_find(p2p, key);
    return e && e->banned_until_ms > uv_now(p2p->loop);
}

static void key_for_id(char out[SCORE_KEY_MAX], const char *id) { snprintf(out, SCORE_KEY_MAX, "id:%s", id); }
static void key_for_ip(char out[SCORE_KEY_MAX], const char *ip) { snprintf(out, SCORE_KEY_MAX, "ip:%s", ip); }

/* Lowers a score; returns true if that banned the key. */
static bool penalize(p2p_t *p2p, const char *key, int32_t amount)
{
    score_entry *e = score_get(p2p, key);
    uint64_t now = uv_now(p2p->loop);
    if (e->banned_until_ms != 0 && e->banned_until_ms <= now) { /* ban served */
        e->banned_until_ms = 0;
        e->score = 0;
    }
    if (e->banned_until_ms > now) return false;
    /* Old faults fade: one point back per score_heal_ms since the last one,
     * so only a peer that keeps misbehaving reaches the ban threshold. */
    uint64_t healed = (now - e->touched_ms) / p2p->cfg.score_heal_ms;
    e->score = healed >= (uint64_t)-(int64_t)e->score ? 0 : e->score + (int32_t)healed;
    e->touched_ms = now;
    e->score += amount;
    if (e->score > p2p->cfg.ban_score) return false;
    e->banned_until_ms = now + p2p->cfg.ban_ms;
    p2p->stats.peers_banned++;
    log_warn("p2p: banning %s for %u ms (score %d)", key, p2p->cfg.ban_ms, e->score);
    return true;
}

static void peer_penalize(p2p_peer_t *peer, int32_t amount)
{
    char key[SCORE_KEY_MAX];
    if (peer->state == PEER_READY)
        key_for_id(key, peer->id);
    else
        key_for_ip(key, peer->ip);
    if (penalize(peer->p2p, key, amount) && peer->state == PEER_READY)
        peer_close(peer, CAIRN_EBANNED);
}

bool p2p_id_banned(const p2p_t *p2p, const char *id_hex)
{
    char key[SCORE_KEY_MAX];
    key_for_id(key, id_hex);
    return key_banned(p2p, key);
}

/* ---- channels ---------------------------------------------------------------- */

static int channel_slot_of(const p2p_t *p2p, uint8_t id)
{
    for (uint32_t i = 0; i < p2p->n_channels; i++)
        if (p2p->channels[i].id == id) return (int)i;
    return -1;
}

cairn_err p2p_channel_register(p2p_t *p2p, uint8_t channel, p2p_recv_cb cb, void *ud)
{
    if (channel == P2P_CHANNEL_HANDSHAKE || channel == P2P_CH_PING || cb == NULL)
        return CAIRN_EINVALID_ARG;
    if (channel_slot_of(p2p, channel) >= 0) return CAIRN_EEXISTS;
    if (p2p->n_channels >= P2P_CHANNELS_MAX) return CAIRN_ELIMIT;
    channel_slot *s = &p2p->channels[p2p->n_channels++];
    s->id = channel;
    s->cb = cb;
    s->ud = ud;
    p2p->stats.channel[p2p->n_channels - 1] = channel;
    p2p->stats.n_channels = p2p->n_channels;
    return CAIRN_OK;
}

void p2p_peer_callbacks_set(p2p_t *p2p, p2p_peer_up_cb up_cb, p2p_peer_down_cb down_cb,
                            void *ud)
{
    p2p->up_cb = up_cb;
    p2p->down_cb = down_cb;
    p2p->peer_ud = ud;
}

/* ---- writing ----------------------------------------------------------------- */

static void write_done(uv_write_t *req, int status)
{
    write_req *w = (write_req *)req;
    p2p_peer_t *peer = w->peer;
    CAIRN_ASSERT(peer->queue_count > 0);
    peer->queue_count--;
    free(w);
    if (status < 0 && status != UV_ECANCELED && peer->state != PEER_CLOSING) {
        log_info("p2p: write to %s failed: %s", peer->remote, uv_strerror(status));
        peer_close(peer, CAIRN_EIO);
    }
}

static size_t queue_bytes(const p2p_peer_t *peer)
{
    return uv_stream_get_write_queue_size((const uv_stream_t *)&peer->tcp);
}

/* Tries to write w at once; queues what the kernel did not take. Takes w. */
static cairn_err write_submit(p2p_peer_t *peer, write_req *w)
{
    size_t off = 0;
    peer->last_send_ms = uv_now(peer->p2p->loop);
    peer->wire_sent += w->len;
    peer->p2p->stats.wire_bytes_sent += w->len;
    if (queue_bytes(peer) == 0 && peer->queue_count == 0) {
        uv_buf_t b = uv_buf_init((char *)w->data, (unsigned)w->len);
        int n = uv_try_write((uv_stream_t *)&peer->tcp, &b, 1);
        if (n == (int)w->len) {
            free(w);
            return CAIRN_OK;
        }
        if (n < 0 && n != UV_EAGAIN) {
            free(w);
            peer_close(peer, CAIRN_EIO);
            return CAIRN_EIO;
        }
        if (n > 0) off = (size_t)n;
    }
    uv_buf_t b = uv_buf_init((char *)w->data + off, (unsigned)(w->len - off));
    int rc = uv_write(&w->req, (uv_stream_t *)&peer->tcp, &b, 1, write_done);
    if (rc < 0) {
        free(w);
        peer_close(peer, CAIRN_EIO);
        return CAIRN_EIO;
    }
    peer->queue_count++;
    return CAIRN_OK;
}

static write_req *write_req_new(p2p_peer_t *peer, size_t len)
{
    write_req *w = malloc(sizeof *w + len);
    if (w == NULL) return NULL;
    w->peer = peer;
    w->len = len;
    return w;
}

static cairn_err write_raw(p2p_peer_t *peer, const uint8_t *p, size_t n)
{
    if (n == 0) return CAIRN_OK;
    write_req *w = write_req_new(peer, n);
    if (w == NULL) {
        peer_close(peer, CAIRN_ENOMEM);
        return CAIRN_ENOMEM;
    }
    memcpy(w->data, p, n);
    return write_submit(peer, w);
}

/* The queue may take `len` more bytes, or the peer is too slow. */
static bool queue_has_room(const p2p_peer_t *peer, size_t len)
{
    const p2p_config *c = &peer->p2p->cfg;
    if (peer->queue_count == 0) return true;
    if (peer->queue_count >= c->send_queue_count_max) return false;
    return queue_bytes(peer) + len <= c->send_queue_bytes_max;
}

cairn_err p2p_send(p2p_peer_t *peer, uint8_t channel, const void *msg, size_t len)
{
    p2p_t *p2p = peer->p2p;
    if (peer->state != PEER_READY) return CAIRN_ECLOSED;
    if (len > p2p->cfg.frame_payload_max) return CAIRN_ETOO_LARGE;
    size_t sealed = p2p_frame_sealed_len((uint32_t)len);
    if (!queue_has_room(peer, sealed)) {
        log_info("p2p: dropping slow peer %s (%zu bytes, %u writes queued)", peer->id,
                 queue_bytes(peer), peer->queue_count);
        p2p->stats.peers_dropped_slow++;
        peer_close(peer, CAIRN_ELIMIT);
        return CAIRN_ELIMIT;
    }
    write_req *w = write_req_new(peer, sealed);
    if (w == NULL) return CAIRN_ENOMEM;
    cairn_err rc = p2p_frame_seal(&peer->send, channel, msg, (uint32_t)len, w->data);
    if (rc != CAIRN_OK) { /* counter exhausted: never reuse a nonce */
        free(w);
        peer_close(peer, rc);
        return rc;
    }
    int slot = channel_slot_of(p2p, channel);
    if (slot >= 0) {
        peer->ch[slot].msgs_sent++;
        peer->ch[slot].bytes_sent += len;
        p2p->stats.ch[slot].msgs_sent++;
        p2p->stats.ch[slot].bytes_sent += len;
    }
    return write_submit(peer, w);
}

size_t p2p_broadcast(p2p_t *p2p, uint8_t channel, const void *msg, size_t len,
                     const p2p_peer_t *except)
{
    size_t sent = 0;
    p2p_peer_t *next;
    for (p2p_peer_t *peer = p2p->peers; peer; peer = next) {
        next = peer->next; /* peer may be closed (not freed) by p2p_send */
        if (peer == except || peer->state != PEER_READY) continue;
        if (p2p_send(peer, channel, msg, len) == CAIRN_OK) sent++;
    }
    return sent;
}

/* ---- peers: lifetime --------------------------------------------------------- */

static void peer_free(p2p_peer_t *peer)
{
    p2p_t *p2p = peer->p2p;
    if (peer->prev)
        peer->prev->next = peer->next;
    else
        p2p->peers = peer->next;
    if (peer->next) peer->next->prev = peer->prev;
    if (peer->hs) {
        p2p_hs_deinit(peer->hs);
        free(peer->hs);
    }
    p2p_frame_reader_deinit(&peer->reader);
    p2p_cipher_wipe(&peer->send);
    free(peer->rbuf);
    free(peer);
    p2p->pending--;
    maybe_finish_close(p2p);
}

static void peer_handle_closed(uv_handle_t *h)
{
    p2p_peer_t *peer = h->data;
    if (--peer->handles_open == 0) peer_free(peer);
}

static p2p_peer_t *peer_new(p2p_t *p2p, bool outbound)
{
    p2p_peer_t *peer = calloc(1, sizeof *peer);
    if (peer == NULL) return NULL;
    peer->rbuf = malloc(READ_BUF_BYTES);
    peer->hs = malloc(sizeof *peer->hs);
    if (peer->rbuf == NULL || peer->hs == NULL ||
        p2p_hs_init(peer->hs, outbound, &p2p->node, p2p->chain_id, NULL, NULL) != CAIRN_OK) {
        free(peer->rbuf);
        free(peer->hs);
        free(peer);
        return NULL;
    }
    peer->p2p = p2p;
    peer->outbound = outbound;
    peer->state = PEER_CONNECTING;
    uv_tcp_init(p2p->loop, &peer->tcp);
    uv_timer_init(p2p->loop, &peer->timer);
    peer->tcp.data = peer;
    peer->timer.data = peer;
    peer->handles_open = 2;
    peer->next = p2p->peers;
    if (p2p->peers) p2p->peers->prev = peer;
    p2p->peers = peer;
    p2p->pending++;
    if (outbound)
        p2p->n_outbound++;
    else
        p2p->n_inbound++;
    return peer;
}

static void dial_peer_ended(dial_t *d, p2p_peer_t *peer, cairn_err reason);

static void peer_close(p2p_peer_t *peer, cairn_err reason)
{
    p2p_t *p2p = peer->p2p;
    if (peer->state == PEER_CLOSING) return;
    bool was_ready = peer->state == PEER_READY;
    if (peer->state == PEER_HANDSHAKE && !p2p->closing) p2p->stats.handshakes_failed++;
    peer->state = PEER_CLOSING;
    if (peer->outbound)
        p2p->n_outbound--;
    else
        p2p->n_inbound--;
    if (was_ready) {
        if (peer->outbound)
            p2p->stats.peers_outbound--;
        else
            p2p->stats.peers_inbound--;
    }
    log_debug("p2p: closing %s (%s): %s", peer->remote, was_ready ? peer->id : "handshake",
              cairn_strerror(reason));
    uv_read_stop((uv_stream_t *)&peer->tcp);
    uv_close((uv_handle_t *)&peer->tcp, peer_handle_closed);
    uv_close((uv_handle_t *)&peer->timer, peer_handle_closed);
    if (was_ready && p2p->down_cb) p2p->down_cb(peer, reason, p2p->peer_ud);
    dial_t *d = peer->dial;
    peer->dial = NULL;
    if (d) dial_peer_ended(d, peer, reason);
    /* Persistent dial entries waiting because this id was connected inbound. */
    if (was_ready && !p2p->closing)
        for (dial_t *e = p2p->dials; e; e = e->next)
            if (e->peer == NULL && !e->gai_active && !e->removing &&
                memcmp(e->addr, peer->addr, ADDR_BYTES) == 0 && !uv_is_active((uv_handle_t *)&e->timer))
                dial_schedule(e, false);
}

void p2p_peer_close(p2p_peer_t *peer, cairn_err reason) { peer_close(peer, reason); }

/* ---- peers: handshake -------------------------------------------------------- */

static p2p_peer_t *ready_peer_with(const p2p_t *p2p, const uint8_t addr[static ADDR_BYTES],
                                   const p2p_peer_t *except)
{
    for (p2p_peer_t *p = p2p->peers; p; p = p->next)
        if (p != except && p->state == PEER_READY && memcmp(p->addr, addr, ADDR_BYTES) == 0)
            return p;
    return NULL;
}

/* Of two connections between the same two nodes both sides keep the one dialled
 * by the node with the smaller address, so they agree without talking. */
static bool connection_preferred(const p2p_t *p2p, const p2p_peer_t *peer)
{
    bool we_are_smaller = memcmp(p2p->addr, peer->addr, ADDR_BYTES) < 0;
    return peer->outbound == we_are_smaller;
}

/* Every ping interval: close an idle peer, or keep a quiet link alive. */
static void on_peer_tick(uv_timer_t *t)
{
    p2p_peer_t *peer = t->data;
    if (peer->state != PEER_READY) return;
    uint64_t now = uv_now(peer->p2p->loop);
    if (now - peer->last_recv_ms >= peer->p2p->cfg.idle_timeout_ms) {
        log_info("p2p: %s silent for %llu ms", peer->id,
                 (unsigned long long)(now - peer->last_recv_ms));
        peer_close(peer, CAIRN_ETIMEOUT);
        return;
    }
    if (now - peer->last_send_ms >= peer->p2p->cfg.ping_interval_ms && peer->queue_count == 0) {
        cairn_err rc = p2p_send(peer, P2P_CH_PING, NULL, 0);
        if (rc != CAIRN_OK) log_debug("p2p: ping to %s: %s", peer->id, cairn_strerror(rc));
    }
}

/* Returns false if the peer was closed. */
static bool peer_become_ready(p2p_peer_t *peer)
{
    p2p_t *p2p = peer->p2p;
    p2p_hs *hs = peer->hs;
    memcpy(peer->pub, hs->remote_pub, PUBKEY_BYTES);
    memcpy(peer->addr, hs->remote_addr, ADDR_BYTES);
    hex_encode_lower(peer->id, peer->addr, ADDR_BYTES);
    p2p_cipher recv;
    p2p_hs_session(hs, &peer->send, &recv);
    p2p_frame_reader_init(&peer->reader, recv.key, recv.counter, p2p->cfg.frame_payload_max);
    p2p_cipher_wipe(&recv);
    p2p_hs_deinit(hs);
    free(hs);
    peer->hs = NULL;
    uv_timer_stop(&peer->timer);

    if (p2p_id_banned(p2p, peer->id)) {
        peer_close(peer, CAIRN_EBANNED);
        return false;
    }
    p2p_peer_t *other = ready_peer_with(p2p, peer->addr, peer);
    if (other) {
        bool simultaneous = other->outbound != peer->outbound &&
                            uv_now(p2p->loop) - other->ready_ms < p2p->cfg.handshake_timeout_ms;
        if (simultaneous && !connection_preferred(p2p, peer)) {
            peer_close(peer, CAIRN_EEXISTS);
            return false;
        }
        /* Otherwise the peer reconnected because it considers the old one dead. */
        peer_close(other, CAIRN_EEXISTS);
    }
    peer->state = PEER_READY;
    peer->ready_ms = peer->last_recv_ms = peer->last_send_ms = uv_now(p2p->loop);
    uv_timer_start(&peer->timer, on_peer_tick, p2p->cfg.ping_interval_ms,
                   p2p->cfg.ping_interval_ms);
    p2p->stats.handshakes_ok++;
    if (peer->outbound)
        p2p->stats.peers_outbound++;
    else
        p2p->stats.peers_inbound++;
    if (peer->dial) peer->dial->attempts = 0;
    log_info("p2p: peer %s up (%s, %s)", peer->id, peer->remote,
             peer->outbound ? "outbound" : "inbound");
    if (p2p->up_cb) p2p->up_cb(peer, p2p->peer_ud);
    return peer->state == PEER_READY;
}

static bool flush_hs_output(p2p_peer_t *peer)
{
    size_t n;
    const uint8_t *out = p2p_hs_output(peer->hs, &n);
    return write_raw(peer, out, n) == CAIRN_OK;
}

/* Feeds handshake bytes; returns how many were used, or -1 if the peer closed. */
static long peer_feed_handshake(p2p_peer_t *peer, const uint8_t *p, size_t n)
{
    size_t used = 0;
    cairn_err rc = p2p_hs_feed(peer->hs, p, n, &used);
    if (rc != CAIRN_OK) {
        log_info("p2p: handshake with %s failed: %s", peer->remote, cairn_strerror(rc));
        /* Another chain, version or id is a configuration matter, not garbage. */
        if (rc != CAIRN_EBAD_CHAIN_ID && rc != CAIRN_EBAD_VERSION && rc != CAIRN_EBAD_PEER)
            peer_penalize(peer, PENALTY_HANDSHAKE);
        peer_close(peer, rc);
        return -1;
    }
    if (!flush_hs_output(peer)) return -1;
    if (p2p_hs_done(peer->hs) && !peer_become_ready(peer)) return -1;
    return (long)used;
}

/* ---- peers: reading ---------------------------------------------------------- */

static void deliver(p2p_peer_t *peer, const p2p_frame *f)
{
    p2p_t *p2p = peer->p2p;
    if (f->channel == P2P_CH_PING) { /* its arrival already counted as life */
        if (f->len) {
            log_info("p2p: %s sent a keep-alive with %u bytes in it", peer->id,
                     (unsigned)f->len);
            peer_penalize(peer, PENALTY_PING_PAYLOAD);
        }
        return;
    }
    int slot = channel_slot_of(p2p, f->channel);
    if (slot < 0) {
        log_info("p2p: %s sent on unknown channel 0x%02x", peer->id, f->channel);
        peer_penalize(peer, PENALTY_UNKNOWN_CHANNEL);
        return;
    }
    peer->ch[slot].msgs_recv++;
    peer->ch[slot].bytes_recv += f->len;
    p2p->stats.ch[slot].msgs_recv++;
    p2p->stats.ch[slot].bytes_recv += f->len;
    p2p->channels[slot].cb(peer, f->channel, f->payload, f->len, p2p->channels[slot].ud);
}

/* Returns how many bytes were used, or -1 if the peer closed. */
static long peer_feed_frames(p2p_peer_t *peer, const uint8_t *p, size_t n)
{
    size_t used = 0;
    bool got = false;
    p2p_frame f;
    cairn_err rc = p2p_frame_reader_feed(&peer->reader, p, n, &used, &f, &got);
    if (rc != CAIRN_OK) {
        log_info("p2p: bad frame from %s: %s", peer->id, cairn_strerror(rc));
        peer->p2p->stats.frames_bad++;
        if (rc == CAIRN_EBAD_MAC || rc == CAIRN_EBAD_FRAME) peer_penalize(peer, PENALTY_BAD_FRAME);
        peer_close(peer, rc == CAIRN_EBAD_MAC ? CAIRN_EBAD_FRAME : rc);
        return -1;
    }
    if (got) deliver(peer, &f);
    return peer->state == PEER_CLOSING ? -1 : (long)used;
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    (void)suggested;
    p2p_peer_t *peer = h->data;
    *buf = uv_buf_init((char *)peer->rbuf, (unsigned)READ_BUF_BYTES);
}

static void on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
    (void)buf;
    p2p_peer_t *peer = s->data;
    if (peer->state == PEER_CLOSING) return;
    if (nread < 0) {
        peer_close(peer, nread == UV_EOF ? CAIRN_ECLOSED : CAIRN_EIO);
        return;
    }
    peer->last_recv_ms = uv_now(peer->p2p->loop);
    peer->wire_recv += (uint64_t)nread;
    peer->p2p->stats.wire_bytes_recv += (uint64_t)nread;
    size_t pos = 0, n = (size_t)nread;
    /* Bounded: each pass consumes at least one byte or ends the loop. */
    while (pos < n) {
        long used = peer->state == PEER_HANDSHAKE
                        ? peer_feed_handshake(peer, peer->rbuf + pos, n - pos)
                        : peer_feed_frames(peer, peer->rbuf + pos, n - pos);
        if (used < 0) return;
        if (used == 0 && peer->state == PEER_HANDSHAKE) break;
        pos += (size_t)used;
    }
}

static void on_handshake_timeout(uv_timer_t *t)
{
    p2p_peer_t *peer = t->data;
    if (peer->state != PEER_CONNECTING && peer->state != PEER_HANDSHAKE) return;
    log_info("p2p: handshake with %s timed out", peer->remote);
    if (peer->state == PEER_HANDSHAKE) peer_penalize(peer, PENALTY_TIMEOUT);
    peer_close(peer, CAIRN_ETIMEOUT);
}

static void sockaddr_text(const struct sockaddr *sa, char *ip, size_t ip_len, char *remote,
                          size_t remote_len)
{
    int port = 0;
    ip[0] = 0;
    if (sa->sa_family == AF_INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)sa;
        uv_ip4_name(in, ip, ip_len);
        port = ntohs(in->sin_port);
        snprintf(remote, remote_len, "%s:%d", ip, port);
    } else if (sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;
        uv_ip6_name(in6, ip, ip_len);
        port = ntohs(in6->sin6_port);
        snprintf(remote, remote_len, "[%s]:%d", ip, port);
    } else {
        snprintf(remote, remote_len, "?");
    }
}

/* Socket is connected: start reading and send our HELLO. */
static void peer_start_handshake(p2p_peer_t *peer)
{
    peer->state = PEER_HANDSHAKE;
    uv_tcp_nodelay(&peer->tcp, 1);
    int rc = uv_read_start((uv_stream_t *)&peer->tcp, on_alloc, on_read);
    if (rc < 0) {
        peer_close(peer, CAIRN_EIO);
        return;
    }
    flush_hs_output(peer);
}

/* ---- inbound ----------------------------------------------------------------- */

static void on_connection(uv_stream_t *server, int status)
{
    p2p_t *p2p = server->data;
    if (status < 0 || p2p->closing) return;
    p2p_peer_t *peer = peer_new(p2p, false);
    if (peer == NULL) {
        log_error("p2p: out of memory accepting a connection");
        return;
    }
    if (uv_accept(server, (uv_stream_t *)&peer->tcp) < 0) {
        peer_close(peer, CAIRN_EIO);
        return;
    }
    struct sockaddr_storage ss;
    int len = sizeof ss;
    if (uv_tcp_getpeername(&peer->tcp, (struct sockaddr *)&ss, &len) == 0)
        sockaddr_text((struct sockaddr *)&ss, peer->ip, sizeof peer->ip, peer->remote,
                      sizeof peer->remote);
    char key[SCORE_KEY_MAX];
    key_for_ip(key, peer->ip);
    if (p2p->n_inbound > p2p->cfg.inbound_max) {
        log_info("p2p: refusing %s: %u inbound peers", peer->remote, p2p->cfg.inbound_max);
        peer_close(peer, CAIRN_ELIMIT);
        return;
    }
    if (key_banned(p2p, key)) {
        peer_close(peer, CAIRN_EBANNED);
        return;
    }
    uv_timer_start(&peer->timer, on_handshake_timeout, p2p->cfg.handshake_timeout_ms, 0);
    peer_start_handshake(peer);
}

static cairn_err parse_host_port(const char *s, char *host, size_t host_len, char *port,
                                 size_t port_len)
{
    const char *colon;
    const char *h = s;
    size_t hl;
    if (s[0] == '[') {
        const char *end = strchr(s, ']');
        if (end == NULL || end[1] != ':') return CAIRN_EBAD_CONFIG;
        h = s + 1;
        hl = (size_t)(end - h);
        colon = end + 1;
    } else {
        colon = strrchr(s, ':');
        if (colon == NULL) return CAIRN_EBAD_CONFIG;
        hl = (size_t)(colon - s);
    }
    const char *p = colon + 1;
    size_t pl = strlen(p);
    if (hl == 0 || hl >= host_len || pl == 0 || pl >= port_len) return CAIRN_EBAD_CONFIG;
    unsigned long v = 0;
    for (size_t i = 0; i < pl; i++) {
        if (p[i] < '0' || p[i] > '9') return CAIRN_EBAD_CONFIG;
        v = v * 10 + (unsigned long)(p[i] - '0');
    }
    if (v > 65535) return CAIRN_EBAD_CONFIG;
    memcpy(host, h, hl);
    host[hl] = 0;
    memcpy(port, p, pl + 1);
    return CAIRN_OK;
}

static void listener_closed(uv_handle_t *h)
{
    p2p_t *p2p = h->data;
    p2p->pending--;
    maybe_finish_close(p2p);
}

static void listener_close(p2p_t *p2p)
{
    if (!p2p->listening) return;
    p2p->listening = false;
    uv_close((uv_handle_t *)&p2p->listener, listener_closed);
}

cairn_err p2p_listen(p2p_t *p2p, const char *host_port)
{
    if (p2p->listening || p2p->closing) return CAIRN_EBUSY;
    char host[256], port[8];
    CAIRN_TRY(parse_host_port(host_port, host, sizeof host, port, sizeof port));
    struct sockaddr_storage ss;
    if (uv_ip4_addr(host, atoi(port), (struct sockaddr_in *)&ss) != 0 &&
        uv_ip6_addr(host, atoi(port), (struct sockaddr_in6 *)&ss) != 0)
        return CAIRN_EBAD_CONFIG;
    uv_tcp_init(p2p->loop, &p2p->listener);
    p2p->listener.data = p2p;
    p2p->listening = true;
    p2p->pending++;
    int rc = uv_tcp_bind(&p2p->listener, (struct sockaddr *)&ss, 0);
    if (rc == 0) rc = uv_listen((uv_stream_t *)&p2p->listener, 128, on_connection);
    if (rc < 0) {
        log_error("p2p: cannot listen on %s: %s", host_port, uv_strerror(rc));
        listener_close(p2p);
        return CAIRN_EIO;
    }
    struct sockaddr_storage bound;
    int len = sizeof bound;
    uv_tcp_getsockname(&p2p->listener, (struct sockaddr *)&bound, &len);
    p2p->port = ntohs(bound.ss_family == AF_INET ? ((struct sockaddr_in *)&bound)->sin_port
                                                  : ((struct sockaddr_in6 *)&bound)->sin6_port);
    log_info("p2p: listening on %s (port %u) as %s", host_port, p2p->port, p2p->id);
    return CAIRN_OK;
}

uint16_t p2p_listen_port(const p2p_t *p2p) { return p2p->listening ? p2p->port : 0; }

/* ---- outbound ---------------------------------------------------------------- */

static void dial_unref(dial_t *d)
{
    p2p_t *p2p = d->p2p;
    if (--d->refs > 0) return;
    free(d);
    p2p->pending--;
    maybe_finish_close(p2p);
}

static void dial_timer_closed(uv_handle_t *h) { dial_unref(h->data); }

/* Takes the entry off the list; it is freed once its handles are done. */
static void dial_remove(dial_t *d)
{
    p2p_t *p2p = d->p2p;
    if (d->removing) return;
    d->removing = true;
    for (dial_t **pp = &p2p->dials; *pp; pp = &(*pp)->next)
        if (*pp == d) {
            *pp = d->next;
            break;
        }
    p2p->n_dials--;
    if (d->peer) d->peer->dial = NULL;
    d->peer = NULL;
    uv_close((uv_handle_t *)&d->timer, dial_timer_closed);
}

static void on_connect(uv_connect_t *req, int status)
{
    p2p_peer_t *peer = req->data;
    if (peer->state != PEER_CONNECTING) return; /* closed meanwhile */
    if (status < 0) {
        log_debug("p2p: connect to %s failed: %s", peer->remote, uv_strerror(status));
        peer_close(peer, CAIRN_EIO);
        return;
    }
    peer_start_handshake(peer);
}

static void dial_connect(dial_t *d, const struct sockaddr *sa)
{
    p2p_t *p2p = d->p2p;
    p2p_peer_t *peer = peer_new(p2p, true);
    if (peer == NULL) {
        dial_schedule(d, false);
        return;
    }
    /* The id we dialled is the one the handshake must prove. */
    peer->hs->has_expected = true;
    memcpy(peer->hs->expected_addr, d->addr, ADDR_BYTES);
    peer->dial = d;
    d->peer = peer;
    sockaddr_text(sa, peer->ip, sizeof peer->ip, peer->remote, sizeof peer->remote);
    uv_timer_start(&peer->timer, on_handshake_timeout, p2p->cfg.handshake_timeout_ms, 0);
    peer->connect_req.data = peer;
    int rc = uv_tcp_connect(&peer->connect_req, &peer->tcp, sa, on_connect);
    if (rc < 0) {
        log_debug("p2p: connect to %s:%s: %s", d->host, d->port, uv_strerror(rc));
        peer_close(peer, CAIRN_EIO);
    }
}

/* A name may resolve to several addresses ("localhost": ::1 and 127.0.0.1).
 * Successive attempts walk them, IPv4 first, so a node listening on only one
 * family is still reached. Bounded by the resolver's list. */
static const struct sockaddr *pick_address(const struct addrinfo *res, uint32_t attempt)
{
    size_t n = 0;
    for (const struct addrinfo *a = res; a; a = a->ai_next) n++;
    size_t want = attempt % n, i = 0;
    for (int family_pass = 0; family_pass < 2; family_pass++)
        for (const struct addrinfo *a = res; a; a = a->ai_next) {
            bool v4 = a->ai_family == AF_INET;
            if (v4 != (family_pass == 0)) continue;
            if (i++ == want) return a->ai_addr;
        }
    return res->ai_addr;
}

static void on_resolved(uv_getaddrinfo_t *req, int status, struct addrinfo *res)
{
    dial_t *d = req->data;
    d->gai_active = false;
    if (!d->removing && !d->p2p->closing) {
        if (status < 0 || res == NULL) {
            log_info("p2p: cannot resolve %s: %s", d->host, uv_strerror(status));
            dial_peer_ended(d, NULL, CAIRN_EIO);
        } else {
            dial_connect(d, pick_address(res, d->attempts));
        }
    }
    if (res) uv_freeaddrinfo(res);
    dial_unref(d);
}

static void dial_start(dial_t *d)
{
    p2p_t *p2p = d->p2p;
    if (d->removing || p2p->closing || d->peer || d->gai_active) return;
    if (ready_peer_with(p2p, d->addr, NULL)) return; /* connected inbound; wait */
    if (p2p_id_banned(p2p, d->id)) {
        dial_schedule(d, false);
        return;
    }
    struct addrinfo hints;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    d->gai.data = d;
    int rc = uv_getaddrinfo(p2p->loop, &d->gai, on_resolved, d->host, d->port, &hints);
    if (rc < 0) {
        dial_peer_ended(d, NULL, CAIRN_EIO);
        return;
    }
    d->gai_active = true;
    d->refs++;
}

static void on_dial_timer(uv_timer_t *t) { dial_start(t->data); }

/* Backoff: min * 2^attempts capped at max, then a uniform jitter over its upper
 * half so that many nodes restarting together do not dial in lockstep. */
static void dial_schedule(dial_t *d, bool immediately)
{
    const p2p_config *c = &d->p2p->cfg;
    uint64_t delay = 0;
    if (!immediately) {
        uint32_t shift = d->attempts < 20 ? d->attempts : 20;
        delay = (uint64_t)c->dial_backoff_min_ms << shift;
        if (delay > c->dial_backoff_max_ms) delay = c->dial_backoff_max_ms;
        uint32_t r;
        crypto_random(&r, sizeof r);
        delay = delay / 2 + r % (delay / 2 + 1);
        d->attempts++;
    }
    uv_timer_start(&d->timer, on_dial_timer, delay, 0);
}

/* The entry's connection (or attempt) ended. */
static void dial_peer_ended(dial_t *d, p2p_peer_t *peer, cairn_err reason)
{
    (void)reason;
    if (peer && d->peer == peer) d->peer = NULL;
    if (d->removing || d->p2p->closing) return;
    if (!d->persistent) {
        dial_remove(d);
        return;
    }
    dial_schedule(d, false);
}

static cairn_err parse_peer_addr(const char *s, uint8_t addr[static ADDR_BYTES], char *host,
                                 size_t host_len, char *port, size_t port_len)
{
    const char *at = strchr(s, '@');
    if (at == NULL || at - s != P2P_ID_HEX_LEN) return CAIRN_EBAD_CONFIG;
    char id[P2P_ID_HEX_LEN + 1];
    memcpy(id, s, P2P_ID_HEX_LEN);
    id[P2P_ID_HEX_LEN] = 0;
    if (hex_decode(addr, ADDR_BYTES, id) != CAIRN_OK) return CAIRN_EBAD_CONFIG;
    return parse_host_port(at + 1, host, host_len, port, port_len);
}

cairn_err p2p_dial(p2p_t *p2p, const char *id_at_host_port, bool persistent)
{
    if (p2p->closing) return CAIRN_ECLOSED;
    if (id_at_host_port == NULL || strlen(id_at_host_port) > P2P_ADDR_TEXT_MAX)
        return CAIRN_EBAD_CONFIG;
    dial_t tmp;
    memset(&tmp, 0, sizeof tmp);
    CAIRN_TRY(parse_peer_addr(id_at_host_port, tmp.addr, tmp.host, sizeof tmp.host, tmp.port,
                              sizeof tmp.port));
    if (memcmp(tmp.addr, p2p->addr, ADDR_BYTES) == 0) return CAIRN_EINVALID_ARG;
    for (dial_t *e = p2p->dials; e; e = e->next)
        if (memcmp(e->addr, tmp.addr, ADDR_BYTES) == 0) return CAIRN_EEXISTS;
    if (p2p->n_dials >= p2p->cfg.outbound_max) return CAIRN_ELIMIT;
    dial_t *d = malloc(sizeof *d);
    if (d == NULL) return CAIRN_ENOMEM;
    *d = tmp;
    d->p2p = p2p;
    d->persistent = persistent;
    hex_encode_lower(d->id, d->addr, ADDR_BYTES);
    uv_timer_init(p2p->loop, &d->timer);
    d->timer.data = d;
    d->refs = 1;
    p2p->pending++;
    d->next = p2p->dials;
    p2p->dials = d;
    p2p->n_dials++;
    dial_schedule(d, true);
    return CAIRN_OK;
}

/* ---- the whole transport ----------------------------------------------------- */

cairn_err p2p_new(uv_loop_t *loop, const p2p_config *config, const keypair_t *node,
                  const char *chain_id, p2p_t **out)
{
    *out = NULL;
    p2p_config cfg;
    if (config)
        cfg = *config;
    else
        p2p_config_default(&cfg);
    CAIRN_TRY(config_check(&cfg));
    size_t cid_len = chain_id ? strlen(chain_id) : 0;
    if (cid_len == 0 || cid_len > P2P_HS_CHAIN_ID_MAX) return CAIRN_EINVALID_ARG;
    p2p_t *p2p = calloc(1, sizeof *p2p);
    if (p2p == NULL) return CAIRN_ENOMEM;
    p2p->loop = loop;
    p2p->cfg = cfg;
    p2p->node = *node;
    memcpy(p2p->chain_id, chain_id, cid_len + 1);
    key_address(p2p->addr, node->pub);
    hex_encode_lower(p2p->id, p2p->addr, ADDR_BYTES);
    *out = p2p;
    return CAIRN_OK;
}

static void maybe_finish_close(p2p_t *p2p)
{
    if (!p2p->closing || p2p->pending > 0) return;
    p2p_closed_cb cb = p2p->closed_cb;
    void *ud = p2p->closed_ud;
    crypto_wipe(&p2p->node, sizeof p2p->node);
    free(p2p);
    if (cb) cb(ud);
}

void p2p_close(p2p_t *p2p, p2p_closed_cb done_cb, void *ud)
{
    if (p2p->closing) return;
    p2p->closing = true;
    p2p->closed_cb = done_cb;
    p2p->closed_ud = ud;
    p2p->pending++; /* hold: nothing frees p2p while we walk the lists */
    listener_close(p2p);
    while (p2p->dials) dial_remove(p2p->dials);
    for (p2p_peer_t *peer = p2p->peers; peer; peer = peer->next) peer_close(peer, CAIRN_ECLOSED);
    p2p->pending--;
    maybe_finish_close(p2p);
}

/* ---- reports, accessors, stats ----------------------------------------------- */

void p2p_peer_report(p2p_peer_t *peer, p2p_report_reason reason)
{
    if (peer->state != PEER_READY) return;
    int32_t amount = reason == P2P_REPORT_BAD_SIGNATURE ? -50
                     : reason == P2P_REPORT_SPAM        ? -5
                                                        : -20;
    log_info("p2p: %s reported (%d)", peer->id, (int)reason);
    peer_penalize(peer, amount);
}

const char *p2p_peer_id(const p2p_peer_t *peer) { return peer->id; }
const uint8_t *p2p_peer_pubkey(const p2p_peer_t *peer) { return peer->pub; }
const char *p2p_peer_remote(const p2p_peer_t *peer) { return peer->remote; }
bool p2p_peer_outbound(const p2p_peer_t *peer) { return peer->outbound; }
void p2p_peer_data_set(p2p_peer_t *peer, void *data) { peer->data = data; }
void *p2p_peer_data(const p2p_peer_t *peer) { return peer->data; }
const char *p2p_node_id(const p2p_t *p2p) { return p2p->id; }

size_t p2p_peers(const p2p_t *p2p, p2p_peer_t **out, size_t max)
{
    size_t n = 0;
    for (p2p_peer_t *p = p2p->peers; p; p = p->next) {
        if (p->state != PEER_READY) continue;
        if (n < max) out[n] = p;
        n++;
    }
    return n;
}

void p2p_stats_get(const p2p_t *p2p, p2p_stats *out) { *out = p2p->stats; }

void p2p_peer_stats_get(const p2p_peer_t *peer, p2p_stats *out)
{
    const p2p_t *p2p = peer->p2p;
    memset(out, 0, sizeof *out);
    out->n_channels = p2p->n_channels;
    memcpy(out->channel, p2p->stats.channel, sizeof out->channel);
    memcpy(out->ch, peer->ch, sizeof out->ch);
    out->wire_bytes_sent = peer->wire_sent;
    out->wire_bytes_recv = peer->wire_recv;
    out->queue_bytes = peer->state == PEER_CLOSING ? 0 : queue_bytes(peer);
    out->queue_count = peer->queue_count;
    char key[SCORE_KEY_MAX];
    key_for_id(key, peer->id);
    const score_entry *e = score_find(p2p, key);
    out->score = e ? e->score : 0;
}
