"""A node repairing its store does not believe a lying peer.

Four validators commit a block with a transaction, then all stop. One node's
copy of that block is damaged with ldb and the node is started alone; a scripted
peer (p2ppeer.py) connects to it and answers its repair requests with forged
data built from the real records: the real block with one byte of its commit
altered, the real block and commit with a changed result code, and the next
block instead of the asked one. The node must refuse every answer (counted as
bad_answer in repair_status, logged), keep refusing to serve the damaged block,
and repair it once the honest validators are back: same block hash as theirs,
and `cairn scrub` finds the store intact.
"""
import os
import re
import struct
import subprocess
import time

import p2ppeer as pp
from cairnnet import CAIRN, Net, RpcError, log, main
from test_net_commit import address_of, make_tx
from test_repair import expect_damaged, flip, get_hex, hkey, put_hex

SEAL_BYTES = 8


def raw_records(node, h):
    db = os.path.join(node.home, "data", "store")
    block = bytes.fromhex(get_hex(db, "blocks", hkey(h))[2:])
    commit = bytes.fromhex(get_hex(db, "commits", hkey(h))[2:])
    results = bytes.fromhex(get_hex(db, "results", hkey(h))[2:])[:-SEAL_BYTES]
    return block, commit, results


def enc_repair_response(height, block, commit, results):
    b = lambda x: struct.pack("<I", len(x)) + x  # noqa: E731
    return struct.pack("<BQ", 0x32, height) + b(block) + b(commit) + b(results)


def forgeries(h, good, nxt):
    block, commit, results = good
    c = bytearray(commit)
    c[-1] ^= 0x01  # the last precommit slot
    r = bytearray(results)
    # results record: version u8 | n u32 | len u32 | record (version u8 | code u32 ...)
    r[10:14] = struct.pack("<I", 7)
    return [
        ("altered commit (last byte)", enc_repair_response(h, block, bytes(c), results)),
        ("changed result code", enc_repair_response(h, block, commit, bytes(r))),
        ("the next block instead", enc_repair_response(h, nxt[0], nxt[1], nxt[2])),
    ]


class Liar:
    """Connects to the node, claims its height, answers repair requests with
    the forgeries in turn; reconnects under a new identity if banned."""

    def __init__(self, node, height, answers):
        self.node, self.height, self.answers = node, height, answers
        self.sent = []
        self.peer = None

    def ensure_connected(self):
        if self.peer is not None and not self.peer.closed.is_set():
            return
        self.peer = pp.Peer("127.0.0.1", self.node.p2p_port)
        self.peer.send_status(1, self.height)
        self.peer.start_reader(self.on_frame)

    def on_frame(self, ch, p):
        if ch != pp.CH_REPAIR or not p or p[0] != 0x31:
            return
        h, = struct.unpack_from("<Q", p, 1)
        what, msg = self.answers[len(self.sent) % len(self.answers)]
        self.sent.append((h, what))
        try:
            self.peer.send(pp.CH_REPAIR, msg)
        except pp.Closed:
            pass

    def close(self):
        if self.peer is not None:
            self.peer.close()


def test_lying_peer_is_not_believed():
    net = Net(validators=4).start()
    net.wait_height(2, timeout=60)
    n0, victim = net.nodes[0], net.nodes[3]
    r = n0.rpc("broadcast_tx_commit", tx=make_tx(net, "user0", address_of(net, "user7"), 9, 0),
               timeout=30)
    assert r["tx_result"]["code"] == 0, r
    h = int(r["height"])
    net.wait_height(h + 2, timeout=60)
    good_hash = n0.block_hash(h)
    for node in net.nodes:
        assert node.stop() == 0
    good, nxt = raw_records(n0, h), raw_records(n0, h + 1)

    db = os.path.join(victim.home, "data", "store")
    v = get_hex(db, "blocks", hkey(h))
    put_hex(db, "blocks", hkey(h), flip(v, (len(v) - 2) // 4))
    victim.set_config("storage", "scrub_interval_s", 2)
    victim.start()
    deadline = time.time() + 30
    while victim.height() < 0:
        assert time.time() < deadline, "node does not answer RPC"
        time.sleep(0.1)
    tip = victim.height()
    log(f"block {h} damaged; node started alone at height {tip}")

    liar = Liar(victim, tip, forgeries(h, good, nxt))
    liar.ensure_connected()
    expect_damaged(lambda: victim.rpc("block", height=str(h)), f"block {h}")
    deadline = time.time() + 40
    st = None
    while time.time() < deadline:
        liar.ensure_connected()
        st = victim.rpc("repair_status")
        if int(st["outcomes"]["bad_answer"]) >= 3:
            break
        time.sleep(0.3)
    log(f"liar sent {liar.sent}; repair_status outcomes {st['outcomes']}")
    assert int(st["outcomes"]["bad_answer"]) >= 3, st
    assert st["outcomes"]["repaired"] == "0", st
    assert [p["height"] for p in st["pending"]] == [str(h)], st
    assert {w for _, w in liar.sent} == {w for w, _ in liar.answers}, liar.sent
    expect_damaged(lambda: victim.rpc("block", height=str(h)), f"block {h} after the lies")
    with open(victim.log_path) as f:
        logtext = f.read()
    assert re.search(rf"repair: peer [0-9a-f]+ sent a bad answer for height {h} \(", logtext)
    liar.close()

    # The honest validators come back: the node repairs from them.
    for node in net.nodes[:3]:
        node.start()
    deadline = time.time() + 60
    while time.time() < deadline:
        try:
            st = victim.rpc("repair_status")
            if st["outcomes"]["repaired"] != "0" and st["pending_count"] == "0":
                break
        except (OSError, RpcError):
            pass
        time.sleep(0.3)
    assert {int(x["height"]) for x in st["recent"]} == {h}, st
    assert victim.block_hash(h) == good_hash
    n0.wait_height(tip + 3, timeout=60)
    log(f"block {h} repaired from an honest peer; the network commits again")

    assert victim.stop() == 0
    out = subprocess.run([CAIRN, "scrub", "--home", victim.home], capture_output=True, text=True)
    assert out.returncode == 0, out.stdout + out.stderr


if __name__ == "__main__":
    main(test_lying_peer_is_not_believed)
