"""GraphiQL works on an offline network (issue 13): every asset its page loads is served by the
service from the package, is the pinned upstream file, and can be re-fetched and checked."""

from __future__ import annotations

import base64
import hashlib
import io
import re
import tarfile
from collections.abc import Iterator

import pytest
from starlette.testclient import TestClient

from staffing.bootstrap import Ledger
from staffing.graphql.app import create_app
from staffing.web import assets
from tests.support import ledger_bearer


@pytest.fixture
def dev(ledger: Ledger) -> Iterator[TestClient]:
    client = TestClient(create_app(ledger, dev=True), headers=ledger_bearer(ledger))
    yield client
    client.close()


def test_graphiql_loads_nothing_from_outside_and_every_asset_is_served_with_its_integrity(dev: TestClient) -> None:
    page = dev.get("/graphql", headers={"Accept": "text/html"})
    assert page.status_code == 200 and "graphiql" in page.text.lower()
    assert "unpkg" not in page.text and not re.findall(r'(?:src|href)="(?:https?:)?//', page.text)
    loaded = re.findall(r'(?:src|href)="(/static/vendor/[^"]+)"\s+integrity="(sha384-[^"]+)"', page.text)
    tags = re.findall(r'<(?:script|link)[^>]*(?:src|href)="([^"]+)"', page.text.replace("\n", " "))
    assert len(loaded) == 7 and {url for url, _ in loaded} == {t for t in tags if t.startswith("/static/")}
    for url, integrity in loaded:
        served = dev.get(url, headers={"Authorization": ""})  # a browser sends no token for a script
        assert served.status_code == 200, url
        assert "sha384-" + base64.b64encode(hashlib.sha384(served.content).digest()).decode() == integrity, url


def test_the_vendored_files_are_the_pinned_ones_with_their_licences() -> None:
    assert assets.verify() == []
    names = {a.name for a in assets.ASSETS}
    for package in {a.package for a in assets.ASSETS}:
        assert any(a.package == package and ("LICENSE" in a.name or a.name.endswith("package.json"))
                   for a in assets.ASSETS), package
    assert (assets.VENDOR / "plugin-explorer.package.json").read_text().count('"license": "MIT"') == 1
    assert names <= {p.name for p in assets.VENDOR.iterdir()}


def _tarball(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def test_a_fetch_refuses_a_tarball_or_a_file_that_is_not_the_pinned_one() -> None:
    wanted = assets.Asset("demo", "1.0.0", "package/x.js", "x.js", hashlib.sha256(b"right").hexdigest())
    good = _tarball({"package/x.js": b"right"})
    integrity = "sha512-" + base64.b64encode(hashlib.sha512(good).digest()).decode()
    assert assets.unpack(good, integrity, [wanted]) == {"x.js": b"right"}
    with pytest.raises(assets.AssetMismatch, match="integrity"):
        assets.unpack(good + b"tampered", integrity, [wanted])
    bad = _tarball({"package/x.js": b"wrong"})
    with pytest.raises(assets.AssetMismatch, match="x.js"):
        assets.unpack(bad, "sha512-" + base64.b64encode(hashlib.sha512(bad).digest()).decode(), [wanted])


def test_the_page_is_served_in_production_too_from_the_package(ledger: Ledger) -> None:
    client = TestClient(create_app(ledger))  # production: no GraphiQL, the page still served
    page = client.get("/")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert not re.findall(r'(?:src|href)="(?:https?:)?//', page.text)  # nothing from outside
    for asset in re.findall(r'(?:src|href)="(/static/[^"]+)"', page.text):
        assert client.get(asset).status_code == 200, asset
    assert client.get("/graphql", headers={"Accept": "text/html"}).status_code in (404, 405)
    client.close()
