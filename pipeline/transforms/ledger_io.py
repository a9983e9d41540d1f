"""Counting a stage's records inside its Beam pipeline, and writing the counts to a file."""

from __future__ import annotations

import json

import apache_beam as beam

from longweave.schemas import fs


def count_as(pcoll: beam.PCollection, key: str, label: str) -> beam.PCollection:
    """One `(key, 1)` per element, e.g. `in`, `out`, `extra:segments`."""
    return pcoll | label >> beam.Map(lambda _: (key, 1))


def count_drops(drops: beam.PCollection, label: str = "CountDrops") -> beam.PCollection:
    return drops | label >> beam.Map(lambda d: (f"drop:{d.reason}", 1))


def _write_counts(pairs: list[tuple[str, int]], path: str) -> None:
    fs.write_bytes(path, json.dumps(sorted(pairs)).encode())


class WriteCounts(beam.PTransform):
    """Sum `(key, n)` pairs and write them as one JSON list the driver turns into a ledger."""

    def __init__(self, path: str) -> None:
        super().__init__()
        self.path = path

    def expand(self, pairs: beam.PCollection) -> beam.PCollection:
        path = self.path
        return (pairs
                | "SumCounts" >> beam.CombinePerKey(sum)
                | "AllCounts" >> beam.combiners.ToList()
                | "WriteCountsFile" >> beam.Map(_write_counts, path))

