"""The child process that makes a SQLite rebuild's writes (``writeprocess``; issue 9).

Run as a script by ``writeprocess.ProcessQueue`` (``python sqlite_writer.py PATH [CACHE_KIB]``): it
opens the SQLite file at PATH on a connection of its own (a page cache of CACHE_KIB, ``CACHE_KIB`` by
default) and reads framed messages from its standard input
(``frame``: an 8-byte length, then a pickle), until the input ends:

- ``("rows", statement, rows)``: an executemany, committed on its own;
- ``("commit",)``: the end of a batch: one answer on standard output — ``OK``, or ``FAILED`` and
  the pickled exception of the first write that failed (the parent reads it when it needs to
  know: before its next commit, or before it reads).

Each write is its own transaction, not each batch, so the file's lock is never held across two
messages. Why (issue 9): a national batch's writes outgrow the child's page cache, and SQLite then
spills pages into the file mid-transaction, holding its exclusive lock until the commit; a
read-back on the parent's second connection in the next batch's flush (``rebuild._reading_back``)
then waited for a commit that would only come after that flush: a deadlock, ended by the busy
timeout ("database is locked", the whole national history, section 51). Committed write by write,
the lock is released after each statement, which waits on no one. Nothing reads a batch's rows
before its end but the rebuild itself, which waits for that commit's answer (``writeprocess``);
the target is disposable until swapped in, so a batch committed part-way by a failure is never used.

After a failure nothing more is executed (the rest of the batch would be wrong without it) and
every later commit answers with that failure. At the end of its input the child closes its
connection, which rolls back the failed write's own transaction: a rebuild's target is disposable
until it is swapped in (``rebuild._unjournalled``), so no partial batch is ever used.

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
PRAGMAS = ("synchronous=OFF", "busy_timeout=60000")
#: its page cache in KiB (the ledger writer's), unless the parent gives another (a test's small one)
CACHE_KIB = 65536


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


#: what ``read_frame`` gives where its stream ends first
END = object()


def read_frame(stream: BinaryIO) -> Any:
    """The next framed message of ``stream`` (``frame``), unpickled; ``END`` where the stream ends first."""
    header = read_exactly(stream, HEADER.size)
    body = None if header is None else read_exactly(stream, HEADER.unpack(header)[0])
    return END if body is None else pickle.loads(body)


def messages(stream: BinaryIO) -> Any:
    """Each framed message of ``stream``, until it ends."""
    while (message := read_frame(stream)) is not END:
        yield message


def failure_answer(error: BaseException) -> bytes:
    """``FAILED`` and ``error`` pickled (as a ``RuntimeError`` naming it, where it cannot be)."""
    try:
        pickle.loads(pickle.dumps(error))
    except Exception:
        error = RuntimeError(f"{type(error).__name__}: {error}")
    return FAILED + frame(error)


def serve(path: str, inp: BinaryIO, out: BinaryIO, cache_kib: int = CACHE_KIB) -> None:
    """Make the writes framed on ``inp`` into the SQLite file at ``path``; answer each commit on ``out``."""
    db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    try:
        for pragma in (*PRAGMAS, f"cache_size=-{int(cache_kib)}"):
            db.execute(f"PRAGMA {pragma}")
        # without a journal, as the rebuild's own connection (``rebuild._unjournalled``), unless another
        # connection holds the file in WAL mode, which SQLite then keeps: slower, never unsafe
        with contextlib.suppress(sqlite3.OperationalError):
            db.execute("PRAGMA journal_mode=OFF")
        failed: BaseException | None = None
        for message in messages(inp):
            if message[0] == "commit":
                out.write(OK if failed is None else failure_answer(failed))
                out.flush()
            elif failed is None:
                try:
                    db.execute("BEGIN IMMEDIATE")
                    db.executemany(message[1], message[2])
                    db.execute("COMMIT")
                except Exception as error:
                    failed = error
    finally:
        db.close()


if __name__ == "__main__":
    serve(sys.argv[1], sys.stdin.buffer, sys.stdout.buffer, *(int(a) for a in sys.argv[2:3]))
