"""The child process that makes a SQLite rebuild's writes (``writeprocess``; issue 9).

Run as a script by ``writeprocess.ProcessQueue`` (``python sqlite_writer.py PATH``): it opens the
SQLite file at PATH on a connection of its own and reads framed messages from its standard input
(``frame``: an 8-byte length, then a pickle), until the input ends:

- ``("rows", statement, rows)``: an executemany, in the transaction open (one is begun, ``BEGIN
  IMMEDIATE``, by the first write after a commit);
- ``("commit",)``: the open transaction committed, then one answer on standard output — ``OK``,
  or ``FAILED`` and the pickled exception of the first write that failed (the parent reads it when
  it needs to know: before its next commit, or before it reads).

After a failure nothing more is executed or committed (the rest of the batch would be wrong
without it) and every later commit answers with that failure. At the end of its input the child
closes its connection without committing what a failure or a parent that died left open: a
rebuild's target is disposable until it is swapped in (``rebuild._unjournalled``), so no partial
batch is ever used.

Standard library only, and no import of ``staffing``: the child starts in ~30 ms.
"""

from __future__ import annotations

import contextlib
import pickle
import sqlite3
import struct
import sys
from datetime import date
from typing import Any, BinaryIO

#: a frame's length prefix (unsigned, little-endian, 8 bytes)
HEADER = struct.Struct("<Q")
OK, FAILED = b"\x00", b"\x01"
# dates as ISO text, as the parent's own writes store them (``bulk``)
sqlite3.register_adapter(date, date.isoformat)
#: the child's connection: without syncs, as the rebuild's own (``rebuild._unjournalled``), waiting up
#: to a minute for the parent's reads to end, with the page cache of the ledger's writer
PRAGMAS = ("synchronous=OFF", "busy_timeout=60000", "cache_size=-65536")


def frame(message: Any) -> bytes:
    data = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
    return HEADER.pack(len(data)) + data


def read_exactly(stream: BinaryIO, size: int) -> bytes | None:
    """``size`` bytes from ``stream``; None where it ends first (the parent closed it or died)."""
    chunks, left = [], size
    while left:
        chunk = stream.read(left)
        if not chunk:
            return None
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


def messages(stream: BinaryIO) -> Any:
    """Each framed message of ``stream``, until it ends."""
    while (header := read_exactly(stream, HEADER.size)) is not None:
        body = read_exactly(stream, HEADER.unpack(header)[0])
        if body is None:
            return
        yield pickle.loads(body)


def failure_answer(error: BaseException) -> bytes:
    """``FAILED`` and ``error`` pickled (as a ``RuntimeError`` naming it, where it cannot be)."""
    try:
        data = pickle.dumps(error)
        pickle.loads(data)
    except Exception:
        data = pickle.dumps(RuntimeError(f"{type(error).__name__}: {error}"))
    return FAILED + HEADER.pack(len(data)) + data


def serve(path: str, inp: BinaryIO, out: BinaryIO) -> None:
    """Make the writes framed on ``inp`` into the SQLite file at ``path``; answer each commit on ``out``."""
    db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    try:
        for pragma in PRAGMAS:
            db.execute(f"PRAGMA {pragma}")
        # without a journal, as the rebuild's own connection (``rebuild._unjournalled``), unless another
        # connection holds the file in WAL mode, which SQLite then keeps: slower, never unsafe
        with contextlib.suppress(sqlite3.OperationalError):
            db.execute("PRAGMA journal_mode=OFF")
        failed: BaseException | None = None
        for message in messages(inp):
            kind = message[0]
            if kind == "commit":
                if failed is None and db.in_transaction:
                    try:
                        db.execute("COMMIT")
                    except Exception as error:
                        failed = error
                out.write(OK if failed is None else failure_answer(failed))
                out.flush()
                continue
            if failed is not None:
                continue
            try:
                if not db.in_transaction:
                    db.execute("BEGIN IMMEDIATE")
                db.executemany(message[1], message[2])
            except Exception as error:
                failed = error
    finally:
        db.close()


if __name__ == "__main__":
    serve(sys.argv[1], sys.stdin.buffer, sys.stdout.buffer)
