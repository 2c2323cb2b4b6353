"""500 apps at once on two workers: all are listed with their PIDs and
sleeping, and all die when killed one by one over REST."""

import concurrent.futures
import json

import drover_harness as h

PER_NODE = 250
# Launches in flight at once: one.  (Several at once can flap a node
# unavailable: test_launch_burst_keeps_nodes_ready checks that.)
LAUNCHERS = 1


def test_five_hundred_apps_on_two_workers(cluster):
    cluster.start_worker("w1")
    cluster.start_worker("w2")
    cluster.wait_ready("w1", "w2")
    nodes = ["w1", "w2"] * PER_NODE

    def launch(node):
        return cluster.launch(node, "/bin/sleep", ["600"], name="many")

    with concurrent.futures.ThreadPoolExecutor(max_workers=LAUNCHERS) as pool:
        try:
            apps = list(pool.map(launch, nodes))
        finally:
            # Whatever got launched is known to the master: remember it all.
            cluster.apps()
    ids = {a["id"] for a in apps}
    assert len(ids) == 2 * PER_NODE, "duplicate ids among %d launches" % len(apps)
    assert ids == {"many-%d" % i for i in range(1, 2 * PER_NODE + 1)}

    def all_sleeping():
        listed = [a for a in json.loads(cluster.cli("ps", "--json").stdout) if a["id"] in ids]
        return len(listed) == len(ids) and all(a["state"] == "sleeping" for a in listed) and listed
    listed = h.wait_until(all_sleeping, timeout=120, interval=0.5,
                          desc="ps --json to list all 500 apps sleeping")
    assert all(isinstance(a["pid"], int) and a["pid"] > 0 for a in listed)
    assert len({a["pid"] for a in listed}) == len(ids)
    per_node = {n: sum(1 for a in listed if a["node"] == n) for n in ("w1", "w2")}
    assert per_node == {"w1": PER_NODE, "w2": PER_NODE}, per_node
    rows = h.ps_rows(cluster.cli("ps").stdout)
    assert ids <= set(rows)
    cluster.wait_nodes(lambda ns: all(h.by_name(ns)[n]["apps"] == PER_NODE for n in ("w1", "w2")),
                       timeout=60, desc="nodes counting 250 apps each")

    def kill(app_id):
        return cluster.api("POST", "/v1/apps/%s/signal" % app_id, {"signal": "SIGKILL"})
    with concurrent.futures.ThreadPoolExecutor(max_workers=LAUNCHERS) as pool:
        replies = list(pool.map(kill, sorted(ids)))
    assert all(status == 200 for status, _ in replies), [r for r in replies if r[0] != 200][:5]

    def all_dead():
        listed = [a for a in cluster.apps() if a["id"] in ids]
        return len(listed) == len(ids) and all(a["state"] == "dead" for a in listed) and listed
    listed = h.wait_until(all_dead, timeout=120, interval=0.5, desc="all 500 apps dead")
    causes = {a["cause"] for a in listed}
    assert causes == {"killed by SIGKILL"}, causes
    assert not any(h.pid_alive(a["pid"]) for a in listed)
    cluster.wait_nodes(lambda ns: all(h.by_name(ns)[n]["apps"] == 0 for n in ("w1", "w2")),
                       timeout=60, desc="nodes counting no apps")
