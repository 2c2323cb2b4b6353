"""The master writes its secrets with mode 0600 and prints the join command."""

import os
import re
import stat

import drover_harness as h

TOKEN_RE = re.compile(r"^drv1\.[0-9a-f]{64}\.[A-Za-z0-9_-]{8,128}$")


def _mode(path):
    return stat.S_IMODE(os.stat(path).st_mode)


def test_master_writes_tokens_and_join_line(make_cluster):
    secret = "Fixed_secret-1234"
    c = make_cluster(join_secret=secret)
    for name in ("join.token", "admin.token", "master.key"):
        path = os.path.join(c.state_dir, name)
        assert os.path.isfile(path), "missing %s" % path
        assert _mode(path) == 0o600, "%s has mode %o, want 600" % (name, _mode(path))

    assert TOKEN_RE.match(c.token), "join token %r is not drv1.<64 hex>.<secret>" % c.token
    assert c.token.endswith("." + secret), "--join-token did not fix the secret: %r" % c.token
    assert c.admin_token, "admin.token is empty"

    line = h.wait_until(c.join_line, desc="master to print the join line")
    m = re.search(r"drover worker --join (\S+) --token (\S+)", line)
    assert m, line
    assert m.group(1).endswith(":%d" % c.bind_port), line
    assert m.group(2) == c.token, "printed token differs from join.token: %r" % line


def test_generated_secret_is_well_formed(cluster):
    assert TOKEN_RE.match(cluster.token), cluster.token
