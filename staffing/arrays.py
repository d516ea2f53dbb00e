"""PostgreSQL array literals for the parameters of hot reads and writes (issue 9).

psycopg dumps a list parameter element by element in Python (``ListDumper``), and SQLAlchemy's
``IN`` sends one bound parameter per value (a statement text that changes with their number, each
value dumped on its own). On the national rebuild's hot paths, the closings' position arrays, the
acts' keys and the series read back 500 keys at a time, that was several percent of the process's
time (``benchmarks/RESULTS.md`` sections 45 and 46). Written as one literal (``{a,b,c}``), the
values go as one parameter the server reads as an array (typed by the parameter itself where the
planner must see its values: ``bulk.key_in``).

Only values whose text needs no quoting inside a literal are written this way: integers, and keys
of hex digits and dashes (the ledger's UUIDs and act digests). A literal's unquoted element may not
hold a comma, a brace, a quote, a backslash or white space, and ``NULL`` reads as a null: anything
else goes as a list, which psycopg quotes correctly.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

__all__ = ["int_array", "key_array"]

_PLAIN_KEYS = re.compile(r"[0-9A-Fa-f,-]+")


def int_array(values: Iterable[int]) -> str:
    """The literal of a ``bigint[]`` (``{1,2,3}``): each value in its place, any integer whole;
    anything that is not an integer is refused (``int`` raises) rather than written into it."""
    return "{" + ",".join(map(str, map(int, values))) + "}"


def key_array(keys: Sequence[str]) -> str | None:
    """The literal of a ``text[]`` of ``keys`` when every key is plain (hex digits and dashes, none
    empty); None when one is not, or there are none: the caller then sends the list.

    Why one check of the joined text rather than one per key: ~0.6 ms per 5,000 keys against ~2 ms
    (section 45). A key holding a comma would pass the character check, so the commas are counted:
    exactly one between each two keys. An empty key would read as an empty element; ``all`` refuses it."""
    joined = ",".join(keys)
    if keys and _PLAIN_KEYS.fullmatch(joined) and joined.count(",") == len(keys) - 1 and all(keys):
        return "{" + joined + "}"
    return None
