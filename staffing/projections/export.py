"""The record as currently known, written back out as commands (``python -m staffing export-commands``).

Each line is ``{"command": "<mutation name>", "input": {...}}`` with the mutation's input shape, the
format ``python -m staffing import`` reads. Importing the file into an empty ledger gives the same
as-of answers on every date; the knowledge moments become the import's.

How facts become commands (read from the ``facts`` table, in log order):

- retracted facts and the retractions themselves are left out;
- a reorganisation is one command, written where its first fact stands: an absorption at the
  receiving unit's ``UnitAbsorbed``, a consolidation, split or separation at the new unit's
  ``UnitEstablished``; what it moved (people, positions, child units, quota) is derived again
  by the command on import and not written — except the allocation of a split or separation,
  which is part of its command;
- every unit, position and person keeps its id (creating commands carry ``id``), so later lines
  and other files can refer to them;
- quota transfers are written as the two figures they set (``assignQuota``): the same figures
  on every date; an exception granted by a merger is written as its own ``allowExcess``.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import orjson
from sqlalchemy import Connection, select

from staffing.projections import tables as t

__all__ = ["export_commands"]

#: fact type → command name, for facts that map one to one
_SIMPLE = {
    "UnitRenamed": "renameUnit", "UnitModelChanged": "changeUnitModel", "UnitFunctionsAdjusted": "adjustUnitFunctions",
    "PositionCreated": "createPosition", "PositionAbolished": "abolishPosition", "ExcessAllowed": "allowExcess",
    "PersonRecruited": "recruitPerson", "PersonTransferred": "transferPerson", "PersonRegraded": "regradePerson",
    "PersonRetired": "retirePerson", "PersonResigned": "resignPerson", "PersonDismissed": "dismissPerson",
    "PersonDownsized": "downsizePerson", "ReductionTargetSet": "setReductionTarget",
}
_ENDS_BY_REORGANISATION = {"ABSORB", "CONSOLIDATE", "SPLIT"}


@dataclass
class _Part:
    on: date
    unit: dict[str, Any]
    person_ids: list[str] = field(default_factory=list)
    position_ids: list[str] = field(default_factory=list)
    child_unit_ids: list[str] = field(default_factory=list)
    quota: list[dict[str, Any]] = field(default_factory=list)

    def as_input(self) -> dict[str, Any]:
        return {"unit": self.unit, "personIds": self.person_ids, "positionIds": self.position_ids,
                "childUnitIds": self.child_unit_ids, "quota": self.quota}


def _act(row: Any) -> dict[str, str]:
    return {"number": row.act_number, "issuer": row.act_issuer, "signedOn": row.act_signed_on.isoformat()}


def _line(command: str, row: Any, body: dict[str, Any], dated: bool = True) -> bytes:
    data = {**body, "act": _act(row)}
    if dated:
        data["effectiveOn"] = row.effective_on.isoformat()
    return orjson.dumps({"command": command, "input": data})


def _new_unit(row: Any, data: dict[str, Any]) -> dict[str, Any]:
    return {"id": row.unit_id, "code": data["code"], "name": data["name"], "kind": data["kind"],
            "parentId": data["parent_id"], "autonomy": data["autonomy"]}


def export_commands(conn: Connection) -> Iterator[bytes]:
    """Yield the record as currently known, one JSON command per item, in log order."""
    f = t.facts
    rows = [r for r in conn.execute(select(f).where(f.c.retracted_pos.is_(None), f.c.type != "FactRetracted")
                                    .order_by(f.c.position))]
    datas = [orjson.loads(r.data) for r in rows]
    # pass 1: reorganisations and what they allocated
    reorganised: set[tuple[str, date]] = set()  # (unit, date) whose children a reorganisation re-homed
    parts: dict[tuple[str, date], list[_Part]] = defaultdict(list)  # split/separated original → its parts
    part_of: dict[str, _Part] = {}
    for row, data in zip(rows, datas, strict=True):
        if row.type == "UnitEnded" and data["change"] in _ENDS_BY_REORGANISATION:
            reorganised.add((row.unit_id, row.effective_on))
        elif row.type == "UnitEstablished" and data["change"] in ("SPLIT", "SEPARATE"):
            part = _Part(row.effective_on, _new_unit(row, data))
            parts[(data["predecessor_ids"][0], row.effective_on)].append(part)
            part_of[row.unit_id] = part
    parent: dict[str, str | None] = {}
    derived_moves: set[str] = set()
    for row, data in zip(rows, datas, strict=True):
        if row.type == "UnitEstablished":
            parent[row.unit_id] = data["parent_id"]
        elif row.type == "UnitMoved":
            before = (parent.get(row.unit_id), row.effective_on)
            if before in reorganised or before in parts:  # re-homed by its parent's reorganisation
                derived_moves.add(row.fact_id)
                if data["parent_id"] in part_of:
                    part_of[data["parent_id"]].child_unit_ids.append(row.unit_id)
            parent[row.unit_id] = data["parent_id"]
        elif row.type in ("PersonReorganised", "PositionMoved") and (row.other_unit_id, row.effective_on) in parts:
            receiver = part_of.get(row.unit_id)
            if receiver is not None and receiver.on == row.effective_on:
                (receiver.person_ids if row.person_id else receiver.position_ids).append(
                    row.person_id or row.aggregate_id)
        elif row.type == "QuotaSet" and data["reason"] == "REORGANISATION" and row.unit_id in part_of:
            part = part_of[row.unit_id]
            if part.on == row.effective_on:
                part.quota.append({"category": data["category"], "kind": data["kind"], "amount": data["amount"]})
    # pass 2: the commands
    for row, data in zip(rows, datas, strict=True):
        line = _command(row, data, parts, part_of, derived_moves)
        if line is not None:
            yield line


def _command(row: Any, data: dict[str, Any], parts: dict[tuple[str, date], list[_Part]],
             part_of: dict[str, _Part], derived_moves: set[str]) -> bytes | None:
    kind = row.type
    if kind == "UnitEstablished":
        change = data["change"]
        if change == "ESTABLISH":
            return _line("establishUnit", row, _new_unit(row, data))
        if change == "CONSOLIDATE":
            return _line("mergeUnits", row, {"sourceUnitIds": data["predecessor_ids"],
                                             "newUnit": _new_unit(row, data)})
        original = data["predecessor_ids"][0]
        group = parts[(original, row.effective_on)]
        if group[0] is not part_of[row.unit_id]:
            return None  # written with the first part
        if change == "SPLIT":
            return _line("splitUnit", row, {"unitId": original, "parts": [p.as_input() for p in group]})
        return _line("separateUnit", row, {"unitId": original, "part": group[0].as_input()})
    if kind == "UnitAbsorbed":
        return _line("mergeUnits", row, {"sourceUnitIds": data["predecessor_ids"], "intoUnitId": row.unit_id})
    if kind == "UnitEnded":
        return _line("dissolveUnit", row, {"unitId": row.unit_id}) if data["change"] == "DISSOLVE" else None
    if kind == "QuotaSet":
        if data["reason"] == "REORGANISATION":
            return None
        return _line("assignQuota", row, {"unitId": row.unit_id, "category": data["category"], "kind": data["kind"],
                                          "amount": data["amount"]})
    if kind == "UnitMoved":
        return None if row.fact_id in derived_moves else _line("moveUnit", row, {"unitId": row.unit_id,
                                                                                 "newParentId": data["parent_id"]})
    if kind == "ExcessAllowed" and "carrying the exception" in str(data.get("reason", "")):
        return None  # carried by the reorganisation that made it: importing that makes it again
    command = _SIMPLE.get(kind)
    if command is None:
        return None
    return _line(command, row, _simple_input(kind, row, data))


def _simple_input(kind: str, row: Any, data: dict[str, Any]) -> dict[str, Any]:
    if kind == "UnitRenamed":
        return {"unitId": row.unit_id, "name": data["name"], "code": data["code"]}
    if kind == "UnitModelChanged":
        return {"unitId": row.unit_id, "kind": data["kind"], "autonomy": data["autonomy"]}
    if kind == "UnitFunctionsAdjusted":
        return {"unitId": row.unit_id, "functions": data["functions"]}
    if kind == "PositionCreated":
        return {"id": row.aggregate_id, "unitId": data["unit_id"], "title": data["title"], "group": data["group"],
                "rank": data["rank"]}
    if kind == "PositionAbolished":
        return {"positionId": row.aggregate_id}
    if kind == "ExcessAllowed":
        return {"unitId": row.unit_id, "until": data["until"], "reason": data["reason"]}
    if kind == "PersonRecruited":
        return {"id": row.person_id, "fullName": data["full_name"], "birthDate": data["birth_date"],
                "gender": data["gender"], "category": data["category"], "unitId": data["unit_id"],
                "positionId": data["position_id"], "rank": data["rank"]}
    if kind == "PersonTransferred":
        return {"personId": row.person_id, "toUnitId": data["unit_id"], "toPositionId": data["position_id"]}
    if kind == "PersonRegraded":
        return {"personId": row.person_id, "category": data["category"], "rank": data["rank"]}
    if kind == "PersonDownsized":
        return {"personId": row.person_id, "policy": data["policy"], "monthlySalary": data["monthly_salary"],
                "insuredYears": data["insured_years"], "affectedByRestructuring": data["affected_by_restructuring"],
                "monthsToRetirement": data.get("months_to_retirement"),
                "monthsSinceReorganisation": data.get("months_since_reorganisation")}
    if kind == "ReductionTargetSet":
        return {"unitId": row.unit_id, "category": data["category"], "percent": data["percent"],
                "baselineOn": data["baseline_on"], "dueOn": data["due_on"]}
    return {"personId": row.person_id}  # retire, resign, dismiss
