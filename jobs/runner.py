"""Beam pipeline options from the recipe's `runner` section plus the user's own arguments."""

from __future__ import annotations

import argparse
import difflib
import os
from typing import NoReturn

from apache_beam.options.pipeline_options import PipelineOptions

from longweave.schemas.recipe import RecipeError, RunnerConfig


def beam_args(runner: RunnerConfig, extra: list[str] | None = None, verbose: bool = False
              ) -> list[str]:
    """Command-line style Beam arguments; `extra` (after `--` on the CLI) comes last and wins."""
    args = [f"--runner={runner.runner}"]
    if not verbose:  # keep SDK workers' INFO chatter out of the terminal
        args.append("--default_sdk_harness_log_level=WARNING")
    if runner.runner == "DirectRunner":
        workers = runner.direct_num_workers or (os.cpu_count() or 1)
        args += [f"--direct_num_workers={workers}",
                 f"--direct_running_mode={runner.direct_running_mode}"]
    for key, value in sorted(runner.options.items()):
        if value is True:
            args.append(f"--{key}")
        elif value is not False and value is not None:
            args.append(f"--{key}={value}")
    return args + list(extra or [])


def pipeline_options(runner: RunnerConfig, extra: list[str] | None, job_name: str,
                     verbose: bool = False) -> PipelineOptions:
    args = beam_args(runner, extra, verbose)
    if not any(a.startswith("--job_name") for a in args):
        args.append(f"--job_name={job_name}")
    return PipelineOptions(args)


class BeamArgsError(ValueError):
    """An argument after `--` that Beam does not know or cannot parse (Beam itself would
    drop an unknown one with a warning in a log file, or exit from inside a stage)."""


def unknown_beam_args(args: list[str]) -> tuple[list[str], list[str]]:
    """The arguments no Beam options class knows, and the names Beam does know.

    Beam's own parser (every registered options class, as `PipelineOptions` builds it)
    parses `args`; a value it cannot parse (`--direct_num_workers=two`) raises
    `BeamArgsError` instead of exiting the process.
    """
    found: dict[str, list[str]] = {}

    def error(message: str) -> NoReturn:
        raise BeamArgsError(f"Beam options: {message}")

    def probe(parser: argparse.ArgumentParser) -> None:
        parser.error = error  # type: ignore[method-assign]
        known, found["unknown"] = parser.parse_known_args(args)
        found["names"] = sorted(vars(known))

    PipelineOptions(args).get_all_options(add_extra_args_fn=probe, retain_unknown_options=True)
    return found["unknown"], found["names"]


def check_beam_args(runner: RunnerConfig, extra: list[str] | None = None) -> None:
    """Fail before any stage runs on a Beam option nobody would read: from the recipe's
    `runner.options` a `RecipeError` naming the key, from after `--` a `BeamArgsError`."""
    from_recipe = set(beam_args(runner, verbose=True))
    unknown, names = unknown_beam_args(beam_args(runner, extra, verbose=True))
    problems = []
    for i, arg in enumerate(unknown):
        if not arg.startswith("-"):
            if i and unknown[i - 1].startswith("-") and "=" not in unknown[i - 1]:
                continue  # the value of the unknown option before it
            problems.append(f"{arg!r} (not an option; Beam options are --name=value)")
            continue
        flag = arg.split("=", 1)[0]
        name = flag.lstrip("-")
        close = difflib.get_close_matches(name.replace("-", "_"), names, n=1)
        hint = f" (did you mean --{close[0]}?)" if close else ""
        if arg in from_recipe:
            raise RecipeError(f"runner.options.{name}: unknown Beam option{hint}")
        problems.append(f"{flag}{hint}")
    if problems:
        raise BeamArgsError("unknown Beam option after `--` (Beam would ignore it): "
                            + ", ".join(problems))
