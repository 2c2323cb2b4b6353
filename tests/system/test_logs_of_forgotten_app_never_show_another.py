"""A log stream of an app the worker forgets never carries another app's
output.  The worker keeps the newest 1000 dead apps (APP_DEAD_MAX) and
recycles the directory of one it forgets, its output.log emptied in place
(the same inode), for a later launch.  A slow reader of the forgotten app's
log still holds that file: its stream is ended first, with a last line
that says why and an HTTP response cut short, so the reader neither sees
the next app's output nor takes a cut log for a whole one."""

import concurrent.futures
import http.client
import os
import socket
import threading
import time

import drover_harness as h

# The worker's APP_DEAD_MAX: this many newer dead apps make it forget one.
DEAD_MAX = 1000
MIB = 1024 * 1024
# Far more than the reader takes while the apps are launched (a second or
# two here, minutes on a loaded machine), plus every buffer between it and
# the worker (its own socket, the master's 4 MiB one, the chunks in flight).
BIG_BYTES = 96 * MIB
# The slow reader takes this much at a time (some 300 KiB/s): often enough
# that the master keeps sending, since libmicrohttpd drops a connection idle
# for 30 s and a full socket buffer of the master's turns writable again
# only once about a third of it was taken (seen: every 20 s at 50 KiB/s).
SIP = 64 * 1024
SIP_EVERY_S = 0.2
LAUNCHERS = 4
SLOW = 600

# Lines of a known pattern, so whatever the reader gets can be checked.
BIG = r"""
import sys
line = b"%08d big " + b"b" * 114 + b"\n"
n = int(sys.argv[1]) // 128
out = sys.stdout.buffer
for i in range(n):
    out.write(line % i)
out.flush()
"""

# Writes as much as the big app did, all markers, but only if its
# directory is the big app's recycled one (its output.log is that inode).
MARKER = r"""
import os, sys
if os.stat("output.log").st_ino != int(sys.argv[2]):
    sys.exit(0)
out = sys.stdout.buffer
line = b"MARKER-FROM-ANOTHER-APP " + b"m" * 103 + b"\n"
for i in range(int(sys.argv[1]) // 128):
    out.write(line)
out.flush()
"""


class _SmallBufferConnection(http.client.HTTPConnection):
    """A reader with a small receive buffer: the stream backs up at once."""

    def connect(self):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 16 * 1024)
        s.settimeout(self.timeout)
        s.connect((self.host, self.port))
        self.sock = s


class _SlowReader:
    """GET /v1/apps/ID/logs, read SIP bytes every SIP_EVERY_S until told to
    go on at full speed, then to the end."""

    def __init__(self, cluster, app_id):
        self.conn = _SmallBufferConnection("127.0.0.1", cluster.api_port, timeout=SLOW)
        self.conn.request("GET", "/v1/apps/%s/logs" % app_id,
                          headers={"Authorization": "Bearer " + cluster.admin_token})
        self.resp = self.conn.getresponse()
        assert self.resp.status == 200, self.resp.status
        self.data = bytearray()
        self.error = None
        self.done = False
        self.fast = threading.Event()
        self.thread = threading.Thread(target=self._run, name="slow-reader")
        self.thread.start()

    def _run(self):
        try:
            while not self.fast.is_set():
                chunk = self.resp.read1(SIP)
                if not chunk:
                    self.done = True
                    return
                self.data += chunk
                self.fast.wait(SIP_EVERY_S)
            for chunk in iter(lambda: self.resp.read1(MIB), b""):
                self.data += chunk
            self.done = True
        except Exception as e:  # reported by the test
            self.error = e

    def finish(self):
        self.fast.set()
        self.thread.join(SLOW)
        self.conn.close()
        assert not self.thread.is_alive(), "the log stream never ended"



def _launch_many(cluster, count):
    body = {"node": "w1", "path": "/bin/true", "args": [], "name": "short"}

    def one(_):
        status, reply = cluster.rest("POST", "/v1/apps", body, timeout=SLOW)
        assert status == 201, (status, reply)
    with concurrent.futures.ThreadPoolExecutor(LAUNCHERS) as pool:
        list(pool.map(one, range(count)))


def test_logs_of_forgotten_app_never_show_another(cluster):
    cluster.start_worker("w1")
    cluster.wait_ready("w1")
    wdir = cluster.worker_dirs["w1"]
    big = cluster.launch("w1", "/usr/bin/python3", ["-c", BIG, BIG_BYTES],
                         name="big", log_max=4 * BIG_BYTES)
    dead = cluster.wait_dead(big["id"], timeout=SLOW)
    assert dead["cause"] == "exited 0", dead
    big_dir = os.path.join(wdir, "apps", big["id"])
    big_log = os.stat(os.path.join(big_dir, "output.log"))
    assert big_log.st_size == BIG_BYTES // 128 * 128, big_log

    reader = _SlowReader(cluster, big["id"])
    try:
        h.wait_until(lambda: len(reader.data) > 0 or reader.done,
                     desc="the first bytes of the big log")
        # More dead apps than the worker keeps: the big one is forgotten,
        # its directory emptied and kept for a later launch.
        _launch_many(cluster, DEAD_MAX)
        h.wait_until(lambda: not os.path.exists(big_dir), timeout=SLOW,
                     desc="the worker to forget %s" % big["id"])
        assert not reader.done, "the reader got to the end before the test began"

        # A launch takes that directory and writes in the same inode.
        taker = None
        for _ in range(20):
            app = cluster.launch("w1", "/usr/bin/python3",
                                 ["-c", MARKER, BIG_BYTES, big_log.st_ino],
                                 name="marker")
            log = os.path.join(wdir, "apps", app["id"], "output.log")
            if os.stat(log).st_ino == big_log.st_ino:
                taker = app
                break
            cluster.wait_dead(app["id"])
        assert taker is not None, "no launch took the forgotten app's directory"
        assert cluster.wait_dead(taker["id"], timeout=SLOW)["cause"] == "exited 0"
    finally:
        reader.finish()

    data = bytes(reader.data)
    at = data.find(b"MARKER-FROM-ANOTHER-APP")
    assert at == -1, "the log of %s carried another app's output at byte %d" % (
        big["id"], at)
    # The master ends a stream its worker reports an error for with a last
    # line, "drover: " and the error.
    why = b"drover: app %s was forgotten while its log was read\n" % big["id"].encode()
    assert data.endswith(why), data[-300:]
    # And the response itself ends in an error, not as a whole log does.
    assert isinstance(reader.error, http.client.IncompleteRead), repr(reader.error)
    # Everything before it is the big app's own output, from its start.
    got = data[:-len(why)]
    assert 0 < len(got) < BIG_BYTES, len(got)
    lines = got.split(b"\n")
    assert lines[-1] == b"", lines[-1][:80]
    for i, line in enumerate(lines[:-1]):
        assert line == b"%08d big " % i + b"b" * 114, (i, line[:80])
