"""What a grounded question is, and how a row's text is cut into the units families read.

A family finds questions in one row (a repository, a book, a trajectory) from structure
the readers recorded (file spans and the import graph, chapter spans, turn spans and
refer-back links). Each question carries its evidence spans, the span of its subject and
the facts its checker re-derives from the text alone, so a wrong answer is a Drop, never
a sample.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from itertools import accumulate
from typing import Any

from longweave.schemas.document import Document, Span
from longweave.schemas.meta import DEPENDENCY_EDGES
from longweave.schemas.spans import CHAPTER, FILE, TURN, label_value

MIN_LANGUAGE_FILES = 3  # a language with fewer files in a row gives a symbol index too little


@dataclass
class Grounded:
    """One question about a row, with offsets into the row's text."""

    family: str
    question: str
    answer: str  # the offline reference answer: it quotes every evidence span verbatim
    evidence: list[tuple[int, int]]  # [start, end) in the row's text, in reading order
    subject: tuple[int, int] | None = None  # where the thing asked about sits (code: a file)
    facts: dict[str, Any] = field(default_factory=dict)  # what the checker re-derives
    subject_name: str = ""  # the subject's name (a file path, a character): for audit
    keep: tuple[int, int] | None = None  # what a window must hold for the question to be
    # found again (default: every evidence span and the subject)

    def shifted(self, offset: int) -> Grounded:
        """The same question with offsets into a context that holds the row at `offset`."""
        def move(span: tuple[int, int] | None) -> tuple[int, int] | None:
            return None if span is None else (span[0] + offset, span[1] + offset)

        return Grounded(self.family, self.question, self.answer,
                        [(a + offset, b + offset) for a, b in self.evidence],
                        move(self.subject), self.facts, self.subject_name, move(self.keep))

    @property
    def extent(self) -> tuple[int, int]:
        """The span a window of the row must hold for this question to stay askable."""
        if self.keep is not None:
            return self.keep
        points = [p for span in self.evidence for p in span] + list(self.subject or ())
        return min(points), max(points)

    @property
    def anchor(self) -> int:
        """The evidence farthest from a question at the end: the sample's depth."""
        return min(a for a, _ in self.evidence)


@dataclass(frozen=True)
class Family:
    """A question family: which rows it reads, how it finds questions, how it checks one."""

    name: str
    needs: str  # the trait a row must have (see `row_traits`)
    find: Callable[[Document, int], list[Grounded]]  # (row, usable chars) -> questions
    check: Callable[[Document, Grounded], list[str]]  # problems; empty when the answer holds
    tail: bool = False  # asks about a row's end (an outcome): a window must keep the end


@dataclass(frozen=True)
class Unit:
    """A file, chapter or turn of a row: its label value and where its body lies."""

    name: str
    start: int  # span start (for a file: its header)
    body_start: int  # where the content starts (after a file's header line)
    end: int


def units(doc: Document, prefix: str, limit: int | None = None) -> list[Unit]:
    """The `prefix` spans of a row in order, ending at or before `limit` characters."""
    out = []
    for span in sorted(doc.spans_with_prefix(prefix), key=lambda s: s.start):
        if limit is not None and span.end > limit:
            continue
        name = label_value(span.label, prefix)
        body = span.start
        if prefix == FILE:  # the header line names the path; the content follows it
            at = doc.text.find(name, span.start, span.end)
            line_end = doc.text.find("\n", at if at >= 0 else span.start, span.end)
            body = line_end + 1 if line_end >= 0 else span.end
        out.append(Unit(name, span.start, body, span.end))
    return out


def files(doc: Document, limit: int | None = None) -> list[Unit]:
    return units(doc, FILE, limit)


def chapters(doc: Document, limit: int | None = None) -> list[Unit]:
    return units(doc, CHAPTER, limit)


def turns(doc: Document, limit: int | None = None) -> list[Unit]:
    return units(doc, TURN, limit)


def unit_at(items: Sequence[Unit], offset: int) -> Unit | None:
    return next((u for u in items if u.start <= offset < u.end), None)


def covers(items: Sequence[Unit]) -> Callable[[int], bool]:
    """Whether some unit holds an offset (`unit_at(...) is not None`) by bisection, for
    the many offsets of one row: some unit starting at or before it reaches past it."""
    order = sorted(items, key=lambda u: u.start)
    starts = [u.start for u in order]
    reach = list(accumulate((u.end for u in order), max))

    def holds(offset: int) -> bool:
        i = bisect_right(starts, offset) - 1
        return i >= 0 and reach[i] > offset

    return holds


def line_span(text: str, start: int, end: int, pos: int) -> tuple[int, int]:
    """The stripped line around `pos`, within [start, end)."""
    a = text.rfind("\n", start, pos) + 1 if pos > start else start
    a = max(a, start)
    b = text.find("\n", pos, end)
    b = end if b < 0 else b
    while a < b and text[a] in " \t":
        a += 1
    while b > a and text[b - 1] in " \t\r":
        b -= 1
    return a, b


def quote(text: str, span: tuple[int, int]) -> str:
    return text[span[0]:span[1]]


def traits(doc: Document) -> tuple[str, ...]:
    """What families a row can feed: its kind, code languages, links and outcome."""
    out = [doc.kind]
    languages = doc.meta.get("languages") or {}
    out += [f"lang:{name}" for name, count in sorted(languages.items())
            if count >= MIN_LANGUAGE_FILES]
    if any(languages.get(name, 0) >= MIN_LANGUAGE_FILES
           for name in ("python", "javascript", "typescript")):
        out.append("symbols")  # a symbol index exists (ast, tree-sitter)
    if doc.meta.get("dependency_edges"):
        out.append("edges")
    if doc.kind == "trajectory" and doc.meta.get("dependency_links"):
        out.append("links")
    if doc.kind == "trajectory" and isinstance(doc.meta.get("resolved"), bool):
        out.append("outcome")
    if doc.kind == "book" and len(doc.spans_with_prefix(CHAPTER)) >= 3:
        out.append("chapters")
    return tuple(out)


UNIT_PREFIXES = (FILE, CHAPTER, TURN)


def unit_starts(doc: Document) -> list[int]:
    return sorted({s.start for s in doc.spans if s.label.startswith(UNIT_PREFIXES)})


def window(doc: Document, start: int) -> Document:
    """The row from its first file, chapter or turn at or after `start`, as its own row.

    A row longer than the bucket would otherwise always show its first files; a window
    lets every part of a repository, book or run be asked about. The text before the first
    unit (a repository's name line) stays; spans are shifted and the import graph is
    renumbered (edges into the cut part are gone). The id stays the row's: evidence names
    the document it came from.
    """
    starts = unit_starts(doc)
    cut = next((p for p in starts if p >= start), None)
    if not starts or cut is None or cut <= starts[0]:
        return doc
    head = doc.text[:starts[0]]
    shift = cut - len(head)
    spans = [Span(s.start - shift, s.end - shift, s.label) for s in doc.spans if s.start >= cut]
    meta = dict(doc.meta)
    dropped = sum(1 for s in doc.spans if s.label.startswith(FILE) and s.start < cut)
    if meta.get(DEPENDENCY_EDGES):
        meta[DEPENDENCY_EDGES] = [[a - dropped, b - dropped, c]
                                  for a, b, c in meta[DEPENDENCY_EDGES]
                                  if a >= dropped and b >= dropped]
    if meta.get("dependency_links"):
        meta["dependency_links"] = [[a - shift, b - shift] for a, b in meta["dependency_links"]
                                    if a - shift >= len(head)]
    meta["window_start"] = cut
    return Document(doc.id, doc.source, doc.kind, head + doc.text[cut:], spans, meta)
