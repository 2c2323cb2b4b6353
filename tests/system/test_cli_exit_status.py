"""CLI exit status: 2 for usage errors, 1 when refused or the master cannot
be reached (with one line on stderr)."""

import os

import drover_harness as h


def _clean_env():
    return {k: v for k, v in os.environ.items() if not k.startswith("DROVER_")}


def test_unknown_command_is_usage_error(drover_bin):
    cp = h.run([drover_bin, "nosuchcommand"], env=_clean_env())
    assert cp.returncode == 2, cp
    assert "usage" in (cp.stdout + cp.stderr).lower(), cp


def test_bad_option_is_usage_error(drover_bin):
    cp = h.run([drover_bin, "nodes", "--no-such-option"], env=_clean_env())
    assert cp.returncode == 2, cp
    assert "usage" in (cp.stdout + cp.stderr).lower(), cp


def test_unreachable_master_is_status_1(drover_bin):
    url = "http://127.0.0.1:%d" % h.free_port()
    for argv, env in (([drover_bin, "--api", url, "--token", "t", "nodes"], _clean_env()),
                      ([drover_bin, "nodes"], dict(_clean_env(), DROVER_API=url, DROVER_TOKEN="t"))):
        cp = h.run(argv, env=env)
        assert cp.returncode == 1, cp
        lines = [l for l in cp.stderr.splitlines() if l.strip()]
        assert len(lines) == 1 and "cannot reach master" in lines[0], cp
        assert url in lines[0], cp


def test_wrong_token_is_status_1(cluster):
    env = cluster.cli_env(token=False)
    env["DROVER_TOKEN"] = "not-the-admin-token"
    cp = cluster.cli("nodes", env=env, check=False)
    assert cp.returncode == 1, cp
    assert cp.stderr.strip(), cp


def test_bad_sample_interval_is_usage_error(drover_bin, tmp_path):
    for value in ("50ms", "2h", "soon", "-1s", ""):
        cp = h.run([drover_bin, "worker", "--join", "127.0.0.1:1", "--token", "t",
                    "--dir", str(tmp_path), "--sample-interval", value], env=_clean_env())
        assert cp.returncode == 2, (value, cp)
        assert "--sample-interval" in cp.stderr, (value, cp)
