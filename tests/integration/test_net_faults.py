"""Crash faults with real processes:
- one of four validators killed with SIGKILL: the other three keep committing; the
  killed one restarts from its WAL and store and catches up; no fork anywhere;
- two of four stopped: no commits (and no fork), until one comes back;
- a full node started later catches up by block sync and follows the chain."""
import signal
import time

from cairnnet import Net, log, main


def test_crash_faults():
    net = Net(validators=4, full_nodes=1)
    for node in net.nodes[:4]:
        with open(f"{node.home}/config/config.ini") as f:
            text = f.read()
        # Blocks as fast as consensus goes, so the full node has something to sync.
        text = text.replace("create_empty_blocks_interval_ms = 1000",
                            "create_empty_blocks_interval_ms = 0")
        with open(f"{node.home}/config/config.ini", "w") as f:
            f.write(text)
    net.start(which=[0, 1, 2, 3])
    v = net.nodes[:4]
    net.wait_height(3, nodes=v)

    log("SIGKILL node3; the other three go on")
    v[3].kill(signal.SIGKILL)
    h = v[0].height()
    net.wait_height(h + 5, nodes=v[:3], timeout=60)
    log("restart node3; it catches up")
    v[3].start()
    v[3].wait_height(v[0].height(), timeout=60)
    net.check_same_chain(min(n.height() for n in v), nodes=v)

    log("stop node2 and node3: no quorum, no commits")
    v[2].stop()
    v[3].stop()
    time.sleep(2)
    stalled = v[0].height()
    time.sleep(5)
    assert v[0].height() == stalled and v[1].height() == stalled, "committed without a quorum"
    log(f"stalled at {stalled}; node3 returns, commits resume")
    v[3].start()
    net.wait_height(stalled + 3, nodes=[v[0], v[1], v[3]], timeout=90)
    v[2].start()

    target = max(v[0].height(), 100)
    net.wait_height(target, nodes=[v[0]], timeout=180)
    log(f"start the full node at height {v[0].height()}")
    full = net.nodes[4]
    full.start()
    full.wait_height(v[0].height(), timeout=120)
    status = full.rpc("status")
    assert status["validator_info"]["voting_power"] == "0"
    # caught up: it says so once it follows consensus (within a few blocks)
    deadline = time.time() + 30
    while full.rpc("status")["sync_info"]["catching_up"]:
        assert time.time() < deadline, "full node still reports catching_up"
        time.sleep(0.5)
    top = min(n.height() for n in net.nodes)
    net.check_same_chain(top)
    log(f"full node caught up; {top} identical heights on 5 nodes")


if __name__ == "__main__":
    main(test_crash_faults)
