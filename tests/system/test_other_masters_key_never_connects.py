"""A token naming another master's key never gets through the CURVE handshake:
the worker keeps retrying, logs "handshake", and is never listed."""

import drover_harness as h


def test_other_masters_key_never_connects(make_cluster):
    secret = "shared_secret_42"
    ours = make_cluster(join_secret=secret, name="ours")
    other = make_cluster(join_secret=secret, name="other")
    foreign = other.token
    assert foreign != ours.token and foreign.endswith("." + secret)
    assert other.stop_master() == 0

    rogue = ours.start_worker("rogue", token=foreign)
    h.wait_until(lambda: "handshake" in rogue.output(), timeout=30,
                 desc="the worker to log 'handshake'",
                 fail_if=lambda: rogue.alive() or _died(rogue))

    # Let the master do real work meanwhile: a proper worker joins.
    ours.start_worker("w1")
    nodes = ours.wait_ready("w1")
    assert "rogue" not in h.by_name(nodes), nodes
    assert rogue.alive(), "worker with a foreign key gave up instead of retrying\n" + rogue.describe()
    nodes = ours.nodes()
    assert [n["name"] for n in nodes] == ["w1"], nodes


def _died(proc):
    raise AssertionError("worker with a foreign key exited (status %s) instead of retrying\n%s"
                         % (proc.returncode, proc.describe()))
