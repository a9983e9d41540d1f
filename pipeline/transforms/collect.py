"""The collect stage's Beam transform: list every source's work units, read them in parallel."""

from __future__ import annotations

import glob as globlib
import hashlib
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass

import apache_beam as beam
from pydantic import BaseModel

from longweave.pipeline.transforms.stage import DOCUMENTS, DROPS, QUARANTINE
from longweave.schemas import fs
from longweave.schemas.document import Document
from longweave.schemas.ledger import Rejected
from longweave.schemas.recipe import SourceSpec
from longweave.schemas.recipe_filters import FilterConfig
from longweave.sources.redact import DEFAULT_REDACTION, Redaction
from longweave.sources.registry import read_documents, reader_for
from longweave.sources.repos.select import CACHE_DIRS, VCS_DIRS


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


# folders no reader reads (version-control metadata, caches an import or a tool writes):
# a fingerprint over them would re-run collect because Python wrote a .pyc
UNREAD_DIRS = VCS_DIRS | CACHE_DIRS


def _local_files(path: str) -> list[str]:
    """The files a local source path names: itself, every file under a folder (but the
    `UNREAD_DIRS`), or the matches of a glob (sorted, so the fingerprint is deterministic)."""
    matches = sorted(globlib.glob(path, recursive=True)) if globlib.has_magic(path) else [path]
    matches = [m.removeprefix("file://") for m in matches]
    files: list[str] = []
    for match in matches:
        if os.path.isdir(match):
            for base, dirs, names in os.walk(match):
                dirs[:] = sorted(d for d in dirs if d not in UNREAD_DIRS)
                files += [os.path.join(base, name) for name in sorted(names)]
        elif os.path.exists(match):
            files.append(match)
    return files


def _fingerprint_path(path: str, content: bool) -> list[dict]:
    """(path, bytes, mtime[, sha256]) of every file under one recipe path."""
    if "://" in path:
        from apache_beam.io.filesystems import FileSystems

        found = FileSystems.match([path])[0].metadata_list or FileSystems.match(
            [path.rstrip("/") + "/**"])[0].metadata_list
        stats = sorted((m.path, int(m.size_in_bytes), float(m.last_updated_in_seconds))
                       for m in found if not m.path.endswith("/"))
    else:
        stats = []
        for file in _local_files(path):
            stat = os.stat(file)
            stats.append((file, stat.st_size, stat.st_mtime_ns / 1e9))
    if not stats:  # a locator that is no file (a git ref, an archive member) is kept as is
        return [{"path": path, "bytes": None, "mtime": None}]
    entries = []
    for file, size, mtime in stats:
        entry: dict = {"path": file, "bytes": size, "mtime": mtime}
        if content:
            digest = hashlib.sha256()
            with fs.open_binary(file) as handle:
                while chunk := handle.read(1 << 20):
                    digest.update(chunk)
            entry["sha256"] = digest.hexdigest()
        entries.append(entry)
    return entries


def input_fingerprints(specs: list[SourceSpec], content: bool = False,
                       workdir: str | None = None) -> dict:
    """Every file collect reads, as its record keeps it: path, bytes, mtime (and sha256
    with `content`), for each locator the readers list (a folder locator, such as a
    repository, by every file under it). Its digest enters collect's hash, so an added,
    removed or changed input re-runs collect and every stage after it, while a file the
    readers do not take (outside `include`) changes nothing. A stat per file; hashing
    contents reads every byte (asked for, not the default). Files under `workdir` are left
    out: a work folder inside a source folder must not change the inputs by running."""
    inside = os.path.join(os.path.abspath(workdir), "") if workdir and "://" not in workdir \
        else None
    files = [{"source": unit.source, "locator": unit.locator, **entry}
             for unit in list_work_units(specs)
             for entry in _fingerprint_path(unit.locator, content)
             if not (inside and entry["path"].startswith(inside))]
    digest = hashlib.sha256(json.dumps(files, sort_keys=True).encode()).hexdigest()[:16]
    return {"digest": digest, "files": len(files), "content": content,
            "bytes": sum(f["bytes"] or 0 for f in files), "list": files}


def inputs_changed(before: dict, now: dict, shown: int = 3) -> str:
    """What differs between two fingerprints, for the line that says why collect re-runs."""
    old = {f["path"]: f for f in before.get("list", [])}
    new = {f["path"]: f for f in now.get("list", [])}
    parts = []
    for word, paths in (("added", sorted(new.keys() - old.keys())),
                        ("removed", sorted(old.keys() - new.keys())),
                        ("changed", sorted(p for p in new.keys() & old.keys()
                                           if new[p] != old[p]))):
        if paths:
            more = f" and {len(paths) - shown} more" if len(paths) > shown else ""
            parts.append(f"{len(paths)} {word} ({', '.join(paths[:shown])}{more})")
    return "; ".join(parts) or "the fingerprint options changed"


def read_unit(unit: WorkUnit, options: dict[str, BaseModel],
              redaction: Redaction = DEFAULT_REDACTION) -> Iterator[Document | Rejected]:
    """Read one work unit; whatever goes wrong becomes a `Rejected` naming the locator.
    Documents are redacted as they are read (`sources.redact`), before anything is written."""
    yield from read_documents(unit.kind, unit.source, unit.locator, options[unit.source],
                              redaction)


class Collect(beam.PTransform):
    """Documents from all sources; unreadable records as `quarantine` and `drops`."""

    def __init__(self, specs: list[SourceSpec], filters: FilterConfig | None = None) -> None:
        super().__init__()
        self.units = list_work_units(specs)
        self.options = {spec.name: spec.parsed_options() for spec in specs}
        # the recipe's redaction switches; without them, the filter defaults (both on)
        self.redaction = Redaction.from_filters(filters or FilterConfig())

    def expand(self, pbegin: beam.pvalue.PBegin) -> dict:
        options = self.options
        items = (
            pbegin
            | "WorkUnits" >> beam.Create(self.units)
            | "Spread" >> beam.Reshuffle()
            | "Read" >> beam.FlatMap(read_unit, options, self.redaction)
        )
        tagged = items | "SplitRejected" >> beam.Map(
            lambda item: beam.pvalue.TaggedOutput(
                QUARANTINE if isinstance(item, Rejected) else DOCUMENTS, item)
        ).with_outputs(DOCUMENTS, QUARANTINE)
        drops = tagged[QUARANTINE] | "RejectedToDrop" >> beam.Map(Rejected.as_drop)
        return {DOCUMENTS: tagged[DOCUMENTS], DROPS: drops, QUARANTINE: tagged[QUARANTINE]}
