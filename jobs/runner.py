"""Beam pipeline options from the recipe's `runner` section plus the user's own arguments."""

from __future__ import annotations

import os

from apache_beam.options.pipeline_options import PipelineOptions

from longweave.schemas.recipe import RunnerConfig


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
