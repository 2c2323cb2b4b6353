"""`drover nodes` prints a table; --json prints GET /v1/nodes."""

import json

import drover_harness as h


def test_nodes_table_and_json(cluster):
    cluster.start_worker("w1")
    cluster.start_worker("w2")
    cluster.wait_ready("w1", "w2")

    cp = cluster.cli("nodes")
    assert h.find_nodes_header(cp.stdout) == 0, "first line is not the header:\n" + cp.stdout
    lines = [l for l in cp.stdout.splitlines() if l.strip()]
    assert len(lines) == 3, "want header + 2 rows:\n" + cp.stdout
    rows = h.nodes_rows(cp.stdout, {"w1", "w2"})
    assert set(rows) == {"w1", "w2"}, cp.stdout
    for name, tokens in rows.items():
        assert tokens[2] == "ready", "STATE column of %s:\n%s" % (name, cp.stdout)
        assert h.ipv4_of(tokens[1]) == "127.0.0.1", "ADDRESS column of %s:\n%s" % (name, cp.stdout)

    for args in (["nodes", "--json"], ["--json", "nodes"]):
        cp = cluster.cli(*args)
        listed = json.loads(cp.stdout)
        assert isinstance(listed, list), cp.stdout
        assert sorted(n["name"] for n in listed) == ["w1", "w2"], cp.stdout
        assert all(n["state"] == "ready" for n in listed), cp.stdout
        for n in listed:
            assert {"name", "address", "state", "last_seen_ms", "cpu_pct", "mem_pct",
                    "cpus", "mem_total_kb", "apps"} <= set(n), n

    # The same, with --api/--token flags instead of the environment.
    env = cluster.cli_env(api=False, token=False)
    cp = cluster.cli("--api", cluster.api_url, "--token", cluster.admin_token, "--json", "nodes",
                     env=env)
    assert sorted(n["name"] for n in json.loads(cp.stdout)) == ["w1", "w2"], cp.stdout


def test_nodes_table_with_no_workers(cluster):
    cp = cluster.cli("nodes")
    assert h.find_nodes_header(cp.stdout) == 0, cp.stdout
    assert json.loads(cluster.cli("nodes", "--json").stdout) == []
