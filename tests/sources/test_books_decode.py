"""Encoding detection and text normalisation for books (sources/books/decode.py)."""

from __future__ import annotations

import codecs
import random

import pytest

from longweave.sources.books.decode import (
    decode_bytes,
    detect_encoding,
    line_ending_style,
    normalise_text,
)

SAMPLE = "Café déjà vu: “quoted” — naïve façade.\nSecond line, with an ellipsis…\n"


def test_utf8_with_and_without_bom() -> None:
    plain = decode_bytes(SAMPLE.encode("utf-8"))
    with_bom = decode_bytes(codecs.BOM_UTF8 + SAMPLE.encode("utf-8"))
    assert plain.text == with_bom.text == SAMPLE
    assert plain.method == "strict-utf-8"
    assert with_bom.method == "bom"
    assert not with_bom.text.startswith("\ufeff")


@pytest.mark.parametrize("codec", ["utf-16", "utf-16-le", "utf-16-be"])
def test_utf16_with_bom_or_by_nul_pattern(codec: str) -> None:
    raw = SAMPLE.encode(codec)
    decoded = decode_bytes(raw)
    assert decoded.text == SAMPLE
    assert decoded.encoding.startswith("utf-16")
    assert decoded.method == ("bom" if codec == "utf-16" else "nul-pattern")


def test_windows_1252_ellipsis_byte_is_an_ellipsis_not_a_line_break() -> None:
    raw = "He paused\x85 then said \x93yes\x94.\r\nNext line.\r\n".encode("latin-1")
    decoded = decode_bytes(raw)
    assert decoded.encoding == "cp1252"
    assert decoded.text == "He paused… then said “yes”.\nNext line.\n"
    assert decoded.meta()["line_endings"] == "crlf"


def test_latin1_misdecoded_cp1252_is_repaired() -> None:
    raw = "Wait\x85 it\x92s \x93here\x94".encode("latin-1")
    decoded = decode_bytes(raw, encoding="latin-1")  # the classic wrong guess
    assert "\u0085" not in decoded.text
    assert decoded.text == "Wait… it’s “here”"
    assert decoded.details["c1_repaired"] == 4


def test_lone_nel_is_a_line_break() -> None:
    text, details = normalise_text("first\u0085second\u0085third")
    assert text == "first\nsecond\nthird"
    assert details["line_endings"] == "nel"


def test_pure_latin1_without_c1_bytes() -> None:
    decoded = decode_bytes("garçon à la crème".encode("latin-1"))
    assert decoded.text == "garçon à la crème"
    assert decoded.encoding == "iso8859-1"


def test_line_endings_and_nfc() -> None:
    text, details = normalise_text("e\u0301te\r\nold mac\rline\n")
    assert text == "\u00e9te\nold mac\nline\n"
    assert details["line_endings"] == "mixed"
    assert line_ending_style("a\r\nb\r\n") == "crlf"
    assert line_ending_style("no breaks") == "none"


def test_controls_are_removed_and_form_feed_breaks_a_line() -> None:
    text, _ = normalise_text("page one\x0cpage\x00 two\x07")
    assert text == "page one\npage two"


def test_mostly_utf8_with_a_stray_byte_stays_utf8() -> None:
    raw = ("Ünïcödé text " * 50).encode("utf-8") + b"\xff tail"
    decoded = decode_bytes(raw)
    assert decoded.encoding == "utf-8"
    assert decoded.method == "mostly-utf-8"
    assert decoded.details["replaced_bytes"] == 1
    assert decoded.text.startswith("Ünïcödé")


def test_random_bytes_never_raise() -> None:
    rng = random.Random(7)
    for _ in range(30):
        raw = bytes(rng.randrange(256) for _ in range(rng.randrange(0, 400)))
        decoded = decode_bytes(raw)
        assert isinstance(decoded.text, str)
        assert not any("\u0080" <= c <= "\u009f" for c in decoded.text)


def test_detect_ascii() -> None:
    assert detect_encoding(b"plain ascii\n") == ("utf-8", "ascii", 1.0)


def test_non_latin_single_byte_text_goes_to_the_statistical_detector() -> None:
    pytest.importorskip("charset_normalizer")
    text = ("Всё смешалось в доме Облонских. Жена узнала, что муж был в связи с бывшею "
            "в их доме француженкою-гувернанткой.\n") * 3
    decoded = decode_bytes(text.encode("cp1251"))
    assert decoded.method == "charset-normalizer"
    assert decoded.text == text


def _normalised_step_by_step(text: str) -> tuple[str, dict]:
    """`normalise_text` as defined: every step run whether or not it can change the text."""
    import re
    import unicodedata

    from longweave.sources.books.decode import (
        _C1,
        _CP1252_SIGNATURE,
        _OTHER_CONTROLS,
        _c1_as_cp1252,
    )

    details: dict = {}
    if _C1.search(text) and _CP1252_SIGNATURE.search(text):
        details["c1_repaired"] = len(_C1.findall(text))
        text = _C1.sub(_c1_as_cp1252, text)
    details["line_endings"] = line_ending_style(text)
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = re.sub("[\u0085\u2028\u2029]", "\n", text)
    text = re.sub("[\u0080-\u009f]", "", text)
    text = _OTHER_CONTROLS.sub("", text.replace("\x0c", "\n"))
    return unicodedata.normalize("NFC", text), details


@pytest.mark.parametrize("text", [
    "", "plain ascii\r\n", "\x85", "a\x85b\u2028c\u2029d", "\x81\x8d undefined only",
    "\x93quoted\x94 and \x81", "\ufeffbom\x00nul\x0bvt\x1fus\x7fdel\x0cff", "\ud800\x85lone",
    "e\u0301 combining", "\r\n\r\x85\u2028", "\xa0nbsp \xc2 not c1", SAMPLE,
])
def test_normalise_text_skips_only_steps_that_change_nothing(text: str) -> None:
    assert normalise_text(text) == _normalised_step_by_step(text)


def test_normalise_text_on_real_books_read_both_ways() -> None:
    from tests.conftest import shared_book_paths

    books = shared_book_paths()
    for path in books:
        for codec in ("cp1252", "latin-1"):  # latin-1 leaves the C1 characters to repair
            text = path.read_bytes().decode(codec)
            assert normalise_text(text) == _normalised_step_by_step(text), (path.name, codec)
