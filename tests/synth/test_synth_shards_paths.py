"""A small whole run with synthesis: no absolute local path reaches a shard (issue 14), and
the report counts the synthetic samples per question family."""

from __future__ import annotations

import json
import sysconfig
from pathlib import Path

import pytest
from conftest import NOTES

from longweave.jobs.workflow import run_workflow
from longweave.pipeline.packing.shards import read_shard
from longweave.schemas.packed import PAD_DOC_ID
from longweave.schemas.tokenizer_file import load_tokenizer

STDLIB = sysconfig.get_paths()["stdlib"]
RECIPE = """
name: tiny-synth
seed: 5
sources:
  - name: code
    kind: repo
    paths: ["${{stdlib}}"]
    options: {{layout: subdirs, include: [json, tomllib, wsgiref, email]}}
  - name: text
    kind: text
    paths: ["{notes}"]
    options: {{id_field: id}}
filters: {{min_chars: 50}}
synthesize:
  enabled: true
  megadocs: {{enabled: true, buckets: [8192], max_samples: 2}}
  paraphrase: {{enabled: true, buckets: [8192], samples_per_bucket: 6}}
tokenizer: {{train: {{vocab_size: 600, sample_chars: 400000}}}}
buckets: [8192]
mixture:
  - {{source: code, share: 0.7}}
  - {{source: text, share: 0.05}}
  - {{source: synthetic, share: 0.25}}
budget: {{max_epochs: 4, min_share_ratio: 0.5}}
output: {{shard_tokens: 262144}}
runner: {{direct_running_mode: in_memory, direct_num_workers: 1}}
"""


@pytest.fixture(scope="module")
def synth_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("tiny_synth")
    recipe = folder / "recipe.yaml"
    recipe.write_text(RECIPE.format(notes=NOTES))
    assert run_workflow(str(recipe), str(folder / "work"), [], until="report")
    return folder / "work"


@pytest.mark.slow
def test_no_absolute_local_path_in_any_shard(synth_run: Path) -> None:
    pack = synth_run / "pack"
    manifest = json.loads((pack / "manifest.json").read_text())
    tokenizer = load_tokenizer(str(next(pack.rglob("tokenizer.json"))))
    synthetic = 0
    for entry in manifest["shards"]:
        for row in read_shard(str(pack / entry["path"])).to_pylist():
            text = tokenizer.decode(row["input_ids"], skip_special_tokens=False)
            assert STDLIB not in text, f"{entry['path']} holds {STDLIB}"
            synthetic += sum(1 for doc, source in zip(row["doc_ids"], row["doc_sources"],
                                                      strict=True)
                             if source == "synthetic" and doc != PAD_DOC_ID)
    assert synthetic > 0


@pytest.mark.slow
def test_report_lists_synthetic_families(synth_run: Path) -> None:
    summary = json.loads(next(synth_run.rglob("summary.json")).read_text())
    families = summary["length"]["synthetic_families"]
    assert families and all(block["samples"] > 0 for block in families.values())
    html = next(synth_run.rglob("report.html")).read_text()
    assert "Synthetic samples per family" in html
