"""What a stage driver runs in, and how a stage commits.

A stage writes into `<workdir>/.tmp-<stage>/`, checks its ledger (in + created = out +
dropped), then moves the folder into place with `_SUCCESS` and `stage.json` (its hash).
A stage is done when both exist, the hash matches the recipe and its files are the ones
`stage.json` records (sizes here; contents before a stage reads them, `jobs/verify.py`):
so a killed run resumes at the first unfinished stage, a changed recipe or input re-runs
exactly what it invalidates, and a damaged file re-runs the stage that wrote it.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import apache_beam as beam

from longweave.jobs import forked_workers
from longweave.jobs.progress import capture_stderr, say, stage_progress
from longweave.jobs.runner import pipeline_options
from longweave.jobs.verify import (
    StageCorrupt,
    check_stage,
    mark_not_done,
    nested_stage_dirs,
    record_files,
    stage_record,
)
from longweave.schemas import fs, layout
from longweave.schemas.ledger import Ledger
from longweave.schemas.recipe import Recipe

STAGE_WITH_INPUTS = "collect"  # the stage that reads the recipe's inputs


@dataclass
class RunContext:
    """What every stage needs: the validated recipe, the work folder, extra Beam args, and
    from the stage table each stage's hash in flow order (so drivers need not know the flow).
    """

    recipe: Recipe
    workdir: str
    beam_args: list[str] = field(default_factory=list)
    verbose: bool = False
    hashes: dict[str, str] = field(default_factory=dict)
    # collect's input fingerprints ({"digest", "files", "bytes", "list"}), kept in its record
    inputs: dict | None = None

    def stages_before(self, stage: str) -> list[str]:
        order = list(self.hashes)
        return order[:order.index(stage)]

    def stage_dir(self, stage: str) -> str:
        return layout.stage_folder(self.workdir, stage)

    def run_beam(self, stage: str, build: Callable[[beam.Pipeline], None]) -> None:
        from longweave.pipeline.transforms.progress import recording

        options = pipeline_options(self.recipe.runner, self.beam_args,
                                   f"longweave-{self.recipe.name}-{stage}".lower()
                                   .replace("_", "-").replace(".", "-"), self.verbose)
        runner = forked_workers.runner_for(  # its workers then find the stage's code loaded
            options, warm=[f"longweave.pipeline.transforms.{stage}"])
        with beam.Pipeline(runner=runner, options=options
                           ) as pipeline, recording(self.progress_dir(stage)):
            build(pipeline)

    def progress_dir(self, stage: str) -> str | None:
        """Where a stage's workers count what they read, for the live progress line: a
        local folder, so only when the workers share this machine (the DirectRunner)."""
        runners = [a.split("=", 1)[1] for a in self.beam_args if a.startswith("--runner=")]
        runner = runners[-1] if runners else self.recipe.runner.runner
        if runner not in ("DirectRunner", "direct"):
            return None
        base = self.workdir if fs.is_local(self.workdir) else os.path.join(
            tempfile.gettempdir(), "longweave-progress", self.recipe.name)
        return os.path.join(base, layout.LOGS_DIR, "progress", stage)

    def expected_inputs(self, stage: str) -> int | None:
        """Records the stage will read: the last earlier stage's ledger `out`."""
        for earlier in reversed(self.stages_before(stage)):
            path = fs.join(self.stage_dir(earlier), layout.LEDGER_FILE)
            if fs.exists(path):
                return int(fs.read_json(path).get("out") or 0) or None
        return None

    def log_path(self, stage: str) -> str | None:
        """Where a stage's Beam/worker logs go (None: left on the terminal)."""
        if self.verbose or not fs.is_local(self.workdir):
            return None
        return os.path.join(self.workdir, layout.LOGS_DIR, f"{stage}.log")


def is_done(ctx: RunContext, stage: str) -> bool:
    """Committed with this hash, and every recorded file there at its recorded size (a
    listing, no hashing: luigi asks often). A stage whose files do not match is marked not
    done, said with the files, and runs again."""
    info = stage_record(ctx.workdir, stage)
    if info is None or info.get("hash") != ctx.hashes[stage]:
        return False
    problems = check_stage(ctx.workdir, stage, list(ctx.hashes), full=False) or []
    if problems:
        say(str(StageCorrupt(stage, problems)))
        mark_not_done(ctx.workdir, stage)
        return False
    return True


def commit_stage(ctx: RunContext, stage: str, body: Callable[[str], Ledger | None]) -> None:
    """Run `body(tmp_dir)`, check its ledger, and move the folder into place atomically."""
    tmp = fs.join(ctx.workdir, layout.TMP_PREFIX + stage)
    fs.remove_tree(tmp)
    start = time.monotonic()
    log = ctx.log_path(stage)
    progress = ctx.progress_dir(stage)
    if progress:
        shutil.rmtree(progress, ignore_errors=True)  # counts of an earlier try of this stage
    try:
        with stage_progress(stage, progress, ctx.expected_inputs(stage),
                            ctx.recipe.runner.stall_seconds), capture_stderr(log):
            ledger = body(tmp)
    except Exception:
        if log and os.path.exists(log):
            with open(log, encoding="utf-8", errors="replace") as handle:
                say(f"[{stage}] end of the Beam log {log}:\n{handle.read()[-3000:]}")
        raise
    seconds = round(time.monotonic() - start, 2)
    info = {"stage": stage, "hash": ctx.hashes[stage],
            "recipe_hash": ctx.recipe.recipe_hash, "seconds": seconds}
    if ledger is not None:
        ledger.check()
        fs.write_json(fs.join(tmp, layout.LEDGER_FILE), ledger.to_json())
        fs.remove_file(fs.join(tmp, layout.COUNTS_FILE))
    if stage == STAGE_WITH_INPUTS and ctx.inputs is not None:
        info["inputs"] = ctx.inputs
    hashing = time.monotonic()
    info["files"] = record_files(tmp, nested_stage_dirs(ctx.workdir, stage, list(ctx.hashes)))
    info["hash_seconds"] = round(time.monotonic() - hashing, 3)
    fs.write_json(fs.join(tmp, layout.STAGE_FILE), info)
    fs.publish_folder(tmp, ctx.stage_dir(stage))
    summary = f"[{stage}] done in {seconds:.1f}s"
    if ledger is not None:
        dropped = sum(ledger.dropped.values())
        summary += f": in {ledger.records_in:,}, out {ledger.records_out:,}, dropped {dropped:,}"
        if ledger.created:
            summary += f", created {ledger.created:,}"
    say(summary)


def read_counts_ledger(stage_dir: str, stage: str) -> Ledger:
    """The ledger of a stage from the counts its Beam job summed (`counts.json`)."""
    pairs = fs.read_json(fs.join(stage_dir, layout.COUNTS_FILE))
    return Ledger.from_counts(stage, [(k, int(n)) for k, n in pairs])
