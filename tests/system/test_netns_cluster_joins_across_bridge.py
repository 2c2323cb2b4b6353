"""Two workers in their own network namespaces join a master across a bridge;
the master lists them under their 10.213.x addresses."""

import pytest

import drover_harness as h

pytestmark = pytest.mark.netns


def test_netns_cluster_joins_across_bridge(netns_cluster):
    c = netns_cluster
    c.start_worker("w1")
    c.start_worker("w2")
    nodes = c.wait_ready("w1", "w2", timeout=30)
    d = h.by_name(nodes)
    assert sorted(d) == ["w1", "w2"], nodes
    for name in ("w1", "w2"):
        assert h.ipv4_of(d[name]["address"]) == c.worker_ip[name], (name, d[name], c.worker_ip)

    rows = h.nodes_rows(c.cli("nodes").stdout, {"w1", "w2"})
    for name in ("w1", "w2"):
        assert h.row_state(rows[name]) == "ready", rows
        assert c.worker_ip[name] in " ".join(rows[name]), rows
