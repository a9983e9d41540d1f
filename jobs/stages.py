"""The driver side of every stage: build its Beam pipeline, run it, check and commit it.

A stage writes into `<workdir>/.tmp-<stage>/`, checks its ledger (in + created = out +
dropped), then moves the folder into place with `_SUCCESS` and `stage.json` (its hash).
A stage is done when both exist and the hash matches the recipe: so a killed run resumes
at the first unfinished stage, and a changed recipe re-runs exactly what it invalidates.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import apache_beam as beam

from longweave.jobs.progress import capture_stderr, say, stage_progress
from longweave.jobs.runner import pipeline_options
from longweave.pipeline.transforms.docio import (
    DROPS_DIR,
    QUARANTINE_DIR,
    ReadDocuments,
    WriteRows,
    write_documents,
)
from longweave.pipeline.transforms.ledger_io import COUNTS_FILE, WriteCounts, count_as, count_drops
from longweave.pipeline.transforms.stage import CREATED, DOCUMENTS, DROPS
from longweave.schemas import fs
from longweave.schemas.ledger import DROP_SCHEMA, QUARANTINE_SCHEMA, Drop, Ledger, Rejected
from longweave.schemas.recipe import Recipe

# stage -> (upstream stages, recipe sections it reads). Hashes chain through upstreams.
STAGE_GRAPH: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "collect": ((), ("sources",)),
    "filter": (("collect",), ("filters",)),
    "dedupe": (("filter",), ("dedupe", "seed")),
    "tokenizer": (("dedupe",), ("tokenizer",)),
    "synthesize": (("dedupe", "tokenizer"), ("synthesize", "seed", "buckets")),
    "tokenize": (("synthesize", "tokenizer"), ("tokenizer", "buckets", "bucket_policy", "seed")),
    "pack": (("tokenize",), ("mixture", "budget", "output", "seed", "buckets")),
    "report": (("pack",), ()),
}
STAGE_ORDER: tuple[str, ...] = tuple(STAGE_GRAPH)
LEDGER_FILE = "ledger.json"
STAGE_FILE = "stage.json"


def stage_folder(workdir: str, stage: str) -> str:
    """Where a stage commits its output; the report lives inside the pack output."""
    return fs.join(workdir, "pack", "report") if stage == "report" else fs.join(workdir, stage)


@dataclass
class RunContext:
    """What every stage needs: the validated recipe, the work folder, extra Beam args."""

    recipe: Recipe
    workdir: str
    beam_args: list[str] = field(default_factory=list)
    verbose: bool = False

    def stage_dir(self, stage: str) -> str:
        return stage_folder(self.workdir, stage)

    def run_beam(self, stage: str, build: Callable[[beam.Pipeline], None]) -> None:
        options = pipeline_options(self.recipe.runner, self.beam_args,
                                   f"longweave-{self.recipe.name}-{stage}".lower()
                                   .replace("_", "-").replace(".", "-"), self.verbose)
        with beam.Pipeline(options=options) as pipeline:
            build(pipeline)

    def log_path(self, stage: str) -> str | None:
        """Where a stage's Beam/worker logs go (None: left on the terminal)."""
        if self.verbose or not fs.is_local(self.workdir):
            return None
        return os.path.join(self.workdir, "logs", f"{stage}.log")


def stage_hash(recipe: Recipe, stage: str) -> str:
    """Hash of what `stage` depends on: its recipe sections and its upstreams' hashes."""
    upstream, sections = STAGE_GRAPH[stage]
    data = recipe.model_dump(mode="json")
    digest = hashlib.sha256(stage.encode())
    for name in upstream:
        digest.update(stage_hash(recipe, name).encode())
    for section in sections:
        digest.update(json.dumps([section, data[section]], sort_keys=True).encode())
    if stage == "tokenizer" and recipe.tokenizer.path:
        from longweave.pipeline.packing.tokenizer import resolve_tokenizer_json

        digest.update(fs.read_bytes(resolve_tokenizer_json(recipe.tokenizer)))
    return digest.hexdigest()[:16]


def is_done(ctx: RunContext, stage: str) -> bool:
    folder = ctx.stage_dir(stage)
    marker = fs.join(folder, STAGE_FILE)
    if not (fs.exists(fs.join(folder, fs.SUCCESS)) and fs.exists(marker)):
        return False
    return fs.read_json(marker).get("hash") == stage_hash(ctx.recipe, stage)


def commit_stage(ctx: RunContext, stage: str, body: Callable[[str], Ledger | None]) -> None:
    """Run `body(tmp_dir)`, check its ledger, and move the folder into place atomically."""
    tmp = fs.join(ctx.workdir, f".tmp-{stage}")
    fs.remove_tree(tmp)
    start = time.monotonic()
    log = ctx.log_path(stage)
    try:
        with stage_progress(stage), capture_stderr(log):
            ledger = body(tmp)
    except Exception:
        if log and os.path.exists(log):
            with open(log, encoding="utf-8", errors="replace") as handle:
                say(f"[{stage}] end of the Beam log {log}:\n{handle.read()[-3000:]}")
        raise
    seconds = round(time.monotonic() - start, 2)
    info = {"stage": stage, "hash": stage_hash(ctx.recipe, stage),
            "recipe_hash": ctx.recipe.recipe_hash, "seconds": seconds}
    if ledger is not None:
        ledger.check()
        fs.write_json(fs.join(tmp, LEDGER_FILE), ledger.to_json())
        fs.remove_file(fs.join(tmp, COUNTS_FILE))
    fs.write_json(fs.join(tmp, STAGE_FILE), info)
    fs.publish_folder(tmp, ctx.stage_dir(stage))
    summary = f"[{stage}] done in {seconds:.1f}s"
    if ledger is not None:
        dropped = sum(ledger.dropped.values())
        summary += f": in {ledger.records_in:,}, out {ledger.records_out:,}, dropped {dropped:,}"
        if ledger.created:
            summary += f", created {ledger.created:,}"
    say(summary)


def read_ledger(stage_dir: str, stage: str) -> Ledger:
    pairs = fs.read_json(fs.join(stage_dir, COUNTS_FILE))
    return Ledger.from_counts(stage, [(k, int(n)) for k, n in pairs])


def write_ledger_inputs(tmp: str, drops: beam.PCollection, counted: list) -> None:
    """Every stage's accounting: one line per drop in `drops/`, and the summed counts
    (`in`, `out`, `created`, `drop:<reason>`, `extra:<name>`) the driver turns into its ledger.
    """
    (drops | "DropToRow" >> beam.Map(Drop.to_row)
     | "WriteDrops" >> WriteRows(fs.join(tmp, DROPS_DIR), DROP_SCHEMA))
    ([*counted, count_drops(drops)] | "AllCounts" >> beam.Flatten()
     | "WriteCounts" >> WriteCounts(fs.join(tmp, COUNTS_FILE)))


def write_stage_outputs(tmp: str, docs_in: beam.PCollection, result: dict) -> None:
    """Write a document stage's outputs and its counts (the shell shared by every stage)."""
    write_documents(result[DOCUMENTS], tmp)
    counted = [count_as(docs_in, "in", "CountIn"),
               count_as(result[DOCUMENTS], "out", "CountOut")]
    if CREATED in result:
        counted.append(count_as(result[CREATED], CREATED, "CountCreated"))
    for name, pcoll in sorted(result.items()):
        if name in (DOCUMENTS, DROPS, CREATED):
            continue
        if name == QUARANTINE_DIR:
            (pcoll | "QuarantineToRow" >> beam.Map(Rejected.to_row)
             | "WriteQuarantine" >> WriteRows(fs.join(tmp, QUARANTINE_DIR), QUARANTINE_SCHEMA))
            continue
        (pcoll | f"{name}ToJson" >> beam.Map(lambda r: json.dumps(r, sort_keys=True))
         | f"Write{name}" >> beam.io.WriteToText(fs.join(tmp, name, "part"),
                                                 file_name_suffix=".jsonl"))
    write_ledger_inputs(tmp, result[DROPS], counted)


def run_document_stage(ctx: RunContext, stage: str, upstream: str | None,
                       make_transform: Callable[[], beam.PTransform]) -> None:
    """Run a Documents-in, Documents-out stage (collect reads sources instead)."""

    def body(tmp: str) -> Ledger:
        def build(pipeline: beam.Pipeline) -> None:
            if upstream is None:
                result = pipeline | "Collect" >> make_transform()
                # collect's input is every record read: documents and rejected ones alike
                docs_in = (result[DOCUMENTS], result[QUARANTINE_DIR]) | "AllRead" >> beam.Flatten()
            else:
                docs_in = pipeline | "ReadDocuments" >> ReadDocuments(ctx.stage_dir(upstream))
                result = docs_in | stage.capitalize() >> make_transform()
            write_stage_outputs(tmp, docs_in, result)

        ctx.run_beam(stage, build)
        return read_ledger(tmp, stage)

    commit_stage(ctx, stage, body)
