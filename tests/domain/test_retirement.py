"""The retirement schedule of Labour Code 2019 art. 169 and Decree 135/2020 (issue 12)."""

from __future__ import annotations

from datetime import date

import pytest

from staffing.domain.retirement import retirement_age_months, retirement_date
from staffing.domain.values import Gender

M, F = Gender.MALE, Gender.FEMALE


@pytest.mark.parametrize(("gender", "year", "age"), [
    (M, 2020, 60 * 12), (M, 2021, 60 * 12 + 3), (M, 2024, 61 * 12), (M, 2028, 62 * 12), (M, 2035, 62 * 12),
    (F, 2020, 55 * 12), (F, 2021, 55 * 12 + 4), (F, 2024, 56 * 12 + 4), (F, 2035, 60 * 12), (F, 2040, 60 * 12),
])
def test_the_age_in_force_rises_by_three_or_four_months_a_year(gender: Gender, year: int, age: int) -> None:
    assert retirement_age_months(gender, year) == age


@pytest.mark.parametrize(("born", "gender", "retires"), [
    (date(1961, 1, 15), M, date(2021, 5, 1)),  # 60 years 3 months in April 2021 (Decree 135/2020 annex)
    (date(1963, 12, 1), M, date(2025, 1, 1)),  # 61 in December 2024
    (date(1970, 6, 30), M, date(2032, 7, 1)),  # 62, the final age
    (date(1966, 1, 10), F, date(2021, 6, 1)),  # 55 years 4 months in May 2021
    (date(1980, 3, 3), F, date(2040, 4, 1)),   # 60, the final age
    (date(1958, 7, 1), M, date(2018, 8, 1)),   # before 2021: 60
])
def test_a_person_retires_the_month_after_reaching_the_age(born: date, gender: Gender, retires: date) -> None:
    assert retirement_date(born, gender) == retires
