"""An upload cut off half way (PUT announcing the full Content-Length, half
of the bytes sent, then the connection closed) leaves nothing installed:
the artifact is not listed, the worker's store/tmp empties and the file is
not in its store.  A normal copy afterwards succeeds."""

import json
import os

import pytest

import artifact_progs as ap
import drover_harness as h

pytestmark = pytest.mark.netns

SIZE = 256 << 20

# PUT the first `half` bytes of FILE to PATH on HOST:PORT with a
# Content-Length of the whole file, then close the connection.
_TRUNCATED_PUT = r"""
import socket, sys
host, port, path, token, filename, size, half = sys.argv[1:8]
size, half = int(size), int(half)
s = socket.create_connection((host, int(port)), timeout=60)
s.sendall(("PUT %s HTTP/1.1\r\nHost: %s:%s\r\nAuthorization: Bearer %s\r\n"
           "Content-Type: application/octet-stream\r\nContent-Length: %d\r\n\r\n"
           % (path, host, port, token, size)).encode())
sent = 0
with open(filename, "rb") as f:
    while sent < half:
        block = f.read(min(1 << 20, half - sent))
        s.sendall(block)
        sent += len(block)
s.shutdown(socket.SHUT_RDWR)
s.close()
print("sent %d of %d" % (sent, size), flush=True)
"""


def test_truncated_upload_installs_nothing(netns_cluster, tmp_path):
    c = netns_cluster
    exe = ap.build_small_exe(tmp_path, "trunc-prog")
    data = ap.write_random_file(str(tmp_path / "trunc.bin"), SIZE)
    c.start_worker("w1")
    c.wait_ready("w1", timeout=30)

    exe_hash, data_hash = ap.blake2b_256(exe), ap.blake2b_256(data)
    body = {"name": "trunc", "node": "w1", "arch": os.uname().machine, "files": [
        {"name": "trunc-prog", "hash": exe_hash, "size": os.path.getsize(exe), "kind": "exe",
         "mode": 0o755},
        {"name": "trunc.bin", "hash": data_hash, "size": SIZE, "kind": "lib", "mode": 0o644}]}
    status, reply = c.api("POST", "/v1/artifacts", body)
    assert status == 200, (status, reply)
    assert sorted(reply["needed"]) == sorted([exe_hash, data_hash]), reply
    upload = reply["upload"]

    host, port = c.api_url.rsplit("/", 1)[1].split(":")
    p = ap.master_python(c, _TRUNCATED_PUT, host, port,
                         "/v1/uploads/%s/%s" % (upload, data_hash), c.admin_token, data,
                         SIZE, SIZE // 2)
    rc, out, err = ap.finish(p, timeout=300)
    assert rc == 0 and "sent %d of %d" % (SIZE // 2, SIZE) in out, (rc, out, err)

    # Nothing half-received is kept, nothing is installed.
    h.wait_until(lambda: ap.store_tmp_entries(c, "w1") == [], desc="w1's store/tmp to empty")
    assert data_hash not in ap.store_files(c, "w1")
    assert "trunc" not in [a["name"] for a in ap.list_artifacts(c)]
    assert not os.path.exists(ap.artifact_dir(c, "w1", "trunc"))
    # Committing the broken upload installs nothing either.
    status, reply = c.api("POST", "/v1/uploads/%s/commit" % upload)
    assert status != 201, (status, reply)
    assert "trunc" not in [a["name"] for a in ap.list_artifacts(c)]
    assert not os.path.exists(ap.artifact_dir(c, "w1", "trunc"))
    c.wait_ready("w1")

    # A normal copy afterwards sends the whole file and installs it.
    _, result = ap.copy_json(c, "w1", exe, "--with", data, "--name", "trunc", timeout=600)
    assert ap.statuses(result) == {"w1": {"trunc-prog": "sent", "trunc.bin": "sent"}}, result
    assert data_hash in ap.store_files(c, "w1")
    assert ap.store_tmp_entries(c, "w1") == []
    assert [a["name"] for a in ap.list_artifacts(c)] == ["trunc"]
    installed = os.path.join(ap.artifact_dir(c, "w1", "trunc"), "lib", "trunc.bin")
    assert os.path.getsize(installed) == SIZE
    assert ap.blake2b_256(installed) == data_hash
