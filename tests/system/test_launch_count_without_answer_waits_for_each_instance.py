"""A launch with "count" to a worker that stops answering (SIGSTOP after it
was seen ready): the request stays parked until every instance has its
outcome, here the node's loss, then answers once with each instance as
{"id", "error"} and the status a launch alone would get (503 when the node
was lost, 504 had the deadline come first). The instances stay listed,
lost with their node; the worker, let go on, joins again."""

import signal

import drover_harness as h


def test_launch_count_without_answer_waits_for_each_instance(cluster):
    c = cluster
    c.start_worker("w1")
    c.wait_ready("w1")
    w1 = c.workers["w1"]
    w1.send_signal(signal.SIGSTOP)
    try:
        status, reply = c.api("POST", "/v1/apps", {"node": "w1", "path": "/bin/sleep",
                                                   "args": ["600"], "name": "mute",
                                                   "count": 3})
    finally:
        w1.send_signal(signal.SIGCONT)
    if status == 409:
        # The node was judged lost before the request came: nothing sent.
        assert "w1 is unavailable" in reply["error"], reply
        assert c.apps() == [], c.apps()
        return
    assert status in (503, 504), (status, reply)
    ids = ["mute-1", "mute-2", "mute-3"]
    assert [a["id"] for a in reply["apps"]] == ids, reply
    assert all(set(a) == {"id", "error"} for a in reply["apps"]), reply
    first = reply["apps"][0]["error"]
    assert reply["error"] == "3 of 3 launches failed: " + first, reply
    if status == 503:
        assert first == "the node became unavailable", reply
    # Recorded before they were sent: listed, and never silently dropped.
    listed = {a["id"]: a for a in c.apps()}
    assert set(ids) <= set(listed), listed
    c.wait_ready("w1", timeout=30)
