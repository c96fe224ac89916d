#!/usr/bin/env python3
"""[storage] keep_state_heights bounds the state history a node keeps: with K = 4,
abci_query answers (with proofs) for the latest K heights and refuses older ones
with a clear code, before and after a restart; blocks and transactions of every
height stay available; the pruned store scrubs clean; and pruning can be turned
on for a node that has kept everything so far (its backlog goes too)."""
import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from cairnnet import CAIRN, Net, log, main  # noqa: E402

CHAIN = "cairn-it"
KEEP = 4


def check(cond, msg):
    if not cond:
        raise AssertionError(msg)


def put(net, node, nonce):
    tx = subprocess.run([CAIRN, "tx", "put", "--home", net.dir, "--from", "user0", "--nonce",
                         str(nonce), "--key", f"k{nonce}", "--value", f"v{nonce}",
                         "--chain-id", CHAIN, "--output", "base64"],
                        check=True, capture_output=True, text=True).stdout.strip()
    r = node.rpc("broadcast_tx_commit", tx=tx)
    check(r["tx_result"]["code"] == 0, f"put {nonce}: {r}")
    return int(r["height"])


def account_at(node, addr, height):
    return node.rpc("abci_query", path="/account", data=addr, height=str(height),
                    prove=True)["response"]


def check_window(node, addr, heights, top):
    """Heights within the last KEEP answer with a proof; older ones are refused."""
    for h in heights:
        r = account_at(node, addr, h)
        if h > top - KEEP:
            check(r["code"] == 0 and r["proofOps"], f"height {h} (top {top}) not served: {r}")
        else:
            check(r["code"] != 0 and str(h) in r["log"], f"height {h} (top {top}) served: {r}")


def test_state_pruning():
    net = Net(validators=1)
    node = net.nodes[0]
    with open(os.path.join(net.dir, "keys", "user0.json")) as f:
        addr = json.load(f)["address"].upper()
    net.start()
    node.wait_height(2)

    log("keep everything first: 6 blocks with state changes")
    heights = [put(net, node, i) for i in range(6)]
    top = node.height()
    for h in heights:  # every height is still there
        check(account_at(node, addr, h)["code"] == 0, f"height {h} lost without pruning")

    log(f"turn pruning on (keep {KEEP}); the backlog goes as blocks commit")
    check(node.stop() == 0, "clean stop")
    node.set_config("storage", "keep_state_heights", KEEP)
    node.start()
    node.wait_height(top + 1)
    heights += [put(net, node, i) for i in range(6, 12)]
    top = node.height()
    check_window(node, addr, heights, top)
    log(f"window ok at top {top}: heights <= {top - KEEP} refused")

    log("restart: the window moves on from where it was")
    check(node.stop() == 0, "clean stop")
    node.start()
    node.wait_height(top + 1)
    heights += [put(net, node, i) for i in range(12, 15)]
    top = node.height()
    check_window(node, addr, heights, top)
    first = node.rpc("block", height=str(heights[0]))
    check(int(first["block"]["header"]["height"]) == heights[0], "old block still served")
    check(node.stop() == 0, "clean stop")
    out = subprocess.run([CAIRN, "scrub", "--home", node.home], capture_output=True, text=True)
    check(out.returncode == 0, f"scrub after pruning: {out.stdout[-400:]} {out.stderr[-400:]}")


if __name__ == "__main__":
    main(test_state_pruning)
