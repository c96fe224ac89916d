#!/usr/bin/env python3
"""HTTP/1.1 pipelining against a running validator: several requests in one TCP
write, behind a broadcast_tx_commit that waits for its block (POST and URI
forms), behind answers that are immediate, and GETs only. libwebsockets 4.1
mishandles requests it buffered past the current one (docs/rpc.md,
"Pipelined requests"); before the fix the node spun at 100 % CPU or froze.

What a client must see: every answer it gets is the right answer to its
request, in order; an unanswered request is only ever followed by the
connection closing (RFC 9112 9.3.2: the client retries those); the committed
transaction is in the chain; and the node keeps serving, committing and
idling (no busy loop)."""
import base64
import json
import os
import socket
import subprocess
import sys
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from cairnnet import CAIRN, Net, log, main  # noqa: E402

CHAIN = "cairn-it"


def check(cond, msg):
    if not cond:
        raise AssertionError(msg)


def make_tx(net, nonce):
    args = [CAIRN, "tx", "put", "--home", net.dir, "--from", "user0", "--nonce", str(nonce),
            "--key", f"k{nonce}", "--value", f"v{nonce}", "--chain-id", CHAIN,
            "--output", "base64"]
    return subprocess.run(args, check=True, capture_output=True, text=True).stdout.strip()


def post(method, id_, **params):
    body = json.dumps({"jsonrpc": "2.0", "id": id_, "method": method,
                       "params": params}).encode()
    return (b"POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b"Content-Length: %d\r\n\r\n" % len(body)) + body


def get(path):
    return b"GET %s HTTP/1.1\r\nHost: x\r\n\r\n" % path.encode()


def parse_responses(data):
    """HTTP/1.1 responses with Content-Length bodies, in order."""
    out = []
    while data:
        head, sep, rest = data.partition(b"\r\n\r\n")
        if not sep:
            break
        lines = head.split(b"\r\n")
        status = int(lines[0].split()[1])
        headers = {}
        for line in lines[1:]:
            k, _, v = line.partition(b":")
            headers[k.strip().lower().decode()] = v.strip().decode()
        n = int(headers.get("content-length", "0"))
        if len(rest) < n:
            break
        try:
            body = json.loads(rest[:n])
        except ValueError:
            raise AssertionError(f"answer {len(out) + 1} is not JSON: {rest[:n][:200]!r}")
        out.append((status, headers, body))
        data = rest[n:]
    return out, data


def pipeline(port, requests, timeout=30):
    """Sends all requests in one write; returns (answers, closed)."""
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    s.sendall(b"".join(requests))
    got, closed = b"", False
    end = time.time() + timeout
    try:
        while time.time() < end:
            d = s.recv(65536)
            if not d:
                closed = True
                break
            got += d
            if len(parse_responses(got)[0]) == len(requests):
                break
    except socket.timeout:
        pass
    s.close()
    answers, rest = parse_responses(got)
    check(not rest, f"a cut or malformed answer: {rest[:80]!r}")
    return answers, closed


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def check_live(node):
    """The node answers a fresh connection, commits two more blocks and, with
    no client left, does not spin (a busy loop burns a whole core)."""
    h = node.height()
    node.wait_height(h + 2, timeout=60)
    t0, c0 = time.time(), cpu_seconds(node.proc.pid)
    time.sleep(4)
    used = cpu_seconds(node.proc.pid) - c0
    log(f"  cpu {used:.2f}s over {time.time() - t0:.1f}s")
    check(used < 0.5 * (time.time() - t0), f"node busy while idle: {used:.2f}s of CPU")


def check_answers(answers, closed, expect):
    """expect: one predicate per request. A prefix of them is answered; if
    not all are, the server closed the connection."""
    check(answers, "no answer at all")
    for (status, headers, body), (name, ok) in zip(answers, expect):
        check(status == 200 and ok(body), f"wrong answer to {name}: {status} {body}")
    if len(answers) < len(expect):
        check(closed, "requests left unanswered on an open connection")
    log(f"  {len(answers)} of {len(expect)} answered, closed={closed}")


def is_health(id_):
    return lambda b: b.get("id") == id_ and b.get("result") == {}


def is_status(b):
    return b.get("result", {}).get("node_info", {}).get("network") == CHAIN


def committed(id_):
    def ok(b):
        r = b.get("result", {})
        return (b.get("id") == id_ and r.get("check_tx", {}).get("code") == 0
                and r.get("tx_result", {}).get("code") == 0 and int(r.get("height", 0)) > 0)
    return ok


def test_rpc_pipeline():
    net = Net(validators=1).start()
    node = net.nodes[0]
    node.wait_height(2)
    port = node.rpc_port

    log("POST broadcast_tx_commit, then POST health and GET /status in the same write")
    answers, closed = pipeline(port, [post("broadcast_tx_commit", 1, tx=make_tx(net, 0)),
                                      post("health", 2), get("/status")])
    check_answers(answers, closed, [("commit", committed(1)), ("health", is_health(2)),
                                    ("status", is_status)])
    check_live(node)

    log("GET /broadcast_tx_commit, then GET /health and POST status")
    hex_tx = base64.b64decode(make_tx(net, 1)).hex()
    answers, closed = pipeline(port, [get("/broadcast_tx_commit?tx=0x" + hex_tx), get("/health"),
                                      post("status", 3)])
    check_answers(answers, closed, [("commit", committed(-1)), ("health", is_health(-1)),
                                    ("status", is_status)])
    check_live(node)

    log("immediate answers: POST health, POST status, GET /health")
    answers, closed = pipeline(port, [post("health", 4), post("status", 5), get("/health")])
    check_answers(answers, closed, [("health", is_health(4)), ("status", is_status),
                                    ("health", is_health(-1))])
    check_live(node)

    log("GET /health then POST health")
    answers, closed = pipeline(port, [get("/health"), post("health", 6)])
    check_answers(answers, closed, [("health", is_health(-1)), ("health", is_health(6))])
    check_live(node)

    log("ten GETs are all answered in order on one connection")
    answers, closed = pipeline(port, [get("/health"), get("/status")] * 5)
    check_answers(answers, closed, [("health", is_health(-1)), ("status", is_status)] * 5)
    check(len(answers) == 10, f"only {len(answers)} of 10 GETs answered")

    # both transactions are in the chain, and the node counts the closes
    found = node.rpc("tx_search", query="tx.height>0", per_page="10")
    check(int(found["total_count"]) == 2, f"committed txs: {found['total_count']}")
    metrics = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10).read()
    check(b"cairn_rpc_pipelined_closed_total" in metrics, "pipelining metric missing")


if __name__ == "__main__":
    main(test_rpc_pipeline)
