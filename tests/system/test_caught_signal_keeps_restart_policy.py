"""`drover kill APP --signal SIG` with a signal the app catches and survives
(SIGHUP to a daemon that reloads) leaves its restart policy alone: a crash
later on is restarted as any other.  A user's signal counts as a stop (no
restart) only when the app dies of it or ends within the grace after it
(10 s, stop's default timeout); SIGKILL and `stop` count at once, and a
signal to an app waiting to restart calls the restart off, as before."""

import os
import time

import drover_harness as h

# The worker's APP_USER_SIGNAL_GRACE_MS: the end of an app this long after a
# user's signal is its own. A lower bound we wait past, never a deadline.
GRACE_S = 10
# A restart comes after a backoff of 1 s; the machine is shared.
SLOW = 60

# A daemon: SIGHUP is a reload; it fails (exit 1) when the trigger file
# appears, and takes the trigger away so that its next run waits again.
DAEMON = r"""
trap 'echo "reloaded $$"' HUP
echo "up $$"
while [ ! -e "$1" ]; do sleep 0.1; done
rm -f "$1"
echo "crash $$"
exit 1
"""

# Catches SIGTERM and exits 3 (a failure code) while shutting down.
HANDLES_TERM = r"""
trap 'echo "bye $$"; exit 3' TERM
echo "up $$"
while :; do sleep 0.1; done
"""


def _alive(a):
    return a["state"] in ("running", "sleeping")


def _started(cluster):
    cluster.start_worker("w1")
    cluster.wait_ready("w1")


def test_caught_sighup_then_crash_is_restarted(cluster, tmp_path):
    _started(cluster)
    trigger = str(tmp_path / "crash-now")
    app = cluster.launch("w1", "/bin/sh", ["-c", DAEMON, "daemon", trigger],
                         name="daemon", restart="on-failure", max_restarts=3)
    app_id, pid = app["id"], app["pid"]
    h.wait_until(lambda: "up %d" % pid in cluster.logs(app_id),
                 desc="the daemon's first line (its trap is set)")

    cp = cluster.cli("kill", app_id, "--signal", "SIGHUP")
    assert cp.returncode == 0, cp
    signalled = time.monotonic()
    h.wait_until(lambda: "reloaded %d" % pid in cluster.logs(app_id),
                 desc="the daemon to handle SIGHUP")
    a = cluster.app(app_id)
    assert _alive(a) and a["pid"] == pid and a["restarts"] == 0, a

    # Past the grace the signal no longer counts; it keeps running meanwhile.
    def past_grace_still_running():
        a = cluster.app(app_id)
        assert _alive(a) and a["pid"] == pid, a
        return time.monotonic() > signalled + GRACE_S + 1
    h.wait_until(past_grace_still_running, timeout=GRACE_S + SLOW,
                 interval=0.5, desc="the grace after SIGHUP to pass")

    with open(trigger, "w"):
        pass
    again = cluster.wait_app(
        app_id, lambda a: a["state"] == "dead" or (a["restarts"] >= 1 and _alive(a)),
        SLOW, desc="app %s restarted after its crash (or left dead)" % app_id)
    assert again["state"] != "dead", (
        "the crash after a caught SIGHUP was taken for a user's stop", again)
    assert again["restarts"] == 1 and again["pid"] != pid, again
    h.wait_until(lambda: "up %d" % again["pid"] in cluster.logs(app_id),
                 desc="the second run's first line")
    log = cluster.logs(app_id)
    assert "crash %d" % pid in log, log

    cluster.cli("kill", app_id)
    dead = cluster.wait_dead(app_id)
    assert dead["cause"] == "killed by SIGKILL" and dead["restarts"] == 1, dead


def test_sigterm_that_ends_the_app_is_not_restarted(cluster):
    _started(cluster)
    app = cluster.launch("w1", "/bin/sleep", ["600"], name="term",
                         restart="always", max_restarts=3)
    cluster.wait_state(app["id"], "sleeping")
    cp = cluster.cli("kill", app["id"], "--signal", "SIGTERM")
    assert cp.returncode == 0, cp
    # "dead" is for good: a restart would show as "restarting" first.
    dead = cluster.wait_dead(app["id"])
    assert dead["cause"] == "killed by SIGTERM" and dead["restarts"] == 0, dead
    assert not h.pid_alive(app["pid"])


def test_app_that_fails_while_handling_sigterm_is_not_restarted(cluster):
    _started(cluster)
    app = cluster.launch("w1", "/bin/sh", ["-c", HANDLES_TERM], name="handler",
                         restart="on-failure", max_restarts=3)
    pid = app["pid"]
    h.wait_until(lambda: "up %d" % pid in cluster.logs(app["id"]),
                 desc="the handler's first line (its trap is set)")
    cp = cluster.cli("kill", app["id"], "--signal", "SIGTERM")
    assert cp.returncode == 0, cp
    dead = cluster.wait_dead(app["id"])
    assert dead["cause"] == "exited 3" and dead["restarts"] == 0, dead
    assert "bye %d" % pid in cluster.logs(app["id"])


def test_signal_while_restarting_calls_the_restart_off(cluster):
    _started(cluster)
    # Fails at once: nearly all its time is spent waiting to restart.
    app = cluster.launch("w1", "/bin/sh", ["-c", "exit 1"], name="waiting",
                         restart="on-failure", max_restarts=50)
    cluster.wait_state(app["id"], "restarting", timeout=SLOW)
    cp = cluster.cli("kill", app["id"], "--signal", "SIGHUP")
    assert cp.returncode == 0, cp
    dead = cluster.wait_dead(app["id"], timeout=SLOW)
    assert dead["restarts"] < 50, dead
    restarts = dead["restarts"]
    # Dead for good: a second signal finds it so, nothing runs again.
    status, body = cluster.api("POST", "/v1/apps/%s/signal" % app["id"],
                               {"signal": "SIGHUP"})
    assert status == 200, (status, body)
    assert cluster.app(app["id"])["restarts"] == restarts
    assert cluster.app(app["id"])["state"] == "dead"
