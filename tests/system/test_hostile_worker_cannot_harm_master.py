"""A worker that joined with the real token and then sends garbage (mutated
copies of real messages: wrong types, huge values, ids a worker never
makes, replies to other nodes' requests, stray data frames; see
hostile-worker.c) while users launch, stop, kill, ask usage and logs of
its apps: the master neither crashes nor lists an app id no worker could
make, the honest worker's apps are untouched, and the master still
launches and stops cleanly."""

import http.client
import os
import random
import subprocess
import time

import drover_harness as h

SECONDS = 20
# util_name_valid(id, PROTO_APP_ID_MAX, PROTO_APP_ID_ALSO): what a worker makes.
ID_CHARS = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-")


def _valid_id(app_id):
    return (isinstance(app_id, str) and 0 < len(app_id) <= 128 and set(app_id) <= ID_CHARS
            and app_id not in (".", ".."))


def _hostile_worker_bin():
    path = os.path.join(os.path.dirname(h.drover_bin()), "hostile-worker")
    assert os.access(path, os.X_OK), "%s is not built beside drover" % path
    return path


def _call(cluster, method, path, body=None):
    """One REST call, not waited for long: the master holds a call to the
    hostile worker until its answer or the call's deadline, and a mangled
    answer is no answer. None if none came in 2 s or the body was cut
    short (a log stream the master ends on bad data)."""
    try:
        return cluster.api(method, path, body, timeout=2)[0]
    except (TimeoutError, http.client.IncompleteRead):
        return None


def _poke(cluster, rnd, on_evil):
    """One REST call that makes the master talk to the hostile worker."""
    action = rnd.randrange(7)
    if action == 0:
        _call(cluster, "POST", "/v1/apps", {"node": "evil", "path": "/bin/sleep", "args": ["60"]})
    elif action == 1:
        _call(cluster, "GET", "/v1/nodes/evil/usage")
    elif action == 2 and on_evil:
        _call(cluster, "POST", "/v1/apps/%s/stop" % rnd.choice(on_evil), {"timeout_s": 1})
    elif action == 3 and on_evil:
        _call(cluster, "POST", "/v1/apps/%s/signal" % rnd.choice(on_evil), {"signal": "SIGKILL"})
    elif action == 4 and on_evil:
        _call(cluster, "GET", "/v1/apps/%s/logs?tail=3" % rnd.choice(on_evil))
    elif action == 5:
        _call(cluster, "POST", "/v1/apps", {"node": "auto", "path": "/bin/true", "count": 2})
    else:
        _call(cluster, "GET", "/v1/apps?all=1")


def test_hostile_worker_cannot_harm_master(cluster):
    cluster.start_worker("w1")
    cluster.wait_ready("w1")
    honest = cluster.launch("w1", "/bin/sleep", ["600"], name="honest")
    cluster.wait_state(honest["id"], "sleeping")

    hostile = subprocess.Popen(
        [_hostile_worker_bin(), "tcp://%s" % cluster.join_addr,
         os.path.join(cluster.state_dir, "join.token"), "evil", str(SECONDS), "7"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    rnd = random.Random(7)
    calls, joined = 0, False
    try:
        while hostile.poll() is None:
            assert cluster.master.alive(), cluster.master.describe()
            # 404 until it has joined (and while a mangled hello is refused).
            status, apps = cluster.api("GET", "/v1/apps?node=evil&all=1")
            assert status in (200, 404), (status, apps)
            joined = joined or status == 200
            on_evil = [a["id"] for a in apps if isinstance(a, dict)
                       and _valid_id(a.get("id"))] if status == 200 else []
            _poke(cluster, rnd, on_evil)
            calls += 1
            time.sleep(0.05)
        out, err = hostile.communicate(timeout=h.CMD_TIMEOUT)
    finally:
        if hostile.poll() is None:
            hostile.kill()
            hostile.communicate()
    assert hostile.returncode == 0, (out, err)
    assert joined, "the hostile worker never joined: %s %s" % (out, err)
    assert calls > 0 and out.startswith("sent "), out

    assert cluster.master.alive(), cluster.master.describe()
    status, apps = cluster.api("GET", "/v1/apps?all=1")
    assert status == 200, apps
    bad = [a.get("id") for a in apps if not _valid_id(a.get("id"))]
    assert not bad, "listed ids no worker makes: %r" % [str(b)[:80] for b in bad][:5]
    ids = [a["id"] for a in apps]
    assert len(ids) == len(set(ids)), "an id listed twice"

    # The honest worker and its app are as they were, and still serve.
    cluster.wait_ready("w1")
    assert cluster.app(honest["id"])["pid"] == honest["pid"]
    assert cluster.app(honest["id"])["state"] in ("sleeping", "running")
    assert h.pid_alive(honest["pid"])
    again = cluster.launch("w1", "/bin/sleep", ["600"], name="after")
    cluster.wait_state(again["id"], "sleeping")
    cp = cluster.cli("stop", again["id"])
    assert cp.returncode == 0, cp
    assert cluster.stop_master() == 0, cluster.master.describe()
