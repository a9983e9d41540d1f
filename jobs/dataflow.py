"""Dataflow dry runs: build every stage's Beam job as Dataflow would receive it, offline.

A dry run goes through the real stage drivers (`longweave.jobs.stages.STAGES`) with the
recipe's runner switched to `DataflowRunner` and Beam's `--dry_run=True`: the pipeline is
constructed, every DoFn pickled, the graph translated to the portable proto with Dataflow's
overrides, and the workers' dependencies (`--setup_file`, `--requirements_file`) built,
and then nothing is submitted. It proves a recipe's jobs are valid Dataflow jobs before any
money is spent, and lets a test assert each stage's job graph.

Stages that read upstream output glob it while the pipeline is being built, so the
work folder must hold the upstream stages (a local run of the same recipe, or a copy).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import apache_beam as beam
from apache_beam.portability.api import beam_runner_api_pb2

from longweave.jobs.context import RunContext
from longweave.jobs.stages import STAGE_BY_NAME, STAGES, stage_hashes
from longweave.schemas.recipe import Recipe, load_recipe

DRY_RUN_STAGES: tuple[str, ...] = tuple(stage.name for stage in STAGES if stage.beam_job)


def dataflow_args(project: str, region: str, temp_location: str, *,
                  staging_location: str | None = None, setup_file: str | None = None,
                  requirements_file: str | None = None, machine_type: str | None = None,
                  max_num_workers: int | None = None, dry_run: bool = False) -> list[str]:
    """Beam arguments for a Dataflow job; `dry_run` builds the job without submitting it.

    Offline, a dry run still validates the options: the project id must look like one
    (6-30 lowercase letters, digits, hyphens) and `temp_location` must be a gs:// path in a
    valid bucket name (3+ characters), else Beam tries to create a default bucket online.
    """
    args = ["--runner=DataflowRunner", f"--project={project}", f"--region={region}",
            f"--temp_location={temp_location}"]
    optional = {"staging_location": staging_location, "setup_file": setup_file,
                "requirements_file": requirements_file, "machine_type": machine_type,
                "max_num_workers": max_num_workers}
    args += [f"--{name}={value}" for name, value in optional.items() if value is not None]
    if requirements_file is not None:
        # `pip download` of the requirements needs the network; workers install them anyway.
        args.append("--requirements_cache=skip")
    if dry_run:
        args.append("--dry_run=True")
    return args


@dataclass
class StageJob:
    """What Dataflow would have received for one stage."""

    stage: str
    job_name: str
    transforms: list[str]          # unique names of every transform, sorted
    artifacts: dict[str, str]      # staged name -> local file (workflow.tar.gz, ...)
    container_images: list[str] = field(default_factory=list)
    inputs: dict[str, list[str]] = field(default_factory=dict)  # transform -> its producers

    def has(self, name: str) -> bool:
        """True when a transform of that full name exists (e.g. `Pack/BestFit`)."""
        return name in self.transforms

    def top_level(self) -> list[str]:
        return sorted({name.split("/", 1)[0] for name in self.transforms
                       if not name.startswith("ref_")})


class DryRunComplete(Exception):
    """Raised after a stage's job is built, so the stage's commit step never runs."""


def describe_job(stage: str, job) -> StageJob:  # noqa: ANN001 - apiclient.Job
    """The transform names, staged artifacts and images of a built Dataflow job."""
    components = job.proto_pipeline.components
    artifacts: dict[str, str] = {}
    images: set[str] = set()
    for env in components.environments.values():
        if env.urn == "beam:env:docker:v1":
            images.add(beam_runner_api_pb2.DockerPayload.FromString(env.payload)
                       .container_image)
        for dependency in env.dependencies:
            if dependency.role_urn == "beam:artifact:role:staging_to:v1":
                name = beam_runner_api_pb2.ArtifactStagingToRolePayload.FromString(
                    dependency.role_payload).staged_name
                artifacts[name] = beam_runner_api_pb2.ArtifactFilePayload.FromString(
                    dependency.type_payload).path
    return StageJob(stage=stage, job_name=job.proto.name,
                    transforms=sorted(t.unique_name for t in components.transforms.values()),
                    artifacts=dict(sorted(artifacts.items())),
                    container_images=sorted(images), inputs=_producers(components))


def _producers(components) -> dict[str, list[str]]:  # noqa: ANN001 - proto Components
    """For each transform, the innermost transforms that produce its inputs (the edges)."""
    producer: dict[str, str] = {}
    for transform in components.transforms.values():
        for pcoll in transform.outputs.values():
            known = producer.get(pcoll)
            if known is None or transform.unique_name.count("/") > known.count("/"):
                producer[pcoll] = transform.unique_name
    return {t.unique_name: sorted({producer[p] for p in t.inputs.values() if p in producer})
            for t in components.transforms.values()}


class DryRunContext(RunContext):
    """A RunContext whose Beam jobs are built for Dataflow and recorded, never run."""

    def __init__(self, recipe: Recipe, workdir: str, beam_args: list[str],
                 verbose: bool = False) -> None:
        runner = recipe.runner.model_copy(update={"runner": "DataflowRunner"})
        args = list(beam_args)
        if not any(a.startswith("--dry_run") for a in args):
            args.append("--dry_run=True")
        dataflow_recipe = recipe.model_copy(update={"runner": runner})
        super().__init__(dataflow_recipe, workdir, args, verbose, stage_hashes(dataflow_recipe))
        self.jobs: dict[str, StageJob] = {}

    def run_beam(self, stage: str, build: Callable[[beam.Pipeline], None]) -> None:
        built: list[beam.Pipeline] = []

        def remember(pipeline: beam.Pipeline) -> None:
            build(pipeline)
            built.append(pipeline)

        super().run_beam(stage, remember)
        self.jobs[stage] = describe_job(stage, built[0].result.job)
        raise DryRunComplete(stage)

    def log_path(self, stage: str) -> str | None:
        return None  # keep the real stages' logs free of dry-run output


def dry_run_stages(recipe: Recipe, workdir: str, beam_args: list[str],
                   stages: Iterable[str] = DRY_RUN_STAGES, verbose: bool = False
                   ) -> dict[str, StageJob]:
    """Build each stage's Dataflow job against `workdir` (which holds the upstream stages)."""
    ctx = DryRunContext(recipe, workdir, beam_args, verbose)
    for stage in stages:
        try:
            STAGE_BY_NAME[stage].run(ctx)
        except DryRunComplete:
            continue
        raise RuntimeError(f"stage {stage!r} built no Beam job to dry-run")
    return ctx.jobs


def main(argv: list[str] | None = None) -> int:
    """`python -m longweave.jobs.dataflow RECIPE --workdir W -- <dataflow args>`: print each job graph."""
    parser = argparse.ArgumentParser(prog="python -m longweave.jobs.dataflow", description=main.__doc__)
    parser.add_argument("recipe")
    parser.add_argument("--workdir", required=True, help="holds the upstream stages")
    parser.add_argument("--stages", nargs="*", default=list(DRY_RUN_STAGES))
    argv = list(sys.argv[1:] if argv is None else argv)
    split = argv.index("--") if "--" in argv else len(argv)
    args = parser.parse_args(argv[:split])
    beam_args = argv[split + 1:]
    jobs = dry_run_stages(load_recipe(args.recipe), args.workdir, beam_args, args.stages)
    for stage, job in jobs.items():
        print(f"{stage}: job {job.job_name}, {len(job.transforms)} transforms, "
              f"staged {sorted(job.artifacts) or 'nothing'}")
        print("   " + ", ".join(job.top_level()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
