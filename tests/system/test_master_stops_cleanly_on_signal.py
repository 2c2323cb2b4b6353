"""The master runs until SIGINT or SIGTERM and then exits 0."""

import signal

import pytest


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_master_stops_cleanly_on_signal(cluster, sig):
    cluster.start_worker("w1")
    cluster.wait_ready("w1")
    status = cluster.stop_master(sig)
    assert status == 0, "master exited %s on %s" % (status, sig.name)
