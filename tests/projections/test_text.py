"""``fold`` folds a word at a time (cached): the same text as folding the whole, for any text."""

from __future__ import annotations

import unicodedata

from hypothesis import given, settings
from hypothesis import strategies as st

from staffing.projections.text import fold


def whole_text_fold(text: str) -> str:
    """The folding as it was written before it went word by word (the rule ``fold`` keeps)."""
    decomposed = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(stripped.casefold().split())


def test_vietnamese_names_fold_to_plain_lower_case() -> None:
    assert fold("  Nguyễn   Thị Đắk\tLắk ") == "nguyen thi dak lak"
    assert fold("TRẦN VĂN ĐỨC") == "tran van duc"
    assert fold("") == ""
    assert fold("a \u0301 b") == "a b"  # a word that is only a mark folds to nothing


def test_every_code_point_alone_and_between_words_folds_as_the_whole_text() -> None:
    for point in range(0x10000):
        if 0xD800 <= point <= 0xDFFF:
            continue
        ch = chr(point)
        for text in (ch, f"a{ch}b", f"x {ch} y", f"{ch}\u0301 {ch}"):
            assert fold(text) == whole_text_fold(text), (hex(point), text)


_MIXED = st.text(alphabet=st.one_of(st.sampled_from(" \t\n\u00a0\u2000\u3000ĐđăâêôơưẮắẠạ\u0301\u0323\u0309"),
                                    st.characters()), max_size=40)


@settings(max_examples=2000, deadline=None)
@given(_MIXED)
def test_any_text_folds_as_the_whole_text(text: str) -> None:
    assert fold(text) == whole_text_fold(text)
