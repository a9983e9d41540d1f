"""Whole runs of the tiny recipe with faults (issue 18): a bit flipped in a committed
segment file or a shard is found, named with the stage that wrote it, and the re-run
rebuilds byte-identical shards; an added input re-runs collect; the trainer's loader
refuses a damaged shard. Slow: one whole run plus partial re-runs."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import pytest
from conftest import NOTES, write_tiny_recipe

from longweave.jobs.cli import main
from longweave.jobs.workflow import run_workflow
from longweave.pipeline.packing.loader import LoaderError, PackedLoader
from longweave.schemas.packed import Manifest

pytestmark = pytest.mark.slow


def shard_hashes(work: Path) -> dict[str, str]:
    return {p.relative_to(work / "pack").as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted((work / "pack").glob("*/shard-*.arrow"))}


def flip_bit(path: Path) -> None:
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x04
    path.write_bytes(bytes(data))


@pytest.fixture(scope="module")
def damaged_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("integrity")
    (folder / "notes").mkdir()
    shutil.copy(NOTES, folder / "notes" / NOTES.name)
    recipe = write_tiny_recipe(folder)
    recipe.write_text(recipe.read_text().replace(str(NOTES), str(folder / "notes")))
    assert run_workflow(str(recipe), str(folder / "work"), [], until="pack")
    return recipe, folder / "work"


def test_a_flipped_bit_in_a_shard_rebuilds_the_same_shard(
        damaged_run: tuple[Path, Path], capfd: pytest.CaptureFixture) -> None:
    recipe, work = damaged_run
    original = shard_hashes(work)
    assert original == {s.path: s.sha256 for s in Manifest.read(str(work / "pack")).shards}
    shard = sorted((work / "pack").glob("*/shard-*.arrow"))[0]
    flip_bit(shard)
    bucket = int(shard.parent.name)
    with pytest.raises(LoaderError, match="sha256"):
        list(PackedLoader(str(work / "pack"), bucket).rows())
    assert main(["verify", str(work)]) == 1
    assert run_workflow(str(recipe), str(work), [], until="pack")
    err = capfd.readouterr().err
    assert "files written by the pack stage are damaged" in err and shard.name in err
    assert "[tokenize] started" not in err  # only pack re-ran
    assert shard_hashes(work) == original
    assert main(["verify", str(work)]) == 0


def test_a_flipped_bit_in_a_segment_file_reruns_tokenize_then_pack(
        damaged_run: tuple[Path, Path], capfd: pytest.CaptureFixture) -> None:
    recipe, work = damaged_run
    original = shard_hashes(work)
    segments = sorted((work / "tokenize" / "segments").glob("*.parquet"))[0]
    flip_bit(segments)
    (work / "pack" / "_SUCCESS").unlink()  # pack has yet to read it (a killed run)
    capfd.readouterr()
    assert run_workflow(str(recipe), str(work), [], until="pack")
    err = capfd.readouterr().err
    assert "files written by the tokenize stage are damaged" in err
    assert segments.name in err and "rebuilding from the damaged stage" in err
    assert "[tokenize] started" in err and "[synthesize] started" not in err
    assert shard_hashes(work) == original


def test_an_added_input_file_reruns_collect(damaged_run: tuple[Path, Path],
                                            capfd: pytest.CaptureFixture) -> None:
    recipe, work = damaged_run
    assert run_workflow(str(recipe), str(work), [], until="collect")
    assert "[collect] already done" in capfd.readouterr().err
    added = recipe.parent / "notes" / "more.jsonl"
    added.write_text('{"id": "m1", "text": "' + "A new note about integrity. " * 10 + '"}\n')
    assert run_workflow(str(recipe), str(work), [], until="collect")
    err = capfd.readouterr().err
    assert "[collect] inputs changed since it ran: 1 added" in err and "more.jsonl" in err
    assert "[collect] started" in err
    assert run_workflow(str(recipe), str(work), [], until="collect",
                        assume_inputs_unchanged=True)
    assert "[collect] already done" in capfd.readouterr().err
