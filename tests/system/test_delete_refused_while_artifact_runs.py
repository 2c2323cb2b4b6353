"""`drover delete` refuses to remove an artifact while an app launched from
it runs, naming the apps (REST: 409 with their ids); with --force it kills
them and deletes.  A library shared with another artifact stays on the node
when one of them is deleted."""

import os

import pytest

import artifact_progs as ap
import drover_harness as h

pytestmark = pytest.mark.netns


def ps_state(c, app_id):
    return h.ps_rows(c.cli("ps").stdout).get(app_id, {}).get("state")


def test_delete_refused_while_artifact_runs(netns_cluster, tmp_path):
    c = netns_cluster
    progs = ap.build_greet_programs(tmp_path)
    c.start_worker("w1")
    c.start_worker("w2")
    c.wait_ready("w1", "w2", timeout=30)
    name = "greet-rp"
    ap.copy_json(c, "all", progs.runpath_exe)

    apps = {}
    for node in ("w1", "w2"):
        app_id, pid = ap.launch_artifact(c, node, name, 300)
        ap.wait_log_line(c, app_id, ap.GREET_LINE)
        apps[node] = (app_id, pid)
        assert h.pid_alive(pid)

    # Refused on one node: exit 1, the running app named, nothing removed.
    cp = c.cli("delete", "w1", name, check=False)
    assert cp.returncode == 1, cp
    assert apps["w1"][0] in cp.stdout + cp.stderr, cp
    status, body = c.api("DELETE", "/v1/artifacts/%s?node=all" % name)
    assert status == 409, (status, body)
    assert isinstance(body, dict) and body.get("error"), body
    assert sorted(body.get("apps") or []) == sorted(a for a, _ in apps.values()), body
    for node in ("w1", "w2"):
        assert os.path.isdir(ap.artifact_dir(c, node, name))
        assert h.pid_alive(apps[node][1])
    assert {(a["name"], a["node"]) for a in ap.list_artifacts(c)} == {(name, "w1"), (name, "w2")}

    # Forced on w1: its app dies, the artifact goes; w2 is untouched.
    cp = c.cli("delete", "w1", name, "--force")
    assert "deleted %s on w1" % name in cp.stdout, cp
    h.wait_until(lambda: not h.pid_alive(apps["w1"][1]), desc="forced app's pid to die")
    h.wait_until(lambda: ps_state(c, apps["w1"][0]) == "dead", desc="ps to show the app dead")
    assert not os.path.exists(ap.artifact_dir(c, "w1", name))
    assert ap.store_files(c, "w1") == {}
    assert [(a["name"], a["node"]) for a in ap.list_artifacts(c)] == [(name, "w2")]
    assert h.pid_alive(apps["w2"][1])
    assert ps_state(c, apps["w2"][0]) != "dead"

    # Once w2's app has ended, a plain delete works.
    c.cli("stop", apps["w2"][0])
    c.wait_dead(apps["w2"][0])
    status, body = c.api("DELETE", "/v1/artifacts/%s?node=w2" % name)
    assert status == 200, (status, body)
    assert ap.list_artifacts(c) == []
    assert not os.path.exists(ap.artifact_dir(c, "w2", name))


def test_shared_library_stays_when_one_artifact_is_deleted(netns_cluster, tmp_path):
    c = netns_cluster
    progs = ap.build_greet_programs(tmp_path)
    c.start_worker("w1")
    c.wait_ready("w1", timeout=30)
    env = dict(c.cli_env(), LD_LIBRARY_PATH=progs.ldpath_dir)
    ap.copy_json(c, "w1", progs.runpath_exe)
    _, second = ap.copy_json(c, "w1", progs.ldpath_exe, env=env)
    # The same library bytes: the second copy finds it present.
    assert ap.statuses(second)["w1"] == {"greet-ld": "sent", "libdrvgreet.so.1": "present"}, second

    lib_hash = ap.blake2b_256(progs.lib)
    rp_hash = ap.blake2b_256(progs.runpath_exe)
    ld_hash = ap.blake2b_256(progs.ldpath_exe)
    assert set(ap.store_files(c, "w1")) == {lib_hash, rp_hash, ld_hash}

    cp = c.cli("delete", "w1", "greet-rp")
    assert "deleted greet-rp on w1" in cp.stdout, cp
    assert set(ap.store_files(c, "w1")) == {lib_hash, ld_hash}
    assert not os.path.exists(ap.artifact_dir(c, "w1", "greet-rp"))
    assert os.path.isfile(os.path.join(ap.artifact_dir(c, "w1", "greet-ld"), "lib", "libdrvgreet.so.1"))
    assert [a["name"] for a in ap.list_artifacts(c, "w1")] == ["greet-ld"]
    app_id, _ = ap.launch_artifact(c, "w1", "greet-ld")
    ap.wait_log_line(c, app_id, ap.GREET_LINE)
    assert c.wait_dead(app_id).get("exit_code") == 0

    c.cli("delete", "w1", "greet-ld")
    assert ap.store_files(c, "w1") == {}
    assert ap.list_artifacts(c) == []
