"""A launch with "count" to a named node is checked once, before anything
is sent or recorded: an unavailable node is 409, an unknown one 404, an
artifact the node lacks 404; the CLI exits 1 with the one error line."""

import signal

import drover_harness as h


def test_launch_count_on_unavailable_node_is_refused(cluster):
    c = cluster
    c.start_worker("w1")
    c.start_worker("w2")
    c.wait_ready("w1", "w2")
    c.kill_worker("w2", signal.SIGKILL)
    c.wait_nodes(lambda nodes: h.by_name(nodes)["w2"]["state"] == "unavailable",
                 desc="w2 unavailable")

    status, reply = c.api("POST", "/v1/apps", {"node": "w2", "path": "/bin/sleep",
                                               "args": ["600"], "count": 3})
    assert status == 409, (status, reply)
    assert reply == {"error": "node w2 is unavailable"}, reply
    cp = c.cli("launch", "w2", "/bin/sleep", "--count", "3", "--", "600", check=False)
    assert cp.returncode == 1 and cp.stdout == "", cp
    assert cp.stderr == "drover: node w2 is unavailable\n", cp

    status, reply = c.api("POST", "/v1/apps", {"node": "nosuchnode", "path": "/bin/true",
                                               "count": 2})
    assert status == 404 and "no such node: nosuchnode" in reply["error"], (status, reply)
    status, reply = c.api("POST", "/v1/apps", {"node": "w1", "artifact": "nosuchtool",
                                               "count": 2})
    assert status == 404 and "no artifact named 'nosuchtool' on w1" in reply["error"], reply

    # Nothing was recorded or sent for any of them.
    assert c.apps() == [], c.apps()
    assert h.detail_events(h.events(c), "launched") == []
    # The counter was not touched either: the next launch is the first.
    reply = c.launch("w1", "/bin/sleep", ["600"])
    assert reply["id"] == "sleep-1", reply
