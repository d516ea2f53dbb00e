"""Import a JSON Lines file of commands through the same handlers as the API.

Each line is ``{"command": "assignQuota", "input": {...}}`` with exactly the mutation's input
(camelCase), so a file can be written from the API's own documentation, or by
``python -m staffing export-commands``. Lines are decided in order, many per transaction.

- Default: stop at the first refused line; every line before it is recorded.
- ``atomic``: all lines or none (one transaction).
- ``dry_run``: decide every line against the state the earlier lines would produce, record
  nothing, report every refused line (up to ``MAX_REPORTED_ERRORS``).

Resuming: each line's request key is ``import:`` + a running SHA-256 over the file's lines up to
and including it (or the line's own ``requestKey``), its record named in the order of the file's
lines (``Item.sequence``: the line's place among the non-blank ones, so blank lines change nothing).
Re-running the same file after a crash or a refusal replays what was recorded (nothing is written
twice) and continues from there; fixing the refused line changes the keys of that line and the ones
after it only.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path

import orjson

from staffing.application.access import Principal
from staffing.application.registry import command_named, command_types
from staffing.application.service import MAX_REPORTED_ERRORS, Item, Mode, StaffingService
from staffing.application.values import from_data
from staffing.application.warm import Warm
from staffing.domain.errors import InvalidInput, StaffingError
from staffing.domain.reorganisation import StuckInEndedUnit
from staffing.domain.request import Request
from staffing.pause import CollectEvery, FullCollections, collection_paused

__all__ = ["ImportMode", "ImportReport", "LineError", "import_lines", "read_lines"]

#: commands per transaction (the import never pays one transaction per line)
BATCH = 500
#: how the import runs CPython's cyclic collector (``_collector``; RESULTS section 61): ``paused`` (off
#: for the whole import, a full collection every ``COLLECT_EVERY`` lines), or as before section 61,
#: ``budget`` (young collections as usual, full ones on a time budget) or ``budget, frozen`` (that,
#: each full collection's survivors frozen). A module setting so a benchmark can run each.
COLLECTOR = "paused"
COLLECT_EVERY = 200_000
#: the longest line accepted (a split with thousands of people fits comfortably)
MAX_LINE_BYTES = 4 * 1024 * 1024


class ImportMode(Enum):
    STOP_AT_FIRST_ERROR = "stop"
    ATOMIC = "atomic"
    DRY_RUN = "dry-run"


@dataclass(frozen=True)
class LineError:
    line: int
    code: str
    field: str | None
    message: str

    def __str__(self) -> str:
        where = f"line {self.line}" + (f", field {self.field}" if self.field else "")
        return f"{where}: {self.message} [{self.code}]"


@dataclass
class ImportReport:
    lines: int = 0
    recorded: int = 0  # commands decided and written now
    replayed: int = 0  # commands already recorded by an earlier run of the same file
    decided: int = 0  # commands decided in a dry run
    events: int = 0
    seconds: float = 0.0
    errors: list[LineError] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


@dataclass(frozen=True)
class _Line:
    number: int
    item: Item


def read_lines(path: Path) -> Iterator[tuple[int, bytes]]:
    """(line number, bytes) for every non-blank line of the file, 1-based."""
    with path.open("rb") as handle:
        for number, raw in enumerate(handle, start=1):
            if raw.strip():
                yield number, raw


def _parse(number: int, raw: bytes, key: str, sequence: int | None = None) -> _Line:
    if len(raw) > MAX_LINE_BYTES:
        raise _refusal(number, InvalidInput(None, f"the line is longer than {MAX_LINE_BYTES} bytes"))
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError as error:
        raise _refusal(number, InvalidInput(None, f"not valid JSON ({error})")) from None
    if not isinstance(data, dict) or set(data) - {"command", "input"} or "command" not in data:
        raise _refusal(number, InvalidInput(None, 'write each line as {"command": "<mutation name>", "input": {...}}'))
    command = command_named(data["command"]) if isinstance(data["command"], str) else None
    if command is None:
        known = ", ".join(sorted(c.command_name() for c in command_types()))
        raise _refusal(number, InvalidInput("command", f"unknown command {data['command']!r}; one of: {known}"))
    payload = data.get("input")
    if not isinstance(payload, dict):
        raise _refusal(number, InvalidInput("input", "give the command's input as an object"))
    payload = dict(payload)
    own_key = payload.pop("requestKey", None)
    try:
        built = from_data(command, payload)
    except StaffingError as error:
        raise _refusal(number, error) from None
    if isinstance(own_key, str) and own_key:  # the client's own key: named as the API names it
        return _Line(number, Item(built, own_key))
    return _Line(number, Item(built, key, sequence))


class _Refused(Exception):
    def __init__(self, error: LineError) -> None:
        super().__init__(str(error))
        self.error = error


def _refusal(number: int, error: StaffingError) -> _Refused:
    return _Refused(LineError(number, error.code, f"input.{error.field}" if error.field and not
                              error.field.startswith(("input", "command")) else error.field, error.message))


def _keyed(lines: Iterable[tuple[int, bytes]]) -> Iterator[tuple[int, bytes, str, int | None]]:
    running = hashlib.sha256()
    for sequence, (number, raw) in enumerate(lines, 1):
        running.update(raw.rstrip(b"\r\n") + b"\n")
        yield number, raw, "import:" + running.copy().hexdigest()[:40], sequence


@contextmanager
def _collector() -> Iterator[Callable[[int], object]]:
    """The collector as the import runs it; yields what to tell after each transaction (its lines).

    Why (issue 9): the import carries ~2 GB of aggregates from batch to batch, and CPython's collector
    walked them — full collections on their time budget took their whole 5% share, and each batch's
    objects were walked again by the young collection that followed it (~3–4% of the national
    import's samples, RESULTS section 61). The import makes next to no reference cycles (a province
    history of 20,163 lines run with the collector off left 15 unreachable objects, all from one
    signature parse), so the collector is off for the whole import, as it is for a rebuild, with a full
    collection every ``COLLECT_EVERY`` lines to bound what any cycle holds (a refused line's exception
    and its frames, say); its survivors are frozen (``CollectEvery(freeze=True)``), so each walks only
    what was made since the last, and the import gives them back when it ends. Process-wide, as every
    pause: a server's other threads run without collections while an import runs."""
    if COLLECTOR == "paused":
        every = CollectEvery(COLLECT_EVERY, freeze=True)
        try:
            with collection_paused():
                yield every.applied
        finally:
            every.close()
    else:
        with FullCollections(freeze=COLLECTOR == "budget, frozen") as full:
            yield lambda _lines: full.tick()


def import_lines(service: StaffingService, lines: Iterable[tuple[int, bytes]], mode: ImportMode,
                 progress: Callable[[int], None] | None = None, batch: int = BATCH,
                 principal: Principal | None = None, carry: bool = True, warm: Warm | None = None,
                 commit_behind: bool = True) -> ImportReport:
    """Import the lines; ``progress(n)`` is told how many more lines were handled.

    The import carries its own aggregates from one transaction to the next (``Warm``): a batch
    starts from what the previous one committed instead of copies from the shared cache, and the
    aggregates it names that the map lacks are read together before it is decided (``carry=False``:
    the import as it was before, for benchmarks; ``warm``: a map of one's own, for tests). With that
    map, each transaction commits on a thread while the next is decided (``commit_behind``; False:
    in place, for benchmarks); the import returns once the last one has committed.
    """
    started = time.perf_counter()
    if warm is None and carry:
        warm = Warm(prefetch=True)
    report = ImportReport()
    pending: list[_Line] = []
    parse_errors: list[LineError] = []
    whole_file = mode is not ImportMode.STOP_AT_FIRST_ERROR

    def flush(more_to_come: bool = False) -> bool:
        """Run the pending lines; False when the import must stop.

        A line that leaves someone in a unit dissolved later may be resolved by a line further on
        (their exit, recorded with them): while more lines follow, the lines from it on are carried
        into the next transaction instead of being refused (up to four transactions' worth).
        """
        if not pending:
            return True
        run_mode = {ImportMode.STOP_AT_FIRST_ERROR: Mode.PREFIX, ImportMode.ATOMIC: Mode.ATOMIC,
                    ImportMode.DRY_RUN: Mode.DRY_RUN}[mode]
        with collection_paused():  # a transaction's worth of objects, on top of the carried aggregates
            outcome = service.run([p.item for p in pending], run_mode, max_commands=None, principal=principal,
                                  warm=warm, commit_behind=commit_behind)
        collected(len(pending))
        first = outcome.first_error
        carry = (more_to_come and mode is ImportMode.STOP_AT_FIRST_ERROR and first is not None
                 and isinstance(first[1], StuckInEndedUnit) and len(pending) < 4 * batch)
        if not carry:
            for index, error in sorted(outcome.errors.items()):
                report.errors.append(_refusal(pending[index].number, error).error)
        done = sum(r is not None for r in outcome.results)
        if mode is ImportMode.DRY_RUN:
            report.decided += done - outcome.replayed
        elif outcome.recorded or not outcome.errors:
            report.recorded += done - outcome.replayed
        report.replayed += outcome.replayed
        if outcome.recorded or mode is ImportMode.DRY_RUN:
            report.events += sum(not isinstance(e, Request.Handled) for e in outcome.events)
        if carry:
            assert first is not None
            if progress:
                progress(first[0])
            del pending[: first[0]]
            return True
        if progress:
            progress(len(pending))
        pending.clear()
        return not outcome.errors

    with _collector() as collected:
        for number, raw, key, sequence in _keyed(lines):
            report.lines += 1
            try:
                pending.append(_parse(number, raw, key, sequence))
            except _Refused as refused:
                parse_errors.append(refused.error)
                if not whole_file:
                    if flush():  # the lines before it are recorded; report the first refusal only
                        report.errors.append(refused.error)
                    break
                if len(parse_errors) >= MAX_REPORTED_ERRORS:
                    break
                continue
            if not whole_file and len(pending) >= batch and not flush(more_to_come=True):
                break
        if whole_file and parse_errors:
            report.errors.extend(parse_errors)
            if mode is ImportMode.ATOMIC:
                pending.clear()
        if not report.errors or mode is ImportMode.DRY_RUN:
            flush()
    service.store.settle()  # the last transaction's commit, running behind (``StaffingService.run``)
    report.errors.sort(key=lambda e: e.line)
    report.seconds = time.perf_counter() - started
    return report
