"""Copying a 256 MiB artifact (a small program plus --with a 256 MiB file of
random bytes) to two workers in their own network namespaces streams it:
the master's and each worker's peak RSS (VmHWM) stay under 64 MiB, and
GET /v1/nodes, polled all along, never shows a node other than ready."""

import json
import os

import pytest

import artifact_progs as ap
import drover_harness as h

pytestmark = pytest.mark.netns

SIZE = 256 << 20
HWM_LIMIT_KB = 64 << 10

# Polls GET /v1/nodes every 100 ms until the stop file appears; prints
# "polling" after the first answer, then one JSON summary line.
_POLLER = r"""
import json, os, sys, time, urllib.request
url, token, stop = sys.argv[1:4]
polls, bad, errors = 0, [], []
while not os.path.exists(stop):
    req = urllib.request.Request(url + "/v1/nodes")
    req.add_header("Authorization", "Bearer " + token)
    try:
        with urllib.request.urlopen(req, timeout=5) as r:
            nodes = json.loads(r.read())
        for n in nodes:
            if n.get("state") != "ready":
                bad.append([time.time(), n.get("name"), n.get("state")])
        polls += 1
        if polls == 1:
            print("polling", flush=True)
    except Exception as e:
        errors.append([time.time(), repr(e)])
    time.sleep(0.1)
print(json.dumps({"polls": polls, "bad": bad, "errors": errors}), flush=True)
"""


def drover_pid(proc):
    """The pid of the drover process a harness Proc started (`ip netns exec`
    execs it in place, so normally proc.pid itself), or None."""
    want = os.path.realpath(h.drover_bin())
    for pid in [proc.pid] + h.proc_children(proc.pid):
        try:
            if os.path.realpath(os.readlink("/proc/%d/exe" % pid)) == want:
                return pid
        except OSError:
            pass
    return None


def test_copy_of_256_mib_keeps_memory_bounded(make_cluster, tmp_path):
    # Short heartbeats: a copy that starved them would show at once.
    c = make_cluster(mode="netns", heartbeat_ms=200)
    assert c.heartbeat_ms == 200
    exe = ap.build_small_exe(tmp_path, "bigdata-prog")
    data = ap.write_random_file(str(tmp_path / "blob.bin"), SIZE)
    c.start_worker("w1")
    c.start_worker("w2")
    c.wait_ready("w1", "w2", timeout=30)

    stop = str(tmp_path / "stop-polling")
    poller = ap.master_python(c, _POLLER, c.api_url, c.admin_token, stop)
    try:
        first = poller.stdout.readline()
        assert first.strip() == "polling", (first, poller.stderr.read() if poller.poll() is not None else "")
        cp, result = ap.copy_json(c, "all", exe, "--with", data, "--name", "bigdata",
                                  timeout=600)
    finally:
        with open(stop, "w"):
            pass
        status, out, err = ap.finish(poller)
    summary = json.loads(out.strip().splitlines()[-1])
    assert summary["polls"] > 0, summary
    assert summary["bad"] == [], "a node turned non-ready during the copy: %s" % summary["bad"][:10]
    assert summary["errors"] == [], "GET /v1/nodes failed during the copy: %s" % summary["errors"][:10]

    st = ap.statuses(result)
    assert st == {n: {"bigdata-prog": "sent", "blob.bin": "sent"} for n in ("w1", "w2")}, result
    data_hash = ap.blake2b_256(data)
    for node in ("w1", "w2"):
        assert data_hash in ap.store_files(c, node)
        installed = os.path.join(ap.artifact_dir(c, node, "bigdata"), "lib", "blob.bin")
        assert os.path.getsize(installed) == SIZE
        assert ap.store_tmp_entries(c, node) == []

    # Peak resident memory of every drover process the harness started.
    hwm = {}
    for node in ("w1", "w2"):
        pid = drover_pid(c.workers[node])
        assert pid is not None, "no drover process for worker %s" % node
        hwm[node] = h.vm_hwm_kb(pid)
    mpid = drover_pid(c.master)
    assert mpid is not None, "cannot find the master's drover process (started as %s)" % c.master.argv
    hwm["master"] = h.vm_hwm_kb(mpid)
    print("VmHWM kB: %s; %d polls of GET /v1/nodes" % (hwm, summary["polls"]))
    over = {k: v for k, v in hwm.items() if v >= HWM_LIMIT_KB}
    assert not over, "VmHWM (kB) at or over %d kB: %s" % (HWM_LIMIT_KB, hwm)

    # Still ready, and the copied program runs.
    c.wait_ready("w1", "w2")
    app_id, _ = ap.launch_artifact(c, "w1", "bigdata")
    ap.wait_log_line(c, app_id, "tiny")
