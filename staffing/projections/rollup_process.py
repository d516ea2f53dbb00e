"""A rebuild's roll-up computed by a child process beside its load (issue 9).

Why: the national rebuild's main thread is its critical path (it computes ~90% of the yearly flow
and the reform on PostgreSQL, ``benchmarks/RESULTS.md`` section 47), and the national summary's
roll-up (``Rollup.flush``: re-rooting, pairing figure rows with root rows, the marks) was 19–31% of
it there, while the machine's cores were ~70% busy (the server shares the other one with the
queued writes). A thread would only take turns with the load on the interpreter's lock; a process
computes beside it.

Why it can: in a rebuild the tables are fresh and the roll-up reads nothing back (``Rollup(fresh=
True)`` holds every root row and checkpoint it made). It asks its caller for two things only: the
unit rows believed at some position of a flush (``unit_rows``) and each unit's believed figure rows
ending after a day (``open_figures``). Every such row was created by this rebuild and handed to the
roll-up in the flush that created it, so the child keeps them itself — each unit's believed unit
rows and figure rows, closed ones dropped as their closings arrive — and answers both without the
database. It runs the same ``Rollup`` on the same rows in the same order, so its rows are the ones
the load would have written (``test_rollup_process``, the rebuild matrix).

How: the rebuild's ``SeriesBatch`` hands each flush to a ``RollupProcess`` instead of its own
``Rollup``: the rows created and closed in it go pickled through a pipe (unit rows as their key,
days, positions, parent and status; figure rows whole, closings by row id), fed by a thread, at most
``QUEUED`` flushes waiting (the load waits beyond that: memory stays bounded). The child applies
each flush on its own connection of the target, each committed on its own (``synchronous_commit``
off, as the load's), and answers once, when the load ends: the load's end waits for that answer
and raises the child's first failure (``RollupFailed``) or its death (``RollupEnded``). The target is
disposable until swapped in (``rebuild._unjournalled``), so a failed roll-up leaves nothing to undo.
The child writes only the roll-up's tables, which the load neither writes nor indexes meanwhile
(``rebuild.ROLLUP_INDEXES``), so neither ever waits on the other's locks.
"""

from __future__ import annotations

import contextlib
import os
import queue
import subprocess
import sys
import threading
from collections import defaultdict
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Any, BinaryIO

from staffing.projections.sqlite_writer import (
    END,
    FAILED,
    OK,
    failure_answer,
    frame,
    messages,
    read_exactly,
    read_frame,
)

__all__ = ["QUEUED", "RollupEnded", "RollupFailed", "RollupProcess", "rolled_up_by_process"]

#: flushes pickled and waiting for the child before the load waits (each a batch's rows: a few MB)
QUEUED = 4
#: how long the load's end waits for the child to end after its answer
_END_TIMEOUT = 60.0
#: where a unit row's parent and status are in the values the roll-up reads (``rollup._PARENT``)
_PARENT, _STATUS = 5, 6
#: the package's root, first on the child's path: it runs this checkout's code, as its parent does
_ROOT = str(Path(__file__).resolve().parents[2])


class RollupFailed(RuntimeError):
    """The child's roll-up failed; its error is the message."""


class RollupEnded(RuntimeError):
    """The child process ended before it answered (killed, or out of memory)."""


class RollupProcess:
    """``Rollup.flush`` made by a child process (see the module's docstring): the same call, its rows sent."""

    def __init__(self, url: str, statements: Sequence[str] = ()) -> None:
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, (_ROOT, os.environ.get("PYTHONPATH"))))}
        self._child = subprocess.Popen([sys.executable, "-m", "staffing.projections.rollup_process"],
                                       stdin=subprocess.PIPE, stdout=subprocess.PIPE, bufsize=0, env=env)
        self._frames: queue.Queue[bytes | None] = queue.Queue(maxsize=QUEUED)
        self._feeder = threading.Thread(target=self._feed, name="staffing-rollup-process", daemon=True)
        self._feeder.start()
        self._frames.put(frame(("connect", url, tuple(statements))))
        self._answered = False

    @property
    def pid(self) -> int:
        return self._child.pid

    def flush(self, created_units: Sequence[tuple[str, Any]], closed_units: Sequence[tuple[str, Any]],
              unit_rows: Any, created_figures: Sequence[Any], closed_figures: Sequence[Any], open_figures: Any,
              hold_units: Any = None) -> None:
        """``Rollup.flush``'s call: its rows sent to the child (what a row is at this flush's end: a
        row created and closed within it goes with its closing); ``unit_rows``, ``open_figures`` and
        ``hold_units`` are the child's own to answer."""
        if not (created_units or closed_units or created_figures or closed_figures):
            return
        self._frames.put(frame((
            "flush",
            [(key, r.row_id, r.valid_from, r.valid_to, r.rec_from, r.rec_to, r.values[_PARENT], r.values[_STATUS])
             for key, r in created_units],
            [(key, r.row_id, r.rec_to) for key, r in closed_units],
            [(r.row_id, r.unit_id, r.valid_from, r.valid_to, r.rec_from, r.rec_to, r.values) for r in created_figures],
            [(r.row_id, r.unit_id, r.rec_to) for r in closed_figures])))

    def finish(self) -> None:
        """Wait until the child has made every flush sent; raise its first failure, or its death. Once:
        later calls return (the load may finish it before its last indexes, ``rebuild._end_batch``)."""
        if self._answered:
            return
        self._answered = True
        self._frames.put(frame(("end",)))
        stdout: Any = self._child.stdout
        status = read_exactly(stdout, 1)
        if status == OK:
            return
        if status == FAILED:
            error = read_frame(stdout)
            if error is not END:
                raise RollupFailed(f"the rebuild's roll-up process failed: {error}; the target is incomplete: "
                                   "rebuild again into a fresh one") from error
        code = self._child.wait()
        raise RollupEnded(f"the rebuild's roll-up process (pid {self._child.pid}) ended with exit code {code} before "
                          "it answered; the target is incomplete: rebuild again into a fresh one")

    def close(self) -> None:
        """End the feeding and the child (killed if it has not ended on its own) and wait for both."""
        with contextlib.suppress(queue.Full):
            self._frames.put(None, timeout=_END_TIMEOUT)
        try:
            self._child.wait(timeout=_END_TIMEOUT)
        except subprocess.TimeoutExpired:
            self._child.kill()
            self._child.wait()
        finally:
            self._feeder.join(timeout=_END_TIMEOUT)
            self._child.stdout.close()  # type: ignore[union-attr]

    def kill(self) -> None:
        """End the child now (the load failed: what it was sent no longer matters)."""
        self._child.kill()
        while True:  # (unblock the feeder, which may be waiting on a full queue or a full pipe)
            try:
                self._frames.get_nowait()
            except queue.Empty:
                break
        self.close()

    def _feed(self) -> None:
        """The feeding thread: each frame, whole, into the child's input; at the end its input closed.
        Once the child has gone, frames are dropped (the answer read finds it gone)."""
        fd = self._child.stdin.fileno()  # type: ignore[union-attr]
        gone = False
        while (data := self._frames.get()) is not None:
            if not gone:
                try:
                    view = memoryview(data)
                    while view:
                        view = view[os.write(fd, view):]
                except OSError:  # (a broken pipe: the child ended)
                    gone = True
        with contextlib.suppress(OSError):
            self._child.stdin.close()  # type: ignore[union-attr]


#: SQLite: the child's connection, as the rebuild's own and its writer process (``sqlite_writer``):
#: without a journal or syncs; it waits for the file's lock as long as the load may hold it making
#: an index (the load never waits on the child meanwhile: nothing to deadlock)
SQLITE_PRAGMAS = ("PRAGMA journal_mode=OFF", "PRAGMA synchronous=OFF", "PRAGMA busy_timeout=600000",
                  "PRAGMA cache_size=-65536")


@contextmanager
def rolled_up_by_process(conn: Any, series: Any) -> Iterator[RollupProcess]:
    """``series``' roll-up (a fresh ``SeriesBatch``'s) made by a child process inside the block, on its
    own connection of ``conn``'s database (PostgreSQL: the same schema; SQLite: the same file); the
    block's end waits for it (unless ``RollupProcess.finish`` was called already) and raises its
    failure. Left by an error, the child is killed."""
    from staffing.projections.rebuild import TARGET_SETTINGS  # (the rebuild's own settings, on its connection)
    from staffing.projections.writeprocess import file_of

    sqlite = conn.dialect.name == "sqlite"
    if not series.fresh or (sqlite and file_of(conn) is None):
        raise ValueError("a roll-up process serves a rebuild (fresh tables, whose roll-up reads nothing back) into "
                         "a PostgreSQL database or a SQLite file")
    statements: tuple[str, ...]
    if sqlite:
        statements = SQLITE_PRAGMAS
    else:
        statements = (f"SET search_path TO {conn.exec_driver_sql('SHOW search_path').scalar()}",
                      *(f"SET {setting}" for setting in TARGET_SETTINGS))
    if conn.in_transaction():
        conn.commit()
    process = RollupProcess(conn.engine.url.render_as_string(hide_password=False), statements)
    own, series.rollup = series.rollup, process
    try:
        yield process
        process.finish()
    except BaseException:
        process.kill()
        raise
    else:
        process.close()
    finally:
        series.rollup = own


# ---------------------------------------------------------------------------------------------- the child


class _Held:
    """A unit row or figure row as the child holds it (the fields ``Rollup.flush`` reads)."""

    __slots__ = ("unit_id", "valid_from", "valid_to", "rec_from", "rec_to", "values")

    def __init__(self, unit_id: str, valid_from: date, valid_to: date, rec_from: int, rec_to: int,
                 values: tuple[Any, ...]) -> None:
        self.unit_id, self.valid_from, self.valid_to = unit_id, valid_from, valid_to
        self.rec_from, self.rec_to, self.values = rec_from, rec_to, values


class Believed:
    """Every unit's believed unit rows and figure rows, kept from the flushes' rows: what the load's
    ``SeriesBatch`` and ``FigureBatch`` would answer the roll-up with (every row was created in a flush
    sent here, and leaves once closed)."""

    def __init__(self) -> None:
        self.units: dict[str, dict[int, _Held]] = defaultdict(dict)
        self.figures: dict[str, dict[int, _Held]] = defaultdict(dict)

    def take(self, created_units: Sequence[tuple[Any, ...]], closed_units: Sequence[tuple[Any, ...]],
             created_figures: Sequence[tuple[Any, ...]], closed_figures: Sequence[tuple[Any, ...]]
             ) -> tuple[list[tuple[str, _Held]], list[tuple[str, _Held]], Any, list[_Held], list[_Held], Any]:
        """Take one flush's rows; returns ``Rollup.flush``'s arguments for it, but ``hold_units``. A row
        created and closed in one flush is one object in both lists, as it is in the load."""
        created_u = []
        for key, row_id, valid_from, valid_to, rec_from, rec_to, parent, status in created_units:
            row = _Held(key, valid_from, valid_to, rec_from, rec_to, (None,) * _PARENT + (parent, status))
            self.units[key][row_id] = row
            created_u.append((key, row))
        closed_u = []
        closed_by_unit: dict[str, list[_Held]] = defaultdict(list)
        for key, row_id, rec_to in closed_units:
            row = self.units[key].pop(row_id)
            row.rec_to = rec_to
            closed_u.append((key, row))
            closed_by_unit[key].append(row)
        created_f = []
        for row_id, unit, valid_from, valid_to, rec_from, rec_to, values in created_figures:
            row = _Held(unit, valid_from, valid_to, rec_from, rec_to, values)
            self.figures[unit][row_id] = row
            created_f.append(row)
        closed_f = []
        for row_id, unit, rec_to in closed_figures:
            row = self.figures[unit].pop(row_id)
            row.rec_to = rec_to
            closed_f.append(row)

        def unit_rows(unit: str) -> list[_Held]:  # (believed after the flush, and those it closed)
            return [*self.units.get(unit, {}).values(), *closed_by_unit.get(unit, ())]

        def open_figures(since: Mapping[str, date]) -> dict[str, list[_Held]]:
            return {unit: sorted((r for r in self.figures.get(unit, {}).values() if r.valid_to > day),
                                 key=lambda r: r.valid_from) for unit, day in since.items()}

        return created_u, closed_u, unit_rows, created_f, closed_f, open_figures


def serve(inp: BinaryIO, out: BinaryIO) -> None:
    """The child: connect as the first message says, then make each flush's roll-up; answer at the end."""
    from sqlalchemy import create_engine
    from sqlalchemy.pool import NullPool

    from staffing.projections.rollup import Rollup

    stream = messages(inp)
    first = next(stream, None)
    if first is None:
        return
    _, url, statements = first
    engine = create_engine(url, poolclass=NullPool)
    failed: BaseException | None = None
    try:
        with engine.connect() as conn:
            try:
                with conn.begin():
                    for statement in statements:
                        conn.exec_driver_sql(statement)
                rollup, believed = Rollup(conn, fresh=True), Believed()
            except Exception as error:
                failed = error
            for message in stream:
                if message[0] == "end":
                    out.write(OK if failed is None else failure_answer(failed))
                    out.flush()
                elif failed is None:
                    try:
                        with conn.begin():
                            rollup.flush(*believed.take(*message[1:]))
                    except Exception as error:
                        failed = error
    finally:
        engine.dispose()


if __name__ == "__main__":
    serve(sys.stdin.buffer, sys.stdout.buffer)
