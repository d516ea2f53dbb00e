"""The projector: consumes the notification log and maintains the read models.

Exactly once, across restarts and processes: each batch is applied in one read-model transaction
that also advances the tracking position, after taking the tracking row's lock (``FOR UPDATE`` on
PostgreSQL, ``BEGIN IMMEDIATE`` on SQLite) and re-reading the position under it. A crash rolls
the batch back whole; a second runner waits and then continues from where the first stopped.

Pull, not push: the SQLite recorder cannot subscribe, so both backends pull batches of the log
(``persistence.select_entries``: the recorder's ``select_notifications``, read leaner) — one code
path, and batching is what rebuilds need anyway.
"""

from __future__ import annotations

import functools
import logging
import re
import secrets
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, NamedTuple
from uuid import UUID

import orjson
from eventsourcing.application import Application
from eventsourcing.domain import DomainEvent
from eventsourcing.persistence import Notification
from eventsourcing.utils import resolve_topic
from sqlalchemy import Connection, bindparam, func, select, text, update

from staffing.acts import ActStream
from staffing.domain.base import LedgerAggregate
from staffing.domain.person import Person
from staffing.domain.position import Position
from staffing.domain.quota import StaffingQuota
from staffing.domain.unit import Unit
from staffing.domain.values import LegalAct
from staffing.pause import CollectEvery, collection_paused, paused
from staffing.persistence import select_entries
from staffing.planner import Pacer
from staffing.projections import tables as t
from staffing.projections.bulk import (
    chunks,
    driver_cursor,
    insert_rows,
    insert_tuples,
    mark,
    refresh_statistics,
    update_rows,
)
from staffing.projections.db import ViewEngines
from staffing.projections.decoding import LeanDecoder
from staffing.projections.freshness import Freshness
from staffing.projections.readahead import ReadAhead
from staffing.projections.series import SeriesBatch, SeriesSpec
from staffing.projections.text import fold

logger = logging.getLogger(__name__)

__all__ = ["BATCH_SIZE", "PROJECTION_NAME", "Projector", "SERIES"]

PROJECTION_NAME = "ledger"
#: series a projector keeps in memory between its batches (~1-2 KB each): beyond, it forgets them
MAX_HELD = 100_000
#: log entries per batch (one transaction). Larger batches write each index page once for more rows
#: and pay the per-batch reads and marks less often: 25,000 projected the province log 6-9% faster
#: than 10,000 (catch-up and rebuild, alternating runs), for ~40 MB more held while a batch is built
BATCH_SIZE = 25_000
#: log entries a catch-up or a rebuild applies between two full collections. Both run with the
#: cyclic collector off from their first batch to their last: they make few cycles (a province
#: rebuild with the collector off left ~0.08 unreachable objects per entry), while the young
#: collections between batches walked every batch's survivors (the series held) again: 4.3% of a
#: rebuild of 7.6 M national log entries (benchmarks/RESULTS.md section 23). Collecting in full now
#: and then bounds what their cycles hold (~160,000 objects) at ~0.5 s a time. A rebuild uses the
#: same figure: 6 M spared ~3.7 s of collections in the national rebuild's reform (section 47) but
#: lost more than that from 7 M to 9 M entries, where the series held turn over every batch; 2 M
#: against 6 M measured 1.027x in one national pair (section 48) and again in rounds (section 49).
COLLECT_EVERY = 2_000_000
_ACT_COLUMNS = ("fact_id", "act_number", "act_issuer", "act_signed_on")

SERIES = (
    SeriesSpec("unit", t.unit_versions, ("unit_id",),
               ("code", "name", "name_folded", "kind", "autonomy", "parent_id", "status"), required="status",
               key_index="ix_unit_versions_unit", facts_with_rows=True),
    SeriesSpec("person", t.person_versions, ("person_id",),
               ("unit_id", "position_id", "category", "rank", "status", "cause", "fact_id"), required="status",
               keep_same_day=True),
    SeriesSpec("position", t.position_versions, ("position_id",), ("unit_id", "title", "group", "rank", "status"),
               required="status"),
    SeriesSpec("quota", t.quota_versions, ("unit_id", "category", "kind"), ("amount", "reason", *_ACT_COLUMNS),
               frozenset({"act_signed_on"})),
    SeriesSpec("excess", t.excess_versions, ("unit_id",), ("until", *_ACT_COLUMNS),
               frozenset({"until", "act_signed_on"})),
)


_TIMESTAMP = re.compile(rb'^\{"timestamp":\{"_type_":"datetime_iso","_data_":"([^"]+)"\}')


def _recorded_us(state: bytes) -> int | None:
    """The event's timestamp read off its stored JSON without decoding the rest (None: not in that form)."""
    found = _TIMESTAMP.match(state)
    return _iso_us(found.group(1)) if found else None


@functools.lru_cache(maxsize=4096)
def _iso_us(stamp: bytes) -> int:
    """An ISO timestamp's microseconds, remembered: the entries of one writer's transaction share one
    (the province log: 76,776 entries, 43 distinct moments), so most entries need no parse."""
    return to_us(datetime.fromisoformat(stamp.decode()))


def to_us(moment: datetime) -> int:
    return int(moment.timestamp() * 1_000_000)


def _s(value: UUID | None) -> str | None:
    return str(value) if value is not None else None


def _json_default(value: Any) -> Any:
    if isinstance(value, UUID):
        return str(value)
    if isinstance(value, LegalAct):
        return value.as_dict()
    if isinstance(value, (set, frozenset)):
        return sorted(str(v) for v in value)
    raise TypeError(type(value).__name__)


_BASE_FIELDS = {"originator_id", "originator_version", "timestamp", "originator_topic", "effective_on", "act",
                "recorded_by"}


def event_data(event: DomainEvent) -> str:
    data = {k: v for k, v in vars(event).items() if k not in _BASE_FIELDS}
    return orjson.dumps(data, default=_json_default, option=orjson.OPT_NON_STR_KEYS).decode()


def _whole_runs(moments: Sequence[int], recorded_us: int, following: int | None) -> int:
    """How many of the entries with these own ``moments`` (in log order, after entries recorded by
    ``recorded_us``) end a run: all of them, unless the entry ``following`` them (its own moment;
    None: none yet) is recorded at the moment their last run is (the log's moment is a running
    maximum), in which case those before that run's first entry."""
    if following is None or not moments:
        return len(moments)
    running, starts = recorded_us, 0  # the index where the last run began
    for i, moment in enumerate(moments):
        if moment > running:
            running, starts = moment, i
    return len(moments) if following > running else starts


class _Decoded(NamedTuple):
    """A log entry as a batch applies it: its handler and domain event (None: no read model needs it)
    and its own recording moment."""
    notification: Any
    handler: Callable[[Any, Any, int], None] | None
    event: Any
    moment: int


class _Tracked(NamedTuple):
    position: int
    recorded_us: int
    writer: str | None


def _read_tracking(conn: Connection) -> _Tracked:
    """The tracking row, locked for this transaction (``FOR UPDATE`` on PostgreSQL; SQLite's write
    transaction already holds the file). Read through the driver: a command projected on its own
    paid ~100 µs for each of this read and its write through SQLAlchemy's statement machinery."""
    lock = "" if conn.dialect.name == "sqlite" else " FOR UPDATE"
    with driver_cursor(conn) as cursor:
        cursor.execute(f"SELECT position, recorded_us, writer FROM {t.tracking.name} WHERE name = {mark(conn)}{lock}",
                       (PROJECTION_NAME,))
        position, recorded_us, writer = cursor.fetchone()
    return _Tracked(int(position), int(recorded_us), writer)


def _write_tracking(conn: Connection, position: int, recorded_us: int, writer: str) -> None:
    m = mark(conn)
    with driver_cursor(conn) as cursor:
        cursor.execute(f"UPDATE {t.tracking.name} SET position = {m}, recorded_us = {m}, writer = {m} WHERE name = {m}",
                       (position, recorded_us, writer, PROJECTION_NAME))


@dataclass
class _Batch:
    """What one batch of events produces, written together at the end."""

    conn: Connection
    series: SeriesBatch
    recorded_us: int
    #: (position, recorded_us): the last position of each run of entries recorded at one moment (``tick``)
    clock: list[tuple[int, int]] = field(default_factory=list)
    started_us: int = 0  # the recording moment carried in: the moment of the clock's last stored row
    facts: dict[str, dict[str, Any]] = field(default_factory=dict)  # fact_id -> row
    retracted: list[dict[str, Any]] = field(default_factory=list)
    lineage: list[dict[str, Any]] = field(default_factory=list)
    persons: list[dict[str, Any]] = field(default_factory=list)
    ledger_units: dict[str, str] = field(default_factory=dict)

    def tick(self, position: int) -> None:
        """Enter ``position`` in the log's clock at the batch's running recording moment.

        Only the last position of each run of entries recorded at one moment is kept: the moments
        are a running maximum, so "the last position recorded by T" (``Queries.knowledge_position``) is the
        same from these rows as from one row per entry, at a fraction of the rows (an import records
        a whole transaction of commands, ~1,400 entries, at one moment). The batch's last entry is
        always kept, so a run continued by the next batch still ends on a row."""
        clock = self.clock
        if clock and clock[-1][1] == self.recorded_us:
            clock[-1] = (position, self.recorded_us)
        else:
            clock.append((position, self.recorded_us))

    def fact_row(self, fact_id: str) -> dict[str, Any] | None:
        if fact_id in self.facts:
            return self.facts[fact_id]
        row = self.conn.execute(select(t.facts).where(t.facts.c.fact_id == fact_id)).mappings().first()
        return dict(row) if row else None


#: aggregates whose events feed the series named after them, keyed by the aggregate's own id
_PLAIN_SERIES = {"Person": "person", "Position": "position", "Unit": "unit"}


def _hint_role(cls: type) -> str | None:
    """What an event of ``cls`` tells ``Projector._series_hints``: the plain series its aggregate's
    id names (an event of a person, a position or a unit that does not create it), ``"quota"`` or
    ``"excess"`` (a ledger's figure: the series of its unit), ``"opened"`` (a ledger's unit), or None."""
    try:
        return _ROLES[cls]
    except KeyError:
        owner = cls.__qualname__.split(".")[0]  # the aggregate class the event belongs to
        role = (_PLAIN_SERIES[owner] if owner in _PLAIN_SERIES and not issubclass(cls, LedgerAggregate.Created)
                else "quota" if issubclass(cls, StaffingQuota.FigureSet)
                else "excess" if issubclass(cls, StaffingQuota.ExcessAllowed)
                else "opened" if issubclass(cls, StaffingQuota.Opened) else None)
        _ROLES[cls] = role
        return role


_ROLES: dict[type, str | None] = {}


def ledger_units(conn: Connection, ledger_ids: Sequence[str]) -> dict[str, str]:
    """The units of the quota ledgers ``ledger_ids`` (those recorded), read off the facts that opened
    them through the partial index ``ix_facts_ledger``, which holds those facts only.

    On SQLite the index is named (``INDEXED BY``): without statistics SQLite's planner takes
    ``ix_facts_type`` for an ``IN`` list of two ids or more and reads every ledger-opening fact of the
    country for each chunk. PostgreSQL plans from the statistics the ledger keeps (``staffing.planner``),
    where one seek per id in the partial index beats reading every ledger-opening fact.
    """
    hint = " INDEXED BY ix_facts_ledger" if conn.dialect.name == "sqlite" else ""
    statement = text(f"SELECT aggregate_id, unit_id FROM facts{hint} WHERE {t.LEDGER_OPENED} "
                     "AND aggregate_id IN :ids").bindparams(bindparam("ids", expanding=True))
    return {str(ledger): str(unit) for ledger, unit in conn.execute(statement, {"ids": list(ledger_ids)})}


class Projector:
    """Applies events to the read models in batches; ``catch_up()`` is safe to call from anywhere."""

    def __init__(self, store: Application[Any], engines: ViewEngines, batch_size: int = BATCH_SIZE) -> None:
        self.store = store
        self.engines = engines
        self.batch_size = batch_size
        self._local = threading.Lock()
        self.pacer = Pacer()  # when to look at PostgreSQL's planner statistics again
        self.freshness = Freshness(store, engines, PROJECTION_NAME)
        self._ledger_units: dict[str, str] = {}
        #: where the acts its batches lack are read first (``ActStream``: a rebuild on SQLite,
        #: ``streaming_acts``); None: looked up by key
        self._act_stream: ActStream | None = None
        self._handlers: dict[type, Callable[[_Batch, Any, int], None]] = {
            Unit.Established: self._unit_established,
            Unit.Renamed: self._unit_renamed,
            Unit.Moved: self._unit_moved,
            Unit.ModelChanged: self._unit_model_changed,
            Unit.FunctionsAdjusted: self._unit_fact,
            Unit.PredecessorsReceived: self._unit_predecessors,
            Unit.PartSeparated: self._unit_fact,
            Unit.Ended: self._unit_ended,
            Unit.FactRetracted: self._unit_retracted,
            Position.Created: self._position_created,
            Position.Regraded: self._position_regraded,
            Position.Moved: self._position_moved,
            Position.Abolished: self._position_abolished,
            Position.MoveWithdrawn: self._position_move_withdrawn,
            StaffingQuota.Opened: self._ledger_opened,
            StaffingQuota.FigureSet: self._quota_set,
            StaffingQuota.ExcessAllowed: self._excess_allowed,
            StaffingQuota.TargetSet: self._target_set,
            StaffingQuota.FactRetracted: self._quota_retracted,
            Person.Recruited: self._person_recruited,
            Person.Transferred: self._person_transferred,
            Person.Regraded: self._person_regraded,
            Person.Left: self._person_left,
            Person.Downsized: self._person_downsized,
            Person.FactRetracted: self._person_retracted,
        }

        #: (the token of the batch this projector last committed, the series it held then): see ``_run_batch``
        self._carried: tuple[str, SeriesBatch] | None = None
        #: most stored events (requests, membership bookkeeping, codes) feed no read model: ~65% of a log
        self._by_topic: dict[str, Callable[[_Batch, Any, int], None] | None] = {}
        #: whether the log held more entries after the last batch ``_run_batch`` applied
        self._more = False
        #: the entries ``apply_next`` read and decoded but did not apply (a cut run and the entry
        #: after it): the next batch starts with them instead of reading and decoding them again
        self._tail: list[_Decoded] = []
        #: reads the log ahead of ``apply_next`` while it applies (``reading_ahead``); None: reads as asked
        self._reader: ReadAhead | None = None
        #: stored events into domain events with their ids as text (``projections.decoding``)
        self._decoder = LeanDecoder(store.mapper)

    # ================================================================== running
    def position(self) -> int:
        with self.engines.read.connect() as conn:
            return int(conn.execute(select(t.tracking.c.position).where(t.tracking.c.name == PROJECTION_NAME))
                       .scalar_one())

    def catch_up(self, check: bool = True) -> int:
        """Apply every event not yet applied; returns how many were applied.

        Every GraphQL request calls this first; when the log holds nothing beyond the tracked
        position (``freshness``: two one-row reads, no write lock), it returns at once instead of
        opening a write transaction on the read models. ``check=False`` skips that check, for a
        caller that has just committed events (the service's ``on_commit``): a batch finds what
        is new by itself, and finds nothing if another caller projected it first.
        """
        if check and self.freshness.level():
            return 0
        applied = 0
        collections = CollectEvery(COLLECT_EVERY)
        with self._local, collection_paused():  # from the first batch to the last
            while True:
                done = self._run_batch()
                applied += done
                if self.pacer.due(done):
                    self._refresh_statistics()
                if not self._more:
                    return applied
                collections.applied(done)

    def _refresh_statistics(self) -> None:
        """PostgreSQL's planner statistics of the read models, refreshed where stale (``staffing.planner``).
        A failure is logged, not raised: the batches it follows are committed."""
        try:
            with self.engines.write.begin() as conn:
                refresh_statistics(conn)
        except Exception:  # noqa: BLE001 - the driver's errors too (raw cursor); the batches are committed
            logger.exception("refreshing the read models' planner statistics failed")

    def close(self) -> None:
        """Close the freshness check's own connections (the engines belong to the ledger)."""
        self.freshness.close()

    @paused  # also when called alone (benchmarks); inside ``catch_up`` the collector is off already
    def _run_batch(self) -> int:
        """Apply the next batch in one transaction that also advances the tracking row.

        The series a batch touched stay in memory for the next one (``SeriesBatch.rebind``), so a
        long catch-up reads each series once instead of once per batch — the rebuild's way, and
        most of its lead. That is sound only if nothing else wrote the read models in between
        (another process's projector, a rebuild swapped in): each batch writes a fresh random
        token into the tracking row, and the held series are used only when the token read back
        under the batch's lock is the one this projector wrote. Otherwise, and after any failure
        (the transaction rolled back, the held states no longer match the tables), they are dropped
        and read back. Past ``MAX_HELD`` series they are forgotten after the batch (bounded memory).
        """
        carried, self._carried = self._carried, None  # dropped unless this batch commits
        with self.engines.write.begin() as conn:
            tracked = _read_tracking(conn)
            if carried is not None and tracked.writer == carried[0]:
                series = carried[1]
                series.rebind(conn)
            else:
                series = SeriesBatch(conn, SERIES)
            last, position, applied, self._more = self.apply_next(conn, tracked.position + 1, tracked.recorded_us,
                                                                  False, series)
            if not applied:
                self._carried = carried
                return 0
            token = secrets.token_hex(16)
            _write_tracking(conn, position, last, token)
        if len(series.states) > MAX_HELD:
            series.forget()  # the next row ids stay known; the states are read back when touched
        self._carried = (token, series)
        return applied

    @contextmanager
    def preview(self, events: Sequence[Any]) -> Iterator[tuple[Connection, int]]:
        """The read models as they would be with ``events`` appended to the log — never committed.

        Inside one read-model transaction that is always rolled back: the log is caught up, then
        ``events`` (not recorded anywhere) are applied as if they followed it. Yields the connection
        and the knowledge position that includes them. Nothing persists, also if the process dies.
        """
        with self._local, self.engines.write.connect() as conn:
            transaction = conn.begin()
            try:
                query = select(t.tracking.c.position, t.tracking.c.recorded_us).where(
                    t.tracking.c.name == PROJECTION_NAME)
                tracked = conn.execute(query if self.engines.is_sqlite else query.with_for_update()).one()
                position, recorded_us = tracked.position, tracked.recorded_us
                ledger_units = dict(self._ledger_units)
                while notifications := select_entries(self.store.recorder, position + 1, self.batch_size):
                    recorded_us = self.apply(conn, notifications, recorded_us, fresh=False, ledger_units=ledger_units)
                    position = notifications[-1].id
                mapper = self.store.mapper
                hypothetical = []
                for i, event in enumerate(events, start=1):
                    stored = mapper.to_stored_event(event)
                    hypothetical.append(Notification(id=position + i, originator_id=stored.originator_id,
                                                     originator_version=stored.originator_version,
                                                     topic=stored.topic, state=stored.state))
                if hypothetical:
                    self.apply(conn, hypothetical, recorded_us, fresh=False, ledger_units=ledger_units)
                yield conn, position + len(hypothetical)
            finally:
                transaction.rollback()

    def apply(self, conn: Connection, notifications: Any, recorded_us: int, fresh: bool,
              series: SeriesBatch | None = None, ledger_units: dict[str, str] | None = None) -> int:
        """Apply decoded notifications within ``conn``'s transaction; returns the last recording moment."""
        return self.apply_runs(conn, notifications, recorded_us, fresh, series, ledger_units)[0]

    def apply_runs(self, conn: Connection, notifications: Any, recorded_us: int, fresh: bool,
                   series: SeriesBatch | None = None, ledger_units: dict[str, str] | None = None,
                   following: Any = None) -> tuple[int, int]:
        """Apply the leading ``notifications`` that end a run of entries recorded at one moment, within
        ``conn``'s transaction; returns the last recording moment and how many were applied.

        ``following`` is the entry after the last one given (None: there is none yet). When it goes on
        with the last run (recorded at the same moment), that run is left for the next batch: a batch
        ends where a run ends, so every position a batch is tracked at is one a question can be asked
        at, and the read models do not depend on where batches are cut (the figures of a writer's
        transaction are summed once, ``FigureBatch.contribute``: issue 9). Nothing is applied or
        written when the given entries are all one unfinished run: give more of them.
        """
        decoded = self._decode(notifications)
        following_us = None if following is None else self._moment(following)
        return self._apply_decoded(conn, decoded, recorded_us, fresh, series, ledger_units, following_us)

    def _decode(self, notifications: Sequence[Any], prefetch: bool = True) -> list[_Decoded]:
        """Each entry with its read model's handler (None: no read model needs it), its domain event
        (decoded only when a handler needs it) and its own recording moment. ``prefetch=False``: the
        acts the entries cite are cached already (``ReadAhead`` cached them).

        The moment comes two ways on purpose, the same value either way: an entry a handler needs
        is decoded anyway, so its event's timestamp is used; the others are not decoded at all, so
        their moment is read off the stored bytes (``_moment``, which falls back to decoding only a
        store that compresses or encrypts)."""
        decoder = self._decoder
        acts = getattr(self.store, "acts", None)
        if acts is not None and prefetch:  # the acts the decoded events cite, read together, not one by one
            acts.prefetch((n.state for n in notifications if self._handler_for(n.topic) is not None), self._act_stream)
        decoded: list[_Decoded] = []
        for n in notifications:
            handler = self._handler_for(n.topic)
            if handler is None:
                decoded.append(_Decoded(n, None, None, self._moment(n)))
            else:
                event: Any = decoder.event(n)
                decoded.append(_Decoded(n, handler, event, to_us(event.timestamp)))
        return decoded

    def _apply_decoded(self, conn: Connection, decoded: list[_Decoded], recorded_us: int, fresh: bool,
                       series: SeriesBatch | None, ledger_units: dict[str, str] | None,
                       following_us: int | None, ready: Callable[[], None] | None = None) -> tuple[int, int]:
        """``apply_runs`` on entries already decoded; ``following_us``: the next entry's own moment.
        ``ready``: called before ``conn`` or ``series`` is first touched (see ``apply_next``)."""
        moments = [d.moment for d in decoded]
        applied = _whole_runs(moments, recorded_us, following_us)
        if applied == 0:
            return recorded_us, 0
        if ready is not None:
            ready()
        batch = _Batch(conn, series or SeriesBatch(conn, SERIES, fresh=fresh), recorded_us, started_us=recorded_us)
        batch.ledger_units = self._ledger_units if ledger_units is None else ledger_units
        batch.series.preload(self._series_hints(batch, [d.event for d in decoded[:applied] if d.event is not None]))
        for notification, handler, event, moment in decoded[:applied]:
            batch.recorded_us = max(batch.recorded_us, moment)
            batch.tick(notification.id)
            if handler is not None:  # (one no read model needs counts only for its recording moment)
                handler(batch, event, notification.id)
        # where the entries of one writer's transaction end (their own moment changes): the figures
        # change once per such stretch (``FigureBatch.contribute``), wherever batches are cut
        ends = [decoded[i].notification.id for i in range(applied) if i + 1 == applied or moments[i + 1] != moments[i]]
        self._flush(batch, ends)
        return batch.recorded_us, applied

    def apply_next(self, conn: Connection, start: int, recorded_us: int, fresh: bool,
                   series: SeriesBatch | None = None,
                   ready: Callable[[], None] | None = None) -> tuple[int, int, int, bool]:
        """Read the next ``batch_size`` entries from position ``start`` on (more when they are all one
        unfinished run) and apply those that end a run (``apply_runs``); returns the last recording
        moment, the last position applied (``start - 1``: none), how many were applied and whether
        the log holds more entries after them.

        ``ready`` is called once the entries are read and decoded, before ``conn`` or ``series`` is
        first touched: a rebuild ends the batch before there (its tracking row and commit, which
        wait for its queued writes: ``writebehind``), so the next window is decoded meanwhile.

        What was read and decoded but not applied (the cut run and the entry after it: up to a whole
        writer's transaction: 20% of the province rebuild's reads) is kept and begins the next window when that
        starts where it does; stored entries never change, so only the position has to match.
        """
        limit = self.batch_size
        tail, self._tail = self._tail, []
        window = tail if tail and tail[0].notification.id == start else []
        while True:
            after = window[-1].notification.id + 1 if window else start
            wanted = limit + 1 - len(window)
            if wanted > 0:
                if self._reader is not None:  # (the acts of what it hands out are cached)
                    window += self._decode(self._reader.entries(after, wanted), prefetch=False)
                else:
                    window += self._decode(select_entries(self.store.recorder, after, wanted))
            entries, following = window[:limit], (window[limit] if len(window) > limit else None)
            if not entries:
                return recorded_us, start - 1, 0, False
            moment, applied = self._apply_decoded(conn, entries, recorded_us, fresh, series, None,
                                                  None if following is None else following.moment, ready)
            if applied:
                self._tail = window[applied:]
                more = following is not None or applied < len(entries)
                return moment, entries[applied - 1].notification.id, applied, more
            limit *= 2

    def widen(self, batch_size: int) -> None:
        """Read and apply ``batch_size`` entries a batch from the next batch on (and read that many
        ahead, ``reading_ahead``): a rebuild's batches once it has begun forgetting (``rebuild.LATE_WIDENING``)."""
        self.batch_size = batch_size
        if self._reader is not None:
            self._reader.size = batch_size

    @contextmanager
    def reading_ahead(self) -> Iterator[None]:
        """While inside, ``apply_next`` reads each next window of the log (and the acts it cites) on a
        thread as soon as it has the one before (``projections.readahead``: a rebuild's reads overlap
        its applying). For one caller reading forwards from one position on: a rebuild."""
        self._reader = ReadAhead(self.store, self.batch_size, lambda topic: self._handler_for(topic) is not None)
        try:
            yield
        finally:
            reader, self._reader = self._reader, None
            reader.close()

    @contextmanager
    def streaming_acts(self, stream: ActStream | None) -> Iterator[None]:
        """While inside, the acts each batch lacks are read from ``stream`` first, forwards in stored
        order, and only the rest by key (``acts.ActStream``; None: by key as always). For one caller
        reading the log forwards from its start: a rebuild."""
        self._act_stream = stream
        try:
            yield
        finally:
            self._act_stream = None

    def _moment(self, notification: Any) -> int:
        """An entry's own recording moment, read off its stored JSON without decoding the rest when it can be."""
        moment = _recorded_us(notification.state)
        if moment is None:
            whole: Any = self.store.mapper.to_domain_event(notification)
            moment = to_us(whole.timestamp)
        return moment

    @staticmethod
    def _series_hints(batch: _Batch, events: list[Any]) -> list[tuple[str, str]]:
        """The series a batch's events will read, to load them together (``SeriesBatch.preload``).

        A hint only: the handlers decide what they touch, and anything missed here loads on first
        use. The quota ledgers' units not known yet are looked up together first. Each event's part
        is its class's (``_hint_role``, found once per class: the checks per event were ~3.6% of
        the national rebuild's yearly flow, ``benchmarks/RESULTS.md`` section 47).
        """
        hints: list[tuple[str, str]] = []
        quotas: list[tuple[str, Any]] = []
        for e in events:
            role = _hint_role(type(e))
            if role is None:
                continue
            if role == "opened":
                batch.ledger_units[str(e.originator_id)] = str(e.unit_id)
            elif role == "quota" or role == "excess":
                quotas.append((role, e))
            else:
                hints.append((role, str(e.originator_id)))
        unknown = {str(e.originator_id) for _, e in quotas} - batch.ledger_units.keys()
        for chunk in chunks(unknown):
            batch.ledger_units.update(ledger_units(batch.conn, chunk))
        for role, e in quotas:
            unit = batch.ledger_units.get(str(e.originator_id))
            if unit is not None:
                hints.append(("quota", f"{unit}|{e.category}|{e.kind}") if role == "quota" else ("excess", unit))
        return hints

    def _handler_for(self, topic: str) -> Callable[[_Batch, Any, int], None] | None:
        """The handler for events stored under ``topic`` (resolved once per topic, renames included)."""
        try:
            return self._by_topic[topic]
        except KeyError:
            handler = self._by_topic[topic] = self._handlers.get(resolve_topic(topic))
            return handler

    def _flush(self, batch: _Batch, transaction_ends: Sequence[int] = ()) -> None:
        conn = batch.conn
        insert_tuples(conn, t.log_clock, ("position", "recorded_us"), self._continued_clock(batch))
        if batch.facts:
            insert_rows(conn, t.facts, list(batch.facts.values()))
        update_rows(conn, t.facts, ("retracted_pos", "retraction_fact_id"), ("fact_id",),  # rows of earlier batches
                    [(c["retracted_pos"], c["retraction_fact_id"], c["fact_id"]) for c in batch.retracted])
        if batch.lineage:
            insert_rows(conn, t.lineage, batch.lineage)
        if batch.persons:
            insert_rows(conn, t.persons, batch.persons)
        batch.series.flush(transaction_ends=transaction_ends)

    @staticmethod
    def _continued_clock(batch: _Batch) -> list[tuple[int, int]]:
        """The batch's clock rows to insert. When its first run goes on from the previous batch's last
        (same moment), the stored row of that run is moved to the run's new end instead: the clock's rows
        then do not depend on where batches were cut (a follower's read models equal a rebuild's)."""
        clock = batch.clock
        if not clock or clock[0][1] != batch.started_us:
            return clock
        lc = t.log_clock  # the row of the last position projected before, if it was recorded at this moment
        moved = batch.conn.execute(update(lc).where(lc.c.position == select(func.max(lc.c.position)).scalar_subquery(),
                                                    lc.c.recorded_us == batch.started_us)
                                   .values(position=clock[0][0])).rowcount
        return clock[1:] if moved else clock

    # ================================================================== facts & helpers
    def _fact(self, batch: _Batch, event: Any, position: int, type_: str, *, unit_id: str | None = None,
              other_unit_id: str | None = None, person_id: str | None = None) -> str:
        aggregate_id = str(event.originator_id)
        fid = f"{aggregate_id}:{event.originator_version}"
        act: LegalAct = event.act
        batch.facts[fid] = {
            "position": position, "fact_id": fid, "aggregate_id": aggregate_id, "type": type_,
            "unit_id": unit_id, "other_unit_id": other_unit_id, "person_id": person_id,
            "effective_on": event.effective_on, "recorded_us": batch.recorded_us, "act_number": act.number,
            "act_issuer": act.issuer, "act_signed_on": act.signed_on, "data": event_data(event),
            "retracted_pos": None, "retraction_fact_id": None, "recorded_by": getattr(event, "recorded_by", None),
        }
        return fid

    @staticmethod
    def _act_delta(event: Any, fid: str) -> dict[str, Any]:
        return {"fact_id": fid, "act_number": event.act.number, "act_issuer": event.act.issuer,
                "act_signed_on": event.act.signed_on.isoformat()}

    def _lineage(self, batch: _Batch, successor: UUID, predecessors: list[UUID], change: str, effective_on: date,
                 position: int, fid: str) -> None:
        for p in predecessors:
            common = {"change": change, "effective_on": effective_on, "rec_from": position, "fact_id": fid}
            batch.lineage.append({"unit_id": str(successor), "related_unit_id": str(p), "direction": "PREDECESSOR",
                                  **common})
            batch.lineage.append({"unit_id": str(p), "related_unit_id": str(successor), "direction": "SUCCESSOR",
                                  **common})

    # ================================================================== units
    def _unit_established(self, batch: _Batch, e: Unit.Established, pos: int) -> None:
        uid = str(e.originator_id)
        fid = self._fact(batch, e, pos, "UnitEstablished", unit_id=uid, other_unit_id=_s(e.parent_id))
        batch.series.add_fact("unit", uid, pos, e.effective_on, {
            "code": e.code, "name": e.name, "name_folded": fold(e.name), "kind": e.kind, "autonomy": e.autonomy,
            "parent_id": _s(e.parent_id), "status": "ACTIVE"}, new=True)
        if e.predecessor_ids:
            self._lineage(batch, e.originator_id, e.predecessor_ids, e.change, e.effective_on, pos, fid)

    def _unit_renamed(self, batch: _Batch, e: Unit.Renamed, pos: int) -> None:
        uid = str(e.originator_id)
        self._fact(batch, e, pos, "UnitRenamed", unit_id=uid)
        batch.series.add_fact("unit", uid, pos, e.effective_on,
                              {"name": e.name, "name_folded": fold(e.name), "code": e.code})

    def _unit_moved(self, batch: _Batch, e: Unit.Moved, pos: int) -> None:
        uid = str(e.originator_id)
        self._fact(batch, e, pos, "UnitMoved", unit_id=uid, other_unit_id=_s(e.parent_id))
        batch.series.add_fact("unit", uid, pos, e.effective_on, {"parent_id": _s(e.parent_id)})

    def _unit_model_changed(self, batch: _Batch, e: Unit.ModelChanged, pos: int) -> None:
        uid = str(e.originator_id)
        self._fact(batch, e, pos, "UnitModelChanged", unit_id=uid)
        batch.series.add_fact("unit", uid, pos, e.effective_on, {"kind": e.kind, "autonomy": e.autonomy})

    def _unit_fact(self, batch: _Batch, e: Any, pos: int) -> None:
        self._fact(batch, e, pos, "Unit" + type(e).__name__, unit_id=str(e.originator_id))

    def _unit_predecessors(self, batch: _Batch, e: Unit.PredecessorsReceived, pos: int) -> None:
        fid = self._fact(batch, e, pos, "UnitAbsorbed", unit_id=str(e.originator_id))
        self._lineage(batch, e.originator_id, e.predecessor_ids, e.change, e.effective_on, pos, fid)

    def _unit_ended(self, batch: _Batch, e: Unit.Ended, pos: int) -> None:
        uid = str(e.originator_id)
        self._fact(batch, e, pos, "UnitEnded", unit_id=uid)
        batch.series.add_fact("unit", uid, pos, e.effective_on, {"status": "ENDED"})

    def _unit_retracted(self, batch: _Batch, e: Unit.FactRetracted, pos: int) -> None:
        uid = str(e.originator_id)
        self._retract(batch, e, pos, lambda _: ("unit", uid), unit_id=uid)

    # ================================================================== positions
    def _position_created(self, batch: _Batch, e: Position.Created, pos: int) -> None:
        self._fact(batch, e, pos, "PositionCreated", unit_id=str(e.unit_id))
        batch.series.add_fact("position", str(e.originator_id), pos, e.effective_on, {
            "unit_id": str(e.unit_id), "title": e.title, "group": e.group, "rank": e.rank, "status": "OPEN"}, new=True)

    def _position_regraded(self, batch: _Batch, e: Position.Regraded, pos: int) -> None:
        current = batch.series.current_value("position", str(e.originator_id)) or {}
        self._fact(batch, e, pos, "PositionRegraded", unit_id=current.get("unit_id"))
        batch.series.add_fact("position", str(e.originator_id), pos, e.effective_on,
                              {"title": e.title, "group": e.group, "rank": e.rank})

    def _position_moved(self, batch: _Batch, e: Position.Moved, pos: int) -> None:
        current = batch.series.current_value("position", str(e.originator_id)) or {}
        self._fact(batch, e, pos, "PositionMoved", unit_id=str(e.unit_id), other_unit_id=current.get("unit_id"))
        batch.series.add_fact("position", str(e.originator_id), pos, e.effective_on, {"unit_id": str(e.unit_id)})

    def _position_abolished(self, batch: _Batch, e: Position.Abolished, pos: int) -> None:
        current = batch.series.current_value("position", str(e.originator_id)) or {}
        self._fact(batch, e, pos, "PositionAbolished", unit_id=current.get("unit_id"))
        batch.series.add_fact("position", str(e.originator_id), pos, e.effective_on, {"status": "ABOLISHED"})

    def _position_move_withdrawn(self, batch: _Batch, e: Position.MoveWithdrawn, pos: int) -> None:
        pid = str(e.originator_id)
        current = batch.series.current_value("position", pid) or {}
        self._retract(batch, e, pos, lambda _: ("position", pid), unit_id=current.get("unit_id"))

    # ================================================================== quota
    def _ledger_unit(self, batch: _Batch, ledger_id: UUID) -> str:
        key = str(ledger_id)
        if key not in batch.ledger_units:
            batch.ledger_units[key] = ledger_units(batch.conn, [key])[key]
        return batch.ledger_units[key]

    def _ledger_opened(self, batch: _Batch, e: StaffingQuota.Opened, pos: int) -> None:
        batch.ledger_units[str(e.originator_id)] = str(e.unit_id)
        self._fact(batch, e, pos, "QuotaLedgerOpened", unit_id=str(e.unit_id))

    def _quota_set(self, batch: _Batch, e: StaffingQuota.FigureSet, pos: int) -> None:
        unit = self._ledger_unit(batch, e.originator_id)
        fid = self._fact(batch, e, pos, "QuotaSet", unit_id=unit)
        batch.series.add_fact("quota", f"{unit}|{e.category}|{e.kind}", pos, e.effective_on,
                              {"amount": e.amount, "reason": e.reason, **self._act_delta(e, fid)})

    def _excess_allowed(self, batch: _Batch, e: StaffingQuota.ExcessAllowed, pos: int) -> None:
        unit = self._ledger_unit(batch, e.originator_id)
        fid = self._fact(batch, e, pos, "ExcessAllowed", unit_id=unit)
        batch.series.add_fact("excess", unit, pos, e.effective_on,
                              {"until": e.until.isoformat(), **self._act_delta(e, fid)})

    def _target_set(self, batch: _Batch, e: StaffingQuota.TargetSet, pos: int) -> None:
        """A reduction target is a fact (its terms in ``data``); progress is computed when asked."""
        self._fact(batch, e, pos, "ReductionTargetSet", unit_id=self._ledger_unit(batch, e.originator_id))

    def _retract(self, batch: _Batch, e: Any, pos: int,
                 series_key: Callable[[dict[str, Any]], tuple[str, str] | None], **fact_kwargs: Any) -> None:
        """Mark the retracted fact, and re-fold the series it fed (``series_key`` None: it fed none)."""
        target_id = f"{e.originator_id}:{e.fact_version}"
        target = batch.fact_row(target_id)
        assert target is not None, f"retracted fact {target_id} was never projected"
        fid = self._fact(batch, e, pos, "FactRetracted", **fact_kwargs)
        found = series_key(target)
        if found is not None:
            batch.series.retract_fact(*found, target["position"], pos)
        if target_id in batch.facts:
            batch.facts[target_id].update(retracted_pos=pos, retraction_fact_id=fid)
        else:
            batch.retracted.append({"fact_id": target_id, "retracted_pos": pos, "retraction_fact_id": fid})

    def _quota_retracted(self, batch: _Batch, e: StaffingQuota.FactRetracted, pos: int) -> None:
        unit = self._ledger_unit(batch, e.originator_id)

        def key(target: dict[str, Any]) -> tuple[str, str] | None:
            if target["type"] == "ReductionTargetSet":  # a target feeds no series: its fact is marked retracted
                return None
            if target["type"] == "ExcessAllowed":
                return "excess", unit
            data = orjson.loads(target["data"])
            return "quota", f"{unit}|{data['category']}|{data['kind']}"

        self._retract(batch, e, pos, key, unit_id=unit)

    # ================================================================== people
    def _person_recruited(self, batch: _Batch, e: Person.Recruited, pos: int) -> None:
        pid, uid = str(e.originator_id), str(e.unit_id)
        fid = self._fact(batch, e, pos, "PersonRecruited", unit_id=uid, person_id=pid)
        batch.persons.append({"person_id": pid, "full_name": e.full_name, "name_folded": fold(e.full_name),
                              "birth_date": e.birth_date, "gender": e.gender, "rec_from": pos})
        batch.series.add_fact("person", pid, pos, e.effective_on, {
            "unit_id": uid, "position_id": _s(e.position_id), "category": e.category, "rank": e.rank,
            "status": "ACTIVE", "cause": "RECRUITED", "fact_id": fid}, new=True)

    def _person_transferred(self, batch: _Batch, e: Person.Transferred, pos: int) -> None:
        pid = str(e.originator_id)
        before = batch.series.current_value("person", pid) or {}
        cause = "REORGANISED" if e.by_reorganisation else "TRANSFERRED"
        fid = self._fact(batch, e, pos, "PersonReorganised" if e.by_reorganisation else "PersonTransferred",
                         unit_id=str(e.unit_id), other_unit_id=before.get("unit_id"), person_id=pid)
        batch.series.add_fact("person", pid, pos, e.effective_on, {
            "unit_id": str(e.unit_id), "position_id": _s(e.position_id), "cause": cause, "fact_id": fid})

    def _person_regraded(self, batch: _Batch, e: Person.Regraded, pos: int) -> None:
        pid = str(e.originator_id)
        before = batch.series.current_value("person", pid) or {}
        fid = self._fact(batch, e, pos, "PersonRegraded", unit_id=before.get("unit_id"), person_id=pid)
        # a regrade leaves ``cause`` (how the person came to be where they are) alone; ``fact_id``
        # names the fact behind each state, which also orders the states of one day (movements)
        batch.series.add_fact("person", pid, pos, e.effective_on,
                              {"category": e.category, "rank": e.rank, "fact_id": fid})

    def _person_exit(self, batch: _Batch, e: Any, pos: int, type_: str, status: str) -> None:
        pid = str(e.originator_id)
        before = batch.series.current_value("person", pid) or {}
        fid = self._fact(batch, e, pos, type_, unit_id=before.get("unit_id"), person_id=pid)
        batch.series.add_fact("person", pid, pos, e.effective_on,
                              {"status": status, "position_id": None, "cause": status, "fact_id": fid})

    def _person_left(self, batch: _Batch, e: Person.Left, pos: int) -> None:
        self._person_exit(batch, e, pos, "Person" + e.status.capitalize(), e.status)

    def _person_downsized(self, batch: _Batch, e: Person.Downsized, pos: int) -> None:
        self._person_exit(batch, e, pos, "PersonDownsized", "DOWNSIZED")

    def _person_retracted(self, batch: _Batch, e: Person.FactRetracted, pos: int) -> None:
        pid = str(e.originator_id)
        before = batch.series.current_value("person", pid) or {}
        self._retract(batch, e, pos, lambda _: ("person", pid), unit_id=before.get("unit_id"), person_id=pid)


