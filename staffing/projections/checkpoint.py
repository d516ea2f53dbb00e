"""Checkpoints of the read models' write-ahead log, off the committing thread (SQLite; issue 9).

Why: in WAL mode SQLite copies the log back into the database file (a *checkpoint*) inside the
commit that takes the log past ``wal_autocheckpoint`` pages (1,000 by default), with the file
syncs the copy needs. The projector commits once per group of interactive commands, and with 32
callers at once checkpoints were ~20% of projecting their groups (py-spy; the commit itself fell
from 36% to 15% of the projection without them), paid by whichever group crossed the threshold.

Here a thread with its own connection runs a PASSIVE checkpoint shortly after commits (at most one
per ``interval``). sqlite3 releases the GIL while it runs, so the copy proceeds on the other core
and no commit waits for it. A PASSIVE checkpoint never blocks a writer or a reader: frames a reader
still needs are left for the next round. The writers keep SQLite's own automatic checkpoint as a
backstop at ``BACKSTOP`` pages, for a log that grows faster than the thread copies it (a bulk
catch-up), so the log stays bounded with or without the thread. Nothing here changes what is
stored: checkpointing only moves committed pages from the log into the file.

Only the live ledger's engines have one (``make_engines(..., checkpoint=True)``, from
``bootstrap.build``): a rebuild target must stay free of other connections (``rebuild`` switches it
out of WAL mode, which SQLite refuses while another connection has the file open), and
``ViewEngines.dispose`` stops the thread and closes its connection, as ``swap_in`` requires.
"""

from __future__ import annotations

import sqlite3
import threading
from contextlib import closing

__all__ = ["BACKSTOP", "Checkpointer"]

#: the writers' own automatic checkpoint, in pages (~40 MB of log at SQLite's 4 KiB pages)
BACKSTOP = 10_000


class Checkpointer:
    """Runs ``PRAGMA wal_checkpoint(PASSIVE)`` on ``path`` in a thread, after each ``poke``."""

    def __init__(self, path: str, interval: float = 0.25) -> None:
        self.path = path
        self.interval = interval
        self.rounds = 0  # checkpoints run
        self.copied = 0  # log frames they copied into the file
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    def poke(self) -> None:
        """A commit is under way: checkpoint once it has landed (the thread waits ``interval`` first)."""
        if self._thread is None:
            with self._lock:
                if self._thread is None and not self._stop.is_set():
                    self._thread = threading.Thread(target=self._run, name="wal-checkpoint", daemon=True)
                    self._thread.start()
        self._wake.set()

    def close(self) -> None:
        """Stop the thread (it finishes a checkpoint under way) and close its connection."""
        with self._lock:
            self._stop.set()
            self._wake.set()
            thread = self._thread
        if thread is not None:
            thread.join()

    def _run(self) -> None:
        with closing(sqlite3.connect(self.path, timeout=0, check_same_thread=False)) as db:
            while True:
                self._wake.wait()
                if self._stop.wait(self.interval):  # commits poked within the interval land first
                    return
                self._wake.clear()
                if self._stop.is_set():  # ``close`` sets the stop before the wake this clear may have taken
                    return
                try:
                    _, _, copied = db.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
                except sqlite3.OperationalError:  # locked by a writer switching journal modes: next round
                    continue
                self.rounds += 1
                self.copied += max(copied, 0)
