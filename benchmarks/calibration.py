"""Do the published figures come out of the ledger? (issue 9: the generator's calibration)

Reads a ledger's read models and counts, as of the record now:
- people downsized from 2015 to 15/12/2023, central (under a ministry on the date) and local;
- public service units existing on 01/01/2015 minus those existing on 31/12/2021;
and sets them beside ``staffing.generator.expected_figures`` for the scale the data was generated at.

Usage: STAFFING_DATA_DIR=DIR python -m benchmarks.calibration --scale national
"""

from __future__ import annotations

import argparse
from datetime import date
from typing import Any

from sqlalchemy import select

from staffing.bootstrap import Ledger, build
from staffing.config import Settings
from staffing.generator import SCALES, expected_figures
from staffing.projections import tables as t

__all__ = ["ledger_figures"]

FIRST, LAST = date(2015, 1, 1), date(2023, 12, 15)


def ledger_figures(ledger: Ledger) -> dict[str, Any]:
    q = ledger.queries
    f = t.facts
    central = local = 0
    with q.connect() as conn:
        position = q.knowledge_position(conn, None)
        rows = conn.execute(select(f.c.unit_id, f.c.effective_on).where(
            f.c.type == "PersonDownsized", f.c.retracted_pos.is_(None), f.c.effective_on >= FIRST,
            f.c.effective_on <= LAST)).all()
        tops: dict[tuple[str, date], str] = {}
        for unit_id, on in rows:
            if (unit_id, on) not in tops:
                unit = q.unit(conn, unit_id, on, position)
                while unit is not None and unit.parent_id is not None:
                    unit = q.unit(conn, unit.parent_id, on, position)
                tops[(unit_id, on)] = unit.kind if unit is not None else ""
            if tops[(unit_id, on)] == "MINISTRY":
                central += 1
            else:
                local += 1

        def psus(on: date) -> int:
            units, _ = q.units(conn, as_of=on, position=position, kind="PUBLIC_SERVICE_UNIT", first=1_000_000)
            return len(units)

        return {"downsized_2015_2023": (central, local), "psus_removed_2015_2021": psus(FIRST) - psus(date(2021, 12, 31))}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", default="province", choices=sorted(SCALES))
    args = parser.parse_args(argv)
    ledger = build(Settings.from_env(), inline_projection=False)
    ledger.projector.catch_up()
    got, want = ledger_figures(ledger), expected_figures(SCALES[args.scale])
    for name in want:
        print(f"{name}: ledger {got[name]}, published at this scale {want[name]}")
    ledger.close()


if __name__ == "__main__":
    main()
