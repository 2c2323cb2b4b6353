"""POST /v1/apps with "count" on a named node starts that many instances,
each its own app exactly as if launched alone: ids from the name's counter
in order (NAME-k, NAME-k+1, ...), its own live process, its own record
(GET /v1/apps/ID, ps), its own `launched` event and its own count in the
metrics. The answer is {"apps": [...]} in instance order, 201 when all
started, and a count of 1 answers in that form too."""

import re

import drover_harness as h

N = 4


def _launches_total(c):
    status, text = c.api("GET", "/metrics")
    assert status == 200, (status, text)
    m = re.search(r"^drover_launches_total (\d+)$", text, re.M)
    assert m, text
    return int(m.group(1))


def test_launch_count_starts_each_instance(cluster):
    c = cluster
    c.start_worker("w1")
    c.wait_ready("w1")
    # One alone first: the instances continue its name's counter.
    first = c.launch("w1", "/bin/sleep", ["600"], name="pool")
    assert first["id"] == "pool-1", first
    launches = _launches_total(c)

    status, reply = c.api("POST", "/v1/apps", {"node": "w1", "path": "/bin/sleep",
                                               "args": ["600"], "name": "pool", "count": N})
    assert status == 201, (status, reply)
    assert set(reply) == {"apps"}, reply
    apps = reply["apps"]
    for a in apps:
        c.track_app(a)
    ids = ["pool-%d" % k for k in range(2, 2 + N)]
    assert [a["id"] for a in apps] == ids, apps
    for a in apps:
        assert h.APP_FIELDS <= set(a), a
        assert a["node"] == "w1" and a["name"] == "pool" and a["args"] == ["600"], a
        assert a["cause"] is None and isinstance(a["pid"], int), a
    pids = [a["pid"] for a in apps]
    assert len(set(pids + [first["pid"]])) == N + 1, pids
    assert all(h.pid_alive(p) for p in pids), pids

    for app_id, pid in zip(ids, pids):
        got = c.wait_state(app_id, "sleeping")
        assert got["pid"] == pid and got["node"] == "w1", got

    rows = h.ps_rows(c.cli("ps").stdout)
    assert set(ids) <= set(rows), rows
    assert [rows[i]["pid"] for i in ids] == [str(p) for p in pids], rows
    assert all(rows[i]["state"] == "sleeping" and rows[i]["node"] == "w1" for i in ids), rows

    for app_id in ids:
        launched = h.detail_events(h.events(c, "?app=" + app_id), "launched")
        assert len(launched) == 1 and launched[0]["node"] == "w1", launched
    assert _launches_total(c) == launches + N

    # A count of 1 is one launch, answered in the count's form.
    status, reply = c.api("POST", "/v1/apps", {"node": "w1", "path": "/bin/sleep",
                                               "args": ["600"], "name": "pool", "count": 1})
    assert status == 201 and [a["id"] for a in reply["apps"]] == ["pool-6"], (status, reply)
    c.track_app(reply["apps"][0])
    assert h.pid_alive(reply["apps"][0]["pid"]), reply

    for app_id in ["pool-1"] + ids + ["pool-6"]:
        c.cli("kill", app_id)
    for app_id in ["pool-1"] + ids + ["pool-6"]:
        c.wait_dead(app_id)
