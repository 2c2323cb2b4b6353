"""An app writes its log itself, and the worker rotates it in place while
it does: `drover logs APP --follow`, started after its first line, gets
every line exactly once and in order across the rotations, the follow
ending with the app; and `logs` afterwards reads the same across the
rotated files."""

import os
import subprocess
import threading

import drover_harness as h

LINE = 100          # bytes per line, newline included
LINES = 30000       # about 3 MiB
LOG_MAX = 256 * 1024

# Writes line 0, waits for its go, then writes the other numbered lines
# in bursts, flushing each, so that the worker rotates while the follower
# reads.
WRITER = r"""
import os, sys, time
go, n = sys.argv[1], int(sys.argv[2])
sys.stdout.write("%%08d %%s\n" %% (0, "y" * %d))
sys.stdout.flush()
while not os.path.exists(go):
    time.sleep(0.02)
for i in range(1, n):
    sys.stdout.write("%%08d %%s\n" %% (i, "y" * %d))
    if i %% 1000 == 999:
        sys.stdout.flush()
        time.sleep(0.02)
sys.stdout.flush()
""" % (LINE - 10, LINE - 10)


def _numbers(text):
    out = []
    for line in text.splitlines():
        assert len(line) == LINE - 1, "a line of %d bytes: %r" % (len(line), line[:20])
        out.append(int(line.split()[0]))
    return out


def test_logs_follow_across_rotation(cluster, tmp_path):
    cluster.start_worker("w1")
    cluster.wait_ready("w1")
    go = os.path.join(str(tmp_path), "go")
    # 16 rotated files of 256 KiB hold all 3 MiB: nothing is rotated away.
    app = cluster.launch("w1", "/usr/bin/python3", ["-c", WRITER, go, str(LINES)],
                         name="chatty", log_max=LOG_MAX, log_keep=16)
    h.wait_until(lambda: cluster.logs(app["id"]).startswith("00000000 "),
                 desc="the app's first line")
    follower = subprocess.Popen([cluster.bin, "logs", app["id"], "--follow"],
                                stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, env=cluster.cli_env(),
                                start_new_session=True)
    got = []
    reader = threading.Thread(target=lambda: got.append(follower.stdout.read()), daemon=True)
    try:
        # Its first line out means the follower's stream is open.
        first = follower.stdout.read(LINE)
        assert first.startswith(b"00000000 "), (first, follower.stderr.read())
        reader.start()
        open(go, "w").close()
        follower.wait(timeout=120)
        reader.join(30)
        err = follower.stderr.read()
    finally:
        if follower.poll() is None:
            follower.kill()
            follower.wait()
    out = first + b"".join(got)
    assert follower.returncode == 0, (follower.returncode, err)
    assert cluster.wait_dead(app["id"])["cause"] == "exited 0"
    assert _numbers(out.decode()) == list(range(LINES))

    # It did rotate, in place: the files hold at most LOG_MAX each.
    d = os.path.join(cluster.worker_dirs["w1"], "apps", app["id"])
    rotated = [f for f in os.listdir(d) if f.startswith("output.log.")]
    assert len(rotated) >= 8, sorted(os.listdir(d))
    assert all(os.path.getsize(os.path.join(d, f)) <= LOG_MAX for f in rotated)
    assert _numbers(cluster.cli("logs", app["id"]).stdout) == list(range(LINES))
