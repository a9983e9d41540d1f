"""Book quality signals for the filter stage: one flat dict of floats per book.

Measured on the book's lines as read (before any reflow), because OCR damage shows in
the line structure: words broken at line ends, bare page numbers, running heads repeated
on every page.

Speed: a book is a few hundred thousand characters, so nothing here loops over characters
or words in Python. Character counts come from one byte table over the ASCII part and a
`Counter` over the (usually tiny) non-ASCII rest; words (runs of the regex class
`[^\\W\\d_]`) are counted on the filter's class bytes (`filters.quality.char_classes`,
whose LETTER class is exactly that regex class); per-line rules run through `map`.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterable
from operator import methodcaller

from longweave.filters.quality import LETTER, SPACE, char_classes

_BROKEN_HYPHEN = re.compile(r"[^\W\d_]-$")
_PAGE_NUMBER = re.compile(
    r"^(?:[-–—\[(]?\s*(?:p(?:age|g)?\.?\s*)?(?:\d{1,4}|[ivxlcdm]{1,7})\s*[-–—\])]?)$", re.I)
_SEPARATOR = re.compile(r"^[\W_]+$")
_ENDS_WITH_HYPHEN = methodcaller("endswith", "-")

# One byte per ASCII character naming what `quality_signals` counts of it (space, upper
# letter, other letter, digit, anything else), decided by the same str methods it uses on
# other characters; bytes >= 0x80 (UTF-8 of non-ASCII characters) are deleted.
_A_SPACE, _A_UPPER, _A_LETTER, _A_DIGIT, _A_OTHER = b" ", b"A", b"a", b"0", b"."


def _ascii_category(char: str) -> bytes:
    """The class byte of one ASCII character, by the str methods the signals are defined in."""
    if char.isspace():
        return _A_SPACE
    if char.isalpha():
        return _A_UPPER if char.isupper() else _A_LETTER
    return _A_DIGIT if char.isdigit() else _A_OTHER


_ASCII_TABLE = b"".join(_ascii_category(chr(i)) for i in range(128)) + b"\x00" * 128
_HIGH_BYTES = bytes(range(0x80, 0x100))
_ASCII_BYTES = bytes(range(0x80))
_LETTER_RUNS = bytes.maketrans(b" 0.", b"   ")  # LETTER stays, every other class a space


def quality_signals(text: str) -> dict[str, float]:
    """Share of letters, line shape, OCR-noise indicators and boilerplate repetition."""
    chars = len(text)
    encoded = text.encode("utf-8", "surrogatepass")
    ascii_classes = encoded.translate(_ASCII_TABLE, _HIGH_BYTES)
    rest = Counter(encoded.translate(None, _ASCII_BYTES).decode("utf-8", "surrogatepass"))
    non_space = len(ascii_classes) - ascii_classes.count(_A_SPACE) + sum(
        n for c, n in rest.items() if not c.isspace())
    ascii_upper = ascii_classes.count(_A_UPPER)
    letters = ascii_upper + ascii_classes.count(_A_LETTER) + sum(
        n for c, n in rest.items() if c.isalpha())
    digits = ascii_classes.count(_A_DIGIT) + sum(n for c, n in rest.items() if c.isdigit())
    upper = ascii_upper + sum(n for c, n in rest.items() if c.isupper())
    non_ascii = chars - len(ascii_classes)
    filled = [line for line in map(str.strip, text.split("\n")) if line]
    n_lines = len(filled)
    lengths = list(map(len, filled))
    word_classes = char_classes(text)
    word_chars = word_classes.count(LETTER)
    marks = word_classes.translate(_LETTER_RUNS)
    n_words = marks.count(SPACE + LETTER) + marks.startswith(LETTER)
    repeated = sum(n for line, n in Counter(filled).items()
                   if n >= 3 and len(line) >= 4 and not _SEPARATOR.match(line))
    return {
        "chars": float(chars),
        "lines": float(n_lines),
        "alpha_fraction": _ratio(letters, non_space),
        "digit_fraction": _ratio(digits, non_space),
        "upper_fraction": _ratio(upper, letters),
        "non_ascii_fraction": _ratio(non_ascii, chars),
        "replacement_char_fraction": _ratio(rest["\ufffd"], chars),
        "mean_line_length": _ratio(sum(lengths), n_lines),
        "short_line_fraction": _ratio(sum(map((20).__gt__, lengths)), n_lines),
        "mean_word_length": _ratio(word_chars, n_words),
        "broken_hyphen_fraction": _ratio(_count_matches(
            _BROKEN_HYPHEN.search, filter(_ENDS_WITH_HYPHEN, filled)), n_lines),
        "page_number_line_fraction": _ratio(_count_matches(_PAGE_NUMBER.match, filled),
                                            n_lines),
        "repeated_line_fraction": _ratio(repeated, n_lines),
    }


def _count_matches(matcher: Callable[[str], re.Match[str] | None], lines: Iterable[str]) -> int:
    """How many of `lines` a regex method (`match`, `search`) matches: the loop is `map`'s."""
    return sum(1 for _ in filter(None, map(matcher, lines)))


def _ratio(part: float, whole: float) -> float:
    return round(part / whole, 6) if whole else 0.0
