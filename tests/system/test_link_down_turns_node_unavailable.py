"""Cutting a worker's link makes its node unavailable while the other stays
ready; restoring the link makes it ready again."""

import pytest

import drover_harness as h

pytestmark = pytest.mark.netns


def _states(nodes):
    return {n["name"]: n["state"] for n in nodes}


def test_link_down_turns_node_unavailable(netns_cluster):
    c = netns_cluster
    c.start_worker("w1")
    c.start_worker("w2")
    c.wait_ready("w1", "w2", timeout=30)

    c.link_down("w1")
    c.wait_nodes(lambda nodes: _states(nodes) == {"w1": "unavailable", "w2": "ready"},
                 timeout=30, desc="w1 unavailable, w2 ready, after w1's link went down")
    assert c.workers["w1"].alive(), c.workers["w1"].describe()

    c.link_up("w1")
    c.wait_nodes(lambda nodes: _states(nodes) == {"w1": "ready", "w2": "ready"},
                 timeout=60, desc="w1 ready again after its link came back")
