"""A second worker under a taken name but with another key is refused while
the first one is ready."""

import os

import drover_harness as h


def test_duplicate_name_refused_while_ready(cluster, tmp_path):
    first = cluster.start_worker("w1")
    cluster.wait_ready("w1")

    other_dir = os.path.join(str(tmp_path), "impostor-dir")
    impostor = cluster.start_worker("w1", dir=other_dir)
    status = impostor.wait_exit()
    assert status == 1, "impostor exited %s, want 1\n%s" % (status, impostor.describe())
    assert "refused" in impostor.output(), impostor.describe()

    assert first.alive(), first.describe()
    nodes = cluster.wait_ready("w1")
    assert len(nodes) == 1, nodes
