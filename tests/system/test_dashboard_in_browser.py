"""The web dashboard at /ui/, in a real browser (Debian's chromium, headless,
driven by playwright-core from tests/e2e/): log in with the admin token, see
the nodes, open an app that burns CPU, see its CPU and memory charts draw
points and its log follow live, stop it through the button and its
confirmation, see it dead with its cause. Also: the static files are served
without a token but hold nothing secret, with headers that keep the page to
its own origin, while every data call still needs the token.

Needs `make deps` (the chromium package, and `npm ci` in tests/e2e); skipped,
saying which is missing, without them.
"""

import http.client
import json
import os
import shutil
import urllib.parse

import pytest

import drover_harness as h

E2E_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "e2e")
SCRIPT = os.path.join(E2E_DIR, "dashboard.mjs")
CHROMIUM = "/usr/bin/chromium"
# The browser script's own waits are 90 s each at most; this bounds the whole.
BROWSER_TIMEOUT = 600

# Half of each 0.4 s round spent computing, so the CPU chart has something
# to show without taking a whole core of a shared machine; one line a round.
BURNER = r"""
import time
n = 0
while True:
    t = time.monotonic()
    while time.monotonic() - t < 0.2:
        pass
    n += 1
    print("tick %d" % n, flush=True)
    time.sleep(0.2)
"""


def _missing_tools():
    node = shutil.which("node")
    if node is None:
        return "node is not installed (make deps)"
    if not os.access(CHROMIUM, os.X_OK):
        return "%s is not installed (make deps installs Debian's chromium)" % CHROMIUM
    if not os.path.isfile(os.path.join(E2E_DIR, "node_modules", "playwright-core", "package.json")):
        return "tests/e2e/node_modules is missing (make deps runs npm ci there)"
    return None


def _get(url, headers=None):
    """GET without following redirects: (status, headers, body bytes)."""
    u = urllib.parse.urlsplit(url)
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=10)
    try:
        conn.request("GET", u.path + ("?" + u.query if u.query else ""), headers=headers or {})
        r = conn.getresponse()
        return r.status, {k.lower(): v for k, v in r.getheaders()}, r.read()
    finally:
        conn.close()


def _check_static_files(cluster):
    """/ui/ needs no token, carries no secret, and sends the right headers;
    data needs the token."""
    base = cluster.api_url
    secrets = [cluster.admin_token, cluster.token, cluster.token.rsplit(".", 1)[-1]]

    status, headers, _ = _get(base + "/ui")
    assert status == 301 and headers.get("location") == "/ui/", (status, headers)

    for path, ctype in (("/ui/", "text/html"), ("/ui/index.html", "text/html"),
                        ("/ui/app.js", "text/javascript"), ("/ui/style.css", "text/css")):
        status, headers, body = _get(base + path)
        assert status == 200, (path, status, body[:200])
        assert headers["content-type"].startswith(ctype), (path, headers)
        assert headers.get("cache-control") == "no-cache", (path, headers)
        assert headers.get("x-content-type-options") == "nosniff", (path, headers)
        csp = headers.get("content-security-policy", "")
        assert "default-src 'none'" in csp and "script-src 'self'" in csp \
            and "connect-src 'self'" in csp, (path, csp)
        assert "unsafe-inline" not in csp and "http" not in csp, (path, csp)
        text = body.decode()
        for s in secrets:
            assert s not in text, "%s contains a secret" % path
        # Nothing from elsewhere: no remote scripts, styles or fonts.
        assert "http://" not in text.replace("http://www.w3.org/2000/svg", "") \
            and "https://" not in text, path
        # Revalidation is cheap: the ETag gets a 304.
        status, _, body = _get(base + path, {"If-None-Match": headers["etag"]})
        assert status == 304 and body == b"", (path, status)

    status, headers, body = _get(base + "/ui/no-such-file.js")
    assert status == 404 and json.loads(body)["error"], (status, body)
    status, _, body = _get(base + "/ui/..%2fmetrics")
    assert status == 404, (status, body)
    status, body = cluster.api("POST", "/ui/", {"x": 1}, token=None)
    assert status == 405 and body["error"], (status, body)

    # The page is open to anyone; what it shows is not.
    for path in ("/v1/nodes", "/v1/apps?all=1"):
        status, body = cluster.api("GET", path, token=None)
        assert status == 401 and body["error"], (path, status, body)
    status, body = cluster.api("GET", "/v1/nodes", token="not-the-admin-token")
    assert status == 401, (status, body)


def test_dashboard_in_browser(cluster, tmp_path):
    missing = _missing_tools()
    if missing:
        pytest.skip(missing)

    # Sampling every second, so the charts have points within seconds.
    cluster.start_worker("w1", extra_args=["--sample-interval", "1s"])
    cluster.wait_ready("w1")
    burn = cluster.launch("w1", "/usr/bin/python3", ["-c", BURNER], name="burn")
    idle = cluster.launch("w1", "/bin/sleep", ["600"], name="idle")
    cluster.wait_state(burn["id"], "running", "sleeping")

    _check_static_files(cluster)

    out = tmp_path / "browser"
    env = dict(os.environ, DROVER_URL=cluster.api_url, DROVER_TOKEN=cluster.admin_token,
               DROVER_NODE="w1", DROVER_APP=burn["id"], DROVER_OTHER_APP=idle["id"],
               DROVER_OUT=str(out))
    cp = h.run(["node", SCRIPT], env=env, timeout=BROWSER_TIMEOUT)
    lines = cp.stdout.strip().splitlines()
    try:
        summary = json.loads(lines[-1])
    except (IndexError, ValueError):
        summary = {}
    print("browser steps:\n" + cp.stderr)
    for key, what in (("screenshot", "the app page"), ("screenshot_cluster", "the cluster"),
                      ("screenshot_many", "1,000 apps")):
        if summary.get(key):
            print("screenshot of %s: %s" % (what, summary[key]))
    assert cp.returncode == 0 and summary.get("ok"), \
        "browser test failed (status %d):\n%s\n%s" % (
            cp.returncode, json.dumps(summary, indent=1), cp.stderr)

    # What the page showed is what the API says.
    app = cluster.wait_dead(burn["id"])
    assert app["cause"] and summary["cause"] == app["cause"], (summary, app)
    assert summary["cpu_points"] >= 2 and summary["mem_points"] >= 2, summary
    assert os.path.getsize(summary["screenshot"]) > 0
    # The idle app was never touched.
    assert cluster.app(idle["id"])["state"] != "dead"
