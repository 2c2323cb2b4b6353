"""Stopping (SIGTERM) or killing (SIGKILL) a worker does not stop its apps:
they run under the node's supervisor, which records their ends, and write
their logs themselves.
A worker started again on the same --dir and --name adopts them: same
PIDs in `ps`, a log without a gap, and an end that comes later is reported
with its exact cause."""

import os
import re
import signal

import pytest

import drover_harness as h

PRINTER = "i=0; while :; do i=$((i+1)); echo line $i; sleep 0.1; done"
WAITER = "while [ ! -e %s ]; do sleep 0.05; done; exit 3"


def _line_numbers(text):
    return [int(n) for n in re.findall(r"^line (\d+)$", text, re.M)]


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGKILL], ids=["sigterm", "sigkill"])
def test_worker_restart_keeps_apps(cluster, tmp_path, sig):
    flag = os.path.join(str(tmp_path), "exit-now")
    cluster.start_worker("w1")
    cluster.wait_ready("w1")
    sleeper = cluster.launch("w1", "/bin/sleep", ["600"], name="sleeper")
    printer = cluster.launch("w1", "/bin/sh", ["-c", PRINTER], name="printer")
    waiter = cluster.launch("w1", "/bin/sh", ["-c", WAITER % flag], name="waiter")
    apps = [sleeper, printer, waiter]
    for a in apps:
        cluster.wait_state(a["id"], "sleeping", "running")
    pids = {a["id"]: a["pid"] for a in apps}
    starts = {a["id"]: h.proc_starttime(a["pid"]) for a in apps}
    log = os.path.join(cluster.worker_dirs["w1"], "apps", printer["id"], "output.log")
    h.wait_until(lambda: len(_line_numbers(h.read_text(log))) >= 3,
                 desc="the printer's first lines")

    cluster.kill_worker("w1", sig)
    if sig == signal.SIGTERM:
        assert cluster.workers["w1"].returncode == 0, cluster.workers["w1"].describe()
    # While no worker runs, the apps run on and keep logging.
    before = max(_line_numbers(h.read_text(log)))
    h.wait_until(lambda: max(_line_numbers(h.read_text(log))) >= before + 5,
                 desc="the printer's log to grow while the worker is down")
    for a in apps:
        assert h.proc_starttime(a["pid"]) == starts[a["id"]], "app %s died" % a["id"]

    cluster.start_worker("w1")
    cluster.wait_ready("w1")

    # The master sees them alive again, with the same PIDs.
    def same_pids():
        rows = h.ps_rows(cluster.cli("ps").stdout)
        return all(a["id"] in rows and rows[a["id"]]["pid"] == str(pids[a["id"]])
                   and rows[a["id"]]["state"] in ("sleeping", "running") for a in apps) and rows
    h.wait_until(same_pids, desc="ps to list the adopted apps with their PIDs")
    for a in apps:
        assert h.proc_starttime(a["pid"]) == starts[a["id"]]

    # An end after the restart is seen, with its exact cause.
    open(flag, "w").close()
    dead = cluster.wait_dead(waiter["id"])
    assert dead["cause"] == "exited 3" and dead["exit_code"] == 3, dead

    # The printer's log, read through the new worker, has every line.
    after = max(_line_numbers(h.read_text(log)))
    text = h.wait_until(lambda: (lambda t: t if max(_line_numbers(t) or [0]) >= after + 5 else None)(
        cluster.logs(printer["id"])), desc="the printer's log through the new worker")
    numbers = _line_numbers(text)
    assert numbers == list(range(1, len(numbers) + 1)), "a gap in the log: %s" % numbers

    # Stop and kill still work on adopted apps (signals to the app's group).
    cluster.cli("kill", printer["id"])
    dead = cluster.wait_dead(printer["id"])
    assert dead["cause"] == "killed by SIGKILL", dead
    assert h.proc_starttime(sleeper["pid"]) == starts[sleeper["id"]]
