#!/usr/bin/env python3
"""`cairn bench` against a real validator: at a fixed rate every transaction it
sends is accounted for and committed, with ordered latency percentiles; when the
node refuses whole batches (a request body limit below the bench's batch size),
every transaction sent is still accounted for, as refused with the node's reason
(the report once counted such batches as neither sent nor refused)."""
import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from cairnnet import CAIRN, Net, log, main  # noqa: E402


def check(cond, msg):
    if not cond:
        raise AssertionError(msg)


def bench(net, node, *args):
    out = subprocess.run([CAIRN, "bench", "--node", node.url, "--home", net.dir, "--json",
                          *args], capture_output=True, text=True, timeout=120)
    check(out.returncode == 0, f"bench failed: {out.stderr[-500:]}")
    return json.loads(out.stdout)


def test_bench():
    net = Net(validators=1, extra_args=("--accounts", "4")).start()
    node = net.nodes[0]
    node.wait_height(2)

    r = bench(net, node, "--rate", "100", "--duration", "2")
    log(f"rate 100: {r['committed']} committed, p50 {r['latency_ms']['p50']} ms")
    check(r["submitted"] > 0 and r["committed"] == r["submitted"] == r["accepted"],
          f"not all committed: {r}")
    lat = r["latency_ms"]
    check(0 < lat["p50"] <= lat["p90"] <= lat["p99"] <= lat["max"], f"latencies {lat}")
    check(r["blocks"]["count"] > 0 and r["committed_tps"] > 0, f"blocks {r['blocks']}")

    check(node.stop() == 0, "clean stop")
    node.set_config("rpc", "max_body_bytes", 4096)  # a batch of 100 transfers is ~30 KB
    node.start()
    node.wait_height(node.height() + 1)
    r = bench(net, node, "--duration", "1")
    refused = sum(r["rejected"].values())
    log(f"body limit: submitted {r['submitted']}, accepted {r['accepted']}, refused {refused}")
    check(r["submitted"] > 0, "nothing sent")
    check(r["submitted"] == r["accepted"] + refused, f"transactions unaccounted for: {r}")
    check(any("exceeds the limit" in k for k in r["rejected"]), f"reasons {r['rejected']}")
    check(r["latency_ms"]["max"] < 600000, f"latency from an unsent tx: {r['latency_ms']}")


if __name__ == "__main__":
    main(test_bench)
