"""After the master restarts (same state dir and ports) the running workers
reconnect by themselves and turn ready again."""

import os

import drover_harness as h


def test_workers_reconnect_after_master_restart(cluster):
    w1 = cluster.start_worker("w1")
    w2 = cluster.start_worker("w2")
    cluster.wait_ready("w1", "w2")
    token_before = cluster.token
    key_before = h.read_text(os.path.join(cluster.state_dir, "master.key"))

    cluster.restart_master()   # asserts the master exited 0 on SIGTERM

    assert cluster.token == token_before, "join token changed across a restart"
    assert h.read_text(os.path.join(cluster.state_dir, "master.key")) == key_before
    nodes = cluster.wait_ready("w1", "w2", timeout=40)
    assert sorted(n["name"] for n in nodes) == ["w1", "w2"], nodes
    # The very same worker processes, not restarted ones.
    assert cluster.workers["w1"] is w1 and w1.alive(), w1.describe()
    assert cluster.workers["w2"] is w2 and w2.alive(), w2.describe()
