"""A worker execs drover-shim once, as its zygote, which forks each app's
shim from itself (no exec of the shim per launch). The shim is handed to
the worker: a child of the worker, as a shim it had started itself, named
`drover-shim ID` in ps, in the app's directory. A zygote that died (killed
by hand) is started again, and launching goes on; a stopped worker leaves
no zygote behind. The app's CPU time still counts in the worker's
getrusage(RUSAGE_CHILDREN) once its shim is reaped."""

import os
import signal

import drover_harness as h

BURN = "i=0; while [ $i -lt 200000 ]; do i=$((i+1)); done"


def _zygotes(worker_pid):
    return [k for k in h.proc_children(worker_pid) if h.is_shim_zygote(k)]


def _parent(pid):
    with open("/proc/%d/stat" % pid) as f:
        return int(f.read().rsplit(")", 1)[1].split()[1])


def test_shim_zygote(cluster):
    cluster.start_worker("w1")
    cluster.wait_ready("w1")
    worker = cluster.workers["w1"].pid
    zygote = h.wait_until(lambda: _zygotes(worker), desc="the shim zygote")[0]

    apps = [cluster.launch("w1", "/bin/sleep", ["600"], name="sleeper") for _ in range(3)]
    for app in apps:
        shim = _parent(app["pid"])
        assert shim not in (zygote, worker), (shim, zygote, worker)
        assert _parent(shim) == worker, "shim %d is not the worker's child" % shim
        assert h.proc_argv(shim)[1:] == [app["id"]], h.proc_argv(shim)
        assert os.readlink("/proc/%d/cwd" % shim).endswith("/apps/" + app["id"])
    assert _zygotes(worker) == [zygote], "one zygote serves every launch"

    # The app's CPU reaches the node's children figures through its shim.
    before = cluster.api("GET", "/v1/nodes/w1/usage")[1]["children"]
    burner = cluster.launch("w1", "/bin/sh", ["-c", BURN], name="burner")
    cluster.wait_dead(burner["id"])
    burned = cluster.app(burner["id"])
    assert burned["cause"] == "exited 0", burned
    after = cluster.api("GET", "/v1/nodes/w1/usage")[1]["children"]
    spent = (after["cpu_user_ms"] + after["cpu_sys_ms"]) - (before["cpu_user_ms"] + before["cpu_sys_ms"])
    assert spent >= burned["cpu_user_ms"] + burned["cpu_sys_ms"], (before, after, burned)

    # A zygote that died: the next launch starts another.
    os.kill(zygote, signal.SIGKILL)
    h.wait_until(lambda: not h.pid_alive(zygote), desc="the zygote's end")
    again = cluster.launch("w1", "/bin/sleep", ["600"], name="sleeper")
    assert again["state"] in ("running", "sleeping") and again["pid"] > 1, again
    h.wait_until(lambda: [z for z in _zygotes(worker) if z != zygote], desc="a new zygote")
    assert h.by_name(cluster.nodes())["w1"]["state"] == "ready"

    last = _zygotes(worker)[0]
    cluster.kill_worker("w1", signal.SIGTERM)
    h.wait_until(lambda: not h.pid_alive(last), desc="the zygote to exit with its worker")
