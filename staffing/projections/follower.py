"""Follow a log that another process is writing: project it on the other core while it grows.

Why (issue 9): an import decides and records on one core, and its read models used to be
projected only after it, on that same core — at national size 37 minutes of import and then 30
of catch-up before the country could be queried. The projector is already safe across processes
(each batch takes the tracking row's lock and re-reads the position under it, see
``staffing.projections.projector``), so a second process can catch up while the import runs and
the read models are ready when the import ends, nearly as soon as the log is.

The follower waits until at least ``MIN_BATCH`` entries are waiting before it catches up: a
batch costs a fixed amount (the tracking row, a statement per table, a commit), so projecting a
trickle of tiny batches would cost more in all. Not a full batch (``BATCH_SIZE``, 25,000) either:
the entries still waiting when the import ends are projected after it, so the follower keeps that
tail short. Measured on the province history (``results-follow-session13.txt``): waiting for
25,000 left ~38,000 entries and 3 s of projection after an import of 6 s; 5,000 leaves ~1 batch.
Once told to stop it catches up whatever is left, then returns.
"""

from __future__ import annotations

import subprocess
import sys
import threading
from collections.abc import Callable
from typing import Any, BinaryIO

__all__ = ["MIN_BATCH", "FollowerProcess", "follow", "follow_until_end_of"]

#: entries that must be waiting before the follower projects them (see the module docstring)
MIN_BATCH = 5_000
#: seconds between two looks at the log's head while fewer than ``min_batch`` entries wait
POLL = 0.2


def follow(projector: Any, stop: threading.Event, min_batch: int = MIN_BATCH, poll: float = POLL,
           progress: Callable[[int], None] | None = None) -> int:
    """Catch ``projector``'s read models up whenever ``min_batch`` entries wait, until ``stop`` is set;
    then once more, to the head. Returns how many entries were applied; ``progress(n)`` after each pass."""
    recorder = projector.store.recorder
    applied = 0
    while not stop.is_set():
        waiting = (recorder.max_notification_id() or 0) - projector.position()
        if waiting < min_batch:
            stop.wait(poll)
            continue
        done = projector.catch_up(check=False)
        applied += done
        if progress is not None:
            progress(done)
    done = projector.catch_up(check=False)
    if progress is not None and done:
        progress(done)
    return applied + done


def follow_until_end_of(stream: BinaryIO, projector: Any) -> int:
    """``follow`` until ``stream`` ends: the writer closes it when done, or the pipe closes when the
    writer dies, so a follower never outlives its writer by more than its last catch-up."""
    stop = threading.Event()

    def until_end() -> None:
        for _ in stream:
            pass
        stop.set()

    threading.Thread(target=until_end, daemon=True).start()
    return follow(projector, stop)


class FollowerProcess:
    """``python -m staffing catch-up --follow`` as a second process, for as long as this one writes the log.

    It reads the same settings (the environment is inherited). Its input is this process's end of a
    pipe: ``finish`` closes it and waits for the last catch-up, ``abandon`` stops it at once.
    """

    def __init__(self) -> None:
        self.process = subprocess.Popen([sys.executable, "-m", "staffing", "catch-up", "--follow"],
                                        stdin=subprocess.PIPE, stdout=subprocess.PIPE)

    def finish(self) -> int:
        """Tell it the log is complete; wait while it catches up the rest. Returns what it applied
        (0 if it failed: its error went to stderr, and the writer's own catch-up does the work)."""
        out, _ = self.process.communicate()
        words = out.decode(errors="replace").split()  # "applied N events"
        if self.process.returncode != 0 or len(words) < 2 or not words[1].isdigit():
            return 0
        return int(words[1])

    def abandon(self) -> None:
        """The writer failed or was interrupted: stop it now (a batch in progress rolls back whole)."""
        self.process.terminate()
        self.process.wait()
