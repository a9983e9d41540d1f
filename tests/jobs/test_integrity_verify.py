"""A committed stage's record (`stage.json` files with sha256 and rows) and what checks it:
sizes on every done-check, contents before a stage reads them, `longweave verify`, input
fingerprints, and drop rows that name their input (issue 18). No Beam pipeline runs here."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import yaml

from longweave.filters.exact import Candidate, resolve_cluster
from longweave.jobs.cli import main
from longweave.jobs.context import RunContext, commit_stage, is_done
from longweave.jobs.stages import run_context
from longweave.jobs.verify import content_problems, record_files, sizes_problems
from longweave.jobs.workflow import verify_reads
from longweave.pipeline.transforms.collect import input_fingerprints
from longweave.pipeline.transforms.filter import _FilterDoFn
from longweave.schemas.document import Document
from longweave.schemas.ledger import Drop, Rejected
from longweave.schemas.recipe import load_recipe
from longweave.schemas.recipe_filters import FilterConfig


def flip_bit(path: Path, offset: int | None = None) -> None:
    data = bytearray(path.read_bytes())
    data[len(data) // 2 if offset is None else offset] ^= 0x01
    path.write_bytes(bytes(data))


def stage_files(folder: Path) -> None:
    (folder / "documents").mkdir(parents=True)
    pq.write_table(pa.table({"x": list(range(100))}), folder / "documents" / "part-0.parquet")
    (folder / "clusters").mkdir()
    (folder / "clusters" / "part-0.jsonl").write_text('{"a": 1}\n{"a": 2}\n')


def test_the_record_has_sha256_bytes_and_rows(tmp_path: Path) -> None:
    stage_files(tmp_path)
    (tmp_path / "_SUCCESS").write_text("")
    records = {r["path"]: r for r in record_files(str(tmp_path))}
    assert sorted(records) == ["clusters/part-0.jsonl", "documents/part-0.parquet"]
    assert records["documents/part-0.parquet"]["rows"] == 100
    assert records["clusters/part-0.jsonl"]["rows"] == 2
    assert len(records["clusters/part-0.jsonl"]["sha256"]) == 64
    assert content_problems(str(tmp_path), list(records.values())) == []


@pytest.mark.parametrize("fault", ["bitflip", "truncate", "missing", "stray"])
def test_each_fault_is_named(tmp_path: Path, fault: str) -> None:
    stage_files(tmp_path)
    records = record_files(str(tmp_path))
    parquet = tmp_path / "documents" / "part-0.parquet"
    if fault == "bitflip":
        flip_bit(parquet)
    elif fault == "truncate":
        parquet.write_bytes(parquet.read_bytes()[:-10])
    elif fault == "missing":
        parquet.unlink()
    else:
        (tmp_path / "documents" / "part-1.parquet").write_bytes(parquet.read_bytes())
    problems = content_problems(str(tmp_path), records)
    assert len(problems) == 1, problems
    expected = {"bitflip": "documents/part-0.parquet: sha256",
                "truncate": "documents/part-0.parquet: ",
                "missing": "documents/part-0.parquet: missing",
                "stray": "documents/part-1.parquet: not written by this stage"}[fault]
    assert problems[0].startswith(expected)
    # the cheap check sees all but the same-size bit flip
    assert bool(sizes_problems(str(tmp_path), records)) == (fault != "bitflip")


RECIPE = {"name": "r", "sources": [{"name": "a", "kind": "text", "paths": ["in"]}],
          "buckets": [1024], "runner": {"direct_running_mode": "in_memory",
                                        "direct_num_workers": 1}}


def context(tmp_path: Path) -> RunContext:
    (tmp_path / "in").mkdir(exist_ok=True)
    if not (tmp_path / "in" / "a.jsonl").exists():
        (tmp_path / "in" / "a.jsonl").write_text('{"text": "hello"}\n')
    recipe = tmp_path / "r.yaml"
    recipe.write_text(yaml.safe_dump(RECIPE))
    return run_context(load_recipe(recipe), str(tmp_path / "w"))


def commit_fake(ctx: RunContext, stage: str) -> None:
    commit_stage(ctx, stage, lambda tmp: stage_files(Path(tmp)))


def test_a_damaged_upstream_is_named_and_marked_not_done(tmp_path: Path,
                                                         capfd: pytest.CaptureFixture) -> None:
    ctx = context(tmp_path)
    commit_fake(ctx, "collect")
    assert is_done(ctx, "collect")
    verify_reads(ctx, "filter")  # intact: no error
    flip_bit(tmp_path / "w" / "collect" / "documents" / "part-0.parquet")
    assert is_done(ctx, "collect")  # same size: only hashing tells
    with pytest.raises(RuntimeError) as info:
        verify_reads(ctx, "filter")
    message = str(info.value)
    assert "written by the collect stage" in message
    assert "collect/documents/part-0.parquet: sha256" in message
    assert not is_done(ctx, "collect")  # re-runs


def test_a_truncated_file_fails_the_done_check(tmp_path: Path,
                                               capfd: pytest.CaptureFixture) -> None:
    ctx = context(tmp_path)
    commit_fake(ctx, "collect")
    parquet = tmp_path / "w" / "collect" / "documents" / "part-0.parquet"
    parquet.write_bytes(parquet.read_bytes()[:50])
    assert not is_done(ctx, "collect")
    assert "documents/part-0.parquet: 50 bytes" in capfd.readouterr().err
    assert not (tmp_path / "w" / "collect" / "_SUCCESS").exists()


def test_verify_exits_0_then_1_with_the_file(tmp_path: Path,
                                             capsys: pytest.CaptureFixture) -> None:
    ctx = context(tmp_path)
    commit_fake(ctx, "collect")
    assert main(["verify", str(tmp_path / "w")]) == 0
    assert "collect     ok (2 files)" in capsys.readouterr().out
    flip_bit(tmp_path / "w" / "collect" / "clusters" / "part-0.jsonl", 0)
    assert main(["verify", str(tmp_path / "w")]) == 1
    out = capsys.readouterr().out
    assert "collect     DAMAGED" in out and "clusters/part-0.jsonl: sha256" in out
    assert main(["verify", str(tmp_path / "nowhere")]) == 2


def test_an_added_changed_or_removed_input_changes_collects_hash(tmp_path: Path) -> None:
    first = context(tmp_path)
    again = context(tmp_path)
    assert again.hashes == first.hashes
    (tmp_path / "in" / "b.jsonl").write_text('{"text": "added"}\n')
    added = context(tmp_path)
    assert added.hashes["collect"] != first.hashes["collect"]
    assert added.hashes["pack"] != first.hashes["pack"]  # and everything after it
    os.utime(tmp_path / "in" / "b.jsonl", (1, 1))
    touched = context(tmp_path)
    assert touched.hashes["collect"] != added.hashes["collect"]
    (tmp_path / "in" / "b.jsonl").unlink()
    assert context(tmp_path).hashes == first.hashes  # back to the same files


def test_the_work_folder_inside_a_source_folder_is_not_an_input(tmp_path: Path) -> None:
    ctx = context(tmp_path)
    (tmp_path / "in" / "w").mkdir()
    recipe = load_recipe(tmp_path / "r.yaml")
    before = input_fingerprints(recipe.sources, workdir=str(tmp_path / "in" / "w"))
    (tmp_path / "in" / "w" / "part.jsonl").write_text('{"text": "x"}\n')
    after = input_fingerprints(recipe.sources, workdir=str(tmp_path / "in" / "w"))
    assert before["digest"] == after["digest"]
    assert ctx.inputs is not None and ctx.inputs["files"] == 1


def test_assume_inputs_unchanged_reuses_collects_record(tmp_path: Path) -> None:
    ctx = context(tmp_path)
    commit_fake(ctx, "collect")
    record = json.loads((tmp_path / "w" / "collect" / "stage.json").read_text())
    assert record["inputs"]["list"][0]["path"].endswith("a.jsonl")
    (tmp_path / "in" / "b.jsonl").write_text('{"text": "added"}\n')
    recipe = load_recipe(tmp_path / "r.yaml")
    assumed = run_context(recipe, str(tmp_path / "w"), assume_inputs_unchanged=True)
    assert assumed.hashes == ctx.hashes
    assert run_context(recipe, str(tmp_path / "w")).hashes["collect"] != ctx.hashes["collect"]


def test_hash_inputs_sees_a_same_size_same_mtime_edit(tmp_path: Path) -> None:
    context(tmp_path)
    recipe = load_recipe(tmp_path / "r.yaml")
    file = tmp_path / "in" / "a.jsonl"
    stat = file.stat()
    before = input_fingerprints(recipe.sources, content=True)
    file.write_text('{"text": "jello"}\n')
    os.utime(file, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert input_fingerprints(recipe.sources)["digest"] == input_fingerprints(
        recipe.sources)["digest"]
    assert input_fingerprints(recipe.sources, content=True)["digest"] != before["digest"]


def test_drops_name_the_file_and_record_of_their_document() -> None:
    """Where a stage drops a document it names the document's input: the filter step (a
    failed rule or a quarantined error), exact and near dedup (through the Candidate)."""
    doc = Document(id="d1", source="s", kind="text", text="x",
                   meta={"path": "/in/a.jsonl", "record": 3})
    bare = Document(id="d2", source="s", kind="text", text="y" * 400, meta={})
    step = _FilterDoFn(FilterConfig(language_id=False, redact_pii=False,
                                    redact_secrets=False))
    step.setup()
    (dropped,) = step.process(doc)
    assert (dropped.reason, dropped.path, dropped.record) == (
        "filtered:min_words", "/in/a.jsonl", "3")
    def broken(_: Document) -> Document:
        raise ValueError("a rule nobody foresaw")

    step._filter = broken  # the filter itself fails: a quarantined drop, still located
    (failed,) = step.process(doc)
    assert (failed.reason, failed.path) == ("quarantined:ValueError", "/in/a.jsonl")
    keeper, drops, _ = resolve_cluster([Candidate.of(bare), Candidate.of(doc)], "c")
    assert keeper.id == "d2" and [(d.doc_id, d.path, d.record) for d in drops] == [
        ("d1", "/in/a.jsonl", "3")]
    assert Candidate.of(bare).path == "" and resolve_cluster(
        [Candidate.of(doc), Candidate.of(bare)], "c")[0].id == "d2"
    rejected = Rejected("s", "/in/a.jsonl", "line 9", "JSONDecodeError: bad").as_drop()
    assert (rejected.path, rejected.record) == ("/in/a.jsonl", "line 9")
    row = Drop("d", "s", "r").with_locator('{"path": "p", "record": "row 0"}').to_row()
    assert (row["path"], row["record"]) == ("p", "row 0")


def test_caches_and_vcs_metadata_of_a_repository_are_not_inputs(tmp_path: Path) -> None:
    (tmp_path / "repo").mkdir()
    (tmp_path / "repo" / "a.py").write_text("import b\n")
    recipe = {**RECIPE, "sources": [{"name": "a", "kind": "repo", "paths": ["repo"],
                                     "options": {"layout": "single"}}]}
    (tmp_path / "r.yaml").write_text(yaml.safe_dump(recipe))
    specs = load_recipe(tmp_path / "r.yaml").sources
    before = input_fingerprints(specs)["digest"]
    for name in ("__pycache__", ".git"):  # an import or a fetch writes here; no reader reads it
        (tmp_path / "repo" / name).mkdir()
        (tmp_path / "repo" / name / "x").write_text("cache")
    assert input_fingerprints(specs)["digest"] == before
    (tmp_path / "repo" / "b.py").write_text("x = 1\n")
    assert input_fingerprints(specs)["digest"] != before


def test_a_damaged_stage_record_means_not_done(tmp_path: Path,
                                               capsys: pytest.CaptureFixture) -> None:
    ctx = context(tmp_path)
    commit_fake(ctx, "collect")
    record = tmp_path / "w" / "collect" / "stage.json"
    record.write_bytes(record.read_bytes()[:40])
    assert not is_done(ctx, "collect")
    assert main(["verify", str(tmp_path / "w")]) == 1
    assert "stage.json: unreadable" in capsys.readouterr().out
