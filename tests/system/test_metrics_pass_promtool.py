"""GET /metrics is valid Prometheus text (promtool says so), holds the nodes,
the apps and the master's counters, and needs a token."""
import shutil
import subprocess
import urllib.error
import urllib.request

import pytest


def _metrics(cluster, token):
    req = urllib.request.Request(cluster.api_url + "/metrics")
    if token is not None:
        req.add_header("Authorization", "Bearer " + token)
    with urllib.request.urlopen(req, timeout=10) as r:
        return r.status, r.headers.get("Content-Type"), r.read().decode()


def test_metrics_pass_promtool(cluster):
    promtool = shutil.which("promtool")
    if promtool is None:
        pytest.fail("promtool is missing: make deps installs Debian's prometheus")
    cluster.start_worker("w1")
    cluster.wait_ready("w1")
    app = cluster.launch("w1", "/bin/sleep", ["600"], name="napper")
    status, _ = cluster.api("POST", "/v1/apps", {"node": "w1", "path": "/nonexistent"})
    assert status == 422

    with pytest.raises(urllib.error.HTTPError) as e:
        _metrics(cluster, None)
    assert e.value.code == 401

    status, ctype, text = _metrics(cluster, cluster.admin_token)
    assert status == 200 and ctype.startswith("text/plain; version=0.0.4"), ctype
    check = subprocess.run([promtool, "check", "metrics"], input=text,
                           capture_output=True, text=True, timeout=60)
    assert check.returncode == 0, check.stdout + check.stderr

    assert 'drover_node_up{node="w1"} 1' in text
    assert 'drover_app_up{app="%s",node="w1"} 1' % app["id"] in text
    assert 'drover_app_max_resident_memory_bytes{app="%s",node="w1"}' % app["id"] in text
    assert 'drover_api_requests_total{method="POST",endpoint="/v1/apps",code="422"} 1' in text
    assert "drover_api_request_duration_seconds_bucket{" in text
    heartbeats = [l for l in text.splitlines()
                  if l.startswith("drover_heartbeats_received_total ")]
    assert len(heartbeats) == 1 and int(heartbeats[0].split()[1]) > 0, heartbeats
    assert "drover_launches_total 2" in text
    assert "drover_launch_failures_total 1" in text
