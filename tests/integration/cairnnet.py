"""Helpers for integration tests: real cairn processes on loopback.

A Net writes home folders with `cairn testnet`, starts one `cairn start` process per
node, talks to each over its JSON-RPC port, and stops every process it started by
its process id (also on failure, via atexit). Nothing here mocks the node.
"""
import atexit
import base64
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CAIRN = os.environ.get("CAIRN_BIN", os.path.join(ROOT, "build", "cairn"))

_live = []


def _cleanup():
    for p in _live:
        if p.poll() is None:
            try:
                os.kill(p.pid, signal.SIGCONT)
                os.kill(p.pid, signal.SIGKILL)
            except OSError:
                pass
            p.wait()


atexit.register(_cleanup)


def log(*a):
    print(time.strftime("%H:%M:%S"), *a, flush=True)


def free_base_port(span):
    """A base port with `span` free ports above it (checked by binding), below
    Linux's ephemeral range (32768+): a node's outgoing connection may take any
    ephemeral port as its source, including one a node not yet started would
    listen on."""
    for _ in range(200):
        base = random.randrange(20000, 32000 - span, 10)
        ok = True
        for port in range(base, base + span):
            s = socket.socket()
            try:
                s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                s.bind(("127.0.0.1", port))
            except OSError:
                ok = False
            finally:
                s.close()
            if not ok:
                break
        if ok:
            return base
    raise RuntimeError("no free port range")


class RpcError(Exception):
    def __init__(self, err):
        super().__init__(f"{err.get('code')}: {err.get('message')} {err.get('data', '')}")
        self.err = err


class Node:
    def __init__(self, net, index, home, rpc_port, p2p_port):
        self.net, self.index, self.home = net, index, home
        self.rpc_port, self.p2p_port = rpc_port, p2p_port
        self.proc = None
        self.log_path = os.path.join(home, "node.log")

    @property
    def url(self):
        return f"http://127.0.0.1:{self.rpc_port}"

    def start(self, extra=(), bin=None):
        """bin: another cairn binary for this node (e.g. build-san/cairn)."""
        assert self.proc is None or self.proc.poll() is not None, "already running"
        logf = open(self.log_path, "ab")
        self.proc = subprocess.Popen([bin or CAIRN, "start", "--home", self.home, *extra],
                                     stdout=logf, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL)
        _live.append(self.proc)
        return self

    def running(self):
        return self.proc is not None and self.proc.poll() is None

    def set_config(self, section, key, value):
        """Sets `key = value` in [section] of HOME/config/config.ini (the key must
        be in the file, as `cairn testnet` writes every option); takes effect at
        the next start."""
        path = os.path.join(self.home, "config", "config.ini")
        out, current, done = [], None, False
        with open(path) as f:
            for line in f:
                if line.startswith("["):
                    current = line.strip()[1:-1]
                if current == section and line.split("=")[0].strip() == key:
                    line, done = f"{key} = {value}\n", True
                out.append(line)
        assert done, f"[{section}] {key} not in {path}"
        with open(path, "w") as f:
            f.writelines(out)

    def kill(self, sig=signal.SIGKILL):
        if self.running():
            os.kill(self.proc.pid, sig)
            if sig in (signal.SIGKILL, signal.SIGTERM, signal.SIGINT):
                self.proc.wait(timeout=30)

    def stop(self):
        """Clean stop: SIGTERM, wait; returns the exit code."""
        if not self.running():
            return self.proc.returncode if self.proc else None
        os.kill(self.proc.pid, signal.SIGTERM)
        return self.proc.wait(timeout=30)

    def pause(self):
        os.kill(self.proc.pid, signal.SIGSTOP)

    def resume(self):
        os.kill(self.proc.pid, signal.SIGCONT)

    def rpc(self, method, timeout=10, **params):
        body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": method,
                           "params": params}).encode()
        req = urllib.request.Request(self.url, data=body,
                                     headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=timeout) as r:
            resp = json.loads(r.read())
        if "error" in resp:
            raise RpcError(resp["error"])
        return resp["result"]

    def get(self, path, timeout=10):
        with urllib.request.urlopen(self.url + path, timeout=timeout) as r:
            return r.read()

    def height(self):
        try:
            return int(self.rpc("status", timeout=3)["sync_info"]["latest_block_height"])
        except (OSError, urllib.error.URLError, RpcError, ValueError, KeyError):
            return -1

    def block_hash(self, h):
        return self.rpc("block", height=str(h))["block_id"]["hash"]

    def wait_height(self, h, timeout=60):
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.height() >= h:
                return
            if self.proc is not None and self.proc.poll() is not None:
                raise AssertionError(f"node{self.index} exited with {self.proc.returncode}; "
                                     f"log tail:\n{self.tail()}")
            time.sleep(0.2)
        raise AssertionError(f"node{self.index} did not reach height {h} in {timeout}s "
                             f"(at {self.height()}); log tail:\n{self.tail()}")

    def tail(self, n=40):
        try:
            with open(self.log_path, "rb") as f:
                return b"".join(f.readlines()[-n:]).decode(errors="replace")
        except OSError:
            return "(no log)"


class Net:
    def __init__(self, validators=4, full_nodes=0, extra_args=(), keep=False):
        self.dir = tempfile.mkdtemp(prefix="cairn-it-")
        self.keep = keep or os.environ.get("KEEP") == "1"
        n = validators + full_nodes
        self.base = free_base_port(10 * n + 10)
        subprocess.run([CAIRN, "testnet", "--validators", str(validators),
                        "--full-nodes", str(full_nodes), "--out", self.dir,
                        "--base-port", str(self.base), "--chain-id", "cairn-it",
                        *extra_args], check=True, stdout=subprocess.DEVNULL)
        self.nodes = [Node(self, i, os.path.join(self.dir, f"node{i}"),
                           self.base + 10 * i + 1, self.base + 10 * i)
                      for i in range(n)]
        atexit.register(self.close)

    def start(self, which=None):
        for node in (self.nodes if which is None else [self.nodes[i] for i in which]):
            node.start()
        return self

    def close(self):
        for node in self.nodes:
            if node.running():
                node.resume() if node.proc else None
                node.kill()
        if not self.keep:
            shutil.rmtree(self.dir, ignore_errors=True)

    def wait_height(self, h, nodes=None, timeout=60):
        for node in nodes or self.nodes:
            node.wait_height(h, timeout)

    def check_same_chain(self, upto, nodes=None):
        """Every node has the same block hash at every height 1..upto."""
        nodes = nodes or [n for n in self.nodes if n.running()]
        for h in range(1, upto + 1):
            hashes = {n.index: n.block_hash(h) for n in nodes}
            if len(set(hashes.values())) != 1:
                raise AssertionError(f"fork at height {h}: {hashes}")


def funded_key(net, i=0):
    """Path of the i-th funded test account key written by `cairn testnet`."""
    return os.path.join(net.dir, "keys", f"user{i}.json")


def b64(data):
    return base64.b64encode(data).decode()


def main(test):
    """Runs one test function, printing a clear verdict."""
    t0 = time.time()
    try:
        test()
    except Exception:
        import traceback
        traceback.print_exc()
        print(f"FAIL {test.__name__} ({time.time() - t0:.0f}s)")
        sys.exit(1)
    print(f"ok {test.__name__} ({time.time() - t0:.0f}s)")
