"""The worker records its apps in a state file and, between two writes of
it, in a journal of changes (worker-state.journal). A worker killed with
SIGKILL, after enough launches that the journal was folded into a new state
file at least once, is started again and adopts the apps launched before and
after that fold, with their PIDs; the journal stays bounded."""

import json
import os
import signal

import drover_harness as h

# Far above what it takes to outgrow the journal's limit (1 MiB).
MAX_LAUNCHES = 3000
JOURNAL_LIMIT = 1024 * 1024


def _generation(worker_dir):
    with open(os.path.join(worker_dir, "worker-state.json")) as f:
        return json.load(f).get("generation", 0)


def test_worker_state_journal_survives_kill(cluster):
    cluster.start_worker("w1")
    cluster.wait_ready("w1")
    d = cluster.worker_dirs["w1"]
    journal = os.path.join(d, "worker-state.journal")
    first = cluster.launch("w1", "/bin/sleep", ["600"], name="first")
    start_gen = _generation(d)

    # Short-lived apps until the state file has been written again.
    launched, biggest = 0, 0
    while _generation(d) == start_gen and launched < MAX_LAUNCHES:
        cluster.launch("w1", "/bin/true", name="short")
        launched += 1
        biggest = max(biggest, os.path.getsize(journal))
    assert _generation(d) > start_gen, (
        "the state file was never written again after %d launches "
        "(journal at %d bytes)" % (launched, os.path.getsize(journal)))
    # At most the limit plus one turn's lines.
    assert biggest < 2 * JOURNAL_LIMIT, biggest

    last = cluster.launch("w1", "/bin/sleep", ["600"], name="last")
    for a in (first, last):
        cluster.wait_state(a["id"], "sleeping", "running")
    listed = {a["id"] for a in h.worker_state_apps(d)}
    assert {first["id"], last["id"]} <= listed, listed
    starts = {a["id"]: h.proc_starttime(a["pid"]) for a in (first, last)}

    cluster.kill_worker("w1", signal.SIGKILL)
    cluster.start_worker("w1")
    cluster.wait_ready("w1")

    def adopted():
        rows = {a["id"]: a for a in cluster.apps()}
        return all(rows[a["id"]]["pid"] == a["pid"] and
                   rows[a["id"]]["state"] in ("sleeping", "running")
                   for a in (first, last)) and rows
    h.wait_until(adopted, desc="both sleepers adopted with their PIDs")
    for a in (first, last):
        assert h.proc_starttime(a["pid"]) == starts[a["id"]]

    # The short ones all end up dead, "exited 0", none run again: those
    # whose end the killed worker had not yet reported, the new one finds in
    # their exit files.
    def short_ones_dead():
        short = [a for a in cluster.apps() if a["name"] == "short"]
        return len(short) == launched and all(a["state"] == "dead" for a in short) and short
    short = h.wait_until(short_ones_dead, desc="every short app listed dead")
    assert all(a["cause"] == "exited 0" for a in short), \
        [a for a in short if a["cause"] != "exited 0"][:3]

    # Both still stop through the new worker.
    for a in (first, last):
        cluster.cli("kill", a["id"])
        assert cluster.wait_dead(a["id"])["cause"] == "killed by SIGKILL"
