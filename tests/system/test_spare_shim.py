"""A worker keeps one shim exec'd ahead of the next launch (a spare), so a
launch does not wait for the shim's exec. The spare shows as
`drover-shim spare` until it runs an app, then as `drover-shim ID`; a
worker whose spare died (killed by hand) still launches, with a new shim,
and keeps a spare again afterwards; a stopped worker leaves no spare
behind."""

import os
import signal

import drover_harness as h


def _spares(worker_pid):
    return [k for k in h.proc_children(worker_pid) if h.is_spare_shim(k)]


def _shim_of(app_pid):
    with open("/proc/%d/stat" % app_pid) as f:
        return int(f.read().rsplit(")", 1)[1].split()[1])


def test_spare_shim(cluster):
    cluster.start_worker("w1")
    cluster.wait_ready("w1")
    worker = cluster.workers["w1"].pid
    spare = h.wait_until(lambda: _spares(worker), desc="a spare shim")[0]

    app = cluster.launch("w1", "/bin/sleep", ["600"], name="sleeper")
    shim = _shim_of(app["pid"])
    assert shim == spare, "the launch did not use the spare %d (shim %d)" % (spare, shim)
    assert h.proc_argv(shim)[1:] == [app["id"]], h.proc_argv(shim)
    assert os.readlink("/proc/%d/cwd" % shim).endswith("/apps/" + app["id"])
    nxt = h.wait_until(lambda: [s for s in _spares(worker) if s != spare],
                       desc="a new spare after the launch")[0]

    # A spare that died while it waited: the next launch starts a shim.
    os.kill(nxt, signal.SIGKILL)
    h.wait_until(lambda: not h.pid_alive(nxt), desc="the spare's end")
    again = cluster.launch("w1", "/bin/sleep", ["600"], name="sleeper")
    assert again["state"] in ("running", "sleeping") and again["pid"] > 1, again
    assert _shim_of(again["pid"]) != nxt
    h.wait_until(lambda: [s for s in _spares(worker) if s != nxt],
                 desc="a spare again")
    assert h.by_name(cluster.nodes())["w1"]["state"] == "ready"

    last = _spares(worker)[0]
    cluster.kill_worker("w1", signal.SIGTERM)
    h.wait_until(lambda: not h.pid_alive(last), desc="the spare to exit with its worker")
