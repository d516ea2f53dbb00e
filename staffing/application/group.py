"""Group commit: concurrent callers' commands decided and saved together (issue 9: interactive commands).

One durable transaction per command caps a ledger at the disk's commit rate (~4,400 bare commits/s
on SQLite on the machine of benchmarks/RESULTS.md section 8, before any work) and makes each
command pay its own catch-up of the read models. When several callers (GraphQL mutations run in
threads) execute commands at the same time, the first to arrive becomes the *leader*: it takes
every command queued so far (up to ``max_group``), has them decided one after another in a single
unit of work and saved in one transaction (``decide``), then catches the read models up once
(``publish``) and hands each caller its own result or error. A caller alone forms a group of one, which is the single-command path.
No thread is started.

A caller is answered only after its group is projected, so what ``execute`` returns is durable
and already visible to queries (read your writes). Only then does the lead pass on. Handing it over
as soon as a group was saved (projecting one group while the next is decided) was measured and
dropped: the next leader found few callers queued (the rest were waiting for their projection), so
groups shrank by a third and throughput did not rise (one interpreter lock runs both stages).
Measured again with a second interpreter projecting (a partner process, ``benchmarks/bench_partner``,
benchmarks/RESULTS.md section 26): slower with up to 64 callers, the wake-ups on the way back wait
for the leader's interpreter lock; and handing the lead over just before the read models' commit
gained nothing measurable.

What each caller sees is what it would see if the commands had been executed one at a time in the
order they were queued (``Mode.EACH``): each is judged against the state the accepted ones before
it produce, and a refused command is answered with its error while the others are recorded. How a
failure that is not a refusal is kept from failing a whole group is ``decide``'s part
(``StaffingService._decide_group``); a failure of ``publish`` reaches every caller of the group,
as it would reach a single command's caller (their commands are recorded; the read models catch
up on the next call).
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

__all__ = ["GroupCommit", "Ticket"]


@dataclass(eq=False)
class Ticket:
    """One caller's command waiting for its group: the answer is ``result`` or ``error``."""

    item: Any  # service.Item
    principal: Any  # access.Principal | None
    result: Any = None
    error: BaseException | None = None
    done: bool = False
    #: set when the ticket is answered, or when its caller is handed the lead
    wake: threading.Event = field(default_factory=threading.Event)

    def answer(self) -> Any:
        if self.error is not None:
            raise self.error
        return self.result


class GroupCommit:
    """A leader/follower queue in front of two stages.

    ``decide(tickets)`` must set each ticket's ``result`` or ``error`` and return whether anything
    was committed; ``publish()`` then catches the read models up. Leadership is handed over, never
    contended for: a caller that finds no leader leads at once; a leader whose group is done hands
    the lead to the oldest caller still waiting (whose command is then first in the queue). Nobody
    is woken for nothing.
    """

    def __init__(self, decide: Callable[[list[Ticket]], bool], publish: Callable[[], None],
                 max_group: int = 64) -> None:
        self._decide = decide
        self._publish = publish
        self.max_group = max_group
        self._lock = threading.Lock()
        self._queue: deque[Ticket] = deque()
        self._leading = False
        self._leader: int | None = None  # the thread leading now (a re-entrant call would wait on itself)
        self.groups = 0  # how many groups were committed (for tests and benchmarks)
        self.largest = 0

    @property
    def waiting(self) -> int:
        """Callers queued for the next group (not the one being committed)."""
        with self._lock:
            return len(self._queue)

    def submit(self, ticket: Ticket) -> Any:
        """Queue ``ticket``; lead its group, or wait until a leader answers it or hands over the lead."""
        if self._leader == threading.get_ident():
            raise RuntimeError("a command was executed from inside a group's commit (an on_commit listener?); "
                               "it would wait for itself")
        group = self._join(ticket)
        if group is None:
            return ticket.answer()
        try:
            if self._decided(group):
                self._publish()
        except Exception as failure:  # noqa: BLE001 - it is every caller's answer (``publish`` failed)
            for member in group:
                member.error = failure
        finally:
            for member in group:
                member.done = True
                if member is not ticket:
                    member.wake.set()
            with self._lock:
                self._leader = None
                if self._queue:
                    self._queue[0].wake.set()  # the lead passes on; ``_leading`` stays set
                else:
                    self._leading = False
        return ticket.answer()

    def _join(self, ticket: Ticket) -> list[Ticket] | None:
        """Queue ``ticket`` and wait: None once a leader has answered it, or its group (``ticket``
        first) once it leads."""
        with self._lock:
            self._queue.append(ticket)
            lead = not self._leading
            self._leading = True
        if not lead:
            ticket.wake.wait()
            if ticket.done:
                return None
        with self._lock:  # we lead, and our ticket is first in the queue
            group = [self._queue.popleft() for _ in range(min(self.max_group, len(self._queue)))]
            self.groups += 1
            self.largest = max(self.largest, len(group))
            self._leader = threading.get_ident()
        return group

    def _decided(self, group: list[Ticket]) -> bool:
        """Run ``decide``; whatever it leaves unanswered gets its failure (or names the bug)."""
        try:
            return self._decide(group)
        except Exception as failure:  # noqa: BLE001 - it is the answer of those left unanswered
            for member in group:
                if member.error is None and member.result is None:
                    member.error = failure
            return False
        finally:
            for member in group:
                if member.error is None and member.result is None:
                    member.error = RuntimeError("the command was not answered")  # a bug in ``decide``
