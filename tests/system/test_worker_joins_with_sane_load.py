"""A worker joins a loopback master and its node reports sane fields."""

import os

import drover_harness as h


def _meminfo_total_kb():
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith("MemTotal:"):
                return int(line.split()[1])
    return None


def test_worker_joins_with_sane_load(cluster):
    cluster.start_worker("w1")

    def sane(nodes):
        d = h.by_name(nodes)
        n = d.get("w1")
        return (n is not None and n.get("state") == "ready"
                and isinstance(n.get("cpus"), int) and n["cpus"] > 0
                and isinstance(n.get("mem_total_kb"), int) and n["mem_total_kb"] > 0)

    nodes = cluster.wait_nodes(sane, desc="w1 ready and reporting cpus/mem_total_kb")
    assert [n["name"] for n in nodes] == ["w1"]
    n = nodes[0]
    for field in ("name", "address", "state", "last_seen_ms", "cpu_pct", "mem_pct",
                  "cpus", "mem_total_kb", "apps"):
        assert field in n, "node lacks %r: %r" % (field, n)
    assert h.ipv4_of(n["address"]) == "127.0.0.1", n
    assert 1 <= n["cpus"] <= (os.cpu_count() or 1024), n
    total = _meminfo_total_kb()
    assert total is None or n["mem_total_kb"] <= total, n
    assert isinstance(n["cpu_pct"], (int, float)) and 0 <= n["cpu_pct"] <= 100, n
    assert isinstance(n["mem_pct"], (int, float)) and 0 <= n["mem_pct"] <= 100, n
    assert isinstance(n["last_seen_ms"], (int, float)) and n["last_seen_ms"] >= 0, n

    status, one = cluster.api("GET", "/v1/nodes/w1")
    assert status == 200, (status, one)
    assert isinstance(one, dict) and one.get("name") == "w1", one
    assert one.get("state") == "ready", one

    # The worker wrote its keypair into its dir.
    assert os.path.isfile(os.path.join(cluster.worker_dirs["w1"], "worker.key"))
