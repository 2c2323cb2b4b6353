"""100 MiB of an app's output come back whole through `drover logs`, and
neither the master nor the worker holds them in memory (VmHWM < 64 MiB)."""

import hashlib
import os
import subprocess
import urllib.request

import drover_harness as h

MIB = 1024 * 1024
LIMIT_KB = 64 * 1024

# 100 lines of 1 MiB each (1023 * 1024 + ... letters and a newline), each
# line different so a reordered or repeated chunk changes the hash.
WRITER = r"""
import sys, hashlib
h = hashlib.sha256()
n = 0
for i in range(100):
    line = (("%03d" % i) * 349525)[:1024 * 1024 - 1].encode() + b"\n"
    sys.stdout.buffer.write(line)
    h.update(line)
    n += len(line)
sys.stdout.buffer.flush()
open(sys.argv[1], "w").write("%d %s\n" % (n, h.hexdigest()))
"""


def test_logs_of_100_mib_stay_bounded(cluster, tmp_path):
    cluster.start_worker("w1")
    cluster.wait_ready("w1")
    summary = tmp_path / "summary"
    app = cluster.launch("w1", "/usr/bin/python3", ["-c", WRITER, str(summary)],
                         name="flood", log_max=200000000)
    dead = cluster.wait_dead(app["id"], timeout=120)
    assert dead["cause"] == "exited 0", dead
    size, digest = summary.read_text().split()
    assert int(size) == 100 * MIB

    out_path = tmp_path / "flood.log"
    argv = [cluster.bin, "logs", app["id"]]
    with open(out_path, "wb") as out:
        p = subprocess.run(argv, stdout=out, stderr=subprocess.PIPE, env=cluster.cli_env(),
                           timeout=300, start_new_session=True)
    assert p.returncode == 0, p.stderr
    assert os.path.getsize(out_path) == 100 * MIB
    sha = hashlib.sha256()
    with open(out_path, "rb") as f:
        for chunk in iter(lambda: f.read(MIB), b""):
            sha.update(chunk)
    assert sha.hexdigest() == digest

    # The same through REST, streamed to a file.
    req = urllib.request.Request(cluster.api_url + "/v1/apps/%s/logs" % app["id"])
    req.add_header("Authorization", "Bearer " + cluster.admin_token)
    sha = hashlib.sha256()
    total = 0
    with urllib.request.urlopen(req, timeout=60) as r:
        for chunk in iter(lambda: r.read(MIB), b""):
            sha.update(chunk)
            total += len(chunk)
    assert total == 100 * MIB and sha.hexdigest() == digest

    for proc in (cluster.master, cluster.workers["w1"]):
        hwm = h.vm_hwm_kb(proc.pid)
        assert hwm < LIMIT_KB, "%s VmHWM %d kB >= %d kB" % (proc.name, hwm, LIMIT_KB)
