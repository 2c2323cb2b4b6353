"""Rescheduling copies an app's artifact to a ready node that lacks it.

The master keeps its own copy of every file a `copy` streams through it
(STATE/artifacts/<hash>), so when the only node holding an artifact dies,
its on-failure apps are started on another node once the master has copied
the artifact there (ARTIFACT_HAVE, the file transfers, ARTIFACT_INSTALL:
what `copy` does).  The copy is recorded on that node (`artifacts`) and in
the events of each app, beside the move.  Without the master's copy (an
artifact copied by an older master: simulated by removing its files), only
nodes holding the artifact are considered and the apps stay dead with a
cause that says why.  Deleting an artifact from every node removes the
master's copy of its files.

Workers run in their own network namespaces (but share our PID namespace,
so the apps' pids can be checked from here)."""

import os

import pytest

import artifact_progs as ap
import drover_harness as h

pytestmark = pytest.mark.netns

RUNNING = ("running", "sleeping")


def _master_copy(c, digest):
    return os.path.join(c.state_dir, "artifacts", digest)


def _file_hashes(result, node):
    for n in result["nodes"]:
        if n["node"] == node:
            return {f["name"]: f["hash"] for f in n["files"]}
    raise AssertionError("no node %s in %r" % (node, result))


def _launch_artifact(c, node, artifact, args, **fields):
    body = dict(fields, node=node, artifact=artifact, args=[str(a) for a in args])
    status, reply = c.api("POST", "/v1/apps", body)
    assert status == 201, (status, reply)
    return c.track_app(reply.get("app", reply))


def _kill_pid(pid):
    h.kill_app_group(pid)


def _greet_on_w1(c, tmp_path, count):
    """w1 and w2 ready, the greet artifact copied to w1 alone, and count
    on-failure apps launched from it on w1.  Returns (copy result, apps)."""
    progs = ap.build_greet_programs(tmp_path)
    c.start_worker("w1")
    c.start_worker("w2")
    c.wait_ready("w1", "w2", timeout=30)
    _, result = ap.copy_json(c, "w1", progs.runpath_exe, "--name", "greet")
    assert ap.statuses(result) == {"w1": {"greet-rp": "sent", "libdrvgreet.so.1": "sent"}}, result
    assert [(a["name"], a["node"]) for a in ap.list_artifacts(c)] == [("greet", "w1")]
    apps = [_launch_artifact(c, "w1", "greet", [600], name="greet", restart="on-failure")
            for _ in range(count)]
    for app in apps:
        c.wait_state(app["id"], *RUNNING)
        ap.wait_log_line(c, app["id"], ap.GREET_LINE + " on w1")
    return result, apps


def test_apps_move_to_a_node_the_artifact_is_copied_to(netns_cluster, tmp_path):
    c = netns_cluster
    result, apps = _greet_on_w1(c, tmp_path, 3)
    # The master kept its own copy of each file as it went by.
    hashes = _file_hashes(result, "w1")
    for name, digest in hashes.items():
        path = _master_copy(c, digest)
        assert os.path.isfile(path), "the master keeps no copy of %s" % name
        assert ap.blake2b_256(path) == digest
    assert "greet" not in [a["name"] for a in ap.list_artifacts(c, "w2")]

    c.kill_worker("w1")
    try:
        moved = []
        for app in apps:
            a = c.wait_app(app["id"], lambda a: a.get("node") == "w2"
                           and a.get("state") in RUNNING and isinstance(a.get("pid"), int)
                           and a["pid"] != app["pid"] and h.pid_alive(a["pid"]),
                           timeout=120, desc="app %s running on w2" % app["id"])
            moved.append(a)
        for a in moved:
            assert a["reschedules"] == 1 and a["restarts"] == 1, a
            assert "copied there first" in a["placement"], a
            ap.wait_log_line(c, a["id"], ap.GREET_LINE + " on w2")

        # Installed on w2 like any copy, and recorded there.
        on_w2 = [a for a in ap.list_artifacts(c, "w2") if a["name"] == "greet"]
        assert len(on_w2) == 1, ap.list_artifacts(c)
        assert on_w2[0]["files"] == 2, on_w2
        for digest in hashes.values():
            assert digest in ap.store_files(c, "w2")
        assert ap.store_tmp_entries(c, "w2") == []

        # Each app's trail: moved to w2 with a copy, the copy, then running.
        for app in apps:
            ev = h.events(c, "?app=" + app["id"])
            resched = h.detail_events(ev, "rescheduled")
            assert len(resched) == 1, ev
            d = resched[0]["detail"]
            assert (d["from"], d["to"], d.get("copy")) == ("w1", "w2", "greet"), d
            copied = h.detail_events(ev, "artifact-copied")
            assert len(copied) == 1, ev
            assert copied[0]["node"] == "w2", copied
            assert copied[0]["detail"]["name"] == "greet", copied
            assert copied[0]["detail"]["files_sent"] == 2, copied
            assert copied[0]["id"] > resched[0]["id"], ev
            assert not h.detail_events(ev, "reschedule-failed"), ev
    finally:
        # A SIGKILLed worker leaves its apps running: ours to kill.
        for app in apps:
            _kill_pid(app["pid"])


def test_a_node_holding_the_artifact_is_preferred_to_a_copy(netns_cluster, tmp_path):
    c = netns_cluster
    progs = ap.build_greet_programs(tmp_path)
    for w in ("w1", "w2", "w3"):
        c.start_worker(w)
    c.wait_ready("w1", "w2", "w3", timeout=30)
    for w in ("w1", "w2"):
        ap.copy_json(c, w, progs.runpath_exe, "--name", "greet")
    apps = [_launch_artifact(c, "w1", "greet", [600], name="greet", restart="on-failure")
            for _ in range(2)]
    for app in apps:
        c.wait_state(app["id"], *RUNNING)

    c.kill_worker("w1")
    try:
        # Both go to w2, which holds it, though spreading alone would have
        # put one on w3.
        for app in apps:
            a = c.wait_app(app["id"], lambda a: a.get("node") != "w1"
                           and a.get("state") in RUNNING and isinstance(a.get("pid"), int)
                           and h.pid_alive(a["pid"]),
                           timeout=60, desc="app %s running off w1" % app["id"])
            assert a["node"] == "w2", a
            assert "copied" not in a["placement"], a
            ev = h.events(c, "?app=" + app["id"])
            assert [e["detail"].get("copy") for e in h.detail_events(ev, "rescheduled")] == [None], ev
            assert not h.detail_events(ev, "artifact-copied"), ev
        assert "greet" not in [x["name"] for x in ap.list_artifacts(c, "w3")]
    finally:
        for app in apps:
            _kill_pid(app["pid"])


def test_without_the_masters_copy_only_holders_are_considered(netns_cluster, tmp_path):
    c = netns_cluster
    result, apps = _greet_on_w1(c, tmp_path, 2)
    # As after an upgrade: the artifact was copied before the master kept
    # copies of what went through it.
    for digest in _file_hashes(result, "w1").values():
        os.remove(_master_copy(c, digest))

    c.kill_worker("w1")
    try:
        for app in apps:
            dead = c.wait_app(app["id"], lambda a: a.get("state") == "dead"
                              and "no node to move it to" in (a.get("cause") or ""),
                              timeout=60, desc="app %s dead, not moved" % app["id"])
            cause = dead["cause"]
            assert cause.startswith("lost: node unavailable; no node to move it to ("), dead
            assert "w2: no artifact greet, and the master keeps no copy of its files" in cause, dead
            assert dead["node"] == "w1", dead
            ev = h.events(c, "?app=" + app["id"])
            assert not h.detail_events(ev, "rescheduled"), ev
            assert not h.detail_events(ev, "artifact-copied"), ev
            assert len(h.detail_events(ev, "not-rescheduled")) == 1, ev
        assert "greet" not in [a["name"] for a in ap.list_artifacts(c, "w2")]
        assert not [a for a in c.apps() if a.get("node") == "w2"]
    finally:
        for app in apps:
            _kill_pid(app["pid"])


def test_delete_from_every_node_removes_the_masters_copy(netns_cluster, tmp_path):
    c = netns_cluster
    exe = ap.build_small_exe(tmp_path, "keepme")
    c.start_worker("w1")
    c.start_worker("w2")
    c.wait_ready("w1", "w2", timeout=30)
    _, result = ap.copy_json(c, "all", exe, "--name", "keepme")
    digest = _file_hashes(result, "w1")["keepme"]
    assert os.path.isfile(_master_copy(c, digest))

    # Still on w2: the master keeps its copy.
    c.cli("delete", "w1", "keepme")
    assert [(a["name"], a["node"]) for a in ap.list_artifacts(c)] == [("keepme", "w2")]
    assert os.path.isfile(_master_copy(c, digest))

    c.cli("delete", "w2", "keepme")
    assert ap.list_artifacts(c) == []
    assert not os.path.exists(_master_copy(c, digest))
    assert os.listdir(os.path.join(c.state_dir, "artifacts", "tmp")) == []

    # A copy afterwards goes through the master, which keeps it again.
    _, result = ap.copy_json(c, "w1", exe, "--name", "keepme")
    assert ap.statuses(result) == {"w1": {"keepme": "sent"}}, result
    assert os.path.isfile(_master_copy(c, digest))


@pytest.fixture
def tiny_dir(tmp_path):
    """A 2 MiB tmpfs, for a worker's --dir that fills up."""
    d = str(tmp_path / "tiny-tmpfs")
    os.makedirs(d)
    h.sh("mount", "-t", "tmpfs", "-o", "size=2m,mode=0755", "tmpfs", d)
    yield d
    # Lazily: the worker using it may outlive this fixture (the cluster
    # is closed after it).
    h.sh("umount", "-l", d)


def test_a_failed_copy_is_an_attempt_and_the_next_node_is_tried(netns_cluster, tmp_path,
                                                                 tiny_dir):
    c = netns_cluster
    progs = ap.build_greet_programs(tmp_path)
    blob = ap.write_random_file(str(tmp_path / "blob.bin"), 3 << 20)
    c.start_worker("w1")
    c.start_worker("w2", dir=tiny_dir)    # too small for the artifact
    c.start_worker("w3")
    c.wait_ready("w1", "w2", "w3", timeout=30)
    _, result = ap.copy_json(c, "w1", progs.runpath_exe, "--with", blob, "--name", "greet")
    assert set(ap.statuses(result)["w1"].values()) == {"sent"}, result
    # w3 looks busier than w2 (it reserves every cpu and most memory), so
    # w2 is tried first.
    w3 = h.by_name(c.nodes())["w3"]
    c.launch("w3", "/bin/sleep", ["600"], name="hog", cpu=w3["cpus"],
             mem_mb=w3["mem_total_kb"] // 1024 * 9 // 10)
    app = _launch_artifact(c, "w1", "greet", [600], name="greet", restart="on-failure")
    c.wait_state(app["id"], *RUNNING)

    c.kill_worker("w1")
    try:
        a = c.wait_app(app["id"], lambda a: a.get("node") == "w3"
                       and a.get("state") in RUNNING and isinstance(a.get("pid"), int)
                       and a["pid"] != app["pid"] and h.pid_alive(a["pid"]),
                       timeout=120, desc="app %s running on w3" % app["id"])
        # Two attempts: the copy to w2 (failed), then w3.
        assert a["reschedules"] == 2 and a["restarts"] == 2, a
        ap.wait_log_line(c, a["id"], ap.GREET_LINE + " on w3")
        ev = h.events(c, "?app=" + app["id"])
        moves = [(e["detail"]["from"], e["detail"]["to"], e["detail"].get("copy"))
                 for e in h.detail_events(ev, "rescheduled")]
        assert moves == [("w1", "w2", "greet"), ("w2", "w3", "greet")], ev
        failed = h.detail_events(ev, "reschedule-failed")
        assert len(failed) == 1 and failed[0]["detail"]["node"] == "w2", ev
        assert "space" in failed[0]["detail"]["error"].lower(), failed
        copied = h.detail_events(ev, "artifact-copied")
        assert [e["node"] for e in copied] == ["w3"], ev
        # Nothing half-installed on w2, and it does not list the artifact.
        h.wait_until(lambda: ap.store_tmp_entries(c, "w2") == [], desc="w2's store/tmp to empty")
        assert "greet" not in [x["name"] for x in ap.list_artifacts(c, "w2")]
        assert "greet" in [x["name"] for x in ap.list_artifacts(c, "w3")]
    finally:
        _kill_pid(app["pid"])
