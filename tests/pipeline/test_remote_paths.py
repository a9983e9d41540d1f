"""The pipeline's file layer on a remote-style store (`memory://`, object-store semantics).

Covers pipeline/fs.py, Documents written and read by Beam (docio), shards, and a whole
pack stage (manifest, shards, ledger, status, publish) with its work folder on the store.
"""

from __future__ import annotations

import hashlib
import json
import os

import apache_beam as beam
import pytest
from apache_beam.options.pipeline_options import PipelineOptions
from dataflow_fixture import small_run
from test_remote_memfs import MemoryObjectStore, clear

from longweave.jobs.context import is_done
from longweave.jobs.drivers import run_pack
from longweave.jobs.stages import run_context
from longweave.jobs.status import workdir_status
from longweave.pipeline.packing.loader import PackedLoader
from longweave.pipeline.packing.shards import read_shard, write_shard
from longweave.pipeline.packing.training_sample import iter_document_batches
from longweave.pipeline.transforms.docio import ReadDocuments, write_documents
from longweave.pipeline.transforms.files import NameFiles
from longweave.schemas import fs
from longweave.schemas.document import Document, Span, make_document_id
from longweave.schemas.packed import Manifest, PackedSequence
from longweave.schemas.recipe import load_recipe

assert MemoryObjectStore.scheme() == "memory"
IN_PROCESS = ["--direct_running_mode=in_memory", "--direct_num_workers=1"]


def upload_tree(local: str, remote: str) -> None:
    for root, _, files in os.walk(local):
        for name in sorted(files):
            path = os.path.join(root, name)
            with open(path, "rb") as handle:
                fs.write_bytes(fs.join(remote, *os.path.relpath(path, local).split(os.sep)),
                               handle.read())


def test_fs_helpers_on_an_object_store():
    clear("helpers")
    base = "memory://helpers/work"
    assert not fs.is_local(base)
    fs.write_json(fs.join(base, "a", "stage.json"), {"hash": "x"})
    fs.write_bytes(fs.join(base, "a", "b", "data.bin"), b"\x00\x01")
    assert fs.read_json(fs.join(base, "a", "stage.json")) == {"hash": "x"}
    assert fs.glob(fs.join(base, "a", "**")) == [f"{base}/a/b/data.bin", f"{base}/a/stage.json"]
    assert fs.glob(fs.join(base, "none", "*.parquet")) == []
    fs.remove_file(fs.join(base, "a", "stage.json"))
    assert not fs.exists(fs.join(base, "a", "stage.json"))


def test_publish_folder_replaces_a_remote_folder_completely():
    clear("commit")
    tmp, final = "memory://commit/.tmp-stage", "memory://commit/stage"
    fs.write_bytes(fs.join(final, "part-00009.parquet"), b"stale output of an older run")
    fs.write_bytes(fs.join(tmp, "part-00000.parquet"), b"new")
    fs.publish_folder(tmp, final)
    assert fs.glob("memory://commit/**") == [f"{final}/_SUCCESS", f"{final}/part-00000.parquet"]


def test_documents_round_trip_through_beam():
    clear("docs")
    stage = "memory://docs/filter"
    text = "def f():\n    return 1\n"
    docs = [Document(id=make_document_id("code", f"m{i}.py"), source="code", kind="repo",
                     text=text * (i + 1), spans=[Span(0, len(text), f"file:m{i}.py")],
                     meta={"license": "MIT", "n": i}) for i in range(5)]
    with beam.Pipeline(options=PipelineOptions(IN_PROCESS)) as pipeline:
        pending = write_documents(pipeline | beam.Create(docs), stage)
        pipeline | NameFiles([pending])
    assert fs.glob(fs.join(stage, "documents", "*.parquet"))
    assert not fs.glob(fs.join(stage, "documents", ".attempts-part", "*"))
    rows = sorted((r for b in iter_document_batches(stage) for r in b.to_pylist()),
                  key=lambda r: r["id"])
    assert [Document.from_row(r) for r in rows] == sorted(docs, key=lambda d: d.id)
    with beam.Pipeline(options=PipelineOptions(IN_PROCESS)) as pipeline:
        ids = (pipeline | ReadDocuments(stage) | beam.Map(lambda d: d.id)
               | beam.combiners.ToList())
        ids | beam.Map(lambda got: fs.write_json("memory://docs/ids.json", sorted(got)))
    assert fs.read_json("memory://docs/ids.json") == sorted(d.id for d in docs)


def test_shards_round_trip():
    clear("shards")
    out = "memory://shards/pack"
    rows = [PackedSequence(input_ids=[5, 6, 7, 0], cu_seqlens=[0, 3, 4], doc_ids=["a", "<pad>"],
                           doc_sources=["s", "<pad>"], bucket=4, loss_mask=[1, 1, 1, 0]),
            PackedSequence(input_ids=[8, 9, 10, 11], cu_seqlens=[0, 2, 4], doc_ids=["b", "c"],
                           doc_sources=["s", "s"], bucket=4, loss_mask=[1, 1, 1, 1])]
    entry = write_shard(out, 4, 0, rows, True, False, "zstd")
    data = fs.read_bytes(fs.join(out, "4", "shard-00000.arrow"))
    assert entry.sha256 == hashlib.sha256(data).hexdigest() and entry.pad_tokens == 1
    assert read_shard(fs.join(out, "4", "shard-00000.arrow")).num_rows == 2
    Manifest(recipe_name="t", recipe_hash="r", tokenizer_hash="t", buckets=[4],
             shards=[entry]).write(out)
    resumed = list(PackedLoader(out, 4).rows(start=1))
    assert [(r["input_ids"].tolist(), r["cu_seqlens"].tolist()) for r in resumed] == [
        ([8, 9, 10, 11], [0, 2, 4])]


@pytest.fixture(scope="module")
def remote_pack(tmp_path_factory):
    """The shared run's tokenizer and tokenize stages uploaded, then pack run remotely."""
    recipe, workdir = small_run(tmp_path_factory)
    clear("run")
    remote = "memory://run/work"
    for stage in ("tokenizer", "tokenize"):
        upload_tree(str(workdir / stage), fs.join(remote, stage))
    ctx = run_context(load_recipe(recipe), remote)
    run_pack(ctx)
    return ctx, workdir


def test_pack_stage_with_a_remote_work_folder(remote_pack):
    ctx, local = remote_pack
    out = ctx.stage_dir("pack")
    assert is_done(ctx, "pack")
    manifest = fs.read_json(fs.join(out, "manifest.json"))
    local_manifest = json.loads((local / "pack" / "manifest.json").read_text())
    # same inputs and seed: the remote run writes the very same shards
    assert [(s["path"], s["sha256"]) for s in manifest["shards"]] == [
        (s["path"], s["sha256"]) for s in local_manifest["shards"]]
    for shard in manifest["shards"]:
        data = fs.read_bytes(fs.join(out, *shard["path"].split("/")))
        assert hashlib.sha256(data).hexdigest() == shard["sha256"]
    assert fs.read_json(fs.join(out, "ledger.json"))["balanced"]
    status = {row["stage"]: row["done"] for row in workdir_status(ctx.workdir)}
    assert status["pack"] and status["tokenize"] and not status["collect"]


def test_publish_reads_a_remote_output(remote_pack, tmp_path, monkeypatch):
    from huggingface_hub import constants

    from longweave.pipeline.exports.publish import publish

    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", True)
    ctx, _ = remote_pack
    folder = publish(ctx.stage_dir("pack"), "longweave/remote", folder=str(tmp_path / "hf"))
    manifest = fs.read_json(fs.join(ctx.stage_dir("pack"), "manifest.json"))
    for shard in manifest["shards"]:
        with open(os.path.join(folder, shard["path"]), "rb") as handle:
            assert hashlib.sha256(handle.read()).hexdigest() == shard["sha256"]
