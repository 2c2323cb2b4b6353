"""REST: /healthz is open; /v1 needs the admin token; unknown paths are 404."""


def _is_error(body):
    return isinstance(body, dict) and isinstance(body.get("error"), str) and body["error"]


def test_healthz_needs_no_token(cluster):
    status, body = cluster.api("GET", "/healthz", token=None)
    assert status == 200 and body == {"status": "ok"}, (status, body)


def test_nodes_without_token_is_401(cluster):
    status, body = cluster.api("GET", "/v1/nodes", token=None)
    assert status == 401 and _is_error(body), (status, body)


def test_nodes_with_wrong_token_is_401(cluster):
    status, body = cluster.api("GET", "/v1/nodes", token="not-the-admin-token")
    assert status == 401 and _is_error(body), (status, body)
    status, body = cluster.api("GET", "/v1/nodes/w1", token="not-the-admin-token")
    assert status == 401 and _is_error(body), (status, body)


def test_nodes_with_token_is_200(cluster):
    status, body = cluster.api("GET", "/v1/nodes")
    assert status == 200 and body == [], (status, body)


def test_unknown_path_is_404(cluster):
    status, body = cluster.api("GET", "/no/such/path")
    assert status == 404 and _is_error(body), (status, body)
    status, body = cluster.api("GET", "/v1/nosuchthing")
    assert status == 404 and _is_error(body), (status, body)


def test_unknown_node_is_404(cluster):
    status, body = cluster.api("GET", "/v1/nodes/nosuchnode")
    assert status == 404 and _is_error(body), (status, body)
