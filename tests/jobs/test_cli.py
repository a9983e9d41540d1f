"""The command line in-process: flags anywhere, stages checked against the stage table, and
exit 2 with a clear message (creating nothing) for a mistyped folder or Beam option."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from longweave.jobs.cli import main, parse_args
from longweave.jobs.stages import STAGE_ORDER

RECIPE = {"name": "r", "sources": [{"name": "a", "kind": "text", "paths": ["."]}],
          "buckets": [1024]}


def write_recipe(folder: Path, **changes) -> Path:
    path = folder / "r.yaml"
    path.write_text(yaml.safe_dump({**RECIPE, **changes}))
    return path


@pytest.mark.parametrize("argv", [
    ["demo", "-v", "--workdir", "w", "--retries", "2", "--scheduler-host", "h:1"],
    ["-v", "demo", "--workdir", "w", "--retries", "2", "--scheduler-host", "h:1"],
    ["-v", "--workdir", "w", "--retries", "2", "--scheduler-host", "h:1", "demo"],
    ["--retries", "2", "demo", "--scheduler-host", "h:1", "-v", "--workdir", "w"],
])
def test_global_flags_before_or_after_the_subcommand(argv: list[str]) -> None:
    args = parse_args(argv)
    assert (args.command, args.verbose, args.workdir, args.retries, args.scheduler_host,
            args.until) == ("demo", True, "w", 2, "h:1", "report")


def test_defaults_without_flags() -> None:
    args = parse_args(["run", "r.yaml"])
    assert (args.verbose, args.workdir, args.retries, args.scheduler_host, args.until) == (
        False, None, 0, None, "report")
    assert parse_args(["status", "w", "-v"]).verbose is True


def test_until_is_checked_against_the_stage_table(capsys: pytest.CaptureFixture) -> None:
    for stage in STAGE_ORDER:
        assert parse_args(["demo", "--until", stage]).until == stage
    with pytest.raises(SystemExit) as info:
        main(["demo", "--until", "tokenise"])
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert "argument --until: invalid choice: 'tokenise'" in err
    assert ", ".join(STAGE_ORDER) in err


def test_run_flags_with_another_command_are_an_error(capsys: pytest.CaptureFixture) -> None:
    with pytest.raises(SystemExit) as info:
        parse_args(["--workdir", "w", "status", "x"])
    assert info.value.code == 2
    assert "--workdir: only for run, demo, plan" in capsys.readouterr().err


@pytest.mark.parametrize(("argv", "message"), [
    (["status", "{missing}"], "longweave status: no work folder at {missing}"),
    (["report", "{missing}"], "longweave report: {missing} is not a pack output folder "
     "(no such folder)"),
    (["inspect", "{missing}/pack/1024/shard-00000.arrow"], "longweave inspect: no shard at "
     "{missing}/pack/1024/shard-00000.arrow"),
    (["publish", "{missing}", "--repo-id", "org/name"], "longweave publish: {missing} is not "
     "a pack output folder (no such folder)"),
    (["export-mds", "{missing}", "{missing}-mds"], "longweave export-mds: {missing} is not a "
     "pack output folder (no such folder)"),
])
def test_a_missing_folder_exits_2_and_creates_nothing(
        tmp_path: Path, capsys: pytest.CaptureFixture, argv: list[str], message: str) -> None:
    missing = str(tmp_path / "mistyped")
    assert main([a.format(missing=missing) for a in argv]) == 2
    assert message.format(missing=missing) in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


def test_report_on_a_work_folder_points_at_its_pack_folder(
        tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    (tmp_path / "pack").mkdir()
    (tmp_path / "pack" / "manifest.json").write_text("{}")
    assert main(["report", str(tmp_path)]) == 2
    assert f"(no manifest.json); did you mean {tmp_path / 'pack'}?" in capsys.readouterr().err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["pack"]


def test_an_unknown_beam_option_fails_before_any_stage(
        tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    recipe = write_recipe(tmp_path)
    work = tmp_path / "work"
    assert main(["run", str(recipe), "--workdir", str(work), "--",
                 "--dirct_num_workers=2"]) == 2
    err = capsys.readouterr().err
    assert ("longweave run: unknown Beam option after `--` (Beam would ignore it): "
            "--dirct_num_workers (did you mean --direct_num_workers?)") in err
    assert not work.exists()


def test_an_unknown_runner_option_in_the_recipe_names_the_key(
        tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    recipe = write_recipe(tmp_path, runner={"options": {"save_main_sesion": True}})
    assert main(["validate", str(recipe)]) == 2
    assert ("recipe error: runner.options.save_main_sesion: unknown Beam option (did you "
            "mean --save_main_session?)") in capsys.readouterr().err


@pytest.mark.slow
def test_plan_finds_an_infeasible_budget_before_tokenize(tmp_path: Path, capsys) -> None:
    """`longweave plan` runs up to synthesize, then refuses a budget the data cannot meet,
    naming budget.tokens, with nothing tokenized."""
    from conftest import write_tiny_recipe

    recipe = write_tiny_recipe(tmp_path, extra="\n")
    text = recipe.read_text().replace("budget: {max_epochs: 3}",
                                      "budget: {max_epochs: 3, tokens: 100000000}")
    recipe.write_text(text)
    work = tmp_path / "work"
    assert main(["plan", str(recipe), "--workdir", str(work)]) == 2
    err = capsys.readouterr().err
    assert "budget.tokens: 100,000,000 tokens cannot be met" in err
    assert (work / "synthesize" / "_SUCCESS").exists() and not (work / "tokenize").exists()
