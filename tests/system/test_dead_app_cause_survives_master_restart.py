"""An app that exits while the master is down (killed with -9) is shown
dead with its real cause ("exited 3") once the master is back and the
worker has registered again: the worker's registration carries it."""

import signal

import drover_harness as h


def _ps_cells(text, app_id):
    """{column: cell} of app_id's row in the `drover ps` table, cut at the
    header's column offsets (STARTED and CAUSE hold spaces)."""
    lines = text.splitlines()
    assert lines and lines[0].startswith("ID"), "not a ps table:\n" + text
    header = lines[0]
    names = header.replace("MAX RSS", "MAX_RSS").split()
    starts = []
    pos = 0
    for name in names:
        pos = header.index(name.replace("MAX_RSS", "MAX RSS"), pos)
        starts.append(pos)
        pos += len(name)
    for line in lines[1:]:
        if line.split()[:1] == [app_id]:
            return {n: line[a:b].strip() for n, a, b in zip(names, starts, starts[1:] + [None])}
    return None


def test_dead_app_cause_survives_master_restart(cluster, tmp_path):
    flag = str(tmp_path / "exit-now")
    prog = h.write_script(tmp_path, "wait-then-exit3.sh",
                          "#!/bin/sh\nwhile [ ! -e '%s' ]; do sleep 0.05; done\nexit 3\n" % flag)
    cluster.start_worker("w1")
    cluster.wait_ready("w1")
    app = cluster.launch("w1", prog, name="exits3")
    cluster.wait_state(app["id"], "sleeping", "running")
    pid = app["pid"]

    status = cluster.stop_master(signal.SIGKILL)
    assert status == -signal.SIGKILL, "master status %s after kill -9" % status
    with open(flag, "w"):
        pass
    # The worker reaps it while no master listens.
    h.wait_until(lambda: not h.pid_alive(pid) and pid not in h.proc_children(cluster.workers["w1"].pid),
                 desc="app %s (pid %d) to exit and be reaped" % (app["id"], pid))
    assert cluster.workers["w1"].alive(), cluster.workers["w1"].describe()

    cluster.start_master()
    cluster.wait_ready("w1", timeout=40)
    dead = cluster.wait_app(app["id"], lambda a: a.get("state") == "dead",
                            desc="app %s dead after the restart" % app["id"])
    assert dead["cause"] == "exited 3", dead
    assert dead.get("exit_code") == 3, dead
    assert dead["pid"] == pid, dead

    listed = [a for a in cluster.apps() if a["id"] == app["id"]]
    assert len(listed) == 1, listed
    row = _ps_cells(cluster.cli("ps", "--all").stdout, app["id"])
    assert row is not None, "ps --all does not list %s" % app["id"]
    assert row["STATE"] == "dead" and row["CAUSE"] == "exited 3", row
