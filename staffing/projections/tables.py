"""Read-model tables (owned by Alembic: see staffing/migrations/versions).

Bitemporal design. Each ``*_versions`` table holds the state of one series (a unit, a person, a
position, a quota figure, an excess exception) as rows with

- ``valid_from`` / ``valid_to``: the effective-date interval [from, to) the row describes
  (valid time, from the legal acts; ``9999-12-31`` = open);
- ``rec_from`` / ``rec_to``: the log positions [from, to) during which the row was the record's
  belief (transaction time; ``OPEN_POSITION`` = still believed).

A query "as of D, as known at moment T" first turns T into a log position P (``log_clock``) and
then reads rows with ``valid_from <= D < valid_to`` and ``rec_from <= P < rec_to``. Log
positions rather than timestamps make known-at exact: knowledge at T is a prefix of the log.
Rows are never updated except to close ``rec_to`` once: the past of the record is append-only.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    Date,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    text,
)
from sqlalchemy.types import TypeEngine

from staffing.domain.base import END_OF_TIME as DOMAIN_END_OF_TIME
from staffing.domain.values import PersonnelCategory, QuotaKind

__all__ = [
    "END_OF_TIME",
    "OPEN_POSITION",
    "metadata",
]

END_OF_TIME = DOMAIN_END_OF_TIME  # open valid-time end (never a date a fact may name)
OPEN_POSITION = 2**62

#: the facts that open a quota ledger, the only ones ``ix_facts_ledger`` holds. A query reaches that
#: partial index only by naming the same condition with the same constant written out (a bound
#: parameter would not do on SQLite): ``projector.ledger_units``.
LEDGER_OPENED = "type = 'QuotaLedgerOpened'"

metadata = MetaData(naming_convention={
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "pk": "pk_%(table_name)s",
})

UUID_LEN = 36


def Key(length: int) -> TypeEngine[str]:  # noqa: N802 (a column type, named as one)
    """An identifier or a code (an id, a series key, a category, a status): text compared bytewise on
    PostgreSQL (``COLLATE "C"``), the database's default collation elsewhere (SQLite's is bytewise).

    Why (issue 9): such a column is only ever compared for equality, grouped or looked up, never
    sorted for a reader, so the database's language collation buys nothing and costs each
    comparison. PostgreSQL 15 compares bytewise only for ``"C"``/``"POSIX"`` (even ``C.UTF-8``, the
    same order for these values, goes through ``strcoll``) and abbreviates sort keys only then. A
    national load inserts ~5 such index entries per log entry (a series' facts, a fact's id, a
    person's versions, a unit's figures, a person) and reads back by them: comparing text was ~5% of
    the server's samples in its yearly flow, and the finish's index builds and rewrites took
    1.2–1.3x less (benchmarks/RESULTS.md section 44; index builds alone 1.42x in section 40).
    Names, titles, ranks and acts keep the default collation: they are shown and may be sorted for
    people (migration 0009)."""
    return String(length).with_variant(String(length, collation="C"), "postgresql")


def _bitemporal(name: str, *columns: Column[object], indexes: tuple[Index, ...] = ()) -> Table:
    return Table(
        name,
        metadata,
        Column("row_id", Integer, primary_key=True, autoincrement=True),
        *columns,
        Column("valid_from", Date, nullable=False),
        Column("valid_to", Date, nullable=False),
        Column("rec_from", BigInteger, nullable=False),
        Column("rec_to", BigInteger, nullable=False),
        *indexes,
    )


def _act_columns() -> list[Column[object]]:
    """The fact behind a version row and its legal basis (fresh Column objects per table)."""
    return [
        Column("fact_id", Key(64), nullable=False),
        Column("act_number", String(200), nullable=False),
        Column("act_issuer", String(500), nullable=False),
        Column("act_signed_on", Date, nullable=False),
    ]


tracking = Table(
    "projection_tracking",
    metadata,
    Column("name", Key(64), primary_key=True),
    Column("position", BigInteger, nullable=False),
    Column("recorded_us", BigInteger, nullable=False),
    # who wrote the last batch: a token the projector draws afresh for each batch it commits. A
    # projector carries its in-memory series to its next batch only when it reads its own token back
    # (no other process, rebuild or swap has written the read models since). Anything else that
    # writes the read-model tables must change or clear it.
    Column("writer", String(32), nullable=True),
)

# the recording moment of log positions (running maximum of event timestamps, so the known-at view
# at any moment is a prefix of the log), in microseconds since the epoch (UTC): one row for the last
# position of each run recorded at one moment (earlier read models hold one row per position; both
# give the same last position recorded by any moment)
log_clock = Table(
    "log_clock",
    metadata,
    Column("position", BigInteger, primary_key=True, autoincrement=False),
    Column("recorded_us", BigInteger, nullable=False),
    Index("ix_log_clock_recorded", "recorded_us", "position"),
)

# every recorded fact that a user can see in `history`, in log order
facts = Table(
    "facts",
    metadata,
    Column("position", BigInteger, primary_key=True, autoincrement=False),
    Column("fact_id", Key(64), nullable=False, unique=True),
    Column("aggregate_id", Key(UUID_LEN), nullable=False),
    Column("type", Key(64), nullable=False),
    Column("unit_id", Key(UUID_LEN)),
    Column("other_unit_id", Key(UUID_LEN)),
    Column("person_id", Key(UUID_LEN)),
    Column("effective_on", Date, nullable=False),
    Column("recorded_us", BigInteger, nullable=False),
    Column("act_number", String(200), nullable=False),
    Column("act_issuer", String(500), nullable=False),
    Column("act_signed_on", Date, nullable=False),
    Column("data", Text, nullable=False),
    Column("retracted_pos", BigInteger),
    Column("retraction_fact_id", Key(64)),
    Column("recorded_by", String(120)),  # the name in the recording caller's token (None: before issue 10, or the CLI)
    Index("ix_facts_unit", "unit_id", "position"),
    Index("ix_facts_other_unit", "other_unit_id", "position"),
    Index("ix_facts_person", "person_id", "position"),
    # a quota ledger's unit, found by the projector from the fact that opened the ledger: only those
    # facts are indexed (a few per unit, not one entry per fact; see migration 0008)
    Index("ix_facts_ledger", "aggregate_id", "unit_id", sqlite_where=text(LEDGER_OPENED),
          postgresql_where=text(LEDGER_OPENED)),
    Index("ix_facts_type", "type", "effective_on"),  # a period's facts of one kind (reform statistics, history)
)



# the deltas behind each series, so a series can be re-derived when a fact is inserted in the
# past or retracted (the fold is re-run and only the changed rows are closed/inserted)
series_facts = Table(
    "series_facts",
    metadata,
    Column("series", Key(16), primary_key=True),
    Column("key", Key(128), primary_key=True),
    Column("position", BigInteger, primary_key=True, autoincrement=False),
    Column("effective_on", Date, nullable=False),
    Column("delta", Text, nullable=False),
    Column("retracted_pos", BigInteger),
)

unit_versions = _bitemporal(
    "unit_versions",
    Column("unit_id", Key(UUID_LEN), nullable=False),
    Column("code", String(200), nullable=False),
    Column("name", String(500), nullable=False),
    Column("name_folded", String(500), nullable=False),
    Column("kind", Key(32), nullable=False),
    Column("autonomy", Key(48)),
    Column("parent_id", Key(UUID_LEN)),
    Column("status", Key(16), nullable=False),
    indexes=(
        Index("ix_unit_versions_unit", "unit_id", "valid_from"),
        Index("ix_unit_versions_parent", "parent_id", "valid_from"),
        Index("ix_unit_versions_rec", "rec_to", "valid_from"),
    ),
)

person_versions = _bitemporal(
    "person_versions",
    Column("person_id", Key(UUID_LEN), nullable=False),
    Column("unit_id", Key(UUID_LEN), nullable=False),
    Column("position_id", Key(UUID_LEN)),
    Column("category", Key(32), nullable=False),
    Column("rank", String(200), nullable=False),
    Column("status", Key(16), nullable=False),
    Column("cause", Key(32), nullable=False),
    Column("fact_id", Key(64), nullable=False),
    indexes=(
        Index("ix_person_versions_unit", "unit_id", "valid_from"),
        Index("ix_person_versions_person", "person_id", "valid_from"),
    ),
)

position_versions = _bitemporal(
    "position_versions",
    Column("position_id", Key(UUID_LEN), nullable=False),
    Column("unit_id", Key(UUID_LEN), nullable=False),
    Column("title", String(500), nullable=False),
    Column("group", Key(32), nullable=False),
    Column("rank", String(200), nullable=False),
    Column("status", Key(16), nullable=False),
    indexes=(
        Index("ix_position_versions_unit", "unit_id", "valid_from"),
        Index("ix_position_versions_position", "position_id", "valid_from"),
    ),
)

quota_versions = _bitemporal(
    "quota_versions",
    Column("unit_id", Key(UUID_LEN), nullable=False),
    Column("category", Key(32), nullable=False),
    Column("kind", Key(16), nullable=False),
    Column("amount", Integer, nullable=False),
    Column("reason", Key(32), nullable=False),
    *_act_columns(),
    indexes=(Index("ix_quota_versions_unit", "unit_id", "valid_from"),),
)

excess_versions = _bitemporal(
    "excess_versions",
    Column("unit_id", Key(UUID_LEN), nullable=False),
    Column("until", Date, nullable=False),
    *_act_columns(),
    indexes=(Index("ix_excess_versions_unit", "unit_id", "valid_from"),),
)

lineage = Table(
    "lineage",
    metadata,
    Column("row_id", Integer, primary_key=True, autoincrement=True),
    Column("unit_id", Key(UUID_LEN), nullable=False),
    Column("related_unit_id", Key(UUID_LEN), nullable=False),
    Column("direction", Key(16), nullable=False),  # PREDECESSOR | SUCCESSOR
    Column("change", Key(16), nullable=False),
    Column("effective_on", Date, nullable=False),
    Column("rec_from", BigInteger, nullable=False),
    Column("fact_id", Key(64), nullable=False),
    Index("ix_lineage_unit", "unit_id", "direction"),
)

persons = Table(
    "persons",
    metadata,
    Column("person_id", Key(UUID_LEN), primary_key=True),
    Column("full_name", String(500), nullable=False),
    Column("name_folded", String(500), nullable=False),
    Column("birth_date", Date, nullable=False),
    Column("gender", Key(8), nullable=False),
    Column("rec_from", BigInteger, nullable=False),
    Index("ix_persons_name", "name_folded"),
)

# per unit: headcount by category (h_*) and quota by category and kind (q_*), pre-aggregated from the
# person and quota rows so that roll-ups never count people (see staffing.projections.figures)
unit_figures = Table(
    "unit_figures",
    metadata,
    Column("row_id", Integer, primary_key=True, autoincrement=True),
    Column("unit_id", Key(UUID_LEN), nullable=False),
    Column("valid_from", Date, nullable=False),
    Column("valid_to", Date, nullable=False),
    Column("rec_from", BigInteger, nullable=False),
    Column("rec_to", BigInteger, nullable=False),
    *[Column(f"h_{c.value.lower()}", Integer, nullable=False) for c in PersonnelCategory],
    *[Column(f"q_{c.value.lower()}_{k.value.lower()}", Integer, nullable=False)
      for c in PersonnelCategory for k in QuotaKind],
    # one seek per unit finds the row in force: the latest valid_from <= D among rows known at P
    Index("ix_unit_figures_unit", "unit_id", "valid_from", "rec_from", "rec_to"),
    # ... and, known now, among the unit's open rows only (no skipping over superseded versions)
    Index("ix_unit_figures_open", "unit_id", "rec_to", "valid_from"),
)

# The national summary's roll-up (issue 9; staffing.projections.rollup): the top-level unit each unit's
# figures roll up to over the days it is in force, as bitemporal rows like the others ...
unit_roots = _bitemporal(
    "unit_roots",
    Column("unit_id", Key(UUID_LEN), nullable=False),
    Column("root_id", Key(UUID_LEN), nullable=False),
    indexes=(Index("ix_unit_roots_unit", "unit_id", "rec_to"),),
)

#: the roll-up's columns: a figure vector, then gross surplus and vacancy (each unit alone) and units in force
#: the series tables that leave a tenth of each page free on PostgreSQL (``fillfactor`` 90, migration
#: 0010), so that closing a row (an UPDATE of its ``rec_to`` alone) writes its new version on the
#: same page without an index entry (a "HOT" update). That holds only while none of their indexes
#: names ``rec_to`` (``test_migrations`` checks it): the figure and root rows are found by an index
#: on it, so their closings never are.
ROOM_FOR_CLOSINGS = ("person_versions", "position_versions", "quota_versions", "excess_versions")

ROLLUP_COLUMNS = (*(c.name for c in unit_figures.c if c.name.startswith(("h_", "q_"))),
                  "gross_surplus", "gross_vacancy", "units")


def _rollup(name: str, day: str, index: Index) -> Table:
    """A roll-up table: per root, a date and a log position, and a ``ROLLUP_COLUMNS`` vector."""
    return Table(
        name,
        metadata,
        Column("row_id", Integer, primary_key=True, autoincrement=True),
        Column("root_id", Key(UUID_LEN), nullable=False),
        Column(day, Date, nullable=False),
        Column("position", BigInteger, nullable=False),
        *[Column(column, Integer, nullable=False) for column in ROLLUP_COLUMNS],
        index,
    )


# ... the corners of every (figure row x root row) rectangle, per root: a root's totals on day D as
# known at position P are the sum of its deltas with day <= D and position <= P (append-only) ...
root_deltas = _rollup("root_deltas", "day", Index("ix_root_deltas_position", "position"))
Index("ix_root_deltas_day", root_deltas.c.day, root_deltas.c.position)

# ... and, at each mark, per root and bound (the 2nd, 9th, 16th and 23rd of each month), the sum of the
# deltas dated before the bound and recorded up to the mark (a row only where it changed), so a summary
# sums at most a week of deltas. It finds each root's latest version at a bound, and whether it has
# units, from the index alone.
root_checkpoints = _rollup("root_checkpoints", "bound",
                           Index("ix_root_checkpoints_bound", "bound", "root_id", "position", "units"))

# the marks: the log position of each checkpoint and the last bound it holds (later bounds equal it)
rollup_marks = Table(
    "rollup_marks",
    metadata,
    Column("position", BigInteger, primary_key=True, autoincrement=False),
    Column("extent", Date, nullable=False),
)
