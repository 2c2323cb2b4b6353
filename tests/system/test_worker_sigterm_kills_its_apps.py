"""A worker stopped with SIGTERM leaves its apps running under the supervisor
(the next worker on the same dir adopts them); started with
--stop-apps-on-exit (as `drover dev` starts its workers) it takes their
process groups with it."""

import signal

import drover_harness as h


def _launch_two(cluster):
    apps = [cluster.launch("w1", "/bin/sleep", ["600"]),
            cluster.launch("w1", "/bin/sh", ["-c", "sleep 600 & sleep 600"], name="forker")]
    for app in apps:
        cluster.wait_state(app["id"], "sleeping")
    kids = h.wait_until(lambda: len(h.proc_children(apps[1]["pid"])) == 2
                        and h.proc_children(apps[1]["pid"]), desc="the shell's children")
    for k in kids:
        cluster.track_app({"pid": k})
    return [a["pid"] for a in apps] + kids


def test_worker_sigterm_leaves_its_apps_running(cluster):
    cluster.start_worker("w1")
    cluster.wait_ready("w1")
    pids = _launch_two(cluster)
    starts = {p: h.proc_starttime(p) for p in pids}

    cluster.workers["w1"].send_signal(signal.SIGTERM)
    status = cluster.workers["w1"].wait_exit()
    assert status == 0, cluster.workers["w1"].describe()
    # Still the same processes, well after the worker is gone.
    h.wait_until(lambda: "stopping on" in cluster.workers["w1"].stderr(),
                 desc="the worker's stop line")
    assert all(h.proc_starttime(p) == starts[p] for p in pids), \
        "an app died with its worker: %s" % {p: h.pid_alive(p) for p in pids}


def test_worker_sigterm_with_stop_apps_on_exit_kills_its_apps(cluster):
    cluster.start_worker("w1", extra_args=["--stop-apps-on-exit"])
    cluster.wait_ready("w1")
    pids = _launch_two(cluster)

    cluster.workers["w1"].send_signal(signal.SIGTERM)
    status = cluster.workers["w1"].wait_exit()
    assert status == 0, cluster.workers["w1"].describe()
    h.wait_until(lambda: not any(h.pid_alive(p) for p in pids),
                 desc="every app process %s to be gone" % pids)
