"""A running validator is sent garbage on its p2p port: random bytes, truncated
handshakes, huge length fields, connections opened and abandoned. It drops those
connections and keeps committing with its real peers."""
import os
import random
import socket
import time

from cairnnet import Net, log, main


def attack(port, seconds, rng):
    sent = 0
    end = time.time() + seconds
    while time.time() < end:
        kind = rng.randrange(4)
        try:
            s = socket.create_connection(("127.0.0.1", port), timeout=2)
            if kind == 0:    # random bytes
                s.sendall(os.urandom(rng.randrange(1, 4096)))
            elif kind == 1:  # a handshake cut short
                s.sendall(os.urandom(rng.randrange(1, 40)))
            elif kind == 2:  # an enormous length field
                s.sendall(b"\xff" * 8 + os.urandom(64))
            else:            # open and walk away
                pass
            sent += 1
            s.close()
        except OSError:
            pass  # refused or reset: the node protects itself
        time.sleep(0.01)
    return sent


def test_garbage_from_a_peer():
    net = Net(validators=4).start()
    net.wait_height(2)
    target = net.nodes[0]
    h = target.height()
    rng = random.Random(int(os.environ.get("SEED", "7")))
    n = attack(target.p2p_port, 10, rng)
    log(f"sent {n} garbage connections")
    net.wait_height(h + 5, timeout=60)
    info = target.rpc("net_info")
    assert int(info["n_peers"]) == 3, info["n_peers"]
    assert target.running()
    net.check_same_chain(min(x.height() for x in net.nodes))


if __name__ == "__main__":
    main(test_garbage_from_a_peer)
