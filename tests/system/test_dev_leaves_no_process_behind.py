"""`drover dev` runs a master and N workers, the shell on stdin, and when
stdin ends stops them all, removes its temp dir and leaves no process."""

import os
import re
import signal
import subprocess

import drover_harness as h


def _argv_of(pid):
    try:
        with open("/proc/%d/cmdline" % pid, "rb") as f:
            return [a.decode(errors="replace") for a in f.read().split(b"\0") if a]
    except OSError:
        return []


def _dirs_named_in(pids):
    """Directory arguments (--state/--dir) of the given processes."""
    dirs = set()
    for pid in pids:
        argv = _argv_of(pid)
        for i, a in enumerate(argv[:-1]):
            if a in ("--state", "--dir") and argv[i + 1].startswith("/"):
                dirs.add(argv[i + 1])
    return dirs


def _ours_left(needles):
    """Our drover processes still around: cmdline mentions one of needles."""
    left = []
    for needle in needles:
        left += [(pid, cmd) for pid, cmd in h.processes_mentioning(needle) if "drover" in cmd]
    return left


def test_dev_leaves_no_process_behind(drover_bin, tmp_path):
    p1, p2 = h.free_ports(2)
    needles = ["127.0.0.1:%d" % p1, "127.0.0.1:%d" % p2]
    out_path = os.path.join(str(tmp_path), "dev.stdout")
    err_path = os.path.join(str(tmp_path), "dev.stderr")
    env = {k: v for k, v in os.environ.items() if not k.startswith("DROVER_")}
    with open(out_path, "w") as out, open(err_path, "w") as err:
        dev = subprocess.Popen([drover_bin, "dev", "--workers", "2",
                                "--bind", "127.0.0.1:%d" % p1, "--api", "127.0.0.1:%d" % p2],
                               stdin=subprocess.PIPE, stdout=out, stderr=err, env=env,
                               text=True, start_new_session=True)
    dirs = set()
    try:
        # stdin is a pipe: dev reads "nodes" once its workers are ready, then
        # EOF ends the shell.  Meanwhile note the directories its children
        # were given, to check afterwards that they are gone.
        dev.stdin.write("nodes\n")
        dev.stdin.close()

        def finished():
            dirs.update(_dirs_named_in(pid for pid, _ in _ours_left(needles)))
            return dev.poll() is not None
        try:
            h.wait_until(finished, timeout=90, interval=0.05,
                         desc="drover dev to run `nodes` and exit at stdin EOF")
        except AssertionError as e:
            raise AssertionError("%s\nstdout:\n%s\nstderr:\n%s"
                                 % (e, h.tail(out_path), h.tail(err_path))) from None
        status = dev.returncode

        text = h.read_text(out_path)
        assert status == 0, "drover dev exited %s\nstdout:\n%s\nstderr:\n%s" % (status, text, h.tail(err_path))
        rows = h.nodes_rows(text, {"w1", "w2"})
        assert set(rows) == {"w1", "w2"}, text
        assert all(h.row_state(t) == "ready" for t in rows.values()), text

        # Directories dev names in what it printed ("logs in DIR") go too.
        said = text + h.read_text(err_path)
        dirs.update(d.rstrip(".,;:") for d in re.findall(r"logs in (/\S+)", said))

        # The children are gone once dev has returned (polled only to let
        # the kernel finish tearing them down).
        try:
            h.wait_until(lambda: not _ours_left(needles), timeout=10,
                         desc="no process mentioning the dev ports")
        except AssertionError:
            raise AssertionError("processes left behind by drover dev: %r" % _ours_left(needles))
        for d in dirs:
            assert not os.path.exists(d), "drover dev left its directory %s" % d
            assert not h.processes_mentioning(d), "processes mention %s" % d
    finally:
        h.kill_group(dev, signal.SIGTERM, grace=10)
        # Anything of ours that escaped the group (it mentions our fresh ports).
        for pid, _ in _ours_left(needles):
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
