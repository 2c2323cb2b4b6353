"""A worker stopped with SIGTERM takes its apps' process groups with it."""

import signal

import drover_harness as h


def test_worker_sigterm_kills_its_apps(cluster):
    cluster.start_worker("w1")
    cluster.wait_ready("w1")
    apps = [cluster.launch("w1", "/bin/sleep", ["600"]),
            cluster.launch("w1", "/bin/sh", ["-c", "sleep 600 & sleep 600"], name="forker")]
    for app in apps:
        cluster.wait_state(app["id"], "sleeping")
    kids = h.wait_until(lambda: len(h.proc_children(apps[1]["pid"])) == 2
                        and h.proc_children(apps[1]["pid"]), desc="the shell's children")
    for k in kids:
        cluster.track_app({"pid": k})
    pids = [a["pid"] for a in apps] + kids

    cluster.workers["w1"].send_signal(signal.SIGTERM)
    status = cluster.workers["w1"].wait_exit()
    assert status == 0, cluster.workers["w1"].describe()
    h.wait_until(lambda: not any(h.pid_alive(p) for p in pids),
                 desc="every app process %s to be gone" % pids)
