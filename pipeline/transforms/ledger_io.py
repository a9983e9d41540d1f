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
        summed = pairs | "SumCounts" >> beam.CombinePerKey(sum)
        # written once, from the sums as a side input (a ToList would be a global combine:
        # a handful more steps for the same list)
        return (pairs.pipeline
                | "Once" >> beam.Impulse()
                | "WriteCountsFile" >> beam.Map(lambda _, sums, path: _write_counts(sums, path),
                                                beam.pvalue.AsList(summed), self.path))

