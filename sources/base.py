"""The contract every source kind implements, so collect can run any of them in Beam.

A source kind splits its inputs into *locators* (cheap to list on the driver: a file, a
repository folder, an archive) and reads one locator into Documents on a worker. A record
that cannot be read becomes a `Rejected` naming the file and the record; the rest goes on.
"""

from __future__ import annotations

import glob
import os
from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator
from typing import ClassVar

from pydantic import BaseModel

from longweave.schemas.document import Document
from longweave.schemas.ledger import Rejected


class SourceReader(ABC):
    """One source kind: how to list its work units and how to read one into Documents.

    `options` is the kind's model from `schemas.recipe_sources.SOURCE_OPTIONS`.
    """

    kind: ClassVar[str]

    @classmethod
    @abstractmethod
    def locate(cls, paths: list[str], options: BaseModel) -> list[str]:
        """List the work units (sorted, deduplicated) named by the recipe's `paths`."""

    @classmethod
    @abstractmethod
    def read(cls, source: str, locator: str, options: BaseModel) -> Iterator[Document | Rejected]:
        """Read one work unit. Must not raise for bad content: yield `Rejected` instead."""


def expand_globs(paths: Iterable[str]) -> list[str]:
    """Expand shell globs; plain paths pass through. Sorted so the listing is deterministic.

    Remote paths (gs://, s3://, ...) are matched through Beam's FileSystems.
    """
    from longweave.schemas import fs

    found: set[str] = set()
    for path in paths:
        if not fs.is_local(path):
            found.update(fs.glob(path) if glob.has_magic(path) else [path])
        elif glob.has_magic(path):
            found.update(glob.glob(path, recursive=True))
        else:
            found.add(path)
    return sorted(found)


def files_under(paths: Iterable[str], suffixes: tuple[str, ...]) -> list[str]:
    """Every file with one of `suffixes` named by `paths` (files, folders or globs), sorted."""
    from longweave.schemas import fs

    out: set[str] = set()
    for path in expand_globs(paths):
        if not fs.is_local(path):
            matches = fs.glob(path.rstrip("/") + "/**") if not path.endswith(suffixes) else [path]
            out.update(m for m in matches if m.endswith(suffixes))
        elif os.path.isdir(path):
            for root, dirs, files in os.walk(path):
                dirs.sort()
                out.update(os.path.join(root, f) for f in files if f.endswith(suffixes))
        elif path.endswith(suffixes) or not suffixes:
            out.add(path)
    return sorted(out)


def safe_read(source: str, locator: str, reader: Iterator[Document | Rejected]
              ) -> Iterator[Document | Rejected]:
    """Run a reader, turning an unexpected exception into one `Rejected` for its locator.

    Readers reject bad records themselves; this is the net for the errors they did not
    foresee, so one bad file never stops the job.
    """
    try:
        yield from reader
    except Exception as error:  # noqa: BLE001 - any failure of one input is quarantined
        yield Rejected(source=source, locator=locator, record="*",
                       error=f"{type(error).__name__}: {error}")
