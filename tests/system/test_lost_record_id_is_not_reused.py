"""A master that lost the record of a dead app (state.db removed between
two runs, keys and tokens kept, as a crash between a launch and its commit
would) never gives its id to a new app: the worker still knows the dead
one, and a launch under the same id would be refused."""

import os

import drover_harness as h


def test_lost_record_id_is_not_reused(cluster):
    cluster.start_worker("w1")
    cluster.wait_ready("w1")
    first = cluster.launch("w1", "/bin/true", name="brief")
    assert cluster.wait_dead(first["id"])["cause"] == "exited 0"

    status = cluster.stop_master()
    assert status == 0, "master exited %s on SIGTERM\n%s" % (status, cluster.master.describe())
    db = os.path.join(cluster.state_dir, "state.db")
    for suffix in ("", "-wal", "-shm"):
        try:
            os.unlink(db + suffix)
        except FileNotFoundError:
            pass

    cluster.start_master()
    cluster.wait_ready("w1", timeout=40)
    # The worker reported the dead app; the master lists only what it knows.
    assert first["id"] not in [a["id"] for a in cluster.apps()]
    again = cluster.launch("w1", "/bin/true", name="brief")
    assert again["id"] != first["id"], again
    assert cluster.wait_dead(again["id"])["cause"] == "exited 0"
