"""The projector's bulk writes straight to the driver (``staffing.projections.bulk``), on both backends."""

from __future__ import annotations

import contextlib
from datetime import date
from typing import Any

import pytest
from sqlalchemy import select

from staffing.arrays import int_array, key_array
from staffing.bootstrap import Ledger
from staffing.projections import tables as t
from staffing.projections.bulk import _copy_types, close_rows, insert_tuples, key_in, update_rows
from staffing.projections.tables import END_OF_TIME, OPEN_POSITION, facts, unit_roots
from staffing.projections.writebehind import queued_writes

COLUMNS = ("row_id", "unit_id", "root_id", "valid_from", "valid_to", "rec_from", "rec_to")


def test_close_rows_closes_exactly_the_rows_named_each_at_its_own_position(ledger: Ledger) -> None:
    """``close_rows`` sets ``rec_to`` of the rows named, each to its own value, and of no other row
    (the driver's executemany of one ``UPDATE`` per row, on either backend)."""
    rows = [(1_000_000 + i, f"u{i}", "root", date(2020, 1, 1), END_OF_TIME, 5, OPEN_POSITION) for i in range(600)]
    with ledger.engines.write.connect() as conn, conn.begin() as transaction:
        insert_tuples(conn, unit_roots, COLUMNS, rows)
        closings = [(10 + i, 1_000_000 + i) for i in range(0, 600, 2)]  # every other row, a position each
        close_rows(conn, unit_roots, closings)
        close_rows(conn, unit_roots, [])  # nothing to close: no statement, no error
        found = {r.row_id: r.rec_to for r in conn.execute(select(unit_roots.c.row_id, unit_roots.c.rec_to)
                                                         .where(unit_roots.c.row_id >= 1_000_000))}
        transaction.rollback()
    assert found == {1_000_000 + i: (10 + i if i % 2 == 0 else OPEN_POSITION) for i in range(600)}


def test_int_array_is_postgresql_s_literal_of_the_integers_in_order() -> None:
    """``int_array``: the closings' arrays as one literal, each value in its place, positions past
    2^31 whole; anything that is not an integer is refused rather than sent into the statement."""
    assert int_array([3, 1, 2]) == "{3,1,2}"
    assert int_array(iter([2**40, 0, -1])) == "{1099511627776,0,-1}"
    assert int_array([]) == "{}"
    with pytest.raises(ValueError):
        int_array(["1,2"])  # type: ignore[list-item]


def test_key_array_writes_plain_keys_as_one_literal_and_leaves_any_other_to_a_list() -> None:
    """``key_array``: UUIDs and hex digests (either case) as one ``text[]`` literal, each key in its
    place; None (the caller sends a list) as soon as one key holds what a literal would misread:
    a comma, a quote, a brace, a backslash, white space, ``NULL``, a letter past ``f``, nothing."""
    keys = ["cd613e30-d8f1-4adf-91b7-584a2265b1f5", "ABCDEF0123", "0" * 64]
    assert key_array(keys) == "{cd613e30-d8f1-4adf-91b7-584a2265b1f5,ABCDEF0123," + "0" * 64 + "}"
    for odd in ("a,b", '"', "{a}", "a\\b", "a b", "NULL", "null", "xã", ""):
        assert key_array([keys[0], odd]) is None, odd
        assert key_array([odd]) is None, odd
    assert key_array([]) is None


ODD_KEYS = ("a,b", 'x"y', "{z}", "a\\b", "NULL", "p q", "Xã Đông")


def test_key_in_finds_the_rows_of_the_keys_asked_plain_or_not_in_one_parameter_on_postgresql(ledger: Ledger) -> None:
    """``key_in`` reads the rows of exactly the keys asked, UUIDs or keys a literal would misread,
    mixed or not; on PostgreSQL plain keys go as one array literal (one parameter for 500 keys, a
    statement text that does not change with their number), any other as one list parameter, and
    either way the planner sees a constant array of known length."""
    plain = [f"{i:08x}-d8f1-4adf-91b7-584a2265b1f5" for i in range(600)]
    rows = [(1_000_000 + i, key, "root", date(2020, 1, 1), END_OF_TIME, 5, OPEN_POSITION)
            for i, key in enumerate([*plain, *ODD_KEYS])]
    row_of = {row[1]: row[0] for row in rows}
    postgres = ledger.engines.write.dialect.name == "postgresql"
    with ledger.engines.write.connect() as conn, conn.begin() as transaction:
        insert_tuples(conn, unit_roots, COLUMNS, rows)
        for wanted in (plain[::2], plain[1:3], [plain[5], *ODD_KEYS], list(ODD_KEYS[:2]), ["nothing-here"]):
            query = select(unit_roots.c.row_id).where(key_in(conn, unit_roots.c.unit_id, wanted))
            found = set(conn.execute(query).scalars())
            assert found == {row_of[k] for k in wanted if k in row_of}, wanted
            compiled = query.compile(conn)
            if postgres:
                assert "ANY" in str(compiled) and " IN " not in str(compiled)
                assert list(compiled.params.values()) == [key_array(wanted) or wanted]
                # the planner sees the keys as a constant array, as it does an IN list (not an
                # expression of unknown length it plans with default estimates)
                plan = " ".join(r[0] for r in conn.exec_driver_sql("EXPLAIN " + str(compiled), compiled.params))
                assert "= ANY ('{" in plan, plan[:300]
        transaction.rollback()


def test_every_read_model_table_is_copied_in_binary_with_its_columns_types() -> None:
    """Each column of each read-model table has a binary COPY type (``_copy_types``; a table with
    an unlisted column type would silently go back to the slower text format), and the type is the
    column's: 8-byte integers for ``BigInteger`` (log positions beyond 2^31), 4-byte for ``Integer``."""
    for table in t.metadata.sorted_tables:
        names = [c.name for c in table.columns]
        assert _copy_types(table, names) is not None, table.name
    assert _copy_types(facts, ["position", "effective_on", "data", "act_issuer"]) == ["int8", "date", "text", "text"]
    assert _copy_types(unit_roots, ["row_id"]) == ["int4"]


def test_insert_tuples_stores_each_value_exactly(ledger: Ledger) -> None:
    """A row through ``insert_tuples`` (binary COPY on PostgreSQL, executemany on SQLite) reads back
    equal: Vietnamese text with every diacritic, quotes, tabs, backslashes and newlines (what COPY's
    text format escapes), NULLs, the end of time, a position beyond 32 bits."""
    row = (2**40 + 7, "fact:1", "a" * 36, "PersonRecruited", "đơn vị Ủy ban", None, None, date(2025, 7, 1),
           1_751_328_000_000_000, "Số 1656/NQ-UBTVQH15", "Ủy ban Thường vụ Quốc hội\t\"x\"\\\n",
           END_OF_TIME, '{"tên": "Nguyễn Thị Ánh", "tab": "\t"}', None, None, "sở nội vụ")
    columns = ("position", "fact_id", "aggregate_id", "type", "unit_id", "other_unit_id", "person_id",
               "effective_on", "recorded_us", "act_number", "act_issuer", "act_signed_on", "data",
               "retracted_pos", "retraction_fact_id", "recorded_by")
    with ledger.engines.write.connect() as conn, conn.begin() as transaction:
        insert_tuples(conn, facts, columns, [row])
        found = conn.execute(select(*[facts.c[c] for c in columns]).where(facts.c.position == row[0])).one()
        transaction.rollback()
    assert tuple(found) == row


def _roots(conn: Any) -> dict[int, int]:
    return {r.row_id: r.rec_to for r in conn.execute(select(unit_roots.c.row_id, unit_roots.c.rec_to)
                                                     .where(unit_roots.c.row_id >= 2_000_000))}


@pytest.mark.parametrize("queued", [False, True], ids=["on-the-spot", "write-behind"])
def test_driver_writes_after_a_commit_belong_to_the_next_transaction(ledger: Ledger, queued: bool) -> None:
    """Writes sent straight to the driver after ``commit`` (as a rebuild's next batch sends them)
    open ``conn``'s next transaction and stay in it: a rollback leaves none of them, a commit all.
    (SQLite, whose driver the ledger runs without implicit transactions, had committed each
    insert, closing and update on its own: outside its batch, and ~3x slower.)"""
    rows = [(2_000_000 + i, f"u{i}", "root", date(2020, 1, 1), END_OF_TIME, 5, OPEN_POSITION) for i in range(4)]
    with ledger.engines.write.connect() as conn:
        with queued_writes(conn) if queued else contextlib.nullcontext():
            conn.execute(select(1))
            conn.commit()  # (what a batch's end does; nothing begun since)
            insert_tuples(conn, unit_roots, COLUMNS, rows[:2])
            close_rows(conn, unit_roots, [(7, 2_000_000)])
            update_rows(conn, unit_roots, ("rec_to",), ("row_id",), [(8, 2_000_001)])
            conn.rollback()
            assert _roots(conn) == {}
            conn.commit()
            insert_tuples(conn, unit_roots, COLUMNS, rows[2:])
            close_rows(conn, unit_roots, [(9, 2_000_002)])
            conn.commit()
        with ledger.engines.write.connect() as other:
            assert _roots(other) == {2_000_002: 9, 2_000_003: OPEN_POSITION}
        with conn.begin():  # (clean up: the ledger is the test's own, but leave its tables as found)
            conn.execute(unit_roots.delete().where(unit_roots.c.row_id >= 2_000_000))
