/* The transport over real TCP on 127.0.0.1: two or three p2p instances and raw
 * sockets on one uv loop, in one process. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <uv.h>

#include "base/bytes.h"
#include "base/log.h"
#include "crypto/crypto.h"
#include "p2p/handshake.h"
#include "p2p/p2p.h"

#define CHAIN "cairn-test"
#define MSGS_MAX 512

typedef struct {
    uint8_t channel;
    size_t len;
    uint8_t data[64];
} msg_rec;

typedef struct {
    p2p_t *p2p;
    keypair_t key;
    int up, down;
    cairn_err last_down;
    p2p_peer_t *peer; /* last peer up */
    msg_rec msgs[MSGS_MAX];
    int n_msgs;
    bool closed;
} node_t;

static uv_loop_t loop;

static int setup(void **state)
{
    (void)state;
    log_level_set(LOG_WARN);
    return crypto_init() == CAIRN_OK ? 0 : -1;
}

static void on_up(p2p_peer_t *peer, void *ud)
{
    node_t *n = ud;
    n->up++;
    n->peer = peer;
}

static void on_down(p2p_peer_t *peer, cairn_err reason, void *ud)
{
    node_t *n = ud;
    n->down++;
    n->last_down = reason;
    if (n->peer == peer) n->peer = NULL;
}

static void on_msg(p2p_peer_t *peer, uint8_t channel, const uint8_t *msg, size_t len, void *ud)
{
    (void)peer;
    node_t *n = ud;
    if (n->n_msgs >= MSGS_MAX) return;
    msg_rec *r = &n->msgs[n->n_msgs++];
    r->channel = channel;
    r->len = len;
    memcpy(r->data, msg, len < sizeof r->data ? len : sizeof r->data);
}

static void test_config(p2p_config *c)
{
    p2p_config_default(c);
    c->handshake_timeout_ms = 1000;
    c->ping_interval_ms = 1000;
    c->idle_timeout_ms = 3000;
    c->dial_backoff_min_ms = 20;
    c->dial_backoff_max_ms = 200;
    c->frame_payload_max = 64 << 10;
    c->send_queue_bytes_max = 256 << 10;
}

static void node_start_cfg(node_t *n, uint8_t seed_byte, const char *chain,
                           const p2p_config *cfg)
{
    memset(n, 0, sizeof *n);
    uint8_t seed[SEED_BYTES];
    memset(seed, seed_byte, sizeof seed);
    key_from_seed(&n->key, seed);
    assert_int_equal(p2p_new(&loop, cfg, &n->key, chain, &n->p2p), CAIRN_OK);
    p2p_peer_callbacks_set(n->p2p, on_up, on_down, n);
    const uint8_t chans[] = {P2P_CH_CONSENSUS, P2P_CH_MEMPOOL, P2P_CH_BLOCKSYNC, P2P_CH_REPAIR};
    for (int i = 0; i < 4; i++)
        assert_int_equal(p2p_channel_register(n->p2p, chans[i], on_msg, n), CAIRN_OK);
}

static void node_start(node_t *n, uint8_t seed_byte)
{
    p2p_config cfg;
    test_config(&cfg);
    node_start_cfg(n, seed_byte, CHAIN, &cfg);
}

static void node_listen(node_t *n, uint16_t port)
{
    char a[32];
    snprintf(a, sizeof a, "127.0.0.1:%u", port);
    assert_int_equal(p2p_listen(n->p2p, a), CAIRN_OK);
    assert_true(p2p_listen_port(n->p2p) != 0);
}

static void addr_text(char *out, size_t n, const keypair_t *k, uint16_t port)
{
    char id[41];
    p2p_node_id_hex(id, k->pub);
    snprintf(out, n, "%s@127.0.0.1:%u", id, port);
}

static void node_dial(node_t *from, const node_t *to, bool persistent)
{
    char a[128];
    addr_text(a, sizeof a, &to->key, p2p_listen_port(to->p2p));
    assert_int_equal(p2p_dial(from->p2p, a, persistent), CAIRN_OK);
}

static void on_closed(void *ud) { ((node_t *)ud)->closed = true; }

static void node_stop(node_t *n)
{
    if (n->p2p == NULL) return;
    p2p_close(n->p2p, on_closed, n);
    n->p2p = NULL;
}

/* Runs the loop until pred(ctx) or ms pass; returns pred's final value. */
static uv_timer_t deadline;
static bool timed_out;
static void on_deadline(uv_timer_t *t)
{
    (void)t;
    timed_out = true;
}
static bool run_until(bool (*pred)(void *), void *ctx, uint64_t ms)
{
    timed_out = false;
    uv_timer_start(&deadline, on_deadline, ms, 0);
    while (!pred(ctx) && !timed_out) uv_run(&loop, UV_RUN_ONCE);
    uv_timer_stop(&deadline);
    return pred(ctx);
}
static bool never(void *ctx)
{
    (void)ctx;
    return false;
}
static void run_for(uint64_t ms) { run_until(never, NULL, ms); }

static int loop_setup(void **state)
{
    (void)state;
    assert_int_equal(uv_loop_init(&loop), 0);
    uv_timer_init(&loop, &deadline);
    return 0;
}

static void close_walk(uv_handle_t *h, void *arg)
{
    (void)arg;
    if (!uv_is_closing(h)) uv_close(h, NULL);
}

/* Every handle must have been closed by its owner: only the deadline timer and
 * the test's own raw sockets are left to close here. */
static int loop_teardown(void **state)
{
    (void)state;
    uv_close((uv_handle_t *)&deadline, NULL);
    for (int i = 0; i < 10; i++) uv_run(&loop, UV_RUN_NOWAIT);
    int rc = uv_loop_close(&loop);
    if (rc != 0) {
        uv_walk(&loop, close_walk, NULL);
        uv_run(&loop, UV_RUN_DEFAULT);
        uv_loop_close(&loop);
        fail_msg("handles left open on the loop");
    }
    return 0;
}

static bool both_up(void *ctx)
{
    node_t **n = ctx;
    return n[0]->up >= 1 && n[1]->up >= 1;
}

static void connect_pair(node_t *a, node_t *b)
{
    node_listen(a, 0);
    node_dial(b, a, true);
    node_t *pair[2] = {a, b};
    assert_true(run_until(both_up, pair, 3000));
}

static bool node_has_msgs(void *ctx)
{
    void **c = ctx;
    return ((node_t *)c[0])->n_msgs >= *(int *)c[1];
}
static bool wait_msgs(node_t *n, int count, uint64_t ms)
{
    void *c[2] = {n, &count};
    return run_until(node_has_msgs, c, ms);
}

static bool node_closed(void *ctx) { return ((node_t *)ctx)->closed; }
static void stop_and_wait(node_t *n)
{
    node_stop(n);
    assert_true(run_until(node_closed, n, 3000));
}

/* ---- tests ------------------------------------------------------------------- */

static void two_nodes_exchange_messages_on_channels_in_order(void **state)
{
    (void)state;
    node_t a, b;
    node_start(&a, 0x0a);
    node_start(&b, 0x0b);
    connect_pair(&a, &b);
    assert_non_null(b.peer);
    assert_true(p2p_peer_outbound(b.peer));
    assert_false(p2p_peer_outbound(a.peer));
    char want[41];
    p2p_node_id_hex(want, a.key.pub);
    assert_string_equal(p2p_peer_id(b.peer), want);
    assert_memory_equal(p2p_peer_pubkey(a.peer), b.key.pub, PUBKEY_BYTES);

    const uint8_t chans[] = {P2P_CH_CONSENSUS, P2P_CH_MEMPOOL, P2P_CH_BLOCKSYNC, P2P_CH_REPAIR};
    for (int i = 0; i < 200; i++) {
        char m[32];
        int len = snprintf(m, sizeof m, "msg %d", i);
        assert_int_equal(p2p_send(b.peer, chans[i % 4], m, (size_t)len), CAIRN_OK);
    }
    assert_int_equal(p2p_send(a.peer, P2P_CH_CONSENSUS, "back", 4), CAIRN_OK);
    assert_true(wait_msgs(&a, 200, 3000));
    assert_true(wait_msgs(&b, 1, 3000));
    for (int i = 0; i < 200; i++) {
        char m[32];
        int len = snprintf(m, sizeof m, "msg %d", i);
        assert_int_equal(a.msgs[i].channel, chans[i % 4]);
        assert_int_equal(a.msgs[i].len, (size_t)len);
        assert_memory_equal(a.msgs[i].data, m, (size_t)len);
    }
    assert_memory_equal(b.msgs[0].data, "back", 4);

    p2p_stats s;
    p2p_stats_get(a.p2p, &s);
    assert_int_equal(s.n_channels, 4);
    assert_int_equal(s.channel[0], P2P_CH_CONSENSUS);
    assert_int_equal(s.ch[0].msgs_recv, 50);
    assert_int_equal(s.ch[0].msgs_sent, 1);
    assert_int_equal(s.peers_inbound, 1);
    assert_int_equal(s.handshakes_ok, 1);
    p2p_peer_stats_get(b.peer, &s);
    assert_int_equal(s.ch[1].msgs_sent, 50);
    assert_true(s.wire_bytes_sent > s.ch[0].bytes_sent + s.ch[1].bytes_sent);

    stop_and_wait(&a);
    stop_and_wait(&b);
    assert_int_equal(a.down, 1);
    assert_int_equal(b.down, 1);
}

static bool three_msgs(void *ctx)
{
    node_t **n = ctx;
    return n[0]->n_msgs >= 1 && n[1]->n_msgs >= 2;
}

static void broadcast_reaches_every_peer_but_the_excluded_one(void **state)
{
    (void)state;
    node_t a, b, c;
    node_start(&a, 0x0a);
    node_start(&b, 0x0b);
    node_start(&c, 0x0c);
    node_listen(&a, 0);
    node_dial(&b, &a, true);
    node_dial(&c, &a, true);
    node_t *bc[2] = {&b, &c};
    assert_true(run_until(both_up, bc, 3000));
    while (a.up < 2) uv_run(&loop, UV_RUN_ONCE);

    p2p_peer_t *peers[4];
    assert_int_equal(p2p_peers(a.p2p, peers, 4), 2);
    p2p_peer_t *to_b = strcmp(p2p_peer_id(peers[0]), p2p_node_id(b.p2p)) == 0 ? peers[0] : peers[1];
    assert_int_equal(p2p_broadcast(a.p2p, P2P_CH_MEMPOOL, "first", 5, to_b), 1);
    assert_int_equal(p2p_broadcast(a.p2p, P2P_CH_MEMPOOL, "second", 6, NULL), 2);
    node_t *cb[2] = {&b, &c};
    assert_true(run_until(three_msgs, cb, 3000));
    run_for(50);
    assert_int_equal(b.n_msgs, 1);
    assert_memory_equal(b.msgs[0].data, "second", 6);
    assert_int_equal(c.n_msgs, 2);
    assert_memory_equal(c.msgs[0].data, "first", 5);
    assert_memory_equal(c.msgs[1].data, "second", 6);

    stop_and_wait(&a);
    stop_and_wait(&b);
    stop_and_wait(&c);
}

static bool failed_handshakes(void *ctx)
{
    node_t **n = ctx;
    p2p_stats s0, s1;
    p2p_stats_get(n[0]->p2p, &s0);
    p2p_stats_get(n[1]->p2p, &s1);
    return s0.handshakes_failed >= 1 && s1.handshakes_failed >= 1;
}

static void dialling_the_wrong_id_is_refused_on_both_sides(void **state)
{
    (void)state;
    node_t a, b, c;
    node_start(&a, 0x0a);
    node_start(&b, 0x0b);
    node_start(&c, 0x0c);
    node_listen(&a, 0);
    /* B dials A's address but expects C's id. */
    char addr[128];
    addr_text(addr, sizeof addr, &c.key, p2p_listen_port(a.p2p));
    assert_int_equal(p2p_dial(b.p2p, addr, false), CAIRN_OK);
    node_t *ab[2] = {&a, &b};
    assert_true(run_until(failed_handshakes, ab, 3000));
    run_for(50);
    assert_int_equal(a.up, 0);
    assert_int_equal(b.up, 0);
    stop_and_wait(&a);
    stop_and_wait(&b);
    stop_and_wait(&c);
}

static void nodes_of_different_chains_refuse_each_other(void **state)
{
    (void)state;
    node_t a, b;
    p2p_config cfg;
    test_config(&cfg);
    node_start_cfg(&a, 0x0a, "chain-one", &cfg);
    node_start_cfg(&b, 0x0b, "chain-two", &cfg);
    node_listen(&a, 0);
    node_dial(&b, &a, false);
    node_t *ab[2] = {&a, &b};
    assert_true(run_until(failed_handshakes, ab, 3000));
    assert_int_equal(a.up, 0);
    assert_int_equal(b.up, 0);
    stop_and_wait(&a);
    stop_and_wait(&b);
}

static bool up_twice(void *ctx) { return ((node_t *)ctx)->up >= 2; }
static bool down_once(void *ctx) { return ((node_t *)ctx)->down >= 1; }

static void persistent_peer_reconnects_after_the_listener_restarts(void **state)
{
    (void)state;
    node_t a, b;
    node_start(&a, 0x0a);
    node_start(&b, 0x0b);
    connect_pair(&a, &b);
    uint16_t port = p2p_listen_port(a.p2p);
    stop_and_wait(&a);
    assert_true(run_until(down_once, &b, 3000));
    assert_int_equal(b.last_down, CAIRN_ECLOSED);
    run_for(100); /* B retries against a closed port meanwhile */

    node_t a2;
    node_start(&a2, 0x0a); /* same key, same port */
    node_listen(&a2, port);
    assert_true(run_until(up_twice, &b, 5000));
    assert_true(wait_msgs(&b, 0, 10));
    assert_int_equal(p2p_send(b.peer, P2P_CH_CONSENSUS, "again", 5), CAIRN_OK);
    assert_true(wait_msgs(&a2, 1, 3000));
    assert_memory_equal(a2.msgs[0].data, "again", 5);
    stop_and_wait(&a2);
    stop_and_wait(&b);
}

/* ---- raw sockets ------------------------------------------------------------- */

typedef struct {
    uv_tcp_t tcp;
    uv_connect_t conn;
    bool connected, eof, closed;
    bool do_handshake, read_after_handshake;
    p2p_hs hs;
    p2p_cipher send, recv;
    uint8_t rbuf[4096];
} raw_t;

static void raw_closed(uv_handle_t *h)
{
    ((raw_t *)h->data)->closed = true;
}

static void raw_write(raw_t *r, const void *p, size_t n)
{
    uv_buf_t b = uv_buf_init((char *)p, (unsigned)n);
    int rc = uv_try_write((uv_stream_t *)&r->tcp, &b, 1);
    assert_int_equal(rc, (int)n);
}

static void raw_alloc(uv_handle_t *h, size_t s, uv_buf_t *b)
{
    (void)s;
    raw_t *r = h->data;
    *b = uv_buf_init((char *)r->rbuf, sizeof r->rbuf);
}

static void raw_read(uv_stream_t *s, ssize_t n, const uv_buf_t *b)
{
    (void)b;
    raw_t *r = s->data;
    if (n < 0) {
        r->eof = true;
        uv_read_stop(s);
        return;
    }
    if (!r->do_handshake || p2p_hs_done(&r->hs)) return;
    size_t used;
    if (p2p_hs_feed(&r->hs, r->rbuf, (size_t)n, &used) != CAIRN_OK) return;
    size_t out_n;
    const uint8_t *out = p2p_hs_output(&r->hs, &out_n);
    if (out_n) raw_write(r, out, out_n);
    if (p2p_hs_done(&r->hs)) {
        p2p_hs_session(&r->hs, &r->send, &r->recv);
        if (!r->read_after_handshake) uv_read_stop(s);
    }
}

static void raw_on_connect(uv_connect_t *c, int status)
{
    raw_t *r = c->data;
    assert_int_equal(status, 0);
    r->connected = true;
    uv_read_start((uv_stream_t *)&r->tcp, raw_alloc, raw_read);
    if (r->do_handshake) {
        size_t n;
        const uint8_t *out = p2p_hs_output(&r->hs, &n);
        raw_write(r, out, n);
    }
}

static bool raw_is_connected(void *ctx) { return ((raw_t *)ctx)->connected; }
static bool raw_is_eof(void *ctx) { return ((raw_t *)ctx)->eof; }
static bool raw_hs_done(void *ctx) { return p2p_hs_done(&((raw_t *)ctx)->hs); }
static bool raw_is_closed(void *ctx) { return ((raw_t *)ctx)->closed; }

/* A raw TCP client; with a key it runs the real handshake as initiator. */
static void raw_connect(raw_t *r, uint16_t port, const keypair_t *key, const node_t *server,
                        bool keep_reading)
{
    memset(r, 0, sizeof *r);
    r->read_after_handshake = keep_reading;
    uv_tcp_init(&loop, &r->tcp);
    r->tcp.data = r;
    r->conn.data = r;
    if (key) {
        uint8_t want[ADDR_BYTES];
        key_address(want, server->key.pub);
        assert_int_equal(p2p_hs_init(&r->hs, true, key, CHAIN, want, NULL), CAIRN_OK);
        r->do_handshake = true;
    }
    struct sockaddr_in sa;
    uv_ip4_addr("127.0.0.1", port, &sa);
    assert_int_equal(uv_tcp_connect(&r->conn, &r->tcp, (struct sockaddr *)&sa, raw_on_connect), 0);
    assert_true(run_until(raw_is_connected, r, 3000));
    if (key) assert_true(run_until(raw_hs_done, r, 3000));
}

static void raw_close(raw_t *r)
{
    uv_close((uv_handle_t *)&r->tcp, raw_closed);
    assert_true(run_until(raw_is_closed, r, 1000));
    p2p_hs_deinit(&r->hs);
}

static void garbage_truncated_handshake_and_huge_frames_are_cut_off(void **state)
{
    (void)state;
    node_t a, b;
    node_start(&a, 0x0a);
    node_start(&b, 0x0b);
    connect_pair(&a, &b);
    uint16_t port = p2p_listen_port(a.p2p);
    keypair_t evil;
    uint8_t seed[SEED_BYTES];
    memset(seed, 0xee, sizeof seed);
    key_from_seed(&evil, seed);

    raw_t garbage, truncated, huge, tampered;
    raw_connect(&garbage, port, NULL, NULL, true);
    uint8_t junk[200];
    for (size_t i = 0; i < sizeof junk; i++) junk[i] = (uint8_t)(i * 7 + 1);
    raw_write(&garbage, junk, sizeof junk);

    raw_connect(&truncated, port, NULL, NULL, true);
    p2p_hs half;
    assert_int_equal(p2p_hs_init(&half, true, &evil, CHAIN, NULL, NULL), CAIRN_OK);
    size_t hn;
    const uint8_t *hello = p2p_hs_output(&half, &hn);
    raw_write(&truncated, hello, hn / 2);
    p2p_hs_deinit(&half);

    raw_connect(&huge, port, &evil, &a, true);
    {
        uint32_t big = (64 << 10) + 1; /* one past frame_payload_max */
        uint8_t *payload = calloc(1, big);
        uint8_t *w = malloc(p2p_frame_sealed_len(big));
        assert_int_equal(p2p_frame_seal(&huge.send, P2P_CH_CONSENSUS, payload, big, w), CAIRN_OK);
        raw_write(&huge, w, P2P_FRAME_HDR_BYTES + 100);
        free(payload);
        free(w);
    }

    memset(seed, 0xef, sizeof seed);
    keypair_t evil2;
    key_from_seed(&evil2, seed);
    raw_connect(&tampered, port, &evil2, &a, true);
    {
        uint8_t w[P2P_FRAME_OVERHEAD + 4];
        assert_int_equal(p2p_frame_seal(&tampered.send, P2P_CH_CONSENSUS, "evil", 4, w), CAIRN_OK);
        w[P2P_FRAME_HDR_BYTES + 1] ^= 1;
        raw_write(&tampered, w, sizeof w);
    }

    /* The good pair keeps talking meanwhile. */
    assert_int_equal(p2p_send(b.peer, P2P_CH_CONSENSUS, "still here", 10), CAIRN_OK);
    assert_true(run_until(raw_is_eof, &garbage, 2000));
    assert_true(run_until(raw_is_eof, &huge, 2000));
    assert_true(run_until(raw_is_eof, &tampered, 2000));
    assert_true(run_until(raw_is_eof, &truncated, 4000)); /* handshake timeout: 1 s */
    assert_int_equal(p2p_send(b.peer, P2P_CH_CONSENSUS, "and here", 8), CAIRN_OK);
    assert_true(wait_msgs(&a, 2, 2000));
    assert_memory_equal(a.msgs[0].data, "still here", 10);
    assert_memory_equal(a.msgs[1].data, "and here", 8);
    assert_int_equal(a.n_msgs, 2); /* nothing from the raw sockets got through */
    assert_int_equal(b.down, 0);
    p2p_stats s;
    p2p_stats_get(a.p2p, &s);
    assert_int_equal(s.frames_bad, 2);
    assert_true(s.handshakes_failed >= 2);
    assert_int_equal(s.peers_inbound, 1);
    /* The two that got through the handshake were reported up, then down. */
    assert_int_equal(a.up, 3);
    assert_int_equal(a.down, 2);
    assert_int_equal(a.last_down, CAIRN_EBAD_FRAME);

    raw_close(&garbage);
    raw_close(&truncated);
    raw_close(&huge);
    raw_close(&tampered);
    stop_and_wait(&a);
    stop_and_wait(&b);
}

static void a_peer_that_never_reads_is_dropped_when_its_queue_fills(void **state)
{
    (void)state;
    node_t a;
    node_start(&a, 0x0a);
    node_listen(&a, 0);
    keypair_t lazy;
    uint8_t seed[SEED_BYTES];
    memset(seed, 0x1a, sizeof seed);
    key_from_seed(&lazy, seed);
    raw_t r;
    raw_connect(&r, p2p_listen_port(a.p2p), &lazy, &a, false); /* then stops reading */
    while (a.peer == NULL) uv_run(&loop, UV_RUN_ONCE);

    static uint8_t chunk[32 << 10];
    p2p_config cfg;
    test_config(&cfg);
    cairn_err rc = CAIRN_OK;
    int sent = 0;
    size_t queue_max_seen = 0;
    for (int i = 0; i < 20000 && rc == CAIRN_OK; i++) {
        p2p_stats s;
        p2p_peer_stats_get(a.peer, &s);
        if (s.queue_bytes > queue_max_seen) queue_max_seen = s.queue_bytes;
        rc = p2p_send(a.peer, P2P_CH_BLOCKSYNC, chunk, sizeof chunk);
        if (rc == CAIRN_OK) sent++;
        if (i % 64 == 0) uv_run(&loop, UV_RUN_NOWAIT);
    }
    assert_int_equal(rc, CAIRN_ELIMIT);
    assert_true(queue_max_seen <= cfg.send_queue_bytes_max);
    assert_true(run_until(down_once, &a, 1000));
    assert_int_equal(a.last_down, CAIRN_ELIMIT);
    p2p_stats s;
    p2p_stats_get(a.p2p, &s);
    assert_int_equal(s.peers_dropped_slow, 1);
    print_message("slow peer dropped after %d frames of 32 KiB (max queue seen %zu)\n", sent,
                  queue_max_seen);
    raw_close(&r);
    stop_and_wait(&a);
}

static void inbound_limit_refuses_extra_peers(void **state)
{
    (void)state;
    node_t a, b, c;
    p2p_config cfg;
    test_config(&cfg);
    cfg.inbound_max = 1;
    node_start_cfg(&a, 0x0a, CHAIN, &cfg);
    node_start(&b, 0x0b);
    node_start(&c, 0x0c);
    connect_pair(&a, &b);
    node_dial(&c, &a, false);
    run_for(300);
    assert_int_equal(c.up, 0);
    assert_int_equal(a.up, 1);
    p2p_peer_t *peers[4];
    assert_int_equal(p2p_peers(a.p2p, peers, 4), 1);
    stop_and_wait(&a);
    stop_and_wait(&b);
    stop_and_wait(&c);
}

static void reported_peer_is_banned_and_not_let_back(void **state)
{
    (void)state;
    node_t a, b;
    node_start(&a, 0x0a);
    node_start(&b, 0x0b);
    connect_pair(&a, &b);
    for (int i = 0; i < 4; i++) p2p_peer_report(a.peer, P2P_REPORT_BAD_MESSAGE);
    assert_int_equal(a.down, 0); /* -80: not yet */
    p2p_stats s;
    p2p_peer_stats_get(a.peer, &s);
    assert_int_equal(s.score, -80);
    p2p_peer_report(a.peer, P2P_REPORT_BAD_MESSAGE);
    assert_int_equal(a.down, 1);
    assert_int_equal(a.last_down, CAIRN_EBANNED);
    assert_true(p2p_id_banned(a.p2p, p2p_node_id(b.p2p)));
    /* B is persistent and redials; A keeps refusing it. */
    run_for(400);
    assert_int_equal(a.up, 1);
    p2p_stats_get(a.p2p, &s);
    assert_int_equal(s.peers_banned, 1);
    stop_and_wait(&a);
    stop_and_wait(&b);
}

static void send_checks_size_and_dial_checks_addresses(void **state)
{
    (void)state;
    node_t a, b;
    node_start(&a, 0x0a);
    node_start(&b, 0x0b);
    assert_int_equal(p2p_channel_register(a.p2p, P2P_CH_CONSENSUS, on_msg, &a), CAIRN_EEXISTS);
    assert_int_equal(p2p_channel_register(a.p2p, 0, on_msg, &a), CAIRN_EINVALID_ARG);
    assert_int_equal(p2p_dial(a.p2p, "nothex@127.0.0.1:1", false), CAIRN_EBAD_CONFIG);
    assert_int_equal(p2p_dial(a.p2p, "0000000000000000000000000000000000000000@127.0.0.1", false),
                     CAIRN_EBAD_CONFIG);
    assert_int_equal(p2p_dial(a.p2p, "0000000000000000000000000000000000000000@[::1:1", false),
                     CAIRN_EBAD_CONFIG);
    assert_int_equal(p2p_dial(a.p2p, "0000000000000000000000000000000000000000@h:65536", false),
                     CAIRN_EBAD_CONFIG);
    char self[128];
    snprintf(self, sizeof self, "%s@127.0.0.1:1", p2p_node_id(a.p2p));
    assert_int_equal(p2p_dial(a.p2p, self, false), CAIRN_EINVALID_ARG);
    assert_int_equal(p2p_listen(a.p2p, "localhost:0"), CAIRN_EBAD_CONFIG);
    node_listen(&a, 0);
    /* A host name works too; A listens on IPv4 only. */
    char addr[128];
    snprintf(addr, sizeof addr, "%s@localhost:%u", p2p_node_id(a.p2p), p2p_listen_port(a.p2p));
    assert_int_equal(p2p_dial(b.p2p, addr, false), CAIRN_OK);
    assert_int_equal(p2p_dial(b.p2p, addr, false), CAIRN_EEXISTS);
    node_t *ab[2] = {&a, &b};
    assert_true(run_until(both_up, ab, 3000));
    static uint8_t big[(64 << 10) + 1];
    assert_int_equal(p2p_send(a.peer, P2P_CH_BLOCKSYNC, big, sizeof big), CAIRN_ETOO_LARGE);
    assert_int_equal(p2p_send(a.peer, P2P_CH_BLOCKSYNC, big, sizeof big - 1), CAIRN_OK);
    assert_true(wait_msgs(&b, 1, 3000));
    assert_int_equal(b.msgs[0].len, sizeof big - 1);
    stop_and_wait(&a);
    stop_and_wait(&b);
}

static bool one_each(void *ctx)
{
    node_t **n = ctx;
    p2p_peer_t *p[4];
    return p2p_peers(n[0]->p2p, p, 4) == 1 && p2p_peers(n[1]->p2p, p, 4) == 1 &&
           n[0]->peer && n[1]->peer;
}

static void nodes_dialling_each_other_keep_one_connection(void **state)
{
    (void)state;
    node_t a, b;
    node_start(&a, 0x0a);
    node_start(&b, 0x0b);
    node_listen(&a, 0);
    node_listen(&b, 0);
    node_dial(&a, &b, true);
    node_dial(&b, &a, true);
    node_t *ab[2] = {&a, &b};
    run_for(500);
    assert_true(run_until(one_each, ab, 3000));
    assert_int_equal(p2p_send(a.peer, P2P_CH_REPAIR, "one", 3), CAIRN_OK);
    assert_true(wait_msgs(&b, 1, 3000));
    stop_and_wait(&a);
    stop_and_wait(&b);
}

static void silent_peer_is_closed_while_pinged_peers_stay(void **state)
{
    (void)state;
    node_t a, b;
    p2p_config cfg;
    test_config(&cfg);
    cfg.ping_interval_ms = 50;
    cfg.idle_timeout_ms = 600;
    node_start_cfg(&a, 0x0a, CHAIN, &cfg);
    node_start_cfg(&b, 0x0b, CHAIN, &cfg);
    connect_pair(&a, &b);
    keypair_t mute;
    uint8_t seed[SEED_BYTES];
    memset(seed, 0x3e, sizeof seed);
    key_from_seed(&mute, seed);
    raw_t r;
    raw_connect(&r, p2p_listen_port(a.p2p), &mute, &a, true); /* reads, never writes */
    assert_true(run_until(raw_is_eof, &r, 2000));
    assert_int_equal(a.down, 1);
    assert_int_equal(a.last_down, CAIRN_ETIMEOUT);
    run_for(1200); /* twice the idle timeout with no application traffic */
    assert_int_equal(b.down, 0);
    assert_int_equal(a.down, 1);
    assert_int_equal(a.n_msgs, 0); /* pings are not delivered */
    raw_close(&r);
    stop_and_wait(&a);
    stop_and_wait(&b);
}

static bool replaced(void *ctx)
{
    node_t **n = ctx;
    return n[0]->up >= 2 && n[1]->up >= 1;
}

static void a_reconnecting_peer_replaces_its_stale_connection(void **state)
{
    (void)state;
    node_t a, b, b2;
    node_start(&a, 0x0a);
    node_start(&b, 0x0b);
    node_listen(&a, 0);
    node_dial(&b, &a, false);
    node_t *ab[2] = {&a, &b};
    assert_true(run_until(both_up, ab, 3000));
    /* B vanishes without A noticing (its socket stays open), and B's key comes
     * back as a new instance that dials A again. */
    node_start(&b2, 0x0b);
    node_dial(&b2, &a, false);
    node_t *ab2[2] = {&a, &b2};
    assert_true(run_until(replaced, ab2, 3000));
    assert_int_equal(b2.up, 1);
    assert_int_equal(a.up, 2);
    assert_int_equal(a.down, 1);
    assert_int_equal(a.last_down, CAIRN_EEXISTS);
    assert_int_equal(p2p_send(a.peer, P2P_CH_CONSENSUS, "new", 3), CAIRN_OK);
    assert_true(wait_msgs(&b2, 1, 3000));
    stop_and_wait(&a);
    stop_and_wait(&b);
    stop_and_wait(&b2);
}

static void repeated_garbage_bans_the_address(void **state)
{
    (void)state;
    node_t a, b;
    node_start(&a, 0x0a);
    node_start(&b, 0x0b);
    node_listen(&a, 0);
    uint16_t port = p2p_listen_port(a.p2p);
    uint8_t junk[P2P_HELLO_BYTES];
    memset(junk, 'J', sizeof junk);
    for (int i = 0; i < 5; i++) { /* -20 each: the fifth reaches -100 */
        raw_t r;
        raw_connect(&r, port, NULL, NULL, true);
        raw_write(&r, junk, sizeof junk);
        assert_true(run_until(raw_is_eof, &r, 2000));
        raw_close(&r);
    }
    p2p_stats s;
    p2p_stats_get(a.p2p, &s);
    assert_int_equal(s.peers_banned, 1);
    assert_int_equal(s.handshakes_failed, 5);
    /* Now even a well-behaved node from that address is turned away at once,
     * before any handshake. */
    node_dial(&b, &a, false);
    run_for(300);
    assert_int_equal(a.up, 0);
    assert_int_equal(b.up, 0);
    p2p_stats_get(a.p2p, &s);
    assert_int_equal(s.handshakes_failed, 5);
    stop_and_wait(&a);
    stop_and_wait(&b);
}

static node_t *closing_node;
static void close_from_callback(p2p_peer_t *peer, uint8_t channel, const uint8_t *msg,
                                size_t len, void *ud)
{
    on_msg(peer, channel, msg, len, ud);
    node_stop(closing_node);
}

static void closing_from_a_receive_callback_is_safe(void **state)
{
    (void)state;
    node_t a, b;
    node_start(&a, 0x0a);
    node_start(&b, 0x0b);
    assert_int_equal(p2p_channel_register(a.p2p, 0x60, close_from_callback, &a), CAIRN_OK);
    connect_pair(&a, &b);
    closing_node = &a;
    /* Several frames in one read: the ones after the close must not be delivered. */
    assert_int_equal(p2p_send(b.peer, 0x60, "stop", 4), CAIRN_OK);
    assert_int_equal(p2p_send(b.peer, 0x60, "late", 4), CAIRN_OK);
    assert_int_equal(p2p_send(b.peer, P2P_CH_CONSENSUS, "late", 4), CAIRN_OK);
    assert_true(run_until(node_closed, &a, 3000));
    assert_int_equal(a.n_msgs, 1);
    assert_int_equal(a.down, 1);
    assert_int_equal(a.last_down, CAIRN_ECLOSED);
    assert_true(run_until(down_once, &b, 3000));
    stop_and_wait(&b);
}

static void old_faults_heal_so_occasional_reports_do_not_ban(void **state)
{
    (void)state;
    node_t a, b;
    p2p_config cfg;
    test_config(&cfg);
    cfg.score_heal_ms = 5; /* one point per 5 ms */
    node_start_cfg(&a, 0x0a, CHAIN, &cfg);
    node_start(&b, 0x0b);
    connect_pair(&a, &b);
    for (int i = 0; i < 4; i++) p2p_peer_report(a.peer, P2P_REPORT_BAD_MESSAGE);
    p2p_stats s;
    p2p_peer_stats_get(a.peer, &s);
    assert_true(s.score <= -70); /* a few points may heal while we report */
    run_for(500);                /* enough to heal all 80 points */
    p2p_peer_report(a.peer, P2P_REPORT_BAD_MESSAGE);
    p2p_peer_stats_get(a.peer, &s);
    assert_int_equal(s.score, -20);
    assert_int_equal(a.down, 0);
    assert_false(p2p_id_banned(a.p2p, p2p_node_id(b.p2p)));
    stop_and_wait(&a);
    stop_and_wait(&b);
}

static void dials_beyond_outbound_max_are_refused(void **state)
{
    (void)state;
    node_t a;
    p2p_config cfg;
    test_config(&cfg);
    cfg.outbound_max = 3;
    node_start_cfg(&a, 0x0a, CHAIN, &cfg);
    char addr[128];
    for (int i = 0; i < 3; i++) { /* nobody listens on port 1: they keep retrying */
        snprintf(addr, sizeof addr, "%040d@127.0.0.1:1", i + 1);
        assert_int_equal(p2p_dial(a.p2p, addr, true), CAIRN_OK);
    }
    snprintf(addr, sizeof addr, "%040d@127.0.0.1:1", 4);
    assert_int_equal(p2p_dial(a.p2p, addr, true), CAIRN_ELIMIT);
    run_for(100);
    p2p_stats s;
    p2p_stats_get(a.p2p, &s);
    assert_int_equal(s.peers_outbound, 0);
    assert_int_equal(s.handshakes_failed, 0); /* refused connects are not handshakes */
    stop_and_wait(&a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(two_nodes_exchange_messages_on_channels_in_order,
                                        loop_setup, loop_teardown),
        cmocka_unit_test_setup_teardown(broadcast_reaches_every_peer_but_the_excluded_one,
                                        loop_setup, loop_teardown),
        cmocka_unit_test_setup_teardown(dialling_the_wrong_id_is_refused_on_both_sides,
                                        loop_setup, loop_teardown),
        cmocka_unit_test_setup_teardown(nodes_of_different_chains_refuse_each_other, loop_setup,
                                        loop_teardown),
        cmocka_unit_test_setup_teardown(persistent_peer_reconnects_after_the_listener_restarts,
                                        loop_setup, loop_teardown),
        cmocka_unit_test_setup_teardown(garbage_truncated_handshake_and_huge_frames_are_cut_off,
                                        loop_setup, loop_teardown),
        cmocka_unit_test_setup_teardown(a_peer_that_never_reads_is_dropped_when_its_queue_fills,
                                        loop_setup, loop_teardown),
        cmocka_unit_test_setup_teardown(inbound_limit_refuses_extra_peers, loop_setup,
                                        loop_teardown),
        cmocka_unit_test_setup_teardown(reported_peer_is_banned_and_not_let_back, loop_setup,
                                        loop_teardown),
        cmocka_unit_test_setup_teardown(send_checks_size_and_dial_checks_addresses,
                                        loop_setup, loop_teardown),
        cmocka_unit_test_setup_teardown(nodes_dialling_each_other_keep_one_connection,
                                        loop_setup, loop_teardown),
        cmocka_unit_test_setup_teardown(silent_peer_is_closed_while_pinged_peers_stay,
                                        loop_setup, loop_teardown),
        cmocka_unit_test_setup_teardown(a_reconnecting_peer_replaces_its_stale_connection,
                                        loop_setup, loop_teardown),
        cmocka_unit_test_setup_teardown(repeated_garbage_bans_the_address, loop_setup,
                                        loop_teardown),
        cmocka_unit_test_setup_teardown(closing_from_a_receive_callback_is_safe, loop_setup,
                                        loop_teardown),
        cmocka_unit_test_setup_teardown(old_faults_heal_so_occasional_reports_do_not_ban,
                                        loop_setup, loop_teardown),
        cmocka_unit_test_setup_teardown(dials_beyond_outbound_max_are_refused, loop_setup,
                                        loop_teardown),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
