"""`drover stop APP [--timeout S]`: SIGINT to the app's process group, SIGKILL
at the timeout; children of the app end with it; stopping a dead app
succeeds and says so.  REST: POST /v1/apps/ID/stop."""

import json

import drover_harness as h

IGNORE_SIGINT = ("import signal, time; signal.signal(signal.SIGINT, signal.SIG_IGN); "
                 "time.sleep(600)")


def test_stop_sends_sigint(cluster):
    cluster.start_worker("w1")
    cluster.wait_ready("w1")
    app = cluster.launch("w1", "/bin/sleep", ["600"])
    cluster.wait_state(app["id"], "sleeping")
    cp = cluster.cli("stop", app["id"])
    assert cp.returncode == 0, cp
    assert cp.stdout.strip() == "stopped %s (SIGINT)" % app["id"], cp
    dead = cluster.wait_dead(app["id"])
    assert dead["cause"] == "killed by SIGINT", dead
    assert not h.pid_alive(app["pid"])


def test_stop_kills_a_program_that_ignores_sigint(cluster):
    cluster.start_worker("w1")
    cluster.wait_ready("w1")
    app = cluster.launch("w1", "/usr/bin/python3", ["-c", IGNORE_SIGINT], name="stubborn")
    # Wait until python has installed its handler (it is sleeping by then).
    cluster.wait_state(app["id"], "sleeping")
    h.wait_until(lambda: _sigint_ignored(app["pid"]), desc="python to ignore SIGINT")
    cp = cluster.cli("stop", app["id"], "--timeout", "2")
    assert cp.returncode == 0, cp
    assert cp.stdout.strip() == "stopped %s (SIGKILL after 2 s)" % app["id"], cp
    dead = cluster.wait_dead(app["id"])
    assert dead["cause"] == "killed by SIGKILL", dead
    assert not h.pid_alive(app["pid"])


def _sigint_ignored(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("SigIgn:"):
                return int(line.split()[1], 16) & (1 << 1)
    return False


def test_stop_ends_the_apps_children(cluster):
    cluster.start_worker("w1")
    cluster.wait_ready("w1")
    app = cluster.launch("w1", "/bin/sh", ["-c", "sleep 600 & sleep 600"], name="forker")
    pid = app["pid"]
    kids = h.wait_until(lambda: len(h.proc_children(pid)) == 2 and h.proc_children(pid),
                        desc="the shell's two sleep children")
    cluster.track_app({"pid": kids[0]})
    cluster.track_app({"pid": kids[1]})
    cp = cluster.cli("stop", app["id"], "--timeout", "5")
    assert cp.returncode == 0, cp
    assert cp.stdout.startswith("stopped %s (" % app["id"]), cp
    cluster.wait_dead(app["id"])
    h.wait_until(lambda: not any(h.pid_alive(p) for p in [pid] + kids),
                 desc="the shell and both children %s to be gone" % kids)


def test_stop_of_a_dead_app_succeeds(cluster):
    cluster.start_worker("w1")
    cluster.wait_ready("w1")
    app = cluster.launch("w1", "/bin/sh", ["-c", "exit 0"], name="quick")
    cluster.wait_dead(app["id"])
    cp = cluster.cli("stop", app["id"])
    assert cp.returncode == 0, cp
    assert "already dead" in cp.stdout, cp
    cp = cluster.cli("stop", app["id"], "--json")
    body = json.loads(cp.stdout)
    assert body["was_dead"] is True and body["id"] == app["id"], body
    assert body["app"]["cause"] == "exited 0", body


def test_stop_over_rest(cluster):
    cluster.start_worker("w1")
    cluster.wait_ready("w1")
    soft = cluster.launch("w1", "/bin/sleep", ["600"], name="soft")
    hard = cluster.launch("w1", "/usr/bin/python3", ["-c", IGNORE_SIGINT], name="hard")
    cluster.wait_state(soft["id"], "sleeping")
    cluster.wait_state(hard["id"], "sleeping")
    h.wait_until(lambda: _sigint_ignored(hard["pid"]), desc="python to ignore SIGINT")

    status, body = cluster.api("POST", "/v1/apps/soft-1/stop", {"timeout_s": 5})
    assert status == 200, (status, body)
    assert {"id", "ended_by", "was_dead", "app"} <= set(body), body
    assert body["id"] == "soft-1" and body["ended_by"] == "SIGINT" and body["was_dead"] is False, body

    status, body = cluster.api("POST", "/v1/apps/hard-1/stop", {"timeout_s": 1})
    assert status == 200, (status, body)
    assert body["ended_by"] == "SIGKILL" and body["was_dead"] is False, body
    assert cluster.wait_dead("hard-1")["cause"] == "killed by SIGKILL"

    status, body = cluster.api("POST", "/v1/apps/soft-1/stop", {})
    assert status == 200 and body["was_dead"] is True, (status, body)
    assert body["app"]["state"] == "dead", body
