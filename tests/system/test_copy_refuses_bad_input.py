"""Bad copies are refused with exit status 1 and a clear message, and leave
nothing installed: a missing path, a directory, an unknown node, a library
that cannot be found, an ELF for another architecture.  The REST API answers
400 to a bad hash, a name with "../" and two executables."""

import os
import struct

import pytest

import artifact_progs as ap
import drover_harness as h

# e_machine of the host, as an ELF header says it.
_MACHINES = {"x86_64": 62, "aarch64": 183, "i686": 3, "i386": 3, "armv7l": 40,
             "ppc64le": 21, "s390x": 22, "riscv64": 243}


def _elf_machine(path):
    try:
        with open(path, "rb") as f:
            head = f.read(20)
    except OSError:
        return None
    if len(head) < 20 or head[:4] != b"\x7fELF" or head[5] not in (1, 2):
        return None
    e_type, e_machine = struct.unpack(("<" if head[5] == 1 else ">") + "HH", head[16:20])
    return e_machine if e_type in (2, 3) else None


def find_foreign_elf(limit=20000):
    """An executable (or shared object) on this system built for another
    machine than ours, or None."""
    ours = _MACHINES.get(os.uname().machine)
    if ours is None:
        return None
    seen = 0
    candidates = []
    for top in ("/usr/lib/perf-core", "/usr/libexec", "/usr/lib32", "/lib32", "/usr/lib"):
        for root, dirs, files in os.walk(top):
            dirs.sort()
            for fn in sorted(files):
                p = os.path.join(root, fn)
                if os.path.islink(p) or not os.path.isfile(p):
                    continue
                seen += 1
                if seen > limit:
                    return candidates[0] if candidates else None
                m = _elf_machine(p)
                if m is not None and m != ours:
                    if ".so" not in fn:
                        return p
                    candidates.append(p)
    return candidates[0] if candidates else None


def test_copy_refuses_bad_input(cluster, tmp_path):
    c = cluster
    progs = ap.build_greet_programs(tmp_path)
    c.start_worker("w1")
    c.wait_ready("w1")

    def refused(*args, mentions=(), env=None):
        cp = c.cli("copy", *args, check=False, env=env)
        assert cp.returncode == 1, cp
        assert cp.stdout.strip() == "", cp
        for word in mentions:
            assert word in cp.stderr, (word, cp.stderr)
        assert len(cp.stderr.strip().splitlines()) <= 3, cp.stderr
        return cp

    missing = str(tmp_path / "no-such-program")
    refused("w1", missing, mentions=[missing, "No such file"])
    refused("w1", str(tmp_path), mentions=[str(tmp_path), "directory"])
    refused("nosuch", progs.runpath_exe, mentions=["nosuch", "node"])
    refused("w1", progs.ldpath_exe, mentions=["libdrvgreet.so.1", "searched"],
            env=dict(c.cli_env(), LD_LIBRARY_PATH=str(tmp_path / "empty")))
    refused("w1", progs.runpath_exe, "--with", missing, mentions=[missing])
    refused("w1", progs.runpath_exe, "--name", "../evil", mentions=["../evil"])
    assert ap.list_artifacts(c) == []
    assert os.listdir(os.path.join(c.worker_dirs["w1"], "artifacts")) == []
    assert ap.store_files(c, "w1") == {}


def test_copy_refuses_elf_for_another_machine(cluster):
    foreign = find_foreign_elf()
    if foreign is None:
        pytest.skip("no ELF for another architecture than %s found on this system"
                    % os.uname().machine)
    c = cluster
    c.start_worker("w1")
    c.wait_ready("w1")
    cp = c.cli("copy", "w1", foreign, check=False)
    assert cp.returncode == 1, cp
    assert os.path.basename(foreign) in cp.stderr and os.uname().machine in cp.stderr, cp.stderr
    assert ap.list_artifacts(c) == []
    assert ap.store_files(c, "w1") == {}


def test_rest_refuses_bad_artifacts(cluster):
    c = cluster
    c.start_worker("w1")
    c.wait_ready("w1")
    good = {"name": "prog", "hash": "ab" * 32, "size": 10, "kind": "exe", "mode": 0o755}
    lib = {"name": "libx.so.1", "hash": "cd" * 32, "size": 10, "kind": "lib", "mode": 0o644}

    def body(name="prog", files=None):
        return {"name": name, "node": "w1", "arch": os.uname().machine,
                "files": files if files is not None else [good, lib]}

    bad = {
        "short hash": body(files=[dict(good, hash="ab" * 16), lib]),
        "upper-case hash": body(files=[dict(good, hash="AB" * 32), lib]),
        "non-hex hash": body(files=[good, dict(lib, hash="zz" * 32)]),
        "name with ../": body(name="../prog"),
        "file name with ../": body(files=[good, dict(lib, name="../libx.so.1")]),
        "two exes": body(files=[good, dict(lib, kind="exe")]),
        "no exe": body(files=[lib]),
        "no files": body(files=[]),
        "bad kind": body(files=[good, dict(lib, kind="data")]),
        "same name twice": body(files=[good, dict(lib, name="prog")]),
    }
    for what, b in bad.items():
        status, reply = c.api("POST", "/v1/artifacts", b)
        assert status == 400, (what, status, reply)
        assert isinstance(reply, dict) and reply.get("error"), (what, reply)
    status, reply = c.api("POST", "/v1/artifacts", dict(body(), node="nosuch"))
    assert status == 404, (status, reply)
    # A sane announcement is accepted: both files are needed on the node.
    status, reply = c.api("POST", "/v1/artifacts", body())
    assert status == 200, (status, reply)
    assert sorted(reply["needed"]) == sorted([good["hash"], lib["hash"]]), reply
    assert reply["nodes"][0]["node"] == "w1" and reply["nodes"][0]["present"] == [], reply
    # Never committed: nothing is listed.
    assert ap.list_artifacts(c) == []
    status, reply = c.api("DELETE", "/v1/artifacts/prog?node=w1")
    assert status == 404, (status, reply)
