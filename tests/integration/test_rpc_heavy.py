#!/usr/bin/env python3
"""Heavy RPC reads never stall consensus (docs/rpc.md s.3).

A 4-validator network with ~200 short blocks. Several clients hammer node0 with
JSON-RPC batches of 100 full-range tx_search calls and old-height validators
calls. Meanwhile node0 must keep committing with the others, a /health request
on a fresh connection must be answered quickly, and every answer the hammering
clients get is either the right one (equal to the answer of an idle node) or the
documented "server busy, retry" error. Finally node0 is stopped with SIGTERM
while heavy calls are in flight and must exit with status 0.

CAIRN_BIN selects the binary for every node; CAIRN_HEAVY_BIN (e.g.
build-san/cairn) only for the hammered node0. Prints the measured numbers
(health latency percentiles, commit rate) so a run documents them."""
import http.client
import json
import os
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import cairnnet  # noqa: E402
from cairnnet import Net, log  # noqa: E402
from test_rpc_endpoints import WS  # noqa: E402

HEIGHT = int(os.environ.get("CAIRN_HEAVY_HEIGHT", "600"))
HAMMER_S = float(os.environ.get("CAIRN_HEAVY_SECONDS", "15"))
CLIENTS = 4
BATCH = 100
BUSY = "server busy, retry"


def check(cond, msg):
    if not cond:
        raise AssertionError(msg)


def post(port, body, timeout=60):
    """One POST on a fresh connection: (seconds, parsed JSON)."""
    t0 = time.monotonic()
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        c.request("POST", "/", body=json.dumps(body), headers={"Content-Type": "application/json"})
        data = c.getresponse().read()
    finally:
        c.close()
    return time.monotonic() - t0, json.loads(data)


def get(port, path, timeout=10):
    t0 = time.monotonic()
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        c.request("GET", path)
        r = c.getresponse()
        r.read()
        status = r.status
    finally:
        c.close()
    return time.monotonic() - t0, status


def pct(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(p / 100 * len(xs)))] if xs else float("nan")


def heavy_calls(h_top):
    calls = []
    for i in range(BATCH):
        if i % 2 == 0:
            calls.append(("tx_search", {"query": f"tx.height<={h_top}", "per_page": "100"}))
        else:
            calls.append(("validators", {"height": str(2 + i)}))
    return calls


class Hammer:
    def __init__(self, port, calls, expected):
        self.port, self.calls, self.expected = port, calls, expected
        self.stop = threading.Event()
        self.ok = self.busy = self.batches = self.conn_errors = 0
        self.wrong = []
        self.threads = [threading.Thread(target=self.run, daemon=True) for _ in range(CLIENTS)]

    def start(self):
        for t in self.threads:
            t.start()
        return self

    def run(self):
        body = [{"jsonrpc": "2.0", "id": i, "method": m, "params": p}
                for i, (m, p) in enumerate(self.calls)]
        while not self.stop.is_set():
            try:
                _, resp = post(self.port, body)
            except (OSError, http.client.HTTPException, ValueError):
                self.conn_errors += 1  # node stopping at the end of the test
                time.sleep(0.05)
                continue
            self.batches += 1
            if not isinstance(resp, list) or len(resp) != len(body):
                self.wrong.append(("shape", str(resp)[:200]))
                continue
            for one in resp:
                i = one.get("id")
                if "error" in one:
                    if BUSY in (one["error"].get("data") or ""):
                        self.busy += 1
                    else:
                        self.wrong.append((i, one["error"]))
                elif one.get("result") == self.expected[i]:
                    self.ok += 1
                else:
                    self.wrong.append((i, str(one.get("result"))[:200]))

    def finish(self):
        self.stop.set()
        for t in self.threads:
            t.join(timeout=90)


class Light(threading.Thread):
    """A client asking for one block at a time, on its own connection each time,
    while the hammer runs: the workers serve connections in turn, so it is never
    told "busy" (docs/rpc.md s.3)."""

    def __init__(self, port, blocks):
        super().__init__(daemon=True)
        self.port, self.blocks = port, blocks
        self.stop = threading.Event()
        self.ok, self.busy, self.wrong, self.lat = 0, 0, [], []

    def run(self):
        k = 0
        while not self.stop.is_set():
            h = sorted(self.blocks)[k % len(self.blocks)]
            k += 1
            try:
                dt, one = post(self.port, {"jsonrpc": "2.0", "id": 1, "method": "block",
                                           "params": {"height": str(h)}})
            except (OSError, http.client.HTTPException, ValueError) as e:
                self.wrong.append((h, f"connection: {e}"))
                continue
            self.lat.append(dt)
            if "error" in one and BUSY in (one["error"].get("data") or ""):
                self.busy += 1
            elif one.get("result") == self.blocks[h]:
                self.ok += 1
            else:
                self.wrong.append((h, str(one)[:200]))
            time.sleep(0.05)

    def finish(self):
        self.stop.set()
        self.join(timeout=90)


def test_rpc_heavy():
    net = Net(validators=4)
    for node in net.nodes:
        node.set_config("consensus", "timeout_commit_ms", 50)
        node.set_config("consensus", "create_empty_blocks_interval_ms", 0)
    heavy_bin = os.environ.get("CAIRN_HEAVY_BIN")
    n0 = net.nodes[0]
    if heavy_bin:
        n0.start(bin=heavy_bin)
        for node in net.nodes[1:]:
            node.start()
    else:
        net.start()
    t0 = time.time()
    net.wait_height(2, timeout=30)
    # a few transactions, so the searches find something
    to = "00" * 20
    for nonce in range(3):
        tx = subprocess.run([cairnnet.CAIRN, "tx", "transfer", "--home", net.dir, "--from",
                             "user0", "--nonce", str(nonce), "--chain-id", "cairn-it",
                             "--output", "base64", "--to", to, "--amount", "1"],
                            check=True, capture_output=True, text=True).stdout.strip()
        net.nodes[1].rpc("broadcast_tx_commit", tx=tx, timeout=30)
    net.wait_height(HEIGHT, timeout=80)
    log(f"height {HEIGHT} in {time.time() - t0:.0f}s")

    # the right answers, from an idle node (node1): the same chain, same heights
    calls = heavy_calls(HEIGHT)
    _, ref = post(net.nodes[1].rpc_port, [{"jsonrpc": "2.0", "id": i, "method": m, "params": p}
                                          for i, (m, p) in enumerate(calls)])
    expected = {one["id"]: one.get("result") for one in ref}
    check(all(v is not None for v in expected.values()), f"reference errors: {ref[:2]}")
    check(expected[0]["total_count"] == "3", f"tx_search found {expected[0]['total_count']}")

    # idle /health latency on node0
    idle = [get(n0.rpc_port, "/health")[0] for _ in range(20)]
    blocks = {h: net.nodes[1].rpc("block", height=str(h)) for h in range(2, 22)}

    h_start = [node.height() for node in net.nodes]
    ham = Hammer(n0.rpc_port, calls, expected).start()
    light = Light(n0.rpc_port, blocks)
    light.start()
    lat, heights = [], []
    t_end = time.monotonic() + HAMMER_S
    while time.monotonic() < t_end:
        try:
            dt, status = get(n0.rpc_port, "/health", timeout=10)
            check(status == 200, f"/health status {status}")
        except OSError as e:
            raise AssertionError(f"/health failed under load: {e}")
        lat.append(dt)
        time.sleep(0.1)
    h_end = [node.height() for node in net.nodes]
    light.finish()
    ham.finish()
    done = [h_end[i] - h_start[i] for i in range(4)]
    log(f"hammer: {ham.batches} batches, {ham.ok} right answers, {ham.busy} busy, "
        f"{len(ham.wrong)} wrong, {ham.conn_errors} connection errors")
    log(f"/health idle p50 {pct(idle, 50) * 1e3:.1f} ms; under load p50 "
        f"{pct(lat, 50) * 1e3:.1f} ms p99 {pct(lat, 99) * 1e3:.1f} ms max "
        f"{max(lat) * 1e3:.1f} ms ({len(lat)} requests)")
    log(f"blocks committed in {HAMMER_S:.0f}s under load: node0 {done[0]} "
        f"({done[0] / HAMMER_S:.1f}/s), others {done[1:]}")
    log(f"light client: {light.ok} blocks, {light.busy} busy, {len(light.wrong)} wrong; "
        f"p50 {pct(light.lat, 50) * 1e3:.1f} ms max {max(light.lat or [0]) * 1e3:.1f} ms")
    check(not ham.wrong, f"wrong answers: {ham.wrong[:3]}")
    check(not light.wrong, f"light client: wrong answers {light.wrong[:3]}")
    check(light.busy == 0, f"light client told busy {light.busy} times beside the hammer")
    check(light.ok >= 10, f"light client got only {light.ok} blocks")
    check(ham.ok > 0, "no heavy call was answered")
    # Only a generous bound: latency is measured (logged above, recorded in
    # bench/RESULTS.md: p50 ~3 ms here off the loop, ~100 ms when the reads ran on
    # it), not asserted; a stalled loop (30 s waits before the pool) still fails.
    check(max(lat) < 5.0, f"/health took {max(lat):.2f}s under load")
    check(done[0] >= 10, f"node0 committed only {done[0]} blocks under load")
    check(h_end[0] >= max(h_end) - 20, f"node0 fell behind: {h_end}")

    # the metrics agree: busy answers counted, nothing left queued once the load ends
    time.sleep(2.5)
    metrics = n0.get("/metrics").decode()
    vals = {line.split()[0]: float(line.split()[1]) for line in metrics.splitlines()
            if line.startswith("cairn_rpc_heavy_reads")}
    log(f"metrics after the load: {vals}")
    check(vals.get("cairn_rpc_heavy_reads") == 0, f"heavy reads left: {vals}")
    check(vals.get("cairn_rpc_heavy_reads_busy_total", -1) >= (1 if ham.busy else 0),
          f"busy not counted: {vals}")

    # one connection may queue one batch of heavy reads: over WebSocket a client
    # can send five at once, and is told "busy" for what does not fit
    ws = WS(n0.rpc_port)
    body = [{"jsonrpc": "2.0", "id": i, "method": m, "params": p}
            for i, (m, p) in enumerate(calls)]
    for _ in range(5):
        ws.send(body)
    own_busy = right = 0
    for _ in range(5):
        for one in ws.recv(timeout=60):
            data = one.get("error", {}).get("data") or ""
            if "this connection already has 100 heavy reads waiting" in data:
                own_busy += 1
            else:
                check(one.get("result") == expected[one["id"]], f"WebSocket batch: {one}"[:300])
                right += 1
    ws.close()
    log(f"five batches on one WebSocket: {right} answered, {own_busy} busy")
    check(own_busy > 0 and right >= 100, f"{right} answered, {own_busy} busy")

    # over WebSocket: the same answers; a client that leaves with heavy calls
    # queued costs nothing but the reads (their answers are dropped)
    ws = WS(n0.rpc_port)
    ws.send({"jsonrpc": "2.0", "id": 0, "method": calls[0][0], "params": calls[0][1]})
    check(ws.recv(timeout=30).get("result") == expected[0], "tx_search over WebSocket")
    ws.send([{"jsonrpc": "2.0", "id": i, "method": m, "params": p}
             for i, (m, p) in enumerate(calls)])
    ws.close()
    _, status = get(n0.rpc_port, "/health")
    check(status == 200, "/health after a WebSocket client left")
    _, one = post(n0.rpc_port, {"jsonrpc": "2.0", "id": 1, "method": calls[1][0],
                                "params": calls[1][1]})
    check(one.get("result") == expected[1], f"validators after the client left: {one}")

    # stop node0 with heavy calls in flight: a clean exit
    ham = Hammer(n0.rpc_port, calls, expected).start()
    time.sleep(2)
    rc = n0.stop()
    ham.finish()
    log(f"node0 stopped under load: exit {rc} ({ham.batches} batches answered meanwhile)")
    check(rc == 0, f"node0 exit status {rc}; log tail:\n{n0.tail()}")
    closed = [line for line in n0.tail(400).splitlines() if "rpc: closed with" in line]
    log(f"node0: {closed[-1] if closed else 'no heavy reads in flight at the stop'}")
    check(closed, "the stop did not happen with heavy reads in flight")
    if heavy_bin:
        with open(n0.log_path, "rb") as f:
            text = f.read().decode(errors="replace")
        check("ERROR: AddressSanitizer" not in text and "runtime error:" not in text,
              f"sanitizer report in node0's log:\n{n0.tail(60)}")
    net.close()


if __name__ == "__main__":
    cairnnet.main(test_rpc_heavy)
