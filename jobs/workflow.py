"""The luigi workflow: one task per stage, each a Beam job, skipped when already done."""

from __future__ import annotations

import logging
import time
from typing import ClassVar

import luigi

from longweave.jobs.context import STAGE_WITH_INPUTS, RunContext, is_done
from longweave.jobs.progress import say
from longweave.jobs.runner import check_beam_args
from longweave.jobs.stages import (
    STAGE_BY_NAME,
    STAGE_ORDER,
    current_inputs,
    say_inputs_changed,
    stage_hashes,
)
from longweave.jobs.verify import StageCorrupt, check_stage, mark_not_done
from longweave.pipeline.packing.shortfalls import MixtureShortfall
from longweave.schemas.recipe import Recipe, RecipeError, load_recipe

# A stage that fails on one of these fails again on a retry or a re-run: the recipe or the
# data must change (the CLI exits 2, as for a recipe refused at load time).
RECIPE_OR_DATA_ERRORS = (RecipeError, MixtureShortfall)


class StageTask(luigi.Task):
    """A stage of one recipe in one work folder; complete when its output is committed."""

    recipe_path = luigi.Parameter()
    workdir = luigi.Parameter()
    beam_args = luigi.ListParameter(default=())
    verbose = luigi.BoolParameter(default=False, significant=False)
    retries = luigi.IntParameter(default=0, significant=False)
    retry_delay = luigi.FloatParameter(default=5.0, significant=False)
    assume_inputs_unchanged = luigi.BoolParameter(default=False, significant=False)
    hash_inputs = luigi.BoolParameter(default=False, significant=False)
    stage: ClassVar[str] = ""

    # per recipe path, the recipe, its stage hashes and its inputs' fingerprint: luigi asks
    # every task `complete()` (and the skip message its hash) many times, and a hash may
    # read the tokenizer file and lists every input file
    _recipes: ClassVar[dict[str, tuple[Recipe, dict[str, str], dict]]] = {}

    def context(self) -> RunContext:
        if self.recipe_path not in self._recipes:
            self._recipes[self.recipe_path] = prepare(
                self.recipe_path, self.workdir, self.assume_inputs_unchanged, self.hash_inputs)
        recipe, hashes, inputs = self._recipes[self.recipe_path]
        return RunContext(recipe, self.workdir, list(self.beam_args), self.verbose, hashes,
                          inputs)

    def requires(self) -> list[luigi.Task]:
        return [TASKS[name](recipe_path=self.recipe_path, workdir=self.workdir,
                            beam_args=self.beam_args, verbose=self.verbose,
                            retries=self.retries, retry_delay=self.retry_delay,
                            assume_inputs_unchanged=self.assume_inputs_unchanged,
                            hash_inputs=self.hash_inputs)
                for name in STAGE_BY_NAME[self.stage].upstream]

    def complete(self) -> bool:
        return is_done(self.context(), self.stage)

    def run(self) -> None:
        """Run the stage, again up to `retries` times if it crashes (a stage starts afresh);
        a recipe or data problem is not retried, nor damaged input (its stage must re-run
        first: `run_workflow` does that)."""
        ctx = self.context()
        verify_reads(ctx, self.stage)
        if self.stage == STAGE_WITH_INPUTS and ctx.inputs is not None:
            say_inputs_changed(ctx.workdir, ctx.inputs)
        for attempt in range(self.retries + 1):
            try:
                STAGE_BY_NAME[self.stage].run(ctx)
                return
            except RECIPE_OR_DATA_ERRORS:
                raise
            except Exception as error:
                if attempt == self.retries:
                    raise
                say(f"[{self.stage}] attempt {attempt + 1} failed ({type(error).__name__}: "
                    f"{error}); retrying in {self.retry_delay:g}s")
                time.sleep(self.retry_delay)


def prepare(recipe_path: str, workdir: str, assume_inputs_unchanged: bool = False,
            hash_inputs: bool = False) -> tuple[Recipe, dict[str, str], dict]:
    """The recipe, its stage hashes and its inputs' fingerprint, once per run."""
    recipe = load_recipe(recipe_path)
    inputs = current_inputs(recipe, workdir, assume_inputs_unchanged, hash_inputs)
    return recipe, stage_hashes(recipe, inputs["digest"]), inputs


def verify_reads(ctx: RunContext, stage: str) -> None:
    """Hash every file of the stages this one reads against their records; a damaged one
    marks its stage not done and raises `StageCorrupt` naming the files and the stage."""
    for name in STAGE_BY_NAME[stage].reads:
        problems = check_stage(ctx.workdir, name, STAGE_ORDER)
        if problems:
            mark_not_done(ctx.workdir, name)
            raise StageCorrupt(name, [f"{ctx.stage_dir(name)}/{p}" for p in problems])


def verify_target(workdir: str, stage: str) -> None:
    """A committed target stage whose files fail their hashes is marked not done (said with
    the files), so this run rebuilds it."""
    problems = check_stage(workdir, stage, STAGE_ORDER)
    if problems:
        mark_not_done(workdir, stage)
        say(f"[{stage}] " + str(StageCorrupt(stage, problems)))


def _task_class(stage: str) -> type[StageTask]:
    name = "".join(part.capitalize() for part in stage.split("_")) + "Stage"
    return type(name, (StageTask,), {"stage": stage, "__doc__": f"The {stage} stage."})


TASKS: dict[str, type[StageTask]] = {stage: _task_class(stage) for stage in STAGE_ORDER}

FAILURES: list[str] = []  # "[stage] failed: Error: message", as said on the terminal
_ERRORS: list[BaseException] = []


class _NoTracebackForRecipeOrData(logging.Filter):
    """luigi logs a failed task's traceback; for a recipe or data problem the message (said
    once, by `_remember_failure`) is the whole story, and a traceback would bury it."""

    def filter(self, record: logging.LogRecord) -> bool:
        error = record.exc_info[1] if record.exc_info else None
        return not isinstance(error, (*RECIPE_OR_DATA_ERRORS, StageCorrupt))


logging.getLogger("luigi-interface").addFilter(_NoTracebackForRecipeOrData())


@StageTask.event_handler(luigi.Event.FAILURE)
def _remember_failure(task: StageTask, error: BaseException) -> None:
    FAILURES.append(f"[{task.stage}] failed: {type(error).__name__}: {error}")
    _ERRORS.append(error)
    say(FAILURES[-1])


@StageTask.event_handler(luigi.Event.DEPENDENCY_PRESENT)
def _say_skipped(task: StageTask) -> None:
    """luigi found the stage complete (committed, same hash) and will not run it, nor the
    stages it reads, which luigi then never looks at."""
    before = " with the stages before it" if STAGE_BY_NAME[task.stage].upstream else ""
    say(f"[{task.stage}] already done (hash {task.context().hashes[task.stage]}), "
        f"skipped{before}")


def failed_on_recipe_or_data() -> bool:
    """Whether the last run failed on the recipe or the data rather than on a crash."""
    return any(isinstance(e, RECIPE_OR_DATA_ERRORS) for e in _ERRORS)


def _only_damage() -> bool:
    """Whether every failure of the last build was damaged input found before reading it
    (its stage is marked not done, so building again rebuilds it)."""
    return bool(_ERRORS) and all(isinstance(e, StageCorrupt) for e in _ERRORS)


def run_workflow(recipe_path: str, workdir: str, beam_args: list[str], until: str = "report",
                 scheduler_host: str | None = None, workers: int = 1, verbose: bool = False,
                 retries: int = 0, retry_delay: float = 5.0,
                 assume_inputs_unchanged: bool = False, hash_inputs: bool = False) -> bool:
    """Run every stage up to `until`; True when all are done.

    With `retries`, a failed stage runs again (after `retry_delay` seconds) up to that many
    times before the run gives up. `scheduler_host` uses a luigi central scheduler (luigid),
    which also keeps two runs of one work folder from running the same stage at once.
    A Beam argument no Beam option knows raises `BeamArgsError` before any stage runs.
    A stage that finds the files it reads damaged marks their stage not done; the build
    then runs again from that stage (at most once per stage). `assume_inputs_unchanged`
    reuses the inputs' fingerprint collect recorded instead of listing every input;
    `hash_inputs` adds each input file's sha256 to the fingerprint.
    """
    if until not in TASKS:
        raise ValueError(f"--until {until!r}: not a stage; stages are {', '.join(STAGE_ORDER)}")
    FAILURES.clear()
    _ERRORS.clear()
    StageTask._recipes.clear()
    prepared = prepare(recipe_path, workdir, assume_inputs_unchanged, hash_inputs)
    StageTask._recipes[recipe_path] = prepared
    check_beam_args(prepared[0].runner, beam_args)
    task = TASKS[until](recipe_path=recipe_path, workdir=workdir, beam_args=tuple(beam_args),
                        verbose=verbose, retries=retries, retry_delay=retry_delay,
                        assume_inputs_unchanged=assume_inputs_unchanged,
                        hash_inputs=hash_inputs)
    params: dict = {"workers": workers, "log_level": "WARNING"}
    if scheduler_host:
        host, _, port = scheduler_host.partition(":")
        params["scheduler_host"] = host
        if port:
            params["scheduler_port"] = int(port)
    else:
        params["local_scheduler"] = True
    # the stage asked for is what the run hands over: hash it whole (the stages before it
    # are hashed when a stage reads them, so damage behind a finished output costs nothing)
    verify_target(workdir, until)
    for _ in range(len(STAGE_ORDER)):
        FAILURES.clear()
        _ERRORS.clear()
        luigi.build([task], detailed_summary=False, **params)
        if not _only_damage():
            break
        say("longweave: rebuilding from the damaged stage")
    return task.complete()
