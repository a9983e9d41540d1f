"""Source kinds by name, imported lazily so a kind's heavy dependencies load only when used.

Each kind's options model is in `schemas.recipe_sources.SOURCE_OPTIONS` (same keys), so a
recipe is validated without importing any reader.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator

from pydantic import BaseModel

from longweave.schemas.document import Document
from longweave.schemas.ledger import Rejected
from longweave.sources.base import SourceReader, safe_read
from longweave.sources.redact import Redaction, redacting

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


def read_documents(kind: str, source: str, locator: str, options: BaseModel,
                   redaction: Redaction) -> Iterator[Document | Rejected]:
    """Read one work unit the way collect does: the kind's reader behind `safe_read`, and
    every Document (and quarantine error) redacted as it is produced, so nothing collect
    writes holds a secret (see `sources.redact`)."""
    reader = reader_for(kind)
    return redacting(safe_read(source, locator, reader.read(source, locator, options)),
                     redaction)
