"""A worker that registers with a master which has no record of its running
app (state.db removed between two runs, keys and tokens kept) gets the app
listed as an orphan, with its PID, and the app is never killed."""

import os

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


def test_orphan_app_is_listed_not_killed(cluster):
    worker = cluster.start_worker("w1")
    cluster.wait_ready("w1")
    app = cluster.launch("w1", "/bin/sleep", ["600"], name="stray")
    cluster.wait_state(app["id"], "sleeping")
    pid = app["pid"]

    status = cluster.stop_master()
    assert status == 0, "master exited %s on SIGTERM\n%s" % (status, cluster.master.describe())
    db = os.path.join(cluster.state_dir, "state.db")
    assert os.path.isfile(db), "no %s after a clean stop" % db
    for suffix in ("", "-wal", "-shm"):
        try:
            os.unlink(db + suffix)
        except FileNotFoundError:
            pass
    kept = sorted(os.listdir(cluster.state_dir))
    assert {"master.key", "join.token", "admin.token"} <= set(kept), kept
    assert h.pid_alive(pid), "the app died with the master"

    cluster.start_master()
    assert os.path.isfile(db), "the master did not create a new %s" % db
    cluster.wait_ready("w1", timeout=40)
    orphan = cluster.wait_app(app["id"], lambda a: a.get("state") == "orphan",
                              desc="app %s listed as an orphan" % app["id"])
    assert orphan["pid"] == pid and orphan["node"] == "w1", orphan
    assert [a["id"] for a in cluster.apps()].count(app["id"]) == 1

    # It stays an orphan, alive, over several heartbeats.
    seen = set()

    def heartbeats():
        seen.add(h.by_name(cluster.nodes())["w1"]["last_seen_ms"])
        return len(seen) >= 5
    h.wait_until(heartbeats, desc="five heartbeats from w1")
    assert h.pid_alive(pid), "the orphan (pid %d) was killed" % pid
    assert cluster.app(app["id"])["state"] == "orphan", cluster.app(app["id"])
    row = _ps_cells(cluster.cli("ps").stdout, app["id"])
    assert row is not None, "ps does not list the orphan %s" % app["id"]
    assert row["STATE"] == "orphan" and row["PID"] == str(pid), row
    assert worker.alive(), worker.describe()
