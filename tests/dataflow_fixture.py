"""One small real pipeline run shared by the dataflow, remote and publish tests.

The run covers every stage on real inputs: two stdlib packages read as repositories, the
project's sample notes, and the license files of a few installed packages carried with the
license their own METADATA declares (so publish has real license fields to aggregate).
It runs once per pytest process, in-process, on the single-threaded DirectRunner.
"""

from __future__ import annotations

import json
import sysconfig
from email.parser import Parser
from pathlib import Path

import yaml

PROJECT = Path(__file__).resolve().parents[1]
LICENSED_PACKAGES = ("yaml", "luigi", "networkx", "fsspec", "dill", "datasketch")
_RUNS: dict[str, Path] = {}


def declared_license(dist_info: Path) -> str | None:
    """A package's license as its METADATA states it (License-Expression, else License)."""
    metadata = Parser().parsestr((dist_info / "METADATA").read_text(encoding="utf-8",
                                                                    errors="replace"))
    for header in ("License-Expression", "License"):
        value = (metadata.get(header) or "").strip()
        if value and "\n" not in value and len(value) < 40:
            return value
    return None


def licensed_records(site_packages: Path) -> list[dict]:
    """License texts of installed packages, each with its declared license (real data)."""
    records = []
    for dist_info in sorted(site_packages.glob("*.dist-info")):
        name = dist_info.name.split("-")[0].lower().replace("pyyaml", "yaml")
        if name not in LICENSED_PACKAGES:
            continue
        license_id = declared_license(dist_info)
        files = sorted(p for p in dist_info.rglob("*") if p.is_file()
                       and p.name.upper().startswith(("LICENSE", "COPYING")))
        if license_id and files:
            records.append({"id": dist_info.name, "license": license_id, "package": name,
                            "text": files[0].read_text(encoding="utf-8", errors="replace")})
    return records


def tiny_recipe(folder: Path) -> Path:
    """Write the tiny recipe (and its licensed-texts input) into `folder`."""
    site_packages = Path(sysconfig.get_paths()["purelib"])
    licensed = folder / "licensed.jsonl"
    licensed.write_text("".join(json.dumps(r) + "\n" for r in licensed_records(site_packages)),
                        encoding="utf-8")
    recipe = {
        "name": "tiny", "seed": 3,
        "sources": [
            {"name": "stdlib", "kind": "repo", "paths": ["${stdlib}"],
             "options": {"layout": "subdirs", "include": ["json", "wsgiref"]}},
            {"name": "notes", "kind": "text",
             "paths": [str(PROJECT / "recipes" / "samples" / "notes.jsonl")],
             "options": {"id_field": "id", "meta_fields": ["topic"]}},
            {"name": "licenses", "kind": "text", "paths": [str(licensed)],
             "options": {"id_field": "id", "meta_fields": ["license", "package"]}},
        ],
        "filters": {"min_chars": 50},
        "tokenizer": {"train": {"vocab_size": 600, "sample_chars": 200_000}},
        "buckets": [1024, 4096],
        "output": {"shard_tokens": 65536},
        "runner": {"runner": "DirectRunner", "direct_running_mode": "in_memory",
                   "direct_num_workers": 1},
    }
    path = folder / "tiny.yaml"
    path.write_text(yaml.safe_dump(recipe, sort_keys=False), encoding="utf-8")
    return path


def small_run(tmp_path_factory) -> tuple[Path, Path]:
    """(recipe path, work folder) of the shared run; runs the pipeline the first time."""
    if "workdir" not in _RUNS:
        from longweave.jobs.workflow import FAILURES, run_workflow

        base = tmp_path_factory.mktemp("longweave-small-run")
        recipe = tiny_recipe(base)
        workdir = base / "work"
        if not run_workflow(str(recipe), str(workdir), []):
            raise RuntimeError("small pipeline run failed: " + "; ".join(FAILURES))
        _RUNS["recipe"], _RUNS["workdir"] = recipe, workdir
    return _RUNS["recipe"], _RUNS["workdir"]
