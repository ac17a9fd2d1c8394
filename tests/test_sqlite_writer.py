"""SQLite's writers queue for the database (webapp/sqlite_writer.py) instead of polling it."""

import fcntl
import gc
import os
import sqlite3
import threading
import time

import pytest

from webapp import sqlite_writer
from webapp.config import engine_options


@pytest.fixture
def database(tmp_path):
    path = str(tmp_path / "queue.sqlite3")
    with sqlite3.connect(path) as setup:
        setup.execute("PRAGMA journal_mode=WAL")
        setup.execute("CREATE TABLE calls (id INTEGER PRIMARY KEY, note TEXT)")
    setup.close()
    return path


def connect(factory, path, timeout=2.0):
    return sqlite3.connect(path, factory=factory, timeout=timeout, check_same_thread=False)


def test_only_statements_that_write_queue():
    assert sqlite_writer.is_write("  insert into calls values (1)")
    assert sqlite_writer.is_write("UPDATE calls SET note = 'x'")
    assert sqlite_writer.is_write("DELETE FROM calls")
    assert sqlite_writer.is_write("REPLACE INTO calls VALUES (1, 'x')")
    assert not sqlite_writer.is_write("SELECT * FROM calls")
    assert not sqlite_writer.is_write("PRAGMA journal_mode=WAL")


def test_a_second_writer_waits_for_the_first_to_commit_and_then_writes(database):
    factory = sqlite_writer.connection_factory(database, timeout=5)
    # No busy timeout of SQLite's own: without the queue, the second INSERT fails at once.
    first, second = connect(factory, database), connect(factory, database, timeout=0)
    first.execute("INSERT INTO calls (note) VALUES ('first')")
    done = []

    def write():
        second.execute("INSERT INTO calls (note) VALUES ('second')")
        second.commit()
        done.append(time.monotonic())

    writer = threading.Thread(target=write)
    writer.start()
    time.sleep(0.2)
    assert done == []  # queued behind the open transaction, not failed
    committed = time.monotonic()
    first.commit()
    writer.join(5)
    assert done and done[0] >= committed
    notes = [note for (note,) in first.execute("SELECT note FROM calls ORDER BY id")]
    assert notes == ["first", "second"]


def test_a_rollback_an_error_or_a_close_releases_the_lock(database):
    factory = sqlite_writer.connection_factory(database, timeout=0.5)
    first, second = connect(factory, database), connect(factory, database)
    first.execute("INSERT INTO calls (id, note) VALUES (1, 'kept')")
    first.commit()
    with pytest.raises(sqlite3.IntegrityError):
        first.execute("INSERT INTO calls (id, note) VALUES (1, 'again')")
    first.rollback()
    second.execute("UPDATE calls SET note = 'second' WHERE id = 1")
    second.close()
    first.execute("DELETE FROM calls")
    first.close()  # neither change was committed
    third = connect(factory, database)
    third.execute("INSERT INTO calls (note) VALUES ('third')")
    third.commit()
    assert [note for (note,) in third.execute("SELECT note FROM calls")] == ["kept", "third"]


def test_a_connection_dropped_in_a_transaction_releases_the_lock(database):
    factory = sqlite_writer.connection_factory(database, timeout=0.3)
    dropped = connect(factory, database)
    dropped.execute("INSERT INTO calls (note) VALUES ('never committed')")
    del dropped
    gc.collect()
    later, failed = connect(factory, database), []

    def write():  # from another thread, which the dropped connection's lock would hold up
        try:
            later.execute("INSERT INTO calls (note) VALUES ('later')")
            later.commit()
        except sqlite3.OperationalError as error:
            failed.append(error)

    writer = threading.Thread(target=write)
    writer.start()
    writer.join(5)
    assert failed == []
    assert [note for (note,) in later.execute("SELECT note FROM calls")] == ["later"]


def test_a_thread_writing_through_two_connections_does_not_wait_for_itself(database):
    factory = sqlite_writer.connection_factory(database, timeout=5)
    first, second = connect(factory, database), connect(factory, database, timeout=0.2)
    first.execute("INSERT INTO calls (note) VALUES ('first')")
    started = time.monotonic()
    # SQLite's own busy timeout (0.2 s) answers, as it did before the queue.
    with pytest.raises(sqlite3.OperationalError, match="locked"):
        second.execute("INSERT INTO calls (note) VALUES ('second')")
    assert time.monotonic() - started < 2
    second.rollback()
    first.commit()


def test_a_writer_held_up_by_another_process_fails_as_sqlite_would(database):
    factory = sqlite_writer.connection_factory(database, timeout=0.3)
    other_process = os.open(database + "-writer.lock", os.O_RDWR | os.O_CREAT)
    fcntl.flock(other_process, fcntl.LOCK_EX)
    try:
        waiting = connect(factory, database)
        started = time.monotonic()
        with pytest.raises(sqlite3.OperationalError, match="locked"):
            waiting.execute("INSERT INTO calls (note) VALUES ('late')")
        assert 0.3 <= time.monotonic() - started < 2
        assert waiting.execute("SELECT count(*) FROM calls").fetchone() == (0,)
    finally:
        fcntl.flock(other_process, fcntl.LOCK_UN)
        os.close(other_process)
    waiting.execute("INSERT INTO calls (note) VALUES ('now')")
    waiting.commit()
    assert waiting.execute("SELECT count(*) FROM calls").fetchone() == (1,)


def test_many_threads_write_every_row_once(database):
    factory = sqlite_writer.connection_factory(database, timeout=10)

    def write(worker):
        connection = connect(factory, database)
        for n in range(50):
            connection.execute("INSERT INTO calls (note) VALUES (?)", (f"{worker}-{n}",))
            connection.commit()
        connection.close()

    threads = [threading.Thread(target=write, args=(worker,)) for worker in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    check = sqlite3.connect(database)
    assert check.execute("SELECT count(*), count(DISTINCT note) FROM calls").fetchone() == (300, 300)


def test_the_queue_is_for_sqlite_files_only(monkeypatch, tmp_path):
    file_uri = f"sqlite:///{tmp_path / 'app.sqlite3'}"
    factory = engine_options(file_uri, {})["connect_args"]["factory"]
    assert issubclass(factory, sqlite_writer.QueuedConnection)
    assert factory.writer_lock.path == str(tmp_path / "app.sqlite3") + "-writer.lock"
    assert "connect_args" not in engine_options("sqlite://", {})
    assert "connect_args" not in engine_options("postgresql+psycopg://localhost/x", {})
    monkeypatch.setenv("SQLITE_WRITE_QUEUE", "0")
    assert "connect_args" not in engine_options(file_uri, {})
