"""When a worker is SIGKILLed its apps survive, but the master can no longer
see them: once the node is unavailable they are listed dead with cause
"lost: node unavailable", and `nodes` counts no live apps there.  (The test
kills the surviving processes itself.)"""

import json
import signal

import drover_harness as h


def test_lost_worker_marks_apps_lost(cluster):
    cluster.start_worker("w1")
    cluster.start_worker("w2")
    cluster.wait_ready("w1", "w2")
    lost = [cluster.launch("w2", "/bin/sleep", ["600"], name="orphan") for _ in range(2)]
    kept = cluster.launch("w1", "/bin/sleep", ["600"], name="kept")
    for app in lost + [kept]:
        cluster.wait_state(app["id"], "sleeping")
    cluster.wait_nodes(lambda nodes: h.by_name(nodes)["w2"]["apps"] == 2,
                       desc="w2 counting 2 apps")

    cluster.kill_worker("w2", signal.SIGKILL)
    try:
        cluster.wait_nodes(lambda nodes: h.by_name(nodes)["w2"]["state"] == "unavailable",
                           desc="w2 unavailable")
        for app in lost:
            dead = cluster.wait_dead(app["id"])
            assert dead["cause"] == "lost: node unavailable", dead
        assert cluster.app(kept["id"])["state"] == "sleeping"

        rows = h.ps_rows(cluster.cli("ps").stdout)
        for app in lost:
            assert rows[app["id"]]["state"] == "dead", rows
            assert rows[app["id"]]["cause"] == "lost: node unavailable", rows
        listed = {a["id"]: a for a in json.loads(cluster.cli("ps", "--json").stdout)}
        assert all(listed[a["id"]]["cause"] == "lost: node unavailable" for a in lost), listed

        # The node holds no live app any more: APPS counts live apps.
        nodes = h.by_name(cluster.nodes())
        assert nodes["w2"]["apps"] == 0, nodes["w2"]
        assert nodes["w1"]["apps"] == 1, nodes["w1"]
        rows = h.nodes_rows(cluster.cli("nodes").stdout, {"w1", "w2"})
        assert rows["w2"][-1] == "0" and rows["w1"][-1] == "1", rows
    finally:
        # The apps of a SIGKILLed worker survive it: ours to kill.
        for app in lost:
            if h.proc_starttime(app["pid"]) is not None:
                h.kill_app_group(app["pid"])
    h.wait_until(lambda: not any(h.pid_alive(a["pid"]) for a in lost),
                 desc="the orphaned sleeps to be gone")
