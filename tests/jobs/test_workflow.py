"""The luigi workflow with stand-in stages (no Beam): a recipe or data problem fails the run
with exit 2 and no retry or traceback, a re-run says what it skipped, and the pack driver
refuses a short plan before it writes anything."""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import yaml

from longweave.jobs import drivers
from longweave.jobs.cli import main
from longweave.jobs.context import RunContext, commit_stage
from longweave.jobs.stages import STAGE_BY_NAME, run_context
from longweave.jobs.workflow import failed_on_recipe_or_data, run_workflow
from longweave.pipeline.packing.shortfalls import MixtureShortfall, Shortfall
from longweave.schemas.recipe import load_recipe

RECIPE = {"name": "r", "sources": [{"name": "a", "kind": "text", "paths": ["."]},
                                   {"name": "b", "kind": "text", "paths": ["."]}],
          "buckets": [1024, 4096],
          "mixture": [{"source": "a", "share": 0.5}, {"source": "b", "share": 0.5}],
          "runner": {"direct_running_mode": "in_memory", "direct_num_workers": 1}}
SHORT = MixtureShortfall("the data fall short of the recipe; nothing was packed:",
                         [Shortfall("mixture[0] (a, all buckets)", "planned share 0.000",
                                    ("budget.max_epochs",))])


def write_recipe(folder: Path) -> Path:
    path = folder / "r.yaml"
    path.write_text(yaml.safe_dump(RECIPE))
    return path


def stand_in_collect(monkeypatch: pytest.MonkeyPatch, run) -> list[int]:
    calls: list[int] = []

    def counted(ctx: RunContext) -> None:
        calls.append(1)
        run(ctx)

    monkeypatch.setitem(STAGE_BY_NAME, "collect",
                        dataclasses.replace(STAGE_BY_NAME["collect"], run=counted))
    return calls


def test_a_shortfall_exits_2_without_retry_or_traceback(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture) -> None:
    def short(ctx: RunContext) -> None:
        raise SHORT

    calls = stand_in_collect(monkeypatch, short)
    code = main(["run", str(write_recipe(tmp_path)), "--workdir", str(tmp_path / "w"),
                 "--until", "collect", "--retries", "2"])
    err = capfd.readouterr().err
    assert code == 2 and calls == [1]
    assert ("[collect] failed: MixtureShortfall: the data fall short of the recipe; nothing "
            "was packed:\n  mixture[0] (a, all buckets): planned share 0.000") in err
    assert "Traceback" not in err
    assert "change the keys named above" in err


def test_a_crash_is_exit_1_and_is_retried(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                          capfd: pytest.CaptureFixture) -> None:
    def crash(ctx: RunContext) -> None:
        raise ConnectionError("storage hiccup")

    calls = stand_in_collect(monkeypatch, crash)
    recipe = write_recipe(tmp_path)
    assert not run_workflow(str(recipe), str(tmp_path / "w"), [], until="collect", retries=1,
                            retry_delay=0.01)
    assert not failed_on_recipe_or_data() and len(calls) == 2
    assert main(["run", str(recipe), "--workdir", str(tmp_path / "w"),
                 "--until", "collect"]) == 1
    assert "[collect] failed: ConnectionError: storage hiccup" in capfd.readouterr().err


def test_a_rerun_says_which_stages_it_skipped(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                              capfd: pytest.CaptureFixture) -> None:
    def commit(ctx: RunContext) -> None:
        commit_stage(ctx, "collect", lambda tmp: os.makedirs(tmp))

    calls = stand_in_collect(monkeypatch, commit)
    recipe = write_recipe(tmp_path)
    assert run_workflow(str(recipe), str(tmp_path / "w"), [], until="collect")
    assert "already done" not in capfd.readouterr().err
    assert run_workflow(str(recipe), str(tmp_path / "w"), [], until="collect")
    collect_hash = run_context(load_recipe(recipe), str(tmp_path / "w")).hashes["collect"]
    assert f"[collect] already done (hash {collect_hash}), skipped" in capfd.readouterr().err
    assert len(calls) == 1


def write_segments(workdir: Path, rows: list[tuple[str, str, int, int]]) -> None:
    folder = workdir / "tokenize" / "segments"
    folder.mkdir(parents=True)
    ids, sources, buckets, tokens = map(list, zip(*rows, strict=True))
    pq.write_table(pa.table({"segment_id": ids, "source": sources, "bucket": buckets,
                             "tokens": tokens}), folder / "part-0.parquet")


def test_the_pack_driver_refuses_a_short_plan_before_writing_anything(tmp_path: Path) -> None:
    # a's two 4,000-token segments against a 500-token target; bucket 1024 gets nothing
    write_segments(tmp_path, [("a0", "a", 4096, 4000), ("a1", "a", 4096, 4000),
                              *((f"b{i}", "b", 4096, 100) for i in range(4))])
    recipe = load_recipe(write_recipe(tmp_path))
    recipe.budget.tokens, recipe.budget.max_epochs = 1000, 3
    with pytest.raises(MixtureShortfall) as info:
        drivers.run_pack(run_context(recipe, str(tmp_path)))
    assert [p.where for p in info.value.problems] == ["mixture[0] (a, all buckets)",
                                                      "buckets[0] (bucket 1024)"]
    assert "budget.tokens" in info.value.keys and "buckets" in info.value.keys
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r.yaml", "tokenize"]


def test_no_segments_at_all_is_a_data_problem_too(tmp_path: Path) -> None:
    (tmp_path / "tokenize" / "segments").mkdir(parents=True)
    recipe = load_recipe(write_recipe(tmp_path))
    with pytest.raises(MixtureShortfall, match="no documents reached the pack stage"):
        drivers.run_pack(run_context(recipe, str(tmp_path)))
