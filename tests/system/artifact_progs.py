"""Helpers for the artifact-distribution system tests: programs built at run
time with cc, the worker's store on disk, and code run in the master's
network namespace (where the REST API listens in netns mode).

    progs = build_greet_programs(tmp_path)
        progs.lib            .../pkg/lib/libdrvgreet.so.1 (soname libdrvgreet.so.1)
        progs.runpath_exe    .../pkg/bin/greet-rp, RUNPATH $ORIGIN/../lib
        progs.ldpath_exe     .../plain/greet-ld, no RUNPATH: the library is
                             found only through LD_LIBRARY_PATH=progs.ldpath_dir
    Both print "greet(6)=45 on NODE" (45 is computed by the library), then
    sleep argv[1] seconds if given.
"""

import hashlib
import json
import os
import shutil
import subprocess
import sys
import types

import pytest

import drover_harness as h

GREET_LINE = "greet(6)=45"

_LIB_C = r"""
int drv_greet(int x) { return x * 7 + 3; }
"""

_MAIN_C = r"""
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
int drv_greet(int);
int main(int argc, char **argv)
{
	const char *node = getenv("DROVER_NODE");
	printf("greet(6)=%d on %s\n", drv_greet(6), node ? node : "?");
	fflush(stdout);
	if (argc > 1)
		sleep((unsigned)atoi(argv[1]));
	return 0;
}
"""


def _cc(*argv):
    cp = subprocess.run(["cc"] + list(argv), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                        text=True, timeout=120)
    if cp.returncode != 0:
        raise AssertionError("cc %s failed:\n%s" % (" ".join(argv), cp.stderr))


def build_greet_programs(directory):
    """Build libdrvgreet.so.1 and two programs using it (see the module
    docstring).  Skips the test when there is no C compiler."""
    if shutil.which("cc") is None:
        pytest.skip("needs a C compiler (cc)")
    d = os.path.join(str(directory), "greet-src")
    pkg = os.path.join(str(directory), "pkg")
    plain = os.path.join(str(directory), "plain")
    for sub in (d, os.path.join(pkg, "bin"), os.path.join(pkg, "lib"), os.path.join(plain, "libs")):
        os.makedirs(sub, exist_ok=True)
    lib_c = h.write_script(d, "greet.c", _LIB_C, 0o644)
    main_c = h.write_script(d, "main.c", _MAIN_C, 0o644)
    lib = os.path.join(pkg, "lib", "libdrvgreet.so.1")
    _cc("-shared", "-fPIC", "-Wl,-soname,libdrvgreet.so.1", "-o", lib, lib_c)
    # libpthread and libm are named explicitly (kept by --no-as-needed) so
    # the closure holds system libraries that must never be sent.
    sys_libs = ["-Wl,--no-as-needed", "-l:libpthread.so.0", "-lm", "-Wl,--as-needed"]
    runpath_exe = os.path.join(pkg, "bin", "greet-rp")
    _cc("-o", runpath_exe, main_c, "-L" + os.path.dirname(lib), "-l:libdrvgreet.so.1",
        *sys_libs, "-Wl,--enable-new-dtags", "-Wl,-rpath,$ORIGIN/../lib")
    ldpath_dir = os.path.join(plain, "libs")
    shutil.copy2(lib, os.path.join(ldpath_dir, "libdrvgreet.so.1"))
    ldpath_exe = os.path.join(plain, "greet-ld")
    _cc("-o", ldpath_exe, main_c, "-L" + ldpath_dir, "-l:libdrvgreet.so.1", *sys_libs)
    return types.SimpleNamespace(lib=lib, runpath_exe=runpath_exe, ldpath_exe=ldpath_exe,
                                 ldpath_dir=ldpath_dir, src_dir=d)


def build_small_exe(directory, name="tiny"):
    """A dynamically linked program that needs nothing but libc."""
    if shutil.which("cc") is None:
        pytest.skip("needs a C compiler (cc)")
    src = h.write_script(directory, name + ".c",
                         "#include <stdio.h>\nint main(void){puts(\"tiny\");return 0;}\n", 0o644)
    exe = os.path.join(str(directory), name)
    _cc("-o", exe, src)
    return exe


def write_random_file(path, size, chunk=4 << 20):
    """size bytes of random data at path (written in pieces)."""
    with open(path, "wb") as f:
        left = size
        while left > 0:
            n = min(chunk, left)
            f.write(os.urandom(n))
            left -= n
    return path


def blake2b_256(path):
    """BLAKE2b-256 of the file, lower hex (what drover calls the hash)."""
    d = hashlib.blake2b(digest_size=32)
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            d.update(block)
    return d.hexdigest()


def copy_json(cluster, node, path, *extra, env=None, check=True, timeout=h.CMD_TIMEOUT):
    """`drover copy NODE PATH EXTRA... --json`; returns (CompletedProcess,
    parsed JSON or None)."""
    cp = cluster.cli("copy", node, path, *extra, "--json", check=check, env=env,
                     timeout=timeout)
    try:
        parsed = json.loads(cp.stdout)
    except ValueError:
        parsed = None
    if check:
        assert isinstance(parsed, dict), "copy --json printed no JSON:\n%s\n%s" % (cp.stdout, cp.stderr)
    return cp, parsed


def statuses(result):
    """{node: {file name: status}} from a copy --json result."""
    return {n["node"]: {f["name"]: f["status"] for f in n.get("files") or []}
            for n in result.get("nodes") or []}


def store_dir(cluster, node):
    return os.path.join(cluster.worker_dirs[node], "store")


def store_files(cluster, node):
    """{hash: mtime_ns} of the content files in the worker's store."""
    d = store_dir(cluster, node)
    out = {}
    for entry in os.listdir(d):
        p = os.path.join(d, entry)
        if entry != "tmp" and os.path.isfile(p):
            out[entry] = os.stat(p).st_mtime_ns
    return out


def store_tmp_entries(cluster, node):
    d = os.path.join(store_dir(cluster, node), "tmp")
    return sorted(os.listdir(d)) if os.path.isdir(d) else []


def artifact_dir(cluster, node, name):
    return os.path.join(cluster.worker_dirs[node], "artifacts", name)


def list_artifacts(cluster, node=None):
    path = "/v1/artifacts" + ("?node=%s" % node if node else "")
    status, body = cluster.api("GET", path)
    if status != 200 or not isinstance(body, list):
        raise ValueError("GET %s -> %s %r" % (path, status, body))
    return body


def launch_artifact(cluster, node, name, *args):
    """`drover launch NODE NAME [-- ARGS]`; returns (app id, pid)."""
    argv = ["launch", node, name] + (["--"] + [str(a) for a in args] if args else [])
    cp = cluster.cli(*argv)
    got = h.launched_pid(cp.stdout)
    assert got is not None, "launch printed no app line:\n%s%s" % (cp.stdout, cp.stderr)
    app_id, on, pid = got
    assert on == node, cp.stdout
    cluster.track_app({"pid": pid})
    return app_id, pid


def wait_log_line(cluster, app_id, needle, timeout=h.TIMEOUT):
    return h.wait_until(lambda: needle in cluster.logs(app_id), timeout,
                        desc="%r in the logs of %s" % (needle, app_id))


def master_python(cluster, code, *args):
    """Start `python3 -c code args...` where the master's API is reachable
    (inside its namespace in netns mode).  Returns the Popen (text pipes,
    own session); the caller waits for it or kills its group."""
    argv = cluster._in_ns(cluster.master_ns, [sys.executable, "-c", code] + [str(a) for a in args])
    return subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, start_new_session=True)


def finish(popen, timeout=h.CMD_TIMEOUT):
    """Wait for a master_python process; kill its group on timeout.
    Returns (status, stdout, stderr)."""
    try:
        out, err = popen.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        h.kill_group(popen, grace=5)
        out, err = popen.communicate()
        raise AssertionError("helper timed out after %ss\nstdout:\n%s\nstderr:\n%s"
                             % (timeout, out, err))
    return popen.returncode, out, err
