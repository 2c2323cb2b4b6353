"""`drover launch` starts a program on a node and prints its app; ps lists
it (table and JSON; `ps NODE` the apps on NODE, `ps APP` that app alone)
with the state the worker's heartbeat reports; the REST API does the same;
ids are NAME-N; --env, --cwd and args reach the program."""

import json
import re

import drover_harness as h


def test_launch_table_json_and_rest(cluster, tmp_path):
    cluster.start_worker("w1")
    cluster.start_worker("w2")
    cluster.wait_ready("w1", "w2")

    cp = cluster.cli("launch", "w1", "/bin/sleep", "--", "600")
    assert cp.returncode == 0, cp
    got = h.launched_pid(cp.stdout)
    assert got is not None and got[:2] == ("sleep-1", "w1"), cp.stdout
    pid = got[2]
    assert h.pid_alive(pid), "launched pid %d is not running" % pid

    cp = cluster.cli("launch", "w1", "/bin/sleep", "--name", "nap", "--json", "--", "600")
    app = json.loads(cp.stdout)
    assert h.APP_FIELDS <= set(app), app
    assert app["id"] == "nap-1" and app["name"] == "nap" and app["node"] == "w1", app
    assert app["path"] == "/bin/sleep" and app["args"] == ["600"], app
    assert isinstance(app["pid"], int) and h.pid_alive(app["pid"]), app
    assert app["ended_at"] is None and app["cause"] is None, app
    assert isinstance(app["started_at"], int) and app["started_at"] > 1_500_000_000_000, app

    # Same basename again: the counter goes on.
    cp = cluster.cli("launch", "w2", "/bin/sleep", "--", "600")
    assert h.launched_pid(cp.stdout)[:2] == ("sleep-2", "w2"), cp.stdout

    status, rest = cluster.api("POST", "/v1/apps", {"node": "w2", "path": "/bin/sleep",
                                                     "args": ["600"], "name": "rest"})
    assert status == 201, (status, rest)
    assert h.APP_FIELDS <= set(rest), rest
    assert rest["id"] == "rest-1" and rest["node"] == "w2" and h.pid_alive(rest["pid"]), rest

    ids = {"sleep-1", "nap-1", "sleep-2", "rest-1"}
    for app_id in ids:
        cluster.wait_state(app_id, "sleeping")

    listed = {a["id"]: a for a in json.loads(cluster.cli("ps", "--json").stdout)}
    assert ids <= set(listed), listed
    for app_id in ids:
        assert listed[app_id]["state"] == "sleeping", listed[app_id]
        assert h.APP_FIELDS <= set(listed[app_id]), listed[app_id]
    assert listed["sleep-1"]["pid"] == pid

    rows = h.ps_rows(cluster.cli("ps").stdout)
    assert ids <= set(rows), rows
    assert rows["sleep-1"]["pid"] == str(pid), rows["sleep-1"]
    assert rows["sleep-1"]["node"] == "w1" and rows["rest-1"]["node"] == "w2", rows
    assert all(rows[i]["state"] == "sleeping" and rows[i]["cause"] == "-" for i in ids), rows

    # ps NODE filters.
    rows_w2 = h.ps_rows(cluster.cli("ps", "w2").stdout)
    assert set(rows_w2) == {"sleep-2", "rest-1"}, rows_w2
    assert {a["id"] for a in json.loads(cluster.cli("ps", "w1", "--json").stdout)} == {"sleep-1", "nap-1"}

    # GET /v1/apps/ID is the same app, and so is `ps APP`.
    assert cluster.app("nap-1")["pid"] == app["pid"]
    rows_nap = h.ps_rows(cluster.cli("ps", "nap-1").stdout)
    assert set(rows_nap) == {"nap-1"} and rows_nap["nap-1"]["pid"] == str(app["pid"]), rows_nap
    [one] = json.loads(cluster.cli("ps", "nap-1", "--json").stdout)
    assert one["id"] == "nap-1" and one["pid"] == app["pid"] and one["node"] == "w1", one

    for app_id in ids:
        cluster.cli("kill", app_id)
    for app_id in ids:
        cluster.wait_dead(app_id)


def test_env_cwd_and_args_reach_the_program(cluster, tmp_path):
    cluster.start_worker("w1")
    cluster.wait_ready("w1")
    workdir = tmp_path / "wd"
    workdir.mkdir()
    script = h.write_script(tmp_path, "show.sh",
                            '#!/bin/sh\necho "foo=$FOO bar=$BAR"\necho "cwd=$(pwd)"\n'
                            'echo "args=$#:$1:$2"\necho "to stderr" >&2\n')
    cp = cluster.cli("launch", "w1", script, "--env", "FOO=one", "--env", "BAR=two words",
                     "--cwd", str(workdir), "--", "a b", "c")
    app_id = h.launched_pid(cp.stdout)[0]
    assert app_id == "show.sh-1", cp.stdout
    app = cluster.wait_dead(app_id)
    assert app["cause"] == "exited 0" and app["exit_code"] == 0, app
    out = cluster.cli("logs", app_id).stdout
    assert "foo=one bar=two words\n" in out, out
    assert "cwd=%s\n" % workdir in out, out
    assert "args=2:a b:c\n" in out, out
    assert "to stderr\n" in out, out

    # The same over REST.
    reply = cluster.launch("w1", script, ["x"], env={"FOO": "rest"}, cwd="/", name="viarest")
    assert reply["id"] == "viarest-1", reply
    cluster.wait_dead("viarest-1")
    out = cluster.logs("viarest-1")
    assert "foo=rest bar=\n" in out and "cwd=/\n" in out and "args=1:x:\n" in out, out


def test_stopped_state_after_sigstop(cluster):
    cluster.start_worker("w1")
    cluster.wait_ready("w1")
    app = cluster.launch("w1", "/bin/sleep", ["600"])
    cluster.wait_state(app["id"], "sleeping")
    cp = cluster.cli("kill", app["id"], "--signal", "SIGSTOP")
    assert cp.returncode == 0, cp
    cluster.wait_state(app["id"], "stopped")
    rows = h.ps_rows(cluster.cli("ps").stdout)
    assert rows[app["id"]]["state"] == "stopped", rows
    cluster.cli("kill", app["id"], "--signal", "SIGCONT")
    cluster.wait_state(app["id"], "sleeping")
    cluster.cli("kill", app["id"])
    assert cluster.wait_dead(app["id"])["cause"] == "killed by SIGKILL"


def test_running_state_of_a_busy_program(cluster):
    cluster.start_worker("w1")
    cluster.wait_ready("w1")
    app = cluster.launch("w1", "/bin/sh", ["-c", "while :; do :; done"], name="spin")
    cluster.wait_state(app["id"], "running")
    rows = h.ps_rows(cluster.cli("ps").stdout)
    assert rows["spin-1"]["state"] == "running", rows
    cluster.cli("kill", "spin-1")
    cluster.wait_dead("spin-1")
