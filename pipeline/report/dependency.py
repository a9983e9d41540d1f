"""Is the length real? Dependency distances from meta, a re-mention proxy, depth coverage.

A long document whose parts never refer to each other teaches nothing long-range, so the
report measures how far apart related tokens are:
- documents whose reader records dependency links (repositories: imports; trajectories:
  results an agent refers back to; synthetic samples: evidence and question) carry their
  distances in tokens, measured by the tokenize stage, in
  `meta["tokenize"]["dependency_distances"]`. Every piece of a split document carries the
  whole document's links, so these are *source-level* (the two ends need not share a row);
  the *row-level* measure keeps only the links whose two ends lie inside one packed
  segment (`token_start`/`token_end` of the segment index against each link's token
  positions), the only ones a model trained on the row can learn from;
- for every segment (books have no such meta) a cheap proxy: the token
  distance between consecutive re-mentions of a *rare term* (a token-id bigram that occurs
  2 to 4 times in the segment — frequent enough to be a re-mention, rare enough to be a
  name or identifier rather than a function word).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np
import polars as pl

from longweave.pipeline.report.diversity import SampledSegment, ngram_keys
from longweave.pipeline.report.inputs import parse_meta
from longweave.pipeline.report.numbers import linear_histogram, log2_histogram, ratio, rnd, summary
from longweave.schemas.meta import sample_depth, token_distances, token_pairs

RARE_MIN, RARE_MAX = 2, 4
LONG_GAPS: dict[str, int] = {"4K": 4096, "32K": 32_768}
ROW_GAPS: dict[str, int] = {"8K": 8192, "32K": 32_768}  # rows holding a dependency this long
SOURCE_SCOPE = "source document, not necessarily in one row"
ROW_SCOPE = "one packed row (both ends in one segment)"

DEFINITIONS: dict[str, str] = {
    "dependency_distance": (
        "Source-level: distance in tokens from a use to what it depends on in the source "
        "document, not necessarily in one row, measured at tokenize time from the links the "
        "document's reader recorded (repositories: importing file to imported file; "
        "trajectories: agent turn to the tool result it refers back to; synthetic samples: "
        "question to its evidence); meta tokenize.dependency_distances.tokens, each "
        "document counted once. A split document's links may span pieces in other rows."),
    "row_dependency_distance": (
        "Row-level: the same links, kept only when both ends lie inside one packed segment "
        "(the piece's token range in its document contains both), so both sit in one row "
        "and attention reaches across them; each distinct segment counted once. Links "
        "between two pieces of one document never count, even when both pieces share a row: "
        "cu_seqlens separates them. Always shorter than the row."),
    "rows_with_long_dependency": (
        "Share of the rows that hold at least one row-level dependency of at least 8K (8192) "
        "or 32K (32768) tokens. unmeasured_rows: rows holding a piece of a split document "
        "whose token range the segment index lacks (outputs packed before it was recorded)."),
    "remention_distance": (
        "Token gap between consecutive occurrences of a rare term inside one segment; a "
        "rare term is a token-id bigram occurring 2-4 times in the segment. Large gaps mean "
        "the text refers back far (names, identifiers, entities)."),
    "depth_coverage": (
        "Where in its sample the needle or evidence sits (meta 'depth', 0 = start, "
        "1 = end), in 10 bins; a flat histogram means every depth is trained."),
}


def _distance_block(values: list[float], scope: str | None = None) -> dict[str, Any]:
    arr = np.asarray(values, dtype=np.float64)
    return {
        **({"scope": scope} if scope else {}),
        **summary(arr),
        "histogram": log2_histogram(arr),
        "share_at_least": {name: ratio(int((arr >= gap).sum()), arr.size)
                           for name, gap in LONG_GAPS.items()},
    }


def meta_dependency_distances(content: pl.DataFrame) -> dict[str, Any]:
    """Per source: distribution of source-level meta dependency distances in tokens (one doc
    counted once)."""
    docs = content.unique(subset="doc_id", keep="first", maintain_order=True)
    per_source: dict[str, list[float]] = {}
    for source, meta_text in docs.select("source", "meta").iter_rows():
        values = token_distances(parse_meta(meta_text))
        if values:
            per_source.setdefault(source, []).extend(values)
    return {src: _distance_block(per_source[src], SOURCE_SCOPE) for src in sorted(per_source)}


def distances_in_piece(distances: list[float], pairs: list[tuple[int, int]], piece: int | None,
                       pieces: int | None, token_start: int | None, token_end: int | None
                       ) -> list[int] | None:
    """Distances of the document's links whose two ends lie in this piece; None when the
    piece's range or the links' positions are unknown (an output older than either).

    A whole document holds every link. A piece holds `[token_start, token_end)`; the last one
    also holds a link end at `token_end` (a link's later end may fall past the last token).
    """
    if not pieces or pieces <= 1:
        return [int(v) for v in distances]
    if not distances:
        return []
    if token_start is None or token_end is None or not pairs:
        return None
    last = piece == pieces - 1
    return [b - a for a, b in pairs
            if a >= token_start and (b < token_end or (last and b == token_end))]


def segment_row_distances(content: pl.DataFrame) -> dict[str, tuple[str, list[int] | None]]:
    """segment_id -> (source, its row-level distances or None), for segments of documents
    with links; each document's meta parsed once however many of its pieces are here."""
    segs = content.unique(subset="segment_id", keep="first", maintain_order=True)
    links: dict[str, tuple[list[float], list[tuple[int, int]]]] = {}
    out: dict[str, tuple[str, list[int] | None]] = {}
    for sid, doc_id, source, meta_text, piece, pieces, start, end in segs.select(
            "segment_id", "doc_id", "source", "meta", "piece", "pieces", "token_start",
            "token_end").iter_rows():
        if doc_id not in links:
            meta = parse_meta(meta_text)
            links[doc_id] = (token_distances(meta), token_pairs(meta))
        distances, pairs = links[doc_id]
        if distances:
            out[sid] = (source, distances_in_piece(distances, pairs, piece, pieces, start, end))
    return out


def row_dependency_distances(content: pl.DataFrame) -> dict[str, Any]:
    """Per source with links: distribution of row-level dependency distances (each distinct
    segment once), and how many of its segments could not be measured."""
    return _row_blocks(segment_row_distances(content))


def _row_blocks(found: dict[str, tuple[str, list[int] | None]]) -> dict[str, Any]:
    per_source: dict[str, list[float]] = {}
    unmeasured: dict[str, int] = {}
    for source, values in found.values():
        per_source.setdefault(source, [])
        unmeasured[source] = unmeasured.get(source, 0) + (values is None)
        per_source[source].extend(values or [])
    return {src: {**_distance_block(per_source[src], ROW_SCOPE),
                  "unmeasured_segments": unmeasured[src]} for src in sorted(per_source)}


def row_level(content: pl.DataFrame, rows: int) -> dict[str, Any]:
    """A shard's row-level measures: `row_dependency_distance` per source and
    `rows_with_long_dependency` (rows holding a row-level dependency of at least 8K / 32K
    tokens, of all `rows`)."""
    found = segment_row_distances(content)
    longest = {sid: max(values) for sid, (_, values) in found.items() if values}
    unmeasured = {sid for sid, (_, values) in found.items() if values is None}
    per_row: dict[int, int] = {}
    unmeasured_rows: set[int] = set()
    for row, sid in content.select("row", "segment_id").iter_rows():
        if sid in longest:
            per_row[row] = max(per_row.get(row, 0), longest[sid])
        if sid in unmeasured:
            unmeasured_rows.add(row)
    counts = {name: sum(v >= gap for v in per_row.values()) for name, gap in ROW_GAPS.items()}
    return {"row_dependency_distance": _row_blocks(found),
            "rows_with_long_dependency": _rows_block(rows, counts, len(unmeasured_rows))}


def _rows_block(rows: int, counts: dict[str, int], unmeasured: int) -> dict[str, Any]:
    return {"rows": rows, "unmeasured_rows": unmeasured,
            "at_least": {name: {"threshold": gap, "rows": counts[name],
                                "share": ratio(counts[name], rows)}
                         for name, gap in ROW_GAPS.items()}}


def merge_rows_with_long_dependency(blocks: list[dict[str, Any]]) -> dict[str, Any]:
    """The run's `rows_with_long_dependency` from every shard's (row counts add)."""
    return _rows_block(sum(b["rows"] for b in blocks),
                       {name: sum(b["at_least"][name]["rows"] for b in blocks)
                        for name in ROW_GAPS},
                       sum(b["unmeasured_rows"] for b in blocks))


def remention_gaps(ids: np.ndarray) -> np.ndarray:
    """Gaps between consecutive occurrences of each rare bigram of one segment."""
    keys = ngram_keys(ids, 2)
    if keys.size < 2:
        return np.zeros(0, dtype=np.int64)
    # A fast unstable sort groups equal bigrams; only the few rare occurrences are then put
    # in (bigram, position) order, the order a stable argsort of every key would give.
    order = np.argsort(keys)
    sorted_keys = keys[order]
    run = np.cumsum(np.concatenate(([True], sorted_keys[1:] != sorted_keys[:-1]))) - 1
    counts = np.bincount(run)[run]
    rare = (counts >= RARE_MIN) & (counts <= RARE_MAX)
    rare_run, rare_pos = run[rare], order[rare]
    in_order = np.lexsort((rare_pos, rare_run))
    rare_run, rare_pos = rare_run[in_order], rare_pos[in_order]
    same = rare_run[1:] == rare_run[:-1]
    return (rare_pos[1:] - rare_pos[:-1])[same].astype(np.int64)


def remention_gaps_by_source(segments: Iterable[SampledSegment]
                             ) -> dict[str, tuple[np.ndarray, int]]:
    """Per source: the re-mention gaps of its sampled segments, in order, and their tokens
    (computed once for both the shard's distances and its per-source triangle)."""
    gaps: dict[str, list[np.ndarray]] = {}
    tokens: dict[str, int] = {}
    for seg in segments:
        gaps.setdefault(seg.source, []).append(remention_gaps(seg.ids))
        tokens[seg.source] = tokens.get(seg.source, 0) + int(seg.ids.size)
    return {src: (np.concatenate(gaps[src]), tokens[src]) for src in gaps}


def remention_blocks(by_source: dict[str, tuple[np.ndarray, int]]) -> dict[str, Any]:
    """Per source: distribution of rare-term re-mention gaps over the sampled segments
    (`remention_gaps_by_source`)."""
    out: dict[str, Any] = {}
    for src in sorted(by_source):
        gaps, tokens = by_source[src]
        out[src] = {**_distance_block(gaps.tolist()), "sampled_tokens": tokens,
                    "gaps_per_1k_tokens": rnd(1000 * gaps.size / tokens) if tokens else 0.0}
    return out


def depth_coverage(content: pl.DataFrame) -> dict[str, Any]:
    """Per source: histogram of needle/evidence depth over 10 bins of [0, 1]."""
    docs = content.unique(subset="doc_id", keep="first", maintain_order=True)
    per_source: dict[str, list[float]] = {}
    for source, meta_text in docs.select("source", "meta").iter_rows():
        depth = sample_depth(parse_meta(meta_text))
        if depth is not None:
            per_source.setdefault(source, []).append(depth)
    return {src: {"n": len(vals), "histogram": linear_histogram(vals, 0.0, 1.0, 10)}
            for src, vals in sorted(per_source.items())}
