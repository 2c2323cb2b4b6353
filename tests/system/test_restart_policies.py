"""Restart policies, applied by the worker: "never" (the default),
"on-failure" (exit code != 0 or a signal) and "always", at most
max_restarts times, after a backoff of 1 s doubling each restart.  While it
waits the app shows as "restarting" with its last cause; every restart keeps
the id, appends to the same log and counts in "restarts".  A user's stop or
kill is never a failure: the app stays stopped.  REST: POST /v1/apps with
"restart" and "max_restarts"."""

import drover_harness as h

# Three restarts wait 1 + 2 + 4 s; the machine is shared.
SLOW = 60


def _launch(cluster, name, script, **fields):
    return cluster.launch("w1", "/bin/sh", ["-c", script], name=name, **fields)


def _started(cluster):
    cluster.start_worker("w1")
    cluster.wait_ready("w1")


def test_on_failure_restarts_a_crashing_app_until_max_restarts(cluster):
    _started(cluster)
    app = _launch(cluster, "crash", "echo run; exit 1", restart="on-failure",
                  max_restarts=3)
    app_id = app["id"]
    assert app["restarts"] == 0 and app["health"] is None, app
    states, starts = set(), []

    def ended_for_good():
        a = cluster.app(app_id)
        states.add(a["state"])
        if not starts or starts[-1] != a["started_at"]:
            starts.append(a["started_at"])
        if a["state"] == "restarting":
            assert a["cause"] == "exited 1" and a["exit_code"] == 1, a
        return a if a["state"] == "dead" else None

    dead = h.wait_until(ended_for_good, SLOW, interval=0.05,
                        desc="app %s to give up after 3 restarts" % app_id)
    assert dead["restarts"] == 3, dead
    assert dead["cause"] == "exited 1" and dead["exit_code"] == 1, dead
    assert "restarting" in states, states
    # Every run started at its own time, each gap longer than the one before
    # (1, 2, 4 s): order of magnitude only, with wide margins.
    assert len(starts) == 4, starts
    gaps = [b - a for a, b in zip(starts, starts[1:])]
    assert gaps[0] >= 500 and gaps[2] > gaps[0] * 1.5, gaps
    # One log, appended to by every run.
    h.wait_until(lambda: cluster.logs(app_id).count("run") == 4,
                 desc="four runs in the log of %s" % app_id)


def test_on_failure_restarts_an_app_killed_by_a_signal(cluster):
    _started(cluster)
    app = _launch(cluster, "segv", "kill -SEGV $$", restart="on-failure",
                  max_restarts=1)
    dead = cluster.wait_app(app["id"], lambda a: a["state"] == "dead", SLOW)
    assert dead["restarts"] == 1 and dead["signal"] == "SIGSEGV", dead


def test_on_failure_does_not_restart_a_clean_exit(cluster):
    _started(cluster)
    app = _launch(cluster, "clean", "exit 0", restart="on-failure")
    dead = cluster.wait_dead(app["id"])
    assert dead["restarts"] == 0 and dead["cause"] == "exited 0", dead


def test_always_restarts_a_clean_exit(cluster):
    _started(cluster)
    app = _launch(cluster, "again", "echo run; exit 0", restart="always",
                  max_restarts=2)
    dead = cluster.wait_app(app["id"], lambda a: a["state"] == "dead", SLOW)
    assert dead["restarts"] == 2 and dead["cause"] == "exited 0", dead
    h.wait_until(lambda: cluster.logs(app["id"]).count("run") == 3,
                 desc="three runs in the log")


def test_never_does_not_restart(cluster):
    _started(cluster)
    default = _launch(cluster, "default", "exit 1")
    never = _launch(cluster, "never", "exit 1", restart="never")
    for app in (default, never):
        dead = cluster.wait_dead(app["id"])
        assert dead["restarts"] == 0 and dead["cause"] == "exited 1", dead


def test_restart_gets_a_new_pid(cluster):
    _started(cluster)
    # Runs a while, then fails: the restarted run is seen alive.
    app = _launch(cluster, "flaky", "sleep 1; exit 3", restart="on-failure",
                  max_restarts=5)
    again = cluster.wait_app(app["id"], lambda a: a["restarts"] >= 1 and
                             a["state"] in ("running", "sleeping"), SLOW,
                             desc="a second run of %s" % app["id"])
    assert again["pid"] != app["pid"], (app, again)
    cluster.api("POST", "/v1/apps/%s/signal" % app["id"], {"signal": "SIGKILL"})
    cluster.wait_dead(app["id"], timeout=SLOW)


def test_user_stop_and_kill_are_not_restarted(cluster):
    _started(cluster)
    stopped = cluster.launch("w1", "/bin/sleep", ["600"], name="stopped",
                             restart="always")
    killed = cluster.launch("w1", "/bin/sleep", ["600"], name="killed",
                            restart="always")
    cluster.wait_state(stopped["id"], "sleeping")
    cluster.wait_state(killed["id"], "sleeping")

    status, body = cluster.api("POST", "/v1/apps/%s/stop" % stopped["id"],
                               {"timeout_s": 5})
    assert status == 200, (status, body)
    status, body = cluster.api("POST", "/v1/apps/%s/signal" % killed["id"],
                               {"signal": "SIGKILL"})
    assert status == 200, (status, body)
    a = cluster.wait_dead(stopped["id"])
    b = cluster.wait_dead(killed["id"])
    assert a["cause"] == "killed by SIGINT" and a["restarts"] == 0, a
    assert b["cause"] == "killed by SIGKILL" and b["restarts"] == 0, b
    # A restart would have come after 1 s: give it well over that.
    h.wait_until(lambda: not h.pid_alive(stopped["pid"]) and not h.pid_alive(killed["pid"]))
    for app in (stopped, killed):
        assert cluster.app(app["id"])["state"] == "dead"


def test_stop_while_restarting_calls_the_restart_off(cluster):
    _started(cluster)
    # Fails at once: it spends nearly all its time waiting to restart.
    app = _launch(cluster, "waiting", "exit 1", restart="on-failure",
                  max_restarts=50)
    cluster.wait_state(app["id"], "restarting", timeout=SLOW)
    status, body = cluster.api("POST", "/v1/apps/%s/stop" % app["id"], {})
    assert status == 200, (status, body)
    dead = cluster.wait_dead(app["id"], timeout=SLOW)
    restarts = dead["restarts"]
    assert restarts < 50, dead
    # Stays dead: a second stop finds it so.
    status, body = cluster.api("POST", "/v1/apps/%s/stop" % app["id"], {})
    assert status == 200 and body["was_dead"] is True, (status, body)
    assert cluster.app(app["id"])["restarts"] == restarts


def test_bad_restart_fields_are_refused(cluster):
    _started(cluster)
    for fields in ({"restart": "sometimes"}, {"restart": 3},
                   {"max_restarts": -1}, {"max_restarts": "3"}):
        status, body = cluster.api("POST", "/v1/apps", dict(
            fields, node="w1", path="/bin/true", args=[]))
        assert 400 <= status < 500, (fields, status, body)
        assert "restart" in body.get("error", ""), (fields, body)


def test_logs_follow_lasts_across_restarts(cluster):
    _started(cluster)
    app = _launch(cluster, "followed", "echo run-$$; exit 1", restart="on-failure",
                  max_restarts=2)
    follower = h.run([cluster.bin, "logs", app["id"], "--follow"],
                     env=cluster.cli_env(), timeout=SLOW)
    # It ends by itself once the app is dead for good, with every run's line.
    assert follower.returncode == 0, follower
    lines = [l for l in follower.stdout.splitlines() if l.startswith("run-")]
    assert len(lines) == 3 and len(set(lines)) == 3, follower.stdout
    assert cluster.wait_dead(app["id"])["restarts"] == 2
