"""Input hygiene (issue 10): what a text or a date given to the ledger may be.

Every text a command takes is checked here on its way in (``values.coerce``), whatever the caller:
GraphQL, the JSON Lines import or Python. Stored events are never re-checked (what was accepted
once keeps loading). A text is

- NFC-normalised (a name typed with combining accents and one typed precomposed are one name:
  searches, codes and duplicates compare equal);
- refused if it holds a control character (NUL included; line breaks and tabs are allowed only in
  the free-text fields ``functions`` and ``reason``), a lone surrogate, a bidirectional override or
  isolate (U+202A–U+202E, U+2066–U+2069: they make a code display as something else), or a run of
  more than ``MAX_COMBINING`` combining marks (Vietnamese needs at most two on one letter);
- at most ``max_length(field)`` characters after normalisation (``MAX_LENGTHS``; 200 otherwise).

Dates are plain ``YYYY-MM-DD`` (no week dates, ordinals or compact forms) between
``FIRST_DATE`` and ``LAST_DATE``; tighter bounds (effective dates, ages) are the domain's rules.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date

from staffing.domain.errors import InvalidInput

__all__ = ["FIRST_DATE", "LAST_DATE", "MAX_LENGTHS", "clean_text", "max_length", "parse_plain_date"]

#: the longest text per field name (the field's last path segment)
MAX_LENGTHS: dict[str, int] = {
    "code": 40, "name": 250, "full_name": 150, "rank": 100, "title": 250, "number": 80, "issuer": 250,
    "functions": 4000, "reason": 2000, "fact_id": 100, "request_key": 200, "search": 100,
}
DEFAULT_MAX = 200
MULTILINE = frozenset({"functions", "reason"})
MAX_COMBINING = 3
FIRST_DATE = date(1900, 1, 1)
LAST_DATE = date(2199, 12, 31)

_BIDI = re.compile("[\u202a-\u202e\u2066-\u2069]")
_PLAIN_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
#: texts made only of printable ASCII, Latin-1 letters and the Latin Extended blocks (all of
#: Vietnamese, precomposed) hold no control character, surrogate, combining mark or bidi control
_PLAIN_LATIN = re.compile("[\x20-\x7e\xa0-\u024f\u1e00-\u1eff]*")


def max_length(field: str) -> int:
    return MAX_LENGTHS.get(field, DEFAULT_MAX)


def clean_text(value: str, path: str, field: str) -> str:
    """``value`` normalised, or ``InvalidInput`` naming ``path`` and what to fix."""
    limit = max_length(field)
    if len(value) > 4 * limit:  # refuse floods before normalising them
        raise InvalidInput(path, f"longer than {limit} characters")
    if len(value) <= limit and _PLAIN_LATIN.fullmatch(value) and unicodedata.is_normalized("NFC", value):
        return value  # the common case, decided without looking at each character (an import's hot path)
    for index, char in enumerate(value):
        if "\ud800" <= char <= "\udfff":
            raise InvalidInput(path, f"holds an unpaired surrogate at character {index + 1}; send valid Unicode")
    text = unicodedata.normalize("NFC", value)
    if len(text) > limit:
        raise InvalidInput(path, f"is {len(text)} characters long; the limit is {limit}")
    allowed = "\n\t\r" if field in MULTILINE else ""
    combining = 0
    for index, char in enumerate(text):
        category = unicodedata.category(char)
        if category == "Cc" and char not in allowed:
            raise InvalidInput(path, f"holds the control character U+{ord(char):04X} at character {index + 1}; "
                                     "remove it")
        combining = combining + 1 if category.startswith("M") else 0
        if combining > MAX_COMBINING:
            raise InvalidInput(path, f"holds more than {MAX_COMBINING} combining marks in a row at character "
                                     f"{index + 1}")
    found = _BIDI.search(text)
    if found:
        raise InvalidInput(path, f"holds the bidirectional control U+{ord(found.group()):04X} at character "
                                 f"{found.start() + 1}; remove it")
    return text


def parse_plain_date(value: str, path: str) -> date:
    """``YYYY-MM-DD`` only, within the ledger's bounds."""
    if not isinstance(value, str) or not _PLAIN_DATE.match(value):
        raise InvalidInput(path, f"{str(value)[:40]!r} is not a date; write it as YYYY-MM-DD")
    try:
        day = date.fromisoformat(value)
    except ValueError:
        raise InvalidInput(path, f"{value!r} is not a real date; write it as YYYY-MM-DD") from None
    return check_date_bounds(day, path)


def check_date_bounds(day: date, path: str) -> date:
    if not FIRST_DATE <= day <= LAST_DATE:
        raise InvalidInput(path, f"{day.isoformat()} is outside the dates this ledger accepts "
                                 f"({FIRST_DATE.isoformat()} to {LAST_DATE.isoformat()}); check the year")
    return day
