"""`drover copy` sends a program and the non-system libraries it needs to
two workers in their own network namespaces; launched by artifact name on
each node, the program finds the copied library, whether the client found
it through RUNPATH $ORIGIN/../lib or only through LD_LIBRARY_PATH.  System
libraries (libc, libpthread, libm) are never part of the closure."""

import os

import pytest

import artifact_progs as ap
import drover_harness as h

pytestmark = pytest.mark.netns

SYSTEM_PREFIXES = ("libc.so", "libpthread", "libm.so", "ld-linux", "libdl", "linux-vdso")


def assert_no_system_libs(result):
    for n in result["nodes"]:
        for f in n["files"]:
            assert not f["name"].startswith(SYSTEM_PREFIXES), (n["node"], f)


def check_copy(result, name, files, nodes, status):
    assert result["name"] == name, result
    assert sorted(n["node"] for n in result["nodes"]) == sorted(nodes), result
    for n in result["nodes"]:
        assert n["ok"] is True and not n.get("error"), n
        got = {f["name"]: f for f in n["files"]}
        assert sorted(got) == sorted(files), n
        for fname, path in files.items():
            f = got[fname]
            assert f["status"] == status, (n["node"], f)
            assert f["size"] == os.path.getsize(path), (n["node"], f)
            assert f["hash"] == ap.blake2b_256(path), (n["node"], f)


@pytest.mark.parametrize("how", ["runpath", "ld_library_path"])
def test_copied_program_finds_its_libraries(netns_cluster, tmp_path, how):
    c = netns_cluster
    progs = ap.build_greet_programs(tmp_path)
    c.start_worker("w1")
    c.start_worker("w2")
    c.wait_ready("w1", "w2", timeout=30)

    if how == "runpath":
        exe, env, name = progs.runpath_exe, None, "greet-rp"
    else:
        exe, name = progs.ldpath_exe, "greet-ld"
        env = dict(c.cli_env(), LD_LIBRARY_PATH=progs.ldpath_dir)
        # Without LD_LIBRARY_PATH the library cannot be found: the message
        # names it and where it looked.
        cp = c.cli("copy", "all", exe, check=False)
        assert cp.returncode == 1, cp
        assert "libdrvgreet.so.1" in cp.stderr and "searched" in cp.stderr, cp.stderr
        assert ap.list_artifacts(c) == []

    files = {name: exe, "libdrvgreet.so.1": progs.lib}

    # To w1 first: the plain output has one block, a line per file sent.
    cp = c.cli("copy", "w1", exe, env=env)
    lines = [" ".join(l.split()) for l in cp.stdout.splitlines() if l.strip()]
    assert lines[0] == "w1:", cp.stdout
    assert sorted(lines[1:]) == sorted("%s sent (%d bytes)" % (f, os.path.getsize(p))
                                       for f, p in files.items()), cp.stdout

    # Then to all: w1 has every file, w2 gets every one.
    _, result = ap.copy_json(c, "all", exe, env=env)
    assert_no_system_libs(result)
    by_node = {n["node"]: n for n in result["nodes"]}
    check_copy(dict(result, nodes=[by_node["w1"]]), name, files, ["w1"], "present")
    check_copy(dict(result, nodes=[by_node["w2"]]), name, files, ["w2"], "sent")

    for node in ("w1", "w2"):
        d = ap.artifact_dir(c, node, name)
        assert os.path.isfile(os.path.join(d, "bin", name)), os.listdir(d)
        assert os.path.isfile(os.path.join(d, "lib", "libdrvgreet.so.1")), os.listdir(d)
        assert os.path.isfile(os.path.join(d, "manifest.json")), os.listdir(d)
        app_id, _ = ap.launch_artifact(c, node, name)
        ap.wait_log_line(c, app_id, "%s on %s" % (ap.GREET_LINE, node))
        app = c.wait_dead(app_id)
        assert app.get("exit_code") == 0, app

    listed = {(a["name"], a["node"]): a for a in ap.list_artifacts(c)}
    for node in ("w1", "w2"):
        a = listed[(name, node)]
        assert a["files"] == 2, a
        assert a["size"] == sum(os.path.getsize(p) for p in files.values()), a
    table = c.cli("artifacts").stdout
    assert table.splitlines()[0].split() == ["NAME", "NODE", "FILES", "SIZE", "HASH"], table
    assert {tuple(l.split()[:2]) for l in table.splitlines()[1:]} >= {(name, "w1"), (name, "w2")}, table

    # The second identical copy sends nothing and touches no store file.
    before = {node: ap.store_files(c, node) for node in ("w1", "w2")}
    for node in ("w1", "w2"):
        assert {ap.blake2b_256(p) for p in files.values()} <= set(before[node]), before[node]
    _, again = ap.copy_json(c, "all", exe, env=env)
    check_copy(again, name, files, ["w1", "w2"], "present")
    assert_no_system_libs(again)
    assert "sent" not in {f["status"] for n in again["nodes"] for f in n["files"]}, again
    plain = c.cli("copy", "all", exe, env=env).stdout
    assert " sent (" not in plain and plain.count(" present") == 4, plain
    for node in ("w1", "w2"):
        assert ap.store_files(c, node) == before[node], node

    # A fresh name on the same node: new artifact, still nothing to send.
    _, renamed = ap.copy_json(c, "w1", exe, "--name", name + "-again", env=env)
    check_copy(renamed, name + "-again", files, ["w1"], "present")
    app_id, _ = ap.launch_artifact(c, "w1", name + "-again")
    ap.wait_log_line(c, app_id, "%s on w1" % ap.GREET_LINE)
