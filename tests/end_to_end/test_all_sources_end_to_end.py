"""Every source kind through the whole pipeline: real books, real agent sessions, real code."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from conftest import PROJECT_ROOT, SHARED_DATA

from longweave.jobs.workflow import run_workflow
from longweave.pipeline.packing.shards import read_shard
from longweave.schemas.packed import PAD_DOC_ID

pytestmark = pytest.mark.skipif(
    not (SHARED_DATA / "books").is_dir() or not (SHARED_DATA / "trajectories").is_dir(),
    reason=f"needs the real books and trajectories in {SHARED_DATA}")


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """recipes/books-and-agents.yaml, made smaller and run in-process."""
    recipe = yaml.safe_load((PROJECT_ROOT / "recipes" / "books-and-agents.yaml").read_text())
    for source in recipe["sources"]:
        source["paths"] = [str(SHARED_DATA / p.split("shared/data/")[1])
                           if "shared/data/" in p else p for p in source["paths"]]
    recipe["tokenizer"]["train"] = {"vocab_size": 2000, "sample_chars": 600_000}
    recipe["runner"] = {"direct_running_mode": "in_memory", "direct_num_workers": 1}
    folder = tmp_path_factory.mktemp("all_sources")
    path = folder / "recipe.yaml"
    path.write_text(yaml.safe_dump(recipe))
    assert run_workflow(str(path), str(folder / "work"), [], until="pack")
    return folder / "work"


def test_every_source_reaches_the_shards_in_its_share(run: Path) -> None:
    manifest = json.loads((run / "pack" / "manifest.json").read_text())
    mixture = manifest["mixture"]
    assert set(mixture["actual"]) == {"books", "agents", "code", "synthetic"}
    for source, share in mixture["target"].items():
        assert abs(mixture["actual"][source] - share) < 0.02, (source, mixture)
    for stage, ledger in manifest["ledgers"].items():
        assert ledger["balanced"], stage


def test_agent_observations_are_out_of_the_loss_and_books_are_in(run: Path) -> None:
    manifest = json.loads((run / "pack" / "manifest.json").read_text())
    masked = {"agents": [0, 0], "books": [0, 0]}
    for entry in manifest["shards"]:
        for row in read_shard(str(run / "pack" / entry["path"])).to_pylist():
            for start, end, doc, source in zip(row["cu_seqlens"], row["cu_seqlens"][1:],
                                               row["doc_ids"], row["doc_sources"],
                                               strict=False):
                if doc != PAD_DOC_ID and source in masked:
                    off = (end - start) - sum(row["loss_mask"][start:end])
                    masked[source][0] += off
                    masked[source][1] += end - start
    assert masked["agents"][1] and masked["books"][1]
    assert 0 < masked["agents"][0] < masked["agents"][1]  # observations off, actions on
    assert masked["books"][0] == 0


def test_long_books_split_only_at_chapters(run: Path) -> None:
    import pyarrow.parquet as pq

    index = pq.read_table(run / "pack" / "docs").to_pylist()
    books = [r for r in index if r["kind"] == "book"]
    assert books, "no book reached the output"
    titles = {json.loads(r["meta"]).get("title") for r in books}
    assert "Pride and Prejudice" in titles
    assert {r["split"] for r in books} <= {"none", "span"}
