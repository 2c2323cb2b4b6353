"""The audit trail: a launch, an app's exit, a stop, a node going
unavailable and coming back are each recorded as events (GET /v1/events,
`drover events`), filtered by app and by node, and `drover events --follow`
prints an event that happens after it started."""

import json
import re
import time

import pytest

import drover_harness as h

pytestmark = pytest.mark.netns


def _find(events, kind, event, node=None, app=None):
    """The events of this kind whose detail.event is event (and node, app)."""
    return [e for e in events
            if e.get("kind") == kind and (e.get("detail") or {}).get("event") == event
            and (node is None or e.get("node") == node)
            and (app is None or e.get("app") == app)]


def _assert_filtered(filtered, full, pred):
    """filtered holds exactly the events of full (read after it) that match
    pred, up to filtered's last id."""
    __tracebackhide__ = True
    last = filtered[-1]["id"] if filtered else 0
    want = [e["id"] for e in full if pred(e) and e["id"] <= last]
    assert [e["id"] for e in filtered] == want, (filtered, full)


def _text_rows(text):
    """Rows of `drover events`: ID DATE TIME KIND NODE APP DETAIL."""
    rows = []
    for line in text.splitlines():
        if not line.strip():
            continue
        tokens = line.split(None, 6)
        assert len(tokens) == 7 and tokens[0].isdigit(), "not an events line: %r" % line
        rows.append({"id": int(tokens[0]), "kind": tokens[3], "node": tokens[4],
                     "app": tokens[5], "detail": json.loads(tokens[6])})
    return rows


def test_events_record_changes(netns_cluster, tmp_path):
    c = netns_cluster
    began_ms = int(time.time() * 1000)
    c.start_worker("w1")
    c.start_worker("w2")
    c.wait_ready("w1", "w2", timeout=30)

    flag = str(tmp_path / "exit-now")
    quitter_prog = h.write_script(tmp_path, "wait-then-exit3.sh",
                                  "#!/bin/sh\nwhile [ ! -e '%s' ]; do sleep 0.05; done\nexit 3\n" % flag)
    keeper = c.launch("w1", "/bin/sleep", ["600"], name="keeper")
    quitter = c.launch("w2", quitter_prog, name="quitter")
    c.wait_state(quitter["id"], "sleeping", "running")
    with open(flag, "w"):
        pass
    assert c.wait_dead(quitter["id"])["cause"] == "exited 3"

    status, body = c.api("POST", "/v1/apps/%s/stop" % keeper["id"], {"timeout_s": 5})
    assert status == 200, (status, body)
    c.wait_dead(keeper["id"])

    c.link_down("w2")
    c.wait_nodes(lambda ns: h.by_name(ns)["w2"]["state"] == "unavailable", timeout=30,
                 desc="w2 unavailable")
    c.link_up("w2")
    c.wait_ready("w2", timeout=60)

    def recorded():
        ev = h.events(c)
        down = _find(ev, "node", "unavailable", node="w2")
        up = [e for e in _find(ev, "node", "ready", node="w2")
              if down and e["id"] > down[-1]["id"]]
        return ev if down and up else None
    events = h.wait_until(recorded, timeout=20, desc="w2's unavailable and ready events",
                          fail_if=c._check_master_alive)

    ids = [e["id"] for e in events]
    assert ids == sorted(ids) and len(set(ids)) == len(ids), "events out of order: %r" % ids
    for e in events:
        assert set(e) >= {"id", "at", "kind", "detail"}, e
        assert e["at"] >= began_ms - 5000, e

    launched = _find(events, "api", "launched", node="w1", app=keeper["id"])
    assert len(launched) == 1, events
    assert launched[0]["detail"].get("path") == "/bin/sleep", launched
    # The caller is named by a fingerprint of its token, never the token.
    by = launched[0]["detail"].get("by", "")
    assert re.fullmatch(r"admin-[0-9a-f]{8}", by), launched
    assert c.admin_token not in json.dumps(events)
    assert len(_find(events, "api", "launched", node="w2", app=quitter["id"])) == 1, events
    ended = _find(events, "app", "ended", node="w2", app=quitter["id"])
    assert len(ended) == 1 and ended[0]["detail"].get("cause") == "exited 3", ended or events
    signalled = _find(events, "api", "signalled", node="w1", app=keeper["id"])
    assert len(signalled) == 1, events
    assert signalled[0]["detail"].get("ended_by") == "SIGINT", signalled
    assert signalled[0]["id"] > launched[0]["id"]
    for name in ("w1", "w2"):
        assert _find(events, "node", "registered", node=name), "no registered event for %s: %r" % (
            name, events)
    down = _find(events, "node", "unavailable", node="w2")
    assert down and down[-1]["id"] > ended[0]["id"], events

    # Filtered by app: only that app's events, all of them.  (Nodes may
    # flap on a loaded machine and add events meanwhile: each filtered list
    # is compared with a full list read after it, up to its own last id.)
    by_app = h.events(c, "?app=" + keeper["id"])
    assert by_app and all(e.get("app") == keeper["id"] for e in by_app), by_app
    _assert_filtered(by_app, h.events(c), lambda e: e.get("app") == keeper["id"])
    # Filtered by node.
    by_node = h.events(c, "?node=w2")
    assert by_node and all(e.get("node") == "w2" for e in by_node), by_node
    _assert_filtered(by_node, h.events(c), lambda e: e.get("node") == "w2")
    assert {(e["kind"], e["detail"].get("event")) for e in by_node} >= {
        ("node", "registered"), ("node", "unavailable"), ("node", "ready"),
        ("api", "launched"), ("app", "ended")}, by_node
    # after= and since=.
    full = h.events(c)
    assert [e["id"] for e in h.events(c, "?after=%d" % ids[0])][:len(ids) - 1] == ids[1:]
    newest = full[-1]["id"]
    assert all(e["id"] > newest for e in h.events(c, "?after=%d" % newest))
    assert h.events(c, "?since=%d" % (int(time.time() * 1000) + 3600 * 1000)) == []

    # The same through the CLI.
    rows = _text_rows(c.cli("events", "--app", keeper["id"]).stdout)
    assert [r["id"] for r in rows] == [e["id"] for e in by_app], rows
    assert all(r["app"] == keeper["id"] and r["node"] == "w1" for r in rows), rows
    assert [r["detail"].get("event") for r in rows if r["kind"] == "api"] == ["launched", "signalled"], rows
    as_json = json.loads(c.cli("events", "--node", "w2", "--json").stdout)
    assert all(e.get("node") == "w2" for e in as_json), as_json
    _assert_filtered(as_json, h.events(c), lambda e: e.get("node") == "w2")
    assert [e["id"] for e in as_json][:len(by_node)] == [e["id"] for e in by_node], as_json
    recent = json.loads(c.cli("events", "--since", "10m", "--json").stdout)
    assert set(ids) <= {e["id"] for e in recent}, recent
    rows = _text_rows(c.cli("events", "--node", "w1", "--app", keeper["id"]).stdout)
    assert [r["id"] for r in rows] == [e["id"] for e in by_app], rows

    # --follow prints what happens after it started.
    follow = h.Proc("events-follow", c._in_ns(c.master_ns, [c.bin, "events", "--follow"]),
                    c.logdir, env=c.cli_env())
    try:
        last = ids[-1]
        h.wait_until(lambda: any(r["id"] >= last for r in _text_rows(follow.stdout())),
                     desc="events --follow to print the events so far",
                     fail_if=lambda: follow.alive() or pytest.fail(follow.describe()))
        later = c.launch("w1", "/bin/sleep", ["600"], name="later")

        def printed():
            return [r for r in _text_rows(follow.stdout())
                    if r["app"] == later["id"] and r["kind"] == "api"
                    and r["detail"].get("event") == "launched"]
        h.wait_until(printed, desc="events --follow to print %s's launch" % later["id"],
                     fail_if=lambda: follow.alive() or pytest.fail(follow.describe()))
        rows = _text_rows(follow.stdout())
        assert [r["id"] for r in rows] == sorted({r["id"] for r in rows}), "repeated or out of order:\n" + follow.stdout()
        assert follow.alive(), follow.describe()
    finally:
        follow.stop()
    assert follow.stderr().strip() == "", follow.describe()
