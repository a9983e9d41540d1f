"""Bytes of a real-world text file to clean Unicode, with the decision kept for the meta.

Books arrive as UTF-8 (with or without BOM), Windows-1252 (Project Gutenberg's classic
files), Latin-1 or UTF-16. The stdlib heuristic below is deliberate: the common Western
cases are decided by byte facts (BOMs, NUL patterns, UTF-8 validity, the 0x80-0x9F range)
that are certain, where a statistical detector can mistake short cp1252 files for another
code page. Only text with many high bytes that no Western reading explains is handed to
`charset_normalizer` (when installed), because that is the case a byte model does serve.
"""

from __future__ import annotations

import codecs
import re
import unicodedata
from dataclasses import dataclass, field
from typing import Any

from longweave.sources.content import utf16_by_nul_pattern

# Bytes 0x80-0x9F that Windows-1252 leaves undefined; everything else in the range is a
# printable character there (0x85 is "…", 0x91-0x94 curly quotes, 0x97 an em dash).
_CP1252_UNDEFINED = frozenset(b"\x81\x8d\x8f\x90\x9d")
_UTF8_SEQUENCE = re.compile(
    rb"[\xc2-\xdf][\x80-\xbf]|\xe0[\xa0-\xbf][\x80-\xbf]|[\xe1-\xec\xee\xef][\x80-\xbf]{2}"
    rb"|\xed[\x80-\x9f][\x80-\xbf]|\xf0[\x90-\xbf][\x80-\xbf]{2}|[\xf1-\xf3][\x80-\xbf]{3}"
    rb"|\xf4[\x80-\x8f][\x80-\xbf]{2}"
)
_HIGH_BYTES = bytes(range(0x80, 0x100))
_CP1252_UNDEFINED_BYTE = re.compile(rb"[\x81\x8d\x8f\x90\x9d]")
_BOMS: tuple[tuple[bytes, str], ...] = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),  # before UTF-16 LE: it starts with the same bytes
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)
_C1 = re.compile("[\u0080-\u009f]")
# C1 characters that only a mis-decoded Windows-1252 file contains (curly quotes, dashes, ...).
_CP1252_SIGNATURE = re.compile("[\u0080\u0082-\u0084\u0086-\u008c\u008e\u0091-\u009c\u009e\u009f]")
_OTHER_CONTROLS = re.compile("[\x00-\x08\x0b\x0e-\x1f\x7f\ufeff]")
# The same characters as UTF-8: C1 is C2 80-9F; the ASCII controls are themselves.
_C1_UTF8 = re.compile(rb"\xc2[\x80-\x9f]")
_OTHER_CONTROL_BYTES = bytes([*range(0x00, 0x09), 0x0B, *range(0x0E, 0x20), 0x7F])
_BOM_UTF8 = "\ufeff".encode()


@dataclass
class Decoded:
    """Decoded, normalised text and how it was decided (for `meta["encoding"]`)."""

    text: str
    encoding: str
    method: str
    confidence: float
    details: dict[str, Any] = field(default_factory=dict)

    def meta(self) -> dict[str, Any]:
        return {"name": self.encoding, "method": self.method,
                "confidence": round(self.confidence, 3), **self.details}


def detect_encoding(raw: bytes) -> tuple[str, str, float]:
    """(codec name, method, confidence) for `raw`, decided from byte facts first."""
    for bom, name in _BOMS:
        if raw.startswith(bom):
            return name, "bom", 1.0
    utf16 = utf16_by_nul_pattern(raw[:8192])
    if utf16:
        return utf16, "nul-pattern", 0.9
    high = _count_high(raw)
    if high == 0:
        return "utf-8", "ascii", 1.0
    try:
        raw.decode("utf-8")
        return "utf-8", "strict-utf-8", 0.99
    except UnicodeDecodeError:
        pass
    in_sequences = sum(len(m) for m in _UTF8_SEQUENCE.findall(raw))
    if in_sequences >= 0.9 * high:
        return "utf-8", "mostly-utf-8", in_sequences / high
    guess = _statistical_guess(raw, high)
    if guess:
        return guess, "charset-normalizer", 0.7
    if _CP1252_UNDEFINED_BYTE.search(raw):
        return "cp1252", "single-byte-with-undefined", 0.5
    if re.search(rb"[\x80-\x9f]", raw):
        return "cp1252", "c1-bytes-are-cp1252", 0.9
    return "iso-8859-1", "single-byte", 0.8


def _count_high(raw: bytes) -> int:
    return len(raw) - len(raw.translate(None, _HIGH_BYTES))


def _statistical_guess(raw: bytes, high: int) -> str | None:
    """Ask charset_normalizer only when high bytes dominate (likely a non-Latin script)."""
    sample = raw[:65536]
    sample_high = _count_high(sample)
    letters = sample_high + sum(1 for byte in sample if chr(byte).isalpha())
    if not letters or sample_high / letters < 0.3:
        return None
    try:
        from charset_normalizer import from_bytes
    except ImportError:
        return None
    best = from_bytes(raw[:65536]).best()
    if best is None or best.encoding in ("utf_8", "ascii"):
        return None
    return codecs.lookup(best.encoding).name


def decode_bytes(raw: bytes, encoding: str | None = None) -> Decoded:
    """Decode and normalise `raw`; never raises for bad bytes (they become U+FFFD)."""
    if encoding:
        name, method, confidence = codecs.lookup(encoding).name, "forced", 1.0
    else:
        name, method, confidence = detect_encoding(raw)
        name = codecs.lookup(name).name
    body = raw
    for bom, bom_codec in _BOMS:
        if codecs.lookup(bom_codec).name == name and raw.startswith(bom):
            body = raw[len(bom):]
            break
    text = body.decode(name, errors="replace")
    replaced = text.count("\ufffd") - _count_fffd_in_source(body, name)
    text, details = normalise_text(text)
    if replaced:
        details["replaced_bytes"] = replaced
    return Decoded(text=text, encoding=name, method=method, confidence=confidence,
                   details=details)


def _count_fffd_in_source(body: bytes, name: str) -> int:
    """U+FFFD already present in a UTF-8 file is text, not a decoding failure."""
    return body.count("\ufffd".encode()) if name == "utf-8" else 0


def normalise_text(text: str) -> tuple[str, dict[str, Any]]:
    """One newline convention, repaired C1 characters, no stray controls, Unicode NFC.

    C1 characters (U+0080-U+009F) in decoded text come from a Windows-1252 file read as
    Latin-1: when the tell-tale ones (curly quotes, dashes) occur, all are mapped back to
    their Windows-1252 meaning, so U+0085 becomes "…". Alone, U+0085 is the Unicode NEL
    line break and becomes a newline.
    """
    details: dict[str, Any] = {}
    # Which characters occur is asked of the UTF-8 bytes (a fast byte scan): a regex
    # character class over the text tries every position, and most books hold none of them.
    encoded = text.encode("utf-8", "surrogatepass")
    has_c1 = _C1_UTF8.search(encoded) is not None
    if has_c1 and _CP1252_SIGNATURE.search(text):
        repaired = _C1.sub(_c1_as_cp1252, text)
        details["c1_repaired"] = sum(1 for _ in _C1.finditer(text))
        text = repaired
        has_c1 = False  # every C1 character was mapped to its Windows-1252 meaning
    details["line_endings"] = line_ending_style(text)
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    if has_c1 or "\u2028" in text or "\u2029" in text:
        text = re.sub("[\u0085\u2028\u2029]", "\n", text)
    if has_c1:
        text = re.sub("[\u0080-\u009f]", "", text)  # undefined C1 bytes carry no text
    text = text.replace("\x0c", "\n")  # form feed: a page break, keep it as a line break
    # no step above adds or removes one of these controls, so the input's bytes tell
    if _has_other_controls(encoded):
        text = _OTHER_CONTROLS.sub("", text)
    text = unicodedata.normalize("NFC", text)
    return text, details


def _has_other_controls(encoded: bytes) -> bool:
    """Does the UTF-8 `encoded` hold a character `_OTHER_CONTROLS` removes? (ASCII controls
    are single bytes in UTF-8, U+FEFF is EF BB BF: no other character contains them.)"""
    return (len(encoded.translate(None, _OTHER_CONTROL_BYTES)) != len(encoded)
            or _BOM_UTF8 in encoded)


def _c1_as_cp1252(match: re.Match[str]) -> str:
    code = ord(match.group())
    if code in _CP1252_UNDEFINED:
        return ""
    return bytes([code]).decode("cp1252")


def line_ending_style(text: str) -> str:
    """The newline convention of `text`: crlf, lf, cr, nel, none or mixed."""
    crlf = text.count("\r\n")
    counts = {
        "crlf": crlf,
        "cr": text.count("\r") - crlf,
        "lf": text.count("\n") - crlf,
        "nel": text.count("\u0085"),
    }
    used = [name for name, n in counts.items() if n]
    if not used:
        return "none"
    if len(used) == 1:
        return used[0]
    top = max(counts.values())
    # A stray LF at the very end of a CRLF file is still a CRLF file.
    return max(counts, key=counts.__getitem__) if top >= 0.99 * sum(counts.values()) else "mixed"
