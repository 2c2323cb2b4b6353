"""`drover kill APP [--signal NAME]`: SIGKILL by default, any named signal
on request; an unknown name is refused and sends nothing."""

import json

import drover_harness as h


def test_kill_defaults_to_sigkill(cluster):
    cluster.start_worker("w1")
    cluster.wait_ready("w1")
    app = cluster.launch("w1", "/bin/sleep", ["600"])
    cluster.wait_state(app["id"], "sleeping")
    cp = cluster.cli("kill", app["id"])
    assert cp.returncode == 0, cp
    assert "SIGKILL" in cp.stdout, cp
    dead = cluster.wait_dead(app["id"])
    assert dead["cause"] == "killed by SIGKILL" and dead["signal"] == "SIGKILL", dead
    assert h.ps_rows(cluster.cli("ps").stdout)[app["id"]]["cause"] == "killed by SIGKILL"


def test_kill_with_sigterm(cluster):
    cluster.start_worker("w1")
    cluster.wait_ready("w1")
    app = cluster.launch("w1", "/bin/sleep", ["600"])
    cluster.wait_state(app["id"], "sleeping")
    cp = cluster.cli("kill", app["id"], "--signal", "SIGTERM", "--json")
    assert cp.returncode == 0, cp
    body = json.loads(cp.stdout)
    assert body["signal"] == "SIGTERM" and body["id"] == app["id"], body
    assert cluster.wait_dead(app["id"])["cause"] == "killed by SIGTERM"


def test_unknown_signal_sends_nothing(cluster):
    cluster.start_worker("w1")
    cluster.wait_ready("w1")
    app = cluster.launch("w1", "/bin/sleep", ["600"])
    cluster.wait_state(app["id"], "sleeping")
    cp = cluster.cli("kill", app["id"], "--signal", "SIGBOGUS", check=False)
    assert cp.returncode != 0, cp
    assert "unknown signal" in cp.stderr, cp

    status, body = cluster.api("POST", "/v1/apps/%s/signal" % app["id"], {"signal": "SIGNOPE"})
    assert status == 400, (status, body)
    assert isinstance(body, dict) and "signal" in body.get("error", ""), body

    # Still alive, still sleeping, well after a heartbeat or two.
    status, body = cluster.api("POST", "/v1/apps/%s/signal" % app["id"], {"signal": "SIGCONT"})
    assert status == 200, (status, body)
    assert h.pid_alive(app["pid"])
    assert cluster.app(app["id"])["state"] == "sleeping"

    status, body = cluster.api("POST", "/v1/apps/%s/signal" % app["id"], {"signal": "SIGKILL"})
    assert status == 200, (status, body)
    assert cluster.wait_dead(app["id"])["cause"] == "killed by SIGKILL"
