"""`drover logs APP [--tail N] [--follow]` prints the app's stdout and
stderr, the last N lines, and streams new output; it works for dead apps.
REST: GET /v1/apps/ID/logs?tail=N as text/plain."""

import os
import signal
import subprocess
import threading
import urllib.request

import drover_harness as h


def test_logs_and_tail_of_a_dead_app(cluster, tmp_path):
    cluster.start_worker("w1")
    cluster.wait_ready("w1")
    app = cluster.launch("w1", "/bin/sh",
                         ["-c", "for i in 1 2 3 4 5; do echo out$i; echo err$i >&2; done"],
                         name="talk")
    cluster.wait_dead(app["id"])
    out = cluster.cli("logs", app["id"]).stdout
    lines = out.splitlines()
    assert sorted(lines) == sorted(["out%d" % i for i in range(1, 6)] + ["err%d" % i for i in range(1, 6)]), out
    assert [l for l in lines if l.startswith("out")] == ["out%d" % i for i in range(1, 6)], out

    assert cluster.cli("logs", app["id"], "--tail", "3").stdout == "\n".join(lines[-3:]) + "\n"
    assert cluster.cli("logs", app["id"], "--tail", "100").stdout == out
    assert cluster.logs(app["id"], tail=2) == "\n".join(lines[-2:]) + "\n"
    assert cluster.logs(app["id"]) == out

    req = urllib.request.Request(cluster.api_url + "/v1/apps/%s/logs?tail=1" % app["id"])
    req.add_header("Authorization", "Bearer " + cluster.admin_token)
    with urllib.request.urlopen(req, timeout=10) as r:
        assert r.status == 200
        assert r.headers.get("Content-Type", "").startswith("text/plain"), r.headers
        assert r.read().decode() == lines[-1] + "\n"


def test_logs_of_a_live_app(cluster, tmp_path):
    cluster.start_worker("w1")
    cluster.wait_ready("w1")
    app = cluster.launch("w1", "/bin/sh", ["-c", "echo hello; echo world >&2; exec sleep 600"],
                         name="live")
    h.wait_until(lambda: cluster.cli("logs", app["id"]).stdout == "hello\nworld\n"
                 or cluster.cli("logs", app["id"]).stdout == "world\nhello\n",
                 desc="both lines in the logs of the live app")
    cluster.cli("kill", app["id"])
    cluster.wait_dead(app["id"])


class _Reader:
    """Collects a subprocess's stdout in a thread, so we can wait on it."""

    def __init__(self, stream):
        self.text = ""
        self._lock = threading.Lock()
        self._t = threading.Thread(target=self._run, args=(stream,), daemon=True)
        self._t.start()

    def _run(self, stream):
        for chunk in iter(lambda: os.read(stream.fileno(), 4096), b""):
            with self._lock:
                self.text += chunk.decode(errors="replace")

    def get(self):
        with self._lock:
            return self.text


def _follow(cluster, app_id):
    """`drover logs APP --follow` in its own session, and its stdout's reader."""
    follower = subprocess.Popen([cluster.bin, "logs", app_id, "--follow"],
                                stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, env=cluster.cli_env(),
                                start_new_session=True)
    return follower, _Reader(follower.stdout)


def test_logs_follow_streams_new_lines(cluster, tmp_path):
    cluster.start_worker("w1")
    cluster.wait_ready("w1")
    go = tmp_path / "go"
    done = tmp_path / "done"
    script = h.write_script(tmp_path, "waiter.sh",
                            '#!/bin/sh\necho before\n'
                            'while [ ! -e "%s" ]; do sleep 0.1; done\n'
                            'echo after-the-follower-started\n'
                            'while [ ! -e "%s" ]; do sleep 0.1; done\n'
                            'echo last line\n' % (go, done))
    app = cluster.launch("w1", script)
    h.wait_until(lambda: "before\n" in cluster.logs(app["id"]), desc="the first line")

    follower, reader = _follow(cluster, app["id"])
    try:
        h.wait_until(lambda: "before\n" in reader.get(), desc="the follower to print the old line",
                     fail_if=lambda: _alive_or_fail(follower))
        go.touch()
        h.wait_until(lambda: "after-the-follower-started\n" in reader.get(),
                     desc="the new line on the follower's stdout",
                     fail_if=lambda: _alive_or_fail(follower))
        done.touch()
        h.wait_until(lambda: "last line\n" in reader.get(), desc="the last line")
        assert reader.get().count("before\n") == 1, reader.get()
        cluster.wait_dead(app["id"])
    finally:
        if follower.poll() is None:
            os.killpg(follower.pid, signal.SIGINT)
        try:
            follower.wait(timeout=10)
        except subprocess.TimeoutExpired:
            pass
        h.kill_group(follower, signal.SIGKILL, grace=5)


def _alive_or_fail(p):
    if p.poll() is not None:
        raise AssertionError("logs --follow exited %s: %s" % (p.returncode, p.stderr.read()))


def test_logs_follow_cut_short_by_a_lost_node_fails(cluster, tmp_path):
    """A follower whose node goes away gets a last line saying so and exits
    1: the part it printed is not the whole log."""
    cluster.start_worker("w1")
    cluster.wait_ready("w1")
    script = h.write_script(tmp_path, "talker.sh",
                            '#!/bin/sh\necho first\nexec sleep 600\n')
    app = cluster.launch("w1", script)
    h.wait_until(lambda: "first\n" in cluster.logs(app["id"]), desc="the first line")

    follower, reader = _follow(cluster, app["id"])
    try:
        h.wait_until(lambda: "first\n" in reader.get(), desc="the follower to print the line",
                     fail_if=lambda: _alive_or_fail(follower))
        cluster.kill_worker("w1")
        follower.wait(timeout=h.TIMEOUT)
        reader._t.join(10)
        assert follower.returncode == 1, (follower.returncode, reader.get())
        assert reader.get().endswith("\ndrover: the node became unavailable\n"), reader.get()
        err = follower.stderr.read().decode()
        assert "drover: the log of %s was cut short" % app["id"] in err, err
    finally:
        h.kill_group(follower, signal.SIGKILL, grace=5)
