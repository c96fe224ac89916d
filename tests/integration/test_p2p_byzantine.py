"""Real nodes against a scripted, misbehaving p2p peer (p2ppeer.py).

One 4-validator network (plus one full node, started only for the forged-block
case) serves every case, so the whole file runs in well under 90 s:

  lying_status   a peer claims height 10^9 and never serves a block: the node
                 does not report catching_up, and the network keeps committing
  forged_blocks  a peer answers a syncing full node's block requests with real
                 blocks it tampered with: the full node commits none of them,
                 bans the peer, and syncs the validators' chain from an honest one
  garbage        garbage frames after a valid handshake: the node drops the
                 connection, keeps committing, and a new connection works
  flood          10,000 status messages and 10,000 block requests as fast as
                 the socket takes them: RPC stays responsive, blocks keep coming

  silent_server  a peer announces the validators' real height, keeps the
                 connection alive and never answers a block request: a full
                 node must still sync from its honest peers in good time

Usage: python3 test_p2p_byzantine.py [case ...]   (default: all)
"""
import os
import random
import signal
import socket
import sys
import threading
import time

from cairnnet import Net, log
import p2ppeer as pp

CASES = ["lying_status", "garbage", "flood", "silent_server",
         "forged_blocks"]  # forged last: a longer chain to sync


def node_id(node):
    return node.rpc("status")["node_info"]["id"]


def dial(node, **kw):
    return pp.Peer("127.0.0.1", node.p2p_port, **kw)


def heights(nodes):
    return [n.height() for n in nodes]


def assert_advancing(nodes, by, timeout=30):
    """Every node in `nodes` commits `by` more blocks within timeout."""
    start = heights(nodes)
    for n, h in zip(nodes, start):
        n.wait_height(h + by, timeout=timeout)


# ---- a: a peer that claims a height it cannot prove ----------------------------

def case_lying_status(net, vals):
    liars = []
    for v in vals[:2]:
        p = dial(v, expect_id=node_id(v))
        p.send_status(1, 10**9)
        requests = []
        p.start_reader(lambda ch, pl, r=requests: r.append(pl) if ch == pp.CH_SYNC and
                       pl[:1] == bytes([pp.MSG_BLOCK_REQUEST]) else None)
        liars.append((p, requests))
    start = heights(vals)
    seen = []
    end = time.time() + 10
    while time.time() < end:
        for v in vals[:2]:
            st = v.rpc("status", timeout=5)["sync_info"]
            seen.append(st["catching_up"])
            assert st["catching_up"] is False, \
                f"node{v.index} reports catching_up on a height only claimed: {st}"
        time.sleep(0.2)
    # The lie did reach the node: it asked the liar for blocks it claimed.
    asked = sum(len(r) for _, r in liars)
    assert asked > 0, "the nodes never asked the lying peer for a block"
    for p, _ in liars:
        assert not p.closed.is_set(), "node dropped the liar before the check ran"
        p.close()
    end_h = heights(vals)
    for v, a, b in zip(vals, start, end_h):
        assert b >= a + 3, f"node{v.index} went from {a} to {b} in 10 s"
    log(f"lying_status: {len(seen)} status polls, never catching_up; "
        f"{asked} block requests to the liars; heights {start} -> {end_h}")


# ---- b: forged blocks to a syncing full node -------------------------------------

def tamper_header(block):
    """A byte of the header's app_hash flipped: the header no longer hashes to
    the id the commit signs. Offset: version u8, chain id (u32 + bytes), height
    u64, time i64, five 32-byte hashes."""
    cid_len = int.from_bytes(block[1:5], "little")
    off = 1 + 4 + cid_len + 8 + 8 + 5 * 32
    b = bytearray(block)
    b[off] ^= 0x01
    return bytes(b)


def tamper_signatures(commit):
    """Every signature of the commit with one bit flipped (commit layout:
    version u8, height u64, round u32, block id 32, n u32, then per slot a flag
    u8 and, unless absent (1), address 20, time i64, signature 64)."""
    c = bytearray(commit)
    n = int.from_bytes(c[45:49], "little")
    off = 49
    for _ in range(n):
        flag = c[off]
        off += 1
        if flag == 1:
            continue
        c[off + 20 + 8] ^= 0x80
        off += 20 + 8 + 64
    assert off == len(c), "commit layout not as expected"
    return bytes(c)


def case_forged_blocks(net, vals, full):
    # Real blocks and commits, fetched over p2p from a validator.
    src = dial(vals[1], expect_id=node_id(vals[1]))
    top = vals[1].height()
    real = {}
    for h in range(1, top + 1):
        got = src.fetch_block(h)
        assert got is not None, f"validator has no block {h}"
        real[h] = got
    src.close()
    forgeries = [
        ("header", lambda h: (tamper_header(real[h][0]), real[h][1])),
        ("signatures", lambda h: (real[h][0], tamper_signatures(real[h][1]))),
        ("other height", lambda h: real[h + 1] if h + 1 in real else real[h - 1]),
    ]

    # The validators (the full node's persistent peers, which also dial it) are
    # frozen while the forger talks, so the forger is the only peer it can ask.
    # Their connections to the full node complete once they resume.
    for v in vals:
        v.pause()
    try:
        full.start()
        deadline = time.time() + 15
        forger = None
        while forger is None:
            try:
                forger = dial(full)
            except (OSError, pp.Closed):
                if time.time() > deadline:
                    raise
                time.sleep(0.1)
        served = []
        lock = threading.Lock()

        def on_frame(ch, pl):
            if ch != pp.CH_SYNC:
                return
            m = pp.decode_sync(pl)
            if m["kind"] != pp.MSG_BLOCK_REQUEST:
                return
            h = m["height"]
            with lock:
                kind, forge = forgeries[len(served) % len(forgeries)]
                served.append((h, kind))
            block, commit = forge(h) if h in real else (b"\0", b"\0")
            try:
                forger.send(pp.CH_SYNC, pp.enc_block_response(h, block, commit))
            except (OSError, pp.Closed):
                pass

        forger.start_reader(on_frame)
        forger.send_status(1, top)
        # Five refused blocks cost 5 x 20 points: the forger is banned.
        assert forger.closed.wait(15), f"full node still talks to the forger; served {served}"
        kinds = {k for _, k in served}
        assert kinds == {k for k, _ in forgeries}, f"not every forgery was tried: {served}"
        fh = full.height()
        assert fh == 0, f"full node committed a forged block: height {fh}"
        st = full.rpc("status")["sync_info"]
        assert st["catching_up"] is False, st
        # Banned: the same identity is refused after the handshake.
        again = pp.Peer("127.0.0.1", full.p2p_port, keypair=(forger.pub, forger.sec))
        assert again.wait_closed(5), "a banned forger was let back in"
        again.close()
    finally:
        for v in vals:
            v.resume()
    target = max(heights(vals))
    full.wait_height(target, timeout=40)
    for h in range(1, target + 1):
        want = vals[1].block_hash(h)
        got = full.block_hash(h)
        assert got == want, f"full node has {got} at height {h}, validators {want}"
    log(f"forged_blocks: {len(served)} forged responses {sorted({k for _, k in served})} "
        f"refused, forger banned; full node synced 1..{target} = validators' chain")


# ---- a peer that announces real heights and never serves them ------------------------

def case_silent_server(net, vals, full):
    """Found with this peer: in src/node/sync.c a request that timed out
    (NODE_SYNC_REQUEST_TIMEOUT_MS, 5 s) cost the peer nothing, and pick_peer
    broke in_flight ties by the order of p2p_peers(); when the silent peer came
    first, the next height the node needed (tip + 1, which every later block
    waits for) went back to it each round. With keep-alives it never synced
    (seen: 60 s at height 0; failed 6 of 8 runs). Now a timeout counts against
    the peer and pick_peer prefers peers that answer."""
    top = vals[0].height()
    for v in vals:
        v.pause()
    try:
        full.start()
        deadline = time.time() + 15
        silent = None
        while silent is None:
            try:
                silent = dial(full)
            except (OSError, pp.Closed):
                if time.time() > deadline:
                    raise
                time.sleep(0.1)
        asked = []
        silent.start_reader(lambda ch, pl: asked.append(pp.decode_sync(pl)["height"])
                            if ch == pp.CH_SYNC and pl[0] == pp.MSG_BLOCK_REQUEST else None)
        silent.send_status(1, top)
        time.sleep(0.3)
    finally:
        for v in vals:
            v.resume()
    t0 = time.time()
    stop = threading.Event()

    def keep_alive():  # what a real attacker does: look alive, answer nothing
        while not stop.wait(5):
            try:
                silent.send_status(1, top)
            except (OSError, pp.Closed):
                return
    threading.Thread(target=keep_alive, daemon=True).start()
    try:
        full.wait_height(top, timeout=20)
    except AssertionError:
        raise AssertionError(f"full node at {full.height()} of {top} after 20 s with one "
                             f"silent peer; it asked the silent peer for heights "
                             f"{sorted(asked)}") from None
    finally:
        stop.set()
        silent.close()
    log(f"silent_server: synced 1..{top} in {time.time() - t0:.1f}s; silent peer was "
        f"asked for {sorted(asked)}")
    # it is every other node's persistent peer: left running, it would serve the
    # full node of forged_blocks the real chain behind the forger's back
    assert full.stop() == 0, "silent_server's full node did not stop cleanly"



# ---- c: garbage after a valid handshake --------------------------------------------

def expect_dropped(node, what, frames, timeout=5):
    """Opens a fresh connection, sends `frames(peer)`, expects EOF/reset."""
    p = dial(node, expect_id=node_id(node))
    frames(p)
    ok = p.wait_closed(timeout)
    p.close()
    assert ok, f"{what}: node kept the connection open {timeout}s"
    # A new connection (new identity) still gets a working session.
    q = dial(node, expect_id=node_id(node))
    for _ in range(20):
        ch, pl = q.recv(timeout=5)
        if ch == pp.CH_SYNC and pp.decode_sync(pl)["kind"] == pp.MSG_STATUS:
            break
    else:
        raise AssertionError(f"{what}: reconnected peer got no status")
    q.close()


def frame_limit(node):
    """The node's [p2p] max_frame_bytes (config.c default 10 MiB)."""
    with open(os.path.join(node.home, "config", "config.ini")) as f:
        for line in f:
            k, _, v = line.partition("=")
            if k.strip() == "max_frame_bytes":
                return int(v.split("#")[0])
    return 10 << 20


def case_garbage(net, vals):
    node = vals[0]
    rng = random.Random(int(os.environ.get("SEED", "11")))
    start = heights(vals)

    def garbage_on(ch, count):
        def send(p):
            for _ in range(count):
                try:
                    p.send(ch, bytes(rng.randrange(256) for _ in range(rng.randrange(30, 300))))
                except pp.Closed:
                    return
        return send

    # Undecodable messages cost 20 points each (docs/p2p.md): the 5th bans.
    for ch in (pp.CH_CONSENSUS, pp.CH_MEMPOOL, pp.CH_SYNC):
        expect_dropped(node, f"random bytes on channel 0x{ch:02x}", garbage_on(ch, 6))
    # A frame on an unregistered channel costs 10: the 10th bans. The node
    # registers no handler for CH_REPAIR (0x50) yet, so it counts as one; so
    # does the handshake channel 0x00 once the handshake is over.
    for ch in (pp.CH_REPAIR, 0x77, pp.CH_HANDSHAKE):
        expect_dropped(node, f"random bytes on channel 0x{ch:02x}", garbage_on(ch, 12))

    def truncated(p):
        msgs = [pp.enc_status(1, 5)[:9], pp.enc_block_request(3)[:5], bytes([pp.MSG_BLOCK_RESPONSE]),
                pp.enc_block_response(1, b"x" * 50, b"y" * 50)[:60], pp.enc_no_block(2)[:1],
                pp.enc_status(1, 5) + b"\0"]  # trailing byte
        for m in msgs:
            try:
                p.send(pp.CH_SYNC, m)
            except pp.Closed:
                return
    expect_dropped(node, "truncated sync messages", truncated)

    # Well-formed gossip whose transactions do not decode or verify: honest
    # peers relay only transactions they checked, so each message costs 50
    # points (the 2nd bans), once the pool has checked the signatures.
    def bad_txs(p):
        for _ in range(3):
            try:
                p.send(pp.CH_MEMPOOL, pp.enc_txs([os.urandom(120) for _ in range(4)]))
            except pp.Closed:
                return
    expect_dropped(node, "gossiped transactions that do not verify", bad_txs)
    # Keep-alives are empty; bytes in one cost 20 points: the 5th bans.
    expect_dropped(node, "keep-alives with a payload", garbage_on(pp.CH_PING, 6))
    # A frame header announcing one byte over the node's limit ([p2p]
    # max_frame_bytes), or 4 GiB: closed at the header, before any body.
    limit = frame_limit(node)
    for n in (limit + 1, 2**32 - 1):
        expect_dropped(node, f"length {n}", lambda p, n=n: p.send_header_only(pp.CH_SYNC, n))
    # Bytes that are no frame at all (the MAC fails): closed at once.
    expect_dropped(node, "raw bytes", lambda p: p.send_raw(os.urandom(200)))

    # After one bad frame (-50) the same identity may come back.
    p = dial(node)
    ident = (p.pub, p.sec)
    p.send_raw(os.urandom(64))
    assert p.wait_closed(5)
    p.close()
    q = pp.Peer("127.0.0.1", node.p2p_port, keypair=ident)
    q.send_status(1, 1)
    assert not q.wait_closed(1.0), "one bad frame should not ban a node id"
    q.close()

    assert_advancing(vals, 3)
    assert node.running()
    n_peers = int(node.rpc("net_info")["n_peers"])
    assert n_peers >= 3, f"node0 lost its validator peers: {n_peers}"
    log(f"garbage: 10 kinds dropped, reconnect ok; heights {start} -> {heights(vals)}")


# ---- d: a flood ------------------------------------------------------------------------

def case_flood(net, vals):
    node = vals[0]
    rng = random.Random(int(os.environ.get("SEED", "13")))
    p = dial(node, expect_id=node_id(node))
    answers = {"resp": 0, "none": 0}

    def on_frame(ch, pl):
        if ch == pp.CH_SYNC and pl[0] == pp.MSG_BLOCK_RESPONSE:
            answers["resp"] += 1
        elif ch == pp.CH_SYNC and pl[0] == pp.MSG_NO_BLOCK:
            answers["none"] += 1
    p.start_reader(on_frame)

    health = {"ok": 0, "worst": 0.0, "errors": []}
    stop = threading.Event()

    def poll():
        while not stop.is_set():
            t = time.time()
            try:
                node.rpc("health", timeout=5)
                health["ok"] += 1
            except Exception as e:  # timeout or refused: the flood starved RPC
                health["errors"].append(repr(e))
            health["worst"] = max(health["worst"], time.time() - t)
            time.sleep(0.02)
    poller = threading.Thread(target=poll, daemon=True)
    poller.start()

    start = heights(vals)
    t0 = time.time()
    top = node.height()
    n = 10000
    statuses = [pp.enc_status(1, rng.randrange(1, 10**9)) for _ in range(n)]
    requests = [pp.enc_block_request(rng.choice([rng.randrange(1, top + 1),
                                                 rng.randrange(1, 2**63)])) for _ in range(n)]
    for i in range(0, n, 500):
        p.send_many(pp.CH_SYNC, statuses[i:i + 500])
        p.send_many(pp.CH_SYNC, requests[i:i + 500])
    sent_s = time.time() - t0
    end = time.time() + 20
    while answers["resp"] + answers["none"] < n and time.time() < end and not p.closed.is_set():
        time.sleep(0.1)
    flood_s = time.time() - t0
    stop.set()
    poller.join()
    answered = answers["resp"] + answers["none"]
    assert not health["errors"], f"RPC failed during the flood: {health['errors'][:3]}"
    assert health["ok"] > 0
    assert_advancing(vals, 3)
    n_peers = int(node.rpc("net_info")["n_peers"])
    assert n_peers >= 3, f"node0 lost its validator peers: {n_peers}"
    st = node.rpc("status")["sync_info"]
    assert st["catching_up"] is False, f"10,000 unproven heights made node0 catch up: {st}"
    p.close()
    log(f"flood: {2 * n} frames written in {sent_s:.1f}s, {answered}/{n} requests answered "
        f"({answers['resp']} blocks) in {flood_s:.1f}s, flooder "
        f"{'dropped' if p.closed.is_set() and answered < n else 'kept'}; "
        f"/health {health['ok']} ok, slowest {health['worst']:.2f}s; "
        f"heights {start} -> {heights(vals)}")


def run(cases):
    t0 = time.time()
    net = Net(validators=4, full_nodes=2)
    log(f"network in {net.dir}")
    vals, full = net.nodes[:4], net.nodes[4]  # nodes[5]: silent_server's full node
    try:
        net.start(range(4))
        net.wait_height(3, nodes=vals)
        for c in cases:
            t = time.time()
            log(f"case {c}")
            if c == "lying_status":
                case_lying_status(net, vals)
            elif c == "forged_blocks":
                case_forged_blocks(net, vals, full)
            elif c == "garbage":
                case_garbage(net, vals)
            elif c == "flood":
                case_flood(net, vals)
            elif c == "silent_server":
                case_silent_server(net, vals, net.nodes[5])
            else:
                raise ValueError(f"unknown case {c}; cases: {CASES}")
            log(f"ok {c} ({time.time() - t:.1f}s)")
        net.check_same_chain(min(n.height() for n in vals), nodes=vals)
    finally:
        for v in vals:
            if v.running():
                v.resume()
        net.close()
    return time.time() - t0


def main():
    cases = sys.argv[1:] or CASES
    try:
        took = run(cases)
    except Exception:
        import traceback
        traceback.print_exc()
        print("FAIL test_p2p_byzantine " + " ".join(cases))
        sys.exit(1)
    print(f"ok test_p2p_byzantine {' '.join(cases)} ({took:.0f}s)")


if __name__ == "__main__":
    main()
