"""Reservations of the instances of one launch add up during placement:
with each instance reserving a whole node's CPUs, three workers hold
three, so a count of 4 is refused as a whole (409, saying 3 of 4 could be
placed and why for each node) before anything is sent or recorded; a
count of 3 then fills one per node, and the next launch finds no room.
An instance no node could ever hold is refused with 422."""

import drover_harness as h

NODES = ("w1", "w2", "w3")


def test_launch_count_refused_whole_when_one_does_not_fit(cluster):
    c = cluster
    for name in NODES:
        c.start_worker(name)
    nodes = c.wait_ready(*NODES)
    cpus = min(n["cpus"] for n in nodes)
    body = {"node": "auto", "path": "/bin/sleep", "args": ["600"], "name": "big", "cpu": cpus}

    status, reply = c.api("POST", "/v1/apps", dict(body, count=4))
    assert status == 409, (status, reply)
    assert set(reply) == {"error"}, reply
    assert reply["error"].startswith("no node fits: 3 of 4 instances could be placed; "), reply
    for name in NODES:
        assert "%s: needs %g cpus, 0 free" % (name, cpus) in reply["error"], reply
    assert c.apps() == [], c.apps()
    assert h.detail_events(h.events(c), "launched") == []

    cp = c.cli("launch", "/bin/sleep", "--cpu", str(cpus), "--count", "4", "--", "600",
               check=False)
    assert cp.returncode == 1 and cp.stdout == "", cp
    assert cp.stderr.startswith("drover: no node fits: 3 of 4 instances could be placed"), cp
    assert c.apps() == [], c.apps()

    status, reply = c.api("POST", "/v1/apps", dict(body, count=1, cpu=cpus * 100))
    assert status == 422, (status, reply)
    assert reply["error"].startswith("no node could ever hold it: 0 of 1 instances"), reply

    # Three fit, one per node; the instances of this launch are then on
    # record, and a fourth finds no room.
    status, reply = c.api("POST", "/v1/apps", dict(body, count=3))
    assert status == 201, (status, reply)
    for a in reply["apps"]:
        c.track_app(a)
    assert sorted(a["node"] for a in reply["apps"]) == sorted(NODES), reply
    status, reply = c.api("POST", "/v1/apps", dict(body, count=1))
    assert status == 409 and "0 of 1 instances could be placed" in reply["error"], (status, reply)
    status, reply = c.api("POST", "/v1/apps", body)
    assert status == 409 and reply["error"].startswith("no node fits: w"), (status, reply)
    assert len(c.apps()) == 3, c.apps()
