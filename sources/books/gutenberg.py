"""Project Gutenberg files: the book between the START and END markers, and its catalogue facts.

Markers changed over three decades: 1990s files end their header with
`*END*THE SMALL PRINT! ...*END*`; 2000s files use `***START OF THIS PROJECT GUTENBERG
EBOOK X***`; current files `*** START OF THE PROJECT GUTENBERG EBOOK X ***`, sometimes
indented, and some files lose their END marker. All patterns work on one stripped line.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

_PG = r"PROJECT\s+GUTENBERG(?:'S|’S)?"
_START_MARKERS = (
    re.compile(rf"^\**\s*START\s+OF\s+(?:THE|THIS)\s+(?:COPYRIGHTED\s+)?{_PG}\s+E-?(?:BOOK|TEXT)"
               r"(?P<title>.*?)\**$", re.I),
    re.compile(r"^\*+\s*END[\s*]*THE\s+SMALL\s+PRINT", re.I),  # also "*END THE SMALL PRINT"
    # World Library's Shakespeare (1990s): the small print opens and closes with this line.
    re.compile(r"^\*+\s*SMALL\s+PRINT!\s+FOR\s+(?:_+\s+)?COMPLETE\s+SHAKESPEARE\s*\*+$", re.I),
)
_END_MARKERS = (
    re.compile(rf"^\**\s*END\s+OF\s+(?:THE|THIS)\s+(?:COPYRIGHTED\s+)?{_PG}\s+E-?(?:BOOK|TEXT)",
               re.I),
    re.compile(rf"^End\s+of\s+(?:the\s+|this\s+)?{_PG}", re.I),
    re.compile(r"^End\s+of\s+(?:the\s+|this\s+)E-?text\s+of\b", re.I),
    re.compile(r"^\**\s*START:\s*FULL\s+LICEN[SC]E", re.I),
    re.compile(rf"^THE\s+FULL\s+{_PG}\s+LICEN[SC]E", re.I),
)
# The lines a marker can be on: every marker pattern, on the stripped line, opens with `*`
# or (case-insensitively, as the patterns match) START, END or THE. Found by one scan led by
# the literal newline (the first line checked apart), so the other lines of a book are never
# split, stripped and tried one by one in Python.
_MARKER_LINE_HEAD = r"[^\S\n]*(?:\*|start|end|the)"
_MARKER_FIRST_LINE = re.compile(_MARKER_LINE_HEAD, re.I)
_MARKER_LINE = re.compile("\n" + _MARKER_LINE_HEAD, re.I)
_FIELDS = {
    "title": re.compile(r"^Title:\s*(.+)$", re.I),
    "author": re.compile(r"^Authors?:\s*(.+)$", re.I),
    "language": re.compile(r"^Language:\s*(.+)$", re.I),
    "release_date": re.compile(r"^(?:Release|Posting)\s+Date:\s*(.+)$", re.I),
    "updated": re.compile(r"^Most\s+recently\s+updated:\s*(.+)$", re.I),
}
_EBOOK_NUMBER = re.compile(r"\[\s*E-?(?:Book|text)\s*#\s*(\d+)\s*\]", re.I)
_FIRST_LINE = re.compile(
    rf"{_PG}\s+E-?(?:Book|text)\s+of\s+(?P<title>.+?)(?:,\s+by\s+(?P<author>.+?))?\**$", re.I)
_PRODUCTION_NOTE = re.compile(
    r"^(?:Produced\s+by|E-?text\s+prepared\s+by|This\s+(?:Project\s+Gutenberg\s+)?e-?(?:text|book)"
    r"\s+was\s+(?:produced|prepared|created)|Transcribed\s+(?:from|by)|Prepared\s+by|"
    r"Updated\s+editions\s+will\s+replace|Note:\s+Project\s+Gutenberg\s+also\s+has|"
    r"THIS\s+EBOOK\s+WAS\s+ONE\s+OF\s+PROJECT\s+GUTENBERG|\[Portions\s+of\s+this\s+header|"
    r"\[Project\s+Gutenberg\s+is\s+a\s+TradeMark|Project\s+Gutenberg(?:'s)?\s+E-?text\s+of\b|"
    r"\[\"Small\s+Print\"\s+V\.)",
    re.I)
# A license notice repeated inside the body of World Library's Shakespeare files.
_INLINE_NOTICE = re.compile(r"<<THIS ELECTRONIC VERSION OF THE COMPLETE WORKS.*?>>[ \t]*\n?",
                            re.S)
_WORD_CHAR = re.compile(r"\w")
# "Transcriber's Note", also boxed ("| ...", "● ...") or qualified ("Original Transcriber's
# Notes:", "Additional ...", "Etext ...").
_TRANSCRIBER = re.compile(
    r"^[\[|●•*\s]*(?:(?:Original|Additional|Further|Extended|E-?text|Editor'?s?\s+and)\s+)?"
    r"(?:Transcribers?|Project\s+Gutenberg\s+Editor|Executive\s+Director)['’]?s?\s+Notes?\b",
    re.I)


@dataclass
class GutenbergBook:
    """The body between the markers and what the header says about it."""

    body: str
    meta: dict[str, Any] = field(default_factory=dict)
    start_marker: str | None = None
    end_marker: str | None = None


def looks_like_gutenberg(text: str) -> bool:
    """A Gutenberg file names the project in its header or carries a marker."""
    head = text[:5000]
    return "gutenberg" in head.lower() or _find_markers(text)[0] != []


def _find_markers(text: str) -> tuple[list[tuple[int, int, str]], list[tuple[int, int, str]]]:
    """(start, end) marker hits as (line start offset, line end offset, stripped line)."""
    starts: list[tuple[int, int, str]] = []
    ends: list[tuple[int, int, str]] = []
    first = [0] if _MARKER_FIRST_LINE.match(text) else []
    for offset in [*first, *(found.start() + 1 for found in _MARKER_LINE.finditer(text))]:
        line_end = text.find("\n", offset)
        line_end = len(text) if line_end == -1 else line_end
        stripped = text[offset:line_end].strip()
        if stripped[:1] in ("*", "S", "s", "E", "e", "T", "t"):
            if any(p.match(stripped) for p in _START_MARKERS):
                starts.append((offset, line_end, stripped))
            elif any(p.match(stripped) for p in _END_MARKERS):
                ends.append((offset, line_end, stripped))
    return starts, ends


def strip_gutenberg(text: str) -> GutenbergBook:
    """Cut the header and license footer; read title, author, language, dates, number.

    The body runs from the line after the last START marker that precedes the first END
    marker, up to that END marker (or the end of the text when the END marker is missing).
    """
    starts, ends = _find_markers(text)
    start_hit = None
    end_hit = None
    first_start = starts[0][0] if starts else 0
    following_ends = [hit for hit in ends if hit[0] >= first_start]
    if following_ends:
        end_hit = following_ends[0]
    before_end = [hit for hit in starts if end_hit is None or hit[0] < end_hit[0]]
    if before_end:
        start_hit = before_end[-1]
    body_start = start_hit[1] + 1 if start_hit else 0
    body_end = end_hit[0] if end_hit else len(text)
    header = text[:start_hit[0]] if start_hit else text[:3000]
    meta = parse_header(header)
    if "title" not in meta and start_hit:
        title = _START_MARKERS[0].match(start_hit[2])
        if title and title.group("title").strip(" *"):
            meta["title"] = title.group("title").strip(" *").title()
    return GutenbergBook(
        body=text[body_start:body_end] if body_start <= body_end else "",
        meta=meta,
        start_marker=start_hit[2] if start_hit else None,
        end_marker=end_hit[2] if end_hit else None,
    )


def parse_header(header: str) -> dict[str, Any]:
    """Catalogue facts from a Gutenberg header (field lines, with continuation lines)."""
    meta: dict[str, Any] = {}
    lines = header.split("\n")
    for index, line in enumerate(lines):
        stripped = line.strip()
        for name, pattern in _FIELDS.items():
            match = pattern.match(stripped)
            if match and name not in meta:
                value = match.group(1).strip()
                if name == "title":
                    value = _with_continuations(value, lines[index + 1:])
                meta[name] = value
    if "release_date" in meta:
        meta["release_date"] = _EBOOK_NUMBER.sub("", meta["release_date"]).strip(" ,")
    number = _EBOOK_NUMBER.search(header)
    if number:
        meta["ebook_number"] = int(number.group(1))
    first = next((line.strip(" *\t") for line in lines if line.strip()), "")
    match = _FIRST_LINE.search(first)
    if match:
        meta.setdefault("title", match.group("title").strip(" ,"))
        if match.group("author"):
            meta.setdefault("author", match.group("author").strip(" ,*"))
    return meta


def _with_continuations(value: str, following: list[str]) -> str:
    """A long title wraps onto indented lines that carry no `Field:` of their own."""
    parts = [value]
    for line in following:
        if not line.strip() or not line[:1].isspace() or re.match(r"^\s*\w[\w ]*:", line):
            break
        parts.append(line.strip())
    return " ".join(parts)


def drop_production_notes(body: str, front_chars: int = 4000) -> tuple[str, int]:
    """Remove "Produced by" credits and transcriber's notes, which are not the book.

    Credits are dropped as whole paragraphs near the start, the license notices that old
    files repeat inside the text wherever they are. A transcriber's note is a
    bracketed block (dropped up to its closing bracket) or a heading: in the back half of
    the book everything from it on is notes; in the front, it runs to the next wide gap.
    Returns the text and how many characters were dropped.
    """
    original = body
    body = _INLINE_NOTICE.sub("", body)
    paragraphs = _paragraphs(body)
    starts = [start for start, _ in paragraphs]
    removed: list[tuple[int, int]] = []

    def next_start(position: int) -> int:
        return next((s for s in starts if s >= position), len(body))

    for start, end in paragraphs:
        if removed and start < removed[-1][1]:
            continue
        first_line = _first_worded_line(body, start, end)  # past a rule of asterisks
        if start < front_chars and _PRODUCTION_NOTE.match(first_line):
            removed.append((start, next_start(end)))
        elif _TRANSCRIBER.match(first_line):
            if first_line.lstrip().startswith("["):
                close = body.find("]", start)
                removed.append((start, next_start(close + 1 if close != -1 else end)))
            elif start > len(body) / 2:
                removed.append((start, len(body)))
                break
            else:
                gap = body.find("\n\n\n\n", end)
                stop = gap if gap != -1 and gap - start < 6000 else end
                removed.append((start, next_start(stop)))
    if not removed:
        return body, len(original) - len(body)
    pieces: list[str] = []
    position = 0
    for start, stop in removed:
        pieces.append(body[position:start])
        position = stop
    pieces.append(body[position:])
    cleaned = "".join(pieces)
    return cleaned, len(original) - len(cleaned)


def _first_worded_line(text: str, start: int, end: int) -> str:
    """The first line of `text[start:end]` holding a word character, stripped ("" if none).

    Read line by line from the start: a paragraph is not split whole to look at its head."""
    while start < end:
        stop = text.find("\n", start, end)
        stop = end if stop == -1 else stop
        if _WORD_CHAR.search(text, start, stop):
            return text[start:stop].strip()
        start = stop + 1
    return ""


def _paragraphs(text: str) -> list[tuple[int, int]]:
    """(start, end) of each blank-line separated block, end exclusive of the newline."""
    return [(m.start(), m.end()) for m in re.finditer(r"[^\n]*\S[^\n]*(?:\n[^\n]*\S[^\n]*)*",
                                                        text)]
