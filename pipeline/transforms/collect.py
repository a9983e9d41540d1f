"""The collect stage's Beam transform: list every source's work units, read them in parallel."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import apache_beam as beam
from pydantic import BaseModel

from longweave.pipeline.transforms.stage import DOCUMENTS, DROPS, QUARANTINE
from longweave.schemas.document import Document
from longweave.schemas.ledger import Rejected
from longweave.schemas.recipe import SourceSpec
from longweave.sources.base import safe_read
from longweave.sources.registry import reader_for


@dataclass(frozen=True)
class WorkUnit:
    """One locator of one source: the grain at which collect spreads work over workers."""

    source: str
    kind: str
    locator: str


def list_work_units(specs: list[SourceSpec]) -> list[WorkUnit]:
    """Every source's locators, on the driver, in a deterministic order."""
    units = []
    for spec in specs:
        reader = reader_for(spec.kind)
        for locator in reader.locate(spec.paths, spec.parsed_options()):
            units.append(WorkUnit(spec.name, spec.kind, locator))
    return units


def read_unit(unit: WorkUnit, options: dict[str, BaseModel]) -> Iterator[Document | Rejected]:
    """Read one work unit; whatever goes wrong becomes a `Rejected` naming the locator."""
    reader = reader_for(unit.kind)
    yield from safe_read(unit.source, unit.locator,
                         reader.read(unit.source, unit.locator, options[unit.source]))


class Collect(beam.PTransform):
    """Documents from all sources; unreadable records as `quarantine` and `drops`."""

    def __init__(self, specs: list[SourceSpec]) -> None:
        super().__init__()
        self.units = list_work_units(specs)
        self.options = {spec.name: spec.parsed_options() for spec in specs}

    def expand(self, pbegin: beam.pvalue.PBegin) -> dict:
        options = self.options
        items = (
            pbegin
            | "WorkUnits" >> beam.Create(self.units)
            | "Spread" >> beam.Reshuffle()
            | "Read" >> beam.FlatMap(read_unit, options)
        )
        tagged = items | "SplitRejected" >> beam.Map(
            lambda item: beam.pvalue.TaggedOutput(
                QUARANTINE if isinstance(item, Rejected) else DOCUMENTS, item)
        ).with_outputs(DOCUMENTS, QUARANTINE)
        drops = tagged[QUARANTINE] | "RejectedToDrop" >> beam.Map(Rejected.as_drop)
        return {DOCUMENTS: tagged[DOCUMENTS], DROPS: drops, QUARANTINE: tagged[QUARANTINE]}
