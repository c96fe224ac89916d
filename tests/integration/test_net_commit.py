"""Four validators in four processes commit signed transfers; every node has the
same block hash at every height and the same balances."""
import os
import subprocess
import time

from cairnnet import CAIRN, Net, log, main


def make_tx(net, sender, to_addr, amount, nonce):
    out = subprocess.run([CAIRN, "tx", "transfer", "--home", net.dir, "--from", sender,
                          "--to", to_addr, "--amount", str(amount), "--nonce", str(nonce),
                          "--chain-id", "cairn-it", "--output", "base64"],
                         check=True, capture_output=True, text=True)
    return out.stdout.strip()


def address_of(net, name):
    out = subprocess.run([CAIRN, "keys", "show", name, "--home", net.dir, "--json"],
                         check=True, capture_output=True, text=True)
    import json
    return json.loads(out.stdout)["address"]


def balance(node, addr):
    import base64
    r = node.rpc("abci_query", path="/account", data=addr)["response"]
    if not r.get("value"):
        return 0
    raw = base64.b64decode(r["value"])
    return int.from_bytes(raw[1:9], "little")


def test_four_validators_commit_transfers():
    net = Net(validators=4).start()
    net.wait_height(2, timeout=60)
    to = address_of(net, "user7")
    before = balance(net.nodes[0], to)
    # Four senders, each submitting its own nonce sequence to a different node: a
    # node learns another's transactions only by gossip, and every node must end
    # with the same state. (One sender spraying consecutive nonces across nodes
    # would race its own gossip, as with any nonce-ordered mempool.)
    total = 0
    for i in range(4):
        for nonce in range(5):
            amount = 10 * i + nonce + 1
            r = net.nodes[i].rpc("broadcast_tx_sync", tx=make_tx(net, f"user{i}", to, amount, nonce))
            assert r["code"] == 0, r
            total += amount
    want = before + total
    deadline = time.time() + 60
    while time.time() < deadline and any(balance(n, to) != want for n in net.nodes):
        time.sleep(0.3)
    for node in net.nodes:
        assert balance(node, to) == want, (node.index, balance(node, to), want)
    # A client that pipelines: 50 consecutive nonces of one sender in a single
    # JSON-RPC batch. Signatures are checked on several cores, yet the node must
    # admit them in the order sent (it once refused most with "nonce N, expected M").
    import json
    import urllib.request
    batch = [{"jsonrpc": "2.0", "id": k, "method": "broadcast_tx_sync",
              "params": {"tx": make_tx(net, "user5", to, 1, k)}} for k in range(50)]
    req = urllib.request.Request(net.nodes[1].url, data=json.dumps(batch).encode(),
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=30) as r:
        answers = json.loads(r.read())
    codes = [a["result"]["code"] for a in sorted(answers, key=lambda a: a["id"])]
    assert codes == [0] * 50, codes
    want += 50
    deadline = time.time() + 60
    while time.time() < deadline and any(balance(n, to) != want for n in net.nodes):
        time.sleep(0.3)
    for node in net.nodes:
        assert balance(node, to) == want, (node.index, balance(node, to), want)
    top = min(node.height() for node in net.nodes)
    net.check_same_chain(top)
    log(f"20 transfers from 4 senders committed, {top} identical heights on 4 nodes")


if __name__ == "__main__":
    main(test_four_validators_commit_transfers)
