"""Vendored third-party browser assets: pinned, re-fetchable, checked (issue 13).

Government networks are often offline, so nothing the service serves may be fetched from outside:
GraphiQL and what it needs are kept in ``staffing/web/vendor`` with their licence files, and this
module re-fetches them from the npm registry by pinned version and checks them:

    python -m staffing.web.assets verify    # the files on disk match the pinned hashes
    python -m staffing.web.assets fetch     # download the pinned tarballs, check, write the files

``fetch`` checks each tarball against the registry's published ``dist.integrity`` (SHA-512) and each
extracted file against the SHA-256 pinned in ``ASSETS`` before writing anything; a mismatch writes
nothing and says which file differs.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import sys
import tarfile
import urllib.request
from dataclasses import dataclass
from pathlib import Path

__all__ = ["ASSETS", "PAGE", "VENDOR", "Asset", "fetch", "verify"]

VENDOR = Path(__file__).parent / "vendor"
PAGE = Path(__file__).parent / "page"  # the service's own page (index.html, app.js, style.css)
REGISTRY = "https://registry.npmjs.org"


@dataclass(frozen=True)
class Asset:
    package: str
    version: str
    member: str  # the path inside the npm tarball
    name: str  # the file name under vendor/
    sha256: str


ASSETS = (
    Asset("react", "18.2.0", "package/umd/react.production.min.js", "react.production.min.js",
          "4b4969fa4ef3594324da2c6d78ce8766fbbc2fd121fff395aedf997db0a99a06"),
    Asset("react", "18.2.0", "package/LICENSE", "react.LICENSE", "52412d7bc7ce4157ea628bbaacb8829e0a9cb3c58f57f99176126bc8cf2bfc85"),
    Asset("react-dom", "18.2.0", "package/umd/react-dom.production.min.js", "react-dom.production.min.js",
          "21758ed084cd0e37e735722ee4f3957ea960628a29dfa6c3ce1a1d47a2d6e4f7"),
    Asset("react-dom", "18.2.0", "package/LICENSE", "react-dom.LICENSE", "52412d7bc7ce4157ea628bbaacb8829e0a9cb3c58f57f99176126bc8cf2bfc85"),
    Asset("graphiql", "3.8.3", "package/graphiql.min.js", "graphiql.min.js", "22faab94067b695e5f7959619fbe686ebcc8955002a0c97d986bcbba4ad4bc2c"),
    Asset("graphiql", "3.8.3", "package/graphiql.min.css", "graphiql.min.css", "b1868247f8e0502cd869e581f5f3cb55b334862e7f51b1d6cbace11059b9adc2"),
    Asset("graphiql", "3.8.3", "package/LICENSE", "graphiql.LICENSE", "4b18fbe55c4e8f9169cb702be138f4d858a2dad920c39857204ffdc9c1c9fdc4"),
    Asset("@graphiql/plugin-explorer", "1.0.2", "package/dist/index.umd.js", "plugin-explorer.umd.js",
          "083e37e501d3e3920a60e627b82191af056009124dce82a332e8ac74db6ca38b"),
    Asset("@graphiql/plugin-explorer", "1.0.2", "package/dist/style.css", "plugin-explorer.css", "762850cb69873400d0ab1737c6158aee91f5c38195bc4a30ee02a3c5d5af4e01"),
    # its tarball carries no LICENSE file: its package.json declares the licence (MIT, GraphQL Contributors)
    Asset("@graphiql/plugin-explorer", "1.0.2", "package/package.json", "plugin-explorer.package.json", "430f57e06835b477a33d9ba55cda7d005c5019b8b8ff9817762ac8b4842d8efa"),
    Asset("js-cookie", "3.0.5", "package/dist/js.cookie.min.js", "js.cookie.min.js", "582cc085dd8fea044917d1efde838e77e845262fd025bbfe0339f808607c81f6"),
    Asset("js-cookie", "3.0.5", "package/LICENSE", "js-cookie.LICENSE", "eff040f4184445a6d1f7f76d918101d631402436ff12256b924fb68e4df28a94"),
)


class AssetMismatch(RuntimeError):
    """A fetched or vendored file is not the pinned one."""


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def verify(directory: Path = VENDOR) -> list[str]:
    """The problems with the vendored files (empty: every file is there and is the pinned one)."""
    problems = []
    for asset in ASSETS:
        path = directory / asset.name
        if not path.is_file():
            problems.append(f"{asset.name}: missing (run python -m staffing.web.assets fetch)")
        elif _sha256(path.read_bytes()) != asset.sha256:
            problems.append(f"{asset.name}: not {asset.package}@{asset.version}'s {asset.member} (SHA-256 differs)")
    return problems


def _get(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=60) as response:  # noqa: S310 - the pinned registry URL only
        return bytes(response.read())


def unpack(tarball: bytes, integrity: str, assets: list[Asset]) -> dict[str, bytes]:
    """The pinned members of one package's tarball, checked: the tarball against the registry's
    ``integrity`` (``sha512-<base64>``) and each member against its pinned SHA-256."""
    algorithm, _, digest = integrity.partition("-")
    if algorithm != "sha512" or base64.b64encode(hashlib.sha512(tarball).digest()).decode() != digest:
        raise AssetMismatch(f"{assets[0].package}@{assets[0].version}: the tarball does not match the registry's "
                            "integrity")
    out = {}
    with tarfile.open(fileobj=io.BytesIO(tarball), mode="r:gz") as archive:
        for asset in assets:
            member = archive.extractfile(asset.member)
            if member is None:
                raise AssetMismatch(f"{asset.package}@{asset.version} has no {asset.member}")
            data = member.read()
            if _sha256(data) != asset.sha256:
                raise AssetMismatch(f"{asset.name}: {asset.package}@{asset.version}'s {asset.member} has SHA-256 "
                                    f"{_sha256(data)}, pinned {asset.sha256}")
            out[asset.name] = data
    return out


def fetch(directory: Path = VENDOR) -> None:
    """Download every pinned package, check it, then write its files (nothing is written on a mismatch)."""
    by_package: dict[tuple[str, str], list[Asset]] = {}
    for asset in ASSETS:
        by_package.setdefault((asset.package, asset.version), []).append(asset)
    files: dict[str, bytes] = {}
    for (package, version), assets in by_package.items():
        meta = json.loads(_get(f"{REGISTRY}/{package}/{version}"))
        files.update(unpack(_get(meta["dist"]["tarball"]), meta["dist"]["integrity"], assets))
    directory.mkdir(parents=True, exist_ok=True)
    for name, data in files.items():
        (directory / name).write_bytes(data)


def main(argv: list[str] | None = None) -> int:
    command = (argv if argv is not None else sys.argv[1:]) or ["verify"]
    if command[0] == "fetch":
        fetch()
    problems = verify()
    for problem in problems:
        print(problem, file=sys.stderr)
    if not problems:
        print(f"{len(ASSETS)} vendored files match their pinned versions")
    return 1 if problems else 0


if __name__ == "__main__":
    raise SystemExit(main())
