"""The report: per-shard JSON, `summary.json` and one self-contained `report.html`.

`build_report(out_dir)` computes everything in-process with polars/pyarrow. The report
stage passes `shard_reports=` the Beam variant (`longweave.pipeline.transforms.report`),
which computes the same per-shard JSON one element per shard on workers; the summary and
the HTML are then built here from those files, which are small.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from longweave.pipeline.packing.shards import shard_paths
from longweave.pipeline.report.html import render_report
from longweave.pipeline.report.inputs import output_tokenizer, read_segment_index
from longweave.pipeline.report.lengths import document_lengths
from longweave.pipeline.report.numbers import shares
from longweave.pipeline.report.stats import (
    DEFINITIONS,
    SAMPLE_TOKENS,
    ShardResult,
    apply_across_shards,
    report_name,
    shard_stats,
)
from longweave.pipeline.report.summary import (
    corpus_measures,
    diversity,
    length,
    merge_counts,
    mixture,
    output_copy_spacing,
    packed_index,
    totals,
    triangle,
    waterfall,
)
from longweave.schemas import fs, layout
from longweave.schemas.packed import Manifest

# (out_dir, report_dir, shard paths, sample tokens) -> each shard's stats, written to
# `shard_report_path(report_dir, path)`
ShardReports = Callable[[str, str, list[str], int], list[dict[str, Any]]]


def shard_report_path(report_dir: str, rel_path: str) -> str:
    return fs.join(report_dir, layout.REPORT_SHARDS_DIR, report_name(rel_path))


def build_summary(shards: list[dict[str, Any]], manifest: Manifest | None,
                  out_dir: str) -> dict[str, Any]:
    """The run summary from the per-shard stats, the manifest and the segment index."""
    index = read_segment_index(out_dir)
    corpus = corpus_measures(packed_index(index, document_lengths(index)))
    run = {key: getattr(manifest, key) if manifest else None for key in
           ("recipe_name", "recipe_hash", "tokenizer_hash", "buckets")}
    return {
        "run": run,
        "totals": {**totals(shards), "documents": corpus["documents"]},
        "mixture": mixture(manifest.mixture if manifest else {}),
        "ledger": waterfall(manifest.ordered_ledgers() if manifest else []),
        "shares": {column: _shares_block(merge_counts(shards, "shares", column, "tokens"))
                   for column in ("source", "kind")},
        "quality": corpus["quality"],
        "diversity": {**diversity(shards), "entropy": corpus["entropy"]},
        "length": {**length(shards), "document_tokens": corpus["document_tokens"],
                   "document_chars": corpus["document_chars"],
                   "dependency_distance": corpus["dependency_distance"],
                   "row_dependency_distance": corpus["row_dependency_distance"],
                   "depth_coverage": corpus["depth_coverage"],
                   "synthetic_families": corpus["synthetic_families"]},
        "triangle": triangle(shards, corpus),
        "copy_spacing": output_copy_spacing(shards),
        "shards": [{"shard": s["shard"], "report": f"{layout.REPORT_SHARDS_DIR}/{report_name(s['shard'])}",
                    "bucket": s["bucket"], "rows": s["counts"]["rows"],
                    "tokens": s["counts"]["tokens"], "row_fill": s["counts"]["row_fill"]["mean"]}
                   for s in shards],
        "definitions": dict(sorted(DEFINITIONS.items())),
    }


def _shares_block(tokens: dict[str, int]) -> dict[str, Any]:
    return {"tokens": tokens, "share": shares(tokens)}


def shard_reports_in_process(out_dir: str, report_dir: str, paths: list[str],
                             sample_tokens: int) -> list[dict[str, Any]]:
    """Every shard's stats computed here, one shard after another, and written."""
    index = read_segment_index(out_dir)
    lengths = document_lengths(index)
    tokenizer = output_tokenizer(out_dir)
    results: list[ShardResult] = [shard_stats(out_dir, p, index, lengths, tokenizer,
                                              sample_tokens) for p in paths]
    apply_across_shards(results)
    for result in results:
        fs.write_json(shard_report_path(report_dir, result.rel_path), result.stats)
    return [r.stats for r in results]


def build_report(out_dir: str, report_dir: str | None = None,
                 shard_reports: ShardReports = shard_reports_in_process,
                 sample_tokens: int = SAMPLE_TOKENS) -> str:
    """Write `shards/<bucket>-shard-XXXXX.json`, `summary.json` and `report.html`.

    Deterministic: the same output gives byte-identical JSON (no timestamps, sorted keys).
    Returns the report folder (default `<out_dir>/report`).
    """
    report_dir = report_dir or fs.join(out_dir, layout.REPORT_DIR)
    fs.remove_tree(fs.join(report_dir, layout.REPORT_SHARDS_DIR))  # an earlier run's
    shards = shard_reports(out_dir, report_dir, shard_paths(out_dir), sample_tokens)
    manifest = Manifest.read(out_dir) if Manifest.exists(out_dir) else None
    summary = build_summary(shards, manifest, out_dir)
    fs.write_json(fs.join(report_dir, layout.SUMMARY_FILE), summary)
    fs.write_bytes(fs.join(report_dir, layout.HTML_FILE),
                   render_report(summary, shards).encode("utf-8"))
    return report_dir
