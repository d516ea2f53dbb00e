"""Downsizing (tinh giản biên chế): which decree governs a case, and what it pays (issue 11).

The rule version in force on the *decision date* (the act's signing date) governs the case and is
stored on the event (DOMAIN.md): 108/2014 → 29/2023 (from 20/07/2023) → 154/2025 (from 16/06/2025);
in parallel 178/2024 as amended by 67/2025 (from 01/01/2025) for people affected by the 2025
restructuring.

Payouts, in VND, from the current monthly salary (tiền lương hiện hưởng). Every amount is a whole
number of đồng, rounded down at each item.

General decrees 108/2014 (arts. 8–10), 29/2023 (arts. 5–7) and 154/2025 (arts. 7–9) share these:

- **Early retirement.** 3 months' salary for each year retired early, pro rata by month. On top:
  5 months' salary for the first 20 insured years, and ½ month for each insured year after the
  twentieth.
- **Resignation.** 3 months' salary to look for work, and 1½ months' salary for each insured year.
- **Transfer to an organisation not paid from the budget.** 3 months' salary, and ½ month's salary
  for each insured year.

Decree 178/2024 as amended by 67/2025, for people affected by the 2025 restructuring:

- **Resignation** (art. 9). 0.8 × salary × months to retirement (at most 60); the rate is 0.4 when
  leaving more than 12 months after the reorganisation decision. On top, 1½ months per insured
  year and 3 months to look for work. DOMAIN.md's worked example, 10,705,500 VND, 15 years and 60
  months, gives 786,854,250 VND.
- **Early retirement** (art. 7).
  - A one-off pension supplement of 1 × salary per month retired early (at most 60), at 0.5 more
    than 12 months after the reorganisation.
  - 4 months' salary per year retired early, pro rata by month.
  - 5 months' salary for the first 20 insured years, and ½ month for each insured year after.
- **Transfer outside the budget.** Decree 178 sets no rate of its own, so the general decree in
  force on the decision date applies; the rule names it.

These readings of the decrees are encoded as stated; a legal department should confirm them before
payments are made from them. That is why each result names its rule and itemises its breakdown.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from staffing.domain.errors import InvalidInput
from staffing.domain.values import DownsizingPolicy

__all__ = ["DecreeVersion", "Payout", "decree_in_force", "payout", "resignation_payout_178"]


class DecreeVersion(StrEnum):
    D108_2014 = "108/2014/NĐ-CP"
    D29_2023 = "29/2023/NĐ-CP"
    D178_2024_67_2025 = "178/2024/NĐ-CP (67/2025/NĐ-CP)"
    D154_2025 = "154/2025/NĐ-CP"


def decree_in_force(decision_date: date, affected_by_restructuring: bool) -> DecreeVersion:
    if affected_by_restructuring and decision_date >= date(2025, 1, 1):
        return DecreeVersion.D178_2024_67_2025
    return _general_decree(decision_date)


def _general_decree(decision_date: date) -> DecreeVersion:
    if decision_date >= date(2025, 6, 16):
        return DecreeVersion.D154_2025
    if decision_date >= date(2023, 7, 20):
        return DecreeVersion.D29_2023
    return DecreeVersion.D108_2014


def resignation_payout_178(monthly_salary: int, insured_years: int, months_to_retirement: int,
                           within_12_months: bool = True) -> int:
    """Decree 178/2024 (amended by 67/2025) resignation payout, in VND (see the module docstring)."""
    months = min(max(months_to_retirement, 0), 60)
    rate_tenths = 8 if within_12_months else 4
    return (rate_tenths * monthly_salary * months) // 10 + (15 * monthly_salary * insured_years) // 10 + 3 * monthly_salary


@dataclass(frozen=True)
class Payout:
    """A computed payout: the rule that produced it, its items and their total (VND)."""

    rule: str
    breakdown: tuple[tuple[str, int], ...]

    @property
    def total(self) -> int:
        return sum(amount for _, amount in self.breakdown)

    def as_dict(self) -> dict[str, object]:
        return {"rule": self.rule, "total": self.total,
                "breakdown": [{"item": item, "amount": amount} for item, amount in self.breakdown]}


def _service_years(salary: int, insured_years: int) -> tuple[str, int]:
    """5 months for the first 20 insured years, ½ month for each year after (only with 20 or more)."""
    if insured_years < 20:
        return "5 months for the first 20 insured years (fewer than 20: none)", 0
    return (f"5 months for the first 20 insured years + ½ month × {insured_years - 20} years after",
            5 * salary + (salary * (insured_years - 20)) // 2)


def payout(decree: DecreeVersion, policy: DownsizingPolicy, *, monthly_salary: int | None,
           insured_years: int | None, months_to_retirement: int | None = None,
           months_since_reorganisation: int | None = None, decision_date: date | None = None) -> Payout | None:
    """The payout of one case, or None when an input it needs was not given (the fact is still
    recorded; the payout is computed when it is known). Refuses impossible inputs."""
    if monthly_salary is None or insured_years is None:
        return None
    if monthly_salary < 0 or not 0 <= insured_years <= 60:
        raise InvalidInput("monthlySalary", "the salary must not be negative and insured years lie in 0..60")
    salary, years = monthly_salary, insured_years
    early = policy in (DownsizingPolicy.EARLY_RETIREMENT, DownsizingPolicy.RESIGNATION)
    if early and decree is DecreeVersion.D178_2024_67_2025 or policy is DownsizingPolicy.EARLY_RETIREMENT:
        if months_to_retirement is None:
            return None
        if not 0 <= months_to_retirement <= 600:
            raise InvalidInput("monthsToRetirement", "months to retirement lie in 0..600")
    if decree is DecreeVersion.D178_2024_67_2025 and policy is not DownsizingPolicy.TRANSFER_OUTSIDE_BUDGET:
        assert months_to_retirement is not None
        late = months_since_reorganisation is not None and months_since_reorganisation > 12
        months = min(months_to_retirement, 60)
        if policy is DownsizingPolicy.RESIGNATION:
            tenths = 4 if late else 8
            return Payout(decree.value, (
                (f"{tenths / 10} × salary × {months} months to retirement (at most 60)", tenths * salary * months // 10),
                (f"1½ months × {years} insured years", 15 * salary * years // 10),
                ("3 months to look for work", 3 * salary)))
        halves = 1 if late else 2
        service = _service_years(salary, years)
        return Payout(decree.value, (
            (f"{halves / 2} × salary × {months} months retired early (at most 60)", halves * salary * months // 2),
            (f"4 months × {months_to_retirement} months / 12 retired early", 4 * salary * months_to_retirement // 12),
            service))
    rule = (decree if decree is not DecreeVersion.D178_2024_67_2025 else None)
    general = rule or _general_decree(decision_date or date(2025, 6, 16))
    name = general.value if rule else f"{general.value} (178/2024 sets no rate for this policy)"
    if policy is DownsizingPolicy.EARLY_RETIREMENT:
        assert months_to_retirement is not None
        return Payout(name, (
            (f"3 months × {months_to_retirement} months / 12 retired early", 3 * salary * months_to_retirement // 12),
            _service_years(salary, years)))
    if policy is DownsizingPolicy.RESIGNATION:
        return Payout(name, (("3 months to look for work", 3 * salary),
                             (f"1½ months × {years} insured years", 15 * salary * years // 10)))
    return Payout(name, (("3 months", 3 * salary), (f"½ month × {years} insured years", salary * years // 2)))
