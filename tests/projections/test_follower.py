"""Following a log while another writer records it (``staffing.projections.follower``).

The follower must end with exactly the read models a rebuild of the finished log gives, however
its passes fell between the writer's commits, and it must not project trickles smaller than its
batch while the writer goes on.
"""

from __future__ import annotations

import threading
import time
from typing import Any

from staffing.bootstrap import Ledger
from staffing.projections.follower import follow
from staffing.projections.projector import Projector
from staffing.projections.rebuild import rebuild
from tests.builders import establish
from tests.projections.history import generate_history
from tests.projections.test_rebuild import contents, fresh_target  # noqa: F401  (a fixture)
from tests.support import FakeClock


def test_following_a_log_as_it_is_written_ends_with_what_a_rebuild_gives(ledger: Ledger, clock: FakeClock,
                                                                          fresh_target: Any) -> None:  # noqa: F811
    ledger.service.on_commit.clear()  # nothing projects inline: the follower is the only projector
    follower = Projector(ledger.store, ledger.engines, batch_size=40)
    passes: list[tuple[int, int]] = []  # (entries applied, the log's head when the pass ended)
    first_pass = threading.Event()

    def progress(done: int) -> None:
        passes.append((done, ledger.store.recorder.max_notification_id() or 0))
        first_pass.set()

    commits = [0]

    def hold_until_followed() -> None:  # the writer waits, half-way, until the follower has projected once
        commits[0] += 1
        if commits[0] == 60:
            assert first_pass.wait(timeout=60)

    ledger.service.on_commit.append(hold_until_followed)
    stop = threading.Event()
    applied: list[int] = []
    following = threading.Thread(target=lambda: applied.append(follow(follower, stop, min_batch=25, poll=0.002,
                                                                      progress=progress)))
    following.start()
    try:
        generate_history(ledger, clock, seed=21, steps=160)
    finally:
        stop.set()
        following.join(timeout=120)
    head = ledger.store.recorder.max_notification_id()
    assert commits[0] > 60 and applied == [head]
    assert len(passes) >= 2 and passes[0][1] < head  # it projected while the log was still growing
    assert follower.position() == head
    target = fresh_target()
    rebuild(ledger.store, target)
    assert contents(ledger.engines) == contents(target)


def test_fewer_entries_than_a_batch_wait_until_the_writer_is_done(ledger: Ledger) -> None:
    ledger.service.on_commit.clear()
    for code in ("A", "B", "C"):
        establish(ledger.service, code=code)
    follower = Projector(ledger.store, ledger.engines)
    stop = threading.Event()
    applied: list[int] = []
    following = threading.Thread(target=lambda: applied.append(follow(follower, stop, min_batch=1000, poll=0.005)))
    following.start()
    time.sleep(0.2)  # ~40 looks at the head, each finding fewer than 1,000 entries waiting
    assert follower.position() == 0
    stop.set()
    following.join(timeout=60)
    head = ledger.store.recorder.max_notification_id()
    assert applied == [head] and head > 0 and follower.position() == head
