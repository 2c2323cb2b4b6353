"""A master whose state database can no longer be written acknowledges
nothing it could not record: it stops (exit 1, its log naming STATE/state.db
and SQLite's error), a launch or a stop asked for on the full disk is
answered with a 503 instead of a success, and a master started again on the
same state dir, once the disk has room, holds every change acknowledged
before, with the workers' running apps, and takes new launches.

The state dir is a small tmpfs mounted by the test. The disk is made full
by a filler file written until ENOSPC, in shrinking chunks down to one
byte, so not one free page is left. SQLite's WAL would take writes on a
full disk only where its file already has room: tmpfs allocates 4 KiB
pages as they are written, and a WAL frame (a 4 KiB page and its header)
is longer than what is left of the file's last page, so the next commit
needs a page the disk no longer has. The WAL is written over from its start
(using no new space) only after a checkpoint, which SQLite runs at 1,000
pages: far more than this test writes.

What fails first is the request's own commit, or, when a worker's samples
come in first, a commit no one waits for; either way the request gets no
success and the master stops. What the refused request did on its worker
(an app started or stopped) the worker tells the restarted master, like
anything else that happened while it was down."""

import contextlib
import errno
import http.client
import os
import subprocess

import pytest

import drover_harness as h

TMPFS_SIZE = "8m"
ALIVE_STATES = ("sleeping", "running")


def _fill(directory):
    """Write STATE/filler until the tmpfs has no byte left; return its path."""
    path = os.path.join(directory, "filler")
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        for chunk in (1 << 20, 1 << 16, 4096, 512, 1):
            block = b"\0" * chunk
            while True:
                try:
                    if os.write(fd, block) < chunk:
                        break
                except OSError as e:
                    if e.errno != errno.ENOSPC:
                        raise
                    break
    finally:
        os.close(fd)
    st = os.statvfs(directory)
    assert st.f_bavail == 0, "%s still has %d blocks free" % (directory, st.f_bavail)
    return path


@contextlib.contextmanager
def _tmpfs(directory):
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=%s,mode=0700" % TMPFS_SIZE,
                    "tmpfs", directory], check=True, timeout=h.CMD_TIMEOUT)
    try:
        yield directory
    finally:
        if subprocess.run(["umount", directory], stderr=subprocess.DEVNULL,
                          timeout=h.CMD_TIMEOUT).returncode != 0:
            # Still busy (a process we could not stop): detach it anyway.
            subprocess.run(["umount", "-l", directory], timeout=h.CMD_TIMEOUT)


@pytest.fixture
def full_disk_cluster(make_cluster):
    """A cluster, master not started, whose state dir is a small tmpfs.
    Its processes are stopped before the tmpfs goes."""
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root")
    c = make_cluster(start=False)
    with _tmpfs(c.state_dir):
        try:
            yield c
        finally:
            c.close()


def _post(c, path, body):
    """(status, body) of a POST, or (None, the error) when the master did
    not answer at all."""
    try:
        return c.api("POST", path, body)
    except (OSError, http.client.HTTPException) as e:
        return None, e


@pytest.mark.parametrize("change", ["launch", "stop"])
def test_full_state_disk_stops_master(full_disk_cluster, change):
    """change: what is asked for on the full disk. A launch's record is
    committed while its worker starts the app; a stop writes when its
    worker has answered, and that answer waits for the commit."""
    c = full_disk_cluster
    c.start_master()
    c.start_worker("w1")
    c.wait_ready("w1")
    first = c.launch("w1", "/bin/sleep", ["600"], name="kept")
    first = c.wait_state(first["id"], *ALIVE_STATES)
    pid = first["pid"]
    victim = None
    if change == "stop":
        victim = c.launch("w1", "/bin/sleep", ["600"], name="victim")
        victim = c.wait_state(victim["id"], *ALIVE_STATES)

    filler = _fill(c.state_dir)
    if change == "launch":
        status, reply = _post(c, "/v1/apps", {"node": "w1", "path": "/bin/sleep",
                                              "args": ["600"]})
    else:
        status, reply = _post(c, "/v1/apps/%s/stop" % victim["id"], {})
    print("%s on a full disk: %r %r" % (change, status, reply))
    assert status not in (200, 201), "a %s the disk could not hold was acknowledged: %r" % (
        change, reply)
    if status is not None:
        # Answered before the master went: an error saying why.
        assert status == 503, (status, reply)
        assert isinstance(reply, dict) and "not recorded" in reply.get("error", ""), reply
        assert "state.db" in reply["error"], reply

    exit_status = c.master.wait_exit(timeout=60)
    err = c.master.stderr()
    assert exit_status == 1, "master exited %s\n%s" % (exit_status, c.master.describe())
    db = os.path.join(c.state_dir, "state.db")
    assert "fatal: state database %s: " % db in err, err[-3000:]
    assert "database or disk is full" in err, err[-3000:]
    assert c.workers["w1"].alive(), c.workers["w1"].describe()
    assert h.pid_alive(pid), "the acknowledged app died with the master"

    os.unlink(filler)
    c.start_master()
    c.wait_ready("w1", timeout=60)
    kept = c.wait_state(first["id"], *ALIVE_STATES, timeout=60)
    assert kept["pid"] == pid and kept["node"] == "w1", kept
    assert h.pid_alive(pid)

    # What the refused request did on its worker is told by the worker: a
    # stopped app is listed dead; a launch that reached the worker before
    # the master stopped runs, listed as an orphan (never killed). Either
    # is listed once, and can be stopped like any app.
    apps = c.apps()
    others = [a for a in apps if a["id"] != first["id"]]
    print("listed beside the kept app: %r" % [(a["id"], a.get("state")) for a in others])
    for a in others:
        if victim is not None and a["id"] == victim["id"]:
            if a.get("state") == "dead":
                continue
            assert a.get("state") in ALIVE_STATES and a["pid"] == victim["pid"], a
        else:
            assert a.get("state") in ("orphan", "dead"), a
            if a.get("state") == "dead":
                continue
        assert h.pid_alive(a["pid"]), a
        status, reply = c.api("POST", "/v1/apps/%s/stop" % a["id"], {})
        assert status == 200, (status, reply)
        c.wait_dead(a["id"])
    ids = [a["id"] for a in apps]
    assert len(ids) == len(set(ids)), ids

    again = c.launch("w1", "/bin/sleep", ["600"], name="after")
    assert again["id"] not in ids, (again, ids)
    assert c.wait_state(again["id"], *ALIVE_STATES)["pid"] == again["pid"]
