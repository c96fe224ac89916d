"""A store too damaged to open (RocksDB reports corruption) is rebuilt from the
peers (DESIGN.md s.7, docs/operations.md): the node moves it aside, syncs the
chain anew, verifies it block by block, and takes part again; the damaged copy is
kept for inspection. With `[storage] rebuild_damaged_store = false`, or with no
peer to rebuild from, the node refuses to start and changes nothing."""
import glob
import os
import subprocess

from cairnnet import CAIRN, Net, log, main


def damage(node):
    """What a bad disk or a careless hand does to RocksDB's CURRENT file."""
    with open(os.path.join(node.home, "data", "store", "CURRENT"), "w") as f:
        f.write("garbage")


def exits_refusing(node, text):
    node.start()
    rc = node.proc.wait(timeout=30)
    log_text = node.tail(20)
    assert rc != 0, f"started on a damaged store; log:\n{log_text}"
    assert text in log_text, f"{text!r} not in the log:\n{log_text}"
    with open(os.path.join(node.home, "data", "store", "CURRENT")) as f:
        assert f.read() == "garbage", "the refused store was changed"
    assert not glob.glob(os.path.join(node.home, "data", "store.damaged-*"))


def test_unopenable_store_is_rebuilt_from_peers():
    net = Net(validators=4).start()
    net.wait_height(6, timeout=60)
    victim, careful = net.nodes[3], net.nodes[2]
    good = [net.nodes[0].block_hash(h) for h in range(1, 6)]
    assert victim.stop() == 0

    damage(victim)
    victim.start()
    top = net.nodes[0].height()
    victim.wait_height(top + 2, timeout=90)
    for h in range(1, 6):
        assert victim.block_hash(h) == good[h - 1], f"block {h} differs after the rebuild"
    with open(victim.log_path) as f:
        text = f.read()
    assert "rebuilding it from peers" in text, victim.tail()
    moved = glob.glob(os.path.join(victim.home, "data", "store.damaged-*"))
    assert len(moved) == 1, moved
    with open(os.path.join(moved[0], "CURRENT")) as f:
        assert f.read() == "garbage", "the damaged store was not kept as it was"
    log(f"node3 rebuilt its store from peers up to height {top + 2}; the damaged copy kept")
    # the rebuilt store is a full, valid store
    assert victim.stop() == 0
    out = subprocess.run([CAIRN, "scrub", "--home", victim.home], capture_output=True, text=True)
    assert out.returncode == 0, out.stdout + out.stderr
    victim.start()

    # refused when the operator said so: nothing moved, nothing written
    assert careful.stop() == 0
    careful.set_config("storage", "rebuild_damaged_store", "false")
    damage(careful)
    exits_refusing(careful, "rebuild_damaged_store = false")
    log("with rebuild_damaged_store = false the node refuses to start")

    # the network goes on with the rebuilt node (3 of 4 validators)
    h = net.nodes[0].height()
    for node in (net.nodes[0], net.nodes[1], victim):
        node.wait_height(h + 2, timeout=60)
    net.close()

    # a lone validator has nobody to rebuild from: it refuses
    solo = Net(validators=1).start()
    solo.wait_height(2, timeout=60)
    only = solo.nodes[0]
    assert only.stop() == 0
    damage(only)
    exits_refusing(only, "no persistent peers")
    log("a node without peers refuses to start on a damaged store")
    solo.close()


if __name__ == "__main__":
    main(test_unopenable_store_is_rebuilt_from_peers)
