"""`drover shell` reads commands from stdin when it is not a terminal."""

import drover_harness as h


def test_shell_runs_nodes(cluster):
    cluster.start_worker("w1")
    cluster.wait_ready("w1")
    cp = cluster.cli("shell", input="nodes\n")
    assert h.find_nodes_header(cp.stdout) >= 0, cp
    rows = h.nodes_rows(cp.stdout, {"w1"})
    assert "w1" in rows and h.row_state(rows["w1"]) == "ready", cp


def test_shell_help_lists_commands(cluster):
    cp = cluster.cli("shell", input="help\n")
    assert "nodes" in cp.stdout, cp
    assert "help" in cp.stdout, cp


def test_shell_goes_on_after_unknown_command(cluster):
    cluster.start_worker("w1")
    cluster.wait_ready("w1")
    cp = cluster.cli("shell", input="nosuchcmd\nnodes\n", check=False)
    said = cp.stdout + cp.stderr
    assert "nosuchcmd" in said or "unknown" in said.lower(), cp
    assert h.find_nodes_header(cp.stdout) >= 0, "shell stopped after the unknown command:\n%s" % cp
    assert "w1" in h.nodes_rows(cp.stdout, {"w1"}), cp
