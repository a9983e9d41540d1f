"""The report stage's Beam shell: each shard's statistics computed on a worker.

The statistics are `longweave.pipeline.report.stats.shard_stats`, the same function the
in-process report calls; only the across-shard near-duplicate rate needs every shard's
MinHash band keys, so those are gathered into one side input before the files are written.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import apache_beam as beam
from apache_beam.options.pipeline_options import PipelineOptions

from longweave.pipeline.report.build import shard_report_path
from longweave.pipeline.report.inputs import output_tokenizer, read_segment_index
from longweave.pipeline.report.lengths import document_lengths
from longweave.pipeline.report.stats import (
    SAMPLE_TOKENS,
    across_shard_counts,
    shard_stats,
    with_across,
)
from longweave.schemas import fs


class ShardStatsFn(beam.DoFn):
    """Per shard path: (path, stats, band keys). The index and tokenizer load once per worker."""

    def __init__(self, out_dir: str, sample_tokens: int) -> None:
        self.out_dir = out_dir
        self.sample_tokens = sample_tokens

    def setup(self) -> None:
        self.index = read_segment_index(self.out_dir)
        self.doc_lengths = document_lengths(self.index)
        self.tokenizer = output_tokenizer(self.out_dir)

    def process(self, rel_path: str) -> Iterator[tuple[str, dict[str, Any], Any]]:
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
    """PCollection of shard paths (relative to `out_dir`) -> per-shard JSON files written."""

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


def shard_reports_with_beam(runner_args: list[str]):  # noqa: ANN201 - a ShardReports
    """The `shard_reports` step of `build_report` as a Beam job with these options."""

    def run(out_dir: str, report_dir: str, paths: list[str], sample_tokens: int
            ) -> list[dict[str, Any]]:
        with beam.Pipeline(options=PipelineOptions(runner_args)) as pipeline:
            _ = (pipeline
                 | "ShardPaths" >> beam.Create(paths, reshuffle=True)
                 | "ShardReports" >> ComputeShardReports(out_dir, report_dir, sample_tokens))
        return [fs.read_json(shard_report_path(report_dir, p)) for p in paths]

    return run
