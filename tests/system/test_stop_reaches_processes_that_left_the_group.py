"""A program that daemonizes the classic way (fork, setsid, fork) leaves the
app's process group; `stop` and `kill` still end what it left running,
found below the app's shim or, once the shim has gone, among the worker's
children by the DROVER_APP_ID it was started with. A process outside the
worker's tree with the same DROVER_APP_ID is never touched."""

import json
import os
import subprocess

import drover_harness as h

# Writes the pid of its last process to argv[1], then sleeps there.
DAEMON = """
import os, sys, time
if os.fork():
    os._exit(0)
os.setsid()
if os.fork():
    os._exit(0)
with open(sys.argv[1] + ".tmp", "w") as f:
    f.write(str(os.getpid()))
os.rename(sys.argv[1] + ".tmp", sys.argv[1])
time.sleep(600)
"""

# The same daemon, started by a leader that itself keeps running.
LIVE_PARENT = DAEMON.replace("if os.fork():\n    os._exit(0)\nos.setsid()",
                             "if os.fork():\n    time.sleep(600)\nos.setsid()", 1)
assert LIVE_PARENT != DAEMON


def _daemon_pid(path):
    h.wait_until(lambda: os.path.exists(path), desc="the daemon to write %s" % path)
    with open(path) as f:
        return int(f.read())


def test_stop_of_an_app_that_daemonized_ends_the_daemon(cluster, tmp_path):
    cluster.start_worker("w1")
    cluster.wait_ready("w1")
    pidfile = str(tmp_path / "daemon.pid")
    app = cluster.launch("w1", "/usr/bin/python3", ["-c", DAEMON, pidfile], name="dmn")
    daemon = _daemon_pid(pidfile)
    cluster.track_app({"pid": daemon})
    assert cluster.wait_dead(app["id"])["cause"] == "exited 0"
    assert h.pid_alive(daemon), "the daemon %d should outlive its leader" % daemon
    assert os.getsid(daemon) != app["pid"], "the daemon never left the app's session"

    # A bystander with the app's id in its environment, outside the worker.
    bystander = subprocess.Popen(["/bin/sleep", "600"], start_new_session=True,
                                 env={"DROVER_APP_ID": app["id"]})
    try:
        cp = cluster.cli("stop", app["id"])
        assert cp.returncode == 0, cp
        assert cp.stdout.strip() == ("%s was already dead (exited 0); SIGKILL ended "
                                     "the processes it left running" % app["id"]), cp
        h.wait_until(lambda: not h.pid_alive(daemon), desc="the daemon to be gone")
        assert bystander.poll() is None, "a process outside the worker was signalled"

        # Nothing is left: a second stop only says the app is dead.
        body = json.loads(cluster.cli("stop", app["id"], "--json").stdout)
        assert body["was_dead"] is True and body["ended_by"] is None, body
    finally:
        bystander.kill()
        bystander.wait()


def test_stop_and_kill_of_a_live_app_end_its_setsid_child(cluster, tmp_path):
    cluster.start_worker("w1")
    cluster.wait_ready("w1")
    for verb in ("stop", "kill"):
        pidfile = str(tmp_path / ("%s.pid" % verb))
        app = cluster.launch("w1", "/usr/bin/python3", ["-c", LIVE_PARENT, pidfile],
                             name=verb)
        daemon = _daemon_pid(pidfile)
        cluster.track_app({"pid": daemon})
        assert os.getpgid(daemon) != app["pid"], "the child never left the app's group"
        cluster.wait_state(app["id"], "sleeping")

        cp = cluster.cli(verb, app["id"])
        assert cp.returncode == 0, cp
        dead = cluster.wait_dead(app["id"])
        assert dead["cause"] == ("killed by SIGINT" if verb == "stop" else
                                 "killed by SIGKILL"), dead
        h.wait_until(lambda: not h.pid_alive(daemon),
                     desc="the child that left the group to be gone after %s" % verb)
