#!/usr/bin/env python3
"""Drives cairn's RPC server over real HTTP and WebSocket (stdlib only).

Usage: rpc_client.py PORT SCENARIO
Run by tests/unit/rpc/test_server.c, which starts the server with test methods:
  echo {value:any string}     -> {"value": value}
  add {a:int, b:int}          -> {"sum": "a+b"}
  bytes {data:bytes, h:hex}   -> {"data": base64, "h": HEX}
  flag {on:bool}              -> {"on": bool}
  slow {}                     -> deferred, replies {"late":true} on `release`
  release {}                  -> completes every pending `slow` call
  publish {type, hash, height} -> rpc_publish(type, {"height":height}, tx.hash, tx.height)
Exit status 0 when every check of the scenario holds; otherwise prints why.
"""
import base64
import hashlib
import http.client
import json
import os
import socket
import struct
import sys
import time

PORT = int(sys.argv[1])
HOST = "127.0.0.1"


def fail(msg):
    print("FAIL:", msg, file=sys.stderr)
    sys.exit(1)


def check(cond, msg):
    if not cond:
        fail(msg)


def conn():
    return http.client.HTTPConnection(HOST, PORT, timeout=10)


def post(body, c=None, headers=None):
    own = c is None
    c = c or conn()
    data = body if isinstance(body, (bytes, bytearray)) else json.dumps(body).encode()
    c.request("POST", "/", body=data, headers=headers or {"Content-Type": "application/json"})
    r = c.getresponse()
    raw = r.read()
    if own:
        c.close()
    return r.status, (json.loads(raw) if raw else None), r


def get(path, c=None):
    own = c is None
    c = c or conn()
    c.request("GET", path)
    r = c.getresponse()
    raw = r.read()
    if own:
        c.close()
    return r.status, raw, r


def req(method, params=None, id_=1):
    d = {"jsonrpc": "2.0", "id": id_, "method": method}
    if params is not None:
        d["params"] = params
    return d


def err_code(resp):
    return resp.get("error", {}).get("code") if isinstance(resp, dict) else None


# ------------------------------------------------------------------ WebSocket

class WS:
    def __init__(self, path="/websocket"):
        self.s = socket.create_connection((HOST, PORT), timeout=10)
        key = base64.b64encode(os.urandom(16)).decode()
        self.s.sendall((
            f"GET {path} HTTP/1.1\r\nHost: {HOST}:{PORT}\r\nUpgrade: websocket\r\n"
            f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
            "Sec-WebSocket-Version: 13\r\n\r\n").encode())
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = self.s.recv(1)
            if not chunk:
                self.status = 0  # refused: closed without an answer
                return
            head += chunk
        self.status = int(head.split(b" ")[1])
        if self.status == 101:
            want = base64.b64encode(hashlib.sha1(
                (key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11").encode()).digest()).decode()
            check(want.encode() in head, "bad Sec-WebSocket-Accept")

    def send_text(self, text):
        data = text.encode() if isinstance(text, str) else text
        mask = os.urandom(4)
        n = len(data)
        if n < 126:
            hdr = struct.pack("!BB", 0x81, 0x80 | n)
        elif n < 65536:
            hdr = struct.pack("!BBH", 0x81, 0x80 | 126, n)
        else:
            hdr = struct.pack("!BBQ", 0x81, 0x80 | 127, n)
        masked = bytes(b ^ mask[i % 4] for i, b in enumerate(data))
        self.s.sendall(hdr + mask + masked)

    def send(self, obj):
        self.send_text(json.dumps(obj))

    def _exact(self, n):
        b = b""
        while len(b) < n:
            chunk = self.s.recv(n - len(b))
            if not chunk:
                raise ConnectionError("closed")
            b += chunk
        return b

    def recv(self, timeout=10):
        """Next text message as JSON; None if the server closed."""
        self.s.settimeout(timeout)
        msg = b""
        while True:
            try:
                h = self._exact(2)
            except ConnectionError:
                return None
            op, n = h[0] & 0x0F, h[1] & 0x7F
            if n == 126:
                n = struct.unpack("!H", self._exact(2))[0]
            elif n == 127:
                n = struct.unpack("!Q", self._exact(8))[0]
            payload = self._exact(n)
            if op == 8:
                return None
            if op in (9, 10):
                continue
            msg += payload
            if h[0] & 0x80:
                return json.loads(msg)

    def call(self, method, params=None, id_=1):
        self.send(req(method, params, id_))
        return self.recv()

    def close(self):
        self.s.close()


# ------------------------------------------------------------------ scenarios

def post_single():
    st, r, _ = post(req("echo", {"value": "hi"}, id_="abc"))
    check(st == 200, f"status {st}")
    check(r == {"jsonrpc": "2.0", "id": "abc", "result": {"value": "hi"}}, f"got {r}")
    st, r, _ = post(req("health", None, 7))
    check(r == {"jsonrpc": "2.0", "id": 7, "result": {}}, f"health got {r}")


def post_batch():
    st, r, _ = post([req("add", {"a": 1, "b": "2"}, 1), req("nope", {}, 2),
                     req("echo", {"value": "x"}, 3)])
    check(st == 200 and isinstance(r, list) and len(r) == 3, f"got {st} {r}")
    check(r[0]["id"] == 1 and r[0]["result"] == {"sum": "3"}, f"item 0 {r[0]}")
    check(r[1]["id"] == 2 and err_code(r[1]) == -32601, f"item 1 {r[1]}")
    check(r[2]["id"] == 3 and r[2]["result"] == {"value": "x"}, f"item 2 {r[2]}")
    st, r, _ = post([])
    check(err_code(r) == -32600, f"empty batch {r}")


def keepalive():
    c = conn()
    for i in range(5):
        st, r, _ = post(req("add", {"a": i, "b": i}, i), c=c)
        check(r["result"] == {"sum": str(2 * i)}, f"round {i}: {r}")
    c.close()


def uri_typed():
    st, raw, _ = get("/add?a=5&b=%2210%22")
    r = json.loads(raw)
    check(st == 200 and r == {"jsonrpc": "2.0", "id": -1, "result": {"sum": "15"}}, f"add {st} {r}")
    st, raw, _ = get("/echo?value=%22quoted%20text%22")
    check(json.loads(raw)["result"] == {"value": "quoted text"}, f"echo {raw}")
    st, raw, _ = get("/bytes?data=0xDEADBEEF&h=0xabcd")
    r = json.loads(raw)["result"]
    check(r == {"data": base64.b64encode(bytes.fromhex("deadbeef")).decode(), "h": "ABCD"},
          f"bytes {r}")
    st, raw, _ = get("/bytes?data=%22hello%22")
    check(json.loads(raw)["result"]["data"] == base64.b64encode(b"hello").decode(), f"{raw}")
    st, raw, _ = get("/flag?on=true")
    check(json.loads(raw)["result"] == {"on": True}, f"flag {raw}")
    st, raw, _ = get("/add?a=five&b=1")
    r = json.loads(raw)
    check(err_code(r) == -32602 and "a:" in r["error"]["data"], f"bad int {r}")
    st, raw, _ = get("/bytes?data=DEADBEEF")
    r = json.loads(raw)
    check(err_code(r) == -32602 and "0x" in r["error"]["data"], f"bare bytes {r}")


def unknown_method():
    st, r, _ = post(req("no_such_method", {}, 9))
    check(r["id"] == 9 and err_code(r) == -32601 and "no_such_method" in r["error"]["data"],
          f"post {r}")
    check(r["error"]["message"] == "Method not found", f"message {r}")
    st, raw, _ = get("/no_such_method")
    check(err_code(json.loads(raw)) == -32601, f"uri {raw}")
    st, r, _ = post(req("subscribe", {"query": "tm.event='NewBlock'"}, 3))
    check(err_code(r) == -32601 and "WebSocket" in r["error"]["data"], f"subscribe over http {r}")


def malformed_json():
    c = conn()
    st, r, _ = post(b'{"jsonrpc":"2.0","id":1,"method":', c=c)
    check(st == 200 and err_code(r) == -32700 and r["id"] is None, f"parse {st} {r}")
    check("line" in r["error"]["data"], f"data {r}")
    st, r, _ = post(b'"just a string"', c=c)
    check(err_code(r) == -32600, f"string body {r}")
    st, r, _ = post({"jsonrpc": "1.0", "id": 1, "method": "health"}, c=c)
    check(err_code(r) == -32600, f"wrong version {r}")
    st, r, _ = post({"jsonrpc": "2.0", "id": [1], "method": "health"}, c=c)
    check(err_code(r) == -32600, f"array id {r}")
    st, r, _ = post({"jsonrpc": "2.0", "id": 2, "method": 5}, c=c)
    check(err_code(r) == -32600 and r["id"] == 2, f"numeric method {r}")
    # and the same connection still serves
    st, r, _ = post(req("health", None, 4), c=c)
    check(r == {"jsonrpc": "2.0", "id": 4, "result": {}}, f"after errors {r}")
    c.close()


def oversize_body():
    big = json.dumps(req("echo", {"value": "x" * (70 * 1024)})).encode()  # limit is 64 KiB
    st, r, resp = post(big)
    check(st == 413 and err_code(r) == -32600 and "exceeds" in r["error"]["data"],
          f"oversize {st} {r}")
    # a chunked body (no Content-Length) is refused with 411: lws 4.1 cannot read it
    c = conn()
    c.putrequest("POST", "/")
    c.putheader("Transfer-Encoding", "chunked")
    c.endheaders()
    small = json.dumps(req("health")).encode()
    c.send(b"%x\r\n%s\r\n0\r\n\r\n" % (len(small), small))
    r2 = c.getresponse()
    body = json.loads(r2.read())
    check(r2.status == 411 and err_code(body) == -32600, f"chunked {r2.status} {body}")
    c.close()
    st, r, _ = post(req("echo", {"value": "still here"}))
    check(r["result"] == {"value": "still here"}, f"after oversize {r}")


def wrong_params():
    st, r, _ = post(req("add", {"a": "1", "b": True}))
    check(err_code(r) == -32602 and "b:" in r["error"]["data"], f"bool for int {r}")
    st, r, _ = post(req("add", {"a": 1}))
    check(err_code(r) == -32602 and "missing" in r["error"]["data"], f"missing {r}")
    st, r, _ = post(req("add", [1, 2]))
    check(r["result"] == {"sum": "3"}, f"positional {r}")
    st, r, _ = post(req("add", [1, 2, 3]))
    check(err_code(r) == -32602, f"too many {r}")
    st, r, _ = post(req("add", "notparams"))
    check(err_code(r) == -32602, f"string params {r}")
    st, r, _ = post(req("bytes", {"data": "not base64!"}))
    check(err_code(r) == -32602 and "base64" in r["error"]["data"], f"bad base64 {r}")
    st, r, _ = post(req("bytes", {"data": "aGk=", "h": "xyz"}))
    check(err_code(r) == -32602 and "hex" in r["error"]["data"], f"bad hex {r}")


def routes_and_health():
    st, raw, r = get("/")
    check(st == 200 and b"/add?a=_a&amp;b=_b" in raw and b"/health" in raw, f"routes {raw[:200]}")
    check(b"/subscribe" not in raw, "subscribe listed as an HTTP route")
    st, raw, _ = get("/health")
    check(st == 200 and json.loads(raw) == {"jsonrpc": "2.0", "id": -1, "result": {}}, f"{raw}")


def metrics():
    post(req("echo", {"value": "a"}))
    post(req("echo", {"value": "b"}))
    post(req("missing", {}))
    st, raw, r = get("/metrics")
    text = raw.decode()
    check(st == 200 and r.getheader("Content-Type").startswith("text/plain"), f"{st}")
    check("# TYPE cairn_rpc_requests_total counter" in text, text)
    check('cairn_rpc_requests_total{method="echo",status="ok"} 2' in text, text)
    check('cairn_rpc_requests_total{method="unknown",status="error"} 1' in text, text)
    check("cairn_test_blocks_total 42" in text, text)
    check('cairn_rpc_request_duration_seconds_count{method="echo"} 2' in text, text)


def deferred():
    s = socket.create_connection((HOST, PORT), timeout=10)
    body = json.dumps(req("slow", {}, 11)).encode()
    s.sendall(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
              b"Content-Length: %d\r\n\r\n%s" % (len(body), body))
    time.sleep(0.2)
    st, r, _ = post(req("release", {}, 12))
    check(r["result"] == {"released": 1}, f"release {r}")
    s.settimeout(10)
    data = b""
    while b"\r\n\r\n" not in data or not data.rstrip().endswith(b"}"):
        chunk = s.recv(4096)
        if not chunk:
            break
        data += chunk
    body = json.loads(data.split(b"\r\n\r\n", 1)[1])
    check(body == {"jsonrpc": "2.0", "id": 11, "result": {"late": True}}, f"late {body}")
    s.close()


def deferred_timeout():
    t0 = time.time()
    st, r, _ = post(req("slow", {}, 5))
    check(err_code(r) == -32603 and "timed out" in r["error"]["data"], f"timeout {r}")
    check(time.time() - t0 < 5, "timeout took too long")


def ws_subscribe():
    ws = WS()
    check(ws.status == 101, f"upgrade status {ws.status}")
    r = ws.call("subscribe", {"query": "tm.event='Tx' AND tx.height=5"}, id_="sub-1")
    check(r == {"jsonrpc": "2.0", "id": "sub-1", "result": {}}, f"subscribe {r}")
    r = ws.call("echo", {"value": "over ws"}, id_=2)
    check(r["result"] == {"value": "over ws"}, f"echo over ws {r}")
    # an event that does not match, then one that does
    st, r, _ = post(req("publish", {"type": "Tx", "hash": "AA", "height": 4}))
    check(r["result"] == {"delivered": 0}, f"non-matching publish {r}")
    st, r, _ = post(req("publish", {"type": "Tx", "hash": "BB", "height": 5}))
    check(r["result"] == {"delivered": 1}, f"matching publish {r}")
    ev = ws.recv()
    check(ev["id"] == "sub-1" and ev["jsonrpc"] == "2.0", f"event envelope {ev}")
    res = ev["result"]
    check(res["query"] == "tm.event='Tx' AND tx.height=5", f"query {res}")
    check(res["data"] == {"type": "tendermint/event/Tx", "value": {"height": "5"}}, f"data {res}")
    check(res["events"] == {"tm.event": ["Tx"], "tx.hash": ["BB"], "tx.height": ["5"]},
          f"events {res}")
    r = ws.call("unsubscribe", {"query": "tm.event = 'Tx' AND tx.height = 5"}, id_=3)
    check(r["result"] == {}, f"unsubscribe {r}")
    st, r, _ = post(req("publish", {"type": "Tx", "hash": "BB", "height": 5}))
    check(r["result"] == {"delivered": 0}, f"after unsubscribe {r}")
    r = ws.call("unsubscribe", {"query": "tm.event='Tx'"}, id_=4)
    check(err_code(r) == -32603 and "not found" in r["error"]["data"], f"unsub unknown {r}")
    r = ws.call("subscribe", {"query": "tm.event='NewBlock' AND"}, id_=5)
    check(err_code(r) == -32602 and "query" in r["error"]["data"], f"bad query {r}")
    ws.send_text("{not json")
    r = ws.recv()
    check(err_code(r) == -32700, f"ws parse error {r}")
    ws.send(req("echo", {"value": "y" * (70 * 1024)}, id_=6))  # over the 64 KiB limit
    r = ws.recv()
    check(err_code(r) == -32600 and "exceeds" in r["error"]["data"], f"ws oversize {r}")
    r = ws.call("echo", {"value": "after"}, id_=7)
    check(r["result"] == {"value": "after"}, f"ws after oversize {r}")
    ws.close()


def ws_hash_query():
    ws = WS()
    r = ws.call("subscribe", {"query": "tx.hash='CC'"}, id_=1)
    check(r["result"] == {}, f"subscribe {r}")
    r = ws.call("subscribe", {"query": "tm.event='NewBlock'"}, id_=2)
    check(r["result"] == {}, f"subscribe 2 {r}")
    post(req("publish", {"type": "Tx", "hash": "DD", "height": 1}))
    post(req("publish", {"type": "Tx", "hash": "CC", "height": 1}))
    ev = ws.recv()
    check(ev["id"] == 1 and ev["result"]["events"]["tx.hash"] == ["CC"], f"hash event {ev}")
    post(req("publish", {"type": "NewBlock", "hash": "", "height": 2}))
    ev = ws.recv()
    check(ev["id"] == 2 and ev["result"]["data"]["type"] == "tendermint/event/NewBlock", f"{ev}")
    r = ws.call("unsubscribe_all", {}, id_=3)
    check(r["result"] == {}, f"unsubscribe_all {r}")
    ws.close()


def ws_limits():
    ws = WS()
    for i in range(3):  # the test server allows 3 per client
        r = ws.call("subscribe", {"query": f"tm.event='Tx' AND tx.height={i}"}, id_=i)
        check(r["result"] == {}, f"subscribe {i}: {r}")
    r = ws.call("subscribe", {"query": "tm.event='Tx' AND tx.height=99"}, id_=9)
    check(err_code(r) == -32603 and "max_subscriptions_per_client" in r["error"]["data"],
          f"per-client limit {r}")
    r = ws.call("subscribe", {"query": "tm.event='Tx' AND tx.height=0"}, id_=10)
    check("already subscribed" in r.get("error", {}).get("data", ""), f"duplicate {r}")
    ws2 = WS()
    r = ws2.call("subscribe", {"query": "tm.event='NewBlock'"}, id_=1)
    check(r["result"] == {}, f"second client {r}")
    ws3 = WS()  # the test server allows 2 subscribed clients
    r = ws3.call("subscribe", {"query": "tm.event='NewBlock'"}, id_=1)
    check("max_subscription_clients" in r.get("error", {}).get("data", ""), f"client limit {r}")
    ws2.close()
    time.sleep(0.3)  # the server notices the close and frees the slot
    r = ws3.call("subscribe", {"query": "tm.event='NewBlock'"}, id_=2)
    check(r["result"] == {}, f"slot freed {r}")
    ws.close()
    ws3.close()


def ws_slow_client():
    ws = WS()
    r = ws.call("subscribe", {"query": "tm.event='NewBlock'"}, id_=1)
    check(r["result"] == {}, f"subscribe {r}")
    ws.s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    # never read: the server's queue (bounded) fills and the client is dropped
    st, r, _ = post(req("publish", {"type": "NewBlock", "hash": "", "height": 1, "big": 1,
                                    "times": 400}))
    check(r["result"]["delivered"] < 400, f"queue unbounded? {r}")
    st, raw, _ = get("/metrics")
    check(b"cairn_rpc_ws_clients_dropped_total 1" in raw, raw.decode())
    # the server goes on serving
    st, r, _ = post(req("health", None, 1))
    check(r["result"] == {}, f"after drop {r}")
    ws.close()


def ws_wrong_path():
    ws = WS("/other")
    check(ws.status != 101, f"upgrade accepted on /other: {ws.status}")
    ws.close()


def conn_limit():
    socks = []
    for _ in range(2):  # the test server allows 4 connections: 2 busy, 2 idle
        s = socket.create_connection((HOST, PORT), timeout=5)
        s.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
        check(b"200" in s.recv(4096).split(b"\r\n")[0], "first connections served")
        socks.append(s)
    socks += [socket.create_connection((HOST, PORT), timeout=5) for _ in range(2)]
    time.sleep(0.2)  # idle sockets that never sent a byte count too
    extra = socket.create_connection((HOST, PORT), timeout=5)
    try:
        extra.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
        data = extra.recv(4096)
    except (ConnectionResetError, BrokenPipeError):
        data = b""
    check(data == b"", f"connection over the limit served: {data[:80]}")
    extra.close()
    socks.pop().close()
    time.sleep(0.3)
    st, raw, _ = get("/health")
    check(st == 200, "served again after a connection closed")
    st, raw, _ = get("/metrics")
    check(b"cairn_rpc_connections_rejected_total 1" in raw, raw.decode())
    for s in socks:
        s.close()


# ------------------------------------------------------------------ pipelining

def raw_post(body_obj):
    body = json.dumps(body_obj).encode()
    return (b"POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b"Content-Length: %d\r\n\r\n" % len(body)) + body


def raw_get(path):
    return b"GET %s HTTP/1.1\r\nHost: x\r\n\r\n" % path.encode()


def read_answers(s, want, timeout=10):
    """Reads HTTP answers (Content-Length bodies) until `want` arrived or the
    server closed; returns (bodies, closed)."""
    s.settimeout(timeout)
    data, bodies, closed = b"", [], False
    while len(bodies) < want:
        head, sep, rest = data.partition(b"\r\n\r\n")
        if sep:
            n = 0
            for line in head.split(b"\r\n")[1:]:
                k, _, v = line.partition(b":")
                if k.strip().lower() == b"content-length":
                    n = int(v)
            if len(rest) >= n:
                bodies.append(json.loads(rest[:n]))
                data = rest[n:]
                continue
        chunk = s.recv(65536)
        if not chunk:
            closed = True
            break
        data += chunk
    check(not data, f"a cut or malformed answer: {data[:80]!r}")
    return bodies, closed


def check_in_order(bodies, closed, expect):
    check(bodies, "no answer at all")
    for b, want in zip(bodies, expect):
        check(b == want, f"answer {b} where {want} was due")
    if len(bodies) < len(expect):
        check(closed, "requests left unanswered on an open connection")


def pipelined():
    """Requests sent in one write before any answer is read: behind a deferred
    call (POST and URI form), behind immediate answers, and GETs only. Every
    answer is the right one in order; unanswered requests only before a close;
    the server goes on serving. libwebsockets 4.1 spun or froze on these."""
    late = lambda id_: {"jsonrpc": "2.0", "id": id_, "result": {"late": True}}  # noqa: E731
    echo = lambda id_, v: {"jsonrpc": "2.0", "id": id_, "result": {"value": v}}  # noqa: E731
    for first, id_ in ((raw_post(req("slow", {}, 1)), 1), (raw_get("/slow"), -1)):
        s = socket.create_connection((HOST, PORT), timeout=10)
        s.sendall(first + raw_post(req("echo", {"value": "b"}, 2)) + raw_get('/echo?value="c"'))
        time.sleep(0.2)
        st, r, _ = post(req("release", {}, 9))
        check(r["result"] == {"released": 1}, f"release {r}")
        bodies, closed = read_answers(s, 3)
        check_in_order(bodies, closed, [late(id_), echo(2, "b"), echo(-1, "c")])
        s.close()
    s = socket.create_connection((HOST, PORT), timeout=10)
    s.sendall(raw_post(req("echo", {"value": "a"}, 1)) + raw_post(req("add", {"a": 1, "b": 2}, 2))
              + raw_get('/echo?value="c"'))
    bodies, closed = read_answers(s, 3)
    check_in_order(bodies, closed, [echo(1, "a"), {"jsonrpc": "2.0", "id": 2, "result": {"sum": "3"}},
                                    echo(-1, "c")])
    s.close()
    s = socket.create_connection((HOST, PORT), timeout=10)
    s.sendall(raw_get('/echo?value="a"') + raw_post(req("echo", {"value": "b"}, 2)))
    bodies, closed = read_answers(s, 2)
    check_in_order(bodies, closed, [echo(-1, "a"), echo(2, "b")])
    s.close()
    s = socket.create_connection((HOST, PORT), timeout=10)
    s.sendall(b"".join(raw_get(f'/echo?value="{i}"') for i in range(6)))
    bodies, closed = read_answers(s, 6)
    check(bodies == [echo(-1, str(i)) for i in range(6)], f"pipelined GETs: {bodies}")
    s.close()
    st, r, _ = post(req("echo", {"value": "still"}, 3))
    check(r == echo(3, "still"), f"served after pipelining: {r}")
    st, raw, _ = get("/metrics")
    check(b"cairn_rpc_pipelined_closed_total" in raw, "pipelining metric missing")


def metrics_only():
    """The [metrics] listen server: /metrics and nothing else."""
    st, raw, _ = get("/metrics")
    check(st == 200 and b"cairn_test_blocks_total 42" in raw, f"metrics {st}")
    st, r, _ = post(req("echo", {"value": "x"}))
    check(st == 404 and "metrics only" in r["error"]["data"], f"JSON-RPC served: {st} {r}")
    for path in ("/health", "/", "/echo?value=%22x%22"):
        st, raw, _ = get(path)
        check(st == 404, f"{path} served: {st}")
    ws = WS()
    check(ws.status != 101, f"WebSocket upgraded on the metrics listener: {ws.status}")


SCENARIOS = {f.__name__: f for f in [
    post_single, post_batch, keepalive, uri_typed, unknown_method, malformed_json,
    oversize_body, wrong_params, routes_and_health, metrics, deferred, deferred_timeout,
    ws_subscribe, ws_hash_query, ws_limits, ws_slow_client, ws_wrong_path, conn_limit,
    pipelined, metrics_only]}

if __name__ == "__main__":
    try:
        SCENARIOS[sys.argv[2]]()
    except SystemExit:
        raise
    except Exception as e:  # noqa: BLE001 - report any client-side failure
        fail(f"{type(e).__name__}: {e}")
    sys.exit(0)
