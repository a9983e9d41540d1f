"""`publish`: a real pack output as a Hugging Face dataset folder, loaded back offline."""

from __future__ import annotations

import json
import os
import shutil

import pyarrow as pa
import pytest
import yaml
from dataflow_fixture import small_run
from huggingface_hub import constants

from longweave.pipeline.exports.publish import (
    card_license,
    document_licenses,
    hub_license,
    publish,
)


@pytest.fixture(scope="module")
def small_pack(tmp_path_factory):
    _, workdir = small_run(tmp_path_factory)
    return workdir / "pack"


@pytest.fixture()
def offline(monkeypatch):
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", True)
    monkeypatch.delenv("HF_TOKEN", raising=False)


def card_meta(folder) -> dict:
    text = (folder / "README.md").read_text(encoding="utf-8")
    assert text.startswith("---\n")
    return yaml.safe_load(text.split("---\n")[1])


def test_every_bucket_config_loads_back(small_pack, tmp_path, offline):
    from datasets import load_dataset

    folder = tmp_path / "hf"
    assert publish(str(small_pack), "longweave/tiny", folder=str(folder)) == str(folder)
    manifest = json.loads((small_pack / "manifest.json").read_text())
    meta = card_meta(folder)
    buckets = manifest["buckets"]
    assert [c["config_name"] for c in meta["configs"]] == [f"bucket_{b}" for b in buckets]
    # the longest rows are what a long-context run trains on: they are the default
    assert [c["config_name"] for c in meta["configs"] if c.get("default")] == [
        f"bucket_{max(buckets)}"]
    for bucket in buckets:
        shards = [s for s in manifest["shards"] if s["bucket"] == bucket]
        with pa.ipc.open_file(str(small_pack / shards[0]["path"])) as reader:
            columns = reader.schema.names
        rows = load_dataset(str(folder), name=f"bucket_{bucket}", split="train",
                            cache_dir=str(tmp_path / "cache"))
        assert rows.num_rows == sum(s["rows"] for s in shards) > 0
        assert rows.column_names == columns
        assert {len(ids) for ids in rows["input_ids"]} == {bucket}
        assert all(cu[0] == 0 and cu[-1] == bucket for cu in rows["cu_seqlens"])


def test_card_carries_licenses_recipe_summary_and_mixture(small_pack, tmp_path, offline):
    folder = tmp_path / "hf"
    publish(str(small_pack), "longweave/tiny", folder=str(folder))
    meta = card_meta(folder)
    # the licensed texts say MIT / BSD-3-Clause; the stdlib and notes carry no license field
    assert meta["license"] == ["bsd-3-clause", "mit", "other"]
    body = (folder / "README.md").read_text(encoding="utf-8")
    for heading in ("## Mixture", "## Licenses", "## Report summary", "## Recipe"):
        assert heading in body
    assert "| stdlib | unknown |" in body
    manifest = json.loads((folder / "manifest.json").read_text())
    assert yaml.safe_load((folder / "recipe.yaml").read_text()) == manifest["recipe"]
    assert (folder / "tokenizer.json").exists() and (folder / "report" / "summary.json").exists()
    for shard in manifest["shards"]:  # shards are hardlinked, not duplicated
        assert os.stat(folder / shard["path"]).st_ino == os.stat(small_pack / shard["path"]).st_ino


def test_a_corrupted_shard_is_not_published(small_pack, tmp_path, offline):
    broken = tmp_path / "pack"
    shutil.copytree(small_pack, broken)
    shard = json.loads((broken / "manifest.json").read_text())["shards"][0]["path"]
    data = bytearray((broken / shard).read_bytes())
    data[len(data) // 2] ^= 0xFF
    (broken / shard).write_bytes(bytes(data))
    with pytest.raises(ValueError, match="sha256"):
        publish(str(broken), "longweave/tiny", folder=str(tmp_path / "hf"))


def test_a_foreign_folder_is_never_overwritten(small_pack, tmp_path, offline):
    folder = tmp_path / "mine"
    folder.mkdir()
    (folder / "thesis.tex").write_text("keep me")
    with pytest.raises(ValueError, match="not written by publish"):
        publish(str(small_pack), "longweave/tiny", folder=str(folder))
    assert (folder / "thesis.tex").read_text() == "keep me"


def test_uploads_with_a_token(small_pack, tmp_path, monkeypatch):
    calls = []

    class RecordingApi:
        def __init__(self, token):
            calls.append(("token", token))

        def create_repo(self, repo_id, repo_type, private, exist_ok):
            calls.append(("create", repo_id, repo_type, private))
            return f"https://huggingface.co/datasets/{repo_id}"

        def upload_folder(self, folder_path, repo_id, repo_type, ignore_patterns,
                          commit_message):
            calls.append(("upload", sorted(os.listdir(folder_path)), repo_type))

    import huggingface_hub

    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", False)
    monkeypatch.setattr(huggingface_hub, "HfApi", RecordingApi)
    url = publish(str(small_pack), "org/tiny", private=True, folder=str(tmp_path / "hf"),
                  token="hf_test")
    assert url == "https://huggingface.co/datasets/org/tiny"
    assert calls[0] == ("token", "hf_test")
    assert calls[1] == ("create", "org/tiny", "dataset", True)
    assert calls[2][0] == "upload" and "README.md" in calls[2][1] and "1024" in calls[2][1]


def test_license_ids():
    assert hub_license("MIT OR Apache-2.0") == ["mit", "apache-2.0"]
    assert hub_license("BSD License") == ["other"]  # which BSD is not said: no guess
    assert hub_license("Python Software Foundation License") == ["other"]
    assert card_license({("a", "unknown"): 3}) == ["other"]
    assert card_license({("a", "MIT"): 1, ("b", "Apache 2.0"): 2}) == ["apache-2.0", "mit"]


def test_repo_id_must_be_org_and_name(small_pack, tmp_path, offline):
    with pytest.raises(ValueError, match="ORG/NAME"):
        publish(str(small_pack), "just-a-name", folder=str(tmp_path / "hf"))


def test_no_repo_id_writes_a_local_folder_with_no_local_paths(small_pack, tmp_path, offline):
    """Without --repo-id nothing is uploaded; the card, recipe and manifest name inputs by
    placeholder or relative path, never by this machine's absolute install paths."""
    import sysconfig

    from conftest import PROJECT_ROOT

    said: list[str] = []
    folder = tmp_path / "hf"
    assert publish(str(small_pack), folder=str(folder), say=said.append) == str(folder)
    assert "no --repo-id" in said[0]
    written = "".join((folder / name).read_text(encoding="utf-8")
                      for name in ("README.md", "recipe.yaml", "manifest.json"))
    for local in (sysconfig.get_paths()["stdlib"], sysconfig.get_paths()["purelib"],
                  str(PROJECT_ROOT), str(tmp_path)):
        assert local not in written
    assert "${stdlib}" in written and card_meta(folder)["pretty_name"]
    assert 'load_dataset("./hf"' in written


def test_licenses_come_from_records_then_the_recipe_and_derive_for_samples() -> None:
    rows = [
        {"doc_id": "a1", "source": "code", "meta": json.dumps({"license": "MIT"})},
        {"doc_id": "a2", "source": "code", "meta": "{}"},
        {"doc_id": "n1", "source": "notes", "meta": "{}"},
        {"doc_id": "s1", "source": "synthetic",
         "meta": json.dumps({"member_ids": ["a1", "a2", "gone"]})},
        {"doc_id": "s1", "source": "synthetic", "meta": "{}"},  # a second piece: counted once
    ]
    counts = document_licenses(rows, {"code": "apache-2.0"})
    assert counts == {("code", "MIT"): 1, ("code", "apache-2.0"): 1, ("notes", "unknown"): 1,
                      ("synthetic", "derived: MIT, apache-2.0, unknown"): 1}
    assert card_license(counts) == ["apache-2.0", "mit", "other"]
