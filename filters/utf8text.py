"""A text as the UTF-8 bytes of its case-folded form, with the few non-ASCII characters
located: what exact dedup and word hashing read, in numpy.

Why bytes: real texts (Gutenberg books, code) are nearly all ASCII with a few curly quotes
or accents. As UTF-32 they cost four bytes a character and a Python `str.lower()` over a
wide string; as UTF-8 they cost one, ASCII folds by `bytes.lower` and is classified by
`bytes.translate`, and only the few distinct non-ASCII characters are looked at one by
one (`str.isalnum`, `str.isspace` on each), so no 1.1 M-entry code-point table is built
in every worker.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

Fold = Callable[[str], str]  # str.lower or str.casefold

_ASCII_WORD = bytes(1 if c < 128 and (chr(c).isalnum() or c == 0x5F) else 0
                    for c in range(256))  # `bytes.translate` table: 1 where `\\w` matches
_ASCII_SPACE = bytes(1 if c < 128 and chr(c).isspace() else 0 for c in range(256))
_CONTEXTUAL = {0x03A3}  # Σ: `str.lower` of a text picks σ or ς by context, so a text
# holding it is folded by Python as a whole


@dataclass(frozen=True)
class Utf8Text:
    """`data`: the folded text's UTF-8 bytes (`codes`: the same as uint8); `leads`: where
    each non-ASCII character starts in them, `widths` its byte count; its code point is
    `distinct[inverse]` (distinct values, each asked about once)."""

    data: bytes
    codes: np.ndarray
    leads: np.ndarray
    widths: np.ndarray
    distinct: np.ndarray
    inverse: np.ndarray

    @property
    def points(self) -> np.ndarray:
        """The code point of every non-ASCII character, in order."""
        return self.distinct[self.inverse]

    def word_flags(self) -> np.ndarray:
        """One flag (0 or 1, int8) per byte plus a 0 before and after: inside a character
        Python's `\\w` matches (ASCII letters, digits and `_`; elsewhere what
        `str.isalnum` accepts, as `re` itself decides)."""
        return self._char_flags(_ASCII_WORD, str.isalnum)

    def space_flags(self) -> np.ndarray:
        """As `word_flags`, for the characters `str.isspace` (and `str.split`) accepts."""
        return self._char_flags(_ASCII_SPACE, str.isspace)

    def _char_flags(self, ascii_table: bytes, wide: Callable[[str], bool]) -> np.ndarray:
        """`ascii_table` for ASCII bytes (`bytes.translate`: no index arrays), then
        `wide(character)` on every byte of a non-ASCII character (asked once per distinct
        character); padded with a 0 at either end, so runs start and end inside."""
        padded = (b"\0" + self.data + b"\0").translate(ascii_table)
        if not len(self.leads):
            return np.frombuffer(padded, dtype=np.int8)
        flags = np.frombuffer(bytearray(padded), dtype=np.int8)
        answer = np.array([wide(chr(c)) for c in self.distinct.tolist()],
                          dtype=np.int8)[self.inverse]
        for offset in range(4):
            inside = self.widths > offset
            flags[self.leads[inside] + offset + 1] = answer[inside]
        return flags


def normal_form(text: str) -> Utf8Text:
    """The one normal form exact dedup and word shingles read: NFKC, then case folding
    (so ligatures, full-width forms, ß/ss and letter case all compare equal)."""
    return folded_utf8(unicodedata.normalize("NFKC", text), str.casefold)


def folded_utf8(text: str, fold: Fold) -> Utf8Text:
    """`fold(text)` as UTF-8 bytes (lone surrogates kept as their 3-byte form), equal to
    `fold(text).encode("utf-8", "surrogatepass")`: ASCII by table, the non-ASCII characters
    by a map of the distinct ones; a character whose fold changes its byte length (ß -> ss,
    K -> k) or depends on context sends the text through `fold` itself."""
    data = text.encode("utf-8", "surrogatepass").lower()  # bytes.lower: A-Z only, as both
    # folds do on ASCII; the bytes of other characters stay
    if text.isascii():
        empty = np.empty(0, dtype=np.int64)
        return Utf8Text(data, np.frombuffer(data, dtype=np.uint8), empty, empty,
                        empty.astype(np.uint32), empty)
    codes = np.frombuffer(data, dtype=np.uint8)
    leads, widths, distinct, inverse = _decode_wide(codes)
    folded = [fold(chr(c)) for c in distinct.tolist()]
    if any(len(f) != 1 or (c in _CONTEXTUAL and fold is str.lower) or
           _utf8_width(ord(f)) != _utf8_width(c)
           for c, f in zip(distinct.tolist(), folded, strict=True)):
        return _decoded(fold(text).encode("utf-8", "surrogatepass"))
    target = np.array([ord(f) for f in folded], dtype=np.uint32)
    moved = target != distinct
    if moved.any():
        codes = np.frombuffer(bytearray(data), dtype=np.uint8)
        changes = moved[inverse]
        _write_utf8(codes, leads[changes], widths[changes], target[inverse[changes]])
        data = codes.tobytes()
    return Utf8Text(data, codes, leads, widths, target, inverse)  # target may repeat a value


def _decoded(data: bytes) -> Utf8Text:
    codes = np.frombuffer(data, dtype=np.uint8)
    return Utf8Text(data, codes, *_decode_wide(codes))


def _utf8_width(point: int) -> int:
    return 1 if point < 0x80 else 2 if point < 0x800 else 3 if point < 0x10000 else 4


def _decode_wide(codes: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Start and byte count of every non-ASCII character of valid UTF-8, and their code
    points as distinct values and the index of each character's."""
    leads = np.flatnonzero(codes >= 0xC0)
    first = codes[leads].astype(np.uint32)
    widths = np.where(first >= 0xF0, 4, np.where(first >= 0xE0, 3, 2))
    points = first & np.where(widths == 2, 0x1F, np.where(widths == 3, 0x0F, 0x07)).astype(
        np.uint32)
    for offset in (1, 2, 3):
        inside = widths > offset
        follow = codes[np.minimum(leads + offset, len(codes) - 1)].astype(np.uint32) & 0x3F
        points = np.where(inside, (points << 6) | follow, points)
    distinct, inverse = np.unique(points, return_inverse=True)
    return leads, widths, distinct, inverse


def _write_utf8(codes: np.ndarray, leads: np.ndarray, widths: np.ndarray,
                points: np.ndarray) -> None:
    """Overwrite characters in place with `points` of the same UTF-8 byte count."""
    for width, marker in ((2, 0xC0), (3, 0xE0), (4, 0xF0)):
        where = widths == width
        at, value = leads[where], points[where]
        codes[at] = marker | (value >> (6 * (width - 1)))
        for offset in range(1, width):
            codes[at + offset] = 0x80 | ((value >> (6 * (width - 1 - offset))) & 0x3F)
