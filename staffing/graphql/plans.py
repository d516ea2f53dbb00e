"""``executePlan``: several commands as one decision — recorded all or nothing, or a dry run.

The commands are decided in order, each against the state the earlier ones produce (a plan can
establish a unit, give it quota and recruit into it, naming it by a client-chosen id). A dry run
records nothing: the events it would write are applied to the read models inside a transaction
that is rolled back (``Queries.preview``), so its figures are computed exactly as the recorded
plan's would be.
"""

from __future__ import annotations

import asyncio
from datetime import date
from typing import Any

import strawberry

from staffing.application import Item, Mode, Outcome
from staffing.application import commands as c
from staffing.application.service import MAX_COMMANDS
from staffing.application.values import snake
from staffing.domain.errors import Forbidden, StaffingError
from staffing.graphql.auth import forbidden
from staffing.graphql.context import Context
from staffing.graphql.inputs import INPUTS, to_command
from staffing.graphql.types import StaffingRow, row_from
from staffing.projections.queries import Queries, StaffingFigures

__all__ = ["ExecutePlanInput", "PlanCommandInput", "PlanError", "PlanPayload", "execute_plan"]

Info = strawberry.Info[Context, None]


def _plan_command_input() -> type:
    """One field per command, named like its mutation and taking that mutation's input."""
    fields = {snake(command.command_name()): input_type for command, input_type in INPUTS.items()}
    namespace: dict[str, Any] = {"__annotations__": {name: t | None for name, t in fields.items()}}
    namespace.update({name: strawberry.UNSET for name in fields})
    cls = type("PlanCommandInput", (), namespace)
    return strawberry.input(one_of=True, description="One command of a plan: exactly one field, named like the "
                                                     "mutation and taking that mutation's input.")(cls)


PlanCommandInput = _plan_command_input()
_COMMANDS = {snake(command.command_name()): command for command in INPUTS}


@strawberry.input(description=f"A plan of at most {MAX_COMMANDS} commands.")
class ExecutePlanInput:
    commands: list[PlanCommandInput]  # type: ignore[valid-type]
    dry_run: bool = strawberry.field(default=True, description="Decide and report, record nothing (the default).")
    as_of: date | None = strawberry.field(default=None, description="The date of the figures (default: the latest "
                                                                       "effective date in the plan).")
    request_key: str | None = strawberry.field(default=None, description="Makes the whole plan idempotent.")


@strawberry.type(description="A refused command: its position in the plan (null: the plan as a whole).")
class PlanError:
    index: int | None
    code: str
    field: str | None
    message: str


@strawberry.type(description="What the plan did (or, in a dry run, would do).")
class PlanPayload:
    recorded: bool
    ids: list[strawberry.ID] = strawberry.field(description="The ids each command created or touched, in order.")
    errors: list[PlanError]
    staffing: list[StaffingRow] = strawberry.field(description=(
        "As of `asOf`, every unit the plan touches and its ancestors, each rolled up over its subtree, as they "
        "are after the plan."))
    over_quota: list[StaffingRow] = strawberry.field(description="Those rows over quota with no exception in force.")


def _error(index: int | None, error: StaffingError) -> PlanError:
    return PlanError(index=index, code=error.code, field=error.field, message=error.message)


def _refused(errors: list[PlanError]) -> PlanPayload:
    return PlanPayload(recorded=False, ids=[], errors=errors, staffing=[], over_quota=[])


def _items(input: ExecutePlanInput) -> tuple[list[Item], list[PlanError]]:
    items, errors = [], []
    for i, entry in enumerate(input.commands):
        (name, value), *_ = [(n, v) for n in _COMMANDS if (v := getattr(entry, n))]
        try:
            items.append(Item(to_command(_COMMANDS[name], value), value.request_key))
        except StaffingError as error:
            errors.append(_error(i, error))
    return items, errors


def plan_rows(queries: Queries, conn: Any, unit_ids: set[str], as_of: date, position: int) -> list[StaffingFigures]:
    """Figures of the touched units and their ancestors on ``as_of``, each rolled up, top-down."""
    levels: dict[str, int] = {}
    for unit_id in unit_ids:
        chain, current = [], queries.unit(conn, unit_id, as_of, position)
        while current is not None and current.id not in chain:
            chain.append(current.id)
            current = queries.unit(conn, current.parent_id, as_of, position) if current.parent_id else None
        for depth, member in enumerate(reversed(chain), start=1):
            levels[member] = depth
    rows = []
    for unit_id, level in levels.items():
        figures = queries.staffing(conn, unit_id, as_of, position, include_descendants=True, load_entries=True)
        if figures is not None:
            figures.level = level
            rows.append(figures)
    rows.sort(key=lambda f: (f.level, f.unit.code if f.unit else "", f.unit_id))
    return rows


def _as_of(input: ExecutePlanInput, items: list[Item]) -> date:
    dates = [item.command.effective_on for item in items if isinstance(item.command, c.Fact)]
    return input.as_of or (max(dates) if dates else date.today())


async def execute_plan(info: Info, input: ExecutePlanInput) -> PlanPayload:
    if len(input.commands) > MAX_COMMANDS:
        return _refused([PlanError(index=None, code="INVALID_INPUT", field="commands", message=(
            f"{len(input.commands)} commands in one plan; the limit is {MAX_COMMANDS}. Split the plan, or load "
            "a file with `python -m staffing import`"))])
    items, errors = _items(input)
    if errors:
        return _refused(errors)
    mode = Mode.DRY_RUN if input.dry_run else Mode.ATOMIC
    service, queries = info.context.service, info.context.queries
    try:
        outcome: Outcome = await asyncio.to_thread(service.run, items, mode, input.request_key, MAX_COMMANDS,
                                                   info.context.principal)
    except StaffingError as error:
        return _refused([_error(None, error)])
    denied = [e for e in outcome.errors.values() if isinstance(e, Forbidden)]
    if denied:
        raise forbidden(info, denied[0].message)
    if outcome.errors:
        return _refused([_error(i, e) for i, e in sorted(outcome.errors.items())])
    as_of = _as_of(input, items)

    def figures() -> list[StaffingFigures]:  # database work: in a worker thread, off the event loop
        if outcome.recorded or not outcome.events:
            queries.refresh()
            with queries.connect() as conn:
                position = queries.knowledge_position(conn, None)
                return plan_rows(queries, conn, outcome.touched_units, as_of, position)
        with queries.preview(outcome.events) as (conn, position):
            return plan_rows(queries, conn, outcome.touched_units, as_of, position)

    rows = await asyncio.to_thread(figures)
    staffing = [row_from(r) for r in rows]
    over = [row for row, figures in zip(staffing, rows, strict=True)
            if figures.total_surplus > 0 and figures.excess_allowed_until is None]
    return PlanPayload(recorded=outcome.recorded, ids=[strawberry.ID(i) for i in outcome.ids], errors=[],
                       staffing=staffing, over_quota=over)
