"""A dry run's figures come from the read models with the plan's events applied and rolled back.

Nothing of a dry run persists: no event, no read-model row, no tracking position — also when the
process dies while the hypothetical events are being applied.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import func, select

from staffing.application import EstablishUnit, Mode, RecruitPerson
from staffing.application.service import Item
from staffing.bootstrap import Ledger, build
from staffing.projections import tables as t
from tests.builders import an_act, establish
from tests.support import drop_pg_schema, settings_for

ROOT = Path(__file__).resolve().parents[2]


def _state(ledger: Ledger) -> tuple[int, int, int, int]:
    with ledger.engines.read.connect() as conn:
        facts = conn.execute(select(func.count()).select_from(t.facts)).scalar_one()
        units = conn.execute(select(func.count()).select_from(t.unit_versions)).scalar_one()
    return ledger.store.recorder.max_notification_id() or 0, ledger.projector.position(), facts, units


def test_the_preview_sees_the_plan_and_afterwards_the_read_models_are_as_before(ledger: Ledger) -> None:
    parent = establish(ledger.service)
    plan = [Item(EstablishUnit(code="NEW", name="Xã Mới", kind="COMMUNE", parent_id=parent, id=None,
                               effective_on=date(2021, 1, 1), act=an_act()))]
    outcome = ledger.service.run(plan, Mode.DRY_RUN)
    before = _state(ledger)

    with ledger.queries.preview(outcome.events) as (conn, position):
        seen = [u.code for u in ledger.queries.children(conn, parent, date(2021, 6, 1), position)]

    assert seen == ["NEW"]
    assert _state(ledger) == before
    with ledger.queries.connect() as conn:
        assert ledger.queries.children(conn, parent, date(2021, 6, 1), ledger.queries.knowledge_position(conn, None)) == []


CRASHING_DRY_RUN = textwrap.dedent("""
    import os, signal, sys
    from datetime import date
    from staffing.application import Item, Mode, RecruitPerson
    from staffing.bootstrap import build
    from staffing.config import Settings
    from staffing.domain.values import LegalAct
    from staffing.projections.projector import Projector

    ledger = build(Settings.from_env())
    act = LegalAct("1/QĐ", "UBND", date(2020, 1, 1))
    plan = [Item(RecruitPerson(full_name=f"Người {i}", birth_date=date(1990, 1, 1), gender="MALE",
                               category="CIVIL_SERVANT", unit_id=sys.argv[1], effective_on=date(2021, 1, 1), act=act))
            for i in range(50)]
    outcome = ledger.service.run(plan, Mode.DRY_RUN)
    real_flush = Projector._flush

    def dying_flush(self, batch, *args):
        real_flush(self, batch, *args)  # the hypothetical rows are written inside the open transaction ...
        print("applied", flush=True)
        os.kill(os.getpid(), signal.SIGKILL)  # ... and the process dies before it is rolled back

    Projector._flush = dying_flush
    with ledger.queries.preview(outcome.events):
        pass
""")


@pytest.mark.parametrize("store_kind", ["sqlite", "postgres"])
def test_a_dry_run_killed_while_its_figures_are_computed_leaves_nothing_behind(store_kind: str,
                                                                               tmp_path: Path) -> None:
    settings, schema = settings_for(store_kind, tmp_path)
    try:
        ledger = build(settings)
        unit_id = establish(ledger.service)
        ledger.service.execute(RecruitPerson(full_name="Lò Văn A", birth_date=date(1990, 1, 1), gender="MALE",
                                             category="CIVIL_SERVANT", unit_id=unit_id, effective_on=date(2020, 6, 1),
                                             act=an_act()))
        before = _state(ledger)
        ledger.close()
        env = {"STAFFING_DATA_DIR": str(settings.data_dir), "PATH": "/usr/bin:/bin"}
        if schema:
            env.update(STAFFING_DATABASE_URL=settings.database_url.render_as_string(hide_password=False),
                       STAFFING_DB_SCHEMA=schema)

        done = subprocess.run([sys.executable, "-c", CRASHING_DRY_RUN, unit_id], cwd=ROOT, env=env,
                              capture_output=True, text=True, timeout=120)

        assert done.returncode == -9 and "applied" in done.stdout, done.stderr
        reopened = build(settings, inline_projection=False)
        try:
            assert _state(reopened) == before
        finally:
            reopened.close()
    finally:
        if schema:
            drop_pg_schema(schema)
