"""Each of four validators in its own network namespace (its own host address on
a bridge). One validator is cut off with nftables (or its link taken down where
nftables is missing): the other three keep committing, it does not; once healed it
catches up and every node has the same chain. Skipped, with the reason, where
network namespaces cannot be made (not root, no iproute2)."""
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

from cairnnet import CAIRN, log

TAG = f"c{os.getpid() % 100000}"
N = 4


def sh(*args, check=True):
    return subprocess.run(list(args), check=check, capture_output=True, text=True)


def ns(i):
    return f"{TAG}n{i}"


def setup():
    hub = f"{TAG}hub"
    sh("ip", "netns", "add", hub)
    sh("ip", "netns", "exec", hub, "ip", "link", "add", "br0", "type", "bridge")
    sh("ip", "netns", "exec", hub, "ip", "link", "set", "br0", "up")
    for i in range(N):
        sh("ip", "netns", "add", ns(i))
        a, b = f"{TAG}a{i}", f"{TAG}b{i}"
        sh("ip", "link", "add", a, "type", "veth", "peer", "name", b)
        sh("ip", "link", "set", a, "netns", hub)
        sh("ip", "link", "set", b, "netns", ns(i))
        sh("ip", "netns", "exec", hub, "ip", "link", "set", a, "master", "br0", "up")
        sh("ip", "netns", "exec", ns(i), "ip", "link", "set", b, "name", "eth0")
        sh("ip", "netns", "exec", ns(i), "ip", "addr", "add", f"10.231.0.{i + 1}/24", "dev", "eth0")
        sh("ip", "netns", "exec", ns(i), "ip", "link", "set", "eth0", "up")
        sh("ip", "netns", "exec", ns(i), "ip", "link", "set", "lo", "up")
    return hub


def teardown(hub):
    for i in range(N):
        sh("ip", "netns", "del", ns(i), check=False)
    sh("ip", "netns", "del", hub, check=False)


def rpc(i, method, **params):
    code = ("import json,sys,urllib.request;"
            "b=json.dumps({'jsonrpc':'2.0','id':1,'method':sys.argv[1],'params':json.loads(sys.argv[2])}).encode();"
            "r=urllib.request.urlopen(urllib.request.Request('http://127.0.0.1:26657',data=b),timeout=3);"
            "print(r.read().decode())")
    out = sh("ip", "netns", "exec", ns(i), sys.executable, "-c", code, method, json.dumps(params),
             check=False)
    if out.returncode != 0:
        return None
    resp = json.loads(out.stdout)
    return resp.get("result")


def height(i):
    r = rpc(i, "status")
    return int(r["sync_info"]["latest_block_height"]) if r else -1


def wait_height(nodes, h, timeout):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if all(height(i) >= h for i in nodes):
            return
        time.sleep(0.5)
    raise AssertionError(f"nodes {nodes} did not reach {h}: {[height(i) for i in nodes]}")


def cut(i):
    rules = ("table inet cairncut { chain in { type filter hook input priority 0; policy drop; "
             "iif lo accept; }; chain out { type filter hook output priority 0; policy drop; "
             "oif lo accept; }; }")
    if shutil.which("nft") and sh("ip", "netns", "exec", ns(i), "nft", rules, check=False).returncode == 0:
        return "nftables"
    sh("ip", "netns", "exec", ns(i), "ip", "link", "set", "eth0", "down")
    return "link down"


def heal(i, how):
    if how == "nftables":
        sh("ip", "netns", "exec", ns(i), "nft", "delete", "table", "inet", "cairncut")
    else:
        sh("ip", "netns", "exec", ns(i), "ip", "link", "set", "eth0", "up")


def main():
    if os.geteuid() != 0 or not shutil.which("ip"):
        print("skipped: network namespaces need root and iproute2")
        return 0
    probe = sh("ip", "netns", "add", f"{TAG}probe", check=False)
    if probe.returncode != 0:
        print(f"skipped: cannot create a network namespace: {probe.stderr.strip()}")
        return 0
    sh("ip", "netns", "del", f"{TAG}probe", check=False)
    hub = None
    procs = []
    d = tempfile.mkdtemp(prefix="cairn-netns-")
    try:
        hub = setup()
        hosts = ",".join(f"10.231.0.{i + 1}" for i in range(N))
        sh(CAIRN, "testnet", "--validators", str(N), "--hosts", hosts, "--out", d,
           "--chain-id", "cairn-netns")
        for i in range(N):
            cfg = f"{d}/node{i}/config/config.ini"
            text = open(cfg).read()
            text = text.replace("timeout_commit_ms = 1000", "timeout_commit_ms = 100")
            text = text.replace("timeout_propose_ms = 3000", "timeout_propose_ms = 1000")
            open(cfg, "w").write(text)
            log_f = open(f"{d}/node{i}.log", "wb")
            procs.append(subprocess.Popen(["ip", "netns", "exec", ns(i), CAIRN, "start", "--home",
                                           f"{d}/node{i}"], stdout=log_f, stderr=subprocess.STDOUT))
        wait_height(range(N), 3, 60)
        how = cut(3)
        log(f"node3 cut off ({how})")
        time.sleep(1)
        h3 = height(3)
        h = max(height(i) for i in range(3))
        wait_height(range(3), h + 5, 60)
        assert height(3) <= h3 + 1, f"node3 committed while cut off: {h3} -> {height(3)}"
        heal(3, how)
        log("healed; node3 catches up")
        target = height(0)
        wait_height([3], target, 90)
        top = min(height(i) for i in range(N))
        for hh in range(1, top + 1):
            ids = {rpc(i, "block", height=str(hh))["block_id"]["hash"] for i in range(N)}
            assert len(ids) == 1, f"fork at height {hh}: {ids}"
        log(f"{top} identical heights on 4 namespaced nodes")
        print("ok test_net_partition")
        return 0
    except Exception:
        import traceback
        traceback.print_exc()
        for i in range(N):
            print(f"--- node{i} log tail")
            try:
                print("".join(open(f"{d}/node{i}.log").readlines()[-15:]))
            except OSError:
                pass
        return 1
    finally:
        for p in procs:
            if p.poll() is None:
                p.send_signal(signal.SIGKILL)
                p.wait()
        if hub:
            teardown(hub)
        shutil.rmtree(d, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
