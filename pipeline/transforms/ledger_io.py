"""Counting a stage's records inside its Beam pipeline, and the counts file they end in."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable
from typing import Any

import apache_beam as beam
from apache_beam.transforms.window import GlobalWindows

from longweave.schemas import fs


def count_as(pcoll: beam.PCollection, key: str, label: str) -> beam.PCollection:
    """`(key, n)`: how many elements each bundle saw (`in`, `out`, `extra:segments`, ...),
    one pair per bundle rather than per element; the sums are the same."""
    return pcoll | label >> beam.ParDo(_CountBundle(lambda _: key))


def count_drops(drops: beam.PCollection, label: str = "CountDrops") -> beam.PCollection:
    """`(drop:<reason>, n)` per bundle and reason."""
    return drops | label >> beam.ParDo(_CountBundle(lambda d: f"drop:{d.reason}"))


class _CountBundle(beam.DoFn):
    """Elements -> `(key_of(element), count)` for each key, at the end of each bundle."""

    def __init__(self, key_of: Callable[[Any], str]) -> None:
        self.key_of = key_of
        self._counts: Counter[str] = Counter()

    def start_bundle(self) -> None:
        self._counts = Counter()

    def process(self, element: Any) -> None:
        self._counts[self.key_of(element)] += 1

    def finish_bundle(self):
        for key, count in sorted(self._counts.items()):
            yield GlobalWindows.windowed_value((key, count))


def write_counts(pairs: list[tuple[str, int]], path: str) -> None:
    """The summed `(key, n)` pairs as one JSON list the driver turns into a ledger."""
    fs.write_bytes(path, json.dumps(sorted(pairs)).encode())
