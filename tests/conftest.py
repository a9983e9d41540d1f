"""Shared fixtures: small real recipes over the interpreter's own standard library."""

from __future__ import annotations

from pathlib import Path

import pytest

PROJECT_ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = PROJECT_ROOT.parent / "shared" / "data"
NOTES = PROJECT_ROOT / "recipes" / "samples" / "notes.jsonl"
SHARED_BOOKS = SHARED_DATA / "books"


def shared_book_paths() -> list[Path]:
    """Every real Gutenberg book in ../shared/data/books, in name order; skip without them."""
    books = sorted(SHARED_BOOKS.glob("*.txt"))
    if not books:
        pytest.skip(f"shared books not found at {SHARED_BOOKS}")
    return books


def shared_book_text(name: str = "pg1342.txt") -> str:
    """A real Gutenberg book from ../shared/data (cp1252, CRLF) as text; skip without it."""
    path = SHARED_BOOKS / name
    if not path.exists():
        pytest.skip(f"shared books not found at {SHARED_BOOKS}")
    return path.read_bytes().decode("cp1252").replace("\r\n", "\n")

TINY_RECIPE = """
name: tiny
seed: 5
sources:
  - name: code
    kind: repo
    paths: ["${{stdlib}}"]
    options: {{layout: subdirs, include: [json, tomllib, wsgiref]}}
  - name: text
    kind: text
    paths: ["{notes}"]
    options: {{id_field: id}}
filters: {{min_chars: 50}}
tokenizer: {{train: {{vocab_size: 600, sample_chars: 400000}}}}
buckets: [1024, 4096]
# only 8 segments fit 1024, and spread (the default) draws them all into 4096, an empty
# bucket the pack stage refuses; the books-and-agents end-to-end run covers spread
bucket_policy: smallest
mixture:
  - {{source: code, share: 0.9}}
  - {{source: text, share: 0.1}}
budget: {{max_epochs: 3}}
output: {{shard_tokens: 65536, position_ids: true}}
runner: {{direct_running_mode: {mode}, direct_num_workers: {workers}}}
"""


def write_tiny_recipe(folder: Path, mode: str = "in_memory", workers: int = 1,
                      extra: str = "") -> Path:
    """A recipe that runs every stage in seconds on real code and text."""
    path = folder / "tiny.yaml"
    path.write_text(TINY_RECIPE.format(notes=NOTES, mode=mode, workers=workers) + extra)
    return path


@pytest.fixture(scope="session")
def tiny_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One complete run of the tiny recipe (in-process runner); returns its work folder."""
    from longweave.jobs.workflow import run_workflow

    folder = tmp_path_factory.mktemp("tiny")
    recipe = write_tiny_recipe(folder)
    assert run_workflow(str(recipe), str(folder / "work"), [], until="pack")
    return folder / "work"


WHOLE_RUN_FIXTURES = {"tiny_run", "small_workdir", "small_pack", "remote_pack"}


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """A test that runs whole luigi+Beam pipelines is `slow`: every test under
    `end_to_end/`, and any test that takes a fixture built by a whole run."""
    for item in items:
        path = Path(str(item.fspath))
        if "end_to_end" in path.parts or WHOLE_RUN_FIXTURES & set(item.fixturenames):
            item.add_marker(pytest.mark.slow)
