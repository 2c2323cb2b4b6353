"""A "count" that is not an integer from 1 to 1000 (0, 1001, "3", 2.5,
true, null, -1) is refused with 400 naming the field and the range, before
anything is sent or recorded; `launch --count` with such a value is a
usage error (exit 2, with the usage) and launches nothing."""

import pytest

import drover_harness as h


@pytest.fixture
def one_worker(cluster):
    cluster.start_worker("w1")
    cluster.wait_ready("w1")
    return cluster


def test_bad_count_is_refused_over_rest(one_worker):
    c = one_worker
    for bad in (0, 1001, "3", 2.5, True, None, -1, [2], {"n": 2}):
        status, reply = c.api("POST", "/v1/apps", {"node": "w1", "path": "/bin/sleep",
                                                   "args": ["600"], "count": bad})
        assert status == 400, (bad, status, reply)
        assert reply == {"error": "field 'count' must be an integer from 1 to 1000"}, (bad, reply)
    assert c.apps() == [], c.apps()
    assert h.detail_events(h.events(c), "launched") == []


def test_bad_count_is_a_cli_usage_error(one_worker):
    c = one_worker
    for bad in ("0", "1001", "abc", "2.5", "-1", "", "3x", "0x3"):
        cp = c.cli("launch", "w1", "/bin/sleep", "--count", bad, "--", "600", check=False)
        assert cp.returncode == 2, (bad, cp)
        assert cp.stdout == "", (bad, cp)
        assert "--count takes a number from 1 to 1000" in cp.stderr, (bad, cp)
        assert "usage: launch " in cp.stderr and "[--count N]" in cp.stderr, (bad, cp)
    assert c.apps() == [], c.apps()
    cp = c.cli("help", "launch")
    assert "[--count N]" in cp.stdout, cp
