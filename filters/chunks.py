"""Chunks of a long document and text edits that keep its spans valid.

Long documents are judged chunk by chunk (a chapter, a file, a turn, else a fixed window)
so that one bad part does not condemn the whole; cutting a chunk or masking a secret
changes offsets, and every span must move with the text.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import replace

from longweave.schemas.document import Document, Span
from longweave.schemas.spans import CHAPTER, FILE, TURN, window_label

CHUNK_PREFIXES: tuple[str, ...] = (CHAPTER, FILE, TURN)  # natural units, in preference order


def chunk_spans(doc: Document, window_chars: int) -> list[Span]:
    """The chunks of `doc`: its chapter/file/turn spans, else windows cut at line ends."""
    for prefix in CHUNK_PREFIXES:
        spans = sorted(doc.spans_with_prefix(prefix))
        if spans:
            return spans
    return windows(doc.text, window_chars)


def windows(text: str, size: int) -> list[Span]:
    """Consecutive windows of about `size` characters, each ending after a newline if one
    falls in its second half (so a window rarely cuts a paragraph)."""
    out: list[Span] = []
    start = 0
    while start < len(text):
        end = min(start + size, len(text))
        if end < len(text):
            newline = text.rfind("\n", start + size // 2, end)
            if newline != -1:
                end = newline + 1
        out.append(Span(start, end, window_label(len(out))))
        start = end
    return out


Edit = tuple[int, int, str]
"""Replace `text[start:end]` by the string (empty string: delete)."""


def apply_edits(text: str, spans: Iterable[Span], edits: Iterable[Edit]
                ) -> tuple[str, list[Span]]:
    """Apply non-overlapping edits and move every span with the text.

    A span boundary inside an edited range moves to the edge of the replacement; a span
    that was non-empty and becomes empty (it lay inside a deletion) is removed.
    """
    ordered = sorted(edits)
    parts: list[str] = []
    # (old_start, old_end, new_start, new_end) per edit, for offset mapping.
    moves: list[tuple[int, int, int, int]] = []
    cursor = 0
    shift = 0
    for start, end, replacement in ordered:
        if start < cursor:
            raise ValueError(f"overlapping edits at {start}")
        parts.append(text[cursor:start])
        parts.append(replacement)
        new_start = start + shift
        moves.append((start, end, new_start, new_start + len(replacement)))
        shift += len(replacement) - (end - start)
        cursor = end
    parts.append(text[cursor:])

    def move(pos: int, is_end: bool) -> int:
        delta = 0
        for old_start, old_end, new_start, new_end in moves:
            if pos <= old_start:
                break
            if pos < old_end:
                return new_end if is_end else new_start
            delta = new_end - old_end
        return pos + delta

    new_spans: list[Span] = []
    for span in spans:
        start, end = move(span.start, False), move(span.end, True)
        end = max(start, end)
        if start == end and span.start != span.end:
            continue
        new_spans.append(Span(start, end, span.label))
    return "".join(parts), new_spans


def remove_chunks(doc: Document, removed: Iterable[Span]) -> Document:
    """`doc` without the text of `removed`; other spans shift, removed chunk spans vanish."""
    edits = [(s.start, s.end, "") for s in merge_ranges(removed)]
    text, spans = apply_edits(doc.text, doc.spans, edits)
    return replace(doc, text=text, spans=spans, meta=dict(doc.meta))


def merge_ranges(spans: Iterable[Span]) -> list[Span]:
    """Union of ranges as sorted disjoint spans (labels dropped)."""
    out: list[Span] = []
    for span in sorted(spans):
        if out and span.start <= out[-1].end:
            last = out[-1]
            out[-1] = Span(last.start, max(last.end, span.end), "")
        else:
            out.append(Span(span.start, span.end, ""))
    return out


TextRewrite = Callable[[str], tuple[str, dict[str, int]]]


def rewrite_segments(doc: Document, rewrite: TextRewrite) -> tuple[Document, dict[str, int]]:
    """Run `rewrite` on each piece of text between span boundaries and rebuild spans.

    This keeps spans exact for any text -> (text, counts) function (e.g. redaction)
    without it reporting offsets; matches never straddle a file or turn boundary.
    """
    bounds = sorted({0, len(doc.text), *(s.start for s in doc.spans),
                     *(s.end for s in doc.spans)})
    new_pos = {0: 0}
    parts: list[str] = []
    totals: dict[str, int] = {}
    length = 0
    for start, end in zip(bounds, bounds[1:], strict=False):
        piece, counts = rewrite(doc.text[start:end])
        parts.append(piece)
        length += len(piece)
        new_pos[end] = length
        for key, n in counts.items():
            totals[key] = totals.get(key, 0) + n
    spans = [Span(new_pos[s.start], new_pos[s.end], s.label) for s in doc.spans]
    return replace(doc, text="".join(parts), spans=spans, meta=dict(doc.meta)), totals
