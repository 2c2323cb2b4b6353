"""Fixtures for drover's system tests (see drover_harness.py).

    cluster        a loopback cluster, master started, no workers yet
    make_cluster   factory: make_cluster(mode="loopback"|"netns", start=True, **Cluster kwargs)
    netns_cluster  a cluster across network namespaces, master started

Every cluster is closed at teardown, whatever the test did.  When a test
fails, the tails of every process's stdout/stderr are added to its report.
"""

import os
import shutil

import pytest

import drover_harness as h


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "netns: needs root and iproute2; builds network namespaces and a bridge")
    config.addinivalue_line(
        "markers", "faults: fault injection under load (test_faults.py): kills, stops, "
        "cut and lossy links, a full disk, garbage and slow peers")


def pytest_terminal_summary(terminalreporter):
    """The fault-injection table (h.FAULT_RESULTS), when faults ran."""
    rows = h.FAULT_RESULTS
    if not rows:
        return
    tr = terminalreporter
    tr.section("fault injection")
    widths = [max(len(str(r[i])) for r in rows + [("FAULT", "CHECKED", "RESULT")])
              for i in range(3)]
    for r in [("FAULT", "CHECKED", "RESULT")] + rows:
        tr.write_line("  ".join(str(c).ljust(w) for c, w in zip(r, widths)).rstrip())


@pytest.fixture(scope="session")
def drover_bin():
    path = h.drover_bin()
    if not (os.path.isfile(path) and os.access(path, os.X_OK)):
        pytest.skip("drover binary not built: %s (set DROVER_BIN)" % path)
    return path


@pytest.fixture
def make_cluster(request, tmp_path, drover_bin):
    clusters = []
    request.node._drover_clusters = clusters

    def make(mode="loopback", start=True, name=None, **kw):
        if mode == "netns":
            if os.geteuid() != 0:
                pytest.skip("network namespace tests need root")
            if shutil.which("ip") is None:
                pytest.skip("network namespace tests need iproute2")
        c = h.Cluster(tmp_path, mode=mode, name=name or "c%d" % (len(clusters) + 1), **kw)
        clusters.append(c)
        if start:
            c.start_master()
        return c

    yield make
    errors = []
    for c in reversed(clusters):
        try:
            c.close()
        except Exception as e:
            errors.append(repr(e))
    if errors:
        pytest.fail("cleanup failed: " + "; ".join(errors))


@pytest.fixture
def cluster(make_cluster):
    return make_cluster()


@pytest.fixture
def netns_cluster(make_cluster):
    return make_cluster(mode="netns")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if report.failed and call.when in ("setup", "call"):
        for c in getattr(item, "_drover_clusters", []):
            try:
                report.sections.append(("drover processes: cluster %s" % c.name, c.describe()))
            except Exception as e:  # diagnostics must never hide the failure
                report.sections.append(("drover processes", "could not describe: %r" % e))
