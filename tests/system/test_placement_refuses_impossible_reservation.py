"""Placement with reservations: a --cpu no node could ever hold is refused
outright (exit 1, "no node could ever hold it"); reservations are summed
per node, so once every node's CPUs are reserved the next launch finds no
room and says why for each node ("needs N cpus, M free")."""

import re

import pytest

import drover_harness as h

pytestmark = pytest.mark.netns

NODES = ("w1", "w2", "w3")


def _refused(cp):
    return "stdout:\n%s\nstderr:\n%s" % (cp.stdout, cp.stderr)


def _assert_never_fits(c, *reservation):
    cp = c.cli("launch", "/bin/sleep", *reservation, "--", "600", check=False)
    out = cp.stdout + cp.stderr
    assert cp.returncode == 1 and "no node could ever hold it" in out, (
        "launch %s: expected exit 1 and \"no node could ever hold it\", got exit %d\n%s"
        % (" ".join(reservation), cp.returncode, _refused(cp)))


def test_placement_refuses_impossible_reservation(make_cluster):
    # Placement counts only ready nodes: a 1 s heartbeat keeps a loaded
    # machine (the sanitizer build) from flapping one between launches.
    c = make_cluster(mode="netns", heartbeat_ms=1000)
    for name in NODES:
        c.start_worker(name)
    nodes = c.wait_ready(*NODES, timeout=30)
    cpus = {n["name"]: n["cpus"] for n in nodes}
    assert all(isinstance(v, int) and v > 0 for v in cpus.values()), cpus
    most = max(cpus.values())

    # More than the largest node has: refused before any node is asked.
    _assert_never_fits(c, "--cpu", str(most + 1))
    mem_gib = max(n["mem_total_kb"] for n in nodes) // (1 << 20) + 1
    _assert_never_fits(c, "--mem", "%dG" % (mem_gib * 2))
    assert c.apps() == [], "a refused launch left an app: %r" % c.apps()

    # A whole node's CPUs each: one per node, then no room anywhere.
    placed = []
    for _ in NODES:
        c.wait_ready(*NODES, timeout=30)
        cp = c.cli("launch", "/bin/sleep", "--cpu", str(most), "--name", "big", "--", "600")
        launched = h.launched_pid(cp.stdout)
        assert launched is not None, cp.stdout
        c.track_app({"pid": launched[2]})
        placed.append(launched[1])
    assert sorted(placed) == sorted(NODES), "full-node reservations placed on %r" % placed

    c.wait_ready(*NODES, timeout=30)
    cp = c.cli("launch", "/bin/sleep", "--cpu", str(most), "--", "600", check=False)
    out = cp.stdout + cp.stderr
    assert cp.returncode == 1, "a launch with no room left: exit %d\n%s" % (cp.returncode, _refused(cp))
    for name in NODES:
        want = r"\b%s: needs %d cpus, 0 free" % (name, most)
        assert re.search(want, out), "no %r in the refusal:\n%s" % (want, out)
    assert "could ever" not in out, out
    assert len(c.apps()) == len(NODES), c.apps()

    # The reservation goes with the app: stop one, and its node has room again.
    victim = next(a for a in c.apps() if a["node"] == placed[0])
    status, body = c.api("POST", "/v1/apps/%s/stop" % victim["id"], {"timeout_s": 5})
    assert status == 200, (status, body)
    c.wait_dead(victim["id"])
    cp = c.cli("launch", "/bin/sleep", "--cpu", str(most), "--", "600")
    launched = h.launched_pid(cp.stdout)
    assert launched is not None and launched[1] == placed[0], cp.stdout
    c.track_app({"pid": launched[2]})

    # Far more than any node: the same refusal, whatever the number.
    _assert_never_fits(c, "--cpu", "10000")
