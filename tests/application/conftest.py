"""Application tests examine the write side: the event store and the aggregates in it.

``write_side_only`` detaches the inline projector the composition root wires to ``on_commit``
(``bootstrap.build(inline_projection=True)``), so these tests neither wait for nor depend on the
read models, which have their own tests (tests/projections, tests/e2e). Modules opt in with
``pytestmark = pytest.mark.usefixtures("write_side_only")``; test_smoke and test_concurrency keep
the projector attached (read-your-writes, concurrent catch-up alongside concurrent commands).
"""

from __future__ import annotations

import pytest

from staffing.bootstrap import Ledger


@pytest.fixture
def write_side_only(ledger: Ledger) -> None:
    ledger.service.on_commit.clear()
