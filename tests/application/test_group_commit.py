"""Group commit: concurrent callers' commands share one transaction, each answered as if alone.

The first half tests ``GroupCommit`` itself with a stand-in ``decide`` (no database): answers,
order, group size, leadership hand-over, failures. The second half drives ``StaffingService.execute``
from real threads on both backends. To make a group form deterministically it holds the leader of a
first command inside its catch-up (an ``on_commit`` listener waits on a gate) while the other
callers queue up one by one, in a known order; releasing the gate lets the next leader take them
all as one group.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date
from typing import Any

import pytest

from staffing.application import DissolveUnit, Item, Mode, RecruitPerson, RetirePerson, TransferPerson
from staffing.application.access import Principal
from staffing.application.group import GroupCommit, Ticket
from staffing.application.registry import HANDLERS
from staffing.bootstrap import Ledger
from staffing.domain.errors import Forbidden, NotFound
from staffing.domain.person import Person
from staffing.domain.reorganisation import StuckInEndedUnit
from staffing.domain.values import UnitKind
from tests.application.helpers import events, last_position, unit
from tests.builders import an_act, establish

ON = date(2022, 3, 1)
#: threads that wait on each other: a lost wake-up fails here with its stack instead of hanging
pytestmark = pytest.mark.timeout(120)


# ====================================================================== GroupCommit alone
def _wait_until(condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + 10
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting until {what}"
        time.sleep(0.001)


class Recorder:
    """A stand-in ``decide``: answers each ticket with its item doubled; the first call waits on a gate."""

    def __init__(self, gate: threading.Event | None = None) -> None:
        self.gate = gate
        self.groups: list[list[int]] = []
        self.published = 0

    def decide(self, tickets: list[Ticket]) -> bool:
        first = not self.groups
        self.groups.append([t.item for t in tickets])
        if first and self.gate is not None:
            self.gate.wait(10)
        for ticket in tickets:
            if ticket.item < 0:
                ticket.error = ValueError(f"refused {ticket.item}")
            else:
                ticket.result = ticket.item * 2
        return True

    def publish(self) -> None:
        self.published += 1


def _submit_in_order(group: GroupCommit, items: list[int]) -> tuple[list[threading.Thread], dict[int, Any]]:
    """Start one caller per item, each only once the one before it is queued (a known order)."""
    answers: dict[int, Any] = {}

    def call(item: int) -> None:
        try:
            answers[item] = group.submit(Ticket(item, None))
        except Exception as error:  # noqa: BLE001 - the answer under test
            answers[item] = error

    threads = []
    for n, item in enumerate(items):
        thread = threading.Thread(target=call, args=(item,))
        thread.start()
        threads.append(thread)
        _wait_until(lambda n=n: group.waiting == n + 1, f"caller {n} is queued")
    return threads, answers


def test_callers_who_arrive_while_a_group_is_committed_form_the_next_group_in_arrival_order() -> None:
    gate = threading.Event()
    recorder = Recorder(gate)
    group = GroupCommit(recorder.decide, recorder.publish)
    first = threading.Thread(target=group.submit, args=(Ticket(1, None),))
    first.start()
    _wait_until(lambda: len(recorder.groups) == 1, "the first group is being decided")

    threads, answers = _submit_in_order(group, [5, 3, -4, 7])
    gate.set()
    for thread in [first, *threads]:
        thread.join(10)

    assert recorder.groups == [[1], [5, 3, -4, 7]]
    assert answers[5] == 10 and answers[3] == 6 and answers[7] == 14
    assert isinstance(answers[-4], ValueError) and "refused -4" in str(answers[-4])
    assert recorder.published == 2  # once per group, not per command
    assert group.groups == 2 and group.largest == 4


def test_a_group_never_exceeds_max_group_and_the_rest_lead_the_next() -> None:
    gate = threading.Event()
    recorder = Recorder(gate)
    group = GroupCommit(recorder.decide, recorder.publish, max_group=3)
    first = threading.Thread(target=group.submit, args=(Ticket(0, None),))
    first.start()
    _wait_until(lambda: len(recorder.groups) == 1, "the first group is being decided")

    threads, answers = _submit_in_order(group, [1, 2, 3, 4, 5, 6, 7])
    gate.set()
    for thread in [first, *threads]:
        thread.join(10)

    assert recorder.groups == [[0], [1, 2, 3], [4, 5, 6], [7]]
    assert answers == {n: 2 * n for n in range(1, 8)}


def test_many_callers_at_once_are_all_answered_with_their_own_result() -> None:
    recorder = Recorder()
    group = GroupCommit(recorder.decide, recorder.publish, max_group=8)
    answers: dict[int, int] = {}

    def caller(base: int) -> None:
        for i in range(50):
            answers[base + i] = group.submit(Ticket(base + i, None))

    threads = [threading.Thread(target=caller, args=(1000 * n,)) for n in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)

    assert answers == {item: 2 * item for item in answers} and len(answers) == 600
    assert sorted(i for g in recorder.groups for i in g) == sorted(answers)
    assert max(len(g) for g in recorder.groups) <= 8


def test_a_failing_decide_answers_its_group_with_the_failure_and_the_next_group_still_runs() -> None:
    calls: list[list[int]] = []

    def decide(tickets: list[Ticket]) -> bool:
        calls.append([t.item for t in tickets])
        if tickets[0].item == 13:
            raise OSError("disk full")
        for ticket in tickets:
            ticket.result = ticket.item
        return True

    group = GroupCommit(decide, lambda: None)
    with pytest.raises(OSError, match="disk full"):
        group.submit(Ticket(13, None))
    assert group.submit(Ticket(14, None)) == 14


def test_a_failing_publish_reaches_every_caller_of_its_group() -> None:
    def decide(tickets: list[Ticket]) -> bool:
        for ticket in tickets:
            ticket.result = ticket.item
        return True

    def publish() -> None:
        raise RuntimeError("the read models could not be written")

    group = GroupCommit(decide, publish)
    with pytest.raises(RuntimeError, match="read models"):
        group.submit(Ticket(1, None))


def test_a_decide_that_forgets_a_ticket_answers_it_with_an_error_instead_of_hanging() -> None:
    group = GroupCommit(lambda tickets: False, lambda: None)
    with pytest.raises(RuntimeError, match="not answered"):
        group.submit(Ticket(1, None))


# ====================================================================== the service, real threads
class Gate:
    """Holds the leader of the next commit inside its catch-up until ``release``."""

    def __init__(self, ledger: Ledger) -> None:
        self.ledger = ledger
        self.entered = threading.Event()
        self.open = threading.Event()
        self.armed = True

    def __call__(self) -> None:
        if self.armed:
            self.armed = False
            self.entered.set()
            self.open.wait(10)


@contextmanager
def one_group(ledger: Ledger) -> Iterator[Callable[[Callable[[], Any]], None]]:
    """Callers queued through the returned ``queue(call)`` are committed together, in that order."""
    gate = Gate(ledger)
    ledger.service.on_commit.insert(0, gate)
    group = ledger.service.group
    before = group.groups
    opener = threading.Thread(target=lambda: establish(ledger.service, code=f"G{uuid.uuid4().hex[:6]}"))
    opener.start()
    assert gate.entered.wait(10)
    threads: list[threading.Thread] = []

    def queue(call: Callable[[], Any]) -> None:
        thread = threading.Thread(target=call)
        thread.start()
        threads.append(thread)
        _wait_until(lambda: group.waiting == len(threads), f"caller {len(threads)} is queued")

    try:
        yield queue
    finally:
        gate.open.set()
        for thread in [opener, *threads]:
            thread.join(30)
        ledger.service.on_commit.remove(gate)
    assert group.groups == before + 2, "the queued callers were not committed as one group"


def _recruit(unit_id: str, name: str, person_id: uuid.UUID | None = None) -> RecruitPerson:
    return RecruitPerson(id=person_id, full_name=name, birth_date=date(1990, 5, 6), gender="FEMALE",
                         category="CIVIL_SERVANT", unit_id=unit_id, effective_on=ON, act=an_act())


def _answer(answers: dict[str, Any], key: str, call: Callable[[], Any]) -> Callable[[], None]:
    def run() -> None:
        try:
            answers[key] = call()
        except Exception as error:  # noqa: BLE001 - the answer under test
            answers[key] = error
    return run


def test_concurrent_commands_commit_as_one_group_each_answered_and_visible_when_execute_returns(
        ledger: Ledger) -> None:
    province = establish(ledger.service)
    commune = establish(ledger.service, parent_id=province, kind=UnitKind.COMMUNE)
    elsewhere = establish(ledger.service)
    clerk_a = Principal("ubnd-a", "personnel", uuid.UUID(province))
    clerk_b = Principal("ubnd-b", "personnel", uuid.UUID(province))
    answers: dict[str, Any] = {}
    seen_in_read_models: dict[str, bool] = {}

    def recruit_and_look(name: str, who: Principal) -> Callable[[], None]:
        def run() -> None:
            try:
                person_id = str(ledger.service.execute(_recruit(commune, name), principal=who).person_id)
            except Exception as error:  # noqa: BLE001
                answers[name] = error
                return
            answers[name] = person_id
            with ledger.queries.connect() as conn:  # read your writes: no refresh asked for
                position = ledger.queries.knowledge_position(conn, None)
                seen_in_read_models[name] = ledger.queries.person(conn, person_id, ON, position) is not None
        return run

    before = last_position(ledger)
    with one_group(ledger) as queue:
        for n in range(6):
            queue(recruit_and_look(f"Người {n}", clerk_a if n % 2 else clerk_b))
        queue(_answer(answers, "ghost", lambda: ledger.service.execute(
            TransferPerson(person_id=uuid.uuid4(), to_unit_id=commune, effective_on=ON, act=an_act()))))
        queue(_answer(answers, "outsider", lambda: ledger.service.execute(
            _recruit(elsewhere, "Ngoài phạm vi"), principal=clerk_a)))

    people = {f"Người {n}": answers[f"Người {n}"] for n in range(6)}
    assert all(isinstance(p, str) for p in people.values()), answers
    assert len(set(people.values())) == 6
    assert isinstance(answers["ghost"], NotFound)
    assert isinstance(answers["outsider"], Forbidden)
    assert seen_in_read_models == {name: True for name in people}
    assert {str(m) for m in unit(ledger, commune).member_ids} == set(people.values())
    for n in range(6):  # who recorded each fact travels with its own events
        recruited = [e for e in events(ledger, people[f"Người {n}"]) if isinstance(e, Person.Recruited)]
        assert [e.recorded_by for e in recruited] == ["ubnd-a" if n % 2 else "ubnd-b"]
    assert ledger.service.group.largest >= 8
    assert last_position(ledger) > before


def test_a_group_records_what_the_same_commands_one_at_a_time_would(ledger: Ledger) -> None:
    """Each command is judged against the accepted ones before it: the same list one at a time, on
    a fresh pair of units, accepts and refuses the same commands and leaves the same rosters."""

    def scenario(a: str, b: str, queue: Callable[[Callable[[], Any]], None], answers: dict[str, Any]) -> None:
        p, q = uuid.uuid4(), uuid.uuid4()
        steps: list[tuple[str, Any]] = [
            ("recruit p", _recruit(a, "Phạm Văn P", p)),
            ("transfer p", TransferPerson(person_id=p, to_unit_id=b, effective_on=date(2022, 4, 1), act=an_act())),
            ("retire q before q exists", RetirePerson(person_id=q, effective_on=date(2022, 5, 1), act=an_act())),
            ("recruit q", _recruit(b, "Quách Thị Q", q)),
            ("recruit p again", _recruit(a, "Phạm Văn P", p)),
            ("retire q", RetirePerson(person_id=q, effective_on=date(2022, 5, 1), act=an_act())),
            ("transfer p back", TransferPerson(person_id=p, to_unit_id=a, effective_on=date(2022, 6, 1), act=an_act())),
        ]
        for key, command in steps:
            queue(_answer(answers, key, lambda command=command: ledger.service.execute(command)))

    single: dict[str, Any] = {}
    a1, b1 = establish(ledger.service), establish(ledger.service)
    scenario(a1, b1, lambda call: call(), single)
    grouped: dict[str, Any] = {}
    a2, b2 = establish(ledger.service), establish(ledger.service)
    with one_group(ledger) as queue:
        scenario(a2, b2, queue, grouped)

    def shape(answer: Any) -> str:
        return type(answer).__name__ if isinstance(answer, Exception) else "accepted"

    assert {k: shape(v) for k, v in grouped.items()} == {k: shape(v) for k, v in single.items()}
    assert shape(grouped["retire q before q exists"]) == "NotFound"
    assert shape(grouped["recruit p again"]) != "accepted"
    assert shape(grouped["transfer p back"]) == "accepted"
    for grouped_unit, single_unit in ((a2, a1), (b2, b1)):
        assert len(unit(ledger, grouped_unit).member_ids) == len(unit(ledger, single_unit).member_ids)
    assert [len(unit(ledger, u).member_ids) for u in (a2, b2)] == [1, 0]


def test_a_problem_a_command_leaves_is_its_own_even_if_a_later_callers_command_would_resolve_it(
        ledger: Ledger) -> None:
    """A plan may record a late recruitment into a since-dissolved unit together with the transfer
    that takes the person out in time; two callers' separate commands may not lean on each other."""
    a, b = establish(ledger.service), establish(ledger.service)
    ledger.service.execute(DissolveUnit(unit_id=a, effective_on=date(2023, 1, 1), act=an_act()))
    person = uuid.uuid4()
    late = _recruit(a, "Lê Thị Hoa", person)
    out = TransferPerson(person_id=person, to_unit_id=b, effective_on=date(2022, 6, 1), act=an_act())
    assert ledger.service.run([Item(late), Item(out)], Mode.DRY_RUN).errors == {}  # as one plan: fine

    answers: dict[str, Any] = {}
    with one_group(ledger) as queue:
        queue(_answer(answers, "late", lambda: ledger.service.execute(late)))
        queue(_answer(answers, "out", lambda: ledger.service.execute(out)))

    assert isinstance(answers["late"], StuckInEndedUnit)
    assert isinstance(answers["out"], NotFound)
    assert not unit(ledger, b).member_ids


def test_a_failure_that_is_not_a_refusal_fails_only_the_command_that_causes_it(
        ledger: Ledger, monkeypatch: pytest.MonkeyPatch) -> None:
    commune = establish(ledger.service)
    real = HANDLERS[RecruitPerson]

    def flaky(command: Any, work: Any) -> Any:
        if command.full_name == "Lỗi Hệ Thống":
            raise ConnectionError("the connection was lost")
        return real(command, work)

    monkeypatch.setitem(HANDLERS, RecruitPerson, flaky)
    answers: dict[str, Any] = {}
    with one_group(ledger) as queue:
        for name in ("Đỗ Văn Một", "Lỗi Hệ Thống", "Đỗ Văn Hai"):
            queue(_answer(answers, name, lambda name=name: ledger.service.execute(_recruit(commune, name)).person_id))

    assert isinstance(answers["Lỗi Hệ Thống"], ConnectionError)
    recorded = {str(answers["Đỗ Văn Một"]), str(answers["Đỗ Văn Hai"])}
    assert {str(m) for m in unit(ledger, commune).member_ids} == recorded


def test_one_request_key_twice_in_a_group_records_once_and_answers_both(ledger: Ledger) -> None:
    commune = establish(ledger.service)
    command = _recruit(commune, "Vũ Thị Lặp")
    answers: dict[str, Any] = {}
    with one_group(ledger) as queue:
        for n in range(2):
            queue(_answer(answers, str(n), lambda: ledger.service.execute(command, request_key="tuyen-dung-42")))

    assert answers["0"] == answers["1"]
    assert len(unit(ledger, commune).member_ids) == 1


def test_commands_are_recorded_when_the_catch_up_after_their_group_fails(ledger: Ledger) -> None:
    commune = establish(ledger.service)

    def broken() -> None:
        raise RuntimeError("the read models could not be written")

    ledger.service.on_commit.append(broken)
    try:
        with pytest.raises(RuntimeError, match="read models"):
            ledger.service.execute(_recruit(commune, "Hồ Văn Ghi"))
    finally:
        ledger.service.on_commit.remove(broken)
    assert len(unit(ledger, commune).member_ids) == 1
    ledger.projector.catch_up()  # the next catch-up brings the read models level with the log
    assert ledger.projector.position() == last_position(ledger)


def test_a_command_executed_from_inside_a_commit_is_refused_instead_of_waiting_for_itself(ledger: Ledger) -> None:
    commune = establish(ledger.service)
    inner: list[BaseException] = []

    def nested() -> None:
        try:
            ledger.service.execute(_recruit(commune, "Bên Trong"))
        except RuntimeError as error:
            inner.append(error)

    ledger.service.on_commit.append(nested)
    try:
        ledger.service.execute(_recruit(commune, "Bên Ngoài"))
    finally:
        ledger.service.on_commit.remove(nested)
    assert len(inner) == 1 and "wait for itself" in str(inner[0])
    assert len(unit(ledger, commune).member_ids) == 1
