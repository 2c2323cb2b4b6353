"""A launch with "count" and node "auto" (the CLI without a node) places
each instance in turn, each seeing those placed before it: six instances
over three workers go two to a node, each says where and why, and a
second launch of the same name keeps spreading."""

import collections
import json

import drover_harness as h

NODES = ("w1", "w2", "w3")


def test_launch_count_auto_spreads_over_workers(cluster):
    c = cluster
    for name in NODES:
        c.start_worker(name)
    c.wait_ready(*NODES)

    status, reply = c.api("POST", "/v1/apps", {"node": "auto", "path": "/bin/sleep",
                                               "args": ["600"], "name": "spread", "count": 6})
    assert status == 201, (status, reply)
    apps = reply["apps"]
    for a in apps:
        c.track_app(a)
    assert [a["id"] for a in apps] == ["spread-%d" % k for k in range(1, 7)], apps
    per_node = collections.Counter(a["node"] for a in apps)
    assert per_node == {n: 2 for n in NODES}, per_node
    # The first three are each the first on their node; the next three
    # each found one placed before it.
    assert all(a["placement"].startswith("0 other instances") for a in apps[:3]), apps
    assert all(a["placement"].startswith("1 other instance there") for a in apps[3:]), apps
    for a in apps:
        assert c.app(a["id"])["node"] == a["node"], a

    # The CLI, without a node: three more, one to each node again.
    cp = c.cli("launch", "/bin/sleep", "--name", "spread", "--count", "3", "--json", "--", "600")
    more = json.loads(cp.stdout)["apps"]
    for a in more:
        c.track_app(a)
    assert sorted(a["node"] for a in more) == sorted(NODES), more
    assert all(a["placement"].startswith("2 other instances") for a in more), more
    h.wait_until(lambda: collections.Counter(
        a["node"] for a in c.apps() if a["name"] == "spread" and a["state"] != "dead")
        == {n: 3 for n in NODES}, desc="three live instances of spread on each node")
