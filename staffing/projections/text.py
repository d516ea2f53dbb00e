"""Diacritic-insensitive matching: "Tuyen Quang" finds "Tuyên Quang", "dak lak" finds "Đắk Lắk"."""

from __future__ import annotations

import functools
import unicodedata

__all__ = ["fold"]


def fold(text: str) -> str:
    """Lower-case, strip combining marks, map đ/Đ to d (it is a letter, not a mark, in Unicode).

    Folded a word at a time, each word's folding cached (issue 9): a rebuild folds every person's
    name (~2.2 million nationally), and names are made of few distinct words (Nguyễn, Thị, Văn, ...);
    folding each name whole was ~3% of the national rebuild's setup. The same text as folding the
    whole: NFD, dropping marks and casefolding neither make nor remove whitespace, so splitting on
    it first and last splits the same words (``test_text`` checks this against the whole-text form);
    a word that was only marks folds to nothing and is dropped, as the whole-text ``split`` drops it.
    """
    return " ".join(folded for word in text.split() if (folded := _fold_word(word)))


@functools.lru_cache(maxsize=65_536)
def _fold_word(word: str) -> str:
    decomposed = unicodedata.normalize("NFD", word.replace("đ", "d").replace("Đ", "D"))
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(stripped.casefold().split())
