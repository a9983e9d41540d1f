"""Per-shard report statistics: one pure function from a shard to a JSON-able dict.

`shard_stats` is what both the in-process report and the Beam report call per shard;
`apply_across_shards` adds the one measure that needs every shard (near-duplicates
across shards) from the MinHash band keys each shard returns beside its stats.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import polars as pl

from longweave.pipeline.packing.shards import read_shard
from longweave.pipeline.report import dependency as stats_dependency
from longweave.pipeline.report import diversity as stats_diversity
from longweave.pipeline.report import lengths as stats_lengths
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
    return compute_shard_stats(shard, doc_lengths, tokenizer, sample_tokens)


def compute_shard_stats(shard: ShardSegments, doc_lengths: pl.DataFrame,
                        tokenizer: Any | None, sample_tokens: int = SAMPLE_TOKENS
                        ) -> ShardResult:
    """Counts, lengths, splits, shares, quality, diversity and real-length measures."""
    content = stats_lengths.content_segments(shard, doc_lengths)
    sample = stats_diversity.sampled_segments(shard, content, sample_tokens)
    keys = stats_diversity.segment_band_keys(shard, content)
    quality = stats_lengths.quality_signals(content)
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
            "distinct_ngrams": stats_diversity.distinct_ngram_ratios(sample),
            "compression": stats_diversity.compression_ratio(sample, tokenizer),
            "near_duplicates": {"inside_shard": stats_diversity.inside_shard_rate(keys),
                                "across_shards": {"segments": 0, "rate": 0.0}},
            "entropy": stats_diversity.entropies(content),
        },
        "length": {
            "long_documents": stats_lengths.long_document_shares(content),
            "dependency_distance": stats_dependency.meta_dependency_distances(content),
            "remention_distance": stats_dependency.remention_distances(sample),
            "depth_coverage": stats_dependency.depth_coverage(content),
        },
        "by_source": _by_source(content, sample, quality),
    }
    return ShardResult(rel_path=shard.rel_path, stats=stats, band_keys=keys)


def _sample_rows(shard: ShardSegments, sample_tokens: int) -> int:
    return len(stats_diversity.sample_rows(shard.rel_path, shard.rows.num_rows, shard.bucket,
                                           sample_tokens))


def _by_source(content: pl.DataFrame, sample: list[stats_diversity.SampledSegment],
               quality: dict[str, Any]) -> dict[str, Any]:
    """Per source, the three corners of the triangle as this shard sees them."""
    out: dict[str, Any] = {}
    for source in sorted(set(content["source"].to_list())):
        mine = content.filter(pl.col("source") == source)
        own_sample = [s for s in sample if s.source == source]
        long_share = stats_lengths.long_document_shares(mine)["32K"]["share"]
        gaps = [stats_dependency.remention_gaps(s.ids) for s in own_sample]
        all_gaps = np.concatenate(gaps) if gaps else np.zeros(0)
        out[source] = {
            "tokens": int(mine["tokens"].sum()),
            "sampled_tokens": int(sum(s.ids.size for s in own_sample)),
            "quality_score": stats_lengths.quality_score(quality.get(source, {})),
            "distinct_4gram_ratio": stats_diversity.distinct_ngram_ratios(own_sample)["4"]
            if own_sample else None,
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


DEFINITIONS: dict[str, str] = {
    **stats_lengths.DEFINITIONS,
    **stats_diversity.DEFINITIONS,
    **stats_dependency.DEFINITIONS,
}
