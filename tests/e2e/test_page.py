"""The page at "/" in a real headless browser (issue 13), against a live server with the demo loaded.

Debian's Chromium drives it (installed by ``tests/e2e/browser.py`` when missing). Every request the
page makes is recorded: one to any address outside the service fails the test. Screenshots are
written to ``tests/e2e/screenshots/`` as the test goes.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import httpx
import pytest

from tests.e2e.browser import chromium_path
from tests.e2e.conftest import TOKENS, _running

SHOTS = Path(__file__).parent / "screenshots"
STAFFING = """query($u: ID!, $d: Date!, $k: DateTime) { staffing(unitId: $u, asOf: $d, knownAt: $k,
  includeDescendants: true) { totalQuota totalHeadcount } }"""


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with _running("sqlite", tmp_path_factory.mktemp("page"), ["demo"], 180) as base:
        yield base


@pytest.fixture
def browser_page(site: str) -> Iterator[tuple[Any, list[str]]]:
    from playwright.sync_api import sync_playwright

    SHOTS.mkdir(exist_ok=True)
    requested: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium_path(), args=["--no-sandbox"])
        context = browser.new_context(viewport={"width": 1280, "height": 1000}, accept_downloads=True,
                                      locale="vi-VN", timezone_id="Asia/Ho_Chi_Minh")

        def record(route: Any) -> None:
            requested.append(route.request.url)
            if route.request.url.startswith(site):
                route.continue_()
            else:
                route.abort()

        context.route("**/*", record)
        page = context.new_page()
        yield page, requested
        context.close()
        browser.close()


def _api(site: str, query: str, variables: dict[str, Any]) -> dict[str, Any]:
    body = httpx.post(site + "/graphql", json={"query": query, "variables": variables}, headers=TOKENS[site],
                      timeout=30).json()
    assert "errors" not in body, body
    return body["data"]  # type: ignore[no-any-return]


def _token(site: str) -> str:
    return TOKENS[site]["Authorization"].removeprefix("Bearer ")


def _pick(page: Any, text: str, name: str) -> None:
    page.fill("#search", text)
    page.locator("#suggestions li", has_text=name).first.click()
    page.wait_for_selector("#unit:not([hidden])")
    _settled(page)


def _set(page: Any, selector: str, value: str) -> None:
    page.fill(selector, value)
    page.dispatch_event(selector, "change")
    _settled(page)


def _settled(page: Any) -> None:
    """Wait until the page has shown its answer (the status line is empty again), or say what it shows."""
    try:
        page.wait_for_function("document.querySelector('#status').textContent === ''", timeout=20_000)
    except Exception as error:  # the status line says what went wrong
        pytest.fail(f"the page did not settle: {page.inner_text('#status')!r} ({error})")


def _shown(page: Any) -> tuple[int, int]:
    figures = page.locator("#figures")
    return int(figures.get_attribute("data-quota")), int(figures.get_attribute("data-headcount"))


def test_the_page_answers_like_the_api_before_and_after_the_reform_and_as_known_at_a_moment(
        site: str, browser_page: tuple[Any, list[str]]) -> None:
    page, requested = browser_page
    page.goto(f"{site}/?asOf=2025-07-31#token={_token(site)}")
    assert "token" not in page.url  # kept in the browser, out of the address bar
    _pick(page, "tuyen quang", "Tỉnh Tuyên Quang")  # the province formed on 01/07/2025
    unit = parse_qs(urlparse(page.url).query)["unit"][0]
    lineage = page.inner_text("#lineage")
    assert "Hà Giang" in lineage  # Tuyên Quang and Hà Giang were consolidated into it on 01/07/2025
    page.screenshot(path=str(SHOTS / "tuyen-quang-2025-07-31.png"), full_page=True)
    checked = [(unit, "2025-07-31")]
    # before the reform: follow the lineage back to the old Tỉnh Tuyên Quang and ask about 30/06/2025
    page.locator("#lineage g.lineage-unit", has_text="Tuyên Quang").first.click()
    _settled(page)
    _set(page, "#asOf", "30/06/2025")
    old = parse_qs(urlparse(page.url).query)["unit"][0]
    assert old != unit and parse_qs(urlparse(page.url).query)["asOf"] == ["2025-06-30"]
    page.screenshot(path=str(SHOTS / "tuyen-quang-2025-06-30.png"), full_page=True)
    checked.append((old, "2025-06-30"))
    for shown_unit, as_of in checked:
        if shown_unit != parse_qs(urlparse(page.url).query)["unit"][0]:
            page.goto(f"{site}/?unit={shown_unit}&asOf={as_of}")
            page.wait_for_selector("#unit:not([hidden])")
            _settled(page)
        want = _api(site, STAFFING, {"u": shown_unit, "d": as_of, "k": None})["staffing"]
        assert _shown(page) == (want["totalQuota"], want["totalHeadcount"]), as_of
        assert f"{want['totalHeadcount']:,}".replace(",", ".") in page.inner_text("#figures")  # Vietnamese grouping
        assert f"{as_of[8:10]}/{as_of[5:7]}/{as_of[:4]}" in page.inner_text("#unit-place")  # dd/mm/yyyy
    assert page.locator("#report tbody tr").count() > 1 and page.locator("#chart svg polyline").count() >= 2
    page.fill("#asOf", "31/7/2025x")  # not a date: the page says how to write one, and asks nothing
    page.dispatch_event("#asOf", "change")
    assert "dd/mm/yyyy" in page.inner_text("#status") and "asOf=2025-06-30" in page.url  # the URL keeps the last

    # the late transfer: decided for 01/07/2025, entered at 09:00 on 10/08/2025 — absent a minute before
    page.goto(f"{site}/?asOf=2025-07-31")
    _pick(page, "00691", "Phường Hà Giang 1")
    commune = parse_qs(urlparse(page.url).query)["unit"][0]
    before_entry = "2025-08-10T08:59:00+07:00"
    _set(page, "#knownAt", "10/08/2025 08:59")  # the browser's clock is Vietnam's (UTC+7)
    earlier = _api(site, STAFFING, {"u": commune, "d": "2025-07-31", "k": before_entry})["staffing"]
    assert _shown(page)[1] == earlier["totalHeadcount"]
    assert "knownAt" in parse_qs(urlparse(page.url).query)
    page.screenshot(path=str(SHOTS / "commune-known-before-the-late-transfer.png"), full_page=True)
    _set(page, "#knownAt", "")
    now = _api(site, STAFFING, {"u": commune, "d": "2025-07-31", "k": None})["staffing"]
    assert _shown(page)[1] == now["totalHeadcount"] == earlier["totalHeadcount"] + 1
    page.screenshot(path=str(SHOTS / "commune-now.png"), full_page=True)

    # a report downloaded as Excel, with the caller's token, the way a user clicks it
    with page.expect_download() as waiting:
        page.click("#download-xlsx")
    saved = SHOTS / "report.xlsx"
    waiting.value.save_as(str(saved))
    assert saved.read_bytes()[:2] == b"PK" and saved.stat().st_size > 2000

    outside = [url for url in requested if not url.startswith(site)]
    assert outside == [], outside
    assert any(re.search(r"/static/page/app\.js$", url) for url in requested)


def test_the_diff_view_lists_what_changed_between_two_knowledge_moments(
        site: str, browser_page: tuple[Any, list[str]]) -> None:
    page, requested = browser_page
    page.goto(f"{site}/?asOf=2025-07-31#token={_token(site)}")
    _pick(page, "00691", "Phường Hà Giang 1")
    page.click("#views button[data-view=diff]")
    assert parse_qs(urlparse(page.url).query)["view"] == ["diff"]
    page.fill("#beforeAsOf", "31/07/2025")
    page.fill("#beforeKnownAt", "10/08/2025 08:59")
    page.fill("#afterAsOf", "31/07/2025")
    page.click("#diff-form button[type=submit]")
    page.wait_for_selector("#diff tbody tr.changed")
    text = page.inner_text("#diff")
    assert "PersonTransferred" in text and "→" in text
    page.screenshot(path=str(SHOTS / "diff.png"), full_page=True)
    assert [url for url in requested if not url.startswith(site)] == []
    assert date.today()  # the page works whatever today's date (it starts on today when no asOf is given)
