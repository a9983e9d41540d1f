"""The whole path through luigi and Beam on real code and text: shards, ledgers, resume."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pyarrow as pa
import pytest
from conftest import write_tiny_recipe

from longweave.jobs.stages import STAGE_ORDER
from longweave.jobs.status import workdir_status
from longweave.jobs.workflow import run_workflow
from longweave.pipeline.packing.loader import PackedLoader, bucket_sizes
from longweave.pipeline.packing.shards import read_shard
from longweave.schemas.packed import PAD_DOC_ID


def shard_bytes(workdir: Path) -> dict[str, bytes]:
    return {str(p.relative_to(workdir)): p.read_bytes()
            for p in sorted((workdir / "pack").glob("*/shard-*.arrow"))}


def test_every_row_is_exactly_its_bucket_with_consistent_boundaries(tiny_run: Path) -> None:
    manifest = json.loads((tiny_run / "pack" / "manifest.json").read_text())
    assert manifest["shards"], "no shards written"
    total_tokens = 0
    for entry in manifest["shards"]:
        table = read_shard(str(tiny_run / "pack" / entry["path"]))
        assert table.num_rows == entry["rows"]
        for row in table.to_pylist():
            assert len(row["input_ids"]) == row["bucket"] == entry["bucket"]
            cu = row["cu_seqlens"]
            assert cu[0] == 0 and cu[-1] == row["bucket"]
            assert all(a < b for a, b in zip(cu, cu[1:], strict=False))
            assert len(cu) == len(row["doc_ids"]) + 1 == len(row["doc_sources"]) + 1
            assert row["position_ids"][cu[1] - 1] == cu[1] - 1
            total_tokens += len(row["input_ids"])
    assert total_tokens == manifest["totals"]["tokens"]


def test_ledgers_balance_and_manifest_carries_them(tiny_run: Path) -> None:
    manifest = json.loads((tiny_run / "pack" / "manifest.json").read_text())
    for stage in ("collect", "filter", "dedupe", "synthesize", "tokenize", "pack"):
        ledger = json.loads((tiny_run / stage / "ledger.json").read_text())
        assert ledger["in"] + ledger.get("created", 0) == ledger["out"] + sum(
            ledger["dropped"].values()), stage
        assert manifest["ledgers"][stage] == ledger
    collect = manifest["ledgers"]["collect"]
    # notes.jsonl holds one line that is a string and one truncated line
    assert collect["dropped"] == {"quarantined:JSONDecodeError": 1, "quarantined:TypeError": 1}
    assert manifest["ledgers"]["dedupe"]["dropped"].get("duplicate", 0) >= 1


def test_every_drop_row_names_the_input_of_its_document(tiny_run: Path) -> None:
    """Each drop of a document that came from a file names that file and record, as
    collect recorded them in the document's meta (checked against collect's own output)."""
    import pyarrow.parquet as pq

    def rows(folder: Path) -> list[dict]:
        return [r for p in sorted(folder.glob("*.parquet")) for r in pq.read_table(p).to_pylist()]

    inputs = {}
    for row in rows(tiny_run / "collect" / "documents"):
        meta = json.loads(row["meta"])
        inputs[row["id"]] = (meta.get("path", ""), str(meta.get("record") or ""))
    checked = 0
    for stage in ("filter", "dedupe"):
        for drop in rows(tiny_run / stage / "drops"):
            if drop["doc_id"] in inputs and inputs[drop["doc_id"]][0]:
                assert (drop["path"], drop["record"]) == inputs[drop["doc_id"]], (stage, drop)
                checked += 1
    assert checked >= 2  # the tiny corpus has filtered and duplicate documents


def test_segments_decode_back_to_the_tokenized_documents(tiny_run: Path) -> None:
    import pyarrow.parquet as pq

    segments = pq.read_table(tiny_run / "tokenize" / "segments").to_pylist()
    by_id = {s["segment_id"]: s["input_ids"] for s in segments}
    manifest = json.loads((tiny_run / "pack" / "manifest.json").read_text())
    table = read_shard(str(tiny_run / "pack" / manifest["shards"][0]["path"]))
    for row in table.to_pylist():
        for start, end, doc in zip(row["cu_seqlens"], row["cu_seqlens"][1:], row["doc_ids"],
                                   strict=False):
            if doc != PAD_DOC_ID:
                assert row["input_ids"][start:end] == by_id[doc]


def test_mixture_lands_near_target(tiny_run: Path) -> None:
    mixture = json.loads((tiny_run / "pack" / "manifest.json").read_text())["mixture"]
    for source, share in mixture["target"].items():
        assert abs(mixture["actual"][source] - share) < 0.03, (source, mixture)


def test_shards_load_with_datasets(tiny_run: Path) -> None:
    import datasets

    files = sorted(str(p) for p in (tiny_run / "pack").glob("*/shard-*.arrow"))
    data = datasets.load_dataset("arrow", data_files=files, split="train")
    manifest = json.loads((tiny_run / "pack" / "manifest.json").read_text())
    assert data.num_rows == manifest["totals"]["rows"]
    assert {"input_ids", "cu_seqlens", "doc_ids", "doc_sources", "bucket"} <= set(
        data.column_names)


def test_reader_resumes_at_a_position(tiny_run: Path) -> None:
    out = str(tiny_run / "pack")
    manifest = json.loads((tiny_run / "pack" / "manifest.json").read_text())
    everything = {bucket: [row["input_ids"].tolist() for row in PackedLoader(out, bucket)]
                  for bucket in bucket_sizes(out)}
    assert sum(map(len, everything.values())) == manifest["totals"]["rows"]
    bucket, rows = max(everything.items(), key=lambda item: len(item[1]))
    loader = PackedLoader(out, bucket)
    stream = iter(loader)
    seen = [next(stream)["input_ids"].tolist() for _ in range(len(rows) // 2)]
    resumed = PackedLoader(out, bucket)
    resumed.load_state_dict(loader.state_dict())
    assert seen + [row["input_ids"].tolist() for row in resumed] == rows


def test_status_lists_every_stage(tiny_run: Path) -> None:
    rows = {r["stage"]: r for r in workdir_status(str(tiny_run))}
    assert list(rows) == list(STAGE_ORDER)
    assert all(rows[s]["done"] for s in STAGE_ORDER if s != "report")


def test_same_shards_with_two_worker_processes(tiny_run: Path, tmp_path: Path) -> None:
    recipe = write_tiny_recipe(tmp_path, mode="multi_processing", workers=2)
    assert run_workflow(str(recipe), str(tmp_path / "work"), [], until="pack")
    assert shard_bytes(tmp_path / "work") == shard_bytes(tiny_run)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="forked workers: Linux only")
def test_same_shards_from_the_cli_program_with_forked_workers(tiny_run: Path,
                                                             tmp_path: Path) -> None:
    """`longweave run` as a program forks its SDK workers from its fork server (a caller
    of `run_workflow` never does): the shards are the in-process run's, byte for byte."""
    recipe = write_tiny_recipe(tmp_path, mode="multi_processing", workers=2)
    done = subprocess.run([sys.executable, "-m", "longweave.jobs.cli", "run", str(recipe),
                           "--workdir", str(tmp_path / "work"), "--until", "pack"],
                          capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stdout + done.stderr
    assert shard_bytes(tmp_path / "work") == shard_bytes(tiny_run)


def test_resume_after_a_failed_stage_and_rerun_only_what_changed(
        tiny_run: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import longweave.pipeline.packing.manifest as manifest_module

    recipe = write_tiny_recipe(tmp_path)
    work = tmp_path / "work"
    real = manifest_module.write_output_manifest

    def crash(*args, **kwargs):
        raise RuntimeError("simulated crash while writing the manifest")

    monkeypatch.setattr(manifest_module, "write_output_manifest", crash)
    assert not run_workflow(str(recipe), str(work), [], until="pack")
    assert not (work / "pack" / "_SUCCESS").exists()
    stamps = {s: (work / s / "stage.json").stat().st_mtime_ns
              for s in ("collect", "filter", "dedupe", "tokenizer", "synthesize", "tokenize")}

    monkeypatch.setattr(manifest_module, "write_output_manifest", real)
    assert run_workflow(str(recipe), str(work), [], until="pack")
    assert all((work / s / "stage.json").stat().st_mtime_ns == t for s, t in stamps.items())
    assert shard_bytes(work) == shard_bytes(tiny_run)

    # a changed filter threshold re-runs filter and what follows, not collect
    write_tiny_recipe(tmp_path).write_text(recipe.read_text().replace(
        "filters: {min_chars: 50}", "filters: {min_chars: 60}"))
    assert run_workflow(str(recipe), str(work), [], until="dedupe")
    assert (work / "collect" / "stage.json").stat().st_mtime_ns == stamps["collect"]
    assert (work / "filter" / "stage.json").stat().st_mtime_ns != stamps["filter"]


def test_arrow_shards_are_compressed_ipc_files(tiny_run: Path) -> None:
    path = next((tiny_run / "pack").glob("*/shard-00000.arrow"))
    with pa.ipc.open_file(str(path)) as reader:
        assert reader.num_record_batches >= 1
    assert path.read_bytes()[:6] == b"ARROW1"


def test_inspect_decodes_a_row_with_its_boundaries(tiny_run: Path) -> None:
    from longweave.jobs.inspect_row import describe_row

    manifest = json.loads((tiny_run / "pack" / "manifest.json").read_text())
    entry = manifest["shards"][0]
    text = describe_row(str(tiny_run / "pack" / entry["path"]), 0)
    table = read_shard(str(tiny_run / "pack" / entry["path"]))
    row = table.slice(0, 1).to_pylist()[0]
    assert f"bucket {row['bucket']}" in text
    for doc in row["doc_ids"]:
        assert f"doc {doc}" in text
    with pytest.raises(IndexError):
        describe_row(str(tiny_run / "pack" / entry["path"]), entry["rows"])


def test_a_failed_stage_is_retried_as_configured(tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    import dataclasses

    from longweave.jobs.stages import STAGE_BY_NAME

    real = STAGE_BY_NAME["collect"].run
    calls = []

    def flaky(ctx):
        calls.append(1)
        if len(calls) == 1:
            raise ConnectionError("storage hiccup")
        real(ctx)

    monkeypatch.setitem(STAGE_BY_NAME, "collect", dataclasses.replace(STAGE_BY_NAME["collect"],
                                                                      run=flaky))
    recipe = write_tiny_recipe(tmp_path)
    assert not run_workflow(str(recipe), str(tmp_path / "a"), [], until="collect")
    calls.clear()
    assert run_workflow(str(recipe), str(tmp_path / "b"), [], until="collect", retries=1,
                        retry_delay=0.1)
    assert len(calls) == 2


def test_runs_through_a_central_luigi_scheduler(tmp_path: Path) -> None:
    import shutil
    import socket
    import subprocess
    import sys
    import time

    luigid = shutil.which("luigid") or str(Path(sys.executable).with_name("luigid"))
    if not Path(luigid).exists():
        pytest.skip("luigid (luigi's central scheduler) is not installed")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    (tmp_path / "logs").mkdir()
    server = subprocess.Popen(
        [luigid, "--address", "127.0.0.1", "--port", str(port),
         "--state-path", str(tmp_path / "state.pickle"), "--logdir", str(tmp_path / "logs")],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(100):
            with socket.socket() as client:
                if client.connect_ex(("127.0.0.1", port)) == 0:
                    break
            assert server.poll() is None, "luigid exited; see its log folder"
            time.sleep(0.1)
        recipe = write_tiny_recipe(tmp_path)
        assert run_workflow(str(recipe), str(tmp_path / "work"), [], until="filter",
                            scheduler_host=f"127.0.0.1:{port}")
        assert (tmp_path / "work" / "filter" / "_SUCCESS").exists()
    finally:
        server.terminate()
        server.wait(timeout=10)
