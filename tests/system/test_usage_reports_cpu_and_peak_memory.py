"""`drover usage` reports each app's CPU time and peak RSS: while a program
that touched 200 MiB sleeps, and after it is dead (from wait4)."""

import json

import drover_harness as h

MIB = 1024 * 1024

# Allocate (and write every page of) N MiB, burn about a second of CPU,
# print the CPU time this process measured, then sleep.
PROGRAM = r"""
import sys, time
b = b"x" * (int(sys.argv[1]) << 20)
t = time.process_time()
while time.process_time() - t < 1.0:
    pass
print("cpu_s=%.3f" % time.process_time(), flush=True)
time.sleep(600)
"""


def _cpu_ms(entry):
    return entry["cpu_user_ms"] + entry["cpu_sys_ms"]


def _measured_cpu_ms(cluster, app_id):
    text = h.wait_until(lambda: "cpu_s=" in cluster.logs(app_id) and cluster.logs(app_id),
                        timeout=60, desc="%s to print its CPU time" % app_id)
    return float(text.split("cpu_s=")[1].split()[0]) * 1000


def _usage_entry(cluster, node, app_id):
    status, body = cluster.api("GET", "/v1/nodes/%s/usage" % node)
    assert status == 200, (status, body)
    return {a["id"]: a for a in body["apps"]}.get(app_id)


def test_usage_reports_cpu_and_peak_memory(cluster):
    cluster.start_worker("w1")
    cluster.wait_ready("w1")
    base = cluster.launch("w1", "/usr/bin/python3", ["-c", PROGRAM, "0"], name="base")
    big = cluster.launch("w1", "/usr/bin/python3", ["-c", PROGRAM, "200"], name="big")
    base_cpu = _measured_cpu_ms(cluster, base["id"])
    big_cpu = _measured_cpu_ms(cluster, big["id"])
    cluster.wait_state(big["id"], "sleeping")
    cluster.wait_state(base["id"], "sleeping")

    def settled(app_id, cpu):
        e = _usage_entry(cluster, "w1", app_id)
        return e if e and e["alive"] and _cpu_ms(e) >= 0.8 * cpu else None
    base_u = h.wait_until(lambda: settled("base-1", base_cpu), desc="usage of base-1")
    big_u = h.wait_until(lambda: settled("big-1", big_cpu), desc="usage of big-1")

    baseline_kb = base_u["max_rss_kb"]
    want_kb = 200 * 1024 + baseline_kb
    assert 0.9 * want_kb <= big_u["max_rss_kb"] <= 1.1 * want_kb, (big_u, baseline_kb)
    assert 0.8 * big_cpu <= _cpu_ms(big_u) <= 1.2 * big_cpu, (big_u, big_cpu)
    assert big_u["pid"] == big["pid"], big_u

    # The whole answer's shape, and the node total covers both apps.
    status, body = cluster.api("GET", "/v1/nodes/w1/usage")
    assert body["node"] == "w1", body
    for key in ("cpu_user_ms", "cpu_sys_ms", "max_rss_kb"):
        assert key in body["total"] and key in body["children"], body
    assert body["total"]["max_rss_kb"] >= big_u["max_rss_kb"], body

    # The CLI: table and JSON.
    out = cluster.cli("usage", "w1").stdout
    assert "big-1" in out and "base-1" in out and "TOTAL" in out, out
    listed = json.loads(cluster.cli("usage", "w1", "--json").stdout)
    if isinstance(listed, list):
        listed = {n["node"]: n for n in listed}["w1"]
    cli_big = {a["id"]: a for a in listed["apps"]}["big-1"]
    assert cli_big["alive"] is True
    assert 0.9 * want_kb <= cli_big["max_rss_kb"] <= 1.1 * want_kb, cli_big
    everything = json.loads(cluster.cli("usage", "--json").stdout)
    assert "w1" in {n["node"] for n in everything}, everything

    # Dead: the numbers now come from wait4 and keep the peak.
    cluster.cli("kill", "big-1")
    cluster.cli("stop", "base-1")
    cluster.wait_dead("big-1")
    cluster.wait_dead("base-1")
    dead_u = h.wait_until(lambda: (lambda e: e if e and not e["alive"] else None)(
        _usage_entry(cluster, "w1", "big-1")), desc="usage of dead big-1")
    assert 0.9 * want_kb <= dead_u["max_rss_kb"] <= 1.1 * want_kb, (dead_u, baseline_kb)
    assert 0.8 * big_cpu <= _cpu_ms(dead_u) <= 1.2 * big_cpu, (dead_u, big_cpu)
    ps_big = cluster.app("big-1")
    assert 0.9 * want_kb <= ps_big["max_rss_kb"] <= 1.1 * want_kb, ps_big
