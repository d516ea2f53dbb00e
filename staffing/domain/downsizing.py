"""Downsizing (tinh giản biên chế) rules that matter to the numbers.

The rule version in force on the *decision date* (the act's signing date) governs the case and is
stored on the event (DOMAIN.md): 108/2014 → 29/2023 (from 20/07/2023) → 154/2025 (from 16/06/2025);
in parallel 178/2024 as amended by 67/2025 (from 01/01/2025) for people affected by the 2025
restructuring.
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum

__all__ = ["DecreeVersion", "decree_in_force", "resignation_payout_178"]


class DecreeVersion(StrEnum):
    D108_2014 = "108/2014/NĐ-CP"
    D29_2023 = "29/2023/NĐ-CP"
    D178_2024_67_2025 = "178/2024/NĐ-CP (67/2025/NĐ-CP)"
    D154_2025 = "154/2025/NĐ-CP"


def decree_in_force(decision_date: date, affected_by_restructuring: bool) -> DecreeVersion:
    if affected_by_restructuring and decision_date >= date(2025, 1, 1):
        return DecreeVersion.D178_2024_67_2025
    if decision_date >= date(2025, 6, 16):
        return DecreeVersion.D154_2025
    if decision_date >= date(2023, 7, 20):
        return DecreeVersion.D29_2023
    return DecreeVersion.D108_2014


def resignation_payout_178(monthly_salary: int, insured_years: int, months_to_retirement: int,
                           within_12_months: bool = True) -> int:
    """Decree 178/2024 (amended by 67/2025) resignation payout, in VND.

    0.8 (0.4 when leaving more than 12 months after the reorganisation) × salary × months
    (at most 60) + 1.5 months' salary per insured year + 3 months' salary.
    """
    months = min(max(months_to_retirement, 0), 60)
    rate_tenths = 8 if within_12_months else 4
    return (rate_tenths * monthly_salary * months) // 10 + (15 * monthly_salary * insured_years) // 10 + 3 * monthly_salary
