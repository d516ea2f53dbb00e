"""Rules and value objects: downsizing decrees and payout, legal acts, enums, unit codes, purity."""

from __future__ import annotations

import ast
from datetime import date
from pathlib import Path

import pytest

import staffing.domain
from staffing.domain.downsizing import DecreeVersion, decree_in_force, resignation_payout_178
from staffing.domain.errors import InvalidInput, RuleViolation, StaffingError, UnitEnded
from staffing.domain.unit_code import unit_code_id
from staffing.domain.values import LegalAct, UnitKind, parse_enum


def test_resignation_payout_under_decree_178_matches_the_worked_example() -> None:
    assert resignation_payout_178(10_705_500, 15, 60) == 786_854_250


def test_resignation_payout_counts_at_most_sixty_months() -> None:
    assert resignation_payout_178(10_705_500, 15, 75) == resignation_payout_178(10_705_500, 15, 60)


def test_resignation_payout_uses_the_lower_rate_more_than_twelve_months_after_the_reorganisation() -> None:
    salary = 10_000_000

    later = resignation_payout_178(salary, 10, 60, within_12_months=False)

    assert later == 4 * salary * 60 // 10 + 15 * salary * 10 // 10 + 3 * salary
    assert later < resignation_payout_178(salary, 10, 60)


@pytest.mark.parametrize(
    ("decided", "affected", "expected"),
    [
        (date(2014, 11, 20), False, DecreeVersion.D108_2014),
        (date(2023, 7, 19), False, DecreeVersion.D108_2014),
        (date(2023, 7, 20), False, DecreeVersion.D29_2023),
        (date(2025, 6, 16), False, DecreeVersion.D154_2025),
        (date(2025, 1, 1), True, DecreeVersion.D178_2024_67_2025),
        (date(2026, 1, 1), True, DecreeVersion.D178_2024_67_2025),
        (date(2023, 8, 1), True, DecreeVersion.D29_2023),
    ],
)
def test_decree_in_force_depends_on_the_decision_date_and_the_restructuring(
    decided: date, affected: bool, expected: DecreeVersion
) -> None:
    assert decree_in_force(decided, affected) is expected


@pytest.mark.parametrize(("number", "issuer", "field"), [("", "UBND tỉnh", "act.number"),
                                                         ("  ", "UBND tỉnh", "act.number"),
                                                         ("12/QĐ-UBND", " ", "act.issuer")])
def test_legal_act_needs_a_number_and_an_issuer(number: str, issuer: str, field: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        LegalAct(number, issuer, date(2025, 2, 18))

    assert (refused.value.code, refused.value.field) == ("INVALID_INPUT", field)


def test_legal_act_needs_a_signing_date() -> None:
    with pytest.raises(InvalidInput) as refused:
        LegalAct("12/QĐ-UBND", "UBND tỉnh", "2025-02-18")  # type: ignore[arg-type]

    assert refused.value.field == "act.signedOn"


def test_legal_act_round_trips_through_its_dict_form() -> None:
    act = LegalAct("1234/QĐ-UBND", "Ủy ban nhân dân tỉnh Tuyên Quang", date(2025, 6, 30))

    assert LegalAct.from_dict(act.as_dict()) == act


def test_unknown_enum_value_is_refused_with_the_allowed_values() -> None:
    with pytest.raises(InvalidInput) as refused:
        parse_enum(UnitKind, "HAMLET", "kind")

    assert refused.value.field == "kind"
    assert "PROVINCE" in refused.value.message and "COMMUNE" in refused.value.message


def test_unit_codes_that_differ_only_in_case_spacing_or_unicode_form_are_the_same_code() -> None:
    composed, decomposed = "XÃ-01", "XA\u0303-01"

    assert unit_code_id(composed) == unit_code_id(decomposed) == unit_code_id(" xã-01 ")
    assert unit_code_id("XÃ-01") != unit_code_id("XÃ-02")


def test_every_refusal_carries_a_code_a_field_and_a_message() -> None:
    error = UnitEnded("unitId", "đã giải thể")

    assert isinstance(error, RuleViolation) and isinstance(error, StaffingError)
    assert (error.code, error.field, error.message, str(error)) == (
        "UNIT_ENDED", "unitId", "đã giải thể", "unitId: đã giải thể")


def test_domain_imports_nothing_from_the_database_the_api_or_the_application() -> None:
    forbidden = ("sqlalchemy", "strawberry", "starlette", "psycopg", "staffing.application",
                 "staffing.projections", "staffing.graphql", "staffing.persistence", "staffing.bootstrap")
    offenders = []
    for path in Path(staffing.domain.__file__).parent.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = ([a.name for a in node.names] if isinstance(node, ast.Import)
                     else [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            offenders += [f"{path.name}: {n}" for n in names if n.startswith(forbidden)]

    assert offenders == []
