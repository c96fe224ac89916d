"""`cairn devnet` as a user runs it: one command starts N validators that commit;
SIGINT (Ctrl-C) stops every node cleanly; running it again resumes the same chain."""
import os
import shutil
import signal
import subprocess
import tempfile
import time

from cairnnet import CAIRN, Node, free_base_port, log, main


def heights(nodes):
    return [n.height() for n in nodes]


def start(home, base):
    return subprocess.Popen([CAIRN, "devnet", "--validators", "3", "--home", home,
                             "--base-port", str(base)], stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, start_new_session=True)


def stop(p):
    os.killpg(p.pid, signal.SIGINT)  # what Ctrl-C in a terminal does
    out, _ = p.communicate(timeout=60)
    return p.returncode, out.decode(errors="replace")


def test_devnet_stops_cleanly_and_resumes():
    home = tempfile.mkdtemp(prefix="cairn-devnet-")
    base = free_base_port(40)
    p = None
    try:
        p = start(home, base)
        nodes = [Node(None, i, os.path.join(home, f"node{i}"), base + 10 * i + 1, base + 10 * i)
                 for i in range(3)]
        for n in nodes:
            n.wait_height(3, timeout=60)
        first_hash = nodes[0].block_hash(2)
        before = max(heights(nodes))
        rc, out = stop(p)
        p = None
        assert rc == 0, out
        assert "all nodes stopped" in out, out
        assert "exited" not in out, out  # no node died by a signal or an error
        for i in range(3):
            log_text = open(os.path.join(home, f"node{i}", "node.log")).read()
            assert "stopping" in log_text and "fatal" not in log_text
        assert heights(nodes) == [-1, -1, -1], "a node still answers after the stop"
        stopped_at = before
        log(f"stopped cleanly at height {stopped_at}; starting again")
        p = start(home, base)
        for n in nodes:
            n.wait_height(stopped_at + 2, timeout=60)
        assert nodes[1].block_hash(2) == first_hash, "a new chain instead of the old one"
        rc, out = stop(p)
        p = None
        assert rc == 0, out
        log("resumed the same chain and stopped cleanly again")
    finally:
        if p is not None:
            os.killpg(p.pid, signal.SIGKILL)
            p.wait()
        shutil.rmtree(home, ignore_errors=True)


if __name__ == "__main__":
    main(test_devnet_stops_cleanly_and_resumes)
