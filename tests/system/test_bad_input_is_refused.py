"""Bad input to every REST endpoint is refused with a 4xx and a JSON
{"error": ...}, and changes nothing: apps, artifacts and nodes read the same
before and after (volatile load fields aside), and the worker's store holds
no leftover.  Requests are written byte by byte on a raw socket (http.client
would refuse some of them) and the answer is parsed with http.client.

The CLI's usage errors exit 2 and launch nothing."""

import hashlib
import http.client
import json
import os
import socket
import subprocess

import pytest

import drover_harness as h

MIB = 1024 * 1024
HASH_A = "ab" * 32           # a well-formed hash no file has
HASH_B = "cd" * 32
X10 = b"x" * 10
X10_HASH = hashlib.blake2b(X10, digest_size=32).hexdigest()  # BLAKE2b-256, as drover
# Fields that change on their own between two reads.
# Fields the heartbeats refresh on their own: a node's "apps" is the live
# count its last heartbeat reported, so it may lag a launch made just before.
VOLATILE = {"last_seen_ms", "cpu_pct", "mem_pct", "cpu_user_ms", "cpu_sys_ms", "max_rss_kb",
            "apps", "health"}


# ---- the cluster every case runs against ---------------------------------------

class World:
    """A master, one worker w1, a live app and an artifact, shared by the
    cases of this module and repaired before each case if a case (wrongly)
    changed them."""

    def __init__(self, cluster):
        self.c = cluster
        self.app_id = None

    # -- resources the cases point at

    def ensure(self):
        """Start what is missing: a case that crashed the master has already
        failed; the next case gets a master again (same state dir)."""
        c = self.c
        if not c.master.alive():
            c.start_master()
        if not c.workers["w1"].alive():
            c.start_worker("w1")
        c.wait_ready("w1")
        app = None
        if self.app_id is not None:
            app = c.app(self.app_id)
        if app is None or app["state"] == "dead":
            app = c.launch("w1", "/bin/sleep", ["600"], name="target")
            self.app_id = app["id"]
            c.wait_state(self.app_id, "sleeping")
        status, arts = c.api("GET", "/v1/artifacts")
        if not any(a.get("name") == "tool" for a in arts):
            c.cli("copy", "w1", "/bin/true", "--name", "tool")

    def fresh_upload(self, size=10, name="probe", hash=HASH_A):
        """An upload session announcing one file of `size` bytes (never
        committed: it changes no listed state)."""
        status, reply = self.c.api("POST", "/v1/artifacts", {
            "name": name, "node": "w1",
            "files": [{"name": name, "hash": hash, "size": size, "kind": "exe", "mode": 0o755}]})
        assert status == 200 and reply["needed"] == [hash], (status, reply)
        return reply["upload"]

    # -- state

    def snapshot(self):
        def clean(items):
            out = []
            for item in items:
                item = {k: v for k, v in item.items() if k not in VOLATILE}
                if item.get("state") in ("running", "sleeping"):
                    item["state"] = "live"
                out.append(item)
            return sorted(out, key=lambda i: json.dumps(i, sort_keys=True))

        state = {}
        for path in ("/v1/apps?all=1", "/v1/artifacts", "/v1/nodes"):
            status, body = self.c.api("GET", path)
            assert status == 200 and isinstance(body, list), (path, status, body)
            state[path] = clean(body)
        return state

    def store_listing(self):
        """Files under the worker's store and artifacts directories."""
        root = self.c.worker_dirs["w1"]
        found = []
        for sub in ("store", "artifacts"):
            for dirpath, dirnames, filenames in os.walk(os.path.join(root, sub)):
                for name in dirnames + filenames:
                    found.append(os.path.relpath(os.path.join(dirpath, name), root))
        return sorted(found)

    # -- raw HTTP

    def raw(self, method, target, body=None, token=True, headers=()):
        """Send one request exactly as given; return (status, body bytes)."""
        if isinstance(target, str):
            target = target.encode()
        lines = [method.encode() + b" " + target + b" HTTP/1.1", b"Host: 127.0.0.1",
                 b"Connection: close"]
        if token:
            lines.append(b"Authorization: Bearer " + self.c.admin_token.encode())
        if body is not None:
            if isinstance(body, str):
                body = body.encode()
            lines.append(b"Content-Type: application/json")
            lines.append(b"Content-Length: %d" % len(body))
        lines += [h_.encode() for h_ in headers]
        data = b"\r\n".join(lines) + b"\r\n\r\n" + (body or b"")
        with socket.create_connection(("127.0.0.1", self.c.api_port), timeout=30) as s:
            try:
                s.sendall(data)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the server may answer before reading everything
            resp = http.client.HTTPResponse(s, method=method)
            resp.begin()
            return resp.status, resp.read()


@pytest.fixture(scope="module")
def world(tmp_path_factory, drover_bin):
    c = h.Cluster(tmp_path_factory.mktemp("badinput"), name="bad")
    w = World(c)
    try:
        c.start_master()
        c.start_worker("w1")
        w.ensure()
        yield w
        # Whatever the bad input did, both daemons still stop cleanly (and,
        # under the sanitizers, report no leak or error).
        for proc in (c.workers["w1"], c.master):
            assert proc.alive(), proc.describe()
            proc.send_signal(15)
            status = proc.wait_exit()
            assert status == 0, "%s exited %s on SIGTERM\n%s" % (proc.name, status, proc.describe())
    finally:
        c.close()


@pytest.fixture
def w(world, request):
    request.node._drover_clusters = [world.c]
    world.ensure()
    return world


# ---- the cases -------------------------------------------------------------------
#
# Each case is (id, function world -> (method, target, body[, token])).
# A body is bytes/str sent as is, or a Python value sent as JSON.

def _j(value):
    return json.dumps(value)


def _app(w):
    return w.app_id


def _launch(**fields):
    base = {"node": "w1", "path": "/bin/true"}
    base.update(fields)
    return _j({k: v for k, v in base.items() if v is not _DROP})


_DROP = object()
LONG = "A" * 8000

CASES = []


def case(cid, fn):
    CASES.append(pytest.param(fn, id=cid))


# POST /v1/apps
for cid, body in [
        ("empty-body", ""),
        ("invalid-json", "{"),
        ("truncated-json", '{"node": "w1", "path": '),
        ("trailing-garbage", '{"node":"w1","path":"/bin/true"} x'),
        ("not-utf8", b'{"node":"w1","path":"/bin/\xff\xfe"}'),
        ("nul-escape-in-string", '{"node":"w1","path":"/bin/true\\u0000x"}'),
        ("duplicate-key", '{"node":"w1","node":"w1","path":"/bin/true"}'),
        ("nan", '{"node":"w1","path":"/bin/true","log_max":NaN}'),
        ("deep-nesting", "[" * 5000 + "]" * 5000),
        ("array-body", "[]"),
        ("string-body", '"w1"'),
        ("null-body", "null"),
        ("missing-node", _launch(node=_DROP)),
        ("missing-path-and-artifact", _launch(path=_DROP)),
        ("path-and-artifact", _launch(artifact="tool")),
        ("unknown-field", _launch(nodes="w1")),
        ("node-int", _launch(node=1)),
        ("path-int", _launch(path=5)),
        ("path-relative", _launch(path="bin/true")),
        ("path-dotdot", _launch(path="../../bin/true")),
        ("args-string", _launch(args="-c true")),
        ("args-int-item", _launch(args=["ok", 1])),
        # Refused by the worker, not the master: the record of the launch,
        # made before the worker answered, goes again.
        ("args-too-many", _launch(args=["x"] * 4097)),
        ("env-array", _launch(env=["A=B"])),
        ("env-int-value", _launch(env={"A": 1})),
        ("env-key-with-eq", _launch(env={"A=B": "x"})),
        ("env-empty-key", _launch(env={"": "x"})),
        ("cwd-int", _launch(cwd=7)),
        ("cwd-relative", _launch(cwd="../tmp")),
        ("name-object", _launch(name={})),
        ("log-max-string", _launch(log_max="big")),
        ("log-max-too-small", _launch(log_max=1)),
        ("log-max-float", _launch(log_max=65536.5)),
        ("log-keep-too-big", _launch(log_keep=99)),
        ("log-keep-negative", _launch(log_keep=-1)),
        ("node-unknown", _launch(node="nosuchnode")),
        ("node-dotdot", _launch(node="../w1")),
        ("node-very-long", _launch(node=LONG)),
        ("artifact-dotdot", _launch(path=_DROP, artifact="../tool")),
        ("artifact-absolute", _launch(path=_DROP, artifact="/bin/true")),
        ("artifact-unknown", _launch(path=_DROP, artifact="nosuchtool")),
        ("count-zero", _launch(count=0)),
        ("count-too-big", _launch(count=1001)),
        ("count-negative", _launch(count=-1)),
        ("count-string", _launch(count="3")),
        ("count-float", _launch(count=2.5)),
        ("count-bool", _launch(count=True)),
        ("count-null", _launch(count=None)),
        ("count-array", _launch(count=[2])),
        # Checked once for all instances, before any is sent.
        ("count-node-unknown", _launch(node="nosuchnode", count=3)),
        ("count-artifact-unknown", _launch(path=_DROP, artifact="nosuchtool", count=3)),
        ("count-cwd-relative", _launch(cwd="tmp", count=3)),
        # Refused by the worker, each instance: every record goes again.
        ("count-args-too-many", _launch(args=["x"] * 4097, count=3)),
]:
    case("POST-apps-" + cid, lambda w, b=body: ("POST", "/v1/apps", b))

# GET /v1/apps, GET /v1/apps/ID
case("GET-apps-unknown-node", lambda w: ("GET", "/v1/apps?node=nosuchnode", None))
case("GET-apps-node-dotdot", lambda w: ("GET", "/v1/apps?node=..%2Fw1", None))
for cid, target in [
        ("unknown", "/v1/apps/nosuchapp-1"),
        ("dotdot-encoded", "/v1/apps/..%2F..%2Fetc%2Fpasswd"),
        ("dotdot", "/v1/apps/../../etc/passwd"),
        ("absolute", "/v1/apps//etc/passwd"),
        ("very-long", "/v1/apps/" + LONG),
]:
    case("GET-app-" + cid, lambda w, t=target: ("GET", t, None))
case("GET-app-nul", lambda w: ("GET", "/v1/apps/%s%%00x" % w.app_id, None))
case("GET-app-raw-nul", lambda w: ("GET", b"/v1/apps/" + w.app_id.encode() + b"\x00x", None))

# POST /v1/apps/ID/stop and /signal: the body is checked on a live app.
for cid, body in [
        ("invalid-json", "{"),
        ("array-body", "[10]"),
        ("timeout-string", _j({"timeout_s": "5"})),
        ("timeout-negative", _j({"timeout_s": -1})),
        ("timeout-too-big", _j({"timeout_s": 3601})),
        ("timeout-float", _j({"timeout_s": 1.5})),
        ("unknown-field", _j({"timeout_s": 5, "signal": "SIGKILL"})),
]:
    case("POST-stop-" + cid, lambda w, b=body: ("POST", "/v1/apps/%s/stop" % w.app_id, b))
for cid, body in [
        ("invalid-json", "{signal: SIGKILL}"),
        ("null-body", "null"),
        ("signal-int", _j({"signal": 9})),
        ("signal-unknown", _j({"signal": "SIGFOO"})),
        ("signal-empty", _j({"signal": ""})),
        ("signal-zero", _j({"signal": "0"})),
        ("signal-nul", '{"signal":"SIGCONT\\u0000KILL"}'),
        ("unknown-field", _j({"signal": "SIGCONT", "timeout_s": 1})),
]:
    case("POST-signal-" + cid, lambda w, b=body: ("POST", "/v1/apps/%s/signal" % w.app_id, b))
for verb, body in (("stop", _j({"timeout_s": 1})), ("signal", _j({"signal": "SIGKILL"}))):
    for cid, fn in [
            ("unknown", lambda w: "nosuchapp-1"),
            ("dotdot-encoded", lambda w: "..%2F" + w.app_id),
            ("very-long", lambda w: LONG),
            ("nul", lambda w: w.app_id + "%00x"),
    ]:
        case("POST-%s-id-%s" % (verb, cid),
             lambda w, f=fn, v=verb, b=body: ("POST", "/v1/apps/%s/%s" % (f(w), v), b))

# GET /v1/apps/ID/logs
for cid, query in [("tail-word", "tail=abc"), ("tail-negative", "tail=-1"),
                   ("tail-float", "tail=1.5"), ("tail-too-big", "tail=100000001"),
                   ("tail-empty", "tail=")]:
    case("GET-logs-" + cid, lambda w, q=query: ("GET", "/v1/apps/%s/logs?%s" % (w.app_id, q), None))
case("GET-logs-unknown", lambda w: ("GET", "/v1/apps/nosuchapp-1/logs", None))
case("GET-logs-dotdot", lambda w: ("GET", "/v1/apps/..%2F..%2Fw1/logs", None))

# GET /v1/nodes, /v1/nodes/NAME, /v1/nodes/NAME/usage
for cid, target in [
        ("unknown", "/v1/nodes/nosuchnode"),
        ("dotdot-encoded", "/v1/nodes/..%2Fnodes"),
        ("dotdot", "/v1/nodes/../nodes/w1"),
        ("absolute", "/v1/nodes/%2Fetc%2Fpasswd"),
        ("nul", "/v1/nodes/w1%00x"),
        ("very-long", "/v1/nodes/" + LONG),
        ("usage-unknown", "/v1/nodes/nosuchnode/usage"),
        ("usage-dotdot", "/v1/nodes/..%2Fw1/usage"),
        ("usage-nul", "/v1/nodes/w1%00x/usage"),
]:
    case("GET-node-" + cid, lambda w, t=target: ("GET", t, None))


# GET/POST /v1/artifacts
def _files(**fields):
    f = {"name": "probe", "hash": HASH_A, "size": 10, "kind": "exe", "mode": 0o755}
    f.update(fields)
    return [{k: v for k, v in f.items() if v is not _DROP}]


def _announce(**fields):
    base = {"name": "probe", "node": "w1", "files": _files()}
    base.update(fields)
    return _j({k: v for k, v in base.items() if v is not _DROP})


case("GET-artifacts-unknown-node", lambda w: ("GET", "/v1/artifacts?node=nosuchnode", None))
for cid, body in [
        ("empty-body", ""),
        ("invalid-json", "{'name': 'probe'}"),
        ("array-body", "[]"),
        ("missing-name", _announce(name=_DROP)),
        ("missing-node", _announce(node=_DROP)),
        ("missing-files", _announce(files=_DROP)),
        ("unknown-field", _announce(force=True)),
        ("name-int", _announce(name=3)),
        ("files-object", _announce(files={"probe": HASH_A})),
        ("files-empty", _announce(files=[])),
        ("files-int-item", _announce(files=[1])),
        ("file-missing-hash", _announce(files=_files(hash=_DROP))),
        ("file-missing-size", _announce(files=_files(size=_DROP))),
        ("file-unknown-field", _announce(files=_files(owner="root"))),
        ("file-hash-short", _announce(files=_files(hash="abc"))),
        ("file-hash-upper", _announce(files=_files(hash=HASH_A.upper()))),
        ("file-size-negative", _announce(files=_files(size=-1))),
        ("file-size-string", _announce(files=_files(size="10"))),
        ("file-kind-unknown", _announce(files=_files(kind="dll"))),
        ("file-mode-too-big", _announce(files=_files(mode=0o77777))),
        ("no-exe", _announce(files=_files(kind="lib"))),
        ("two-exes", _announce(files=_files() + _files(name="other", hash=HASH_B))),
        ("file-name-twice", _announce(files=_files() + _files(hash=HASH_B, kind="lib"))),
        ("name-dotdot", _announce(name="../probe")),
        ("name-slash", _announce(name="a/b")),
        ("name-absolute", _announce(name="/etc/passwd")),
        ("name-nul", '{"name":"probe\\u0000x","node":"w1","files":%s}' % _j(_files())),
        ("name-very-long", _announce(name="a" * 200)),
        ("file-name-dotdot", _announce(files=_files(name="../../etc/passwd"))),
        ("file-name-absolute", _announce(files=_files(name="/etc/passwd"))),
        ("node-unknown", _announce(node="nosuchnode")),
        ("node-dotdot", _announce(node="../w1")),
        ("arch-mismatch", _announce(arch="sparc64")),
]:
    case("POST-artifacts-" + cid, lambda w, b=body: ("POST", "/v1/artifacts", b))

# DELETE /v1/artifacts/NAME
for cid, target in [
        ("unknown", "/v1/artifacts/nosuchtool"),
        ("unknown-node", "/v1/artifacts/tool?node=nosuchnode"),
        ("dotdot-encoded", "/v1/artifacts/..%2Ftool"),
        ("dotdot", "/v1/artifacts/../artifacts/tool"),
        ("dotdot-only", "/v1/artifacts/.."),
        ("absolute", "/v1/artifacts/%2Fetc%2Fpasswd"),
        ("nul", "/v1/artifacts/tool%00x"),
        ("very-long", "/v1/artifacts/" + LONG),
]:
    case("DELETE-artifact-" + cid, lambda w, t=target: ("DELETE", t, None))

# PUT /v1/uploads/ID/HASH: against a real, fresh upload session
case("PUT-upload-unknown-id", lambda w: ("PUT", "/v1/uploads/u999999/" + HASH_A, b"x" * 10))
case("PUT-upload-id-dotdot",
     lambda w: ("PUT", "/v1/uploads/..%%2F%s/%s" % (w.fresh_upload(), HASH_A), b"x" * 10))
case("PUT-upload-hash-not-announced",
     lambda w: ("PUT", "/v1/uploads/%s/%s" % (w.fresh_upload(), HASH_B), b"x" * 10))
case("PUT-upload-hash-dotdot",
     lambda w: ("PUT", "/v1/uploads/%s/..%%2F..%%2Fetc%%2Fpasswd" % w.fresh_upload(), b"x" * 10))
# The right bytes for the announced hash, but a NUL and more after the hash.
case("PUT-upload-hash-nul",
     lambda w: ("PUT", "/v1/uploads/%s/%s%%00x" % (w.fresh_upload(hash=X10_HASH), X10_HASH), X10))
case("PUT-upload-too-many-bytes",
     lambda w: ("PUT", "/v1/uploads/%s/%s" % (w.fresh_upload(), HASH_A), b"x" * 11))
case("PUT-upload-too-few-bytes",
     lambda w: ("PUT", "/v1/uploads/%s/%s" % (w.fresh_upload(), HASH_A), b"x" * 9))
case("PUT-upload-wrong-bytes",
     lambda w: ("PUT", "/v1/uploads/%s/%s" % (w.fresh_upload(), HASH_A), b"x" * 10))
case("PUT-upload-over-1MiB-more-than-announced",
     lambda w: ("PUT", "/v1/uploads/%s/%s" % (w.fresh_upload(), HASH_A), b"x" * (MIB + 10)))

# POST /v1/uploads/ID/commit
case("POST-commit-unknown-id", lambda w: ("POST", "/v1/uploads/u999999/commit", ""))
case("POST-commit-id-dotdot", lambda w: ("POST", "/v1/uploads/..%2Fu1/commit", ""))
case("POST-commit-id-very-long", lambda w: ("POST", "/v1/uploads/%s/commit" % LONG, ""))
case("POST-commit-nothing-uploaded",
     lambda w: ("POST", "/v1/uploads/%s/commit" % w.fresh_upload(), ""))

# Wrong methods on known paths: 405
for method, target in [
        ("PUT", "/v1/apps"), ("DELETE", "/v1/apps"), ("PATCH", "/v1/apps"),
        ("DELETE", "/v1/apps/{app}"), ("PUT", "/v1/apps/{app}"), ("POST", "/v1/apps/{app}"),
        ("GET", "/v1/apps/{app}/stop"), ("DELETE", "/v1/apps/{app}/stop"),
        ("GET", "/v1/apps/{app}/signal"), ("POST", "/v1/apps/{app}/logs"),
        ("POST", "/v1/nodes"), ("DELETE", "/v1/nodes/w1"), ("POST", "/v1/nodes/w1/usage"),
        ("PUT", "/v1/artifacts"), ("DELETE", "/v1/artifacts"),
        ("GET", "/v1/artifacts/tool"), ("POST", "/v1/artifacts/tool"),
        ("GET", "/v1/uploads/u1/" + HASH_A), ("POST", "/v1/uploads/u1/" + HASH_A),
        ("GET", "/v1/uploads/u1/commit"), ("DELETE", "/v1/uploads/u1/commit"),
]:
    case("405-%s-%s" % (method, target.replace("{app}", "ID").strip("/").replace("/", "-")[:40]),
         lambda w, m=method, t=target: (m, t.replace("{app}", w.app_id), None))

# A body over 1 MiB: 413 (read to its end, never stored)
BIG = _j({"node": "w1", "path": "/bin/true", "args": ["x" * (MIB + 16)]})
for method, target in [
        ("POST", "/v1/apps"), ("POST", "/v1/apps/{app}/stop"), ("POST", "/v1/apps/{app}/signal"),
        ("POST", "/v1/artifacts"), ("DELETE", "/v1/artifacts/tool"), ("GET", "/v1/nodes"),
        ("POST", "/v1/uploads/u1/commit"),
]:
    case("413-%s-%s" % (method, target.replace("{app}", "ID").strip("/").replace("/", "-")),
         lambda w, m=method, t=target: (m, t.replace("{app}", w.app_id), BIG))

# No token at all, on every endpoint: 401 before anything is looked at
for method, target in [
        ("GET", "/v1/apps"), ("POST", "/v1/apps"), ("GET", "/v1/apps/{app}"),
        ("POST", "/v1/apps/{app}/stop"), ("POST", "/v1/apps/{app}/signal"),
        ("GET", "/v1/apps/{app}/logs"), ("GET", "/v1/nodes"), ("GET", "/v1/nodes/w1"),
        ("GET", "/v1/nodes/w1/usage"), ("GET", "/v1/artifacts"), ("POST", "/v1/artifacts"),
        ("DELETE", "/v1/artifacts/tool"), ("PUT", "/v1/uploads/{up}/" + HASH_A),
        ("POST", "/v1/uploads/{up}/commit"),
]:
    case("401-%s-%s" % (method, target.replace("{app}", "ID").replace("{up}", "UP")
                        .strip("/").replace("/", "-")[:40]),
         lambda w, m=method, t=target: (
             m, t.replace("{app}", w.app_id).replace(
                 "{up}", w.fresh_upload() if "{up}" in t else ""),
             _j({"node": "w1", "path": "/bin/true"}) if m != "PUT" else b"x" * 10, False))


def _is_error_object(data):
    try:
        body = json.loads(data)
    except ValueError:
        return False
    return isinstance(body, dict) and isinstance(body.get("error"), str) and body["error"] != ""


@pytest.mark.parametrize("make_request", CASES)
def test_bad_request_is_refused_and_changes_nothing(w, make_request):
    request = make_request(w)
    method, target, body = request[:3]
    token = request[3] if len(request) > 3 else True
    if body is not None and not isinstance(body, (bytes, str)):
        body = _j(body)
    before, store_before = w.snapshot(), w.store_listing()

    shown = target if len(target) < 120 else target[:100] + "...(%d bytes)" % len(target)
    try:
        status, data = w.raw(method, target, body, token=token)
    except (http.client.HTTPException, OSError) as e:
        try:  # a crash closes the connection a moment before the exit is seen
            w.c.master.popen.wait(timeout=2)
        except subprocess.TimeoutExpired:
            pass
        pytest.fail("%s %r: no answer (%r); master %s\n%s" % (
            method, shown, e, "alive" if w.c.master.alive() else "dead", w.c.master.describe()))
    assert 400 <= status < 500, "%s %r -> %d %r" % (method, shown, status, data[:300])
    assert _is_error_object(data), "%s %r -> %d, not a JSON error object: %r" % (
        method, shown, status, data[:300])
    assert w.c.master.alive(), w.c.master.describe()
    assert w.snapshot() == before, "%s %r changed the cluster's state" % (method, shown)
    # The worker may take a moment to drop a refused transfer's temp file.
    h.wait_until(lambda: w.store_listing() == store_before, timeout=10,
                 desc="the worker's store to be as before %s %s (was %r)"
                 % (method, shown, store_before))


def test_url_beyond_the_header_limit_is_refused(w):
    """libmicrohttpd answers a request line over its 64 KiB connection
    memory itself (414, its own HTML page), before drover sees it."""
    before = w.snapshot()
    status, data = w.raw("DELETE", "/v1/artifacts/" + "A" * 70000)
    assert status == 414, (status, data[:200])
    assert w.snapshot() == before


@pytest.mark.parametrize("partial", [
    pytest.param(b"GET /v1/apps/x\x00y HTTP/1.1\r\nHost: 127.0.0.1\r\n", id="nul-in-url"),
    pytest.param(b"GET /v1/apps HTTP/1.1\r\nHost: 127.0.0.1\r\n", id="headers"),
    pytest.param(b"POST /v1/apps HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 100\r\n"
                 b"\r\n{\"node\"", id="body"),
])
def test_client_gone_mid_request_leaves_the_master_serving(w, partial):
    """A client that goes away in the middle of a request costs the master
    nothing, whatever it had sent (a NUL byte in the URL is caught as soon as
    the request line is in, before the headers): the master closes its end,
    still answers, and nothing changed."""
    before = w.snapshot()
    s = socket.create_connection(("127.0.0.1", w.c.api_port), timeout=30)
    try:
        s.sendall(partial)
        client_port = s.getsockname()[1]
        h.wait_until(lambda: _master_holds(w, client_port), desc="the master to accept")
    finally:
        s.close()
    h.wait_until(lambda: not _master_holds(w, client_port) or not w.c.master.alive(),
                 desc="the master to close its end")
    assert w.c.master.alive(), w.c.master.describe()
    assert w.snapshot() == before


def _master_holds(w, client_port):
    """Whether the master has a descriptor for its end of the connection
    from client_port."""
    out = subprocess.run(["ss", "-Htnp", "state", "all", "( sport = :%d and dport = :%d )"
                          % (w.c.api_port, client_port)],
                         stdout=subprocess.PIPE, text=True, check=True).stdout
    return "pid=%d," % w.c.master.pid in out


# ---- the CLI -----------------------------------------------------------------------

@pytest.mark.parametrize("argv", [
    pytest.param(["nosuchcommand"], id="unknown-command"),
    pytest.param(["launch", "w1", "/bin/true", "--no-such-option"], id="bad-option"),
    pytest.param(["ps", "--all=maybe", "--nonsense"], id="bad-option-ps"),
    pytest.param(["launch", "w1", "/bin/true", "--env", "NOEQUALS"], id="env-without-eq"),
    pytest.param(["launch", "w1", "/bin/true", "--env", "=value"], id="env-empty-key"),
    pytest.param(["launch"], id="launch-missing-args"),
    pytest.param(["launch", "w1", "/bin/true", "--count", "0"], id="count-zero"),
    pytest.param(["launch", "w1", "/bin/true", "--count", "1001"], id="count-too-big"),
    pytest.param(["launch", "w1", "/bin/true", "--count", "2.5"], id="count-float"),
    pytest.param(["launch", "w1", "/bin/true", "--count", "many"], id="count-word"),
    pytest.param(["stop"], id="stop-missing-app"),
])
def test_cli_usage_error_exits_2_and_changes_nothing(w, argv):
    before = w.snapshot()
    cp = w.c.cli(*argv, check=False)
    assert cp.returncode == 2, cp
    assert "usage" in (cp.stdout + cp.stderr).lower(), cp
    assert w.snapshot() == before
