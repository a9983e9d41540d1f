"""The flow, written once: every stage in order with its upstreams, the recipe sections it
reads, its driver, and whether it runs a Beam job. The luigi workflow, `status`, the
Dataflow dry run and the manifest's ledger order all read this table.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass

from longweave.jobs import drivers
from longweave.jobs.context import RunContext
from longweave.schemas import fs
from longweave.schemas.recipe import Recipe


@dataclass(frozen=True)
class Stage:
    name: str
    upstream: tuple[str, ...]
    sections: tuple[str, ...]  # recipe sections whose change invalidates the stage
    run: Callable[[RunContext], None]
    beam_job: bool = True  # builds a Beam job (so a Dataflow dry run can show it)


STAGES: tuple[Stage, ...] = (
    Stage("collect", (), ("sources",), drivers.run_collect),
    Stage("filter", ("collect",), ("filters",), drivers.run_filter),
    Stage("dedupe", ("filter",), ("dedupe", "seed"), drivers.run_dedupe),
    Stage("tokenizer", ("dedupe",), ("tokenizer",), drivers.run_tokenizer, beam_job=False),
    Stage("synthesize", ("dedupe", "tokenizer"), ("synthesize", "seed", "buckets"),
          drivers.run_synthesize),
    Stage("tokenize", ("synthesize", "tokenizer"),
          ("tokenizer", "buckets", "bucket_policy", "seed"), drivers.run_tokenize),
    Stage("pack", ("tokenize",), ("mixture", "budget", "output", "seed", "buckets"),
          drivers.run_pack),
    Stage("report", ("pack",), (), drivers.run_report, beam_job=False),
)
STAGE_BY_NAME: dict[str, Stage] = {stage.name: stage for stage in STAGES}
STAGE_ORDER: tuple[str, ...] = tuple(STAGE_BY_NAME)


def stage_hashes(recipe: Recipe) -> dict[str, str]:
    """Each stage's hash in flow order: its recipe sections chained through its upstreams',
    plus the tokenizer file's bytes when the recipe names one."""
    data = recipe.model_dump(mode="json")
    hashes: dict[str, str] = {}
    for stage in STAGES:
        digest = hashlib.sha256(stage.name.encode())
        for name in stage.upstream:
            digest.update(hashes[name].encode())
        for section in stage.sections:
            digest.update(json.dumps([section, data[section]], sort_keys=True).encode())
        if stage.name == "tokenizer" and recipe.tokenizer.path:
            from longweave.pipeline.packing.tokenizer import resolve_tokenizer_json

            digest.update(fs.read_bytes(resolve_tokenizer_json(recipe.tokenizer)))
        hashes[stage.name] = digest.hexdigest()[:16]
    return hashes


def run_context(recipe: Recipe, workdir: str, beam_args: list[str] | None = None,
                verbose: bool = False) -> RunContext:
    """A RunContext that knows every stage's hash."""
    return RunContext(recipe, workdir, list(beam_args or []), verbose, stage_hashes(recipe))
