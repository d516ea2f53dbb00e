"""The unit of work around every handler, and the only way anything enters the log.

``run`` decides a list of commands in order in one identity map (``Work``) — each against the state
the earlier ones produce — and saves every event of every one of them with a single
``Application.save``: one transaction, all or nothing.

- A concurrent writer makes the save fail with ``IntegrityError`` (optimistic concurrency); the
  whole decide step is then re-run against fresh state, so no update is ever lost.
- A request key makes a command idempotent: the key's ``Request`` record is saved in the same
  transaction, and a repeat answers with the first result instead of acting twice (a different
  command under the same key is refused).
- ``Mode.ATOMIC``: a refused command refuses the whole list. ``Mode.PREFIX``: the commands before
  the first refused one are recorded (an import that stops at a bad line). ``Mode.DRY_RUN``:
  nothing is saved — no event, no request key — and every refused command is reported, the rest
  being decided without it; the events that would have been written are returned. ``Mode.EACH``:
  independent commands (different callers' commands committed as a group, ``group``): each is judged
  alone against the state the accepted ones before it produce — a problem it leaves is refused with
  it, never resolved by a later command — and a refused one is answered with its error while the
  others are recorded.
- ``execute`` (one command) goes through ``GroupCommit``: concurrent callers' commands share one
  transaction and one catch-up of the read models; a caller alone is a group of one.
- After a commit, ``on_commit`` listeners run (the projections catch up: read your writes).
- Who recorded a fact travels with its event: ``recorded_by`` is set on each event just before the
  save and kept by the library's mapper in the stored state (an attribute beside the dataclass
  fields, so events stored before it existed load unchanged, with none).
"""

from __future__ import annotations

import hashlib
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from enum import Enum
from typing import Any
from uuid import UUID

from eventsourcing.persistence import IntegrityError

from staffing.application.access import Principal, check_scope
from staffing.application.commands import Command, Fact
from staffing.application.group import GroupCommit, Ticket
from staffing.application.hygiene import clean_text
from staffing.application.registry import HANDLERS, command_types, result_type
from staffing.application.results import Result
from staffing.application.warm import Warm
from staffing.application.work import Work
from staffing.commit_behind import CommitFailed
from staffing.domain.base import check_effective_on
from staffing.domain.errors import ConcurrencyConflict, IdempotencyConflict, InvalidInput, StaffingError
from staffing.domain.ids import uuid7
from staffing.domain.quota import StaffingQuota
from staffing.domain.request import Request, request_id
from staffing.domain.unit import Unit
from staffing.persistence import EventStore

__all__ = ["MAX_COMMANDS", "MAX_REPORTED_ERRORS", "Item", "Mode", "Outcome", "StaffingService"]

MAX_ATTEMPTS = 20
#: acts are dated in Vietnam's time (UTC+7): an act signed this morning in Hà Nội is not "in the future"
LEGAL_TIME = timezone(timedelta(hours=7))
#: the most commands one call may decide together (a plan, or one transaction of an import)
MAX_COMMANDS = 5_000
#: a dry run stops reporting (and deciding) after this many refused commands
MAX_REPORTED_ERRORS = 100
#: aggregates ``execute`` keeps between its groups: people, and units, positions and quota ledgers
#: (the library's own cache holds 20,000 of any kind; a server lives for months)
EXECUTE_WARM_PEOPLE = 20_000
EXECUTE_WARM_STRUCTURE = 20_000


PLAN = "executePlan"


def _list_fingerprint(items: Sequence[Item]) -> str:
    return hashlib.sha256("|".join(f"{i.command.fingerprint()}/{i.request_key or ''}" for i in items)
                          .encode()).hexdigest()


def _touched_units(work: Work) -> set[str]:
    """Units whose state, roster or quota the decided commands changed."""
    touched: set[str] = set()
    for agg in work.loaded.values():
        if not agg.pending_events:
            continue
        if isinstance(agg, Unit):
            touched.add(str(agg.id))
        elif isinstance(agg, StaffingQuota):
            touched.add(str(agg.unit_id))
    return touched


class Mode(Enum):
    ATOMIC = "atomic"
    PREFIX = "prefix"
    DRY_RUN = "dry_run"
    EACH = "each"


@dataclass(frozen=True)
class Item:
    """A command with its optional request key.

    ``sequence``: the request's place in an import file. Its request record is then named in that
    order (``request_id(key, sequence)``), so an import appends to the store's index; a record the
    same key left before imports did so (``earlier_request_id``) is found too, so a file imported
    then is resumed, not imported twice."""

    command: Command
    request_key: str | None = None
    sequence: int | None = None

    @property
    def request_id(self) -> UUID | None:
        return None if self.request_key is None else request_id(self.request_key, self.sequence)

    @property
    def earlier_request_id(self) -> UUID | None:
        return None if self.request_key is None or self.sequence is None else request_id(self.request_key)

    def request_ids(self) -> tuple[UUID, ...]:
        """Every id its request may be recorded under: its own, then the one named before sequences."""
        return tuple(i for i in (self.request_id, self.earlier_request_id) if i is not None)


@dataclass
class Outcome:
    """What became of a list of commands: a result or an error for each one decided."""

    results: list[Result | None]
    errors: dict[int, StaffingError] = field(default_factory=dict)
    recorded: bool = False
    events: list[Any] = field(default_factory=list)  # the events written (or, in a dry run, that would be)
    replayed: int = 0  # commands answered from an earlier request with the same key
    touched_units: set[str] = field(default_factory=set)  # units whose roster, quota or state changed
    stored_ids: list[str] | None = None  # a repeated plan: the ids its first run reported

    @property
    def ids(self) -> list[str]:
        """The ids each command created or touched, in order."""
        if self.stored_ids is not None:
            return list(self.stored_ids)
        return [i for r in self.results if r is not None for i in r.ids]

    @property
    def first_error(self) -> tuple[int, StaffingError] | None:
        return min(self.errors.items(), key=lambda e: e[0]) if self.errors else None


class StaffingService:
    """The application service: ``execute`` one command, or ``run`` many as one decision."""

    def __init__(
        self,
        store: EventStore,
        clock: Callable[[], datetime] | None = None,
        id_factory: Callable[[], UUID] = uuid7,
    ) -> None:
        self.store = store
        self.clock = clock or (lambda: datetime.now(UTC))
        self.new_id = id_factory
        self.on_commit: list[Callable[[], None]] = []
        self.group = GroupCommit(self._decide_group, self._publish)
        #: the aggregates ``execute``'s groups decided, carried to the next group (``warm``; only
        #: the group's leader touches it, one at a time)
        self.warm = Warm(max_people=EXECUTE_WARM_PEOPLE, max_structure=EXECUTE_WARM_STRUCTURE)
        command_types()  # make sure every handler is registered

    def execute(self, command: Command, request_key: str | None = None, principal: Principal | None = None) -> Any:
        """Decide and record one command; returns its typed result or raises its ``StaffingError``.

        Safe to call from many threads at once: commands that arrive together are committed as a
        group (``group``), each answered as if it had been executed alone in arrival order."""
        return self.group.submit(Ticket(Item(command, request_key), principal))

    def _decide_group(self, tickets: list[Ticket]) -> bool:
        """Answer every ticket and say whether anything was committed: one ticket is the
        single-command path; more are decided in ``Mode.EACH`` and saved in one transaction.

        A failure that is not a refusal before the group's commit (nothing was saved) must not fail
        the others, so each command is then decided alone; one after the commit (the commands are
        recorded) is every caller's answer, as it would be a single command's caller's."""
        if len(tickets) == 1:
            outcome = self.run([tickets[0].item], Mode.ATOMIC, principal=tickets[0].principal, warm=self.warm,
                               notify=False)
        else:
            saved: list[int] = []
            try:
                outcome = self.run([t.item for t in tickets], Mode.EACH, max_commands=None, notify=False,
                                   principals=[t.principal for t in tickets], saved=saved, warm=self.warm)
            except Exception:
                if saved:
                    raise
                committed = False
                for ticket in tickets:
                    try:
                        committed |= self._decide_group([ticket])
                    except Exception as failure:  # noqa: BLE001 - it is this command's answer
                        ticket.error = failure
                return committed
        for index, ticket in enumerate(tickets):
            if index in outcome.errors:
                ticket.error = outcome.errors[index]
            else:
                ticket.result = outcome.results[index]
        return outcome.recorded

    def _publish(self) -> None:
        """After a group's commit: the ``on_commit`` listeners (the read models catch up)."""
        for listener in self.on_commit:
            listener()

    def run(self, items: Sequence[Item], mode: Mode = Mode.ATOMIC, request_key: str | None = None,
            max_commands: int | None = MAX_COMMANDS, principal: Principal | None = None,
            warm: Warm | None = None, principals: Sequence[Principal | None] | None = None,
            saved: list[int] | None = None, notify: bool = True, commit_behind: bool = False) -> Outcome:
        """Decide ``items`` in order as one decision (see the module docstring for the modes).

        ``principal``: who is recording. Each command must stay inside its scope (``access``),
        and every event written carries its name as ``recorded_by``. None: a trusted in-process
        caller, not checked and not named.

        ``request_key`` makes the list as a whole idempotent (a plan): a repeat of the same list
        answers with the first run's ids; a different list under the same key is refused.

        ``warm``: a bulk writer's own aggregates, carried from its earlier calls (``warm`` module):
        checked against the log's head before deciding, given back after a commit, emptied on a
        concurrency conflict.

        ``principals``: one per item, for commands of different callers (``Mode.EACH``); overrides
        ``principal``. ``saved``: the log position is appended to it as soon as the save commits, so
        a caller can tell a failure after the commit from one before it. ``notify=False``: the
        ``on_commit`` listeners are left to the caller (``execute`` runs them once per group).

        ``commit_behind`` (a bulk writer with its ``warm`` map and no ``on_commit`` listeners): the save's
        commit runs on a thread while the caller decides its next call (``staffing.commit_behind``); the
        check that nobody else wrote since our last commit is made inside the next save instead of
        before deciding. The caller ends with ``store.settle()``.
        """
        if principals is not None and len(principals) != len(items):
            raise ValueError("one principal per item")
        if max_commands is not None and len(items) > max_commands:
            raise InvalidInput("commands", f"{len(items)} commands in one call; the limit is {MAX_COMMANDS}. "
                                           "Split them (an import file is cut into transactions for you)")
        for index, item in enumerate(items):  # a key is stored and compared as given: it must be clean
            if item.request_key is not None:
                clean_text(item.request_key, "requestKey" if len(items) == 1 else f"commands[{index}].requestKey",
                           "request_key")
        if request_key is not None:
            clean_text(request_key, "requestKey", "request_key")
        skipped: dict[int, StaffingError] = {}
        limit = len(items)
        attempt = 0
        behind = commit_behind and warm is not None and not self.on_commit
        while True:
            if warm is not None and not behind:
                warm.check(self.store.recorder.max_notification_id())
            work = Work(self.store, self.clock(), self.new_id, warm=warm)
            if len(items) > 1:  # a batch: one read tells which request keys and chosen ids are new
                candidates = _named_ids(items, request_key)
                work.absent = candidates - self.store.existing(candidates)
                repeated = {r for i in items for r in i.request_ids()} - work.absent
                if repeated:  # requests already recorded (an import run again): their results read together
                    work.loaded.update(self.store.load_many(repeated))
                if warm is not None and warm.prefetch:  # the people a bulk batch names, read together
                    named = {u for u in _referenced_ids(items) - work.absent if u not in warm}
                    warm.offer(self.store.load_many(named).values())
            results: list[Result | None] = [None] * len(items)
            replayed = 0
            failed: tuple[int, StaffingError] | None = None
            keys: dict[str, tuple[Command, Result]] = {}
            if request_key is not None and mode is not Mode.DRY_RUN:
                previous = work.find(request_id(request_key), Request)
                if previous is not None:
                    return self._replay_list(previous, items)
            owners: list[tuple[int, Principal | None]] = []  # (first event, who recorded it)
            for i in range(limit):
                if i in skipped:
                    continue
                work.index = i
                who = principal if principals is None else principals[i]
                owners.append((len(work.events), who))
                try:
                    results[i], was_replayed = self._decide(work, items[i], keys, who)
                    replayed += was_replayed
                except StaffingError as refused:
                    failed = (i, refused)
                    break
                if mode is Mode.EACH and work.problems:  # judged alone: a later command may not resolve it
                    failed = (i, min(work.problems.values(), key=lambda p: p[0])[1])
                    break
            if failed is None and work.problems:  # left unresolved by the end of the decision
                failed = min(work.problems.values(), key=lambda p: p[0])
            if failed is not None:
                index, refusal = failed
                key = items[index].request_key
                if key is not None and attempt < MAX_ATTEMPTS and self._committed_meanwhile(items[index]):
                    attempt += 1  # a concurrent repeat of this very request won; answer with its result
                    if warm is not None:
                        warm.clear()
                    continue
                if (mode is Mode.DRY_RUN and len(skipped) + 1 < MAX_REPORTED_ERRORS) or mode is Mode.EACH:
                    skipped[index] = refusal  # decided again from the start without it
                    continue
                if mode is Mode.PREFIX and index > 0:
                    limit = index
                    skipped = {index: refusal}
                    continue
                errors = {**skipped, index: refusal}
                if mode is Mode.PREFIX:
                    return Outcome([None] * len(items), errors)
                return Outcome([None] * len(items) if mode is Mode.ATOMIC else results, errors)
            touched = _touched_units(work)
            if mode is Mode.DRY_RUN:
                return Outcome(results, dict(skipped), recorded=False, events=list(work.events), replayed=replayed,
                               touched_units=touched)
            if request_key is not None:
                ids = [i for r in results if r is not None for i in r.ids]
                work.add(Request.handled(key=request_key, command=PLAN, fingerprint=_list_fingerprint(items),
                                         result={"ids": ids, "touched_units": sorted(touched)}, at=work.at))
                work.end_command()
            if not work.events:
                if warm is not None:  # nothing changed: what was taken goes back as it was
                    warm.keep(work.loaded.values(), warm.position)
                return Outcome(results, dict(skipped), recorded=False, replayed=replayed)
            versions = work.versions()
            if principals is None:
                owners = [(0, principal)]
            for n, (start, who) in enumerate(owners):
                if who is not None:  # kept in the stored event's state; see the module docstring
                    end = owners[n + 1][0] if n + 1 < len(owners) else len(work.events)
                    for event in work.events[start:end]:
                        object.__setattr__(event, "recorded_by", who.name)
            try:
                position = (self.store.save_events(work.events, behind=True, expect_head=warm.position)
                            if behind and warm is not None else self.store.save_events(work.events))
            except CommitFailed:  # our previous transaction, committing behind, did not: what we carry is not on record
                if warm is not None:
                    warm.clear()
                raise
            except IntegrityError:
                if warm is not None:
                    warm.clear()
                attempt += 1
                if attempt >= MAX_ATTEMPTS:
                    raise ConcurrencyConflict(None, "the commands kept colliding with concurrent changes; "
                                                    "submit them again") from None
                time.sleep(min(0.002 * (2**attempt), 0.1) * (0.5 + uuid.uuid4().int % 100 / 100))
                continue
            if saved is not None:
                saved.append(position or 0)
            for aggregate_id, kind, first_new, last_new in versions:
                self.store.snapshot_if_due(aggregate_id, kind, first_new, last_new)
            if warm is not None:
                warm.keep(work.loaded.values(), position)
            if notify:
                self._publish()
            return Outcome(results, dict(skipped), recorded=True, events=list(work.events), replayed=replayed,
                           touched_units=touched)

    def _decide(self, work: Work, item: Item, keys: dict[str, tuple[Command, Result]],
                principal: Principal | None) -> tuple[Result, bool]:
        command, key = item.command, item.request_key
        if key is not None:
            if key in keys:
                return self._replay_in_batch(keys[key], command), True
            for recorded_as in item.request_ids():
                previous = work.find_new(recorded_as, Request)
                if previous is not None:
                    return self._replay(previous, command), True
        if command.act.signed_on > work.at.astimezone(LEGAL_TIME).date():
            raise InvalidInput("act.signedOn", f"the act is dated {command.act.signed_on.isoformat()}, after the moment "
                                               "it is recorded: an act must be signed before facts are recorded under "
                                               "it; check the date")
        if isinstance(command, Fact):
            check_effective_on(command.effective_on, work.at)
        start = len(work.events)
        result = HANDLERS[type(command)](command, work)
        work.end_command()
        check_scope(principal, work, work.events[start:])
        if key is not None:
            keys[key] = (command, result)
            work.add(Request.handled(key=key, command=command.command_name(), fingerprint=command.fingerprint(),
                                     result=result.stored(), at=work.at, sequence=item.sequence))
        work.end_command()
        return result, False

    def _committed_meanwhile(self, item: Item) -> bool:
        work = Work(self.store, self.clock(), self.new_id)
        return any(work.find(recorded_as, Request) is not None for recorded_as in item.request_ids())

    @staticmethod
    def _replay_list(previous: Request, items: Sequence[Item]) -> Outcome:
        if previous.command != PLAN or previous.fingerprint != _list_fingerprint(items):
            raise IdempotencyConflict("requestKey", "this request key was already used for a different plan; "
                                                    "use a fresh key")
        return Outcome([None] * len(items), recorded=True, replayed=len(items),
                       touched_units=set(previous.result.get("touched_units", ())),
                       stored_ids=list(previous.result["ids"]))

    @staticmethod
    def _replay_in_batch(first: tuple[Command, Result], command: Command) -> Result:
        if first[0].fingerprint() != command.fingerprint():
            raise IdempotencyConflict("requestKey", "this request key is used twice for different commands; "
                                                    "give each command its own key")
        return first[1]

    @staticmethod
    def _replay(previous: Request, command: Command) -> Result:
        """A repeat answers with the first result. Keys recorded before commands were typed (snake_case
        names, positional fingerprints) are matched by name only."""
        legacy = "_" in previous.command
        same_name = previous.command.replace("_", "") == command.command_name().lower() if legacy \
            else previous.command == command.command_name()
        if not same_name or (not legacy and previous.fingerprint != command.fingerprint()):
            raise IdempotencyConflict(
                "requestKey", "this request key was already used for a different command; use a fresh key")
        return result_type(type(command)).from_stored(previous.result)


def _referenced_ids(items: Sequence[Item]) -> set[UUID]:
    """The ids the commands name as existing: their UUID fields and lists of UUIDs, except a command's
    own chosen ``id`` (``_named_ids``)."""
    found: set[UUID] = set()
    for item in items:
        for name, value in vars(item.command).items():
            if isinstance(value, UUID):
                if name != "id":
                    found.add(value)
            elif isinstance(value, list | tuple):
                found.update(v for v in value if isinstance(v, UUID))
    return found


def _named_ids(items: Sequence[Item], request_key: str | None) -> set[UUID]:
    """The ids a batch looks up as "probably new": request keys, and the ids commands choose for what
    they create (a command's own ``id``, and the ``id`` of each new unit it describes)."""
    found = {r for i in items for r in i.request_ids()}
    if request_key is not None:
        found.add(request_id(request_key))
    for item in items:
        for value in vars(item.command).values():
            if isinstance(value, UUID):
                continue  # a reference to something existing (its own ``id`` is caught below)
            for element in value if isinstance(value, (list, tuple)) else (value,):
                chosen = getattr(element, "id", None)
                if isinstance(chosen, UUID):
                    found.add(chosen)
        chosen = getattr(item.command, "id", None)
        if isinstance(chosen, UUID):
            found.add(chosen)
    return found
