"""A node stops cleanly however many stop signals it gets. Ctrl-C in a terminal
reaches every process of the group and `cairn devnet` forwards a SIGTERM as well,
so a node sees SIGINT and SIGTERM together; a second signal that arrived while the
node was closing its signal handlers used to kill it (exit by signal 15), skipping
its clean stop (and, under the sanitizers, the leak check)."""
import os
import signal
import time

from cairnnet import Net, log, main


def test_signal_storm_during_stop_still_exits_cleanly():
    net = Net(validators=1).start()
    node = net.nodes[0]
    for round_ in range(8):
        node.wait_height(2 + round_, timeout=60)
        os.kill(node.proc.pid, signal.SIGINT)
        # Keep signalling through the whole stop, as a user pressing Ctrl-C again
        # and a supervisor sending SIGTERM would.
        sent = 1
        deadline = time.time() + 30
        while node.proc.poll() is None and time.time() < deadline:
            try:
                os.kill(node.proc.pid, signal.SIGTERM if sent % 2 else signal.SIGINT)
            except ProcessLookupError:
                break
            sent += 1
        rc = node.proc.wait(timeout=30)
        assert rc == 0, f"round {round_}: exit {rc} after {sent} signals; log tail:\n{node.tail()}"
        assert "stopping" in node.tail(200)
        log(f"round {round_}: stopped with exit 0 under {sent} signals")
        node.start()


if __name__ == "__main__":
    main(test_signal_storm_during_stop_still_exits_cleanly)
