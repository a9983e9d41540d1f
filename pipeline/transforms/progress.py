"""Live progress from inside a Beam job: what each worker process has read so far.

A stage's job passes its input through `track`, a pass-through step that counts elements
and a measure (characters, tokens) and rewrites one small JSON file per worker process
about once a second. The driver sums the files while the job runs (`read_progress`) for
the terminal line and for noticing a job that stopped moving (later steps add `OUTPUT`
taps that only show the job still moves). Only runners whose workers
share the driver's disk (the DirectRunner) get a folder; elsewhere `track` adds no step.
"""

from __future__ import annotations

import json
import os
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import apache_beam as beam

FLUSH_SECONDS = 1.0
_folder: str | None = None  # where the job being built records progress (None: nowhere)


@contextmanager
def recording(folder: str | None) -> Iterator[None]:
    """While a job is built, `track` steps write their counts under `folder`."""
    global _folder
    previous, _folder = _folder, folder
    if folder:
        os.makedirs(folder, exist_ok=True)
    try:
        yield
    finally:
        _folder = previous


def document_chars(doc: Any) -> int:
    return len(doc.text)


def row_tokens(row: dict) -> int:
    return int(row.get("tokens") or 0)


INPUT, OUTPUT = "in", "out"  # what the terminal line counts / what only shows life


class _Tap(beam.DoFn):
    def __init__(self, folder: str, unit: str, measure: Callable[[Any], int] | None,
                 role: str) -> None:
        self.folder, self.unit, self.measure, self.role = folder, unit, measure, role

    def setup(self) -> None:
        self.path = os.path.join(self.folder,
                                 f"{self.role}-{os.getpid()}-{uuid.uuid4().hex}.json")
        self.elements = self.amount = 0
        self.flushed = 0.0

    def process(self, element: Any) -> Iterator[Any]:
        self.elements += 1
        if self.measure is not None:
            self.amount += self.measure(element)
        if time.monotonic() - self.flushed >= FLUSH_SECONDS:
            self._flush()
        yield element

    def finish_bundle(self) -> None:
        self._flush()

    def _flush(self) -> None:
        self.flushed = time.monotonic()
        tmp = self.path + ".tmp"
        try:
            with open(tmp, "w", encoding="utf-8") as handle:
                json.dump({"elements": self.elements, "amount": self.amount,
                           "unit": self.unit}, handle)
            os.replace(tmp, self.path)
        except OSError:  # progress is a courtesy: a full or vanished disk must not fail a job
            pass


def track(pcoll: beam.PCollection, label: str, unit: str,
          measure: Callable[[Any], int] | None = None, role: str = INPUT
          ) -> beam.PCollection:
    """`pcoll` unchanged, counted into the recording folder (no step when none is set).

    The `INPUT` taps are what the progress line reports; `OUTPUT` taps (elements a later
    step of the job finishes) only tell the driver the job still moves."""
    if _folder is None:
        return pcoll
    return pcoll | label >> beam.ParDo(_Tap(_folder, unit, measure, role))


@dataclass(frozen=True)
class Progress:
    elements: int = 0  # input elements read so far
    amount: int = 0  # their measure (characters, tokens)
    unit: str = ""
    activity: int = 0  # every element any tap has seen: changes while the job moves


def read_progress(folder: str) -> Progress:
    """The input taps' sums over every worker's file so far, and the job's activity."""
    elements = amount = activity = 0
    unit = ""
    try:
        names = os.listdir(folder)
    except OSError:
        return Progress()
    for name in names:
        if not name.endswith(".json"):
            continue
        try:
            with open(os.path.join(folder, name), encoding="utf-8") as handle:
                data = json.load(handle)
        except (OSError, ValueError):  # being replaced right now: next read sees it
            continue
        activity += int(data.get("elements", 0))
        if name.startswith(INPUT + "-"):
            elements += int(data.get("elements", 0))
            amount += int(data.get("amount", 0))
            unit = data.get("unit") or unit
    return Progress(elements, amount, unit, activity)
