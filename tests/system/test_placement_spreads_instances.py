"""Placement: `drover launch PATH` (no node) and `drover launch auto PATH`
let the master pick a ready node, and instances of the same name are
spread, one per node, across three workers in their own namespaces.
launch says where it placed each (`placed on NODE: ...`)."""

import re

import pytest

import drover_harness as h

pytestmark = pytest.mark.netns

NODES = ("w1", "w2", "w3")


def test_placement_spreads_instances(netns_cluster):
    c = netns_cluster
    for name in NODES:
        c.start_worker(name)
    c.wait_ready(*NODES, timeout=30)

    placed = []
    for node_arg in ([], ["auto"], []):
        cp = c.cli("launch", *node_arg, "/bin/sleep", "--name", "spread", "--", "600")
        launched = h.launched_pid(cp.stdout)
        assert launched is not None, "no `launched` line:\n" + cp.stdout
        app_id, node, pid = launched
        c.track_app({"pid": pid})
        m = re.search(r"^placed on (\S+): (.+)$", cp.stdout, re.M)
        assert m, "no `placed on NODE: ...` line:\n" + cp.stdout
        assert m.group(1) == node, cp.stdout
        placed.append((app_id, node, pid))
        c.wait_state(app_id, "sleeping")

    nodes = [p[1] for p in placed]
    assert sorted(nodes) == sorted(NODES), "instances of `spread` placed on %r" % nodes
    for app_id, node, pid in placed:
        a = c.app(app_id)
        assert a["node"] == node and a["pid"] == pid and a["name"] == "spread", a
    # Each node's app count comes with its next heartbeat.
    want = {"w1": 1, "w2": 1, "w3": 1}
    h.wait_until(lambda: {n["name"]: n["apps"] for n in c.nodes()} == want,
                 desc="each node to count one app")

    # A different name is not held back by the first: it goes somewhere ready.
    cp = c.cli("launch", "/bin/sleep", "--name", "other", "--", "600")
    launched = h.launched_pid(cp.stdout)
    assert launched is not None and launched[1] in NODES, cp.stdout
    c.track_app({"pid": launched[2]})
