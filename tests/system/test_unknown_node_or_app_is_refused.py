"""Commands naming a node or app that does not exist exit 1 with a clear
message (404 over REST); a launch on an unavailable node is refused (409)."""

import signal

import drover_harness as h


def test_unknown_node_or_app_is_refused(cluster):
    cluster.start_worker("w1")
    cluster.wait_ready("w1")
    for args, what in ((["launch", "nosuchnode", "/bin/true"], "nosuchnode"),
                       (["ps", "nosuchnode"], "nosuchnode"),
                       (["ps", "nosuchapp-1"], "nosuchapp-1"),
                       (["usage", "nosuchnode"], "nosuchnode"),
                       (["stop", "nosuchapp-1"], "nosuchapp-1"),
                       (["kill", "nosuchapp-1"], "nosuchapp-1"),
                       (["logs", "nosuchapp-1"], "nosuchapp-1")):
        for json_flag in ([], ["--json"]):
            cp = cluster.cli(*(args + json_flag), check=False)
            assert cp.returncode == 1, cp
            assert what in cp.stderr and "no such" in cp.stderr, cp
            assert len(cp.stderr.strip().splitlines()) == 1, cp

    for method, path, body in (("POST", "/v1/apps", {"node": "nosuchnode", "path": "/bin/true"}),
                               ("GET", "/v1/nodes/nosuchnode/usage", None),
                               ("GET", "/v1/apps/nosuchapp-1", None),
                               ("POST", "/v1/apps/nosuchapp-1/stop", {}),
                               ("POST", "/v1/apps/nosuchapp-1/signal", {"signal": "SIGKILL"}),
                               ("GET", "/v1/apps/nosuchapp-1/logs", None)):
        status, reply = cluster.api(method, path, body)
        assert status == 404, (method, path, status, reply)
        assert isinstance(reply, dict) and "no such" in reply.get("error", ""), reply


def test_launch_on_unavailable_node_is_refused(cluster):
    cluster.start_worker("w1")
    cluster.start_worker("w2")
    cluster.wait_ready("w1", "w2")
    cluster.kill_worker("w2", signal.SIGKILL)
    cluster.wait_nodes(lambda nodes: h.by_name(nodes)["w2"]["state"] == "unavailable",
                       desc="w2 unavailable")
    cp = cluster.cli("launch", "w2", "/bin/sleep", "--", "600", check=False)
    assert cp.returncode == 1, cp
    assert "unavailable" in cp.stderr, cp
    status, reply = cluster.api("POST", "/v1/apps", {"node": "w2", "path": "/bin/sleep",
                                                     "args": ["600"]})
    assert status == 409, (status, reply)
    assert "unavailable" in reply["error"], reply
    # Nothing was recorded for the refused launches.
    assert not [a for a in cluster.apps() if a["node"] == "w2"], cluster.apps()
