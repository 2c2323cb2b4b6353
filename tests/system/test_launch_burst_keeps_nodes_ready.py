"""A burst of launches (eight REST requests in flight, 500 apps on two
workers) leaves both workers ready: every launch is answered 201, none of
the running apps is ever marked lost, and every process a worker started
is an app the master knows (a refused launch leaves no process behind)."""

import collections
import concurrent.futures

import drover_harness as h

PER_NODE = 250
LAUNCHERS = 8


def test_launch_burst_keeps_nodes_ready(cluster):
    cluster.start_worker("w1")
    cluster.start_worker("w2")
    cluster.wait_ready("w1", "w2")

    def launch(node):
        return cluster.api("POST", "/v1/apps", {"node": node, "path": "/bin/sleep",
                                                 "args": ["600"], "name": "burst"})
    with concurrent.futures.ThreadPoolExecutor(max_workers=LAUNCHERS) as pool:
        try:
            replies = list(pool.map(launch, ["w1", "w2"] * PER_NODE))
        finally:
            cluster.apps()
    statuses = collections.Counter(status for status, _ in replies)
    known = collections.Counter(a["node"] for a in cluster.apps() if a["state"] != "dead")
    started = {w: len(cluster.app_pids(w)) for w in ("w1", "w2")}
    flaps = [l for l in cluster.master.stderr().splitlines()
             if "unavailable" in l or "lost" in l or "ready again" in l]
    # Orphans first: a launch answered 503 must not have left a process.
    h.wait_until(lambda: {w: len(cluster.app_pids(w)) for w in ("w1", "w2")}
                 == {"w1": known["w1"], "w2": known["w2"]},
                 desc="each worker's children to be the apps the master knows (%s vs %s)"
                 % (started, dict(known)))
    assert statuses == {201: 2 * PER_NODE} and not flaps, (
        "statuses %s; master log:\n%s" % (dict(statuses), "\n".join(flaps)))
