"""One process per node, the supervisor (`drover-supervisor DIR`, started
by the worker from beside its own executable), is the parent of every app:
each app starts in its own directory with its stdout and stderr on its log
file itself. What apps use reaches the node's children figures. Killed by
hand, the supervisor's apps run on, handed to the worker, which still
reports how each ends, and the next launch starts another supervisor. A
supervisor with no worker and no app left exits by itself."""

import os
import signal
import stat

import drover_harness as h

BURN = "i=0; while [ $i -lt 200000 ]; do i=$((i+1)); done"


def _parent(pid):
    with open("/proc/%d/stat" % pid) as f:
        return int(f.read().rsplit(")", 1)[1].split()[1])


def test_supervisor_runs_every_app(cluster):
    cluster.start_worker("w1")
    cluster.wait_ready("w1")
    worker = cluster.workers["w1"].pid
    wdir = os.path.realpath(cluster.worker_dirs["w1"])
    sup = h.wait_until(lambda: h.supervisor_of(wdir), desc="the supervisor")
    assert _parent(sup) == worker, "the supervisor is not the worker's child"
    # Whoever connects may start programs: the worker's user alone can.
    st = os.stat(os.path.join(wdir, "supervisor.sock"))
    assert stat.S_ISSOCK(st.st_mode) and stat.S_IMODE(st.st_mode) == 0o600, oct(st.st_mode)

    apps = [cluster.launch("w1", "/bin/sleep", ["600"], name="sleeper") for _ in range(3)]
    for app in apps:
        assert _parent(app["pid"]) == sup, "app %s is not the supervisor's child" % app["id"]
        appdir = os.path.join(wdir, "apps", app["id"])
        assert os.readlink("/proc/%d/cwd" % app["pid"]) == appdir
        # dup2'ed onto the log file itself: no pipe, no process in between.
        log = os.path.join(appdir, "output.log")
        for fd in (1, 2):
            assert os.readlink("/proc/%d/fd/%d" % (app["pid"], fd)) == log
        assert os.readlink("/proc/%d/fd/0" % app["pid"]) == "/dev/null"
    assert h.supervisor_of(wdir) == sup, "one supervisor serves every launch"

    # The app's CPU reaches the node's children figures through its parent.
    before = cluster.api("GET", "/v1/nodes/w1/usage")[1]["children"]
    burner = cluster.launch("w1", "/bin/sh", ["-c", BURN], name="burner")
    burned = cluster.wait_dead(burner["id"])
    assert burned["cause"] == "exited 0", burned
    after = cluster.api("GET", "/v1/nodes/w1/usage")[1]["children"]
    spent = (after["cpu_user_ms"] + after["cpu_sys_ms"]) - (before["cpu_user_ms"] + before["cpu_sys_ms"])
    assert spent >= burned["cpu_user_ms"] + burned["cpu_sys_ms"] > 0, (before, after, burned)

    # Killed by hand: the apps run on, now the worker's children, and an
    # end is still reported with its exact cause.
    os.kill(sup, signal.SIGKILL)
    h.wait_until(lambda: all(_parent(a["pid"]) == worker for a in apps),
                 desc="the apps to be handed to the worker")
    os.kill(apps[0]["pid"], signal.SIGTERM)
    dead = cluster.wait_dead(apps[0]["id"])
    assert dead["cause"] == "killed by SIGTERM" and dead["signal"] == "SIGTERM", dead
    assert cluster.app(apps[1]["id"])["state"] in ("running", "sleeping")
    # Stop and kill still reach them.
    cluster.cli("kill", apps[1]["id"])
    assert cluster.wait_dead(apps[1]["id"])["cause"] == "killed by SIGKILL"

    # The next launch starts another supervisor.
    again = cluster.launch("w1", "/bin/sleep", ["600"], name="sleeper")
    second = h.supervisor_of(wdir)
    assert second not in (None, sup) and _parent(again["pid"]) == second, (sup, second)
    assert h.by_name(cluster.nodes())["w1"]["state"] == "ready"

    # A worker killed with its apps running: the supervisor stays for them.
    # An app that ends meanwhile is told to the next worker, which takes
    # the same supervisor back, with its exact cause.
    other = cluster.launch("w1", "/bin/sleep", ["600"], name="other")
    cluster.kill_worker("w1", signal.SIGKILL)
    assert h.pid_alive(second) and h.pid_alive(again["pid"])
    os.kill(again["pid"], signal.SIGTERM)
    h.wait_until(lambda: not h.pid_alive(again["pid"]), desc="the app's end")
    assert h.pid_alive(second), "the supervisor went with an app still running"
    cluster.start_worker("w1")
    cluster.wait_ready("w1")
    dead = cluster.wait_dead(again["id"])
    assert dead["cause"] == "killed by SIGTERM", dead
    assert h.supervisor_of(wdir) == second, "the new worker did not take the supervisor back"
    assert _parent(other["pid"]) == second
    assert cluster.app(other["id"])["state"] in ("running", "sleeping")

    # The worker stopped again, the last app ends: the supervisor writes
    # the end in the app's exit file and exits, and the next worker reads it.
    cluster.kill_worker("w1", signal.SIGTERM)
    os.kill(other["pid"], signal.SIGKILL)
    h.wait_until(lambda: not h.pid_alive(second), desc="the supervisor to exit")
    cluster.start_worker("w1")
    cluster.wait_ready("w1")
    dead = cluster.wait_dead(other["id"])
    assert dead["cause"] == "killed by SIGKILL", dead
    cluster.kill_worker("w1", signal.SIGTERM)
    h.wait_until(lambda: h.supervisor_of(wdir) is None,
                 desc="the supervisor to exit with no app and no worker")
