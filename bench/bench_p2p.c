/* bench_p2p - handshakes per second and encrypted frame throughput.
 *
 *   1. handshake state machine in memory (CPU cost of one handshake pair)
 *   2. full connection setup over 127.0.0.1 (TCP connect, HELLO/AUTH, peer up)
 *   3. payload throughput over 127.0.0.1 for 1 KiB and 64 KiB frames
 * Both ends of the loopback runs share one libuv loop and one core, so the
 * numbers include encryption and decryption of every byte on that core.
 * Usage: bench_p2p [seconds per case, default 2]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <uv.h>

#include "base/log.h"
#include "crypto/crypto.h"
#include "p2p/handshake.h"
#include "p2p/p2p.h"

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static keypair_t ka, kb;

static void bench_hs_memory(double secs)
{
    double t0 = now_s(), t;
    long n = 0;
    do {
        p2p_hs i, r;
        if (p2p_hs_init(&i, true, &ka, "bench", NULL, NULL) != CAIRN_OK ||
            p2p_hs_init(&r, false, &kb, "bench", NULL, NULL) != CAIRN_OK)
            exit(1);
        for (int round = 0; round < 3; round++) {
            size_t len, used;
            uint8_t buf[512];
            const uint8_t *p = p2p_hs_output(&i, &len);
            memcpy(buf, p, len);
            if (len && p2p_hs_feed(&r, buf, len, &used) != CAIRN_OK) exit(2);
            p = p2p_hs_output(&r, &len);
            memcpy(buf, p, len);
            if (len && p2p_hs_feed(&i, buf, len, &used) != CAIRN_OK) exit(3);
        }
        if (!p2p_hs_done(&i) || !p2p_hs_done(&r)) exit(4);
        p2p_hs_deinit(&i);
        p2p_hs_deinit(&r);
        n++;
        t = now_s() - t0;
    } while (t < secs);
    printf("handshake (state machine, both sides, in memory): %.0f handshakes/s\n", n / t);
}

typedef struct {
    int up, down;
    p2p_peer_t *peer;
    uint64_t bytes;
} side_t;

static void on_up(p2p_peer_t *p, void *ud)
{
    side_t *s = ud;
    s->up++;
    s->peer = p;
}
static void on_down(p2p_peer_t *p, cairn_err reason, void *ud)
{
    (void)reason;
    side_t *s = ud;
    s->down++;
    if (s->peer == p) s->peer = NULL;
}
static void on_msg(p2p_peer_t *p, uint8_t ch, const uint8_t *m, size_t n, void *ud)
{
    (void)p;
    (void)ch;
    (void)m;
    ((side_t *)ud)->bytes += n;
}

static uv_loop_t loop;
static p2p_t *pa, *pb;
static side_t sa, sb;
static char a_addr[128];

static void setup_pair(void)
{
    p2p_config cfg;
    p2p_config_default(&cfg);
    cfg.dial_backoff_min_ms = 1;
    cfg.dial_backoff_max_ms = 10;
    if (p2p_new(&loop, &cfg, &ka, "bench", &pa) != CAIRN_OK ||
        p2p_new(&loop, &cfg, &kb, "bench", &pb) != CAIRN_OK)
        exit(5);
    p2p_peer_callbacks_set(pa, on_up, on_down, &sa);
    p2p_peer_callbacks_set(pb, on_up, on_down, &sb);
    if (p2p_channel_register(pa, P2P_CH_BLOCKSYNC, on_msg, &sa) != CAIRN_OK ||
        p2p_channel_register(pb, P2P_CH_BLOCKSYNC, on_msg, &sb) != CAIRN_OK ||
        p2p_listen(pa, "127.0.0.1:0") != CAIRN_OK)
        exit(6);
    snprintf(a_addr, sizeof a_addr, "%s@127.0.0.1:%u", p2p_node_id(pa), p2p_listen_port(pa));
}

static void bench_hs_loopback(double secs)
{
    double t0 = now_s(), t;
    int n = 0;
    do {
        int want = sb.up + 1;
        if (p2p_dial(pb, a_addr, false) != CAIRN_OK) exit(7);
        while (sb.up < want || sa.up < want) uv_run(&loop, UV_RUN_ONCE);
        p2p_peer_close(sb.peer, CAIRN_ECLOSED);
        while (sa.down < want) uv_run(&loop, UV_RUN_ONCE);
        n++;
        t = now_s() - t0;
    } while (t < secs);
    printf("connection setup over loopback (TCP + handshake + peer up): %.0f handshakes/s\n",
           n / t);
}

static void bench_throughput(double secs, size_t frame)
{
    if (sb.peer == NULL) {
        int want = sb.up + 1;
        if (p2p_dial(pb, a_addr, true) != CAIRN_OK) exit(8);
        while (sb.up < want || sa.up < want) uv_run(&loop, UV_RUN_ONCE);
    }
    uint8_t *buf = calloc(1, frame);
    sa.bytes = 0;
    uint64_t sent = 0;
    double t0 = now_s();
    while (now_s() - t0 < secs) {
        p2p_stats st;
        p2p_peer_stats_get(sb.peer, &st);
        for (int k = 0; k < 64 && st.queue_bytes < ((size_t)2 << 20); k++) {
            if (p2p_send(sb.peer, P2P_CH_BLOCKSYNC, buf, frame) != CAIRN_OK) exit(9);
            sent += frame;
            p2p_peer_stats_get(sb.peer, &st);
        }
        uv_run(&loop, UV_RUN_NOWAIT);
    }
    while (sa.bytes < sent) uv_run(&loop, UV_RUN_ONCE);
    double t = now_s() - t0;
    printf("encrypted frames over loopback, %6zu-byte payloads: %.1f MB/s (%.0f frames/s)\n",
           frame, (double)sa.bytes / t / 1e6, (double)sa.bytes / (double)frame / t);
    free(buf);
}

static int closed;
static void on_closed(void *ud)
{
    (void)ud;
    closed++;
}

int main(int argc, char **argv)
{
    double secs = argc > 1 ? atof(argv[1]) : 2.0;
    if (crypto_init() != CAIRN_OK) return 1;
    log_level_set(LOG_WARN);
    key_generate(&ka);
    key_generate(&kb);
    bench_hs_memory(secs);
    uv_loop_init(&loop);
    setup_pair();
    bench_hs_loopback(secs);
    bench_throughput(secs, 1024);
    bench_throughput(secs, 64 << 10);
    bench_throughput(secs, 1 << 20);
    p2p_close(pa, on_closed, NULL);
    p2p_close(pb, on_closed, NULL);
    while (closed < 2) uv_run(&loop, UV_RUN_ONCE);
    return uv_loop_close(&loop) == 0 ? 0 : 1;
}
