"""Diversity of one shard: distinct n-grams, compression, MinHash near-duplicates, entropy.

Text measures run on a deterministic sample of rows (capped in tokens) so a shard of
16M tokens costs seconds; MinHash runs on every distinct segment because near-duplicates
are exactly what a sample would miss.
"""

from __future__ import annotations

import hashlib
import zlib
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np
import polars as pl

from longweave.filters.minhash import MinHashParams, band_buckets, band_keys, sketch
from longweave.pipeline.report.inputs import ShardSegments, parse_meta
from longweave.pipeline.report.numbers import entropy, ratio
from longweave.schemas.meta import AUTHOR, REPO, TOOL_CALLS_BY_TOOL

NGRAM_ORDERS: tuple[int, ...] = (1, 2, 3, 4)
TRIANGLE_ORDER = 4  # the n of the per-source distinct n-gram ratio (the triangle's diversity)
# Token-id 5-grams, 64 permutations, 8 bands x 8 rows: pairs with Jaccard ~0.77 collide
# with probability 1/2. The seed is fixed: signatures must compare across shards and runs.
NEAR_DUPLICATES = MinHashParams(shingle="token", ngram=5, num_perm=64, threshold=0.77,
                                bands=8, rows=8, seed=20240917)
_PRIME_MULT = np.uint64(0x9E3779B97F4A7C15)


@dataclass
class SampledSegment:
    segment_id: str
    source: str
    kind: str
    ids: np.ndarray


def sample_rows(rel_path: str, rows: int, bucket: int, token_budget: int) -> list[int]:
    """Rows in a stable hash order until `token_budget` tokens are taken (at least one row)."""
    order = sorted(range(rows), key=lambda r: hashlib.blake2b(
        f"{rel_path}:{r}".encode(), digest_size=8).digest())
    take = max(1, token_budget // max(bucket, 1))
    return sorted(order[:take])


def sampled_segments(shard: ShardSegments, content: pl.DataFrame,
                     token_budget: int) -> list[SampledSegment]:
    """Token arrays of the content segments in the sampled rows, in (row, position) order."""
    if not shard.rows.num_rows or not content.height:
        return []
    chosen = sample_rows(shard.rel_path, shard.rows.num_rows, shard.bucket, token_budget)
    input_ids = shard.rows.column("input_ids")
    arrays = {r: np.asarray(input_ids[r].values.to_numpy(zero_copy_only=False), dtype=np.int64)
              for r in chosen}
    picked = content.filter(pl.col("row").is_in(chosen)).sort("row", "position")
    return [SampledSegment(sid, src, kind, arrays[row][start:end])
            for row, start, end, sid, src, kind in
            picked.select("row", "start", "end", "segment_id", "source", "kind").iter_rows()]


def ngram_keys(ids: np.ndarray, n: int) -> np.ndarray:
    """One uint64 per n-gram (polynomial hash, wrapping); exact for n=1."""
    if ids.size < n:
        return np.zeros(0, dtype=np.uint64)
    keys = ids[: ids.size - n + 1].astype(np.uint64)
    with np.errstate(over="ignore"):
        for k in range(1, n):
            keys = keys * _PRIME_MULT + ids[k: ids.size - n + 1 + k].astype(np.uint64)
    return keys


def distinct_ngram_ratios_by_source(segments: Iterable[SampledSegment]
                                    ) -> tuple[dict[str, float], dict[str, float]]:
    """distinct n-grams / all n-grams over the whole sample (n-grams never cross segments),
    and each source's distinct `TRIANGLE_ORDER`-gram ratio: the shard's stats need both, so
    each segment's n-grams are hashed once and the whole sample's distinct 4-grams are
    counted from each source's."""
    segments = list(segments)
    overall: dict[str, float] = {}
    per_source: dict[str, float] = {}
    for n in NGRAM_ORDERS:
        keys = [ngram_keys(s.ids, n) for s in segments]
        if n != TRIANGLE_ORDER:
            overall[str(n)] = _distinct_ratio(keys)
            continue
        distinct: list[np.ndarray] = []
        for source in dict.fromkeys(s.source for s in segments):
            mine = _concat([k for k, s in zip(keys, segments, strict=True) if s.source == source])
            distinct.append(sorted_distinct(mine))
            per_source[source] = ratio(distinct[-1].size, mine.size)
        overall[str(n)] = ratio(distinct_count(_concat(distinct)), sum(k.size for k in keys))
    return overall, per_source


def sorted_distinct(keys: np.ndarray) -> np.ndarray:
    """The distinct values of `keys`, sorted; numpy 2's hash-based `np.unique` is ~30x
    slower than a sort on millions of high-cardinality uint64 n-gram keys."""
    ordered = np.sort(keys)
    return ordered[np.concatenate(([True], ordered[1:] != ordered[:-1]))] if ordered.size \
        else ordered


def distinct_count(keys: np.ndarray) -> int:
    """How many distinct values `keys` holds (by sorting, see `sorted_distinct`)."""
    return int(sorted_distinct(keys).size)


def _concat(keys: list[np.ndarray]) -> np.ndarray:
    return np.concatenate(keys) if keys else np.zeros(0, dtype=np.uint64)


def _distinct_ratio(keys: list[np.ndarray]) -> float:
    allk = _concat(keys)
    return ratio(distinct_count(allk), allk.size)


def compression_ratio(segments: list[SampledSegment], tokenizer: Any | None) -> dict[str, Any]:
    """raw bytes / zlib(level 9) bytes per segment, summed over the sample.

    Raw bytes are the decoded UTF-8 text when the tokenizer is available, else the token
    ids as little-endian uint32. Higher means more repetitive; natural prose is ~2.5-3.5.
    """
    basis = "decoded-utf8" if tokenizer is not None else "token-ids-uint32"
    raw_total = packed_total = 0
    for seg in segments:
        if tokenizer is not None:
            raw = tokenizer.decode(seg.ids.tolist(), skip_special_tokens=False).encode("utf-8")
        else:
            raw = seg.ids.astype("<u4").tobytes()
        raw_total += len(raw)
        packed_total += len(zlib.compress(raw, 9))
    return {"ratio": ratio(raw_total, packed_total), "basis": basis, "raw_bytes": raw_total,
            "compressed_bytes": packed_total}


def segment_keys(ids: np.ndarray) -> list[str]:
    """LSH band keys of one segment's token ids, as `band:key` strings: two segments whose
    keys meet are near-duplicate candidates."""
    return [f"{band}:{key:016x}"
            for band, key in band_keys(sketch(ids, NEAR_DUPLICATES), NEAR_DUPLICATES)]


def segment_band_keys(shard: ShardSegments, content: pl.DataFrame) -> dict[str, list[str]]:
    """Band keys for each distinct content segment of the shard (first occurrence)."""
    if not content.height:
        return {}
    input_ids = shard.rows.column("input_ids")
    out: dict[str, list[str]] = {}
    firsts = content.unique(subset="segment_id", keep="first", maintain_order=True)
    for row, start, end, sid in firsts.select("row", "start", "end", "segment_id").iter_rows():
        ids = np.asarray(input_ids[row].values[start:end].to_numpy(zero_copy_only=False),
                         dtype=np.int64)
        out[sid] = segment_keys(ids)
    return out


def near_duplicates(keys_by_group: dict[str, dict[str, list[str]]],
                    across: bool) -> dict[str, set[str]]:
    """Per group (shard): its segments sharing a band key with a *different* segment id.

    `across=False`: any partner counts (the inside-shard rate, called with one group);
    `across=True`: only a partner in another group counts (the across-shards rate). Repeats of the same segment id
    (up-sampling copies) are not near-duplicates; they are reported as repeats.
    """
    owners = band_buckets(((group, sid), bands) for group, keys in keys_by_group.items()
                          for sid, bands in keys.items())
    flagged: dict[str, set[str]] = {group: set() for group in keys_by_group}
    for members in owners.values():
        if len(members) < 2:
            continue
        for group, sid in members:
            if any(other_sid != sid and (other_group != group if across else True)
                   for other_group, other_sid in members):
                flagged[group].add(sid)
    return flagged


def inside_shard_rate(keys: dict[str, list[str]]) -> dict[str, Any]:
    flagged = near_duplicates({"shard": keys}, across=False)["shard"]
    return {"segments": len(flagged), "rate": ratio(len(flagged), len(keys))}


def _meta_values(meta: dict[str, Any], field: str) -> dict[str, float]:
    """Values of a declared meta key with their weight factor (tools: call counts)."""
    value = meta.get(field)
    if isinstance(value, dict):
        if field == REPO:
            name = value.get("name")
            return {str(name): 1.0} if name else {}
        return {str(k): float(v) for k, v in value.items()
                if isinstance(v, int | float) and not isinstance(v, bool) and v > 0}
    if isinstance(value, list):
        return {str(v): 1.0 for v in value if v not in (None, "")}
    return {str(value): 1.0} if value not in (None, "") else {}


def entropies(content: pl.DataFrame) -> dict[str, Any]:
    """Entropy over sources, repositories, authors and tools.

    Sources, repositories and authors are weighted by content tokens (a list of authors
    splits nothing: each author gets the segment's tokens); tools by tool-call counts over
    the distinct documents. `coverage` is the token share of segments that carry the field.
    """
    total = int(content["tokens"].sum()) if content.height else 0
    weights: dict[str, dict[str, float]] = {"source": {}, "repo": {}, "author": {}, "tools": {}}
    covered = {"repo": 0, "author": 0, "tools": 0}
    seen_docs: set[str] = set()
    for doc_id, source, tokens, meta_text in content.select(
            "doc_id", "source", "tokens", "meta").iter_rows():
        weights["source"][source] = weights["source"].get(source, 0) + tokens
        meta = parse_meta(meta_text)
        for field, key in (("repo", REPO), ("author", AUTHOR)):
            values = _meta_values(meta, key)
            covered[field] += tokens if values else 0
            for name in values:
                weights[field][name] = weights[field].get(name, 0) + tokens
        tools = _meta_values(meta, TOOL_CALLS_BY_TOOL)
        covered["tools"] += tokens if tools else 0
        if doc_id not in seen_docs:
            seen_docs.add(doc_id)
            for name, calls in tools.items():
                weights["tools"][name] = weights["tools"].get(name, 0) + calls
    out: dict[str, Any] = {}
    for field in ("source", "repo", "author", "tools"):
        w = weights[field]
        out[field] = {**entropy(w[k] for k in sorted(w)),
                      "coverage": 1.0 if field == "source" and total else
                      ratio(covered.get(field, 0), total)}
    return out


DEFINITIONS: dict[str, str] = {
    "distinct_ngrams": (
        "Distinct token-id n-grams / all n-grams (n = 1..4) over a deterministic sample of "
        "rows; n-grams never cross segment boundaries. 1.0 means no n-gram repeats."),
    "compression": (
        "Raw bytes / zlib level-9 bytes summed over the sampled segments, raw bytes being the "
        "decoded UTF-8 text (or the token ids as uint32 when no tokenizer is present). "
        "Higher is more repetitive."),
    "near_duplicates": (
        "Share of distinct segments that share a MinHash LSH band (64 permutations over "
        "token 5-gram shingles, 8 bands of 8 rows: Jaccard ~0.77 collides half the time) "
        "with another segment: inside the shard, or in another shard. Up-sampled copies of "
        "the same segment are counted as repeats, not near-duplicates."),
    "entropy": (
        "Shannon entropy (bits) of content tokens over sources, repositories and authors, "
        "and of tool calls over tools; normalized = bits / log2(distinct values)."),
}
