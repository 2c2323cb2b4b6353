"""A launch with "count" of a program that cannot be executed: 422, as a
single launch, with every instance in the answer as its dead app whose
cause says why, and "error": "N of N launches failed: exec failed: ...".
Each is listed dead with that cause. A worker's refusal (400) lists each
instance as {"id", "error"} and records none of them."""

import drover_harness as h

CAUSE = "exec failed: No such file or directory"


def test_launch_count_exec_failure_lists_every_instance(cluster):
    c = cluster
    c.start_worker("w1")
    c.wait_ready("w1")

    status, reply = c.api("POST", "/v1/apps", {"node": "w1", "path": "/nonexistent/program",
                                               "name": "missing", "count": 3})
    assert status == 422, (status, reply)
    assert reply["error"] == "3 of 3 launches failed: " + CAUSE, reply
    ids = ["missing-1", "missing-2", "missing-3"]
    assert [a["id"] for a in reply["apps"]] == ids, reply
    for a in reply["apps"]:
        assert h.APP_FIELDS <= set(a), a
        assert a["state"] == "dead" and a["cause"] == CAUSE and a["pid"] is None, a
    for app_id in ids:
        listed = c.app(app_id)
        assert listed["state"] == "dead" and listed["cause"] == CAUSE, listed
    rows = h.ps_rows(c.cli("ps").stdout)
    assert all(rows[i]["state"] == "dead" and rows[i]["cause"] == CAUSE for i in ids), rows

    # Refused by the worker (too many args): 400, no instance kept.
    status, reply = c.api("POST", "/v1/apps", {"node": "w1", "path": "/bin/true",
                                               "name": "refused", "args": ["x"] * 4097,
                                               "count": 2})
    assert status == 400, (status, reply)
    assert [a["id"] for a in reply["apps"]] == ["refused-1", "refused-2"], reply
    assert all(set(a) == {"id", "error"} for a in reply["apps"]), reply
    assert reply["error"] == "2 of 2 launches failed: " + reply["apps"][0]["error"], reply
    assert not [a for a in c.apps() if a["name"] == "refused"], c.apps()
