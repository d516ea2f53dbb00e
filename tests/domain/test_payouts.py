"""Downsizing payouts by rule version and policy (issue 11), each against a hand computation."""

from __future__ import annotations

from datetime import date

import pytest

from staffing.domain.downsizing import DecreeVersion, payout
from staffing.domain.errors import InvalidInput
from staffing.domain.values import DownsizingPolicy

S = 10_000_000  # monthly salary, VND
EARLY, RESIGN, TRANSFER = (DownsizingPolicy.EARLY_RETIREMENT, DownsizingPolicy.RESIGNATION,
                           DownsizingPolicy.TRANSFER_OUTSIDE_BUDGET)


def test_the_worked_example_of_decree_178_resignation() -> None:
    """DOMAIN.md: salary 10,705,500 VND/month, 15 insured years, 60 months → 786,854,250 VND."""
    found = payout(DecreeVersion.D178_2024_67_2025, RESIGN, monthly_salary=10_705_500, insured_years=15,
                   months_to_retirement=60, months_since_reorganisation=3)
    assert found is not None and found.total == 786_854_250
    assert [amount for _, amount in found.breakdown] == [513_864_000, 240_873_750, 32_116_500]
    assert found.rule == "178/2024/NĐ-CP (67/2025/NĐ-CP)"


@pytest.mark.parametrize(("decree", "policy", "inputs", "total"), [
    # 3 × S × 30/12 = 75,000,000; 5 S + ½ S × 5 = 75,000,000
    (DecreeVersion.D108_2014, EARLY, {"months_to_retirement": 30}, 150_000_000),
    (DecreeVersion.D29_2023, EARLY, {"months_to_retirement": 30}, 150_000_000),
    (DecreeVersion.D154_2025, EARLY, {"months_to_retirement": 30}, 150_000_000),
    # 3 S + 1½ S × 25 = 30,000,000 + 375,000,000
    (DecreeVersion.D108_2014, RESIGN, {}, 405_000_000),
    (DecreeVersion.D29_2023, RESIGN, {}, 405_000_000),
    (DecreeVersion.D154_2025, RESIGN, {}, 405_000_000),
    # 3 S + ½ S × 25 = 30,000,000 + 125,000,000
    (DecreeVersion.D108_2014, TRANSFER, {}, 155_000_000),
    (DecreeVersion.D154_2025, TRANSFER, {}, 155_000_000),
    # Decree 178, within 12 months: 1 × S × 30 + 4 S × 30/12 + 75,000,000
    (DecreeVersion.D178_2024_67_2025, EARLY, {"months_to_retirement": 30, "months_since_reorganisation": 6},
     475_000_000),
    # ... and later: ½ × S × 30 + 100,000,000 + 75,000,000
    (DecreeVersion.D178_2024_67_2025, EARLY, {"months_to_retirement": 30, "months_since_reorganisation": 13},
     325_000_000),
    # Decree 178 resignation after 12 months: 0.4 × S × 30 + 1½ S × 25 + 3 S
    (DecreeVersion.D178_2024_67_2025, RESIGN, {"months_to_retirement": 30, "months_since_reorganisation": 13},
     525_000_000),
    # months to retirement count at most 60: 0.8 × S × 60 + 375,000,000 + 30,000,000
    (DecreeVersion.D178_2024_67_2025, RESIGN, {"months_to_retirement": 100}, 885_000_000),
])
def test_each_rule_version_and_policy(decree: DecreeVersion, policy: DownsizingPolicy, inputs: dict[str, int],
                                      total: int) -> None:
    found = payout(decree, policy, monthly_salary=S, insured_years=25, **inputs)  # type: ignore[arg-type]
    assert found is not None and found.total == total
    assert found.total == sum(amount for _, amount in found.breakdown)


def test_fewer_than_twenty_insured_years_earn_no_service_supplement() -> None:
    found = payout(DecreeVersion.D29_2023, EARLY, monthly_salary=S, insured_years=12, months_to_retirement=24)
    assert found is not None and found.total == 3 * S * 24 // 12


def test_a_transfer_under_178_follows_the_general_decree_in_force_and_says_so() -> None:
    found = payout(DecreeVersion.D178_2024_67_2025, TRANSFER, monthly_salary=S, insured_years=25,
                   decision_date=date(2025, 3, 1))
    assert found is not None and found.total == 155_000_000
    assert found.rule.startswith("29/2023/NĐ-CP") and "178/2024 sets no rate" in found.rule


def test_a_missing_input_leaves_the_payout_unknown_and_an_impossible_one_is_refused() -> None:
    assert payout(DecreeVersion.D154_2025, RESIGN, monthly_salary=None, insured_years=10) is None
    assert payout(DecreeVersion.D154_2025, EARLY, monthly_salary=S, insured_years=10) is None  # months unknown
    with pytest.raises(InvalidInput):
        payout(DecreeVersion.D154_2025, EARLY, monthly_salary=S, insured_years=10, months_to_retirement=-1)
