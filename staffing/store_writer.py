"""The child process that writes an import's transactions into a SQLite event store (``commit_process``;
issue 9: bulk import).

Run by ``commit_process.CommitProcess`` as ``python -m staffing.store_writer PATH TABLE``: it opens the
store at PATH with the library's own SQLite datastore and the ledger's chained recorder (so each
transaction is inserted, chained and committed by exactly the code an import in place runs, with the
library's durability), and reads framed messages from its standard input (``sqlite_writer.frame``)
until the input ends. Each message is one transaction, ``(head, rows, acts)``:

- ``rows``: the stored events (originator id as hex, version, topic, state), inserted in order;
- ``acts``: the legal acts they cite (``ActStore.take_pending``), written in the same transaction;
- ``head``: where the log must stand before it. The first new event must get position ``head + 1``
  (the parent has already told its caller so); if another writer recorded anything since the parent
  looked, the transaction rolls back with ``HeadMoved``.

Each is answered on standard output once committed (``OK``) or rolled back (``FAILED`` and the
pickled exception). After a failure nothing more is written and every later message gets the same
answer: a transaction decided on top of one that did not commit must never be recorded.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import Any, BinaryIO

from eventsourcing.persistence import StoredEvent
from eventsourcing.sqlite import SQLiteDatastore

from staffing.chain import ChainedSQLiteRecorder
from staffing.commit_behind import HeadMoved
from staffing.projections.sqlite_writer import OK, failure_answer, messages

__all__ = ["LOCK_TIMEOUT", "serve"]

#: seconds a write waits for another connection's lock (the store's own ``SQLITE_LOCK_TIMEOUT``)
LOCK_TIMEOUT = 30


class _Given:
    """Stands in for the store's ``ActStore``: the acts the parent sent with the transaction."""

    def __init__(self) -> None:
        self.acts: list[tuple[str, str, str, str]] = []

    def take_pending(self) -> list[tuple[str, str, str, str]]:
        acts, self.acts = self.acts, []
        return acts


def write(recorder: ChainedSQLiteRecorder, head: int, rows: Sequence[tuple[str, int, str, bytes]]) -> None:
    """Insert, chain and commit ``rows`` in one transaction that must begin at ``head + 1``."""
    stored = [StoredEvent(originator_id=o, originator_version=v, topic=t, state=s) for o, v, t, s in rows]
    with recorder.datastore.transaction(commit=True) as cursor:
        ids = recorder._insert_events(cursor, stored) or []
        if ids and ids[0] != head + 1:
            raise HeadMoved(f"the log's head moved from {head} to {ids[0] - 1} while this transaction was "
                            "handed to the store's writer")


def serve(path: str, table: str, inp: BinaryIO, out: BinaryIO) -> None:
    """Write the transactions framed on ``inp`` into the store at ``path``; answer each on ``out``."""
    recorder = ChainedSQLiteRecorder(SQLiteDatastore(path, lock_timeout=LOCK_TIMEOUT, pool_size=1),
                                     events_table_name=table)
    given = _Given()
    recorder.acts = given  # type: ignore[attr-defined]
    failed: BaseException | None = None
    try:
        for head, rows, acts in messages(inp):
            if failed is None:
                given.acts = acts
                try:
                    write(recorder, head, rows)
                except Exception as error:  # noqa: BLE001 - every failure goes back to the parent
                    failed = error
            out.write(OK if failed is None else failure_answer(failed))
            out.flush()
    finally:
        recorder.datastore.close()


def main(argv: list[str], inp: Any = None, out: Any = None) -> None:
    serve(argv[0], argv[1], inp or sys.stdin.buffer, out or sys.stdout.buffer)


if __name__ == "__main__":
    main(sys.argv[1:])
