"""Per-shard report statistics: one pure function from a shard to a JSON-able dict.

`shard_stats` is what both the in-process report and the Beam report call per shard;
`apply_across_shards` adds the one measure that needs every shard (near-duplicates
across shards) from the MinHash band keys each shard returns beside its stats.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import pairwise
from typing import Any

import numpy as np
import polars as pl

from longweave.pipeline.packing.shards import read_shard
from longweave.pipeline.report import dependency as stats_dependency
from longweave.pipeline.report import diversity as stats_diversity
from longweave.pipeline.report import lengths as stats_lengths
from longweave.pipeline.report import synthetic as stats_synthetic
from longweave.pipeline.report.inputs import ShardSegments, flatten_shard
from longweave.pipeline.report.numbers import ratio, rnd
from longweave.schemas import fs

SAMPLE_TOKENS = 1 << 21  # tokens of sampled rows per shard for the text measures


@dataclass
class ShardResult:
    """A shard's stats plus its segments' LSH band keys (kept out of the JSON)."""

    rel_path: str
    stats: dict[str, Any]
    band_keys: dict[str, list[str]]


def report_name(rel_path: str) -> str:
    """`1024/shard-00003.arrow` -> `1024-shard-00003.json`."""
    bucket, _, name = rel_path.rpartition("/")
    stem = name.rsplit(".", 1)[0]
    return f"{bucket.replace('/', '-')}-{stem}.json" if bucket else f"{stem}.json"


def shard_stats(out_dir: str, rel_path: str, index: pl.DataFrame, doc_lengths: pl.DataFrame,
                tokenizer: Any | None, sample_tokens: int = SAMPLE_TOKENS) -> ShardResult:
    """Read one shard and compute its statistics (see `compute_shard_stats`)."""
    shard = flatten_shard(rel_path, read_shard(fs.join(out_dir, rel_path)), index)
    return compute_shard_stats(shard, doc_lengths, tokenizer, sample_tokens,
                               copies=index.select("segment_id", "copies"))


def compute_shard_stats(shard: ShardSegments, doc_lengths: pl.DataFrame,
                        tokenizer: Any | None, sample_tokens: int = SAMPLE_TOKENS,
                        copies: pl.DataFrame | None = None) -> ShardResult:
    """Counts, lengths, splits, shares, quality, diversity and real-length measures.

    `copies` (segment_id, copies from the segment index) says which segments the output
    repeats; without it only segments repeated inside this shard count as repeated.
    """
    content = stats_lengths.content_segments(shard, doc_lengths)
    sample = stats_diversity.sampled_segments(shard, content, sample_tokens)
    keys = stats_diversity.segment_band_keys(shard, content)
    quality = stats_lengths.quality_signals(content)
    ngrams, ngrams_by_source = stats_diversity.distinct_ngram_ratios_by_source(sample)
    gaps = stats_dependency.remention_gaps_by_source(sample)
    stats: dict[str, Any] = {
        "shard": shard.rel_path,
        "bucket": shard.bucket,
        "counts": stats_lengths.counts_and_fill(shard, content),
        "lengths": stats_lengths.length_distributions(content),
        "splits": stats_lengths.splits_and_truncations(content),
        "shares": {"source": stats_lengths.token_shares(content, "source"),
                   "kind": stats_lengths.token_shares(content, "kind")},
        "quality": quality,
        "diversity": {
            "sample": {"rows": _sample_rows(shard, sample_tokens) if sample else 0,
                       "segments": len(sample),
                       "tokens": int(sum(s.ids.size for s in sample))},
            "distinct_ngrams": ngrams,
            "compression": stats_diversity.compression_ratio(sample, tokenizer),
            "near_duplicates": {"inside_shard": stats_diversity.inside_shard_rate(keys),
                                "across_shards": {"segments": 0, "rate": 0.0}},
            "entropy": stats_diversity.entropies(content),
        },
        "length": {
            "long_documents": stats_lengths.long_document_shares(content),
            "dependency_distance": stats_dependency.meta_dependency_distances(content),
            **stats_dependency.row_level(content, shard.rows.num_rows),
            "remention_distance": stats_dependency.remention_blocks(gaps),
            "depth_coverage": stats_dependency.depth_coverage(content),
        },
        "by_source": _by_source(content, sample, quality, ngrams_by_source, gaps),
        "copy_spacing": shard_copy_spacing(content, copies),
    }
    return ShardResult(rel_path=shard.rel_path, stats=stats, band_keys=keys)


def _sample_rows(shard: ShardSegments, sample_tokens: int) -> int:
    return len(stats_diversity.sample_rows(shard.rel_path, shard.rows.num_rows, shard.bucket,
                                           sample_tokens))


def _by_source(content: pl.DataFrame, sample: list[stats_diversity.SampledSegment],
               quality: dict[str, Any], ngrams: dict[str, float],
               gaps: dict[str, tuple[np.ndarray, int]]) -> dict[str, Any]:
    """Per source, the three corners of the triangle as this shard sees them (`ngrams` and
    `gaps`: the sample's per-source distinct 4-gram ratio and re-mention gaps, computed
    once)."""
    out: dict[str, Any] = {}
    for source in sorted(set(content["source"].to_list())):
        mine = content.filter(pl.col("source") == source)
        own_sample = [s for s in sample if s.source == source]
        long_share = stats_lengths.long_document_shares(mine)["32K"]["share"]
        all_gaps = gaps[source][0] if source in gaps else np.zeros(0)
        out[source] = {
            "tokens": int(mine["tokens"].sum()),
            "sampled_tokens": int(sum(s.ids.size for s in own_sample)),
            "quality_score": stats_lengths.quality_score(quality.get(source, {})),
            "distinct_4gram_ratio": ngrams.get(source),
            "long_share_32K": long_share,
            "remention_median": rnd(float(np.median(all_gaps))) if all_gaps.size else None,
        }
    return out


def across_shard_counts(keys_by_shard: dict[str, dict[str, list[str]]]
                        ) -> dict[str, dict[str, Any]]:
    """Per shard: how many of its distinct segments have a near-duplicate in another shard."""
    flagged = stats_diversity.near_duplicates(keys_by_shard, across=True)
    return {rel: {"segments": len(flagged[rel]), "rate": ratio(len(flagged[rel]), len(keys))}
            for rel, keys in keys_by_shard.items()}


def with_across(stats: dict[str, Any], counts: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """The shard's stats with `near_duplicates.across_shards` filled in."""
    stats["diversity"]["near_duplicates"]["across_shards"] = counts[stats["shard"]]
    return stats


def apply_across_shards(results: list[ShardResult]) -> None:
    """Fill each shard's `near_duplicates.across_shards` from all shards' band keys."""
    counts = across_shard_counts({r.rel_path: r.band_keys for r in results})
    for result in results:
        with_across(result.stats, counts)


CopyRows = dict[str, dict[str, list[int]]]  # source -> segment_id -> rows holding a copy


def copy_rows(content: pl.DataFrame, copies: pl.DataFrame | None) -> CopyRows:
    """Rows of this shard holding a copy of a segment the output packs more than once."""
    if copies is None:
        repeated = content.group_by("segment_id").len().filter(pl.col("len") > 1)
    else:
        repeated = copies.filter(pl.col("copies") > 1)
    found = content.join(repeated.select("segment_id"), on="segment_id", how="semi")
    out: CopyRows = {}
    for source, sid, row in found.select("source", "segment_id", "row").sort(
            "source", "segment_id", "row").iter_rows():
        out.setdefault(source, {}).setdefault(sid, []).append(int(row))
    return out


def copy_spacing(positions: dict[str, dict[str, list[tuple[int, int]]]]) -> dict[str, Any]:
    """Per source, how far apart the copies of each repeated segment sit.

    `positions`: source -> segment_id -> one (shard number, row in output order) per copy.
    Distances are between consecutive copies of a segment, in rows; 0 is a row holding two.
    """
    out: dict[str, Any] = {}
    for source, segments in sorted(positions.items()):
        distances: list[int] = []
        across = 0
        doubled: set[int] = set()
        repeated = [sorted(p) for p in segments.values() if len(p) > 1]
        for copies in repeated:
            for (shard_a, row_a), (shard_b, row_b) in pairwise(copies):
                distances.append(row_b - row_a)
                across += shard_a != shard_b
                if row_a == row_b:
                    doubled.add(row_a)
        out[source] = {
            "repeated_segments": len(repeated), "copies": sum(len(p) for p in repeated),
            "rows_with_two_copies": len(doubled), "pairs": len(distances),
            "pairs_across_shards": across,
            "min_distance": min(distances) if distances else None,
            "median_distance": rnd(float(np.median(distances))) if distances else None}
    return out


def shard_copy_spacing(content: pl.DataFrame, copies: pl.DataFrame | None) -> dict[str, Any]:
    """Copy spacing inside this shard, and the rows of each copy for the run summary, which
    measures it over the whole output (`summary.copy_spacing`)."""
    rows = copy_rows(content, copies)
    return {"by_source": copy_spacing({src: {sid: [(0, r) for r in found]
                                             for sid, found in segs.items()}
                                       for src, segs in rows.items()}),
            "rows": rows}


DEFINITIONS: dict[str, str] = {
    "copy_spacing": (
        "Up-sampled copies: per source, segments the output holds more than once, rows "
        "holding two copies of one segment (the packer allows none), and the row distance "
        "between consecutive copies of a segment in output order (the manifest's shard "
        "order, then row number); pairs across shards are consecutive copies in different "
        "shards."),
    **stats_lengths.DEFINITIONS,
    **stats_diversity.DEFINITIONS,
    **stats_dependency.DEFINITIONS,
    **stats_synthetic.DEFINITIONS,
}
