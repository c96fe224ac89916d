"""The application state on disk is checked against the state tree, not only
against its seals (docs/storage.md "State"). A seal is a checksum anyone can
recompute, and the latest-value index (smt.h 'L' entries) that plain queries and
block execution read is not covered by the tree's hashes.

One validator of four is stopped and its index entry for an account is rewritten
with a false balance and a fresh seal, as someone with access to the disk would.
  - `cairn scrub` on the stopped node names the entry (exit 1); it also names a
    tree node altered the same way (then restored);
  - restarted, the node's background scrub finds the entry and rebuilds it from
    the tree: the node answers the true balance again, repair_status and the
    metrics count it, and `cairn scrub` is clean afterwards;
while the network keeps committing.
"""
import base64
import hashlib
import os
import struct
import subprocess
import time

from cairnnet import CAIRN, Net, log, main
from test_net_commit import address_of, make_tx
from test_repair import ldb

STATE_CF = 5  # src/store/store.h STORE_CF_STATE


def seal(key, payload):
    h = hashlib.sha256(b"cairn/store/seal/v1" + bytes([STATE_CF]) + struct.pack("<I", len(key))
                       + key + payload).digest()
    return h[:8]


def get(db, key):
    out = ldb(db, "state", "get", "--key_hex", "--value_hex", "0x" + key.hex())
    return bytes.fromhex(out[2:])


def put(db, key, val):
    ldb(db, "state", "put", "--key_hex", "--value_hex", "0x" + key.hex(), "0x" + val.hex())


def resealed(key, payload):
    return payload + seal(key, payload)


def account_balance(node, addr):
    r = node.rpc("abci_query", path="/account", data=addr)["response"]
    return int.from_bytes(base64.b64decode(r["value"])[1:9], "little")


def scrub(node):
    return subprocess.run([CAIRN, "scrub", "--home", node.home], capture_output=True, text=True)


def latest_root_node_key(db):
    """The 'N' key of the newest version's root node (depth 0)."""
    out = ldb(db, "state", "scan", "--key_hex", "--value_hex", "--from=0x4E", "--to=0x4F")
    best = None
    for line in out.splitlines():
        k = bytes.fromhex(line.split(" ")[0][2:])
        if len(k) == 11 and k[9:11] == b"\0\0":
            ver = int.from_bytes(k[1:9], "big")
            if best is None or ver > best[0]:
                best = (ver, k)
    assert best, "no root node found"
    return best[1]


def test_false_state_index_entry_is_found_and_rebuilt():
    net = Net(validators=4)
    victim = net.nodes[3]
    victim.set_config("storage", "scrub_interval_s", 2)
    net.start()
    net.wait_height(2, timeout=60)
    dest = address_of(net, "user6")
    tx = make_tx(net, "user0", dest, 7, 0)
    net.nodes[0].rpc("broadcast_tx_commit", tx=tx, timeout=30)
    true_balance = account_balance(net.nodes[0], dest)
    victim.wait_height(int(net.nodes[0].rpc("status")["sync_info"]["latest_block_height"]))
    assert account_balance(victim, dest) == true_balance
    assert victim.stop() == 0
    db = os.path.join(victim.home, "data", "store")

    # A false balance in the index entry, with a valid seal.
    lkey = b"L" + hashlib.sha256(b"a" + bytes.fromhex(dest)).digest()
    raw = get(db, lkey)[:-8]
    ver, present = struct.unpack_from("<QB", raw)
    assert present == 1
    (vlen,) = struct.unpack_from("<I", raw, 9)
    account = bytearray(raw[13:13 + vlen])
    account[1:9] = (1_000_000).to_bytes(8, "little")
    put(db, lkey, resealed(lkey, raw[:13] + bytes(account)))
    out = scrub(victim)
    assert out.returncode == 1, out.stdout + out.stderr
    assert f"state/L/{lkey[1:].hex()}: latest-value entry disagrees" in out.stdout, out.stdout
    log("cairn scrub names the false index entry")

    # A tree node altered the same way is named too (and then restored: the
    # node cannot execute blocks over a damaged tree, and does not repair it).
    rkey = latest_root_node_key(db)
    root_raw = get(db, rkey)
    node = bytearray(root_raw[:-8])
    node[-1] ^= 0x01
    put(db, rkey, resealed(rkey, bytes(node)))
    out = scrub(victim)
    assert out.returncode == 1, out.stdout + out.stderr
    assert "a tree node on path" in out.stdout, out.stdout
    log("cairn scrub names an altered tree node")
    put(db, rkey, root_raw)

    # Restarted, the node finds the entry by itself and rebuilds it from the tree.
    victim.start()
    deadline = time.time() + 60
    while time.time() < deadline:
        st = victim.rpc("repair_status") if victim.height() >= 0 else None
        if st and int(st["outcomes"].get("state_index_rebuilt", "0")) >= 1:
            break
        time.sleep(0.5)
    else:
        raise AssertionError(f"entry not rebuilt; log:\n{victim.tail(30)}")
    assert account_balance(victim, dest) == true_balance, "the node still answers a false balance"
    with open(victim.log_path) as f:
        assert "disagreed with the state tree; rebuilt from the tree" in f.read()
    victim.wait_height(victim.height() + 1)  # metrics are brought up to date per block
    metrics = victim.get("/metrics").decode()
    assert 'cairn_store_repairs_total{outcome="state_index_rebuilt"} 1' in metrics
    log(f"the node rebuilt the entry: balance {true_balance} again")

    # the network went on, the rebuilt node with it, and its store scrubs clean
    h = net.nodes[0].height()
    for n in net.nodes:
        n.wait_height(h + 2, timeout=60)
    net.check_same_chain(h + 2)
    assert victim.stop() == 0
    out = scrub(victim)
    assert out.returncode == 0, out.stdout + out.stderr
    net.close()


if __name__ == "__main__":
    main(test_false_state_index_entry_is_found_and_rebuilt)
