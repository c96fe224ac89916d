#!/usr/bin/env python3
"""Every CometBFT endpoint of a running 4-validator cairn network, over real HTTP
(POST JSON-RPC and URI forms) and WebSocket, checked against what was committed:
transfers change balances seen through abci_query (with proofs verified here
against the app hash of a later header), tx results and events, block hashes
agree across nodes, and bad parameters give the documented JSON-RPC errors."""
import base64
import hashlib
import json
import os
import socket
import struct
import subprocess
import sys
import time
import urllib.error
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import cairnnet  # noqa: E402
from cairnnet import CAIRN, Net, RpcError, log  # noqa: E402

CHAIN = "cairn-it"
EMPTY = hashlib.sha256(b"\x02").digest()


def check(cond, msg):
    if not cond:
        raise AssertionError(msg)


def sha(b):
    return hashlib.sha256(b).digest()


def make_tx(net, kind, sender, nonce, **kw):
    args = [CAIRN, "tx", kind, "--home", net.dir, "--from", sender, "--nonce", str(nonce),
            "--chain-id", CHAIN, "--output", "base64"]
    for k, v in kw.items():
        args += ["--" + k, str(v)]
    return subprocess.run(args, check=True, capture_output=True, text=True).stdout.strip()


def tx_hash(b64tx):
    return hashlib.sha256(base64.b64decode(b64tx)).hexdigest().upper()


def key_address(net, i):
    with open(cairnnet.funded_key(net, i)) as f:
        return json.load(f)["address"].upper()


def uri(node, path):
    with urllib.request.urlopen(node.url + path, timeout=10) as r:
        resp = json.loads(r.read())
    if "error" in resp:
        raise RpcError(resp["error"])
    return resp["result"]


def expect_error(fn, code, text):
    try:
        fn()
    except RpcError as e:
        check(e.err["code"] == code, f"error code {e.err['code']} != {code}: {e.err}")
        check(text in (e.err.get("data") or ""), f"{text!r} not in {e.err}")
        return e.err
    raise AssertionError(f"expected error {code} {text!r}")


def verify_proof(root, key, value, proof):
    """cairn_proof_verify (include/cairn/proof.h) in Python."""
    p = 0
    check(proof[0] == 1, "proof version")
    kind = proof[1]
    p = 2
    leaf_k = leaf_v = None
    if kind == 1:
        leaf_k, leaf_v = proof[2:34], proof[34:66]
        p = 66
    depth = int.from_bytes(proof[p:p + 2], "little")
    p += 2
    nb = (depth + 7) // 8
    bitmap = proof[p:p + nb]
    p += nb
    sibs = []
    for i in range(depth):
        if bitmap[i // 8] & (0x80 >> (i % 8)):
            sibs.append(proof[p:p + 32])
            p += 32
        else:
            sibs.append(EMPTY)
    check(p == len(proof), "trailing proof bytes")
    kh = sha(key)
    if value is not None:
        if not (kind == 1 and leaf_k == kh and leaf_v == sha(value)):
            return False
        node = sha(b"\x00" + kh + sha(value))
    elif kind == 0:
        node = EMPTY
    else:
        if leaf_k == kh:
            return False
        node = sha(b"\x00" + leaf_k + leaf_v)
    for i in reversed(range(depth)):
        bit = (kh[i // 8] >> (7 - i % 8)) & 1
        node = sha(b"\x01" + sibs[i] + node) if bit else sha(b"\x01" + node + sibs[i])
    return node == root


def verify_audit_path(root, leaf_hash, index, total, aunts):
    """RFC 9162 section 2.1.3.2: the inclusion proof of leaf `index` of `total`."""
    if index >= total:
        return False
    fn, sn, r = index, total - 1, leaf_hash
    for p in aunts:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = sha(b"\x01" + p + r)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            r = sha(b"\x01" + r + p)
        fn >>= 1
        sn >>= 1
    return sn == 0 and r == root


def account(node, addr, height=0, prove=False):
    """(balance, nonce, response) of addr via abci_query."""
    r = node.rpc("abci_query", path="/account", data=addr, height=str(height), prove=prove)
    resp = r["response"]
    check(resp["code"] == 0, f"abci_query failed: {resp}")
    if "value" not in resp:
        return None, None, resp
    v = base64.b64decode(resp["value"])
    check(len(v) == 17 and v[0] == 1, f"account encoding {v.hex()}")
    return int.from_bytes(v[1:9], "little"), int.from_bytes(v[9:17], "little"), resp


class WS:
    def __init__(self, port):
        self.s = socket.create_connection(("127.0.0.1", port), timeout=10)
        key = base64.b64encode(os.urandom(16)).decode()
        self.s.sendall((f"GET /websocket HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
                        "Upgrade: websocket\r\nConnection: Upgrade\r\n"
                        f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n").encode())
        head = b""
        while b"\r\n\r\n" not in head:
            c = self.s.recv(1)
            check(c, "websocket refused")
            head += c
        check(head.split(b" ")[1] == b"101", f"websocket upgrade failed: {head!r}")

    def send(self, obj):
        data = json.dumps(obj).encode()
        mask = os.urandom(4)
        n = len(data)
        hdr = struct.pack("!BB", 0x81, 0x80 | n) if n < 126 else struct.pack("!BBH", 0x81, 0xFE, n)
        self.s.sendall(hdr + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(data)))

    def _exact(self, n):
        b = b""
        while len(b) < n:
            c = self.s.recv(n - len(b))
            if not c:
                raise ConnectionError("closed")
            b += c
        return b

    def recv(self, timeout=15):
        self.s.settimeout(timeout)
        msg = b""
        while True:
            h = self._exact(2)
            op, n = h[0] & 0x0F, h[1] & 0x7F
            if n == 126:
                n = struct.unpack("!H", self._exact(2))[0]
            elif n == 127:
                n = struct.unpack("!Q", self._exact(8))[0]
            payload = self._exact(n)
            if op == 8:
                raise ConnectionError("closed by server")
            if op in (9, 10):
                continue
            msg += payload
            if h[0] & 0x80:
                return json.loads(msg)

    def close(self):
        self.s.close()


def set_metrics_listen(home, addr):
    """[metrics] listen = addr in HOME/config/config.ini."""
    path = os.path.join(home, "config", "config.ini")
    lines, section = [], None
    with open(path) as f:
        for line in f:
            if line.startswith("["):
                section = line.strip()
            if section == "[metrics]" and line.startswith("listen ="):
                line = f"listen = {addr}\n"
            lines.append(line)
    with open(path, "w") as f:
        f.writelines(lines)


def test_rpc_endpoints():
    net = Net(validators=4, full_nodes=1)
    full = net.nodes[4]
    metrics_port = net.base + 48  # inside the span free_base_port checked
    set_metrics_listen(net.nodes[3].home, f"127.0.0.1:{metrics_port}")
    full.set_config("rpc", "max_batch_response_bytes", 65536)
    net.start()
    n0, n1 = net.nodes[0], net.nodes[1]
    net.wait_height(2, timeout=60)
    log("network at height 2")

    # --- health, status, genesis, net_info
    check(n0.rpc("health") == {}, "health")
    check(uri(n0, "/health") == {}, "health URI")
    st = n0.rpc("status")
    ni, si, vi = st["node_info"], st["sync_info"], st["validator_info"]
    check(ni["version"].startswith("0.38."), f"version {ni['version']}")
    check(ni["network"] == CHAIN, "network is the chain id")
    check(len(ni["id"]) == 40 and ni["id"] == ni["id"].lower(), f"node id {ni['id']}")
    check(ni["listen_addr"].endswith(f":{n0.p2p_port}"), f"listen_addr {ni['listen_addr']}")
    check(ni["other"]["cairn_version"], "cairn version in other")
    check(si["catching_up"] is False, "catching_up")
    check(int(si["latest_block_height"]) >= 2 and si["earliest_block_height"] == "1", "heights")
    check(si["latest_block_time"].endswith("Z") and len(si["latest_block_time"]) == 30, "time")
    g = n0.rpc("genesis")["genesis"]
    check(g["chain_id"] == CHAIN and len(g["validators"]) == 4, "genesis")
    gval = {v["address"].upper(): v for v in g["validators"]}
    check(vi["address"] in gval and vi["voting_power"] == gval[vi["address"]]["power"],
          f"validator_info {vi}")
    check(vi["pub_key"] == gval[vi["address"]]["pub_key"], "validator pub_key")
    check(si["earliest_block_hash"] == n0.block_hash(1), "earliest block hash")
    lb = n0.rpc("block", height=si["latest_block_height"])
    check(lb["block_id"]["hash"] == si["latest_block_hash"] and
          lb["block"]["header"]["app_hash"] == si["latest_app_hash"] and
          lb["block"]["header"]["time"] == si["latest_block_time"], "sync_info is the latest block")
    ninfo = n0.rpc("net_info")
    check(ninfo["n_peers"] == "4" and len(ninfo["peers"]) == 4, f"net_info {ninfo['n_peers']}")
    peer_ids = {p["node_info"]["id"] for p in ninfo["peers"]}
    check(n1.rpc("status")["node_info"]["id"] in peer_ids, "peer ids are node ids")
    fst = full.rpc("status")
    check(fst["validator_info"]["voting_power"] == "0", "a full node has no voting power")
    check(fst["validator_info"]["address"] not in gval, "full node key is not a validator")
    balances0 = {a["address"].upper(): int(a["balance"]) for a in g["app_state"]["accounts"]}

    # --- a transfer through broadcast_tx_commit
    u0, u1 = key_address(net, 0), key_address(net, 1)
    dest = os.urandom(20).hex().upper()
    tx1 = make_tx(net, "transfer", "user0", 0, to=dest, amount=7)
    r = n0.rpc("broadcast_tx_commit", tx=tx1, timeout=30)
    h1 = int(r["height"])
    check(r["check_tx"]["code"] == 0 and r["tx_result"]["code"] == 0, f"commit {r}")
    check(r["hash"] == tx_hash(tx1) and h1 >= 1, "commit hash/height")
    ev = {a["key"]: a["value"] for a in r["tx_result"]["events"][0]["attributes"]}
    check(r["tx_result"]["events"][0]["type"] == "transfer" and ev["amount"] == "7" and
          ev["recipient"] == dest and ev["sender"] == u0, f"events {ev}")
    log("transfer committed at height", h1)

    # --- tx by hash: POST base64 and URI 0x-hex, on another node
    net.wait_height(h1, timeout=30)
    t = n1.rpc("tx", hash=base64.b64encode(bytes.fromhex(r["hash"])).decode())
    check(t["height"] == str(h1) and t["tx"] == tx1 and t["hash"] == r["hash"], f"tx {t}")
    check(t["tx_result"]["code"] == 0 and isinstance(t["index"], int), "tx result")
    t2 = uri(n1, f"/tx?hash=0x{r['hash']}")
    check(t2 == t, "tx URI form equals POST form")
    tp = uri(n1, f"/tx?hash=0x{r['hash']}&prove=true")
    pf = tp["proof"]
    data_hash = n1.rpc("block", height=str(h1))["block"]["header"]["data_hash"]
    check(pf["root_hash"] == data_hash and pf["data"] == tx1, f"tx proof {pf}")
    leaf = sha(b"\x00" + bytes.fromhex(r["hash"]))
    check(base64.b64decode(pf["proof"]["leaf_hash"]) == leaf, "leaf hash")
    check(verify_audit_path(bytes.fromhex(data_hash), leaf, int(pf["proof"]["index"]),
                            int(pf["proof"]["total"]),
                            [base64.b64decode(x) for x in pf["proof"]["aunts"]]),
          "tx proof verifies against data_hash")

    # --- block, block_by_hash, header, header_by_hash, block_results
    b = n0.rpc("block", height=str(h1))
    check(tx1 in b["block"]["data"]["txs"], "block holds the tx")
    bid = b["block_id"]["hash"]
    check(uri(n0, f"/block?height={h1}") == b, "block URI form")
    bb = n0.rpc("block_by_hash", hash=base64.b64encode(bytes.fromhex(bid)).decode())
    check(bb == b, "block_by_hash")
    check(uri(n0, f"/block_by_hash?hash=0x{bid}") == b, "block_by_hash URI")
    hd = n0.rpc("header", height=h1)["header"]
    check(hd == b["block"]["header"], "header")
    check(uri(n0, f"/header_by_hash?hash=0x{bid}")["header"] == hd, "header_by_hash")
    br = n1.rpc("block_results", height=str(h1))
    check(br["height"] == str(h1) and br["finalize_block_events"] == [] and
          br["validator_updates"] == [] and br["consensus_param_updates"] is None, f"br {br}")
    idx = t["index"]
    check(br["txs_results"][idx]["code"] == 0 and
          br["txs_results"][idx]["events"] == r["tx_result"]["events"], "block_results tx")
    empty_h = 1 if h1 != 1 else None
    if empty_h:
        check(n0.rpc("block_results", height=empty_h)["txs_results"] is None, "no txs: null")

    # --- balances via abci_query on every node, with a verified proof
    net.wait_height(h1 + 1, timeout=30)
    for node in net.nodes:
        bal, nonce, _ = account(node, dest)
        check(bal == 7 and nonce == 0, f"node{node.index} dest balance {bal}")
        bal, nonce, _ = account(node, u0)
        check(bal == balances0[u0] - 7 and nonce == 1, f"node{node.index} sender {bal} {nonce}")
    bal, _, resp = account(n0, dest, height=h1, prove=True)
    ops = resp["proofOps"]["ops"]
    check(len(ops) == 1 and ops[0]["type"] == "cairn:smt:v1", f"proof ops {ops}")
    root = bytes.fromhex(n0.rpc("block", height=str(h1 + 1))["block"]["header"]["app_hash"])
    key = base64.b64decode(resp["key"])
    check(key == b"a" + bytes.fromhex(dest), "state key is 'a' || address")
    check(verify_proof(root, key, base64.b64decode(resp["value"]), base64.b64decode(ops[0]["data"])),
          "account proof verifies against the next header's app hash")
    wrong = b"\x01" + (8).to_bytes(8, "little") + bytes(8)
    check(not verify_proof(root, key, wrong, base64.b64decode(ops[0]["data"])),
          "a wrong value does not verify")
    # absence, with proof, before the transfer
    if h1 > 1:
        r0 = n0.rpc("abci_query", path="/account", data=dest, height=str(h1 - 1), prove=True)["response"]
        root0 = bytes.fromhex(n0.rpc("block", height=str(h1))["block"]["header"]["app_hash"])
        check("value" not in r0, "no account before the transfer")
        check(verify_proof(root0, key, None, base64.b64decode(r0["proofOps"]["ops"][0]["data"])),
              "absence proof verifies")
    q = uri(n0, f'/abci_query?path="/account"&data=0x{dest}')["response"]
    check(base64.b64decode(q["value"])[1:9] == (7).to_bytes(8, "little"), "abci_query URI")
    check(n0.rpc("abci_query", path="/nope", data="00")["response"]["code"] == 9, "unknown path")
    check(n0.rpc("abci_query", path="/account", data="0011")["response"]["code"] == 11, "bad key")

    # --- broadcast_tx_commit through the full node: answered when it applies the block
    txf = make_tx(net, "transfer", "user2", 0, to=dest, amount=1)
    rf = full.rpc("broadcast_tx_commit", tx=txf, timeout=30)
    check(rf["tx_result"]["code"] == 0 and int(rf["height"]) > 0, f"full node commit {rf}")
    check(n0.rpc("tx", hash=base64.b64encode(bytes.fromhex(rf["hash"])).decode())["height"] ==
          rf["height"], "validators committed the full node's tx at the same height")

    # --- a batch's answer is bounded: 100 `block` calls (~150 KB of answers) to the full
    # node, whose limit is 64 KiB, get the blocks that fit and errors for the rest
    top = int(full.rpc("status")["sync_info"]["latest_block_height"])
    batch = [{"jsonrpc": "2.0", "id": i, "method": "block", "params": {"height": str(1 + i % top)}}
             for i in range(100)]
    for node, limit in ((full, 65536), (n0, None)):
        req = urllib.request.Request(node.url, data=json.dumps(batch).encode(),
                                     headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=30) as http_resp:
            raw = http_resp.read()
        answers = json.loads(raw)
        check([a["id"] for a in answers] == list(range(100)), "one answer per call, in order")
        ok = [a for a in answers if "result" in a]
        bad = [a for a in answers if "error" in a]
        for a in ok:
            check(a["result"]["block"]["header"]["height"] == str(1 + a["id"] % top), "block")
        if limit is None:
            check(not bad, f"default limit: every block answered ({bad[:1]})")
            continue
        check(ok and bad, f"{len(ok)} answered, {len(bad)} refused")
        check(all("batch_response_bytes_max" in a["error"]["data"] for a in bad), f"{bad[0]}")
        check(sum(len(json.dumps(a["result"], separators=(",", ":"))) for a in ok) < limit,
              "answered part fits")
        check(len(raw) < limit + 100 * 300, f"answer of {len(raw)} bytes")
        log(f"batch of 100 blocks: {len(ok)} answered within {limit} bytes, {len(bad)} refused")

    # --- a record through put, queried by /record
    txp = make_tx(net, "put", "user1", 0, key="color", value="blue")
    rp = n0.rpc("broadcast_tx_commit", tx=txp, timeout=30)
    check(rp["tx_result"]["code"] == 0, f"put {rp}")
    rq = n0.rpc("abci_query", path="/record", data=u1 + b"color".hex())["response"]
    check(rq["code"] == 0 and b"blue" in base64.b64decode(rq["value"]), f"record {rq}")

    # --- broadcast_tx_sync / async / check_tx results
    bad_nonce = make_tx(net, "transfer", "user0", 5, to=dest, amount=1)
    s = n0.rpc("broadcast_tx_sync", tx=bad_nonce)
    check(s["code"] == 3 and s["hash"] == tx_hash(bad_nonce), f"bad nonce {s}")
    s = n0.rpc("broadcast_tx_sync", tx=base64.b64encode(b"garbage").decode())
    check(s["code"] == 1, f"garbage {s}")
    raw = bytearray(base64.b64decode(make_tx(net, "transfer", "user0", 1, to=dest, amount=1)))
    raw[-1] ^= 1
    s = n0.rpc("broadcast_tx_sync", tx=base64.b64encode(bytes(raw)).decode())
    check(s["code"] == 2, f"bad signature {s}")
    c = n0.rpc("check_tx", tx=base64.b64encode(bytes(raw)).decode())
    check(c["code"] == 2, f"check_tx bad signature {c}")
    c = n0.rpc("check_tx", tx=base64.b64encode(b"junk").decode())
    check(c["code"] == 1 and c["log"], f"check_tx garbage {c}")
    tx2 = make_tx(net, "transfer", "user0", 1, to=dest, amount=3)
    c = n0.rpc("check_tx", tx=tx2)
    check(c["code"] == 0, f"check_tx {c}")
    c = n0.rpc("check_tx", tx=tx2)
    check(c["code"] == 0, f"check_tx twice leaves the check state alone {c}")
    c = n0.rpc("check_tx", tx=bad_nonce)
    check(c["code"] == 3, f"check_tx bad nonce {c}")
    check(tx2 not in n0.rpc("unconfirmed_txs")["txs"], "check_tx does not add to the mempool")
    a = n0.rpc("broadcast_tx_async", tx=tx2)
    check(a["code"] == 0 and a["hash"] == tx_hash(tx2), f"async {a}")
    expect_error(lambda: n0.rpc("broadcast_tx_sync", tx=tx2), -32603, "already")
    deadline = time.time() + 30
    while True:
        try:
            t3 = n0.rpc("tx", hash=base64.b64encode(bytes.fromhex(a["hash"])).decode())
            break
        except RpcError:
            check(time.time() < deadline, "async tx never committed")
            time.sleep(0.2)
    h2 = int(t3["height"])
    tx3 = make_tx(net, "transfer", "user0", 2, to=dest, amount=4)
    s = n1.rpc("broadcast_tx_sync", tx=tx3)
    check(s["code"] == 0, f"sync {s}")
    deadline = time.time() + 30
    while True:
        try:
            h3 = int(n1.rpc("tx", hash=base64.b64encode(bytes.fromhex(s["hash"])).decode())["height"])
            break
        except RpcError:
            check(time.time() < deadline, "sync tx never committed")
            time.sleep(0.2)
    net.wait_height(h3 + 1, timeout=30)
    check(account(n0, dest)[0] == 15, "balance after four transfers")

    # --- tx_search
    ts = n0.rpc("tx_search", query=f"tx.hash='{r['hash']}'")
    check(ts["total_count"] == "1" and ts["txs"][0]["hash"] == r["hash"], f"by hash {ts}")
    ts = uri(n0, f'/tx_search?query="tx.height={h1}"')
    check(r["hash"] in [x["hash"] for x in ts["txs"]], "by height (URI)")
    q = f"transfer.recipient='{dest}'"
    ts = n0.rpc("tx_search", query=q)
    want = [r["hash"], rf["hash"], a["hash"], s["hash"]]
    check(ts["total_count"] == "4" and [x["hash"] for x in ts["txs"]] == want, f"attr {ts}")
    ts = n0.rpc("tx_search", query=q, order_by="desc", per_page="1", page="2", prove=True)
    check(ts["total_count"] == "4" and [x["hash"] for x in ts["txs"]] == [want[2]], "paging")
    check(ts["txs"][0]["proof"]["data"] == tx2, "tx_search with prove carries proofs")
    ts = n0.rpc("tx_search", query=f"tx.height>={h2} AND transfer.amount='4'")
    check([x["hash"] for x in ts["txs"]] == [s["hash"]], f"AND {ts}")
    check(n0.rpc("tx_search", query="tx.hash='00'")["total_count"] == "0", "no match")
    expect_error(lambda: n0.rpc("tx_search", query="tx.height"), -32602, "bad query")
    expect_error(lambda: n0.rpc("tx_search", query=q, page="9"), -32603, "page should be")

    # --- chain agreement, blockchain, commit, validators
    top = min(nd.height() for nd in net.nodes)
    net.check_same_chain(top)
    bc = n0.rpc("blockchain", minHeight="1", maxHeight="3")
    check([m["header"]["height"] for m in bc["block_metas"]] == ["3", "2", "1"], "blockchain order")
    for m in bc["block_metas"]:
        check(m["block_id"]["hash"] == n0.block_hash(int(m["header"]["height"])), "meta id")
        check(int(m["block_size"]) > 0, "block_size")
    check(bc["block_metas"][0]["num_txs"] == str(len(n0.rpc("block", height=3)["block"]["data"]["txs"])),
          "num_txs")
    bs = n0.rpc("block_search", query="block.height>=2 AND block.height<=4")
    check(bs["total_count"] == "3" and
          [x["block"]["header"]["height"] for x in bs["blocks"]] == ["2", "3", "4"], "block_search")
    check(bs["blocks"][1] == n0.rpc("block", height=3), "block_search gives /block results")
    bs = uri(n0, '/block_search?query="block.height<=4"&order_by="desc"&per_page=2')
    check([x["block"]["header"]["height"] for x in bs["blocks"]] == ["4", "3"], "desc page")
    expect_error(lambda: n0.rpc("block_search", query="transfer.amount=1"), -32602, "block.height")
    bc = uri(n0, "/blockchain")
    check(1 <= len(bc["block_metas"]) <= 20, "blockchain default window")
    check(int(bc["last_height"]) >= top, "last_height")
    cm = n0.rpc("commit", height=str(h1))
    check(cm["canonical"] is True and cm["signed_header"]["header"]["height"] == str(h1), "commit")
    check(cm["signed_header"]["commit"]["block_id"]["hash"] == bid, "commit block id")
    sigs = [x for x in cm["signed_header"]["commit"]["signatures"] if x["block_id_flag"] == 2]
    check(len(sigs) >= 3, "commit has > 2/3 signatures")
    latest = n0.rpc("commit")
    check(latest["canonical"] is False, "the tip's commit is the seen commit")
    vs = n0.rpc("validators", height=str(h1))
    check(vs["count"] == "4" and vs["total"] == "4" and vs["block_height"] == str(h1), f"vals {vs}")
    check({v["address"] for v in vs["validators"]} == set(gval), "validator addresses")
    p2 = uri(n0, f"/validators?height={h1}&page=2&per_page=2")
    check(p2["count"] == "2" and p2["validators"] == vs["validators"][2:], "validators paging")
    expect_error(lambda: n0.rpc("validators", page="3", per_page="2"), -32603, "page should be")

    # --- abci_info
    ai = n0.rpc("abci_info")["response"]
    check(ai["data"] == "cairn-ledger", "abci_info data")
    ah = int(ai["last_block_height"])
    net.wait_height(ah + 1, nodes=[n0], timeout=30)
    check(base64.b64decode(ai["last_block_app_hash"]).hex().upper() ==
          n0.rpc("block", height=str(ah + 1))["block"]["header"]["app_hash"], "abci_info app hash")

    # --- errors
    hmax = n0.height()
    e = expect_error(lambda: n0.rpc("block", height="99999"), -32603,
                     "must be less than or equal to the current blockchain height")
    check(e["message"] == "Internal error", "message")
    expect_error(lambda: n0.rpc("block", height="-1"), -32603, "greater than 0")
    expect_error(lambda: uri(n0, "/block_results?height=99999"), -32603, "current blockchain height")
    expect_error(lambda: n0.rpc("block", height="abc"), -32602, "")
    expect_error(lambda: n0.rpc("tx", hash=base64.b64encode(b"\1" * 32).decode()), -32603,
                 "not found")
    expect_error(lambda: n0.rpc("tx", hash="AAAA"), -32602, "32 bytes")
    expect_error(lambda: n0.rpc("block_by_hash", hash=base64.b64encode(b"\2" * 32).decode()),
                 -32603, "not found")
    expect_error(lambda: n0.rpc("no_such_method"), -32601, "not found")
    expect_error(lambda: n0.rpc("broadcast_tx_sync"), -32602, "")
    check(hmax >= 1, "height")

    # --- mempool while consensus is stalled (2 of 4 validators paused)
    net.nodes[2].pause()
    net.nodes[3].pause()
    try:
        time.sleep(1.5)
        tx4 = make_tx(net, "transfer", "user0", 3, to=dest, amount=1)
        check(n0.rpc("broadcast_tx_sync", tx=tx4)["code"] == 0, "tx4")
        nu = n0.rpc("num_unconfirmed_txs")
        check(nu["total"] == "1" and int(nu["total_bytes"]) == len(base64.b64decode(tx4)),
              f"num_unconfirmed {nu}")
        ut = uri(n0, "/unconfirmed_txs?limit=5")
        check(ut["txs"] == [tx4] and ut["n_txs"] == "1", f"unconfirmed {ut}")
        tx5 = make_tx(net, "transfer", "user0", 4, to=dest, amount=1)
        t0 = time.time()
        expect_error(lambda: n0.rpc("broadcast_tx_commit", tx=tx5, timeout=30), -32603,
                     "timed out waiting for tx")
        check(time.time() - t0 >= 5, "broadcast_tx_commit waited for the timeout")
    finally:
        net.nodes[2].resume()
        net.nodes[3].resume()

    # --- WebSocket subscriptions: NewBlock, NewBlockHeader, Tx by hash
    ws = WS(n0.rpc_port)
    ws.send({"jsonrpc": "2.0", "id": 1, "method": "subscribe",
             "params": {"query": "tm.event='NewBlock'"}})
    check(ws.recv()["result"] == {}, "subscribe ack")
    ev = ws.recv()
    check(ev["result"]["data"]["type"] == "tendermint/event/NewBlock", f"event {ev}")
    blk = ev["result"]["data"]["value"]
    bh = int(blk["block"]["header"]["height"])
    check(blk["block_id"]["hash"] == n0.block_hash(bh), "NewBlock id matches /block")
    ws.close()
    tx6 = make_tx(net, "transfer", "user0", 5, to=dest, amount=2)
    ws = WS(n1.rpc_port)
    ws.send({"jsonrpc": "2.0", "id": "t", "method": "subscribe",
             "params": {"query": f"tm.event='Tx' AND tx.hash='{tx_hash(tx6)}'"}})
    check(ws.recv()["id"] == "t", "subscribe ack")
    check(n0.rpc("broadcast_tx_sync", tx=tx6)["code"] == 0, "tx6")
    ev = ws.recv(timeout=30)
    val = ev["result"]["data"]["value"]["TxResult"]
    check(val["tx"] == tx6 and val["result"]["code"] == 0, f"Tx event {val}")
    check(ev["result"]["events"]["tx.hash"] == [tx_hash(tx6)], "tx.hash attribute")
    check(ev["result"]["events"]["tx.height"] == [val["height"]], "tx.height attribute")
    check(ev["result"]["events"]["transfer.recipient"] == [dest], "app attributes")
    ws.close()

    # --- metrics
    text = n0.get("/metrics").decode()
    vals = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            k, v = line.rsplit(" ", 1)
            vals[k] = float(v)
    for name in ["cairn_consensus_height", "cairn_consensus_round", "cairn_mempool_size",
                 "cairn_mempool_bytes", "cairn_p2p_peers", "cairn_txs_committed_total",
                 "cairn_signature_verifications_total", "cairn_blocks_synced_total",
                 "cairn_sync_blocks_total", "cairn_consensus_block_interval_seconds_count"]:
        check(name in vals, f"metric {name} missing")
    check(vals["cairn_txs_committed_total"] >= 6, "txs committed counted")
    check(vals["cairn_consensus_height"] >= h3, "consensus height")
    check(vals['cairn_rpc_requests_total{method="status",status="ok"}'] >= 1, "rpc requests")
    check(any(k.startswith('cairn_p2p_bytes_sent_total{channel=') for k in vals), "p2p bytes")
    # the separate metrics listener of node3 shares its registry
    with urllib.request.urlopen(f"http://127.0.0.1:{metrics_port}/metrics", timeout=10) as m:
        text3 = m.read().decode()
    check("cairn_consensus_height " in text3 and "cairn_p2p_peers 4" in text3,
          "metrics on [metrics] listen")
    # ... and serves nothing else: no JSON-RPC, no status, no WebSocket
    for path in ("/status", "/health", "/websocket"):
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{metrics_port}{path}", timeout=10)
            check(False, f"{path} served on the metrics listener")
        except urllib.error.HTTPError as e:
            check(e.code == 404, f"{path} on the metrics listener: {e.code}")
    # --- a restarted node serves what it committed before, on the same port
    before = n1.height()
    check(n1.stop() == 0, "node1 clean stop")
    n1.start()
    n1.wait_height(before + 1, timeout=60)
    check(n1.rpc("block", height=str(h1))["block_id"]["hash"] == bid, "block after restart")
    t_again = n1.rpc("tx", hash=base64.b64encode(bytes.fromhex(t["hash"])).decode())
    check(t_again == t, "tx after restart")
    log("all endpoints checked; stopping")
    for node in net.nodes:
        check(node.stop() == 0, f"node{node.index} clean stop")


if __name__ == "__main__":
    cairnnet.main(test_rpc_endpoints)
