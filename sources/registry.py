"""Source kinds by name, imported lazily so a kind's heavy dependencies load only when used.

Each kind's options model is in `schemas.recipe_sources.SOURCE_OPTIONS` (same keys), so a
recipe is validated without importing any reader.
"""

from __future__ import annotations

import importlib

from longweave.sources.base import SourceReader

SOURCE_KINDS: dict[str, str] = {
    "text": "longweave.sources.text:TextReader",
    "repo": "longweave.sources.repos:RepoReader",
    "book": "longweave.sources.books:BookReader",
    "trajectory": "longweave.sources.trajectories:TrajectoryReader",
}


def reader_for(kind: str) -> type[SourceReader]:
    """The reader class of a source kind; `KeyError` names the known kinds."""
    try:
        target = SOURCE_KINDS[kind]
    except KeyError:
        raise KeyError(f"unknown source kind {kind!r}; known: {sorted(SOURCE_KINDS)}") from None
    module_name, class_name = target.split(":")
    return getattr(importlib.import_module(module_name), class_name)
