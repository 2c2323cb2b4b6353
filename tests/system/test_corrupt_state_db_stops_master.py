"""A damaged STATE/state.db, or one written by a drover with an unknown
schema version, stops the master at start-up: it exits non-zero, its
stderr names the file, and the file is left as it was (no new, empty
cluster is started over it)."""

import os
import sqlite3

import drover_harness as h


def _stopped_cluster(make_cluster):
    """A master that ran once (so state.db exists) and stopped cleanly."""
    c = make_cluster()
    status = c.stop_master()
    assert status == 0, "master exited %s on SIGTERM\n%s" % (status, c.master.describe())
    db = os.path.join(c.state_dir, "state.db")
    assert os.path.isfile(db), "no state database after a clean stop: %s" % db
    return c, db


def _start_refused(c, db):
    """Run `drover master` on c's state dir; assert it exits non-zero (by
    itself, within the deadline) naming db on stderr."""
    cp = h.run(c.master_argv(), timeout=30)
    assert cp.returncode != 0, "master started over %s:\nstdout:\n%s\nstderr:\n%s" % (
        db, cp.stdout, cp.stderr)
    assert db in cp.stderr, "stderr does not name %s:\n%s" % (db, cp.stderr)
    return cp


def _drop_wal(db):
    for suffix in ("-wal", "-shm"):
        try:
            os.unlink(db + suffix)
        except FileNotFoundError:
            pass


def test_corrupt_state_db_stops_master(make_cluster):
    c, db = _stopped_cluster(make_cluster)
    _drop_wal(db)
    garbage = b"this is not an SQLite database\n" + bytes(range(256)) * 64
    with open(db, "wb") as f:
        f.write(garbage)

    _start_refused(c, db)
    with open(db, "rb") as f:
        assert f.read() == garbage, "the master rewrote the damaged %s" % db


def test_damaged_pages_stop_master(make_cluster):
    """A real SQLite file whose pages past the header are overwritten."""
    c, db = _stopped_cluster(make_cluster)
    _drop_wal(db)
    size = os.path.getsize(db)
    assert size > 4096, "state.db unexpectedly small: %d bytes" % size
    with open(db, "r+b") as f:
        f.seek(100)          # keep the 100-byte header, ruin the rest
        f.write(b"\xa5" * (size - 100))
    with open(db, "rb") as f:
        before = f.read()

    _start_refused(c, db)
    with open(db, "rb") as f:
        assert f.read() == before, "the master rewrote the damaged %s" % db


def test_unknown_schema_version_stops_master(make_cluster):
    c, db = _stopped_cluster(make_cluster)
    con = sqlite3.connect(db)
    try:
        (version,) = con.execute("SELECT value FROM meta WHERE key = 'schema'").fetchone()
        newer = int(version) + 1000
        con.execute("UPDATE meta SET value = ? WHERE key = 'schema'", (str(newer),))
        con.commit()
    finally:
        con.close()

    cp = _start_refused(c, db)
    con = sqlite3.connect(db)
    try:
        (after,) = con.execute("SELECT value FROM meta WHERE key = 'schema'").fetchone()
    finally:
        con.close()
    assert int(after) == newer, "the master changed the schema version of %s to %s\n%s" % (
        db, after, cp.stderr)
