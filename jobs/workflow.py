"""The luigi workflow: one task per stage, each a Beam job, skipped when already done."""

from __future__ import annotations

import logging
import time
from typing import ClassVar

import luigi

from longweave.jobs.context import RunContext, is_done
from longweave.jobs.progress import say
from longweave.jobs.runner import check_beam_args
from longweave.jobs.stages import STAGE_BY_NAME, STAGE_ORDER, stage_hashes
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
    stage: ClassVar[str] = ""

    # per recipe path, the recipe and its stage hashes: luigi asks every task `complete()`
    # (and the skip message its hash) many times, and a hash may read the tokenizer file
    _recipes: ClassVar[dict[str, tuple[Recipe, dict[str, str]]]] = {}

    def context(self) -> RunContext:
        if self.recipe_path not in self._recipes:
            recipe = load_recipe(self.recipe_path)
            self._recipes[self.recipe_path] = (recipe, stage_hashes(recipe))
        recipe, hashes = self._recipes[self.recipe_path]
        return RunContext(recipe, self.workdir, list(self.beam_args), self.verbose, hashes)

    def requires(self) -> list[luigi.Task]:
        return [TASKS[name](recipe_path=self.recipe_path, workdir=self.workdir,
                            beam_args=self.beam_args, verbose=self.verbose,
                            retries=self.retries, retry_delay=self.retry_delay)
                for name in STAGE_BY_NAME[self.stage].upstream]

    def complete(self) -> bool:
        return is_done(self.context(), self.stage)

    def run(self) -> None:
        """Run the stage, again up to `retries` times if it crashes (a stage starts afresh);
        a recipe or data problem is not retried."""
        for attempt in range(self.retries + 1):
            try:
                STAGE_BY_NAME[self.stage].run(self.context())
                return
            except RECIPE_OR_DATA_ERRORS:
                raise
            except Exception as error:
                if attempt == self.retries:
                    raise
                say(f"[{self.stage}] attempt {attempt + 1} failed ({type(error).__name__}: "
                    f"{error}); retrying in {self.retry_delay:g}s")
                time.sleep(self.retry_delay)


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
        return not isinstance(error, RECIPE_OR_DATA_ERRORS)


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


def run_workflow(recipe_path: str, workdir: str, beam_args: list[str], until: str = "report",
                 scheduler_host: str | None = None, workers: int = 1, verbose: bool = False,
                 retries: int = 0, retry_delay: float = 5.0) -> bool:
    """Run every stage up to `until`; True when all are done.

    With `retries`, a failed stage runs again (after `retry_delay` seconds) up to that many
    times before the run gives up. `scheduler_host` uses a luigi central scheduler (luigid),
    which also keeps two runs of one work folder from running the same stage at once.
    A Beam argument no Beam option knows raises `BeamArgsError` before any stage runs.
    """
    if until not in TASKS:
        raise ValueError(f"--until {until!r}: not a stage; stages are {', '.join(STAGE_ORDER)}")
    FAILURES.clear()
    _ERRORS.clear()
    StageTask._recipes.clear()
    recipe = load_recipe(recipe_path)
    StageTask._recipes[recipe_path] = (recipe, stage_hashes(recipe))
    check_beam_args(recipe.runner, beam_args)
    task = TASKS[until](recipe_path=recipe_path, workdir=workdir, beam_args=tuple(beam_args),
                        verbose=verbose, retries=retries, retry_delay=retry_delay)
    params: dict = {"workers": workers, "log_level": "WARNING"}
    if scheduler_host:
        host, _, port = scheduler_host.partition(":")
        params["scheduler_host"] = host
        if port:
            params["scheduler_port"] = int(port)
    else:
        params["local_scheduler"] = True
    luigi.build([task], detailed_summary=False, **params)
    return task.complete()
