"""A worker runs its apps under drover-supervisor, a program it finds beside
its own executable. When that file is missing, each launch is refused at
once (REST 422, `launch` exits 1) with an error naming the missing file, and
the node stays ready; once the file is there, the same worker launches
again."""

import os
import shutil

import drover_harness as h


def test_launch_without_supervisor_is_refused(cluster, tmp_path):
    # A copy of drover alone in a directory: no drover-supervisor beside it.
    bindir = tmp_path / "lone-bin"
    bindir.mkdir()
    lone = str(bindir / "drover")
    shutil.copy2(cluster.bin, lone)
    sup = os.path.join(os.path.dirname(os.path.realpath(cluster.bin)), "drover-supervisor")
    assert os.access(sup, os.X_OK), "no %s beside the drover under test" % sup
    missing = str(bindir / "drover-supervisor")
    real = cluster.bin
    cluster.bin = lone
    try:
        cluster.start_worker("w1")
    finally:
        cluster.bin = real
    cluster.wait_ready("w1")

    error = "cannot start the supervisor %s: exec failed: No such file or directory" % missing
    status, body = cluster.api("POST", "/v1/apps", {"node": "w1", "path": "/bin/sleep",
                                                   "args": ["30"], "name": "first"})
    assert status == 422, (status, body)
    assert body["error"] == error, body
    assert body["app"]["state"] == "dead" and body["app"]["pid"] is None, body
    assert cluster.app("first-1")["cause"] == error

    cp = cluster.cli("launch", "w1", "/bin/sleep", "--name", "second", "--", "30",
                     check=False)
    assert cp.returncode == 1, cp
    assert cp.stderr.strip() == "drover: " + error, cp
    assert h.by_name(cluster.nodes())["w1"]["state"] == "ready"

    # The worker looks for the file at each launch, under the name it found
    # at start: put it there and launching works.
    shutil.copy2(sup, missing)
    app = cluster.launch("w1", "/bin/sleep", args=["30"], name="third")
    assert app["state"] in ("running", "sleeping") and app["pid"] > 1, app
    status, _ = cluster.api("POST", "/v1/apps/%s/signal" % app["id"], {"signal": "SIGKILL"})
    assert status == 200, status
    cluster.wait_dead(app["id"])
