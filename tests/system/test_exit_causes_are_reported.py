"""ps shows why each app ended: exited N, killed by SIGNAL, with
"(core dumped)" when the kernel wrote a core (it depends on the limits)."""

import json

import drover_harness as h

SEGV = ("killed by SIGSEGV", "killed by SIGSEGV (core dumped)")


def test_exit_causes_are_reported(cluster, tmp_path):
    cluster.start_worker("w1")
    cluster.wait_ready("w1")
    cases = {
        "zero": (["-c", "exit 0"], ("exited 0",), 0, None),
        "three": (["-c", "exit 3"], ("exited 3",), 3, None),
        "selfkill": (["-c", "kill -KILL $$"], ("killed by SIGKILL",), None, "SIGKILL"),
        "segv": (["-c", "kill -SEGV $$"], SEGV, None, "SIGSEGV"),
    }
    for name, (args, _, _, _) in cases.items():
        cluster.launch("w1", "/bin/sh", args, name=name)
    # A real segfault, in python (faulthandler is off by default).
    cluster.launch("w1", "/usr/bin/python3", ["-c", "import ctypes; ctypes.string_at(0)"],
                   name="crash")
    cases["crash"] = (None, SEGV, None, "SIGSEGV")

    for name, (_, causes, code, sig) in cases.items():
        app = cluster.wait_dead(name + "-1")
        assert app["cause"] in causes, app
        assert app["exit_code"] == code and app["signal"] == sig, app
        assert isinstance(app["ended_at"], int) and app["ended_at"] >= app["started_at"], app

    rows = h.ps_rows(cluster.cli("ps").stdout)
    listed = {a["id"]: a for a in json.loads(cluster.cli("ps", "--json").stdout)}
    for name, (_, causes, _, _) in cases.items():
        assert rows[name + "-1"]["state"] == "dead", rows
        assert rows[name + "-1"]["cause"] in causes, rows
        assert listed[name + "-1"]["cause"] in causes, listed
    assert rows["zero-1"]["cause"] == "exited 0" and rows["three-1"]["cause"] == "exited 3", rows
