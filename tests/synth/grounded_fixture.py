"""Real rows for grounded-question tests: shared repositories, books and agent runs, read
by the project's own readers (skipping with the reason when ../shared/data is absent)."""

from __future__ import annotations

import functools
import json
import sysconfig
from pathlib import Path

import pytest
from conftest import SHARED_DATA

from longweave.schemas.document import Document
from longweave.schemas.recipe_sources import BookOptions, RepoOptions, TrajectoryOptions

STDLIB = Path(sysconfig.get_paths()["stdlib"])


def _need(path: Path) -> Path:
    if not path.exists():
        pytest.skip(f"shared data not found at {path}")
    return path


@functools.lru_cache(maxsize=8)
def repo_row(path: str) -> Document:
    from longweave.sources.repos import RepoReader

    [doc] = RepoReader.read("code", path, RepoOptions())
    return doc


def shared_repo(name: str) -> Document:
    return repo_row(str(_need(SHARED_DATA / "repos" / name)))


def stdlib_repo(name: str) -> Document:
    return repo_row(str(STDLIB / name))


@functools.lru_cache(maxsize=4)
def _book(path: str) -> Document:
    from longweave.sources.books import BookReader

    [doc] = BookReader.read("books", path, BookOptions())
    return doc


def shared_book(name: str) -> Document:
    return _book(str(_need(SHARED_DATA / "books" / name)))


@functools.lru_cache(maxsize=1)
def _runs(root: str) -> tuple[Document, ...]:
    from longweave.sources.trajectories import TrajectoryReader

    options = TrajectoryOptions()
    out = []
    for locator in TrajectoryReader.locate([root], options):
        out += [d for d in TrajectoryReader.read("agents", locator, options)
                if isinstance(d, Document)]
    return tuple(out)


def shared_runs() -> tuple[Document, ...]:
    return _runs(str(_need(SHARED_DATA / "trajectories")))


def evaluated_runs() -> list[Document]:
    """mini-SWE-agent runs with `resolved` from their SWE-bench reports: the reader's own
    value when it records one, else the report's (how the trajectories issue defines it)."""
    reports = _need(SHARED_DATA / "trajectories" / "mini-swe-agent" / "_evaluation")
    out = []
    for doc in shared_runs():
        if "mini-swe-agent" not in str(doc.meta.get("path", "")):
            continue
        if not isinstance(doc.meta.get("resolved"), bool):
            instance = Path(str(doc.meta["path"])).name.removesuffix(".traj.json")
            report = reports / f"{instance}.report.json"
            if not report.exists():
                continue
            verdict = json.loads(report.read_text()).get(instance, {}).get("resolved")
            if not isinstance(verdict, bool):
                continue
            doc = Document(doc.id, doc.source, doc.kind, doc.text, doc.spans,
                           {**doc.meta, "resolved": verdict})
        out.append(doc)
    return out
