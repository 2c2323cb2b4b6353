"""With --log-max BYTES the app's log rotates, keeping log_keep (default 3)
old files: `drover logs` returns the newest lines, contiguous and in order
across the files; what is beyond the kept files is gone."""

import json

import drover_harness as h

MIB = 1024 * 1024
LINE = 100      # bytes per line, newline included

# N numbered lines of exactly LINE bytes each.
WRITER = r"""
import sys
n = int(sys.argv[1])
w = sys.stdout.write
for i in range(n):
    w("%%08d %%s\n" %% (i, "x" * %d))
sys.stdout.flush()
""" % (LINE - 10)


def _check_contiguous(text, total):
    """The lines are k..total-1 for some k, each whole, except that the
    first may be the tail of line k-1 (rotation cuts between the worker's
    reads, not between lines); return k."""
    lines = text.splitlines()
    assert lines, "no log lines"
    if len(lines[0]) < LINE - 1 and len(lines) > 1:
        assert lines[0] == "x" * len(lines[0]) or lines[0].endswith(" " + "x" * (LINE - 10)), \
            "first line %r is not the tail of a line" % lines[0][:20]
        lines = lines[1:]
    first = int(lines[0].split()[0])
    for j, line in enumerate(lines):
        assert len(line) == LINE - 1 and int(line.split()[0]) == first + j, \
            "line %d is %r, expected number %d" % (j, line[:20], first + j)
    assert first + len(lines) == total, "last line is %d, wrote %d" % (first + len(lines) - 1, total)
    return first


def test_logs_rotate_without_gaps(cluster):
    cluster.start_worker("w1")
    cluster.wait_ready("w1")
    # About 3.5 MiB: fits in the current file and the 3 kept ones.
    small = int(3.5 * MIB) // LINE
    # About 8 MiB: more than 4 files' worth, so the oldest lines are gone.
    large = 8 * MIB // LINE
    out = cluster.cli("launch", "w1", "/usr/bin/python3", "--name", "small", "--log-max", "1048576",
                      "--json", "--", "-c", WRITER, str(small)).stdout
    assert json.loads(out)["id"] == "small-1", out
    cluster.launch("w1", "/usr/bin/python3", ["-c", WRITER, str(large)], name="large",
                   log_max=MIB)
    cluster.launch("w1", "/usr/bin/python3", ["-c", WRITER, str(large)], name="keepone",
                   log_max=MIB, log_keep=1)
    for app_id in ("small-1", "large-1", "keepone-1"):
        assert cluster.wait_dead(app_id, timeout=60)["cause"] == "exited 0"

    text = cluster.cli("logs", "small-1").stdout
    first = _check_contiguous(text, small)
    # 3 kept files of ~1 MiB and the current one hold more than 3.5 MiB.
    assert first == 0, "lost the first %d lines of 3.5 MiB with 3 kept 1 MiB files" % first

    text = cluster.cli("logs", "large-1").stdout
    first = _check_contiguous(text, large)
    kept = len(text)
    assert first > 0, "nothing rotated away from 8 MiB with 3 kept 1 MiB files"
    # Each full file holds nearly max bytes (it rotates before a read that
    # would overflow it; a read is at most a pipe's worth).
    assert 2.5 * MIB <= kept <= 4 * MIB, "kept %d bytes with --log-max 1 MiB, keep 3" % kept

    text = cluster.logs("keepone-1")
    assert _check_contiguous(text, large) > 0
    assert 0.75 * MIB <= len(text) <= 2 * MIB, "kept %d bytes with keep 1" % len(text)

    # --tail reaches back across the files too.
    tail = cluster.cli("logs", "large-1", "--tail", "20000").stdout
    assert _check_contiguous(tail, large) == large - 20000
    assert cluster.logs("large-1", tail=5).splitlines() == tail.splitlines()[-5:]
