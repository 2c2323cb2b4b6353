"""The sampler measures an app's whole process tree: a program that forks a
child, where each of the two writes its own memory and burns its own CPU,
shows in `usage APP --history` (and GET /v1/apps/ID/usage) with two
processes, the memory both hold, and the CPU both burned; the history stays
readable after the app is dead."""

import json
import time

import drover_harness as h

MIB = 1024 * 1024

# Parent and child: wait (so the sampler has a base before the work), write
# N MiB each, burn about a second of CPU each, report what each measured of
# itself, then sleep.
PROGRAM = r"""
import os, sys, time
mib = int(sys.argv[1])
time.sleep(3)
pid = os.fork()
b = b"x" * (mib << 20)
t = time.process_time()
while time.process_time() - t < 1.0:
    pass
rss = [l for l in open("/proc/self/status") if l.startswith("VmRSS:")][0].split()[1]
who = "child" if pid == 0 else "parent"
print("%s cpu_ms=%d rss_kb=%s" % (who, time.process_time() * 1000, rss), flush=True)
time.sleep(600)
"""

SAMPLE_INTERVAL_S = 1


def _reports(cluster, app_id):
    """{'parent': (cpu_ms, rss_kb), 'child': ...} once both have printed."""
    text = cluster.logs(app_id)
    found = {}
    for line in text.splitlines():
        parts = line.split()
        if len(parts) == 3 and parts[1].startswith("cpu_ms="):
            found[parts[0]] = (int(parts[1][7:]), int(parts[2][7:]))
    return found if len(found) == 2 else None


def _series(cluster, app_id, query="since=10m&step=1s"):
    status, body = cluster.api("GET", "/v1/apps/%s/usage?%s" % (app_id, query))
    assert status == 200, (status, body)
    return body


def test_history_measures_the_tree(cluster):
    cluster.start_worker("w1", extra_args=["--sample-interval", "%ds" % SAMPLE_INTERVAL_S])
    cluster.wait_ready("w1")
    app = cluster.launch("w1", "/usr/bin/python3", ["-c", PROGRAM, "100"], name="tree")
    reports = h.wait_until(lambda: _reports(cluster, app["id"]), timeout=90,
                           desc="both processes to report")
    reported_ms = int(time.time() * 1000)
    true_cpu_ms = sum(r[0] for r in reports.values())
    true_rss_kb = sum(r[1] for r in reports.values())

    # Samples taken after both reported: the tree at rest, both processes.
    # A point's t is its step's start, so one at or after reported_ms holds
    # no sample from before the reports (a slow machine takes several
    # samples of the tree while it still burns, before it prints).
    def settled():
        pts = _series(cluster, app["id"])["points"]
        late = [p for p in pts if p["t"] >= reported_ms and p["procs"] == 2
                and p["rss_kb"] >= 0.9 * true_rss_kb]
        return pts if len(late) >= 3 else None
    points = h.wait_until(settled, timeout=60, desc="samples of the whole tree")
    last = points[-1]
    assert last["procs"] == 2, last
    assert last["threads"] >= 2, last
    assert last["fds"] >= 6, last                     # 0, 1, 2 in each process
    assert 0.9 * true_rss_kb <= last["rss_kb"] <= 1.1 * true_rss_kb, (last, reports)
    assert last["max_rss_kb"] >= 0.9 * true_rss_kb, (last, reports)
    # The writes of the log lines are counted.
    assert last["write_bytes"] > 0, last

    # The CPU rates, integrated over the samples, give the CPU burned.
    burned_ms = sum(p["cpu_pct"] / 100.0 * p["n"] * SAMPLE_INTERVAL_S * 1000 for p in points)
    assert 0.8 * true_cpu_ms <= burned_ms <= 1.2 * true_cpu_ms, (burned_ms, true_cpu_ms, points)
    for p in points:
        assert abs(p["cpu_pct"] - p["cpu_user_pct"] - p["cpu_sys_pct"]) < 0.01, p
        assert p["cpu_pct"] < 100 * 2 + 20, p     # two single-threaded burners
    assert [p["t"] for p in points] == sorted(p["t"] for p in points)

    # Coarser steps average the same samples: fewer points, each of more.
    coarse = _series(cluster, app["id"], "since=10m&step=1m")
    assert 1 <= len(coarse["points"]) <= 11, coarse
    assert coarse["step_ms"] == 60000
    assert sum(p["n"] for p in coarse["points"]) >= sum(p["n"] for p in points)

    # The CLI: a table, a chart on request, and the API's JSON.
    out = cluster.cli("usage", app["id"], "--history", "--since", "10m", "--step", "5s").stdout
    assert "tree-1 on w1" in out and "TIME" in out and "MAX RSS" in out, out
    charted = cluster.cli("usage", app["id"], "--history", "--chart").stdout
    assert "CPU%" in charted and any(c in charted for c in "\u2581\u2588"), charted
    as_json = json.loads(cluster.cli("usage", app["id"], "--history", "--json").stdout)
    assert as_json["app"] == app["id"] and as_json["points"], as_json

    # Dead, the app keeps its history.
    cluster.cli("kill", app["id"])
    cluster.wait_dead(app["id"])
    after = _series(cluster, app["id"])["points"]
    assert len(after) >= len(points), (len(after), len(points))


def test_history_refuses_bad_queries(cluster):
    cluster.start_worker("w1")
    cluster.wait_ready("w1")
    app = cluster.launch("w1", "/bin/sleep", ["600"], name="idle")
    for query, word in (("since=yesterday", "since"), ("since=-5m", "since"),
                        ("step=0s", "step"), ("step=500ms", "step"), ("step=2d", "step"),
                        ("since=30d&step=1s", "points")):
        status, body = cluster.api("GET", "/v1/apps/%s/usage?%s" % (app["id"], query))
        assert status == 400, (query, status, body)
        assert word in body["error"], (query, body)
    status, body = cluster.api("GET", "/v1/apps/nosuch-1/usage")
    assert status == 404 and "nosuch-1" in body["error"], body
    status, body = cluster.api("GET", "/v1/apps/%s/usage" % app["id"], token=None)
    assert status == 401, body

    r = cluster.cli("usage", app["id"], "--history", "--since", "soon", check=False)
    assert r.returncode == 2 and "--since" in r.stderr, r
    r = cluster.cli("usage", "w1", "--step", "1m", check=False)
    assert r.returncode == 2 and "--history" in r.stderr, r
    r = cluster.cli("usage", "nosuch-1", "--history", check=False)
    assert r.returncode == 1 and "nosuch-1" in r.stderr, r
