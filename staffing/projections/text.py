"""Diacritic-insensitive matching: "Tuyen Quang" finds "Tuyên Quang", "dak lak" finds "Đắk Lắk"."""

from __future__ import annotations

import unicodedata

__all__ = ["fold"]


def fold(text: str) -> str:
    """Lower-case, strip combining marks, map đ/Đ to d (it is a letter, not a mark, in Unicode)."""
    decomposed = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(stripped.casefold().split())
