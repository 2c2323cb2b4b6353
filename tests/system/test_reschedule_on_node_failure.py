"""When a node is lost, its apps whose restart policy is on-failure or always
start again on another ready node, under the same id (the record points to
the new node and the new pid); `never` apps stay dead, "lost: node
unavailable".  When the lost node comes back still running a copy of a moved
app, the master kills that stale copy, so each app runs exactly once.  The
audit trail records each move and each stale copy stopped.

Workers run in their own network namespaces (but share our PID namespace, so
their apps' pids can be checked from here)."""

import pytest

import drover_harness as h

pytestmark = pytest.mark.netns

RUNNING = ("running", "sleeping")


def _moved(c, app, away_from):
    """The app once it runs on another node with a new, live pid."""
    def ok():
        a = c.app(app["id"])
        if (a.get("node") != away_from and a.get("state") in RUNNING
                and isinstance(a.get("pid"), int) and a["pid"] != app["pid"]
                and h.pid_alive(a["pid"])):
            return a
        return None
    return h.wait_until(ok, timeout=30, desc="app %s running off %s" % (app["id"], away_from))


def _kill_pid(pid):
    h.kill_app_group(pid)


def test_killed_worker_apps_move_to_other_nodes(netns_cluster):
    c = netns_cluster
    for w in ("w1", "w2", "w3"):
        c.start_worker(w)
    c.wait_ready("w1", "w2", "w3", timeout=30)

    movers = [c.launch("w1", "/bin/sleep", ["600"], name="mover", restart="on-failure")
              for _ in range(4)]
    always = c.launch("w1", "/bin/sleep", ["600"], name="keeper", restart="always",
                      env={"K": "v"}, cwd="/tmp")
    stays = c.launch("w1", "/bin/sleep", ["600"], name="stays")
    everyone = movers + [always, stays]
    for app in everyone:
        c.wait_state(app["id"], *RUNNING)

    c.kill_worker("w1")
    try:
        moved = [_moved(c, app, "w1") for app in movers + [always]]
        for a in moved:
            assert a["node"] in ("w2", "w3"), a
            assert a["reschedules"] == 1 and a["restarts"] == 1, a
        # Spread like `launch auto`: instances of the same name go to both.
        assert {a["node"] for a in moved[:4]} == {"w2", "w3"}, moved
        # Started as it was launched: same policy, env and cwd.
        kept = moved[-1]
        assert kept["restart"] == "always" and kept["env"] == {"K": "v"}, kept
        assert kept["cwd"] == "/tmp", kept
        with open("/proc/%d/environ" % kept["pid"], "rb") as f:
            assert b"K=v" in f.read().split(b"\0")

        dead = c.wait_dead(stays["id"])
        assert dead["cause"] == "lost: node unavailable", dead
        assert dead["node"] == "w1", dead

        for app, a in zip(movers + [always], moved):
            ev = h.detail_events(h.events(c, "?app=" + app["id"]), "rescheduled")
            assert len(ev) == 1, ev
            assert ev[0]["detail"]["from"] == "w1", ev
            assert ev[0]["detail"]["to"] == a["node"], ev
        assert not h.detail_events(h.events(c, "?app=" + stays["id"]), "rescheduled")
    finally:
        # A SIGKILLed worker leaves its apps running: ours to kill.
        for app in everyone:
            _kill_pid(app["pid"])


def test_no_node_to_move_to_says_why(netns_cluster):
    c = netns_cluster
    c.start_worker("w1")
    c.start_worker("w2")
    c.wait_ready("w1", "w2", timeout=30)
    nodes = h.by_name(c.nodes())
    cpus = nodes["w2"]["cpus"]
    # w2 is full: one app reserves every cpu it has.
    c.launch("w2", "/bin/sleep", ["600"], name="hog", cpu=cpus)
    app = c.launch("w1", "/bin/sleep", ["600"], name="big", cpu=1, restart="on-failure")
    c.wait_state(app["id"], *RUNNING)

    c.kill_worker("w1")
    try:
        dead = c.wait_app(app["id"], lambda a: a.get("state") == "dead"
                          and "no node to move it to" in (a.get("cause") or ""),
                          timeout=30, desc="app dead, not moved")
        assert dead["cause"].startswith("lost: node unavailable; no node to move it to ("), dead
        assert "w2: needs 1 cpus" in dead["cause"], dead
        assert "w1: unavailable" in dead["cause"], dead
    finally:
        _kill_pid(app["pid"])


@pytest.mark.parametrize("outage", ["short", "reconnect"])
def test_stale_copy_is_stopped_when_link_returns(make_cluster, outage):
    """short: the link returns before the worker notices, and its heartbeats
    resume on the same connection; reconnect: the worker gives the
    connection up and registers again (HELLO with its apps)."""
    # The outage lengths below are measured in 200 ms heartbeats.
    c = make_cluster(mode="netns", heartbeat_ms=200)
    c.start_worker("w1")
    c.start_worker("w2")
    c.wait_ready("w1", "w2", timeout=30)
    tag = "6%s" % h.unique_tag()[-4:]
    apps = [c.launch("w1", "/bin/sleep", [tag, str(i)], name="svc", restart="on-failure")
            for i in range(3)]
    for app in apps:
        c.wait_state(app["id"], *RUNNING)
    old = {a["id"]: a["pid"] for a in apps}

    c.link_down("w1")
    moved = [_moved(c, app, "w1") for app in apps]
    assert all(a["node"] == "w2" for a in moved), moved
    # Both copies run while w1 is cut off: the old one cannot be told.
    assert all(h.pid_alive(p) for p in old.values())
    if outage == "reconnect":
        h.wait_until(lambda: "lost the connection" in c.workers["w1"].stderr(), timeout=60,
                     desc="w1 to give its connection up")

    c.link_up("w1")
    c.wait_ready("w1", "w2", timeout=60)
    h.wait_until(lambda: not any(h.pid_alive(p) for p in old.values()), timeout=60,
                 desc="the stale copies on w1 to be killed")

    # Each app runs exactly once: one live process per app, the master's.
    live = [pid for pid, _ in h.processes_mentioning("sleep %s " % tag) if h.pid_alive(pid)]
    now = {a["id"]: c.app(a["id"]) for a in apps}
    assert sorted(live) == sorted(a["pid"] for a in now.values()), (live, now)
    for a in now.values():
        assert a["node"] == "w2" and a["state"] in RUNNING, a
    for app in apps:
        ev = h.events(c, "?app=" + app["id"])
        assert len(h.detail_events(ev, "rescheduled")) == 1, ev
        stale = h.detail_events(ev, "stale-copy-stopped")
        assert len(stale) == 1, ev
        assert stale[0]["node"] == "w1" and stale[0]["detail"]["pid"] == old[app["id"]], stale
