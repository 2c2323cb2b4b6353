"""A REST call parked on a worker when the master is told to stop gets an
answer, 503 with the reason, instead of a connection closed under it: the
CLI prints the master's error and exits 1."""

import signal
import subprocess

import drover_harness as h

# Catches SIGINT and keeps running, so that a stop waits for its timeout.
CATCH_SIGINT = ("import signal, time\n"
                "signal.signal(signal.SIGINT, lambda *a: print('got SIGINT', flush=True))\n"
                "print('ready', flush=True)\n"
                "while True:\n"
                "    time.sleep(1)\n")


def test_parked_stop_is_answered_when_the_master_stops(cluster):
    cluster.start_worker("w1")
    cluster.wait_ready("w1")
    app = cluster.launch("w1", "/usr/bin/python3", ["-c", CATCH_SIGINT], name="catcher")
    h.wait_until(lambda: "ready" in cluster.logs(app["id"]), desc="the app's SIGINT handler")

    argv = cluster._in_ns(cluster.master_ns,
                          [cluster.bin, "stop", app["id"], "--timeout", "60"])
    stop = subprocess.Popen(argv, env=cluster.cli_env(), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        # The app has the SIGINT: the master holds the call for the worker's answer.
        h.wait_until(lambda: "got SIGINT" in cluster.logs(app["id"]),
                     desc="the stop's SIGINT to reach the app")
        assert stop.poll() is None, stop.communicate()
        assert cluster.stop_master(signal.SIGTERM) == 0, cluster.master.describe()
        out, err = stop.communicate(timeout=h.CMD_TIMEOUT)
    finally:
        if stop.poll() is None:
            stop.kill()
            stop.communicate()
    assert stop.returncode == 1, (stop.returncode, out, err)
    assert "the master is shutting down" in err, (out, err)
