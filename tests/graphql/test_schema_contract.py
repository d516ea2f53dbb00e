"""The committed SDL is the contract the ministry's clients build against."""

from __future__ import annotations

from staffing.graphql.schema import schema
from staffing.graphql.schema_export import SCHEMA_PATH


def test_committed_schema_matches_the_code() -> None:
    committed = SCHEMA_PATH.read_text(encoding="utf-8")
    assert committed == str(schema) + "\n", (
        "schema drift: run `python -m staffing schema --output staffing/graphql/schema.graphql` and review the diff")


def test_contract_enums_have_exactly_the_fixed_values() -> None:
    sdl = str(schema)
    expected = {
        "UnitKind": "MINISTRY MINISTRY_LEVEL_AGENCY GOVERNMENT_AGENCY GENERAL_DEPARTMENT BUREAU DEPARTMENT OFFICE "
                    "INSPECTORATE DIVISION PROVINCE PROVINCIAL_DEPARTMENT SUB_DEPARTMENT DISTRICT COMMUNE WARD "
                    "SPECIAL_ZONE PUBLIC_SERVICE_UNIT",
        "PersonnelCategory": "CADRE CIVIL_SERVANT PUBLIC_EMPLOYEE CONTRACT_WORKER",
        "QuotaKind": "ASSIGNED TEMPORARY SUPPLEMENTARY",
        "DownsizingPolicy": "EARLY_RETIREMENT RESIGNATION TRANSFER_OUTSIDE_BUDGET",
        "Gender": "FEMALE MALE",
        "PositionGroup": "LEADERSHIP SECTOR_PROFESSIONAL COMMON_PROFESSIONAL SUPPORT",
    }
    for name, members in expected.items():
        block = sdl.split(f"enum {name} {{", 1)[1].split("}", 1)[0]
        assert block.split() == members.split(), name


def test_every_mutation_takes_one_input_argument_and_returns_errors() -> None:
    mutation_type = schema._schema.mutation_type
    assert mutation_type is not None
    for name, field in mutation_type.fields.items():
        assert list(field.args) == ["input"], name
        assert str(field.args["input"].type) == f"{name[0].upper()}{name[1:]}Input!", name
        payload = field.type.of_type if hasattr(field.type, "of_type") else field.type
        assert "errors" in payload.fields, name


def test_fact_inputs_carry_effective_date_and_legal_act() -> None:
    for name in ("EstablishUnitInput", "RenameUnitInput", "MoveUnitInput", "MergeUnitsInput", "SplitUnitInput",
                 "SeparateUnitInput", "DissolveUnitInput", "AssignQuotaInput", "CreatePositionInput",
                 "AbolishPositionInput", "RecruitPersonInput", "TransferPersonInput", "RetirePersonInput",
                 "DownsizePersonInput"):
        fields = schema._schema.type_map[name].fields  # type: ignore[union-attr]
        assert str(fields["effectiveOn"].type) == "Date!", name
        assert str(fields["act"].type) == "LegalActInput!", name
    act = schema._schema.type_map["LegalActInput"].fields  # type: ignore[union-attr]
    assert {k: str(v.type) for k, v in act.items()} == {"number": "String!", "issuer": "String!",
                                                        "signedOn": "Date!"}


def test_schema_only_grows_from_the_first_round_contract() -> None:
    """Clients built against the round-one SDL keep working: no removed or retyped field, argument or value."""
    from pathlib import Path

    from graphql import build_schema, find_breaking_changes

    baseline = build_schema((Path(__file__).parent / "contract_round1.graphql").read_text(encoding="utf-8"))
    assert find_breaking_changes(baseline, schema._schema) == []


def test_every_command_has_a_mutation_whose_input_has_exactly_its_fields() -> None:
    """One vocabulary: the input of mutation `fooBar` has the fields of command `FooBar`, plus `requestKey`."""
    import dataclasses

    from staffing.application.registry import command_types
    from staffing.application.values import camel

    mutation_type = schema._schema.mutation_type
    assert mutation_type is not None
    for command in command_types():
        field = mutation_type.fields[command.command_name()]
        input_fields = set(field.args["input"].type.of_type.fields)  # type: ignore[attr-defined]
        assert input_fields == {camel(f.name) for f in dataclasses.fields(command)} | {"requestKey"}, command


def test_mutations_with_a_special_argument_shape_are_only_the_plan() -> None:
    mutation_type = schema._schema.mutation_type
    assert mutation_type is not None
    plan = schema._schema.type_map["PlanCommandInput"]
    assert "input PlanCommandInput @oneOf {" in str(schema)
    assert set(plan.fields) == set(mutation_type.fields) - {"executePlan"}  # type: ignore[union-attr]
