"""Chapter and section boundaries, as contiguous `chapter:<title>` spans over a book's text.

The packer splits an over-long book at these boundaries and the synthesizer cites them, so
a wrong boundary costs little but a table of contents read as forty chapters costs a lot:
headings that sit densely together are a contents list and are dropped, a pair of them
("PART ONE" then "Chapter I") is one boundary.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from longweave.schemas.document import Span
from longweave.schemas.spans import chapter_label
from longweave.sources.books.contents import contents_titles

FRONT_MATTER = "(front matter)"
TOC_GAP_CHARS = 150  # non-space characters between headings below which they are one run
MERGE_GAP_CHARS = 40  # at most this much (an epigraph's attribution, a rule) between a pair
MAX_HEADING_CHARS = 100

_UNITS = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
          "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen",
          "eighteen", "nineteen"]
_TENS = {"twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70,
         "eighty": 80, "ninety": 90}
_ORDINALS = ["zeroth", "first", "second", "third", "fourth", "fifth", "sixth", "seventh",
             "eighth", "ninth", "tenth", "eleventh", "twelfth", "thirteenth", "fourteenth",
             "fifteenth", "sixteenth", "seventeenth", "eighteenth", "nineteenth"]
_WORD_VALUES = {**{w: i for i, w in enumerate(_UNITS)}, **{w: i for i, w in enumerate(_ORDINALS)},
                **_TENS, "twentieth": 20, "thirtieth": 30, "fortieth": 40, "fiftieth": 50}
_WORD = "|".join(sorted(_WORD_VALUES, key=len, reverse=True))
_NUMBER = (rf"(?:[IVXLCDM]+|\d{{1,4}}|(?:the\s+)?(?:{_WORD})(?:[-\s](?:{_WORD}))?)")
_KEYWORD = re.compile(
    rf"^(?P<kw>CHAPTER|Chapter|CHAP\.?|Chap\.?|BOOK|Book|PART|Part|VOLUME|Volume|STAVE|Stave|"
    rf"LETTER|Letter|SECTION|Section|CANTO|Canto|ACT|Act|SCENE|Scene)\s+(?P<num>{_NUMBER})\b[.:]?"
    r"(?:(?:\s*(?:--|[-—–:.])\s*|\s+)(?P<rest>\S.*?))?$", re.I)  # "I--_Title_", "I—TITLE"
_KEYWORD_CASE = re.compile(r"^[A-Z]")
_BARE = re.compile(r"^(?P<num>[IVXLCDM]+|\d{1,3})(?:\.?|\.\s+(?P<rest>[^a-z]+?))$")
_NAMED = re.compile(r"^(?:PROLOGUE|EPILOGUE|PREFACE|INTRODUCTION|CONCLUSION|AFTERWORD|FOREWORD|"
                    r"Prologue|Epilogue|Preface|Introduction|Conclusion|Afterword|Foreword)\.?$")
_ROMAN = re.compile(r"^M{0,3}(?:CM|CD|D?C{0,3})(?:XC|XL|L?X{0,3})(?:IX|IV|V?I{0,3})$")
_ROMAN_VALUES = {"I": 1, "V": 5, "X": 10, "L": 50, "C": 100, "D": 500, "M": 1000}
_SMALL_WORDS = {"a", "an", "and", "as", "at", "by", "for", "from", "in", "into", "of", "on",
                "or", "the", "to", "with", "without", "upon", "s"}
_PAGE_MARK = re.compile(r"^\[\s*(?:Pg|Page|p\.)\s*[\dIVXLCivxlc]+\s*\]$")
_PARAGRAPH = re.compile(r"[^\n]*\S[^\n]*(?:\n[^\n]*\S[^\n]*)*")
_SPACE = re.compile(r"\s+")


@dataclass(frozen=True)
class Heading:
    """A chapter heading: where it starts and ends in the text, its title, its number."""

    start: int
    end: int
    label: str
    number: int | None = None

    @property
    def key(self) -> str:
        return str(self.number) if self.number is not None else self.label.lower()


def number_value(token: str) -> int | None:
    """'XIV' -> 14, '12' -> 12, 'the Twenty-first' -> 21; None if not a number."""
    token = token.strip().rstrip(".")
    if token.isdigit():
        return int(token)
    if token and _ROMAN.match(token):
        values = [_ROMAN_VALUES[c] for c in token]
        return sum(-v if i + 1 < len(values) and v < values[i + 1] else v
                   for i, v in enumerate(values))
    words = re.split(r"[-\s]+", token.lower().removeprefix("the").strip())
    if words and all(w in _WORD_VALUES for w in words):
        return sum(_WORD_VALUES[w] for w in words)
    return None


def is_title_like(line: str) -> bool:
    """A short line whose words are capitalised (small words aside): a chapter's title."""
    line = line.strip()
    if not line or len(line) > 80 or line[-1] in ",;" or line[0] in "\"'“‘(":
        return False
    words = re.findall(r"[^\W\d_][\w'’-]*", line)
    return bool(words) and all(w[0].isupper() or w.lower() in _SMALL_WORDS for w in words)


def find_headings(text: str) -> list[Heading]:
    """Chapter headings of a plain-text book, table-of-contents entries already removed.

    Keyword (CHAPTER IV), numeral (IV.) and named (PREFACE) headings, plus titles that the
    book's contents list names; all-caps front sections before the first of them.
    """
    paragraphs = [(m.start(), m.end()) for m in _PARAGRAPH.finditer(text)]
    candidates: list[Heading] = []
    last_bare: int | None = None
    for index, (start, end) in enumerate(paragraphs):
        if text.count("\n", start, end) >= 6 and not _PAGE_MARK.match(
                text[start:text.find("\n", start, end)].strip()):
            continue  # over six lines and no page mark on top to pop: a paragraph of prose
        lines = [line.strip() for line in text[start:end].split("\n")]
        while len(lines) > 1 and _PAGE_MARK.match(lines[0]):
            lines.pop(0)  # "[Pg 27]" above the heading: a page break of the print edition
        if len(lines) > 6 or any(len(line) > MAX_HEADING_CHARS for line in lines):
            continue
        first = lines[0].strip("[]_ ").strip()
        heading = _match_heading(first, lines[1:], last_bare)
        if heading is None:
            continue
        label, number, kind = heading
        heading_end = end
        if len(lines) == 1 and kind != "named" and index + 1 < len(paragraphs):
            title_start, title_end = paragraphs[index + 1]
            title = text[title_start:title_end].strip()
            if ("\n" not in title and not title.startswith("[") and is_title_like(title)
                    and text.count("\n", end, title_start) <= 4):
                label = f"{label.rstrip('.:')}. {title.rstrip('.')}"
                heading_end = title_end
        if kind == "bare":
            last_bare = number
        candidates.append(Heading(start, heading_end, label, number))
    for start, end, title in contents_titles(text, paragraphs):
        if not any(h.start <= start < h.end or start <= h.start < end for h in candidates):
            candidates.append(Heading(start, end, title))
    settled = settle_headings(text, candidates)
    if not settled:
        return settled
    front = front_sections(text, [p for p in paragraphs if p[1] <= settled[0].start])
    return sorted([*front, *settled], key=lambda h: h.start)


def front_sections(text: str, paragraphs: list[tuple[int, int]]) -> list[Heading]:
    """All-caps section headings before the first chapter (ETYMOLOGY., EXTRACTS.).

    Only a heading that real prose follows counts, so the title page, a dedication and
    the contents list (lines followed by more short lines) stay in the front matter,
    while a front section with a body of its own becomes its own span.
    """
    found: list[Heading] = []
    for index, (start, end) in enumerate(paragraphs):
        line = text[start:end].strip()
        if "\n" in line or not _is_caps_heading(line):
            continue
        following = paragraphs[index + 1:index + 3]
        bodies = [text[s:e] for s, e in following]
        if (len(bodies) == 2 and not _is_prose(bodies[0]) and len(bodies[0]) <= 120
                and not _is_caps_heading(bodies[0].strip())):
            bodies = bodies[1:]  # a subtitle line such as "(Supplied by a Sub-Sub-Librarian)."
        if bodies and _is_prose(bodies[0]):
            found.append(Heading(start, end, line))
    return found


_FRONT_LIST_WORDS = {"CONTENTS", "TABLE OF CONTENTS", "ILLUSTRATIONS", "LIST OF ILLUSTRATIONS",
                     "THE END", "FINIS", "INDEX"}


def _is_caps_heading(line: str) -> bool:
    """A short line whose letters (before any parenthesis) are all capitals."""
    head = line.split("(", 1)[0].strip(" .:_*[]")
    letters = [c for c in head if c.isalpha()]
    return (len(letters) >= 3 and len(line) <= 60 and all(c.isupper() for c in letters)
            and not line.endswith(",") and not head.startswith("BY ")
            and head.rstrip(".") not in _FRONT_LIST_WORDS)


def _is_prose(block: str) -> bool:
    """Running text: long enough, mostly lower case, with sentence punctuation."""
    letters = [c for c in block if c.isalpha()]
    lower = sum(1 for c in letters if c.islower())
    return (len(block.strip()) >= 150 and lower >= 0.6 * max(len(letters), 1)
            and bool(re.search(r"[.!?;,]", block)))


def _match_heading(first: str, rest_lines: list[str], last_bare: int | None
                   ) -> tuple[str, int | None, str] | None:
    """(label, number, kind) when `first` opens a heading paragraph; kind is keyword,
    bare (a numeral alone, accepted only in sequence) or named (PREFACE, EPILOGUE...)."""
    extra = " ".join(line for line in rest_lines if line)
    match = _KEYWORD.match(first)
    if match and _KEYWORD_CASE.match(match.group("kw")):
        rest = (match.group("rest") or "").lstrip("_")  # `_Title_`: Gutenberg's italics
        if rest and not (rest[0].isupper() or rest[0].isdigit()):
            return None
        label = first if not extra else f"{first.rstrip('.:')}. {extra}"
        return label, number_value(match.group("num")), "keyword"
    if len(rest_lines) > 2:
        return None
    match = _BARE.match(first)
    if match is None and not _NAMED.match(first):
        return None  # what follows could only return None: spare the title test
    if extra and not is_title_like(extra):
        return None
    if match:
        number = number_value(match.group("num"))
        in_sequence = number == 1 or (last_bare is not None and number == last_bare + 1)
        if number is None or not in_sequence:
            return None
        label = first if not extra else f"{first.rstrip('.:')}. {extra}"
        return label, number, "bare"
    if _NAMED.match(first) and not extra:
        return first.rstrip("."), None, "named"
    return None


def settle_headings(text: str, candidates: list[Heading], max_gap: int = TOC_GAP_CHARS,
                    drop_contents: bool = True) -> list[Heading]:
    """Group headings with less than `max_gap` non-space characters between them.

    With `drop_contents`, a run of 3+ is a table of contents and dropped, except its last
    heading when that repeats an earlier key of the run: the real first chapter right after
    its own contents list. In other runs, headings with next to nothing between them merge.
    """
    candidates = sorted(candidates, key=lambda h: h.start)
    runs: list[list[Heading]] = []
    for heading in candidates:
        if runs and _gap_below(text, runs[-1][-1].end, heading.start, max_gap):
            runs[-1].append(heading)
        else:
            runs.append([heading])
    settled: list[Heading] = []
    for run in runs:
        if drop_contents and len(run) >= 3:
            if run[-1].key in {h.key for h in run[:-1]}:
                settled.append(run[-1])
            continue
        settled.extend(_merge_adjacent(text, run))
    return settled


def _merge_adjacent(text: str, run: list[Heading]) -> list[Heading]:
    """Headings with (almost) nothing between them, like "PART ONE" then "Chapter I", are
    one boundary; a short chapter between two headings keeps them apart."""
    merged = [run[0]]
    for heading in run[1:]:
        last = merged[-1]
        if _gap_below(text, last.end, heading.start, MERGE_GAP_CHARS + 1):
            merged[-1] = Heading(last.start, heading.end, f"{last.label} / {heading.label}",
                                 heading.number)
        else:
            merged.append(heading)
    return merged


def headings_from_marked(text: str, marked: list[tuple[int, int, int, str]]) -> list[Heading]:
    """Chapters from markup headings (start, end, level, title), e.g. an EPUB's h1/h2.

    The chapter level is the highest level used at least twice (a lone h1 is usually the
    book's title); it and every higher level are boundaries, deeper levels are not. Markup
    is trusted: headings merge only when no text at all separates them.
    """
    levels = sorted({level for _, _, level, _ in marked})
    if not levels:
        return []
    repeated = [lv for lv in levels if sum(1 for m in marked if m[2] == lv) >= 2]
    chapter_level = repeated[0] if repeated else levels[0]
    candidates = []
    for start, end, level, title in marked:
        if level > chapter_level:
            continue
        match = _KEYWORD.match(title.split("\n", 1)[0].strip())
        number = number_value(match.group("num")) if match else None
        candidates.append(Heading(start, end, " ".join(title.split()), number))
    return settle_headings(text, candidates, max_gap=1, drop_contents=False)


def _gap_below(text: str, start: int, end: int, limit: int) -> bool:
    """Fewer than `limit` non-space characters in `text[start:end]`?

    The range between two headings is usually a whole chapter, so it is counted in growing
    prefixes: once a prefix holds `limit` the answer is no, without scanning the rest
    (non-space characters only add up, so a prefix's count never exceeds the range's)."""
    size = max(4 * limit, 256)
    while start < end:
        stop = min(end, start + size)
        if len(_SPACE.sub("", text[start:stop])) >= limit:
            return False
        if stop == end:
            break
        size *= 4
    return limit > 0


def chapter_spans(text: str, headings: Iterable[Heading]) -> list[Span]:
    """Contiguous spans from 0 to len(text): front matter (if any text), then one per heading."""
    ordered = sorted(headings, key=lambda h: h.start)
    if not ordered:
        return []
    spans: list[Span] = []
    if text[: ordered[0].start].strip():
        spans.append(Span(0, ordered[0].start, chapter_label(FRONT_MATTER)))
    for index, heading in enumerate(ordered):
        start = heading.start if spans else 0
        end = ordered[index + 1].start if index + 1 < len(ordered) else len(text)
        spans.append(Span(start, end, chapter_label(_clean_label(heading.label))))
    return spans


def _clean_label(label: str) -> str:
    """One-line label without Gutenberg's `_italic_` markers (a `snake_name` keeps its `_`)."""
    label = re.sub(r"(?<!\w)_+|_+(?!\w)", "", label)
    label = re.sub(r"\s+", " ", label).strip()
    return label[:120] if label else "untitled"
