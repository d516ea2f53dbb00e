"""The retirement age in force, and when a person reaches it (issue 12).

Legal basis:

- **Before 2021:** Labour Code 2012, art. 187. Men retire at 60 and women at 55.
- **From 01/01/2021:** Labour Code 2019, art. 169, with Decree 135/2020/NĐ-CP. Under normal working
  conditions the age is 60 years 3 months for men and 55 years 4 months for women in 2021. It then
  rises each year, by 3 months for men until it reaches 62 (in 2028) and by 4 months for women until
  it reaches 60 (in 2035).

So a person retires in the first calendar year in which they reach the age in force for that year.
This matches the schedule annexed to Decree 135/2020: for example, a man born in January 1961 retires
in April 2021, at 60 years 3 months.

Ages for reduced working capacity and for arduous work, which are earlier, are not modelled. The date
computed here is the normal one.
"""

from __future__ import annotations

from datetime import date

from staffing.domain.values import Gender

__all__ = ["retirement_age_months", "retirement_date"]


def retirement_age_months(gender: Gender, year: int) -> int:
    """The normal retirement age, in months, for someone reaching it in ``year``."""
    if gender is Gender.MALE:
        return 60 * 12 if year < 2021 else min(60 * 12 + 3 + 3 * (year - 2021), 62 * 12)
    return 55 * 12 if year < 2021 else min(55 * 12 + 4 + 4 * (year - 2021), 60 * 12)


def _plus_months(day: date, months: int) -> date:
    year, month = divmod(day.month - 1 + months, 12)
    return date(day.year + year, month + 1, 1)


def retirement_date(birth_date: date, gender: Gender) -> date:
    """When the person retires: the first day of the month after the month they reach the age in force.
    Decree 135/2020, art. 4, has the retirement moment at the end of that month's last day, and the
    pension from the next month. Found by trying each year the age could be reached in."""
    for year in range(birth_date.year + 55, birth_date.year + 64):
        reached = _plus_months(birth_date, retirement_age_months(gender, year))
        if reached.year <= year:
            return _plus_months(reached, 1)
    return _plus_months(_plus_months(birth_date, retirement_age_months(gender, birth_date.year + 62)), 1)
