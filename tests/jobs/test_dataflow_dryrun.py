"""Every stage's Beam pipeline builds a valid Dataflow job offline (`--dry_run=True`)."""

from __future__ import annotations

import tarfile

import apache_beam
import pytest
from dataflow_fixture import PROJECT, small_run

try:  # the project's `gcp` extra: apache-beam[gcp]
    from apache_beam.io.gcp import gcsio  # noqa: F401
    from apache_beam.runners.dataflow import dataflow_runner  # noqa: F401
except ImportError as missing:
    pytest.skip(f"Dataflow dry runs need apache-beam[gcp] (the gcp extra): {missing}",
                allow_module_level=True)

from longweave.jobs.dataflow import DRY_RUN_STAGES, dataflow_args, dry_run_stages
from longweave.schemas.recipe import load_recipe

DRY_ARGS = dataflow_args("longweave-test", "us-central1", "gs://longweave-bucket/tmp",
                         machine_type="n2-highmem-4", max_num_workers=8)

# Transforms each stage's job must contain: the reads, the stage's own steps, the writes.
EXPECTED = {
    "collect": ["Collect/WorkUnits", "Collect/Spread", "Collect/Read", "WriteDocuments",
                "WriteDrops", "WriteQuarantine", "WriteCounts"],
    "filter": ["ReadDocuments/ReadParquet", "Filter", "WriteDocuments", "WriteDrops",
               "WriteCounts"],
    "dedupe": ["ReadDocuments/ReadParquet", "Dedupe/Fingerprint", "Dedupe/GroupByTextHash",
               "Dedupe/Near", "WriteDocuments", "Writeclusters", "WriteCounts"],
    "synthesize": ["ReadDocuments/ReadParquet", "Synthesize", "WriteDocuments", "WriteCounts"],
    "tokenize": ["ReadDocuments/ReadParquet", "Tokenize/Encode", "WriteSegments",
                 "WriteCounts"],
    "pack": ["SegmentFiles", "Route", "SpillsByShard", "Assemble", "WriteIndex",
             "WriteShardList", "WriteCounts"],
}
# (consumer, producer prefix): edges of the graph that carry the stage's data.
EDGES = {
    "collect": ("Collect/Read", "Collect/Spread"),
    "filter": ("Filter", "ReadDocuments"),
    "dedupe": ("Dedupe/GroupByTextHash", "Dedupe/Fingerprint"),
    "synthesize": ("Synthesize", "ReadDocuments"),
    "tokenize": ("Tokenize", "ReadDocuments"),
    "pack": ("Assemble", "SpillsByShard"),
}


@pytest.fixture(scope="module")
def small_workdir(tmp_path_factory):
    return small_run(tmp_path_factory)


@pytest.fixture(scope="module")
def jobs(small_workdir):
    recipe, workdir = small_workdir
    return dry_run_stages(load_recipe(recipe), str(workdir), DRY_ARGS)


def test_every_stage_builds_a_dataflow_job(jobs):
    assert list(jobs) == list(DRY_RUN_STAGES)
    for stage, job in jobs.items():
        assert job.job_name == f"longweave-tiny-{stage}"
        missing = [name for name in EXPECTED[stage] if not job.has(name)]
        assert not missing, f"{stage}: job graph lacks {missing}"
        consumer, producer = EDGES[stage]
        assert any(p.startswith(producer) for p in job.inputs[consumer]), (
            f"{stage}: {consumer} is fed by {job.inputs[consumer]}, not {producer}")


def test_workers_run_the_submitting_beam_version(jobs):
    version = apache_beam.__version__
    for stage, job in jobs.items():
        assert job.container_images, stage
        assert all(image.endswith(f"_sdk:{version}") for image in job.container_images), (
            f"{stage}: {job.container_images}")


def test_setup_file_ships_the_whole_project(small_workdir):
    pytest.importorskip("build", reason="--setup_file with pyproject.toml needs `build`")
    recipe, workdir = small_workdir
    args = DRY_ARGS + [f"--setup_file={PROJECT / 'pyproject.toml'}"]
    job = dry_run_stages(load_recipe(recipe), str(workdir), args, ["filter"])["filter"]
    tarball = job.artifacts["workflow.tar.gz"]
    with tarfile.open(tarball) as sdist:
        names = {name.split("/", 1)[1] for name in sdist.getnames() if "/" in name}
    for needed in ("jobs/stages.py", "pipeline/transforms/docio.py", "filters/quality.py",
                   "schemas/document.py", "recipes/demo.yaml", "pyproject.toml"):
        assert needed in names, f"the worker package lacks {needed}"


def test_dataflow_args_offline_needs():
    args = dataflow_args("my-project-123", "europe-west4", "gs://my-bucket/tmp",
                         requirements_file="req.txt", dry_run=True)
    assert "--runner=DataflowRunner" in args and "--dry_run=True" in args
    # pip download of the requirements would need the network at submission
    assert "--requirements_cache=skip" in args
    assert not any(a.startswith("--setup_file") for a in args)


def test_a_bad_project_id_fails_before_any_stage_runs(small_workdir):
    recipe, workdir = small_workdir
    args = dataflow_args("p", "us-central1", "gs://longweave-bucket/tmp")
    with pytest.raises(ValueError, match="Project ID"):
        dry_run_stages(load_recipe(recipe), str(workdir), args, ["filter"])
