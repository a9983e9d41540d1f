"""Is the length real? Dependency distances from meta, a re-mention proxy, depth coverage.

A long document whose parts never refer to each other teaches nothing long-range, so the
report measures how far apart related tokens are:
- documents whose reader records dependency links (repositories: imports; trajectories:
  results an agent refers back to; synthetic samples: evidence and question) carry their
  distances in tokens, measured by the tokenize stage, in
  `meta["tokenize"]["dependency_distances"]`;
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
from longweave.schemas.meta import sample_depth, token_distances

RARE_MIN, RARE_MAX = 2, 4
LONG_GAPS: dict[str, int] = {"4K": 4096, "32K": 32_768}

DEFINITIONS: dict[str, str] = {
    "dependency_distance": (
        "Distance in tokens from a use to what it depends on, measured at tokenize time from "
        "the links the document's reader recorded (repositories: importing file to imported "
        "file; trajectories: agent turn to the tool result it refers back to; synthetic "
        "samples: question to its evidence); meta tokenize.dependency_distances.tokens."),
    "remention_distance": (
        "Token gap between consecutive occurrences of a rare term inside one segment; a "
        "rare term is a token-id bigram occurring 2-4 times in the segment. Large gaps mean "
        "the text refers back far (names, identifiers, entities)."),
    "depth_coverage": (
        "Where in its sample the needle or evidence sits (meta 'depth', 0 = start, "
        "1 = end), in 10 bins; a flat histogram means every depth is trained."),
}


def _distance_block(values: list[float]) -> dict[str, Any]:
    arr = np.asarray(values, dtype=np.float64)
    return {
        **summary(arr),
        "histogram": log2_histogram(arr),
        "share_at_least": {name: ratio(int((arr >= gap).sum()), arr.size)
                           for name, gap in LONG_GAPS.items()},
    }


def meta_dependency_distances(content: pl.DataFrame) -> dict[str, Any]:
    """Per source: distribution of meta dependency distances in tokens (one doc counted once)."""
    docs = content.unique(subset="doc_id", keep="first", maintain_order=True)
    per_source: dict[str, list[float]] = {}
    for source, meta_text in docs.select("source", "meta").iter_rows():
        values = token_distances(parse_meta(meta_text))
        if values:
            per_source.setdefault(source, []).extend(values)
    return {src: _distance_block(per_source[src]) for src in sorted(per_source)}


def remention_gaps(ids: np.ndarray) -> np.ndarray:
    """Gaps between consecutive occurrences of each rare bigram of one segment."""
    keys = ngram_keys(ids, 2)
    if keys.size < 2:
        return np.zeros(0, dtype=np.int64)
    order = np.argsort(keys, kind="stable")
    sorted_keys = keys[order]
    _, inverse, counts = np.unique(sorted_keys, return_inverse=True, return_counts=True)
    same = sorted_keys[1:] == sorted_keys[:-1]
    rare = (counts[inverse[1:]] >= RARE_MIN) & (counts[inverse[1:]] <= RARE_MAX)
    gaps = order[1:] - order[:-1]
    return gaps[same & rare].astype(np.int64)


def remention_distances(segments: Iterable[SampledSegment]) -> dict[str, Any]:
    """Per source: distribution of rare-term re-mention gaps over the sampled segments."""
    per_source: dict[str, list[np.ndarray]] = {}
    tokens: dict[str, int] = {}
    for seg in segments:
        per_source.setdefault(seg.source, []).append(remention_gaps(seg.ids))
        tokens[seg.source] = tokens.get(seg.source, 0) + int(seg.ids.size)
    out: dict[str, Any] = {}
    for src in sorted(per_source):
        gaps = np.concatenate(per_source[src])
        out[src] = {**_distance_block(gaps.tolist()), "sampled_tokens": tokens[src],
                    "gaps_per_1k_tokens": rnd(1000 * gaps.size / tokens[src])
                    if tokens[src] else 0.0}
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
