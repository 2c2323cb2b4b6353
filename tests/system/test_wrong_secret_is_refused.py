"""A worker presenting the wrong join secret is refused and never listed."""

import drover_harness as h


def test_wrong_secret_is_refused(cluster):
    prefix, secret = cluster.token.rsplit(".", 1)
    wrong = prefix + ".definitely-not-the-secret"
    assert secret != "definitely-not-the-secret"

    bad = cluster.start_worker("intruder", token=wrong)
    status = bad.wait_exit()
    assert status == 1, "refused worker exited %s, want 1\n%s" % (status, bad.describe())
    assert "refused" in bad.output(), "worker did not say 'refused'\n" + bad.describe()
    h.wait_until(lambda: "refused" in cluster.master.stderr(),
                 desc="the master to log 'refused'")

    # The master is unharmed: a worker with the right token joins, and the
    # intruder never shows up.
    cluster.start_worker("w1")
    nodes = cluster.wait_ready("w1")
    assert "intruder" not in h.by_name(nodes), nodes
    status, body = cluster.api("GET", "/v1/nodes/intruder")
    assert status == 404, (status, body)
