"""A quota ledger's unit is found through the partial index ``ix_facts_ledger`` (issue 9, migration 0008).

The index holds only the facts that open a quota ledger, so recording any other fact (a
recruitment, a transfer) writes nothing to it; the projector's look-up must still reach it, which
it does only by naming the index's condition with the constant written out. (That a new projector
finds the units of ledgers opened before it started is
``test_a_new_projector_process_finds_the_units_of_quota_ledgers_opened_before_it_started``.)
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import event, func, inspect, select, text

from staffing.bootstrap import Ledger
from staffing.projections import tables as t
from staffing.projections.bulk import refresh_statistics
from staffing.projections.projector import ledger_units
from tests.builders import assign_quota, establish, recruit


def _ledgers(ledger: Ledger) -> dict[str, str]:
    with ledger.engines.read.connect() as conn:
        return {str(a): str(u) for a, u in conn.execute(
            select(t.facts.c.aggregate_id, t.facts.c.unit_id).where(t.facts.c.type == "QuotaLedgerOpened"))}


def test_the_look_up_of_a_ledgers_unit_reads_the_partial_index(ledger: Ledger, backend: str) -> None:
    """Two ledgers looked up among forty, as the projector sends it (the ids bound, the type written
    out): the plan reads ``ix_facts_ledger``, which holds the forty ledger-opening facts only. (SQLite
    without the hint reads ``ix_facts_type``: every ledger-opening fact for each look-up.)"""
    units = [establish(ledger.service) for _ in range(40)]
    for unit in units:
        assign_quota(ledger.service, unit, 5)
        recruit(ledger.service, unit)
    opened = _ledgers(ledger)
    assert sorted(opened.values()) == sorted(units)
    wanted = dict(list(opened.items())[:2])
    sent: list[tuple[str, Any]] = []

    def capture(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, executemany: bool) -> None:
        sent.append((statement, parameters))

    with ledger.engines.write.connect() as conn:
        assert ledger_units(conn, list(opened)) == opened
        event.listen(conn, "before_cursor_execute", capture)
        assert ledger_units(conn, list(wanted)) == wanted
        event.remove(conn, "before_cursor_execute", capture)
        (statement, parameters), = sent
        if backend == "sqlite":
            definition = conn.execute(text("SELECT sql FROM sqlite_master WHERE name = 'ix_facts_ledger'")).scalar_one()
            plan = " ".join(str(row[-1]) for row in conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}",
                                                                          parameters))
            entries = conn.exec_driver_sql("SELECT count(*) FROM facts INDEXED BY ix_facts_ledger "
                                           "WHERE type = 'QuotaLedgerOpened'").scalar_one()
            assert entries == len(units)
        else:
            definition = conn.execute(text("SELECT indexdef FROM pg_indexes WHERE indexname = 'ix_facts_ledger' "
                                           "AND schemaname = current_schema()")).scalar_one()
            refresh_statistics(conn, everything=True)  # as the ledger keeps them
            conn.exec_driver_sql("SET LOCAL enable_seqscan = off")  # a few pages: the planner would read the table
            plan = " ".join(str(row[0]) for row in conn.exec_driver_sql(f"EXPLAIN {statement}", parameters))
        assert "QuotaLedgerOpened" in definition and "WHERE" in definition.upper()
        assert "ix_facts_ledger" in plan
        assert conn.execute(select(func.count()).select_from(t.facts)).scalar_one() > 3 * len(units)
    names = {ix.name for ix in t.facts.indexes}
    assert "ix_facts_ledger" in names and "ix_facts_aggregate" not in names


def test_migration_0008_replaces_the_index_of_every_fact_on_a_projected_ledger(ledger: Ledger) -> None:
    """Down to 0007 (the index of every fact back, the partial one gone) and up again: the partial
    index is made from the facts already projected, the old one dropped, and the projector's look-up
    answers as before."""
    from alembic import command

    from staffing.bootstrap import alembic_config

    units = [establish(ledger.service) for _ in range(3)]
    for unit in units:
        assign_quota(ledger.service, unit, 5)
    opened = _ledgers(ledger)

    def indexes() -> set[str]:
        with ledger.engines.read.connect() as conn:
            return {str(ix["name"]) for ix in inspect(conn).get_indexes("facts")}

    def migrate_to(revision: str, step: Any) -> None:
        with ledger.engines.write.connect() as conn:
            config = alembic_config(ledger.engines.write.url)
            config.attributes["connection"] = conn
            step(config, revision)
            conn.commit()

    migrate_to("0007", command.downgrade)
    assert "ix_facts_aggregate" in indexes() and "ix_facts_ledger" not in indexes()
    migrate_to("head", command.upgrade)
    assert "ix_facts_ledger" in indexes() and "ix_facts_aggregate" not in indexes()
    with ledger.engines.read.connect() as conn:
        assert ledger_units(conn, list(opened)) == opened
