"""A node repairs its own damaged store from its peers while it keeps serving.

Four validators commit blocks with transactions. One node is stopped (by pid),
and RocksDB's own tool (ldb, as test_store_damage.sh) damages four records of
four heights in its store: a block body, a seen commit, a results record and a
tx index entry. Restarted with a short scrub interval, the node must:
  - answer RPC reads of the damaged heights with a clear "damaged ... repair in
    progress" error (never the damaged data);
  - repair every damaged height from its peers (repair_status and the metrics
    cairn_store_repairs_total / cairn_store_repair_pending show it);
  - then serve the same blocks, commits, results and txs as the other nodes;
  - scrub clean with `cairn scrub` once stopped;
while the network keeps committing throughout. A second round damages two
adjacent blocks nobody reads: the periodic scrub alone finds and repairs them.
"""
import base64
import os
import re
import subprocess
import time

from cairnnet import CAIRN, Net, RpcError, log, main
from test_net_commit import address_of, make_tx


def ldb(db, cf, *args):
    out = subprocess.run(["ldb", f"--db={db}", f"--column_family={cf}", *args],
                         check=True, capture_output=True, text=True)
    return out.stdout.strip()


def hkey(h):
    return "0x%016X" % h


def get_hex(db, cf, key):
    return ldb(db, cf, "get", "--key_hex", "--value_hex", key)


def put_hex(db, cf, key, val):
    ldb(db, cf, "put", "--key_hex", "--value_hex", key, val)


def flip(val_hex, offset):
    v = bytearray.fromhex(val_hex[2:])
    v[offset] ^= 0x20
    return "0x" + v.hex().upper()


def wait_repaired(node, heights, timeout=60):
    """Until repair_status lists every height among the recent repairs (the node
    may still be starting)."""
    deadline, st = time.time() + timeout, None
    while time.time() < deadline:
        try:
            st = node.rpc("repair_status", timeout=3)
        except (OSError, RpcError):
            time.sleep(0.3)
            continue
        if heights <= {int(r["height"]) for r in st["recent"]}:
            return st
        time.sleep(0.3)
    raise AssertionError(f"heights {sorted(heights)} not repaired: {st}")


def first_sig_offset(val_hex):
    """Offset of the first present signature in an encoded commit (commit.c:
    version u8, height u64, round u32, block id[32], u32 slots, then per slot a
    flag u8 and, unless absent (flag 1), address[20] time i64 signature[64])."""
    v = bytes.fromhex(val_hex[2:])
    off = 1 + 8 + 4 + 32 + 4
    while off < len(v):
        if v[off] == 1:
            off += 1
            continue
        return off + 1 + 20 + 8
    raise AssertionError("no signature in the commit")


def expect_damaged(fn, what):
    try:
        fn()
    except RpcError as e:
        text = str(e)
        assert "damaged in this node's store" in text and "repair" in text, (what, text)
        log(f"  {what}: {e.err.get('data')}")
        return
    raise AssertionError(f"{what}: the damaged record was served")


def metric(node, name, labels=""):
    text = node.get("/metrics").decode()
    pat = re.escape(name) + (r"\{" + re.escape(labels) + r"\}" if labels else "") + r" ([0-9.e+]+)"
    m = re.search(pat, text)
    return float(m.group(1)) if m else None


def hash_b64(hex_hash):
    return base64.b64encode(bytes.fromhex(hex_hash)).decode()


def test_node_repairs_damaged_heights_from_peers():
    net = Net(validators=4).start()
    net.wait_height(2, timeout=60)
    n0, victim = net.nodes[0], net.nodes[3]
    to = address_of(net, "user7")

    # Four txs, each in its own block (broadcast_tx_commit waits for the block).
    txs = []  # (height, hex hash)
    for nonce in range(4):
        r = n0.rpc("broadcast_tx_commit", tx=make_tx(net, "user0", to, 5 + nonce, nonce),
                   timeout=30)
        assert r["tx_result"]["code"] == 0, r
        txs.append((int(r["height"]), r["hash"]))
    heights = [h for h, _ in txs]
    assert len(set(heights)) == 4, heights
    log(f"txs committed at heights {heights}")
    net.wait_height(max(heights) + 2, timeout=60)

    assert victim.stop() == 0
    db = os.path.join(victim.home, "data", "store")
    h_block, h_commit, h_results, h_txidx = heights
    good = {h: n0.block_hash(h) for h in heights}
    good_results = n0.rpc("block_results", height=str(h_results))

    # 1. a block body: one flipped byte in the middle
    v = get_hex(db, "blocks", hkey(h_block))
    put_hex(db, "blocks", hkey(h_block), flip(v, (len(v) - 2) // 4))
    # 2. a seen commit: truncated (the store checks that it decodes and names the
    # block; its signatures are checked by whoever receives it, docs/storage.md)
    v = get_hex(db, "commits", hkey(h_commit))
    put_hex(db, "commits", hkey(h_commit), v[:-20])
    # 3. a results record: one flipped byte (its seal no longer matches)
    v = get_hex(db, "results", hkey(h_results))
    put_hex(db, "results", hkey(h_results), flip(v, 3))
    # 4. a tx index entry: a value of the wrong shape
    put_hex(db, "tx_index", "0x" + txs[3][1], "0x0102030405")
    log(f"damaged: block {h_block}, seen commit {h_commit}, results {h_results}, "
        f"tx index entry of the tx at {h_txidx}")

    victim.set_config("storage", "scrub_interval_s", 4)
    h_before = n0.height()
    victim.start()
    deadline = time.time() + 30
    while victim.height() < 0:
        assert time.time() < deadline, "restarted node does not answer RPC"
        time.sleep(0.1)

    # Before any repair: clear errors, never the damaged data.
    expect_damaged(lambda: victim.rpc("block", height=str(h_block)), f"block {h_block}")
    expect_damaged(lambda: victim.rpc("commit", height=str(h_commit)), f"commit {h_commit}")
    expect_damaged(lambda: victim.rpc("block_results", height=str(h_results)),
                   f"block_results {h_results}")
    expect_damaged(lambda: victim.rpc("tx", hash=hash_b64(txs[3][1])), f"tx at {h_txidx}")

    # Repair from peers: the RPC reads queued three heights, the scrub finds the
    # tx index entry (and anything else).
    deadline = time.time() + 60
    st = None
    while time.time() < deadline:
        st = victim.rpc("repair_status")
        repaired = {int(r["height"]) for r in st["recent"]}
        if set(heights) <= repaired and st["pending_count"] == "0":
            break
        time.sleep(0.5)
    log(f"repair_status: {st}")
    assert set(heights) <= {int(r["height"]) for r in st["recent"]}, st
    assert st["pending_count"] == "0", st
    assert int(st["outcomes"]["repaired"]) >= 4, st
    deadline = time.time() + 5  # metrics are refreshed every second
    while time.time() < deadline and (metric(victim, "cairn_store_repairs_total",
                                             'outcome="repaired"') or 0) < 4:
        time.sleep(0.3)
    assert metric(victim, "cairn_store_repairs_total", 'outcome="repaired"') >= 4
    assert metric(victim, "cairn_store_repair_pending") == 0
    with open(victim.log_path) as f:
        logtext = f.read()
    for h in heights:
        assert re.search(rf"repair: height {h} repaired from peer [0-9a-f]+", logtext), h

    # Served again, identical to the other nodes.
    for h in heights:
        assert victim.block_hash(h) == good[h], (h, victim.block_hash(h), good[h])
    c = victim.rpc("commit", height=str(h_commit))
    assert c["signed_header"]["commit"]["block_id"]["hash"] == good[h_commit]
    assert victim.rpc("block_results", height=str(h_results)) == good_results
    t = victim.rpc("tx", hash=hash_b64(txs[3][1]))
    assert t["height"] == str(h_txidx) and t["hash"] == txs[3][1], t

    # The network kept committing, and the repaired node follows it.
    n0.wait_height(h_before + 3, timeout=30)
    h_now = n0.height()
    victim.wait_height(h_now, timeout=30)
    net.check_same_chain(h_now)

    # Stopped, the repaired store scrubs clean.
    assert victim.stop() == 0
    out = subprocess.run([CAIRN, "scrub", "--home", victim.home], capture_output=True, text=True)
    assert out.returncode == 0, out.stdout + out.stderr
    log("cairn scrub on the repaired store: intact")

    # Damage nobody reads: only the periodic scrub can find it. Two adjacent
    # heights, so the lower one must wait for the upper one's header.
    h1, h2 = h_block + 1, h_block + 2
    for h in (h1, h2):
        v = get_hex(db, "blocks", hkey(h))
        put_hex(db, "blocks", hkey(h), flip(v, (len(v) - 2) // 3))
    good2 = {h: n0.block_hash(h) for h in (h1, h2)}
    victim.set_config("storage", "scrub_interval_s", 2)
    victim.start()
    wait_repaired(victim, {h1, h2})
    with open(victim.log_path) as f:
        logtext = f.read()
    for h in (h1, h2):
        assert re.search(rf"repair: height {h} is damaged in the store \(found by scrub\)",
                         logtext), h
        assert victim.block_hash(h) == good2[h]
    log(f"heights {h1} and {h2}, found by the periodic scrub, repaired")
    assert victim.stop() == 0
    out = subprocess.run([CAIRN, "scrub", "--home", victim.home], capture_output=True, text=True)
    assert out.returncode == 0, out.stdout + out.stderr

    # A forged signature in a seen commit: the record still decodes and names
    # its block, so the store's own checks pass; the node's scrub verifies the
    # signatures against the validators and has the height repaired.
    h3 = h_block + 3
    v = get_hex(db, "commits", hkey(h3))
    put_hex(db, "commits", hkey(h3), flip(v, first_sig_offset(v) + 10))
    # the offline scrub checks the signatures too, and names the height
    out = subprocess.run([CAIRN, "scrub", "--home", victim.home], capture_output=True, text=True)
    assert out.returncode == 1, out.stdout + out.stderr
    assert f"commits/{h3}: the seen commit's signatures do not verify" in out.stdout, out.stdout
    victim.start()
    wait_repaired(victim, {h3})
    with open(victim.log_path) as f:
        logtext = f.read()
    assert "seen commits carry signatures that do not verify" in logtext
    # the next scrub finds everything intact, signatures included
    clean = r"scrub: \d+ heights, \d+ records, state of height \d+ .*: intact"
    deadline = time.time() + 30
    while time.time() < deadline and not re.search(
            clean, open(victim.log_path).read()[len(logtext):]):
        time.sleep(0.5)
    assert re.search(clean, open(victim.log_path).read()[len(logtext):]), \
        "no clean scrub after repair"
    log(f"seen commit {h3} with a forged signature: found by the scrub, repaired")
    assert victim.stop() == 0


if __name__ == "__main__":
    main(test_node_repairs_damaged_heights_from_peers)
