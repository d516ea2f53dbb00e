"""A fact dated after every active fact of its series is folded in without folding the series again
(``SeriesBatch._append``, issue 9): it must give, row for row and in the same order (so with the
same row ids), what the whole fold gives (``SeriesBatch._refold``). Pure: no database (a rebuild's
batch, ``fresh``, never reads one)."""

from __future__ import annotations

import random
from datetime import date, timedelta
from typing import Any

import pytest

from staffing.projections.projector import SERIES
from staffing.projections.series import SeriesBatch, SeriesSpec, _State

SPECS = {spec.name: spec for spec in SERIES}


class _WholeFolds(SeriesBatch):
    """The reference: every fact folds its whole series again."""

    def _append(self, *args: Any) -> bool:
        return False


class _CountedAppends(SeriesBatch):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.appended = 0

    def _append(self, *args: Any) -> bool:
        done = super()._append(*args)
        self.appended += done
        return done


def _value(spec: SeriesSpec, column: str, rng: random.Random) -> Any:
    if column in spec.date_columns:
        return (date(2020, 1, 1) + timedelta(days=rng.randrange(2000))).isoformat()
    if column == spec.required:
        return rng.choice(["ACTIVE", "ENDED", "OPEN", None]) if rng.random() < 0.1 else "ACTIVE"
    return rng.choice([None, "a", "b", "c", 1, 2])


def _delta(spec: SeriesSpec, rng: random.Random, first: bool) -> dict[str, Any]:
    columns = list(spec.value_columns)
    chosen = columns if first else rng.sample(columns, rng.randint(1, len(columns)))
    return {column: _value(spec, column, rng) for column in chosen}


def _written(batch: SeriesBatch) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    """What a flush would write, taken out of the batch: rows created and rows closed, in order."""
    def plain(entries: list[Any]) -> list[tuple[Any, ...]]:
        return [(series, key, r.row_id, r.valid_from, r.valid_to, r.values, r.rec_from, r.rec_to)
                for series, key, r in entries]
    written = plain(batch._created), plain(batch._closed)
    batch._created.clear()
    batch._closed.clear()
    return written


def _rows(state: _State) -> list[tuple[Any, ...]]:
    return [(r.row_id, r.valid_from, r.valid_to, r.values, r.rec_from, r.rec_to) for r in state.rows]


@pytest.mark.parametrize("seed", range(12))
def test_a_fact_dated_after_its_series_gives_the_rows_a_whole_fold_gives(seed: int) -> None:
    """Random histories of every series kind: mostly in date order (the append), some facts on the
    same day or earlier (a whole fold), some retracted (a whole fold, after which appends resume)."""
    rng = random.Random(seed)
    fast, whole = _CountedAppends(None, SERIES, fresh=True), _WholeFolds(None, SERIES, fresh=True)  # type: ignore[arg-type]
    latest: dict[tuple[str, str], date] = {}
    given: dict[tuple[str, str], list[int]] = {}
    for position in range(1, 601):
        name = rng.choice(list(SPECS))
        spec = SPECS[name]
        key = "|".join(f"k{rng.randrange(6)}" for _ in spec.key_columns)
        mine = given.setdefault((name, key), [])
        if mine and rng.random() < 0.08:  # a retraction of one of its facts
            target = rng.choice(mine)
            assert fast.retract_fact(name, key, target, position) == whole.retract_fact(name, key, target, position)
        else:
            before = latest.get((name, key), date(2015, 1, 1))
            step = rng.choice([1, 1, 1, 30, 365, 0, -200]) if mine else 0
            effective_on = before + timedelta(days=step)
            latest[(name, key)] = max(before, effective_on)
            delta = _delta(spec, rng, first=not mine)
            fast.add_fact(name, key, position, effective_on, dict(delta), new=not mine)
            whole.add_fact(name, key, position, effective_on, dict(delta), new=not mine)
            mine.append(position)
        assert _written(fast) == _written(whole), f"position {position}, {name} {key}"
        assert _rows(fast.states[(name, key)]) == _rows(whole.states[(name, key)])
    assert fast.next_row_id == whole.next_row_id
    assert fast.appended > 200, "facts in date order should mostly be appended, not folded again"


def test_an_append_to_rows_that_do_not_end_as_the_fold_did_folds_the_whole_series() -> None:
    """The append trusts the believed rows to end with the last fold's interval; when they do not
    (not a state a batch makes, but the whole fold is what is always right), it changes nothing and
    the whole fold runs."""
    batch = _CountedAppends(None, SERIES, fresh=True)  # type: ignore[arg-type]
    reference = _WholeFolds(None, SERIES, fresh=True)  # type: ignore[arg-type]
    facts = [(1, date(2020, 1, 1), {"amount": 5, "reason": "r", "fact_id": "f1", "act_number": "1",
                                     "act_issuer": "i", "act_signed_on": "2020-01-01"}),
             (2, date(2021, 1, 1), {"amount": 7, "fact_id": "f2"})]
    for b in (batch, reference):
        b.add_fact("quota", "u|CIVIL_SERVANT|STAFF", *facts[0], new=True)
    batch.states[("quota", "u|CIVIL_SERVANT|STAFF")].rows[0].valid_from = date(2019, 6, 1)  # not as folded
    reference.states[("quota", "u|CIVIL_SERVANT|STAFF")].rows[0].valid_from = date(2019, 6, 1)
    _written(batch), _written(reference)
    for b in (batch, reference):
        b.add_fact("quota", "u|CIVIL_SERVANT|STAFF", *facts[1])
    assert batch.appended == 0
    assert _written(batch) == _written(reference)
    assert [r.valid_from for r in batch.states[("quota", "u|CIVIL_SERVANT|STAFF")].rows] == [date(2020, 1, 1),
                                                                                         date(2021, 1, 1)]
