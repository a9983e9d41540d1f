"""The report stage: per-shard JSON, `summary.json` and one self-contained `report.html`.

`build_report(out_dir)` computes everything in-process with polars/pyarrow; given
`runner_args` it computes the per-shard JSON in a Beam pipeline (one element per shard,
the same pure `shard_stats` per element) and then builds the summary and the HTML on the
driver from those files, which are small.
"""

from __future__ import annotations

from typing import Any

import apache_beam as beam

from longweave.pipeline.report.html import render_report
from longweave.pipeline.report.inputs import (
    load_tokenizer,
    read_manifest,
    read_segment_index,
    shard_paths,
)
from longweave.pipeline.report.lengths import document_lengths
from longweave.pipeline.report.numbers import shares
from longweave.pipeline.report.stats import (
    DEFINITIONS,
    SAMPLE_TOKENS,
    ShardResult,
    across_shard_counts,
    apply_across_shards,
    report_name,
    shard_stats,
    with_across,
)
from longweave.pipeline.report.summary import (
    corpus_measures,
    diversity,
    length,
    merge_counts,
    mixture,
    packed_index,
    totals,
    triangle,
    waterfall,
)
from longweave.schemas import fs

REPORT_DIR = "report"
SHARDS_DIR = "shards"
SUMMARY_FILE = "summary.json"
HTML_FILE = "report.html"


def shard_report_path(report_dir: str, rel_path: str) -> str:
    return fs.join(report_dir, SHARDS_DIR, report_name(rel_path))


def build_summary(shards: list[dict[str, Any]], manifest: dict[str, Any],
                  out_dir: str) -> dict[str, Any]:
    """The run summary from the per-shard stats, the manifest and the segment index."""
    index = read_segment_index(out_dir)
    corpus = corpus_measures(packed_index(index, document_lengths(index)))
    return {
        "run": {key: manifest.get(key) for key in
                ("recipe_name", "recipe_hash", "tokenizer_hash", "buckets")},
        "totals": {**totals(shards), "documents": corpus["documents"]},
        "mixture": mixture(manifest),
        "ledger": waterfall(manifest),
        "shares": {column: _shares_block(merge_counts(shards, "shares", column, "tokens"))
                   for column in ("source", "kind")},
        "quality": corpus["quality"],
        "diversity": {**diversity(shards), "entropy": corpus["entropy"]},
        "length": {**length(shards), "document_tokens": corpus["document_tokens"],
                   "document_chars": corpus["document_chars"],
                   "dependency_distance": corpus["dependency_distance"],
                   "depth_coverage": corpus["depth_coverage"]},
        "triangle": triangle(shards, corpus),
        "shards": [{"shard": s["shard"], "report": f"{SHARDS_DIR}/{report_name(s['shard'])}",
                    "bucket": s["bucket"], "rows": s["counts"]["rows"],
                    "tokens": s["counts"]["tokens"], "row_fill": s["counts"]["row_fill"]["mean"]}
                   for s in shards],
        "definitions": dict(sorted(DEFINITIONS.items())),
    }


def _shares_block(tokens: dict[str, int]) -> dict[str, Any]:
    return {"tokens": tokens, "share": shares(tokens)}


class ShardStatsFn(beam.DoFn):
    """Per shard path: (path, stats, band keys). The index and tokenizer load once per worker."""

    def __init__(self, out_dir: str, sample_tokens: int) -> None:
        self.out_dir = out_dir
        self.sample_tokens = sample_tokens

    def setup(self) -> None:
        self.index = read_segment_index(self.out_dir)
        self.doc_lengths = document_lengths(self.index)
        self.tokenizer = load_tokenizer(self.out_dir)

    def process(self, rel_path: str):
        result = shard_stats(self.out_dir, rel_path, self.index, self.doc_lengths,
                             self.tokenizer, self.sample_tokens)
        yield result.rel_path, result.stats, result.band_keys


def _write_shard(item: tuple[str, dict[str, Any], Any], counts: dict[str, Any],
                 report_dir: str) -> str:
    rel_path, stats, _ = item
    path = shard_report_path(report_dir, rel_path)
    fs.write_json(path, with_across(stats, counts))
    return path


class ComputeShardReports(beam.PTransform):
    """PCollection of shard paths (relative to `out_dir`) -> per-shard JSON files written.

    The across-shards near-duplicate rate needs every shard's MinHash band keys, so those
    are gathered into one side input before the files are written.
    """

    def __init__(self, out_dir: str, report_dir: str, sample_tokens: int = SAMPLE_TOKENS
                 ) -> None:
        super().__init__()
        self.out_dir, self.report_dir, self.sample_tokens = out_dir, report_dir, sample_tokens

    def expand(self, paths: beam.PCollection) -> beam.PCollection:
        results = paths | "ShardStats" >> beam.ParDo(ShardStatsFn(self.out_dir,
                                                                  self.sample_tokens))
        counts = (results
                  | "BandKeys" >> beam.Map(lambda r: (r[0], r[2]))
                  | "AllBandKeys" >> beam.combiners.ToDict()
                  | "AcrossShards" >> beam.Map(across_shard_counts))
        return results | "WriteShardJson" >> beam.Map(
            _write_shard, beam.pvalue.AsSingleton(counts), self.report_dir)


def _shard_stats_in_process(out_dir: str, paths: list[str],
                            sample_tokens: int) -> list[dict[str, Any]]:
    index = read_segment_index(out_dir)
    lengths = document_lengths(index)
    tokenizer = load_tokenizer(out_dir)
    results: list[ShardResult] = [shard_stats(out_dir, p, index, lengths, tokenizer,
                                              sample_tokens) for p in paths]
    apply_across_shards(results)
    return [r.stats for r in results]


def _shard_stats_with_beam(out_dir: str, report_dir: str, paths: list[str],
                           runner_args: list[str], sample_tokens: int) -> list[dict[str, Any]]:
    from apache_beam.options.pipeline_options import PipelineOptions

    with beam.Pipeline(options=PipelineOptions(runner_args)) as pipeline:
        _ = (pipeline
             | "ShardPaths" >> beam.Create(paths, reshuffle=True)
             | "ShardReports" >> ComputeShardReports(out_dir, report_dir, sample_tokens))
    return [fs.read_json(shard_report_path(report_dir, p)) for p in paths]


def build_report(out_dir: str, report_dir: str | None = None,
                 runner_args: list[str] | None = None,
                 sample_tokens: int = SAMPLE_TOKENS) -> str:
    """Write `shards/<bucket>-shard-XXXXX.json`, `summary.json` and `report.html`.

    Deterministic: the same output gives byte-identical JSON (no timestamps, sorted keys).
    Returns the report folder (default `<out_dir>/report`).
    """
    report_dir = report_dir or fs.join(out_dir, REPORT_DIR)
    fs.remove_tree(fs.join(report_dir, SHARDS_DIR))  # stale shards of an earlier run
    paths = shard_paths(out_dir)
    if runner_args is not None:
        shards = _shard_stats_with_beam(out_dir, report_dir, paths, runner_args, sample_tokens)
    else:
        shards = _shard_stats_in_process(out_dir, paths, sample_tokens)
        for stats in shards:
            fs.write_json(shard_report_path(report_dir, stats["shard"]), stats)
    manifest = read_manifest(out_dir)
    summary = build_summary(shards, manifest, out_dir)
    fs.write_json(fs.join(report_dir, SUMMARY_FILE), summary)
    fs.write_bytes(fs.join(report_dir, HTML_FILE),
                   render_report(summary, shards).encode("utf-8"))
    return report_dir
