from datetime import date

from staffing.application import EstablishUnit
from staffing.bootstrap import Ledger
from tests.support import act


def test_established_unit_is_visible_in_the_read_model(ledger: Ledger) -> None:
    result = ledger.service.execute(EstablishUnit(code="T01", name="Tỉnh Tuyên Quang", kind="PROVINCE", parent_id=None, effective_on=date(2020, 1, 1), act=act()))
    with ledger.queries.connect() as conn:
        unit = ledger.queries.unit(conn, result.unit_id, date(2020, 1, 1), ledger.queries.knowledge_position(conn, None))
    assert unit is not None and unit.name == "Tỉnh Tuyên Quang"
