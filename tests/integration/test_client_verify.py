"""The client commands against a real 4-validator network, and the light client
against a lying node: a proxy that forwards to a real node but alters one thing
(a value, a header byte, a commit signature, the signers, the proof, the height)
must be caught by `cairn query --verify` with a specific message, while the same
lie without --verify is simply shown (so the proxy really lies).

Runs in about 30 s; every process is stopped by pid (cairnnet.Net, proxy thread).
"""
import base64
import copy
import http.server
import json
import os
import signal
import socketserver
import subprocess
import sys
import threading
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import cairnnet  # noqa: E402
from cairnnet import CAIRN, log  # noqa: E402


def run(*args, timeout=60):
    p = subprocess.run([CAIRN, *args], capture_output=True, text=True, timeout=timeout)
    return p.returncode, p.stdout, p.stderr


def ok(*args):
    rc, out, err = run(*args)
    assert rc == 0, f"cairn {' '.join(args)} failed ({rc}): {err}{out}"
    return out


def fails_with(needle, *args):
    rc, out, err = run(*args)
    assert rc != 0, f"cairn {' '.join(args)} should fail, printed:\n{out}"
    assert needle in err, f"expected {needle!r} in stderr of cairn {' '.join(args)}:\n{err}"
    assert err.count("\n") == 1, f"error is not one line: {err!r}"
    return err


# ---------------------------------------------------------------- the liar

class Liar:
    """An HTTP JSON-RPC proxy to `upstream` that applies self.mode to answers."""

    def __init__(self, upstream):
        self.upstream = upstream
        self.mode = "none"
        liar = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *a):
                pass

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                req = json.loads(body)
                req = liar.alter_request(req)
                up = urllib.request.Request(liar.upstream, data=json.dumps(req).encode(),
                                            headers={"Content-Type": "application/json"})
                with urllib.request.urlopen(up, timeout=30) as r:
                    resp = json.loads(r.read())
                if "result" in resp:
                    resp["result"] = liar.alter(req["method"], resp["result"])
                out = json.dumps(resp).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(out)))
                self.end_headers()
                self.wfile.write(out)

        class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
            daemon_threads = True

        self.server = Server(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()

    def alter_request(self, req):
        if self.mode == "stale" and req["method"] == "abci_query":
            # answer with a real proof of an older state, honestly labelled
            req = copy.deepcopy(req)
            req["params"]["height"] = str(max(1, int(req["params"]["height"]) - 3))
        return req

    def alter(self, method, res):
        m = self.mode
        if method == "abci_query" and m in ("value", "proof"):
            r = res["response"]
            field = r["value"] if m == "value" else r["proofOps"]["ops"][0]["data"]
            raw = bytearray(base64.b64decode(field))
            raw[-1] ^= 0x01  # "blue" -> "blud"; the proof: a byte of the last sibling
            if m == "value":
                r["value"] = base64.b64encode(bytes(raw)).decode()
            else:
                r["proofOps"]["ops"][0]["data"] = base64.b64encode(bytes(raw)).decode()
        elif method == "commit" and m == "header":
            h = res["signed_header"]["header"]
            b = bytearray(bytes.fromhex(h["app_hash"]))
            b[0] ^= 0x01
            h["app_hash"] = b.hex().upper()
        elif method == "commit" and m == "signature":
            for s in res["signed_header"]["commit"]["signatures"]:
                if s["block_id_flag"] == 2:
                    sig = bytearray(base64.b64decode(s["signature"]))
                    sig[7] ^= 0x10
                    s["signature"] = base64.b64encode(bytes(sig)).decode()
                    self.victim = s["validator_address"]
                    break
        elif method == "commit" and m == "quorum":
            # keep only two of the four precommits: exactly 1/2 of the power
            kept = 0
            for s in res["signed_header"]["commit"]["signatures"]:
                if s["block_id_flag"] == 2 and kept < 2:
                    kept += 1
                    continue
                s.update(block_id_flag=1, validator_address="", signature=None,
                         timestamp="0001-01-01T00:00:00Z")
        return res


# ---------------------------------------------------------------- the test

def test_client_verify():
    net = cairnnet.Net(validators=4).start()
    liar = None
    try:
        node = net.nodes[0]
        net.wait_height(2, timeout=60)
        genesis = os.path.join(node.home, "config", "genesis.json")
        with open(cairnnet.funded_key(net, 0)) as f:
            alice = json.load(f)["address"]
        with open(cairnnet.funded_key(net, 1)) as f:
            bob = json.load(f)["address"]
        N = ("--node", node.url)

        log("status, block, watch")
        st = json.loads(ok("status", *N, "--json"))
        assert st["node_info"]["network"] == "cairn-it"
        assert "height" in ok("status", *N)
        blk = json.loads(ok("block", "1", *N, "--json"))
        assert blk["block"]["header"]["height"] == "1"
        lines = ok("watch", *N, "--count", "2").strip().splitlines()
        assert len(lines) == 2, lines
        h1, h2 = int(lines[0].split()[0]), int(lines[1].split()[0])
        assert h2 == h1 + 1, lines
        # watch runs until Ctrl-C, then exits 0
        w = subprocess.Popen([CAIRN, "watch", *N], stdout=subprocess.PIPE, text=True)
        try:
            first = w.stdout.readline()
            assert first.split()[0].isdigit(), first
            os.kill(w.pid, signal.SIGINT)
            assert w.wait(timeout=10) == 0
        finally:
            if w.poll() is None:
                os.kill(w.pid, signal.SIGKILL)
                w.wait()
        fails_with("cannot reach node at http://127.0.0.1:1: connection refused",
                   "status", "--node", "http://127.0.0.1:1")

        log("tx send: transfers and puts, nonces fetched from the node")
        home = ("--home", net.dir)
        out = ok("tx", "send", "transfer", *home, "--from", "user0", "--to", bob,
                 "--amount", "25", *N)
        assert "code    0 (ok)" in out, out
        assert int(out.split("height  ")[1].split()[0]) >= 1, out
        out = ok("tx", "send", "put", *home, "--from", "user0", "--key", "color",
                 "--value", "blue", *N)
        assert "code    0 (ok)" in out, out
        res = json.loads(ok("tx", "send", "transfer", *home, "--from", "user1", "--to", alice,
                            "--amount", "7", *N, "--json"))
        assert res["tx_result"]["code"] == 0 and int(res["height"]) > 0, res
        fails_with("transaction refused with code 3", "tx", "send", "put", *home, "--from",
                   "user0", "--key", "k", "--value", "v", "--nonce", "0", *N)
        ok("tx", "send", "put", *home, "--from", "user0", "--key", "sync", "--value", "1",
           *N, "--sync")
        # the nonce comes from committed state: let the --sync one commit first
        net.wait_height(node.height() + 2, nodes=[node])
        out = ok("tx", "send", "delete", *home, "--from", "user0", "--key", "sync", *N)
        assert "code    0 (ok)" in out, out
        net.wait_height(node.height() + 1, nodes=[node])

        log("verified queries through the honest node")
        acc = json.loads(ok("query", "account", alice, *N, "--verify", "--genesis", genesis,
                            "--json"))
        assert acc["verified"] and acc["exists"] and acc["nonce"] == "4", acc
        assert acc["balance"] == str(1000000000000 - 25 + 7), acc
        rec = json.loads(ok("query", "record", alice, "color", *N, "--verify",
                            "--home", node.home, "--json"))
        assert rec["value"] == "blue" and rec["verified"], rec
        absent = json.loads(ok("query", "record", alice, "nothing", *N, "--verify",
                               "--home", node.home, "--json"))
        assert absent["exists"] is False and absent["verified"], absent
        gone = json.loads(ok("query", "record", alice, "sync", *N, "--verify",
                             "--home", node.home, "--json"))
        assert gone["exists"] is False and gone["verified"], gone
        trusted = json.loads(ok("block", "2", *N, "--json"))["block_id"]["hash"]
        ok("query", "account", bob, *N, "--verify", "--trusted-height", "2",
           "--trusted-hash", trusted)
        wrong = ("0" if trusted[0] != "0" else "1") + trusted[1:]
        fails_with("not the trusted hash", "query", "account", bob, *N, "--verify",
                   "--trusted-height", "2", "--trusted-hash", wrong)

        log("the lying proxy")
        liar = Liar(node.url)
        L = ("--node", liar.url)
        V = ("--verify", "--genesis", genesis)
        liar.mode = "none"
        assert "blue" in ok("query", "record", alice, "color", *L, *V)

        liar.mode = "value"
        assert "value    blud" in ok("query", "record", alice, "color", *L), "proxy must lie"
        fails_with("value does not match the proof", "query", "record", alice, "color", *L, *V)
        fails_with("value does not match the proof", "query", "account", alice, *L, *V)

        liar.mode = "header"
        fails_with("header hash does not match the commit", "query", "record", alice, "color",
                   *L, *V)

        liar.mode = "signature"
        err = fails_with("bad signature from validator", "query", "account", alice, *L, *V)
        assert liar.victim in err, err

        liar.mode = "quorum"
        fails_with("commit signed by less than 2/3 of the validators", "query", "account",
                   alice, *L, *V)

        liar.mode = "proof"
        fails_with("app hash mismatch", "query", "record", alice, "color", *L, *V)

        liar.mode = "stale"
        fails_with("proof is for height", "query", "account", alice, *L, *V)

        liar.mode = "none"
        ok("query", "account", alice, *L, *V)
        log("every lie was caught")
    finally:
        if liar:
            liar.close()
        net.close()


if __name__ == "__main__":
    cairnnet.main(test_client_verify)
