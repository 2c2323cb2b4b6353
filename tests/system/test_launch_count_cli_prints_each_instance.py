"""`drover launch ... --count N` prints the line of a single launch for
each instance, in order, and exits 0 when all started; `--json` prints the
API's {"apps": [...]}. When they fail, each gets an error line on stderr,
then the API's summary, and the exit status is 1 (with --json the body is
still printed). The shell takes the same command."""

import json
import re

import drover_harness as h

CAUSE = "exec failed: No such file or directory"


def test_launch_count_cli_prints_each_instance(cluster):
    c = cluster
    c.start_worker("w1")
    c.start_worker("w2")
    c.wait_ready("w1", "w2")

    cp = c.cli("launch", "w1", "/bin/sleep", "--name", "cli", "--count", "3", "--", "600")
    assert cp.returncode == 0 and cp.stderr == "", cp
    lines = cp.stdout.splitlines()
    assert len(lines) == 3, cp.stdout
    got = [re.fullmatch(r"launched (\S+) on (\S+), pid (\d+)", l) for l in lines]
    assert all(got), cp.stdout
    assert [(m.group(1), m.group(2)) for m in got] == [("cli-%d" % k, "w1") for k in (1, 2, 3)]
    pids = [int(m.group(3)) for m in got]
    for pid in pids:
        c.track_app({"pid": pid})
    assert len(set(pids)) == 3 and all(h.pid_alive(p) for p in pids), pids

    # Placed by the master: a `placed on` line before each `launched` one.
    cp = c.cli("launch", "/bin/sleep", "--name", "auto", "--count", "2", "--", "600")
    assert cp.returncode == 0, cp
    lines = cp.stdout.splitlines()
    assert len(lines) == 4, cp.stdout
    for k, (placed, launched) in enumerate(zip(lines[::2], lines[1::2]), 1):
        m = re.fullmatch(r"launched auto-%d on (\S+), pid (\d+)" % k, launched)
        assert m and placed.startswith("placed on %s: " % m.group(1)), cp.stdout
        c.track_app({"pid": int(m.group(2))})

    cp = c.cli("launch", "w2", "/bin/sleep", "--name", "js", "--count", "2", "--json", "--", "600")
    assert cp.returncode == 0, cp
    body = json.loads(cp.stdout)
    assert set(body) == {"apps"} and [a["id"] for a in body["apps"]] == ["js-1", "js-2"], body
    for a in body["apps"]:
        c.track_app(a)
        assert a["node"] == "w2" and h.pid_alive(a["pid"]), a

    cp = c.cli("launch", "w1", "/nonexistent/program", "--name", "gone", "--count", "2",
               check=False)
    assert cp.returncode == 1 and cp.stdout == "", cp
    assert cp.stderr.splitlines() == [
        "drover: gone-1: " + CAUSE, "drover: gone-2: " + CAUSE,
        "drover: 2 of 2 launches failed: " + CAUSE], cp

    cp = c.cli("launch", "w1", "/nonexistent/program", "--name", "gone", "--count", "2",
               "--json", check=False)
    assert cp.returncode == 1, cp
    body = json.loads(cp.stdout)
    assert [a["id"] for a in body["apps"]] == ["gone-3", "gone-4"], body
    assert body["error"] == "2 of 2 launches failed: " + CAUSE, body
    assert cp.stderr.strip() == "drover: 2 of 2 launches failed: " + CAUSE, cp

    # The shell parses into the same command.
    cp = c.cli("shell", input="launch w2 /bin/sleep --name sh --count 2 -- 600\n")
    assert cp.returncode == 0, cp
    found = re.findall(r"launched (sh-\d) on w2, pid (\d+)", cp.stdout)
    assert [f[0] for f in found] == ["sh-1", "sh-2"], cp.stdout
    for _, pid in found:
        c.track_app({"pid": int(pid)})
