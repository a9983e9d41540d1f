"""`quality_signals` counts without Python loops over characters or words; these tests hold
it to the plain definition (a `Counter` of characters, `re.findall` of words, a loop per
line) on real books and on the characters where the str predicates disagree."""

from __future__ import annotations

import re
from collections import Counter

import pytest

from longweave.sources.books.decode import normalise_text
from longweave.sources.books.quality import quality_signals
from tests.conftest import shared_book_paths

_BROKEN_HYPHEN = re.compile(r"[^\W\d_]-$")
_PAGE_NUMBER = re.compile(
    r"^(?:[-–—\[(]?\s*(?:p(?:age|g)?\.?\s*)?(?:\d{1,4}|[ivxlcdm]{1,7})\s*[-–—\])]?)$", re.I)
_SEPARATOR = re.compile(r"^[\W_]+$")


def _ratio(part: float, whole: float) -> float:
    return round(part / whole, 6) if whole else 0.0


def defined_signals(text: str) -> dict[str, float]:
    """What each signal means, written the slow obvious way (the reference)."""
    classes = Counter(text)
    non_space = sum(n for c, n in classes.items() if not c.isspace())
    letters = sum(n for c, n in classes.items() if c.isalpha())
    filled = [line.strip() for line in text.split("\n") if line.strip()]
    words = re.findall(r"[^\W\d_]+", text)
    counts = Counter(line for line in filled if not _SEPARATOR.match(line) and len(line) >= 4)
    return {
        "chars": float(len(text)),
        "lines": float(len(filled)),
        "alpha_fraction": _ratio(letters, non_space),
        "digit_fraction": _ratio(sum(n for c, n in classes.items() if c.isdigit()), non_space),
        "upper_fraction": _ratio(sum(n for c, n in classes.items() if c.isupper()), letters),
        "non_ascii_fraction": _ratio(sum(n for c, n in classes.items() if ord(c) > 127),
                                     len(text)),
        "replacement_char_fraction": _ratio(classes["\ufffd"], len(text)),
        "mean_line_length": _ratio(sum(len(line) for line in filled), len(filled)),
        "short_line_fraction": _ratio(sum(1 for line in filled if len(line) < 20), len(filled)),
        "mean_word_length": _ratio(sum(len(w) for w in words), len(words)),
        "broken_hyphen_fraction": _ratio(
            sum(1 for line in filled if _BROKEN_HYPHEN.search(line)), len(filled)),
        "page_number_line_fraction": _ratio(
            sum(1 for line in filled if _PAGE_NUMBER.match(line)), len(filled)),
        "repeated_line_fraction": _ratio(sum(n for n in counts.values() if n >= 3),
                                         len(filled)),
    }


# Characters where the predicates part ways: upper but not alpha (Ⓐ), digit but not
# decimal (²), numeric only (½), `_` (a word character that is no letter), a lone
# surrogate (a JSON record can carry one), U+FFFD, Unicode spaces and line breaks.
EDGE_CASES = [
    "", "a", "-", "x-\n-\n ab-\n", "\n\n\n", "word_word 12ab a1b2 ŉ ǅungla",
    "Ⓐ ² ½ ÉCOLE \ufffd \ud800 \u2028 \u00a0 \u3000 Ωmega ΣΑΣ 中文 123 ١٢٣",
    "— 12 —\n[iv]\npage 7\np. 9\nTHE RUNNING HEAD\nTHE RUNNING HEAD\nTHE RUNNING HEAD\n****",
    "".join(chr(i) for i in range(0x20, 0x2000)),
]


@pytest.mark.parametrize("text", EDGE_CASES)
def test_signals_match_their_definition_on_edge_cases(text: str) -> None:
    assert quality_signals(text) == defined_signals(text)


def test_signals_match_their_definition_on_real_books() -> None:
    books = shared_book_paths()
    for path in books:
        text, _ = normalise_text(path.read_bytes().decode("cp1252"))
        assert quality_signals(text) == defined_signals(text), path.name
