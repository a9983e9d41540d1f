"""Live progress: workers' counts reach the driver while a job runs, and the terminal line
says records of those expected, the measure, and throughput."""

from __future__ import annotations

import time
from pathlib import Path

import apache_beam as beam
import pytest
from apache_beam.testing.test_pipeline import TestPipeline as BeamTestPipeline
from apache_beam.testing.util import assert_that, equal_to

from longweave.jobs.progress import StageStalled, progress_line, stage_progress
from longweave.pipeline.transforms.progress import read_progress, recording, track


def test_track_counts_what_passes_and_changes_nothing(tmp_path: Path) -> None:
    folder = str(tmp_path / "progress")
    with BeamTestPipeline() as pipeline, recording(folder):
        rows = pipeline | beam.Create([{"tokens": n} for n in (5, 7, 11)])
        out = track(rows, "Progress", "tokens", lambda row: row["tokens"])
        assert_that(out | beam.Map(lambda row: row["tokens"]), equal_to([5, 7, 11]))
    progress = read_progress(folder)
    assert (progress.elements, progress.amount, progress.unit) == (3, 23, "tokens")


def test_without_a_recording_folder_no_step_is_added() -> None:
    pipeline = beam.Pipeline()
    rows = pipeline | beam.Create([1, 2])
    assert track(rows, "Progress", "x") is rows


def test_progress_line_reads_like_a_progress_bar() -> None:
    line = progress_line("filter", 10.0, 1234, 45_600_000, "chars", 4000)
    assert line == "[filter] 1,234/4,000 records (31%) · 45.6M chars · 4.6M chars/s · 10s"
    assert progress_line("collect", 3.0, 0, 0, "", None) == "[collect] running ... 3s"
    assert progress_line("pack", 2.0, 9, 0, "", None) == "[pack] 9 records · 2s"


def _hang(x: int) -> int:
    if x == 2:
        time.sleep(600)
    return x


def test_a_job_that_stops_moving_fails_as_stalled(tmp_path: Path) -> None:
    """A worker stuck on an element: after `stall_seconds` without a finished element the
    stage fails with StageStalled (a retryable error) naming the stage and the last
    progress, instead of hanging forever."""
    folder = str(tmp_path / "progress")
    start = time.monotonic()
    with pytest.raises(StageStalled, match=r"\[hung\] no element finished for \d+s"):
        with stage_progress("hung", folder, 4, stall_seconds=1.0):
            with beam.Pipeline() as pipeline, recording(folder):
                rows = track(pipeline | beam.Create([1, 2, 3]), "Progress", "x")
                rows | beam.Map(_hang)
    assert time.monotonic() - start < 60
