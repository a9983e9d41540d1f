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
from longweave.jobs.context import STAGE_WITH_INPUTS, RunContext
from longweave.jobs.progress import say
from longweave.jobs.verify import stage_record
from longweave.schemas import fs
from longweave.schemas.recipe import Recipe


@dataclass(frozen=True)
class Stage:
    name: str
    upstream: tuple[str, ...]
    sections: tuple[str, ...]  # recipe sections whose change invalidates the stage
    run: Callable[[RunContext], None]
    beam_job: bool = True  # builds a Beam job (so a Dataflow dry run can show it)
    # stages whose files the driver reads besides its upstreams' (verified before it runs,
    # not chained into its hash: an upstream's hash already covers them)
    also_reads: tuple[str, ...] = ()

    @property
    def reads(self) -> tuple[str, ...]:
        """Every stage whose committed files this one reads: checked before it starts."""
        return self.upstream + self.also_reads


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
          drivers.run_pack, also_reads=("tokenizer",)),
    Stage("report", ("pack",), (), drivers.run_report, beam_job=False),
)
STAGE_BY_NAME: dict[str, Stage] = {stage.name: stage for stage in STAGES}
STAGE_ORDER: tuple[str, ...] = tuple(STAGE_BY_NAME)


def stage_hashes(recipe: Recipe, inputs_digest: str = "") -> dict[str, str]:
    """Each stage's hash in flow order: its recipe sections chained through its upstreams',
    plus the tokenizer file's bytes when the recipe names one, and for collect the digest
    of its input fingerprints (so a changed input re-runs collect and all after it) and
    the redaction switches it reads with.
    Without a digest (a Dataflow dry run) the inputs are not looked at."""
    data = recipe.model_dump(mode="json")
    hashes: dict[str, str] = {}
    for stage in STAGES:
        digest = hashlib.sha256(stage.name.encode())
        if stage.name == STAGE_WITH_INPUTS:
            if inputs_digest:
                digest.update(f"inputs:{inputs_digest}".encode())
            # collect redacts as it reads, under the filter section's two switches
            digest.update(json.dumps(["redaction", data["filters"]["redact_pii"],
                                      data["filters"]["redact_secrets"]]).encode())
        for name in stage.upstream:
            digest.update(hashes[name].encode())
        for section in stage.sections:
            digest.update(json.dumps([section, data[section]], sort_keys=True).encode())
        if stage.name == "tokenizer" and recipe.tokenizer.path:
            from longweave.pipeline.packing.tokenizer import resolve_tokenizer_json

            digest.update(fs.read_bytes(resolve_tokenizer_json(recipe.tokenizer)))
        hashes[stage.name] = digest.hexdigest()[:16]
    return hashes


def current_inputs(recipe: Recipe, workdir: str, assume_unchanged: bool = False,
                   content: bool = False) -> dict:
    """The fingerprint of the recipe's inputs: listed now, or with `assume_unchanged` (huge
    remote corpora) the one collect recorded when it committed, if it did."""
    if assume_unchanged:
        info = stage_record(workdir, STAGE_WITH_INPUTS)
        if info and info.get("inputs"):
            return info["inputs"]
    from longweave.pipeline.transforms.collect import input_fingerprints

    return input_fingerprints(recipe.sources, content, workdir)


def say_inputs_changed(workdir: str, inputs: dict) -> None:
    """When collect committed with other inputs, say which (why collect runs again)."""
    info = stage_record(workdir, STAGE_WITH_INPUTS)
    before = (info or {}).get("inputs")
    if before and before.get("digest") != inputs.get("digest"):
        from longweave.pipeline.transforms.collect import inputs_changed

        say(f"[collect] inputs changed since it ran: {inputs_changed(before, inputs)}")


def run_context(recipe: Recipe, workdir: str, beam_args: list[str] | None = None,
                verbose: bool = False, assume_inputs_unchanged: bool = False,
                hash_inputs: bool = False) -> RunContext:
    """A RunContext that knows every stage's hash, the inputs' fingerprint among them."""
    inputs = current_inputs(recipe, workdir, assume_inputs_unchanged, hash_inputs)
    return RunContext(recipe, workdir, list(beam_args or []), verbose,
                      stage_hashes(recipe, inputs["digest"]), inputs)
