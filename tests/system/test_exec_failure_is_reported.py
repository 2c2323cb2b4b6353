"""A program that cannot be executed (missing, not executable, not an ELF):
launch exits 1 with `drover: exec failed: <strerror>`, REST answers 422 with
the app, and ps lists the app as dead with that cause."""

import json

import drover_harness as h


def test_exec_failure_is_reported(cluster, tmp_path):
    cluster.start_worker("w1")
    cluster.wait_ready("w1")
    plain = tmp_path / "plain.txt"
    plain.write_text("not a program\n")
    plain.chmod(0o644)
    garbage = h.write_script(tmp_path, "garbage", "this is not an ELF file\n" * 20)
    cases = [
        ("/nonexistent/program", "nonexistent-program", "No such file or directory"),
        (str(plain), "plain-txt", "Permission denied"),
        (garbage, "garbage", "Exec format error"),
    ]
    for path, name, error in cases:
        cp = cluster.cli("launch", "w1", path, "--name", name, check=False)
        assert cp.returncode == 1, cp
        assert cp.stderr.strip() == "drover: exec failed: " + error, cp
        app_id = name + "-1"
        status, body = cluster.api("POST", "/v1/apps", {"node": "w1", "path": path, "name": name})
        assert status == 422, (status, body)
        assert body["error"] == "exec failed: " + error, body
        app = body["app"]
        assert h.APP_FIELDS <= set(app), app
        assert app["id"] == name + "-2" and app["state"] == "dead", app
        assert app["cause"] == "exec failed: " + error and app["pid"] is None, app

        for i in (app_id, name + "-2"):
            listed = cluster.app(i)
            assert listed["state"] == "dead" and listed["cause"] == "exec failed: " + error, listed

        rows = h.ps_rows(cluster.cli("ps").stdout)
        assert rows[app_id]["state"] == "dead", rows
        assert rows[app_id]["cause"] == "exec failed: " + error, rows
        listed = {a["id"]: a for a in json.loads(cluster.cli("ps", "--json").stdout)}
        assert listed[app_id]["cause"] == "exec failed: " + error, listed[app_id]

    # The launch JSON form fails the same way.
    cp = cluster.cli("launch", "w1", "/nonexistent/again", "--json", check=False)
    assert cp.returncode == 1, cp
    assert "exec failed: No such file or directory" in cp.stdout + cp.stderr, cp
