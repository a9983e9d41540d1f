"""The trainer-facing loader: labels and positions, rank sharding, resuming, and no Beam."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
from report_fixture import build_output

from longweave.pipeline.packing.loader import (
    IGNORE_INDEX,
    LoaderError,
    PackedLoader,
    bucket_sizes,
)
from longweave.pipeline.packing.shards import write_shard
from longweave.schemas.packed import Manifest, PackedSequence

M = IGNORE_INDEX


@pytest.fixture
def out(tmp_path: Path) -> str:
    return str(build_output(tmp_path / "pack"))


def test_importing_the_loader_imports_no_beam() -> None:
    result = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", "import longweave.pipeline.packing.loader"],
        capture_output=True, text=True, check=True)
    assert "longweave.pipeline.packing.loader" in result.stderr
    assert result.stderr.count("apache_beam") == 0


def test_reading_a_local_folder_works_with_beam_unimportable(out: str) -> None:
    script = textwrap.dedent(f"""
        import sys
        sys.modules["apache_beam"] = None  # any import of Beam now fails
        from longweave.pipeline.packing.loader import PackedLoader
        print(sum(len(row["input_ids"]) for row in PackedLoader({out!r}, 8)))
    """)
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "40"


def test_labels_positions_and_boundaries(out: str) -> None:
    assert bucket_sizes(out) == [8, 16]
    rows = list(PackedLoader(out, 8))
    assert len(rows) == 5
    first, padded = rows[0], rows[1]
    # A[1..5] + B#0[6,7,8]: each document's first token is out of the loss
    assert first["input_ids"].tolist() == [1, 2, 3, 4, 5, 6, 7, 8]
    assert first["labels"].tolist() == [M, 2, 3, 4, 5, M, 7, 8]
    assert first["position_ids"].tolist() == [0, 1, 2, 3, 4, 0, 1, 2]
    assert first["cu_seqlens"].tolist() == [0, 5, 8] and first["max_seqlen"] == 5
    # B#1[9,10,6,7] + 4 pad tokens: the pad segment is out of the loss
    assert padded["labels"].tolist() == [M, 10, 6, 7, M, M, M, M]
    assert padded["position_ids"].tolist() == [0, 1, 2, 3, 0, 1, 2, 3]
    assert padded["max_seqlen"] == 4
    assert {row["input_ids"].dtype for row in rows} == {np.dtype(np.int64)}
    assert {row["labels"].dtype for row in rows} == {np.dtype(np.int64)}
    assert {row["cu_seqlens"].dtype for row in rows} == {np.dtype(np.int32)}
    assert [len(r["input_ids"]) for r in PackedLoader(out, 16)] == [16, 16]


def test_loss_mask_and_padding_without_a_mask_column(tmp_path: Path) -> None:
    out = str(tmp_path / "pack")
    rows = [PackedSequence(input_ids=[5, 6, 7, 8, 0, 0], cu_seqlens=[0, 4, 6],
                           doc_ids=["a", "<pad>"], doc_sources=["s", "<pad>"], bucket=6,
                           loss_mask=[1, 0, 0, 1, 0, 0])]
    masked = write_shard(out, 6, 0, rows, True, False, "zstd")
    unmasked = write_shard(out, 6, 1, rows, False, False, "zstd")
    Manifest(recipe_name="t", recipe_hash="r", tokenizer_hash="t", buckets=[6],
             shards=[masked, unmasked]).write(out)
    with_mask, without = PackedLoader(out, 6)
    assert with_mask["labels"].tolist() == [M, M, M, 8, M, M]
    assert without["labels"].tolist() == [M, 6, 7, 8, M, M]


def test_ranks_split_rows_evenly_and_disjointly(out: str) -> None:
    everything = [row["input_ids"].tolist() for row in PackedLoader(out, 8)]
    ranks = [PackedLoader(out, 8, rank=r, world_size=2) for r in range(2)]
    assert [len(r) for r in ranks] == [2, 2] and ranks[0].dropped == 1
    got = [[row["input_ids"].tolist() for row in r] for r in ranks]
    assert got == [[everything[0], everything[2]], [everything[1], everything[3]]]
    with pytest.raises(LoaderError, match="fewer than world_size"):
        PackedLoader(out, 16, rank=0, world_size=3)
    with pytest.raises(LoaderError, match="rank 2 of world_size 2"):
        PackedLoader(out, 8, rank=2, world_size=2)


def test_resume_from_a_saved_state_continues_at_the_next_row(out: str) -> None:
    everything = [row["input_ids"].tolist() for row in PackedLoader(out, 8)]
    loader = PackedLoader(out, 8)
    stream = iter(loader)
    seen = [next(stream)["input_ids"].tolist() for _ in range(2)]
    state = loader.state_dict()
    assert state == {"bucket": 8, "world_size": 1, "epoch": 0, "next_row": 2}
    resumed = PackedLoader(out, 8)
    resumed.load_state_dict(state)
    assert seen + [row["input_ids"].tolist() for row in resumed] == everything
    # after an epoch's last row the position is already the next epoch's start
    assert resumed.state_dict() == {"bucket": 8, "world_size": 1, "epoch": 1, "next_row": 0}
    assert [row["input_ids"].tolist() for row in resumed] == everything


def test_a_position_past_the_end_or_for_another_loader_is_an_error(out: str) -> None:
    loader = PackedLoader(out, 8)
    with pytest.raises(LoaderError, match="start row 5 is past the end: bucket 8 has 5 rows"):
        loader.load_state_dict({"bucket": 8, "world_size": 1, "epoch": 0, "next_row": 5})
    with pytest.raises(LoaderError, match="past the end"):
        list(loader.rows(start=9))
    with pytest.raises(LoaderError, match="world_size 2"):
        loader.load_state_dict({"bucket": 8, "world_size": 2, "epoch": 0, "next_row": 0})
    with pytest.raises(LoaderError, match="bucket 16"):
        loader.load_state_dict({"bucket": 16, "world_size": 1, "epoch": 0, "next_row": 0})
    assert [r["input_ids"].tolist() for r in loader.rows(start=4)] == [
        next(iter(PackedLoader(out, 8, rank=0, world_size=1).rows(4)))["input_ids"].tolist()]


def test_missing_folder_or_bucket_names_what_is_there(out: str, tmp_path: Path) -> None:
    with pytest.raises(LoaderError, match="no manifest.json"):
        PackedLoader(str(tmp_path / "nowhere"), 8)
    with pytest.raises(LoaderError, match=r"bucket 32 has no rows; buckets with rows: \[8, 16\]"):
        PackedLoader(out, 32)
