"""One writer at a time on a SQLite file, queued rather than retried.

SQLite lets one connection write at a time. One that finds the lock taken waits in SQLite's
busy handler, which polls it after sleeping 1, 2, 5, 10, 15, 20, 25, … 100 ms: under a few
concurrent writers a waiter sleeps on long after the lock came free, while newcomers take it
first, so most writes took a millisecond and the slowest a second (the bench's capture form
p95 0.2–0.9 s with 8 connections). Here every gunicorn thread of every worker queues before
its first write: for a thread lock within its process, which wakes the next thread the moment
it is released, then for `flock` on a lock file beside the database, across processes. Only
the one thread per process holding the thread lock tries the file lock, every 0.1–1 ms (a
blocking `flock` could not give up after the busy timeout).

The lock is taken at a transaction's first INSERT, UPDATE, DELETE or REPLACE (where Python's
sqlite3 begins the transaction) and released when it commits or rolls back, or the
connection closes. A wait is bounded by the busy timeout, after which it fails as SQLite
would ("database is locked"). A thread that already writes through another connection does
not queue behind itself: it goes straight to SQLite, as it did before. Statements that do
not write, and other programs (the CLI, migrations), are not queued: SQLite still guards
them as before.
"""

import fcntl
import os
import sqlite3
import threading
import time

WRITES = ("INSERT", "UPDATE", "DELETE", "REPLACE")
# How long a queued writer sleeps between tries of the other processes' lock.
POLL_SECONDS = (0.0001, 0.0002, 0.0005, 0.001)


def is_write(statement: str) -> bool:
    return statement.lstrip()[:7].upper().startswith(WRITES)


class WriterLock:
    """The queue for one database file, shared by the connections of one process."""

    def __init__(self, path: str, timeout: float):
        self.path, self.timeout = path, timeout
        self._process = threading.Lock()
        self._owner: int | None = None  # the thread holding it
        self._fd: int | None = None
        self._pid: int | None = None

    def _file(self) -> int:
        # A forked worker opens its own: a descriptor inherited from the parent shares its lock.
        if self._fd is None or self._pid != os.getpid():
            self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
            self._pid = os.getpid()
        return self._fd

    def held_here(self) -> bool:
        return self._owner == threading.get_ident()

    def acquire(self) -> bool:
        """Queue for the lock; False when this thread already holds it (through another
        connection: it must not wait for itself). Raises sqlite3.OperationalError after the
        timeout."""
        if self.held_here():
            return False
        deadline = time.monotonic() + self.timeout
        if not self._process.acquire(timeout=self.timeout):
            raise sqlite3.OperationalError("database is locked")
        try:
            fd, tries = self._file(), 0
            while True:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() >= deadline:
                        raise sqlite3.OperationalError("database is locked") from None
                    time.sleep(POLL_SECONDS[min(tries, len(POLL_SECONDS) - 1)])
                    tries += 1
        except BaseException:
            self._process.release()
            raise
        self._owner = threading.get_ident()
        return True

    def release(self) -> None:
        self._owner = None
        fcntl.flock(self._file(), fcntl.LOCK_UN)
        self._process.release()


class QueuedCursor(sqlite3.Cursor):
    def execute(self, sql, parameters=(), /):
        self.connection.queue_for(sql)
        try:
            return super().execute(sql, parameters)
        finally:
            self.connection.release_if_done()

    def executemany(self, sql, seq_of_parameters, /):
        self.connection.queue_for(sql)
        try:
            return super().executemany(sql, seq_of_parameters)
        finally:
            self.connection.release_if_done()


class QueuedConnection(sqlite3.Connection):
    """A sqlite3 connection whose writes queue for the database's WriterLock."""

    writer_lock: WriterLock  # set on the subclass made for each database file

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._holding = False

    def cursor(self, factory=QueuedCursor):
        return super().cursor(factory)

    # sqlite3's own shortcuts make a plain cursor, not through cursor().
    def execute(self, sql, parameters=(), /):
        return self.cursor().execute(sql, parameters)

    def executemany(self, sql, seq_of_parameters, /):
        return self.cursor().executemany(sql, seq_of_parameters)

    def queue_for(self, sql: str) -> None:
        if not self._holding and is_write(sql):
            self._holding = self.writer_lock.acquire()

    def release_if_done(self) -> None:
        if self._holding and not self.in_transaction:
            self._release()

    def _release(self) -> None:
        self._holding = False
        self.writer_lock.release()

    def _ending(self, end) -> None:
        try:
            end()
        finally:
            if self._holding:
                self._release()

    def commit(self):
        self._ending(super().commit)

    def rollback(self):
        self._ending(super().rollback)

    def close(self):
        self._ending(super().close)

    def __del__(self):  # dropped unclosed, as a pool drops an invalidated connection
        if getattr(self, "_holding", False):
            self._release()


def connection_factory(database: str, timeout: float = 5.0) -> type[QueuedConnection]:
    """The sqlite3 connection class for one database file (`connect_args={"factory": …}`)."""
    lock = WriterLock(os.path.abspath(database) + "-writer.lock", timeout)
    return type("QueuedConnection", (QueuedConnection,), {"writer_lock": lock})
