"""A worker that dies turns unavailable; restarted with the same dir and name
it takes its node back."""

import signal

import drover_harness as h


def test_lost_worker_turns_unavailable(cluster):
    cluster.start_worker("w1")
    cluster.start_worker("w2")
    cluster.wait_ready("w1", "w2")

    cluster.kill_worker("w1", signal.SIGKILL)
    cluster.wait_nodes(lambda nodes: h.by_name(nodes).get("w1", {}).get("state") == "unavailable"
                       and h.by_name(nodes).get("w2", {}).get("state") == "ready",
                       desc="w1 unavailable while w2 stays ready")
    rows = h.nodes_rows(cluster.cli("nodes").stdout, {"w1", "w2"})
    assert h.row_state(rows["w1"]) == "unavailable", rows
    assert h.row_state(rows["w2"]) == "ready", rows

    cluster.start_worker("w1")   # same --dir, same --name
    nodes = cluster.wait_ready("w1", "w2")
    assert sorted(n["name"] for n in nodes) == ["w1", "w2"], nodes
