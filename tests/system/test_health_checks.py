"""Health checks, run by the worker: http (GET PATH, 200-399 is healthy),
tcp (a connect to 127.0.0.1:PORT) and exec (/bin/sh -c CMD exits 0), every
interval_ms, each within timeout_ms.  Health is "starting" until the first
result, "unhealthy" after `failures` failures in a row.  An unhealthy app is
killed and restarted per its restart policy; with "never" it is left running,
marked unhealthy.  REST: POST /v1/apps with "check"; the app shows "health"
(null without a check)."""

import os

import drover_harness as h

SLOW = 60
FAST = {"interval_ms": 200, "timeout_ms": 500, "failures": 2}


def _started(cluster):
    cluster.start_worker("w1")
    cluster.wait_ready("w1")


def _running(a):
    return a["state"] in ("running", "sleeping")


def test_http_check_turns_unhealthy_and_restarts_the_server(cluster, tmp_path):
    _started(cluster)
    www = tmp_path / "www"
    www.mkdir()
    page = www / "ok.txt"
    page.write_text("ok\n")
    port = h.free_port()
    # Python takes a while to listen: allow it a few probes.
    check = {"kind": "http", "port": port, "path": "/ok.txt", "interval_ms": 300,
             "timeout_ms": 1000, "failures": 4}
    app = cluster.launch("w1", "/usr/bin/python3",
                         ["-m", "http.server", str(port), "--bind", "127.0.0.1"],
                         name="web", cwd=str(www), restart="on-failure",
                         max_restarts=20, check=check)
    assert app["health"] == "starting", app
    healthy = cluster.wait_app(app["id"], lambda a: a["health"] == "healthy" and
                               _running(a), SLOW, desc="the server to be healthy")
    before = healthy["restarts"]

    # The page goes: 404, unhealthy, killed, restarted.
    page.unlink()
    seen = cluster.wait_app(app["id"], lambda a: a["state"] == "restarting" or
                            a["restarts"] > before, SLOW,
                            desc="the unhealthy server to be restarted")
    if seen["state"] == "restarting":
        assert "unhealthy" in seen["cause"] and "404" in seen["cause"], seen
        assert seen["signal"] == "SIGKILL", seen
    cluster.wait_app(app["id"], lambda a: a["restarts"] > before, SLOW)

    # Back: the restarted server turns healthy again.
    page.write_text("ok\n")
    again = cluster.wait_app(app["id"], lambda a: a["health"] == "healthy" and
                             _running(a), SLOW, desc="healthy again")
    assert again["restarts"] > before and again["pid"] != healthy["pid"], again


def test_http_check_of_a_missing_path_is_unhealthy(cluster, tmp_path):
    _started(cluster)
    port = h.free_port()
    check = dict(FAST, kind="http", port=port, path="/missing", failures=4,
                 interval_ms=300)
    app = cluster.launch("w1", "/usr/bin/python3",
                         ["-m", "http.server", str(port), "--bind", "127.0.0.1"],
                         name="web404", cwd=str(tmp_path), check=check)
    sick = cluster.wait_app(app["id"], lambda a: a["health"] == "unhealthy", SLOW)
    # restart "never" (the default): left running, marked unhealthy.
    assert _running(sick) and sick["restarts"] == 0, sick
    assert h.pid_alive(app["pid"])


def test_tcp_check_on_a_closed_port_restarts_with_on_failure(cluster):
    _started(cluster)
    check = dict(FAST, kind="tcp", port=h.free_port())
    app = cluster.launch("w1", "/bin/sleep", ["600"], name="deaf",
                         restart="on-failure", max_restarts=1, check=check)
    dead = cluster.wait_app(app["id"], lambda a: a["state"] == "dead", SLOW,
                            desc="two unhealthy runs, then dead")
    assert dead["restarts"] == 1, dead
    assert dead["cause"].startswith("killed by SIGKILL (unhealthy: "), dead
    assert dead["health"] == "unhealthy", dead
    assert not h.pid_alive(app["pid"])


def test_tcp_check_on_a_closed_port_with_never_leaves_it_running(cluster):
    _started(cluster)
    check = dict(FAST, kind="tcp", port=h.free_port())
    app = cluster.launch("w1", "/bin/sleep", ["600"], name="left",
                         restart="never", check=check)
    sick = cluster.wait_app(app["id"], lambda a: a["health"] == "unhealthy", SLOW)
    assert _running(sick) and sick["restarts"] == 0 and sick["pid"] == app["pid"], sick


def test_tcp_check_on_a_listening_port_is_healthy(cluster, tmp_path):
    _started(cluster)
    port = h.free_port()
    listen = ("import socket, time; s = socket.socket(); "
              "s.bind(('127.0.0.1', %d)); s.listen(16)\n"
              "while True:\n    c, _ = s.accept(); c.close()" % port)
    app = cluster.launch("w1", "/usr/bin/python3", ["-c", listen], name="ear",
                         restart="on-failure",
                         check=dict(FAST, kind="tcp", port=port, failures=5))
    well = cluster.wait_app(app["id"], lambda a: a["health"] == "healthy", SLOW)
    assert _running(well), well


def test_exec_checks(cluster):
    _started(cluster)
    bad = cluster.launch("w1", "/bin/sleep", ["600"], name="bad",
                         check=dict(FAST, kind="exec", cmd="exit 1"))
    good = cluster.launch("w1", "/bin/sleep", ["600"], name="good",
                          check=dict(FAST, kind="exec", cmd="test -n \"$DROVER_APP_ID\""))
    sick = cluster.wait_app(bad["id"], lambda a: a["health"] == "unhealthy", SLOW)
    assert _running(sick) and sick["restarts"] == 0, sick
    well = cluster.wait_app(good["id"], lambda a: a["health"] == "healthy", SLOW)
    assert _running(well), well


def test_exec_check_past_its_timeout_is_killed(cluster):
    _started(cluster)
    marker = "sleep 31.%s" % h.unique_tag()
    app = cluster.launch("w1", "/bin/sleep", ["600"], name="slowcheck",
                         restart="on-failure", max_restarts=1,
                         check={"kind": "exec", "cmd": marker, "interval_ms": 200,
                                "timeout_ms": 300, "failures": 2})
    dead = cluster.wait_app(app["id"], lambda a: a["state"] == "dead", SLOW)
    assert dead["restarts"] == 1 and "unhealthy" in dead["cause"], dead
    assert "300 ms" in dead["cause"], dead
    # Every probe was killed at its timeout, and reaped: none is left.
    h.wait_until(lambda: not h.processes_mentioning(marker),
                 desc="no check command %r left" % marker)


def test_no_check_means_no_health(cluster):
    _started(cluster)
    app = cluster.launch("w1", "/bin/sleep", ["600"], name="plain")
    assert app["health"] is None and app["restarts"] == 0, app
    assert cluster.wait_state(app["id"], "sleeping")["health"] is None


def test_bad_checks_are_refused(cluster):
    _started(cluster)
    for check in ({"kind": "udp", "port": 1}, {"kind": "http"},
                  {"kind": "tcp", "port": 70000}, {"kind": "exec"},
                  {"kind": "http", "port": 80, "path": "no-slash"},
                  {"kind": "tcp", "port": 80, "interval_ms": 1},
                  {"kind": "tcp", "port": 80, "failures": 0},
                  {"kind": "tcp", "port": 80, "bogus": 1}, "tcp"):
        status, body = cluster.api("POST", "/v1/apps", {
            "node": "w1", "path": "/bin/true", "args": [], "check": check})
        assert 400 <= status < 500, (check, status, body)
        assert "check" in body.get("error", ""), (check, body)
    names = [a["name"] for a in cluster.apps()]
    assert "true" not in names, names
