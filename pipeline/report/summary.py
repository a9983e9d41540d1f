"""The run summary: totals over shards, mixture target vs actual, ledger waterfall, triangle.

Additive counts are summed from the per-shard JSON; measures that do not add (entropy,
quality and dependency distributions) are recomputed over the segment index, where each
document appears once and each segment weighs `tokens x copies`.
"""

from __future__ import annotations

from typing import Any

import polars as pl

from longweave.pipeline.report import dependency as stats_dependency
from longweave.pipeline.report import diversity as stats_diversity
from longweave.pipeline.report import lengths as stats_lengths
from longweave.pipeline.report import synthetic as stats_synthetic
from longweave.pipeline.report.numbers import log2_histogram, ratio, rnd, shares, summary
from longweave.pipeline.report.stats import copy_spacing


def _sum(shards: list[dict[str, Any]], *path: str) -> int:
    total = 0
    for shard in shards:
        value: Any = shard
        for key in path:
            value = value[key]
        total += value
    return total


def merge_counts(shards: list[dict[str, Any]], *path: str) -> dict[str, int]:
    out: dict[str, int] = {}
    for shard in shards:
        value: Any = shard
        for key in path:
            value = value[key]
        for k, v in value.items():
            out[k] = out.get(k, 0) + v
    return {k: out[k] for k in sorted(out)}


def totals(shards: list[dict[str, Any]]) -> dict[str, Any]:
    """Counts summed over shards, overall and per bucket."""
    keys = ("rows", "tokens", "content_tokens", "pad_tokens", "segments", "distinct_segments",
            "repeated_segments")
    overall: dict[str, Any] = {"shards": len(shards),
                               **{k: _sum(shards, "counts", k) for k in keys}}
    overall["row_fill"] = ratio(overall["content_tokens"], overall["tokens"])
    buckets: dict[str, Any] = {}
    for bucket in sorted({s["bucket"] for s in shards}):
        mine = [s for s in shards if s["bucket"] == bucket]
        tokens, content = _sum(mine, "counts", "tokens"), _sum(mine, "counts", "content_tokens")
        buckets[str(bucket)] = {"shards": len(mine), "rows": _sum(mine, "counts", "rows"),
                                "tokens": tokens, "row_fill": ratio(content, tokens),
                                "source_tokens": merge_counts(mine, "shares", "source",
                                                               "tokens")}
    overall["by_bucket"] = buckets
    return overall


def packed_index(index: pl.DataFrame, doc_lengths: pl.DataFrame) -> pl.DataFrame:
    """Index rows of segments packed at least once, weighted by copies, with doc lengths."""
    frame = index.filter(pl.col("copies") > 0).with_columns(
        (pl.col("tokens") * pl.col("copies")).alias("tokens"))
    return frame.join(doc_lengths, on="doc_id", how="left", maintain_order="left")


def corpus_measures(frame: pl.DataFrame) -> dict[str, Any]:
    """Measures recomputed once over the packed documents (see module docstring)."""
    docs = frame.unique(subset="doc_id", keep="first", maintain_order=True)
    return {
        "documents": docs.height,
        "document_tokens": {**summary(docs["doc_tokens"].to_list()),
                            "histogram": log2_histogram(docs["doc_tokens"].to_list())},
        "document_chars": summary(docs["doc_chars"].to_list()),
        "quality": stats_lengths.quality_signals(frame),
        "entropy": stats_diversity.entropies(frame),
        "dependency_distance": stats_dependency.meta_dependency_distances(frame),
        "row_dependency_distance": stats_dependency.row_dependency_distances(frame),
        "depth_coverage": stats_dependency.depth_coverage(frame),
        "synthetic_families": stats_synthetic.family_distances(frame),
    }


def _merge_distance_blocks(blocks: list[dict[str, Any]]) -> dict[str, Any]:
    """Histograms and counts add; mean and threshold shares are n-weighted."""
    n = sum(b["n"] for b in blocks)
    hist: dict[int, int] = {}
    for block in blocks:
        for edge, count in zip(block["histogram"]["edges"], block["histogram"]["counts"],
                               strict=True):
            hist[edge] = hist.get(edge, 0) + count
    edges = sorted(hist)
    return {
        "n": n,
        "mean": ratio(sum(b["mean"] * b["n"] for b in blocks), n),
        "max": max((b["max"] for b in blocks), default=0),
        "histogram": {"edges": edges, "counts": [hist[e] for e in edges]},
        "share_at_least": {k: ratio(sum(b["share_at_least"][k] * b["n"] for b in blocks), n)
                           for k in stats_dependency.LONG_GAPS},
        "sampled_tokens": sum(b.get("sampled_tokens", 0) for b in blocks),
    }


def diversity(shards: list[dict[str, Any]]) -> dict[str, Any]:
    """Sample-weighted n-gram ratios, pooled compression and pooled near-duplicate rates."""
    weights = [s["diversity"]["sample"]["tokens"] for s in shards]
    total_w = sum(weights)
    ngrams = {n: ratio(sum(s["diversity"]["distinct_ngrams"][n] * w
                           for s, w in zip(shards, weights, strict=True)), total_w)
              for n in (shards[0]["diversity"]["distinct_ngrams"] if shards else {})}
    raw = _sum(shards, "diversity", "compression", "raw_bytes")
    packed = _sum(shards, "diversity", "compression", "compressed_bytes")
    distinct = _sum(shards, "counts", "distinct_segments")
    return {
        "distinct_ngrams": ngrams,
        "compression": {"ratio": ratio(raw, packed), "raw_bytes": raw, "compressed_bytes": packed},
        "near_duplicates": {
            where: {"segments": _sum(shards, "diversity", "near_duplicates", where, "segments"),
                    "rate": ratio(_sum(shards, "diversity", "near_duplicates", where,
                                       "segments"), distinct)}
            for where in ("inside_shard", "across_shards")},
    }


def length(shards: list[dict[str, Any]]) -> dict[str, Any]:
    content = _sum(shards, "counts", "content_tokens")
    long_docs = {name: {"threshold": threshold,
                        "tokens": _sum(shards, "length", "long_documents", name, "tokens"),
                        "share": ratio(_sum(shards, "length", "long_documents", name, "tokens"),
                                       content)}
                 for name, threshold in stats_lengths.LONG_THRESHOLDS.items()}
    per_source: dict[str, list[dict[str, Any]]] = {}
    for shard in shards:
        for source, block in shard["length"]["remention_distance"].items():
            per_source.setdefault(source, []).append(block)
    return {"long_documents": long_docs,
            "rows_with_long_dependency": stats_dependency.merge_rows_with_long_dependency(
                [s["length"]["rows_with_long_dependency"] for s in shards]),
            "remention_distance": {src: _merge_distance_blocks(per_source[src])
                                   for src in sorted(per_source)}}


def output_copy_spacing(shards: list[dict[str, Any]]) -> dict[str, Any]:
    """Copy spacing over the whole output: each shard's copy rows placed after the rows of
    the shards before it (`shards` in the manifest's order)."""
    positions: dict[str, dict[str, list[tuple[int, int]]]] = {}
    offset = 0
    for number, shard in enumerate(shards):
        for source, segments in shard["copy_spacing"]["rows"].items():
            mine = positions.setdefault(source, {})
            for sid, rows in segments.items():
                mine.setdefault(sid, []).extend((number, offset + r) for r in rows)
        offset += shard["counts"]["rows"]
    return copy_spacing(positions)


def triangle(shards: list[dict[str, Any]], corpus: dict[str, Any]) -> dict[str, Any]:
    """Per source: quality, diversity, length and dependency on one line.

    diversity = distinct 4-gram ratio (sample-weighted over shards); length = share of the
    source's tokens in documents >= 32K; dependency = median meta dependency distance in
    tokens when the source has one, else the sample-weighted mean of per-shard median
    rare-term re-mention gaps.
    """
    rows: dict[str, Any] = {}
    sources = sorted({src for s in shards for src in s["by_source"]})
    for source in sources:
        blocks = [s["by_source"][source] for s in shards if source in s["by_source"]]
        tokens = sum(b["tokens"] for b in blocks)
        div = [(b["distinct_4gram_ratio"], b["sampled_tokens"]) for b in blocks
               if b["distinct_4gram_ratio"] is not None]
        rem = [(b["remention_median"], b["sampled_tokens"]) for b in blocks
               if b["remention_median"] is not None]
        meta_dep = corpus["dependency_distance"].get(source)
        if meta_dep and meta_dep["n"]:
            dependency, basis = meta_dep["percentiles"]["p50"], "meta"
        else:
            dependency = ratio(sum(v * w for v, w in rem), sum(w for _, w in rem)) if rem else None
            basis = "remention" if rem else None
        rows[source] = {
            "tokens": tokens,
            "quality": stats_lengths.quality_score(corpus["quality"].get(source, {})),
            "diversity": ratio(sum(v * w for v, w in div), sum(w for _, w in div)) if div else None,
            "length": ratio(sum(b["long_share_32K"] * b["tokens"] for b in blocks), tokens),
            "dependency_tokens": dependency,
            "dependency_basis": basis,
        }
    return rows


def mixture(mix: dict[str, Any]) -> dict[str, Any]:
    """Target vs actual share per source, with the pack stage's token accounting."""
    target, actual = mix.get("target", {}), mix.get("actual", {})
    rows = {src: {"target": rnd(target.get(src, 0.0)), "actual": rnd(actual.get(src, 0.0)),
                  "difference": rnd(actual.get(src, 0.0) - target.get(src, 0.0)),
                  **{f"{k}_tokens": v
                     for k, v in sorted(mix.get("tokens", {}).get(src, {}).items())}}
            for src in sorted(set(target) | set(actual))}
    by_bucket = {b: dict(sorted(v.items())) for b, v in
                 sorted(mix.get("by_bucket", {}).items(), key=lambda kv: int(kv[0]))}
    return {"sources": rows, "by_bucket": by_bucket,
            "by_bucket_share": {b: shares(v) for b, v in by_bucket.items()}}


def waterfall(ledgers: list[tuple[str, dict[str, Any]]]) -> dict[str, Any]:
    """Records from collect to pack: each stage's drops (by reason) and creations as steps.

    `ledgers` are (stage, ledger) in flow order (`Manifest.ordered_ledgers`). `steps` is a
    list of {stage, label, delta, level} where level is the running count after the step;
    `balanced` says whether every ledger satisfied in + created = out + drops.
    """
    steps: list[dict[str, Any]] = []
    level: int | None = None
    balanced = True
    for stage, ledger in ledgers:
        if not ledger:
            continue
        balanced = balanced and bool(ledger.get("balanced", True))
        if level is None:
            level = int(ledger["in"])
            steps.append({"stage": stage, "label": f"{stage} in", "delta": level,
                          "level": level})
        elif int(ledger["in"]) != level:
            steps.append({"stage": stage, "label": f"{stage} in (unaccounted)",
                          "delta": int(ledger["in"]) - level, "level": int(ledger["in"])})
            level = int(ledger["in"])
        created = int(ledger.get("created", 0))
        if created:
            level += created
            steps.append({"stage": stage, "label": f"{stage} created", "delta": created,
                          "level": level})
        for reason, count in sorted(ledger.get("dropped", {}).items()):
            level -= int(count)
            steps.append({"stage": stage, "label": f"{stage} {reason}", "delta": -int(count),
                          "level": level})
        level = int(ledger["out"])
        steps.append({"stage": stage, "label": f"{stage} out", "delta": 0, "level": level})
    return {"stages": {stage: ledger for stage, ledger in ledgers if ledger},
            "steps": steps, "balanced": balanced}
